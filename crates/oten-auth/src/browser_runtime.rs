//! The browser's event loop as the core's [`Runtime`].

use futures::future::{FutureExt, LocalBoxFuture};
use oten_auth_core::Runtime;

/// Spawns with `wasm_bindgen_futures::spawn_local` and sleeps with `setTimeout`.
///
/// ## Usage
///
/// ```no_run
/// use oten_auth::BrowserRuntime;
/// use oten_auth_core::Runtime;
/// BrowserRuntime.spawn(Box::pin(async { /* background work */ }));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserRuntime;

impl Runtime for BrowserRuntime {
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()> {
        gloo_timers::future::TimeoutFuture::new(ms).boxed_local()
    }
}
