//! `/security` (protected): an answer the API gives only after a recent sign-in. When the sign-in is too old, the
//! API says so (`insufficient_user_authentication`) and the library asks the person to sign in again, then comes back.

use super::error_notice::ErrorNotice;
use crate::api;
use crate::clock::date_and_time;
use leptos::prelude::*;
use oten_auth::use_auth;

/// The security page.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let auth = use_auth();
    let security = LocalResource::new(move || api::security(auth));
    view! {
        <h1>"Security"</h1>
        <p>"This page needs a recent sign-in; if yours is older, you are asked to sign in again."</p>
        <Suspense fallback=|| view! { <p data-testid="security-loading">"Checking your sign-in…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors testid="security-error"/> }>
                // try_get: the answer may arrive after the page is gone (the session ended, the person left).
                {move || {
                    security.try_get().flatten().map(|result| result.map(|s| view! {
                        <dl class="profile">
                            <dt>"Signed in at"</dt>
                            <dd data-testid="security-auth-time">{date_and_time(s.auth_time * 1000)}</dd>
                            <dt>"Needed within"</dt>
                            <dd data-testid="security-max-age">{format!("{} s", s.max_age)}</dd>
                        </dl>
                    }))
                }}
            </ErrorBoundary>
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::SecurityPage;
    use crate::test_support::{mount_page, text_eventually};
    use oten_auth::core::HttpResponse;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    async fn a_recent_sign_in_shows_its_time() {
        let body = r#"{"sub":"u1","auth_time":1700000000,"max_age":300}"#;
        let (page, _mock) = mount_page("/security", move |_| HttpResponse::new(200, body), SecurityPage);
        let text = text_eventually(&page, "300 s").await;
        assert!(text.contains("2023"), "the sign-in time as a date: {text}");
    }

    #[wasm_bindgen_test]
    async fn an_api_asking_for_a_step_up_sends_to_sign_in_and_back_here() {
        let challenge = r#"Bearer error="insufficient_user_authentication", max_age="300""#;
        let (page, mock) = mount_page(
            "/security",
            move |_| HttpResponse::new(401, "").with_header("WWW-Authenticate", challenge),
            SecurityPage,
        );
        text_eventually(&page, "sign in again to continue").await;
        assert_eq!(mock.visits(), vec!["/login?return_to=%2Fsecurity&step_up=1&max_age=300".to_owned()]);
        assert!(mock.handle().is_signed_in(), "the session is kept until the new sign-in");
    }
}
