//! The authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636) and what is kept for its round trip.

use crate::config::AuthConfig;
use crate::discovery::ProviderMetadata;
use crate::form::form_encode;
use crate::pkce::PkceVerifier;
use crate::return_path::sanitize_return_path;
use crate::secret::{Nonce, State};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long a started sign-in may take before its state is refused (10 minutes).
pub const PENDING_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// What one sign-in attempt keeps in sessionStorage between the redirect to the IdP and the callback.
///
/// The state, nonce and verifier are redacted types: `Debug` never shows them.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{pkce::PkceVerifier, PendingAuthorization};
/// let verifier = PkceVerifier::parse("v".repeat(43)).unwrap();
/// let p = PendingAuthorization::new("st", "nn", verifier, "//evil.test", "https://app.test/callback", 1_000);
/// assert_eq!(p.return_to, "/");
/// assert!(!p.is_expired(1_000 + 599_999));
/// assert!(p.is_expired(1_000 + 600_000));
/// assert!(!format!("{p:?}").contains("vvvv"));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The one-time `state`.
    pub state: State,
    /// The `nonce` expected in the ID token.
    pub nonce: Nonce,
    /// The PKCE code verifier.
    pub code_verifier: PkceVerifier,
    /// Where to go after sign-in (already sanitised).
    pub return_to: String,
    /// The redirect URI used (the exchange must repeat it).
    pub redirect_uri: String,
    /// When the attempt started (ms since epoch).
    pub created_at: i64,
    /// The `max_age` the request asked for: the ID token's `auth_time` is checked against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_secs: Option<u32>,
    /// The `acr_values` the request asked for: the ID token's `acr` must be one of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
}

