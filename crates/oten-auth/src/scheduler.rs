//! Background refresh: checks the wall clock every few seconds, so a refresh still fires after a sleep.

use crate::auth::Auth;
use std::cell::Cell;
use std::rc::Rc;

/// How often the scheduler looks at the clock.
pub const CHECK_INTERVAL_MS: u32 = 2_000;
/// First wait after a passing refresh failure; doubles up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 2_000;
/// Longest wait between retries after passing failures.
pub const MAX_BACKOFF_MS: i64 = 60_000;

/// The wait before the next background try after `failures` passing failures in a row.
///
/// ```
/// use oten_auth::scheduler::backoff_ms;
/// assert_eq!(backoff_ms(1), 2_000);
/// assert_eq!(backoff_ms(3), 8_000);
/// assert_eq!(backoff_ms(30), 60_000);
/// ```
pub fn backoff_ms(failures: u32) -> i64 {
    FIRST_BACKOFF_MS.saturating_mul(1i64 << failures.saturating_sub(1).min(20)).min(MAX_BACKOFF_MS)
}

/// Starts refreshing `auth`'s token in the background when it is due, with backoff after passing failures.
/// A timer that checks a timestamp (rather than one long timeout) survives sleep and throttled tabs. A refresh
/// that is pending but has lost every caller (a dropped task) is driven to completion, so its rotated refresh
/// token is stored. Dropping the returned timer stops it.
///
/// ## Usage
///
/// ```no_run
/// # async fn demo(auth: oten_auth::Auth) {
/// let timer = oten_auth::scheduler::start_background_refresh(auth);
/// // … keep `timer` alive as long as the session should be kept fresh …
/// drop(timer);
/// # }
/// ```
pub fn start_background_refresh(auth: Auth) -> gloo_timers::callback::Interval {
    let next_try_at = Rc::new(Cell::new(0i64));
    let failures = Rc::new(Cell::new(0u32));
    let driving = Rc::new(Cell::new(false));
    gloo_timers::callback::Interval::new(CHECK_INTERVAL_MS, move || {
        let manager = auth.manager().clone();
        if manager.is_refreshing() {
            if !driving.replace(true) {
                let driving = driving.clone();
                leptos::task::spawn_local(async move {
                    let _ = manager.refresh().await;
                    driving.set(false);
                });
            }
            return;
        }
        let now = manager.clock().now_ms();
        let due = manager.refresh_due_at();
        if due.is_none_or(|d| now < d) || now < next_try_at.get() {
            return;
        }
        if !manager.can_refresh() {
            // Without a refresh token the session lasts as long as the access token: let the manager end it
            // once it has expired, and never before.
            if manager.tokens().is_some_and(|t| t.is_expired(now)) {
                leptos::task::spawn_local(async move {
                    let _ = manager.get_valid_access_token().await;
                });
            }
            return;
        }
        let (next_try_at, failures) = (next_try_at.clone(), failures.clone());
        leptos::task::spawn_local(async move {
            match manager.refresh().await {
                Err(e) if e.is_retryable() => {
                    failures.set(failures.get() + 1);
                    next_try_at.set(manager.clock().now_ms() + backoff_ms(failures.get()));
                }
                _ => failures.set(0),
            }
        });
    })
}
