//! Which tab this is: an id kept in the tab's sessionStorage and claimed with a Web Lock for as long as the page
//! lives, so that a copy of the tab ("Duplicate tab", `window.open` without `noopener`, which copy sessionStorage)
//! knows it is a copy and takes an id of its own.
//!
//! The claim is a lock rather than a question over `BroadcastChannel` because a lock answers for a tab that cannot:
//! a frozen or bfcached tab still holds its lock (a ping would go unanswered, and its copy would take the same id),
//! and the claim is atomic (two copies started together cannot both win).

use crate::session_store::{read_item, write_item};
use crate::web_locks::{claim_for_page, held_names};
use oten_auth_core::base64url;

/// The sessionStorage key of the tab id.
pub const TAB_KEY: &str = "oten.auth.tab";
/// Prefix of the Web Lock each open tab holds, followed by its id.
pub(crate) const TAB_LOCK_PREFIX: &str = "oten.auth.tab.";

/// This tab's id and whether it started as a copy of another open tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabIdentity {
    /// The id (16 characters of base64url).
    pub id: String,
    /// Whether the stored id was already claimed by another open tab (this tab is its copy).
    pub copied: bool,
}

fn valid(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn new_id() -> String {
    let bytes = crate::webcrypto::random_bytes(12).unwrap_or_else(|_| {
        // No WebCrypto (an insecure context): the id only has to differ from the other tabs'.
        let t = js_sys::Date::now().to_bits() ^ (js_sys::Math::random() * 1e15) as u64;
        t.to_le_bytes().repeat(2)[..12].to_vec()
    });
    base64url::encode(&bytes)
}

/// Claims this tab's id: the stored one when no other open tab holds it (a reload, a restored tab), else a new one
/// (this tab is a copy). Without the Web Locks API the stored id is kept.
pub(crate) async fn claim_tab_identity() -> TabIdentity {
    let stored = read_item(TAB_KEY).ok().flatten().filter(|id| valid(id));
    if let Some(id) = &stored {
        match claim_for_page(&format!("{TAB_LOCK_PREFIX}{id}")).await {
            Some(true) | None => return TabIdentity { id: id.clone(), copied: false },
            Some(false) => {}
        }
    }
    let id = new_id();
    let _ = write_item(TAB_KEY, &id);
    let _ = claim_for_page(&format!("{TAB_LOCK_PREFIX}{id}")).await;
    TabIdentity { id, copied: stored.is_some() }
}

/// How many other tabs of this origin hold a tab lock (open, frozen or cached), or `None` without the Web Locks API.
pub(crate) async fn other_tabs(me: &str) -> Option<usize> {
    let names = held_names().await?;
    let mine = format!("{TAB_LOCK_PREFIX}{me}");
    Some(names.iter().filter(|n| n.starts_with(TAB_LOCK_PREFIX) && **n != mine).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    async fn a_tab_claims_its_id_and_a_copy_in_the_same_page_gets_another() {
        let first = claim_tab_identity().await;
        // The page now holds the id's lock; a second claim from the stored id behaves as a copied tab would.
        let second = claim_tab_identity().await;
        assert!(second.copied, "the stored id is held by a live tab");
        assert_ne!(first.id, second.id);
        let stored = web_sys::window().unwrap().session_storage().unwrap().unwrap().get_item(TAB_KEY).unwrap();
        assert_eq!(stored.as_deref(), Some(second.id.as_str()), "the copy keeps its own id");
    }
}
