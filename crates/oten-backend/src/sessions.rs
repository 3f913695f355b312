//! Sessions and their tokens: created at sign-in, refreshed on demand — one presentation of each refresh token,
//! whatever the number of concurrent requests, instances, restarts or faults — and ended by sign-out, back-channel
//! logout, a refused refresh or the maximum age (revoking what is still live).
//!
//! A refresh runs under two locks (this instance's per-session mutex, then the database's session lock), re-reads
//! the row, **marks it durably before the refresh token leaves**, and stores the answer (clearing the mark) or, for
//! an answer that says the token was not processed, clears the mark. A mark still there under the lock means an
//! earlier presentation's outcome never arrived (the instance died, the answer could not be stored): that token is
//! never presented again; the access token serves while valid, then the session ends. The renewal runs in a task of
//! its own, so a caller that goes away cannot cut it between presenting and storing.

use crate::keyring::KeyRingError;
use crate::state::AppState;
use crate::store::{SessionLock, SessionRow, StoreError};
use oten_auth_core::{AuthError, RefreshOutcome, RefreshPolicy, TokenSet};
use std::sync::Arc;
use std::time::Duration;

/// The field name tokens are sealed under (bound into the ciphertext).
const TOKENS_FIELD: &str = "tokens";

/// Why a request gets no access token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No session (no cookie, unknown cookie, or ended): the person must sign in.
    #[error("not signed in")]
    NotSignedIn,
    /// The session ended now (refresh refused, maximum age, stored data unreadable); it was removed.
    #[error("the session has ended: {0}")]
    Ended(String),
    /// The provider could not renew the token now (down, timeout); the session is kept.
    #[error("the identity provider is unavailable; try again shortly")]
    ProviderUnavailable(#[source] AuthError),
    /// The session was sealed with a key this instance does not have (a key rotation under way): kept, 503.
    #[error("the session cannot be read with this instance's keys: {0}")]
    KeyUnavailable(#[source] KeyRingError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a failed refresh's answer says what happened to the refresh token: an error answer, or a request that
/// never reached the provider. A timeout or an answer that broke off does not.
fn outcome_known(error: &AuthError) -> bool {
    use oten_auth_core::TransportError;
    match error {
        AuthError::Timeout => false,
        AuthError::Network(TransportError::NotSent(_) | TransportError::Redirected) => true,
        AuthError::Network(_) => false,
        _ => true,
    }
}

/// When a request was refused with a token: renew only if that token is still the session's current one (so
/// many requests refused together cause one refresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Nothing was refused: renew only when the token is due.
    No,
    /// This access token was refused (by the API, or the app reports it so).
    Token(String),
}

impl AppState {
    /// Stores a new session under `row_id`.
    pub async fn create_session(
        &self,
        row_id: &str,
        tokens: &TokenSet,
        sid: Option<String>,
        now: i64,
    ) -> Result<(), SessionError> {
        let sealed = self.seal(row_id, tokens)?;
        let sub = tokens.user.as_ref().map(|u| u.sub.clone()).unwrap_or_default();
        let row = SessionRow {
            id: row_id.to_owned(),
            sub,
            sid,
            tokens: sealed,
            access_expires_at: tokens.expires_at,
            created_at: now,
            updated_at: now,
            version: 0,
            presenting_since: None,
        };
        self.db.insert_session(&row).await?;
        Ok(())
    }

    /// The session's tokens as stored (no refresh).
    pub async fn session_tokens(&self, row_id: &str) -> Result<(SessionRow, TokenSet), SessionError> {
        let row = self.db.load_session(row_id).await?.ok_or(SessionError::NotSignedIn)?;
        let tokens = self.open_or_end(row_id, &row).await?;
        Ok((row, tokens))
    }

    /// The session as stored, unless it has passed its maximum age (then it ends here: removed, tokens revoked).
    pub async fn live_session(&self, row_id: &str) -> Result<(SessionRow, TokenSet), SessionError> {
        let (row, tokens) = self.session_tokens(row_id).await?;
        self.check_max_age(row_id, &tokens, crate::now_ms()).await?;
        Ok((row, tokens))
    }

    /// Tokens with a valid access token: the stored ones while they are fresh, else renewed — once per session,
    /// whatever the number of concurrent callers here or in other instances.
    pub async fn valid_tokens(self: &Arc<Self>, row_id: &str, rejected: &Rejected) -> Result<TokenSet, SessionError> {
        let now = crate::now_ms();
        let (_, tokens) = self.session_tokens(row_id).await?;
        self.check_max_age(row_id, &tokens, now).await?;
        if !self.must_renew(&tokens, rejected, now) {
            return Ok(tokens);
        }
        let (app, row_id, rejected) = (Arc::clone(self), row_id.to_owned(), rejected.clone());
        let renewal = tokio::spawn(async move {
            let flight = app.flight(&row_id);
            let _turn = flight.lock().await;
            let mut lock = app.db.lock_session(&row_id).await?;
            let result = app.renew_locked(&mut lock, &row_id, &rejected).await;
            lock.release().await;
            result
        });
        match renewal.await {
            Ok(result) => result,
            Err(e) => Err(SessionError::Ended(format!("the renewal stopped: {e}"))),
        }
    }

    /// Under both locks: re-read (another caller may have renewed meanwhile), then present the refresh token once.
    async fn renew_locked(
        &self,
        lock: &mut SessionLock,
        row_id: &str,
        rejected: &Rejected,
    ) -> Result<TokenSet, SessionError> {
        let row = self.db.load_locked(lock, row_id).await?.ok_or(SessionError::NotSignedIn)?;
        let tokens = self.open_or_end(row_id, &row).await?;
        let now = crate::now_ms();
        if !self.must_renew(&tokens, rejected, now) {
            return Ok(tokens);
        }
        if tokens.is_expired(now) {
            self.metrics.expirations.inc();
        }
        // An earlier presentation whose outcome never arrived, or no refresh token at all: never (re)present.
        let cannot_renew = if row.presenting_since.is_some() {
            Some("a renewal of this session was interrupted; please sign in again")
        } else if tokens.refresh_token.is_none() {
            Some("the session has no refresh token and its access token expired")
        } else {
            None
        };
        if let Some(why) = cannot_renew {
            if !tokens.is_expired(now) && *rejected == Rejected::No {
                return Ok(tokens);
            }
            self.db.delete_locked(lock, row_id).await?;
            self.metrics.ended("interrupted", 1);
            return Err(SessionError::Ended(why.into()));
        }
        if !self.db.mark_presenting(lock, row_id, row.version, now).await? {
            return Err(SessionError::NotSignedIn);
        }
        let outcome = self.provider.refresh(&tokens, crate::now_ms).await;
        match outcome {
            RefreshOutcome::Renewed(new) => {
                self.metrics.refresh("renewed", "ok");
                self.store_renewed(lock, row_id, row.version, &new).await?;
                Ok(new)
            }
            RefreshOutcome::Salvaged { tokens: new, problem } => {
                tracing::warn!(%problem, "the refresh answer was unusable; its new refresh token is kept");
                self.metrics.refresh("salvaged", "malformed_response");
                self.store_renewed(lock, row_id, row.version, &new).await?;
                match new.is_expired(crate::now_ms()) {
                    true => Err(SessionError::ProviderUnavailable(AuthError::MalformedResponse(problem))),
                    false => Ok(new),
                }
            }
            RefreshOutcome::Failed(error) if error.requires_reauth() => {
                // invalid_grant / invalid_client: the grant is over at the provider. Nothing to revoke.
                self.metrics.refresh("ended", error.metric_label());
                self.db.delete_locked(lock, row_id).await?;
                self.metrics.ended("refused", 1);
                Err(SessionError::Ended(error.to_string()))
            }
            RefreshOutcome::Failed(error) => {
                // An error answer, or a request that never left: not processed, the refresh token is still the
                // current one. No answer (a timeout, an answer that broke off): the provider may have rotated it,
                // so the mark stays and it is never presented again (the access token serves while valid).
                if outcome_known(&error) {
                    self.clear_mark(lock, row_id, row.version).await?;
                }
                self.metrics.refresh("failed", error.metric_label());
                tracing::warn!(%error, "refresh failed; the session is kept");
                match !tokens.is_expired(crate::now_ms()) && *rejected == Rejected::No {
                    true => Ok(tokens),
                    false => Err(SessionError::ProviderUnavailable(error)),
                }
            }
        }
    }

    /// Clears the mark, trying again a few times (a mark left by a database hiccup would end a healthy session).
    async fn clear_mark(&self, lock: &mut SessionLock, row_id: &str, version: i64) -> Result<(), SessionError> {
        let mut attempt = 0;
        loop {
            match self.db.clear_presenting(lock, row_id, version).await {
                Ok(_) => return Ok(()),
                Err(error) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(%error, attempt, "clearing the presentation mark failed; trying again");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Stores renewed tokens, trying again a few times: until they are stored, the mark keeps the consumed refresh
    /// token from being presented again.
    async fn store_renewed(
        &self,
        lock: &mut SessionLock,
        row_id: &str,
        version: i64,
        tokens: &TokenSet,
    ) -> Result<(), SessionError> {
        let sealed = self.seal(row_id, tokens)?;
        let mut attempt = 0;
        loop {
            match self.db.store_renewed(lock, row_id, version, &sealed, tokens.expires_at, crate::now_ms()).await {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    // Signed out while the refresh ran: the new tokens belong to nobody.
                    self.provider.revoke(tokens).await;
                    return Err(SessionError::NotSignedIn);
                }
                Err(error) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(%error, attempt, "storing renewed tokens failed; trying again");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    fn must_renew(&self, tokens: &TokenSet, rejected: &Rejected, now: i64) -> bool {
        let policy = RefreshPolicy::with_buffer_secs(self.settings.refresh_buffer_secs);
        match rejected {
            Rejected::No => policy.needs_refresh(tokens, now),
            Rejected::Token(token) => tokens.access_token.expose() == token || policy.needs_refresh(tokens, now),
        }
    }

    async fn check_max_age(&self, row_id: &str, tokens: &TokenSet, now: i64) -> Result<(), SessionError> {
        let max_age_ms = i64::try_from(self.settings.session_max_age_secs).unwrap_or(i64::MAX / 1000) * 1000;
        if tokens.is_past_max_age(now, Some(max_age_ms)) {
            self.end_session(row_id, "max_age").await?;
            return Err(SessionError::Ended("the session reached its maximum age".into()));
        }
        Ok(())
    }

    /// Ends a session: removes it (under its lock: a refresh of it in any instance finishes first, and its newest
    /// tokens are the ones revoked), then revokes its tokens at the provider. `false` when there was none.
    pub async fn end_session(&self, row_id: &str, kind: &str) -> Result<bool, SessionError> {
        let Some(row) = self.delete_in_turn(row_id).await? else { return Ok(false) };
        self.metrics.ended(kind, 1);
        if let Ok(tokens) = self.open(&row) {
            self.provider.revoke(&tokens).await;
        }
        Ok(true)
    }

    /// Removes a session without revoking, under its lock (a refresh of it finishes first): for a session the
    /// browser replaced by signing in again, whose grant the new session shares at the provider.
    pub async fn forget_session(&self, row_id: &str) -> Result<(), SessionError> {
        if self.delete_in_turn(row_id).await?.is_some() {
            self.metrics.ended("replaced", 1);
        }
        Ok(())
    }

    /// Removes a session in turn with its refreshes: the same per-session mutex, then the same lock, in the same
    /// order as a renewal, and the delete on the lock's own connection.
    async fn delete_in_turn(&self, row_id: &str) -> Result<Option<SessionRow>, SessionError> {
        let flight = self.flight(row_id);
        let _turn = flight.lock().await;
        let mut lock = self.db.lock_session(row_id).await?;
        let deleted = self.db.delete_locked(&mut lock, row_id).await;
        lock.release().await;
        Ok(deleted?)
    }

    /// Ends the sessions a back-channel logout names; how many there were.
    pub async fn end_sessions_of(&self, sub: Option<&str>, sid: Option<&str>) -> Result<usize, SessionError> {
        let rows = self.db.delete_sessions_of(sub, sid).await?;
        self.metrics.ended("backchannel", rows.len() as u64);
        for row in &rows {
            if let Ok(tokens) = self.open(row) {
                self.provider.revoke(&tokens).await;
            }
        }
        Ok(rows.len())
    }

    fn seal(&self, row_id: &str, tokens: &TokenSet) -> Result<String, SessionError> {
        self.keys
            .seal_text(row_id, TOKENS_FIELD, tokens.to_storage_json().as_bytes())
            .map_err(SessionError::KeyUnavailable)
    }

    /// Opens a row's tokens. A key this instance lacks (a rotation under way) keeps the session (503); anything
    /// else unreadable ends it (there is nothing to revoke with).
    async fn open_or_end(&self, row_id: &str, row: &SessionRow) -> Result<TokenSet, SessionError> {
        match self.keys.open_text(&row.id, TOKENS_FIELD, &row.tokens) {
            Err(e @ KeyRingError::UnknownKey(_)) => Err(SessionError::KeyUnavailable(e)),
            Err(problem) => self.corrupt(row_id, &problem.to_string()).await,
            Ok(plain) => match String::from_utf8(plain)
                .map_err(|_| "not UTF-8".to_string())
                .and_then(|text| TokenSet::from_storage_json(&text))
            {
                Ok(tokens) => Ok(tokens),
                Err(problem) => self.corrupt(row_id, &problem).await,
            },
        }
    }

    async fn corrupt(&self, row_id: &str, problem: &str) -> Result<TokenSet, SessionError> {
        tracing::warn!(problem, "a stored session could not be read; it is removed");
        self.db.delete_session(row_id).await?;
        self.metrics.ended("corrupt", 1);
        Err(SessionError::Ended("the stored session could not be read".into()))
    }

    pub(crate) fn open(&self, row: &SessionRow) -> Result<TokenSet, String> {
        let plain = self.keys.open_text(&row.id, TOKENS_FIELD, &row.tokens).map_err(|e| e.to_string())?;
        let text = String::from_utf8(plain).map_err(|_| "not UTF-8".to_string())?;
        TokenSet::from_storage_json(&text)
    }
}
