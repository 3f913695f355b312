//! Several tabs sharing one session, natively: copies, freezes, reloads, sign-out and joining. The provider here
//! rotates refresh tokens and revokes the grant on reuse; every test checks that no refresh token was presented
//! twice.

mod support;

use oten_auth_core::*;
use support::*;

fn no_reuse(w: &World) {
    assert_eq!(w.idp.presented_twice(), 0, "a refresh token was presented twice");
    assert_eq!(w.idp.reuse(), 0);
    assert!(!w.idp.is_revoked());
}

#[test]
fn two_copies_due_together_send_one_request_and_both_get_the_new_tokens() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref()); // "Duplicate tab" copies sessionStorage
    b.start();
    w.settle(&[&a, &b]);
    w.clock.advance(56_000); // due and close to expiry (4 s left): callers wait for the new token
    a.transport.hold_answers(true);
    let (ra, rb) = (a.call(), b.call());
    w.settle(&[&a, &b]);
    assert_eq!(w.idp.requests(), 1, "b waits for a's refresh instead of presenting the same token");
    a.transport.release();
    w.settle(&[&a, &b]);
    assert_eq!(ra.borrow().clone().unwrap().unwrap(), "at2");
    assert_eq!(rb.borrow().clone().unwrap().unwrap(), "at2", "b took a's new tokens");
    assert_eq!((a.seq(), b.seq()), (Some(1), Some(1)));
    assert_eq!(b.transport.sent(), 0);
    assert!(b.store.raw().unwrap().contains("rt2"), "b's own storage holds the newest refresh token");
    assert_eq!(b.manager.metrics().snapshot().adopted, 1);
    no_reuse(&w);
}

#[test]
fn a_rotation_reaches_the_sibling_before_it_is_due() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.clock.advance(31_000);
    a.call();
    w.settle(&[&a, &b]);
    assert_eq!(b.seq(), Some(1), "adopted from the broadcast");
    b.call();
    w.settle(&[&a, &b]);
    assert_eq!(w.idp.requests(), 1);
    no_reuse(&w);
}

#[test]
fn a_stale_copy_asks_for_the_newest_tokens_at_start() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let snapshot = a.manager.tokens().unwrap();
    w.clock.advance(31_000);
    a.call();
    w.settle(&[&a]);
    // A copy made from storage older than the last rotation (session restore of an old copy).
    let b = w.open("b", Some(&snapshot));
    b.start();
    w.settle(&[&a, &b]);
    assert_eq!(b.seq(), Some(1));
    assert!(!b.manager.is_stuck());
    no_reuse(&w);
}

#[test]
fn a_stale_copy_with_no_one_to_ask_never_presents_its_token_and_signs_in_afresh_at_expiry() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let snapshot = a.manager.tokens().unwrap();
    w.clock.advance(31_000);
    a.call();
    w.settle(&[&a]);
    w.tabs.close("a");
    let b = w.open("b", Some(&snapshot));
    b.start();
    w.settle(&[&b]);
    assert!(b.manager.is_stuck());
    // Due, still valid: served, no request.
    let r = b.call();
    w.settle(&[&b]);
    assert_eq!(r.borrow().clone().unwrap().unwrap(), "at1");
    assert_eq!(b.transport.sent(), 0);
    // Expired: the session ends as interrupted (nothing revoked: the newest tokens may live elsewhere).
    w.clock.advance(30_000);
    let r = b.call();
    w.settle(&[&b]);
    assert_eq!(r.borrow().clone().unwrap(), Err(AuthError::SessionEnded { reason: EndReason::Interrupted }));
    assert_eq!(b.transport.sent(), 0);
    assert!(!b.events.borrow().iter().any(|e| matches!(e, SessionEvent::Discarded(_))));
    no_reuse(&w);
}

