//! Where a session's access tokens are renewed: at the provider with this client's refresh token (a public client),
//! or at a token-mediating backend that keeps the refresh token itself (the browser then holds none).

use crate::client_auth::OAuthClient;
use crate::end_reason::EndReason;
use crate::error::{AuthError, Deferral};
use crate::oauth_error::OAuthErrorBody;
use crate::request::{refresh_outcome, refresh_request, retry_after, RefreshOutcome};
use crate::secret::AccessToken;
use crate::token_set::TokenSet;
use crate::transport::{HttpRequest, HttpResponse, Method, TransportError};

/// The header a backend demands of script calls (anti-CSRF, as Duende's `X-CSRF`): a cross-site form or link
/// cannot set it.
pub const CSRF_HEADER: &str = "X-CSRF";

/// Where refreshes go.
///
/// ```
/// use oten_auth_core::{ManagerConfig, RefreshSource};
/// let c = ManagerConfig::new("", "").with_refresh_source(RefreshSource::Backend { url: "/api/refresh-token".into() });
/// assert!(!c.refresh_source.needs_refresh_token());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshSource {
    /// The provider's token endpoint, with the session's refresh token (public mode).
    #[default]
    Provider,
    /// A token-mediating backend's `POST /api/refresh-token` (same origin, with the session cookie): it renews with
    /// the refresh token it keeps and answers an access token. "No refresh token here" is then normal, and the
    /// session ends when the backend says so (401).
    Backend {
        /// The endpoint (`/api/refresh-token` on the app's origin, or an absolute URL).
        url: String,
    },
}

impl RefreshSource {
    /// Whether a refresh needs a refresh token in this tab.
    pub fn needs_refresh_token(&self) -> bool {
        matches!(self, RefreshSource::Provider)
    }

    /// The request that renews `tokens` (`client` and `token_endpoint` serve the provider source), or why none can
    /// be sent.
    pub(crate) fn request(
        &self,
        token_endpoint: &str,
        client: &OAuthClient,
        tokens: &TokenSet,
    ) -> Result<HttpRequest, AuthError> {
        match self {
            RefreshSource::Provider => {
                let rt = tokens.refresh_token.as_ref().ok_or(AuthError::Deferred(Deferral::NoRefreshToken))?;
                Ok(refresh_request(token_endpoint, client, rt))
            }
            RefreshSource::Backend { url } => Ok(backend_refresh_request(url, &tokens.access_token)),
        }
    }

    /// Classifies the answer to [`RefreshSource::request`].
    pub(crate) fn outcome(
        &self,
        answer: Result<HttpResponse, TransportError>,
        now_ms: i64,
        previous: &TokenSet,
    ) -> RefreshOutcome {
        match self {
            RefreshSource::Provider => refresh_outcome(answer, now_ms, previous),
            RefreshSource::Backend { .. } => backend_refresh_outcome(answer, now_ms, previous),
        }
    }
}

