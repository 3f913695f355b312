//! Why a document (the provider's metadata, its keys, the app's configuration) could not be fetched.

use crate::json_error::JsonError;
use crate::transport::TransportError;

/// Why a document could not be fetched and read.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{FetchError, TransportError};
/// assert_eq!(FetchError::Status(404).to_string(), "the server answered HTTP 404");
/// assert_eq!(FetchError::from(TransportError::Timeout).to_string(), "the request timed out");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No HTTP answer.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// An answer that is not 2xx.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// A 2xx answer that is not the JSON document expected.
    #[error("the answer is not the expected JSON document: {0}")]
    Malformed(#[source] JsonError),
}
