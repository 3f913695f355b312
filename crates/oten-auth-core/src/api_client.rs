//! The authenticated API client: Bearer for allow-listed origins, one retry after a 401, one redirect to sign-in.

use crate::end_reason::EndReason;
use crate::error::AuthError;
use crate::manager::TokenManager;
use crate::metrics::{endpoint_label, MetricEvent};
use crate::navigator::{is_auth_route, login_url, Navigator};
use crate::origin::OriginAllowList;
use crate::refresh_source::CSRF_HEADER;
use crate::secret::AccessToken;
use crate::step_up::StepUpChallenge;
use crate::token_set::{BEARER, DPOP};
use crate::transport::{HttpRequest, HttpResponse, Method, TransportError};
use serde::{de::DeserializeOwned, Serialize};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Sees every request before it leaves and every answer after it arrives.
///
/// A hook may add headers or observe; it cannot send, retry or skip: the client alone decides the single
/// retry. The `Authorization` header is set after the hooks ran, only when the URL that leaves (after any
/// rewrite by a hook) has an allow-listed origin; hooks never see the token.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{ApiHook, HttpRequest};
/// struct RequestId;
/// impl ApiHook for RequestId {
///     fn on_request(&self, request: &mut HttpRequest) {
///         request.set_header("X-Request-Id", "42");
///     }
/// }
/// ```
pub trait ApiHook {
    /// Called before each attempt (also before the retry).
    fn on_request(&self, _request: &mut HttpRequest) {}
    /// Called after each answer (also the 401 that triggers the retry).
    fn on_response(&self, _request: &HttpRequest, _response: &HttpResponse) {}
}

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No valid token could be had (not signed in, session ended, or a passing refresh failure).
    #[error(transparent)]
    Auth(AuthError),
    /// The API refused the token even after a refresh: the session was ended and sign-in started.
    #[error("the API refused your session; please sign in again")]
    Unauthorized,
    /// The API asks for a more recent or stronger sign-in (RFC 9470). The person is sent (once per page) to the
    /// sign-in route with the challenge, which asks them to sign in again and comes back; the session is kept until
    /// they agree.
    #[error("this needs {0}; sign in again to continue")]
    StepUp(StepUpChallenge),
    /// The API still asks for a stronger sign-in although the current one answers its challenge, or was made
    /// moments ago: asking again would loop, so nothing more happens.
    #[error("the API still asks for {0}, although you just signed in; please try again later")]
    StepUpNotAccepted(StepUpChallenge),
    /// The request got no answer.
    #[error(transparent)]
    Transport(TransportError),
    /// A JSON helper got a non-2xx answer.
    #[error("the API answered HTTP {status}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The body, for display as text.
        body: String,
    },
    /// A JSON helper could not read or write JSON.
    #[error("unexpected data from the API: {0}")]
    Json(String),
}

impl ApiError {
    /// Whether the person is being sent to sign in.
    pub fn requires_reauth(&self) -> bool {
        matches!(self, ApiError::Unauthorized | ApiError::StepUp(_))
            || matches!(self, ApiError::Auth(e) if e.requires_reauth())
    }
}

/// The one authenticated fetch client of an app.
///
/// - asks the [`TokenManager`] for a valid token before each request and adds `Authorization: Bearer …` only
///   when the URL's origin is allow-listed;
/// - after a 401 from an allow-listed API: one refresh through the shared single flight, then exactly one retry
///   of the same request (method, body, headers); a 401 whose final URL (after redirects) is on another origin is
///   returned as it is, since it says nothing about the token;
/// - a second 401 or a refresh that ends the session: tokens cleared (and revoked, [`EndReason::ApiRefused`]),
///   and the person sent to
///   `/login?return_to=<current path>`, at most once however many requests fail together, and never from
///   `/login` or `/callback`;
/// - a 401 that asks for a stronger sign-in (`WWW-Authenticate: Bearer error="insufficient_user_authentication"`,
///   RFC 9470) is not a verdict on the token: no refresh, no retry, the session is kept; the person is sent to
///   `/login?return_to=<current path>&step_up=1&max_age=…&acr_values=…`, which asks them to sign in again and comes
///   back, unless the current sign-in already answers the challenge or was made within a minute (then
///   [`ApiError::StepUpNotAccepted`], not a loop);
/// - network errors and 5xx reach the caller; they neither clear tokens nor redirect;
/// - every answer to a request that carried a token is counted by endpoint and status.
///
/// Cheap to clone (shared).
///
/// ## Usage
///
/// ```
/// use std::rc::Rc;
/// use oten_auth_core::*;
/// use oten_auth_core::testing::{FakeClock, FakeTransport};
/// # struct Nav;
/// # impl Navigator for Nav {
/// #     fn current_path(&self) -> String { "/".into() }
/// #     fn go_to(&self, _: &str) {}
/// #     fn post_form(&self, _: &str, _: &[(&str, &str)]) {}
/// # }
/// let transport = Rc::new(FakeTransport::with_handler(|_| Ok(HttpResponse::new(200, r#"{"name":"Alice"}"#))));
/// let manager = TokenManager::new(ManagerConfig::new("https://idp.test/token", "spa"),
///     Rc::new(FakeClock::new(0)), Rc::new(MemoryStore::default()), transport.clone(), Metrics::default());
/// manager.sign_in(TokenSet::parse_token_response(r#"{"access_token":"at"}"#, 0, None).unwrap()).unwrap();
/// let client = ApiClient::new(manager, OriginAllowList::new(["https://api.test"]).unwrap(), Rc::new(Nav));
/// let me: serde_json::Value = futures::executor::block_on(client.get_json("https://api.test/me")).unwrap();
/// assert_eq!(me["name"], "Alice");
/// assert_eq!(transport.requests()[0].header_value("authorization"), Some("Bearer at"));
/// ```
#[derive(Clone)]
pub struct ApiClient {
    manager: TokenManager,
    allow: OriginAllowList,
    backend: Option<OriginAllowList>,
    navigator: Rc<dyn Navigator>,
    hooks: Rc<RefCell<Vec<Rc<dyn ApiHook>>>>,
    redirected: Rc<Cell<bool>>,
}

