//! The root component: auth provided once, the router, the layout.

use crate::clock::provide_clock;
use crate::pages::{HomePage, NotFound, ProfilePage, SecurityPage, SessionPage, SignedOutPage};
use crate::refresh_history::provide_refresh_history;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, StaticSegment};
use oten_auth::core::routes::{CALLBACK_SEGMENT, LOGIN_PATH, LOGIN_SEGMENT, SIGNED_OUT_SEGMENT};
use oten_auth::{provide_auth_from_url, use_auth, AuthCallback, LoginRedirect, RequireAuth, UseAuth};

/// The app: configuration from `/config.json`, so one build serves the local IdP, Oten's sandbox and production.
/// The auth routes come from the library's constants (`oten_auth::core::routes`): the configured `redirect_uri`
/// is checked against them when the configuration loads.
#[component]
pub fn App() -> impl IntoView {
    provide_auth_from_url("/config.json");
    provide_refresh_history();
    provide_clock();
    view! {
        <Router>
            <Header/>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=StaticSegment(LOGIN_SEGMENT) view=LoginRedirect/>
                    <Route path=StaticSegment(CALLBACK_SEGMENT) view=AuthCallback/>
                    <Route path=StaticSegment(SIGNED_OUT_SEGMENT) view=SignedOutPage/>
                    <Route path=path!("/profile") view=|| view! { <RequireAuth><ProfilePage/></RequireAuth> }/>
                    <Route path=path!("/session") view=|| view! { <RequireAuth><SessionPage/></RequireAuth> }/>
                    <Route path=path!("/security") view=|| view! { <RequireAuth><SecurityPage/></RequireAuth> }/>
                </Routes>
            </main>
        </Router>
    }
}

/// Signs out, forgetting what the app kept for this person in the tab (an unsaved profile draft).
pub(crate) fn sign_out(auth: UseAuth) {
    crate::profile_draft::clear();
    auth.logout();
}

#[component]
fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="top">
            <A href="/">"Oten sign-in"</A>
            <nav>
                <A href="/profile">"Profile"</A>
                <A href="/session">"Session"</A>
                <A href="/security">"Security"</A>
                <Show
                    when=move || auth.is_signed_in()
                    fallback=|| view! { <a href=LOGIN_PATH class="button" data-testid="sign-in">"Sign in"</a> }
                >
                    <span class="who" data-testid="user-name">
                        {move || auth.user.get().and_then(|u| u.name.or(u.email)).unwrap_or_default()}
                    </span>
                    <button class="button" data-testid="sign-out" on:click=move |_| sign_out(auth)>"Sign out"</button>
                </Show>
            </nav>
        </header>
    }
}
