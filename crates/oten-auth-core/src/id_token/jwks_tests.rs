//! Tests of the `jwks` module.

use super::*;

fn b64(len: usize) -> String {
    base64url::encode(&vec![0x5a; len])
}

fn ed(kid: Option<&str>) -> Jwk {
    Jwk {
        kty: Some("OKP".into()),
        crv: Some("Ed25519".into()),
        x: Some(b64(32)),
        kid: kid.map(Into::into),
        ..Jwk::default()
    }
}

fn ec(kid: Option<&str>) -> Jwk {
    Jwk {
        kty: Some("EC".into()),
        crv: Some("P-256".into()),
        x: Some(b64(32)),
        y: Some(b64(32)),
        kid: kid.map(Into::into),
        ..Jwk::default()
    }
}

fn rsa(kid: Option<&str>, bytes: usize) -> Jwk {
    Jwk {
        kty: Some("RSA".into()),
        n: Some(b64(bytes)),
        e: Some("AQAB".into()),
        kid: kid.map(Into::into),
        ..Jwk::default()
    }
}

fn header(alg: JwsAlgorithm, kid: Option<&str>) -> JwtHeader {
    JwtHeader { alg, kid: kid.map(Into::into), typ: None }
}

#[test]
fn key_types_match_algorithms() {
    assert_eq!(ed(None).check_usable_for(JwsAlgorithm::EdDsa), Ok(()));
    assert_eq!(ec(None).check_usable_for(JwsAlgorithm::Es256), Ok(()));
    assert_eq!(rsa(None, 256).check_usable_for(JwsAlgorithm::Rs256), Ok(()));
    for (key, alg) in [
        (ed(None), JwsAlgorithm::Es256),
        (ec(None), JwsAlgorithm::EdDsa),
        (rsa(None, 256), JwsAlgorithm::Es256),
        (ec(None), JwsAlgorithm::Rs256),
    ] {
        assert_eq!(key.check_usable_for(alg), Err(IdTokenError::KeyMismatch));
    }
    let x25519 = Jwk { crv: Some("X25519".into()), ..ed(None) };
    assert_eq!(x25519.check_usable_for(JwsAlgorithm::EdDsa), Err(IdTokenError::KeyMismatch));
    let p384 = Jwk { crv: Some("P-384".into()), ..ec(None) };
    assert_eq!(p384.check_usable_for(JwsAlgorithm::Es256), Err(IdTokenError::KeyMismatch));
}

#[test]
fn key_members_are_checked() {
    assert!(Jwk { x: None, ..ed(None) }.check_usable_for(JwsAlgorithm::EdDsa).is_err());
    assert!(Jwk { x: Some(b64(31)), ..ed(None) }.check_usable_for(JwsAlgorithm::EdDsa).is_err());
    assert!(Jwk { x: Some("not base64!".into()), ..ed(None) }.check_usable_for(JwsAlgorithm::EdDsa).is_err());
    assert!(Jwk { y: None, ..ec(None) }.check_usable_for(JwsAlgorithm::Es256).is_err());
    assert!(rsa(None, 128).check_usable_for(JwsAlgorithm::Rs256).is_err(), "1024-bit RSA refused");
    assert!(Jwk { e: None, ..rsa(None, 256) }.check_usable_for(JwsAlgorithm::Rs256).is_err());
}

#[test]
fn use_alg_and_key_ops_are_honoured() {
    let with = |f: fn(&mut Jwk)| {
        let mut key = ed(None);
        f(&mut key);
        key.check_usable_for(JwsAlgorithm::EdDsa)
    };
    assert_eq!(with(|k| k.use_ = Some("sig".into())), Ok(()));
    assert_eq!(with(|k| k.use_ = Some("enc".into())), Err(IdTokenError::KeyMismatch));
    assert_eq!(with(|k| k.alg = Some("EdDSA".into())), Ok(()));
    assert_eq!(with(|k| k.alg = Some("ES256".into())), Err(IdTokenError::KeyMismatch));
    assert_eq!(with(|k| k.key_ops = Some(vec!["verify".into()])), Ok(()));
    assert_eq!(with(|k| k.key_ops = Some(vec!["encrypt".into()])), Err(IdTokenError::KeyMismatch));
}

#[test]
fn select_by_kid() {
    let jwks = JwkSet { keys: vec![ed(Some("a")), ec(Some("b")), rsa(Some("c"), 256)] };
    assert_eq!(select_key(&jwks, &header(JwsAlgorithm::Es256, Some("b"))), Ok(&jwks.keys[1]));
    assert_eq!(select_key(&jwks, &header(JwsAlgorithm::EdDsa, Some("zzz"))), Err(IdTokenError::UnknownKey));
    // The kid of a key of another algorithm.
    assert_eq!(select_key(&jwks, &header(JwsAlgorithm::EdDsa, Some("c"))), Err(IdTokenError::KeyMismatch));
}

#[test]
fn select_by_kid_during_rotation_and_ambiguity() {
    // Same kid, two key types: the one fitting the alg is chosen.
    let jwks = JwkSet { keys: vec![ec(Some("k")), ed(Some("k"))] };
    assert_eq!(select_key(&jwks, &header(JwsAlgorithm::EdDsa, Some("k"))), Ok(&jwks.keys[1]));
    // Same kid, two fitting keys: ambiguous.
    let jwks = JwkSet { keys: vec![ed(Some("k")), ed(Some("k"))] };
    assert_eq!(select_key(&jwks, &header(JwsAlgorithm::EdDsa, Some("k"))), Err(IdTokenError::UnknownKey));
}

#[test]
fn select_without_kid_needs_exactly_one_fitting_key() {
    let jwks = JwkSet { keys: vec![ed(Some("a")), ec(Some("b"))] };
    assert_eq!(select_key(&jwks, &header(JwsAlgorithm::EdDsa, None)), Ok(&jwks.keys[0]));
    assert_eq!(select_key(&jwks, &header(JwsAlgorithm::Rs256, None)), Err(IdTokenError::UnknownKey));
    let two = JwkSet { keys: vec![ed(Some("a")), ed(Some("b"))] };
    assert_eq!(select_key(&two, &header(JwsAlgorithm::EdDsa, None)), Err(IdTokenError::UnknownKey));
    assert_eq!(select_key(&JwkSet::default(), &header(JwsAlgorithm::EdDsa, None)), Err(IdTokenError::UnknownKey));
}

#[test]
fn parses_real_world_jwks_ignoring_unknown_members() {
    let json = r#"{"keys":[
        {"kty":"RSA","use":"sig","kid":"r","n":"AQAB","e":"AQAB","x5c":["MIIC"],"x5t":"abc"},
        {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","key_ops":["verify"],"ext":true}
    ]}"#;
    let jwks: JwkSet = serde_json::from_str(json).unwrap();
    assert_eq!(jwks.keys.len(), 2);
    assert_eq!(jwks.keys[0].use_.as_deref(), Some("sig"));
    assert_eq!(select_key(&jwks, &header(JwsAlgorithm::EdDsa, None)), Ok(&jwks.keys[1]));
}
