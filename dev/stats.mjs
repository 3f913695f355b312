// Counters of what the IdP did, read by tests through GET /test/stats.
// Token requests are counted per grant type by a Koa middleware on the provider; a refresh grant that
// fails because its refresh token was already used (rotated) counts as `refresh_token_reuse`.
// oidc-provider reports that case as `invalid_grant` with error_detail 'refresh token already used'
// (it then revokes the whole grant, so later uses of that grant's tokens fail with 'not found').
// These counters are global: they include the test clients' requests too. Tests that run in parallel
// should read the counters of their own test client instead (dev/client-stats.mjs, TEST_ROUTES=1).

const REUSE_DETAIL = 'refresh token already used';

const zero = () => ({
  token_requests: { authorization_code: 0, refresh_token: 0 },
  token_errors: { authorization_code: 0, refresh_token: 0 },
  refresh_token_reuse: 0,
  revocations: 0,
  end_sessions: 0,
});

/** Creates the counters and attaches them to `provider` (middleware and events). */
export const createIdpStats = (provider, { routes }) => {
  let counts = zero();

  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST') return;
    if (ctx.path === routes.token) {
      const grantType = String(ctx.oidc?.params?.grant_type ?? 'unknown');
      counts.token_requests[grantType] = (counts.token_requests[grantType] ?? 0) + 1;
      const ok = ctx.status === 200;
      if (!ok) counts.token_errors[grantType] = (counts.token_errors[grantType] ?? 0) + 1;
      const error = ok ? '' : ` error=${ctx.body?.error ?? '?'}`;
      console.log(`[idp] token grant_type=${grantType} status=${ctx.status}${error}`);
    } else if (ctx.path === routes.revocation) {
      counts.revocations += 1;
      console.log(`[idp] revocation status=${ctx.status}`);
    }
  });

  provider.on('grant.error', (ctx, err) => {
    if (ctx.oidc?.params?.grant_type === 'refresh_token' && err?.error_detail === REUSE_DETAIL) {
      counts.refresh_token_reuse += 1;
      console.log('[idp] refresh token reuse detected: grant revoked');
    } else if (err?.error_detail) {
      console.log(`[idp] token error detail: ${err.error_detail}`);
    }
  });
  provider.on('end_session.success', () => {
    counts.end_sessions += 1;
    console.log('[idp] end_session success');
  });
  provider.on('server_error', (ctx, err) => console.error('[idp] server_error', err));

  return {
    snapshot: () => structuredClone(counts),
    reset: () => { counts = zero(); },
  };
};