#[test]
fn a_tab_frozen_holding_the_lock_before_its_request_left_is_passed_and_sends_nothing_when_it_thaws() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.clock.advance(31_000);
    // b refreshes slowly; a queues behind it for the lock, then is frozen.
    b.transport.hold_answers(true);
    b.call();
    w.settle(&[&a, &b]);
    a.call();
    w.settle(&[&a, &b]);
    a.frozen.set(true);
    b.transport.release();
    w.settle(&[&a, &b]);
    // The lock went to frozen a, which never ran: its request has not left.
    assert_eq!(w.tabs.lock_holder("L1"), Some("a".into()));
    assert_eq!(b.seq(), Some(1));
    // b is due again; it waits for the lock, times out, sees no presentation marked, and goes on.
    b.transport.hold_answers(false);
    w.clock.advance(31_000);
    let r = b.call();
    w.pass(6_000, &[&a, &b]);
    assert_eq!(r.borrow().clone().unwrap().unwrap(), "at2", "served at once while the refresh waited");
    assert_eq!(b.seq(), Some(2));
    assert_eq!(b.manager.tokens().unwrap().access_token.expose(), "at3");
    // a thaws: it finds the record moved on and takes the newest tokens instead of presenting rt1.
    a.frozen.set(false);
    w.settle(&[&a, &b]);
    assert_eq!(a.transport.sent(), 0, "the thawed tab sent nothing");
    assert_eq!(a.seq(), Some(2));
    no_reuse(&w);
}

#[test]
fn a_tab_frozen_after_its_request_left_is_never_second_guessed() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.clock.advance(31_000);
    a.transport.hold_answers(true); // the provider consumes rt1 now; a gets the answer only later
    a.call();
    w.settle(&[&a, &b]);
    a.frozen.set(true);
    // b keeps its still-valid access token and never presents rt1, however long a stays frozen.
    let r = b.call();
    w.pass(6_000, &[&a, &b]);
    assert_eq!(r.borrow().clone().unwrap().unwrap(), "at1");
    assert_eq!(b.transport.sent(), 0);
    assert!(b.manager.is_stuck());
    // Case 1: a thaws while b's token is still valid: b takes a's new tokens.
    a.transport.release();
    a.frozen.set(false);
    w.settle(&[&a, &b]);
    assert_eq!((a.seq(), b.seq()), (Some(1), Some(1)));
    assert!(!b.manager.is_stuck());
    no_reuse(&w);
}

#[test]
fn when_the_frozen_tab_stays_frozen_the_others_end_as_interrupted_at_expiry() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.clock.advance(31_000);
    a.transport.hold_answers(true);
    a.call();
    w.settle(&[&a, &b]);
    a.frozen.set(true);
    b.call();
    w.pass(6_000, &[&a, &b]);
    w.clock.advance(30_000);
    b.maintain();
    w.settle(&[&a, &b]);
    assert_eq!(b.ended_with(), Some(EndReason::Interrupted));
    assert_eq!(b.transport.sent(), 0);
    // a wakes up later and carries on with its own rotation.
    a.transport.release();
    a.frozen.set(false);
    w.settle(&[&a, &b]);
    assert_eq!(a.seq(), Some(1));
    no_reuse(&w);
}

#[test]
fn a_reload_during_a_refresh_never_presents_the_token_again() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let stored = a.manager.tokens().unwrap();
    w.clock.advance(31_000);
    a.transport.hold_answers(true);
    a.call();
    w.settle(&[&a]);
    // The page unloads with the request on its way; the same tab loads again with the same storage.
    w.tabs.close("a");
    let reloaded = w.open("a", Some(&stored));
    reloaded.start();
    let r = reloaded.call();
    w.settle(&[&reloaded]);
    assert_eq!(r.borrow().clone().unwrap().unwrap(), "at1", "served while valid");
    assert_eq!(reloaded.transport.sent(), 0);
    assert!(reloaded.manager.is_stuck());
    no_reuse(&w);
}

#[test]
fn sign_out_in_one_tab_ends_the_session_everywhere_even_for_a_tab_that_was_frozen() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    let c = w.open("c", a.manager.tokens().as_ref());
    c.frozen.set(true);
    let revoked = a.manager.sign_out();
    assert!(revoked.is_some());
    w.settle(&[&a, &b, &c]);
    assert!(b.manager.tokens().is_none());
    assert_eq!(b.ended_with(), Some(EndReason::SignedOutElsewhere));
    assert_eq!(b.store.raw(), None);
    assert_eq!(w.tabs.record("L1").unwrap().ended, Some(EndReason::SignedOutElsewhere));
    // A copy opened from old storage after the sign-out learns it from the record.
    let d = w.open("d", revoked.as_ref());
    d.start();
    w.settle(&[&d]);
    assert!(d.manager.tokens().is_none());
    // The frozen tab learns when it thaws; it sends nothing with the old tokens.
    c.frozen.set(false);
    w.settle(&[&c]);
    assert!(c.manager.tokens().is_none());
    assert_eq!(c.transport.sent() + b.transport.sent() + d.transport.sent(), 0);
}

