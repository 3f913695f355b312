//! `/api/*`: the token-mediating endpoint `POST /api/refresh-token`, and the backend-for-frontend proxy.

use super::{csrf_refusal, json_error, no_store, session_error};
use crate::cookie;
use crate::sessions::Rejected;
use crate::state::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use oten_auth_core::{endpoint_label, StepUpChallenge};
use serde::Deserialize;
use std::sync::Arc;

/// The largest request body the proxy buffers (it must be able to send it twice: once more after a refresh).
const MAX_BODY_BYTES: usize = 1 << 20;

/// Request headers passed to the API. Cookies never are: the API sees the Bearer token only.
const FORWARDED_REQUEST_HEADERS: &[HeaderName] =
    &[header::ACCEPT, header::ACCEPT_LANGUAGE, header::CONTENT_TYPE, header::IF_MATCH, header::IF_NONE_MATCH];

/// Answer headers passed back to the browser.
const FORWARDED_RESPONSE_HEADERS: &[HeaderName] = &[
    header::CONTENT_TYPE,
    header::CACHE_CONTROL,
    header::ETAG,
    header::LAST_MODIFIED,
    header::LOCATION,
    header::RETRY_AFTER,
    header::WWW_AUTHENTICATE,
];

/// `POST /api/refresh-token` body: `{"rejected_access_token": "…"}` when the app needs a newer token than the one it
/// holds (the API refused it, or it is due): renewed only if that is still the session's current token, so any
/// number of tabs and callers asking together cause one refresh.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshTokenRequest {
    rejected_access_token: Option<String>,
}

/// Token-mediating mode: a valid access token for the session (renewed here when due — the refresh token never
/// leaves the server), for the app to keep in memory.
pub async fn refresh_token(State(app): State<Arc<AppState>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    const ROUTE: &str = "/api/refresh-token";
    if let Some(refused) = csrf_refusal(&headers) {
        app.metrics.api(ROUTE, 403);
        return refused;
    }
    let request: RefreshTokenRequest = if body.is_empty() {
        RefreshTokenRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return json_error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
        }
    };
    let Some(value) = cookie::read(&headers, app.settings.secure_cookies()) else {
        app.metrics.api(ROUTE, 401);
        return json_error(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in first");
    };
    let rejected = request.rejected_access_token.map_or(Rejected::No, Rejected::Token);
    let response = match app.valid_tokens(&cookie::row_id(&value), &rejected).await {
        Ok(tokens) => {
            let now = crate::now_ms();
            no_store(
                Json(serde_json::json!({
                    "access_token": tokens.access_token.expose(),
                    "token_type": "Bearer",
                    // Whole seconds, rounded down but never 0: a token handed out here is never due yet.
                    "expires_in": ((tokens.expires_at - now) / 1000).max(1),
                    "expires_at": tokens.expires_at,
                    "scope": tokens.scope,
                }))
                .into_response(),
            )
        }
        Err(e) => session_error(&app, e),
    };
    app.metrics.api(ROUTE, response.status().as_u16());
    response
}

/// `bff` mode has no token for the browser.
pub async fn not_in_bff() -> Response {
    json_error(StatusCode::NOT_FOUND, "not_found", "in bff mode the browser never holds a token; call /api/* directly")
}

/// Backend-for-frontend: the request goes to the API with the session's access token; after a 401 that is a
/// verdict on the token, the token is renewed (once for all requests refused together) and the request sent once
/// more.
pub async fn proxy(State(app): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let route = endpoint_label(parts.uri.path());
    let (response, from_the_api) = proxy_inner(&app, parts, body).await;
    // Only the API's own answers are counted (a request refused here names no route the API knows).
    if from_the_api {
        app.metrics.api(&route, response.status().as_u16());
    }
    response
}

/// Whether the path stays under `/api/`: no `.` or `..` segment, raw or percent-encoded, and no backslash (an
/// upstream would resolve them out of `/api/`, with the person's token).
fn stays_under_api(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    !lower.contains('\\')
        && !lower.contains("%5c")
        && !lower.contains("%2f")
        && lower.split('/').all(|segment| {
            // `..;x` is `..` to some servers (path parameters): the part before `;` decides.
            let decoded = segment.replace("%2e", ".").replace("%3b", ";");
            let name = decoded.split(';').next().unwrap_or_default();
            name != "." && name != ".."
        })
}

