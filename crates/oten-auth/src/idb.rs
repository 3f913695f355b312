//! The library's IndexedDB databases, shared by every tab of the origin: `oten-auth` (the sessions' lineage records,
//! [`crate::lineage_records`]) and `oten-auth-dpop` (the DPoP keys, [`crate::dpop_keys`]), and the small helpers that
//! turn their callbacks into futures with a time limit.
//!
//! Two databases rather than one upgraded to hold both: an upgrade closes the connection of every tab still running
//! an older build, and such a tab would then go on without the lineage records the refresh rule relies on.

use futures::channel::oneshot;
use oten_auth_core::SiblingsError;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

/// One of the library's databases, with its single object store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    /// `oten-auth`, store `lineages`.
    Lineages,
    /// `oten-auth-dpop`, store `keys`.
    DpopKeys,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Db::Lineages => "oten-auth",
            Db::DpopKeys => "oten-auth-dpop",
        }
    }

    /// The database's object store.
    pub(crate) const fn store(self) -> &'static str {
        match self {
            Db::Lineages => "lineages",
            Db::DpopKeys => "keys",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

thread_local! {
    static DATABASES: RefCell<[Option<IdbDatabase>; 2]> = const { RefCell::new([None, None]) };
}

pub(crate) fn unavailable(what: &str) -> SiblingsError {
    SiblingsError::Unavailable(format!("IndexedDB {what}"))
}

/// Resolves when `request` succeeds (with its result) or fails.
pub(crate) async fn settled(request: &IdbRequest) -> Result<JsValue, SiblingsError> {
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
pub(crate) async fn committed(transaction: &IdbTransaction) -> bool {
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

pub(crate) async fn database(which: Db) -> Result<IdbDatabase, SiblingsError> {
    if let Some(db) = DATABASES.with(|d| d.borrow()[which.slot()].clone()) {
        return Ok(db);
    }
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or_else(|| unavailable("is not available in this browser"))?;
    // Opened at whatever version it has (a development build may have left it higher); upgraded by one only when its
    // store is missing (a new database, or one something else created empty).
    let mut db = open(&factory, which, None).await?;
    if !db.object_store_names().contains(which.store()) {
        let next = db.version() as u32 + 1;
        db.close();
        db = open(&factory, which, Some(next)).await?;
    }
    // A newer version of this library in another tab may need to upgrade: step aside (the next use reopens).
    let on_version_change = Closure::<dyn FnMut()>::new(move || {
        if let Some(db) = DATABASES.with(|d| d.borrow_mut()[which.slot()].take()) {
            db.close();
        }
    });
    db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
    on_version_change.forget();
    DATABASES.with(|d| d.borrow_mut()[which.slot()] = Some(db.clone()));
    Ok(db)
}

async fn open(factory: &web_sys::IdbFactory, which: Db, version: Option<u32>) -> Result<IdbDatabase, SiblingsError> {
    let open = match version {
        Some(v) => factory.open_with_u32(which.name(), v),
        None => factory.open(which.name()),
    }
    .map_err(|_| unavailable("could not be opened"))?;
    let upgrade_target = open.clone();
    let on_upgrade = Closure::<dyn FnMut()>::new(move || {
        if let Ok(db) = upgrade_target.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
            if !db.object_store_names().contains(which.store()) {
                let _ = db.create_object_store(which.store());
            }
        }
    });
    open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    // Kept alive even when this open is abandoned (a blocked open that times out may still upgrade later).
    on_upgrade.forget();
    settled(&open).await?.dyn_into().map_err(|_| unavailable("answered with something other than a database"))
}

/// A new transaction on the store of `which` (read-only or read-write), and the store.
pub(crate) async fn store(
    which: Db,
    mode: IdbTransactionMode,
) -> Result<(IdbTransaction, IdbObjectStore), SiblingsError> {
    let db = database(which).await?;
    let transaction =
        db.transaction_with_str_and_mode(which.store(), mode).map_err(|_| unavailable("transaction refused"))?;
    let store = transaction.object_store(which.store()).map_err(|_| unavailable("store missing"))?;
    Ok((transaction, store))
}

/// Deletes, in one read-write transaction, every record of `which` that `remove(key, value)` picks; returns how many
/// once the transaction has committed.
pub(crate) async fn delete_where(
    which: Db,
    remove: impl Fn(&JsValue, &JsValue) -> bool,
) -> Result<usize, SiblingsError> {
    let (transaction, store) = store(which, IdbTransactionMode::Readwrite).await?;
    let all = |request: Result<IdbRequest, JsValue>| async {
        let array: js_sys::Array = settled(&request.map_err(|_| unavailable("read refused"))?)
            .await?
            .dyn_into()
            .map_err(|_| unavailable("read"))?;
        Ok::<_, SiblingsError>(array)
    };
    let (keys, values) = (all(store.get_all_keys()).await?, all(store.get_all()).await?);
    let removed = keys.iter().zip(values.iter()).filter(|(k, v)| remove(k, v) && store.delete(k).is_ok()).count();
    committed(&transaction).await.then_some(removed).ok_or_else(|| unavailable("delete failed"))
}

/// The longest an IndexedDB operation may take before it counts as unavailable (ms): a blocked or hung database
/// must not stall a refresh forever.
const OPERATION_TIMEOUT_MS: u32 = 5_000;

pub(crate) async fn bounded<T>(
    operation: impl std::future::Future<Output = Result<T, SiblingsError>>,
) -> Result<T, SiblingsError> {
    let timeout = gloo_timers::future::TimeoutFuture::new(OPERATION_TIMEOUT_MS);
    match futures::future::select(Box::pin(operation), timeout).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(_) => Err(unavailable("did not answer in time")),
    }
}
