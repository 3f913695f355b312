//! How long refreshes wait after passing failures, so an outage at the identity provider is not hammered.

/// First wait after a passing refresh failure, in ms; it doubles with each failure in a row.
pub const FIRST_BACKOFF_MS: i64 = 2_000;
/// Longest wait between refresh attempts after passing failures, in ms.
pub const MAX_BACKOFF_MS: i64 = 60_000;
/// Longest `Retry-After` believed, in seconds; a larger one is clamped so that a bogus header cannot stop
/// refreshes for hours.
pub const MAX_RETRY_AFTER_SECS: u32 = 300;

/// The wait before the next refresh attempt after `failures` passing failures in a row: 2 s, 4 s, 8 s, … up to
/// [`MAX_BACKOFF_MS`], or the server's `Retry-After` when that is longer (at most [`MAX_RETRY_AFTER_SECS`]).
///
/// Every refresh waits for it, on demand as well as in the background: during an outage, any number of API
/// calls in the window send no token request at all.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::backoff_ms;
/// assert_eq!(backoff_ms(1, None), 2_000);
/// assert_eq!(backoff_ms(3, None), 8_000);
/// assert_eq!(backoff_ms(30, None), 60_000);
/// assert_eq!(backoff_ms(1, Some(10)), 10_000);
/// assert_eq!(backoff_ms(1, Some(86_400)), 300_000);
/// ```
pub fn backoff_ms(failures: u32, retry_after_secs: Option<u32>) -> i64 {
    let doubled = FIRST_BACKOFF_MS.saturating_mul(1i64 << failures.saturating_sub(1).min(20)).min(MAX_BACKOFF_MS);
    let asked = i64::from(retry_after_secs.unwrap_or(0).min(MAX_RETRY_AFTER_SECS)) * 1000;
    doubled.max(asked)
}
