//! `examples/minimal` without its auth calls, for `scripts/bench`'s `library_gzip_bytes`: the same router, routes
//! and views, with the signed-in person, the API's answer and sign-out replaced by constants. The library's cost is
//! the difference between the two release builds. Keep it in step with `examples/minimal/src/main.rs`.

use leptos::error::Error;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, StaticSegment};

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| "Not found">
                <Route path=path!("/") view=|| view! { <Profile/> }/>
                <Route path=StaticSegment("login") view=|| "Signing in…"/>
                <Route path=StaticSegment("callback") view=|| "Finishing sign-in…"/>
                <Route path=StaticSegment("signed-out") view=|| view! { <a href="/">"Signed out. Sign in again"</a> }/>
            </Routes>
        </Router>
    }
}

#[derive(Clone)]
struct ApiProfile {
    email: String,
}

async fn load_profile() -> Result<ApiProfile, Error> {
    Ok(ApiProfile { email: String::from("alice@example.com") })
}

#[component]
fn Profile() -> impl IntoView {
    let user = RwSignal::new(Some(String::from("Alice")));
    let profile = LocalResource::new(load_profile);
    view! {
        <h1>"Hello, " {move || user.get().unwrap_or_default()}</h1>
        <Suspense fallback=|| "Loading…">
            <ErrorBoundary fallback=|errors| view! { {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect_view()} }>
                {move || profile.try_get().flatten().map(|p| p.map(|p| view! { <p>"Your email: " {p.email}</p> }))}
            </ErrorBoundary>
        </Suspense>
        <button on:click=move |_| user.set(None)>"Sign out"</button>
    }
}
