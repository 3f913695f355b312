//! Runtime configuration (`public/config.json`): one build serves every environment.

use crate::origin::{is_loopback, origin_of, OriginAllowList};
use serde::Serialize;
use serde_json::{Map, Value};

/// Scopes asked for when the configuration names none.
pub const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Endpoints given explicitly; each one overrides discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndpointOverrides {
    /// Authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// Token endpoint.
    pub token_endpoint: Option<String>,
    /// Revocation endpoint (RFC 7009).
    pub revocation_endpoint: Option<String>,
    /// End-session endpoint (RP-initiated logout).
    pub end_session_endpoint: Option<String>,
    /// The issuer's key set.
    pub jwks_uri: Option<String>,
}

/// The app's sign-in configuration, read at runtime.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::AuthConfig;
/// let c = AuthConfig::from_json(r#"{
///     "issuer": "https://account.sbx.oten.dev",
///     "client_id": "my-spa",
///     "api_origins": ["https://api.example.test"]
/// }"#).unwrap().with_app_origin("https://app.example.test");
/// assert_eq!(c.redirect_uri, "https://app.example.test/callback");
/// assert_eq!(c.scope(), "openid profile email offline_access");
/// assert!(c.api_origins.allows("https://api.example.test/me"));
///
/// let e = AuthConfig::from_json(r#"{"issuer": "https://x.test", "client_id": 5}"#).unwrap_err();
/// assert_eq!(e.field(), Some("client_id"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The OpenID provider's issuer identifier.
    pub issuer: String,
    /// The public client's id.
    pub client_id: String,
    /// Where the IdP sends the person back (default `<app origin>/callback`).
    pub redirect_uri: String,
    /// Where the IdP sends the person after sign-out (default `<app origin>/signed-out`).
    pub post_logout_redirect_uri: String,
    /// Scopes to ask for; always includes `openid`.
    pub scopes: Vec<String>,
    /// Origins that may receive the access token.
    pub api_origins: OriginAllowList,
    /// Refresh this many seconds before expiry at most (default 300).
    pub refresh_buffer_secs: u32,
    /// Clock leeway for ID token times, in seconds (default 60).
    pub id_token_leeway_secs: u32,
    /// Explicit endpoints.
    pub endpoints: EndpointOverrides,
    /// Base URL of the app's API (used by the reference app's pages).
    pub api_base_url: Option<String>,
    /// How long a request may take before it is aborted, in ms (default 15 000).
    pub request_timeout_ms: u32,
    /// The longest session, counted from sign-in, in seconds (default 30 days; 0: no limit).
    pub max_session_age_secs: u32,
    /// Whether a tab opened without a session joins one a sibling tab holds, and a signed-out tab joins a sibling's
    /// new sign-in (default true).
    pub join_sibling_tabs: bool,
    /// How sign-out ends the session at the provider (default GET, which every provider takes).
    pub end_session_method: crate::end_session::EndSessionMethod,
}

/// The request timeout when the configuration names none (ms).
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 15_000;

/// A configuration that cannot be used; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file is not a JSON object.
    #[error("the configuration is not a valid JSON object: {0}")]
    NotJson(String),
    /// A field is missing or wrong.
    #[error("configuration field `{field}`: {reason}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A field that does not exist (often a typo).
    #[error("unknown configuration field `{0}`")]
    Unknown(String),
}

impl ConfigError {
    /// The field at fault, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::Field { field, .. } => Some(field),
            ConfigError::Unknown(f) => Some(f),
            ConfigError::NotJson(_) => None,
        }
    }
}

const FIELDS: [&str; 14] = [
    "issuer",
    "client_id",
    "redirect_uri",
    "post_logout_redirect_uri",
    "scopes",
    "api_origins",
    "refresh_buffer_secs",
    "id_token_leeway_secs",
    "endpoints",
    "api_base_url",
    "request_timeout_ms",
    "max_session_age_secs",
    "join_sibling_tabs",
    "end_session_method",
];
const ENDPOINT_FIELDS: [&str; 5] =
    ["authorization_endpoint", "token_endpoint", "revocation_endpoint", "end_session_endpoint", "jwks_uri"];

fn field_error(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Field { field, reason: reason.into() }
}

fn string(map: &Map<String, Value>, field: &'static str) -> Result<Option<String>, ConfigError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        Some(Value::String(_)) => Err(field_error(field, "must not be empty")),
        Some(_) => Err(field_error(field, "must be a string")),
    }
}

/// An endpoint URL must be https, or http on a loopback host (local development).
pub(crate) fn check_endpoint_url(field: &'static str, url: &str) -> Result<(), ConfigError> {
    let origin = origin_of(url).ok_or_else(|| field_error(field, format!("{url:?} is not an absolute http(s) URL")))?;
    if origin.starts_with("http://") && !is_loopback(&origin) {
        return Err(field_error(field, format!("{url:?} must use https (plain http only on loopback)")));
    }
    Ok(())
}

