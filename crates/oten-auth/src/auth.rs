//! The signed-in session of one app: sign-in, callback, tokens, API client, sign-out.

use crate::backend_session::{BackendSession, BackendUnavailable};
use crate::browser_clock::BrowserClock;
use crate::browser_navigator::{replace_url, BrowserNavigator};
use crate::browser_runtime::BrowserRuntime;
use crate::browser_siblings::BrowserSiblings;
use crate::dpop_binding;
use crate::fetch_transport::FetchTransport;
use crate::pending::{remove_stale_pending, SessionPendingStore};
use crate::provider::load_metadata;
use crate::reauth_store::{load_reauth, update_reauth};
use crate::session_store::SessionStorageStore;
use crate::sign_out::end_idp_session;
use crate::webcrypto::WebCrypto;
use oten_auth_core::{
    dpop_offered, sanitize_return_path, ApiClient, AuthConfig, AuthMode, CallbackError, Clock, Crypto, DiscoveryError,
    Dpop, DpopTransport, LoginDecision, ManagerConfig, MemoryStore, Metrics, Navigator, OriginAllowList, PendingStore,
    ProviderMetadata, ReauthState, RefreshPolicy, RefreshSource, Runtime, SessionEvent, SignInError, SignInFlow,
    SignInOptions, SignInParts, StepUpChallenge, TokenManager, TokenSet, TokenStore, Transport,
};
use std::rc::Rc;

/// The reason a session ended, from a manager event.
fn matches_ended(event: &SessionEvent) -> Option<oten_auth_core::EndReason> {
    match event {
        SessionEvent::Ended(error) => error.end_reason().cloned(),
        _ => None,
    }
}

/// The parts an [`Auth`] is built from; each can be swapped (tests, other stores, other transports).
pub struct AuthParts {
    /// Where tokens are kept (default: sessionStorage).
    pub store: Rc<dyn TokenStore>,
    /// How requests are sent (default: fetch with a 15 s timeout).
    pub transport: Rc<dyn Transport>,
    /// The clock (default: `Date.now()`).
    pub clock: Rc<dyn Clock>,
    /// How the browser is moved (default: `window.location`).
    pub navigator: Rc<dyn Navigator>,
    /// Metrics (default: fresh counters).
    pub metrics: Metrics,
    /// Runs refreshes to completion in the background, and waits (default: the browser's event loop).
    pub runtime: Rc<dyn Runtime>,
    /// The sibling tabs to coordinate with (default: none — a lone tab). The Leptos binding connects
    /// [`BrowserSiblings`]; without them, tabs that share a session (a duplicated tab) may present one refresh
    /// token twice.
    pub siblings: Option<BrowserSiblings>,
    /// Random bytes, hashing and signature checks (default: WebCrypto).
    pub crypto: Rc<dyn Crypto>,
    /// Where a sign-in waits for its callback (default: sessionStorage).
    pub pending: Rc<dyn PendingStore>,
}

impl Default for AuthParts {
    fn default() -> Self {
        Self {
            store: Rc::new(SessionStorageStore::default()),
            transport: Rc::new(FetchTransport::default()),
            clock: Rc::new(BrowserClock),
            navigator: Rc::new(BrowserNavigator),
            metrics: Metrics::default(),
            runtime: Rc::new(BrowserRuntime),
            siblings: None,
            crypto: Rc::new(WebCrypto),
            pending: Rc::new(SessionPendingStore),
        }
    }
}

impl AuthParts {
    /// The browser's parts with the configuration's request timeout, coordinating with `siblings`.
    ///
    /// ```no_run
    /// # async fn demo(config: oten_auth_core::AuthConfig) {
    /// let siblings = oten_auth::BrowserSiblings::connect(&config.client_id).await;
    /// let parts = oten_auth::AuthParts::for_config(&config, Some(siblings));
    /// # let _ = parts; }
    /// ```
    pub fn for_config(config: &AuthConfig, siblings: Option<BrowserSiblings>) -> Self {
        Self {
            transport: Rc::new(FetchTransport::with_timeout_ms(config.request_timeout_ms)),
            siblings,
            ..Self::default()
        }
    }
}

struct Inner {
    config: AuthConfig,
    /// The provider's sign-in and sign-out (public mode).
    flow: Option<Rc<SignInFlow>>,
    /// The backend that is the provider's client (token-mediating and bff modes).
    backend: Option<Rc<BackendSession>>,
    transport: Rc<dyn Transport>,
    manager: TokenManager,
    client: ApiClient,
    navigator: Rc<dyn Navigator>,
    siblings: Option<BrowserSiblings>,
    /// The session's DPoP key and nonces, when the provider offers DPoP (public mode).
    dpop: Option<Rc<Dpop>>,
}

