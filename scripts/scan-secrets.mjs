// Scans a built app (dist/) for secrets (SECURITY.md #8): a client secret with a value, private-key PEM blocks,
// private JWK members (d, p, q, dp, dq, qi, k with a key-sized value), and, verbatim, every secret the dev stack
// itself holds (the backend's client secret, the IdP's cookie and signing keys, the backend's request-object key and
// token-encryption key file), in any file, text or wasm. Exit code 1 and the findings when one is found.
//
//   node scripts/scan-secrets.mjs DIST
//
// Words alone are not findings: the wasm holds the text "client_secret" in the message that refuses such a key in
// config.json, and "client_secret_basic" is a method name.

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

const PATTERNS = [
  // client_secret, CLIENT_SECRET, clientSecret, client-secret, OTEN_CLIENT_SECRET… followed by a value.
  // The value: printable characters but quotes and separators (a byte of a binary never passes for one).
  ['a client secret with a value', /client[_-]?secret["']?\s*[:=]\s*["']?[\x21\x23-\x26\x28-\x2b\x2d-\x3a\x3c-\x7e]{8,}/i],
  ['a private-key PEM block', /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/],
  // Member names quoted (JSON, or a JS literal written as one): `?d:"…"` in minified code is not a JWK.
  ['a private JWK member', /["'](d|p|q|dp|dq|qi|k)["']\s*:\s*["'][A-Za-z0-9_-]{20,}["']/],
  ['a symmetric key in a "key" field', /(?<![A-Za-z0-9_])["']?(key|secret|cookie_key|encryption_key)["']?\s*:\s*["'][A-Za-z0-9+/_-]{32,}={0,2}["']/i],
];

/** The dev stack's own secret values, wherever they are on this machine (none are in git). */
const knownSecrets = () => {
  const found = new Map();
  const add = (what, value) => { if (typeof value === 'string' && value.length >= 16) found.set(value, what); };
  const config = readFileSync(join(REPO, 'dev', 'config.mjs'), 'utf8');
  for (const [, value] of config.matchAll(/SECRET = '([^']+)'/g)) add('dev/config.mjs client secret', value);
  for (const name of ['BFF_CLIENT_SECRET', 'OTEN_CLIENT_SECRET']) add(`$${name}`, process.env[name]);
  const json = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined);
  for (const key of json(join(REPO, 'dev', 'keys', 'cookies.json'))?.keys ?? []) add('dev IdP cookie key', key);
  for (const jwk of json(join(REPO, 'dev', 'keys', 'jwks.json'))?.keys ?? []) add('dev IdP signing key (d)', jwk.d);
  const pem = join(REPO, 'dev', 'keys', 'backend-request-object.pem');
  if (existsSync(pem)) {
    const body = readFileSync(pem, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    add('backend request-object key', body);
  }
  const keyFile = join(REPO, 'dev', '.state', 'backend-keys');
  if (existsSync(keyFile)) {
    for (const line of readFileSync(keyFile, 'utf8').split('\n')) {
      for (const part of line.split(/[\s:=,"]+/)) if (part.length >= 32) add('backend token-encryption key', part);
    }
  }
  return found;
};

// Symbolic links are followed (statSync): a linked file is deployed like any other; a folder is read once (a link
// loop ends).
const files = (dir, seen = new Set()) => {
  const real = realpathSync(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    let info;
    try {
      info = statSync(path);
    } catch {
      return []; // a dangling link: nothing is deployed there
    }
    return info.isDirectory() ? files(path, seen) : info.isFile() ? [path] : [];
  });
};

const [dist] = process.argv.slice(2);
if (!dist) throw new Error('usage: node scripts/scan-secrets.mjs DIST');
const known = knownSecrets();
// The fixed dev secret is always there; the generated ones exist once the dev stack has started (scripts/test starts
// it before the release build).
if (known.size < 2) console.warn(`      warning: only ${known.size} known dev secret(s) to look for (has the dev stack run?)`);
const findings = [];
const scanned = files(dist);
for (const path of scanned) {
  const text = readFileSync(path).toString('latin1');
  for (const [what, pattern] of PATTERNS) {
    const m = text.match(pattern);
    if (m) findings.push(`${relative(dist, path)}: ${what} at byte ${m.index} (the value is not printed)`);
  }
  for (const [value, what] of known) {
    if (text.includes(value)) findings.push(`${relative(dist, path)}: ${what}, verbatim`);
  }
}
if (findings.length) {
  console.error(`error: secrets in ${dist}:\n${findings.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
console.log(`      no secret in ${scanned.length} files (${PATTERNS.length} patterns, ${known.size} known dev secrets)`);
