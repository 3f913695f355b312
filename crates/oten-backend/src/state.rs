//! What every request handler shares: settings, the provider, the database, the key ring, metrics, and the
//! in-process single flight of refreshes.

use crate::config::BackendConfig;
use crate::http::HttpClient;
use crate::keyring::KeyRing;
use crate::metrics::Metrics;
use crate::provider::Provider;
use crate::store::Database;
use axum::http::{HeaderName, HeaderValue};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// The backend's shared state.
#[derive(Debug)]
pub struct AppState {
    /// The settings.
    pub settings: BackendConfig,
    /// The provider.
    pub provider: Provider,
    /// Sessions.
    pub db: Database,
    /// Encryption of tokens at rest.
    pub keys: KeyRing,
    /// Outgoing HTTP (provider and API).
    pub http: HttpClient,
    /// Metrics.
    pub metrics: Metrics,
    /// The security headers of the app's documents ([`BackendConfig::document_headers`]; the strictest ones,
    /// same origin only, when the app's configuration names something no policy can).
    pub document_headers: Vec<(HeaderName, HeaderValue)>,
    flights: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl AppState {
    /// The state of a started backend.
    pub fn new(
        settings: BackendConfig,
        provider: Provider,
        db: Database,
        keys: KeyRing,
        http: HttpClient,
    ) -> Arc<Self> {
        // Checked when the configuration was loaded (BackendConfig::check); the strictest policy is only a fallback.
        let headers =
            settings.document_headers().unwrap_or_else(|_| oten_auth_core::SecurityHeaders::same_origin_only());
        let document_headers = headers
            .headers()
            .into_iter()
            .filter_map(|(name, value)| {
                Some((HeaderName::from_bytes(name.as_bytes()).ok()?, HeaderValue::from_str(&value).ok()?))
            })
            .collect();
        Arc::new(Self {
            settings,
            provider,
            db,
            keys,
            http,
            metrics: Metrics::default(),
            document_headers,
            flights: Mutex::default(),
        })
    }

    /// The in-process lock of one session's refresh: every concurrent request of the session waits on the same one.
    pub(crate) fn flight(&self, session: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = flights.get(session).and_then(Weak::upgrade) {
            return existing;
        }
        if flights.len() >= 1024 {
            flights.retain(|_, w| w.strong_count() > 0);
        }
        let fresh = Arc::new(tokio::sync::Mutex::new(()));
        flights.insert(session.to_owned(), Arc::downgrade(&fresh));
        fresh
    }
}
