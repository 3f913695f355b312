//! A test kit for apps (feature `testing`): render protected pages in an app's own `wasm-bindgen-test`, with no
//! identity provider and no network.
//!
//! [`provide_mock_auth`] provides a signed-in session that serves the same signals and the same API client as
//! [`crate::provide_auth`]: `use_auth()`, `use_user()`, `<RequireAuth>` and the API helpers work unchanged. API
//! requests are answered by a closure ([`MockAuth::answer`]); what the app sent, and where the library sent the
//! browser (a sign-in, a sign-out), can be read back.
//!
//! ## Usage
//!
//! ```no_run
//! use leptos::prelude::*;
//! use oten_auth::core::{id_token::IdTokenClaims, HttpResponse};
//! use oten_auth::testing::{provide_mock_auth, MOCK_API};
//!
//! # #[component] fn ProfilePage() -> impl IntoView { () }
//! // In a #[wasm_bindgen_test], inside the component mounted for the test:
//! # fn demo() -> impl IntoView {
//! let mock = provide_mock_auth(IdTokenClaims::new("u1").with_name("Alice"), &["openid", "profile"])
//!     // The API's origin is allow-listed (MOCK_API, or the origins given to provide_mock_auth_with), so requests
//!     // to it carry the Bearer token as in the app.
//!     .app_settings(serde_json::json!({ "api_base_url": MOCK_API }))
//!     .answer(|request| match (request.url.strip_prefix(MOCK_API), request.header_value("authorization")) {
//!         (Some("/api/user/profile"), Some(_)) => HttpResponse::new(200, r#"{"name":"Alice","email":"a@x.test"}"#),
//!         _ => HttpResponse::new(404, ""),
//!     });
//! view! { <leptos_router::components::Router><ProfilePage/></leptos_router::components::Router> }
//! # }
//! ```
//!
//! Cargo.toml of the app:
//!
//! ```toml
//! [dev-dependencies]
//! oten-auth = { version = "0.1", features = ["testing"] }
//! ```

use crate::auth::{Auth, AuthParts};
use crate::browser_clock::BrowserClock;
use crate::context::provide_ready;
use crate::use_auth::UseAuth;
use futures::future::LocalBoxFuture;
use leptos::prelude::*;
use oten_auth_core::id_token::IdTokenClaims;
use oten_auth_core::{
    AuthConfig, HttpRequest, HttpResponse, MemoryPendingStore, MemoryStore, Metrics, Navigator, OriginAllowList,
    ProviderMetadata, TokenSet, Transport, TransportError,
};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// The access token the mock session holds (what a closure sees in `Authorization: Bearer …`).
pub const MOCK_ACCESS_TOKEN: &str = "mock-access-token";
/// The mock identity provider's origin: requests to it (revocation) are answered by the kit, never by the closure.
pub const MOCK_IDP: &str = "https://idp.mock.test";
/// The API origin allow-listed by default (the Bearer token goes only to allow-listed origins).
pub const MOCK_API: &str = "https://api.mock.test";

type Answer = Box<dyn Fn(&HttpRequest) -> HttpResponse>;

#[derive(Default)]
struct Shared {
    answer: RefCell<Option<Answer>>,
    requests: RefCell<Vec<HttpRequest>>,
    visits: RefCell<Vec<String>>,
    path: RefCell<String>,
}

struct MockTransport(Rc<Shared>);

impl Transport for MockTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, TransportError>> {
        let response = if request.url.starts_with(MOCK_IDP) {
            // Revocation succeeds; a refresh is refused (the mock session has no refresh token anyway).
            match request.url.ends_with("/revoke") {
                true => HttpResponse::new(200, ""),
                false => HttpResponse::new(400, r#"{"error":"invalid_grant"}"#),
            }
        } else {
            self.0.requests.borrow_mut().push(request.clone());
            match &*self.0.answer.borrow() {
                Some(answer) => answer(&request),
                None => HttpResponse::new(
                    501,
                    format!(
                        "MockAuth has no answer for {} {}: give one with MockAuth::answer",
                        request.method.as_str(),
                        request.url
                    ),
                ),
            }
        };
        Box::pin(async move { Ok(response) })
    }
}

struct MockNavigator(Rc<Shared>);

impl Navigator for MockNavigator {
    fn current_path(&self) -> String {
        self.0.path.borrow().clone()
    }
    fn go_to(&self, url: &str) {
        self.0.visits.borrow_mut().push(url.to_owned());
    }
    fn post_form(&self, action: &str, _fields: &[(&str, &str)]) {
        self.0.visits.borrow_mut().push(format!("POST {action}"));
    }
}

/// A mock session, provided to the components below: see the [module](self) docs. Cheap to clone.
#[derive(Clone)]
#[must_use = "the mock answers API requests only once given an answer"]
pub struct MockAuth {
    handle: UseAuth,
    auth: Auth,
    shared: Rc<Shared>,
}

/// Provides a signed-in session for `user` with the granted `scopes`, ready at once. Call it where the app would
/// call `provide_auth` (inside the test's mounted component); the Bearer token goes to [`MOCK_API`] unless
/// [`provide_mock_auth_with`] allow-lists other origins.
pub fn provide_mock_auth(user: IdTokenClaims, scopes: &[&str]) -> MockAuth {
    provide_mock_auth_with(Some(user), scopes, &[MOCK_API])
}

