//! The client token manager: one session, a valid access token on demand, one shared refresh — in this tab and
//! across the tabs that share the session.

mod refresh;
mod tabs;

use crate::clock::Clock;
use crate::end_reason::EndReason;
use crate::error::{AuthError, Deferral};
use crate::id_token::IdTokenClaims;
use crate::lineage::LineageRecord;
use crate::metrics::{MetricEvent, Metrics};
use crate::policy::RefreshPolicy;
use crate::refresh_source::RefreshSource;
use crate::secret::AccessToken;
use crate::siblings::{Runtime, SiblingMessage, Siblings, TokensKind};
use crate::store::{StoreError, TokenStore};
use crate::token_set::{is_valid_lineage, TokenSet};
use crate::transport::Transport;
use futures::channel::oneshot;
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

type RefreshResult = Result<AccessToken, AuthError>;
type SharedRefresh = Shared<LocalBoxFuture<'static, RefreshResult>>;
type Listener = Rc<dyn Fn(&SessionEvent)>;

/// Longest session by default, counted from sign-in: 30 days, as in the seed's lifecycle manager.
pub const DEFAULT_MAX_SESSION_AGE_SECS: u32 = 30 * 24 * 60 * 60;
/// How long a tab waits for a sibling's refresh lock by default before looking at why it is held (ms). It covers
/// the holder's whole request (the transport's default timeout, 15 s) plus a margin.
pub const DEFAULT_LOCK_TIMEOUT_MS: u32 = 20_000;
/// A due token with more validity left than this (or than a quarter of its lifetime, if less) is handed out while
/// its refresh runs in the background (with a [`Runtime`]); closer to expiry, callers wait for the new one (ms).
pub const COMFORT_MARGIN_MS: i64 = 5_000;
/// How long a tab waits for its siblings' answers (a copied tab asking for newer tokens, a new tab asking to
/// join a session), in ms. Answers between live tabs take a few milliseconds.
pub const DEFAULT_ASK_TIMEOUT_MS: u32 = 300;

/// What the manager needs to know about the IdP, the client and the session's rules.
///
/// ```
/// use oten_auth_core::{ManagerConfig, RefreshPolicy};
/// let c = ManagerConfig::new("https://account.oten.com/v1/oauth/token", "spa")
///     .with_policy(RefreshPolicy::with_buffer_secs(60))
///     .with_max_session_age_secs(3600);
/// assert_eq!(c.policy.buffer_ms, 60_000);
/// assert_eq!(c.max_session_age_ms, Some(3_600_000));
/// assert!(c.join_siblings);
/// ```
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    /// The token endpoint (from discovery or explicit configuration).
    pub token_endpoint: String,
    /// The public client's id.
    pub client_id: String,
    /// When to refresh.
    pub policy: RefreshPolicy,
    /// The longest session, counted from sign-in (`None`: no limit). At that age the session is revoked and ends
    /// with [`EndReason::MaxAge`].
    pub max_session_age_ms: Option<i64>,
    /// How long to wait for a sibling tab's refresh lock before looking at why it is held.
    pub lock_timeout_ms: u32,
    /// How long to wait for sibling tabs' answers.
    pub ask_timeout_ms: u32,
    /// Whether this tab joins the session of a sibling tab: when it starts without one, and when a sibling signs in.
    pub join_siblings: bool,
    /// Where refreshes go: the provider (default) or a token-mediating backend.
    pub refresh_source: RefreshSource,
}

