//! Two backend processes on one PostgreSQL, against the dev IdP with 3-second access tokens: many sessions, each
//! keeping requests in flight through both instances at once. Passes on 0 refresh tokens presented twice and 0
//! answers of 500 (and no session lost); prints refreshes per session and the latency the proxy adds next to calling the API directly.
//! A second test stops one instance (SIGKILL) mid-traffic and starts it again: no session lost, no 500.
//!
//! Size: `OTEN_LOAD_SESSIONS` per instance (default 10), `OTEN_LOAD_SECS` (default 8), `OTEN_LOAD_IN_FLIGHT` per
//! session (default 4). `scripts/test` runs the small default; `scripts/load` the full run (200 × 2, 60 s).
//! Needs `OTEN_TEST_POSTGRES_URL` and the dev stack (`ACCESS_TOKEN_TTL=3 TEST_ROUTES=1`).

use oten_auth_core::TokenSet;
use oten_backend::{KeyRing, CSRF_HEADER};
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const IDP: &str = "http://127.0.0.1:9000";
const API: &str = "http://127.0.0.1:9001";
const SECRET: &str = "dev-only-secret-of-bff-dev-not-for-production-use-0001";
const PORTS: [u16; 2] = [9100, 9101];

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One backend process.
struct Instance {
    port: u16,
    child: Child,
}

impl Instance {
    fn start(port: u16, database_url: &str, keys: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("oten-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join(format!("backend-{port}.json"));
        let settings = serde_json::json!({
            "mode": "bff",
            "listen": format!("127.0.0.1:{port}"),
            "public_origin": format!("http://127.0.0.1:{port}"),
            "issuer": IDP,
            "client_id": "bff-dev",
            "prompt": "consent",
            "api_upstream": API,
            "database_url": database_url,
        });
        std::fs::write(&config, settings.to_string()).unwrap();
        let log = std::fs::File::create(dir.join(format!("backend-{port}.log"))).unwrap();
        let log_out = log.try_clone().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_oten-backend"))
            .arg("--config")
            .arg(&config)
            .env("OTEN_CLIENT_SECRET", SECRET)
            .env("OTEN_BACKEND_KEYS", keys)
            .stdout(log_out)
            .stderr(log)
            .spawn()
            .expect("the backend binary starts");
        Self { port, child }
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{}/healthz", self.port)).await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(self.child.try_wait().unwrap().is_none(), "backend on {} exited", self.port);
            assert!(Instant::now() < deadline, "backend on {} did not start", self.port);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn fresh_schema(name: &str) -> String {
    let base = std::env::var("OTEN_TEST_POSTGRES_URL").expect("OTEN_TEST_POSTGRES_URL (scripts/test starts a cluster)");
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&admin).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&admin).await.unwrap();
    format!("{base}?options=-c%20search_path%3D{name}")
}

/// A signed-in session: its cookie value.
async fn sign_in(port: u16, user: &str) -> String {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let b = reqwest::Client::builder().cookie_provider(jar.clone()).redirect(Policy::limited(20)).build().unwrap();
    let origin = format!("http://127.0.0.1:{port}");
    let login = b.get(format!("{origin}/auth/login")).send().await.unwrap();
    assert!(login.url().as_str().starts_with(&format!("{IDP}/interaction/")), "{}", login.url());
    let action = format!("{}/login", login.url());
    b.post(action).form(&[("username", user), ("password", user)]).send().await.unwrap();
    use reqwest::cookie::CookieStore;
    let cookies = jar.cookies(&origin.parse().unwrap()).unwrap();
    let cookies = cookies.to_str().unwrap();
    let value = cookies.split("; ").find_map(|c| c.strip_prefix("oten-session=")).expect("a session cookie");
    value.to_owned()
}

async fn sign_in_many(n: usize) -> Vec<String> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(16));
    let tasks = (0..n).map(|i| {
        let semaphore = semaphore.clone();
        tokio::spawn(async move {
            let _permit = semaphore.acquire().await.unwrap();
            sign_in(PORTS[i % 2], if i % 2 == 0 { "alice" } else { "bob" }).await
        })
    });
    futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect()
}

async fn idp_stats() -> Value {
    reqwest::get(format!("{IDP}/test/stats")).await.unwrap().json().await.unwrap()
}

#[derive(Default)]
struct Tally {
    /// Answers other than 200, by status.
    statuses: std::sync::Mutex<std::collections::BTreeMap<u16, usize>>,
    ok: AtomicUsize,
    /// Answers of 500 (a fault of the backend).
    server_errors: AtomicUsize,
    /// Answers of 502–504: the provider or the API did not keep up (the session is kept; the client may retry).
    unavailable: AtomicUsize,
    other: AtomicUsize,
    unreachable: AtomicUsize,
    rerouted: AtomicUsize,
}

