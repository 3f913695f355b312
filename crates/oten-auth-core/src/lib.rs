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
pub mod pkce;

mod api_client;
mod authorize;
mod callback;
mod clock;
mod config;
mod discovery;
mod error;
pub mod form;
mod manager;
pub mod metrics;
mod navigator;
mod oauth_error;
pub mod origin;
mod policy;
pub mod request;
mod return_path;
mod secret;
mod store;
mod token_set;
mod transport;

pub mod testing;

pub use api_client::{ApiClient, ApiError, ApiHook};
pub use authorize::{AuthorizationRequest, PendingAuthorization, PENDING_LIFETIME_MS};
pub use callback::{CallbackError, CallbackParams};
pub use clock::Clock;
pub use config::{AuthConfig, ConfigError, EndpointOverrides};
pub use discovery::{DiscoveryError, ProviderMetadata};
pub use error::AuthError;
pub use form::{form_encode, parse_query};
pub use manager::{ManagerConfig, SessionEvent, Subscription, TokenManager};
pub use metrics::{MetricEvent, Metrics, MetricsSink, MetricsSnapshot};
pub use navigator::{is_auth_route, login_url, Navigator};
pub use oauth_error::OAuthErrorBody;
pub use origin::{origin_of, OriginAllowList};
pub use policy::RefreshPolicy;
pub use request::{code_exchange_request, refresh_request, revocation_request, token_endpoint_outcome, RevocableToken};
pub use return_path::sanitize_return_path;
pub use secret::{AccessToken, IdToken, RefreshToken};
pub use store::{MemoryStore, StoreError, TokenStore};
pub use token_set::{TokenResponseError, TokenSet, DEFAULT_EXPIRES_IN_SECS, MAX_EXPIRES_IN_SECS};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
