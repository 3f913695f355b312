//! `/signed-out`: where the IdP sends the person after sign-out.

use leptos::prelude::*;
use oten_auth::core::routes::LOGIN_PATH;

/// The signed-out page.
#[component]
pub fn SignedOutPage() -> impl IntoView {
    view! {
        <section class="hero" data-testid="signed-out">
            <h1>"You are signed out"</h1>
            <p>"Your tokens were revoked and your Oten session has ended."</p>
            <a href=LOGIN_PATH class="button primary">"Sign in again"</a>
        </section>
    }
}
