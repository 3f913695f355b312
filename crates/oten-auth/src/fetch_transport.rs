//! The browser's `fetch`, through gloo-net, with a timeout.

use futures::future::{FutureExt, LocalBoxFuture};
use gloo_net::http::{Request, RequestBuilder};
use oten_auth_core::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use web_sys::{AbortController, RequestCredentials};

/// Default time a request may take before it is aborted.
pub const DEFAULT_TIMEOUT_MS: u32 = 15_000;

/// Sends [`HttpRequest`]s with `fetch`.
///
/// Cookies are never sent (`credentials: "omit"`): tokens travel only in the `Authorization` header the API
/// client sets. A request that takes longer than the timeout is aborted and reported as
/// [`TransportError::Timeout`]; a failed connection (offline, refused, blocked by CORS) as
/// [`TransportError::Network`].
///
/// ## Usage
///
/// ```no_run
/// # async fn demo() {
/// use oten_auth::FetchTransport;
/// use oten_auth_core::{HttpRequest, Method, Transport};
/// let answer = FetchTransport::default().send(HttpRequest::new(Method::Get, "http://127.0.0.1:9001/api/user/profile")).await;
/// # let _ = answer;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FetchTransport {
    timeout_ms: u32,
}

impl Default for FetchTransport {
    fn default() -> Self {
        Self { timeout_ms: DEFAULT_TIMEOUT_MS }
    }
}

impl FetchTransport {
    /// A transport with another timeout.
    pub fn with_timeout_ms(timeout_ms: u32) -> Self {
        Self { timeout_ms }
    }
}

fn builder(method: Method, url: &str) -> RequestBuilder {
    match method {
        Method::Get => Request::get(url),
        Method::Post => Request::post(url),
        Method::Put => Request::put(url),
        Method::Patch => Request::patch(url),
        Method::Delete => Request::delete(url),
    }
}

async fn send(request: HttpRequest, timeout_ms: u32) -> Result<HttpResponse, TransportError> {
    let controller = AbortController::new().map_err(|_| TransportError::Network("fetch is unavailable".into()))?;
    let signal = controller.signal();
    let mut builder =
        builder(request.method, &request.url).credentials(RequestCredentials::Omit).abort_signal(Some(&signal));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let built = match request.body {
        Some(body) => builder.body(body),
        None => builder.build(),
    }
    .map_err(|e| TransportError::Network(e.to_string()))?;
    let timer = gloo_timers::callback::Timeout::new(timeout_ms, move || controller.abort());
    let outcome = async {
        let response = built.send().await?;
        let body = response.text().await?;
        Ok::<_, gloo_net::Error>((response, body))
    }
    .await;
    drop(timer);
    let (response, body) = outcome.map_err(|e| {
        if signal.aborted() {
            TransportError::Timeout
        } else {
            TransportError::Network(e.to_string())
        }
    })?;
    Ok(HttpResponse {
        status: response.status(),
        headers: response.headers().entries().collect(),
        body,
        url: Some(response.url()).filter(|u| !u.is_empty()),
    })
}

impl Transport for FetchTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, TransportError>> {
        send(request, self.timeout_ms).boxed_local()
    }
}
