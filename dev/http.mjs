// Small helpers for the node:http servers of the dev stack.

/** Escapes text for HTML element content and double-quoted attributes. */
export const escapeHtml = (value) => String(value)
  .replaceAll('&', '&amp;')
  .replaceAll('<', '&lt;')
  .replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;')
  .replaceAll("'", '&#39;');

/** Sends a JSON body with no-store caching. */
export const sendJson = (res, status, body, headers = {}) => {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': data.length,
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(data);
};

/** Sends an HTML page. */
export const sendHtml = (res, status, html, headers = {}) => {
  const data = Buffer.from(html);
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': data.length,
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    ...headers,
  });
  res.end(data);
};

/** An error answered as 400 `{error: 'invalid_request', error_description}` by the test routes. */
export const badRequest = (description) => Object.assign(new Error(description), { status: 400 });

/** Reads a request body (bounded) as a string. */
export const readBody = (req, limit = 64 * 1024) => new Promise((resolve, reject) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > limit) {
      reject(Object.assign(new Error('request body too large'), { status: 413 }));
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  req.on('error', reject);
});

/** Starts `server` on host:port and resolves once it listens. */
export const listen = (server, host, port) => new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, host, () => {
    server.off('error', reject);
    resolve(server);
  });
});
