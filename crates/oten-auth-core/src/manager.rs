//! The client token manager: one session, a valid access token on demand, one shared refresh.

use crate::clock::Clock;
use crate::error::AuthError;
use crate::id_token::IdTokenClaims;
use crate::metrics::{MetricEvent, Metrics};
use crate::policy::RefreshPolicy;
use crate::request::{refresh_request, token_endpoint_outcome};
use crate::secret::AccessToken;
use crate::store::{StoreError, TokenStore};
use crate::token_set::TokenSet;
use crate::transport::Transport;
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

type RefreshResult = Result<AccessToken, AuthError>;
type SharedRefresh = Shared<LocalBoxFuture<'static, RefreshResult>>;
type Listener = Rc<dyn Fn(&SessionEvent)>;

/// What the manager needs to know about the IdP and the client.
///
/// ```
/// use oten_auth_core::{ManagerConfig, RefreshPolicy};
/// let c = ManagerConfig::new("https://account.oten.com/v1/oauth/token", "spa")
///     .with_policy(RefreshPolicy::with_buffer_secs(60));
/// assert_eq!(c.policy.buffer_ms, 60_000);
/// ```
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    /// The token endpoint (from discovery or explicit configuration).
    pub token_endpoint: String,
    /// The public client's id.
    pub client_id: String,
    /// When to refresh.
    pub policy: RefreshPolicy,
}

impl ManagerConfig {
    /// A configuration with the default refresh policy.
    pub fn new(token_endpoint: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self { token_endpoint: token_endpoint.into(), client_id: client_id.into(), policy: RefreshPolicy::default() }
    }

    /// Replaces the refresh policy.
    pub fn with_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }
}

/// A change of the session, sent to listeners (the Leptos binding turns these into signals).
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// New tokens from a sign-in.
    SignedIn,
    /// A refresh started.
    RefreshStarted,
    /// A refresh stored new tokens.
    Refreshed,
    /// A refresh failed but the session goes on (tokens kept).
    RefreshFailed(AuthError),
    /// The session ended: the IdP refused the refresh, the tokens expired without a refresh token, or the stored
    /// data was corrupt. Tokens are cleared.
    Ended(AuthError),
    /// The person signed out.
    SignedOut,
    /// Saving to the store failed; the session lives on in memory only.
    StoreFailed(StoreError),
    /// Tokens that may still be live at the IdP were thrown away without being stored: a refresh that
    /// completed after a sign-out or a new sign-in, or a session ended because an API refused it. Revoke them.
    Discarded(Box<TokenSet>),
}

/// Identifies a listener added with [`TokenManager::subscribe`], to remove it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription(u64);

struct Pending {
    generation: u64,
    future: SharedRefresh,
}

struct State {
    loaded: bool,
    tokens: Option<TokenSet>,
    generation: u64,
    pending: Option<Pending>,
}

struct Inner {
    config: ManagerConfig,
    clock: Rc<dyn Clock>,
    store: Rc<dyn TokenStore>,
    transport: Rc<dyn Transport>,
    metrics: Metrics,
    state: RefCell<State>,
    listeners: RefCell<Vec<(u64, Listener)>>,
    next_listener: std::cell::Cell<u64>,
}

/// Keeps one session's tokens and hands out valid access tokens.
///
/// - A fresh token is returned at once from memory: no storage read, no JSON parse, no allocation beyond the
///   clone of the token string.
/// - A token that is due ([`RefreshPolicy`]) is refreshed; while a refresh is pending every caller awaits the
///   **same** future, so any number of concurrent callers cause one token request.
/// - The rotated refresh token is stored (memory and store) before any waiter resumes.
/// - Sign-in and sign-out bump a generation; a refresh that completes for an older generation is discarded.
/// - An expired access token never discards the refresh token: only the refresh decides.
///
/// Cloning is cheap and shares the session.
///
/// ## Usage
///
/// ```
/// use std::rc::Rc;
/// use oten_auth_core::{AuthError, ManagerConfig, MemoryStore, Metrics, TokenManager, testing::{FakeClock, FakeTransport}};
///
/// let manager = TokenManager::new(
///     ManagerConfig::new("https://idp.test/token", "spa"),
///     Rc::new(FakeClock::new(0)),
///     Rc::new(MemoryStore::default()),
///     Rc::new(FakeTransport::default()),
///     Metrics::default(),
/// );
/// let err = futures::executor::block_on(manager.get_valid_access_token()).unwrap_err();
/// assert_eq!(err, AuthError::NotSignedIn);
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Rc<Inner>,
}

impl TokenManager {
    /// A manager over the given clock, store and transport. Nothing is read until first use.
    pub fn new(
        config: ManagerConfig,
        clock: Rc<dyn Clock>,
        store: Rc<dyn TokenStore>,
        transport: Rc<dyn Transport>,
        metrics: Metrics,
    ) -> Self {
        let state = State { loaded: false, tokens: None, generation: 0, pending: None };
        Self {
            inner: Rc::new(Inner {
                config,
                clock,
                store,
                transport,
                metrics,
                state: RefCell::new(state),
                listeners: RefCell::new(Vec::new()),
                next_listener: std::cell::Cell::new(0),
            }),
        }
    }

