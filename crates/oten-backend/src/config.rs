//! The backend's settings: a JSON file for what is not secret, the environment (or files it names) for secrets.
//!
//! ```json
//! {
//!   "mode": "bff",
//!   "public_origin": "http://127.0.0.1:9100",
//!   "issuer": "http://127.0.0.1:9000",
//!   "client_id": "bff-dev",
//!   "api_upstream": "http://127.0.0.1:9001"
//! }
//! ```
//!
//! Secrets never sit in that file: the client secret comes from `OTEN_CLIENT_SECRET` (or `client_secret_file`), the
//! encryption keys from `OTEN_BACKEND_KEYS` (or `key_file`). A `client_secret` in the file is refused.

use oten_auth_core::{ClientSecret, DEFAULT_REFRESH_BUFFER_SECS};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// How the browser and the backend share the work (see the README's "Three modes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The backend keeps the refresh token; the app gets short-lived access tokens from `POST /api/refresh-token`.
    TokenMediating,
    /// The browser holds only a session cookie; `/api/*` is proxied with the access token added here.
    Bff,
}

/// `token_endpoint_auth_method` of the backend's client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// `Authorization: Basic` (the default every provider takes).
    #[default]
    ClientSecretBasic,
    /// The secret in the form body.
    ClientSecretPost,
}

/// How request objects are signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum RequestObjectAlg {
    /// HMAC-SHA256 with the client secret.
    #[default]
    HS256,
    /// Ed25519 with a private key of the client's (`request_object_key_file`, PKCS#8 PEM).
    EdDSA,
}

/// The settings file, as read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// `token-mediating` or `bff`.
    pub mode: Mode,
    /// Listen address (default `127.0.0.1:9100`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Where browsers reach this backend (`https://app.example` in production). The redirect URI is
    /// `{public_origin}/auth/callback`; `https` here turns on `Secure` `__Host-` cookies.
    pub public_origin: String,
    /// The provider's issuer identifier.
    pub issuer: String,
    /// The backend's (confidential) client id.
    pub client_id: String,
    /// `client_secret_basic` (default) or `client_secret_post`.
    #[serde(default)]
    pub client_auth: ClientAuthMethod,
    /// `HS256` (default) or `EdDSA`.
    #[serde(default)]
    pub request_object_alg: RequestObjectAlg,
    /// PKCS#8 PEM file of the Ed25519 key, with `request_object_alg: "EdDSA"`.
    #[serde(default)]
    pub request_object_key_file: Option<PathBuf>,
    /// The `kid` the provider knows that key by.
    #[serde(default)]
    pub request_object_key_id: Option<String>,
    /// Push the signed request first (PAR) when the provider offers it (default true).
    #[serde(default = "yes")]
    pub use_par: bool,
    /// Scopes asked for (default `openid profile email offline_access`).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// A `prompt` sent with every sign-in (the dev IdP needs `consent` to grant `offline_access`).
    #[serde(default)]
    pub prompt: Option<String>,
    /// Where the person lands after signing out at the provider (default `{public_origin}/signed-out`).
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    /// `bff`: the API `/api/*` is proxied to.
    #[serde(default)]
    pub api_upstream: Option<String>,
    /// The built app (`dist/`), served at `/` so that app, backend (and in `bff` mode the API) share one origin.
    #[serde(default)]
    pub static_dir: Option<PathBuf>,
    /// The app's `config.json` as this backend serves it at `/config.json` (`{"auth": {…}, "app": {…}}`); its
    /// `auth.mode` is always this backend's mode, so the app served here runs in the right one.
    #[serde(default)]
    pub app_config: Option<serde_json::Value>,
    /// `sqlite://path` (default `sqlite://oten-backend.db`) or `postgres://…`.
    #[serde(default = "default_database")]
    pub database_url: String,
    /// Longest a session lives, however often it is refreshed (default 30 days).
    #[serde(default = "default_max_age")]
    pub session_max_age_secs: u64,
    /// How often the cleanup runs (default daily).
    #[serde(default = "default_cleanup")]
    pub cleanup_interval_secs: u64,
    /// Refresh this long before the access token expires (clamped to half its lifetime).
    #[serde(default = "default_buffer")]
    pub refresh_buffer_secs: u32,
    /// Timeout of each request to the provider and the API.
    #[serde(default = "default_timeout")]
    pub request_timeout_ms: u64,
    /// File holding the client secret, when `OTEN_CLIENT_SECRET` is not set.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// File holding the key ring, when `OTEN_BACKEND_KEYS` is not set.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// Why the backend will not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid settings.
    #[error("invalid backend settings: {0}")]
    Invalid(String),
    /// A secret was put in the settings file.
    #[error("the settings file must not contain the client secret: set OTEN_CLIENT_SECRET or client_secret_file")]
    SecretInFile,
    /// No client secret anywhere.
    #[error("no client secret: set OTEN_CLIENT_SECRET or client_secret_file")]
    NoClientSecret,
    /// No encryption keys anywhere.
    #[error("no encryption keys: set OTEN_BACKEND_KEYS or key_file (scripts/dev generates one for development)")]
    NoKeys,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9100))
}
fn yes() -> bool {
    true
}
fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email", "offline_access"].map(String::from).to_vec()
}
fn default_database() -> String {
    "sqlite://oten-backend.db".into()
}
fn default_max_age() -> u64 {
    30 * 24 * 3600
}
fn default_cleanup() -> u64 {
    24 * 3600
}
fn default_buffer() -> u32 {
    DEFAULT_REFRESH_BUFFER_SECS
}
fn default_timeout() -> u64 {
    10_000
}

