//! Token-endpoint and revocation requests built, and their answers classified, by pure functions.

use crate::client_auth::OAuthClient;
use crate::end_reason::EndReason;
use crate::error::AuthError;
use crate::form::form_encode;
use crate::oauth_error::OAuthErrorBody;
use crate::pkce::PkceVerifier;
use crate::secret::{AccessToken, AuthorizationCode, RefreshToken};
use crate::token_set::{TokenResponseError, TokenSet};
use crate::transport::{HttpRequest, HttpResponse, Method, TransportError};

const FORM: &str = "application/x-www-form-urlencoded";

/// A form POST to the provider, authenticated as `client`. It never follows a redirect: a refresh token, a code or
/// a secret is not replayed to another URL.
pub(crate) fn client_form_post(endpoint: &str, client: &OAuthClient, pairs: &[(&str, &str)]) -> HttpRequest {
    let (credentials, authorization) = client.credentials();
    let mut all = pairs.to_vec();
    all.extend(credentials);
    let request = HttpRequest::new(Method::Post, endpoint)
        .header("Content-Type", FORM)
        .header("Accept", "application/json")
        .body(form_encode(&all))
        .no_redirects();
    match authorization {
        Some(value) => request.header("Authorization", value),
        None => request,
    }
}

/// The refresh request (RFC 6749 §6): `grant_type=refresh_token` and the refresh token, form-encoded, with the
/// client's credentials: the `client_id` for a public client (a browser cannot keep a secret), a secret for a
/// backend.
///
/// ```
/// use oten_auth_core::{refresh_request, OAuthClient, RefreshToken};
/// let r = refresh_request("https://idp.test/v1/oauth/token", &OAuthClient::public("spa"), &RefreshToken::new("r t"));
/// assert_eq!(r.body.as_deref(), Some("grant_type=refresh_token&refresh_token=r+t&client_id=spa"));
/// assert_eq!(r.header_value("content-type"), Some("application/x-www-form-urlencoded"));
/// ```
pub fn refresh_request(token_endpoint: &str, client: &OAuthClient, refresh_token: &RefreshToken) -> HttpRequest {
    client_form_post(
        token_endpoint,
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose())],
    )
}

