//! OpenID Connect ID tokens: decoding, key selection and claims validation — pure functions — and
//! [`verify_id_token`], which chains them with a signature check by an injected [`crate::Crypto`] (in the browser,
//! WebCrypto).
//!
//! Verifying an ID token takes four steps:
//!
//! 1. [`decode_jwt`] splits the compact JWS and refuses `alg: none`, unsupported algorithms and `crit`;
//! 2. [`select_key`] picks the provider's key by `kid` from the [`JwkSet`] and checks it fits the algorithm;
//! 3. the signature over [`UnverifiedJwt::signing_input`] is verified with that key by a [`crate::Crypto`];
//! 4. [`validate_claims`] checks `iss`, `aud`/`azp`, `exp`/`iat`/`nbf`, `nonce` and `sub`
//!    (OpenID Connect Core §3.1.3.7) and returns the [`IdTokenClaims`] to show as the signed-in user.
//!
//! Every failure is an [`IdTokenError`] whose message never contains the token.
//!
//! ## Usage
//!
//! ```
//! use oten_auth_core::id_token::{decode_jwt, select_key, validate_claims, IdTokenExpectations, JwkSet};
//!
//! fn check(token: &str, jwks: &JwkSet, expect: &IdTokenExpectations) -> Result<String, String> {
//!     let jwt = decode_jwt(token).map_err(|e| e.to_string())?;
//!     let _key = select_key(jwks, jwt.header()).map_err(|e| e.to_string())?;
//!     // … verify jwt.signature() over jwt.signing_input() with the key …
//!     let user = validate_claims(jwt.claims(), expect).map_err(|e| e.to_string())?;
//!     Ok(user.sub)
//! }
//! # let _ = check;
//! ```

mod claims;
mod error;
mod jwks;
mod jwt;
mod logout;
mod verify;

pub use claims::{validate_claims, IdTokenClaims, IdTokenExpectations, DEFAULT_LEEWAY_SECS};
pub use error::IdTokenError;
pub use jwks::{select_key, Jwk, JwkSet};
pub use jwt::{decode_jwt, JwsAlgorithm, JwtHeader, UnverifiedJwt, MAX_TOKEN_BYTES};
pub use logout::{
    validate_logout_claims, verify_logout_token, LogoutToken, BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TYPE,
};
pub use verify::verify_id_token;