#[test]
fn a_fresh_tab_joins_a_signed_in_sibling_and_can_be_told_not_to() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let fresh = w.open("fresh", None);
    fresh.start();
    w.pass(500, &[&a, &fresh]);
    assert_eq!(fresh.manager.tokens().map(|t| t.lineage), Some("L1".to_string()));
    assert!(fresh.events.borrow().contains(&SessionEvent::Adopted));

    let mut w2 = World::new(60);
    w2.config.join_siblings = false;
    let a2 = w2.signed_in("a");
    let alone = w2.open("alone", None);
    alone.start();
    w2.pass(500, &[&a2, &alone]);
    assert!(alone.manager.tokens().is_none());
}

#[test]
fn a_sign_in_in_one_tab_reaches_a_signed_out_sibling() {
    let w = World::new(60);
    let a = w.open("a", None);
    let b = w.open("b", None);
    a.manager.sign_in(w.idp.sign_in().with_lineage("L2")).unwrap();
    w.settle(&[&a, &b]);
    assert_eq!(b.manager.tokens().map(|t| t.lineage), Some("L2".to_string()));
}

#[test]
fn an_ended_session_is_not_joined() {
    let w = World::new(60);
    let a = w.signed_in("a");
    w.tabs.set_record("L1", LineageRecord { ended: Some(EndReason::ApiRefused), ..Default::default() });
    let fresh = w.open("fresh", None);
    fresh.start();
    w.pass(500, &[&a, &fresh]);
    assert!(fresh.manager.tokens().is_none());
}

#[test]
fn a_failed_save_after_a_refresh_leaves_nothing_a_reload_could_present() {
    let w = World::new(60);
    let a = w.signed_in("a");
    w.clock.advance(56_000);
    a.store.set_fail_writes(true);
    let r = a.call();
    w.settle(&[&a]);
    assert_eq!(r.borrow().clone().unwrap().unwrap(), "at2", "the session goes on in memory");
    assert_eq!(a.store.raw(), None, "the stored copy with the consumed rt1 was removed");
    // Reload: nothing stored, nobody to join: signed out cleanly, nothing presented.
    w.tabs.close("a");
    let reloaded = w.open("a", None);
    reloaded.start();
    w.settle(&[&reloaded]);
    assert!(reloaded.manager.tokens().is_none());
    no_reuse(&w);
}