fn number(
    map: &Map<String, Value>,
    field: &'static str,
    default: u32,
    range: (u32, u32),
    unit: &str,
) -> Result<u32, ConfigError> {
    let (min, max) = range;
    match map.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_u64() {
            Some(n) if (u64::from(min)..=u64::from(max)).contains(&n) => Ok(n as u32),
            _ => Err(field_error(field, format!("must be a whole number of {unit} from {min} to {max}"))),
        },
    }
}

fn boolean(map: &Map<String, Value>, field: &'static str, default: bool) -> Result<bool, ConfigError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(field_error(field, "must be true or false")),
    }
}

impl AuthConfig {
    /// Parses and checks `config.json`. Redirect URIs left out are filled by [`AuthConfig::with_app_origin`].
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::NotJson(e.to_string()))?;
        let map = value.as_object().ok_or_else(|| ConfigError::NotJson("expected an object".into()))?;
        if map.contains_key("client_secret") {
            return Err(field_error("client_secret", "a browser app is a public client and must not have a secret"));
        }
        if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str()) && !k.starts_with('_')) {
            return Err(ConfigError::Unknown(unknown.clone()));
        }
        let issuer = string(map, "issuer")?.ok_or_else(|| field_error("issuer", "is required"))?;
        check_endpoint_url("issuer", &issuer)?;
        let client_id = string(map, "client_id")?.ok_or_else(|| field_error("client_id", "is required"))?;
        let redirect_uri = string(map, "redirect_uri")?.unwrap_or_default();
        if !redirect_uri.is_empty() {
            check_endpoint_url("redirect_uri", &redirect_uri)?;
        }
        let post_logout_redirect_uri = string(map, "post_logout_redirect_uri")?.unwrap_or_default();
        if !post_logout_redirect_uri.is_empty() {
            check_endpoint_url("post_logout_redirect_uri", &post_logout_redirect_uri)?;
        }
        let scopes = match map.get("scopes") {
            None | Some(Value::Null) => DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|s| match s.as_str() {
                    Some(s) if !s.is_empty() && !s.contains(' ') => Ok(s.to_owned()),
                    _ => Err(field_error("scopes", "must be a list of scope names without spaces")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(field_error("scopes", "must be a list of strings")),
        };
        if !scopes.iter().any(|s| s == "openid") {
            return Err(field_error("scopes", "must include \"openid\""));
        }
        let api_origins = match map.get("api_origins") {
            None | Some(Value::Null) => OriginAllowList::default(),
            Some(Value::Array(items)) => {
                let strings = items
                    .iter()
                    .map(|v| v.as_str().ok_or_else(|| field_error("api_origins", "must be a list of strings")))
                    .collect::<Result<Vec<_>, _>>()?;
                for origin in &strings {
                    check_endpoint_url("api_origins", origin)?;
                }
                OriginAllowList::new(strings).map_err(|e| field_error("api_origins", e))?
            }
            Some(_) => return Err(field_error("api_origins", "must be a list of origins")),
        };
        let refresh_buffer_secs = number(map, "refresh_buffer_secs", 300, (0, 3600), "seconds")?;
        let id_token_leeway_secs = number(map, "id_token_leeway_secs", 60, (0, 600), "seconds")?;
        let request_timeout_ms =
            number(map, "request_timeout_ms", DEFAULT_REQUEST_TIMEOUT_MS, (500, 120_000), "milliseconds")?;
        let max_session_age_secs = number(
            map,
            "max_session_age_secs",
            crate::manager::DEFAULT_MAX_SESSION_AGE_SECS,
            (0, 366 * 24 * 3600),
            "seconds",
        )?;
        let join_sibling_tabs = boolean(map, "join_sibling_tabs", true)?;
        let end_session_method = match string(map, "end_session_method")?.as_deref() {
            None | Some("get") => crate::end_session::EndSessionMethod::Get,
            Some("post") => crate::end_session::EndSessionMethod::Post,
            Some(_) => return Err(field_error("end_session_method", "must be \"get\" or \"post\"")),
        };
        let endpoints = match map.get("endpoints") {
            None | Some(Value::Null) => EndpointOverrides::default(),
            Some(Value::Object(e)) => {
                if let Some(unknown) = e.keys().find(|k| !ENDPOINT_FIELDS.contains(&k.as_str())) {
                    return Err(ConfigError::Unknown(format!("endpoints.{unknown}")));
                }
                let get = |field: &'static str| -> Result<Option<String>, ConfigError> {
                    let v = string(e, field)?;
                    if let Some(url) = &v {
                        check_endpoint_url(field, url)?;
                    }
                    Ok(v)
                };
                EndpointOverrides {
                    authorization_endpoint: get("authorization_endpoint")?,
                    token_endpoint: get("token_endpoint")?,
                    revocation_endpoint: get("revocation_endpoint")?,
                    end_session_endpoint: get("end_session_endpoint")?,
                    jwks_uri: get("jwks_uri")?,
                }
            }
            Some(_) => return Err(field_error("endpoints", "must be an object")),
        };
        let api_base_url = string(map, "api_base_url")?;
        if let Some(url) = &api_base_url {
            check_endpoint_url("api_base_url", url)?;
        }
        Ok(Self {
            issuer,
            client_id,
            redirect_uri,
            post_logout_redirect_uri,
            scopes,
            api_origins,
            refresh_buffer_secs,
            id_token_leeway_secs,
            endpoints,
            api_base_url,
            request_timeout_ms,
            max_session_age_secs,
            join_sibling_tabs,
            end_session_method,
        })
    }

    /// Fills the redirect URIs left out with `<origin>/callback` and `<origin>/signed-out`.
    pub fn with_app_origin(mut self, origin: &str) -> Self {
        let origin = origin.trim_end_matches('/');
        if self.redirect_uri.is_empty() {
            self.redirect_uri = format!("{origin}/callback");
        }
        if self.post_logout_redirect_uri.is_empty() {
            self.post_logout_redirect_uri = format!("{origin}/signed-out");
        }
        self
    }

    /// How long a tab waits for a sibling's refresh lock before looking at why it is held: the holder's whole
    /// request (the request timeout) plus a margin.
    ///
    /// ```
    /// let c = oten_auth_core::AuthConfig::from_json(r#"{"issuer":"https://a.test","client_id":"c","request_timeout_ms":2000}"#).unwrap();
    /// assert_eq!(c.lock_timeout_ms(), 5_000);
    /// ```
    pub fn lock_timeout_ms(&self) -> u32 {
        self.request_timeout_ms.saturating_add(3_000)
    }

    /// The scopes as one space-separated `scope` parameter.
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(json: &str) -> Option<String> {
        AuthConfig::from_json(json).err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn each_bad_field_is_named() {
        let ok = r#""issuer":"https://account.oten.com","client_id":"c""#;
        assert_eq!(field_of(r#"{"client_id":"c"}"#).as_deref(), Some("issuer"));
        assert_eq!(field_of(r#"{"issuer":"http://evil.test","client_id":"c"}"#).as_deref(), Some("issuer"));
        assert_eq!(field_of(r#"{"issuer":"https://a.test"}"#).as_deref(), Some("client_id"));
        assert_eq!(field_of(&format!(r#"{{{ok},"scopes":["profile"]}}"#)).as_deref(), Some("scopes"));
        assert_eq!(field_of(&format!(r#"{{{ok},"api_origins":["not a url"]}}"#)).as_deref(), Some("api_origins"));
        assert_eq!(
            field_of(&format!(r#"{{{ok},"api_origins":["http://api.example.test"]}}"#)).as_deref(),
            Some("api_origins")
        );
        assert_eq!(field_of(&format!(r#"{{{ok},"request_timeout_ms":10}}"#)).as_deref(), Some("request_timeout_ms"));
        assert_eq!(field_of(&format!(r#"{{{ok},"join_sibling_tabs":"yes"}}"#)).as_deref(), Some("join_sibling_tabs"));
        assert_eq!(
            field_of(&format!(r#"{{{ok},"end_session_method":"delete"}}"#)).as_deref(),
            Some("end_session_method")
        );
        assert_eq!(
            field_of(&format!(r#"{{{ok},"max_session_age_secs":1e12}}"#)).as_deref(),
            Some("max_session_age_secs")
        );
        assert_eq!(field_of(&format!(r#"{{{ok},"refresh_buffer_secs":-1}}"#)).as_deref(), Some("refresh_buffer_secs"));
        assert_eq!(field_of(&format!(r#"{{{ok},"client_secret":"s"}}"#)).as_deref(), Some("client_secret"));
        assert_eq!(field_of(&format!(r#"{{{ok},"clientid":"s"}}"#)).as_deref(), Some("clientid"));
        assert_eq!(
            field_of(&format!(r#"{{{ok},"endpoints":{{"token_endpoint":"ftp://x"}}}}"#)).as_deref(),
            Some("token_endpoint")
        );
        assert!(matches!(AuthConfig::from_json("[]"), Err(ConfigError::NotJson(_))));
        assert!(matches!(AuthConfig::from_json(""), Err(ConfigError::NotJson(_))));
    }

    #[test]
    fn loopback_http_is_fine_for_development() {
        let c = AuthConfig::from_json(
            r#"{"issuer":"http://127.0.0.1:9000","client_id":"spa-dev","api_origins":["http://127.0.0.1:9001"],"refresh_buffer_secs":30,"_comment":"x"}"#,
        )
        .unwrap()
        .with_app_origin("http://127.0.0.1:8080/");
        assert_eq!(c.post_logout_redirect_uri, "http://127.0.0.1:8080/signed-out");
        assert_eq!(c.refresh_buffer_secs, 30);
        assert_eq!(c.id_token_leeway_secs, 60);
        assert_eq!((c.request_timeout_ms, c.max_session_age_secs, c.join_sibling_tabs), (15_000, 2_592_000, true));
        assert!(c.api_origins.allows("http://127.0.0.1:9001/x"));
    }
}
