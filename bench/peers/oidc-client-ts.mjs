// What an app built on oidc-client-ts ships for the same job (Oten's React sample uses it): sign-in by redirect with
// PKCE, the callback, the stored user, automatic silent renewal, sign-out.
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';

const manager = new UserManager({
  authority: 'https://account.oten.com',
  client_id: 'spa',
  redirect_uri: `${location.origin}/callback`,
  post_logout_redirect_uri: `${location.origin}/signed-out`,
  scope: 'openid profile email offline_access',
  userStore: new WebStorageStateStore({ store: sessionStorage }),
  automaticSilentRenew: true,
});
manager.events.addAccessTokenExpiring(() => {});
window.peer = {
  login: () => manager.signinRedirect(),
  callback: () => manager.signinRedirectCallback(),
  user: () => manager.getUser(),
  renew: () => manager.signinSilent(),
  logout: () => manager.signoutRedirect(),
};
