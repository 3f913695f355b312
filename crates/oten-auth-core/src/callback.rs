//! The authorization response at `/callback` (RFC 6749 §4.1.2, RFC 9207), checked before any token request.

use crate::crypto::CryptoError;
use crate::discovery::ProviderMetadata;
use crate::error::AuthError;
use crate::form::parse_query;
use crate::id_token::IdTokenError;
use crate::secret::{AuthorizationCode, State};
use crate::PendingAuthorization;

/// The parameters of the callback URL.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::CallbackParams;
/// let p = CallbackParams::from_query("?code=abc&state=xyz&iss=https%3A%2F%2Faccount.oten.com");
/// assert_eq!(p.code.as_ref().map(|c| c.expose()), Some("abc"));
/// assert!(!format!("{p:?}").contains("abc"), "the code is redacted");
/// assert_eq!(p.iss.as_deref(), Some("https://account.oten.com"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<AuthorizationCode>,
    /// The state sent with the request.
    pub state: Option<State>,
    /// The issuer (RFC 9207).
    pub iss: Option<String>,
    /// An error code from the IdP (`access_denied`, …).
    pub error: Option<String>,
    /// The IdP's text for the error; show as text only.
    pub error_description: Option<String>,
}

/// Why a sign-in did not complete. Every message is fit to show to the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The IdP answered with an error (the person declined, or the request was refused).
    #[error("{}", provider_message(.error, .description))]
    Provider {
        /// The error code.
        error: String,
        /// The IdP's description.
        description: Option<String>,
    },
    /// No `state` in the callback.
    #[error("the sign-in response is incomplete (no state); please sign in again")]
    MissingState,
    /// No sign-in was started in this tab, or this response was already used.
    #[error("this sign-in response is unknown or was already used; please sign in again")]
    UnknownState,
    /// The state does not match the sign-in started here.
    #[error("this sign-in response does not belong to the sign-in started here; please sign in again")]
    StateMismatch,
    /// The sign-in took too long.
    #[error("the sign-in took too long; please sign in again")]
    Expired,
    /// The response came from another issuer (mix-up attack defence).
    #[error("the sign-in response came from an unexpected issuer")]
    WrongIssuer,
    /// No code.
    #[error("the sign-in response has no authorization code")]
    MissingCode,
    /// Exchanging the code failed.
    #[error("could not complete the sign-in: {0}")]
    Exchange(#[source] AuthError),
    /// The ID token is not acceptable.
    #[error("could not verify your identity: {0}")]
    IdToken(#[source] IdTokenError),
    /// No random bytes for the session (in a browser: not a secure context).
    #[error("could not complete the sign-in: {0}")]
    Crypto(#[source] CryptoError),
}

fn provider_message(error: &str, description: &Option<String>) -> String {
    let lead = match error {
        "access_denied" => "Sign-in was cancelled or denied".to_owned(),
        "login_required" | "interaction_required" | "consent_required" => "The sign-in needs your input".to_owned(),
        other => format!("The sign-in server refused the request ({other})"),
    };
    match description {
        Some(d) => format!("{lead}: {d}"),
        None => format!("{lead}."),
    }
}

impl CallbackParams {
    /// Reads the query string of the callback URL.
    pub fn from_query(query: &str) -> Self {
        // A repeated parameter is suspicious: keep the first, as most servers do, but never an empty one.
        fn keep<T: From<String>>(slot: &mut Option<T>, value: String) {
            if slot.is_none() && !value.is_empty() {
                *slot = Some(T::from(value));
            }
        }
        let mut params = Self::default();
        for (key, value) in parse_query(query) {
            match key.as_str() {
                "code" => keep(&mut params.code, value),
                "state" => keep(&mut params.state, value),
                "iss" => keep(&mut params.iss, value),
                "error" => keep(&mut params.error, value),
                "error_description" => keep(&mut params.error_description, value),
                _ => {}
            }
        }
        params
    }

    /// Whether this URL is an authorization response at all.
    pub fn is_authorization_response(&self) -> bool {
        self.code.is_some() || self.error.is_some() || self.state.is_some()
    }

    /// Checks the response against the attempt started in this tab and returns the code to exchange.
    ///
    /// Refused before any token request, in this order: a missing, unknown (or already used), mismatched or
    /// expired state; a foreign `iss` (or a missing one when the IdP promises it); an IdP error (shown only once
    /// the state proved it answers this tab's sign-in); a missing code.
    ///
    /// ```
    /// use oten_auth_core::{CallbackError, CallbackParams, PendingAuthorization, ProviderMetadata};
    /// # let meta: ProviderMetadata = serde_json::from_str(r#"{"issuer":"https://idp.test","authorization_endpoint":"https://idp.test/a","token_endpoint":"https://idp.test/t","jwks_uri":"https://idp.test/j"}"#).unwrap();
    /// # let verifier = oten_auth_core::pkce::PkceVerifier::parse("v".repeat(43)).unwrap();
    /// let pending = PendingAuthorization::new("s1", "n", verifier, "/", "https://app.test/callback", 0);
    /// let ok = CallbackParams::from_query("code=c&state=s1").check(Some(&pending), &meta, 1);
    /// assert_eq!(ok.unwrap().expose(), "c");
    /// let replay = CallbackParams::from_query("code=c&state=s1").check(None, &meta, 1);
    /// assert_eq!(replay, Err(CallbackError::UnknownState));
    /// ```
    pub fn check(
        &self,
        pending: Option<&PendingAuthorization>,
        meta: &ProviderMetadata,
        now_ms: i64,
    ) -> Result<AuthorizationCode, CallbackError> {
        // The state and issuer are checked first, also for error responses: an error (and its text) is shown only
        // when it answers the sign-in started in this tab, so a crafted link cannot put words on this page.
        let state = self.state.as_ref().ok_or(CallbackError::MissingState)?;
        let pending = pending.ok_or(CallbackError::UnknownState)?;
        if !constant_time_eq(state.expose().as_bytes(), pending.state.expose().as_bytes()) {
            return Err(CallbackError::StateMismatch);
        }
        if pending.is_expired(now_ms) {
            return Err(CallbackError::Expired);
        }
        match &self.iss {
            Some(iss) if *iss != meta.issuer => return Err(CallbackError::WrongIssuer),
            None if meta.authorization_response_iss_parameter_supported => return Err(CallbackError::WrongIssuer),
            _ => {}
        }
        if let Some(error) = &self.error {
            return Err(CallbackError::Provider { error: error.clone(), description: self.error_description.clone() });
        }
        self.code.clone().ok_or(CallbackError::MissingCode)
    }
}

/// Whether two byte strings are equal, in a time that does not depend on where they differ (for secrets and
/// identifiers an attacker could guess byte by byte).
///
/// ```
/// assert!(oten_auth_core::constant_time_eq(b"abc", b"abc"));
/// assert!(!oten_auth_core::constant_time_eq(b"abc", b"abd"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(iss_supported: bool) -> ProviderMetadata {
        let mut m: ProviderMetadata = serde_json::from_str(
            r#"{"issuer":"https://idp.test","authorization_endpoint":"https://idp.test/a","token_endpoint":"https://idp.test/t","jwks_uri":"https://idp.test/j"}"#,
        )
        .unwrap();
        m.authorization_response_iss_parameter_supported = iss_supported;
        m
    }

    fn pending() -> PendingAuthorization {
        PendingAuthorization::new(
            "s1",
            "n",
            crate::pkce::PkceVerifier::parse("v".repeat(43)).unwrap(),
            "/profile",
            "https://app.test/callback",
            1_000,
        )
    }

    #[test]
    fn every_refusal_happens_before_an_exchange() {
        let p = pending();
        let check = |q: &str, pending: Option<&PendingAuthorization>, iss: bool, now: i64| {
            CallbackParams::from_query(q).check(pending, &meta(iss), now)
        };
        assert_eq!(check("code=c&state=s1&iss=https%3A%2F%2Fidp.test", Some(&p), true, 2_000), Ok("c".into()));
        assert_eq!(check("code=c", Some(&p), false, 2_000), Err(CallbackError::MissingState));
        assert_eq!(check("code=c&state=", Some(&p), false, 2_000), Err(CallbackError::MissingState));
        assert_eq!(check("code=c&state=s1", None, false, 2_000), Err(CallbackError::UnknownState));
        assert_eq!(check("code=c&state=s2", Some(&p), false, 2_000), Err(CallbackError::StateMismatch));
        assert_eq!(check("code=c&state=s1", Some(&p), false, 1_000 + 600_000), Err(CallbackError::Expired));
        assert_eq!(
            check("code=c&state=s1&iss=https%3A%2F%2Fevil.test", Some(&p), false, 2_000),
            Err(CallbackError::WrongIssuer)
        );
        assert_eq!(check("code=c&state=s1", Some(&p), true, 2_000), Err(CallbackError::WrongIssuer));
        assert_eq!(check("state=s1", Some(&p), false, 2_000), Err(CallbackError::MissingCode));
        let denied =
            check("error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state=s1", Some(&p), false, 2_000);
        let e = denied.unwrap_err();
        assert_eq!(e.to_string(), "Sign-in was cancelled or denied: <b>no</b>");
        // A crafted error link without this tab's state shows no attacker text.
        let crafted = check("error=access_denied&error_description=Call+0800-SCAM&state=guess", Some(&p), false, 2_000);
        assert_eq!(crafted, Err(CallbackError::StateMismatch));
        assert_eq!(
            check("error=access_denied&error_description=x", None, false, 2_000),
            Err(CallbackError::MissingState)
        );
        let foreign = check("error=access_denied&state=s1&iss=https%3A%2F%2Fevil.test", Some(&p), false, 2_000);
        assert_eq!(foreign, Err(CallbackError::WrongIssuer));
    }
}
