//! Sign in to the Oten identity provider from a Leptos app, and stay signed in.
//!
//! This crate is the browser half of the library: thin adapters over sessionStorage, `fetch`, WebCrypto and
//! `window.location`, and a Leptos binding. The protocol logic, the token manager and the API client live in
//! the sans-IO [`oten_auth_core`] crate (re-exported as [`core`]) and are tested natively.
//!
//! ## Usage
//!
//! ```no_run
//! use leptos::prelude::*;
//! use leptos_router::{components::{Route, Router, Routes}, path};
//! use oten_auth::{provide_auth_from_url, use_auth, AuthCallback, LoginRedirect, RequireAuth};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     provide_auth_from_url("/config.json"); // issuer, client_id, api_origins, …
//!     view! {
//!         <Router>
//!             <Routes fallback=|| "Not found">
//!                 <Route path=path!("/login") view=LoginRedirect/>
//!                 <Route path=path!("/callback") view=AuthCallback/>
//!                 <Route path=path!("/profile") view=|| view! { <RequireAuth><Profile/></RequireAuth> }/>
//!             </Routes>
//!         </Router>
//!     }
//! }
//!
//! #[component]
//! fn Profile() -> impl IntoView {
//!     let auth = use_auth();
//!     let profile = LocalResource::new(move || async move {
//!         let client = auth.client()?;
//!         client.get_json::<serde_json::Value>("http://127.0.0.1:9001/api/user/profile").await.ok()
//!     });
//!     view! { <pre>{move || profile.get().flatten().map(|p| p.to_string())}</pre> }
//! }
//! ```
#![warn(missing_docs)]

pub mod scheduler;
pub mod webcrypto;

mod auth;
mod browser_clock;
mod browser_navigator;
mod browser_runtime;
mod browser_siblings;
mod components;
mod config_loader;
mod context;
mod fetch_transport;
mod lineage_records;
mod pending;
mod provider;
mod reauth_store;
mod session_store;
mod sign_out;
mod tab_identity;
mod web_locks;

pub use oten_auth_core as core;

pub use auth::{Auth, AuthParts};
pub use browser_clock::BrowserClock;
pub use browser_navigator::{current_origin, replace_url, BrowserNavigator};
pub use browser_runtime::BrowserRuntime;
pub use browser_siblings::{BrowserSiblings, CHANNEL_PREFIX, REFRESH_LOCK_PREFIX};
pub use components::{AuthCallback, AuthProblem, LoginRedirect, RequireAuth};
pub use config_loader::{load_config, ConfigLoadError};
pub use context::{provide_auth, provide_auth_from_url, use_auth, AuthStatus, UseAuth, PROVIDED_TWICE};
pub use fetch_transport::{FetchTransport, DEFAULT_TIMEOUT_MS};
pub use pending::{remove_stale_pending, save_pending, take_pending, SessionPendingStore, PENDING_KEY};
pub use provider::{load_metadata, DISCOVERY_KEY};
pub use reauth_store::{load_reauth, REAUTH_KEY};
pub use session_store::{SessionStorageStore, TOKENS_KEY};
pub use sign_out::end_idp_session;
pub use tab_identity::{claim_tab_identity, TabIdentity, TAB_KEY};
