//! The records the tabs of a session share, in IndexedDB: shared by every tab of the origin, kept across page
//! loads, and consistent across tabs — a read-write transaction is atomic, and a tab that commits before releasing
//! the session's lock is seen by the tab that takes the lock next (localStorage promises neither). No token is ever
//! stored here (see [`oten_auth_core::LineageRecord`]).

use futures::channel::oneshot;
use oten_auth_core::{LineageRecord, RecordUpdate, SiblingsError};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

const DB_NAME: &str = "oten-auth";
const STORE: &str = "lineages";

thread_local! {
    static DATABASE: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

fn unavailable(what: &str) -> SiblingsError {
    SiblingsError::Unavailable(format!("IndexedDB {what}"))
}

/// Resolves when `request` succeeds (with its result) or fails.
async fn settled(request: &IdbRequest) -> Result<JsValue, SiblingsError> {
    let (tx, rx) = oneshot::channel::<bool>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let (ok_tx, err_tx) = (tx.clone(), tx);
    let on_success = Closure::once(move || {
        if let Some(tx) = ok_tx.borrow_mut().take() {
            let _ = tx.send(true);
        }
    });
    let on_error = Closure::once(move || {
        if let Some(tx) = err_tx.borrow_mut().take() {
            let _ = tx.send(false);
        }
    });
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let ok = rx.await.unwrap_or(false);
    request.set_onsuccess(None);
    request.set_onerror(None);
    if ok {
        request.result().map_err(|_| unavailable("request failed"))
    } else {
        Err(unavailable("request failed"))
    }
}

/// Resolves when `transaction` has committed (`true`) or failed.
async fn committed(transaction: &IdbTransaction) -> bool {
    let (tx, rx) = oneshot::channel::<bool>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let finish = |ok: bool, tx: Rc<RefCell<Option<oneshot::Sender<bool>>>>| {
        Closure::once(move || {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(ok);
            }
        })
    };
    let (on_complete, on_error, on_abort) = (finish(true, tx.clone()), finish(false, tx.clone()), finish(false, tx));
    transaction.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
    transaction.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    transaction.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    let ok = rx.await.unwrap_or(false);
    transaction.set_oncomplete(None);
    transaction.set_onerror(None);
    transaction.set_onabort(None);
    ok
}

async fn database() -> Result<IdbDatabase, SiblingsError> {
    if let Some(db) = DATABASE.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or_else(|| unavailable("is not available in this browser"))?;
    let open = factory.open_with_u32(DB_NAME, 1).map_err(|_| unavailable("could not be opened"))?;
    let upgrade_target = open.clone();
    let on_upgrade = Closure::<dyn FnMut()>::new(move || {
        if let Ok(db) = upgrade_target.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
            if !db.object_store_names().contains(STORE) {
                let _ = db.create_object_store(STORE);
            }
        }
    });
    open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db: IdbDatabase =
        settled(&open).await?.dyn_into().map_err(|_| unavailable("answered with something other than a database"))?;
    open.set_onupgradeneeded(None);
    // A newer version of this library in another tab may need to upgrade: step aside (the next use reopens).
    let on_version_change = Closure::<dyn FnMut()>::new(|| {
        if let Some(db) = DATABASE.with(|d| d.borrow_mut().take()) {
            db.close();
        }
    });
    db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
    on_version_change.forget();
    DATABASE.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

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

/// The longest an IndexedDB operation may take before it counts as unavailable (ms): a blocked or hung database
/// must not stall a refresh forever.
const OPERATION_TIMEOUT_MS: u32 = 5_000;

async fn bounded<T>(
    operation: impl std::future::Future<Output = Result<T, SiblingsError>>,
) -> Result<T, SiblingsError> {
    let timeout = gloo_timers::future::TimeoutFuture::new(OPERATION_TIMEOUT_MS);
    match futures::future::select(Box::pin(operation), timeout).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(_) => Err(unavailable("did not answer in time")),
    }
}

/// Reads a lineage's record (`None` when there is none, or when it is unreadable).
pub(crate) async fn read(lineage: &str) -> Result<Option<LineageRecord>, SiblingsError> {
    bounded(read_now(lineage)).await
}

async fn read_now(lineage: &str) -> Result<Option<LineageRecord>, SiblingsError> {
    let db = database().await?;
    let transaction = db.transaction_with_str(STORE).map_err(|_| unavailable("transaction refused"))?;
    let store = transaction.object_store(STORE).map_err(|_| unavailable("store missing"))?;
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
    let db = database().await?;
    let transaction = db
        .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
        .map_err(|_| unavailable("transaction refused"))?;
    let store = transaction.object_store(STORE).map_err(|_| unavailable("store missing"))?;
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
    let db = database().await?;
    let transaction = db
        .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
        .map_err(|_| unavailable("transaction refused"))?;
    let store = transaction.object_store(STORE).map_err(|_| unavailable("store missing"))?;
    let keys: js_sys::Array = settled(&store.get_all_keys().map_err(|_| unavailable("read refused"))?)
        .await?
        .dyn_into()
        .map_err(|_| unavailable("keys"))?;
    let values: js_sys::Array = settled(&store.get_all().map_err(|_| unavailable("read refused"))?)
        .await?
        .dyn_into()
        .map_err(|_| unavailable("values"))?;
    let mut removed = 0;
    for (key, value) in keys.iter().zip(values.iter()) {
        let old = matches!(parse(&value), Ok(Some(r)) if r.updated_at < older_than && r.in_flight.is_none());
        if old && store.delete(&key).is_ok() {
            removed += 1;
        }
    }
    committed(&transaction).await.then_some(removed).ok_or_else(|| unavailable("prune failed"))
}