impl BackendConfig {
    /// Parses the settings text and checks it.
    ///
    /// ```
    /// use oten_backend::{BackendConfig, Mode};
    /// let c = BackendConfig::from_json(r#"{"mode":"bff","public_origin":"https://app.test",
    ///   "issuer":"https://account.oten.com","client_id":"bff","api_upstream":"https://api.test"}"#).unwrap();
    /// assert_eq!((c.mode, c.redirect_uri()), (Mode::Bff, "https://app.test/auth/callback".to_string()));
    /// assert!(BackendConfig::from_json(r#"{"mode":"bff","client_secret":"x"}"#).is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if value.get("client_secret").is_some() {
            return Err(ConfigError::SecretInFile);
        }
        let config: Self = serde_json::from_value(value).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Reads and parses the settings file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Self::from_json(&text)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let origin_ok = |o: &str| {
            (o.starts_with("https://") || o.starts_with("http://127.0.0.1") || o.starts_with("http://localhost"))
                && !o.ends_with('/')
        };
        if !origin_ok(&self.public_origin) {
            return invalid(format!("public_origin {:?} must be an https (or loopback) origin", self.public_origin));
        }
        if self.client_id.is_empty() {
            return invalid("client_id is empty".into());
        }
        if self.mode == Mode::Bff && self.api_upstream.is_none() {
            return invalid("bff mode needs api_upstream (where /api/* is proxied)".into());
        }
        if self.request_object_alg == RequestObjectAlg::EdDSA && self.request_object_key_file.is_none() {
            return invalid("request_object_alg EdDSA needs request_object_key_file".into());
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return invalid("scopes must include openid".into());
        }
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres")) {
            return invalid("database_url must be sqlite://… or postgres://…".into());
        }
        // The app is served with the Content-Security-Policy its configuration calls for: a configuration no policy
        // can express is refused here, rather than served with a policy that would break the app.
        self.document_headers().map(drop).map_err(ConfigError::Invalid)
    }

    /// `{public_origin}/auth/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.public_origin)
    }

    /// Where the provider sends the person after sign-out.
    pub fn post_logout_redirect_uri(&self) -> String {
        self.post_logout_redirect_uri.clone().unwrap_or_else(|| format!("{}/signed-out", self.public_origin))
    }

    /// The security headers of the app's documents (a strict Content-Security-Policy and its companions), derived
    /// from the configuration this backend serves the app ([`BackendConfig::served_app_config`]).
    ///
    /// ```
    /// let c = oten_backend::BackendConfig::from_json(r#"{"mode":"token-mediating","public_origin":"https://app.test",
    ///   "issuer":"https://idp.test","client_id":"b","app_config":{"auth":{"api_origins":["https://api.test"]}}}"#).unwrap();
    /// let csp = c.document_headers().unwrap().content_security_policy();
    /// assert!(csp.contains("connect-src 'self' https://api.test;"));
    /// ```
    pub fn document_headers(&self) -> Result<oten_auth_core::SecurityHeaders, String> {
        let served = oten_auth_core::ConfigFile::from_json(&self.served_app_config().to_string())
            .map_err(|e| format!("app_config: {e}"))?;
        oten_auth_core::SecurityHeaders::for_config(&served.auth.with_app_origin(&self.public_origin))
            .map_err(|e| format!("app_config: {e}"))
    }

    /// The `config.json` served to the app: [`BackendConfig::app_config`] with this backend's mode.
    ///
    /// ```
    /// let c = oten_backend::BackendConfig::from_json(r#"{"mode":"token-mediating","public_origin":"https://app.test",
    ///   "issuer":"https://idp.test","client_id":"b","app_config":{"app":{"api_base_url":"https://api.test"}}}"#).unwrap();
    /// let served = c.served_app_config();
    /// assert_eq!((served["auth"]["mode"].as_str(), served["app"]["api_base_url"].as_str()),
    ///     (Some("token-mediating"), Some("https://api.test")));
    /// ```
    pub fn served_app_config(&self) -> serde_json::Value {
        let mut config = self.app_config.clone().filter(serde_json::Value::is_object).unwrap_or_default();
        if !config.is_object() {
            config = serde_json::json!({});
        }
        let mode = match self.mode {
            Mode::TokenMediating => "token-mediating",
            Mode::Bff => "bff",
        };
        if !config.get("auth").is_some_and(serde_json::Value::is_object) {
            config["auth"] = serde_json::json!({});
        }
        config["auth"]["mode"] = mode.into();
        // The app asks for a newer token no earlier than this backend would renew one: with a larger buffer it
        // would get the same token back and ask again.
        let buffer = config["auth"]["refresh_buffer_secs"].as_u64().unwrap_or(u64::MAX);
        config["auth"]["refresh_buffer_secs"] = buffer.min(u64::from(self.refresh_buffer_secs)).into();
        if !config.get("app").is_some_and(serde_json::Value::is_object) {
            config["app"] = serde_json::json!({});
        }
        config
    }

    /// Whether cookies are `Secure` with the `__Host-` prefix (an https origin).
    pub fn secure_cookies(&self) -> bool {
        self.public_origin.starts_with("https://")
    }

    /// The client secret, from `OTEN_CLIENT_SECRET` or `client_secret_file`.
    pub fn client_secret(&self) -> Result<ClientSecret, ConfigError> {
        secret_from(std::env::var("OTEN_CLIENT_SECRET").ok(), self.client_secret_file.as_deref())?
            .map(ClientSecret::new)
            .ok_or(ConfigError::NoClientSecret)
    }

    /// The key ring's text, from `OTEN_BACKEND_KEYS` or `key_file`.
    pub fn key_ring_text(&self) -> Result<String, ConfigError> {
        secret_from(std::env::var("OTEN_BACKEND_KEYS").ok(), self.key_file.as_deref())?.ok_or(ConfigError::NoKeys)
    }
}

fn secret_from(env: Option<String>, file: Option<&Path>) -> Result<Option<String>, ConfigError> {
    if let Some(value) = env.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        return Ok(Some(value));
    }
    let Some(path) = file else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    Ok(Some(text.trim().to_owned()).filter(|v| !v.is_empty()))
}
