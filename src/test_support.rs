//! What the component tests share: an element to mount into, and a bounded wait for text to appear.

use wasm_bindgen::JsCast;

/// A fresh element in the test page's body.
pub fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let element: web_sys::HtmlElement = document.create_element("div").unwrap().dyn_into().unwrap();
    document.body().unwrap().append_child(&element).unwrap();
    element
}

/// Waits (at most a second) until `element`'s text contains `needle`, and returns the text.
pub async fn text_eventually(element: &web_sys::HtmlElement, needle: &str) -> String {
    for _ in 0..200 {
        let text = element.text_content().unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        gloo_timers::future::TimeoutFuture::new(5).await;
    }
    panic!("{needle:?} never appeared; the page shows {:?}", element.text_content());
}

/// Starts the executor Leptos' tasks run on (a mounted app starts it itself).
pub fn executor() {
    let _ = any_spawner::Executor::init_wasm_bindgen();
}
