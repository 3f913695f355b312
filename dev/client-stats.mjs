// Counters per test client (TEST_ROUTES=1), read by tests through GET /test/clients/:id/stats (see
// dev/test-routes.mjs). Each lease of a test client starts with a fresh ClientStats (dev/test-clients.mjs),
// so parallel tests that own different clients never see each other's counts.
//
//   token_requests / token_errors  token requests that reached the provider, per grant type (requests a
//                                  fault answered without the provider are counted in faults_applied only)
//   faults_applied                 requests a fault applied to (every kind, including slow and unusable_2xx*)
//   refresh.presented              refresh_token grant requests that reached the provider, but those it answered
//                                  use_dpop_nonce (refused before the grant was looked at: the token was not
//                                  consumed, and the client may present it again with a nonce)
//   refresh.consumed               … of those answered 200
//   refresh.reuse                  … of those the provider refused as "refresh token already used"
//   refresh.presented_twice        distinct refresh token values that reached the provider two or more times
//   refresh.max_presentations      the most times one refresh token value reached the provider
//   dpop_nonce_asked               token requests the provider answered use_dpop_nonce
//   revocations                    revocation requests that reached the provider
//   end_sessions                   end_session successes whose client (ctx.oidc.client) is this one
//   api.by_status                  the resource API's answers per status for access tokens of this client
//
// Refresh token values are only kept as SHA-256 hashes, and never logged or returned.

import { createHash } from 'node:crypto';

/** oidc-provider's error_detail for a rotated refresh token presented again (see dev/stats.mjs). */
const REUSE_DETAIL = 'refresh token already used';

/** SHA-256 (base64url) of a token value: the only form in which the dev stack keeps presented tokens. */
export const hashToken = (value) => createHash('sha256').update(value).digest('base64url');

const bump = (counts, key) => { counts[key] = (counts[key] ?? 0) + 1; };

/** The counters of one lease of a test client. */
export class ClientStats {
  #tokenRequests = { authorization_code: 0, refresh_token: 0 };
  #tokenErrors = { authorization_code: 0, refresh_token: 0 };
  #faultsApplied = 0;
  #refresh = { presented: 0, consumed: 0, reuse: 0 };
  /** SHA-256 of a refresh token value → how many times it reached the provider. */
  #presentations = new Map();
  #revocations = 0;
  #endSessions = 0;
  #apiByStatus = {};

  #dpopNonceAsked = 0;

  faultApplied() { this.#faultsApplied += 1; }

  /** The provider answered use_dpop_nonce (the request is not counted as a presentation). */
  dpopNonceAsked() { this.#dpopNonceAsked += 1; }

  /** A refresh_token grant request reached the provider; `tokenHash` is undefined without a token. */
  refreshPresented(tokenHash) {
    this.#refresh.presented += 1;
    if (tokenHash !== undefined) this.#presentations.set(tokenHash, (this.#presentations.get(tokenHash) ?? 0) + 1);
  }

  tokenAnswered(grantType, status) {
    bump(this.#tokenRequests, grantType);
    if (status !== 200) bump(this.#tokenErrors, grantType);
    if (grantType === 'refresh_token' && status === 200) this.#refresh.consumed += 1;
  }

  refreshReused() { this.#refresh.reuse += 1; }

  revocation() { this.#revocations += 1; }

  endSession() { this.#endSessions += 1; }

  apiAnswered(status) { bump(this.#apiByStatus, String(status)); }

  snapshot() {
    const counts = [...this.#presentations.values()];
    return {
      token_requests: { ...this.#tokenRequests },
      token_errors: { ...this.#tokenErrors },
      faults_applied: this.#faultsApplied,
      refresh: {
        ...this.#refresh,
        presented_twice: counts.filter((n) => n >= 2).length,
        max_presentations: Math.max(0, ...counts),
      },
      dpop_nonce_asked: this.#dpopNonceAsked,
      revocations: this.#revocations,
      end_sessions: this.#endSessions,
      api: { by_status: { ...this.#apiByStatus } },
    };
  }
}

/**
 * Counts per test client on `provider`: a Koa middleware for the token and revocation endpoints and
 * listeners for reuse detection and end_session. Token and revocation requests are recognised by the
 * tag dev/faults.mjs puts on `req` (`req.e2e`), which also holds the lease's ClientStats, so a request
 * is counted in the lease that was active when it arrived.
 */
export const attachClientStats = (provider, { testClients }) => {
  provider.use(async (ctx, next) => {
    const tag = ctx.req.e2e;
    if (!tag?.stats) return next();
    await next();
    const nonceRefusal = ctx.status === 400 && ctx.body?.error === 'use_dpop_nonce';
    if (nonceRefusal) tag.stats.dpopNonceAsked();
    if (tag.endpoint === 'token' && tag.grantType === 'refresh_token' && !nonceRefusal) {
      tag.stats.refreshPresented(tag.refreshTokenHash);
    }
    if (tag.endpoint !== 'token') tag.stats.revocation();
    else if (!nonceRefusal) tag.stats.tokenAnswered(tag.grantType, ctx.status);
  });

  provider.on('grant.error', (ctx, err) => {
    const tag = ctx.req?.e2e;
    if (tag?.stats && tag.grantType === 'refresh_token' && err?.error_detail === REUSE_DETAIL) {
      tag.stats.refreshReused();
    }
  });

  // ctx.oidc.client is set when the logout request named its client (client_id or id_token_hint).
  provider.on('end_session.success', (ctx) => {
    const clientId = ctx.oidc?.client?.clientId;
    if (clientId) testClients.get(clientId)?.stats.endSession();
  });
};
