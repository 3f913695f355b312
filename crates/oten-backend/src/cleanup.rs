//! The lifecycle task: removes sessions past their maximum age (revoking what they held), renews idle sessions so
//! dead refresh tokens are found and their sessions removed, and forgets sign-ins never finished.

use crate::sessions::{Rejected, SessionError};
use crate::state::AppState;
use std::sync::Arc;
use std::time::Duration;

/// What one cleanup pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CleanupReport {
    /// Sessions past the maximum age, removed and revoked.
    pub expired: usize,
    /// Idle sessions whose refresh token was refused, removed.
    pub dead: usize,
    /// Idle sessions renewed (still alive).
    pub renewed: usize,
    /// Unfinished sign-ins forgotten.
    pub abandoned_sign_ins: u64,
}

/// How long a session may sit with an expired access token before the cleanup checks its refresh token.
const IDLE_PROBE_MS: i64 = 24 * 3600 * 1000;

impl AppState {
    /// One cleanup pass.
    pub async fn cleanup(self: &Arc<Self>) -> Result<CleanupReport, SessionError> {
        let now = crate::now_ms();
        let mut report = CleanupReport::default();
        let max_age_ms = i64::try_from(self.settings.session_max_age_secs).unwrap_or(i64::MAX / 1000) * 1000;
        for row in self.db.sessions_created_before(now.saturating_sub(max_age_ms)).await? {
            if self.end_session(&row.id, "max_age").await? {
                report.expired += 1;
            }
        }
        for row in self.db.sessions_expired_before(now.saturating_sub(IDLE_PROBE_MS)).await? {
            match self.valid_tokens(&row.id, &Rejected::No).await {
                Ok(_) => report.renewed += 1,
                Err(SessionError::Ended(_)) => report.dead += 1,
                Err(_) => {}
            }
        }
        report.abandoned_sign_ins = self.db.purge_pending(now - oten_auth_core::PENDING_LIFETIME_MS).await?;
        Ok(report)
    }

    /// Runs [`AppState::cleanup`] every `cleanup_interval_secs`, forever.
    pub fn spawn_cleanup(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let app = Arc::clone(self);
        tokio::spawn(async move {
            let period = Duration::from_secs(app.settings.cleanup_interval_secs.max(1));
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                match app.cleanup().await {
                    Ok(report) => tracing::info!(?report, "cleanup"),
                    Err(error) => tracing::warn!(%error, "cleanup failed"),
                }
            }
        })
    }
}
