//! Ending the session at the IdP (OpenID Connect RP-Initiated Logout), without a token in any URL.

use oten_auth_core::{IdToken, Navigator};

/// Sends the browser to the end-session endpoint with a POST form: `client_id`, `post_logout_redirect_uri`
/// and, when known, `id_token_hint` travel in the body, never in the address bar or history.
///
/// ## Usage
///
/// ```no_run
/// use oten_auth::{end_idp_session, BrowserNavigator};
/// end_idp_session(&BrowserNavigator, "https://account.oten.com/v1/oauth/logout", "my-spa", "https://app.test/signed-out", None);
/// ```
pub fn end_idp_session(
    navigator: &dyn Navigator,
    endpoint: &str,
    client_id: &str,
    post_logout_redirect_uri: &str,
    id_token: Option<&IdToken>,
) {
    let mut fields = vec![("client_id", client_id), ("post_logout_redirect_uri", post_logout_redirect_uri)];
    if let Some(t) = id_token {
        fields.push(("id_token_hint", t.expose()));
    }
    navigator.post_form(endpoint, &fields);
}
