//! Sessions and their tokens: created at sign-in, refreshed on demand — one presentation of each refresh token,
//! whatever the number of concurrent requests, instances or restarts — and ended by sign-out, back-channel logout,
//! a refused refresh or the maximum age (revoking what is still live).

use crate::state::AppState;
use crate::store::{SessionRow, StoreError};
use oten_auth_core::{AuthError, RefreshOutcome, RefreshPolicy, TokenSet};

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
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// When a request was refused with a token: renew only if that token is still the session's current one (so
/// many requests refused together cause one refresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Nothing was refused: renew only when the token is due.
    No,
    /// The API refused this access token.
    Token(String),
    /// The browser's token, known by its expiry time (ms), was refused.
    ExpiresAt(i64),
}

impl AppState {
    /// Stores a new session and returns its row id.
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
        };
        self.db.insert_session(&row).await?;
        Ok(())
    }

    /// The session's tokens as stored (no refresh).
    pub async fn session_tokens(&self, row_id: &str) -> Result<(SessionRow, TokenSet), SessionError> {
        let row = self.db.load_session(row_id).await?.ok_or(SessionError::NotSignedIn)?;
        match self.open(&row) {
            Ok(tokens) => Ok((row, tokens)),
            Err(problem) => {
                tracing::warn!(problem, "a stored session could not be read; it is removed");
                self.db.delete_session(row_id).await?;
                self.metrics.ended("corrupt", 1);
                Err(SessionError::Ended("the stored session could not be read".into()))
            }
        }
    }

    /// The session as stored, unless it has passed its maximum age (then it ends here: removed, tokens revoked).
    pub async fn live_session(&self, row_id: &str) -> Result<(SessionRow, TokenSet), SessionError> {
        let (row, tokens) = self.session_tokens(row_id).await?;
        self.check_max_age(row_id, &tokens, crate::now_ms()).await?;
        Ok((row, tokens))
    }

    /// Tokens with a valid access token: the stored ones while they are fresh, else renewed — once per session,
    /// whatever the number of concurrent callers here or in other instances (PostgreSQL lock, re-read after it).
    pub async fn valid_tokens(&self, row_id: &str, rejected: &Rejected) -> Result<TokenSet, SessionError> {
        let now = crate::now_ms();
        let (_, tokens) = self.session_tokens(row_id).await?;
        self.check_max_age(row_id, &tokens, now).await?;
        if !self.must_renew(&tokens, rejected, now) {
            return Ok(tokens);
        }
        let flight = self.flight(row_id);
        let _turn = flight.lock().await;
        let lock = self.db.lock_session(row_id).await?;
        let result = self.renew_locked(row_id, rejected).await;
        lock.release().await;
        result
    }

    /// Under both locks: re-read (another caller may have renewed meanwhile), then present the refresh token once.
    async fn renew_locked(&self, row_id: &str, rejected: &Rejected) -> Result<TokenSet, SessionError> {
        let (_, tokens) = self.session_tokens(row_id).await?;
        let now = crate::now_ms();
        if !self.must_renew(&tokens, rejected, now) {
            return Ok(tokens);
        }
        if tokens.is_expired(now) {
            self.metrics.expirations.inc();
        }
        match self.provider.refresh(&tokens, crate::now_ms).await {
            RefreshOutcome::Renewed(new) => {
                self.metrics.refresh("renewed", "ok");
                self.store_renewed(row_id, &new).await?;
                Ok(new)
            }
            RefreshOutcome::Salvaged { tokens: new, problem } => {
                tracing::warn!(%problem, "the refresh answer was unusable; its new refresh token is kept");
                self.metrics.refresh("salvaged", "malformed_response");
                self.store_renewed(row_id, &new).await?;
                if new.is_expired(crate::now_ms()) {
                    Err(SessionError::ProviderUnavailable(AuthError::MalformedResponse(problem)))
                } else {
                    Ok(new)
                }
            }
            RefreshOutcome::Failed(error) if error.requires_reauth() => {
                // invalid_grant / invalid_client: the grant is over at the provider. Nothing to revoke.
                self.metrics.refresh("ended", error.metric_label());
                self.db.delete_session(row_id).await?;
                self.metrics.ended("refused", 1);
                Err(SessionError::Ended(error.to_string()))
            }
            RefreshOutcome::Failed(error) => {
                self.metrics.refresh("failed", error.metric_label());
                tracing::warn!(%error, "refresh failed; the session is kept");
                // A token that is still valid serves this request; an expired one cannot.
                if !tokens.is_expired(crate::now_ms()) && *rejected == Rejected::No {
                    Ok(tokens)
                } else {
                    Err(SessionError::ProviderUnavailable(error))
                }
            }
        }
    }

    async fn store_renewed(&self, row_id: &str, tokens: &TokenSet) -> Result<(), SessionError> {
        let sealed = self.seal(row_id, tokens)?;
        if !self.db.update_tokens(row_id, &sealed, tokens.expires_at, crate::now_ms()).await? {
            // Signed out while the refresh ran: the new tokens belong to nobody.
            self.provider.revoke(tokens).await;
            return Err(SessionError::NotSignedIn);
        }
        Ok(())
    }

    fn must_renew(&self, tokens: &TokenSet, rejected: &Rejected, now: i64) -> bool {
        let policy = RefreshPolicy::with_buffer_secs(self.settings.refresh_buffer_secs);
        match rejected {
            Rejected::No => policy.needs_refresh(tokens, now),
            Rejected::Token(token) => tokens.access_token.expose() == token || policy.needs_refresh(tokens, now),
            Rejected::ExpiresAt(at) => tokens.expires_at == *at || policy.needs_refresh(tokens, now),
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

    /// Ends a session: removes it, then revokes its tokens at the provider. `false` when there was none.
    pub async fn end_session(&self, row_id: &str, kind: &str) -> Result<bool, SessionError> {
        let Some(row) = self.db.delete_session(row_id).await? else { return Ok(false) };
        self.metrics.ended(kind, 1);
        if let Ok(tokens) = self.open(&row) {
            self.provider.revoke(&tokens).await;
        }
        Ok(true)
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
            .map_err(|e| SessionError::Ended(e.to_string()))
    }

    pub(crate) fn open(&self, row: &SessionRow) -> Result<TokenSet, String> {
        let plain = self.keys.open_text(&row.id, TOKENS_FIELD, &row.tokens).map_err(|e| e.to_string())?;
        let text = String::from_utf8(plain).map_err(|_| "not UTF-8".to_string())?;
        TokenSet::from_storage_json(&text)
    }
}
