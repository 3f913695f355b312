//! The test kit apps use (`oten_auth::testing`): the same signals and client as the real binding, API answers
//! from a closure, and the library's components rendering against it, all with no IdP.

use leptos::prelude::*;
use leptos_router::components::Router;
use oten_auth::core::id_token::IdTokenClaims;
use oten_auth::core::{ApiError, HttpResponse};
use oten_auth::testing::{
    provide_mock_auth, provide_mock_auth_with, provide_mock_signed_out, text_eventually, MOCK_ACCESS_TOKEN,
};
use oten_auth::{use_auth, use_user, AuthStatus, RequireAuth};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn alice() -> IdTokenClaims {
    IdTokenClaims::new("u-alice").with_name("Alice").with_email("alice@example.test")
}

fn executor() {
    let _ = any_spawner::Executor::init_wasm_bindgen();
}

/// A fresh element to mount into.
fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let element: web_sys::HtmlElement = document.create_element("div").unwrap().dyn_into().unwrap();
    document.body().unwrap().append_child(&element).unwrap();
    element
}

#[wasm_bindgen_test]
fn the_mock_serves_the_same_signals_as_the_real_binding() {
    executor();
    let owner = Owner::new();
    owner.with(|| {
        let mock = provide_mock_auth(alice(), &["openid", "profile"]);
        let auth = use_auth();
        assert_eq!(auth.status.get_untracked(), AuthStatus::SignedIn);
        assert_eq!(auth.user.get_untracked().and_then(|u| u.name), Some("Alice".into()));
        assert_eq!(auth.scopes.get_untracked(), vec!["openid".to_owned(), "profile".to_owned()]);
        assert!(auth.session().is_some(), "ready at once");
        let user = use_user();
        assert_eq!(user.get_untracked().sub, "u-alice");
        // Another tab signs out: the status follows, and use_user keeps the last user (no panic, no empty name).
        mock.end_session();
        assert_eq!(auth.status.get_untracked(), AuthStatus::SignedOut);
        assert_eq!(user.get_untracked().name.as_deref(), Some("Alice"));
        let why = auth.last_error.get_untracked().map(|e| e.to_string()).unwrap_or_default();
        assert!(why.contains("another tab"), "last_error says why, as after a real sibling's sign-out: {why}");
    });
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn api_requests_are_answered_by_the_closure_with_the_token_only_for_allowed_origins() {
    executor();
    let owner = Owner::new();
    let mock = owner.with(|| {
        provide_mock_auth_with(Some(alice()), &["openid"], &["https://api.test"]).answer(|request| {
            match request.url.as_str() {
                "https://api.test/me" => HttpResponse::new(200, r#"{"name":"Alice"}"#),
                _ => HttpResponse::new(404, "not here"),
            }
        })
    });
    let auth = mock.handle();
    let me: serde_json::Value = auth.get_json("https://api.test/me").await.unwrap();
    assert_eq!(me["name"], "Alice");
    let elsewhere = auth.get_json::<serde_json::Value>("https://cdn.test/file").await.unwrap_err();
    assert!(matches!(elsewhere.api(), Some(ApiError::Status { status: 404, .. })), "{elsewhere:?}");
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].header_value("authorization"), Some(format!("Bearer {MOCK_ACCESS_TOKEN}").as_str()));
    assert_eq!(sent[1].header_value("authorization"), None, "no token for an origin that is not allow-listed");
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn a_request_without_an_answer_says_how_to_give_one() {
    executor();
    let owner = Owner::new();
    let mock = owner.with(|| provide_mock_auth(alice(), &[]));
    let error = mock.handle().get_json::<serde_json::Value>("https://api.mock.test/x").await.unwrap_err();
    assert!(
        matches!(error.api(), Some(ApiError::Status { status: 501, body }) if body.contains("MockAuth::answer")),
        "{error:?}"
    );
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn sign_out_and_sign_in_are_recorded_instead_of_leaving_the_page() {
    executor();
    let owner = Owner::new();
    let mock = owner.with(|| provide_mock_auth(alice(), &["openid"]));
    let auth = mock.handle();
    auth.logout();
    for _ in 0..100 {
        if !mock.visits().is_empty() {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(5).await;
    }
    let visits = mock.visits();
    assert_eq!(visits.len(), 1, "{visits:?}");
    assert!(visits[0].starts_with("https://idp.mock.test/logout?"), "{visits:?}");
    assert!(!visits[0].contains(MOCK_ACCESS_TOKEN), "no token in the end-session URL");
    assert_eq!(auth.status.get_untracked(), AuthStatus::SigningOut);
    owner.cleanup();

    let owner = Owner::new();
    let mock = owner.with(provide_mock_signed_out);
    mock.handle().login("/profile");
    for _ in 0..100 {
        if !mock.visits().is_empty() {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(5).await;
    }
    let visits = mock.visits();
    assert!(visits[0].starts_with("https://idp.mock.test/authorize?"), "{visits:?}");
    assert!(visits[0].contains("code_challenge_method=S256"), "{visits:?}");
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn require_auth_renders_a_protected_page_for_the_mock_user() {
    executor();
    let element = container();
    let handle = leptos::mount::mount_to(element.clone(), || {
        let _mock = provide_mock_auth(alice(), &["openid"]);
        view! {
            <Router>
                <RequireAuth>
                    <Greeting/>
                </RequireAuth>
            </Router>
        }
    });
    let text = text_eventually(&element, "Hello, Alice").await;
    assert!(!text.contains("Restoring"), "{text}");
    drop(handle);
}

#[wasm_bindgen_test]
async fn session_events_that_change_nothing_do_not_rebuild_a_protected_page() {
    executor();
    let element = container();
    let built = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = built.clone();
    let slot = std::rc::Rc::new(std::cell::RefCell::new(None));
    let kept = slot.clone();
    let handle = leptos::mount::mount_to(element.clone(), move || {
        *kept.borrow_mut() = Some(provide_mock_auth(alice(), &["openid"]));
        let counter = counter.clone();
        view! {
            <Router>
                <RequireAuth>
                    {
                        let counter = counter.clone();
                        move || {
                            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            view! { <Greeting/> }
                        }
                    }
                </RequireAuth>
            </Router>
        }
    });
    text_eventually(&element, "Hello, Alice").await;
    let mock = slot.borrow_mut().take().unwrap();
    let before = built.load(std::sync::atomic::Ordering::Relaxed);
    // What a refresh brings: new tokens (a later expiry) for the same person; the status stays "signed in".
    let manager = mock.auth().manager();
    for n in 0..3 {
        let mut tokens = manager.tokens().unwrap();
        tokens.access_token = oten_auth::core::AccessToken::new(format!("renewed-{n}"));
        tokens.expires_at += 60_000;
        manager.sign_in(tokens).unwrap();
    }
    assert_eq!(mock.handle().expires_at.get_untracked(), manager.tokens().map(|t| t.expires_at));
    gloo_timers::future::TimeoutFuture::new(20).await;
    assert_eq!(built.load(std::sync::atomic::Ordering::Relaxed), before, "the protected page was not rebuilt");
    mock.end_session();
    text_eventually(&element, "Restoring").await;
    drop(handle);
}

#[component]
fn Greeting() -> impl IntoView {
    let user = use_user();
    view! { <p>"Hello, " {move || user.get().name.unwrap_or_default()}</p> }
}
