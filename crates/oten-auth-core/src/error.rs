//! What can go wrong while keeping a session alive, and what each failure means.

use crate::oauth_error::OAuthErrorBody;
use crate::transport::TransportError;

/// A failure of the token manager or the API client.
///
/// Two families matter to the person using the app:
/// - [`AuthError::requires_reauth`]: the session is over (tokens already cleared); send them to sign in.
/// - [`AuthError::is_retryable`]: a passing problem (network, timeout, 5xx, malformed answer); tokens are
///   **kept** and a later call may succeed.
///
/// | failure | tokens | variant |
/// |---|---|---|
/// | `invalid_grant` / `invalid_client` / `unauthorized_client` | cleared | `SessionEnded` |
/// | network error, timeout | kept | `Network`, `Timeout` |
/// | 5xx or another HTTP error | kept | `Server` |
/// | malformed body | kept | `MalformedResponse` |
/// | no tokens, or expired without a refresh token | cleared | `NotSignedIn`, `SessionEnded` |
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{AuthError, OAuthErrorBody};
/// let e = AuthError::SessionEnded { oauth: OAuthErrorBody::parse(r#"{"error":"invalid_grant"}"#) };
/// assert!(e.requires_reauth() && !e.is_retryable());
/// assert_eq!(e.oauth().unwrap().error, "invalid_grant");
/// assert!(AuthError::Timeout.is_retryable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// There is no session.
    #[error("you are not signed in")]
    NotSignedIn,
    /// The IdP refused the refresh for good, or the session expired with no way to refresh it.
    #[error("your session has ended; please sign in again{}", describe(.oauth))]
    SessionEnded {
        /// The IdP's error, when it gave one.
        oauth: Option<OAuthErrorBody>,
    },
    /// The request did not reach the server.
    #[error("could not reach the server: {0}")]
    Network(String),
    /// The server did not answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The server answered with an error status that does not end the session (5xx, 429, …).
    #[error("the server answered HTTP {status}{}", describe(.oauth))]
    Server {
        /// HTTP status.
        status: u16,
        /// The OAuth error body, when there was one.
        oauth: Option<OAuthErrorBody>,
    },
    /// The server's answer could not be understood.
    #[error("the server's answer was malformed: {0}")]
    MalformedResponse(String),
    /// A refresh finished after a sign-out or a new sign-in; its result was thrown away.
    #[error("the session changed while the refresh was running")]
    Superseded,
}

fn describe(oauth: &Option<OAuthErrorBody>) -> String {
    oauth.as_ref().map(|o| format!(" ({o})")).unwrap_or_default()
}

impl AuthError {
    /// The person has to sign in again; tokens are already gone.
    pub fn requires_reauth(&self) -> bool {
        matches!(self, AuthError::NotSignedIn | AuthError::SessionEnded { .. })
    }

    /// A passing failure: tokens were kept and trying again later may work.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            AuthError::Network(_) | AuthError::Timeout | AuthError::Server { .. } | AuthError::MalformedResponse(_)
        )
    }

    /// The OAuth error (RFC 6749 §5.2) behind this failure, if any.
    pub fn oauth(&self) -> Option<&OAuthErrorBody> {
        match self {
            AuthError::SessionEnded { oauth } | AuthError::Server { oauth, .. } => oauth.as_ref(),
            _ => None,
        }
    }

    /// A short, bounded label for metrics (`invalid_grant`, `network`, `timeout`, `http_503`, …).
    ///
    /// ```
    /// use oten_auth_core::AuthError;
    /// assert_eq!(AuthError::Server { status: 503, oauth: None }.metric_label(), "http_5xx");
    /// ```
    pub fn metric_label(&self) -> &'static str {
        match self {
            AuthError::NotSignedIn => "not_signed_in",
            AuthError::SessionEnded { oauth: Some(o) } => match o.error.as_str() {
                "invalid_grant" => "invalid_grant",
                "invalid_client" => "invalid_client",
                "unauthorized_client" => "unauthorized_client",
                _ => "session_ended",
            },
            AuthError::SessionEnded { oauth: None } => "session_ended",
            AuthError::Network(_) => "network",
            AuthError::Timeout => "timeout",
            AuthError::Server { status, .. } if *status >= 500 => "http_5xx",
            AuthError::Server { .. } => "http_4xx",
            AuthError::MalformedResponse(_) => "malformed_response",
            AuthError::Superseded => "superseded",
        }
    }
}

impl From<TransportError> for AuthError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Network(m) => AuthError::Network(m),
            TransportError::Timeout => AuthError::Timeout,
        }
    }
}
