//! ID token claims validation (OpenID Connect Core 1.0 §3.1.3.7), after the signature has been verified.

use super::IdTokenError;
use crate::secret::Nonce;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Default clock leeway, in seconds, for `exp`, `iat` and `nbf`.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;

/// What this client expects of an ID token: who issues it, for whom, for which sign-in, and when "now" is.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::IdTokenExpectations;
///
/// let expect = IdTokenExpectations::new("https://account.oten.com", "my-client", "n-0S6_WzA2Mj", 1_700_000_000);
/// assert_eq!(expect.leeway_secs, 60);
/// let strict = expect.with_leeway_secs(0);
/// assert_eq!(strict.leeway_secs, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenExpectations {
    /// The issuer identifier from discovery/configuration; `iss` must equal it exactly.
    pub issuer: String,
    /// This client's `client_id`; it must be among `aud`.
    pub client_id: String,
    /// The `nonce` sent in this sign-in's authorization request.
    pub nonce: Nonce,
    /// The current time, in seconds since the Unix epoch.
    pub now_secs: i64,
    /// Allowed clock skew, in seconds (negative values count as 0).
    pub leeway_secs: i64,
    /// When the sign-in asked for `max_age`: `auth_time` is then required and must be at most this old.
    pub max_age_secs: Option<i64>,
    /// When the sign-in asked for `acr_values`: `acr` is then required and must be one of them.
    pub acr_values: Option<Vec<String>>,
}

impl IdTokenExpectations {
    /// Expectations with the default leeway of [`DEFAULT_LEEWAY_SECS`].
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        nonce: impl Into<Nonce>,
        now_secs: i64,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            nonce: nonce.into(),
            now_secs,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_age_secs: None,
            acr_values: None,
        }
    }

    /// The same expectations for a sign-in that asked for `max_age` and `acr_values` (space-separated).
    ///
    /// ```
    /// use oten_auth_core::id_token::IdTokenExpectations;
    /// let e = IdTokenExpectations::new("https://idp.test", "app", "n", 0).with_step_up(Some(300), Some("urn:mfa pwd"));
    /// assert_eq!(e.max_age_secs, Some(300));
    /// assert_eq!(e.acr_values, Some(vec!["urn:mfa".to_string(), "pwd".to_string()]));
    /// ```
    #[must_use]
    pub fn with_step_up(mut self, max_age_secs: Option<u32>, acr_values: Option<&str>) -> Self {
        self.max_age_secs = max_age_secs.map(i64::from);
        self.acr_values = acr_values
            .map(|v| v.split_whitespace().map(str::to_owned).collect())
            .filter(|v: &Vec<String>| !v.is_empty());
        self
    }

    /// The same expectations with another leeway.
    #[must_use]
    pub fn with_leeway_secs(mut self, leeway_secs: i64) -> Self {
        self.leeway_secs = leeway_secs;
        self
    }
}

/// The validated claims of an ID token: what the app shows as "the signed-in user".
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::IdTokenClaims;
///
/// let claims: IdTokenClaims = serde_json::from_str(r#"{"sub":"u1","exp":2,"iat":1,"name":"Alice"}"#).unwrap();
/// assert_eq!(claims.name.as_deref(), Some("Alice"));
/// assert_eq!(claims.email, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Subject: the user's stable identifier at the issuer.
    pub sub: String,
    /// Full name, if released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email address, if released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the issuer verified the email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Short name the user goes by, if released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Expiry of the ID token, seconds since the epoch.
    pub exp: i64,
    /// Issue time of the ID token, seconds since the epoch.
    pub iat: i64,
    /// Time the user authenticated, seconds since the epoch, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The authentication context class the provider satisfied, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

impl IdTokenClaims {
    /// Claims with only a subject: a person to show in tests and previews (nothing else is released).
    ///
    /// ```
    /// use oten_auth_core::id_token::IdTokenClaims;
    /// let alice = IdTokenClaims::new("u1").with_name("Alice").with_email("alice@example.test");
    /// assert_eq!(alice.name.as_deref(), Some("Alice"));
    /// ```
    pub fn new(sub: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            name: None,
            email: None,
            email_verified: None,
            preferred_username: None,
            exp: 0,
            iat: 0,
            auth_time: None,
            acr: None,
        }
    }

    /// The same claims with a full name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The same claims with a verified email address.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self.email_verified = Some(true);
        self
    }
}