async fn proxy_inner(app: &Arc<AppState>, parts: axum::http::request::Parts, body: Body) -> (Response, bool) {
    let refused = |r: Response| (r, false);
    if let Some(refusal) = csrf_refusal(&parts.headers) {
        return refused(refusal);
    }
    if !stays_under_api(parts.uri.path()) {
        return refused(json_error(StatusCode::BAD_REQUEST, "invalid_request", "the path leaves /api/"));
    }
    let Some(value) = cookie::read(&parts.headers, app.settings.secure_cookies()) else {
        return refused(json_error(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in first"));
    };
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return refused(json_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is over 1 MiB"));
    };
    let upstream = app.settings.api_upstream.as_deref().unwrap_or_default().trim_end_matches('/');
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{upstream}{path_and_query}");
    let row_id = cookie::row_id(&value);

    let mut rejected = Rejected::No;
    for attempt in 0..2 {
        let tokens = match app.valid_tokens(&row_id, &rejected).await {
            Ok(t) => t,
            Err(e) => return refused(session_error(app, e)),
        };
        let mut outgoing =
            app.http.inner().request(parts.method.clone(), &url).bearer_auth(tokens.access_token.expose());
        for name in FORWARDED_REQUEST_HEADERS {
            if let Some(v) = parts.headers.get(name) {
                outgoing = outgoing.header(name, v);
            }
        }
        let answer = match outgoing.body(body.clone()).send().await {
            Ok(a) => a,
            Err(e) => {
                let timeout = e.is_timeout();
                let (status, code) = if timeout {
                    (StatusCode::GATEWAY_TIMEOUT, "api_timeout")
                } else {
                    (StatusCode::BAD_GATEWAY, "api_unreachable")
                };
                return refused(json_error(status, code, "the API could not be reached"));
            }
        };
        let step_up = answer
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| StepUpChallenge::from_www_authenticate(v).is_some());
        if answer.status() != StatusCode::UNAUTHORIZED || step_up {
            return (relay(answer).await, true);
        }
        // A token that expired before the API answered was refused for its age, not as a verdict on the session
        // (an overloaded API or provider): renew and try again, or answer 503 — never end the session for it.
        let expired_in_flight = tokens.is_expired(crate::now_ms());
        if attempt == 0 {
            rejected = Rejected::Token(tokens.access_token.expose().to_owned());
        } else if expired_in_flight {
            let mut response =
                json_error(StatusCode::SERVICE_UNAVAILABLE, "api_too_slow", "the API answered after the token expired");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return (response, true);
        }
    }
    tracing::warn!(route = %endpoint_label(parts.uri.path()), "the API refused a renewed, valid token: the session ends");
    // The API refused the renewed token too: the session is over (revoked), as the browser ends it in public mode.
    if let Err(error) = app.end_session(&row_id, "api_refused").await {
        tracing::warn!(%error, "the refused session could not be removed");
    }
    let mut response = json_error(StatusCode::UNAUTHORIZED, "session_refused", "the API refused the renewed token");
    super::session_cookie(&mut response, &cookie::clear(app.settings.secure_cookies()));
    (response, true)
}

/// The largest answer of the API passed back (buffered, so its length is known).
const MAX_ANSWER_BYTES: usize = 10 << 20;

async fn relay(mut answer: reqwest::Response) -> Response {
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = HeaderMap::new();
    for name in FORWARDED_RESPONSE_HEADERS {
        for v in answer.headers().get_all(name) {
            if let Ok(v) = HeaderValue::from_bytes(v.as_bytes()) {
                headers.append(name.clone(), v);
            }
        }
    }
    // A personal answer is not cached unless the API says how.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let mut bytes = Vec::new();
    loop {
        match answer.chunk().await {
            Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_ANSWER_BYTES => bytes.extend_from_slice(&chunk),
            Ok(Some(_)) => return json_error(StatusCode::BAD_GATEWAY, "api_answer_too_large", "over 10 MiB"),
            Ok(None) => return (status, headers, bytes).into_response(),
            Err(_) => return json_error(StatusCode::BAD_GATEWAY, "api_unreachable", "the API's answer was cut off"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::stays_under_api;

    #[test]
    fn only_paths_that_stay_under_api_are_proxied() {
        for ok in ["/api/user/profile", "/api/a.b/c", "/api/..a", "/api/x;y", "/api/"] {
            assert!(stays_under_api(ok), "{ok}");
        }
        for leaves in [
            "/api/../admin",
            "/api/%2e%2e/admin",
            "/api/%2E%2e/admin",
            "/api/..;x/admin",
            "/api/%2e%2e%3bx/admin",
            "/api/./x",
            "/api/a\\..\\admin",
            "/api/a%5c..%5cadmin",
            "/api/a%2f..%2fadmin",
        ] {
            assert!(!stays_under_api(leaves), "{leaves}");
        }
    }
}