impl ApiClient {
    /// A client over the manager's transport.
    pub fn new(manager: TokenManager, allow: OriginAllowList, navigator: Rc<dyn Navigator>) -> Self {
        Self { manager, allow, navigator, backend: None, hooks: Rc::default(), redirected: Rc::default() }
    }

    /// The same client for a session a backend-for-frontend holds (`bff` mode): requests to `backend` (and to
    /// relative paths, the app's own origin) carry the anti-CSRF header and the session cookie, never a token; a
    /// 401 from there ends the session (the backend has already renewed its token and retried once).
    ///
    /// ```
    /// # use std::rc::Rc;
    /// # use oten_auth_core::{ApiClient, OriginAllowList, TokenManager};
    /// # fn demo(manager: TokenManager, navigator: Rc<dyn oten_auth_core::Navigator>) {
    /// let backend = OriginAllowList::new(["https://app.example"]).unwrap();
    /// let client = ApiClient::new(manager, OriginAllowList::default(), navigator).with_cookie_session(backend);
    /// # let _ = client; }
    /// ```
    #[must_use]
    pub fn with_cookie_session(mut self, backend: OriginAllowList) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Whether `url` goes to the backend that holds the session (cookie mode only): an absolute URL on its origin,
    /// or a plain path (`/api/…`). A path a browser could read as another host (`//`, `/\`, or either once tabs,
    /// newlines or other control characters are stripped) is not one.
    fn to_backend(&self, url: &str) -> bool {
        // Checked in place (every API call passes here): spaces skipped, any control character refused.
        let mut chars = url.chars().filter(|c| *c != ' ');
        let relative = !url.chars().any(|c| c.is_ascii_control())
            && chars.next() == Some('/')
            && !matches!(chars.next(), Some('/' | '\\'));
        self.backend.as_ref().is_some_and(|b| relative || b.allows(url))
    }

    /// A request to the backend-for-frontend: the cookie and the anti-CSRF header; a 401 ends the session.
    async fn send_to_backend(&self, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        let mut attempt = request;
        attempt.remove_header("Authorization");
        for hook in self.hooks() {
            hook.on_request(&mut attempt);
        }
        attempt.remove_header("Authorization");
        if !self.to_backend(&attempt.url) {
            // Not the backend (or a hook moved it elsewhere): a plain request, with nothing of the session.
            attempt.with_cookies = false;
            return self.manager.transport().send(attempt).await.map_err(ApiError::Transport);
        }
        attempt.set_header(CSRF_HEADER, "1");
        attempt.with_cookies = true;
        let response = self.manager.transport().send(attempt.clone()).await.map_err(ApiError::Transport)?;
        for hook in self.hooks() {
            hook.on_response(&attempt, &response);
        }
        let metrics = self.manager.metrics();
        metrics.record(MetricEvent::TokenUsed { endpoint: endpoint_label(&attempt.url), status: response.status });
        // A 401 is the backend's verdict only when the backend gave it (not a page it redirected to).
        let from_the_backend = response.url.as_deref().is_none_or(|url| self.to_backend(url));
        if response.status != 401 || !from_the_backend {
            return Ok(response);
        }
        if let Some(challenge) =
            response.header_value("WWW-Authenticate").and_then(StepUpChallenge::from_www_authenticate)
        {
            return Err(self.step_up(challenge));
        }
        self.manager.end_session(EndReason::ApiRefused);
        self.send_to_login();
        Err(ApiError::Unauthorized)
    }

    /// Adds a hook that sees every later request and answer.
    pub fn add_hook(&self, hook: Rc<dyn ApiHook>) {
        self.hooks.borrow_mut().push(hook);
    }

    /// The token manager.
    pub fn manager(&self) -> &TokenManager {
        &self.manager
    }

    /// Allows one more redirect to sign-in (after a new navigation or sign-in).
    pub fn reset_redirect_guard(&self) {
        self.redirected.set(false);
    }

