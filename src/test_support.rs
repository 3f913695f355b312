//! What the component tests share: an element to mount into, and the kit's bounded wait for text to appear.

use leptos::prelude::*;
use leptos_router::components::Router;
use oten_auth::core::{id_token::IdTokenClaims, HttpRequest, HttpResponse};
pub use oten_auth::testing::text_eventually;
use oten_auth::testing::{provide_mock_auth_with, MockAuth};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;

/// The API origin of the component tests.
pub const API: &str = "https://api.test";

/// Mounts `page` (under a router) over a mock session of Alice at `path`, with `app.api_base_url` = [`API`] and
/// the API answering from `answer`. Returns the element it is mounted in and the mock.
pub fn mount_page<V: IntoView + 'static>(
    path: &str,
    answer: impl Fn(&HttpRequest) -> HttpResponse + 'static,
    page: impl Fn() -> V + Send + Sync + 'static,
) -> (web_sys::HtmlElement, MockAuth) {
    mount_page_with(path, Some(serde_json::json!({ "api_base_url": API })), answer, page)
}

/// [`mount_page`] with the app's settings given (`None`: no `app` section).
pub fn mount_page_with<V: IntoView + 'static>(
    path: &str,
    settings: Option<serde_json::Value>,
    answer: impl Fn(&HttpRequest) -> HttpResponse + 'static,
    page: impl Fn() -> V + Send + Sync + 'static,
) -> (web_sys::HtmlElement, MockAuth) {
    executor();
    let element = container();
    let slot = Rc::new(RefCell::new(None));
    let kept = slot.clone();
    let path = path.to_owned();
    let handle = leptos::mount::mount_to(element.clone(), move || {
        let user = IdTokenClaims::new("u1").with_name("Alice");
        let mut mock = provide_mock_auth_with(Some(user), &["openid", "profile"], &[API]).answer(answer).at_path(&path);
        if let Some(settings) = settings {
            mock = mock.app_settings(settings);
        }
        *kept.borrow_mut() = Some(mock);
        view! { <Router>{page()}</Router> }
    });
    handle.forget();
    let mock = slot.borrow_mut().take().expect("mounted");
    (element, mock)
}

/// A fresh element in the test page's body.
pub fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let element: web_sys::HtmlElement = document.create_element("div").unwrap().dyn_into().unwrap();
    document.body().unwrap().append_child(&element).unwrap();
    element
}

/// Starts the executor Leptos' tasks run on (a mounted app starts it itself).
pub fn executor() {
    let _ = any_spawner::Executor::init_wasm_bindgen();
}
