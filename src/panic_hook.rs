//! What the person sees when the app has a bug: a short notice instead of a page that silently stops.

use wasm_bindgen::JsCast;

/// Installs the app's panic hook: the message and place go to the console (tokens are redacted types, so no
/// message can carry one), and the page shows a notice with a way to reload. Call it first in `main`.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        web_sys::console::error_1(&format!("oten-spa stopped{place}: {message}").into());
        show_notice();
    }));
}

fn show_notice() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let (Some(body), Ok(notice)) = (document.body(), document.create_element("section")) else { return };
    notice.set_attribute("role", "alert").ok();
    notice.set_attribute("class", "notice").ok();
    notice.set_attribute("data-testid", "app-stopped").ok();
    notice.set_text_content(Some("Something went wrong in this page. Reload it to continue; you stay signed in."));
    if let Ok(element) = notice.dyn_into::<web_sys::HtmlElement>() {
        body.prepend_with_node_1(&element).ok();
    }
}
