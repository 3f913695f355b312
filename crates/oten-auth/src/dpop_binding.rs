//! Keeps the session bound to its DPoP key as it starts, changes and ends: the glue between the token manager's
//! events, the core's [`Dpop`] state and the browser's key store ([`crate::dpop_keys`]).

use crate::dpop_keys;
use oten_auth_core::{Dpop, DpopKey, DpopKeyError, DpopKeyLoader, EndReason, SessionEvent, TokenManager, TokenSet};
use std::rc::Rc;

/// A DPoP state whose keys load from IndexedDB.
pub(crate) fn browser_dpop() -> Rc<Dpop> {
    let loader: DpopKeyLoader = Rc::new(|id: &str| {
        let id = id.to_owned();
        Box::pin(async move { dpop_keys::load(&id).await })
    });
    Rc::new(Dpop::with_loader(loader))
}

/// Follows `manager`: the session's key id goes to `dpop` whenever tokens arrive (sign-in, refresh, a sibling's
/// tokens), and the key is deleted when the session ends for every tab (sign-out, a grant refused); a session that
/// ends in this tab only (a corrupt copy, an interrupted refresh) leaves the key to the siblings still using it.
pub(crate) fn follow(manager: &TokenManager, dpop: Rc<Dpop>) {
    let reader = manager.clone();
    manager.subscribe(move |event| match event {
        SessionEvent::SignedIn | SessionEvent::Refreshed | SessionEvent::Adopted => {
            dpop.want(reader.tokens().and_then(|t| t.dpop_key).as_deref());
        }
        SessionEvent::SignedOut => forget(&dpop),
        SessionEvent::Ended(error) => match error.end_reason() {
            Some(reason) if reason.ends_lineage() => forget(&dpop),
            _ => dpop.want(None),
        },
        _ => {}
    });
}

fn forget(dpop: &Dpop) {
    if let Some(id) = dpop.wanted() {
        dpop.want(None);
        wasm_bindgen_futures::spawn_local(async move {
            let _ = dpop_keys::delete(&id).await;
        });
    }
}

/// At page load, before anything is sent: the stored session's key becomes the wanted one (loaded at the first
/// proof).
pub(crate) fn want_stored(manager: &TokenManager, dpop: &Dpop) {
    dpop.want(manager.tokens().and_then(|t: TokenSet| t.dpop_key).as_deref());
}

/// After the session has started (checked against its siblings: one that ended elsewhere says so): a session whose
/// key is gone (site data cleared) ends cleanly — DPoP-bound tokens are useless without it. A key store that cannot
/// answer (a blocked or slow IndexedDB) ends nothing: requests wait for it. Also prunes the keys of sessions long over.
pub(crate) async fn check_key(manager: &TokenManager, dpop: &Dpop, prune_before: Option<i64>) {
    let id = manager.tokens().and_then(|t: TokenSet| t.dpop_key);
    if id.is_some() && id == dpop.wanted() {
        if let Err(DpopKeyError::Missing) = dpop.key().await {
            manager.end_session(EndReason::ProofKeyLost);
        }
    }
    if let Some(before) = prune_before {
        let _ = dpop_keys::prune(before, dpop.wanted().as_deref()).await;
    }
}

/// A new key for a sign-in's code exchange, used for the exchange's proof only (so the provider binds the tokens to
/// it): the signed-in session, if any, keeps its own until the new tokens replace it. `None` when none can be made:
/// the sign-in goes on with Bearer tokens.
pub(crate) async fn new_grant_key(dpop: &Dpop, now_ms: i64) -> Option<(String, Rc<dyn DpopKey>)> {
    let (id, key) = dpop_keys::create(now_ms).await.ok()?;
    dpop.set_exchange_key(Some(key.clone()));
    Some((id, key))
}

/// After the exchange: the tokens name their key (and it becomes the session's) — also when the access token came
/// back Bearer, since the provider may have bound the refresh token alone; when the sign-in failed the key is
/// dropped and the session stays as it was.
pub(crate) fn settle_grant_key(dpop: &Dpop, key: Option<(String, Rc<dyn DpopKey>)>, tokens: Option<&mut TokenSet>) {
    dpop.set_exchange_key(None);
    let Some((id, key)) = key else { return };
    match tokens {
        Some(tokens) => {
            tokens.dpop_key = Some(id.clone());
            dpop.bind(id, key);
        }
        _ => wasm_bindgen_futures::spawn_local(async move {
            let _ = dpop_keys::delete(&id).await;
        }),
    }
}
