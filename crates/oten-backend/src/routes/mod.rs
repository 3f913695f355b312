//! The HTTP surface: which routes exist in which mode, and the answers they share (JSON errors, the anti-CSRF
//! header, no caching of anything personal).

mod api;
mod auth;
mod static_files;

use crate::config::Mode;
use crate::sessions::SessionError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use std::sync::Arc;

/// The anti-CSRF header every script call must carry (a cross-site form or link cannot set it, and a cross-site
/// script cannot either without a CORS preflight this backend never grants).
pub const CSRF_HEADER: &str = "x-csrf";

/// The backend's routes for its mode.
pub fn router(app: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/user", get(auth::user))
        .route("/auth/logout", get(auth::logout).post(auth::logout_post))
        .route("/auth/backchannel-logout", post(auth::backchannel_logout))
        .route("/metrics", get(metrics))
        .route("/config.json", get(app_config))
        .route("/healthz", get(|| async { "ok" }));
    router = match app.settings.mode {
        Mode::TokenMediating => router
            .route("/api/refresh-token", post(api::refresh_token))
            .route("/api/{*path}", any(|| async { json_error(StatusCode::NOT_FOUND, "not_found", "no such route") })),
        Mode::Bff => router.route("/api/refresh-token", any(api::not_in_bff)).route("/api/{*path}", any(api::proxy)),
    };
    if app.settings.static_dir.is_some() {
        router = router.fallback(static_files::serve);
    }
    router.with_state(app)
}

/// The app's configuration, in this backend's mode (never cached: a deployment may change it).
async fn app_config(State(app): State<Arc<AppState>>) -> Response {
    no_store(Json(app.settings.served_app_config()).into_response())
}

async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    if let Ok(n) = app.db.count_sessions().await {
        app.metrics.sessions.set(n);
    }
    let mut response = app.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// `{"error": code, "message": text}` with `status`, never cached.
pub(crate) fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    no_store((status, Json(serde_json::json!({ "error": code, "message": message }))).into_response())
}

/// The refusal (403 JSON) of a script call without the anti-CSRF header; `None` when the header is there.
pub(crate) fn csrf_refusal(headers: &HeaderMap) -> Option<Response> {
    let present = headers.get(CSRF_HEADER).is_some_and(|v| v.as_bytes() == b"1");
    (!present).then(|| json_error(StatusCode::FORBIDDEN, "csrf", "the request lacks the X-CSRF: 1 header"))
}

/// Marks a response as not cacheable anywhere.
pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Adds a `Set-Cookie`.
pub(crate) fn session_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A session failure as the JSON answer a script expects: 401 to sign in again, 503 to retry later.
pub(crate) fn session_error(app: &AppState, error: SessionError) -> Response {
    match error {
        SessionError::NotSignedIn => json_error(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in first"),
        SessionError::Ended(why) => {
            let mut response = json_error(StatusCode::UNAUTHORIZED, "session_ended", &why);
            session_cookie(&mut response, &crate::cookie::clear(app.settings.secure_cookies()));
            response
        }
        SessionError::ProviderUnavailable(e) => {
            let mut response = json_error(StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable", &e.to_string());
            let retry_after = match &e {
                oten_auth_core::AuthError::Server { retry_after_secs: Some(s), .. } => (*s).min(300),
                _ => 2,
            };
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        SessionError::KeyUnavailable(e) => {
            tracing::error!(%e, "a session sealed with a key this instance lacks");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "the session store is unavailable")
        }
        SessionError::Store(e) => {
            tracing::error!(%e, "database failure");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "the session store is unavailable")
        }
    }
}

/// A small HTML page for a navigation that failed (the callback, the start of a sign-in), with a way forward.
pub(crate) fn html_page(status: StatusCode, title: &str, message: &str, retry: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head><body><main>\
         <h1>{t}</h1><p role=\"alert\">{m}</p><p><a href=\"{r}\">Sign in again</a> · <a href=\"/\">Home</a></p>\
         </main></body></html>",
        t = escape(title),
        m = escape(message),
        r = escape(retry),
    );
    no_store((status, Html(body)).into_response())
}
