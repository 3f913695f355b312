//! `/profile` (protected): the API's profile of the signed-in person.

use super::error_notice::ErrorNotice;
use crate::api;
use leptos::prelude::*;
use oten_auth::use_auth;

/// The profile page.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let profile = LocalResource::new(move || api::profile(auth));
    view! {
        <h1>"Profile"</h1>
        <button class="button" data-testid="profile-reload" on:click=move |_| profile.refetch()>"Reload"</button>
        <Suspense fallback=|| view! { <p data-testid="profile-loading">"Loading your profile…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors testid="profile-error"/> }>
                {move || Suspend::new(async move {
                    profile.await.map(|p| view! {
                        <dl class="profile">
                            <dt>"Name"</dt><dd data-testid="profile-name">{p.name}</dd>
                            <dt>"Email"</dt><dd data-testid="profile-email">{p.email}</dd>
                            <dt>"Bio"</dt><dd data-testid="profile-bio">{p.bio}</dd>
                        </dl>
                    })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}
