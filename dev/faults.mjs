// Faults on demand at the IdP's token and revocation endpoints, per test client (TEST_ROUTES=1), and for the
// backend's confidential client bff-dev (named in its Basic credentials rather than the body).
// Tests queue them through POST /test/clients/:id/faults (dev/test-routes.mjs); the oldest fault that
// matches a request (endpoint, and grant type at the token endpoint) applies to it and is used up after
// `times` requests (0: until DELETE /test/clients/:id/faults).
//
//   status_500               500 {"error":"server_error"}                                   not processed
//   status_503               503 Retry-After: <retry_after, default 2> {"error":"temporarily_unavailable"}
//                                                                                           not processed
//   timeout                  no answer; the connection stays open until the client gives up (at most
//                            60 s, then the socket is destroyed)                            not processed
//   drop                     the socket is destroyed without an answer                      not processed
//   malformed                502 application/json with a truncated body {"error":"server_er not processed
//   invalid_grant            400 {"error":"invalid_grant","error_description":"grant request is invalid"}
//                                                                                           not processed
//   slow                     waits delay_ms (default 1000), then the provider processes it normally
//   unusable_2xx             processed (the refresh token rotates), then the 200 body gets
//                            token_type "N_A": a strict client refuses it, yet it carries the new refresh_token
//   unusable_2xx_no_refresh  processed (rotated), then the 200 body is replaced by {"result":"ok"}
//
// `delay_ms` may be given with any kind: the fault then waits that long before it acts.
//
// The client of a token or revocation request is named in its form body (public clients), so the body
// is read here, before the provider, and handed over as `req.body`: oidc-provider's body parser falls
// back to `req.body` when the stream was already read (it prints a one-time "already parsed request body"
// warning, expected here). The request is tagged with `req.e2e` = {endpoint, clientId, grantType,
// refreshTokenHash, stats, rewrite} for the per-client counters (dev/client-stats.mjs) and for the
// rewrite of processed answers. Faulted answers carry the CORS headers the provider would have sent.

import { hashToken } from './client-stats.mjs';
import { badRequest, readBody, sendJson } from './http.mjs';

export const FAULT_KINDS = Object.freeze([
  'status_500', 'status_503', 'timeout', 'drop', 'malformed', 'invalid_grant', 'slow',
  'unusable_2xx', 'unusable_2xx_no_refresh',
]);
const REWRITE_KINDS = new Set(['unusable_2xx', 'unusable_2xx_no_refresh']);
const GRANT_TYPES = ['refresh_token', 'authorization_code'];
const FIELDS = new Set(['endpoint', 'grant_type', 'kind', 'times', 'delay_ms', 'retry_after']);

const MAX_DELAY_MS = 60_000;
const MAX_RETRY_AFTER = 86_400;
const TIMEOUT_MAX_MS = 60_000;
/** The provider's own limit for token and revocation bodies. */
const BODY_LIMIT = 56 * 1024;
const FORM = 'application/x-www-form-urlencoded';

