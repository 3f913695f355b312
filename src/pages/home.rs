//! `/`: what this is, and the session at a glance.

use super::session_panel::SessionPanel;
use leptos::prelude::*;
use oten_auth::core::routes::LOGIN_PATH;
use oten_auth::{use_auth, AuthProblem, AuthStatus};

/// The home page.
#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    move || match auth.status.get() {
        AuthStatus::Loading => view! { <p data-testid="auth-loading">"Loading…"</p> }.into_any(),
        AuthStatus::SigningOut => view! { <p data-testid="auth-signing-out">"Signing you out…"</p> }.into_any(),
        AuthStatus::Unavailable(reason) => view! { <AuthProblem message=reason.to_string()/> }.into_any(),
        AuthStatus::SignedOut => view! {
            <section class="hero">
                <h1>"Sign in with Oten"</h1>
                <p>"Authorization code with PKCE, tokens kept in this tab only, refreshed before they expire."</p>
                <a href=LOGIN_PATH class="button primary" data-testid="sign-in-main">"Sign in"</a>
            </section>
        }
        .into_any(),
        AuthStatus::SignedIn => view! {
            <section>
                <h1>"Welcome, " {move || auth.user.get().and_then(|u| u.name).unwrap_or_else(|| "there".into())}</h1>
                <SessionPanel/>
            </section>
        }
        .into_any(),
    }
}
