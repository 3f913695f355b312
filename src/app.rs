//! The root component: auth provided once, the router, the layout.

use crate::pages::{HomePage, NotFound, ProfilePage, SignedOutPage};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;
use oten_auth::{provide_auth_from_url, use_auth, AuthCallback, LoginRedirect, RequireAuth};

/// The app: configuration from `/config.json`, so one build serves the local IdP, Oten's sandbox and production.
#[component]
pub fn App() -> impl IntoView {
    provide_auth_from_url("/config.json");
    view! {
        <Router>
            <Header/>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/login") view=LoginRedirect/>
                    <Route path=path!("/callback") view=AuthCallback/>
                    <Route path=path!("/signed-out") view=SignedOutPage/>
                    <Route path=path!("/profile") view=|| view! { <RequireAuth><ProfilePage/></RequireAuth> }/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="top">
            <A href="/">"Oten sign-in"</A>
            <nav>
                <A href="/profile">"Profile"</A>
                <Show
                    when=move || auth.is_signed_in()
                    fallback=|| view! { <a href="/login" class="button" data-testid="sign-in">"Sign in"</a> }
                >
                    <span class="who" data-testid="user-name">
                        {move || auth.user.get().and_then(|u| u.name.or(u.email)).unwrap_or_default()}
                    </span>
                    <button class="button" data-testid="sign-out" on:click=move |_| auth.logout()>"Sign out"</button>
                </Show>
            </nav>
        </header>
    }
}
