//! One refresh: alone, or in turn with the sibling tabs of the session, and what its outcome does to the session.

use super::{Inner, ManagerConfig, RefreshResult, SessionEvent, TokenManager};
use crate::backoff::backoff_ms;
use crate::client_auth::OAuthClient;
use crate::end_reason::EndReason;
use crate::error::{AuthError, Deferral};
use crate::lineage::{LineageRecord, RefreshGate};
use crate::metrics::MetricEvent;
use crate::request::RefreshOutcome;
use crate::siblings::{LockGuard, LockMode, RecordUpdate, SiblingMessage, Siblings, TokensKind};
use crate::token_set::TokenSet;
use crate::transport::HttpRequest;
use std::rc::{Rc, Weak};

/// The refresh request for `tokens` from the configured source, or why none can be sent.
fn request_for(config: &ManagerConfig, tokens: &TokenSet) -> Result<HttpRequest, AuthError> {
    let client = OAuthClient::public(config.client_id.as_str());
    config.refresh_source.request(&config.token_endpoint, &client, tokens)
}

/// How a refresh settled.
// One value per refresh, moved once: boxing the big variant would buy nothing (the lint fires on 64-bit targets only).
#[allow(clippy::large_enum_variant)]
pub(super) enum Settled {
    /// A request went out: its classified answer, the tokens it presented, and the lock (released after the
    /// outcome is stored and handed to the siblings).
    /// `unmarked`: no shared record could be written, and the stored copy was removed while the request was out.
    Answer { outcome: RefreshOutcome, presented: Box<TokenSet>, guard: Option<LockGuard>, unmarked: bool },
    /// No request was needed or allowed: the result for the callers as it is.
    NoRequest(RefreshResult),
    /// No request allowed: backoff until this instant.
    Backoff(i64),
    /// No request allowed now or later from this tab.
    Stuck(Deferral),
    /// The lineage ended elsewhere.
    Ended(EndReason),
}

/// The refresh future: runs the request (alone or in turn with the siblings), then applies the outcome.
pub(super) async fn run(weak: Weak<Inner>, generation: u64, started: TokenSet) -> RefreshResult {
    let siblings = weak.upgrade().ok_or(AuthError::Superseded)?.siblings.clone();
    let settled = match siblings {
        None => alone(&weak, generation, started).await?,
        Some(siblings) => in_turn(&weak, generation, started, siblings).await?,
    };
    let inner = weak.upgrade().ok_or(AuthError::Superseded)?;
    TokenManager { inner }.finish(generation, settled)
}

async fn alone(weak: &Weak<Inner>, generation: u64, started: TokenSet) -> Result<Settled, AuthError> {
    let (request, transport) = {
        let inner = weak.upgrade().ok_or(AuthError::Superseded)?;
        // Signed out (or signed in anew) before this refresh first ran: nothing to present.
        if inner.state.borrow().generation != generation {
            return Ok(Settled::NoRequest(Err(AuthError::Superseded)));
        }
        (request_for(&inner.config, &started)?, inner.transport.clone())
    };
    weak.upgrade().ok_or(AuthError::Superseded)?.state.borrow_mut().presenting = true;
    let answer = transport.send(request).await;
    let inner = weak.upgrade().ok_or(AuthError::Superseded)?;
    let outcome = inner.config.refresh_source.outcome(answer, inner.clock.now_ms(), &started);
    drop(inner);
    Ok(Settled::Answer { outcome, presented: Box::new(started), guard: None, unmarked: false })
}