    /// Calls `listener` on every later [`SessionEvent`], until [`TokenManager::unsubscribe`].
    pub fn subscribe(&self, listener: impl Fn(&SessionEvent) + 'static) -> Subscription {
        let id = self.inner.next_listener.get();
        self.inner.next_listener.set(id + 1);
        self.inner.listeners.borrow_mut().push((id, Rc::new(listener)));
        Subscription(id)
    }

    /// Removes a listener.
    pub fn unsubscribe(&self, subscription: Subscription) {
        self.inner.listeners.borrow_mut().retain(|(id, _)| *id != subscription.0);
    }

    /// The metrics this manager records into.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The configuration.
    pub fn config(&self) -> &ManagerConfig {
        &self.inner.config
    }

    /// The clock.
    pub fn clock(&self) -> &Rc<dyn Clock> {
        &self.inner.clock
    }

    /// The transport (shared with the API client and the protocol calls).
    pub fn transport(&self) -> &Rc<dyn Transport> {
        &self.inner.transport
    }

    /// A copy of the current tokens, loading them from the store on first use.
    pub fn tokens(&self) -> Option<TokenSet> {
        self.ensure_loaded();
        self.inner.state.borrow().tokens.clone()
    }

    /// Whether there is a session (possibly with an expired access token that a refresh can renew).
    pub fn is_signed_in(&self) -> bool {
        self.ensure_loaded();
        self.inner.state.borrow().tokens.is_some()
    }

    /// The signed-in person, from the ID token validated at sign-in.
    pub fn user(&self) -> Option<IdTokenClaims> {
        self.ensure_loaded();
        self.inner.state.borrow().tokens.as_ref().and_then(|t| t.user.clone())
    }

    /// Whether the session has a refresh token (without one it ends when the access token expires).
    pub fn can_refresh(&self) -> bool {
        self.ensure_loaded();
        self.inner.state.borrow().tokens.as_ref().is_some_and(|t| t.refresh_token.is_some())
    }

    /// Whether a refresh is in flight.
    pub fn is_refreshing(&self) -> bool {
        self.inner.state.borrow().pending.is_some()
    }

    /// The session generation: bumped by every sign-in, sign-out and session end.
    pub fn generation(&self) -> u64 {
        self.inner.state.borrow().generation
    }

    /// When the current access token becomes due for refresh (ms since epoch).
    pub fn refresh_due_at(&self) -> Option<i64> {
        self.ensure_loaded();
        let policy = self.inner.config.policy;
        self.inner.state.borrow().tokens.as_ref().map(|t| policy.refresh_at(t))
    }

    /// Starts a session with tokens from a sign-in. Any pending refresh of an older session is discarded.
    pub fn sign_in(&self, tokens: TokenSet) -> Result<(), StoreError> {
        let saved = self.inner.store.save(&tokens);
        {
            let mut st = self.inner.state.borrow_mut();
            st.loaded = true;
            st.generation += 1;
            st.pending = None;
            st.tokens = Some(tokens);
        }
        self.emit(SessionEvent::SignedIn);
        saved
    }

    /// Ends the session locally and returns its tokens (for revocation). Storage is cleared even when what
    /// it held was corrupt.
    pub fn sign_out(&self) -> Option<TokenSet> {
        let tokens = self.clear_session();
        self.emit(SessionEvent::SignedOut);
        tokens
    }

    /// Ends the session because it cannot be saved (an API refused even a refreshed token): tokens cleared,
    /// listeners told with [`SessionEvent::Ended`].
    pub fn end_session(&self, error: AuthError) {
        if let Some(tokens) = self.clear_session() {
            self.emit(SessionEvent::Ended(error));
            self.emit(SessionEvent::Discarded(Box::new(tokens)));
        }
    }

    /// A valid access token: at once when fresh, after the shared refresh when due.
    ///
    /// When a due refresh fails with a passing error while the current token has not expired yet, the current
    /// token is returned (the failure is counted and announced as [`SessionEvent::RefreshFailed`]).
    pub async fn get_valid_access_token(&self) -> Result<AccessToken, AuthError> {
        let now = self.inner.clock.now_ms();
        let still_valid = {
            self.ensure_loaded();
            let st = self.inner.state.borrow();
            let tokens = st.tokens.as_ref().ok_or(AuthError::NotSignedIn)?;
            let expired = tokens.is_expired(now);
            if !self.inner.config.policy.needs_refresh(tokens, now) || (tokens.refresh_token.is_none() && !expired) {
                return Ok(tokens.access_token.clone());
            }
            (!expired).then(|| tokens.access_token.clone())
        };
        if still_valid.is_none() && !self.is_refreshing() {
            // Counted once per expired token: by the caller that starts its refresh.
            self.inner.metrics.record(MetricEvent::TokenExpired);
        }
        match self.refresh().await {
            Err(e) if e.is_retryable() => still_valid.ok_or(e),
            other => other,
        }
    }

