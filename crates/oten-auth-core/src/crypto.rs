//! The cryptography a sign-in needs, injected: random bytes, SHA-256 and JWS signature checks.

use crate::id_token::{Jwk, JwsAlgorithm};
use futures::future::LocalBoxFuture;

/// A failure of the platform's cryptography — never a verdict on a signature (that is `Ok(false)`).
///
/// ## Usage
///
/// ```
/// use oten_auth_core::CryptoError;
/// let err = CryptoError::Operation { operation: "digest", message: "NotSupportedError".into() };
/// assert_eq!(err.to_string(), "cryptography failed (digest): NotSupportedError");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// No cryptography here (in a browser: not a secure context, so no WebCrypto).
    #[error("cryptography is not available here; the page must be served over https or from localhost")]
    Unavailable,
    /// An operation was refused; `message` says why (never a key or data).
    #[error("cryptography failed ({operation}): {message}")]
    Operation {
        /// The operation (`importKey`, `verify`, `digest`, …).
        operation: &'static str,
        /// The platform's description of the failure.
        message: String,
    },
    /// The key cannot be used with the requested algorithm.
    #[error("the key does not fit the {0} algorithm")]
    KeyMismatch(&'static str),
}

/// Random bytes, SHA-256 and JWS verification (EdDSA, ES256, RS256).
///
/// The browser crate implements it with WebCrypto; tests implement it with native signers. The core never carries
/// a crypto library of its own.
///
/// ## Usage
///
/// ```
/// use futures::future::LocalBoxFuture;
/// use oten_auth_core::{Crypto, CryptoError, id_token::{Jwk, JwsAlgorithm}};
///
/// /// A platform without cryptography: every sign-in step that needs it fails cleanly.
/// struct Nothing;
/// impl Crypto for Nothing {
///     fn random_bytes(&self, _n: usize) -> Result<Vec<u8>, CryptoError> { Err(CryptoError::Unavailable) }
///     fn sha256(&self, _data: &[u8]) -> LocalBoxFuture<'static, Result<[u8; 32], CryptoError>> {
///         Box::pin(async { Err(CryptoError::Unavailable) })
///     }
///     fn verify_signature(&self, _: &Jwk, _: JwsAlgorithm, _: &[u8], _: &[u8]) -> LocalBoxFuture<'static, Result<bool, CryptoError>> {
///         Box::pin(async { Err(CryptoError::Unavailable) })
///     }
/// }
/// ```
pub trait Crypto {
    /// `n` bytes from a cryptographically secure random source.
    fn random_bytes(&self, n: usize) -> Result<Vec<u8>, CryptoError>;
    /// The SHA-256 digest of `data`.
    fn sha256(&self, data: &[u8]) -> LocalBoxFuture<'static, Result<[u8; 32], CryptoError>>;
    /// Whether `signature` is a valid `alg` signature of `signing_input` by `jwk`: `Ok(false)` when it is not (wrong
    /// key, tampered data, wrong length), `Err` when the check could not be done.
    fn verify_signature(
        &self,
        jwk: &Jwk,
        alg: JwsAlgorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> LocalBoxFuture<'static, Result<bool, CryptoError>>;
}