    /// Sends a request with the rules above and returns the answer, whatever its status.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        if self.backend.is_some() {
            return self.send_to_backend(request).await;
        }
        let mut retried = false;
        loop {
            let mut attempt = request.clone();
            attempt.remove_header("Authorization");
            for hook in self.hooks() {
                hook.on_request(&mut attempt);
            }
            // Decided on the URL that actually leaves, after the hooks: a hook that rewrites the URL can never
            // carry the token to another origin.
            let authorized = self.allow.allows(&attempt.url);
            let token = if authorized {
                let token = self.manager.get_valid_access_token().await.map_err(|e| self.auth_failure(e))?;
                let scheme = if self.manager.is_dpop_bound() { DPOP } else { BEARER };
                attempt.set_header("Authorization", format!("{scheme} {}", token.expose()));
                Some(token)
            } else {
                attempt.remove_header("Authorization");
                None
            };
            let response = self.manager.transport().send(attempt.clone()).await.map_err(ApiError::Transport)?;
            attempt.remove_header("Authorization");
            for hook in self.hooks() {
                hook.on_response(&attempt, &response);
            }
            let Some(token) = token else { return Ok(response) };
            let metrics = self.manager.metrics();
            metrics.record(MetricEvent::TokenUsed { endpoint: endpoint_label(&attempt.url), status: response.status });
            // A 401 is a verdict on the token only when it comes from an allow-listed API: after a redirect to
            // another origin (which never got the token), it says nothing about the session.
            let from_the_api = response.url.as_deref().is_none_or(|url| self.allow.allows(url));
            if response.status != 401 || !from_the_api {
                return Ok(response);
            }
            if let Some(challenge) =
                response.header_value("WWW-Authenticate").and_then(StepUpChallenge::from_www_authenticate)
            {
                return Err(self.step_up(challenge));
            }
            if retried {
                self.manager.end_session(EndReason::ApiRefused);
                self.send_to_login();
                return Err(ApiError::Unauthorized);
            }
            retried = true;
            self.refresh_after(&token).await?;
        }
    }

    async fn refresh_after(&self, rejected: &AccessToken) -> Result<(), ApiError> {
        self.manager.refresh_after_rejection(rejected).await.map(|_| ()).map_err(|e| self.auth_failure(e))
    }

    fn auth_failure(&self, error: AuthError) -> ApiError {
        if error.requires_reauth() {
            self.send_to_login();
        }
        ApiError::Auth(error)
    }

    /// Sends the person to a step-up sign-in, unless their sign-in already answers the challenge.
    fn step_up(&self, challenge: StepUpChallenge) -> ApiError {
        let now = self.manager.clock().now_ms();
        let user = self.manager.tokens().and_then(|t| t.user);
        if user.is_some_and(|u| challenge.is_answered_by(&u, now)) {
            return ApiError::StepUpNotAccepted(challenge);
        }
        let path = self.navigator.current_path();
        if !is_auth_route(&path) && !self.redirected.replace(true) {
            self.navigator.go_to(&challenge.login_url(&path));
        }
        ApiError::StepUp(challenge)
    }

    fn send_to_login(&self) {
        let path = self.navigator.current_path();
        if is_auth_route(&path) || self.redirected.replace(true) {
            return;
        }
        self.navigator.go_to(&login_url(&path));
    }

    fn hooks(&self) -> Vec<Rc<dyn ApiHook>> {
        self.hooks.borrow().clone()
    }

    /// `GET`.
    pub async fn get(&self, url: &str) -> Result<HttpResponse, ApiError> {
        self.send(HttpRequest::new(Method::Get, url)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, url: &str) -> Result<HttpResponse, ApiError> {
        self.send(HttpRequest::new(Method::Delete, url)).await
    }

    /// `POST` with a JSON body.
    pub async fn post<B: Serialize + ?Sized>(&self, url: &str, body: &B) -> Result<HttpResponse, ApiError> {
        self.send(json_request(Method::Post, url, body)?).await
    }

    /// `PUT` with a JSON body.
    pub async fn put<B: Serialize + ?Sized>(&self, url: &str, body: &B) -> Result<HttpResponse, ApiError> {
        self.send(json_request(Method::Put, url, body)?).await
    }

    /// `GET`, then the 2xx body as JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, ApiError> {
        read_json(self.get(url).await?)
    }

    /// `PUT` a JSON body, then the 2xx body as JSON.
    pub async fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        read_json(self.put(url, body).await?)
    }

    /// `POST` a JSON body, then the 2xx body as JSON.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        read_json(self.post(url, body).await?)
    }
}

fn json_request<B: Serialize + ?Sized>(method: Method, url: &str, body: &B) -> Result<HttpRequest, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Json(e.to_string()))?;
    Ok(HttpRequest::new(method, url).header("Content-Type", "application/json").body(text))
}

fn read_json<T: DeserializeOwned>(response: HttpResponse) -> Result<T, ApiError> {
    if !response.is_success() {
        return Err(ApiError::Status { status: response.status, body: response.body });
    }
    serde_json::from_str(&response.body).map_err(|e| ApiError::Json(e.to_string()))
}
