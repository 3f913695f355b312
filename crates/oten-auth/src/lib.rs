//! Sign in to the Oten identity provider from a Leptos app, and stay signed in.
//!
//! This crate is the browser half of the library: thin adapters over sessionStorage, `fetch`, WebCrypto and
//! `window.location`, and a Leptos binding. The protocol logic, the token manager and the API client live in
//! the sans-IO [`oten_auth_core`] crate (re-exported as [`core`]) and are tested natively.
//!
//! ## Usage
//!
//! Provide the session once at the root, mount the library's routes at its paths ([`core::routes`]), guard
//! protected pages, and call the API like the Leptos `fetch` example: the handle waits for the session, adds the
//! token, refreshes it and retries once after a 401.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use leptos_router::{components::{Route, Router, Routes}, path, StaticSegment};
//! use oten_auth::core::routes::{CALLBACK_SEGMENT, LOGIN_SEGMENT};
//! use oten_auth::{provide_auth_from_url, use_auth, AuthCallback, LoginRedirect, RequireAuth};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     provide_auth_from_url("/config.json"); // {"auth": {issuer, client_id, api_origins, …}, "app": {…}}
//!     view! {
//!         <Router>
//!             <Routes fallback=|| "Not found">
//!                 <Route path=StaticSegment(LOGIN_SEGMENT) view=LoginRedirect/>
//!                 <Route path=StaticSegment(CALLBACK_SEGMENT) view=AuthCallback/>
//!                 <Route path=path!("/profile") view=|| view! { <RequireAuth><Profile/></RequireAuth> }/>
//!             </Routes>
//!         </Router>
//!     }
//! }
//!
//! #[derive(Clone, serde::Deserialize)]
//! struct Me { name: String }
//!
//! #[component]
//! fn Profile() -> impl IntoView {
//!     let auth = use_auth();
//!     let me = LocalResource::new(move || auth.get_json::<Me>("https://api.example.test/me"));
//!     view! {
//!         <Suspense fallback=|| "Loading…">
//!             <ErrorBoundary fallback=|_| "Could not load your profile">
//!                 // try_get: the answer may arrive after the page is gone (the session ended elsewhere).
//!                 {move || me.try_get().flatten().map(|me| me.map(|me| me.name))}
//!             </ErrorBoundary>
//!         </Suspense>
//!     }
//! }
//! ```
//!
//! Tests of an embedding app render these pages with no IdP: see `testing` (feature `testing`).
#![warn(missing_docs)]

pub mod scheduler;
#[cfg(feature = "testing")]
pub mod testing;
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
mod use_auth;
mod web_locks;

pub use oten_auth_core as core;

pub use auth::{Auth, AuthParts};
pub use browser_clock::BrowserClock;
pub use browser_navigator::{current_origin, replace_url, BrowserNavigator};
pub use browser_runtime::BrowserRuntime;
pub use browser_siblings::{BrowserSiblings, CHANNEL_PREFIX, REFRESH_LOCK_PREFIX};
pub use components::{AuthCallback, AuthProblem, LoginRedirect, RequireAuth};
pub use config_loader::{load_config, ConfigLoadError};
pub use context::{
    provide_auth, provide_auth_from_url, provide_auth_with_options, try_use_auth, use_auth, use_user, ConfigSource,
    ProvideAuthOptions,
};
pub use fetch_transport::{FetchTransport, DEFAULT_TIMEOUT_MS};
pub use pending::{remove_stale_pending, save_pending, take_pending, SessionPendingStore, PENDING_KEY};
pub use provider::{load_metadata, DISCOVERY_KEY};
pub use reauth_store::{load_reauth, REAUTH_KEY};
pub use session_store::{SessionStorageStore, TOKENS_KEY};
pub use sign_out::end_idp_session;
pub use tab_identity::{claim_tab_identity, TabIdentity, TAB_KEY};
pub use use_auth::{AppSettingsError, AuthStatus, AuthUnavailable, LastError, UseAuth};
