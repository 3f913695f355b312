//! The session when a backend (`oten-backend`) is the provider's client: `token-mediating` (the browser holds
//! short-lived access tokens in memory, renewed at `POST /api/refresh-token`) or `bff` (the browser holds only an
//! HttpOnly cookie). Sign-in, sign-out and the person come from the backend's `/auth/*`.

use oten_auth_core::id_token::IdTokenClaims;
use oten_auth_core::{
    form_encode, parse_query, AuthMode, HttpRequest, Method, SignInOptions, TokenManager, TokenSet, Transport,
    CSRF_HEADER,
};
use serde::Deserialize;
use std::cell::RefCell;

/// Why the app's backend could not say whether someone is signed in (it did not answer, or not as expected). The
/// tab is then neither signed in nor signed out, and nothing starts a sign-in (which would end a live session).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the app's server could not be reached ({0}); reload the page to try again")]
pub struct BackendUnavailable(pub String);

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

    /// A call of the backend's: same origin, with its cookie and the anti-CSRF header.
    fn call(&self, method: Method, route: &str) -> HttpRequest {
        HttpRequest::new(method, self.url(route))
            .header("Accept", "application/json")
            .header(CSRF_HEADER, "1")
            .with_cookies()
            .no_redirects()
    }

    /// Asks the backend who is signed in and, in token-mediating mode, for an access token; starts the session in
    /// `manager` when there is one. Only a 401 means "signed out"; a backend that does not answer as expected is
    /// [`BackendUnavailable`] (the tab stays neither signed in nor out: a sign-in started from there would end a
    /// live session).
    pub(crate) async fn load(
        &self,
        transport: &dyn Transport,
        manager: &TokenManager,
        now_ms: i64,
    ) -> Result<(), BackendUnavailable> {
        let answer =
            transport.send(self.call(Method::Get, USER_ROUTE)).await.map_err(|e| BackendUnavailable(e.to_string()))?;
        match answer.status {
            200 => {}
            401 => return Ok(()),
            status => return Err(BackendUnavailable(format!("{USER_ROUTE} answered HTTP {status}"))),
        }
        let found = serde_json::from_str::<BackendUser>(&answer.body)
            .map_err(|_| BackendUnavailable(format!("{USER_ROUTE} answered something else than the person")))?;
        *self.logout_url.borrow_mut() = Some(found.logout_url.clone());
        let tokens = match self.mode {
            AuthMode::TokenMediating => {
                let answer = transport
                    .send(self.call(Method::Post, REFRESH_TOKEN_ROUTE))
                    .await
                    .map_err(|e| BackendUnavailable(e.to_string()))?;
                match answer.status {
                    200 => {}
                    // Ended between the two calls.
                    401 => return Ok(()),
                    status => return Err(BackendUnavailable(format!("{REFRESH_TOKEN_ROUTE} answered HTTP {status}"))),
                }
                TokenSet::parse_token_response(&answer.body, now_ms, None)
                    .map_err(|e| BackendUnavailable(format!("{REFRESH_TOKEN_ROUTE}: {e}")))?
                    .with_user(found.user)
            }
            _ => TokenSet::backend_held(found.user, found.scope, found.session_expires_at, now_ms),
        };
        // An in-memory store: a failed save cannot happen, and nothing of it outlives the page.
        let _ = manager.sign_in(tokens);
        Ok(())
    }

    /// Ends the session at the backend (`POST /auth/logout`: revoked, removed, cookie cleared) and returns where the
    /// browser goes next (the provider's end-session page), or `None` when the backend could not be told. The call
    /// is `keepalive`: a navigation that follows (to `/login`) does not cancel it.
    pub(crate) async fn end(&self, transport: &dyn Transport) -> Option<String> {
        // Only the session this tab knew (its logout id): a cookie naming a newer one (another tab signed in again
        // meanwhile) is left alone. A tab that never knew a session has nothing to end.
        let link = self.logout_url.borrow().clone()?;
        let query = link.split_once('?').map_or("", |(_, query)| query);
        let sid = parse_query(query).into_iter().find(|(name, _)| name == "sid").map(|(_, sid)| sid)?;
        let route = format!("{LOGOUT_ROUTE}?{}", form_encode(&[("sid", sid.as_str())]));
        let answer = transport.send(self.call(Method::Post, &route).keep_alive()).await.ok()?;
        if !answer.is_success() {
            return None;
        }
        let body: serde_json::Value = serde_json::from_str(&answer.body).ok()?;
        body.get("redirect").and_then(|r| r.as_str()).map(str::to_owned)
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

    /// Where sign-out goes when the backend could not be told by a call: the session's own logout link (the
    /// backend revokes, removes the session, and sends the browser on to the provider), or its logout route.
    pub(crate) fn logout_url(&self) -> String {
        match self.logout_url.borrow().as_deref() {
            Some(link) if link.starts_with('/') && !link.starts_with("//") => self.url(link),
            _ => self.url(LOGOUT_ROUTE),
        }
    }
}
