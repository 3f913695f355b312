//! Refresh, the API client and revocation against the real local IdP and API (scripts/test starts them with
//! `TEST_ROUTES=1` and a short `ACCESS_TOKEN_TTL`).

mod support;

use futures::future::join_all;
use oten_auth::FetchTransport;
use oten_auth_core::{ApiError, HttpRequest, Method, Transport};
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn performance_now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

#[wasm_bindgen_test]
async fn an_api_call_without_a_token_gets_its_401() {
    let answer =
        FetchTransport::default().send(HttpRequest::new(Method::Get, format!("{API}/api/user/profile"))).await.unwrap();
    assert_eq!(answer.status, 401);
    let challenge = answer.header_value("www-authenticate").unwrap_or_default().to_owned();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}

#[wasm_bindgen_test]
async fn fifty_concurrent_callers_after_expiry_cause_one_token_request() {
    let (auth, _) = connect("test.fifty").await;
    let tokens = real_tokens("alice").await;
    let ttl_ms = tokens.lifetime_ms();
    assert!(ttl_ms <= 10_000, "the stack runs with a short ACCESS_TOKEN_TTL, got {ttl_ms} ms");
    let first = tokens.access_token.clone();
    auth.manager().sign_in(tokens).unwrap();
    sleep_ms(ttl_ms as u32 + 200).await;
    reset_stats().await;
    let manager = auth.manager();
    let results = join_all((0..50).map(|_| manager.get_valid_access_token())).await;
    let counts = stats().await;
    wasm_bindgen_test::console_log!(
        "50 concurrent callers after expiry -> {} token request(s), {} refresh-token reuse(s)",
        counts["token_requests"]["refresh_token"],
        counts["refresh_token_reuse"]
    );
    assert_eq!(counts["token_requests"]["refresh_token"], 1, "{counts}");
    assert_eq!(counts["refresh_token_reuse"], 0, "{counts}");
    let fresh = results[0].clone().expect("refreshed");
    assert_ne!(fresh, first);
    assert!(results.iter().all(|r| r.as_ref() == Ok(&fresh)));
    // The rotated refresh token was stored and works: a forced refresh succeeds once more.
    manager.refresh().await.expect("the rotated refresh token is valid");
    let counts = stats().await;
    assert_eq!(counts["token_requests"]["refresh_token"], 2);
    assert_eq!(counts["refresh_token_reuse"], 0);
}

/// A fresh token comes from memory: no storage read and no request, however many lookups. (Speed is the
/// benchmark's business; the figure printed here is for information.)
#[wasm_bindgen_test]
async fn a_fresh_lookup_touches_neither_storage_nor_network() {
    let store = std::rc::Rc::new(oten_auth_core::MemoryStore::default());
    let transport = std::rc::Rc::new(CountingTransport::default());
    let parts = oten_auth::AuthParts { store: store.clone(), transport: transport.clone(), ..Default::default() };
    let (auth, _) = connect_with(parts).await;
    auth.manager().sign_in(real_tokens("bob").await).unwrap();
    let manager = auth.manager();
    let (reads, sent) = (store.reads(), transport.sent.get());
    const N: u32 = 100_000;
    let start = performance_now();
    for _ in 0..N {
        manager.get_valid_access_token().await.unwrap();
    }
    let per_call_ns = (performance_now() - start) * 1e6 / f64::from(N);
    wasm_bindgen_test::console_log!("fresh get_valid_access_token(): {per_call_ns:.0} ns per call over {N} calls");
    assert_eq!(store.reads(), reads, "no storage read");
    assert_eq!(transport.sent.get(), sent, "no request");
    assert_eq!(store.writes(), 1, "only the sign-in wrote");
}

#[wasm_bindgen_test]
async fn a_hundred_concurrent_gets_after_expiry_refresh_once_and_all_succeed() {
    let (auth, nav) = connect("test.hundred").await;
    let tokens = real_tokens("alice").await;
    let ttl = tokens.lifetime_ms() as u32;
    auth.manager().sign_in(tokens).unwrap();
    sleep_ms(ttl + 200).await;
    reset_stats().await;
    let client = auth.client();
    let url = format!("{API}/api/user/profile");
    let answers = join_all((0..100).map(|_| client.get_json::<serde_json::Value>(&url))).await;
    let ok = answers.iter().filter(|a| a.as_ref().is_ok_and(|p| p["name"] == "Alice Example")).count();
    assert_eq!(ok, 100, "{:?}", answers.iter().find(|a| a.is_err()));
    let counts = stats().await;
    assert_eq!(counts["token_requests"]["refresh_token"], 1, "{counts}");
    assert!(nav.visits.borrow().is_empty());
    let snapshot = auth.manager().metrics().snapshot();
    assert_eq!(snapshot.refresh_success, 1);
    assert_eq!(snapshot.usage.iter().find(|u| u.status == 200).map(|u| u.endpoint.as_str()), Some("/api/user/profile"));
}

