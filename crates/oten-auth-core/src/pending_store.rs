//! Where the one sign-in in progress is kept between the redirect to the provider and the callback.

use crate::authorize::PendingAuthorization;
use crate::store::StoreError;
use std::cell::RefCell;

/// Keeps one [`PendingAuthorization`]: a newer attempt replaces it; taking it removes it (a replayed callback finds
/// nothing). The browser keeps it in sessionStorage (this tab only).
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{MemoryPendingStore, PendingAuthorization, PendingStore};
/// let store = MemoryPendingStore::default();
/// let verifier = oten_auth_core::pkce::PkceVerifier::parse("v".repeat(43)).unwrap();
/// let attempt = PendingAuthorization::new("s", "n", verifier, "/", "https://app.test/callback", 0);
/// store.save(&attempt).unwrap();
/// assert_eq!(store.take(), Some(attempt));
/// assert_eq!(store.take(), None); // used once
/// ```
pub trait PendingStore {
    /// Keeps `pending`, replacing any older attempt.
    fn save(&self, pending: &PendingAuthorization) -> Result<(), StoreError>;
    /// Takes the attempt out (`None` when there is none, or it is unreadable).
    fn take(&self) -> Option<PendingAuthorization>;
}

/// A [`PendingStore`] in memory (tests, or a sign-in that never leaves the page).
#[derive(Debug, Default)]
pub struct MemoryPendingStore(RefCell<Option<PendingAuthorization>>);

impl PendingStore for MemoryPendingStore {
    fn save(&self, pending: &PendingAuthorization) -> Result<(), StoreError> {
        *self.0.borrow_mut() = Some(pending.clone());
        Ok(())
    }

    fn take(&self) -> Option<PendingAuthorization> {
        self.0.borrow_mut().take()
    }
}
