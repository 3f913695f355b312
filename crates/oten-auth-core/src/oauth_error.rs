//! The OAuth 2.0 error response body (RFC 6749 §5.2).

use serde::{Deserialize, Serialize};

/// `error`, `error_description` and `error_uri` of an OAuth error answer.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::OAuthErrorBody;
/// let e = OAuthErrorBody::parse(r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#).unwrap();
/// assert_eq!(e.error, "invalid_grant");
/// assert_eq!(e.to_string(), "invalid_grant: grant request is invalid");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    /// The error code, such as `invalid_grant`.
    pub error: String,
    /// Human-readable text from the server; show it as text, never as HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// A page about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
}

impl OAuthErrorBody {
    /// Parses an error body; `None` when the body is not JSON or has no string `error`.
    pub fn parse(body: &str) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        let object = value.as_object()?;
        let error = object.get("error")?.as_str()?.to_owned();
        if error.is_empty() {
            return None;
        }
        let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        Some(Self { error, error_description: text("error_description"), error_uri: text("error_uri") })
    }

    /// Whether this error means the grant is gone for good: the person must sign in again.
    ///
    /// ```
    /// use oten_auth_core::OAuthErrorBody;
    /// let e = OAuthErrorBody { error: "invalid_client".into(), error_description: None, error_uri: None };
    /// assert!(e.ends_session());
    /// ```
    pub fn ends_session(&self) -> bool {
        matches!(self.error.as_str(), "invalid_grant" | "invalid_client" | "unauthorized_client")
    }
}

impl std::fmt::Display for OAuthErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error_description {
            Some(d) => write!(f, "{}: {}", self.error, d),
            None => f.write_str(&self.error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_real_error_bodies() {
        assert!(OAuthErrorBody::parse("<html>").is_none());
        assert!(OAuthErrorBody::parse(r#"{"error":42}"#).is_none());
        assert!(OAuthErrorBody::parse(r#"["error"]"#).is_none());
        assert!(OAuthErrorBody::parse(r#"{"error":""}"#).is_none());
        let e = OAuthErrorBody::parse(r#"{"error":"invalid_request","error_description":7}"#).unwrap();
        assert_eq!(e.error_description, None);
    }
}
