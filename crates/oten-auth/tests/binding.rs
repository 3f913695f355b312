//! The Leptos binding's guard rails.

mod support;

use leptos::prelude::*;
use oten_auth::{provide_auth, AuthStatus, PROVIDED_TWICE};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn a_second_provide_auth_on_one_page_is_refused_with_a_clear_error() {
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let owner = Owner::new();
    owner.with(|| {
        let first = provide_auth(support::config());
        let second = provide_auth(support::config());
        assert_eq!(first.status.get_untracked(), AuthStatus::Loading);
        assert_eq!(second.status.get_untracked(), AuthStatus::Unavailable(PROVIDED_TWICE.into()));
    });
    owner.cleanup();
    // Once the first provider is gone (an unmount), the page may provide again.
    let again = Owner::new();
    again.with(|| {
        assert_eq!(provide_auth(support::config()).status.get_untracked(), AuthStatus::Loading);
    });
    again.cleanup();
}