/// What a sign-in may ask of the provider beyond the defaults (OpenID Connect Core §3.1.2.1).
///
/// ## Usage
///
/// ```
/// use oten_auth_core::SignInOptions;
/// let step_up = SignInOptions { max_age_secs: Some(0), acr_values: Some("urn:mfa".into()), ..Default::default() };
/// assert_eq!(step_up.prompt, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInOptions {
    /// `prompt`: `login`, `consent`, `select_account` or `none`.
    pub prompt: Option<String>,
    /// `max_age`: the longest time since the person last authenticated, in seconds (0: authenticate now).
    pub max_age_secs: Option<u32>,
    /// `acr_values`: authentication context classes asked for, space-separated.
    pub acr_values: Option<String>,
    /// `login_hint`: who is expected to sign in (an email address, a user name).
    pub login_hint: Option<String>,
    /// `ui_locales`: preferred languages of the sign-in pages, space-separated BCP 47 tags.
    pub ui_locales: Option<String>,
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
        state: impl Into<State>,
        nonce: impl Into<Nonce>,
        code_verifier: PkceVerifier,
        return_to: &str,
        redirect_uri: impl Into<String>,
        now_ms: i64,
    ) -> Self {
        Self {
            state: state.into(),
            nonce: nonce.into(),
            code_verifier,
            return_to: sanitize_return_path(return_to),
            redirect_uri: redirect_uri.into(),
            created_at: now_ms,
            max_age_secs: None,
            acr_values: None,
        }
    }

    /// The same attempt, remembering what `options` ask the ID token to prove (`max_age`, `acr_values`).
    #[must_use]
    pub fn with_options(mut self, options: &SignInOptions) -> Self {
        self.max_age_secs = options.max_age_secs;
        self.acr_values = options.acr_values.clone();
        self
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
/// use oten_auth_core::{AuthConfig, AuthorizationRequest, PendingAuthorization, ProviderMetadata, SignInOptions};
/// let config = AuthConfig::from_json(r#"{"issuer":"https://account.oten.com","client_id":"spa",
///   "endpoints":{"authorization_endpoint":"https://account.oten.com/v1/oauth/authorize",
///   "token_endpoint":"https://account.oten.com/v1/oauth/token","jwks_uri":"https://account.oten.com/jwks"}}"#)
///   .unwrap().with_app_origin("https://app.test");
/// let meta = ProviderMetadata::from_config(&config).unwrap();
/// let verifier = oten_auth_core::pkce::PkceVerifier::parse("v".repeat(43)).unwrap();
/// let pending = PendingAuthorization::new("st", "nn", verifier, "/", &config.redirect_uri, 0);
/// let url = AuthorizationRequest::url(&meta, &config, &pending, "CHALLENGE", &SignInOptions::default());
/// assert!(url.starts_with("https://account.oten.com/v1/oauth/authorize?response_type=code&client_id=spa"));
/// assert!(url.contains("&code_challenge=CHALLENGE&code_challenge_method=S256"));
/// assert!(url.contains("&scope=openid+profile+email+offline_access"));
/// let options = SignInOptions { prompt: Some("login".into()), max_age_secs: Some(60), ..Default::default() };
/// assert!(AuthorizationRequest::url(&meta, &config, &pending, "C", &options).ends_with("&prompt=login&max_age=60"));
/// ```
pub struct AuthorizationRequest;

impl AuthorizationRequest {
    /// The authorization URL: `response_type=code`, client, redirect URI, scopes, state, nonce, the S256 challenge,
    /// and the `options` given. No secret and no JAR (a public client must not use one at Oten).
    pub fn url(
        meta: &ProviderMetadata,
        config: &AuthConfig,
        pending: &PendingAuthorization,
        code_challenge: &str,
        options: &SignInOptions,
    ) -> String {
        let params = Self::parameters(config, pending, code_challenge, options);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Self::at_endpoint(meta, &pairs)
    }

    /// The URL of a sign-in whose parameters travel in a signed request object (RFC 9101 §5.1): `client_id` and the
    /// `request` JWT, plus `response_type` and `scope` repeated as OpenID Connect Core §6.1 asks (they equal the
    /// object's own).
    ///
    /// ```
    /// use oten_auth_core::{AuthorizationRequest, ProviderMetadata};
    /// # let meta: ProviderMetadata = serde_json::from_str(r#"{"issuer":"https://idp.test",
    /// #   "authorization_endpoint":"https://idp.test/authorize","token_endpoint":"https://idp.test/token",
    /// #   "jwks_uri":"https://idp.test/jwks"}"#).unwrap();
    /// let url = AuthorizationRequest::url_with_request(&meta, "bff", "openid", "eyJ.eyJ.sig");
    /// assert_eq!(url, "https://idp.test/authorize?client_id=bff&response_type=code&scope=openid&request=eyJ.eyJ.sig");
    /// ```
    pub fn url_with_request(meta: &ProviderMetadata, client_id: &str, scope: &str, request: &str) -> String {
        Self::at_endpoint(
            meta,
            &[("client_id", client_id), ("response_type", "code"), ("scope", scope), ("request", request)],
        )
    }

    /// The URL of a sign-in pushed beforehand (RFC 9126 §4): `client_id` and the `request_uri` the provider gave.
    ///
    /// ```
    /// use oten_auth_core::{AuthorizationRequest, ProviderMetadata};
    /// # let meta: ProviderMetadata = serde_json::from_str(r#"{"issuer":"https://idp.test",
    /// #   "authorization_endpoint":"https://idp.test/authorize","token_endpoint":"https://idp.test/token",
    /// #   "jwks_uri":"https://idp.test/jwks"}"#).unwrap();
    /// let url = AuthorizationRequest::url_with_request_uri(&meta, "bff", "urn:ietf:params:oauth:request_uri:abc");
    /// assert_eq!(url, "https://idp.test/authorize?client_id=bff&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc");
    /// ```
    pub fn url_with_request_uri(meta: &ProviderMetadata, client_id: &str, request_uri: &str) -> String {
        Self::at_endpoint(meta, &[("client_id", client_id), ("request_uri", request_uri)])
    }

    /// The parameters of a sign-in, in order: the required ones, then the `options` given (empty ones left out).
    pub(crate) fn parameters(
        config: &AuthConfig,
        pending: &PendingAuthorization,
        code_challenge: &str,
        options: &SignInOptions,
    ) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("response_type", "code".to_owned()),
            ("client_id", config.client_id.clone()),
            ("redirect_uri", pending.redirect_uri.clone()),
            ("scope", config.scope()),
            ("state", pending.state.expose().to_owned()),
            ("nonce", pending.nonce.expose().to_owned()),
            ("code_challenge", code_challenge.to_owned()),
            ("code_challenge_method", "S256".to_owned()),
        ];
        let optional = [
            ("prompt", options.prompt.clone()),
            ("max_age", options.max_age_secs.map(|s| s.to_string())),
            ("acr_values", options.acr_values.clone()),
            ("login_hint", options.login_hint.clone()),
            ("ui_locales", options.ui_locales.clone()),
        ];
        params.extend(optional.into_iter().filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v))));
        params
    }

    fn at_endpoint(meta: &ProviderMetadata, pairs: &[(&str, &str)]) -> String {
        let separator = if meta.authorization_endpoint.contains('?') { '&' } else { '?' };
        format!("{}{separator}{}", meta.authorization_endpoint, form_encode(pairs))
    }
}
