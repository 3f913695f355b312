//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4–2.6): the provider's signed notice that
//! a session ended, posted to a backend. Signed and checked like an ID token, with their own claim rules.

use super::claims::check_issued_for;
use super::{decode_jwt, select_key, IdTokenError, JwkSet};
use crate::crypto::{Crypto, CryptoError};
use serde_json::{Map, Value};

/// The `events` member that makes a JWT a logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The media type a provider may put in a logout token's `typ` header (§2.4); any other `typ` is refused.
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";

/// What a valid logout token names: the person (`sub`), the provider's session (`sid`), or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutToken {
    /// The subject whose sessions end (all of them when `sid` is absent).
    pub sub: Option<String>,
    /// The provider's session id that ended.
    pub sid: Option<String>,
    /// The token's unique id (to refuse replays, if the receiver keeps them).
    pub jti: String,
}

/// Validates the claims (and `typ`) of a signature-verified logout token: `iss`, `aud`, `azp`, `exp`, `iat`, `nbf`
/// as for an ID token; `jti` present; `events` an object with [`BACKCHANNEL_LOGOUT_EVENT`] whose value is an
/// object; `sub` or `sid` present (non-empty strings); **no `nonce`** (so an ID token can never pass as one).
///
/// ```
/// use oten_auth_core::id_token::{validate_logout_claims, IdTokenError, BACKCHANNEL_LOGOUT_EVENT};
/// let mut claims = serde_json::json!({"iss": "https://idp.test", "aud": "bff", "iat": 1000, "exp": 1120,
///     "jti": "j1", "sid": "s1", "events": {BACKCHANNEL_LOGOUT_EVENT: {}}});
/// let token = validate_logout_claims(claims.as_object().unwrap(), Some("logout+jwt"), "https://idp.test", "bff", 1001, 60).unwrap();
/// assert_eq!((token.sid.as_deref(), token.sub), (Some("s1"), None));
/// claims["nonce"] = "n".into();
/// assert_eq!(validate_logout_claims(claims.as_object().unwrap(), None, "https://idp.test", "bff", 1001, 60),
///     Err(IdTokenError::NonceInLogoutToken));
/// ```
pub fn validate_logout_claims(
    claims: &Map<String, Value>,
    typ: Option<&str>,
    issuer: &str,
    client_id: &str,
    now_secs: i64,
    leeway_secs: i64,
) -> Result<LogoutToken, IdTokenError> {
    if typ.is_some_and(|t| !t.eq_ignore_ascii_case(LOGOUT_TOKEN_TYPE) && !t.eq_ignore_ascii_case("JWT")) {
        return Err(IdTokenError::NotALogoutToken);
    }
    check_issued_for(claims, issuer, client_id, now_secs, leeway_secs.max(0))?;
    if claims.contains_key("nonce") {
        return Err(IdTokenError::NonceInLogoutToken);
    }
    let event = claims.get("events").and_then(Value::as_object).and_then(|e| e.get(BACKCHANNEL_LOGOUT_EVENT));
    if !matches!(event, Some(Value::Object(_))) {
        return Err(IdTokenError::NotALogoutToken);
    }
    let text = |name: &'static str| -> Result<Option<String>, IdTokenError> {
        match claims.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(IdTokenError::Malformed(format!("the {name} claim is not a non-empty string"))),
        }
    };
    let jti = text("jti")?.ok_or(IdTokenError::MissingClaim("jti"))?;
    let (sub, sid) = (text("sub")?, text("sid")?);
    if sub.is_none() && sid.is_none() {
        return Err(IdTokenError::MissingClaim("sub or sid"));
    }
    Ok(LogoutToken { sub, sid, jti })
}

/// Verifies a logout token end to end: decode, the provider's key by `kid` and algorithm, the signature through
/// `crypto`, then [`validate_logout_claims`].
pub async fn verify_logout_token(
    crypto: &dyn Crypto,
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
    client_id: &str,
    now_secs: i64,
    leeway_secs: i64,
) -> Result<LogoutToken, IdTokenError> {
    let jwt = decode_jwt(token)?;
    let jwk = select_key(jwks, jwt.header())?;
    match crypto.verify_signature(jwk, jwt.header().alg, jwt.signing_input(), jwt.signature()).await {
        Ok(true) => {
            validate_logout_claims(jwt.claims(), jwt.header().typ.as_deref(), issuer, client_id, now_secs, leeway_secs)
        }
        Ok(false) => Err(IdTokenError::BadSignature),
        Err(CryptoError::KeyMismatch(_)) => Err(IdTokenError::KeyMismatch),
        Err(other) => Err(IdTokenError::Crypto(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Value {
        json!({"iss": "https://idp.test", "aud": ["bff"], "iat": 1000, "exp": 1120, "jti": "j1", "sub": "u1",
               "events": {BACKCHANNEL_LOGOUT_EVENT: {}}})
    }

    fn check(v: &Value, typ: Option<&str>) -> Result<LogoutToken, IdTokenError> {
        validate_logout_claims(v.as_object().unwrap(), typ, "https://idp.test", "bff", 1010, 0)
    }

    #[test]
    fn every_rule_of_a_logout_token_is_enforced() {
        assert_eq!(check(&claims(), Some("logout+jwt")).unwrap().sub.as_deref(), Some("u1"));
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            c
        };
        let without = |k: &str| {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(k);
            c
        };
        assert_eq!(check(&claims(), Some("JWS")), Err(IdTokenError::NotALogoutToken));
        assert_eq!(check(&without("events"), None), Err(IdTokenError::NotALogoutToken));
        assert_eq!(check(&with("events", json!({"other": {}})), None), Err(IdTokenError::NotALogoutToken));
        assert_eq!(
            check(&with("events", json!({BACKCHANNEL_LOGOUT_EVENT: "x"})), None),
            Err(IdTokenError::NotALogoutToken)
        );
        assert_eq!(check(&without("jti"), None), Err(IdTokenError::MissingClaim("jti")));
        assert_eq!(check(&without("sub"), None), Err(IdTokenError::MissingClaim("sub or sid")));
        assert_eq!(check(&with("nonce", json!("n")), None), Err(IdTokenError::NonceInLogoutToken));
        assert_eq!(check(&with("iss", json!("https://evil.test")), None), Err(IdTokenError::WrongIssuer));
        assert_eq!(check(&with("aud", json!("spa")), None), Err(IdTokenError::WrongAudience));
        assert_eq!(check(&with("exp", json!(1000)), None), Err(IdTokenError::Expired));
        assert_eq!(check(&without("exp"), None), Err(IdTokenError::MissingClaim("exp")));
        assert_eq!(check(&with("iat", json!(2000)), None), Err(IdTokenError::IssuedInFuture));
        assert!(matches!(check(&with("sid", json!(7)), None), Err(IdTokenError::Malformed(_))));
    }
}
