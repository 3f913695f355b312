// The "foreign" server on :9002. GET /echo tells whether an Authorization header arrived, so tests can
// check that the SPA never sends its Bearer token to an origin that is not allow-listed.
// It also counts, server-side, every request that reached it (preflights included) and how many carried
// an Authorization header or asked to send one: GET /echo/seen, POST /echo/seen/reset. That catches a token
// that followed a cross-origin redirect even when the browser then refuses the answer (CORS).

import { corsFor } from './cors.mjs';
import { sendJson } from './http.mjs';

/** Creates the echo server's request handler. */
export const createEcho = ({ allowedOrigins }) => {
  const cors = corsFor({
    origins: allowedOrigins,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
  });
  const seen = { requests: 0, with_authorization: 0 };
  return (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/echo') {
      const asked = (req.headers['access-control-request-headers'] ?? '').toLowerCase().split(',').map((h) => h.trim());
      seen.requests += 1;
      if (req.headers.authorization !== undefined || asked.includes('authorization')) seen.with_authorization += 1;
    }
    if (cors(req, res)) return;
    if (url.pathname === '/echo/seen' && req.method === 'GET') return sendJson(res, 200, seen);
    if (url.pathname === '/echo/seen/reset' && req.method === 'POST') {
      seen.requests = 0;
      seen.with_authorization = 0;
      return sendJson(res, 200, seen);
    }
    if (req.method === 'GET' && url.pathname === '/echo') {
      return sendJson(res, 200, { authorization: req.headers.authorization !== undefined });
    }
    return sendJson(res, 404, { error: 'not_found' });
  };
};