/// One app's authentication: built once from the configuration and the provider's metadata.
///
/// Cheap to clone (shared). The Leptos binding ([`crate::provide_auth`]) creates it; apps without Leptos can
/// use it directly.
///
/// ## Usage
///
/// ```no_run
/// # async fn demo(config: oten_auth_core::AuthConfig) -> Result<(), Box<dyn std::error::Error>> {
/// use oten_auth::Auth;
/// let auth = Auth::connect(config).await?;
/// if !auth.manager().is_signed_in() {
///     auth.login("/profile").await?; // leaves the page for the IdP
/// }
/// let profile: serde_json::Value = auth.client().get_json("http://127.0.0.1:9001/api/user/profile").await?;
/// # let _ = profile; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Auth {
    inner: Rc<Inner>,
}

impl Auth {
    /// Loads the provider's metadata and builds the session with the browser's parts.
    pub async fn connect(config: AuthConfig) -> Result<Self, DiscoveryError> {
        Self::connect_with(config, AuthParts::default()).await
    }

    /// Like [`Auth::connect`] with other parts. In the `token-mediating` and `bff` modes nothing is discovered:
    /// the backend is the provider's client ([`Auth::for_backend`]).
    pub async fn connect_with(config: AuthConfig, parts: AuthParts) -> Result<Self, DiscoveryError> {
        if config.mode != AuthMode::Public {
            return Ok(Self::for_backend(config, parts));
        }
        let metadata = load_metadata(&config, parts.transport.as_ref(), parts.clock.now_ms()).await?;
        Ok(Self::from_metadata(config, metadata, parts))
    }

