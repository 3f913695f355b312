//! Tests of the `jwt` module.

use super::*;
use crate::base64url::encode;

fn token(header: &str, payload: &str, signature: &[u8]) -> String {
    format!("{}.{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()), encode(signature))
}

#[test]
fn decodes_a_well_formed_token() {
    let t = token(r#"{"alg":"ES256","kid":"k","typ":"JWT"}"#, r#"{"sub":"a"}"#, &[9; 64]);
    let jwt = decode_jwt(&t).unwrap();
    assert_eq!(jwt.header(), &JwtHeader { alg: JwsAlgorithm::Es256, kid: Some("k".into()), typ: Some("JWT".into()) });
    assert_eq!(jwt.claims()["sub"], "a");
    assert_eq!(jwt.signature(), &[9; 64]);
    let dot = t.rfind('.').unwrap();
    assert_eq!(jwt.signing_input(), &t.as_bytes()[..dot]);
}

#[test]
fn accepts_each_supported_algorithm() {
    for alg in ["EdDSA", "ES256", "RS256"] {
        let t = token(&format!(r#"{{"alg":"{alg}"}}"#), "{}", &[1]);
        assert_eq!(decode_jwt(&t).unwrap().header().alg.as_str(), alg);
    }
}

#[test]
fn refuses_alg_none_and_others() {
    let none = format!("{}.{}.", encode(br#"{"alg":"none"}"#), encode(b"{}"));
    assert_eq!(decode_jwt(&none), Err(IdTokenError::UnsupportedAlgorithm("none".into())));
    for alg in ["HS256", "RS512", "eddsa", "None", "ES384", ""] {
        let t = token(&format!(r#"{{"alg":"{alg}"}}"#), "{}", &[1]);
        assert!(matches!(decode_jwt(&t), Err(IdTokenError::UnsupportedAlgorithm(_))), "{alg}");
    }
}

#[test]
fn refuses_missing_or_non_string_alg() {
    for header in [r#"{}"#, r#"{"alg":1}"#, r#"{"alg":null}"#] {
        assert!(matches!(decode_jwt(&token(header, "{}", &[1])), Err(IdTokenError::Malformed(_))));
    }
}

#[test]
fn refuses_crit() {
    let t = token(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#, "{}", &[1]);
    assert!(matches!(decode_jwt(&t), Err(IdTokenError::Malformed(m)) if m.contains("crit")));
}

#[test]
fn refuses_access_token_typ_and_non_string_kid() {
    let t = token(r#"{"alg":"EdDSA","typ":"at+jwt"}"#, "{}", &[1]);
    assert!(matches!(decode_jwt(&t), Err(IdTokenError::Malformed(_))));
    let t = token(r#"{"alg":"EdDSA","kid":7}"#, "{}", &[1]);
    assert!(matches!(decode_jwt(&t), Err(IdTokenError::Malformed(_))));
}

#[test]
fn refuses_wrong_segment_count() {
    let good = token(r#"{"alg":"EdDSA"}"#, "{}", &[1]);
    for bad in [String::new(), "a".into(), "a.b".into(), format!("{good}.x"), format!("{good}.x.y")] {
        assert!(matches!(decode_jwt(&bad), Err(IdTokenError::Malformed(_))), "{bad}");
    }
}

#[test]
fn refuses_bad_base64() {
    let h = encode(br#"{"alg":"EdDSA"}"#);
    let p = encode(b"{}");
    for bad in [format!("{h}=.{p}.AQ"), format!("{h}.{p}+.AQ"), format!("{h}.{p}.A"), format!("{h}.{p}.AQ==")] {
        assert!(matches!(decode_jwt(&bad), Err(IdTokenError::Malformed(_))), "{bad}");
    }
}

#[test]
fn refuses_non_object_json_and_empty_signature() {
    assert!(matches!(decode_jwt(&token("[]", "{}", &[1])), Err(IdTokenError::Malformed(_))));
    assert!(matches!(decode_jwt(&token(r#"{"alg":"EdDSA"}"#, "[1]", &[1])), Err(IdTokenError::Malformed(_))));
    assert!(matches!(decode_jwt(&token(r#"{"alg":"EdDSA"}"#, "{", &[1])), Err(IdTokenError::Malformed(_))));
    assert!(matches!(decode_jwt(&token(r#"{"alg":"EdDSA"}"#, "{}", &[])), Err(IdTokenError::Malformed(_))));
}

#[test]
fn refuses_oversized_tokens() {
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(MAX_TOKEN_BYTES));
    assert!(matches!(decode_jwt(&token(r#"{"alg":"EdDSA"}"#, &big, &[1])), Err(IdTokenError::Malformed(_))));
}

#[test]
fn errors_and_debug_never_contain_the_token() {
    let t = token(r#"{"alg":"EdDSA"}"#, r#"{"secret":"hunter2hunter2"}"#, &[1]);
    let jwt = decode_jwt(&t).unwrap();
    let shown = format!("{jwt:?}");
    assert!(!shown.contains(&t[..10]) && !shown.contains("hunter2"));
    let err = decode_jwt(&format!("{t}.x")).unwrap_err().to_string();
    assert!(!err.contains(&t[..10]));
}