#[test]
fn an_unusable_answer_without_a_refresh_token_ends_the_session_in_every_tab() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.idp.push_fault(Fault::Rewrite(r#"{"result":"ok"}"#.into()));
    w.clock.advance(56_000);
    let r = a.call();
    w.settle(&[&a, &b]);
    let e = r.borrow().clone().unwrap().unwrap_err();
    assert_eq!(e.end_reason().map(EndReason::label), Some("unusable_answer"));
    assert!(
        a.events.borrow().iter().any(|e| matches!(e, SessionEvent::Discarded(_))),
        "the live access token is revoked"
    );
    assert!(b.manager.tokens().is_none(), "the sibling holds the consumed token: it ends too");
    no_reuse(&w);
}

#[test]
fn an_unusable_answer_with_a_refresh_token_goes_on_with_it() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.idp.push_fault(Fault::Rewrite(r#"{"access_token":"x","token_type":"N_A","refresh_token":"{rt}"}"#.into()));
    w.clock.advance(31_000);
    let r = a.call();
    w.settle(&[&a, &b]);
    assert_eq!(r.borrow().clone().unwrap().unwrap(), "at1", "the valid access token is served meanwhile");
    assert_eq!(b.seq(), Some(1), "the sibling got the new refresh token");
    w.clock.advance(3_000); // past the backoff
    b.call();
    w.settle(&[&a, &b]);
    assert_eq!(b.manager.tokens().unwrap().access_token.expose(), "at3");
    assert_eq!(a.seq(), Some(2));
    no_reuse(&w);
}

#[test]
fn a_backoff_after_a_failure_holds_for_every_tab_of_the_session() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.idp.push_fault(Fault::Answer(Ok(HttpResponse::new(503, "").with_header("Retry-After", "10"))));
    w.clock.advance(50_000);
    a.call();
    w.settle(&[&a, &b]);
    assert_eq!(w.idp.requests(), 1);
    for _ in 0..50 {
        b.call();
        a.call();
    }
    w.settle(&[&a, &b]);
    assert_eq!(w.idp.requests(), 1, "no token request during the shared backoff");
    w.clock.advance(10_000);
    let r = b.call();
    w.settle(&[&a, &b]);
    assert_eq!(r.borrow().clone().unwrap().unwrap(), "at2");
    assert_eq!(w.idp.requests(), 2);
    no_reuse(&w);
}

#[test]
fn without_the_shared_record_the_lock_still_serialises_the_tabs() {
    let w = World::new(60);
    w.tabs.set_records_unavailable(true);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.clock.advance(31_000);
    a.call();
    b.call();
    w.pass(1_000, &[&a, &b]); // each holder first asks the others for newer tokens (300 ms)
    assert_eq!(w.idp.requests(), 1);
    assert_eq!(b.seq(), Some(1));
    no_reuse(&w);
}

#[test]
fn thirty_seconds_of_three_tabs_calling_in_a_loop_present_every_refresh_token_once() {
    let w = World::new(3);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    let c = w.open("c", None);
    c.start();
    w.pass(400, &[&a, &b, &c]);
    let tabs = [&a, &b, &c];
    let mut ok = 0;
    let mut results = Vec::new();
    for step in 0..300 {
        // Every 100 ms each tab calls; now and then one of them is frozen for a second.
        for (i, t) in tabs.iter().enumerate() {
            t.frozen.set(step % 97 >= 90 && i == step % 3);
            results.push(t.call());
        }
        w.pass(100, &tabs);
    }
    for t in tabs {
        t.frozen.set(false);
    }
    w.settle(&tabs);
    for r in &results {
        if matches!(r.borrow().as_ref(), Some(Ok(_))) {
            ok += 1;
        }
    }
    let requests = w.idp.requests();
    println!("3 tabs, 30 s, 3 s tokens: {requests} token requests, {ok}/{} calls with a valid token", results.len());
    assert!(tabs.iter().all(|t| t.manager.is_signed_in()), "all still signed in");
    assert!((15..=25).contains(&requests), "about one refresh per 1.5 s: {requests}");
    assert_eq!(ok, results.len(), "every call got a valid token");
    no_reuse(&w);
}

#[test]
fn a_due_but_valid_token_is_served_at_once_while_one_refresh_runs_in_the_background() {
    let w = World::new(60);
    let a = w.signed_in("a");
    w.clock.advance(31_000); // due, 29 s left
    a.transport.hold_answers(true);
    let results: Vec<_> = (0..1000).map(|_| a.call()).collect();
    w.settle(&[&a]);
    assert!(results.iter().all(|r| r.borrow().clone() == Some(Ok("at1".into()))), "nobody waited");
    assert_eq!(w.idp.requests(), 1, "one refresh for 1,000 callers");
    a.transport.release();
    w.settle(&[&a]);
    assert_eq!(a.seq(), Some(1));
    // Near expiry, callers wait for the refresh instead.
    w.clock.advance(58_000); // 2 s left of 60, under a quarter of the lifetime and under 5 s
    a.transport.hold_answers(true);
    let late = a.call();
    w.settle(&[&a]);
    assert_eq!(*late.borrow(), None, "waits for the new token");
    a.transport.release();
    w.settle(&[&a]);
    assert_eq!(late.borrow().clone().unwrap().unwrap(), "at3");
    no_reuse(&w);
}

#[test]
fn a_session_that_cannot_be_used_as_it_is_is_not_offered_to_a_joining_tab() {
    // A tab whose refresh request is out may still answer messages (Chromium ran the message handlers of a page
    // frozen over CDP, in our measurements), but its tokens are being consumed and soon expire: a new tab must not
    // join them.
    let w = World::new(60);
    let a = w.signed_in("a");
    w.clock.advance(56_000);
    a.transport.hold_answers(true);
    a.call();
    w.settle(&[&a]);
    assert!(a.manager.is_refreshing());
    let fresh = w.open("fresh", None);
    fresh.start();
    w.pass(500, &[&a, &fresh]);
    assert!(fresh.manager.tokens().is_none(), "not offered while its refresh is on its way");
    // Expired tokens are not offered either.
    a.transport.release();
    w.settle(&[&a]);
    w.clock.advance(61_000);
    let late = w.open("late", None);
    late.start();
    w.pass(500, &[&a, &late]);
    assert!(late.manager.tokens().is_none(), "not offered once expired");
    no_reuse(&w);
}

#[test]
fn without_the_shared_record_a_frozen_holder_is_never_stolen_from() {
    // No IndexedDB: a tab cannot know whether the frozen holder's request left, so it never takes the lock over.
    let w = World::new(60);
    w.tabs.set_records_unavailable(true);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.clock.advance(31_000);
    a.transport.hold_answers(true); // the provider consumes rt1 now; a gets the answer only after it thaws
    a.call();
    w.pass(400, &[&a, &b]); // a asks its siblings (300 ms), then sends
    assert_eq!(a.transport.sent(), 1);
    assert_eq!(a.store.raw(), None, "no stored copy while the unmarked request is out");
    a.frozen.set(true);
    b.call();
    w.pass(7_000, &[&a, &b]);
    assert_eq!(b.transport.sent(), 0);
    assert!(b.manager.is_stuck());
    a.transport.release();
    a.frozen.set(false);
    w.settle(&[&a, &b]);
    assert!(a.store.raw().unwrap().contains("rt2"), "stored again once the answer is in");
    no_reuse(&w);
}

#[test]
fn when_the_shared_record_cannot_be_written_but_is_readable_nothing_is_presented() {
    // Another tab could read the record, see no mark and take the lock over: fail closed.
    let w = World::new(60);
    let a = w.signed_in("a");
    w.tabs.set_record_writes_failing(true);
    w.clock.advance(56_000);
    let r = a.call();
    w.pass(1_000, &[&a]);
    assert_eq!(a.transport.sent(), 0);
    assert_eq!(r.borrow().clone().unwrap().unwrap(), "at1", "the valid access token is served");
    assert!(a.manager.is_stuck());
    no_reuse(&w);
}

#[test]
fn a_reload_during_an_unmarked_refresh_has_nothing_to_present() {
    let w = World::new(60);
    w.tabs.set_records_unavailable(true);
    let a = w.signed_in("a");
    w.clock.advance(31_000);
    a.transport.hold_answers(true);
    a.call();
    w.pass(400, &[&a]);
    assert_eq!(a.transport.sent(), 1);
    let stored = a.store.raw(); // what a reload finds
    assert_eq!(stored, None);
    w.tabs.close("a");
    let reloaded = w.open("a", None);
    reloaded.start();
    reloaded.call();
    w.pass(1_000, &[&reloaded]);
    assert_eq!(reloaded.transport.sent(), 0);
    no_reuse(&w);
}

#[test]
fn resetting_the_backoff_clears_the_shared_one_and_a_clock_set_back_does_not_stretch_it() {
    let w = World::new(60);
    let a = w.signed_in("a");
    w.idp.push_fault(Fault::Answer(Ok(HttpResponse::new(503, "").with_header("Retry-After", "60"))));
    w.clock.advance(56_000);
    a.call();
    w.settle(&[&a]);
    assert!(w.tabs.record("L1").unwrap().retry_at > 0);
    a.manager.reset_backoff(); // the `online` event
    w.settle(&[&a]);
    assert_eq!(w.tabs.record("L1").unwrap().retry_at, 0);
    a.call();
    w.settle(&[&a]);
    assert_eq!(w.idp.requests(), 2, "refreshed at once after reset_backoff");

    let w = World::new(60);
    let a = w.signed_in("a");
    w.idp.push_fault(Fault::Answer(Ok(HttpResponse::new(503, ""))));
    w.clock.advance(56_000);
    a.call();
    w.settle(&[&a]);
    w.clock.advance(-3_600_000); // the clock is set back an hour
    w.clock.advance(3_600_000 - 56_000 + 61_000); // … and the token has expired by the new clock
    a.call();
    w.settle(&[&a]);
    assert_eq!(w.idp.requests(), 2);
}

#[test]
fn a_refresh_only_queued_for_the_lock_is_not_presenting_so_sign_out_need_not_wait_for_it() {
    let w = World::new(60);
    let a = w.signed_in("a");
    let b = w.open("b", a.manager.tokens().as_ref());
    w.clock.advance(56_000);
    a.transport.hold_answers(true);
    a.call();
    w.settle(&[&a, &b]);
    assert!(a.manager.is_presenting());
    b.call();
    w.settle(&[&a, &b]);
    assert!(b.manager.is_refreshing() && !b.manager.is_presenting(), "queued behind a's lock, nothing sent");
    a.transport.release();
    w.settle(&[&a, &b]);
    assert!(!a.manager.is_presenting());
    no_reuse(&w);
}

#[test]
fn a_tab_learns_who_its_siblings_are_signed_in_as_and_which_share_its_session() {
    let w = World::new(60);
    let alice = |t: TokenSet| t.with_user(id_token::IdTokenClaims::new("alice"));
    let a = w.open("a", None);
    a.manager.sign_in(alice(w.idp.sign_in()).with_lineage("L1")).unwrap();
    let copy = w.open("copy", a.manager.tokens().as_ref());
    let bob = w.open("bob", None);
    w.settle(&[&a, &copy, &bob]);
    bob.manager.sign_in(w.idp.sign_in().with_user(id_token::IdTokenClaims::new("bob")).with_lineage("L2")).unwrap();
    w.settle(&[&a, &copy, &bob]);
    // Opened after Bob's sign-in went round, and never started: signed out.
    let out = w.open("out", None);

    let found = std::rc::Rc::new(std::cell::RefCell::new(None));
    let (m, f) = (a.manager.clone(), found.clone());
    use futures::task::LocalSpawnExt;
    a.pool.borrow().spawner().spawn_local(async move { *f.borrow_mut() = Some(m.sibling_tabs().await) }).unwrap();
    w.pass(DEFAULT_ASK_TIMEOUT_MS as i64 + 100, &[&a, &copy, &bob, &out]);
    let tabs = found.borrow_mut().take().expect("answered within the ask timeout");
    let seen: Vec<_> = tabs.iter().map(|t| (t.tab.as_str(), t.sub.as_deref(), t.same_session)).collect();
    assert_eq!(tabs.len(), 3, "each other tab once: {seen:?}");
    assert!(seen.contains(&("copy", Some("alice"), true)), "{seen:?}");
    assert!(seen.contains(&("bob", Some("bob"), false)), "{seen:?}");
    assert!(seen.contains(&("out", None, false)), "{seen:?}");
    // Outside an ask, answers are dropped: a late or repeated one changes nothing.
    a.manager.receive(&SiblingMessage::Here { from: "late".into(), sub: Some("eve".into()), lineage: None });
    let (m, f) = (a.manager.clone(), found.clone());
    a.pool.borrow().spawner().spawn_local(async move { *f.borrow_mut() = Some(m.sibling_tabs().await) }).unwrap();
    w.settle(&[&a]);
    // Only tab a runs now, so no one answers the second ask: the late answer was not kept for it.
    a.manager.receive(&SiblingMessage::Here {
        from: "copy".into(),
        sub: Some("alice".into()),
        lineage: Some("L1".into()),
    });
    a.manager.receive(&SiblingMessage::Here {
        from: "copy".into(),
        sub: Some("alice".into()),
        lineage: Some("L1".into()),
    });
    w.pass(DEFAULT_ASK_TIMEOUT_MS as i64 + 100, &[&a]);
    let again = found.borrow_mut().take().expect("answered");
    assert_eq!(again.len(), 1, "one entry per tab, nothing from before the ask: {again:?}");
    no_reuse(&w);
}
