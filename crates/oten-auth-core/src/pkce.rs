//! Proof Key for Code Exchange (RFC 7636) with the `S256` method only.
//!
//! The core holds no random source and no hash: the browser crate draws the random bytes and computes the
//! SHA-256 digest with WebCrypto, and hands them to [`PkceVerifier::from_random_bytes`] and
//! [`code_challenge_from_digest`]. What stays here is the part that must be right everywhere: the length and
//! the character set of the verifier, and the encoding of the challenge.
//!
//! ## Usage
//!
//! ```
//! use oten_auth_core::pkce::{code_challenge_from_digest, PkceVerifier};
//!
//! let verifier = PkceVerifier::from_random_bytes(&[7u8; 32]).unwrap();
//! assert_eq!(verifier.as_str().len(), 43);
//! // In the browser: let digest = webcrypto::sha256(verifier.as_str().as_bytes()).await?;
//! let digest = [0u8; 32];
//! assert_eq!(code_challenge_from_digest(&digest).len(), 43);
//! ```

use crate::base64url;
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// Fewest random bytes accepted: 32 bytes give the 43-character minimum of RFC 7636 §4.1 (256 bits).
pub const MIN_RANDOM_BYTES: usize = 32;
/// Most random bytes accepted: 96 bytes give the 128-character maximum of RFC 7636 §4.1.
pub const MAX_RANDOM_BYTES: usize = 96;

/// Why a PKCE verifier could not be made.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::pkce::{PkceError, PkceVerifier};
///
/// assert_eq!(PkceVerifier::from_random_bytes(&[0; 8]).unwrap_err(), PkceError::WrongEntropyLength(8));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PkceError {
    /// The number of random bytes is outside 32..=96.
    #[error("a PKCE verifier needs 32 to 96 random bytes, got {0}")]
    WrongEntropyLength(usize),
    /// A verifier string is not 43..=128 characters long.
    #[error("a PKCE verifier must be 43 to 128 characters long, got {0}")]
    WrongLength(usize),
    /// A verifier string holds a character outside `A-Z a-z 0-9 - . _ ~`.
    #[error("a PKCE verifier may only contain A-Z, a-z, 0-9, '-', '.', '_' and '~'")]
    InvalidCharacter,
}

/// A PKCE `code_verifier` (RFC 7636 §4.1): a high-entropy secret sent only with the token request.
///
/// `Debug` prints `[redacted]`; the value is read through [`PkceVerifier::as_str`]. Serde stores the plain
/// string (so a pending sign-in can be kept in `sessionStorage`) and checks it again when reading it back.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::pkce::PkceVerifier;
///
/// let verifier = PkceVerifier::from_random_bytes(&[0xff; 32]).unwrap();
/// assert_eq!(verifier.as_str(), "__________________________________________8");
/// assert_eq!(format!("{verifier:?}"), "PkceVerifier([redacted])");
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// Builds a verifier from 32..=96 bytes of a cryptographically secure random source, encoded as
    /// base64url without padding (43..=128 characters, all within the RFC 7636 character set).
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::pkce::PkceVerifier;
    ///
    /// assert_eq!(PkceVerifier::from_random_bytes(&[1; 96]).unwrap().as_str().len(), 128);
    /// assert!(PkceVerifier::from_random_bytes(&[1; 97]).is_err());
    /// ```
    pub fn from_random_bytes(bytes: &[u8]) -> Result<Self, PkceError> {
        if !(MIN_RANDOM_BYTES..=MAX_RANDOM_BYTES).contains(&bytes.len()) {
            return Err(PkceError::WrongEntropyLength(bytes.len()));
        }
        Self::parse(base64url::encode(bytes))
    }

    /// Checks an existing verifier string (for example one read back from storage).
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::pkce::PkceVerifier;
    ///
    /// assert!(PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").is_ok());
    /// assert!(PkceVerifier::parse("too-short").is_err());
    /// ```
    pub fn parse(value: impl Into<String>) -> Result<Self, PkceError> {
        let value = value.into();
        if !(43..=128).contains(&value.len()) {
            return Err(PkceError::WrongLength(value.len()));
        }
        let unreserved = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        if !value.bytes().all(unreserved) {
            return Err(PkceError::InvalidCharacter);
        }
        Ok(Self(value))
    }

    /// The verifier itself, for the `code_verifier` form field and for hashing. Never log it.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::pkce::PkceVerifier;
    ///
    /// let verifier = PkceVerifier::from_random_bytes(&[0; 32]).unwrap();
    /// assert!(verifier.as_str().chars().all(|c| c == 'A'));
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

