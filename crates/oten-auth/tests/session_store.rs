//! The sessionStorage store in a real browser.

use oten_auth::SessionStorageStore;
use oten_auth_core::testing::FakeTransport;
use oten_auth_core::{AuthError, ManagerConfig, Metrics, StoreError, TokenManager, TokenSet, TokenStore};
use std::rc::Rc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn storage() -> web_sys::Storage {
    web_sys::window().unwrap().session_storage().unwrap().unwrap()
}

fn sample() -> TokenSet {
    TokenSet::parse_token_response(
        r#"{"access_token":"at","refresh_token":"rt","expires_in":600,"scope":"openid"}"#,
        1_700_000_000_000,
        None,
    )
    .unwrap()
}

#[wasm_bindgen_test]
fn round_trip_under_one_key() {
    let store = SessionStorageStore::with_key("test.round_trip");
    store.clear().unwrap();
    assert_eq!(store.load().unwrap(), None);
    store.save(&sample()).unwrap();
    let raw = storage().get_item("test.round_trip").unwrap().unwrap();
    assert!(raw.contains("\"access_token\":\"at\""));
    assert_eq!(store.load().unwrap(), Some(sample()));
    store.clear().unwrap();
    assert_eq!(storage().get_item("test.round_trip").unwrap(), None);
    assert_eq!(SessionStorageStore::default().load().map(|_| ()), Ok(()), "the default key is readable");
}

#[wasm_bindgen_test]
fn corrupt_or_hand_edited_data_is_an_error_not_a_panic() {
    let store = SessionStorageStore::with_key("test.corrupt");
    for raw in
        ["{", "null", "[]", r#"{"v":1,"access_token":{"x":1}}"#, &sample().to_storage_json().replace("600", "\"soon\"")]
    {
        storage().set_item("test.corrupt", raw).unwrap();
        assert!(matches!(store.load(), Err(StoreError::Corrupt(_))), "{raw}");
    }
}

#[wasm_bindgen_test]
async fn the_manager_clears_corrupt_storage_and_is_signed_out() {
    storage().set_item("test.manager_corrupt", "{\"v\":1,\"access_token\":").unwrap();
    let manager = TokenManager::new(
        ManagerConfig::new("http://127.0.0.1:9000/v1/oauth/token", "spa-dev"),
        Rc::new(oten_auth::BrowserClock),
        Rc::new(SessionStorageStore::with_key("test.manager_corrupt")),
        Rc::new(FakeTransport::default()),
        Metrics::default(),
    );
    assert_eq!(manager.get_valid_access_token().await, Err(AuthError::NotSignedIn));
    assert_eq!(storage().get_item("test.manager_corrupt").unwrap(), None);
}
