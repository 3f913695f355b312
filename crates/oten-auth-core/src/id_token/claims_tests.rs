//! Tests of [`super::validate_claims`], one per rule, with boundaries.

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
