//! The Leptos binding against the local dev stack: one provider per page, readiness that code can wait on,
//! reactive session access, the options, and typed reasons when sign-in cannot work.

mod support;

use leptos::prelude::*;
use oten_auth::{
    provide_auth, provide_auth_from_url, provide_auth_with_options, try_use_auth, AuthStatus, AuthUnavailable,
    ProvideAuthOptions,
};
use oten_auth_core::{MemoryStore, TokenSet};
use std::rc::Rc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn executor() {
    let _ = any_spawner::Executor::init_wasm_bindgen();
}

#[wasm_bindgen_test]
fn a_second_provide_auth_on_one_page_is_refused_with_a_clear_error() {
    executor();
    let owner = Owner::new();
    owner.with(|| {
        let first = provide_auth(support::config());
        let second = provide_auth(support::config());
        assert_eq!(first.status.get_untracked(), AuthStatus::Loading);
        assert_eq!(second.status.get_untracked(), AuthStatus::Unavailable(AuthUnavailable::ProvidedTwice));
        let message = AuthUnavailable::ProvidedTwice.to_string();
        assert!(message.contains("call it once, at the root"), "{message}");
    });
    owner.cleanup();
    // Once the first provider is gone (an unmount), the page may provide again.
    let again = Owner::new();
    again.with(|| {
        assert_eq!(provide_auth(support::config()).status.get_untracked(), AuthStatus::Loading);
    });
    again.cleanup();
}

#[wasm_bindgen_test]
fn try_use_auth_outside_a_provider_is_none_and_inside_is_the_handle() {
    executor();
    let owner = Owner::new();
    owner.with(|| {
        assert!(try_use_auth().is_none());
        let provided = provide_auth(support::config());
        let found = try_use_auth().expect("the handle below the provider");
        assert_eq!(found.status.get_untracked(), provided.status.get_untracked());
    });
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn code_waiting_for_readiness_gets_the_session_and_reactive_readers_rerun() {
    executor();
    let owner = Owner::new();
    let (auth, ready_seen) = owner.with(|| {
        let store = Rc::new(MemoryStore::default());
        let options = ProvideAuthOptions::default().store(store).background_refresh(false).coordinate_tabs(false);
        let auth = provide_auth_with_options(support::config(), options);
        // A memo that read the session before it was ready runs again once it is (no `None` that never updates).
        let ready_seen = Memo::new(move |_| auth.session().is_some());
        (auth, ready_seen)
    });
    assert!(!ready_seen.get_untracked());
    let session = auth.ready().await.expect("the session against the local IdP");
    assert_eq!(auth.status.get_untracked(), AuthStatus::SignedOut);
    assert!(ready_seen.get_untracked(), "the memo reran when the session became ready");
    assert!(!session.manager().is_signed_in());
    // The store given in the options is the one the session uses.
    let tokens = TokenSet::parse_token_response(r#"{"access_token":"at","expires_in":3600}"#, 0, None).unwrap();
    session.manager().sign_in(tokens).unwrap();
    assert_eq!(auth.status.get_untracked(), AuthStatus::SignedIn);
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn a_configuration_that_cannot_be_loaded_is_a_typed_reason_not_a_hang() {
    executor();
    let owner = Owner::new();
    let auth = owner.with(|| provide_auth_from_url("http://127.0.0.1:8099/no-such-config.json"));
    let reason = auth.ready().await.err().expect("no session without a configuration");
    assert!(matches!(reason, AuthUnavailable::Config(_)), "{reason:?}");
    assert!(reason.to_string().contains("no-such-config.json") || reason.to_string().contains("404"), "{reason}");
    assert_eq!(auth.status.get_untracked(), AuthStatus::Unavailable(reason));
    // The API helpers say so instead of waiting forever.
    assert!(auth.get_json::<serde_json::Value>(format!("{}/api/user/profile", support::API)).await.is_err());
    owner.cleanup();
}
