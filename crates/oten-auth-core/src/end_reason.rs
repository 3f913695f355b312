//! Why a session ended: shown to the person on `/login`, shared with sibling tabs, kept across page loads.

use crate::oauth_error::OAuthErrorBody;
use serde::{Deserialize, Serialize};

/// Why a session ended without the person signing out in this tab.
///
/// The text ([`std::fmt::Display`]) is written for the person using the app: it says what happened and, where
/// it helps, what to do. It never contains a token.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::EndReason;
/// let r = EndReason::MaxAge;
/// assert!(r.to_string().contains("maximum"));
/// assert!(r.ends_lineage() && r.needs_click());
/// assert!(!EndReason::Interrupted.needs_click());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// The identity provider refused the refresh token (`invalid_grant`, `invalid_client`, `unauthorized_client`).
    Refused {
        /// The provider's error, when it gave one.
        #[serde(default)]
        oauth: Option<OAuthErrorBody>,
    },
    /// The access token expired and there was no refresh token to renew it.
    Expired,
    /// An API refused the session even after a refresh.
    ApiRefused,
    /// The session reached its maximum age, counted from sign-in.
    MaxAge,
    /// The provider answered a refresh with tokens this client cannot use and no refresh token to go on with:
    /// the refresh token just presented was consumed, so the session cannot continue.
    UnusableAnswer {
        /// What was wrong with the answer.
        problem: String,
    },
    /// A refresh of this session was under way when its page was reloaded, closed or frozen, so whether the
    /// provider consumed its refresh token is unknown; another presentation could revoke the whole grant. The
    /// tab kept its access token while it was valid; a fresh sign-in continues.
    Interrupted,
    /// The person signed out, or started a new sign-in, in another tab or window.
    SignedOutElsewhere,
    /// The stored session was unreadable.
    Corrupt,
    /// The key the session's tokens are bound to (DPoP) is gone from this browser (site data cleared, or the key
    /// store unavailable): the tokens cannot be used without it.
    ProofKeyLost,
}

impl EndReason {
    /// Whether every tab sharing the session must end it too (its grant is dead, or was revoked).
    pub fn ends_lineage(&self) -> bool {
        !matches!(self, EndReason::Interrupted | EndReason::Corrupt | EndReason::Expired)
    }

    /// Whether `/login` should show the reason and wait for a click before signing in again. An interrupted
    /// refresh is not the person's concern: sign-in continues at once.
    pub fn needs_click(&self) -> bool {
        !matches!(self, EndReason::Interrupted)
    }

    /// A short, bounded label for metrics and tests.
    ///
    /// ```
    /// assert_eq!(oten_auth_core::EndReason::ApiRefused.label(), "api_refused");
    /// ```
    pub fn label(&self) -> &'static str {
        match self {
            EndReason::Refused { oauth: Some(o) } => match o.error.as_str() {
                "invalid_grant" => "invalid_grant",
                "invalid_client" => "invalid_client",
                "unauthorized_client" => "unauthorized_client",
                _ => "refused",
            },
            EndReason::Refused { oauth: None } => "refused",
            EndReason::Expired => "expired",
            EndReason::ApiRefused => "api_refused",
            EndReason::MaxAge => "max_age",
            EndReason::UnusableAnswer { .. } => "unusable_answer",
            EndReason::Interrupted => "interrupted",
            EndReason::SignedOutElsewhere => "signed_out_elsewhere",
            EndReason::Corrupt => "corrupt",
            EndReason::ProofKeyLost => "proof_key_lost",
        }
    }

    /// The provider's error behind this reason, if any.
    pub fn oauth(&self) -> Option<&OAuthErrorBody> {
        match self {
            EndReason::Refused { oauth } => oauth.as_ref(),
            _ => None,
        }
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::Refused { oauth: Some(o) } => {
                write!(f, "Your session has ended: the sign-in service no longer accepts it ({o}).")
            }
            EndReason::Refused { oauth: None } => f.write_str("Your session has ended: the sign-in service no longer accepts it."),
            EndReason::Expired => f.write_str("Your session has expired."),
            EndReason::ApiRefused => {
                f.write_str("The app's server refused your session, even with freshly issued tokens.")
            }
            EndReason::MaxAge => f.write_str("Your session reached its maximum age; please sign in again."),
            EndReason::UnusableAnswer { problem } => {
                write!(f, "Your session could not be renewed: the sign-in service sent an answer this app cannot use ({problem}).")
            }
            EndReason::Interrupted => {
                f.write_str("A renewal of your session was interrupted (the page was reloaded, closed or paused), so it is being started afresh.")
            }
            EndReason::SignedOutElsewhere => f.write_str("You signed out in another tab or window."),
            EndReason::Corrupt => f.write_str("Your saved session could not be read."),
            EndReason::ProofKeyLost => f.write_str(
                "Your session was tied to a key kept in this browser, and that key is gone (site data cleared?).",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_tagged_json_and_reads_as_text() {
        let reasons = [
            EndReason::Refused { oauth: OAuthErrorBody::parse(r#"{"error":"invalid_grant"}"#) },
            EndReason::Refused { oauth: None },
            EndReason::Expired,
            EndReason::ApiRefused,
            EndReason::MaxAge,
            EndReason::UnusableAnswer { problem: "no access_token".into() },
            EndReason::Interrupted,
            EndReason::SignedOutElsewhere,
            EndReason::Corrupt,
        ];
        for r in reasons {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<EndReason>(&json).unwrap(), r, "{json}");
            assert!(r.to_string().ends_with('.'), "{r}");
        }
        assert_eq!(
            EndReason::Refused { oauth: OAuthErrorBody::parse(r#"{"error":"invalid_grant"}"#) }.label(),
            "invalid_grant"
        );
        assert!(serde_json::from_str::<EndReason>(r#"{"nonsense":{}}"#).is_err());
    }
}