/// The refresh of a session that sibling tabs may share.
///
/// 1. Look at the shared record: a closed gate (newer tokens elsewhere, an old in-flight marker, a backoff, an
///    ended lineage) settles at once, without queueing for the lock.
/// 2. Take the session's lock. When the wait times out, the holder is frozen or gone: its lock is stolen only if
///    the record shows that its request never left; otherwise its refresh token must not be presented again.
/// 3. Under the lock, take what a sibling handed over meanwhile.
/// 4. Check the record and mark the presentation in one atomic update; send only after it committed.
/// 5. Record the outcome, store it, hand it to the siblings, then release the lock.
async fn in_turn(
    weak: &Weak<Inner>,
    generation: u64,
    started: TokenSet,
    siblings: Rc<dyn Siblings>,
) -> Result<Settled, AuthError> {
    let manager = || weak.upgrade().map(|inner| TokenManager { inner }).ok_or(AuthError::Superseded);
    let lineage = started.lineage.clone();
    let (lock_timeout, now) = {
        let m = manager()?;
        (m.inner.config.lock_timeout_ms, m.now())
    };
    if let Ok(record) = siblings.read(&lineage).await {
        match LineageRecord::gate(record.as_ref(), started.seq, now) {
            RefreshGate::Go => {}
            // A sibling's refresh is on its way: wait for the lock (and its tokens).
            RefreshGate::InFlight { since, .. } if now.saturating_sub(since) < i64::from(lock_timeout) => {}
            closed => return closed_gate(weak, &started, closed).await,
        }
    }
    let guard = match siblings.lock(&lineage, LockMode::Wait { timeout_ms: lock_timeout }).await {
        Ok(guard) => guard,
        Err(_) => {
            let now = manager()?.now();
            // Only a record that could be read and shows no presentation allows taking the lock over: without the
            // record, the holder may have sent its request, so this tab fails closed.
            let Ok(record) = siblings.read(&lineage).await else {
                return Ok(Settled::Stuck(Deferral::InFlightElsewhere));
            };
            match LineageRecord::gate(record.as_ref(), current_seq(weak, &started), now) {
                // The holder never marked a presentation: it stopped before sending. Go on without it; if it wakes,
                // its own check finds the record changed and it sends nothing.
                RefreshGate::Go => match siblings.lock(&lineage, LockMode::Steal).await {
                    Ok(guard) => guard,
                    Err(_) => return Ok(Settled::Stuck(Deferral::InFlightElsewhere)),
                },
                closed => return closed_gate(weak, &started, closed).await,
            }
        }
    };
    let (current, now) = {
        let m = manager()?;
        let st = m.inner.state.borrow();
        match &st.tokens {
            Some(t) if st.generation == generation && t.lineage == lineage => (t.clone(), m.now()),
            _ => return Ok(Settled::NoRequest(Err(AuthError::Superseded))),
        }
    };
    let policy = manager()?.inner.config.policy;
    if current.seq > started.seq && !policy.needs_refresh(&current, now) {
        return Ok(Settled::NoRequest(Ok(current.access_token.clone())));
    }
    let request = match request_for(&manager()?.inner.config, &current) {
        Ok(request) => request,
        Err(no_request) => return Ok(Settled::NoRequest(Err(no_request))),
    };
    let tab = siblings.tab_id();
    let (seq, me) = (current.seq, tab.clone());
    let begin: RecordUpdate = Box::new(move |r| LineageRecord::begin(r, seq, &me, now).0);
    let mut unmarked = false;
    let gate = match siblings.update(&lineage, begin).await {
        Ok(before) => LineageRecord::begin(before.as_ref(), seq, &tab, now).1,
        // The record could not be written. If it cannot be read either (no IndexedDB here: every tab is in the same
        // case, none can take the lock over), the lock alone serialises the live tabs: ask for a rotation that may
        // not have reached this tab yet, and keep no stored copy while the request is out, so a reload cannot
        // present it again. If it can be read, another tab could take the lock over without seeing a mark: do not
        // present (fail closed).
        Err(_) if siblings.read(&lineage).await.is_err() => {
            match manager()?.ask_for_newer(&lineage, seq, seq + 1).await {
                Some(token) => return Ok(Settled::NoRequest(Ok(token))),
                None => {
                    unmarked = true;
                    RefreshGate::Go
                }
            }
        }
        Err(_) => RefreshGate::InFlight { since: now, tab: tab.clone() },
    };
    if gate != RefreshGate::Go {
        drop(guard);
        return closed_gate(weak, &current, gate).await;
    }
    if unmarked {
        let _ = manager()?.inner.store.clear();
    }
    manager()?.inner.state.borrow_mut().presenting = true;
    let transport = manager()?.inner.transport.clone();
    let answer = transport.send(request).await;
    let now = manager()?.now();
    let outcome = manager()?.inner.config.refresh_source.outcome(answer, now, &current);
    let record_it: RecordUpdate = match &outcome {
        RefreshOutcome::Renewed(t) | RefreshOutcome::Salvaged { tokens: t, .. } => {
            let seq = t.seq;
            Box::new(move |r| Some(LineageRecord::renewed(r, seq, now)))
        }
        RefreshOutcome::Failed(e) => match e.end_reason() {
            Some(reason) => {
                let reason = reason.clone();
                Box::new(move |r| Some(LineageRecord::ended(r, reason, now)))
            }
            None => {
                let retry_after = match e {
                    AuthError::Server { retry_after_secs, .. } => *retry_after_secs,
                    _ => None,
                };
                Box::new(move |r| Some(LineageRecord::failed(r, &tab, retry_after, now)))
            }
        },
    };
    let _ = siblings.update(&lineage, record_it).await;
    Ok(Settled::Answer { outcome, presented: Box::new(current), guard: Some(guard), unmarked })
}

fn current_seq(weak: &Weak<Inner>, started: &TokenSet) -> u64 {
    weak.upgrade()
        .and_then(|inner| inner.state.borrow().tokens.as_ref().filter(|t| t.lineage == started.lineage).map(|t| t.seq))
        .unwrap_or(started.seq)
}

/// What a closed gate means for this refresh. Newer tokens elsewhere are asked for and waited on briefly.
async fn closed_gate(weak: &Weak<Inner>, started: &TokenSet, gate: RefreshGate) -> Result<Settled, AuthError> {
    Ok(match gate {
        RefreshGate::Go => Settled::NoRequest(Err(AuthError::Superseded)),
        RefreshGate::Ended(reason) => Settled::Ended(reason),
        RefreshGate::Backoff { retry_at } => Settled::Backoff(retry_at),
        RefreshGate::InFlight { .. } => Settled::Stuck(Deferral::InFlightElsewhere),
        RefreshGate::Stale { seq } => {
            let manager = TokenManager { inner: weak.upgrade().ok_or(AuthError::Superseded)? };
            match manager.ask_for_newer(&started.lineage, started.seq, seq).await {
                Some(token) => Settled::NoRequest(Ok(token)),
                None => Settled::Stuck(Deferral::NewerTokensElsewhere),
            }
        }
    })
}

