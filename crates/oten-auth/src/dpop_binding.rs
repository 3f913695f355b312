//! Keeps the session bound to its DPoP key as it starts, changes and ends: the glue between the token manager's
//! events, the core's [`Dpop`] state and the browser's key store ([`crate::dpop_keys`]).

use crate::dpop_keys;
use oten_auth_core::{Dpop, DpopKeyError, DpopKeyLoader, EndReason, SessionEvent, TokenManager, TokenSet};
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

/// At page load, before anything is sent: binds the stored session to its key, or ends it cleanly when the key is
/// gone (site data cleared, IndexedDB unavailable): DPoP-bound tokens are useless without it. Also prunes the keys
/// of sessions long over.
pub(crate) async fn restore(manager: &TokenManager, dpop: &Dpop, prune_before: Option<i64>) {
    let id = manager.tokens().and_then(|t: TokenSet| t.dpop_key);
    dpop.want(id.as_deref());
    if id.is_some() {
        if let Err(DpopKeyError::Missing | DpopKeyError::Crypto(_)) = dpop.key().await {
            manager.end_session(EndReason::ProofKeyLost);
        }
    }
    if let Some(before) = prune_before {
        let _ = dpop_keys::prune(before, dpop.wanted().as_deref()).await;
    }
}

/// A new key for a sign-in's code exchange, bound at once (the exchange's proof binds the grant to it). `None`
/// when none can be made: the sign-in goes on with Bearer tokens.
pub(crate) async fn new_grant_key(dpop: &Dpop, now_ms: i64) -> Option<String> {
    let (id, key) = dpop_keys::create(now_ms).await.ok()?;
    dpop.bind(id.clone(), key);
    Some(id)
}

/// After the exchange: the tokens name their key when the provider bound them; otherwise (Bearer tokens, or the
/// sign-in failed) the key is dropped.
pub(crate) fn settle_grant_key(dpop: &Dpop, id: Option<String>, tokens: Option<&mut TokenSet>) {
    let Some(id) = id else { return };
    match tokens {
        Some(tokens) if tokens.is_dpop_bound() => tokens.dpop_key = Some(id),
        _ => {
            dpop.want(None);
            wasm_bindgen_futures::spawn_local(async move {
                let _ = dpop_keys::delete(&id).await;
            });
        }
    }
}
