//! The records the tabs of a session share, in IndexedDB: shared by every tab of the origin, kept across page
//! loads, and consistent across tabs — a read-write transaction is atomic, and a tab that commits before releasing
//! the session's lock is seen by the tab that takes the lock next (localStorage promises neither). No token is ever
//! stored here (see [`oten_auth_core::LineageRecord`]).

use oten_auth_core::{LineageRecord, RecordUpdate, SiblingsError};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::IdbTransactionMode;

use crate::idb::{bounded, committed, delete_where, settled, store, unavailable, Db};

/// A stored record: `Ok(None)` when there is none, an error when one is there but unreadable (it is never treated
/// as a fresh lineage, nor overwritten: it may hold a presentation marker).
fn parse(value: &JsValue) -> Result<Option<LineageRecord>, SiblingsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .and_then(|text| LineageRecord::from_json(&text))
        .map(Some)
        .ok_or_else(|| unavailable("record unreadable"))
}

/// Reads a lineage's record (`None` when there is none, or when it is unreadable).
pub(crate) async fn read(lineage: &str) -> Result<Option<LineageRecord>, SiblingsError> {
    bounded(read_now(lineage)).await
}

async fn read_now(lineage: &str) -> Result<Option<LineageRecord>, SiblingsError> {
    let (_transaction, store) = store(Db::Lineages, IdbTransactionMode::Readonly).await?;
    let request = store.get(&JsValue::from_str(lineage)).map_err(|_| unavailable("read refused"))?;
    parse(&settled(&request).await?)
}

/// Applies `update` to a lineage's record in one read-write transaction and resolves, once it has committed, to
/// the record as it was before. The update runs inside the transaction's success callback, so nothing can slip in
/// between the read and the write.
pub(crate) async fn update(lineage: &str, update: RecordUpdate) -> Result<Option<LineageRecord>, SiblingsError> {
    bounded(update_now(lineage, update)).await
}

async fn update_now(lineage: &str, update: RecordUpdate) -> Result<Option<LineageRecord>, SiblingsError> {
    let (transaction, store) = store(Db::Lineages, IdbTransactionMode::Readwrite).await?;
    let key = JsValue::from_str(lineage);
    let request = store.get(&key).map_err(|_| unavailable("read refused"))?;
    let before = Rc::new(RefCell::new(None));
    let (seen, target) = (before.clone(), request.clone());
    let on_read = Closure::once(move || {
        let current = target.result().map_err(|_| unavailable("read failed")).and_then(|v| parse(&v));
        if let Ok(current) = &current {
            if let Some(next) = update(current.as_ref()) {
                let _ = store.put_with_key(&JsValue::from_str(&next.to_json()), &key);
            }
        }
        *seen.borrow_mut() = Some(current);
    });
    request.set_onsuccess(Some(on_read.as_ref().unchecked_ref()));
    if !committed(&transaction).await {
        return Err(unavailable("write failed"));
    }
    let outcome = before.borrow_mut().take();
    outcome.ok_or_else(|| unavailable("read did not run"))?
}

/// Removes the records no tab has touched since `older_than` (ms since epoch): sessions long over. A record with a
/// presentation marker is kept whatever its age: a tab restored much later must still see it.
pub(crate) async fn prune(older_than: i64) -> Result<usize, SiblingsError> {
    bounded(prune_now(older_than)).await
}

async fn prune_now(older_than: i64) -> Result<usize, SiblingsError> {
    delete_where(
        Db::Lineages,
        |_, value| matches!(parse(value), Ok(Some(r)) if r.updated_at < older_than && r.in_flight.is_none()),
    )
    .await
}
