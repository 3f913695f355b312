//! The token manager against a fake clock, store and transport.

use futures::executor::{block_on, LocalPool};
use futures::task::LocalSpawnExt;
use oten_auth_core::testing::{FakeClock, FakeTransport};
use oten_auth_core::{
    parse_query, AuthError, EndReason, HttpResponse, ManagerConfig, MemoryStore, Metrics, SessionEvent, TokenManager,
    TokenSet, TokenStore, TransportError,
};
use std::cell::RefCell;
use std::rc::Rc;

mod support;
use oten_auth_core::testing::{FakeRuntime, FakeTimers};
use oten_auth_core::Deferral;
use support::{FakeIdp, Fault, IdpTransport, TOKEN_URL};

const T0: i64 = 1_700_000_000_000;
const ENDPOINT: &str = "https://idp.test/v1/oauth/token";

struct Rig {
    clock: Rc<FakeClock>,
    store: Rc<MemoryStore>,
    transport: Rc<FakeTransport>,
    manager: TokenManager,
    events: Rc<RefCell<Vec<SessionEvent>>>,
}

fn rig_with(transport: FakeTransport, store: MemoryStore) -> Rig {
    let clock = Rc::new(FakeClock::new(T0));
    let store = Rc::new(store);
    let transport = Rc::new(transport);
    let manager = TokenManager::new(
        ManagerConfig::new(ENDPOINT, "spa-dev"),
        clock.clone(),
        store.clone(),
        transport.clone(),
        Metrics::default(),
    );
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    manager.subscribe(move |e| sink.borrow_mut().push(e.clone()));
    Rig { clock, store, transport, manager, events }
}

fn rig(transport: FakeTransport) -> Rig {
    rig_with(transport, MemoryStore::default())
}

