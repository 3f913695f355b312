//! The browser's `fetch`, with a timeout.

use futures::future::{FutureExt, LocalBoxFuture};
use oten_auth_core::{HttpRequest, HttpResponse, Transport, TransportError};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestCredentials, RequestRedirect, ResponseType};

/// Sends [`HttpRequest`]s with `fetch`.
///
/// Cookies are never sent (`credentials: "omit"`): tokens travel only in the `Authorization` header the API
/// client sets. The one exception is a call to the app's own backend in the `token-mediating` and `bff` modes,
/// marked [`HttpRequest::with_cookies`]: it goes with `credentials: "same-origin"`, so the session cookie reaches
/// the app's origin and nothing else. A request marked [`HttpRequest::no_redirects`] (token and revocation requests) is sent with
/// `redirect: "manual"` and a redirect answer becomes [`TransportError::Redirected`]; one marked
/// [`HttpRequest::keep_alive`] outlives the page (`keepalive`). A request that takes longer than the timeout is aborted and reported as
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
        Self { timeout_ms: oten_auth_core::DEFAULT_REQUEST_TIMEOUT_MS }
    }
}

impl FetchTransport {
    /// A transport with another timeout.
    pub fn with_timeout_ms(timeout_ms: u32) -> Self {
        Self { timeout_ms }
    }
}

fn network(message: impl Into<String>) -> TransportError {
    TransportError::Network(message.into())
}

fn js_message(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "the request failed".into())
}

/// The `fetch` request for `request`: cookies omitted (same-origin only for backend calls), redirects followed or refused, `keepalive` when asked.
fn build(request: &HttpRequest, signal: &web_sys::AbortSignal) -> Result<web_sys::Request, TransportError> {
    let init = web_sys::RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_credentials(if request.with_cookies { RequestCredentials::SameOrigin } else { RequestCredentials::Omit });
    init.set_redirect(if request.follow_redirects { RequestRedirect::Follow } else { RequestRedirect::Manual });
    init.set_signal(Some(signal));
    if request.keepalive {
        // Not in web-sys' RequestInit yet: set on the init dictionary itself.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &true.into());
    }
    let headers = web_sys::Headers::new().map_err(|e| network(js_message(&e)))?;
    for (name, value) in &request.headers {
        headers.append(name, value).map_err(|e| network(js_message(&e)))?;
    }
    init.set_headers(&headers);
    if let Some(body) = &request.body {
        init.set_body(&JsValue::from_str(body));
    }
    web_sys::Request::new_with_str_and_init(&request.url, &init).map_err(|e| network(js_message(&e)))
}

/// How much later than due a timer may fire before the page is taken to have been frozen or asleep meanwhile (ms).
const LATE_TIMER_MS: f64 = 1_000.0;
/// How long an answer that arrived while the page was frozen is given to be handled before the request is aborted.
const THAW_GRACE_MS: u32 = 500;

fn monotonic_now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Aborts the request after `timeout_ms`. A timer that fires much later than due means the page was frozen (or the
/// machine slept): the answer may be sitting in a task queued behind the timer, and aborting first would turn a
/// rotation the provider made into a "timeout" — and a later presentation of the consumed refresh token. So the abort
/// then waits a moment more. Dropping the returned timer cancels the abort.
fn abort_after(timeout_ms: u32, controller: AbortController) -> Rc<RefCell<Option<gloo_timers::callback::Timeout>>> {
    let slot: Rc<RefCell<Option<gloo_timers::callback::Timeout>>> = Rc::default();
    let due = monotonic_now() + f64::from(timeout_ms);
    let again = slot.clone();
    let first = gloo_timers::callback::Timeout::new(timeout_ms, move || {
        if monotonic_now() - due > LATE_TIMER_MS {
            let grace = gloo_timers::callback::Timeout::new(THAW_GRACE_MS, move || controller.abort());
            *again.borrow_mut() = Some(grace);
        } else {
            controller.abort();
        }
    });
    *slot.borrow_mut() = Some(first);
    slot
}

/// The largest answer read (bytes as declared, characters as read): a hostile or broken server cannot fill the
/// page's memory. The app's and the provider's answers are a few KiB.
pub(crate) const MAX_ANSWER_BYTES: u32 = 10 * 1024 * 1024;

fn too_large() -> TransportError {
    network("the answer is larger than 10 MiB")
}

async fn send(request: HttpRequest, timeout_ms: u32) -> Result<HttpResponse, TransportError> {
    let window = web_sys::window().ok_or_else(|| network("fetch is unavailable"))?;
    let controller = AbortController::new().map_err(|_| network("fetch is unavailable"))?;
    let signal = controller.signal();
    let built = build(&request, &signal)?;
    let timer = abort_after(timeout_ms, controller.clone());
    let outcome = async {
        let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&built)).await?.dyn_into()?;
        if response.type_() == ResponseType::Opaqueredirect {
            return Ok(Ok((response, None)));
        }
        // A declared size over the limit is not downloaded; an undeclared one is measured before it enters wasm.
        let declared =
            response.headers().get("content-length").ok().flatten().and_then(|n| n.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > u64::from(MAX_ANSWER_BYTES)) {
            controller.abort();
            return Ok(Err(too_large()));
        }
        let text: js_sys::JsString = JsFuture::from(response.text()?).await?.dyn_into()?;
        if text.length() > MAX_ANSWER_BYTES {
            return Ok(Err(too_large()));
        }
        Ok::<_, JsValue>(Ok((response, Some(String::from(text)))))
    }
    .await;
    timer.borrow_mut().take();
    let (response, body) =
        outcome.map_err(|e| if signal.aborted() { TransportError::Timeout } else { network(js_message(&e)) })??;
    // `redirect: "manual"` turns a redirect into an opaque answer: refused, never followed.
    let Some(body) = body else { return Err(TransportError::Redirected) };
    let headers = js_sys::try_iter(&response.headers())
        .ok()
        .flatten()
        .map(|entries| {
            entries
                .filter_map(|entry| {
                    let pair: js_sys::Array = entry.ok()?.dyn_into().ok()?;
                    Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(HttpResponse { status: response.status(), headers, body, url: Some(response.url()).filter(|u| !u.is_empty()) })
}

impl Transport for FetchTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, TransportError>> {
        send(request, self.timeout_ms).boxed_local()
    }
}
