//! The background check: every few seconds, and at once when the page becomes visible, is restored from the
//! back-forward cache, comes back online, or sees the wall clock jump (a laptop that slept).

use crate::auth::Auth;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// How often the scheduler looks at the clock (ms).
pub(crate) const CHECK_INTERVAL_MS: u32 = 2_000;
/// A difference between wall-clock and monotonic time beyond this between two checks is a clock jump (ms).
pub(crate) const CLOCK_JUMP_MS: f64 = 5_000.0;

/// Whether the wall clock jumped between two readings, given how far it moved and how far the monotonic clock
/// moved: a sleep (the wall clock ran, `performance.now()` did not) or a clock change either way.
pub(crate) fn clock_jumped(wall_delta_ms: f64, monotonic_delta_ms: f64) -> bool {
    (wall_delta_ms - monotonic_delta_ms).abs() > CLOCK_JUMP_MS
}

/// A listener on a DOM event target, removed when dropped.
struct Listener {
    target: web_sys::EventTarget,
    event: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    fn new(
        target: web_sys::EventTarget,
        event: &'static str,
        on: impl FnMut(web_sys::Event) + 'static,
    ) -> Option<Self> {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(on);
        target.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref()).ok()?;
        Some(Self { target, event, callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(self.event, self.callback.as_ref().unchecked_ref());
    }
}

/// The running background check; dropping it stops the timer and removes the listeners.
#[must_use = "the background check stops when this handle is dropped"]
pub struct BackgroundRefresh {
    _timer: gloo_timers::callback::Interval,
    _listeners: Vec<Listener>,
}

/// Runs [`oten_auth_core::TokenManager::maintain`] at most once at a time.
#[derive(Clone)]
struct Checker {
    auth: Auth,
    running: Rc<Cell<bool>>,
}

impl Checker {
    fn check(&self) {
        if self.running.replace(true) {
            return;
        }
        let (manager, running) = (self.auth.manager().clone(), self.running.clone());
        wasm_bindgen_futures::spawn_local(async move {
            manager.maintain().await;
            running.set(false);
        });
    }

    /// After a return from the back-forward cache the siblings may have moved on: look at the shared record again.
    fn resume(&self) {
        let (manager, checker) = (self.auth.manager().clone(), self.clone());
        wasm_bindgen_futures::spawn_local(async move {
            manager.start().await;
            checker.check();
        });
    }
}

fn monotonic_now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Starts the background check of `auth`'s session: refreshes a due token (with the manager's backoff after
/// failures), counts an expired token once, and ends a session past its maximum age or expired beyond renewal.
///
/// It runs every 2 s — a timer that compares timestamps survives sleep and throttling — and at
/// once on `visibilitychange` (visible), `pageshow` (also from the back-forward cache), `online` (which also ends a
/// backoff), and when the wall clock jumps. A token that expired during a sleep is thus renewed at wake-up, and an
/// API call made before that renewal waits for the same refresh.
///
/// ## Usage
///
/// ```no_run
/// # async fn demo(auth: oten_auth::Auth) {
/// let background = oten_auth::start_background_refresh(auth);
/// // … keep it alive as long as the session should be kept fresh …
/// drop(background);
/// # }
/// ```
pub fn start_background_refresh(auth: Auth) -> BackgroundRefresh {
    let checker = Checker { auth: auth.clone(), running: Rc::new(Cell::new(false)) };
    let last = Rc::new(Cell::new((js_sys::Date::now(), monotonic_now())));
    let on_tick = checker.clone();
    let timer = gloo_timers::callback::Interval::new(CHECK_INTERVAL_MS, move || {
        let now = (js_sys::Date::now(), monotonic_now());
        let (wall, mono) = last.replace(now);
        if clock_jumped(now.0 - wall, now.1 - mono) {
            // Backoff deadlines are wall-clock instants: after a jump they mean nothing.
            on_tick.auth.manager().reset_backoff();
        }
        on_tick.check();
    });
    let mut listeners = Vec::new();
    if let Some(window) = web_sys::window() {
        let document = window.document();
        let target: web_sys::EventTarget = window.clone().into();
        if let Some(document) = document {
            let on_visible = checker.clone();
            let doc = document.clone();
            listeners.extend(Listener::new(document.into(), "visibilitychange", move |_| {
                if doc.visibility_state() == web_sys::VisibilityState::Visible {
                    on_visible.check();
                }
            }));
        }
        let on_show = checker.clone();
        listeners.extend(Listener::new(target.clone(), "pageshow", move |event| {
            let persisted = event.dyn_ref::<web_sys::PageTransitionEvent>().is_some_and(|e| e.persisted());
            if persisted {
                crate::browser_navigator::page_shown_again();
                on_show.resume();
            } else {
                on_show.check();
            }
        }));
        let on_online = checker.clone();
        listeners.extend(Listener::new(target, "online", move |_| {
            on_online.auth.manager().reset_backoff();
            on_online.check();
        }));
    }
    checker.check();
    BackgroundRefresh { _timer: timer, _listeners: listeners }
}