/// The authorization-code exchange with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5).
///
/// ```
/// use oten_auth_core::{code_exchange_request, pkce::PkceVerifier, AuthorizationCode, OAuthClient};
/// let verifier = PkceVerifier::parse("v".repeat(43)).unwrap();
/// let code = AuthorizationCode::from("c0de");
/// let spa = OAuthClient::public("spa");
/// let r = code_exchange_request("https://idp.test/token", &spa, &code, "https://app.test/callback", &verifier);
/// assert!(r.body.as_deref().unwrap().starts_with(
///     "grant_type=authorization_code&code=c0de&redirect_uri=https%3A%2F%2Fapp.test%2Fcallback&code_verifier=vvv"
/// ));
/// assert!(r.body.as_deref().unwrap().ends_with("&client_id=spa"));
/// ```
pub fn code_exchange_request(
    token_endpoint: &str,
    client: &OAuthClient,
    code: &AuthorizationCode,
    redirect_uri: &str,
    code_verifier: &PkceVerifier,
) -> HttpRequest {
    client_form_post(
        token_endpoint,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier.as_str()),
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

/// A revocation request (RFC 7009), with the client's credentials. It is `keepalive`, so a navigation that follows
/// it (a sign-out or a new sign-in) does not cancel it.
///
/// ```
/// use oten_auth_core::{revocation_request, OAuthClient, RefreshToken, RevocableToken};
/// let rt = RefreshToken::new("r");
/// let spa = OAuthClient::public("spa");
/// let r = revocation_request("https://idp.test/v1/oauth/revoke", &spa, RevocableToken::Refresh(&rt));
/// assert_eq!(r.body.as_deref(), Some("token=r&token_type_hint=refresh_token&client_id=spa"));
/// assert!(r.keepalive && !r.follow_redirects);
/// ```
pub fn revocation_request(endpoint: &str, client: &OAuthClient, token: RevocableToken<'_>) -> HttpRequest {
    let (value, hint) = match token {
        RevocableToken::Refresh(t) => (t.expose(), "refresh_token"),
        RevocableToken::Access(t) => (t.expose(), "access_token"),
    };
    client_form_post(endpoint, client, &[("token", value), ("token_type_hint", hint)]).keep_alive()
}

/// Classifies a token-endpoint answer to a code exchange into tokens or an [`AuthError`] row of the taxonomy.
///
/// - 2xx with a usable body → the new [`TokenSet`] (received at `now_ms`, merged over `previous`);
/// - 2xx with an unusable body → `MalformedResponse`;
/// - 4xx with `invalid_grant` / `invalid_client` / `unauthorized_client` → `SessionEnded`;
/// - any other status → `Server` (with its `Retry-After`); no answer → `Network` / `Timeout`.
///
/// A refresh answer goes through [`refresh_outcome`] instead, which never keeps a consumed refresh token.
///
/// ```
/// use oten_auth_core::{AuthError, HttpResponse, token_endpoint_outcome};
/// let denied = HttpResponse::new(400, r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#);
/// let e = token_endpoint_outcome(Ok(denied), 0, None).unwrap_err();
/// assert!(e.requires_reauth());
/// let down = token_endpoint_outcome(Ok(HttpResponse::new(503, "<html>").with_header("Retry-After", "7")), 0, None);
/// assert_eq!(down.unwrap_err(), AuthError::Server { status: 503, oauth: None, retry_after_secs: Some(7) });
/// ```
pub fn token_endpoint_outcome(
    answer: Result<HttpResponse, TransportError>,
    now_ms: i64,
    previous: Option<&TokenSet>,
) -> Result<TokenSet, AuthError> {
    let response = answer?;
    if response.is_success() {
        return TokenSet::parse_token_response(&response.body, now_ms, previous).map_err(AuthError::MalformedResponse);
    }
    Err(error_answer(&response))
}

/// A non-2xx token-endpoint answer as an [`AuthError`].
fn error_answer(response: &HttpResponse) -> AuthError {
    let oauth = OAuthErrorBody::parse(&response.body);
    let is_client_error = (400..500).contains(&response.status);
    match oauth {
        Some(o) if is_client_error && o.ends_session() => {
            AuthError::SessionEnded { reason: EndReason::Refused { oauth: Some(o) } }
        }
        oauth => AuthError::Server { status: response.status, oauth, retry_after_secs: retry_after(response) },
    }
}

/// `Retry-After` in seconds (RFC 9110 §10.2.3; the HTTP-date form is not used by token endpoints and is ignored).
pub(crate) fn retry_after(response: &HttpResponse) -> Option<u32> {
    response.header_value("retry-after")?.trim().parse::<u32>().ok()
}

/// What a refresh answer means for the session ([`refresh_outcome`]).
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshOutcome {
    /// New tokens.
    Renewed(TokenSet),
    /// A 2xx answer that could not be used but carried a new refresh token: the provider has rotated, so the new
    /// refresh token is kept (with the previous access token) and the problem reported.
    Salvaged {
        /// The previous tokens with the new refresh token.
        tokens: TokenSet,
        /// What was wrong with the answer.
        problem: TokenResponseError,
    },
    /// The refresh failed; the error's row of the taxonomy says whether the tokens are kept.
    Failed(AuthError),
}

/// Classifies a refresh answer (RFC 6749 §6) of the session `previous`.
///
/// A 2xx answer means the provider accepted — and, with rotation, consumed — the refresh token presented. So a 2xx
/// answer that cannot be used never leaves the client holding that refresh token: a `refresh_token` string found
/// in it is taken ([`RefreshOutcome::Salvaged`]), else the session ends ([`EndReason::UnusableAnswer`]). Every other
/// answer is classified as by [`token_endpoint_outcome`]: a malformed non-2xx answer keeps the tokens.
///
/// ```
/// use oten_auth_core::{HttpResponse, TokenSet, refresh_outcome, RefreshOutcome};
/// let old = TokenSet::parse_token_response(r#"{"access_token":"a","refresh_token":"r1"}"#, 0, None).unwrap();
/// let odd = HttpResponse::new(200, r#"{"access_token":"b","token_type":"N_A","refresh_token":"r2"}"#);
/// assert!(matches!(refresh_outcome(Ok(odd), 1, &old), RefreshOutcome::Salvaged { .. }));
/// let empty = HttpResponse::new(200, r#"{"result":"ok"}"#);
/// let RefreshOutcome::Failed(e) = refresh_outcome(Ok(empty), 1, &old) else { panic!() };
/// assert!(e.requires_reauth());
/// ```
pub fn refresh_outcome(
    answer: Result<HttpResponse, TransportError>,
    now_ms: i64,
    previous: &TokenSet,
) -> RefreshOutcome {
    let response = match answer {
        Ok(r) => r,
        Err(e) => return RefreshOutcome::Failed(e.into()),
    };
    if !response.is_success() {
        return RefreshOutcome::Failed(error_answer(&response));
    }
    match TokenSet::parse_token_response(&response.body, now_ms, Some(previous)) {
        Ok(tokens) => RefreshOutcome::Renewed(tokens),
        Err(problem) => match TokenSet::salvage_refresh(&response.body, previous) {
            Some(tokens) => RefreshOutcome::Salvaged { tokens, problem },
            None => RefreshOutcome::Failed(AuthError::SessionEnded {
                reason: EndReason::UnusableAnswer { problem: problem.to_string() },
            }),
        },
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
        assert_eq!(net, AuthError::Network(TransportError::Network("offline".into())));
        assert_eq!(token_endpoint_outcome(Err(TransportError::Timeout), 0, None).unwrap_err(), AuthError::Timeout);
    }

    fn previous() -> TokenSet {
        TokenSet::parse_token_response(r#"{"access_token":"a","refresh_token":"r1"}"#, 1, None)
            .unwrap()
            .with_lineage("L")
    }

    #[test]
    fn a_2xx_answer_never_leaves_the_presented_refresh_token_in_use() {
        let o = |body: &str| refresh_outcome(Ok(HttpResponse::new(200, body)), 10, &previous());
        // Usable, also with the shapes lenient providers send.
        for ok in [
            r#"{"access_token":"b","refresh_token":"r2","expires_in":60}"#,
            r#"{"access_token":"b","refresh_token":"r2","scope":["openid","offline_access"]}"#,
            r#"{"access_token":"b","refresh_token":"r2","expires_in":"3600.0"}"#,
        ] {
            let RefreshOutcome::Renewed(t) = o(ok) else { panic!("{ok}") };
            assert_eq!((t.refresh_token.unwrap().expose(), t.seq), ("r2", 1));
        }
        // Unusable but rotated: the new refresh token is taken.
        for salvage in [r#"{"access_token":"b","token_type":"N_A","refresh_token":"r2"}"#, r#"{"refresh_token":"r2"}"#]
        {
            let RefreshOutcome::Salvaged { tokens, .. } = o(salvage) else { panic!("{salvage}") };
            assert_eq!(tokens.refresh_token.unwrap().expose(), "r2");
        }
        // Unusable and nothing to go on with: the session ends (never a retry with r1).
        for dead in [r#"{"result":"ok"}"#, "{oops", "", r#"{"access_token":"b","token_type":"mac"}"#] {
            let RefreshOutcome::Failed(e) = o(dead) else { panic!("{dead}") };
            assert_eq!(e.end_reason().map(EndReason::label), Some("unusable_answer"), "{dead}");
        }
        // A malformed non-2xx answer keeps the tokens.
        let RefreshOutcome::Failed(e) =
            refresh_outcome(Ok(HttpResponse::new(502, r#"{"error":"server_er"#)), 10, &previous())
        else {
            panic!()
        };
        assert!(e.is_retryable());
        let RefreshOutcome::Failed(e) = refresh_outcome(Err(TransportError::Redirected), 10, &previous()) else {
            panic!()
        };
        assert!(e.is_retryable());
    }
}
