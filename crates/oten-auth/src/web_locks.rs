//! The Web Locks API (`navigator.locks`): a lock shared by the tabs of one origin, with a timeout that does not
//! misfire after sleep, and stealing from a holder that stopped.

use futures::channel::oneshot;
use futures::future::{select, Either};
use js_sys::{Function, Object, Promise, Reflect};
use oten_auth_core::{LockGuard, LockMode, SiblingsError};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks` (bound here because web-sys marks it unstable).
    #[wasm_bindgen(js_name = LockManager)]
    pub(crate) type JsLockManager;

    #[wasm_bindgen(method, js_name = request)]
    fn request_with_options(this: &JsLockManager, name: &str, options: &Object, callback: &Function) -> Promise;

    #[wasm_bindgen(method)]
    fn query(this: &JsLockManager) -> Promise;
}

/// The page's lock manager, when the browser has one.
pub(crate) fn lock_manager() -> Option<JsLockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Releases a held lock when dropped: resolves the promise its callback returned.
struct Held {
    release: Function,
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// A promise that stays pending until its `resolve` function is called.
fn pending_promise() -> (Promise, Function) {
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
    (promise, resolve.expect("the Promise executor runs synchronously"))
}

fn set(options: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(options, &key.into(), value);
}

/// Asks for lock `name` and resolves once it is held (or `None` with `if_available` when it is not free). The lock
/// is held until the returned guard is dropped.
async fn request(locks: JsLockManager, name: String, options: Object) -> Result<Option<LockGuard>, SiblingsError> {
    let (granted_tx, granted_rx) = oneshot::channel::<bool>();
    // Answered once: by the callback (granted, or not available), or by the request's rejection (aborted after a
    // timeout, broken by a steal, the page going away) — whichever comes first.
    let answer = Rc::new(RefCell::new(Some(granted_tx)));
    let (on_grant, on_refusal) = (answer.clone(), answer);
    let (held, release) = pending_promise();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let got_it = !lock.is_null() && !lock.is_undefined();
        // Nobody waits for the grant any more (the request was given up): release it at once.
        let delivered = on_grant.borrow_mut().take().is_some_and(|tx| tx.send(got_it).is_ok());
        // Returning the pending promise keeps the lock until `release` is called.
        if got_it && delivered {
            held.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let requested =
        wasm_bindgen_futures::JsFuture::from(locks.request_with_options(&name, &options, callback.unchecked_ref()));
    wasm_bindgen_futures::spawn_local(async move {
        if requested.await.is_err() {
            if let Some(tx) = on_refusal.borrow_mut().take() {
                let _ = tx.send(false);
            }
        }
    });
    match granted_rx.await {
        Ok(true) => Ok(Some(LockGuard::new(Held { release }))),
        Ok(false) | Err(_) => Ok(None),
    }
}

/// Takes lock `name` as `mode` says: waiting at most `timeout_ms` (re-checked with `performance.now()`, so a timer
/// that fires early is re-armed), or stealing it from its holder. Without the Web Locks API the lock is granted at
/// once: tabs then cannot take turns, and the shared record (checked and marked atomically) is what keeps a refresh
/// token from being presented twice.
pub(crate) async fn take(name: &str, mode: LockMode) -> Result<LockGuard, SiblingsError> {
    let Some(locks) = lock_manager() else { return Ok(LockGuard::new(())) };
    let options = Object::new();
    set(&options, "mode", &"exclusive".into());
    let timeout_ms = match mode {
        LockMode::Steal => {
            set(&options, "steal", &true.into());
            return request(locks, name.to_owned(), options).await?.ok_or(SiblingsError::LockTimeout);
        }
        LockMode::Wait { timeout_ms } => timeout_ms,
    };
    let controller = web_sys::AbortController::new().map_err(|_| SiblingsError::LockTimeout)?;
    set(&options, "signal", controller.signal().as_ref());
    let granted = Box::pin(request(locks, name.to_owned(), options));
    let timer = Box::pin(monotonic_timeout(timeout_ms));
    match select(granted, timer).await {
        Either::Left((result, _)) => result?.ok_or(SiblingsError::LockTimeout),
        Either::Right(((), granted)) => {
            // Abort the queued request (it then rejects); if the grant raced the abort, keep the lock.
            controller.abort();
            match granted.await {
                Ok(Some(guard)) => Ok(guard),
                _ => Err(SiblingsError::LockTimeout),
            }
        }
    }
}

/// Claims lock `name` for as long as the page lives, if nobody holds it: `true` when claimed.
pub(crate) async fn claim_for_page(name: &str) -> Option<bool> {
    let locks = lock_manager()?;
    let options = Object::new();
    set(&options, "mode", &"exclusive".into());
    set(&options, "ifAvailable", &true.into());
    match request(locks, name.to_owned(), options).await {
        Ok(Some(guard)) => {
            std::mem::forget(guard); // released by the browser when the page goes away
            Some(true)
        }
        Ok(None) => Some(false),
        Err(_) => None,
    }
}

/// The names of the locks held in this origin right now (every tab's), from `navigator.locks.query()`.
pub(crate) async fn held_names() -> Option<Vec<String>> {
    let snapshot = wasm_bindgen_futures::JsFuture::from(lock_manager()?.query()).await.ok()?;
    let held = Reflect::get(&snapshot, &"held".into()).ok()?;
    let held: js_sys::Array = held.dyn_into().ok()?;
    Some(held.iter().filter_map(|info| Reflect::get(&info, &"name".into()).ok()?.as_string()).collect())
}

/// Resolves after `ms` milliseconds of `performance.now()` time: a timer that fires early (after a sleep, on a
/// platform whose timers count it) is re-armed for the rest.
async fn monotonic_timeout(ms: u32) {
    let now = || web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0);
    let deadline = now() + f64::from(ms);
    let mut wait = ms;
    loop {
        gloo_timers::future::TimeoutFuture::new(wait).await;
        let left = deadline - now();
        if left <= 0.0 {
            return;
        }
        wait = left.ceil() as u32;
    }
}
