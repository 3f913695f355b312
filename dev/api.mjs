// The resource API on :9001. Access tokens are the provider's opaque tokens: a Bearer token as it is; a token bound
// to a DPoP key (RFC 9449, `cnf.jkt`) only with `Authorization: DPoP …` and a proof made with that key (dev/dpop.mjs),
// so a token copied out of the browser is refused without the key. An unbound token with the DPoP scheme, or a bound
// one as Bearer, is refused too.
//
//   GET  /api/user/profile          → {sub, name, email, bio}
//   PUT  /api/user/profile          ← {name?, bio?} (name 1..100 chars, bio 0..1000 chars); a value out of range is
//                                      422 {error: "invalid_field", field, error_description} (also a name with < or
//                                      >, a rule only the server checks); a body that is not a
//                                      JSON object, or has neither field, is 400
//   GET  /api/user/security         → {sub, auth_time, max_age} when the token's sign-in is at most max_age seconds
//                                      old (STEP_UP_MAX_AGE, default 300); else 401 with a step-up challenge
//                                      (RFC 9470: error="insufficient_user_authentication", max_age)
//   GET  /api/redirect?to=<url>     → 307 to `to`, only for http://127.0.0.1:9002/… (cross-origin redirect test)
//   GET  /api/stats                 → answers per status code, and per "METHOD path status"
//
// With TEST_ROUTES=1 (`testClients`, see dev/test-clients.mjs) the answers to requests carrying a valid
// token of a test client are also counted per client (GET /test/clients/:id/stats → api.by_status), and
// a test client can be refused (POST /test/clients/:id/api {"refuse":true}): every request with a valid
// token of that client then gets 401 invalid_token, as from an API that rejects the token's audience/user.

import { findUserBySub } from './accounts.mjs';
import { corsFor } from './cors.mjs';
import { DpopError, createDpopChecker } from './dpop.mjs';
import { readBody, sendJson } from './http.mjs';

const REALM = 'oten-dev-api';
const REDIRECT_PREFIX = 'http://127.0.0.1:9002/';
const DEFAULT_STEP_UP_MAX_AGE = 300;

class HttpError extends Error {
  constructor(status, body, headers = {}) {
    super(body.error);
    Object.assign(this, { status, body, headers });
  }
}

const unauthorized = (error) => new HttpError(401, { error: error ?? 'unauthorized' }, {
  'WWW-Authenticate': error
    ? `Bearer realm="${REALM}", error="${error}", DPoP algs="ES256"`
    : `Bearer realm="${REALM}", DPoP algs="ES256"`,
});

const dpopRefusal = ({ error, description, nonce }) => new HttpError(401, { error, error_description: description }, {
  'WWW-Authenticate': `DPoP realm="${REALM}", error="${error}", algs="ES256"`,
  ...(nonce ? { 'DPoP-Nonce': nonce } : {}),
});

const insufficientAuthentication = (maxAge) => new HttpError(
  401,
  { error: 'insufficient_user_authentication', error_description: `A sign-in within the last ${maxAge} s is required` },
  {
    'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_user_authentication", `
      + `error_description="A more recent sign-in is required", max_age="${maxAge}"`,
  },
);

const validateProfileUpdate = (body) => {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, { error: 'invalid_request', error_description: 'body must be a JSON object' });
  }
  const update = {};
  if ('name' in body) {
    if (typeof body.name !== 'string' || body.name.trim().length < 1 || [...body.name].length > 100) {
      throw new HttpError(422, { error: 'invalid_field', field: 'name', error_description: 'A name needs 1 to 100 characters.' });
    }
    // A rule only the server knows (the app does not check it): the refused edit of the end-to-end tests.
    if (/[<>]/.test(body.name)) {
      throw new HttpError(422, { error: 'invalid_field', field: 'name', error_description: 'A name cannot contain < or >.' });
    }
    update.name = body.name.trim();
  }
  if ('bio' in body) {
    if (typeof body.bio !== 'string' || [...body.bio].length > 1000) {
      throw new HttpError(422, { error: 'invalid_field', field: 'bio', error_description: 'A bio can have at most 1000 characters.' });
    }
    update.bio = body.bio;
  }
  if (!('name' in update) && !('bio' in update)) {
    throw new HttpError(400, { error: 'invalid_request', error_description: 'nothing to update: give name and/or bio' });
  }
  return update;
};

