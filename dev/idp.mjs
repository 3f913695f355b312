// The local OpenID provider (oidc-provider), configured in Oten's shape:
// endpoints under /v1/oauth/, EdDSA (Ed25519) ID tokens, PKCE S256 for the public SPA client,
// rotating refresh tokens, revocation and RP-initiated logout.
// With TEST_ROUTES=1 the pool of test clients `e2e-01` … `e2e-32` (dev/test-clients.mjs) is registered
// too, with spa-dev's metadata, and each of them may have its own access-token lifetime.

import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

import { findAccount } from './accounts.mjs';
import { MemoryAdapter } from './memory-adapter.mjs';
import { escapeHtml } from './http.mjs';
import { loadBackendRequestKey, loadCookieKeys, loadSigningKeys } from './keys.mjs';
import { logoutSource, postLogoutSuccessSource } from './logout-pages.mjs';

export const CLIENT_ID = 'spa-dev';

export const ROUTES = Object.freeze({
  authorization: '/v1/oauth/authorize',
  token: '/v1/oauth/token',
  revocation: '/v1/oauth/revoke',
  end_session: '/v1/oauth/logout',
  jwks: '/v1/oauth/jwks',
  userinfo: '/v1/oauth/userinfo',
});

const SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/** The public SPA client, registered for every allowed origin (also the template of the test clients). */
export const spaClient = (origins, { clientId = CLIENT_ID, clientName = 'Oten SPA (dev)' } = {}) => ({
  client_id: clientId,
  client_name: clientName,
  application_type: 'web',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  scope: SCOPES.join(' '),
  redirect_uris: origins.map((o) => `${o}/callback`),
  post_logout_redirect_uris: origins.flatMap((o) => [`${o}/`, `${o}/signed-out`]),
  id_token_signed_response_alg: 'EdDSA',
});

export const BFF_CLIENT_ID = 'bff-dev';

/**
 * The Rust backend (crates/oten-backend) as a confidential client, in Oten's shape for such clients: a secret
 * (`client_secret_basic` or `client_secret_post`), signed request objects required (HS256 with the secret, or
 * EdDSA), PKCE, and back-channel logout to the first backend origin. The provider silently drops
 * `require_signed_request_object` and `backchannel_logout_uri` unless their features are on (they are, below).
 */
export const bffClient = (origins, secret) => ({
  client_id: BFF_CLIENT_ID,
  client_name: 'Oten backend (dev)',
  client_secret: secret,
  application_type: 'web',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  scope: SCOPES.join(' '),
  redirect_uris: origins.map((o) => `${o}/auth/callback`),
  post_logout_redirect_uris: origins.flatMap((o) => [`${o}/`, `${o}/signed-out`]),
  id_token_signed_response_alg: 'EdDSA',
  require_signed_request_object: true,
  request_object_signing_alg: 'HS256',
  backchannel_logout_uri: `${origins[0]}/auth/backchannel-logout`,
  backchannel_logout_session_required: true,
});

export const BFF_EDDSA_CLIENT_ID = 'bff-dev-eddsa';

/**
 * The backend's other options, as a second confidential client: `client_secret_post`, and request objects signed
 * EdDSA with the key in dev/keys/backend-request-object.pem (its public half registered here, kid `backend-eddsa`).
 */
export const bffEddsaClient = (origins, secret) => ({
  ...bffClient(origins, secret),
  client_id: BFF_EDDSA_CLIENT_ID,
  client_name: 'Oten backend, EdDSA requests (dev)',
  token_endpoint_auth_method: 'client_secret_post',
  request_object_signing_alg: 'EdDSA',
  jwks: { keys: [loadBackendRequestKey()] },
  backchannel_logout_uri: undefined,
  backchannel_logout_session_required: undefined,
});

/**
 * oidc-provider drops `offline_access` unless the request also says `prompt=consent` (OIDC Core 11).
 * Oten issues refresh tokens for `offline_access` without it, so for our first-party client we add
 * `prompt=consent` when no prompt was given; consent is then granted automatically by the
 * interaction handler. The grant keeps `offline_access`, refresh tokens are issued, and they outlive
 * the IdP session like a real offline grant. `firstParty` holds spa-dev and the test clients.
 */
const offlineAccessWithoutPrompt = (firstParty) => async (ctx, next) => {
  if (ctx.path === ROUTES.authorization && ctx.method === 'GET') {
    const { query } = ctx;
    const scopes = String(query.scope ?? '').split(' ');
    if (firstParty.has(query.client_id) && scopes.includes('offline_access') && query.prompt === undefined) {
      ctx.query = { ...query, prompt: 'consent' };
    }
  }
  await next();
};

