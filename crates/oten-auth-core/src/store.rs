//! Where tokens are kept between page loads.

use crate::token_set::TokenSet;
use std::cell::{Cell, RefCell};

/// A failure of a [`TokenStore`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// What is stored is unreadable or of the wrong shape; the manager clears it and treats the person as
    /// signed out.
    #[error("stored session data is corrupt: {0}")]
    Corrupt(String),
    /// The storage itself refused (quota, disabled storage, private mode).
    #[error("session storage is unavailable: {0}")]
    Unavailable(String),
}

/// Keeps one [`TokenSet`]: load, save, clear.
///
/// The [`crate::TokenManager`] keeps an in-memory copy and writes through on every change, so `load` runs once
/// per page load, not once per lookup. Implementations: `MemoryStore` here, a sessionStorage store in the
/// browser crate, a server-side store in a backend.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{MemoryStore, TokenSet, TokenStore};
/// let store = MemoryStore::default();
/// let t = TokenSet::parse_token_response(r#"{"access_token":"a"}"#, 1, None).unwrap();
/// store.save(&t).unwrap();
/// assert_eq!(store.load().unwrap(), Some(t));
/// store.clear().unwrap();
/// assert_eq!(store.load().unwrap(), None);
/// ```
pub trait TokenStore {
    /// Reads the stored tokens: `Ok(None)` when there are none, `Err(Corrupt)` when they cannot be read.
    fn load(&self) -> Result<Option<TokenSet>, StoreError>;
    /// Replaces the stored tokens.
    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError>;
    /// Removes the stored tokens (also when they are corrupt).
    fn clear(&self) -> Result<(), StoreError>;
}

/// A store in memory, in the same stored form as the browser's, for tests and for apps that keep tokens
/// only in memory (lost on reload).
///
/// It counts reads and writes so tests can prove that a fresh lookup touches no storage.
///
/// ```
/// use oten_auth_core::{MemoryStore, TokenStore};
/// let store = MemoryStore::with_raw("{corrupt");
/// assert!(store.load().is_err());
/// assert_eq!(store.reads(), 1);
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    raw: RefCell<Option<String>>,
    reads: Cell<u32>,
    writes: Cell<u32>,
    fail_writes: Cell<bool>,
}

impl MemoryStore {
    /// A store that already holds `raw` as its stored text (to test corrupt data).
    pub fn with_raw(raw: impl Into<String>) -> Self {
        let store = Self::default();
        *store.raw.borrow_mut() = Some(raw.into());
        store
    }

    /// The stored text, as another tab or a person with dev tools would see it.
    pub fn raw(&self) -> Option<String> {
        self.raw.borrow().clone()
    }

    /// How many times `load` ran.
    pub fn reads(&self) -> u32 {
        self.reads.get()
    }

    /// How many times `save` or `clear` ran.
    pub fn writes(&self) -> u32 {
        self.writes.get()
    }

    /// Makes `save` fail as a full storage would.
    pub fn set_fail_writes(&self, fail: bool) {
        self.fail_writes.set(fail);
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        self.reads.set(self.reads.get() + 1);
        match self.raw.borrow().as_deref() {
            None => Ok(None),
            Some(text) => TokenSet::from_storage_json(text).map(Some).map_err(StoreError::Corrupt),
        }
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        self.writes.set(self.writes.get() + 1);
        if self.fail_writes.get() {
            return Err(StoreError::Unavailable("quota exceeded".into()));
        }
        *self.raw.borrow_mut() = Some(tokens.to_storage_json());
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.writes.set(self.writes.get() + 1);
        *self.raw.borrow_mut() = None;
        Ok(())
    }
}
