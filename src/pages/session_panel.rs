//! A live picture of the session: expiry, refreshes, API usage.

use super::lifetime_bar::LifetimeBar;
use crate::clock::{duration_text, use_now_ms};
use leptos::prelude::*;
use leptos_router::components::A;
use oten_auth::use_auth;

/// Token expiry, refresh state and the metrics counters.
#[component]
pub fn SessionPanel() -> impl IntoView {
    let auth = use_auth();
    let now = use_now_ms();
    let remaining = move || auth.expires_at.get().map(|at| duration_text(at - now.get()));
    view! {
        <LifetimeBar now/>
        <dl class="session" data-testid="session-panel">
            <dt>"Access token expires in"</dt>
            <dd data-testid="expires-in">{move || remaining().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Refreshing"</dt>
            <dd data-testid="refreshing">{move || if auth.refreshing.get() { "yes" } else { "no" }}</dd>
            <dt>"Refreshes"</dt>
            <dd data-testid="refresh-count">{move || auth.metrics.with(|m| m.refresh_success)}</dd>
            <dt>"Failed refreshes"</dt>
            <dd data-testid="refresh-failures">{move || auth.metrics.with(|m| m.refresh_failures())}</dd>
            <dt>"API calls"</dt>
            <dd data-testid="api-calls">{move || auth.metrics.with(|m| m.api_calls())}</dd>
            <dt>"Expired tokens seen"</dt>
            <dd data-testid="expirations">{move || auth.metrics.with(|m| m.expirations)}</dd>
        </dl>
        {move || auth.last_error.get().map(|e| view! { <p class="notice" data-testid="last-error">{e.to_string()}</p> })}
        <p><A href="/session">"The whole session, refreshes and metrics"</A></p>
    }
}
