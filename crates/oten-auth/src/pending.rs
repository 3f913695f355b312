//! The one-round-trip state of a sign-in, in sessionStorage.

use crate::session_store::{read_item, remove_item, write_item};
use oten_auth_core::{PendingAuthorization, PendingStore, StoreError};

/// The sessionStorage key of the sign-in in progress.
pub const PENDING_KEY: &str = "oten.auth.pending";

/// Keeps the attempt (state, nonce, PKCE verifier, return path) until the callback; a newer attempt replaces it.
pub(crate) fn save_pending(pending: &PendingAuthorization) -> Result<(), StoreError> {
    write_item(PENDING_KEY, &pending.to_json())
}

/// Takes the attempt out of storage: it can be used once, so a replayed callback finds nothing (see
/// [`save_pending`] for an example).
pub(crate) fn take_pending() -> Option<PendingAuthorization> {
    let text = read_item(PENDING_KEY).ok().flatten();
    let _ = remove_item(PENDING_KEY);
    text.as_deref().and_then(PendingAuthorization::from_json)
}

/// Removes a sign-in attempt that can no longer complete (older than its lifetime, or unreadable), so that its
/// verifier, state and nonce do not linger in storage. A live attempt (its callback may still come) is kept.
pub(crate) fn remove_stale_pending(now_ms: i64) -> bool {
    let Some(text) = read_item(PENDING_KEY).ok().flatten() else { return false };
    let stale = PendingAuthorization::from_json(&text).is_none_or(|p| p.is_expired(now_ms));
    if stale {
        let _ = remove_item(PENDING_KEY);
    }
    stale
}

/// The tab's sessionStorage as the core's [`PendingStore`] (key [`PENDING_KEY`]).
///
/// ## Usage
///
/// ```no_run
/// use std::rc::Rc;
/// let pending: Rc<dyn oten_auth_core::PendingStore> = Rc::new(oten_auth::SessionPendingStore);
/// # let _ = pending;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionPendingStore;

impl PendingStore for SessionPendingStore {
    fn save(&self, pending: &PendingAuthorization) -> Result<(), StoreError> {
        save_pending(pending)
    }

    fn take(&self) -> Option<PendingAuthorization> {
        take_pending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oten_auth_core::pkce::PkceVerifier;
    use wasm_bindgen_test::*;

    fn verifier() -> PkceVerifier {
        PkceVerifier::parse("v".repeat(43)).unwrap()
    }

    #[wasm_bindgen_test]
    async fn start_up_removes_stale_sign_in_state_and_keeps_a_live_one() {
        let now = js_sys::Date::now() as i64;
        let stale =
            PendingAuthorization::new("s", "n", verifier(), "/", "http://127.0.0.1:8099/callback", now - 11 * 60_000);
        save_pending(&stale).unwrap();
        assert!(remove_stale_pending(now));
        assert_eq!(take_pending(), None);
        let live = PendingAuthorization::new("s", "n", verifier(), "/", "http://127.0.0.1:8099/callback", now);
        save_pending(&live).unwrap();
        assert!(!remove_stale_pending(now));
        assert_eq!(take_pending(), Some(live));
        let storage = web_sys::window().unwrap().session_storage().unwrap().unwrap();
        storage.set_item(PENDING_KEY, "{corrupt").unwrap();
        assert!(remove_stale_pending(now));
        assert_eq!(storage.get_item(PENDING_KEY).unwrap(), None);
    }
}
