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

#[cfg(test)]
mod tests {
    use super::ProfilePage;
    use crate::test_support::{container, executor, text_eventually};
    use leptos::prelude::*;
    use leptos_router::components::Router;
    use oten_auth::core::{id_token::IdTokenClaims, HttpResponse};
    use oten_auth::testing::{provide_mock_auth_with, MockAuth, MOCK_ACCESS_TOKEN};
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const API: &str = "https://api.test";

    /// Mounts the profile page over a mock session whose API answers with `status` and `body`.
    fn mount(settings: Option<serde_json::Value>, status: u16, body: &'static str) -> (web_sys::HtmlElement, MockAuth) {
        executor();
        let element = container();
        let mock = Rc::new(RefCell::new(None));
        let kept = mock.clone();
        let handle = leptos::mount::mount_to(element.clone(), move || {
            let user = IdTokenClaims::new("u1").with_name("Alice");
            let mut m = provide_mock_auth_with(Some(user), &["openid", "profile"], &[API])
                .answer(move |_| HttpResponse::new(status, body));
            if let Some(settings) = settings.clone() {
                m = m.app_settings(settings);
            }
            *kept.borrow_mut() = Some(m);
            view! { <Router><ProfilePage/></Router> }
        });
        handle.forget();
        let mock = mock.borrow_mut().take().unwrap();
        (element, mock)
    }

    #[wasm_bindgen_test]
    async fn shows_the_profile_the_api_returns() {
        let body = r#"{"name":"Alice Liddell","email":"alice@example.test","bio":"Curious"}"#;
        let (page, mock) = mount(Some(serde_json::json!({ "api_base_url": API })), 200, body);
        let text = text_eventually(&page, "Alice Liddell").await;
        assert!(text.contains("alice@example.test") && text.contains("Curious"), "{text}");
        let sent = mock.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, "https://api.test/api/user/profile");
        assert_eq!(sent[0].header_value("authorization"), Some(format!("Bearer {MOCK_ACCESS_TOKEN}").as_str()));
    }

    #[wasm_bindgen_test]
    async fn an_api_failure_is_a_readable_message() {
        let (page, _mock) = mount(Some(serde_json::json!({ "api_base_url": API })), 503, "down");
        text_eventually(&page, "the API answered HTTP 503").await;
    }

    #[wasm_bindgen_test]
    async fn a_missing_api_base_url_names_the_setting_and_sends_nothing() {
        let (page, mock) = mount(None, 200, "{}");
        let text = text_eventually(&page, "api_base_url").await;
        assert!(text.contains("config.json: app"), "{text}");
        assert!(mock.requests().is_empty());
    }
}
