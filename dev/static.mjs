// A tiny static server for the built app (dist/) on 127.0.0.1:8080, used by the end-to-end tests.
// Unknown paths without a file extension fall back to index.html (SPA deep links).
// With --compress, text and wasm files are sent brotli (-q 11) or gzip (-9) compressed when the browser accepts it,
// as a deployment would (scripts/bench's cold load); compressed bodies are kept in memory per file version. With
// --isolate, pages are cross-origin isolated (COOP same-origin, COEP require-corp), which gives performance.now() a
// 5 µs grain instead of 100 µs (scripts/bench's timings).
//
// Every answer carries the security headers a deployment sends (a strict Content-Security-Policy, Referrer-Policy
// no-referrer…), derived from the served config.json by the core's `security_headers` example, the same derivation
// a deployment uses (README, "Security headers"); --no-csp leaves them out (scripts/bench's peer pages).
//
//   node dev/static.mjs [root=dist] [port=8080] [--compress] [--isolate] [--no-csp]

import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

import { listen } from './http.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

const args = process.argv.slice(2);
const compress = args.includes('--compress');
const isolate = args.includes('--isolate');
const [rootArg, portArg] = args.filter((a) => !a.startsWith('--'));
const root = resolve(rootArg ?? 'dist');
const port = Number(portArg ?? process.env.PORT ?? 8080);

/** The headers `config.json` calls for, from the same code a deployment generates them with. */
const securityHeaders = (dir) => {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
  const out = execFileSync('cargo', ['run', '--quiet', '-p', 'oten-auth-core', '--example', 'security_headers', '--',
    '--format', 'json', join(dir, 'config.json')], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out);
};
const SECURITY_HEADERS = args.includes('--no-csp')
  ? { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' }
  : securityHeaders(root);

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.wasm', '.json', '.map', '.svg', '.txt', '.webmanifest']);
/** "path\0encoding\0mtime\0size" → compressed body. */
const compressed = new Map();

/** The encoding to send `path` with (br, gzip) given the request's Accept-Encoding, or undefined. */
const encodingFor = (req, path) => {
  if (!compress || !COMPRESSIBLE.has(extname(path).toLowerCase())) return undefined;
  // "br;q=0" refuses br: only codings with a positive weight count.
  const accepted = String(req.headers['accept-encoding'] ?? '').split(',').map((e) => e.trim().split(';'))
    .filter(([, ...params]) => !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p)))
    .map(([coding]) => coding.trim());
  return ['br', 'gzip'].find((e) => accepted.includes(e));
};

const compressedBody = async (path, info, encoding) => {
  const key = `${path}\0${encoding}\0${info.mtimeMs}\0${info.size}`;
  if (!compressed.has(key)) {
    const raw = await readFile(path);
    compressed.set(key, encoding === 'br'
      ? brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } })
      : gzipSync(raw, { level: 9 }));
  }
  return compressed.get(key);
};

const fileAt = async (path) => {
  try {
    const info = await stat(path);
    return info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
};

const send = async (req, res, status, path, info) => {
  const encoding = encodingFor(req, path);
  const body = encoding ? await compressedBody(path, info, encoding) : undefined;
  res.writeHead(status, {
    'Content-Type': MIME[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': body ? body.length : info.size,
    'Cache-Control': 'no-cache',
    ...SECURITY_HEADERS,
    ...(encoding ? { 'Content-Encoding': encoding } : {}),
    ...(compress && COMPRESSIBLE.has(extname(path).toLowerCase()) ? { Vary: 'Accept-Encoding' } : {}),
    ...(isolate ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}),
  });
  if (req.method === 'HEAD') return res.end();
  if (body) return res.end(body);
  return createReadStream(path).pipe(res);
};

const server = createServer(async (req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const path = normalize(join(root, pathname));
  if (path !== root && !path.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  const file = await fileAt(path) ?? await fileAt(join(path, 'index.html'));
  if (file) {
    await send(req, res, 200, (await fileAt(path)) ? path : join(path, 'index.html'), file);
    return;
  }
  if (extname(pathname) === '') {
    const index = join(root, 'index.html');
    const info = await fileAt(index);
    if (info) {
      await send(req, res, 200, index, info);
      return;
    }
  }
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
});

await listen(server, '127.0.0.1', port);
console.log(`[static] serving ${root} on http://127.0.0.1:${port}${compress ? ' (brotli/gzip)' : ''}${isolate ? ' (cross-origin isolated)' : ''}`);
const stop = () => { server.close(); server.closeAllConnections(); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
