//! The tabs of one app, in the browser: Web Locks, IndexedDB records and a same-origin `BroadcastChannel`.

use crate::lineage_records;
use crate::tab_identity::{claim_tab_identity, other_tabs, TabIdentity};
use crate::web_locks;
use futures::future::{FutureExt, LocalBoxFuture};
use oten_auth_core::{
    LineageRecord, LockGuard, LockMode, RecordUpdate, SiblingMessage, Siblings, SiblingsError, TokenManager,
};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

/// Prefix of the `BroadcastChannel` name; the client id follows, so two apps on one origin do not mix.
pub const CHANNEL_PREFIX: &str = "oten.auth.";
/// Prefix of each session's refresh lock; the lineage id follows.
pub const REFRESH_LOCK_PREFIX: &str = "oten.auth.refresh.";

type OnMessage = Closure<dyn FnMut(MessageEvent)>;

struct Inner {
    tab: TabIdentity,
    channel: Option<BroadcastChannel>,
    on_message: RefCell<Option<OnMessage>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(channel) = &self.channel {
            channel.set_onmessage(None);
            channel.close();
        }
    }
}

/// This tab and its siblings: implements [`Siblings`] over the Web Locks API (one lock per session, with a
/// timeout measured on a clock that does not count sleep, and stealing from a frozen holder), IndexedDB (the
/// shared session records) and a `BroadcastChannel` named after the client id. A `BroadcastChannel` reaches only
/// documents of the same origin; nothing is ever posted to `"*"`.
///
/// The Leptos binding connects it; an app using [`crate::Auth`] directly passes it in [`crate::AuthParts`].
///
/// ## Usage
///
/// ```no_run
/// # async fn demo() {
/// let siblings = oten_auth::BrowserSiblings::connect("my-spa").await;
/// if siblings.identity().copied {
///     // this tab was duplicated from another open tab
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct BrowserSiblings {
    inner: Rc<Inner>,
}

impl BrowserSiblings {
    /// Claims this tab's id and opens the channel of `client_id`'s tabs.
    pub async fn connect(client_id: &str) -> Self {
        let tab = claim_tab_identity().await;
        let channel = BroadcastChannel::new(&format!("{CHANNEL_PREFIX}{client_id}")).ok();
        Self { inner: Rc::new(Inner { tab, channel, on_message: RefCell::new(None) }) }
    }

    /// This tab's identity.
    pub fn identity(&self) -> &TabIdentity {
        &self.inner.tab
    }

    /// Hands every well-formed message from a sibling to `manager` ([`TokenManager::receive`]); anything malformed
    /// is ignored.
    pub fn listen(&self, manager: TokenManager) {
        let Some(channel) = &self.inner.channel else { return };
        let on_message = OnMessage::new(move |event: MessageEvent| {
            if let Some(message) = event.data().as_string().as_deref().and_then(SiblingMessage::from_json) {
                manager.receive(&message);
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        *self.inner.on_message.borrow_mut() = Some(on_message);
    }

    /// Stops handing messages over (the app is unmounting).
    pub fn stop(&self) {
        if let Some(channel) = &self.inner.channel {
            channel.set_onmessage(None);
        }
        self.inner.on_message.borrow_mut().take();
    }

    /// Removes the shared records of sessions no tab has touched since `older_than` (ms since epoch).
    pub async fn prune(&self, older_than: i64) {
        let _ = lineage_records::prune(older_than).await;
    }
}

impl Siblings for BrowserSiblings {
    fn tab_id(&self) -> String {
        self.inner.tab.id.clone()
    }

    fn others(&self) -> LocalBoxFuture<'static, usize> {
        let me = self.inner.tab.id.clone();
        // Without the Web Locks API there is no way to count: assume someone may answer.
        async move { other_tabs(&me).await.unwrap_or(1) }.boxed_local()
    }

    fn read(&self, lineage: &str) -> LocalBoxFuture<'static, Result<Option<LineageRecord>, SiblingsError>> {
        let lineage = lineage.to_owned();
        async move { lineage_records::read(&lineage).await }.boxed_local()
    }

    fn update(
        &self,
        lineage: &str,
        update: RecordUpdate,
    ) -> LocalBoxFuture<'static, Result<Option<LineageRecord>, SiblingsError>> {
        let lineage = lineage.to_owned();
        async move { lineage_records::update(&lineage, update).await }.boxed_local()
    }

    fn post(&self, message: &SiblingMessage) {
        if let Some(channel) = &self.inner.channel {
            let _ = channel.post_message(&JsValue::from_str(&message.to_json()));
        }
    }

    fn lock(&self, lineage: &str, mode: LockMode) -> LocalBoxFuture<'static, Result<LockGuard, SiblingsError>> {
        let name = format!("{REFRESH_LOCK_PREFIX}{lineage}");
        async move { web_locks::take(&name, mode).await }.boxed_local()
    }
}
