// The "foreign" server on :9002. GET /echo tells whether an Authorization header arrived, so tests can
// check that the SPA never sends its Bearer token to an origin that is not allow-listed.

import { corsFor } from './cors.mjs';
import { sendJson } from './http.mjs';

/** Creates the echo server's request handler. */
export const createEcho = ({ allowedOrigins }) => {
  const cors = corsFor({
    origins: allowedOrigins,
    methods: ['GET', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
  });
  return (req, res) => {
    if (cors(req, res)) return;
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/echo') {
      return sendJson(res, 200, { authorization: req.headers.authorization !== undefined });
    }
    return sendJson(res, 404, { error: 'not_found' });
  };
};
