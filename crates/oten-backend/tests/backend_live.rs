//! The backend against the real dev IdP (`node dev/stack.mjs` with `ACCESS_TOKEN_TTL=3 TEST_ROUTES=1`; `scripts/test`
//! starts it): sign-in with a signed, pushed request object, the session cookie, the anti-CSRF header, the proxy,
//! `/api/refresh-token`, single refreshes under concurrency, sign-out, back-channel logout, and the provider's
//! refusal of unsigned or badly signed requests. Run by `scripts/test` with `--ignored` while the stack is up.

use oten_backend::{AppState, BackendConfig, CSRF_HEADER};
use reqwest::redirect::Policy;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const IDP: &str = "http://127.0.0.1:9000";
const API: &str = "http://127.0.0.1:9001";
const SECRET: &str = "dev-only-secret-of-bff-dev-not-for-production-use-0001";

/// The IdP's counters are global and the backend's ports are fixed: one test at a time.
static SERIAL: Mutex<()> = Mutex::const_new(());

struct Backend {
    app: Arc<AppState>,
    origin: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("oten-backend-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

async fn backend(mode: &str, port: u16) -> Backend {
    backend_with(mode, port, serde_json::json!({})).await
}

/// A backend with extra settings merged over the defaults.
async fn backend_with(mode: &str, port: u16, extra: Value) -> Backend {
    let origin = format!("http://127.0.0.1:{port}");
    let db = std::env::temp_dir().join(format!("oten-backend-live-{}-{port}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let settings = serde_json::json!({
        "mode": mode,
        "listen": format!("127.0.0.1:{port}"),
        "public_origin": origin,
        "issuer": IDP,
        "client_id": "bff-dev",
        "prompt": "consent",
        "api_upstream": API,
        "database_url": format!("sqlite://{}", db.display()),
        "refresh_buffer_secs": 1,
        "client_secret_file": temp_file("secret", SECRET),
        "key_file": temp_file("keys", &oten_backend::KeyRing::generate_entry("test")),
    });
    let mut settings = settings;
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    let settings = BackendConfig::from_json(&settings.to_string()).unwrap();
    let (app, router) = oten_backend::start(settings).await.expect("the backend starts against the dev IdP");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Backend { app, origin, task }
}

/// A browser: a cookie jar, and a client that follows redirects with it.
fn browser_with_jar() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder().cookie_provider(jar.clone()).redirect(Policy::limited(20)).build().unwrap();
    (client, jar)
}

fn browser() -> reqwest::Client {
    browser_with_jar().0
}

/// Signs `user` in through the backend; returns the page the browser lands on.
async fn sign_in(browser: &reqwest::Client, origin: &str, user: &str, return_to: &str) -> reqwest::Response {
    let login = browser.get(format!("{origin}/auth/login?return_to={return_to}")).send().await.unwrap();
    assert_eq!(login.status(), 200, "the IdP's login form");
    assert!(login.url().as_str().starts_with(&format!("{IDP}/interaction/")), "{}", login.url());
    let action = format!("{}/login", login.url());
    let _ = login.text().await.unwrap();
    browser.post(action).form(&[("username", user), ("password", user)]).send().await.unwrap()
}

async fn idp_stats() -> Value {
    reqwest::get(format!("{IDP}/test/stats")).await.unwrap().json().await.unwrap()
}

fn refreshes(stats: &Value) -> i64 {
    stats["token_requests"]["refresh_token"].as_i64().unwrap_or(0)
}

async fn user(browser: &reqwest::Client, origin: &str) -> reqwest::Response {
    browser.get(format!("{origin}/auth/user")).header(CSRF_HEADER, "1").send().await.unwrap()
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn bff_signs_in_proxies_with_one_refresh_and_signs_out() {
    let _serial = SERIAL.lock().await;
    let backend = backend("bff", 9100).await;
    let (b, jar) = browser_with_jar();
    let landed = sign_in(&b, &backend.origin, "alice", "/profile%3Ftab%3D1").await;
    assert_eq!(landed.url().as_str(), format!("{}/profile?tab=1", backend.origin), "back where the person was going");

    // The session: an HttpOnly cookie of the backend's own name; the user only with the anti-CSRF header.
    let no_csrf = b.get(format!("{}/auth/user", backend.origin)).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403);
    let me: Value = user(&b, &backend.origin).await.json().await.unwrap();
    assert_eq!(me["user"]["sub"], "b7c1b2c4-alice-0001", "{me}");
    assert!(me["logout_url"].as_str().unwrap().starts_with("/auth/logout?sid="));

    // Stored encrypted, with a refresh token (the IdP granted offline_access).
    let (row, tokens) = backend.app.session_tokens(&only_session_id(&backend).await).await.unwrap();
    assert!(tokens.refresh_token.is_some(), "the backend received a refresh token");
    assert!(!row.tokens.contains(tokens.access_token.expose()) && !row.tokens.contains("eyJ"), "sealed at rest");

    // The proxy adds the Bearer token; the API answers.
    let profile = b.get(format!("{}/api/user/profile", backend.origin)).header(CSRF_HEADER, "1").send().await.unwrap();
    assert_eq!(profile.status(), 200);
    let profile: Value = profile.json().await.unwrap();
    assert_eq!(profile["sub"], "b7c1b2c4-alice-0001");
    let forged = b.get(format!("{}/api/user/profile", backend.origin)).send().await.unwrap();
    assert_eq!(forged.status(), 403, "no anti-CSRF header, no proxying");
    let stranger = browser().get(format!("{}/api/user/profile", backend.origin)).header(CSRF_HEADER, "1").send().await;
    let stranger = stranger.unwrap();
    assert_eq!(stranger.status(), 401);
    assert_eq!(stranger.json::<Value>().await.unwrap()["error"], "not_signed_in", "401 JSON, not a redirect");

    // The token expires (the stack's tokens live 2 or 3 s); 40 requests at once share one refresh.
    let expires_at = me["access_expires_at"].as_i64().unwrap();
    let wait = u64::try_from(expires_at + 300 - oten_backend::now_ms()).unwrap_or(0);
    assert!(wait < 5_000, "this test needs short-lived tokens (ACCESS_TOKEN_TTL=2 or 3)");
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let before = idp_stats().await;
    let started = Instant::now();
    let calls = (0..40).map(|_| {
        let b = b.clone();
        let url = format!("{}/api/user/profile", backend.origin);
        async move { b.get(url).header(CSRF_HEADER, "1").send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(calls).await;
    let took = started.elapsed();
    let after = idp_stats().await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let presented = refreshes(&after) - refreshes(&before);
    let lifetimes = 1 + i64::try_from(took.as_millis() / 1000).unwrap();
    assert!((1..=lifetimes).contains(&presented), "{presented} refreshes for 40 callers in {took:?}");
    assert_eq!(after["refresh_token_reuse"], before["refresh_token_reuse"], "no refresh token presented twice");

    // Sign-out: only with the session's own logout id; then revoked, removed, and on to the IdP.
    let wrong = b.get(format!("{}/auth/logout?sid=0000", backend.origin)).send().await.unwrap();
    assert_eq!(wrong.status(), 400);
    assert_eq!(user(&b, &backend.origin).await.status(), 200, "a forged logout link ends nothing");
    let stale = b.post(format!("{}/auth/logout?sid=0000", backend.origin)).header(CSRF_HEADER, "1").send().await;
    assert_eq!(stale.unwrap().status(), 409, "a script ending another session than the cookie's ends nothing");
    assert_eq!(user(&b, &backend.origin).await.status(), 200);
    let revocations = idp_stats().await["revocations"].as_i64().unwrap();
    let no_redirects = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let cookie = backend_cookie(&jar, &backend.origin);
    let out = no_redirects
        .get(format!("{}{}", backend.origin, me["logout_url"].as_str().unwrap()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let location = out.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{IDP}/v1/oauth/logout?client_id=bff-dev")), "{location}");
    assert!(!location.contains("id_token_hint"), "no token in a URL");
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let gone = no_redirects.get(format!("{}/auth/user", backend.origin)).header("cookie", &cookie);
    assert_eq!(gone.header(CSRF_HEADER, "1").send().await.unwrap().status(), 401);
    assert!(idp_stats().await["revocations"].as_i64().unwrap() >= revocations + 2, "refresh and access tokens revoked");
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn token_mediating_hands_out_access_tokens_and_renews_once_per_rejection() {
    let _serial = SERIAL.lock().await;
    let backend = backend("token-mediating", 9101).await;
    let b = browser();
    sign_in(&b, &backend.origin, "bob", "/").await;
    let url = format!("{}/api/refresh-token", backend.origin);
    assert_eq!(b.post(&url).send().await.unwrap().status(), 403, "anti-CSRF header required");
    let first: Value = b.post(&url).header(CSRF_HEADER, "1").send().await.unwrap().json().await.unwrap();
    assert!(first.get("refresh_token").is_none(), "the refresh token never leaves the server");
    let access = first["access_token"].as_str().unwrap().to_owned();
    let api = reqwest::Client::new().get(format!("{API}/api/user/profile")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(api.status(), 200, "the token works at the API");

    // Twenty calls report the same rejected token at once: one refresh, one new token for all (nothing is renewed
    // for a token that is not the session's current one any more).
    let before = idp_stats().await;
    let rejected = serde_json::json!({ "rejected_access_token": access });
    let calls = (0..20).map(|_| {
        let (b, url, body) = (b.clone(), url.clone(), rejected.clone());
        async move {
            let answer = b.post(url).header(CSRF_HEADER, "1").json(&body).send().await.unwrap();
            answer.json::<Value>().await.unwrap()["access_token"].as_str().unwrap_or_default().to_owned()
        }
    });
    let tokens = futures::future::join_all(calls).await;
    let after = idp_stats().await;
    assert_eq!(refreshes(&after) - refreshes(&before), 1);
    assert!(tokens.iter().all(|t| !t.is_empty() && *t != access && *t == tokens[0]));
    assert_eq!(after["refresh_token_reuse"], before["refresh_token_reuse"]);

    let bad = b.post(&url).header(CSRF_HEADER, "1").body("{\"refresh_token\":\"x\"}").send().await.unwrap();
    assert_eq!(bad.status(), 400, "no refresh token is ever taken from the browser");
    let proxy = b.get(format!("{}/api/user/profile", backend.origin)).header(CSRF_HEADER, "1").send().await.unwrap();
    assert_eq!(proxy.status(), 404, "no proxy in token-mediating mode");
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn the_idp_ending_its_session_ends_the_backend_session_by_back_channel() {
    let _serial = SERIAL.lock().await;
    let backend = backend("bff", 9100).await;
    let (b, jar) = browser_with_jar();
    sign_in(&b, &backend.origin, "alice", "/").await;
    assert_eq!(user(&b, &backend.origin).await.status(), 200);

    // The person signs out at the IdP through another app (the SPA client): the IdP notifies the backend.
    let page = b
        .get(format!(
            "{IDP}/v1/oauth/logout?client_id=spa-dev&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let xsrf = page.split("name=\"xsrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("the confirm form");
    let action = page.split("action=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_owned();
    // The same cookies, without following the IdP's redirect to the SPA (not running here).
    let stay = reqwest::Client::builder().cookie_provider(jar).redirect(Policy::none()).build().unwrap();
    let confirmed = stay.post(action).form(&[("xsrf", xsrf), ("logout", "yes")]).send().await.unwrap();
    assert!(confirmed.status().is_redirection(), "{}", confirmed.status());
    let deadline = Instant::now() + Duration::from_secs(3);
    while user(&b, &backend.origin).await.status() == 200 {
        assert!(Instant::now() < deadline, "the back-channel logout did not end the session");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(user(&b, &backend.origin).await.status(), 401);
    let metrics = b.get(format!("{}/metrics", backend.origin)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("oten_backend_sessions_ended_total{kind=\"backchannel\"} 1"), "{metrics}");
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn the_idp_refuses_unsigned_and_badly_signed_requests_of_the_backend_client() {
    let _serial = SERIAL.lock().await;
    let no_redirects = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    // A plain authorization request (no request object) from the confidential client.
    let plain = no_redirects
        .get(format!(
            "{IDP}/v1/oauth/authorize?client_id=bff-dev&response_type=code&scope=openid&redirect_uri=\
             http%3A%2F%2F127.0.0.1%3A9100%2Fauth%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256&state=s"
        ))
        .send()
        .await
        .unwrap();
    let location = plain.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned();
    assert!(location.contains("error=invalid_request"), "refused: {} {location}", plain.status());

    // A pushed request object signed with another secret: refused, though the client authenticates.
    let signer =
        oten_backend::RequestSigner::hs256(&oten_auth_core::ClientSecret::new("not-the-secret-of-bff-dev-000000000"));
    let claims = serde_json::json!({"iss": "bff-dev", "aud": IDP, "client_id": "bff-dev", "response_type": "code",
        "scope": "openid", "redirect_uri": "http://127.0.0.1:9100/auth/callback", "state": "s", "nonce": "n",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
        "exp": oten_backend::now_ms() / 1000 + 60, "iat": oten_backend::now_ms() / 1000, "jti": "j-bad"});
    let jwt = oten_auth_core::sign_jwt("oauth-authz-req+jwt", claims.as_object().unwrap(), &signer).unwrap();
    let client = oten_auth_core::OAuthClient::secret_basic("bff-dev", oten_auth_core::ClientSecret::new(SECRET));
    let push = oten_auth_core::par_request(&format!("{IDP}/request"), &client, &jwt);
    let http = oten_backend::HttpClient::new(Duration::from_secs(5));
    let answer = http.send(push).await.unwrap();
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("invalid_request_object"), "{}", answer.body);
}

/// The one session row of this backend.
async fn only_session_id(backend: &Backend) -> String {
    let oten_backend::Database::Sqlite(pool) = &backend.app.db else { panic!("SQLite expected") };
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM oten_sessions").fetch_all(pool).await.unwrap();
    assert_eq!(ids.len(), 1);
    ids[0].0.clone()
}

/// The browser's cookies for the backend, as a `Cookie` header.
fn backend_cookie(jar: &reqwest::cookie::Jar, origin: &str) -> String {
    use reqwest::cookie::CookieStore;
    let cookies = jar.cookies(&origin.parse().unwrap()).expect("cookies for the backend");
    let cookies = cookies.to_str().unwrap().to_owned();
    assert!(cookies.contains("oten-session="), "{cookies}");
    cookies
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn sessions_past_their_maximum_age_end_on_use_and_in_the_cleanup() {
    let _serial = SERIAL.lock().await;
    let backend = backend_with("bff", 9100, serde_json::json!({ "session_max_age_secs": 2 })).await;
    let ((first, jar), second) = (browser_with_jar(), browser());
    sign_in(&first, &backend.origin, "alice", "/").await;
    sign_in(&second, &backend.origin, "bob", "/").await;
    assert_eq!(user(&first, &backend.origin).await.status(), 200);
    // The cookie lives as long as the session may (the browser drops it then); a client that keeps it longer (a
    // clock behind) still meets the server's own check.
    let cookie = backend_cookie(&jar, &backend.origin);
    let revocations = idp_stats().await["revocations"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(user(&first, &backend.origin).await.status(), 401, "the browser dropped the expired cookie");

    // On use: 401 JSON that says why, the cookie cleared, the tokens revoked.
    let ended = reqwest::Client::new()
        .get(format!("{}/api/user/profile", backend.origin))
        .header("cookie", &cookie)
        .header(CSRF_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 401);
    assert!(ended.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(ended.json::<Value>().await.unwrap()["error"], "session_ended");
    assert!(idp_stats().await["revocations"].as_i64().unwrap() >= revocations + 2);

    // In the cleanup: the other session goes without being used.
    let report = backend.app.cleanup().await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    assert_eq!(user(&second, &backend.origin).await.status(), 401);
    let metrics = first.get(format!("{}/metrics", backend.origin)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("oten_backend_sessions_ended_total{kind=\"max_age\"} 2"), "{metrics}");
}

async fn queue_fault(kind: &str) {
    let fault = serde_json::json!({ "endpoint": "token", "grant_type": "refresh_token", "kind": kind, "times": 1 });
    let r =
        reqwest::Client::new().post(format!("{IDP}/test/clients/bff-dev/faults")).json(&fault).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn wait_for_expiry(b: &reqwest::Client, origin: &str) {
    let me: Value = user(b, origin).await.json().await.unwrap();
    let wait = u64::try_from(me["access_expires_at"].as_i64().unwrap() + 200 - oten_backend::now_ms()).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn a_failing_provider_keeps_the_session_and_only_a_refusal_ends_it() {
    let _serial = SERIAL.lock().await;
    let reset = reqwest::Client::new().post(format!("{IDP}/test/clients/bff-dev/reset")).send().await.unwrap();
    assert_eq!(reset.status(), 200);
    let backend = backend("bff", 9100).await;
    let b = browser();
    sign_in(&b, &backend.origin, "alice", "/").await;
    let profile =
        |b: &reqwest::Client| b.get(format!("{}/api/user/profile", backend.origin)).header(CSRF_HEADER, "1").send();

    // The provider answers 503 to the refresh: 503 JSON with Retry-After, and the session stays.
    wait_for_expiry(&b, &backend.origin).await;
    queue_fault("status_503").await;
    let down = profile(&b).await.unwrap();
    assert_eq!(down.status(), 503);
    assert!(down.headers().contains_key("retry-after"));
    assert_eq!(down.json::<Value>().await.unwrap()["error"], "provider_unavailable");
    assert_eq!(user(&b, &backend.origin).await.status(), 200, "a provider failure keeps the session");
    assert_eq!(profile(&b).await.unwrap().status(), 200, "the next request renews and goes through");

    // The provider refuses the refresh token: the session ends (401 JSON), here and for every later request.
    wait_for_expiry(&b, &backend.origin).await;
    queue_fault("invalid_grant").await;
    let refused = profile(&b).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "session_ended");
    assert_eq!(user(&b, &backend.origin).await.status(), 401);

    let stats: Value = reqwest::get(format!("{IDP}/test/clients/bff-dev/stats")).await.unwrap().json().await.unwrap();
    assert_eq!(stats["refresh"]["presented_twice"], 0, "{stats}");
    assert_eq!(stats["faults_applied"], 2, "{stats}");
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn eddsa_request_objects_by_value_and_client_secret_post_work_too() {
    let _serial = SERIAL.lock().await;
    // The dev IdP generated this key at start and registered its public half for bff-dev-eddsa.
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dev/keys/backend-request-object.pem");
    let settings = serde_json::json!({
        "client_id": "bff-dev-eddsa",
        "client_auth": "client_secret_post",
        "request_object_alg": "EdDSA",
        "request_object_key_file": key,
        "request_object_key_id": "backend-eddsa",
        "use_par": false,
    });
    let backend = backend_with("bff", 9101, settings).await;

    // The parameters travel by value in a request object signed EdDSA with the registered key.
    let no_redirects = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let start = no_redirects.get(format!("{}/auth/login", backend.origin)).send().await.unwrap();
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let url = reqwest::Url::parse(&location).unwrap();
    let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(params.get("client_id").map(String::as_str), Some("bff-dev-eddsa"));
    assert!(!params.contains_key("state") && !params.contains_key("code_challenge"), "only inside the object");
    let jwt = params.get("request").expect("a request object by value");
    let header = oten_auth_core::base64url::decode(jwt.split('.').next().unwrap()).unwrap();
    let header: Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header, serde_json::json!({"alg": "EdDSA", "kid": "backend-eddsa", "typ": "oauth-authz-req+jwt"}));

    // The whole sign-in, then a refresh authenticated with client_secret_post.
    let b = browser();
    let landed = sign_in(&b, &backend.origin, "bob", "/x").await;
    assert_eq!(landed.url().as_str(), format!("{}/x", backend.origin));
    let profile =
        |b: &reqwest::Client| b.get(format!("{}/api/user/profile", backend.origin)).header(CSRF_HEADER, "1").send();
    assert_eq!(profile(&b).await.unwrap().status(), 200);
    let before = idp_stats().await;
    wait_for_expiry(&b, &backend.origin).await;
    assert_eq!(profile(&b).await.unwrap().status(), 200);
    let after = idp_stats().await;
    assert_eq!(refreshes(&after) - refreshes(&before), 1);
    assert_eq!(after["token_errors"]["refresh_token"], before["token_errors"]["refresh_token"]);
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn a_presentation_whose_outcome_never_arrived_is_never_repeated() {
    let _serial = SERIAL.lock().await;
    let backend = backend("bff", 9100).await;
    let b = browser();
    sign_in(&b, &backend.origin, "alice", "/").await;
    // As if an instance had died after sending the refresh token, before storing the answer.
    let id = only_session_id(&backend).await;
    let oten_backend::Database::Sqlite(pool) = &backend.app.db else { panic!("SQLite expected") };
    sqlx::query("UPDATE oten_sessions SET presenting_since = 1 WHERE id = $1").bind(&id).execute(pool).await.unwrap();
    let profile = || b.get(format!("{}/api/user/profile", backend.origin)).header(CSRF_HEADER, "1").send();
    assert_eq!(profile().await.unwrap().status(), 200, "the access token serves while valid");

    let before = idp_stats().await;
    wait_for_expiry(&b, &backend.origin).await;
    let ended = profile().await.unwrap();
    assert_eq!(ended.status(), 401);
    assert_eq!(ended.json::<Value>().await.unwrap()["error"], "session_ended");
    assert_eq!(refreshes(&idp_stats().await), refreshes(&before), "the refresh token was not presented again");
}

#[tokio::test]
#[ignore = "needs the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn a_refresh_without_an_answer_is_never_presented_again() {
    let _serial = SERIAL.lock().await;
    let reset = reqwest::Client::new().post(format!("{IDP}/test/clients/bff-dev/reset")).send().await.unwrap();
    assert_eq!(reset.status(), 200);
    let backend = backend_with("bff", 9100, serde_json::json!({ "request_timeout_ms": 1000 })).await;
    let b = browser();
    sign_in(&b, &backend.origin, "alice", "/").await;
    let profile = || b.get(format!("{}/api/user/profile", backend.origin)).header(CSRF_HEADER, "1").send();

    // The token endpoint does not answer: whether the provider rotated the refresh token is unknown.
    wait_for_expiry(&b, &backend.origin).await;
    queue_fault("timeout").await;
    let silent = profile().await.unwrap();
    assert_eq!(silent.status(), 503, "the request fails; the session is kept for now");
    // The next renewal would present the same refresh token: it ends the session instead (sign in again).
    let ended = profile().await.unwrap();
    assert_eq!(ended.status(), 401);
    assert_eq!(ended.json::<Value>().await.unwrap()["error"], "session_ended");
    let stats: Value = reqwest::get(format!("{IDP}/test/clients/bff-dev/stats")).await.unwrap().json().await.unwrap();
    assert_eq!(stats["faults_applied"], 1, "{stats}");
    assert_eq!(stats["token_requests"]["refresh_token"], 0, "not presented again after the silent attempt: {stats}");
}
