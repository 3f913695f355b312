//! The injected source of time.

/// Wall-clock time in milliseconds since the Unix epoch.
///
/// The core never reads a clock of its own: the browser crate implements this over `Date.now()`, tests over
/// a [`crate::testing::FakeClock`] they can move by hand.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::Clock;
/// struct Fixed;
/// impl Clock for Fixed {
///     fn now_ms(&self) -> i64 { 1_700_000_000_000 }
/// }
/// assert_eq!(Fixed.now_ms() / 1000, 1_700_000_000);
/// ```
pub trait Clock {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> i64;
}
