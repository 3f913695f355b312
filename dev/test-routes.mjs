// Test-only routes of the IdP (TEST_ROUTES=1), for the wasm browser tests and the end-to-end tests.
// All answer JSON, with CORS for the allowed origins; bad input gets 400 {error, error_description}.
//
//   POST   /test/session?user=alice[&client_id=e2e-07]
//                                  runs the real authorization-code flow with PKCE against this very
//                                  provider over HTTP for spa-dev (default) or a test client, and answers
//                                  the token endpoint's JSON unchanged
//   GET    /test/stats             global counters (token requests per grant, refresh-token reuse,
//                                  revocations, end sessions)
//   POST   /test/stats/reset       zeroes the global counters
//   POST   /test/tokens            ← {"access_token"?, "refresh_token"?} (in the body, never a URL)
//                                  → {"access_token": {"active", "bound"}, "refresh_token": {"active", "bound"}}:
//                                    whether the provider still holds each token and whether it is bound to a
//                                    DPoP key (so a test can check a revocation without using a token it cannot
//                                    prove possession of)
//
// Test clients (dev/test-clients.mjs), so that parallel tests never see each other's faults or counts:
//
//   POST   /test/clients           ← optional {"access_token_ttl": seconds, "require_dpop_nonce": true|false}
//                                  → {"client_id":"e2e-07"}: leases the next test client round-robin and
//                                    resets its settings, faults, API refusal and counters
//   POST   /test/clients/:id/faults
//                                  ← {"endpoint":"token"|"revocation", "grant_type":"refresh_token"|
//                                    "authorization_code" (token only, default refresh_token), "kind": K,
//                                    "times": n (default 1, 0 = until cleared), "delay_ms": n,
//                                    "retry_after": seconds (status_503)}; kinds: see dev/faults.mjs
//                                  → {"client_id", "faults": [queued faults, oldest first, with "used"]}
//   GET    /test/clients/:id/faults → the same
//   DELETE /test/clients/:id/faults → clears the queue, {"client_id", "faults": []}
//   GET    /test/clients/:id/stats  → the client's counters (dev/client-stats.mjs):
//                                    {"token_requests":{"authorization_code":0,"refresh_token":0},
//                                     "token_errors":{"authorization_code":0,"refresh_token":0},
//                                     "faults_applied":0,
//                                     "refresh":{"presented":0,"consumed":0,"reuse":0,"presented_twice":0,
//                                                "max_presentations":0},
//                                     "revocations":0,"end_sessions":0,"api":{"by_status":{}}}
//   POST   /test/clients/:id/reset → fresh settings, faults and counters for the backend's client bff-dev
//                                    (the test clients are reset by leasing them)
//   POST   /test/clients/:id/api   ← {"refuse": true|false, "step_up_max_age": seconds|null} (either or both)
//                                  → {"client_id", "refuse", "step_up_max_age"}: while refuse is true the resource
//                                    API answers 401 invalid_token to every valid token of the client;
//                                    step_up_max_age is the most recent sign-in GET /api/user/security accepts
//                                    from the client's tokens (null: the API's default)

import { createHash, randomBytes } from 'node:crypto';

import { findUserByUsername } from './accounts.mjs';
import { corsFor } from './cors.mjs';
import { badRequest, readBody, sendJson } from './http.mjs';
import { CLIENT_ID, ROUTES } from './idp.mjs';
import { autoLoginTickets } from './interactions.mjs';
import { TEST_RUNNER_ORIGIN } from './config.mjs';
import { validateFault } from './faults.mjs';

const REDIRECT_URI = `${TEST_RUNNER_ORIGIN}/callback`;
const SCOPE = 'openid profile email offline_access';
const MAX_REDIRECTS = 10;
const MAX_ACCESS_TOKEN_TTL = 86_400;
const CLIENT_ROUTE = /^\/test\/clients\/([^/]+)\/(faults|stats|api|reset)$/;

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

/** Runs the authorization code flow for `user` and `clientId`; returns the token endpoint's response. */
const runCodeFlow = async (issuer, user, clientId) => {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));

  const authorize = new URL(ROUTES.authorization, issuer);
  authorize.search = new URLSearchParams({
    client_id: clientId,
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
      client_id: clientId,
      code_verifier: verifier,
    }),
  });
  return { status: token.status, body: await token.json() };
};

/** Reads a JSON object body; an empty body is `{}` when `optional`. Throws 400 errors. */
const readJsonObject = async (req, { optional = false } = {}) => {
  const raw = await readBody(req);
  if (raw.trim() === '') {
    if (optional) return {};
    throw badRequest('a JSON object body is required');
  }
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    throw badRequest('body must be JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body must be a JSON object');
  return body;
};

const onlyFields = (body, fields) => {
  const unknown = Object.keys(body).filter((k) => !fields.includes(k));
  if (unknown.length) throw badRequest(`unknown field(s): ${unknown.join(', ')}; allowed: ${fields.join(', ')}`);
};

const validateLease = (body) => {
  onlyFields(body, ['access_token_ttl', 'require_dpop_nonce']);
  const settings = {};
  const ttl = body.access_token_ttl;
  if (ttl !== undefined) {
    if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_ACCESS_TOKEN_TTL) {
      throw badRequest(`access_token_ttl must be an integer number of seconds from 1 to ${MAX_ACCESS_TOKEN_TTL}, got ${JSON.stringify(ttl)}`);
    }
    settings.accessTokenTtl = ttl;
  }
  if (body.require_dpop_nonce !== undefined) {
    if (typeof body.require_dpop_nonce !== 'boolean') {
      throw badRequest(`require_dpop_nonce must be true or false, got ${JSON.stringify(body.require_dpop_nonce)}`);
    }
    settings.requireDpopNonce = body.require_dpop_nonce;
  }
  return settings;
};