fn tokens(access: &str, refresh: Option<&str>, expires_in: i64, now: i64) -> TokenSet {
    let rt = refresh.map(|r| format!(r#","refresh_token":"{r}""#)).unwrap_or_default();
    TokenSet::parse_token_response(
        &format!(r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{expires_in}{rt}}}"#),
        now,
        None,
    )
    .unwrap()
}

fn ok_answer(access: &str, refresh: Option<&str>, expires_in: i64) -> Result<HttpResponse, TransportError> {
    let rt = refresh.map(|r| format!(r#","refresh_token":"{r}""#)).unwrap_or_default();
    Ok(HttpResponse::new(
        200,
        format!(r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{expires_in}{rt}}}"#),
    ))
}

fn get(r: &Rig) -> Result<String, AuthError> {
    block_on(r.manager.get_valid_access_token()).map(|t| t.expose().to_owned())
}

#[test]
fn a_fresh_lookup_reads_no_storage_and_sends_nothing() {
    let r = rig(FakeTransport::default());
    r.store.save(&tokens("a1", Some("r1"), 3600, T0)).unwrap();
    assert_eq!(get(&r).unwrap(), "a1");
    let reads = r.store.reads();
    for _ in 0..1000 {
        assert_eq!(get(&r).unwrap(), "a1");
    }
    assert_eq!(r.store.reads(), reads, "only the first lookup reads storage");
    assert_eq!(r.transport.request_count(), 0);
}

#[test]
fn expiry_boundary_decides_the_refresh() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a1", Some("r1"), 3600, T0)).unwrap();
    let due = T0 + 3_600_000 - 300_000;
    r.clock.set(due - 1);
    assert_eq!(get(&r).unwrap(), "a1");
    assert_eq!(r.transport.request_count(), 0, "1 ms before the buffer: no refresh");
    r.clock.set(due);
    r.transport.push(ok_answer("a2", Some("r2"), 3600));
    assert_eq!(get(&r).unwrap(), "a2");
    assert_eq!(r.transport.request_count(), 1, "at the buffer: one refresh");
}

/// The synchronous fast path hands out exactly what the async lookup would hand out at once, and nothing else:
/// at every instant of a token's life (fresh, due, in a backoff, expired, past the maximum age, without a refresh
/// token, signed out), `fresh_access_token` is `Some` only when `get_valid_access_token` returns that same token
/// without sending a request — and it never sends one itself.
#[test]
fn the_fast_path_agrees_with_the_lookup_at_every_instant() {
    let lifetime_ms = 600_000;
    let instants = [0, 1, 299_999, 300_000, 300_001, 599_999, 600_000, 600_001, 3_600_000];
    for refresh in [Some("r1"), None] {
        for at in instants {
            for backoff in [false, true] {
                let r = rig(FakeTransport::default());
                assert!(r.manager.fresh_access_token().is_none(), "signed out");
                r.manager.sign_in(tokens("a1", refresh, lifetime_ms / 1000, T0)).unwrap();
                if backoff {
                    r.clock.set(T0 + 300_000);
                    r.transport.push(Ok(HttpResponse::new(503, "").with_header("Retry-After", "3600")));
                    let _ = get(&r);
                }
                let sent = r.transport.request_count();
                r.clock.set(T0 + at);
                let fast = r.manager.fresh_access_token().map(|t| t.expose().to_owned());
                assert_eq!(r.transport.request_count(), sent, "the fast path sends nothing");
                r.transport.push(ok_answer("a2", Some("r2"), 600));
                let slow = get(&r).ok();
                let served_at_once = r.transport.request_count() == sent;
                let case = format!("refresh token {refresh:?}, at +{at} ms, backoff {backoff}");
                match &fast {
                    Some(token) => {
                        assert!(served_at_once, "{case}: the fast path answered, the lookup sent a request");
                        assert_eq!(slow.as_deref(), Some(token.as_str()), "{case}");
                    }
                    None => assert!(
                        !served_at_once || slow.is_none(),
                        "{case}: the lookup answered {slow:?} at once, the fast path gave nothing"
                    ),
                }
                if at < 300_000 {
                    assert_eq!(fast.as_deref(), Some("a1"), "{case}: a fresh token is served at once");
                }
                if at >= lifetime_ms {
                    assert_eq!(fast, None, "{case}: never an expired token");
                }
            }
        }
    }
}

#[test]
fn the_fast_path_ends_with_the_maximum_session_age() {
    let r = rig(FakeTransport::default());
    let config = ManagerConfig::new(ENDPOINT, "spa-dev").with_max_session_age_secs(60);
    let manager = TokenManager::new(config, r.clock.clone(), r.store.clone(), r.transport.clone(), Metrics::default());
    manager.sign_in(tokens("a1", Some("r1"), 3600, T0)).unwrap();
    assert_eq!(manager.fresh_access_token().map(|t| t.expose().to_owned()).as_deref(), Some("a1"));
    r.clock.set(T0 + 60_000);
    assert!(manager.fresh_access_token().is_none(), "past the maximum age: nothing, though the token is valid");
}

#[test]
fn refresh_request_is_a_form_post_with_the_refresh_token() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a1", Some("r/1+"), 60, T0)).unwrap();
    r.clock.advance(61_000); // expired: the refresh token must still be used
    r.transport.push(ok_answer("a2", None, 60));
    assert_eq!(get(&r).unwrap(), "a2");
    let req = &r.transport.requests()[0];
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url, ENDPOINT);
    assert_eq!(req.header_value("Content-Type"), Some("application/x-www-form-urlencoded"));
    let form = parse_query(req.body.as_deref().unwrap());
    assert_eq!(
        form,
        vec![
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), "r/1+".into()),
            ("client_id".into(), "spa-dev".into()),
        ]
    );
    // The answer had no refresh_token: the old one is kept, in memory and in storage.
    assert_eq!(r.manager.tokens().unwrap().refresh_token.unwrap().expose(), "r/1+");
    assert!(r.store.raw().unwrap().contains(r#""refresh_token":"r/1+""#));
    assert_eq!(r.manager.metrics().snapshot().expirations, 1);
}

#[test]
fn a_thousand_concurrent_callers_share_one_refresh() {
    let r = rig(FakeTransport::gated());
    r.manager.sign_in(tokens("old", Some("r1"), 60, T0)).unwrap();
    r.clock.advance(60_000);
    let mut pool = LocalPool::new();
    let results = Rc::new(RefCell::new(Vec::new()));
    let stored_when_resumed = Rc::new(RefCell::new(Vec::new()));
    for _ in 0..1000 {
        let m = r.manager.clone();
        let results = results.clone();
        let store = r.store.clone();
        let seen = stored_when_resumed.clone();
        pool.spawner()
            .spawn_local(async move {
                let t = m.get_valid_access_token().await;
                // What storage holds at the moment this waiter resumes.
                seen.borrow_mut().push(store.raw().unwrap_or_default().contains(r#""refresh_token":"r2""#));
                results.borrow_mut().push(t.map(|t| t.expose().to_owned()));
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(r.transport.request_count(), 1, "one token request for 1,000 callers");
    assert!(r.manager.is_refreshing());
    assert!(r.transport.release(ok_answer("new", Some("r2"), 60)));
    pool.run_until_stalled();
    let results = results.borrow();
    assert_eq!(results.len(), 1000);
    assert!(results.iter().all(|t| t.as_deref() == Ok("new")));
    assert!(stored_when_resumed.borrow().iter().all(|stored| *stored), "rotation stored before any waiter resumed");
    assert!(!r.manager.is_refreshing());
    // A caller arriving after the refresh finished sees the new token with no second request.
    assert_eq!(get(&r).unwrap(), "new");
    assert_eq!(r.transport.request_count(), 1);
    assert_eq!(r.manager.metrics().snapshot().refresh_success, 1);
}

#[test]
fn session_ending_errors_clear_the_tokens() {
    for code in ["invalid_grant", "invalid_client", "unauthorized_client"] {
        let r = rig(FakeTransport::default());
        r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
        r.clock.advance(60_000);
        r.transport.push(Ok(HttpResponse::new(400, format!(r#"{{"error":"{code}","error_description":"nope"}}"#))));
        let e = get(&r).unwrap_err();
        assert!(e.requires_reauth(), "{code}: {e}");
        assert_eq!(e.oauth().unwrap().error, code);
        assert!(r.manager.tokens().is_none());
        assert_eq!(r.store.raw(), None);
        assert_eq!(r.manager.metrics().snapshot().refresh_failure.get(code), Some(&1));
        assert!(r.events.borrow().iter().any(|e| matches!(e, SessionEvent::Ended(_))));
        assert!(
            r.events.borrow().iter().any(|e| matches!(e, SessionEvent::Discarded(_))),
            "the access token is revoked too"
        );
        assert_eq!(get(&r), Err(AuthError::NotSignedIn));
    }
}

/// Passing failures against a provider that rotates and detects reuse: the tokens are kept, nothing is presented
/// twice, and once the backoff has passed the next healthy refresh succeeds with the same (unconsumed) token.
#[test]
fn passing_errors_keep_the_tokens() {
    let cases: Vec<(Fault, &str)> = vec![
        (Fault::Answer(Err(TransportError::Network("offline".into()))), "network"),
        (Fault::Answer(Err(TransportError::Timeout)), "timeout"),
        (Fault::Answer(Err(TransportError::Redirected)), "network"),
        (Fault::Answer(Ok(HttpResponse::new(503, "down").with_header("Retry-After", "1"))), "http_5xx"),
        (Fault::Answer(Ok(HttpResponse::new(500, r#"{"error":"server_error"}"#))), "http_5xx"),
        (Fault::Answer(Ok(HttpResponse::new(502, r#"{"error":"server_er"#))), "http_5xx"),
        (Fault::Answer(Ok(HttpResponse::new(429, ""))), "http_4xx"),
        (Fault::Answer(Ok(HttpResponse::new(400, r#"{"error":"invalid_request"}"#))), "http_4xx"),
    ];
    for (fault, label) in cases {
        let clock = Rc::new(FakeClock::new(T0));
        let idp = FakeIdp::new(clock.clone(), 60);
        let transport = IdpTransport::new(idp.clone());
        let store = Rc::new(MemoryStore::default());
        let manager = TokenManager::new(
            ManagerConfig::new(TOKEN_URL, "spa"),
            clock.clone(),
            store.clone(),
            transport,
            Metrics::default(),
        );
        manager.sign_in(idp.sign_in()).unwrap();
        clock.advance(60_000);
        idp.push_fault(fault);
        let e = block_on(manager.get_valid_access_token()).unwrap_err();
        assert!(e.is_retryable(), "{label}: {e}");
        assert_eq!(e.metric_label(), label);
        assert_eq!(manager.tokens().unwrap().refresh_token.unwrap().expose(), "rt1", "{label}");
        assert!(store.raw().unwrap().contains("rt1"), "{label}: the stored copy is kept too");
        // Within the backoff nothing is sent; after it the same, unconsumed token renews the session.
        assert!(matches!(
            block_on(manager.get_valid_access_token()),
            Err(AuthError::Deferred(Deferral::Backoff { .. }))
        ));
        assert_eq!(idp.requests(), 1, "{label}");
        clock.advance(2_000);
        assert_eq!(block_on(manager.get_valid_access_token()).unwrap().expose(), "at2", "{label}");
        assert_eq!(idp.presented_twice(), 0, "{label}");
        assert!(!idp.is_revoked());
    }
}

#[test]
fn during_a_backoff_any_number_of_calls_send_no_token_request() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
    r.clock.advance(60_000);
    r.transport.push(Ok(HttpResponse::new(503, "").with_header("Retry-After", "30")));
    assert!(get(&r).is_err());
    let mut pool = LocalPool::new();
    for _ in 0..1000 {
        let m = r.manager.clone();
        pool.spawner().spawn_local(async move { assert!(m.get_valid_access_token().await.is_err()) }).unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(r.transport.request_count(), 1, "Retry-After: 30 holds every caller");
    assert_eq!(r.manager.retry_at(), Some(T0 + 60_000 + 30_000));
    r.manager.reset_backoff(); // the network came back
    r.transport.push(ok_answer("b", Some("r2"), 60));
    assert_eq!(get(&r).unwrap(), "b");
}

#[test]
fn a_refresh_that_fails_slowly_never_returns_a_token_that_expired_meanwhile() {
    let r = rig(FakeTransport::gated());
    r.manager.sign_in(tokens("a", Some("r"), 20, T0)).unwrap();
    r.clock.advance(15_000); // due, valid 5 s more
    let mut pool = LocalPool::new();
    let out = Rc::new(RefCell::new(None));
    let (m, o) = (r.manager.clone(), out.clone());
    pool.spawner().spawn_local(async move { *o.borrow_mut() = Some(m.get_valid_access_token().await) }).unwrap();
    pool.run_until_stalled();
    r.clock.advance(10_000); // the failure arrives after the token expired
    r.transport.release(Err(TransportError::Timeout));
    pool.run_until_stalled();
    assert_eq!(out.borrow().clone().unwrap(), Err(AuthError::Timeout));
}

#[test]
fn a_refresh_whose_callers_all_left_is_finished_and_revoked_when_the_session_is_cleared() {
    let transport = Rc::new(FakeTransport::gated());
    let clock = Rc::new(FakeClock::new(T0));
    let timers = Rc::new(FakeTimers::new(clock.clone()));
    let pool = Rc::new(RefCell::new(LocalPool::new()));
    let spawner = pool.borrow().spawner();
    let manager = TokenManager::new(
        ManagerConfig::new(ENDPOINT, "spa-dev"),
        clock.clone(),
        Rc::new(MemoryStore::default()),
        transport.clone(),
        Metrics::default(),
    )
    .with_runtime(Rc::new(FakeRuntime::new(timers, move |t| spawner.spawn_local(t).unwrap())));
    let discarded = Rc::new(RefCell::new(Vec::new()));
    let sink = discarded.clone();
    manager.subscribe(move |e| {
        if let SessionEvent::Discarded(t) = e {
            sink.borrow_mut().push(t.refresh_token.clone().unwrap().expose().to_owned());
        }
    });
    manager.sign_in(tokens("a", Some("r1"), 60, T0)).unwrap();
    clock.advance(60_000);
    drop(manager.refresh()); // the only caller goes away at once
    pool.borrow_mut().run_until_stalled();
    assert_eq!(transport.waiting(), 1, "the request left");
    manager.sign_out();
    transport.release(ok_answer("late", Some("r2"), 60));
    pool.borrow_mut().run_until_stalled();
    assert_eq!(
        *discarded.borrow(),
        vec!["r2".to_string()],
        "the rotated token was awaited and handed out for revocation"
    );
}

#[test]
fn a_failed_save_removes_the_stored_copy_at_refresh_and_at_sign_in() {
    let r = rig(FakeTransport::default());
    r.store.save(&tokens("someone-else", Some("r0"), 600, T0)).unwrap();
    r.store.set_fail_writes(true);
    assert!(r.manager.sign_in(tokens("a", Some("r1"), 60, T0)).is_err());
    assert_eq!(r.store.raw(), None, "the previous (other person's) session is not left behind");
    assert_eq!(get(&r).unwrap(), "a", "the new session works in memory");
    r.store.set_fail_writes(false);
    r.manager.sign_in(tokens("a", Some("r1"), 60, T0)).unwrap();
    assert!(r.store.raw().unwrap().contains("r1"));
    r.store.set_fail_writes(true);
    r.clock.advance(60_000);
    r.transport.push(ok_answer("b", Some("r2"), 60));
    assert_eq!(get(&r).unwrap(), "b");
    assert_eq!(r.store.raw(), None, "r1 was consumed: no stored copy may keep it");
    assert!(r.events.borrow().iter().any(|e| matches!(e, SessionEvent::StoreFailed(_))));
}

#[test]
fn expirations_are_counted_once_per_token_whoever_finds_them() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
    r.clock.advance(61_000);
    for _ in 0..3 {
        r.transport.push(Ok(HttpResponse::new(503, "")));
        block_on(r.manager.maintain());
        let _ = get(&r);
        r.clock.advance(61_000);
    }
    assert_eq!(r.manager.metrics().snapshot().expirations, 1, "one expired token, seen many times");
    r.transport.push(ok_answer("b", Some("r2"), 60));
    r.manager.reset_backoff();
    assert_eq!(get(&r).unwrap(), "b");
    r.clock.advance(61_000);
    r.transport.push(ok_answer("c", Some("r3"), 60));
    block_on(r.manager.maintain());
    assert_eq!(r.manager.metrics().snapshot().expirations, 2, "the background check counts the next one");
}

#[test]
fn the_maximum_session_age_ends_and_revokes_the_session() {
    let clock = Rc::new(FakeClock::new(T0));
    let transport = Rc::new(FakeTransport::with_handler(|_| ok_answer("again", Some("r+"), 3600)));
    let manager = TokenManager::new(
        ManagerConfig::new(ENDPOINT, "spa").with_max_session_age_secs(7200),
        clock.clone(),
        Rc::new(MemoryStore::default()),
        transport,
        Metrics::default(),
    );
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    manager.subscribe(move |e| sink.borrow_mut().push(e.clone()));
    manager.sign_in(tokens("a", Some("r"), 3600, T0)).unwrap();
    clock.advance(3_600_000);
    block_on(manager.maintain());
    assert!(manager.is_signed_in(), "refreshes do not extend the age");
    assert_eq!(manager.tokens().unwrap().signed_in_at, T0);
    clock.advance(3_600_000);
    let e = block_on(manager.get_valid_access_token()).unwrap_err();
    assert_eq!(e, AuthError::SessionEnded { reason: EndReason::MaxAge });
    assert!(events.borrow().iter().any(|e| matches!(e, SessionEvent::Discarded(_))), "revoked");
    assert!(!manager.is_signed_in());
}

#[test]
fn a_manual_refresh_of_a_session_without_a_refresh_token_does_not_end_it() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", None, 60, T0)).unwrap();
    assert_eq!(block_on(r.manager.refresh()), Err(AuthError::Deferred(Deferral::NoRefreshToken)));
    assert!(r.manager.is_signed_in());
    assert_eq!(r.transport.request_count(), 0);
}

#[test]
fn the_background_check_refreshes_a_due_token_once() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
    block_on(r.manager.maintain());
    assert_eq!(r.transport.request_count(), 0, "fresh: nothing to do");
    r.clock.advance(31_000);
    r.transport.push(ok_answer("b", Some("r2"), 60));
    block_on(r.manager.maintain());
    block_on(r.manager.maintain());
    assert_eq!(r.transport.request_count(), 1);
    assert_eq!(get(&r).unwrap(), "b");
}

#[test]
fn a_passing_error_before_expiry_still_returns_the_valid_token() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", Some("r"), 20, T0)).unwrap();
    r.clock.advance(15_000); // due (threshold 10 s) but valid for 5 s more
    r.transport.push(Err(TransportError::Network("blip".into())));
    assert_eq!(get(&r).unwrap(), "a");
    assert_eq!(r.manager.metrics().snapshot().refresh_failure.get("network"), Some(&1));
    assert!(matches!(r.events.borrow().last(), Some(SessionEvent::RefreshFailed(AuthError::Network(_)))));
}

#[test]
fn expired_without_a_refresh_token_ends_the_session_but_valid_is_served() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", None, 60, T0)).unwrap();
    r.clock.advance(50_000);
    assert_eq!(get(&r).unwrap(), "a", "due, no refresh token, still valid: served");
    r.clock.advance(10_000);
    assert_eq!(get(&r).unwrap_err(), AuthError::SessionEnded { reason: EndReason::Expired });
    assert_eq!(r.transport.request_count(), 0);
    assert!(r.store.raw().is_none());
}

#[test]
fn a_refresh_finishing_after_sign_out_is_discarded() {
    let r = rig(FakeTransport::gated());
    r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
    r.clock.advance(60_000);
    let mut pool = LocalPool::new();
    let result = Rc::new(RefCell::new(None));
    let (m, out) = (r.manager.clone(), result.clone());
    pool.spawner().spawn_local(async move { *out.borrow_mut() = Some(m.get_valid_access_token().await) }).unwrap();
    pool.run_until_stalled();
    let revoked = r.manager.sign_out().unwrap();
    assert_eq!(revoked.refresh_token.unwrap().expose(), "r");
    r.transport.release(ok_answer("late", Some("r2"), 60));
    pool.run_until_stalled();
    assert_eq!(result.borrow().clone().unwrap(), Err(AuthError::Superseded));
    assert!(r.manager.tokens().is_none());
    assert_eq!(r.store.raw(), None, "nothing stored after sign-out");
    // The late tokens are handed out for revocation, never stored.
    let discarded: Vec<_> = r
        .events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Discarded(t) => Some(t.refresh_token.clone().unwrap().expose().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(discarded, vec!["r2".to_string()]);
}

#[test]
fn a_refresh_finishing_after_a_new_sign_in_is_discarded() {
    let r = rig(FakeTransport::gated());
    r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
    r.clock.advance(60_000);
    let mut pool = LocalPool::new();
    let m = r.manager.clone();
    pool.spawner()
        .spawn_local(async move {
            let _ = m.get_valid_access_token().await;
        })
        .unwrap();
    pool.run_until_stalled();
    r.manager.sign_in(tokens("bob", Some("rb"), 3600, T0 + 60_000)).unwrap();
    r.transport.release(ok_answer("alice-late", Some("r2"), 60));
    pool.run_until_stalled();
    assert_eq!(get(&r).unwrap(), "bob");
    assert!(r.store.raw().unwrap().contains("\"bob\""));
}

#[test]
fn corrupt_storage_is_cleared_and_means_signed_out() {
    for raw in [
        "{not json",
        "[]",
        r#"{"v":1,"access_token":42}"#,
        r#"{"v":1,"access_token":"a","token_type":"Bearer","expires_at":"x","stored_at":1}"#,
        "\u{0}\u{ffff}",
    ] {
        let r = rig_with(FakeTransport::default(), MemoryStore::with_raw(raw));
        assert_eq!(get(&r), Err(AuthError::NotSignedIn), "{raw}");
        assert_eq!(r.store.raw(), None, "cleared: {raw}");
        assert!(matches!(r.events.borrow().first(), Some(SessionEvent::StoreFailed(_))));
    }
}

#[test]
fn a_failing_store_keeps_the_session_in_memory() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
    r.store.set_fail_writes(true);
    r.clock.advance(60_000);
    r.transport.push(ok_answer("b", Some("r2"), 60));
    assert_eq!(get(&r).unwrap(), "b");
    assert!(r.events.borrow().iter().any(|e| matches!(e, SessionEvent::StoreFailed(_))));
    assert_eq!(r.store.raw(), None, "storage holds nothing: the copy with the consumed r was removed");
    assert_eq!(r.manager.tokens().unwrap().refresh_token.unwrap().expose(), "r2", "memory holds the rotation");
}

#[test]
fn refresh_after_rejection_skips_a_token_already_replaced() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", Some("r"), 3600, T0)).unwrap();
    let rejected = block_on(r.manager.get_valid_access_token()).unwrap();
    r.transport.push(ok_answer("b", Some("r2"), 3600));
    assert_eq!(block_on(r.manager.refresh_after_rejection(&rejected)).unwrap().expose(), "b");
    assert_eq!(block_on(r.manager.refresh_after_rejection(&rejected)).unwrap().expose(), "b");
    assert_eq!(r.transport.request_count(), 1);
}

#[test]
fn events_and_generation_follow_the_session() {
    let r = rig(FakeTransport::default());
    let g0 = r.manager.generation();
    r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
    r.clock.advance(60_000);
    r.transport.push(ok_answer("b", Some("r2"), 60));
    get(&r).unwrap();
    r.manager.sign_out();
    assert_eq!(r.manager.generation(), g0 + 2);
    assert_eq!(
        *r.events.borrow(),
        vec![SessionEvent::SignedIn, SessionEvent::RefreshStarted, SessionEvent::Refreshed, SessionEvent::SignedOut,]
    );
}

#[test]
fn a_refresh_that_never_ran_before_sign_out_sends_nothing() {
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a", Some("r"), 60, T0)).unwrap();
    r.clock.advance(60_000);
    let refresh = r.manager.refresh(); // started, not yet polled
    r.manager.sign_out();
    assert_eq!(block_on(refresh), Err(AuthError::Superseded));
    assert_eq!(r.transport.request_count(), 0, "the signed-out refresh token is not presented");
}

/// Token-mediating mode: no refresh token in the browser; the backend renews, once for every caller.
#[test]
fn a_backend_source_renews_without_a_refresh_token_once_for_all_callers() {
    use oten_auth_core::RefreshSource;
    let clock = Rc::new(FakeClock::new(T0));
    let transport = Rc::new(FakeTransport::gated());
    let config = ManagerConfig::new(ENDPOINT, "spa-dev")
        .with_refresh_source(RefreshSource::Backend { url: "/api/refresh-token".into() });
    let manager = TokenManager::new(
        config,
        clock.clone(),
        Rc::new(MemoryStore::default()),
        transport.clone(),
        Metrics::default(),
    );
    let held = tokens("a1", None, 60, T0);
    manager.sign_in(held).unwrap();
    assert!(manager.can_refresh(), "the backend keeps the refresh token");
    clock.advance(61_000); // expired: with the provider source this session would be over

    let mut pool = LocalPool::new();
    let results = Rc::new(RefCell::new(Vec::new()));
    for _ in 0..50 {
        let (m, results) = (manager.clone(), results.clone());
        pool.spawner()
            .spawn_local(async move {
                let t = m.get_valid_access_token().await;
                results.borrow_mut().push(t.map(|t| t.expose().to_owned()));
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(transport.request_count(), 1, "one renewal for 50 callers");
    let sent = &transport.requests()[0];
    assert_eq!(sent.url, "/api/refresh-token");
    assert_eq!(sent.header_value("x-csrf"), Some("1"));
    assert_eq!(sent.body.as_deref(), Some(r#"{"rejected_access_token":"a1"}"#));
    assert!(sent.with_cookies);
    assert!(transport.release(ok_answer("a2", None, 60)));
    pool.run_until_stalled();
    assert!(results.borrow().iter().all(|t| t.as_deref() == Ok("a2")));

    // The backend down: the session is kept (and the current token served while valid).
    clock.advance(59_000);
    let mut pool = LocalPool::new();
    let outcome = Rc::new(RefCell::new(None));
    let (m, o) = (manager.clone(), outcome.clone());
    pool.spawner().spawn_local(async move { *o.borrow_mut() = Some(m.get_valid_access_token().await) }).unwrap();
    pool.run_until_stalled();
    assert!(transport.release(Ok(HttpResponse::new(503, r#"{"error":"provider_unavailable"}"#))));
    pool.run_until_stalled();
    assert_eq!(outcome.borrow_mut().take().unwrap().map(|t| t.expose().to_owned()), Ok("a2".into()));
    assert!(manager.is_signed_in());

    // The backend says the session is over: it ends here too.
    manager.reset_backoff();
    clock.advance(2_000);
    let mut pool = LocalPool::new();
    let (m, o) = (manager.clone(), outcome.clone());
    pool.spawner().spawn_local(async move { *o.borrow_mut() = Some(m.get_valid_access_token().await) }).unwrap();
    pool.run_until_stalled();
    assert!(transport.release(Ok(HttpResponse::new(401, r#"{"error":"session_ended","message":"refused"}"#))));
    pool.run_until_stalled();
    let ended = outcome.borrow_mut().take().unwrap().unwrap_err();
    assert!(ended.requires_reauth(), "{ended:?}");
    assert!(!manager.is_signed_in());
}

#[test]
fn a_stored_session_of_another_client_is_refused_at_load() {
    let mut foreign = tokens("a1", Some("r1"), 3600, T0);
    foreign.client_id = Some("another-app".into());
    let store = MemoryStore::default();
    store.save(&foreign).unwrap();
    let r = rig_with(FakeTransport::default(), store);
    assert!(!r.manager.is_signed_in(), "another client's tokens are not this app's session");
    assert!(r.store.load().unwrap().is_none(), "and they are removed");
    assert!(r.events.borrow().iter().any(|e| matches!(e, SessionEvent::StoreFailed(_))));
    assert_eq!(r.transport.request_count(), 0, "nothing of them was presented");

    // Sessions stored before the client was recorded, and this client's own, load.
    for client in [None, Some("spa-dev")] {
        let mut own = tokens("a2", Some("r2"), 3600, T0);
        own.client_id = client.map(str::to_owned);
        let store = MemoryStore::default();
        store.save(&own).unwrap();
        assert!(rig_with(FakeTransport::default(), store).manager.is_signed_in(), "{client:?}");
    }
    // A sign-in records the client.
    let r = rig(FakeTransport::default());
    r.manager.sign_in(tokens("a3", None, 3600, T0)).unwrap();
    assert_eq!(r.store.load().unwrap().unwrap().client_id.as_deref(), Some("spa-dev"));
}
