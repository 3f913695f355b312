//! Ending the session at the identity provider (OpenID Connect RP-Initiated Logout 1.0), with no token in a URL.

use crate::config::AuthConfig;
use crate::discovery::ProviderMetadata;
use crate::form::form_encode;
use crate::secret::IdToken;
use serde::{Deserialize, Serialize};

/// How the end-session request is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndSessionMethod {
    /// A GET with `client_id` and `post_logout_redirect_uri` (RP-Initiated Logout 1.0 §2). Every provider takes it;
    /// without `id_token_hint` the provider may ask the person to confirm. No token in the URL.
    #[default]
    Get,
    /// A POST form that also carries `id_token_hint` (no confirmation), for providers that accept the POST binding.
    Post,
}

/// Where the browser goes to end the session at the provider.
#[derive(Clone, PartialEq, Eq)]
pub enum EndSession {
    /// Navigate to this URL.
    Redirect(String),
    /// Submit a POST form to `action` with these fields.
    FormPost {
        /// The end-session endpoint.
        action: String,
        /// The form fields (`id_token_hint` among them: never put them in a URL).
        fields: Vec<(String, String)>,
    },
}

impl std::fmt::Debug for EndSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndSession::Redirect(url) => f.debug_tuple("Redirect").field(url).finish(),
            EndSession::FormPost { action, fields } => f
                .debug_struct("FormPost")
                .field("action", action)
                .field("fields", &fields.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// The end-session request for `method`, or `None` when the provider has no end-session endpoint (then the app
/// goes to its `post_logout_redirect_uri` itself). A GET never carries the ID token.
///
/// ```
/// use oten_auth_core::{end_session_request, AuthConfig, EndSession, EndSessionMethod, IdToken, ProviderMetadata};
/// let config = AuthConfig::from_json(r#"{"issuer":"https://idp.test","client_id":"spa","endpoints":{
///   "authorization_endpoint":"https://idp.test/a","token_endpoint":"https://idp.test/t","jwks_uri":"https://idp.test/j",
///   "end_session_endpoint":"https://idp.test/logout"}}"#).unwrap().with_app_origin("https://app.test");
/// let meta = ProviderMetadata::from_config(&config).unwrap();
/// let hint = IdToken::new("h.e.y");
/// let get = end_session_request(&meta, &config, Some(&hint), EndSessionMethod::Get).unwrap();
/// assert_eq!(get, EndSession::Redirect(
///     "https://idp.test/logout?client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fapp.test%2Fsigned-out".into()));
/// let EndSession::FormPost { fields, .. } = end_session_request(&meta, &config, Some(&hint), EndSessionMethod::Post).unwrap()
/// else { panic!() };
/// assert!(fields.iter().any(|(k, v)| k == "id_token_hint" && v == "h.e.y"));
/// ```
pub fn end_session_request(
    meta: &ProviderMetadata,
    config: &AuthConfig,
    id_token: Option<&IdToken>,
    method: EndSessionMethod,
) -> Option<EndSession> {
    let endpoint = meta.end_session_endpoint.as_deref()?;
    let mut fields = vec![
        ("client_id".to_owned(), config.client_id.clone()),
        ("post_logout_redirect_uri".to_owned(), config.post_logout_redirect_uri.clone()),
    ];
    Some(match method {
        EndSessionMethod::Get => {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let separator = if endpoint.contains('?') { '&' } else { '?' };
            EndSession::Redirect(format!("{endpoint}{separator}{}", form_encode(&pairs)))
        }
        EndSessionMethod::Post => {
            if let Some(hint) = id_token {
                fields.push(("id_token_hint".to_owned(), hint.expose().to_owned()));
            }
            EndSession::FormPost { action: endpoint.to_owned(), fields }
        }
    })
}
