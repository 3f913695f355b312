//! Shared helpers for the browser tests that talk to the local dev stack (started by scripts/test with
//! `TEST_ROUTES=1` and a short `ACCESS_TOKEN_TTL`).

#![allow(dead_code)]

use oten_auth::{Auth, AuthParts, BrowserClock, FetchTransport, SessionStorageStore};
use oten_auth_core::{AuthConfig, Clock, HttpRequest, Method, Metrics, Navigator, TokenSet, Transport};
use std::cell::RefCell;
use std::rc::Rc;

pub const IDP: &str = "http://127.0.0.1:9000";
pub const API: &str = "http://127.0.0.1:9001";
pub const ECHO: &str = "http://127.0.0.1:9002";

/// A submitted form: its action and fields.
pub type Form = (String, Vec<(String, String)>);

/// A navigator that records where it was sent instead of leaving the test page.
#[derive(Default)]
pub struct RecordingNavigator {
    pub visits: RefCell<Vec<String>>,
    /// Forms "submitted": action and fields.
    pub forms: RefCell<Vec<Form>>,
}

impl Navigator for RecordingNavigator {
    fn current_path(&self) -> String {
        "/profile".into()
    }
    fn go_to(&self, url: &str) {
        self.visits.borrow_mut().push(url.to_owned());
    }
    fn post_form(&self, action: &str, fields: &[(&str, &str)]) {
        let fields = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.forms.borrow_mut().push((action.to_owned(), fields));
    }
}

pub fn config() -> AuthConfig {
    AuthConfig::from_json(&format!(
        r#"{{"issuer":"{IDP}","client_id":"spa-dev","api_origins":["{API}"],"redirect_uri":"http://127.0.0.1:8099/callback"}}"#
    ))
    .unwrap()
}

/// A transport that counts what it sends, over `fetch`.
#[derive(Default)]
pub struct CountingTransport {
    pub sent: std::cell::Cell<u32>,
}

impl Transport for CountingTransport {
    fn send(
        &self,
        request: HttpRequest,
    ) -> futures::future::LocalBoxFuture<'static, Result<oten_auth_core::HttpResponse, oten_auth_core::TransportError>>
    {
        self.sent.set(self.sent.get() + 1);
        FetchTransport::default().send(request)
    }
}

/// An `Auth` over the real IdP with the given parts (a recording navigator is added).
pub async fn connect_with(parts: AuthParts) -> (Auth, Rc<RecordingNavigator>) {
    let nav = Rc::new(RecordingNavigator::default());
    let parts = AuthParts { navigator: nav.clone(), ..parts };
    (Auth::connect_with(config(), parts).await.expect("discovery of the local IdP"), nav)
}

/// An `Auth` over the real IdP with its own sessionStorage key and a recording navigator.
pub async fn connect(key: &str) -> (Auth, Rc<RecordingNavigator>) {
    let nav = Rc::new(RecordingNavigator::default());
    let store = SessionStorageStore::with_key(key);
    oten_auth_core::TokenStore::clear(&store).unwrap();
    let parts = AuthParts {
        store: Rc::new(store),
        transport: Rc::new(FetchTransport::default()),
        clock: Rc::new(BrowserClock),
        navigator: nav.clone(),
        metrics: Metrics::default(),
        ..AuthParts::default()
    };
    (Auth::connect_with(config(), parts).await.expect("discovery of the local IdP"), nav)
}

async fn post(url: &str) -> String {
    let answer =
        FetchTransport::default().send(HttpRequest::new(Method::Post, url)).await.expect("dev stack reachable");
    assert!(answer.is_success(), "{url}: HTTP {}", answer.status);
    answer.body
}

/// Real tokens for `user`, from the provider's own code flow (test route), received now.
pub async fn real_tokens(user: &str) -> TokenSet {
    let body = post(&format!("{IDP}/test/session?user={user}")).await;
    TokenSet::parse_token_response(&body, BrowserClock.now_ms(), None).expect("a usable token response")
}

/// The IdP's counters.
pub async fn stats() -> serde_json::Value {
    let answer =
        FetchTransport::default().send(HttpRequest::new(Method::Get, format!("{IDP}/test/stats"))).await.unwrap();
    serde_json::from_str(&answer.body).unwrap()
}

pub async fn reset_stats() {
    post(&format!("{IDP}/test/stats/reset")).await;
}

pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}
