//! The authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636) and what is kept for its round trip.

use crate::config::AuthConfig;
use crate::discovery::ProviderMetadata;
use crate::form::form_encode;
use crate::return_path::sanitize_return_path;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long a started sign-in may take before its state is refused (10 minutes).
pub const PENDING_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// What one sign-in attempt keeps in sessionStorage between the redirect to the IdP and the callback.
///
/// `Debug` redacts the state, nonce and verifier.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::PendingAuthorization;
/// let p = PendingAuthorization::new("st", "nn", "v".repeat(43), "//evil.test", "https://app.test/callback", 1_000);
/// assert_eq!(p.return_to, "/");
/// assert!(!p.is_expired(1_000 + 599_999));
/// assert!(p.is_expired(1_000 + 600_000));
/// assert!(!format!("{p:?}").contains("vvvv"));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The one-time `state`.
    pub state: String,
    /// The `nonce` expected in the ID token.
    pub nonce: String,
    /// The PKCE code verifier.
    pub code_verifier: String,
    /// Where to go after sign-in (already sanitised).
    pub return_to: String,
    /// The redirect URI used (the exchange must repeat it).
    pub redirect_uri: String,
    /// When the attempt started (ms since epoch).
    pub created_at: i64,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("return_to", &self.return_to)
            .field("redirect_uri", &self.redirect_uri)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl PendingAuthorization {
    /// A new attempt; `return_to` is sanitised here, so nothing hostile is ever kept.
    pub fn new(
        state: impl Into<String>,
        nonce: impl Into<String>,
        code_verifier: impl Into<String>,
        return_to: &str,
        redirect_uri: impl Into<String>,
        now_ms: i64,
    ) -> Self {
        Self {
            state: state.into(),
            nonce: nonce.into(),
            code_verifier: code_verifier.into(),
            return_to: sanitize_return_path(return_to),
            redirect_uri: redirect_uri.into(),
            created_at: now_ms,
        }
    }

    /// Whether the attempt is too old to be completed.
    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.created_at.saturating_add(PENDING_LIFETIME_MS) || now_ms < self.created_at.saturating_sub(60_000)
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form; `None` when corrupt.
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// Builds the URL that starts a sign-in at the IdP.
///
/// ```
/// use oten_auth_core::{AuthConfig, AuthorizationRequest, PendingAuthorization, ProviderMetadata};
/// let config = AuthConfig::from_json(r#"{"issuer":"https://account.oten.com","client_id":"spa",
///   "endpoints":{"authorization_endpoint":"https://account.oten.com/v1/oauth/authorize",
///   "token_endpoint":"https://account.oten.com/v1/oauth/token","jwks_uri":"https://account.oten.com/jwks"}}"#)
///   .unwrap().with_app_origin("https://app.test");
/// let meta = ProviderMetadata::from_config(&config).unwrap();
/// let pending = PendingAuthorization::new("st", "nn", "v".repeat(43), "/", &config.redirect_uri, 0);
/// let url = AuthorizationRequest::url(&meta, &config, &pending, "CHALLENGE");
/// assert!(url.starts_with("https://account.oten.com/v1/oauth/authorize?response_type=code&client_id=spa"));
/// assert!(url.contains("&code_challenge=CHALLENGE&code_challenge_method=S256"));
/// assert!(url.contains("&scope=openid+profile+email+offline_access"));
/// ```
pub struct AuthorizationRequest;

impl AuthorizationRequest {
    /// The authorization URL: `response_type=code`, client, redirect URI, scopes, state, nonce, and the S256
    /// challenge. No secret and no JAR (a public client must not use one at Oten).
    pub fn url(
        meta: &ProviderMetadata,
        config: &AuthConfig,
        pending: &PendingAuthorization,
        code_challenge: &str,
    ) -> String {
        let scope = config.scope();
        let query = form_encode(&[
            ("response_type", "code"),
            ("client_id", &config.client_id),
            ("redirect_uri", &pending.redirect_uri),
            ("scope", &scope),
            ("state", &pending.state),
            ("nonce", &pending.nonce),
            ("code_challenge", code_challenge),
            ("code_challenge_method", "S256"),
        ]);
        let separator = if meta.authorization_endpoint.contains('?') { '&' } else { '?' };
        format!("{}{separator}{query}", meta.authorization_endpoint)
    }
}
