//! A JSON parse error as a typed cause that enums which must stay `Clone` and `Eq` can carry.

use std::fmt;
use std::sync::Arc;

/// A `serde_json` error, shared (`Arc`) so that the error enums carrying it stay `Clone`; two are equal when they
/// say the same thing.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::JsonError;
/// let e = JsonError::from(serde_json::from_str::<u8>("x").unwrap_err());
/// assert!(e.to_string().starts_with("expected value"));
/// assert!(e.inner().is_syntax());
/// ```
#[derive(Debug, Clone)]
pub struct JsonError(Arc<serde_json::Error>);

impl JsonError {
    /// The `serde_json` error itself.
    pub fn inner(&self) -> &serde_json::Error {
        &self.0
    }
}

impl From<serde_json::Error> for JsonError {
    fn from(e: serde_json::Error) -> Self {
        Self(Arc::new(e))
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for JsonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for JsonError {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for JsonError {}