    /// The session of an app whose backend (`oten-backend`) signs in: `token-mediating` (access tokens in memory
    /// only, renewed at the backend's `POST /api/refresh-token` through the same single flight) or `bff` (no token
    /// in the browser; the API client sends the session cookie and the anti-CSRF header to the backend's `/api/*`).
    /// Tokens are never stored (an in-memory store, whatever `parts` say), and tabs do not coordinate: the backend
    /// serialises refreshes for them.
    pub fn for_backend(config: AuthConfig, parts: AuthParts) -> Self {
        let backend = Rc::new(BackendSession::new(config.mode, &config.backend_url));
        let mut manager_config = ManagerConfig::new(String::new(), String::new())
            .with_policy(RefreshPolicy::with_buffer_secs(config.refresh_buffer_secs))
            .with_max_session_age_secs(config.max_session_age_secs);
        if config.mode == AuthMode::TokenMediating {
            manager_config = manager_config.with_refresh_source(RefreshSource::Backend {
                url: backend.url(crate::backend_session::REFRESH_TOKEN_ROUTE),
            });
        }
        let store: Rc<dyn TokenStore> = Rc::new(MemoryStore::default());
        let clock = parts.clock.clone();
        let manager = TokenManager::new(manager_config, parts.clock, store, parts.transport.clone(), parts.metrics)
            .with_runtime(parts.runtime);
        // A session that ends here (an API refused it, it expired) ends at the backend too — else the next page load
        // would find it there and sign in again (a loop); and why it ended survives the page load to /login (the
        // loop guard), as in public mode.
        let (ending, transport) = (backend.clone(), parts.transport.clone());
        manager.subscribe(move |event| {
            if let Some(reason) = matches_ended(event) {
                let now = clock.now_ms();
                update_reauth(|state| state.session_ended(reason.clone(), now));
                let (ending, transport) = (ending.clone(), transport.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = ending.end(transport.as_ref()).await;
                });
            }
        });
        let mut client = ApiClient::new(manager.clone(), config.api_origins.clone(), parts.navigator.clone());
        if config.mode == AuthMode::Bff {
            let origin = OriginAllowList::new([config.backend_url.clone()]).unwrap_or_default();
            client = client.with_cookie_session(origin);
        }
        Self {
            inner: Rc::new(Inner {
                config,
                flow: None,
                backend: Some(backend),
                transport: parts.transport,
                manager,
                client,
                navigator: parts.navigator,
                siblings: None,
                dpop: None,
            }),
        }
    }

    /// Builds the session from metadata already known.
    ///
    /// When the provider offers DPoP with `ES256` (`dpop_signing_alg_values_supported`) and the configuration does
    /// not turn it off (`auth.dpop`), tokens are bound to a non-extractable key of this browser: the transport adds
    /// the proofs ([`DpopTransport`]), and a token copied out of storage is useless elsewhere.
    pub fn from_metadata(config: AuthConfig, metadata: ProviderMetadata, mut parts: AuthParts) -> Self {
        let dpop = (config.dpop && dpop_offered(metadata.dpop_signing_alg_values_supported.as_deref()))
            .then(dpop_binding::browser_dpop);
        if let Some(dpop) = &dpop {
            parts.transport = Rc::new(DpopTransport::new(
                parts.transport,
                dpop.clone(),
                parts.crypto.clone(),
                parts.clock.clone(),
                metadata.token_endpoint.clone(),
            ));
        }
        let mut manager_config = ManagerConfig::new(metadata.token_endpoint.clone(), config.client_id.clone())
            .with_policy(RefreshPolicy::with_buffer_secs(config.refresh_buffer_secs))
            .with_max_session_age_secs(config.max_session_age_secs);
        manager_config.lock_timeout_ms = config.lock_timeout_ms();
        manager_config.join_siblings = config.join_sibling_tabs;
        let mut manager =
            TokenManager::new(manager_config, parts.clock.clone(), parts.store, parts.transport.clone(), parts.metrics)
                .with_runtime(parts.runtime);
        if let Some(siblings) = &parts.siblings {
            manager = manager.with_siblings(Rc::new(siblings.clone()));
            siblings.listen(manager.clone());
        }
        if let Some(dpop) = &dpop {
            dpop_binding::follow(&manager, dpop.clone());
        }
        let client = ApiClient::new(manager.clone(), config.api_origins.clone(), parts.navigator.clone());
        let clock = parts.clock.clone();
        let transport = parts.transport.clone();
        let flow = Rc::new(SignInFlow::new(
            config.clone(),
            metadata,
            SignInParts {
                crypto: parts.crypto,
                pending: parts.pending,
                transport: parts.transport,
                clock: parts.clock,
            },
        ));
        let revoker = flow.clone();
        manager.subscribe(move |event| match event {
            // Tokens the manager threw away without storing (a refresh that finished after sign-out or a new
            // sign-in; a session an API refused, past its maximum age, or left with an unusable answer) may still
            // be live at the IdP: revoke them.
            SessionEvent::Discarded(tokens) => {
                let (revoker, tokens) = (revoker.clone(), tokens.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    revoker.revoke(&tokens).await;
                });
            }
            // Why the session ended survives the page load to /login (the loop guard).
            event @ SessionEvent::Ended(_) => {
                if let Some(reason) = matches_ended(event) {
                    let now = clock.now_ms();
                    update_reauth(|state| state.session_ended(reason.clone(), now));
                }
            }
            _ => {}
        });
        Self {
            inner: Rc::new(Inner {
                config,
                flow: Some(flow),
                backend: None,
                transport,
                manager,
                client,
                navigator: parts.navigator,
                siblings: parts.siblings,
                dpop,
            }),
        }
    }

    /// Gets the session ready when the page starts: removes a sign-in attempt that can no longer complete and the
    /// shared records of sessions long over, then checks a stored session against its siblings (ended elsewhere,
    /// or older than theirs) or joins a sibling's session ([`TokenManager::start`]).
    ///
    /// With a backend, asks it who is signed in ([`BackendUnavailable`] when it does not answer as expected).
    pub async fn start(&self) -> Result<(), BackendUnavailable> {
        let now = self.inner.manager.clock().now_ms();
        if let Some(backend) = &self.inner.backend {
            // The backend knows whether someone is signed in; nothing of the session was kept in this tab.
            return backend.load(self.inner.transport.as_ref(), &self.inner.manager, now).await;
        }
        remove_stale_pending(now);
        // The callback page completes a sign-in of its own: it joins no sibling's session.
        let path = self.inner.navigator.current_path();
        if path.split(['?', '#']).next() == Some(oten_auth_core::routes::CALLBACK_PATH)
            && !self.inner.manager.is_signed_in()
        {
            return Ok(());
        }
        // Records of sessions older than the maximum age go (never one with a presentation marker); without a
        // maximum age, records are kept.
        let max_age_secs = self.inner.config.max_session_age_secs;
        let prune_before = (max_age_secs > 0).then(|| now - i64::from(max_age_secs.max(86_400)) * 1000);
        if let (Some(siblings), Some(before)) = (&self.inner.siblings, prune_before) {
            siblings.prune(before).await;
        }
        // A DPoP-bound session proves with its key from the first request; without the key it ends cleanly.
        if let Some(dpop) = &self.inner.dpop {
            dpop_binding::want_stored(&self.inner.manager, dpop);
        }
        self.inner.manager.start().await;
        if let Some(dpop) = &self.inner.dpop {
            dpop_binding::check_key(&self.inner.manager, dpop, prune_before).await;
        }
        Ok(())
    }

    /// The sibling tabs this session coordinates with, if any.
    pub fn siblings(&self) -> Option<&BrowserSiblings> {
        self.inner.siblings.as_ref()
    }

    /// What `/login` should do now: sign in at once, explain why the last session ended, or — when it ended again
    /// soon after a forced sign-in — explain and offer sign-out instead of looping.
    pub fn login_decision(&self) -> LoginDecision {
        load_reauth().decide()
    }

    /// The loop guard's state (why the last session ended, when).
    pub fn reauth_state(&self) -> ReauthState {
        load_reauth()
    }

    /// The token manager.
    pub fn manager(&self) -> &TokenManager {
        &self.inner.manager
    }

    /// The authenticated API client.
    pub fn client(&self) -> &ApiClient {
        &self.inner.client
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// The provider's metadata (public mode; a backend discovers the provider itself).
    pub fn metadata(&self) -> Option<&ProviderMetadata> {
        self.inner.flow.as_deref().map(SignInFlow::metadata)
    }

    /// The sign-in and sign-out steps ([`SignInFlow`]) of public mode.
    pub fn flow(&self) -> Option<&SignInFlow> {
        self.inner.flow.as_deref()
    }

    /// Prepares a sign-in and returns where the browser goes: the provider's authorization URL ([`SignInFlow::start`])
    /// or, with a backend, its `/auth/login`. `return_to` is kept only if it is a same-origin relative path.
    pub async fn authorization_url(&self, return_to: &str, options: &SignInOptions) -> Result<String, SignInError> {
        match (&self.inner.flow, &self.inner.backend) {
            (Some(flow), _) => flow.start(return_to, options).await,
            (None, Some(backend)) => Ok(backend.login_url(&sanitize_return_path(return_to), options)),
            (None, None) => unreachable!("an Auth has a flow or a backend"),
        }
    }

    /// Starts a sign-in: the browser leaves for the IdP's login page.
    ///
    /// A session this tab still holds is signed out and its tokens revoked first, **before** the browser leaves:
    /// the IdP gives the new sign-in the same grant (one grant per client in an IdP session), so revoking the old
    /// tokens afterwards would end the new session too. Sibling tabs holding the old session end it as well.
    pub async fn login(&self, return_to: &str) -> Result<(), SignInError> {
        self.login_with(return_to, &SignInOptions::default()).await
    }

    /// Like [`Auth::login`], asking the provider for more ([`SignInOptions`]: `prompt`, `max_age`, `acr_values`,
    /// `login_hint`, `ui_locales`); what it asks of `auth_time` and `acr` is checked in the ID token.
    pub async fn login_with(&self, return_to: &str, options: &SignInOptions) -> Result<(), SignInError> {
        // Prepared first: a sign-in that cannot start (no WebCrypto, storage refused) leaves the session as it is.
        let url = self.authorization_url(return_to, options).await?;
        self.end_here().await;
        self.end_at_backend().await;
        let now = self.inner.manager.clock().now_ms();
        update_reauth(|state| state.sign_in_started(now));
        self.inner.navigator.go_to(&url);
        Ok(())
    }

    /// A step-up sign-in (RFC 9470): what an API asked for in its challenge ([`StepUpChallenge`]), coming back to
    /// `return_to`. Like [`Auth::login_with`], the session ends first — in this tab and its siblings (they see a
    /// sign-out elsewhere and join the new session when it arrives) — and its tokens are revoked, since the new
    /// sign-in gets the same grant at the provider and revoking the old tokens later would end it too. A step-up
    /// that is cancelled at the provider therefore leaves the person signed out. The loop guard does not count it:
    /// nothing ended by fault, the person is asked for more.
    pub async fn step_up(&self, return_to: &str, challenge: &StepUpChallenge) -> Result<(), SignInError> {
        let url = self.authorization_url(return_to, &challenge.sign_in_options()).await?;
        self.end_here().await;
        self.end_at_backend().await;
        self.inner.navigator.go_to(&url);
        Ok(())
    }

    /// Ends this tab's session — at once in the siblings too — and revokes its tokens; returns them and how many
    /// revocations the IdP confirmed. A refresh whose request is on its way has already presented the refresh token:
    /// its answer is awaited, and its tokens (now discarded) are revoked too. One only queued for a sibling's lock
    /// is not waited for: it ends without sending anything.
    async fn end_here(&self) -> (Option<TokenSet>, usize) {
        let manager = &self.inner.manager;
        let in_flight = manager.is_presenting().then(|| manager.refresh());
        let tokens = manager.sign_out();
        if let Some(refresh) = in_flight {
            let _ = refresh.await;
        }
        // With a backend, the backend revokes (at /auth/login and /auth/logout): the browser holds no refresh token.
        let revoked = match (&tokens, &self.inner.flow) {
            (Some(tokens), Some(flow)) => flow.revoke(tokens).await,
            _ => 0,
        };
        (tokens, revoked)
    }

    /// With a backend: ends its session (revoked there) before a new sign-in, as public mode revokes before leaving —
    /// the new sign-in gets the same grant at the provider, so revoking afterwards would end it too.
    async fn end_at_backend(&self) {
        if let Some(backend) = &self.inner.backend {
            let _ = backend.end(self.inner.transport.as_ref()).await;
        }
    }

    /// Completes a sign-in at `/callback` ([`SignInFlow::complete`]): removes `code` and `state` from the address bar
    /// at once, checks the response against the attempt started in this tab (before any token request), exchanges
    /// the code, verifies the ID token, and starts the session. Returns the path to go back to. On any error nothing
    /// is stored.
    pub async fn handle_callback(&self, query: &str) -> Result<String, CallbackError> {
        replace_url(oten_auth_core::routes::CALLBACK_PATH);
        // With a backend, the provider comes back to the backend's own /auth/callback, never here.
        let flow = self.inner.flow.as_ref().ok_or(CallbackError::UnknownState)?;
        // With DPoP, a new key for this grant: the exchange's proof binds the tokens to it (the session this tab may
        // hold keeps its own key until the new tokens replace it, so a forged callback changes nothing).
        let now = self.inner.manager.clock().now_ms();
        let key = match &self.inner.dpop {
            Some(dpop) => dpop_binding::new_grant_key(dpop, now).await,
            None => None,
        };
        let mut signed_in = match flow.complete(query).await {
            Ok(signed_in) => signed_in,
            Err(e) => {
                if let Some(dpop) = &self.inner.dpop {
                    dpop_binding::settle_grant_key(dpop, key, None);
                }
                return Err(e);
            }
        };
        if let Some(dpop) = &self.inner.dpop {
            dpop_binding::settle_grant_key(dpop, key, Some(&mut signed_in.tokens));
        }
        // A failed save (storage full or blocked) still leaves a working session in memory for this page; the
        // manager removes the stored copy and announces it as `StoreFailed`, so it is not a sign-in failure.
        let _ = self.inner.manager.sign_in(signed_in.tokens);
        self.inner.client.reset_redirect_guard();
        Ok(signed_in.return_to)
    }

    /// Signs out: the session ends here first (storage cleared, also when corrupt) and in every sibling tab that
    /// holds it, then the refresh and access tokens are revoked at the IdP (RFC 7009, `keepalive`), then the browser
    /// goes to the IdP's end-session endpoint and comes back to `post_logout_redirect_uri` — by GET with no token
    /// (the IdP may ask the person to confirm), or with `end_session_method: "post"` by a POST form carrying the ID
    /// token hint in its body. Returns how many revocations the IdP confirmed.
    pub async fn logout(&self) -> usize {
        let (tokens, revoked) = self.end_here().await;
        // A deliberate sign-out: the next sign-in starts afresh, whatever ended before.
        update_reauth(|state| *state = ReauthState::default());
        let Some(flow) = &self.inner.flow else {
            // The backend revokes, removes its session and says where the provider's session ends; when it cannot be
            // told by a call, the browser goes to its logout link instead.
            if let Some(backend) = &self.inner.backend {
                let next = backend.end(self.inner.transport.as_ref()).await.unwrap_or_else(|| backend.logout_url());
                self.inner.navigator.go_to(&next);
            }
            return revoked;
        };
        match flow.end_session(tokens.as_ref().and_then(|t| t.id_token.as_ref())) {
            Some(end) => end_idp_session(self.inner.navigator.as_ref(), end),
            None => self.inner.navigator.go_to(&self.config().post_logout_redirect_uri),
        }
        revoked
    }
}
