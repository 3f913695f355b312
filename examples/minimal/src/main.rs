//! The smallest Leptos app that signs in to Oten and calls an API with `oten-auth`: one protected page showing the
//! API's profile of the signed-in person. Run it with `trunk serve --config examples/minimal/Trunk.toml` next to the
//! dev stack (`node dev/stack.mjs`), then open http://127.0.0.1:8080.

use leptos::error::Error;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, StaticSegment};
use oten_auth::core::routes::{CALLBACK_SEGMENT, LOGIN_SEGMENT, SIGNED_OUT_SEGMENT};
use oten_auth::{provide_auth_from_url, use_auth, use_user, AuthCallback, LoginRedirect, RequireAuth, UseAuth};
use serde::Deserialize;

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    provide_auth_from_url("/config.json");
    view! {
        <Router>
            <Routes fallback=|| "Not found">
                <Route path=path!("/") view=|| view! { <RequireAuth><Profile/></RequireAuth> }/>
                <Route path=StaticSegment(LOGIN_SEGMENT) view=LoginRedirect/>
                <Route path=StaticSegment(CALLBACK_SEGMENT) view=AuthCallback/>
                <Route path=StaticSegment(SIGNED_OUT_SEGMENT) view=|| view! { <a href="/">"Signed out. Sign in again"</a> }/>
            </Routes>
        </Router>
    }
}

/// The `app` section of `config.json`.
#[derive(Deserialize)]
struct Settings {
    api_base_url: String,
}

#[derive(Clone, Deserialize)]
struct ApiProfile {
    email: String,
}

async fn load_profile(auth: UseAuth) -> Result<ApiProfile, Error> {
    let Settings { api_base_url } = auth.app_settings().await?;
    Ok(auth.get_json(format!("{api_base_url}/api/user/profile")).await?)
}

#[component]
fn Profile() -> impl IntoView {
    let (auth, user) = (use_auth(), use_user());
    let profile = LocalResource::new(move || load_profile(auth));
    view! {
        <h1>"Hello, " {move || user.get().name.unwrap_or_default()}</h1>
        <Suspense fallback=|| "Loading…">
            <ErrorBoundary fallback=|errors| view! { {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect_view()} }>
                {move || profile.try_get().flatten().map(|p| p.map(|p| view! { <p>"Your email: " {p.email}</p> }))}
            </ErrorBoundary>
        </Suspense>
        <button on:click=move |_| auth.logout()>"Sign out"</button>
    }
}
