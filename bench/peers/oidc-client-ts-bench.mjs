// scripts/bench's browser run drives oidc-client-ts itself (bench/browser.mjs configures it against the dev IdP in
// the page); its size is measured from oidc-client-ts.mjs, the app-shaped entry.
import { Log, User, UserManager, WebStorageStateStore } from 'oidc-client-ts';

window.oidcClientTs = { Log, User, UserManager, WebStorageStateStore };
