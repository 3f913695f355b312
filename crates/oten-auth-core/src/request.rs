//! Token-endpoint and revocation requests built, and their answers classified, by pure functions.

use crate::error::AuthError;
use crate::form::form_encode;
use crate::oauth_error::OAuthErrorBody;
use crate::secret::{AccessToken, RefreshToken};
use crate::token_set::TokenSet;
use crate::transport::{HttpRequest, HttpResponse, Method, TransportError};

const FORM: &str = "application/x-www-form-urlencoded";

fn form_post(endpoint: &str, pairs: &[(&str, &str)]) -> HttpRequest {
    HttpRequest::new(Method::Post, endpoint)
        .header("Content-Type", FORM)
        .header("Accept", "application/json")
        .body(form_encode(pairs))
}

/// The refresh request of a public client (RFC 6749 §6): `grant_type=refresh_token`, the refresh token and
/// the `client_id`, form-encoded. No secret: a browser cannot keep one.
///
/// ```
/// use oten_auth_core::{refresh_request, RefreshToken};
/// let r = refresh_request("https://idp.test/v1/oauth/token", "spa", &RefreshToken::new("r t"));
/// assert_eq!(r.body.as_deref(), Some("grant_type=refresh_token&refresh_token=r+t&client_id=spa"));
/// assert_eq!(r.header_value("content-type"), Some("application/x-www-form-urlencoded"));
/// ```
pub fn refresh_request(token_endpoint: &str, client_id: &str, refresh_token: &RefreshToken) -> HttpRequest {
    form_post(
        token_endpoint,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose()), ("client_id", client_id)],
    )
}

/// The authorization-code exchange with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5).
///
/// ```
/// use oten_auth_core::code_exchange_request;
/// let r = code_exchange_request("https://idp.test/token", "spa", "c0de", "https://app.test/callback", "verifier");
/// assert_eq!(
///     r.body.as_deref(),
///     Some("grant_type=authorization_code&code=c0de&redirect_uri=https%3A%2F%2Fapp.test%2Fcallback&client_id=spa&code_verifier=verifier")
/// );
/// ```
pub fn code_exchange_request(
    token_endpoint: &str,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
) -> HttpRequest {
    form_post(
        token_endpoint,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("code_verifier", code_verifier),
        ],
    )
}

/// Which token a revocation request names (RFC 7009 §2.1).
#[derive(Debug, Clone, Copy)]
pub enum RevocableToken<'a> {
    /// A refresh token.
    Refresh(&'a RefreshToken),
    /// An access token.
    Access(&'a AccessToken),
}

/// A revocation request (RFC 7009) of a public client.
///
/// ```
/// use oten_auth_core::{revocation_request, RefreshToken, request::RevocableToken};
/// let rt = RefreshToken::new("r");
/// let r = revocation_request("https://idp.test/v1/oauth/revoke", "spa", RevocableToken::Refresh(&rt));
/// assert_eq!(r.body.as_deref(), Some("token=r&token_type_hint=refresh_token&client_id=spa"));
/// ```
pub fn revocation_request(endpoint: &str, client_id: &str, token: RevocableToken<'_>) -> HttpRequest {
    let (value, hint) = match token {
        RevocableToken::Refresh(t) => (t.expose(), "refresh_token"),
        RevocableToken::Access(t) => (t.expose(), "access_token"),
    };
    form_post(endpoint, &[("token", value), ("token_type_hint", hint), ("client_id", client_id)])
}

/// Classifies a token-endpoint answer into new tokens or an [`AuthError`] row of the taxonomy.
///
/// - 2xx with a usable body → the new [`TokenSet`] (received at `now_ms`, merged over `previous`);
/// - 2xx with an unusable body → `MalformedResponse` (tokens kept);
/// - 4xx with `invalid_grant` / `invalid_client` / `unauthorized_client` → `SessionEnded`;
/// - any other status → `Server` (tokens kept); no answer → `Network` / `Timeout`.
///
/// ```
/// use oten_auth_core::{AuthError, HttpResponse, request::token_endpoint_outcome};
/// let denied = HttpResponse::new(400, r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#);
/// let e = token_endpoint_outcome(Ok(denied), 0, None).unwrap_err();
/// assert!(e.requires_reauth());
/// let down = token_endpoint_outcome(Ok(HttpResponse::new(503, "<html>")), 0, None).unwrap_err();
/// assert_eq!(down, AuthError::Server { status: 503, oauth: None });
/// ```
pub fn token_endpoint_outcome(
    answer: Result<HttpResponse, TransportError>,
    now_ms: i64,
    previous: Option<&TokenSet>,
) -> Result<TokenSet, AuthError> {
    let response = answer?;
    if response.is_success() {
        return TokenSet::parse_token_response(&response.body, now_ms, previous)
            .map_err(|e| AuthError::MalformedResponse(e.to_string()));
    }
    let oauth = OAuthErrorBody::parse(&response.body);
    let is_client_error = (400..500).contains(&response.status);
    match oauth {
        Some(o) if is_client_error && o.ends_session() => Err(AuthError::SessionEnded { oauth: Some(o) }),
        oauth => Err(AuthError::Server { status: response.status, oauth }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_class_maps_to_its_row() {
        let o = |status: u16, body: &str| token_endpoint_outcome(Ok(HttpResponse::new(status, body)), 0, None);
        for code in ["invalid_grant", "invalid_client", "unauthorized_client"] {
            let e = o(400, &format!(r#"{{"error":"{code}","error_description":"d"}}"#)).unwrap_err();
            assert!(e.requires_reauth(), "{code}");
            assert_eq!(e.oauth().unwrap().error_description.as_deref(), Some("d"));
            assert_eq!(e.metric_label(), code);
        }
        assert!(o(401, r#"{"error":"invalid_client"}"#).unwrap_err().requires_reauth());
        // A 5xx that happens to say invalid_grant is still a server failure: keep the tokens.
        assert!(o(500, r#"{"error":"invalid_grant"}"#).unwrap_err().is_retryable());
        assert!(o(502, "Bad gateway").unwrap_err().is_retryable());
        assert!(o(429, "").unwrap_err().is_retryable());
        assert!(o(400, r#"{"error":"invalid_request"}"#).unwrap_err().is_retryable());
        assert!(matches!(o(200, "{not json").unwrap_err(), AuthError::MalformedResponse(_)));
        assert!(matches!(
            o(200, r#"{"access_token":"a","token_type":"mac"}"#).unwrap_err(),
            AuthError::MalformedResponse(_)
        ));
        let net = token_endpoint_outcome(Err(TransportError::Network("offline".into())), 0, None).unwrap_err();
        assert_eq!(net, AuthError::Network("offline".into()));
        assert_eq!(token_endpoint_outcome(Err(TransportError::Timeout), 0, None).unwrap_err(), AuthError::Timeout);
    }
}
