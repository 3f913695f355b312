//! The core's requests sent with reqwest: the server's transport.

use oten_auth_core::{HttpRequest, HttpResponse, Method, TransportError};
use std::time::Duration;

/// Sends the core's [`HttpRequest`]s. Redirects are never followed (token requests refuse them; the proxy passes
/// them to the browser as they are).
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
}

impl HttpClient {
    /// A client whose every request times out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .expect("the HTTP client's settings are valid");
        Self { client }
    }

    /// The underlying client, for the proxy (which streams bytes rather than text).
    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends one request; a redirect answer to a request that refuses them is [`TransportError::Redirected`].
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        if (300..400).contains(&status) && !request.follow_redirects {
            return Err(TransportError::Redirected);
        }
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
            .collect();
        let url = Some(response.url().to_string());
        // Sent and answered, but the answer broke off: whatever it said happened.
        let body = response.text().await.map_err(|e| match e.is_timeout() {
            true => TransportError::Timeout,
            false => TransportError::Network(ANSWER_CUT_OFF.into()),
        })?;
        Ok(HttpResponse { status, headers, body, url })
    }
}

/// The failure of a request that never reached the server (nothing was processed).
const NOT_SENT: &str = "connection failed";
/// The failure of an answer that broke off (the request was processed, or may have been).
pub(crate) const ANSWER_CUT_OFF: &str = "the answer broke off";

/// A reqwest failure as the core's [`TransportError`] (never the URL: it may carry a query the log must not see).
pub(crate) fn classify(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        TransportError::Timeout
    } else {
        if error.is_connect() {
            TransportError::NotSent(NOT_SENT.into())
        } else {
            TransportError::Network("request failed".into())
        }
    }
}
