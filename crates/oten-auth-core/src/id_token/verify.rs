//! An ID token checked from end to end: decode, key, signature (through [`Crypto`]), claims.

use super::{decode_jwt, select_key, validate_claims, IdTokenClaims, IdTokenError, IdTokenExpectations, JwkSet};
use crate::crypto::{Crypto, CryptoError};

/// Verifies an ID token: decodes it, selects the provider's key by `kid` and algorithm, checks the signature with
/// `crypto`, then validates the claims against `expect` (OpenID Connect Core §3.1.3.7). Only a token that passes
/// every step yields the signed-in person.
///
/// ## Usage
///
/// ```no_run
/// # async fn demo(crypto: &dyn oten_auth_core::Crypto, id_token: &str, jwks: &oten_auth_core::id_token::JwkSet) {
/// use oten_auth_core::id_token::{verify_id_token, IdTokenExpectations};
/// let expect = IdTokenExpectations::new("https://account.oten.com", "my-client", "the-nonce", 1_700_000_000);
/// match verify_id_token(crypto, id_token, jwks, &expect).await {
///     Ok(user) => println!("signed in as {}", user.sub),
///     Err(err) => println!("sign-in refused: {err}"),
/// }
/// # }
/// ```
pub async fn verify_id_token(
    crypto: &dyn Crypto,
    token: &str,
    jwks: &JwkSet,
    expect: &IdTokenExpectations,
) -> Result<IdTokenClaims, IdTokenError> {
    let jwt = decode_jwt(token)?;
    let jwk = select_key(jwks, jwt.header())?;
    let verdict = crypto.verify_signature(jwk, jwt.header().alg, jwt.signing_input(), jwt.signature()).await;
    match verdict {
        Ok(true) => validate_claims(jwt.claims(), expect),
        Ok(false) => Err(IdTokenError::BadSignature),
        Err(CryptoError::KeyMismatch(_)) => Err(IdTokenError::KeyMismatch),
        Err(other) => Err(IdTokenError::Crypto(other)),
    }
}
