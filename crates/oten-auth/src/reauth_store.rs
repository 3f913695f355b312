//! The loop guard of `/login` in sessionStorage: why the last session ended, and when the last forced sign-in
//! started ([`ReauthState`]). It survives the redirects of a sign-in, and lives as long as the tab.

use crate::session_store::{read_item, write_item};
use oten_auth_core::ReauthState;

/// The sessionStorage key of the loop guard.
pub const REAUTH_KEY: &str = "oten.auth.reauth";

/// The stored guard (a fresh one when missing or unreadable).
pub(crate) fn load_reauth() -> ReauthState {
    read_item(REAUTH_KEY).ok().flatten().map(|t| ReauthState::from_json(&t)).unwrap_or_default()
}

/// Changes the stored guard.
pub(crate) fn update_reauth(change: impl FnOnce(&mut ReauthState)) {
    let mut state = load_reauth();
    change(&mut state);
    let _ = write_item(REAUTH_KEY, &state.to_json());
}
