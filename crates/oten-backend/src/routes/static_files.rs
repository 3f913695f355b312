//! `bff` mode serves the built app itself, so the app and its API share one origin (the cookie is first-party and
//! no CORS is involved). Unknown paths without a file extension get `index.html` (the app's own router decides).

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Serves a file of `static_dir`, or the app's `index.html` for a route of the app.
pub async fn serve(State(app): State<Arc<AppState>>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(root) = app.settings.static_dir.as_deref() else { return StatusCode::NOT_FOUND.into_response() };
    let Some(relative) = safe_relative(request.uri().path()) else { return StatusCode::NOT_FOUND.into_response() };
    let candidate = root.join(&relative);
    let is_route = relative.extension().is_none();
    let file = match tokio::fs::read(&candidate).await {
        Ok(bytes) if !relative.as_os_str().is_empty() => Some((candidate, bytes)),
        _ if is_route => tokio::fs::read(root.join("index.html")).await.ok().map(|b| (root.join("index.html"), b)),
        _ => None,
    };
    let Some((path, bytes)) = file else { return StatusCode::NOT_FOUND.into_response() };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&path)));
    let cache =
        if path.ends_with("index.html") || path.ends_with("config.json") { "no-cache" } else { "public, max-age=3600" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // A strict Content-Security-Policy from the served config, Referrer-Policy no-referrer, nosniff, COOP.
    for (name, value) in &app.document_headers {
        headers.insert(name.clone(), value.clone());
    }
    response
}

/// The request path as a relative path inside the root: no `..`, no absolute parts, no backslashes or NULs.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let decoded = path.trim_start_matches('/');
    if decoded.contains(['\\', '\0']) || decoded.contains('%') {
        return None;
    }
    let relative = Path::new(decoded);
    relative.components().all(|c| matches!(c, Component::Normal(_))).then(|| relative.to_path_buf())
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_root() {
        assert_eq!(safe_relative("/app.wasm"), Some(PathBuf::from("app.wasm")));
        assert_eq!(safe_relative("/"), Some(PathBuf::new()));
        for hostile in ["/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/a\\..\\b", "//etc/passwd"] {
            assert!(
                safe_relative(hostile).is_none_or(|p| !p.starts_with("/") && !p.to_string_lossy().contains("..")),
                "{hostile}"
            );
        }
        assert_eq!(safe_relative("/../etc/passwd"), None);
    }
}