impl TokenManager {
    /// Applies how a refresh settled, if it still belongs to the current session, then tells listeners and the
    /// sibling tabs. The lock (if any) is released last, after the new tokens are stored and handed over.
    pub(super) fn finish(&self, generation: u64, settled: Settled) -> RefreshResult {
        let current = {
            let mut st = self.inner.state.borrow_mut();
            let current = st.generation == generation;
            if st.pending.as_ref().is_some_and(|p| p.generation == generation) {
                st.pending = None;
                st.presenting = false;
            }
            current
        };
        if !current {
            if let Settled::Answer {
                outcome: RefreshOutcome::Renewed(t) | RefreshOutcome::Salvaged { tokens: t, .. },
                ..
            } = settled
            {
                self.emit(SessionEvent::Discarded(Box::new(t)));
            }
            return Err(AuthError::Superseded);
        }
        match settled {
            Settled::NoRequest(result) => result,
            Settled::Backoff(retry_at) => {
                self.inner.state.borrow_mut().retry_at = retry_at;
                Err(self.announce(AuthError::Deferred(Deferral::Backoff { retry_at })))
            }
            Settled::Stuck(deferral) => {
                self.inner.state.borrow_mut().stuck = true;
                Err(self.announce(AuthError::Deferred(deferral)))
            }
            Settled::Ended(reason) => {
                Err(self.end(reason.clone(), false, false).unwrap_or(AuthError::SessionEnded { reason }))
            }
            Settled::Answer { outcome, presented, guard, unmarked } => {
                if unmarked && matches!(&outcome, RefreshOutcome::Failed(e) if !e.requires_reauth()) {
                    // Not consumed: the stored copy removed for the request's flight comes back.
                    let _ = self.persist(&presented);
                }
                let result = self.apply(outcome, *presented);
                drop(guard);
                result
            }
        }
    }

    fn apply(&self, outcome: RefreshOutcome, presented: TokenSet) -> RefreshResult {
        let metrics = &self.inner.metrics;
        match outcome {
            RefreshOutcome::Renewed(tokens) => {
                self.store_rotation(tokens.clone());
                metrics.record(MetricEvent::RefreshSucceeded);
                self.emit(SessionEvent::Refreshed);
                Ok(tokens.access_token)
            }
            RefreshOutcome::Salvaged { tokens, problem } => {
                // The provider rotated but its answer is unusable: go on with the new refresh token, report the rest.
                self.store_rotation(tokens);
                let error = AuthError::MalformedResponse(problem);
                metrics.record(MetricEvent::RefreshFailed { reason: error.metric_label() });
                self.note_failure(&error);
                Err(self.announce(error))
            }
            RefreshOutcome::Failed(error) => {
                metrics.record(MetricEvent::RefreshFailed { reason: error.metric_label() });
                match error.end_reason().cloned() {
                    Some(reason) => {
                        // A consumed refresh token with nothing to go on (an unusable answer) leaves a live access
                        // token and grant behind: revoke them. After a refusal the access token may still be live
                        // at some providers: revoke it too.
                        let revoke = matches!(reason, EndReason::UnusableAnswer { .. } | EndReason::Refused { .. });
                        let ended = self.end(reason, revoke, true);
                        if ended.is_none() && revoke {
                            self.emit(SessionEvent::Discarded(Box::new(presented)));
                        }
                        Err(error)
                    }
                    None => {
                        self.note_failure(&error);
                        Err(self.announce(error))
                    }
                }
            }
        }
    }

    /// Stores a rotation and hands it to the sibling tabs.
    fn store_rotation(&self, tokens: TokenSet) {
        let _ = self.persist(&tokens);
        {
            let mut st = self.inner.state.borrow_mut();
            st.tokens = Some(tokens.clone());
            st.stuck = false;
            st.failures = 0;
            st.retry_at = 0;
        }
        self.post(SiblingMessage::Tokens {
            from: String::new(),
            kind: TokensKind::Refreshed,
            tokens: Box::new(tokens),
        });
    }

    /// Starts (or lengthens) the backoff after a passing failure.
    fn note_failure(&self, error: &AuthError) {
        let retry_after = match error {
            AuthError::Server { retry_after_secs, .. } => *retry_after_secs,
            _ => None,
        };
        let now = self.now();
        let mut st = self.inner.state.borrow_mut();
        st.failures = st.failures.saturating_add(1);
        st.retry_at = now + backoff_ms(st.failures, retry_after);
    }

    fn announce(&self, error: AuthError) -> AuthError {
        self.emit(SessionEvent::RefreshFailed(error.clone()));
        error
    }
}
