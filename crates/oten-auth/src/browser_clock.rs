//! The wall clock of the browser.

use oten_auth_core::Clock;

/// `Date.now()`: wall-clock time, so a token's expiry is judged right even after the laptop slept.
///
/// ## Usage
///
/// ```no_run
/// use oten_auth::BrowserClock;
/// use oten_auth_core::Clock;
/// assert!(BrowserClock.now_ms() > 1_600_000_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserClock;

impl Clock for BrowserClock {
    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }
}
