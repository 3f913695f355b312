// Key material of the dev IdP, generated on first start into dev/keys/ (git-ignored) and reused afterwards.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
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

/** Where the backend's request-object key lives (PKCS#8 PEM; `request_object_key_file` of the backend). */
export const BACKEND_REQUEST_KEY_FILE = join(KEYS_DIR, 'backend-request-object.pem');

/**
 * The Ed25519 key the backend's second client (bff-dev-eddsa) signs its request objects with: the private key as
 * PKCS#8 PEM for the backend, the public JWK (kid `backend-eddsa`) for the client's registration.
 */
export const loadBackendRequestKey = () => {
  if (!existsSync(BACKEND_REQUEST_KEY_FILE)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(KEYS_DIR, { recursive: true, mode: 0o700 });
    writeFileSync(BACKEND_REQUEST_KEY_FILE, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  }
  const publicKey = createPublicKey(createPrivateKey(readFileSync(BACKEND_REQUEST_KEY_FILE)));
  return { ...publicKey.export({ format: 'jwk' }), alg: 'EdDSA', use: 'sig', kid: 'backend-eddsa' };
};
