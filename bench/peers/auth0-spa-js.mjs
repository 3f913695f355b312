// The same job with auth0-spa-js: redirect sign-in, callback, a valid token on demand (refresh tokens), sign-out.
import { createAuth0Client } from '@auth0/auth0-spa-js';

const client = createAuth0Client({
  domain: 'account.oten.com',
  clientId: 'spa',
  authorizationParams: { redirect_uri: `${location.origin}/callback`, scope: 'openid profile email offline_access' },
  cacheLocation: 'memory',
  useRefreshTokens: true,
});
window.peer = {
  login: async () => (await client).loginWithRedirect(),
  callback: async () => (await client).handleRedirectCallback(),
  token: async () => (await client).getTokenSilently(),
  logout: async () => (await client).logout(),
};
