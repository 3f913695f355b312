//! The API client's retry state machine against fakes.

use futures::executor::{block_on, LocalPool};
use futures::task::LocalSpawnExt;
use oten_auth_core::testing::{FakeClock, FakeTransport};
use oten_auth_core::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

const T0: i64 = 1_700_000_000_000;
const TOKEN_URL: &str = "https://idp.test/token";
const API: &str = "https://api.test";

#[derive(Default)]
struct Nav {
    path: RefCell<String>,
    visits: RefCell<Vec<String>>,
}

impl Navigator for Nav {
    fn current_path(&self) -> String {
        self.path.borrow().clone()
    }
    fn go_to(&self, url: &str) {
        self.visits.borrow_mut().push(url.to_owned());
    }
    fn post_form(&self, action: &str, _fields: &[(&str, &str)]) {
        self.visits.borrow_mut().push(format!("POST {action}"));
    }
}

struct Rig {
    clock: Rc<FakeClock>,
    transport: Rc<FakeTransport>,
    store: Rc<MemoryStore>,
    nav: Rc<Nav>,
    client: ApiClient,
}

/// An IdP and an API in one handler: the API's status comes from `api_status` (given the request and its
/// `Authorization` header).
fn rig(api_status: impl Fn(&HttpRequest, &str) -> u16 + 'static) -> Rig {
    rig_answering(
        move |req| {
            let auth = req.header_value("authorization").unwrap_or("").to_owned();
            HttpResponse::new(api_status(req, &auth), r#"{"ok":true}"#)
        },
        None,
    )
}

/// An IdP that rotates tokens (at1, at2, …) and an API answering from `api`; signed in with at0/rt0 (and `user`),
/// on `/profile?tab=bio`.
fn rig_answering(api: impl Fn(&HttpRequest) -> HttpResponse + 'static, user: Option<id_token::IdTokenClaims>) -> Rig {
    let issued = Rc::new(Cell::new(0));
    let transport = Rc::new(FakeTransport::with_handler(move |req| {
        if req.url == TOKEN_URL {
            issued.set(issued.get() + 1);
            let n = issued.get();
            return Ok(HttpResponse::new(
                200,
                format!(r#"{{"access_token":"at{n}","refresh_token":"rt{n}","token_type":"Bearer","expires_in":60}}"#),
            ));
        }
        Ok(api(req))
    }));
    let clock = Rc::new(FakeClock::new(T0));
    let store = Rc::new(MemoryStore::default());
    let manager = TokenManager::new(
        ManagerConfig::new(TOKEN_URL, "spa"),
        clock.clone(),
        store.clone(),
        transport.clone(),
        Metrics::default(),
    );
    let initial = r#"{"access_token":"at0","refresh_token":"rt0","token_type":"Bearer","expires_in":60}"#;
    let mut tokens = TokenSet::parse_token_response(initial, T0, None).unwrap();
    if let Some(user) = user {
        tokens = tokens.with_user(user);
    }
    manager.sign_in(tokens).unwrap();
    let nav = Rc::new(Nav { path: RefCell::new("/profile?tab=bio".into()), ..Nav::default() });
    let client = ApiClient::new(manager, OriginAllowList::new([API]).unwrap(), nav.clone());
    Rig { clock, transport, store, nav, client }
}

/// A manager over `transport`, signed in with access token `a` and refresh token `r`.
fn signed_in_over(transport: Rc<FakeTransport>) -> TokenManager {
    let manager = TokenManager::new(
        ManagerConfig::new(TOKEN_URL, "spa"),
        Rc::new(FakeClock::new(T0)),
        Rc::new(MemoryStore::default()),
        transport,
        Metrics::default(),
    );
    manager
        .sign_in(TokenSet::parse_token_response(r#"{"access_token":"a","refresh_token":"r"}"#, T0, None).unwrap())
        .unwrap();
    manager
}

fn token_requests(r: &Rig) -> usize {
    r.transport.requests().iter().filter(|q| q.url == TOKEN_URL).count()
}

#[test]
fn a_401_refreshes_once_and_retries_the_same_request_once() {
    // at0 is refused (revoked at the API), later tokens work.
    let r = rig(|_, auth| if auth == "Bearer at0" { 401 } else { 200 });
    let request = HttpRequest::new(Method::Put, format!("{API}/api/user/profile"))
        .header("Content-Type", "application/json")
        .header("X-Custom", "1")
        .body(r#"{"bio":"hi"}"#);
    let answer = block_on(r.client.send(request)).unwrap();
    assert_eq!(answer.status, 200);
    let api_calls: Vec<_> = r.transport.requests().into_iter().filter(|q| q.url != TOKEN_URL).collect();
    assert_eq!(api_calls.len(), 2);
    assert_eq!(token_requests(&r), 1);
    let (first, retry) = (&api_calls[0], &api_calls[1]);
    assert_eq!(retry.method, first.method);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header_value("x-custom"), Some("1"));
    assert_eq!(retry.header_value("content-type"), Some("application/json"));
    assert_eq!(retry.header_value("authorization"), Some("Bearer at1"));
    assert!(r.nav.visits.borrow().is_empty());
    let usage = r.client.manager().metrics().snapshot().usage;
    assert_eq!(usage.iter().map(|u| (u.status, u.count)).collect::<Vec<_>>(), vec![(200, 1), (401, 1)]);
    assert!(usage.iter().all(|u| u.endpoint == "/api/user/profile"));
}

#[test]
fn a_second_401_ends_the_session_and_redirects_once() {
    let r = rig(|_, _| 401);
    let e = block_on(r.client.get(&format!("{API}/api/user/profile"))).unwrap_err();
    assert_eq!(e, ApiError::Unauthorized);
    assert!(e.requires_reauth());
    assert_eq!(token_requests(&r), 1, "one refresh, no loop");
    assert_eq!(r.transport.requests().len(), 3, "request, refresh, one retry");
    assert!(r.client.manager().tokens().is_none());
    assert_eq!(r.store.raw(), None);
    assert_eq!(*r.nav.visits.borrow(), vec!["/login?return_to=%2Fprofile%3Ftab%3Dbio".to_string()]);
}

#[test]
fn many_failing_requests_redirect_only_once() {
    let r = rig(|_, _| 401);
    let mut pool = LocalPool::new();
    for _ in 0..20 {
        let c = r.client.clone();
        pool.spawner()
            .spawn_local(async move {
                let _ = c.get(&format!("{API}/api/user/profile")).await;
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(r.nav.visits.borrow().len(), 1);
}

#[test]
fn never_redirects_away_from_the_auth_routes() {
    for path in ["/login?return_to=%2F", "/callback?code=x&state=y"] {
        let r = rig(|_, _| 401);
        *r.nav.path.borrow_mut() = path.to_owned();
        assert!(block_on(r.client.get(&format!("{API}/x"))).is_err());
        assert!(r.nav.visits.borrow().is_empty(), "{path}");
    }
}

#[test]
fn server_errors_and_network_errors_neither_clear_nor_redirect() {
    let r = rig(|_, _| 500);
    let answer = block_on(r.client.get(&format!("{API}/api/user/profile"))).unwrap();
    assert_eq!(answer.status, 500);
    assert_eq!(token_requests(&r), 0, "500 causes no refresh");
    assert!(r.client.manager().tokens().is_some());
    let e = block_on(r.client.get_json::<serde_json::Value>(&format!("{API}/api/user/profile"))).unwrap_err();
    assert!(matches!(e, ApiError::Status { status: 500, .. }));

    let t = Rc::new(FakeTransport::default());
    t.push(Err(TransportError::Network("offline".into())));
    let manager = signed_in_over(t.clone());
    let nav = Rc::new(Nav::default());
    let client = ApiClient::new(manager.clone(), OriginAllowList::new([API]).unwrap(), nav.clone());
    assert!(matches!(block_on(client.get(&format!("{API}/x"))), Err(ApiError::Transport(_))));
    assert!(manager.tokens().is_some());
    assert!(nav.visits.borrow().is_empty());
    assert!(r.nav.visits.borrow().is_empty());
}

#[test]
fn other_origins_never_get_the_token() {
    let r = rig(|_, _| 401);
    for url in
        ["https://cdn.test/lib.js", "https://api.test.evil.test/x", "http://api.test/x", "https://api.test:8443/x"]
    {
        let mut req = HttpRequest::new(Method::Get, url);
        req.set_header("Authorization", "Bearer smuggled");
        let answer = block_on(r.client.send(req)).unwrap();
        assert_eq!(answer.status, 401, "a foreign 401 is just an answer");
    }
    assert!(r.transport.requests().iter().all(|q| q.header_value("authorization").is_none()));
    assert_eq!(token_requests(&r), 0);
    assert!(r.nav.visits.borrow().is_empty());
    assert!(r.client.manager().metrics().snapshot().usage.is_empty(), "only token-bearing calls are counted");
}

#[test]
fn hooks_add_headers_and_observe_but_cannot_skip_the_retry() {
    struct Hook(RefCell<Vec<u16>>);
    impl ApiHook for Hook {
        fn on_request(&self, request: &mut HttpRequest) {
            request.set_header("X-Request-Id", "abc");
            request.set_header("Authorization", "Bearer from-hook");
        }
        fn on_response(&self, request: &HttpRequest, response: &HttpResponse) {
            assert!(request.header_value("authorization").is_none(), "hooks never see the token");
            self.0.borrow_mut().push(response.status);
        }
    }
    let r = rig(|_, auth| if auth == "Bearer at0" { 401 } else { 200 });
    let hook = Rc::new(Hook(RefCell::new(Vec::new())));
    r.client.add_hook(hook.clone());
    assert_eq!(block_on(r.client.get(&format!("{API}/a"))).unwrap().status, 200);
    assert_eq!(*hook.0.borrow(), vec![401, 200]);
    let api_calls: Vec<_> = r.transport.requests().into_iter().filter(|q| q.url != TOKEN_URL).collect();
    assert!(api_calls.iter().all(|q| q.header_value("x-request-id") == Some("abc")));
    assert_eq!(api_calls[1].header_value("authorization"), Some("Bearer at1"));
}

#[test]
fn a_refresh_that_ends_the_session_redirects_once() {
    let transport = Rc::new(FakeTransport::with_handler(|req| {
        Ok(if req.url == TOKEN_URL {
            HttpResponse::new(400, r#"{"error":"invalid_grant"}"#)
        } else {
            HttpResponse::new(401, "")
        })
    }));
    let manager = signed_in_over(transport.clone());
    let nav = Rc::new(Nav { path: RefCell::new("/profile".into()), ..Nav::default() });
    let client = ApiClient::new(manager.clone(), OriginAllowList::new([API]).unwrap(), nav.clone());
    let e = block_on(client.get(&format!("{API}/x"))).unwrap_err();
    assert!(matches!(e, ApiError::Auth(AuthError::SessionEnded { .. })));
    assert_eq!(*nav.visits.borrow(), vec!["/login?return_to=%2Fprofile".to_string()]);
    assert_eq!(transport.request_count(), 2, "request, refresh; no retry without a token");
    assert!(manager.tokens().is_none());
}

#[test]
fn a_hundred_concurrent_calls_after_expiry_refresh_once() {
    let r = rig(|_, auth| if auth == "Bearer at1" { 200 } else { 401 });
    r.clock.advance(61_000);
    let mut pool = LocalPool::new();
    let ok = Rc::new(Cell::new(0));
    for _ in 0..100 {
        let (c, ok) = (r.client.clone(), ok.clone());
        pool.spawner()
            .spawn_local(async move {
                if c.get(&format!("{API}/api/user/profile")).await.map(|a| a.status) == Ok(200) {
                    ok.set(ok.get() + 1);
                }
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(token_requests(&r), 1);
    assert_eq!(ok.get(), 100);
}

#[test]
fn a_hook_that_rewrites_the_url_cannot_carry_the_token_elsewhere() {
    struct Rewrite;
    impl ApiHook for Rewrite {
        fn on_request(&self, request: &mut HttpRequest) {
            request.url = request.url.replace("https://api.test", "https://evil.test");
        }
    }
    let r = rig(|_, _| 200);
    r.client.add_hook(Rc::new(Rewrite));
    block_on(r.client.get(&format!("{API}/me"))).unwrap();
    let sent = r.transport.requests();
    assert_eq!(sent[0].url, "https://evil.test/me");
    assert_eq!(sent[0].header_value("authorization"), None);
}

#[test]
fn a_second_401_hands_the_tokens_out_for_revocation() {
    let r = rig(|_, _| 401);
    let discarded = Rc::new(Cell::new(0));
    let seen = discarded.clone();
    r.client.manager().subscribe(move |e| {
        if matches!(e, SessionEvent::Discarded(_)) {
            seen.set(seen.get() + 1)
        }
    });
    assert!(block_on(r.client.get(&format!("{API}/x"))).is_err());
    assert_eq!(discarded.get(), 1);
}

#[test]
fn debug_output_never_shows_tokens() {
    let r = rig(|_, _| 200);
    block_on(r.client.get(&format!("{API}/x"))).unwrap();
    let printed = format!("{:?} {:?}", r.transport.requests(), r.client.manager().tokens());
    assert!(!printed.contains("at0") && !printed.contains("rt0"), "{printed}");
}

#[test]
fn a_401_from_another_origin_after_a_redirect_is_not_a_verdict_on_the_token() {
    let transport = Rc::new(FakeTransport::with_handler(|req| {
        let mut answer = HttpResponse::new(401, "");
        // The API redirected the call to a foreign origin, which answered 401 (it never saw the token).
        answer.url = Some(req.url.replace("https://api.test", "https://sso.elsewhere.test"));
        Ok(answer)
    }));
    let manager = signed_in_over(transport.clone());
    let nav = Rc::new(Nav::default());
    let client = ApiClient::new(manager.clone(), OriginAllowList::new([API]).unwrap(), nav.clone());
    let answer = block_on(client.get(&format!("{API}/api/user/profile"))).unwrap();
    assert_eq!(answer.status, 401);
    assert_eq!(transport.request_count(), 1, "no refresh, no retry");
    assert!(manager.is_signed_in());
    assert!(nav.visits.borrow().is_empty());
}

#[test]
fn an_api_401_is_not_counted_as_an_expiration_and_a_refused_session_is_revoked() {
    let r = rig(|_, _| 401);
    let revoked = Rc::new(Cell::new(false));
    let seen = revoked.clone();
    r.client.manager().subscribe(move |e| {
        if matches!(e, SessionEvent::Discarded(_)) {
            seen.set(true);
        }
    });
    let ended = Rc::new(RefCell::new(None));
    let sink = ended.clone();
    r.client.manager().subscribe(move |e| {
        if let SessionEvent::Ended(e) = e {
            *sink.borrow_mut() = e.end_reason().cloned();
        }
    });
    assert_eq!(block_on(r.client.get(&format!("{API}/x"))), Err(ApiError::Unauthorized));
    assert_eq!(r.client.manager().metrics().snapshot().expirations, 0);
    assert!(revoked.get(), "the refused session's tokens are handed out for revocation");
    assert_eq!(*ended.borrow(), Some(EndReason::ApiRefused));
}

/// A signed-in client whose API answers every request with a step-up challenge (`challenge` is the
/// `WWW-Authenticate` value), on `/security?tab=keys`, and the events the manager announced.
fn step_up_rig(challenge: &'static str, user: Option<id_token::IdTokenClaims>) -> (Rig, Rc<RefCell<Vec<String>>>) {
    let r = rig_answering(
        move |_| {
            HttpResponse::new(401, r#"{"error":"insufficient_user_authentication"}"#)
                .with_header("WWW-Authenticate", challenge)
        },
        user,
    );
    let events = Rc::new(RefCell::new(Vec::new()));
    let seen = events.clone();
    r.client.manager().subscribe(move |e| seen.borrow_mut().push(format!("{e:?}")));
    *r.nav.path.borrow_mut() = "/security?tab=keys".into();
    (r, events)
}

#[test]
fn a_step_up_challenge_keeps_the_session_and_signs_in_again_with_its_options() {
    let challenge =
        r#"Bearer realm="api", error="insufficient_user_authentication", max_age="300", acr_values="urn:mfa""#;
    let (r, events) = step_up_rig(challenge, None);
    let error = block_on(r.client.get(&format!("{API}/api/user/security"))).unwrap_err();
    let wanted = StepUpChallenge { max_age_secs: Some(300), acr_values: Some("urn:mfa".into()) };
    assert_eq!(error, ApiError::StepUp(wanted.clone()));
    assert!(error.requires_reauth());
    assert!(error.to_string().contains("within 300 s"), "{error}");
    assert_eq!(token_requests(&r), 0, "a step-up is not a refresh");
    assert_eq!(r.transport.requests().len(), 1, "and not retried");
    assert!(r.client.manager().tokens().is_some(), "the session is kept until the new sign-in");
    assert!(r.store.raw().is_some());
    assert!(events.borrow().is_empty(), "no session ended: the loop guard has nothing to count: {:?}", events.borrow());
    assert_eq!(*r.nav.visits.borrow(), vec![wanted.login_url("/security?tab=keys")]);
    assert_eq!(
        r.nav.visits.borrow()[0],
        "/login?return_to=%2Fsecurity%3Ftab%3Dkeys&step_up=1&max_age=300&acr_values=urn%3Amfa"
    );
}

#[test]
fn many_step_up_answers_send_to_sign_in_once() {
    let (r, _) = step_up_rig(r#"Bearer error="insufficient_user_authentication""#, None);
    let mut pool = LocalPool::new();
    let results = Rc::new(RefCell::new(Vec::new()));
    for _ in 0..10 {
        let (client, results) = (r.client.clone(), results.clone());
        pool.spawner()
            .spawn_local(async move {
                let answer = client.get(&format!("{API}/api/user/security")).await;
                results.borrow_mut().push(answer);
            })
            .unwrap();
    }
    pool.run();
    assert_eq!(results.borrow().len(), 10);
    assert!(results.borrow().iter().all(|e| matches!(e, Err(ApiError::StepUp(_)))));
    assert_eq!(r.nav.visits.borrow().len(), 1);
}

#[test]
fn a_sign_in_that_already_answers_the_challenge_is_not_asked_for_again() {
    // Just back from the step-up: the ID token says the person authenticated 10 s ago, the API wants 300 s.
    let mut user = id_token::IdTokenClaims::new("u1");
    user.auth_time = Some(T0 / 1000 - 10);
    let (r, _) = step_up_rig(r#"Bearer error="insufficient_user_authentication", max_age=300"#, Some(user.clone()));
    let error = block_on(r.client.get(&format!("{API}/api/user/security"))).unwrap_err();
    assert!(matches!(error, ApiError::StepUpNotAccepted(_)), "{error:?}");
    assert!(!error.requires_reauth());
    assert!(r.nav.visits.borrow().is_empty(), "no loop of sign-ins");
    // Five minutes later the same sign-in is too old: the client asks for a new one.
    r.clock.advance(300_000);
    let later = block_on(r.client.get(&format!("{API}/api/user/security"))).unwrap_err();
    assert!(matches!(later, ApiError::StepUp(_)), "{later:?}");
    assert_eq!(r.nav.visits.borrow().len(), 1);
}

#[test]
fn a_step_up_challenge_from_the_auth_routes_or_another_origin_sends_nowhere() {
    let (r, _) = step_up_rig(r#"Bearer error="insufficient_user_authentication""#, None);
    *r.nav.path.borrow_mut() = "/callback".into();
    assert!(matches!(block_on(r.client.get(&format!("{API}/x"))), Err(ApiError::StepUp(_))));
    assert!(r.nav.visits.borrow().is_empty());
    // Another origin never got the token: its 401 is its own business, returned as it is.
    let answer = block_on(r.client.get("https://elsewhere.test/x")).unwrap();
    assert_eq!(answer.status, 401);
}

/// bff mode: requests to the backend carry the anti-CSRF header and no token; a 401 from it ends the session once.
#[test]
fn a_cookie_session_sends_no_token_and_ends_on_the_backends_401() {
    const APP: &str = "https://app.test";
    let refuse = Rc::new(Cell::new(false));
    let refusing = refuse.clone();
    let transport = Rc::new(FakeTransport::with_handler(move |req| {
        if req.url.ends_with("/redirected") {
            // The backend redirected to another site, which said 401: no verdict on the session.
            let mut answer = HttpResponse::new(401, "{}");
            answer.url = Some("https://elsewhere.test/login".into());
            return Ok(answer);
        }
        let status = if refusing.get() && req.url.contains("/api/") { 401 } else { 200 };
        Ok(HttpResponse::new(status, r#"{"ok":true}"#))
    }));
    let manager = TokenManager::new(
        ManagerConfig::new("", ""),
        Rc::new(FakeClock::new(T0)),
        Rc::new(MemoryStore::default()),
        transport.clone(),
        Metrics::default(),
    );
    let session = TokenSet::backend_held(id_token::IdTokenClaims::new("u1"), None, T0 + 3_600_000, T0);
    manager.sign_in(session).unwrap();
    let nav = Rc::new(Nav { path: RefCell::new("/profile".into()), ..Nav::default() });
    let client = ApiClient::new(manager.clone(), OriginAllowList::default(), nav.clone())
        .with_cookie_session(OriginAllowList::new([APP]).unwrap());

    for url in ["/api/user/profile", "https://app.test/api/user/profile"] {
        block_on(client.get(url)).unwrap();
    }
    block_on(client.get("https://elsewhere.test/x")).unwrap();
    let sent = transport.requests();
    assert_eq!(sent.len(), 3);
    for request in &sent[..2] {
        assert_eq!(request.header_value("x-csrf"), Some("1"), "{}", request.url);
        assert_eq!(request.header_value("authorization"), None, "no token, ever");
    }
    assert_eq!(sent[2].header_value("x-csrf"), None, "nothing of the session goes to another origin");
    assert_eq!(sent[2].header_value("authorization"), None);
    assert!(sent[..2].iter().all(|r| r.with_cookies) && !sent[2].with_cookies);
    // Paths a browser reads as another host are not the backend's.
    for sneaky in ["/\t/evil.test/x", "/\\evil.test/x", "//evil.test/x"] {
        let _ = block_on(client.get(sneaky));
        let last = transport.requests().pop().unwrap();
        assert!(last.header_value("x-csrf").is_none() && !last.with_cookies, "{sneaky:?}");
    }
    assert_eq!(block_on(client.get("/api/redirected")).unwrap().status, 401);
    assert!(manager.is_signed_in(), "a 401 from another site after a redirect ends nothing");
    let before = transport.requests().len();

    // The backend already renewed and retried: its 401 ends the session, with one trip to /login.
    refuse.set(true);
    assert_eq!(block_on(client.get("/api/user/profile")).unwrap_err(), ApiError::Unauthorized);
    assert_eq!(block_on(client.get("/api/user/profile")).unwrap_err(), ApiError::Unauthorized);
    assert!(!manager.is_signed_in());
    assert_eq!(transport.requests().len(), before + 2, "no retry of its own");
    assert_eq!(nav.visits.borrow().as_slice(), ["/login?return_to=%2Fprofile"]);
}