/** Creates the API's request handler. */
export const createApi = ({
  provider, allowedOrigins, testClients, stepUpMaxAge = DEFAULT_STEP_UP_MAX_AGE, origin = 'http://127.0.0.1:9001',
}) => {
  const dpop = createDpopChecker({ origin });
  const profiles = new Map(); // sub → profile
  const stats = { by_status: {}, by_route: {} };
  const cors = corsFor({
    origins: allowedOrigins,
    methods: ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'DPoP'],
    exposeHeaders: ['WWW-Authenticate', 'DPoP-Nonce'],
  });

  const profileOf = (sub) => {
    if (!profiles.has(sub)) {
      const user = findUserBySub(sub);
      if (!user) throw unauthorized('invalid_token');
      profiles.set(sub, { sub, name: user.name, email: user.email, bio: '' });
    }
    return profiles.get(sub);
  };

  // `seen.clientId` records the client of a valid token for the per-client counters.
  // `seen.nonce` is a DPoP nonce to hand out with the answer.
  const authenticate = async (req, seen, pathname) => {
    const header = req.headers.authorization;
    if (!header) throw unauthorized();
    const match = header.match(/^(Bearer|DPoP) ([\x21-\x7e]+)$/i);
    if (!match) throw unauthorized('invalid_token');
    const [, scheme, value] = match;
    const token = await provider.AccessToken.find(value);
    // A known token counts for its client even when it has expired (its 401 shows in the client's counters).
    if (token) seen.clientId = token.clientId;
    // find() tolerates 15 s of clock skew: check expiry ourselves.
    if (!token || token.isExpired || !token.accountId) throw unauthorized('invalid_token');
    if (token.jkt) {
      if (scheme.toLowerCase() !== 'dpop') throw dpopRefusal({ error: 'invalid_token', description: 'this token is bound to a DPoP key' });
      try {
        seen.nonce = dpop.check(req, pathname, value, token.jkt);
      } catch (err) {
        if (err instanceof DpopError) throw dpopRefusal(err);
        throw err;
      }
    } else if (scheme.toLowerCase() !== 'bearer') {
      throw unauthorized('invalid_token');
    }
    if (testClients?.get(token.clientId)?.refuseApi) throw unauthorized('invalid_token');
    return token;
  };

  const route = async (req, url, seen) => {
    const key = `${req.method} ${url.pathname}`;
    switch (key) {
      case 'GET /api/user/profile': {
        const token = await authenticate(req, seen, url.pathname);
        return [200, profileOf(token.accountId)];
      }
      case 'PUT /api/user/profile': {
        const token = await authenticate(req, seen, url.pathname);
        let body;
        try {
          body = JSON.parse(await readBody(req));
        } catch {
          throw new HttpError(400, { error: 'invalid_request', error_description: 'body must be JSON' });
        }
        const profile = profileOf(token.accountId);
        Object.assign(profile, validateProfileUpdate(body));
        return [200, profile];
      }
      case 'GET /api/user/security': {
        // The sign-in time travels with the access token (dev/idp.mjs, extraTokenClaims): a refresh keeps it.
        const token = await authenticate(req, seen, url.pathname);
        const maxAge = testClients?.get(token.clientId)?.stepUpMaxAge ?? stepUpMaxAge;
        const authTime = token.extra?.auth_time;
        if (!Number.isInteger(authTime) || Math.floor(Date.now() / 1000) - authTime > maxAge) {
          throw insufficientAuthentication(maxAge);
        }
        return [200, { sub: token.accountId, auth_time: authTime, max_age: maxAge }];
      }
      case 'GET /api/redirect': {
        const to = url.searchParams.get('to') ?? '';
        if (!to.startsWith(REDIRECT_PREFIX)) {
          throw new HttpError(400, { error: 'invalid_request', error_description: `to must start with ${REDIRECT_PREFIX}` });
        }
        return [307, null, { Location: to }];
      }
      case 'GET /api/stats':
        return [200, stats];
      default:
        throw new HttpError(404, { error: 'not_found' });
    }
  };

  return async (req, res) => {
    if (cors(req, res)) return;
    const url = new URL(req.url, 'http://127.0.0.1');
    let status;
    let body;
    let headers = {};
    const seen = {};
    try {
      [status, body, headers = {}] = await route(req, url, seen);
    } catch (err) {
      if (!(err instanceof HttpError)) {
        console.error('[api] error', err);
        ({ status, body } = { status: 500, body: { error: 'server_error' } });
      } else {
        ({ status, body, headers } = err);
      }
    }
    if (seen.nonce && headers['DPoP-Nonce'] === undefined) headers = { ...headers, 'DPoP-Nonce': seen.nonce };
    if (url.pathname !== '/api/stats') {
      stats.by_status[status] = (stats.by_status[status] ?? 0) + 1;
      const routeKey = `${req.method} ${url.pathname} ${status}`;
      stats.by_route[routeKey] = (stats.by_route[routeKey] ?? 0) + 1;
      if (seen.clientId) testClients?.get(seen.clientId)?.stats.apiAnswered(status);
    }
    if (body === null) {
      res.writeHead(status, { 'Content-Length': '0', 'Cache-Control': 'no-store', ...headers });
      res.end();
    } else {
      sendJson(res, status, body, headers);
    }
  };
};
