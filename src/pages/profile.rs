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
                // try_get: the answer may arrive after the page is gone (the session ended, the person left).
                {move || {
                    profile.try_get().flatten().map(|result| result.map(|p| view! {
                        <dl class="profile">
                            <dt>"Name"</dt><dd data-testid="profile-name">{p.name}</dd>
                            <dt>"Email"</dt><dd data-testid="profile-email">{p.email}</dd>
                            <dt>"Bio"</dt><dd data-testid="profile-bio">{p.bio}</dd>
                        </dl>
                    }))
                }}
            </ErrorBoundary>
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::ProfilePage;
    use crate::test_support::{mount_page, mount_page_with, text_eventually};
    use oten_auth::core::HttpResponse;
    use oten_auth::testing::MOCK_ACCESS_TOKEN;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    async fn shows_the_profile_the_api_returns() {
        let body = r#"{"name":"Alice Liddell","email":"alice@example.test","bio":"Curious"}"#;
        let (page, mock) = mount_page("/profile", move |_| HttpResponse::new(200, body), ProfilePage);
        let text = text_eventually(&page, "Alice Liddell").await;
        assert!(text.contains("alice@example.test") && text.contains("Curious"), "{text}");
        let sent = mock.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, "https://api.test/api/user/profile");
        assert_eq!(sent[0].header_value("authorization"), Some(format!("Bearer {MOCK_ACCESS_TOKEN}").as_str()));
    }

    #[wasm_bindgen_test]
    async fn an_api_failure_is_a_readable_message() {
        let (page, _mock) = mount_page("/profile", |_| HttpResponse::new(503, "down"), ProfilePage);
        text_eventually(&page, "the API answered HTTP 503").await;
    }

    #[wasm_bindgen_test]
    async fn a_missing_api_base_url_names_the_setting_and_sends_nothing() {
        let (page, mock) = mount_page_with("/profile", None, |_| HttpResponse::new(200, "{}"), ProfilePage);
        let text = text_eventually(&page, "api_base_url").await;
        assert!(text.contains("config.json: configuration field `app`"), "{text}");
        assert!(mock.requests().is_empty());
    }
}