const nonNegativeInt = (input, name, fallback, max = Number.MAX_SAFE_INTEGER) => {
  const value = input[name];
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw badRequest(`${name} must be an integer from 0 to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
};

/** The client id of `Authorization: Basic base64(urlencode(id):urlencode(secret))`, or null. */
const basicClientId = (authorization) => {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(String(authorization ?? ''));
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
  } catch {
    return null;
  }
};

/** Validates the JSON body of POST /test/clients/:id/faults; returns the fault or throws a 400 error. */
export const validateFault = (input) => {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw badRequest('body must be a JSON object like {"endpoint":"token","kind":"status_500"}');
  }
  const unknown = Object.keys(input).filter((k) => !FIELDS.has(k));
  if (unknown.length) throw badRequest(`unknown field(s): ${unknown.join(', ')}; allowed: ${[...FIELDS].join(', ')}`);

  const { endpoint, kind } = input;
  if (endpoint !== 'token' && endpoint !== 'revocation') {
    throw badRequest(`endpoint must be "token" or "revocation", got ${JSON.stringify(endpoint)}`);
  }
  if (!FAULT_KINDS.includes(kind)) {
    throw badRequest(`kind must be one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const fault = { endpoint };
  if (endpoint === 'token') {
    fault.grant_type = input.grant_type ?? 'refresh_token';
    if (!GRANT_TYPES.includes(fault.grant_type)) {
      throw badRequest(`grant_type must be one of ${GRANT_TYPES.join(', ')}, got ${JSON.stringify(input.grant_type)}`);
    }
  } else {
    if (input.grant_type !== undefined) throw badRequest('grant_type applies to the token endpoint only');
    if (REWRITE_KINDS.has(kind)) throw badRequest(`${kind} rewrites token responses: use it with endpoint "token"`);
  }
  fault.kind = kind;
  fault.times = nonNegativeInt(input, 'times', 1);
  fault.delay_ms = nonNegativeInt(input, 'delay_ms', kind === 'slow' ? 1000 : 0, MAX_DELAY_MS);
  if (kind === 'status_503') {
    fault.retry_after = nonNegativeInt(input, 'retry_after', 2, MAX_RETRY_AFTER);
  } else if (input.retry_after !== undefined) {
    throw badRequest('retry_after applies to kind status_503 only');
  }
  fault.used = 0;
  return fault;
};

/** Takes the oldest fault of `lease` matching the request, counting one use; undefined when none. */
const takeFault = (lease, endpoint, grantType) => {
  const index = lease.faults.findIndex((f) => f.endpoint === endpoint
    && (endpoint !== 'token' || f.grant_type === grantType));
  if (index < 0) return undefined;
  const fault = lease.faults[index];
  fault.used += 1;
  if (fault.times !== 0 && fault.used >= fault.times) lease.faults.splice(index, 1);
  return fault;
};

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * Creates the fault machinery: registers on `provider` the middleware that rewrites processed answers,
 * and returns `(req, res, url) => handled`, to be called by the node:http handler before the provider.
 * It returns true when a fault answered (or will never answer) the request.
 */
export const createFaults = ({ provider, routes, testClients, allowedOrigins }) => {
  const endpoints = new Map([[routes.token, 'token'], [routes.revocation, 'revocation']]);
  const origins = new Set(allowedOrigins);

  const corsHeaders = (req, expose = []) => {
    const { origin } = req.headers;
    if (!origin || !origins.has(origin)) return { Vary: 'Origin' };
    return {
      Vary: 'Origin',
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Expose-Headers': ['WWW-Authenticate', ...expose].join(', '),
    };
  };

  provider.use(async (ctx, next) => {
    await next();
    const rewrite = ctx.req.e2e?.rewrite;
    if (!rewrite || ctx.status !== 200 || ctx.body === null || typeof ctx.body !== 'object') return;
    ctx.body = rewrite === 'unusable_2xx' ? { ...ctx.body, token_type: 'N_A' } : { result: 'ok' };
  });

  /** Applies `fault` to the request; returns true when it answered (or dropped) the request. */
  const apply = async (fault, req, res) => {
    if (fault.delay_ms) await sleep(fault.delay_ms);
    switch (fault.kind) {
      case 'status_500':
        sendJson(res, 500, { error: 'server_error' }, corsHeaders(req));
        return true;
      case 'status_503':
        sendJson(res, 503, { error: 'temporarily_unavailable' }, {
          ...corsHeaders(req, ['Retry-After']), 'Retry-After': String(fault.retry_after),
        });
        return true;
      case 'timeout': {
        const timer = setTimeout(() => req.socket.destroy(), TIMEOUT_MAX_MS);
        timer.unref();
        res.on('close', () => clearTimeout(timer));
        return true;
      }
      case 'drop':
        req.socket.destroy();
        return true;
      case 'malformed': {
        const body = Buffer.from('{"error":"server_er');
        res.writeHead(502, {
          'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-store', ...corsHeaders(req),
        });
        res.end(body);
        return true;
      }
      case 'invalid_grant':
        sendJson(res, 400, { error: 'invalid_grant', error_description: 'grant request is invalid' }, corsHeaders(req));
        return true;
      case 'slow':
        return false;
      default: // unusable_2xx, unusable_2xx_no_refresh: processed, then rewritten by the middleware above
        req.e2e.rewrite = fault.kind;
        return false;
    }
  };

  return async (req, res, url) => {
    const endpoint = endpoints.get(url.pathname);
    if (req.method !== 'POST' || !endpoint) return false;

    // A declared body over the limit is refused like the provider does; a chunked one that grows over
    // it is cut off by readBody (the socket is destroyed).
    if (Number(req.headers['content-length']) > BODY_LIMIT) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'failed to parse the request body' }, corsHeaders(req));
      return true;
    }
    let raw;
    try {
      raw = await readBody(req, BODY_LIMIT);
    } catch (err) {
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 400, { error: 'invalid_request', error_description: 'failed to parse the request body' }, corsHeaders(req));
      }
      return true;
    }
    req.body = raw; // read by oidc-provider's body parser (lib/shared/selective_body.js)

    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== FORM) return false;
    const params = new URLSearchParams(raw);
    // A confidential client (the Rust backend) names itself in its Basic credentials.
    const clientId = params.get('client_id') ?? basicClientId(req.headers.authorization);
    const lease = testClients.get(clientId);
    if (!lease) return false; // spa-dev and unknown clients: the provider alone decides

    const grantType = endpoint === 'token' ? (params.get('grant_type') ?? 'unknown') : undefined;
    const refreshToken = grantType === 'refresh_token' ? params.get('refresh_token') : null;
    req.e2e = {
      endpoint,
      clientId,
      grantType,
      refreshTokenHash: refreshToken ? hashToken(refreshToken) : undefined,
      stats: lease.stats,
    };

    const fault = takeFault(lease, endpoint, grantType);
    if (!fault) return false;
    lease.stats.faultApplied();
    const left = fault.times === 0 ? 'until cleared' : `${fault.times - fault.used} left`;
    console.log(`[fault] ${clientId} ${endpoint}${grantType ? ` grant_type=${grantType}` : ''} ${fault.kind} (${left})`);
    return apply(fault, req, res);
  };
};