impl TryFrom<String> for PkceVerifier {
    type Error = PkceError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<PkceVerifier> for String {
    fn from(verifier: PkceVerifier) -> Self {
        verifier.0
    }
}

/// The `S256` `code_challenge`: base64url (no padding) of `SHA-256(ASCII(code_verifier))` (RFC 7636 §4.2).
///
/// ## Usage
///
/// ```
/// use oten_auth_core::pkce::code_challenge_from_digest;
///
/// let challenge = code_challenge_from_digest(&[0xff; 32]);
/// assert_eq!(challenge.len(), 43);
/// ```
pub fn code_challenge_from_digest(digest: &[u8; 32]) -> String {
    base64url::encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const RFC_RANDOM: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
        240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /// SHA-256 of the ASCII of [`RFC_VERIFIER`].
    const RFC_DIGEST: [u8; 32] = [
        19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8, 118, 168, 120, 173, 109, 241, 68, 86, 110,
        225, 137, 74, 203, 112, 249, 195,
    ];
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = PkceVerifier::from_random_bytes(&RFC_RANDOM).unwrap();
        assert_eq!(verifier.as_str(), RFC_VERIFIER);
        assert_eq!(code_challenge_from_digest(&RFC_DIGEST), RFC_CHALLENGE);
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(PkceVerifier::from_random_bytes(&[0; 31]), Err(PkceError::WrongEntropyLength(31)));
        assert_eq!(PkceVerifier::from_random_bytes(&[0; 32]).map(|v| v.as_str().len()), Ok(43));
        assert_eq!(PkceVerifier::from_random_bytes(&[0; 96]).map(|v| v.as_str().len()), Ok(128));
        assert_eq!(PkceVerifier::from_random_bytes(&[0; 97]), Err(PkceError::WrongEntropyLength(97)));
    }

    #[test]
    fn parse_checks_length_and_charset() {
        assert_eq!(PkceVerifier::parse("a".repeat(42)), Err(PkceError::WrongLength(42)));
        assert!(PkceVerifier::parse("a".repeat(43)).is_ok());
        assert!(PkceVerifier::parse("a".repeat(128)).is_ok());
        assert_eq!(PkceVerifier::parse("a".repeat(129)), Err(PkceError::WrongLength(129)));
        assert!(PkceVerifier::parse(format!("{}.~-_", "a".repeat(40))).is_ok());
        assert_eq!(PkceVerifier::parse(format!("{}+", "a".repeat(43))), Err(PkceError::InvalidCharacter));
        assert_eq!(PkceVerifier::parse(format!("{}=", "a".repeat(43))), Err(PkceError::InvalidCharacter));
    }

    #[test]
    fn debug_is_redacted() {
        let verifier = PkceVerifier::parse(RFC_VERIFIER).unwrap();
        let shown = format!("{verifier:?} {:?}", Some(&verifier));
        assert!(!shown.contains(RFC_VERIFIER));
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn serde_round_trip_validates() {
        let verifier = PkceVerifier::parse(RFC_VERIFIER).unwrap();
        let json = serde_json::to_string(&verifier).unwrap();
        assert_eq!(json, format!("\"{RFC_VERIFIER}\""));
        assert_eq!(serde_json::from_str::<PkceVerifier>(&json).unwrap(), verifier);
        assert!(serde_json::from_str::<PkceVerifier>("\"short\"").is_err());
    }
}