impl ManagerConfig {
    /// A configuration with the default refresh policy and lifecycle.
    pub fn new(token_endpoint: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            token_endpoint: token_endpoint.into(),
            client_id: client_id.into(),
            policy: RefreshPolicy::default(),
            max_session_age_ms: Some(i64::from(DEFAULT_MAX_SESSION_AGE_SECS) * 1000),
            lock_timeout_ms: DEFAULT_LOCK_TIMEOUT_MS,
            ask_timeout_ms: DEFAULT_ASK_TIMEOUT_MS,
            join_siblings: true,
            refresh_source: RefreshSource::Provider,
        }
    }

    /// Renews at `source` (a token-mediating backend: [`RefreshSource::Backend`]).
    #[must_use]
    pub fn with_refresh_source(mut self, source: RefreshSource) -> Self {
        self.refresh_source = source;
        self
    }

    /// Replaces the refresh policy.
    #[must_use]
    pub fn with_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the maximum session age in seconds (0: no limit).
    #[must_use]
    pub fn with_max_session_age_secs(mut self, secs: u32) -> Self {
        self.max_session_age_ms = (secs > 0).then(|| i64::from(secs) * 1000);
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
    /// Tokens came from a sibling tab: its rotation, or a session this tab joined.
    Adopted,
    /// A refresh failed or was postponed, but the session goes on (tokens kept).
    RefreshFailed(AuthError),
    /// The session ended; tokens are cleared. The error's [`AuthError::end_reason`] says why.
    Ended(AuthError),
    /// The person signed out in this tab.
    SignedOut,
    /// Saving to the store failed: the stored copy was removed and the session lives on in memory only.
    StoreFailed(StoreError),
    /// Tokens that may still be live at the IdP were thrown away without being stored: a refresh that
    /// completed after a sign-out or a new sign-in, or a session ended because an API refused it, reached its
    /// maximum age, or got an unusable answer. Revoke them.
    Discarded(Box<TokenSet>),
}

/// Identifies a listener added with [`TokenManager::subscribe`], to remove it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription(u64);

struct Pending {
    generation: u64,
    future: SharedRefresh,
}

#[derive(Default)]
struct State {
    loaded: bool,
    tokens: Option<TokenSet>,
    generation: u64,
    pending: Option<Pending>,
    /// No refresh from this tab before this instant (backoff after passing failures).
    retry_at: i64,
    failures: u32,
    /// This tab cannot refresh its lineage: a sibling holds newer tokens it did not hand over, or a presentation
    /// of the current refresh token may be on its way. The access token is used while valid; then the session ends
    /// with [`EndReason::Interrupted`] and a fresh sign-in continues.
    stuck: bool,
    /// The token whose expiry was counted: (lineage, seq, stored_at).
    expiry_counted: Option<(String, u64, i64)>,
    /// The pending refresh's request has left (its refresh token is being presented).
    presenting: bool,
    /// Answers collected while joining a sibling's session.
    joining: Option<Vec<TokenSet>>,
    /// While [`TokenManager::sibling_tabs`] asks: how many calls wait, and the answers so far.
    census: Option<(usize, Vec<crate::siblings::SiblingTab>)>,
    /// Woken when tokens are adopted from a sibling.
    adoption_waiters: Vec<oneshot::Sender<()>>,
}

struct Inner {
    config: ManagerConfig,
    clock: Rc<dyn Clock>,
    store: Rc<dyn TokenStore>,
    transport: Rc<dyn Transport>,
    metrics: Metrics,
    runtime: Option<Rc<dyn Runtime>>,
    siblings: Option<Rc<dyn Siblings>>,
    state: RefCell<State>,
    listeners: RefCell<Vec<(u64, Listener)>>,
    next_listener: Cell<u64>,
}

