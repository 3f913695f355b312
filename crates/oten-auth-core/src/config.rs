//! Runtime configuration (`public/config.json`): one build serves every environment.
//!
//! The file has two sections: `auth`, the library's settings ([`AuthConfig`]), and `app`, the app's own (passed
//! through unchecked, [`ConfigFile::app`]). Each is parsed with serde and then validated; every error names the
//! field (`auth.client_id`), unknown fields are refused (a typo never passes silently) and so is a `client_secret`.
//! Fields starting with `_` are comments.

use crate::end_session::EndSessionMethod;
use crate::id_token::DEFAULT_LEEWAY_SECS;
use crate::origin::{is_loopback, origin_of, OriginAllowList};
use crate::policy::DEFAULT_REFRESH_BUFFER_SECS;
use crate::routes::{CALLBACK_PATH, SIGNED_OUT_PATH};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Scopes asked for when the configuration names none.
pub const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];
/// The request timeout when the configuration names none (ms).
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 15_000;

/// How the app holds its session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuthMode {
    /// A pure browser client: tokens in the tab (sessionStorage), refreshed by the browser.
    #[default]
    Public,
    /// A token-mediating backend (`oten-backend`) signs in and keeps the refresh token; the browser holds
    /// short-lived access tokens in memory only, renewed at the backend's `POST /api/refresh-token`.
    TokenMediating,
    /// A backend-for-frontend (`oten-backend`) holds every token; the browser holds an HttpOnly session cookie and
    /// calls the API through the backend's `/api/*`.
    Bff,
}

/// Endpoints given explicitly; each one overrides discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The library's settings: the `auth` section of `config.json`.
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
    /// How the app holds its session: `public` (default), `token-mediating` or `bff`.
    pub mode: AuthMode,
    /// The OpenID provider's issuer identifier (public mode; a backend knows its own).
    pub issuer: String,
    /// The public client's id (public mode).
    pub client_id: String,
    /// Where the backend is in the `token-mediating` and `bff` modes: the app's own origin (filled by
    /// [`AuthConfig::with_app_origin`]; the backend serves the app, so its cookie is first-party and its routes need
    /// no CORS). Not a setting: a backend on another origin could not receive its session cookie.
    pub backend_url: String,
    /// Where the IdP sends the person back (default `<app origin>/callback`; its path must be
    /// [`crate::routes::CALLBACK_PATH`], where the callback route is mounted).
    pub redirect_uri: String,
    /// Where the IdP sends the person after sign-out (default `<app origin>/signed-out`).
    pub post_logout_redirect_uri: String,
    /// Scopes to ask for; always includes `openid`.
    pub scopes: Vec<String>,
    /// Origins that may receive the access token.
    pub api_origins: OriginAllowList,
    /// Refresh this many seconds before expiry at most (default [`DEFAULT_REFRESH_BUFFER_SECS`]).
    pub refresh_buffer_secs: u32,
    /// Clock leeway for ID token times, in seconds (default [`DEFAULT_LEEWAY_SECS`]).
    pub id_token_leeway_secs: u32,
    /// Explicit endpoints.
    pub endpoints: EndpointOverrides,
    /// How long a request may take before it is aborted, in ms (default [`DEFAULT_REQUEST_TIMEOUT_MS`]).
    pub request_timeout_ms: u32,
    /// The longest session, counted from sign-in, in seconds (default 30 days; 0: no limit).
    pub max_session_age_secs: u32,
    /// Whether a tab opened without a session joins one a sibling tab holds, and a signed-out tab joins a sibling's
    /// new sign-in (default true).
    pub join_sibling_tabs: bool,
    /// Whether tokens are bound to a DPoP key (RFC 9449) when the provider offers `ES256` proofs (default true);
    /// `false` keeps Bearer tokens whatever the provider offers.
    pub dpop: bool,
    /// How sign-out ends the session at the provider (default GET, which every provider takes).
    pub end_session_method: EndSessionMethod,
}

