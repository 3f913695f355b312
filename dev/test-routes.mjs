// Test-only routes of the IdP (TEST_ROUTES=1), for the wasm browser tests:
//
//   POST /test/session?user=alice  runs the real authorization-code flow with PKCE against this very
//                                  provider over HTTP and answers the token endpoint's JSON unchanged
//   GET  /test/stats               counters (token requests per grant, refresh-token reuse, revocations, end sessions)
//   POST /test/stats/reset         zeroes the counters

import { createHash, randomBytes } from 'node:crypto';

import { findUserByUsername } from './accounts.mjs';
import { corsFor } from './cors.mjs';
import { sendJson } from './http.mjs';
import { CLIENT_ID, ROUTES } from './idp.mjs';
import { autoLoginTickets } from './interactions.mjs';
import { TEST_RUNNER_ORIGIN } from './config.mjs';

const REDIRECT_URI = `${TEST_RUNNER_ORIGIN}/callback`;
const SCOPE = 'openid profile email offline_access';
const MAX_REDIRECTS = 10;

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A minimal cookie jar keyed by name (the provider's cookies have distinct names). */
class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v = ''] = a.trim().split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') this.#cookies.delete(name); else this.#cookies.set(name, value);
    }
  }

  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Runs the authorization code flow for `user` and returns the token endpoint's response. */
const runCodeFlow = async (issuer, user) => {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));

  const authorize = new URL(ROUTES.authorization, issuer);
  authorize.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  }).toString();

  const jar = new CookieJar();
  let next = authorize;
  let callback;
  for (let hop = 0; hop < MAX_REDIRECTS && !callback; hop += 1) {
    const res = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.store(res);
    await res.arrayBuffer();
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`authorization flow stopped at ${next.pathname} with HTTP ${res.status}`);
    }
    const target = new URL(location, next);
    if (target.href.startsWith(REDIRECT_URI)) {
      callback = target;
    } else {
      if (target.origin !== issuer) throw new Error(`unexpected redirect to ${target.origin}`);
      const uid = target.pathname.match(/^\/interaction\/([\w-]+)$/)?.[1];
      if (uid) autoLoginTickets.set(uid, user.username);
      next = target;
    }
  }
  if (!callback) throw new Error('authorization flow did not reach the redirect_uri');

  const params = callback.searchParams;
  if (params.get('error')) throw new Error(`authorization error: ${params.get('error')}`);
  if (params.get('state') !== state) throw new Error('state mismatch');
  if (params.get('iss') && params.get('iss') !== issuer) throw new Error('iss mismatch');
  const code = params.get('code');
  if (!code) throw new Error('no code in the callback');

  // Exchange the code exactly once.
  const token = await fetch(new URL(ROUTES.token, issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: verifier,
    }),
  });
  return { status: token.status, body: await token.json() };
};

/** Creates the handler for /test/* requests. */
export const createTestRoutes = ({ issuer, allowedOrigins, stats }) => {
  const cors = corsFor({ origins: allowedOrigins, methods: ['GET', 'POST', 'OPTIONS'] });

  return async (req, res, url) => {
    if (cors(req, res)) return;
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'POST /test/session': {
        const user = findUserByUsername(url.searchParams.get('user') ?? 'alice');
        if (!user) return sendJson(res, 400, { error: 'unknown_user' });
        try {
          const { status, body } = await runCodeFlow(issuer, user);
          console.log(`[test] session user=${user.username} status=${status}`);
          return sendJson(res, status, body);
        } catch (err) {
          console.error(`[test] session failed: ${err.message}`);
          return sendJson(res, 500, { error: 'test_session_failed', error_description: err.message });
        }
      }
      case 'GET /test/stats':
        return sendJson(res, 200, stats.snapshot());
      case 'POST /test/stats/reset':
        stats.reset();
        return sendJson(res, 200, stats.snapshot());
      default:
        return sendJson(res, 404, { error: 'not_found' });
    }
  };
};