/// Provides a session with no one signed in (`<RequireAuth>` then sends to `/login`).
pub fn provide_mock_signed_out() -> MockAuth {
    provide_mock_auth_with(None, &[], &[MOCK_API])
}

/// The general form: `user` (or no one), the granted `scopes`, and the API origins that get the Bearer token.
///
/// # Panics
///
/// When an origin is not a valid `https://` (or loopback `http://`) origin: a mistake in the test.
pub fn provide_mock_auth_with(user: Option<IdTokenClaims>, scopes: &[&str], api_origins: &[&str]) -> MockAuth {
    let shared = Rc::new(Shared { path: RefCell::new("/".into()), ..Shared::default() });
    let mut config = AuthConfig::from_json(&format!(
        r#"{{"issuer":"{MOCK_IDP}","client_id":"mock-client","redirect_uri":"https://app.mock.test/callback"}}"#
    ))
    .expect("the mock configuration is valid");
    config.api_origins = OriginAllowList::new(api_origins.iter().copied()).expect("valid API origins for the mock");
    config.post_logout_redirect_uri = "https://app.mock.test/signed-out".into();
    let metadata = ProviderMetadata {
        issuer: MOCK_IDP.into(),
        authorization_endpoint: format!("{MOCK_IDP}/authorize"),
        token_endpoint: format!("{MOCK_IDP}/token"),
        jwks_uri: format!("{MOCK_IDP}/jwks"),
        revocation_endpoint: Some(format!("{MOCK_IDP}/revoke")),
        end_session_endpoint: Some(format!("{MOCK_IDP}/logout")),
        pushed_authorization_request_endpoint: None,
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        authorization_response_iss_parameter_supported: true,
        dpop_signing_alg_values_supported: None,
    };
    let parts = AuthParts {
        store: Rc::new(MemoryStore::default()),
        transport: Rc::new(MockTransport(shared.clone())),
        clock: Rc::new(BrowserClock),
        navigator: Rc::new(MockNavigator(shared.clone())),
        metrics: Metrics::default(),
        pending: Rc::new(MemoryPendingStore::default()),
        ..AuthParts::default()
    };
    // The loop guard lives in the test page's sessionStorage: each mock starts without an earlier test's state.
    let _ = crate::session_store::remove_item(crate::reauth_store::REAUTH_KEY);
    let auth = Auth::from_metadata(config, metadata, parts);
    if let Some(user) = user {
        let now = js_sys::Date::now() as i64;
        let body = serde_json::json!({
            "access_token": MOCK_ACCESS_TOKEN,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": scopes.join(" "),
        });
        let tokens = TokenSet::parse_token_response(&body.to_string(), now, None).expect("a valid mock token answer");
        // A memory store cannot fail.
        let _ = auth.manager().sign_in(tokens.with_user(user));
    }
    let handle = provide_ready(auth.clone(), Map::new());
    MockAuth { handle, auth, shared }
}

impl MockAuth {
    /// The handle the components below get from `use_auth()`.
    pub fn handle(&self) -> UseAuth {
        self.handle
    }

    /// Answers every API request (anything not sent to the mock IdP) with `answer`. Without one, requests get
    /// HTTP 501 with a message saying so.
    pub fn answer(self, answer: impl Fn(&HttpRequest) -> HttpResponse + 'static) -> Self {
        *self.shared.answer.borrow_mut() = Some(Box::new(answer));
        self
    }

    /// The app's own settings (the `app` section of `config.json`), as `UseAuth::app_settings` reads them.
    ///
    /// # Panics
    ///
    /// When `settings` is not a JSON object: a mistake in the test.
    pub fn app_settings(self, settings: Value) -> Self {
        let Value::Object(map) = settings else { panic!("app settings must be a JSON object") };
        self.handle.app.set_value(map);
        self
    }

    /// The path the library believes the browser is on (default `/`): where a sign-in started by the API client
    /// comes back to.
    pub fn at_path(self, path: &str) -> Self {
        *self.shared.path.borrow_mut() = path.to_owned();
        self
    }

    /// The API requests sent so far, in order (the `Authorization` header included).
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.shared.requests.borrow().clone()
    }

    /// Where the library sent the browser so far, outside the router (an IdP's authorization URL for a sign-in, its
    /// end-session URL for a sign-out, `/login?…` after an API refused the session or asked for a step-up), in
    /// order. `<RequireAuth>` moves within the router, as in the app: read the router's location for that.
    pub fn visits(&self) -> Vec<String> {
        self.shared.visits.borrow().clone()
    }

    /// Ends the session as another tab's sign-out would: the status becomes signed out, `last_error` says why,
    /// `/login` explains it, and `<RequireAuth>` sends there.
    pub fn end_session(&self) {
        self.auth.manager().end_session(oten_auth_core::EndReason::SignedOutElsewhere);
    }

    /// The session behind the handle (its token manager, API client, configuration).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }
}

/// Waits (at most about a second) until `element`'s text contains `needle`, and returns the text: pages over a mock
/// session render in a few ticks, and a test should neither sleep nor poll without end.
///
/// # Panics
///
/// When the text never appears, with what the element shows instead.
pub async fn text_eventually(element: &web_sys::HtmlElement, needle: &str) -> String {
    for _ in 0..200 {
        let text = element.text_content().unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        gloo_timers::future::TimeoutFuture::new(5).await;
    }
    panic!("{needle:?} never appeared; the page shows {:?}", element.text_content());
}