    /// Refreshes now, joining the pending refresh if there is one.
    pub fn refresh(&self) -> impl std::future::Future<Output = RefreshResult> + 'static {
        self.start_or_join_refresh()
    }

    /// After an API answered 401 to `rejected`: refreshes unless another caller already replaced that token,
    /// in which case the newer token is returned with no request.
    pub async fn refresh_after_rejection(&self, rejected: &AccessToken) -> RefreshResult {
        self.ensure_loaded();
        let current = self.inner.state.borrow().tokens.as_ref().map(|t| t.access_token.clone());
        match current {
            None => Err(AuthError::NotSignedIn),
            Some(current) if &current != rejected => Ok(current),
            Some(_) => self.refresh().await,
        }
    }

    fn start_or_join_refresh(&self) -> SharedRefresh {
        self.ensure_loaded();
        let future = {
            let mut st = self.inner.state.borrow_mut();
            if let Some(p) = &st.pending {
                return p.future.clone();
            }
            let generation = st.generation;
            let weak = Rc::downgrade(&self.inner);
            let future = run_refresh(weak, generation, st.tokens.clone()).boxed_local().shared();
            st.pending = Some(Pending { generation, future: future.clone() });
            future
        };
        self.emit(SessionEvent::RefreshStarted);
        future
    }

    fn ensure_loaded(&self) {
        if self.inner.state.borrow().loaded {
            return;
        }
        let loaded = self.inner.store.load();
        let ended = {
            let mut st = self.inner.state.borrow_mut();
            st.loaded = true;
            match loaded {
                Ok(tokens) => {
                    st.tokens = tokens;
                    None
                }
                Err(e) => {
                    st.tokens = None;
                    Some(e)
                }
            }
        };
        if let Some(e) = ended {
            let _ = self.inner.store.clear();
            self.emit(SessionEvent::StoreFailed(e));
        }
    }

    fn clear_session(&self) -> Option<TokenSet> {
        self.ensure_loaded();
        let tokens = {
            let mut st = self.inner.state.borrow_mut();
            st.generation += 1;
            st.pending = None;
            st.tokens.take()
        };
        let _ = self.inner.store.clear();
        tokens
    }

    fn emit(&self, event: SessionEvent) {
        let listeners: Vec<Listener> = self.inner.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
        for l in listeners {
            l(&event);
        }
    }
}

async fn run_refresh(weak: Weak<Inner>, generation: u64, tokens: Option<TokenSet>) -> RefreshResult {
    let (request, transport) = {
        let inner = weak.upgrade().ok_or(AuthError::Superseded)?;
        match tokens.as_ref().map(|t| (t, &t.refresh_token)) {
            Some((_, Some(rt))) => {
                (refresh_request(&inner.config.token_endpoint, &inner.config.client_id, rt), inner.transport.clone())
            }
            Some((_, None)) => {
                let error = AuthError::SessionEnded { oauth: None };
                return TokenManager { inner }.finish_refresh(generation, Err(error));
            }
            None => return TokenManager { inner }.finish_refresh(generation, Err(AuthError::NotSignedIn)),
        }
    };
    let answer = transport.send(request).await;
    let inner = weak.upgrade().ok_or(AuthError::Superseded)?;
    let now = inner.clock.now_ms();
    let outcome = token_endpoint_outcome(answer, now, tokens.as_ref());
    TokenManager { inner }.finish_refresh(generation, outcome)
}

impl TokenManager {
    /// Applies a refresh outcome if it still belongs to the current session, then tells listeners.
    fn finish_refresh(&self, generation: u64, outcome: Result<TokenSet, AuthError>) -> RefreshResult {
        let inner = &self.inner;
        {
            let mut st = inner.state.borrow_mut();
            if st.generation != generation {
                drop(st);
                if let Ok(tokens) = outcome {
                    self.emit(SessionEvent::Discarded(Box::new(tokens)));
                }
                return Err(AuthError::Superseded);
            }
            if st.pending.as_ref().is_some_and(|p| p.generation == generation) {
                st.pending = None;
            }
        }
        match outcome {
            Ok(tokens) => {
                let saved = inner.store.save(&tokens);
                let access = tokens.access_token.clone();
                inner.state.borrow_mut().tokens = Some(tokens);
                inner.metrics.record(MetricEvent::RefreshSucceeded);
                if let Err(e) = saved {
                    self.emit(SessionEvent::StoreFailed(e));
                }
                self.emit(SessionEvent::Refreshed);
                Ok(access)
            }
            Err(error) => {
                inner.metrics.record(MetricEvent::RefreshFailed { reason: error.metric_label() });
                if error.requires_reauth() {
                    self.clear_session();
                    self.emit(SessionEvent::Ended(error.clone()));
                } else {
                    self.emit(SessionEvent::RefreshFailed(error.clone()));
                }
                Err(error)
            }
        }
    }
}
