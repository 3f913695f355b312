//! What can go wrong while keeping a session alive, and what each failure means.

use crate::end_reason::EndReason;
use crate::oauth_error::OAuthErrorBody;
use crate::token_set::TokenResponseError;
use crate::transport::TransportError;

/// A failure of the token manager or the API client.
///
/// Two families matter to the person using the app:
/// - [`AuthError::requires_reauth`]: the session is over (tokens already cleared); send them to sign in.
/// - [`AuthError::is_retryable`]: a passing problem (network, timeout, 5xx, malformed error answer, a refresh
///   postponed); tokens are **kept** and a later call may succeed.
///
/// | failure | tokens | variant |
/// |---|---|---|
/// | `invalid_grant` / `invalid_client` / `unauthorized_client` | cleared | `SessionEnded` ([`EndReason::Refused`]) |
/// | network error, timeout | kept | `Network`, `Timeout` |
/// | 5xx, 429 or another HTTP error | kept | `Server` |
/// | malformed non-2xx body | kept | `Server` |
/// | 2xx body that cannot be used, with a new `refresh_token` | the new refresh token is taken | `MalformedResponse` |
/// | 2xx body that cannot be used, without one | cleared | `SessionEnded` ([`EndReason::UnusableAnswer`]) |
/// | refresh postponed (backoff, another tab holds newer tokens or has a request in flight) | kept | `Deferred` |
/// | no tokens, or expired without a refresh token | cleared | `NotSignedIn`, `SessionEnded` |
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{AuthError, EndReason, OAuthErrorBody};
/// let e = AuthError::SessionEnded { reason: EndReason::Refused { oauth: OAuthErrorBody::parse(r#"{"error":"invalid_grant"}"#) } };
/// assert!(e.requires_reauth() && !e.is_retryable());
/// assert_eq!(e.oauth().unwrap().error, "invalid_grant");
/// assert!(AuthError::Timeout.is_retryable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// There is no session.
    #[error("you are not signed in")]
    NotSignedIn,
    /// The session is over; the reason says why (shown on `/login`).
    #[error("{reason}")]
    SessionEnded {
        /// Why.
        reason: EndReason,
    },
    /// The request did not reach the server.
    #[error("could not reach the server: {0}")]
    Network(#[source] TransportError),
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
        /// `Retry-After` in seconds, when the server sent one.
        retry_after_secs: Option<u32>,
    },
    /// The server's 2xx answer could not be used.
    #[error("the server's answer was malformed: {0}")]
    MalformedResponse(#[source] TokenResponseError),
    /// No refresh was sent now; the tokens are kept.
    #[error(transparent)]
    Deferred(Deferral),
    /// A refresh finished after a sign-out or a new sign-in; its result was thrown away.
    #[error("the session changed while the refresh was running")]
    Superseded,
}

/// Why a refresh was not sent now (the tokens are kept and a later call may succeed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Deferral {
    /// Recent refreshes failed; the next one waits until `retry_at` (ms since epoch).
    #[error("the sign-in service failed recently; the session is renewed again shortly")]
    Backoff {
        /// When the next refresh may be sent.
        retry_at: i64,
    },
    /// Another tab holds newer tokens of this session and did not hand them over.
    #[error("another tab holds newer tokens of this session")]
    NewerTokensElsewhere,
    /// A refresh of this session may be on its way from another tab (or from this tab before a reload); its
    /// refresh token must not be presented a second time.
    #[error("a renewal of this session is already under way elsewhere")]
    InFlightElsewhere,
    /// The session has no refresh token; it lasts as long as its access token.
    #[error("this session cannot be renewed (no refresh token)")]
    NoRefreshToken,
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
            AuthError::Network(_)
                | AuthError::Timeout
                | AuthError::Server { .. }
                | AuthError::MalformedResponse(_)
                | AuthError::Deferred(_)
        )
    }

    /// The session-ending reason, if this error ended the session.
    pub fn end_reason(&self) -> Option<&EndReason> {
        match self {
            AuthError::SessionEnded { reason } => Some(reason),
            _ => None,
        }
    }

    /// The OAuth error (RFC 6749 §5.2) behind this failure, if any.
    pub fn oauth(&self) -> Option<&OAuthErrorBody> {
        match self {
            AuthError::SessionEnded { reason } => reason.oauth(),
            AuthError::Server { oauth, .. } => oauth.as_ref(),
            _ => None,
        }
    }

    /// A short, bounded label for metrics (`invalid_grant`, `network`, `timeout`, `http_5xx`, …).
    ///
    /// ```
    /// use oten_auth_core::AuthError;
    /// assert_eq!(AuthError::Server { status: 503, oauth: None, retry_after_secs: None }.metric_label(), "http_5xx");
    /// ```
    pub fn metric_label(&self) -> &'static str {
        match self {
            AuthError::NotSignedIn => "not_signed_in",
            AuthError::SessionEnded { reason } => reason.label(),
            AuthError::Network(_) => "network",
            AuthError::Timeout => "timeout",
            AuthError::Server { status, .. } if *status >= 500 => "http_5xx",
            AuthError::Server { .. } => "http_4xx",
            AuthError::MalformedResponse(_) => "malformed_response",
            AuthError::Deferred(Deferral::Backoff { .. }) => "deferred_backoff",
            AuthError::Deferred(Deferral::NewerTokensElsewhere) => "deferred_newer_elsewhere",
            AuthError::Deferred(Deferral::InFlightElsewhere) => "deferred_in_flight",
            AuthError::Deferred(Deferral::NoRefreshToken) => "deferred_no_refresh_token",
            AuthError::Superseded => "superseded",
        }
    }
}

impl From<TransportError> for AuthError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Timeout => AuthError::Timeout,
            other => AuthError::Network(other),
        }
    }
}
