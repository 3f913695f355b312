//! What a tab shares with its sibling tabs: a lock per session, the session's record, and messages.
//!
//! The browser crate implements [`Siblings`] over the Web Locks API, IndexedDB and a same-origin
//! `BroadcastChannel`; [`crate::testing`] has an in-process fake of several tabs, so the cross-tab rules run
//! natively in tests.

use crate::end_reason::EndReason;
use crate::lineage::LineageRecord;
use crate::token_set::TokenSet;
use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

/// Runs background work and waits: the browser's `spawn_local` and `setTimeout`.
///
/// The manager spawns every refresh so that its answer is always processed — stored, or revoked when the session
/// ended meanwhile — even when every caller stopped waiting.
///
/// ## Usage
///
/// ```
/// use futures::future::LocalBoxFuture;
/// use oten_auth_core::Runtime;
/// struct Inline;
/// impl Runtime for Inline {
///     fn spawn(&self, task: LocalBoxFuture<'static, ()>) { futures::executor::block_on(task) }
///     fn sleep(&self, _ms: u32) -> LocalBoxFuture<'static, ()> { Box::pin(async {}) }
/// }
/// ```
pub trait Runtime {
    /// Runs `task` to completion in the background.
    fn spawn(&self, task: LocalBoxFuture<'static, ()>);
    /// Resolves after `ms` milliseconds.
    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()>;
}

/// How to ask for a session's refresh lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Wait at most `timeout_ms`, measured on a clock that does not run while the machine sleeps.
    Wait {
        /// The longest wait.
        timeout_ms: u32,
    },
    /// Take it from a holder that stopped (a frozen tab): used only after a timed-out wait, and only when the
    /// record shows that the holder's request never left.
    Steal,
}

/// Holds a lock; dropping it releases the lock.
pub struct LockGuard {
    /// Held only for its `Drop`, which releases the lock.
    _release: Box<dyn std::any::Any>,
}

impl LockGuard {
    /// A guard that releases its lock when `release` is dropped.
    pub fn new(release: impl std::any::Any) -> Self {
        Self { _release: Box::new(release) }
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockGuard")
    }
}

/// Why a lock or the shared record could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiblingsError {
    /// The lock was not granted in time.
    #[error("the session's refresh lock was not granted in time")]
    LockTimeout,
    /// The shared storage failed.
    #[error("the shared session record is unavailable: {0}")]
    Unavailable(String),
}

/// An atomic update of a record: given the current record, the one to write (`None`: leave it).
pub type RecordUpdate = Box<dyn FnOnce(Option<&LineageRecord>) -> Option<LineageRecord>>;

/// What a tab shares with its siblings.
///
/// ## Usage
///
/// A [`crate::TokenManager`] given siblings ([`crate::TokenManager::with_siblings`]) serialises the refreshes of
/// a session across tabs, hands new tokens to the other tabs, and hears of sign-outs. The app passes every message
/// that arrives to [`crate::TokenManager::receive`]. See [`crate::testing::FakeTabs`] for an implementation.
pub trait Siblings {
    /// This tab's id (unique among the open tabs; a copied tab gets a new one).
    fn tab_id(&self) -> String;
    /// How many other tabs of this app are open (frozen ones included); waits for answers are skipped when none.
    fn others(&self) -> LocalBoxFuture<'static, usize>;
    /// Reads a lineage's record.
    fn read(&self, lineage: &str) -> LocalBoxFuture<'static, Result<Option<LineageRecord>, SiblingsError>>;
    /// Atomically applies `update` to a lineage's record and resolves, once the write (if any) is durable and
    /// visible to every tab, to the record as it was before.
    fn update(
        &self,
        lineage: &str,
        update: RecordUpdate,
    ) -> LocalBoxFuture<'static, Result<Option<LineageRecord>, SiblingsError>>;
    /// Sends a message to every other tab of this app (never to this one).
    fn post(&self, message: &SiblingMessage);
    /// Takes the refresh lock of a lineage.
    fn lock(&self, lineage: &str, mode: LockMode) -> LocalBoxFuture<'static, Result<LockGuard, SiblingsError>>;
}

/// Why a tab sends its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokensKind {
    /// A new sign-in (a new lineage): tabs without a session join it.
    SignedIn,
    /// A rotation: tabs holding an older rotation of the lineage take it.
    Refreshed,
    /// An answer to [`SiblingMessage::Want`] or [`SiblingMessage::Join`].
    Answer,
}

/// A message between tabs of one app (same origin, same client).
///
/// It travels only inside the browser, between documents of the app's own origin (`BroadcastChannel`), like the
/// sessionStorage that holds the same tokens. [`SiblingMessage::from_json`] checks everything it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiblingMessage {
    /// Tokens of a lineage.
    Tokens {
        /// The sending tab.
        from: String,
        /// Why they are sent.
        kind: TokensKind,
        /// The tokens (with their lineage and rotation).
        tokens: Box<TokenSet>,
    },
    /// A tab holding rotation `after_seq` of `lineage` asks for newer tokens.
    Want {
        /// The asking tab.
        from: String,
        /// The lineage.
        lineage: String,
        /// The rotation it holds.
        after_seq: u64,
    },
    /// A tab opened without a session asks whether a sibling has one to share.
    Join {
        /// The asking tab.
        from: String,
    },
    /// A lineage ended: every tab holding it clears its tokens (no request; the sender revoked what needed it).
    Ended {
        /// The sending tab.
        from: String,
        /// The lineage.
        lineage: String,
        /// Why.
        reason: EndReason,
    },
    /// A tab asks which tabs are open and who they are signed in as: each answers with [`SiblingMessage::Here`].
    Who {
        /// The asking tab.
        from: String,
    },
    /// A tab's answer to [`SiblingMessage::Who`]: the person it is signed in as (the ID token's `sub`) and its
    /// session's lineage, or neither when signed out. Never a token.
    Here {
        /// The answering tab.
        from: String,
        /// Who it is signed in as.
        sub: Option<String>,
        /// Its session.
        lineage: Option<String>,
    },
}

