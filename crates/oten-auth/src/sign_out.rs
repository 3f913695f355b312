//! Ending the session at the identity provider: going where [`oten_auth_core::end_session_request`] says.

use oten_auth_core::{EndSession, Navigator};

/// Sends the browser to end the session at the provider: a plain navigation for a GET (which carries no token), a
/// POST form for the POST binding (the `id_token_hint` travels in the body, never in the address bar or history).
pub(crate) fn end_idp_session(navigator: &dyn Navigator, end: EndSession) {
    match end {
        EndSession::Redirect(url) => navigator.go_to(&url),
        EndSession::FormPost { action, fields } => {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            navigator.post_form(&action, &fields);
        }
    }
}
