//! Tokens in `sessionStorage`: one key, one JSON document, write-through.

use oten_auth_core::{StoreError, TokenSet, TokenStore};

/// The sessionStorage key that holds the tokens.
pub const TOKENS_KEY: &str = "oten.auth.tokens";

/// Keeps the [`TokenSet`] in the tab's `sessionStorage` under [`TOKENS_KEY`].
///
/// sessionStorage lives as long as the tab, is not shared with other tabs, and is never sent to a server. The
/// [`oten_auth_core::TokenManager`] holds the in-memory copy, so a lookup with a fresh token reads nothing
/// from here; every change is written through. Corrupt or hand-edited data is reported as
/// [`StoreError::Corrupt`], which the manager clears and treats as signed out. Storage that is unavailable
/// (disabled, or a sandboxed frame) is an error, never a panic.
///
/// ## Usage
///
/// ```no_run
/// use oten_auth::SessionStorageStore;
/// use oten_auth_core::TokenStore;
/// let store = SessionStorageStore::default();
/// let _ = store.load(); // Ok(None) when signed out
/// ```
#[derive(Debug, Clone)]
pub struct SessionStorageStore {
    key: String,
}

impl Default for SessionStorageStore {
    fn default() -> Self {
        Self::with_key(TOKENS_KEY)
    }
}

impl SessionStorageStore {
    /// A store under another key (several independent sessions in one app).
    pub fn with_key(key: impl Into<String>) -> Self {
        Self { key: key.into() }
    }
}

/// The tab's sessionStorage, or why not.
pub(crate) fn session_storage() -> Result<web_sys::Storage, StoreError> {
    web_sys::window()
        .ok_or_else(|| StoreError::Unavailable("no window".into()))?
        .session_storage()
        .map_err(|_| StoreError::Unavailable("sessionStorage is blocked".into()))?
        .ok_or_else(|| StoreError::Unavailable("sessionStorage is missing".into()))
}

/// Reads one item.
pub(crate) fn read_item(key: &str) -> Result<Option<String>, StoreError> {
    session_storage()?.get_item(key).map_err(|_| StoreError::Unavailable("sessionStorage read failed".into()))
}

/// Writes one item.
pub(crate) fn write_item(key: &str, value: &str) -> Result<(), StoreError> {
    session_storage()?
        .set_item(key, value)
        .map_err(|_| StoreError::Unavailable("sessionStorage is full or blocked".into()))
}

/// Removes one item.
pub(crate) fn remove_item(key: &str) -> Result<(), StoreError> {
    session_storage()?.remove_item(key).map_err(|_| StoreError::Unavailable("sessionStorage remove failed".into()))
}

impl TokenStore for SessionStorageStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        match read_item(&self.key)? {
            None => Ok(None),
            Some(text) => TokenSet::from_storage_json(&text).map(Some).map_err(StoreError::Corrupt),
        }
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        write_item(&self.key, &tokens.to_storage_json())
    }

    fn clear(&self) -> Result<(), StoreError> {
        remove_item(&self.key)
    }
}
