//! The one error type of ID token checking.

use crate::crypto::CryptoError;
use crate::fetch_error::FetchError;
use thiserror::Error;

/// Why an ID token was refused.
///
/// Every message is meant for a person (an end user or a developer reading an error page) and never contains
/// the token or any part of it. Any variant means: do not sign the user in with this token.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::{decode_jwt, IdTokenError};
///
/// let err = decode_jwt("not-a-jwt").unwrap_err();
/// assert!(matches!(err, IdTokenError::Malformed(_)));
/// assert!(!err.to_string().contains("not-a-jwt"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// The token is not a well-formed signed JWT (segments, base64url, JSON, header members, size).
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    /// The header names an algorithm that is not accepted (`none` included). Accepted: EdDSA, ES256, RS256.
    #[error("the ID token uses an unsupported signing algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// No single published key fits the header's `kid` (unknown `kid`, or no/several candidates without one).
    #[error("the ID token was signed with a key the provider does not publish")]
    UnknownKey,
    /// The selected key cannot verify this algorithm (type, curve, `use`, `alg`, `key_ops` or size).
    #[error("the provider's signing key does not match the ID token's algorithm")]
    KeyMismatch,
    /// The signature does not verify with the provider's key.
    #[error("the ID token's signature is invalid")]
    BadSignature,
    /// `iss` differs from the configured issuer.
    #[error("the ID token was issued by an unexpected issuer")]
    WrongIssuer,
    /// `aud` does not contain this client's `client_id`.
    #[error("the ID token was issued for another client (audience mismatch)")]
    WrongAudience,
    /// Several audiences and no `azp` claim.
    #[error("the ID token has several audiences but no authorized party (azp)")]
    MissingAzp,
    /// `azp` is present but is not this client's `client_id`.
    #[error("the ID token was issued to another authorized party (azp mismatch)")]
    WrongAzp,
    /// `exp` has passed (beyond the allowed clock leeway).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` lies in the future (beyond the allowed clock leeway).
    #[error("the ID token was issued in the future; check the device clock")]
    IssuedInFuture,
    /// `nbf` lies in the future (beyond the allowed clock leeway).
    #[error("the ID token is not valid yet; check the device clock")]
    NotYetValid,
    /// `nonce` differs from the one sent with this sign-in (or is not a string).
    #[error("the ID token does not belong to this sign-in attempt (nonce mismatch)")]
    WrongNonce,
    /// The person authenticated longer ago than the sign-in's `max_age` allows.
    #[error("the sign-in is older than this page requires; please sign in again")]
    AuthenticationTooOld,
    /// `acr` is not one of the authentication context classes the sign-in asked for.
    #[error("the sign-in did not reach the required level of assurance")]
    WrongAcr,
    /// A required claim is absent (or, for `sub`, empty).
    #[error("the ID token lacks the required claim `{0}`")]
    MissingClaim(&'static str),
    /// A token offered as a back-channel logout token lacks the logout event (or has another `typ`).
    #[error("the token is not a back-channel logout token")]
    NotALogoutToken,
    /// A logout token carries a `nonce` (forbidden, so that an ID token cannot pass as one).
    #[error("a logout token must not contain a nonce")]
    NonceInLogoutToken,
    /// The signature could not be checked (key import, an algorithm this platform lacks, …).
    #[error("the ID token could not be verified: {0}")]
    Crypto(#[source] CryptoError),
    /// The provider's keys could not be loaded.
    #[error("the provider's signing keys could not be loaded: {0}")]
    KeysUnavailable(#[source] FetchError),
}
