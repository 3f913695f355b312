//! `/session` (protected): the session as a picture. The access token's lifetime with the refresh point and a
//! countdown, this tab's refreshes as a timeline, the granted scopes, who the ID token says you are (its claims,
//! never the token), the other tabs of this app, the metrics, and "Refresh now" and "Sign out".

use super::lifetime_bar::{use_token_lifetime, LifetimeBar, Phase};
use super::metrics_panel::MetricsPanel;
use crate::clock::{time_of_day, use_now_ms};
use crate::refresh_history::{use_refresh_history, Outcome};
use leptos::prelude::*;
use oten_auth::core::SiblingTab;
use oten_auth::use_auth;

/// Where "Refresh now" stands.
#[derive(Debug, Clone, PartialEq)]
enum Manual {
    Idle,
    Running,
    Done(Result<(), String>),
}

fn outcome_class(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Renewed => "fill-ok",
        Outcome::FromAnotherTab => "fill-neutral",
        Outcome::Failed(_) => "fill-failed",
    }
}

fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Renewed => "renewed at the IdP".to_owned(),
        Outcome::FromAnotherTab => "new tokens from another tab".to_owned(),
        Outcome::Failed(why) => format!("failed: {why}"),
    }
}

/// The session page.
#[component]
pub fn SessionPage() -> impl IntoView {
    let auth = use_auth();
    let history = use_refresh_history();
    let manual = RwSignal::new(Manual::Idle);
    let refresh_now = move |_| {
        // Not `disabled` while it runs (the focus would drop from the button just pressed): a second press is ignored.
        if manual.get_untracked() == Manual::Running || auth.refreshing.get_untracked() {
            return;
        }
        let Some(session) = auth.session() else { return };
        manual.set(Manual::Running);
        leptos::task::spawn_local(async move {
            let result = session.manager().refresh().await.map(|_| ()).map_err(|e| e.to_string());
            let _ = manual.try_set(Manual::Done(result));
        });
    };
    // A refresh after a failed "Refresh now" is news: the failure notice goes.
    Effect::new(move |seen: Option<usize>| {
        let count = history.0.with(Vec::len);
        if seen.is_some_and(|seen| seen != count) {
            manual.set(Manual::Idle);
        }
        count
    });
    // What a screen reader hears: thresholds and outcomes as they happen, never the ticking countdown. Where the
    // token stands changes only when it crosses a threshold (due, expired), not with every tick.
    let now = use_now_ms();
    let lifetime = use_token_lifetime();
    let phase = Memo::new(move |_| lifetime.get().map_or(Phase::Fresh, |l| l.phase(now.get())));
    let announcement = move || {
        if auth.refreshing.get() {
            return "Refreshing the session…".to_owned();
        }
        if let Manual::Done(Err(why)) = manual.get() {
            return format!("The refresh failed: {why}");
        }
        match phase.get() {
            Phase::Expired => "The access token has expired; the next call renews it.".to_owned(),
            Phase::Due => "The access token is due for refresh.".to_owned(),
            Phase::Fresh => history.0.with(|h| match h.last().map(|r| &r.outcome) {
                Some(Outcome::Renewed) => "The session was refreshed.".to_owned(),
                Some(Outcome::FromAnotherTab) => "Another tab refreshed the session.".to_owned(),
                Some(Outcome::Failed(why)) => format!("A refresh failed: {why}. The session goes on."),
                None => String::new(),
            }),
        }
    };
    // The other open tabs of this app and who they are signed in as: asked once, when the session is ready
    // (`Some(None)`: tabs do not coordinate in this mode — the backend keeps the session).
    let other_tabs = RwSignal::new(None::<Option<Vec<SiblingTab>>>);
    Effect::new(move |asked: Option<bool>| {
        if asked == Some(true) {
            return true;
        }
        let Some(session) = auth.session() else { return false };
        if session.siblings().is_none() {
            other_tabs.set(Some(None));
            return true;
        }
        leptos::task::spawn_local(async move {
            let tabs = session.manager().sibling_tabs().await;
            let _ = other_tabs.try_set(Some(Some(tabs)));
        });
        true
    });
    let other_tabs_text = move || {
        let me = auth.user.get().map(|u| u.sub);
        match other_tabs.get() {
            None => "Asking the other tabs of this app…".to_owned(),
            Some(None) => {
                "This app does not coordinate its tabs (a backend keeps the session, or it was turned off).".to_owned()
            }
            Some(Some(tabs)) if tabs.is_empty() => "No other tab of this app is open in this browser.".to_owned(),
            Some(Some(tabs)) => {
                let mine = tabs.iter().filter(|t| t.sub.is_some() && t.sub == me).count();
                let shared = tabs.iter().filter(|t| t.same_session).count();
                let others = tabs.len() - mine;
                let tabs_word = |n: usize| if n == 1 { "tab" } else { "tabs" };
                let mut text = format!("{mine} other {} signed in as you", tabs_word(mine));
                if shared > 0 {
                    text.push_str(&format!(" ({shared} sharing this session and its refreshes)"));
                }
                if others > 0 {
                    text.push_str(&format!("; {others} more signed out or signed in as someone else"));
                }
                text.push('.');
                text
            }
        }
    };

    view! {
        <h1>"Session"</h1>
        <section class="card" aria-labelledby="token-title">
            <h2 id="token-title">"Access token"</h2>
            <LifetimeBar now/>
            <div class="actions">
                <button type="button" class="button primary" data-testid="refresh-now" on:click=refresh_now
                    aria-disabled=move || (manual.get() == Manual::Running || auth.refreshing.get()).to_string()>
                    {move || if manual.get() == Manual::Running { "Refreshing…" } else { "Refresh now" }}
                </button>
                <button type="button" class="button" data-testid="session-sign-out" on:click=move |_| crate::app::sign_out(auth)>
                    "Sign out"
                </button>
            </div>
            {move || match manual.get() {
                Manual::Done(Err(why)) => Some(view! {
                    <p class="notice" data-testid="refresh-now-failed">
                        {format!("The refresh failed: {why}. Your session goes on; try again in a moment.")}
                    </p>
                }),
                _ => None,
            }}
            <p class="visually-hidden" role="status" data-testid="session-announcement">{announcement}</p>
        </section>

        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">"Refreshes in this tab"</h2>
            {move || history.0.with(|h| {
                if h.is_empty() {
                    return view! { <p class="hint">"None yet: the token is renewed when the bar reaches its mark."</p> }
                        .into_any();
                }
                let dots = h
                    .iter()
                    .enumerate()
                    .map(|(i, r)| view! { <circle cx=(i * 14 + 7).to_string() cy="6" r="5" class=outcome_class(&r.outcome)/> })
                    .collect_view();
                let items = h
                    .iter()
                    .rev()
                    .map(|r| {
                        let failed = matches!(r.outcome, Outcome::Failed(_));
                        view! {
                            <li class:failed=failed><time>{time_of_day(r.at_ms)}</time>" "{outcome_text(&r.outcome)}</li>
                        }
                    })
                    .collect_view();
                view! {
                    <svg class="timeline" viewBox=format!("0 0 {} 12", h.len() * 14 + 2) aria-hidden="true">{dots}</svg>
                    <ol class="history" data-testid="refresh-history">{items}</ol>
                }
                .into_any()
            })}
        </section>

        <section class="card" aria-labelledby="scopes-title">
            <h2 id="scopes-title">"Granted scopes"</h2>
            <ul class="chips" data-testid="scopes">
                {move || auth.scopes.get().into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
            </ul>
        </section>

        <section class="card" aria-labelledby="claims-title">
            <h2 id="claims-title">"Who the ID token says you are"</h2>
            <p class="hint">"Its claims, checked at sign-in. The tokens themselves are never shown."</p>
            {move || auth.user.get().map(|u| {
                let when = |secs: i64| time_of_day(secs * 1000);
                view! {
                    <dl class="profile" data-testid="claims">
                        <dt>"Subject (sub)"</dt><dd>{u.sub.clone()}</dd>
                        <dt>"Name"</dt><dd>{u.name.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Email"</dt><dd>{u.email.clone().unwrap_or_else(|| "—".into())}
                            {u.email_verified.map(|v| if v { " (verified)" } else { " (not verified)" })}</dd>
                        <dt>"Username"</dt><dd>{u.preferred_username.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Signed in at"</dt><dd>{u.auth_time.map(when).unwrap_or_else(|| "—".into())}</dd>
                        <dt>"ID token issued at"</dt><dd>{when(u.iat)}</dd>
                    </dl>
                }
            })}
        </section>

        <section class="card" aria-labelledby="tabs-title">
            <h2 id="tabs-title">"Other tabs"</h2>
            <p data-testid="other-tabs">
                {other_tabs_text}
            </p>
        </section>

        <MetricsPanel/>
    }
}

#[cfg(test)]
mod tests {
    use super::SessionPage;
    use crate::refresh_history::provide_refresh_history;
    use crate::test_support::{mount_page, text_eventually};
    use leptos::prelude::*;
    use oten_auth::core::HttpResponse;
    use oten_auth::testing::MOCK_ACCESS_TOKEN;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn page() -> impl IntoView {
        provide_refresh_history();
        view! { <SessionPage/> }
    }

    #[wasm_bindgen_test]
    async fn the_session_is_drawn_without_ever_showing_a_token() {
        let (page, _mock) = mount_page("/session", |_| HttpResponse::new(500, ""), page);
        let text = text_eventually(&page, "Expires in").await;
        assert!(text.contains("refreshed in"), "{text}");
        for needle in ["openid", "profile", "Alice", "u1", "No refresh yet.", "No API call yet.", "None yet"] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        assert!(!page.inner_html().contains(MOCK_ACCESS_TOKEN), "never a token in the page");
        let bar = page.query_selector("[data-testid=lifetime-bar] svg").unwrap().unwrap();
        assert_eq!(bar.get_attribute("role").as_deref(), Some("img"));
        assert!(
            bar.get_attribute("aria-label").unwrap().contains("refreshed at 92%"),
            "a 1-hour token: 5 minutes before expiry"
        );
        let passed = page.query_selector(".bar-passed").unwrap().unwrap();
        let width: f64 = passed.get_attribute("width").unwrap().parse().unwrap();
        assert!((0.0..5.0).contains(&width), "a fresh token: the bar has barely started ({width})");
    }

    #[wasm_bindgen_test]
    async fn a_refresh_that_cannot_happen_says_so_and_the_session_goes_on() {
        let (page, mock) = mount_page("/session", |_| HttpResponse::new(500, ""), page);
        text_eventually(&page, "Expires in").await;
        let button = page.query_selector("[data-testid=refresh-now]").unwrap().unwrap();
        button.dyn_ref::<web_sys::HtmlElement>().unwrap().click();
        let text = text_eventually(&page, "The refresh failed").await;
        assert!(text.contains("try again in a moment"), "{text}");
        assert!(mock.auth().manager().is_signed_in(), "the session goes on");
    }
}
