//! The injected HTTP transport: a request goes out, status, headers and body come back.

use futures::future::LocalBoxFuture;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name on the wire.
    ///
    /// ```
    /// assert_eq!(oten_auth_core::Method::Put.as_str(), "PUT");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request, built by a pure function and sent by a [`Transport`].
///
/// ```
/// use oten_auth_core::{HttpRequest, Method};
/// let r = HttpRequest::new(Method::Get, "https://api.example.test/me").header("Accept", "application/json");
/// assert_eq!(r.header_value("accept"), Some("application/json"));
/// ```
///
/// `Debug` shows the method, URL and header names only: header values (`Authorization`) and bodies (refresh
/// tokens, codes, verifiers) are secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers in order. An `Authorization` value here is a secret: don't log requests whole.
    pub headers: Vec<(String, String)>,
    /// Body text, if any.
    pub body: Option<String>,
    /// Let the request outlive the page (`fetch(…, {keepalive: true})`): for revocations sent right before a
    /// navigation, which would otherwise cancel them.
    pub keepalive: bool,
    /// Send the browser's cookies for the app's own origin (`credentials: "same-origin"`): only calls to the app's
    /// backend in the token-mediating and bff modes, which carry its session cookie. Everything else omits cookies.
    pub with_cookies: bool,
    /// Follow HTTP redirects (the default). Token and revocation requests set it to `false`: a POST carrying a
    /// refresh token or a code must never be replayed to another URL; a redirect answer is then a
    /// [`TransportError::Redirected`].
    pub follow_redirects: bool,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            keepalive: false,
            with_cookies: false,
            follow_redirects: true,
        }
    }

    /// The same request, sent with the app origin's cookies (a call to the app's own backend).
    #[must_use]
    pub fn with_cookies(mut self) -> Self {
        self.with_cookies = true;
        self
    }

    /// Adds a header, replacing any of the same name (case-insensitive).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_header(name, value);
        self
    }

    /// Sets a header in place, replacing any of the same name.
    pub fn set_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
    }

    /// Removes a header.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// A header's value (case-insensitive name).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Lets the request outlive the page (see [`HttpRequest::keepalive`]).
    ///
    /// ```
    /// use oten_auth_core::{HttpRequest, Method};
    /// assert!(HttpRequest::new(Method::Post, "https://idp.test/revoke").keep_alive().keepalive);
    /// ```
    #[must_use]
    pub fn keep_alive(mut self) -> Self {
        self.keepalive = true;
        self
    }

    /// Refuses redirects (see [`HttpRequest::follow_redirects`]).
    ///
    /// ```
    /// use oten_auth_core::{HttpRequest, Method};
    /// assert!(!HttpRequest::new(Method::Post, "https://idp.test/token").no_redirects().follow_redirects);
    /// ```
    #[must_use]
    pub fn no_redirects(mut self) -> Self {
        self.follow_redirects = false;
        self
    }
}

/// An answer from the server, whatever its status.
///
/// ```
/// use oten_auth_core::HttpResponse;
/// let r = HttpResponse::new(401, "").with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
/// assert!(r.header_value("www-authenticate").unwrap().starts_with("Bearer"));
/// ```
///
/// `Debug` shows the status, URL and body length only: a token endpoint's body holds tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers the transport could read (CORS may hide some).
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
    /// The final URL after redirects, when the transport knows it.
    pub url: Option<String>,
}

impl HttpResponse {
    /// An answer with a status and a body.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self { status, headers: Vec::new(), body: body.into(), url: None }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A header's value (case-insensitive name).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &names)
            .field("body_len", &self.body.as_ref().map(String::len))
            .field("keepalive", &self.keepalive)
            .field("follow_redirects", &self.follow_redirects)
            .finish()
    }
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("url", &self.url)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A request that got no HTTP answer at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The connection failed (offline, DNS, CORS refusal, TLS).
    #[error("network error: {0}")]
    Network(String),
    /// No answer in time.
    #[error("the request timed out")]
    Timeout,
    /// The server answered with a redirect to a request that refuses them ([`HttpRequest::no_redirects`]).
    #[error("the server answered with a redirect")]
    Redirected,
    /// The request was never sent (what it needed could not be made, such as its DPoP proof).
    #[error("the request was not sent: {0}")]
    NotSent(String),
}

/// Sends requests. Single-threaded (WebAssembly in a browser), so futures need not be `Send`.
///
/// ## Usage
///
/// ```
/// use futures::future::LocalBoxFuture;
/// use oten_auth_core::{HttpRequest, HttpResponse, Transport, TransportError};
/// struct Teapot;
/// impl Transport for Teapot {
///     fn send(&self, _request: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, TransportError>> {
///         Box::pin(async { Ok(HttpResponse::new(418, "")) })
///     }
/// }
/// ```
pub trait Transport {
    /// Sends one request.
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, TransportError>>;
}