const validateApiSwitch = (body) => {
  onlyFields(body, ['refuse', 'step_up_max_age']);
  const change = {};
  if ('refuse' in body) {
    if (typeof body.refuse !== 'boolean') throw badRequest(`refuse must be true or false, got ${JSON.stringify(body.refuse)}`);
    change.refuseApi = body.refuse;
  }
  if ('step_up_max_age' in body) {
    const age = body.step_up_max_age;
    if (age !== null && !(Number.isInteger(age) && age >= 0 && age <= MAX_ACCESS_TOKEN_TTL)) {
      throw badRequest(`step_up_max_age must be null or an integer number of seconds from 0 to ${MAX_ACCESS_TOKEN_TTL}, got ${JSON.stringify(age)}`);
    }
    change.stepUpMaxAge = age ?? undefined;
  }
  if (!Object.keys(change).length) throw badRequest('give refuse and/or step_up_max_age');
  return change;
};

/** Creates the handler for /test/* requests. */
export const createTestRoutes = ({
  issuer, allowedOrigins, stats, testClients, provider,
}) => {
  const cors = corsFor({ origins: allowedOrigins, methods: ['GET', 'POST', 'DELETE', 'OPTIONS'] });

  const leaseOf = (clientId) => {
    const lease = testClients.get(clientId);
    if (!lease) throw badRequest(`unknown test client ${JSON.stringify(clientId)}: lease one with POST /test/clients`);
    return lease;
  };

  const clientRoute = async (req, res, clientId, resource) => {
    const lease = leaseOf(clientId);
    const route = `${req.method} ${resource}`;
    switch (route) {
      case 'POST faults': {
        const fault = validateFault(await readJsonObject(req));
        lease.faults.push(fault);
        console.log(`[test] ${clientId} fault queued: ${fault.endpoint}${fault.grant_type ? ` grant_type=${fault.grant_type}` : ''} `
          + `${fault.kind} times=${fault.times}`);
        return sendJson(res, 200, { client_id: clientId, faults: lease.faults });
      }
      case 'GET faults':
        return sendJson(res, 200, { client_id: clientId, faults: lease.faults });
      case 'DELETE faults':
        lease.faults.length = 0;
        console.log(`[test] ${clientId} faults cleared`);
        return sendJson(res, 200, { client_id: clientId, faults: [] });
      case 'GET stats':
        return sendJson(res, 200, lease.stats.snapshot());
      case 'POST api': {
        Object.assign(lease, validateApiSwitch(await readJsonObject(req)));
        console.log(`[test] ${clientId} API ${lease.refuseApi ? 'refuses' : 'accepts'} its tokens, step-up age ${lease.stepUpMaxAge ?? 'default'}`);
        return sendJson(res, 200, { client_id: clientId, refuse: lease.refuseApi, step_up_max_age: lease.stepUpMaxAge ?? null });
      }
      case 'POST reset':
        if (!testClients.reset(clientId)) throw badRequest(`${clientId} is leased, not reset: lease it again`);
        console.log(`[test] ${clientId} reset`);
        return sendJson(res, 200, { client_id: clientId });
      default:
        return sendJson(res, 405, { error: 'method_not_allowed', error_description: `${req.method} is not allowed on /test/clients/:id/${resource}` });
    }
  };

  const route = async (req, res, url) => {
    const clientMatch = url.pathname.match(CLIENT_ROUTE);
    if (clientMatch) return clientRoute(req, res, clientMatch[1], clientMatch[2]);
    switch (`${req.method} ${url.pathname}`) {
      case 'POST /test/session': {
        const user = findUserByUsername(url.searchParams.get('user') ?? 'alice');
        if (!user) return sendJson(res, 400, { error: 'unknown_user', error_description: 'user must be a dev user (alice, bob)' });
        const clientId = url.searchParams.get('client_id') ?? CLIENT_ID;
        if (clientId !== CLIENT_ID) leaseOf(clientId);
        try {
          const { status, body } = await runCodeFlow(issuer, user, clientId);
          console.log(`[test] session user=${user.username} client=${clientId} status=${status}`);
          return sendJson(res, status, body);
        } catch (err) {
          console.error(`[test] session failed: ${err.message}`);
          return sendJson(res, 500, { error: 'test_session_failed', error_description: err.message });
        }
      }
      case 'GET /test/stats':
        return sendJson(res, 200, stats.snapshot());
      case 'POST /test/tokens': {
        const body = await readJsonObject(req);
        const state = async (Model, value) => {
          if (typeof value !== 'string') return undefined;
          const token = await Model.find(value, { ignoreExpiration: true });
          return { active: Boolean(token && !token.isExpired), bound: Boolean(token?.jkt) };
        };
        return sendJson(res, 200, {
          access_token: await state(provider.AccessToken, body.access_token),
          refresh_token: await state(provider.RefreshToken, body.refresh_token),
        });
      }
      case 'POST /test/stats/reset':
        stats.reset();
        return sendJson(res, 200, stats.snapshot());
      case 'POST /test/clients': {
        const clientId = testClients.lease(validateLease(await readJsonObject(req, { optional: true })));
        const ttl = testClients.accessTokenTtl(clientId);
        console.log(`[test] leased ${clientId}${ttl ? ` access_token_ttl=${ttl}s` : ''}`);
        return sendJson(res, 200, { client_id: clientId });
      }
      default:
        return sendJson(res, 404, { error: 'not_found' });
    }
  };

  return async (req, res, url) => {
    if (cors(req, res)) return;
    try {
      await route(req, res, url);
    } catch (err) {
      if (err.status !== 400 && err.status !== 413) throw err;
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, err.status, { error: 'invalid_request', error_description: err.message });
      }
    }
  };
};