/// Keeps one session's tokens and hands out valid access tokens.
///
/// - A fresh token is returned at once from memory: no storage read, no JSON parse, no allocation beyond the
///   clone of the token string.
/// - A token that is due ([`RefreshPolicy`]) is refreshed; while a refresh is pending every caller awaits the
///   **same** future, so any number of concurrent callers cause one token request. With a [`Runtime`], the refresh
///   runs to completion even when every caller stops waiting.
/// - The rotated refresh token is stored (memory and store) before any waiter resumes. When the store fails, the
///   stored copy is removed, so no later page load can present a consumed refresh token.
/// - With [`Siblings`], the tabs sharing the session take turns under one lock per session, check the shared
///   record before presenting a refresh token, hand new tokens to each other, and end together. The rule they keep:
///   **a refresh token is presented once**.
/// - After passing failures every refresh waits ([`crate::backoff_ms`]), on demand as well as in the background.
/// - Sign-in and sign-out bump a generation; a refresh that completes for an older generation is discarded (and
///   its tokens handed out for revocation).
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
        Self {
            inner: Rc::new(Inner {
                config,
                clock,
                store,
                transport,
                metrics,
                runtime: None,
                siblings: None,
                state: RefCell::new(State::default()),
                listeners: RefCell::new(Vec::new()),
                next_listener: Cell::new(0),
            }),
        }
    }

    /// Runs every refresh in the background on `runtime`, so its answer is processed (stored, or revoked when the
    /// session ended meanwhile) even when every caller stopped waiting; also used to wait for sibling tabs.
    ///
    /// # Panics
    ///
    /// When the manager was already cloned (call it right after [`TokenManager::new`]).
    #[must_use]
    pub fn with_runtime(mut self, runtime: Rc<dyn Runtime>) -> Self {
        Rc::get_mut(&mut self.inner).expect("with_runtime before the manager is shared").runtime = Some(runtime);
        self
    }

    /// Coordinates with the other tabs holding the same session (see [`Siblings`]).
    ///
    /// # Panics
    ///
    /// When the manager was already cloned (call it right after [`TokenManager::new`]).
    #[must_use]
    pub fn with_siblings(mut self, siblings: Rc<dyn Siblings>) -> Self {
        Rc::get_mut(&mut self.inner).expect("with_siblings before the manager is shared").siblings = Some(siblings);
        self
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

    /// Whether the session's tokens are bound to a DPoP key ([`TokenSet::is_dpop_bound`]): the API client then
    /// sends `Authorization: DPoP …`, and a [`crate::DpopTransport`] adds the proof.
    pub fn is_dpop_bound(&self) -> bool {
        self.inner.state.borrow().tokens.as_ref().is_some_and(TokenSet::is_dpop_bound)
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
        self.inner.state.borrow().tokens.as_ref().is_some_and(|t| self.renewable(t))
    }

    /// Whether `tokens` can be renewed: with a refresh token here, or by a backend that keeps it.
    fn renewable(&self, tokens: &TokenSet) -> bool {
        tokens.refresh_token.is_some() || !self.inner.config.refresh_source.needs_refresh_token()
    }

    /// Whether a refresh is in flight.
    pub fn is_refreshing(&self) -> bool {
        self.inner.state.borrow().pending.is_some()
    }

    /// Whether a refresh request is on its way (its refresh token presented, the answer not yet in). A refresh only
    /// queued for a sibling's lock is refreshing but not presenting.
    pub fn is_presenting(&self) -> bool {
        self.inner.state.borrow().presenting
    }

    /// Whether this tab cannot refresh its session itself (a sibling holds newer tokens, or a presentation of the
    /// current refresh token may be on its way); see [`EndReason::Interrupted`].
    pub fn is_stuck(&self) -> bool {
        self.inner.state.borrow().stuck
    }

    /// The session generation: bumped by every sign-in, sign-out, session end and joined session.
    pub fn generation(&self) -> u64 {
        self.inner.state.borrow().generation
    }

    /// When the current access token becomes due for refresh (ms since epoch).
    pub fn refresh_due_at(&self) -> Option<i64> {
        self.ensure_loaded();
        let policy = self.inner.config.policy;
        self.inner.state.borrow().tokens.as_ref().map(|t| policy.refresh_at(t))
    }

    /// When refreshes may be sent again after passing failures (ms since epoch), if they are waiting.
    pub fn retry_at(&self) -> Option<i64> {
        let retry_at = self.inner.state.borrow().retry_at;
        (retry_at > self.now()).then_some(retry_at)
    }

    /// Starts a session with tokens from a sign-in. Any pending refresh of an older session is discarded. The
    /// tokens start a new lineage (give them a random one with [`TokenSet::with_lineage`]); sibling tabs without a
    /// session join it. When saving fails, the stored copy (perhaps an older session) is removed and the error
    /// returned; the session then lives in memory only.
    pub fn sign_in(&self, tokens: TokenSet) -> Result<(), StoreError> {
        let mut tokens = tokens;
        if !is_valid_lineage(&tokens.lineage) {
            let generation = self.generation();
            tokens = tokens.with_lineage(format!("s{:x}g{generation:x}", self.now()));
        }
        tokens.seq = 0;
        if tokens.client_id.is_none() && !self.inner.config.client_id.is_empty() {
            tokens.client_id = Some(self.inner.config.client_id.clone());
        }
        let saved = self.persist(&tokens);
        {
            let mut st = self.inner.state.borrow_mut();
            st.loaded = true;
            st.generation += 1;
            st.pending = None;
            st.stuck = false;
            st.retry_at = 0;
            st.failures = 0;
            st.tokens = Some(tokens.clone());
        }
        self.emit(SessionEvent::SignedIn);
        self.post(SiblingMessage::Tokens { from: String::new(), kind: TokensKind::SignedIn, tokens: Box::new(tokens) });
        saved
    }

    /// Ends the session locally and returns its tokens (for revocation). Storage is cleared even when what it held
    /// was corrupt. The sibling tabs holding the session end it too, and the shared record says so, so a tab that
    /// was asleep or closed learns of it when it comes back.
    pub fn sign_out(&self) -> Option<TokenSet> {
        let tokens = self.clear_session();
        self.emit(SessionEvent::SignedOut);
        if let Some(t) = &tokens {
            self.share_end(t, EndReason::SignedOutElsewhere);
        }
        tokens
    }

    /// Ends the session for `reason` (an API refused even a refreshed token, the maximum age): tokens cleared and
    /// handed out for revocation ([`SessionEvent::Discarded`]), listeners told with [`SessionEvent::Ended`], and
    /// the sibling tabs holding the session end it too.
    pub fn end_session(&self, reason: EndReason) {
        self.end(reason, true, true);
    }

    /// A valid access token: at once when fresh, after the shared refresh when due. With a [`Runtime`], a due token
    /// that is still comfortably valid ([`COMFORT_MARGIN_MS`]) is returned at once while the refresh runs in the
    /// background.
    ///
    /// When a due refresh fails with a passing error (or is postponed) while the current token has not expired yet,
    /// the current token is returned; the clock is read again after the wait, so a token that expired meanwhile is
    /// never returned. The failure is counted and announced as [`SessionEvent::RefreshFailed`].
    pub async fn get_valid_access_token(&self) -> Result<AccessToken, AuthError> {
        let now = self.now();
        self.ensure_loaded();
        let (generation, serve_while_refreshing) = {
            let st = self.inner.state.borrow();
            let tokens = st.tokens.as_ref().ok_or(AuthError::NotSignedIn)?;
            let mut serve = None;
            if self.alive(tokens, now) {
                if self.needs_nothing(&st, tokens, now) {
                    return Ok(tokens.access_token.clone());
                }
                // Due but still comfortably valid: with a runtime to finish the refresh in the background, callers
                // need not wait for it (nor for a sibling tab's lock).
                let margin = (tokens.lifetime_ms() / 4).min(COMFORT_MARGIN_MS);
                if self.inner.runtime.is_some() && tokens.expires_at - now > margin {
                    serve = Some(tokens.access_token.clone());
                }
            }
            (st.generation, serve)
        };
        if let Some(token) = serve_while_refreshing {
            drop(self.refresh());
            return Ok(token);
        }
        if let Some(ended) = self.check_lifetime(now) {
            return Err(ended);
        }
        match self.refresh().await {
            Err(e) if e.is_retryable() => self.still_valid(generation).ok_or(e),
            other => other,
        }
    }

    /// The access token at once, when [`get_valid_access_token`](Self::get_valid_access_token) would return it
    /// without waiting or starting anything: signed in, not expired, within the maximum session age, and not due
    /// for a refresh (or due but not renewable now: no refresh token, a backoff, a stuck session). Otherwise `None`:
    /// the caller then awaits `get_valid_access_token`, which refreshes. No future, no promise: the hot path of code
    /// that builds requests synchronously, and of JavaScript calling into the wasm.
    ///
    /// ```
    /// use oten_auth_core::testing::{FakeClock, FakeTransport};
    /// use oten_auth_core::{ManagerConfig, MemoryStore, Metrics, TokenManager, TokenSet};
    /// use std::rc::Rc;
    /// let clock = Rc::new(FakeClock::new(0));
    /// let config = ManagerConfig::new("https://idp.test/token", "spa");
    /// let manager = TokenManager::new(config, clock.clone(), Rc::new(MemoryStore::default()),
    ///     Rc::new(FakeTransport::default()), Metrics::default());
    /// assert!(manager.fresh_access_token().is_none()); // not signed in
    /// let tokens = r#"{"access_token":"a","refresh_token":"r","expires_in":600}"#;
    /// manager.sign_in(TokenSet::parse_token_response(tokens, 0, None).unwrap()).unwrap();
    /// assert_eq!(manager.fresh_access_token().unwrap().expose(), "a");
    /// clock.set(300_000); // due (half its lifetime): the caller awaits the refresh instead
    /// assert!(manager.fresh_access_token().is_none());
    /// ```
    pub fn fresh_access_token(&self) -> Option<AccessToken> {
        self.with_fresh_access_token(AccessToken::clone)
    }

    /// [`fresh_access_token`](Self::fresh_access_token) without a copy: `f` sees the token when it is fresh, and its
    /// result is returned (`None` when there is no fresh token; then `f` is not called). `f` must not call back into
    /// the manager.
    ///
    /// ```
    /// # use oten_auth_core::testing::{FakeClock, FakeTransport};
    /// # use oten_auth_core::{ManagerConfig, MemoryStore, Metrics, TokenManager, TokenSet};
    /// # use std::rc::Rc;
    /// # let manager = TokenManager::new(ManagerConfig::new("https://idp.test/token", "spa"), Rc::new(FakeClock::new(0)),
    /// #     Rc::new(MemoryStore::default()), Rc::new(FakeTransport::default()), Metrics::default());
    /// # let tokens = r#"{"access_token":"abc","expires_in":600}"#;
    /// # manager.sign_in(TokenSet::parse_token_response(tokens, 0, None).unwrap()).unwrap();
    /// assert_eq!(manager.with_fresh_access_token(|t| t.expose().len()), Some(3));
    /// ```
    pub fn with_fresh_access_token<R>(&self, f: impl FnOnce(&AccessToken) -> R) -> Option<R> {
        let now = self.now();
        self.ensure_loaded();
        let st = self.inner.state.borrow();
        let tokens = st.tokens.as_ref()?;
        (self.alive(tokens, now) && self.needs_nothing(&st, tokens, now)).then(|| f(&tokens.access_token))
    }

    /// Whether the access token can still be used at all: not expired, and the session within its maximum age.
    fn alive(&self, tokens: &TokenSet, now: i64) -> bool {
        !tokens.is_past_max_age(now, self.inner.config.max_session_age_ms) && !tokens.is_expired(now)
    }

    /// Whether a live token is to be handed out as it is: not due, or due but not renewable now.
    fn needs_nothing(&self, st: &State, tokens: &TokenSet, now: i64) -> bool {
        !self.inner.config.policy.needs_refresh(tokens, now) || !self.renewable(tokens) || st.stuck || now < st.retry_at
    }

    /// Refreshes now, joining the pending refresh if there is one. During a backoff after failures it sends
    /// nothing and fails with [`Deferral::Backoff`].
    pub fn refresh(&self) -> LocalBoxFuture<'static, RefreshResult> {
        self.ensure_loaded();
        let now = self.now();
        let (future, spawn) = {
            let mut st = self.inner.state.borrow_mut();
            if let Some(p) = &st.pending {
                return p.future.clone().boxed_local();
            }
            let Some(tokens) = st.tokens.clone() else {
                return futures::future::ready(Err(AuthError::NotSignedIn)).boxed_local();
            };
            if now < st.retry_at {
                let error = AuthError::Deferred(Deferral::Backoff { retry_at: st.retry_at });
                return futures::future::ready(Err(error)).boxed_local();
            }
            if !self.renewable(&tokens) {
                drop(st);
                let result = match self.check_lifetime(now) {
                    Some(ended) => Err(ended),
                    None => Err(AuthError::Deferred(Deferral::NoRefreshToken)),
                };
                return futures::future::ready(result).boxed_local();
            }
            let generation = st.generation;
            let weak = Rc::downgrade(&self.inner);
            let future = refresh::run(weak, generation, tokens).boxed_local().shared();
            st.pending = Some(Pending { generation, future: future.clone() });
            (future, self.inner.runtime.clone())
        };
        self.emit(SessionEvent::RefreshStarted);
        if let Some(runtime) = spawn {
            runtime.spawn(future.clone().map(drop).boxed_local());
        }
        future.boxed_local()
    }

    /// After an API answered 401 to `rejected`: refreshes unless another caller already replaced that token,
    /// in which case the newer token is returned with no request.
    pub async fn refresh_after_rejection(&self, rejected: &AccessToken) -> RefreshResult {
        self.ensure_loaded();
        if let Some(ended) = self.check_lifetime(self.now()) {
            return Err(ended);
        }
        let current = self.inner.state.borrow().tokens.as_ref().map(|t| t.access_token.clone());
        match current {
            None => Err(AuthError::NotSignedIn),
            Some(current) if &current != rejected => Ok(current),
            Some(_) => self.refresh().await,
        }
    }

    /// Allows the next refresh at once (the network came back, the wall clock jumped), in this tab and in the
    /// shared record of the session.
    pub fn reset_backoff(&self) {
        let lineage = {
            let mut st = self.inner.state.borrow_mut();
            st.retry_at = 0;
            st.failures = 0;
            st.tokens.as_ref().map(|t| t.lineage.clone())
        };
        let (Some(siblings), Some(lineage)) = (self.inner.siblings.clone(), lineage) else { return };
        let write = siblings.update(
            &lineage,
            Box::new(|r| {
                r.filter(|r| r.retry_at != 0).map(|r| LineageRecord { retry_at: 0, failures: 0, ..r.clone() })
            }),
        );
        match &self.inner.runtime {
            Some(runtime) => runtime.spawn(write.map(drop).boxed_local()),
            None => drop(write),
        }
    }

    /// The background check, run every few seconds and whenever the page becomes visible, is restored, comes back
    /// online or sees the wall clock jump: ends a session past its maximum age or expired beyond renewal, counts an
    /// expired token once, and refreshes a due token unless a backoff is running.
    pub async fn maintain(&self) {
        self.ensure_loaded();
        let now = self.now();
        let (due, stuck) = {
            let st = self.inner.state.borrow();
            let Some(tokens) = &st.tokens else { return };
            (self.inner.config.policy.needs_refresh(tokens, now), st.stuck)
        };
        if self.check_lifetime(now).is_some() {
            return;
        }
        if stuck {
            self.recheck_stuck().await;
        } else if due && !self.is_refreshing() && self.can_refresh() && self.retry_at().is_none() {
            let _ = self.refresh().await;
        }
    }

    /// Ends the session when its time is up, and counts an expired token once: past the maximum age (revoked,
    /// shared), expired without a refresh token, or expired while this tab is stuck. Returns the error when it ended.
    fn check_lifetime(&self, now: i64) -> Option<AuthError> {
        let (past_max_age, expired, renewable, stuck) = {
            let st = self.inner.state.borrow();
            let tokens = st.tokens.as_ref()?;
            (
                tokens.is_past_max_age(now, self.inner.config.max_session_age_ms),
                tokens.is_expired(now),
                self.renewable(tokens),
                st.stuck,
            )
        };
        if past_max_age {
            return self.end(EndReason::MaxAge, true, true);
        }
        if !expired {
            return None;
        }
        self.count_expiry();
        match (renewable, stuck) {
            (false, _) => self.end(EndReason::Expired, false, false),
            (true, true) => self.end(EndReason::Interrupted, false, false),
            (true, false) => None,
        }
    }

    /// The current access token after a failed or postponed refresh, when it still belongs to `generation` and has
    /// not expired by now.
    fn still_valid(&self, generation: u64) -> Option<AccessToken> {
        let now = self.now();
        let ended = self.check_lifetime(now);
        let st = self.inner.state.borrow();
        let tokens = st.tokens.as_ref()?;
        (ended.is_none() && st.generation == generation && !tokens.is_expired(now)).then(|| tokens.access_token.clone())
    }

    fn count_expiry(&self) {
        let counted = {
            let mut st = self.inner.state.borrow_mut();
            let Some(t) = &st.tokens else { return };
            let key = (t.lineage.clone(), t.seq, t.stored_at);
            if st.expiry_counted.as_ref() == Some(&key) {
                return;
            }
            st.expiry_counted = Some(key);
            true
        };
        if counted {
            self.inner.metrics.record(MetricEvent::TokenExpired);
        }
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    fn ensure_loaded(&self) {
        if self.inner.state.borrow().loaded {
            return;
        }
        let client_id = &self.inner.config.client_id;
        let loaded = self.inner.store.load().and_then(|tokens| match tokens {
            Some(t) if !client_id.is_empty() && t.client_id.as_ref().is_some_and(|c| c != client_id) => {
                Err(StoreError::Corrupt("the stored session belongs to another client".into()))
            }
            other => Ok(other),
        });
        let failed = {
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
        if let Some(e) = failed {
            let _ = self.inner.store.clear();
            self.emit(SessionEvent::StoreFailed(e));
        }
    }

    /// Saves tokens; when that fails, removes the stored copy (removal works even when storage is full) so that no
    /// later page load finds older tokens — a consumed refresh token, or another person's session.
    fn persist(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        let saved = self.inner.store.save(tokens);
        if let Err(e) = &saved {
            let _ = self.inner.store.clear();
            self.emit(SessionEvent::StoreFailed(e.clone()));
        }
        saved
    }

    fn clear_session(&self) -> Option<TokenSet> {
        self.ensure_loaded();
        let tokens = {
            let mut st = self.inner.state.borrow_mut();
            st.generation += 1;
            st.pending = None;
            st.presenting = false;
            st.stuck = false;
            st.retry_at = 0;
            st.failures = 0;
            st.tokens.take()
        };
        let _ = self.inner.store.clear();
        tokens
    }

    /// Ends the session for `reason`: cleared here; revoked when `revoke` (the tokens may still be live);
    /// shared with the sibling tabs when `share` and the reason concerns the whole lineage. Returns the error.
    fn end(&self, reason: EndReason, revoke: bool, share: bool) -> Option<AuthError> {
        let tokens = self.clear_session()?;
        let error = AuthError::SessionEnded { reason: reason.clone() };
        self.emit(SessionEvent::Ended(error.clone()));
        if share && reason.ends_lineage() {
            self.share_end(&tokens, reason);
        }
        if revoke {
            self.emit(SessionEvent::Discarded(Box::new(tokens)));
        }
        Some(error)
    }

    /// Tells the sibling tabs and the shared record that a lineage ended.
    fn share_end(&self, tokens: &TokenSet, reason: EndReason) {
        let Some(siblings) = self.inner.siblings.clone() else { return };
        if !is_valid_lineage(&tokens.lineage) {
            return;
        }
        let lineage = tokens.lineage.clone();
        self.post(SiblingMessage::Ended { from: String::new(), lineage: lineage.clone(), reason: reason.clone() });
        let now = self.now();
        let write = siblings.update(&lineage, Box::new(move |r| Some(LineageRecord::ended(r, reason, now))));
        match &self.inner.runtime {
            Some(runtime) => runtime.spawn(write.map(drop).boxed_local()),
            None => drop(write),
        }
    }

    /// Sends a message to the sibling tabs, with this tab's id.
    fn post(&self, mut message: SiblingMessage) {
        let Some(siblings) = &self.inner.siblings else { return };
        let me = siblings.tab_id();
        match &mut message {
            SiblingMessage::Tokens { from, .. }
            | SiblingMessage::Want { from, .. }
            | SiblingMessage::Join { from }
            | SiblingMessage::Ended { from, .. }
            | SiblingMessage::Who { from }
            | SiblingMessage::Here { from, .. } => *from = me,
        }
        siblings.post(&message);
    }

    fn emit(&self, event: SessionEvent) {
        let listeners: Vec<Listener> = self.inner.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
        for l in listeners {
            l(&event);
        }
    }
}
