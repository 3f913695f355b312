//! The access token's lifetime as a bar: how much of it has passed, where the refresh comes, and a countdown.

use crate::clock::duration_text;
use leptos::prelude::*;
use oten_auth::use_auth;

/// When the current access token was received, is due for refresh and expires (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lifetime {
    received: i64,
    refresh_at: i64,
    expires: i64,
}

/// Where the access token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Fresh,
    Due,
    Expired,
}

/// The current access token's lifetime, re-read whenever the token changes (not with every tick).
pub(crate) fn use_token_lifetime() -> Memo<Option<Lifetime>> {
    let auth = use_auth();
    Memo::new(move |_| {
        auth.expires_at.track();
        let session = auth.session()?;
        let manager = session.manager();
        let expires = auth.expires_at.get_untracked()?;
        let received = manager.tokens()?.stored_at;
        Some(Lifetime { received, refresh_at: manager.refresh_due_at().unwrap_or(expires), expires })
    })
}

impl Lifetime {
    /// Where the token stands at `now`.
    pub(crate) fn phase(&self, now: i64) -> Phase {
        match now {
            t if t >= self.expires => Phase::Expired,
            t if t >= self.refresh_at => Phase::Due,
            _ => Phase::Fresh,
        }
    }

    /// Where `at` falls on the bar, in hundredths of a percent (0 to 10,000): integers, so that no float formatting
    /// code is linked in for it.
    fn hundredths(&self, at: i64) -> i64 {
        let span = (self.expires - self.received).max(1);
        ((at - self.received).clamp(0, span) * 10_000) / span
    }
}

/// Hundredths of a percent as an SVG length on a 0–100 axis ("12.34").
pub(crate) fn svg_length(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// The bar and its countdown; re-read whenever the token changes, and moving with `now` (the page's one ticking
/// clock, [`crate::clock::use_now_ms`]).
#[component]
pub fn LifetimeBar(now: ReadSignal<i64>) -> impl IntoView {
    let auth = use_auth();
    let lifetime = use_token_lifetime();
    let passed = move || lifetime.get().map_or(0, |l| l.hundredths(now.get()));
    let refresh_mark = move || lifetime.get().map_or(10_000, |l| l.hundredths(l.refresh_at));
    let due = move || lifetime.get().is_some_and(|l| l.phase(now.get()) != Phase::Fresh);
    let countdown = move || match lifetime.get() {
        None => "No access token.".to_owned(),
        Some(l) => {
            let now = now.get();
            let expires = format!("Expires in {}", duration_text(l.expires - now));
            if auth.refreshing.get() {
                format!("{expires} · refreshing now…")
            } else if now >= l.refresh_at {
                format!("{expires} · refresh due")
            } else {
                format!("{expires} · refreshed in {}", duration_text(l.refresh_at - now))
            }
        }
    };
    let label = move || {
        let percent = |hundredths: i64| (hundredths + 50) / 100;
        format!(
            "Access token lifetime: {}% passed; it is refreshed at {}%.",
            percent(passed()),
            percent(refresh_mark())
        )
    };
    view! {
        <div class="lifetime" data-testid="lifetime-bar">
            <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=label>
                <rect class="bar-track" x="0" y="2" width="100" height="6" rx="1"/>
                <rect class="bar-passed" class:due=due x="0" y="2" height="6" rx="1" width=move || svg_length(passed())/>
                <line class="bar-refresh" y1="0" y2="10" x1=move || svg_length(refresh_mark())
                    x2=move || svg_length(refresh_mark())/>
            </svg>
            <p class="countdown" data-testid="countdown">{countdown}</p>
        </div>
    }
}
