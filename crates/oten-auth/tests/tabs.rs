//! The browser's side of the cross-tab machinery, in a real Chromium: Web Locks with timeout and steal, the
//! IndexedDB records, tab identity, the channel, and the start-up clean-up of storage.

mod support;

use futures::future::{select, Either};
use oten_auth::{BrowserSiblings, FetchTransport};
use oten_auth_core::{
    EndReason, HttpRequest, LineageRecord, LockMode, Method, RefreshGate, SiblingMessage, Siblings, SiblingsError,
    Transport, TransportError,
};
use std::cell::RefCell;
use std::rc::Rc;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", (js_sys::Math::random() * 1e12) as u64)
}

#[wasm_bindgen_test]
async fn the_refresh_lock_times_out_and_can_be_stolen() {
    let tabs = BrowserSiblings::connect(&unique("c")).await;
    let lineage = unique("L");
    let held = tabs.lock(&lineage, LockMode::Wait { timeout_ms: 1_000 }).await.expect("free lock");
    let started = js_sys::Date::now();
    let waited = tabs.lock(&lineage, LockMode::Wait { timeout_ms: 300 }).await;
    let took = js_sys::Date::now() - started;
    assert_eq!(waited.err(), Some(SiblingsError::LockTimeout));
    assert!((250.0..2_000.0).contains(&took), "timed out after {took} ms");
    let stolen = tabs.lock(&lineage, LockMode::Steal).await.expect("steal from a stopped holder");
    drop(held); // the old holder's release does not free the thief's lock
    let still = tabs.lock(&lineage, LockMode::Wait { timeout_ms: 200 }).await;
    assert_eq!(still.err(), Some(SiblingsError::LockTimeout), "the thief holds it");
    drop(stolen);
    assert!(tabs.lock(&lineage, LockMode::Wait { timeout_ms: 1_000 }).await.is_ok(), "released");
}

#[wasm_bindgen_test]
async fn a_waiter_gets_the_lock_when_the_holder_releases_it() {
    let tabs = BrowserSiblings::connect(&unique("c")).await;
    let lineage = unique("L");
    let held = tabs.lock(&lineage, LockMode::Wait { timeout_ms: 1_000 }).await.unwrap();
    let waiting = tabs.lock(&lineage, LockMode::Wait { timeout_ms: 5_000 });
    let release = Box::pin(async move {
        sleep_ms(100).await;
        drop(held);
        sleep_ms(10_000).await;
    });
    match select(waiting, release).await {
        Either::Left((granted, _)) => assert!(granted.is_ok()),
        Either::Right(_) => panic!("never granted"),
    }
}

#[wasm_bindgen_test]
async fn the_record_is_checked_and_marked_in_one_transaction() {
    let tabs = BrowserSiblings::connect(&unique("c")).await;
    let lineage = unique("L");
    assert_eq!(tabs.read(&lineage).await, Ok(None));
    let before = tabs.update(&lineage, Box::new(|r| LineageRecord::begin(r, 0, "tab-a", 1_000).0)).await.unwrap();
    assert_eq!(LineageRecord::begin(before.as_ref(), 0, "tab-a", 1_000).1, RefreshGate::Go);
    // Two checks started together: exactly one finds the gate open (the read and the write are one transaction).
    let racing = unique("L");
    let (x, y) = futures::future::join(
        tabs.update(&racing, Box::new(|r| LineageRecord::begin(r, 0, "tab-x", 1_000).0)),
        tabs.update(&racing, Box::new(|r| LineageRecord::begin(r, 0, "tab-y", 1_000).0)),
    )
    .await;
    let opened = [x.unwrap(), y.unwrap()]
        .iter()
        .filter(|before| LineageRecord::begin(before.as_ref(), 0, "t", 1_000).1 == RefreshGate::Go)
        .count();
    assert_eq!(opened, 1, "exactly one presentation may be marked");
    // A second tab's check sees the mark and writes nothing.
    let seen = tabs.update(&lineage, Box::new(|r| LineageRecord::begin(r, 0, "tab-b", 1_001).0)).await.unwrap();
    assert_eq!(
        LineageRecord::begin(seen.as_ref(), 0, "tab-b", 1_001).1,
        RefreshGate::InFlight { since: 1_000, tab: "tab-a".into() }
    );
    tabs.update(&lineage, Box::new(|r| Some(LineageRecord::renewed(r, 1, 2_000)))).await.unwrap();
    let record = tabs.read(&lineage).await.unwrap().unwrap();
    assert_eq!((record.seq, record.in_flight), (1, None));
    tabs.update(&lineage, Box::new(|r| Some(LineageRecord::ended(r, EndReason::SignedOutElsewhere, 3_000))))
        .await
        .unwrap();
    assert_eq!(
        LineageRecord::gate(tabs.read(&lineage).await.unwrap().as_ref(), 1, 4_000),
        RefreshGate::Ended(EndReason::SignedOutElsewhere)
    );
    // Old records go, but never one that holds a presentation marker.
    tabs.prune(i64::MAX).await;
    assert_eq!(tabs.read(&lineage).await, Ok(None));
    assert!(tabs.read(&racing).await.unwrap().is_some_and(|r| r.in_flight.is_some()), "the marked record stays");
}

/// Listens on a channel as another tab would; returns what arrives.
fn listen(name: &str) -> Rc<RefCell<Vec<String>>> {
    let received = Rc::new(RefCell::new(Vec::new()));
    let sink = received.clone();
    let channel = web_sys::BroadcastChannel::new(name).unwrap();
    let on =
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            sink.borrow_mut().push(e.data().as_string().unwrap_or_default());
        });
    channel.set_onmessage(Some(wasm_bindgen::JsCast::unchecked_ref(on.as_ref())));
    on.forget();
    std::mem::forget(channel); // kept open for the rest of the test page
    received
}

#[wasm_bindgen_test]
async fn messages_reach_the_other_tabs_of_the_same_client_only() {
    let client = unique("c");
    let same = listen(&format!("{}{client}", oten_auth::storage_keys::CHANNEL_PREFIX));
    let other_app = listen(&format!("{}{}", oten_auth::storage_keys::CHANNEL_PREFIX, unique("c")));
    let tabs = BrowserSiblings::connect(&client).await;
    tabs.post(&SiblingMessage::Join { from: tabs.tab_id() });
    sleep_ms(200).await;
    let got = same.borrow();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(SiblingMessage::from_json(&got[0]), Some(SiblingMessage::Join { from: tabs.tab_id() }));
    assert!(other_app.borrow().is_empty(), "another app's channel hears nothing");
}

#[wasm_bindgen_test]
async fn a_request_that_refuses_redirects_is_never_replayed_elsewhere() {
    let transport = FetchTransport::default();
    transport.send(HttpRequest::new(Method::Post, format!("{ECHO}/echo/seen/reset"))).await.unwrap();
    let redirecting = HttpRequest::new(Method::Get, format!("{API}/api/redirect?to={ECHO}/echo")).no_redirects();
    assert_eq!(transport.send(redirecting).await, Err(TransportError::Redirected));
    let seen = transport.send(HttpRequest::new(Method::Get, format!("{ECHO}/echo/seen"))).await.unwrap();
    let seen: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(seen["requests"], 0, "the redirect target never saw the request: {seen}");
}
