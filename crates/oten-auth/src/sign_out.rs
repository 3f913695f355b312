//! Ending the session at the IdP (OpenID Connect RP-Initiated Logout), without a token in any URL.

use oten_auth_core::IdToken;
use wasm_bindgen::JsCast;

/// Sends the browser to the end-session endpoint with a POST form: `client_id`, `post_logout_redirect_uri`
/// and, when known, `id_token_hint` travel in the body, never in the address bar or history. Falls back to
/// `location.assign(post_logout_redirect_uri)` if the form cannot be built.
pub fn end_idp_session(endpoint: &str, client_id: &str, post_logout_redirect_uri: &str, id_token: Option<&IdToken>) {
    let mut fields = vec![("client_id", client_id), ("post_logout_redirect_uri", post_logout_redirect_uri)];
    if let Some(t) = id_token {
        fields.push(("id_token_hint", t.expose()));
    }
    if post_form(endpoint, &fields).is_none() {
        if let Some(w) = web_sys::window() {
            let _ = w.location().assign(post_logout_redirect_uri);
        }
    }
}

fn post_form(action: &str, fields: &[(&str, &str)]) -> Option<()> {
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