/// The whole `config.json`: the library's settings and the app's own.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::ConfigFile;
/// let file = ConfigFile::from_json(r#"{
///     "_comment": "local",
///     "auth": {"issuer": "https://account.oten.com", "client_id": "my-spa"},
///     "app": {"api_base_url": "https://api.example.test"}
/// }"#).unwrap();
/// assert_eq!(file.auth.client_id, "my-spa");
/// assert_eq!(file.app["api_base_url"], "https://api.example.test");
/// let e = ConfigFile::from_json(r#"{"auth": {"issuer": "https://x.test", "client_id": "c", "scope": []}}"#).unwrap_err();
/// assert_eq!(e.field(), Some("auth.scope"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFile {
    /// The library's settings.
    pub auth: AuthConfig,
    /// The app's own settings, as written (the library does not look inside).
    pub app: Map<String, Value>,
}

/// A configuration that cannot be used; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file is not a JSON object.
    #[error("the configuration is not a valid JSON object: {0}")]
    NotJson(String),
    /// A field is missing or wrong.
    #[error("configuration field `{field}`: {reason}")]
    Field {
        /// The field's path (`client_id`, `endpoints.token_endpoint`, `auth.scopes`).
        field: String,
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

    /// The same error for a field inside `section`.
    fn within(self, section: &str) -> Self {
        match self {
            ConfigError::Field { field, reason } => ConfigError::Field { field: format!("{section}.{field}"), reason },
            ConfigError::Unknown(field) => ConfigError::Unknown(format!("{section}.{field}")),
            other => other,
        }
    }
}

fn field_error(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Field { field: field.into(), reason: reason.into() }
}

/// The fields of the `auth` section (to point a misplaced one to it).
const AUTH_FIELDS: &[&str] = &[
    "mode",
    "issuer",
    "client_id",
    "client_secret",
    "redirect_uri",
    "post_logout_redirect_uri",
    "scopes",
    "api_origins",
    "refresh_buffer_secs",
    "id_token_leeway_secs",
    "endpoints",
    "request_timeout_ms",
    "max_session_age_secs",
    "join_sibling_tabs",
    "dpop",
    "end_session_method",
];

/// The library's settings as written, each field parsed by serde on its own (a type error names the field).
struct RawAuthConfig {
    mode: Option<AuthMode>,
    issuer: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    post_logout_redirect_uri: Option<String>,
    scopes: Option<Vec<String>>,
    api_origins: Option<Vec<String>>,
    refresh_buffer_secs: Option<u32>,
    id_token_leeway_secs: Option<u32>,
    endpoints: Option<Map<String, Value>>,
    request_timeout_ms: Option<u32>,
    max_session_age_secs: Option<u32>,
    join_sibling_tabs: Option<bool>,
    dpop: Option<bool>,
    end_session_method: Option<EndSessionMethod>,
}

/// An endpoint URL must be https, or http on a loopback host (local development).
pub(crate) fn check_endpoint_url(field: &str, url: &str) -> Result<(), ConfigError> {
    let origin = origin_of(url).ok_or_else(|| field_error(field, format!("{url:?} is not an absolute http(s) URL")))?;
    if origin.starts_with("http://") && !is_loopback(&origin) {
        return Err(field_error(field, format!("{url:?} must use https (plain http only on loopback)")));
    }
    Ok(())
}

fn in_range(
    field: &str,
    value: Option<u32>,
    default: u32,
    (min, max): (u32, u32),
    unit: &str,
) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(field_error(field, format!("must be a whole number of {unit} from {min} to {max}"))),
    }
}

fn non_empty(field: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.is_empty() => Err(field_error(field, "must not be empty")),
        other => Ok(other),
    }
}

/// The path of a `client_secret` (or `_client_secret`) key anywhere in `object`, if there is one.
fn secret_path(object: &Map<String, Value>, prefix: &str) -> Option<String> {
    object.iter().find_map(|(key, value)| {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        if key.trim_start_matches('_').eq_ignore_ascii_case("client_secret") {
            return Some(path);
        }
        match value {
            Value::Object(inner) => secret_path(inner, &path),
            _ => None,
        }
    })
}

/// Removes the comments (`_…`) and refuses any other field that is not one of `known`.
fn known_fields_only(mut object: Map<String, Value>, known: &[&str]) -> Result<Map<String, Value>, ConfigError> {
    object.retain(|k, _| !k.starts_with('_'));
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(ConfigError::Unknown(unknown.clone())),
        None => Ok(object),
    }
}

/// Takes one field out of a settings object and parses it with serde; `null` counts as absent, and a type error
/// names the field (`client_id: invalid type: integer …`).
fn take<T: serde::de::DeserializeOwned>(
    object: &mut Map<String, Value>,
    field: &str,
) -> Result<Option<T>, ConfigError> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value).map(Some).map_err(|e| field_error(field, e.to_string())),
    }
}

