//! Sans-IO core of the Oten sign-in library.
//!
//! Everything here is plain Rust with no browser, no clock and no network of its own: time comes from a
//! [`Clock`], tokens are kept by a [`TokenStore`] and requests leave through a [`Transport`]. The browser
//! crate (`oten-auth`) supplies the real ones; tests supply fakes and run natively in milliseconds.
//!
//! The centre is the [`TokenManager`]: it hands out a valid access token, refreshes it ahead of expiry and
//! makes every concurrent caller wait on **one** shared refresh.
//!
//! ## Usage
//!
//! ```
//! use std::rc::Rc;
//! use oten_auth_core::{Clock, ManagerConfig, MemoryStore, Metrics, TokenManager, TokenSet, testing::{FakeClock, FakeTransport}};
//!
//! let clock = Rc::new(FakeClock::new(1_000_000));
//! let manager = TokenManager::new(
//!     ManagerConfig::new("https://account.oten.com/v1/oauth/token", "my-client"),
//!     clock.clone(),
//!     Rc::new(MemoryStore::default()),
//!     Rc::new(FakeTransport::default()),
//!     Metrics::default(),
//! );
//! let tokens = TokenSet::parse_token_response(
//!     r#"{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt"}"#,
//!     clock.now_ms(),
//!     None,
//! ).unwrap();
//! manager.sign_in(tokens).unwrap();
//! let token = futures::executor::block_on(manager.get_valid_access_token()).unwrap();
//! assert_eq!(token.expose(), "at");
//! ```
#![warn(missing_docs)]

pub mod base64url;
pub mod id_token;
mod json_error;
pub mod pkce;

mod api_client;
mod authorize;
mod backoff;
mod callback;
mod client_auth;
mod clock;
mod config;
mod crypto;
mod discovery;
mod dpop;
mod end_reason;
mod end_session;
mod error;
mod fetch_error;
mod form;
mod lineage;
mod manager;
mod metrics;
mod navigator;
mod oauth_error;
mod origin;
mod pending_store;
mod policy;
mod reauth;
mod refresh_source;
mod request;
mod request_object;
mod return_path;
pub mod routes;
mod secret;
mod security_headers;
mod siblings;
mod sign_in;
mod step_up;
mod store;
mod token_set;
mod transport;

pub mod testing;

pub use api_client::{ApiClient, ApiError, ApiHook};
pub use authorize::{AuthorizationRequest, PendingAuthorization, SignInOptions, PENDING_LIFETIME_MS};
pub use backoff::{backoff_ms, FIRST_BACKOFF_MS, MAX_BACKOFF_MS, MAX_RETRY_AFTER_SECS};
pub use callback::{constant_time_eq, CallbackError, CallbackParams};
pub use client_auth::{ClientAuth, OAuthClient};
pub use clock::Clock;
pub use config::{AuthConfig, AuthMode, ConfigError, ConfigFile, EndpointOverrides, DEFAULT_REQUEST_TIMEOUT_MS};
pub use crypto::{Crypto, CryptoError};
pub use discovery::{DiscoveryError, ProviderMetadata};
pub use dpop::{
    asks_for_dpop_nonce, dpop_offered, dpop_signing_input, Dpop, DpopKey, DpopKeyError, DpopKeyLoader, DpopTransport,
    DPOP_ALG,
};
pub use end_reason::EndReason;
pub use end_session::{end_session_request, EndSession, EndSessionMethod};
pub use error::{AuthError, Deferral};
pub use fetch_error::FetchError;
pub use form::{form_encode, parse_query};
pub use json_error::JsonError;
pub use lineage::{InFlight, LineageRecord, RefreshGate};
pub use manager::{
    ManagerConfig, SessionEvent, Subscription, TokenManager, COMFORT_MARGIN_MS, DEFAULT_ASK_TIMEOUT_MS,
    DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_MAX_SESSION_AGE_SECS,
};
pub use metrics::{
    endpoint_label, EndpointUsage, MetricEvent, Metrics, MetricsSink, MetricsSnapshot, MAX_ENDPOINT_LABELS,
};
pub use navigator::{is_auth_route, login_url, Navigator};
pub use oauth_error::OAuthErrorBody;
pub use origin::{origin_of, OriginAllowList};
pub use pending_store::{MemoryPendingStore, PendingStore};
pub use policy::{RefreshPolicy, DEFAULT_REFRESH_BUFFER_SECS};
pub use reauth::{LoginDecision, ReauthState, REPEAT_WINDOW_MS};
pub use refresh_source::{backend_refresh_outcome, backend_refresh_request, RefreshSource, CSRF_HEADER};
pub use request::{
    code_exchange_request, refresh_outcome, refresh_request, revocation_request, token_endpoint_outcome,
    RefreshOutcome, RevocableToken,
};
pub use request_object::{
    par_outcome, par_request, sign_jwt, JwsSigner, PushedRequest, RequestObject, REQUEST_OBJECT_LIFETIME_SECS,
    REQUEST_OBJECT_TYPE,
};
pub use return_path::sanitize_return_path;
pub use secret::{AccessToken, AuthorizationCode, ClientSecret, IdToken, Nonce, RefreshToken, State};
pub use security_headers::{SecurityHeaders, SecurityHeadersError};
pub use siblings::{
    LockGuard, LockMode, RecordUpdate, Runtime, SiblingMessage, SiblingTab, Siblings, SiblingsError, TokensKind,
};
pub use sign_in::{fetch_jwks, SignInError, SignInFlow, SignInParts, SignedIn};
pub use step_up::{StepUpChallenge, INSUFFICIENT_USER_AUTHENTICATION, STEP_UP_FRESH_SECS};
pub use store::{MemoryStore, StoreError, TokenStore};
pub use token_set::{
    is_valid_lineage, TokenResponseError, TokenSet, BACKEND_HELD, BEARER, DEFAULT_EXPIRES_IN_SECS, DPOP,
    MAX_EXPIRES_IN_SECS, MAX_LINEAGE_LEN,
};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