/// An open sibling tab of the app, as it answered [`crate::TokenManager::sibling_tabs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiblingTab {
    /// Its tab id.
    pub tab: String,
    /// Who it is signed in as (the ID token's `sub`), or `None` when signed out.
    pub sub: Option<String>,
    /// Whether it holds the asking tab's session (the same lineage: they share its refreshes).
    pub same_session: bool,
}

/// Longest `sub` accepted in a message (OpenID Connect: at most 255 ASCII characters).
const MAX_SUB_LEN: usize = 255;

/// Longest tab id accepted in a message.
const MAX_TAB_ID_LEN: usize = 64;

impl SiblingMessage {
    /// The wire form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a message, refusing anything malformed: unknown types, bad ids, tokens that would be refused from
    /// storage. A refused message is ignored by the caller, never a crash.
    ///
    /// ```
    /// use oten_auth_core::SiblingMessage;
    /// let m = SiblingMessage::Join { from: "t1".into() };
    /// assert_eq!(SiblingMessage::from_json(&m.to_json()), Some(m));
    /// assert_eq!(SiblingMessage::from_json(r#"{"join":{"from":"a b"}}"#), None);
    /// assert_eq!(SiblingMessage::from_json("{"), None);
    /// ```
    pub fn from_json(text: &str) -> Option<SiblingMessage> {
        let mut message: SiblingMessage = serde_json::from_str(text).ok()?;
        let id_ok = |id: &str| {
            !id.is_empty()
                && id.len() <= MAX_TAB_ID_LEN
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let ok = match &mut message {
            SiblingMessage::Tokens { from, tokens, .. } => {
                let checked = crate::token_set::is_valid_lineage(&tokens.lineage)
                    .then(|| (**tokens).clone().validated().ok())
                    .flatten();
                let ok = id_ok(from) && checked.is_some();
                if let Some(checked) = checked {
                    **tokens = checked;
                }
                ok
            }
            SiblingMessage::Want { from, lineage, .. } | SiblingMessage::Ended { from, lineage, .. } => {
                id_ok(from) && crate::token_set::is_valid_lineage(lineage)
            }
            SiblingMessage::Join { from } | SiblingMessage::Who { from } => id_ok(from),
            SiblingMessage::Here { from, sub, lineage } => {
                id_ok(from)
                    && sub
                        .as_deref()
                        .is_none_or(|s| !s.is_empty() && s.len() <= MAX_SUB_LEN && !s.contains(char::is_control))
                    && lineage.as_deref().is_none_or(crate::token_set::is_valid_lineage)
            }
        };
        ok.then_some(message)
    }

    /// The sending tab.
    pub fn from(&self) -> &str {
        match self {
            SiblingMessage::Tokens { from, .. }
            | SiblingMessage::Want { from, .. }
            | SiblingMessage::Join { from }
            | SiblingMessage::Ended { from, .. }
            | SiblingMessage::Who { from }
            | SiblingMessage::Here { from, .. } => from,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(lineage: &str) -> TokenSet {
        TokenSet::parse_token_response(r#"{"access_token":"a","refresh_token":"r"}"#, 1_000, None)
            .unwrap()
            .with_lineage(lineage)
    }

    #[test]
    fn messages_round_trip_and_bad_ones_are_refused() {
        let good = [
            SiblingMessage::Tokens { from: "t1".into(), kind: TokensKind::Refreshed, tokens: Box::new(tokens("L1")) },
            SiblingMessage::Want { from: "t1".into(), lineage: "L1".into(), after_seq: 3 },
            SiblingMessage::Join { from: "t-2_x".into() },
            SiblingMessage::Ended { from: "t1".into(), lineage: "L1".into(), reason: EndReason::SignedOutElsewhere },
            SiblingMessage::Who { from: "t1".into() },
            SiblingMessage::Here { from: "t2".into(), sub: Some("alice".into()), lineage: Some("L1".into()) },
            SiblingMessage::Here { from: "t2".into(), sub: None, lineage: None },
        ];
        for m in good {
            assert_eq!(SiblingMessage::from_json(&m.to_json()).as_ref(), Some(&m));
        }
        let no_lineage =
            SiblingMessage::Tokens { from: "t1".into(), kind: TokensKind::Answer, tokens: Box::new(tokens("")) };
        assert_eq!(SiblingMessage::from_json(&no_lineage.to_json()), None);
        let mut impossible = tokens("L1");
        impossible.expires_at = impossible.stored_at - 1;
        let bad = SiblingMessage::Tokens { from: "t1".into(), kind: TokensKind::Answer, tokens: Box::new(impossible) };
        assert_eq!(SiblingMessage::from_json(&bad.to_json()), None);
        for junk in [
            "",
            "null",
            "[]",
            r#"{"tokens":{}}"#,
            r#"{"want":{"from":"t","lineage":"L","after_seq":-1}}"#,
            r#"{"ended":{"from":"t","lineage":"L","reason":"x"}}"#,
            &"x".repeat(100),
        ] {
            assert_eq!(SiblingMessage::from_json(junk), None, "{junk}");
        }
        let long = format!(r#"{{"join":{{"from":"{}"}}}}"#, "a".repeat(65));
        assert_eq!(SiblingMessage::from_json(&long), None);
    }
}
