//! `/profile` (protected): the API's profile of the signed-in person, loaded through the authenticated client.

use leptos::prelude::*;
use oten_auth::use_auth;
use serde::Deserialize;

/// The API's profile answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Profile {
    name: String,
    email: String,
    #[serde(default)]
    bio: String,
}

/// The profile page.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let profile = LocalResource::new(move || async move {
        let session = auth.auth().ok_or_else(|| "not ready".to_string())?;
        let base = session.config().api_base_url.clone().unwrap_or_else(|| "http://127.0.0.1:9001".into());
        session.client().get_json::<Profile>(&format!("{base}/api/user/profile")).await.map_err(|e| e.to_string())
    });
    view! {
        <h1>"Profile"</h1>
        <button class="button" data-testid="profile-reload" on:click=move |_| profile.refetch()>"Reload"</button>
        {move || match profile.get() {
            None => view! { <p data-testid="profile-loading">"Loading your profile…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="notice" role="alert" data-testid="profile-error">{e}</p> }.into_any(),
            Some(Ok(p)) => view! {
                <dl class="profile">
                    <dt>"Name"</dt><dd data-testid="profile-name">{p.name}</dd>
                    <dt>"Email"</dt><dd data-testid="profile-email">{p.email}</dd>
                    <dt>"Bio"</dt><dd data-testid="profile-bio">{p.bio}</dd>
                </dl>
            }
            .into_any(),
        }}
    }
}