/// Keeps `in_flight` requests per session going through both instances (round robin, the other one when an
/// instance does not answer) until `until`; returns the latencies of the answered requests (µs).
async fn traffic(sessions: &[String], in_flight: usize, until: Instant, tally: Arc<Tally>) -> Vec<u64> {
    let client = reqwest::Client::builder().redirect(Policy::none()).pool_max_idle_per_host(512).build().unwrap();
    let mut workers = Vec::new();
    for (s, cookie) in sessions.iter().enumerate() {
        for w in 0..in_flight {
            let (client, tally, cookie) = (client.clone(), tally.clone(), format!("oten-session={cookie}"));
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut turn = s + w;
                while Instant::now() < until {
                    turn += 1;
                    let mut answered = None;
                    for attempt in 0..2 {
                        let port = PORTS[(turn + attempt) % 2];
                        let started = Instant::now();
                        let sent = client
                            .get(format!("http://127.0.0.1:{port}/api/user/profile"))
                            .header("cookie", &cookie)
                            .header(CSRF_HEADER, "1")
                            .send()
                            .await;
                        if let Ok(r) = sent {
                            let status = r.status().as_u16();
                            let _ = r.bytes().await;
                            answered = Some((status, started.elapsed()));
                            if attempt == 1 {
                                tally.rerouted.fetch_add(1, Ordering::Relaxed);
                            }
                            break;
                        }
                    }
                    if let Some((status, _)) = answered.filter(|(s, _)| *s != 200) {
                        *tally.statuses.lock().unwrap().entry(status).or_default() += 1;
                    }
                    match answered {
                        Some((200, took)) => {
                            tally.ok.fetch_add(1, Ordering::Relaxed);
                            latencies.push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                        }
                        Some((502..=504, _)) => {
                            tally.unavailable.fetch_add(1, Ordering::Relaxed);
                        }
                        Some((500..=599, _)) => {
                            tally.server_errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(_) => {
                            tally.other.fetch_add(1, Ordering::Relaxed);
                        }
                        None => {
                            tally.unreachable.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                latencies
            }));
        }
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    all
}

/// The same calls straight to the API with the sessions' own access tokens (read from PostgreSQL and opened with
/// the key ring), for the latency the proxy adds.
async fn direct_traffic(database_url: &str, keys: &KeyRing, sessions: &[String], in_flight: usize) -> Vec<u64> {
    let pool = sqlx::PgPool::connect(database_url).await.unwrap();
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).build().unwrap();
    let until = Instant::now() + Duration::from_millis(1_000);
    let mut workers = Vec::new();
    for cookie in sessions {
        let id: String = Sha256::digest(cookie.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let sealed: Option<(String,)> = sqlx::query_as("SELECT tokens FROM oten_sessions WHERE id = $1")
            .bind(&id)
            .fetch_optional(&pool)
            .await
            .unwrap();
        let Some(sealed) = sealed else { continue }; // ended during the load: the assertions below say why
        let plain = keys.open_text(&id, "tokens", &sealed.0).unwrap();
        let tokens = TokenSet::from_storage_json(std::str::from_utf8(&plain).unwrap()).unwrap();
        for _ in 0..in_flight {
            let (client, token) = (client.clone(), tokens.access_token.expose().to_owned());
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let started = Instant::now();
                    let r = client.get(format!("{API}/api/user/profile")).bearer_auth(&token).send().await.unwrap();
                    let ok = r.status() == 200;
                    let _ = r.bytes().await;
                    if ok {
                        latencies.push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
                    }
                }
                latencies
            }));
        }
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    all
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn two_instances_on_one_database_present_each_refresh_token_once() {
    let _serial = SERIAL.lock().await;
    let per_instance = env_number("OTEN_LOAD_SESSIONS", 10);
    let secs = env_number("OTEN_LOAD_SECS", 8) as u64;
    let in_flight = env_number("OTEN_LOAD_IN_FLIGHT", 4);
    let url = fresh_schema("load").await;
    let keys_text = KeyRing::generate_entry("load");
    let keys = KeyRing::parse(&keys_text).unwrap();
    let mut instances: Vec<Instance> = PORTS.iter().map(|p| Instance::start(*p, &url, &keys_text)).collect();
    for i in &mut instances {
        i.wait_ready().await;
    }
    let sessions = sign_in_many(per_instance * 2).await;

    let before = idp_stats().await;
    let tally = Arc::new(Tally::default());
    let mut proxied = traffic(&sessions, in_flight, Instant::now() + Duration::from_secs(secs), tally.clone()).await;
    let after = idp_stats().await;
    let mut direct = direct_traffic(&url, &keys, &sessions, in_flight).await;
    proxied.sort_unstable();
    direct.sort_unstable();

    let refreshes = after["token_requests"]["refresh_token"].as_i64().unwrap()
        - before["token_requests"]["refresh_token"].as_i64().unwrap();
    let reused = after["refresh_token_reuse"].as_i64().unwrap() - before["refresh_token_reuse"].as_i64().unwrap();
    let errors = after["token_errors"]["refresh_token"].as_i64().unwrap()
        - before["token_errors"]["refresh_token"].as_i64().unwrap();
    let report = serde_json::json!({
        "instances": 2,
        "sessions": sessions.len(),
        "seconds": secs,
        "in_flight_per_session": in_flight,
        "requests_ok": tally.ok.load(Ordering::Relaxed),
        "answers_500": tally.server_errors.load(Ordering::Relaxed),
        "answers_502_to_504": tally.unavailable.load(Ordering::Relaxed),
        "answers_other": tally.other.load(Ordering::Relaxed),
        "answers_by_status": format!("{:?}", tally.statuses.lock().unwrap()),
        "refresh_requests": refreshes,
        "refresh_errors": errors,
        "refresh_tokens_presented_twice": reused,
        "refreshes_per_session": refreshes as f64 / sessions.len() as f64,
        "proxy_p50_ms": percentile(&proxied, 0.5),
        "proxy_p99_ms": percentile(&proxied, 0.99),
        "direct_p50_ms": percentile(&direct, 0.5),
        "direct_p99_ms": percentile(&direct, 0.99),
    });
    println!("load: {report:#}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/load");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("latest.json"), format!("{report:#}\n"));

    assert_eq!(reused, 0, "a refresh token was presented twice");
    assert_eq!(errors, 0, "a refresh was refused");
    assert_eq!(tally.server_errors.load(Ordering::Relaxed), 0, "answers of 500");
    assert_eq!(tally.other.load(Ordering::Relaxed), 0, "answers other than 200");
    assert!(refreshes >= sessions.len() as i64, "every session refreshed at least once ({refreshes})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and the dev stack (ACCESS_TOKEN_TTL=3 TEST_ROUTES=1); scripts/test runs it"]
