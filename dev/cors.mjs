// CORS for the dev stack's own node:http servers (API, echo server, test routes).
// Only listed origins are echoed; anything else gets no CORS headers at all.

const DEFAULT_ALLOWED_HEADERS = ['authorization', 'content-type', 'x-request-id'];

/**
 * Returns a function `(req, res) => handled` that sets CORS headers for allowed origins and answers
 * preflights. It returns true when the request was a preflight and has been answered.
 */
export const corsFor = ({
  origins,
  methods = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
  allowHeaders = DEFAULT_ALLOWED_HEADERS,
  exposeHeaders = [],
  maxAge = 600,
}) => {
  const allowedOrigins = new Set(origins);
  const allowedHeaders = new Set(allowHeaders.map((h) => h.toLowerCase()));
  return (req, res) => {
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    const allowed = origin !== undefined && allowedOrigins.has(origin);
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      if (exposeHeaders.length) res.setHeader('Access-Control-Expose-Headers', exposeHeaders.join(', '));
    }
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) {
      return false;
    }
    // Preflight.
    if (allowed) {
      const requested = (req.headers['access-control-request-headers'] || '')
        .split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
      const granted = [...new Set([...allowedHeaders, ...requested.filter((h) => allowedHeaders.has(h))])];
      res.setHeader('Access-Control-Allow-Methods', methods.join(', '));
      res.setHeader('Access-Control-Allow-Headers', granted.join(', '));
      res.setHeader('Access-Control-Max-Age', String(maxAge));
    }
    res.writeHead(204, { 'Content-Length': '0' });
    res.end();
    return true;
  };
};