#[wasm_bindgen_test]
async fn a_revoked_session_redirects_to_login_exactly_once() {
    let (auth, nav) = connect("test.revoked").await;
    let tokens = real_tokens("alice").await;
    let refresh = tokens.refresh_token.clone().unwrap();
    auth.manager().sign_in(tokens).unwrap();
    // Revoke the grant at the IdP (revoking the refresh token ends the whole grant).
    let revoke = oten_auth_core::revocation_request(
        auth.metadata().unwrap().revocation_endpoint.as_deref().unwrap(),
        &oten_auth_core::OAuthClient::public("spa-dev"),
        oten_auth_core::RevocableToken::Refresh(&refresh),
    );
    assert!(FetchTransport::default().send(revoke).await.unwrap().is_success());
    let client = auth.client();
    let url = format!("{API}/api/user/profile");
    let answers = join_all((0..10).map(|_| client.get(&url))).await;
    assert!(answers.iter().all(|a| a.as_ref().is_err_and(ApiError::requires_reauth)), "{answers:?}");
    assert_eq!(*nav.visits.borrow(), vec!["/login?return_to=%2Fprofile".to_string()]);
    assert!(auth.manager().tokens().is_none(), "tokens cleared");
}

#[wasm_bindgen_test]
async fn a_redirect_to_another_origin_never_carries_the_token() {
    let (auth, _) = connect("test.redirect").await;
    auth.manager().sign_in(real_tokens("alice").await).unwrap();
    let client = auth.client();
    // Direct call to a foreign origin: no token.
    let direct: serde_json::Value = client.get_json(&format!("{ECHO}/echo")).await.unwrap();
    assert_eq!(direct["authorization"], false);
    // An allow-listed API that redirects to the foreign origin: the token must not follow. The browser may
    // refuse the redirected answer (its Origin becomes "null"), so the foreign server's own count decides.
    let transport = FetchTransport::default();
    transport.send(HttpRequest::new(Method::Post, format!("{ECHO}/echo/seen/reset"))).await.unwrap();
    let via = client.get(&format!("{API}/api/redirect?to={ECHO}/echo")).await;
    let seen = transport.send(HttpRequest::new(Method::Get, format!("{ECHO}/echo/seen"))).await.unwrap();
    let seen: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert!(seen["requests"].as_u64().unwrap() >= 1, "the redirect reached the foreign origin: {seen} {via:?}");
    assert_eq!(seen["with_authorization"], 0, "the Authorization header followed the redirect: {seen}");
}

#[wasm_bindgen_test]
async fn logout_during_a_refresh_revokes_the_newest_tokens_and_ends_the_idp_session() {
    let (auth, nav) = connect("test.logout").await;
    let tokens = real_tokens("alice").await;
    let ttl = tokens.lifetime_ms() as u32;
    auth.manager().sign_in(tokens).unwrap();
    sleep_ms(ttl + 200).await;
    // Capture the rotated refresh token: the refresh in flight finishes after the sign-out, so its tokens are
    // discarded (never stored) and handed out for revocation.
    let rotated = std::rc::Rc::new(std::cell::RefCell::new(None));
    let seen = rotated.clone();
    auth.manager().subscribe(move |e| {
        if let oten_auth_core::SessionEvent::Discarded(t) = e {
            *seen.borrow_mut() = t.refresh_token.clone();
        }
    });
    let in_flight = auth.manager().refresh();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = in_flight.await;
    });
    assert!(auth.manager().is_refreshing());
    while !auth.manager().is_presenting() {
        sleep_ms(1).await; // until the request has left
    }
    let confirmed = auth.logout().await;
    assert_eq!(confirmed, 2, "refresh and access token revoked");
    let rotated = rotated.borrow().clone().expect("the in-flight refresh finished and was discarded");
    sleep_ms(500).await; // its revocation runs in the background
                         // The newest refresh token is dead at the IdP.
    let answer = FetchTransport::default()
        .send(oten_auth_core::refresh_request(
            &auth.metadata().unwrap().token_endpoint,
            &oten_auth_core::OAuthClient::public("spa-dev"),
            &rotated,
        ))
        .await
        .unwrap();
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("invalid_grant"), "{}", answer.body);
    // The IdP session is ended by a POST form: the ID token hint is in the body, never in a URL.
    // The IdP session is ended by a GET (the default method) that carries no token: the IdP asks to confirm.
    assert!(nav.forms.borrow().is_empty());
    let visits = nav.visits.borrow();
    assert_eq!(visits.len(), 1);
    let end_session = auth.metadata().unwrap().end_session_endpoint.clone().unwrap();
    assert!(
        visits[0].starts_with(&format!("{end_session}?client_id=spa-dev&post_logout_redirect_uri=")),
        "{}",
        visits[0]
    );
    assert!(!visits[0].contains("id_token"));
    assert!(auth.manager().tokens().is_none());
}
