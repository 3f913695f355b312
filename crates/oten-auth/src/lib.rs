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
//! use oten_auth::core::routes::{CALLBACK_SEGMENT, LOGIN_SEGMENT, SIGNED_OUT_SEGMENT};
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
//!                 <Route path=StaticSegment(SIGNED_OUT_SEGMENT) view=|| "Signed out"/>
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

#[cfg(feature = "testing")]
pub mod testing;

mod auth;
mod backend_session;
mod browser_clock;
mod browser_navigator;
mod browser_runtime;
mod browser_siblings;
mod components;
mod config_loader;
mod context;
mod dpop_binding;
mod dpop_keys;
mod fetch_transport;
mod idb;
mod js_token;
mod lineage_records;
mod pending;
mod provider;
mod reauth_store;
mod scheduler;
mod session_store;
mod sign_out;
mod tab_identity;
mod use_auth;
mod web_locks;
mod webcrypto;

pub use oten_auth_core as core;

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

// The Leptos binding.
pub use components::{AuthCallback, AuthProblem, LoginRedirect, RequireAuth};
pub use context::{
    provide_auth, provide_auth_from_url, provide_auth_with_options, try_use_auth, use_auth, use_user, ConfigSource,
    ProvideAuthOptions,
};
pub use use_auth::{AppSettingsError, AuthStatus, AuthUnavailable, LastError, RequestError, UseAuth};

// The session without Leptos, and the browser's parts it is built from.
pub use auth::{Auth, AuthParts};
pub use backend_session::BackendUnavailable;
pub use browser_clock::BrowserClock;
pub use browser_navigator::BrowserNavigator;
pub use browser_runtime::BrowserRuntime;
pub use browser_siblings::BrowserSiblings;
pub use config_loader::{load_config, ConfigLoadError};
pub use fetch_transport::FetchTransport;
pub use js_token::JsTokenSource;
pub use pending::SessionPendingStore;
pub use scheduler::{start_background_refresh, BackgroundRefresh};
pub use session_store::SessionStorageStore;
pub use webcrypto::WebCrypto;

/// Where the library keeps its state in the browser: sessionStorage keys (this tab only), the
/// `BroadcastChannel` and Web Lock name prefixes shared by the app's tabs. Nothing else is stored.
pub mod storage_keys {
    pub use crate::browser_siblings::{CHANNEL_PREFIX, REFRESH_LOCK_PREFIX};
    pub use crate::pending::PENDING_KEY;
    pub use crate::provider::DISCOVERY_KEY;
    pub use crate::reauth_store::REAUTH_KEY;
    pub use crate::session_store::TOKENS_KEY;
    pub use crate::tab_identity::TAB_KEY;
}
