//! Loading `config.json` at runtime, so one build serves every environment.

use crate::browser_navigator::current_origin;
use oten_auth_core::{ConfigError, ConfigFile, FetchError, HttpRequest, Method, Transport};

/// Why the configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigLoadError {
    /// The file could not be fetched.
    #[error("could not load {url}: {cause}")]
    Fetch {
        /// Where it was looked for.
        url: String,
        /// Why it failed.
        #[source]
        cause: FetchError,
    },
    /// The file is invalid.
    #[error("{url} is invalid: {error}")]
    Invalid {
        /// Where it was read.
        url: String,
        /// What is wrong, naming the field.
        #[source]
        error: ConfigError,
    },
}

/// Fetches and checks the configuration file at `url` (usually `/config.json`): the library's settings (`auth`, with
/// the redirect URIs filled from the page's origin when they are left out) and the app's own (`app`).
///
/// ## Usage
///
/// ```no_run
/// # async fn demo() {
/// use oten_auth::{load_config, FetchTransport};
/// match load_config("/config.json", &FetchTransport::default()).await {
///     Ok(file) => { let _ = file.auth.issuer; }
///     Err(e) => { let _ = e.to_string(); } // "…/config.json is invalid: configuration field `auth.issuer`: is required"
/// }
/// # }
/// ```
pub async fn load_config(url: &str, transport: &dyn Transport) -> Result<ConfigFile, ConfigLoadError> {
    let origin = current_origin();
    let absolute = if url.starts_with('/') { format!("{origin}{url}") } else { url.to_owned() };
    let fetch_error = |cause: FetchError| ConfigLoadError::Fetch { url: url.to_owned(), cause };
    let response = transport
        .send(HttpRequest::new(Method::Get, absolute).header("Accept", "application/json"))
        .await
        .map_err(|e| fetch_error(e.into()))?;
    if !response.is_success() {
        return Err(fetch_error(FetchError::Status(response.status)));
    }
    ConfigFile::from_json(&response.body)
        .map(|file| ConfigFile { auth: file.auth.with_app_origin(&origin), app: file.app })
        .map_err(|error| ConfigLoadError::Invalid { url: url.to_owned(), error })
}
