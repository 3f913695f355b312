//! The session when a backend (`oten-backend`) is the provider's client: `token-mediating` (the browser holds
//! short-lived access tokens in memory, renewed at `POST /api/refresh-token`) or `bff` (the browser holds only an
//! HttpOnly cookie). Sign-in, sign-out and the person come from the backend's `/auth/*`.

use oten_auth_core::id_token::IdTokenClaims;
use oten_auth_core::{
    form_encode, AuthMode, HttpRequest, Method, SignInOptions, TokenManager, TokenSet, Transport, CSRF_HEADER,
};
use serde::Deserialize;
use std::cell::RefCell;

/// The backend's routes, under its origin.
pub(crate) const LOGIN_ROUTE: &str = "/auth/login";
pub(crate) const USER_ROUTE: &str = "/auth/user";
pub(crate) const LOGOUT_ROUTE: &str = "/auth/logout";
pub(crate) const REFRESH_TOKEN_ROUTE: &str = "/api/refresh-token";

/// `GET /auth/user`'s answer.
#[derive(Debug, Deserialize)]
struct BackendUser {
    user: IdTokenClaims,
    #[serde(default)]
    scope: Option<String>,
    session_expires_at: i64,
    logout_url: String,
}

/// What the browser knows of a backend-held session.
pub(crate) struct BackendSession {
    mode: AuthMode,
    base: String,
    logout_url: RefCell<Option<String>>,
}

impl BackendSession {
    pub(crate) fn new(mode: AuthMode, base: &str) -> Self {
        Self { mode, base: base.trim_end_matches('/').to_owned(), logout_url: RefCell::new(None) }
    }

    /// `{base}{route}`.
    pub(crate) fn url(&self, route: &str) -> String {
        format!("{}{route}", self.base)
    }

    /// Asks the backend who is signed in and, in token-mediating mode, for an access token; starts the session in
    /// `manager` when there is one. A backend that cannot be reached leaves the tab signed out (the next page load
    /// asks again).
    pub(crate) async fn load(&self, transport: &dyn Transport, manager: &TokenManager, now_ms: i64) {
        let request = HttpRequest::new(Method::Get, self.url(USER_ROUTE))
            .header("Accept", "application/json")
            .header(CSRF_HEADER, "1");
        let Ok(answer) = transport.send(request).await else { return };
        if answer.status != 200 {
            return;
        }
        let Ok(found) = serde_json::from_str::<BackendUser>(&answer.body) else { return };
        *self.logout_url.borrow_mut() = Some(found.logout_url.clone());
        let tokens = match self.mode {
            AuthMode::TokenMediating => {
                let request = HttpRequest::new(Method::Post, self.url(REFRESH_TOKEN_ROUTE))
                    .header("Accept", "application/json")
                    .header(CSRF_HEADER, "1")
                    .no_redirects();
                let Ok(answer) = transport.send(request).await else { return };
                if !answer.is_success() {
                    return;
                }
                match TokenSet::parse_token_response(&answer.body, now_ms, None) {
                    Ok(tokens) => tokens.with_user(found.user),
                    Err(_) => return,
                }
            }
            _ => TokenSet::backend_held(found.user, found.scope, found.session_expires_at, now_ms),
        };
        // An in-memory store: a failed save cannot happen, and nothing of it outlives the page.
        let _ = manager.sign_in(tokens);
    }

    /// Where a sign-in starts: the backend's `/auth/login` with the return path and the options.
    pub(crate) fn login_url(&self, return_to: &str, options: &SignInOptions) -> String {
        let max_age = options.max_age_secs.map(|s| s.to_string());
        let pairs: Vec<(&str, &str)> = [
            ("return_to", Some(return_to)),
            ("prompt", options.prompt.as_deref()),
            ("max_age", max_age.as_deref()),
            ("acr_values", options.acr_values.as_deref()),
            ("login_hint", options.login_hint.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
        format!("{}?{}", self.url(LOGIN_ROUTE), form_encode(&pairs))
    }

    /// Where sign-out goes: the session's own logout link (the backend revokes, removes the session, and sends the
    /// browser on to the provider), or the backend's logout route when none is known.
    pub(crate) fn logout_url(&self) -> String {
        match self.logout_url.borrow().as_deref() {
            Some(link) if link.starts_with('/') && !link.starts_with("//") => self.url(link),
            _ => self.url(LOGOUT_ROUTE),
        }
    }
}
