//! When to refresh: a buffer ahead of expiry, clamped for short-lived tokens.

use crate::token_set::TokenSet;

/// Decides when an access token is due for refresh.
///
/// A token is due when its remaining lifetime is at most the *threshold*: the configured buffer (default five
/// minutes), but never more than half the token's lifetime. So a 20-second token is refreshed once, 10 s
/// before expiry, and a 5-minute token with a 5-minute buffer is refreshed after 2.5 minutes instead of on
/// every call (the seed's bug).
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{RefreshPolicy, TokenSet};
/// let policy = RefreshPolicy::default();
/// let t = TokenSet::parse_token_response(r#"{"access_token":"a","expires_in":20}"#, 0, None).unwrap();
/// assert_eq!(policy.threshold_ms(&t), 10_000);
/// assert!(!policy.needs_refresh(&t, 9_999));
/// assert!(policy.needs_refresh(&t, 10_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh this long before expiry (ms), at most.
    pub buffer_ms: i64,
}

/// How long before expiry a token is refreshed by default, at most (seconds); see [`RefreshPolicy`].
pub const DEFAULT_REFRESH_BUFFER_SECS: u32 = 300;

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self::with_buffer_secs(DEFAULT_REFRESH_BUFFER_SECS)
    }
}

impl RefreshPolicy {
    /// A policy with a buffer in seconds.
    ///
    /// ```
    /// assert_eq!(oten_auth_core::RefreshPolicy::with_buffer_secs(60).buffer_ms, 60_000);
    /// ```
    pub fn with_buffer_secs(secs: u32) -> Self {
        Self { buffer_ms: i64::from(secs) * 1000 }
    }

    /// How long before expiry this token is refreshed: `min(buffer, lifetime / 2)`.
    pub fn threshold_ms(&self, tokens: &TokenSet) -> i64 {
        self.buffer_ms.min(tokens.lifetime_ms() / 2).max(0)
    }

    /// The instant (ms since epoch) from which the token is due.
    pub fn refresh_at(&self, tokens: &TokenSet) -> i64 {
        tokens.expires_at - self.threshold_ms(tokens)
    }

    /// Whether the token is due at `now_ms`.
    pub fn needs_refresh(&self, tokens: &TokenSet, now_ms: i64) -> bool {
        now_ms >= self.refresh_at(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(lifetime_secs: i64) -> TokenSet {
        TokenSet::parse_token_response(&format!(r#"{{"access_token":"a","expires_in":{lifetime_secs}}}"#), 0, None)
            .unwrap()
    }

    #[test]
    fn expiry_boundary_one_ms_before_at_and_after() {
        let p = RefreshPolicy::default();
        let t = token(3600);
        let due = t.expires_at - 300_000;
        assert!(!p.needs_refresh(&t, due - 1));
        assert!(p.needs_refresh(&t, due));
        assert!(p.needs_refresh(&t, due + 1));
        assert!(!t.is_expired(t.expires_at - 1));
        assert!(t.is_expired(t.expires_at));
        assert!(t.is_expired(t.expires_at + 1));
    }

    #[test]
    fn short_tokens_are_clamped_to_half_their_lifetime() {
        let p = RefreshPolicy::default();
        assert_eq!(p.threshold_ms(&token(20)), 10_000);
        assert_eq!(p.threshold_ms(&token(300)), 150_000);
        assert_eq!(p.threshold_ms(&token(600)), 300_000);
        assert_eq!(p.threshold_ms(&token(3600)), 300_000);
        // A 5-minute token is fresh right after it arrives: no refresh on every call.
        assert!(!p.needs_refresh(&token(300), 1_000));
    }

    #[test]
    fn a_twenty_second_token_is_refreshed_once_per_lifetime() {
        let p = RefreshPolicy::default();
        let mut t = token(20);
        let mut refreshes = 0;
        // Simulate 200 s of calls every 100 ms; each refresh issues a new 20 s token.
        for now in (0..200_000).step_by(100) {
            if p.needs_refresh(&t, now) {
                refreshes += 1;
                t = TokenSet::parse_token_response(r#"{"access_token":"a","expires_in":20}"#, now, None).unwrap();
            }
        }
        assert_eq!(refreshes, 19, "one refresh every 10 s of a 20 s token");
    }
}