/**
 * Creates the provider. `allowedOrigins` are the SPA origins (CORS, redirect and logout URIs).
 * `testClients` (TEST_ROUTES=1 only, see dev/test-clients.mjs) adds the test clients; the access-token
 * lifetime is then a function: the test client's own setting when it has one, else `accessTokenTtl`.
 */
export const createProvider = ({
  issuer, allowedOrigins, backendOrigins, bffClientSecret, accessTokenTtl, refreshTokenTtl, endSessionPost = true,
  dpop = true, testClients,
}) => {
  const origins = new Set(allowedOrigins);
  const testClientIds = testClients?.ids ?? [];
  const firstParty = new Set([CLIENT_ID, ...testClientIds]);
  const clients = [
    spaClient(allowedOrigins),
    bffClient(backendOrigins, bffClientSecret),
    bffEddsaClient(backendOrigins, bffClientSecret),
    ...testClientIds.map((clientId) => spaClient(allowedOrigins, { clientId, clientName: `Oten e2e test client ${clientId}` })),
  ];
  const accessTokenLifetime = testClients
    ? (ctx, token, client) => testClients.accessTokenTtl(client?.clientId ?? token.clientId) ?? accessTokenTtl
    : accessTokenTtl;

  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    clients,
    findAccount,
    jwks: loadSigningKeys(),
    cookies: { keys: loadCookieKeys() },
    routes: ROUTES,
    scopes: SCOPES,
    responseTypes: ['code'],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    // Put name and email into the ID token, not only into userinfo.
    conformIdTokenClaims: false,
    pkce: { methods: ['S256'], required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['EdDSA'], dPoPSigningAlgValues: ['ES256'] },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      // Request objects (JAR) by value and through PAR, for the confidential backend client (required of it).
      requestObjects: { request: true, requestUri: false, mode: 'strict' },
      pushedAuthorizationRequests: { enabled: true },
      backchannelLogout: { enabled: true },
      // DPoP (RFC 9449), offered with ES256 (discovery's dpop_signing_alg_values_supported). With a nonce secret the
      // IdP hands out DPoP-Nonce values and accepts a proof with a current nonce whatever its iat (so proofs survive
      // the tests that move the browser's clock: an iat too far off is answered use_dpop_nonce); nonces are never
      // required, except from a test client leased with require_dpop_nonce. A public client's refresh tokens are
      // then bound to the key too.
      dPoP: {
        enabled: dpop,
        nonceSecret: randomBytes(32),
        requireNonce: (ctx) => Boolean(testClients?.get(ctx.oidc?.client?.clientId)?.requireDpopNonce),
      },
    },
    clientBasedCORS: (ctx, origin, client) => firstParty.has(client.clientId) && origins.has(origin),
    // Refresh tokens for the public client whenever offline_access was granted (see above).
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && code.scopes.has('offline_access'),
    rotateRefreshToken: true,
    // The sign-in time goes with each access token (stored with the opaque token, never sent to the client), so
    // that the dev API can demand a recent sign-in (GET /api/user/security, a step-up). A refresh keeps the
    // original sign-in's time.
    extraTokenClaims: async (ctx, token) => {
      if (token.kind !== 'AccessToken') return undefined;
      const { AuthorizationCode: code, RefreshToken: refresh } = ctx?.oidc?.entities ?? {};
      const authTime = code?.authTime ?? refresh?.authTime;
      return Number.isInteger(authTime) ? { auth_time: authTime } : undefined;
    },
    ttl: {
      AccessToken: accessTokenLifetime,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: refreshTokenTtl,
      Grant: refreshTokenTtl,
      Interaction: 3600,
      Session: 86400,
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body>
<h1>Something went wrong</h1>${Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`).join('')}
</body></html>`;
    },
  });

  provider.use(offlineAccessWithoutPrompt(firstParty));
  if (!endSessionPost) provider.use(refuseEndSessionPost);
  return provider;
};

/**
 * END_SESSION_POST=0: the end-session endpoint refuses POST, as oidc-provider 9 does unless configured to take
 * it (clients must then use GET, the RP-Initiated Logout binding every provider takes).
 */
const refuseEndSessionPost = async (ctx, next) => {
  if (ctx.path === ROUTES.end_session && ctx.method === 'POST') {
    ctx.status = 404;
    ctx.type = 'html';
    ctx.body = '<!DOCTYPE html><title>Not Found</title><p>Not Found</p>';
    return;
  }
  await next();
};