/// Validates the claims of a signature-verified ID token against `expect`:
/// `iss` exact; `aud` (string or array) contains `client_id`; `azp` required with several audiences and, when
/// present, equal to `client_id`; `now < exp + leeway`; `iat <= now + leeway`; `nbf <= now + leeway` if
/// present; `nonce` present and equal; `sub` a non-empty string; with `max_age`, `auth_time` present and recent
/// enough; with `acr_values`, `acr` present and one of them.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::{validate_claims, IdTokenError, IdTokenExpectations};
///
/// let expect = IdTokenExpectations::new("https://idp.test", "app", "n1", 1_000);
/// let claims = serde_json::json!({
///     "iss": "https://idp.test", "aud": "app", "sub": "u1", "nonce": "n1", "iat": 990, "exp": 1_300,
/// });
/// let user = validate_claims(claims.as_object().unwrap(), &expect).unwrap();
/// assert_eq!(user.sub, "u1");
///
/// let other = IdTokenExpectations { nonce: "n2".into(), ..expect };
/// assert_eq!(validate_claims(claims.as_object().unwrap(), &other), Err(IdTokenError::WrongNonce));
/// ```
pub fn validate_claims(
    claims: &Map<String, Value>,
    expect: &IdTokenExpectations,
) -> Result<IdTokenClaims, IdTokenError> {
    let leeway = expect.leeway_secs.max(0);
    let now = expect.now_secs;
    let (exp, iat) = check_issued_for(claims, &expect.issuer, &expect.client_id, now, leeway)?;

    match claims.get("nonce") {
        None => return Err(IdTokenError::MissingClaim("nonce")),
        Some(Value::String(nonce)) if !expect.nonce.expose().is_empty() && nonce == expect.nonce.expose() => {}
        Some(_) => return Err(IdTokenError::WrongNonce),
    }

    let sub = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
        Some(Value::String(_)) | None => return Err(IdTokenError::MissingClaim("sub")),
        Some(_) => return Err(IdTokenError::Malformed("the sub claim is not a string".into())),
    };

    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let auth_time = numeric_date(claims, "auth_time", f64::floor)?;
    if let Some(max_age) = expect.max_age_secs {
        // OpenID Connect Core §3.1.2.1: with max_age, auth_time is required and bounds the authentication's age.
        let auth_time = auth_time.ok_or(IdTokenError::MissingClaim("auth_time"))?;
        if now > auth_time.saturating_add(max_age).saturating_add(leeway) {
            return Err(IdTokenError::AuthenticationTooOld);
        }
    }
    let acr = text("acr");
    if let Some(wanted) = &expect.acr_values {
        let acr = acr.as_deref().ok_or(IdTokenError::MissingClaim("acr"))?;
        if !wanted.iter().any(|w| w == acr) {
            return Err(IdTokenError::WrongAcr);
        }
    }
    let email_verified = match claims.get("email_verified") {
        Some(Value::Bool(verified)) => Some(*verified),
        // Some providers send the boolean as a string.
        Some(Value::String(s)) if s == "true" => Some(true),
        Some(Value::String(s)) if s == "false" => Some(false),
        _ => None,
    };

    Ok(IdTokenClaims {
        sub,
        name: text("name"),
        email: text("email"),
        email_verified,
        preferred_username: text("preferred_username"),
        exp,
        iat,
        auth_time,
        acr,
    })
}

/// The checks an ID token and a logout token share: `iss` exact; `aud` (string or array) contains `client_id`; `azp`
/// required with several audiences and, when present, equal to `client_id`; `now < exp + leeway`;
/// `iat <= now + leeway`; `nbf <= now + leeway` if present. Returns `(exp, iat)`.
pub(super) fn check_issued_for(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now: i64,
    leeway: i64,
) -> Result<(i64, i64), IdTokenError> {
    match claims.get("iss") {
        None => return Err(IdTokenError::MissingClaim("iss")),
        Some(Value::String(iss)) if *iss == issuer => {}
        Some(_) => return Err(IdTokenError::WrongIssuer),
    }

    let audiences: Vec<&str> = match claims.get("aud") {
        None => return Err(IdTokenError::MissingClaim("aud")),
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Err(IdTokenError::WrongAudience),
    };
    if !audiences.contains(&client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    let several_audiences = matches!(claims.get("aud"), Some(Value::Array(items)) if items.len() > 1);
    match claims.get("azp") {
        None if several_audiences => return Err(IdTokenError::MissingAzp),
        None => {}
        Some(Value::String(azp)) if *azp == client_id => {}
        Some(_) => return Err(IdTokenError::WrongAzp),
    }

    // Fractional NumericDates are rounded in the stricter direction: exp down, iat/nbf up.
    let exp = numeric_date(claims, "exp", f64::floor)?.ok_or(IdTokenError::MissingClaim("exp"))?;
    if now >= exp.saturating_add(leeway) {
        return Err(IdTokenError::Expired);
    }
    let iat = numeric_date(claims, "iat", f64::ceil)?.ok_or(IdTokenError::MissingClaim("iat"))?;
    if iat > now.saturating_add(leeway) {
        return Err(IdTokenError::IssuedInFuture);
    }
    if let Some(nbf) = numeric_date(claims, "nbf", f64::ceil)? {
        if nbf > now.saturating_add(leeway) {
            return Err(IdTokenError::NotYetValid);
        }
    }

    Ok((exp, iat))
}

/// Reads an optional NumericDate claim; a present value that is not a finite number is malformed.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
    round: fn(f64) -> f64,
) -> Result<Option<i64>, IdTokenError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let not_a_date = || IdTokenError::Malformed(format!("the {name} claim is not a number of seconds"));
    let Value::Number(number) = value else {
        return Err(not_a_date());
    };
    if let Some(int) = number.as_i64() {
        return Ok(Some(int));
    }
    match number.as_f64().map(round) {
        // Bounds keep the cast exact; ±2^53 s is far beyond any real date.
        Some(secs) if secs.is_finite() && secs.abs() < 9_007_199_254_740_992.0 => Ok(Some(secs as i64)),
        _ => Err(not_a_date()),
    }
}

