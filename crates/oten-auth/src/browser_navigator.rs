//! Moving the browser: `window.location`.

use oten_auth_core::Navigator;
use std::cell::Cell;

thread_local! {
    /// Set once this page has started to leave: the first navigation away wins.
    static LEAVING: Cell<bool> = const { Cell::new(false) };
}

/// Marks the page as leaving; `false` when it already was (the caller must not navigate again).
fn start_leaving() -> bool {
    !LEAVING.with(|l| l.replace(true))
}

/// The page is shown again (restored from the back-forward cache): it may navigate again.
pub(crate) fn page_shown_again() {
    LEAVING.with(|l| l.set(false));
}

/// Reads the current path from `location` and navigates with `location.assign` (a full page load, which is
/// what a sign-in redirect needs).
///
/// The first navigation away wins: when a session ends, the API client (sending the person to `/login`) and the
/// route guard (rendering `/login`, which starts a sign-in) may both want to move the page; two overlapping sign-ins
/// would overwrite each other's state. Later requests on the same page are ignored.
///
/// ## Usage
///
/// ```no_run
/// use oten_auth::BrowserNavigator;
/// use oten_auth_core::Navigator;
/// let here = BrowserNavigator.current_path(); // "/profile?tab=bio"
/// # let _ = here;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserNavigator;

impl Navigator for BrowserNavigator {
    fn current_path(&self) -> String {
        let Some(location) = web_sys::window().map(|w| w.location()) else { return "/".into() };
        let part = |r: Result<String, _>| r.unwrap_or_default();
        format!("{}{}{}", part(location.pathname()), part(location.search()), part(location.hash()))
    }

    fn go_to(&self, url: &str) {
        if let Some(window) = web_sys::window().filter(|_| start_leaving()) {
            let _ = window.location().assign(url);
        }
    }

    fn post_form(&self, action: &str, fields: &[(&str, &str)]) {
        if !start_leaving() {
            return;
        }
        if submit_form(action, fields).is_none() {
            // No DOM to build a form in: plain navigation, without the fields.
            if let Some(window) = web_sys::window() {
                let _ = window.location().assign(action);
            }
        }
    }
}

fn submit_form(action: &str, fields: &[(&str, &str)]) -> Option<()> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()?.document()?;
    let form: web_sys::HtmlFormElement = document.create_element("form").ok()?.dyn_into().ok()?;
    form.set_method("post");
    form.set_action(action);
    form.set_hidden(true);
    for (name, value) in fields {
        let input: web_sys::HtmlInputElement = document.create_element("input").ok()?.dyn_into().ok()?;
        input.set_type("hidden");
        input.set_name(name);
        input.set_value(value);
        form.append_child(&input).ok()?;
    }
    document.body()?.append_child(&form).ok()?;
    form.submit().ok()
}

/// Replaces the current history entry's URL without a reload (removes `code` and `state` after the callback).
pub(crate) fn replace_url(url: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
}

/// The current `location.origin`.
pub(crate) fn current_origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}
