// DPoP proof checks of the dev API (RFC 9449 §7), with node:crypto only: a token bound to a key (`cnf.jkt`, kept by
// the provider as the access token's `jkt`) is accepted only with the DPoP scheme and a fresh proof signed by that
// key for this method and URL, carrying the token's hash. The API hands out its own nonces (HMAC of a 60-second
// step, the current and two previous steps accepted): a proof with a valid nonce is accepted whatever its iat (the
// browser's clock may have been moved by a test), one without is accepted within ±300 s of this clock, else it is
// answered 401 use_dpop_nonce with a nonce to use.

import { createHash, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';

const STEP_SECONDS = 60;
const IAT_WINDOW_SECONDS = 300;

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** RFC 7638 thumbprint of an EC public JWK. */
export const thumbprint = (jwk) => b64url(createHash('sha256')
  .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest());

export class DpopError extends Error {
  /** `error` is the WWW-Authenticate error code; `nonce`, when set, goes in the DPoP-Nonce header. */
  constructor(error, description, nonce) {
    super(description);
    Object.assign(this, { error, description, nonce });
  }
}

/** A checker for proofs sent to `origin` (the API's own origin, as `htu` names it). */
export const createDpopChecker = ({ origin }) => {
  const secret = randomBytes(32);
  const seen = new Map(); // jti → seconds after which it may be forgotten
  const nonceAt = (step) => b64url(createHmac('sha256', secret).update(String(step)).digest());
  const step = () => Math.floor(Date.now() / 1000 / STEP_SECONDS);
  const currentNonce = () => nonceAt(step());
  const validNonce = (nonce) => [0, 1, 2].some((back) => nonceAt(step() - back) === nonce);

  /**
   * Checks the DPoP proof of `req` (path `pathname`) for `token` bound to `jkt`. Returns the nonce to send back
   * (or undefined); throws a DpopError.
   */
  const check = (req, pathname, token, jkt) => {
    const proof = req.headers.dpop;
    if (typeof proof !== 'string' || proof.split('.').length !== 3) {
      throw new DpopError('invalid_dpop_proof', 'a DPoP proof is required for this token');
    }
    const [h, p, s] = proof.split('.');
    let header;
    let claims;
    try {
      header = json(h);
      claims = json(p);
    } catch {
      throw new DpopError('invalid_dpop_proof', 'the proof is not a JWT');
    }
    if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256' || header.jwk?.kty !== 'EC' || header.jwk.d !== undefined) {
      throw new DpopError('invalid_dpop_proof', 'the proof must be an ES256 dpop+jwt with a public jwk');
    }
    let valid = false;
    try {
      const key = createPublicKey({ key: header.jwk, format: 'jwk' });
      valid = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    } catch {
      valid = false;
    }
    if (!valid) throw new DpopError('invalid_dpop_proof', 'the proof signature does not verify');
    if (thumbprint(header.jwk) !== jkt) throw new DpopError('invalid_dpop_proof', 'the proof key is not the token\'s');
    if (claims.htm !== req.method || claims.htu !== `${origin}${pathname}`) {
      throw new DpopError('invalid_dpop_proof', 'the proof is for another request');
    }
    if (claims.ath !== b64url(createHash('sha256').update(token).digest())) {
      throw new DpopError('invalid_dpop_proof', 'the proof is for another token');
    }
    if (typeof claims.jti !== 'string' || claims.jti.length < 8 || typeof claims.iat !== 'number') {
      throw new DpopError('invalid_dpop_proof', 'the proof needs a jti and an iat');
    }
    const now = Math.floor(Date.now() / 1000);
    if (claims.nonce !== undefined) {
      if (!validNonce(claims.nonce)) throw new DpopError('use_dpop_nonce', 'the nonce is not current', currentNonce());
    } else if (Math.abs(now - claims.iat) > IAT_WINDOW_SECONDS) {
      throw new DpopError('use_dpop_nonce', 'the proof is not recent: use a nonce', currentNonce());
    }
    for (const [jti, until] of seen) if (until < now) seen.delete(jti);
    if (seen.has(claims.jti)) throw new DpopError('invalid_dpop_proof', 'the proof was already used');
    seen.set(claims.jti, now + IAT_WINDOW_SECONDS + STEP_SECONDS * 3);
    return claims.nonce === currentNonce() ? undefined : currentNonce();
  };
  return { check };
};