#[cfg(test)]
mod tests {
    // Tests of [`super::validate_claims`], one per rule, with boundaries.
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;
    const LEEWAY: i64 = 60;

    fn expect() -> IdTokenExpectations {
        IdTokenExpectations::new("https://idp.test", "app", "nonce-1", NOW)
    }

    fn good() -> Map<String, Value> {
        let value = json!({
            "iss": "https://idp.test",
            "aud": "app",
            "sub": "user-1",
            "nonce": "nonce-1",
            "iat": NOW - 5,
            "exp": NOW + 300,
            "name": "Alice Example",
            "email": "alice@example.test",
            "email_verified": true,
            "preferred_username": "alice",
            "auth_time": NOW - 10,
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn with(key: &str, value: Value) -> Map<String, Value> {
        let mut claims = good();
        claims.insert(key.to_owned(), value);
        claims
    }

    fn without(key: &str) -> Map<String, Value> {
        let mut claims = good();
        claims.remove(key);
        claims
    }

    fn check(claims: &Map<String, Value>) -> Result<IdTokenClaims, IdTokenError> {
        validate_claims(claims, &expect())
    }

    #[test]
    fn accepts_a_valid_token_and_returns_the_user() {
        let user = check(&good()).unwrap();
        assert_eq!(
            user,
            IdTokenClaims {
                sub: "user-1".into(),
                name: Some("Alice Example".into()),
                email: Some("alice@example.test".into()),
                email_verified: Some(true),
                preferred_username: Some("alice".into()),
                exp: NOW + 300,
                iat: NOW - 5,
                auth_time: Some(NOW - 10),
                acr: None,
            }
        );
        let json = serde_json::to_string(&user).unwrap();
        assert_eq!(serde_json::from_str::<IdTokenClaims>(&json).unwrap(), user);
    }

    #[test]
    fn optional_profile_claims_may_be_absent_or_odd() {
        let mut claims = good();
        for key in ["name", "email", "preferred_username", "auth_time"] {
            claims.remove(key);
        }
        claims.insert("email_verified".into(), json!("false"));
        let user = check(&claims).unwrap();
        assert_eq!((user.name, user.email, user.email_verified, user.auth_time), (None, None, Some(false), None));
        assert_eq!(check(&with("name", json!(42))).unwrap().name, None);
    }

    #[test]
    fn issuer_must_match_exactly() {
        assert_eq!(check(&with("iss", json!("https://evil.test"))), Err(IdTokenError::WrongIssuer));
        assert_eq!(check(&with("iss", json!("https://idp.test/"))), Err(IdTokenError::WrongIssuer));
        assert_eq!(check(&with("iss", json!("HTTPS://IDP.TEST"))), Err(IdTokenError::WrongIssuer));
        assert_eq!(check(&with("iss", json!(["https://idp.test"]))), Err(IdTokenError::WrongIssuer));
        assert_eq!(check(&without("iss")), Err(IdTokenError::MissingClaim("iss")));
    }

    #[test]
    fn audience_string_or_array() {
        assert_eq!(check(&with("aud", json!("other"))), Err(IdTokenError::WrongAudience));
        assert_eq!(check(&with("aud", json!(["app"]))).map(|c| c.sub), Ok("user-1".into()));
        assert_eq!(check(&with("aud", json!(["other"]))), Err(IdTokenError::WrongAudience));
        assert_eq!(check(&with("aud", json!([]))), Err(IdTokenError::WrongAudience));
        assert_eq!(check(&with("aud", json!(7))), Err(IdTokenError::WrongAudience));
        assert_eq!(check(&with("aud", json!("APP"))), Err(IdTokenError::WrongAudience));
        assert_eq!(check(&without("aud")), Err(IdTokenError::MissingClaim("aud")));
    }

    #[test]
    fn several_audiences_need_azp() {
        let multi = with("aud", json!(["api", "app"]));
        assert_eq!(check(&multi), Err(IdTokenError::MissingAzp));
        let mut ok = multi.clone();
        ok.insert("azp".into(), json!("app"));
        assert!(check(&ok).is_ok());
        let mut wrong = multi;
        wrong.insert("azp".into(), json!("api"));
        assert_eq!(check(&wrong), Err(IdTokenError::WrongAzp));
        // A present azp is checked with a single audience too.
        assert_eq!(check(&with("azp", json!("api"))), Err(IdTokenError::WrongAzp));
        assert!(check(&with("azp", json!("app"))).is_ok());
    }

    #[test]
    fn expiry_boundary() {
        // Refused once now >= exp + leeway.
        assert_eq!(check(&with("exp", json!(NOW - LEEWAY))), Err(IdTokenError::Expired));
        assert_eq!(check(&with("exp", json!(NOW - LEEWAY - 1))), Err(IdTokenError::Expired));
        assert!(check(&with("exp", json!(NOW - LEEWAY + 1))).is_ok());
        // Without leeway: exp == now is refused, exp == now + 1 accepted.
        let strict = expect().with_leeway_secs(0);
        assert_eq!(validate_claims(&with("exp", json!(NOW)), &strict), Err(IdTokenError::Expired));
        assert!(validate_claims(&with("exp", json!(NOW + 1)), &strict).is_ok());
        // Negative leeway never tightens beyond zero nor loosens.
        let negative = expect().with_leeway_secs(-100);
        assert!(validate_claims(&with("exp", json!(NOW + 1)), &negative).is_ok());
        assert_eq!(validate_claims(&with("exp", json!(NOW)), &negative), Err(IdTokenError::Expired));
        // Fractions round toward expiry.
        assert_eq!(check(&with("exp", json!((NOW - LEEWAY) as f64 + 0.9))), Err(IdTokenError::Expired));
    }

    #[test]
    fn expiry_must_be_a_number() {
        assert_eq!(check(&without("exp")), Err(IdTokenError::MissingClaim("exp")));
        assert!(matches!(check(&with("exp", json!("9999999999"))), Err(IdTokenError::Malformed(_))));
        assert!(matches!(check(&with("exp", json!(1e300))), Err(IdTokenError::Malformed(_))));
        // Saturation instead of overflow.
        assert!(check(&with("exp", json!(i64::MAX))).is_ok());
        let huge_leeway = expect().with_leeway_secs(i64::MAX);
        assert!(validate_claims(&with("iat", json!(i64::MAX)), &huge_leeway).is_ok());
    }

    #[test]
    fn issued_at_boundary() {
        assert!(check(&with("iat", json!(NOW + LEEWAY))).is_ok());
        assert_eq!(check(&with("iat", json!(NOW + LEEWAY + 1))), Err(IdTokenError::IssuedInFuture));
        assert_eq!(check(&with("iat", json!(NOW + 3600))), Err(IdTokenError::IssuedInFuture));
        assert_eq!(check(&without("iat")), Err(IdTokenError::MissingClaim("iat")));
        assert!(matches!(check(&with("iat", json!(null))), Err(IdTokenError::Malformed(_))));
    }

    #[test]
    fn not_before_boundary() {
        assert!(check(&with("nbf", json!(NOW + LEEWAY))).is_ok());
        assert_eq!(check(&with("nbf", json!(NOW + LEEWAY + 1))), Err(IdTokenError::NotYetValid));
        assert!(matches!(check(&with("nbf", json!("soon"))), Err(IdTokenError::Malformed(_))));
    }

    #[test]
    fn nonce_is_required_and_must_match() {
        assert_eq!(check(&with("nonce", json!("nonce-2"))), Err(IdTokenError::WrongNonce));
        assert_eq!(check(&with("nonce", json!(1))), Err(IdTokenError::WrongNonce));
        assert_eq!(check(&without("nonce")), Err(IdTokenError::MissingClaim("nonce")));
        // An empty expected nonce (a bug in the caller) never matches, not even an empty claim.
        let empty = IdTokenExpectations { nonce: "".into(), ..expect() };
        assert_eq!(validate_claims(&with("nonce", json!("")), &empty), Err(IdTokenError::WrongNonce));
    }

    #[test]
    fn subject_is_required() {
        assert_eq!(check(&without("sub")), Err(IdTokenError::MissingClaim("sub")));
        assert_eq!(check(&with("sub", json!(""))), Err(IdTokenError::MissingClaim("sub")));
        assert!(matches!(check(&with("sub", json!(123))), Err(IdTokenError::Malformed(_))));
    }
}