/// A token-mediating backend's refresh: `POST url` (same origin, with the session cookie and the anti-CSRF header)
/// with `{"rejected_access_token": …}`, the access token this tab holds — the one the backend itself handed out —
/// meaning "a newer token than this one": the backend renews only while it is the session's current token, so any
/// number of tabs and callers asking together cause one renewal. The refresh token stays on the server.
///
/// ```
/// use oten_auth_core::{backend_refresh_request, AccessToken};
/// let r = backend_refresh_request("/api/refresh-token", &AccessToken::new("at-1"));
/// assert_eq!(r.header_value("x-csrf"), Some("1"));
/// assert!(r.with_cookies && !r.follow_redirects);
/// assert_eq!(r.body.as_deref(), Some(r#"{"rejected_access_token":"at-1"}"#));
/// ```
pub fn backend_refresh_request(url: &str, rejected: &AccessToken) -> HttpRequest {
    let body = serde_json::json!({ "rejected_access_token": rejected.expose() }).to_string();
    HttpRequest::new(Method::Post, url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .header(CSRF_HEADER, "1")
        .body(body)
        .with_cookies()
        .no_redirects()
}

/// Classifies a backend's refresh answer: 2xx with an access token → renewed (the browser never gets a refresh
/// token, so none is kept); 2xx unusable → a failure that keeps the session (nothing was consumed here); 401 → the
/// session is over at the backend; anything else → a server failure, retried with backoff.
///
/// ```
/// use oten_auth_core::{backend_refresh_outcome, HttpResponse, RefreshOutcome, TokenSet};
/// let old = TokenSet::parse_token_response(r#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#, 0, None).unwrap();
/// let ok = HttpResponse::new(200, r#"{"access_token":"b","token_type":"Bearer","expires_in":60}"#);
/// assert!(matches!(backend_refresh_outcome(Ok(ok), 1, &old), RefreshOutcome::Renewed(t) if t.access_token.expose() == "b"));
/// let ended = HttpResponse::new(401, r#"{"error":"session_ended","message":"…"}"#);
/// let RefreshOutcome::Failed(e) = backend_refresh_outcome(Ok(ended), 1, &old) else { panic!() };
/// assert!(e.requires_reauth());
/// ```
pub fn backend_refresh_outcome(
    answer: Result<HttpResponse, TransportError>,
    now_ms: i64,
    previous: &TokenSet,
) -> RefreshOutcome {
    let response = match answer {
        Ok(r) => r,
        Err(e) => return RefreshOutcome::Failed(e.into()),
    };
    if response.is_success() {
        return match TokenSet::parse_token_response(&response.body, now_ms, Some(previous)) {
            Ok(tokens) => RefreshOutcome::Renewed(tokens),
            Err(problem) => RefreshOutcome::Failed(AuthError::MalformedResponse(problem)),
        };
    }
    let oauth = OAuthErrorBody::parse(&response.body);
    if response.status == 401 {
        return RefreshOutcome::Failed(AuthError::SessionEnded { reason: EndReason::Refused { oauth } });
    }
    RefreshOutcome::Failed(AuthError::Server {
        status: response.status,
        oauth,
        retry_after_secs: retry_after(&response),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held() -> TokenSet {
        TokenSet::parse_token_response(r#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#, 0, None)
            .unwrap()
    }

    #[test]
    fn backend_answers_map_to_the_taxonomy() {
        let outcome =
            |status: u16, body: &str| backend_refresh_outcome(Ok(HttpResponse::new(status, body)), 1, &held());
        let RefreshOutcome::Failed(down) = outcome(503, r#"{"error":"provider_unavailable"}"#) else { panic!() };
        assert!(down.is_retryable() && !down.requires_reauth());
        let RefreshOutcome::Failed(odd) = outcome(200, r#"{"result":"ok"}"#) else { panic!() };
        assert!(!odd.requires_reauth(), "nothing was consumed in the browser: keep the session");
        let RefreshOutcome::Failed(csrf) = outcome(403, r#"{"error":"csrf"}"#) else { panic!() };
        assert!(!csrf.requires_reauth());
        let RefreshOutcome::Failed(net) = backend_refresh_outcome(Err(TransportError::Timeout), 1, &held()) else {
            panic!()
        };
        assert!(net.is_retryable());
    }

    #[test]
    fn the_provider_source_needs_a_refresh_token_and_the_backend_source_does_not() {
        let client = OAuthClient::public("spa");
        let no_rt = held();
        let e = RefreshSource::Provider.request("https://idp.test/token", &client, &no_rt).unwrap_err();
        assert_eq!(e, AuthError::Deferred(Deferral::NoRefreshToken));
        let backend = RefreshSource::Backend { url: "/api/refresh-token".into() };
        let r = backend.request("https://idp.test/token", &client, &no_rt).unwrap();
        assert_eq!(r.url, "/api/refresh-token");
        assert!(!r.body.unwrap().contains("refresh_token"));
    }
}