impl RawAuthConfig {
    fn take_from(mut o: Map<String, Value>) -> Result<Self, ConfigError> {
        Ok(Self {
            mode: take(&mut o, "mode")?,
            issuer: take(&mut o, "issuer")?,
            client_id: take(&mut o, "client_id")?,
            redirect_uri: take(&mut o, "redirect_uri")?,
            post_logout_redirect_uri: take(&mut o, "post_logout_redirect_uri")?,
            scopes: take(&mut o, "scopes")?,
            api_origins: take(&mut o, "api_origins")?,
            refresh_buffer_secs: take(&mut o, "refresh_buffer_secs")?,
            id_token_leeway_secs: take(&mut o, "id_token_leeway_secs")?,
            endpoints: take(&mut o, "endpoints")?,
            request_timeout_ms: take(&mut o, "request_timeout_ms")?,
            max_session_age_secs: take(&mut o, "max_session_age_secs")?,
            join_sibling_tabs: take(&mut o, "join_sibling_tabs")?,
            dpop: take(&mut o, "dpop")?,
            end_session_method: take(&mut o, "end_session_method")?,
        })
    }
}

impl AuthConfig {
    /// Parses and checks the library's settings (the `auth` section). Redirect URIs left out are filled by
    /// [`AuthConfig::with_app_origin`].
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    fn from_value(value: Value) -> Result<Self, ConfigError> {
        let Value::Object(object) = value else { return Err(ConfigError::NotJson("expected an object".into())) };
        if object.contains_key("client_secret") {
            return Err(field_error("client_secret", "a browser app is a public client and must not have a secret"));
        }
        let raw = RawAuthConfig::take_from(known_fields_only(object, AUTH_FIELDS)?)?;
        let mode = raw.mode.unwrap_or_default();
        let public = mode == AuthMode::Public;
        // A backend is the provider's client: the browser needs neither issuer nor client id then.
        let issuer = non_empty("issuer", raw.issuer)?;
        let issuer = match (issuer, public) {
            (Some(issuer), _) => {
                check_endpoint_url("issuer", &issuer)?;
                issuer
            }
            (None, true) => return Err(field_error("issuer", "is required")),
            (None, false) => String::new(),
        };
        let client_id = match (non_empty("client_id", raw.client_id)?, public) {
            (Some(id), _) => id,
            (None, true) => return Err(field_error("client_id", "is required")),
            (None, false) => String::new(),
        };
        if mode == AuthMode::Bff && raw.api_origins.as_ref().is_some_and(|o| !o.is_empty()) {
            return Err(field_error("api_origins", "must be empty in bff mode: the browser holds no token"));
        }
        let redirect_uri = non_empty("redirect_uri", raw.redirect_uri)?.unwrap_or_default();
        if !redirect_uri.is_empty() {
            check_endpoint_url("redirect_uri", &redirect_uri)?;
            let path = redirect_uri.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]));
            if path.map(|p| p.split(['?', '#']).next().unwrap_or(p)) != Some(CALLBACK_PATH) {
                return Err(field_error(
                    "redirect_uri",
                    format!("its path must be {CALLBACK_PATH}, where the callback route (AuthCallback) is mounted"),
                ));
            }
        }
        let post_logout_redirect_uri =
            non_empty("post_logout_redirect_uri", raw.post_logout_redirect_uri)?.unwrap_or_default();
        if !post_logout_redirect_uri.is_empty() {
            check_endpoint_url("post_logout_redirect_uri", &post_logout_redirect_uri)?;
        }
        let scopes = match raw.scopes {
            None => DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            Some(scopes) => {
                if scopes.iter().any(|s| s.is_empty() || s.contains(' ')) {
                    return Err(field_error("scopes", "must be a list of scope names without spaces"));
                }
                scopes
            }
        };
        if !scopes.iter().any(|s| s == "openid") {
            return Err(field_error("scopes", "must include \"openid\""));
        }
        let origins = raw.api_origins.unwrap_or_default();
        for origin in &origins {
            check_endpoint_url("api_origins", origin)?;
        }
        let api_origins = OriginAllowList::new(origins).map_err(|e| field_error("api_origins", e))?;
        let endpoints = match raw.endpoints {
            None => EndpointOverrides::default(),
            Some(map) => {
                const ENDPOINTS: &[&str] = &[
                    "authorization_endpoint",
                    "token_endpoint",
                    "revocation_endpoint",
                    "end_session_endpoint",
                    "jwks_uri",
                ];
                let mut known = known_fields_only(map, ENDPOINTS).map_err(|e| e.within("endpoints"))?;
                let mut take = |field| take(&mut known, field).map_err(|e| e.within("endpoints"));
                let endpoints = EndpointOverrides {
                    authorization_endpoint: take("authorization_endpoint")?,
                    token_endpoint: take("token_endpoint")?,
                    revocation_endpoint: take("revocation_endpoint")?,
                    end_session_endpoint: take("end_session_endpoint")?,
                    jwks_uri: take("jwks_uri")?,
                };
                for (field, url) in [
                    ("authorization_endpoint", &endpoints.authorization_endpoint),
                    ("token_endpoint", &endpoints.token_endpoint),
                    ("revocation_endpoint", &endpoints.revocation_endpoint),
                    ("end_session_endpoint", &endpoints.end_session_endpoint),
                    ("jwks_uri", &endpoints.jwks_uri),
                ] {
                    if let Some(url) = url {
                        check_endpoint_url(field, url).map_err(|e| e.within("endpoints"))?;
                    }
                }
                endpoints
            }
        };
        Ok(Self {
            mode,
            issuer,
            client_id,
            backend_url: String::new(),
            redirect_uri,
            post_logout_redirect_uri,
            scopes,
            api_origins,
            refresh_buffer_secs: in_range(
                "refresh_buffer_secs",
                raw.refresh_buffer_secs,
                DEFAULT_REFRESH_BUFFER_SECS,
                (0, 3600),
                "seconds",
            )?,
            id_token_leeway_secs: in_range(
                "id_token_leeway_secs",
                raw.id_token_leeway_secs,
                DEFAULT_LEEWAY_SECS as u32,
                (0, 600),
                "seconds",
            )?,
            endpoints,
            request_timeout_ms: in_range(
                "request_timeout_ms",
                raw.request_timeout_ms,
                DEFAULT_REQUEST_TIMEOUT_MS,
                (500, 120_000),
                "milliseconds",
            )?,
            max_session_age_secs: in_range(
                "max_session_age_secs",
                raw.max_session_age_secs,
                crate::manager::DEFAULT_MAX_SESSION_AGE_SECS,
                (0, 366 * 24 * 3600),
                "seconds",
            )?,
            join_sibling_tabs: raw.join_sibling_tabs.unwrap_or(true),
            dpop: raw.dpop.unwrap_or(true),
            end_session_method: raw.end_session_method.unwrap_or_default(),
        })
    }

    /// Fills the redirect URIs left out with `<origin>/callback` and `<origin>/signed-out`.
    #[must_use]
    pub fn with_app_origin(mut self, origin: &str) -> Self {
        let origin = origin.trim_end_matches('/');
        if self.mode != AuthMode::Public {
            self.backend_url = origin.to_owned();
        }
        if self.redirect_uri.is_empty() {
            self.redirect_uri = format!("{origin}{CALLBACK_PATH}");
        }
        if self.post_logout_redirect_uri.is_empty() {
            self.post_logout_redirect_uri = format!("{origin}{SIGNED_OUT_PATH}");
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

impl ConfigFile {
    /// Parses and checks a whole `config.json`: `auth` (required) and `app` (optional, any JSON object).
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::NotJson(e.to_string()))?;
        let Value::Object(mut top) = value else { return Err(ConfigError::NotJson("expected an object".into())) };
        // The file is served to every visitor: a secret has no place anywhere in it, not even in a comment.
        if let Some(path) = secret_path(&top, "") {
            return Err(field_error(
                path,
                "config.json is public (every visitor can read it): never put a client secret in it",
            ));
        }
        if let Some(unknown) = top.keys().find(|k| !k.starts_with('_') && *k != "auth" && *k != "app") {
            return Err(match AUTH_FIELDS.contains(&unknown.as_str()) {
                true => field_error(unknown.clone(), "goes under \"auth\" (the library's settings)"),
                false => ConfigError::Unknown(unknown.clone()),
            });
        }
        let auth = match top.remove("auth") {
            None => return Err(field_error("auth", "is required (the library's settings)")),
            Some(auth @ Value::Object(_)) => auth,
            Some(_) => return Err(field_error("auth", "must be an object (the library's settings)")),
        };
        let auth = AuthConfig::from_value(auth).map_err(|e| e.within("auth"))?;
        let app = match top.remove("app") {
            None => Map::new(),
            Some(Value::Object(app)) => app,
            Some(_) => return Err(field_error("app", "must be an object (the app's own settings)")),
        };
        Ok(Self { auth, app })
    }

    /// The app's settings as its own type.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct App { api_base_url: String }
    /// let file = oten_auth_core::ConfigFile::from_json(
    ///     r#"{"auth":{"issuer":"https://a.test","client_id":"c"},"app":{"api_base_url":"https://api.test"}}"#).unwrap();
    /// assert_eq!(file.app_settings::<App>().unwrap().api_base_url, "https://api.test");
    /// ```
    pub fn app_settings<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        Self::parse_app_settings(&self.app)
    }

    /// Parses an `app` section as the app's own type; an error names the field (`app.api_base_url`, or `app` for
    /// the section itself).
    pub fn parse_app_settings<T: serde::de::DeserializeOwned>(app: &Map<String, Value>) -> Result<T, ConfigError> {
        serde_path_to_error::deserialize(Value::Object(app.clone())).map_err(|e| {
            let path = e.path().to_string();
            let field = if path.is_empty() || path == "." { "app".to_owned() } else { format!("app.{path}") };
            field_error(field, e.into_inner().to_string())
        })
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
        let cases = [
            (r#"{"client_id":"c"}"#.to_owned(), "issuer"),
            (r#"{"issuer":"http://evil.test","client_id":"c"}"#.to_owned(), "issuer"),
            (r#"{"issuer":"https://a.test"}"#.to_owned(), "client_id"),
            (r#"{"issuer":"https://a.test","client_id":7}"#.to_owned(), "client_id"),
            (format!(r#"{{{ok},"scopes":["profile"]}}"#), "scopes"),
            (format!(r#"{{{ok},"scopes":"openid"}}"#), "scopes"),
            (format!(r#"{{{ok},"api_origins":["not a url"]}}"#), "api_origins"),
            (format!(r#"{{{ok},"api_origins":["http://api.example.test"]}}"#), "api_origins"),
            (format!(r#"{{{ok},"api_origins":[5]}}"#), "api_origins"),
            (format!(r#"{{{ok},"refresh_buffer_secs":-1}}"#), "refresh_buffer_secs"),
            (format!(r#"{{{ok},"refresh_buffer_secs":3601}}"#), "refresh_buffer_secs"),
            (format!(r#"{{{ok},"client_secret":"s"}}"#), "client_secret"),
            (format!(r#"{{{ok},"clientid":"s"}}"#), "clientid"),
            (format!(r#"{{{ok},"endpoints":{{"token_endpoint":"ftp://x"}}}}"#), "endpoints.token_endpoint"),
            (format!(r#"{{{ok},"endpoints":{{"tokn_endpoint":"https://x.test"}}}}"#), "endpoints.tokn_endpoint"),
            (format!(r#"{{{ok},"request_timeout_ms":10}}"#), "request_timeout_ms"),
            (format!(r#"{{{ok},"join_sibling_tabs":"yes"}}"#), "join_sibling_tabs"),
            (format!(r#"{{{ok},"max_session_age_secs":1e12}}"#), "max_session_age_secs"),
            (format!(r#"{{{ok},"end_session_method":"delete"}}"#), "end_session_method"),
            (format!(r#"{{{ok},"mode":"hybrid"}}"#), "mode"),
            (format!(r#"{{{ok},"backend_url":"https://app.test"}}"#), "backend_url"),
            (r#"{"mode":"bff","api_origins":["https://api.test"]}"#.to_owned(), "api_origins"),
            (format!(r#"{{{ok},"redirect_uri":"https://app.test/auth/cb"}}"#), "redirect_uri"),
        ];
        for (json, field) in cases {
            assert_eq!(field_of(&json).as_deref(), Some(field), "{json}");
        }
        assert!(matches!(AuthConfig::from_json("[]"), Err(ConfigError::NotJson(_))));
        assert!(matches!(AuthConfig::from_json(""), Err(ConfigError::NotJson(_))));
    }

    #[test]
    fn loopback_http_is_fine_for_development_and_defaults_fill_in() {
        let c = AuthConfig::from_json(
            r#"{"issuer":"http://127.0.0.1:9000","client_id":"spa-dev","api_origins":["http://127.0.0.1:9001"],"refresh_buffer_secs":30,"_comment":"x"}"#,
        )
        .unwrap()
        .with_app_origin("http://127.0.0.1:8080/");
        assert_eq!(c.post_logout_redirect_uri, "http://127.0.0.1:8080/signed-out");
        assert_eq!(c.refresh_buffer_secs, 30);
        assert_eq!(c.id_token_leeway_secs, 60);
        assert_eq!((c.request_timeout_ms, c.max_session_age_secs, c.join_sibling_tabs), (15_000, 2_592_000, true));
        assert_eq!((c.mode, c.end_session_method), (AuthMode::Public, EndSessionMethod::Get));
        assert!(c.api_origins.allows("http://127.0.0.1:9001/x"));
    }

    #[test]
    fn backend_modes_need_no_provider_settings_and_default_to_the_app_origin() {
        let bff = AuthConfig::from_json(r#"{"mode":"bff"}"#).unwrap().with_app_origin("https://app.test/");
        assert_eq!(
            (bff.mode, bff.backend_url.as_str(), bff.client_id.as_str()),
            (AuthMode::Bff, "https://app.test", "")
        );
        let tm = AuthConfig::from_json(r#"{"mode":"token-mediating","api_origins":["https://api.test"]}"#)
            .unwrap()
            .with_app_origin("https://app.test");
        assert_eq!((tm.mode, tm.backend_url.as_str()), (AuthMode::TokenMediating, "https://app.test"));
        assert!(tm.api_origins.allows("https://api.test/x"));
        assert_eq!(AuthConfig::from_json(r#"{"mode":"public"}"#).unwrap_err().field(), Some("issuer"));
    }

    #[test]
    fn the_file_has_an_auth_and_an_app_section() {
        let file = |json: &str| ConfigFile::from_json(json);
        let auth = r#""auth":{"issuer":"https://a.test","client_id":"c"}"#;
        assert!(file(&format!("{{{auth}}}")).unwrap().app.is_empty());
        assert_eq!(file(&format!(r#"{{{auth},"app":[]}}"#)).unwrap_err().field(), Some("app"));
        assert_eq!(file(r#"{"_comment":"x"}"#).unwrap_err().field(), Some("auth"));
        let old_shape = file(r#"{"issuer":"https://a.test","client_id":"c"}"#).unwrap_err();
        assert!(old_shape.to_string().contains("goes under \"auth\""), "{old_shape}");
        assert_eq!(file(r#"{"auth":[]}"#).unwrap_err().field(), Some("auth"));
        assert_eq!(file(r#"{"auth":null}"#).unwrap_err().field(), Some("auth"));
        assert_eq!(file(&format!(r#"{{{auth},"extra":{{}}}}"#)).unwrap_err(), ConfigError::Unknown("extra".into()));
        for (json, path) in [
            (format!(r#"{{{auth},"client_secret":"s"}}"#), "client_secret"),
            (format!(r#"{{{auth},"app":{{"client_secret":"s"}}}}"#), "app.client_secret"),
            (format!(r#"{{{auth},"app":{{"api":{{"Client_Secret":"s"}}}}}}"#), "app.api.Client_Secret"),
            (format!(r#"{{{auth},"_client_secret":"s"}}"#), "_client_secret"),
        ] {
            let e = file(&json).unwrap_err();
            assert_eq!(e.field(), Some(path), "{json}");
            assert!(e.to_string().contains("never put a client secret"), "{e}");
        }
        let flat = file(&format!(r#"{{{auth},"issuer":"https://a.test"}}"#)).unwrap_err();
        assert!(flat.to_string().contains("goes under \"auth\""), "{flat}");
        assert_eq!(
            file(r#"{"auth":{"issuer":"https://a.test","client_id":""}}"#).unwrap_err().field(),
            Some("auth.client_id")
        );
        #[derive(Debug, serde::Deserialize)]
        struct App {
            #[allow(dead_code)]
            api_base_url: String,
        }
        let wrong =
            file(&format!(r#"{{{auth},"app":{{"api_base_url":5}}}}"#)).unwrap().app_settings::<App>().unwrap_err();
        assert_eq!(wrong.field(), Some("app.api_base_url"));
    }
}
