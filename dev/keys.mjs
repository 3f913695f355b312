// Key material of the dev IdP, generated on first start into dev/keys/ (git-ignored) and reused afterwards.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KEYS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'keys');

const loadOrCreate = (file, create) => {
  const path = join(KEYS_DIR, file);
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8'));
  const value = create();
  mkdirSync(KEYS_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  return value;
};

/** A private JWKS with one Ed25519 signing key (alg EdDSA) for ID tokens. */
export const loadSigningKeys = () => loadOrCreate('jwks.json', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, alg: 'EdDSA', use: 'sig', kid: `dev-ed25519-${randomUUID().slice(0, 8)}` }] };
});

/** Keys for oidc-provider's signed cookies. */
export const loadCookieKeys = () => loadOrCreate('cookies.json', () => ({
  keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')],
})).keys;