async fn an_instance_killed_mid_traffic_and_restarted_loses_no_session() {
    let _serial = SERIAL.lock().await;
    let url = fresh_schema("restart").await;
    let keys_text = KeyRing::generate_entry("restart");
    let mut instances: Vec<Instance> = PORTS.iter().map(|p| Instance::start(*p, &url, &keys_text)).collect();
    for i in &mut instances {
        i.wait_ready().await;
    }
    let sessions = sign_in_many(8).await;
    let before = idp_stats().await;
    let tally = Arc::new(Tally::default());
    let until = Instant::now() + Duration::from_secs(9);
    let load = tokio::spawn({
        let (sessions, tally) = (sessions.clone(), tally.clone());
        async move { traffic(&sessions, 2, until, tally).await }
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    instances[1].kill(); // mid-traffic, mid-refresh perhaps: its locks die with its connections
    tokio::time::sleep(Duration::from_secs(3)).await;
    instances[1] = Instance::start(PORTS[1], &url, &keys_text);
    instances[1].wait_ready().await;
    load.await.unwrap();
    let after = idp_stats().await;

    println!(
        "restart: ok {} rerouted {} unreachable {} 5xx {} other {} ({:?})",
        tally.ok.load(Ordering::Relaxed),
        tally.rerouted.load(Ordering::Relaxed),
        tally.unreachable.load(Ordering::Relaxed),
        tally.server_errors.load(Ordering::Relaxed),
        tally.other.load(Ordering::Relaxed),
        tally.statuses.lock().unwrap()
    );
    assert_eq!(after["refresh_token_reuse"], before["refresh_token_reuse"], "no refresh token presented twice");
    assert_eq!(tally.server_errors.load(Ordering::Relaxed), 0, "no 500 from the survivor");
    assert_eq!(tally.other.load(Ordering::Relaxed), 0, "no session lost (401)");
    assert!(tally.rerouted.load(Ordering::Relaxed) > 0, "traffic did meet the stopped instance");
    // Every session still works, on both instances.
    let client = reqwest::Client::new();
    for cookie in &sessions {
        for port in PORTS {
            let r = client
                .get(format!("http://127.0.0.1:{port}/api/user/profile"))
                .header("cookie", format!("oten-session={cookie}"))
                .header(CSRF_HEADER, "1")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }
}
