//! # oten-backend
//!
//! The server half of signing in to Oten: a backend that signs in as a **confidential client** (PKCE, a signed
//! request object, pushed when the provider offers PAR), keeps the tokens **encrypted at rest** (AES-256-GCM, a key
//! ring) in SQLite or PostgreSQL, renews them with **one presentation of each refresh token** across concurrent
//! requests and instances, and serves the browser in one of two modes:
//!
//! - `token-mediating`: the app gets short-lived access tokens from `POST /api/refresh-token`; the refresh token
//!   never leaves the server;
//! - `bff`: the browser holds only an HttpOnly session cookie; `/api/*` is proxied with the token added here.
//!
//! Every protocol step (request building, answer classification, ID-token and logout-token checks) is a pure
//! function of `oten-auth-core`, shared with the browser library.
//!
//! ## Usage
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = oten_backend::BackendConfig::load(std::path::Path::new("backend.json"))?;
//! let (app, router) = oten_backend::start(settings).await?;
//! let listener = tokio::net::TcpListener::bind(app.settings.listen).await?;
//! axum::serve(listener, router).await?;
//! # Ok(()) }
//! ```

mod cleanup;
mod config;
mod cookie;
mod http;
mod jose;
mod keyring;
mod metrics;
mod provider;
mod routes;
mod sessions;
mod state;
mod store;

pub use cleanup::CleanupReport;
pub use config::{BackendConfig, ClientAuthMethod, ConfigError, Mode, RequestObjectAlg};
pub use cookie::{cookie_name, DEV_COOKIE, SECURE_COOKIE};
pub use http::HttpClient;
pub use jose::{verify_signature, RequestSigner};
pub use keyring::{KeyRing, KeyRingError};
pub use metrics::{Metrics, MAX_ROUTES};
pub use provider::{LoginError, Provider, ProviderError, SignedIn};
pub use routes::{router, CSRF_HEADER};
pub use sessions::{Rejected, SessionError};
pub use state::AppState;
pub use store::{Database, SessionLock, SessionRow, StoreError};

use std::sync::Arc;
use std::time::Duration;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Why the backend did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Settings or secrets.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key ring.
    #[error("encryption keys: {0}")]
    Keys(#[from] KeyRingError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The provider.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// Reads the secrets, opens the database (applying migrations), discovers the provider, and builds the routes.
/// The cleanup task is started too.
pub async fn start(settings: BackendConfig) -> Result<(Arc<AppState>, axum::Router), StartError> {
    let keys = KeyRing::parse(&settings.key_ring_text()?)?;
    let secret = settings.client_secret()?;
    let http = HttpClient::new(Duration::from_millis(settings.request_timeout_ms));
    let db = Database::connect(&settings.database_url).await?;
    let provider = Provider::discover(&settings, http.clone(), secret).await?;
    let app = AppState::new(settings, provider, db, keys, http);
    app.spawn_cleanup();
    let router = routes::router(Arc::clone(&app));
    Ok((app, router))
}
