//! The loop guard of `/login`, kept across page loads: why the last session ended, and whether signing in again
//! already failed to help.

use crate::end_reason::EndReason;
use serde::{Deserialize, Serialize};

/// A session that ends again within this time of a forced sign-in is not signed in again automatically (5 minutes).
pub const REPEAT_WINDOW_MS: i64 = 5 * 60 * 1000;

/// What `/login` should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginDecision {
    /// Go to the identity provider at once (nothing ended, or an interruption the person need not see).
    SignIn,
    /// Say why the session ended and sign in again on a click.
    Explain(EndReason),
    /// The session ended again soon after the last forced sign-in: signing in again would likely loop. Say what
    /// went wrong and offer to sign out (to use another account) or to try once more.
    RepeatedFailure(EndReason),
}

/// What the guard remembers; the browser keeps it in sessionStorage so it survives the redirects of a sign-in.
///
/// A sign-in loop (an API refuses every fresh token → `/login` → a silent sign-in at the IdP → back → refused …)
/// cannot form: an ended session's reason waits for a click, and a second forced sign-in within
/// [`REPEAT_WINDOW_MS`] shows the explanation instead.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{EndReason, LoginDecision, ReauthState};
/// let mut guard = ReauthState::default();
/// assert_eq!(guard.decide(), LoginDecision::SignIn);
/// guard.session_ended(EndReason::ApiRefused, 1_000);
/// assert_eq!(guard.decide(), LoginDecision::Explain(EndReason::ApiRefused));
/// guard.sign_in_started(2_000); // the person clicked "Sign in again"
/// assert_eq!(guard.decide(), LoginDecision::SignIn);
/// guard.session_ended(EndReason::ApiRefused, 60_000); // refused again a minute later
/// assert_eq!(guard.decide(), LoginDecision::RepeatedFailure(EndReason::ApiRefused));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReauthState {
    /// Why the last session ended, until a sign-in starts.
    #[serde(default)]
    pub reason: Option<EndReason>,
    /// When it ended (ms since epoch).
    #[serde(default)]
    pub ended_at: i64,
    /// When the last sign-in that followed an ended session started (ms since epoch).
    #[serde(default)]
    pub forced_at: Option<i64>,
}

impl ReauthState {
    /// Records that the session ended for `reason` at `now_ms`.
    pub fn session_ended(&mut self, reason: EndReason, now_ms: i64) {
        self.reason = Some(reason);
        self.ended_at = now_ms;
    }

    /// Records that a sign-in starts at `now_ms`; when it follows an ended session it counts as forced.
    pub fn sign_in_started(&mut self, now_ms: i64) {
        if self.reason.take().is_some() {
            self.forced_at = Some(now_ms);
        }
    }

    /// What `/login` should do now.
    pub fn decide(&self) -> LoginDecision {
        let Some(reason) = self.reason.clone() else { return LoginDecision::SignIn };
        let soon_after_forced = self.forced_at.is_some_and(|f| (0..REPEAT_WINDOW_MS).contains(&(self.ended_at - f)));
        if soon_after_forced {
            LoginDecision::RepeatedFailure(reason)
        } else if reason.needs_click() {
            LoginDecision::Explain(reason)
        } else {
            LoginDecision::SignIn
        }
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form; anything unreadable is a fresh state (never a crash, never a loop).
    pub fn from_json(text: &str) -> ReauthState {
        serde_json::from_str(text).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interruptions_sign_in_at_once_but_not_twice_in_a_row() {
        let mut g = ReauthState::default();
        g.session_ended(EndReason::Interrupted, 10);
        assert_eq!(g.decide(), LoginDecision::SignIn);
        g.sign_in_started(20);
        g.session_ended(EndReason::Interrupted, 20 + REPEAT_WINDOW_MS - 1);
        assert_eq!(g.decide(), LoginDecision::RepeatedFailure(EndReason::Interrupted));
        g.sign_in_started(30 + REPEAT_WINDOW_MS);
        g.session_ended(EndReason::Interrupted, 40 + 3 * REPEAT_WINDOW_MS);
        assert_eq!(g.decide(), LoginDecision::SignIn, "long after the last forced sign-in: at once again");
    }

    #[test]
    fn a_normal_sign_in_is_not_forced_and_bad_storage_is_a_fresh_state() {
        let mut g = ReauthState::default();
        g.sign_in_started(5);
        assert_eq!(g.forced_at, None);
        g.session_ended(EndReason::MaxAge, 6);
        assert_eq!(g.decide(), LoginDecision::Explain(EndReason::MaxAge));
        assert_eq!(ReauthState::from_json(&g.to_json()), g);
        for junk in ["", "{", "[]", r#"{"reason":"nope"}"#, "null"] {
            assert_eq!(ReauthState::from_json(junk).decide(), LoginDecision::SignIn, "{junk}");
        }
    }
}
