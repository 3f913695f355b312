//! `/auth/*`: sign-in as a confidential client, the signed-in user, sign-out, back-channel logout.

use super::{csrf_refusal, html_page, json_error, no_store, session_cookie};
use crate::cookie;
use crate::sessions::SessionError;
use crate::state::AppState;
use axum::extract::{Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use oten_auth_core::{constant_time_eq, sanitize_return_path, PendingAuthorization, SignInOptions};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

const PENDING_FIELD: &str = "pending";

/// `GET /auth/login?return_to=/path`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    prompt: Option<String>,
    max_age: Option<u32>,
    acr_values: Option<String>,
    login_hint: Option<String>,
}

fn pending_id(state: &str) -> String {
    Sha256::digest(format!("pending\0{state}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a sign-in: keeps the attempt (sealed, by the hash of its state, with the hash of a login cookie that ties
/// it to this browser) and sends the browser to the provider. A session the browser holds is left alone: a link from
/// another site must not sign anyone out (the app ends its session by `POST /auth/logout` before it signs in again).
pub async fn login(State(app): State<Arc<AppState>>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let secure = app.settings.secure_cookies();
    let return_to = sanitize_return_path(q.return_to.as_deref().unwrap_or("/"));
    let prompt = q.prompt.filter(|p| ["login", "consent", "select_account"].contains(&p.as_str()));
    let options = SignInOptions {
        prompt,
        max_age_secs: q.max_age,
        acr_values: q.acr_values,
        login_hint: q.login_hint,
        ..SignInOptions::default()
    };
    let now = crate::now_ms();
    let (pending, url) = match app.provider.start_sign_in(&return_to, &options, now).await {
        Ok(started) => started,
        Err(error) => {
            tracing::warn!(%error, "sign-in could not start");
            app.metrics.sign_in("start_failed");
            return html_page(StatusCode::BAD_GATEWAY, "Sign-in could not start", &error.to_string(), "/auth/login");
        }
    };
    let id = pending_id(pending.state.expose());
    // The attempt is bound to this browser: the callback must come with the login cookie (login CSRF). One value per
    // browser, kept across attempts: two tabs signing in at once each finish their own.
    let browser = cookie::read_login(&headers, secure).unwrap_or_else(cookie::new_session_id);
    let record = serde_json::json!({ "pending": pending.to_json(), "browser": cookie::row_id(&browser) });
    let stored = app
        .keys
        .seal_text(&id, PENDING_FIELD, record.to_string().as_bytes())
        .map_err(|e| e.to_string())
        .map(|sealed| async move { app.db.put_pending(&id, &sealed, now).await.map_err(|e| e.to_string()) });
    match stored {
        Ok(write) => match write.await {
            Ok(()) => {
                let mut response = no_store(Redirect::to(&url).into_response());
                session_cookie(&mut response, &cookie::set_login(&browser, secure));
                response
            }
            Err(e) => html_page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in could not start", &e, "/auth/login"),
        },
        Err(e) => html_page(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in could not start", &e, "/auth/login"),
    }
}

/// Finishes a sign-in: one use of the attempt, the code exchanged with client authentication, the ID token
/// checked; then a new session id in a new cookie.
pub async fn callback(State(app): State<Arc<AppState>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let now = crate::now_ms();
    let state = oten_auth_core::CallbackParams::from_query(&query);
    let secure = app.settings.secure_cookies();
    let browser = cookie::read_login(&headers, secure).map(|v| cookie::row_id(&v));
    let pending = match &state.state {
        Some(s) => {
            let id = pending_id(s.expose());
            match app.db.take_pending(&id).await {
                Ok(found) => found
                    .and_then(|sealed| app.keys.open_text(&id, PENDING_FIELD, &sealed).ok())
                    .and_then(|plain| serde_json::from_slice::<serde_json::Value>(&plain).ok())
                    // Only the browser that started the attempt may finish it.
                    .filter(|record| {
                        let (held, started) = (browser.as_deref(), record["browser"].as_str());
                        held.zip(started).is_some_and(|(a, b)| constant_time_eq(a.as_bytes(), b.as_bytes()))
                    })
                    .and_then(|record| record["pending"].as_str().and_then(PendingAuthorization::from_json)),
                Err(e) => {
                    return html_page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in failed", &e.to_string(), "/auth/login")
                }
            }
        }
        None => None,
    };
    let signed_in = match app.provider.finish_sign_in(&query, pending, now).await {
        Ok(s) => s,
        Err(error) => {
            tracing::warn!(%error, "sign-in refused");
            app.metrics.sign_in("refused");
            return html_page(StatusCode::BAD_REQUEST, "Sign-in failed", &error.to_string(), "/auth/login");
        }
    };
    // A session still named by the cookie is removed without revoking (its grant is likely the new session's), after
    // any refresh of it finishes. A new id at every sign-in.
    if let Some(old) = cookie::read(&headers, secure) {
        if let Err(error) = app.forget_session(&cookie::row_id(&old)).await {
            tracing::warn!(%error, "the replaced session could not be removed");
        }
    }
    let value = cookie::new_session_id();
    let return_to = sanitize_return_path(&signed_in.return_to);
    if let Err(error) = app.create_session(&cookie::row_id(&value), &signed_in.tokens, signed_in.sid, now).await {
        app.provider.revoke(&signed_in.tokens).await;
        return html_page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in failed", &error.to_string(), "/auth/login");
    }
    app.metrics.sign_in("ok");
    let mut response = no_store(Redirect::to(&return_to).into_response());
    // The login cookie stays until it expires (10 minutes): another tab's sign-in may still need it.
    session_cookie(&mut response, &cookie::set(&value, secure, app.settings.session_max_age_secs));
    response
}

/// `GET /auth/user`: the person and the session's times, or 401 JSON.
pub async fn user(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(refused) = csrf_refusal(&headers) {
        return refused;
    }
    let Some(value) = cookie::read(&headers, app.settings.secure_cookies()) else {
        return json_error(StatusCode::UNAUTHORIZED, "not_signed_in", "no session");
    };
    match app.live_session(&cookie::row_id(&value)).await {
        Ok((row, tokens)) => {
            let max_age_ms = i64::try_from(app.settings.session_max_age_secs).unwrap_or(0).saturating_mul(1000);
            let body = serde_json::json!({
                "user": tokens.user,
                "scope": tokens.scope,
                "access_expires_at": tokens.expires_at,
                "session_created_at": row.created_at,
                "session_expires_at": row.created_at.saturating_add(max_age_ms),
                "logout_url": format!("/auth/logout?sid={}", cookie::logout_id(&value)),
            });
            no_store(Json(body).into_response())
        }
        Err(e) => super::session_error(&app, e),
    }
}

/// `GET /auth/logout?sid=…`.
#[derive(Debug, Deserialize)]
pub struct LogoutQuery {
    sid: Option<String>,
}

/// Sign-out by navigation: needs the session's logout id (so a link from elsewhere cannot sign anyone out);
/// revokes, removes the session, clears the cookie, then ends the provider's session (RP-initiated logout, GET).
pub async fn logout(State(app): State<Arc<AppState>>, headers: HeaderMap, Query(q): Query<LogoutQuery>) -> Response {
    let secure = app.settings.secure_cookies();
    let Some(value) = cookie::read(&headers, secure) else {
        return no_store(Redirect::to(&app.settings.post_logout_redirect_uri()).into_response());
    };
    let expected = cookie::logout_id(&value);
    if !q.sid.as_deref().is_some_and(|sid| constant_time_eq(sid.as_bytes(), expected.as_bytes())) {
        return json_error(StatusCode::BAD_REQUEST, "invalid_logout", "sign out from the app (its logout link)");
    }
    end_and_redirect(&app, &value).await
}

/// `POST /auth/logout` from script (with the anti-CSRF header): the same, answering where to go next as JSON. With
/// `?sid=…` (the logout id the app learnt from `/auth/user`) it ends only that session: a cookie that names another
/// one by now (signed in again in another tab) is left alone (409).
pub async fn logout_post(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<LogoutQuery>,
) -> Response {
    if let Some(refused) = csrf_refusal(&headers) {
        return refused;
    }
    let secure = app.settings.secure_cookies();
    let held = cookie::read(&headers, secure);
    if let (Some(sid), Some(value)) = (&q.sid, &held) {
        if !constant_time_eq(sid.as_bytes(), cookie::logout_id(value).as_bytes()) {
            return json_error(StatusCode::CONFLICT, "other_session", "the browser holds another session by now");
        }
    }
    let target = match held {
        Some(value) => {
            let _ = app.end_session(&cookie::row_id(&value), "logout").await;
            app.provider.end_session_url().unwrap_or_else(|| app.settings.post_logout_redirect_uri())
        }
        None => app.settings.post_logout_redirect_uri(),
    };
    let mut response = no_store(Json(serde_json::json!({ "redirect": target })).into_response());
    session_cookie(&mut response, &cookie::clear(secure));
    response
}

async fn end_and_redirect(app: &AppState, value: &str) -> Response {
    let secure = app.settings.secure_cookies();
    if let Err(error) = app.end_session(&cookie::row_id(value), "logout").await {
        tracing::warn!(%error, "sign-out could not remove the session");
    }
    let target = app.provider.end_session_url().unwrap_or_else(|| app.settings.post_logout_redirect_uri());
    let mut response = no_store(Redirect::to(&target).into_response());
    session_cookie(&mut response, &cookie::clear(secure));
    response
}

/// `POST /auth/backchannel-logout` (form `logout_token`).
#[derive(Debug, Deserialize)]
pub struct BackchannelForm {
    logout_token: Option<String>,
}

/// OpenID Connect Back-Channel Logout 1.0: the provider says a session ended; every session it names ends here.
pub async fn backchannel_logout(State(app): State<Arc<AppState>>, Form(form): Form<BackchannelForm>) -> Response {
    let Some(token) = form.logout_token else {
        return json_error(StatusCode::BAD_REQUEST, "invalid_request", "logout_token is missing");
    };
    let claims = match app.provider.verify_logout_token(&token, crate::now_ms() / 1000).await {
        Ok(c) => c,
        Err(error) => {
            tracing::warn!(%error, "back-channel logout token refused");
            return json_error(StatusCode::BAD_REQUEST, "invalid_request", &error.to_string());
        }
    };
    match app.end_sessions_of(claims.sub.as_deref(), claims.sid.as_deref()).await {
        Ok(n) => {
            tracing::info!(sessions = n, "back-channel logout");
            let mut response = StatusCode::OK.into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            response
        }
        Err(SessionError::Store(e)) => {
            json_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", &e.to_string())
        }
        Err(e) => json_error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
    }
}
