//! Browser tests of `oten_auth::WebCrypto`: ID tokens built and signed in the test with keys that WebCrypto
//! itself generates (Ed25519, ECDSA P-256, RSASSA-PKCS1-v1_5 2048), then verified or refused.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Reflect, Uint8Array};
use oten_auth::WebCrypto;
use oten_auth_core::{Crypto, CryptoError};

fn random_bytes(n: usize) -> Result<Vec<u8>, CryptoError> {
    WebCrypto.random_bytes(n)
}

async fn sha256(data: &[u8]) -> Result<[u8; 32], CryptoError> {
    WebCrypto.sha256(data).await
}

async fn verify_jws(jwk: &Jwk, alg: JwsAlgorithm, input: &[u8], signature: &[u8]) -> Result<bool, CryptoError> {
    WebCrypto.verify_signature(jwk, alg, input, signature).await
}
use oten_auth_core::base64url;
use oten_auth_core::id_token::verify_id_token;
use oten_auth_core::id_token::{IdTokenClaims, IdTokenError, IdTokenExpectations, Jwk, JwkSet, JwsAlgorithm};
use oten_auth_core::pkce::code_challenge_from_digest;
use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{CryptoKey, SubtleCrypto};

wasm_bindgen_test_configure!(run_in_browser);

const ISSUER: &str = "https://idp.test";
const CLIENT: &str = "spa-client";
const NONCE: &str = "n-0S6_WzA2Mj";

/// A private key for signing plus the public JWK the "provider" publishes.
struct Signer {
    alg: JwsAlgorithm,
    private: CryptoKey,
    jwk: Jwk,
}

fn subtle() -> SubtleCrypto {
    web_sys::window().unwrap().crypto().unwrap().subtle()
}

fn object(value: Value) -> Object {
    js_sys::JSON::parse(&value.to_string()).unwrap().unchecked_into()
}

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

async fn generate(alg: JwsAlgorithm, kid: &str) -> Signer {
    let params = match alg {
        JwsAlgorithm::EdDsa => object(json!({"name": "Ed25519"})),
        JwsAlgorithm::Es256 => object(json!({"name": "ECDSA", "namedCurve": "P-256"})),
        JwsAlgorithm::Rs256 => {
            let params = object(json!({"name": "RSASSA-PKCS1-v1_5", "modulusLength": 2048, "hash": "SHA-256"}));
            let exponent = Uint8Array::from(&[1u8, 0, 1][..]);
            Reflect::set(&params, &"publicExponent".into(), &exponent).unwrap();
            params
        }
    };
    let usages = Array::of2(&"sign".into(), &"verify".into());
    let pair = subtle().generate_key_with_object(&params, true, &usages).unwrap();
    let pair = JsFuture::from(pair).await.unwrap();
    let public: CryptoKey = Reflect::get(&pair, &"publicKey".into()).unwrap().unchecked_into();
    let private: CryptoKey = Reflect::get(&pair, &"privateKey".into()).unwrap().unchecked_into();
    let exported = JsFuture::from(subtle().export_key("jwk", &public).unwrap()).await.unwrap();
    let text: String = js_sys::JSON::stringify(&exported).unwrap().into();
    let mut jwk: Jwk = serde_json::from_str(&text).unwrap();
    // Publish it the way an IdP's jwks_uri does.
    jwk.kid = Some(kid.to_owned());
    jwk.alg = Some(alg.as_str().to_owned());
    jwk.use_ = Some("sig".to_owned());
    jwk.key_ops = None;
    Signer { alg, private, jwk }
}

async fn sign_bytes(signer: &Signer, data: &[u8]) -> Vec<u8> {
    let params = match signer.alg {
        JwsAlgorithm::EdDsa => object(json!({"name": "Ed25519"})),
        JwsAlgorithm::Es256 => object(json!({"name": "ECDSA", "hash": "SHA-256"})),
        JwsAlgorithm::Rs256 => object(json!({"name": "RSASSA-PKCS1-v1_5"})),
    };
    let promise = subtle().sign_with_object_and_u8_array(&params, &signer.private, data).unwrap();
    Uint8Array::new(&JsFuture::from(promise).await.unwrap()).to_vec()
}

/// A compact JWS over `header` and `claims`, signed by `signer`.
async fn sign(signer: &Signer, header: Value, claims: Value) -> String {
    let input = format!(
        "{}.{}",
        base64url::encode(header.to_string().as_bytes()),
        base64url::encode(claims.to_string().as_bytes())
    );
    let signature = sign_bytes(signer, input.as_bytes()).await;
    format!("{input}.{}", base64url::encode(&signature))
}

fn header(signer: &Signer) -> Value {
    json!({"alg": signer.alg.as_str(), "kid": signer.jwk.kid, "typ": "JWT"})
}

fn claims() -> Value {
    let now = now();
    json!({
        "iss": ISSUER, "aud": CLIENT, "sub": "user-42", "nonce": NONCE,
        "iat": now - 2, "exp": now + 600, "auth_time": now - 30,
        "name": "Ada Lovelace", "email": "ada@example.test", "email_verified": true,
        "preferred_username": "ada",
    })
}

fn claims_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut value = claims();
    if let Value::Object(map) = &mut value {
        edit(map);
    }
    value
}

fn expect() -> IdTokenExpectations {
    IdTokenExpectations::new(ISSUER, CLIENT, NONCE, now())
}

fn jwks(signers: &[&Signer]) -> JwkSet {
    JwkSet { keys: signers.iter().map(|s| s.jwk.clone()).collect() }
}

async fn verify(token: &str, keys: &JwkSet) -> Result<IdTokenClaims, IdTokenError> {
    verify_id_token(&WebCrypto, token, keys, &expect()).await
}

async fn accepts(alg: JwsAlgorithm) {
    let signer = generate(alg, "k1").await;
    let other = generate(JwsAlgorithm::EdDsa, "k0").await;
    let token = sign(&signer, header(&signer), claims()).await;
    let user = verify(&token, &jwks(&[&other, &signer])).await.unwrap();
    assert_eq!(user.sub, "user-42");
    assert_eq!(user.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(user.email.as_deref(), Some("ada@example.test"));
    assert_eq!(user.email_verified, Some(true));
    assert_eq!(user.preferred_username.as_deref(), Some("ada"));
}

#[wasm_bindgen_test]
async fn accepts_eddsa() {
    accepts(JwsAlgorithm::EdDsa).await;
}

#[wasm_bindgen_test]
async fn accepts_es256() {
    accepts(JwsAlgorithm::Es256).await;
}

#[wasm_bindgen_test]
async fn accepts_rs256() {
    accepts(JwsAlgorithm::Rs256).await;
}

#[wasm_bindgen_test]
async fn accepts_a_token_without_kid_when_one_key_fits() {
    let signer = generate(JwsAlgorithm::EdDsa, "k1").await;
    let token = sign(&signer, json!({"alg": "EdDSA"}), claims()).await;
    assert!(verify(&token, &jwks(&[&signer])).await.is_ok());
}

#[wasm_bindgen_test]
async fn refuses_a_flipped_signature_byte_for_each_algorithm() {
    for alg in [JwsAlgorithm::EdDsa, JwsAlgorithm::Es256, JwsAlgorithm::Rs256] {
        let signer = generate(alg, "k1").await;
        let token = sign(&signer, header(&signer), claims()).await;
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = base64url::decode(signature).unwrap();
        bytes[10] ^= 0x01;
        let tampered = format!("{input}.{}", base64url::encode(&bytes));
        assert_eq!(verify(&tampered, &jwks(&[&signer])).await, Err(IdTokenError::BadSignature), "{alg:?}");
    }
}

#[wasm_bindgen_test]
async fn refuses_tampered_claims() {
    let signer = generate(JwsAlgorithm::EdDsa, "k1").await;
    let token = sign(&signer, header(&signer), claims()).await;
    let parts: Vec<&str> = token.split('.').collect();
    let forged = claims_with(|c| {
        c.insert("sub".into(), json!("admin"));
    });
    let tampered = format!("{}.{}.{}", parts[0], base64url::encode(forged.to_string().as_bytes()), parts[2]);
    assert_eq!(verify(&tampered, &jwks(&[&signer])).await, Err(IdTokenError::BadSignature));
}

#[wasm_bindgen_test]
async fn refuses_wrong_length_signatures() {
    let signer = generate(JwsAlgorithm::Es256, "k1").await;
    let input = b"header.payload";
    let signature = sign_bytes(&signer, input).await;
    assert_eq!(signature.len(), 64, "WebCrypto ECDSA signatures are raw r||s");
    assert_eq!(verify_jws(&signer.jwk, signer.alg, input, &signature).await, Ok(true));
    assert_eq!(verify_jws(&signer.jwk, signer.alg, input, &signature[..63]).await, Ok(false));
    let mut longer = signature.clone();
    longer.push(0);
    assert_eq!(verify_jws(&signer.jwk, signer.alg, input, &longer).await, Ok(false));
}

#[wasm_bindgen_test]
async fn refuses_alg_none() {
    let signer = generate(JwsAlgorithm::EdDsa, "k1").await;
    let unsigned = format!(
        "{}.{}.",
        base64url::encode(json!({"alg": "none", "kid": "k1"}).to_string().as_bytes()),
        base64url::encode(claims().to_string().as_bytes())
    );
    assert_eq!(verify(&unsigned, &jwks(&[&signer])).await, Err(IdTokenError::UnsupportedAlgorithm("none".into())));
}

#[wasm_bindgen_test]
async fn refuses_an_unknown_kid() {
    let signer = generate(JwsAlgorithm::EdDsa, "k1").await;
    let token = sign(&signer, json!({"alg": "EdDSA", "kid": "k-unknown"}), claims()).await;
    assert_eq!(verify(&token, &jwks(&[&signer])).await, Err(IdTokenError::UnknownKey));
}

#[wasm_bindgen_test]
async fn refuses_the_kid_of_a_key_of_another_algorithm() {
    let ed = generate(JwsAlgorithm::EdDsa, "ed").await;
    let ec = generate(JwsAlgorithm::Es256, "ec").await;
    let token = sign(&ed, json!({"alg": "EdDSA", "kid": "ec"}), claims()).await;
    assert_eq!(verify(&token, &jwks(&[&ed, &ec])).await, Err(IdTokenError::KeyMismatch));
}

#[wasm_bindgen_test]
async fn refuses_a_token_signed_by_another_key_with_the_same_kid() {
    let published = generate(JwsAlgorithm::EdDsa, "k1").await;
    let attacker = generate(JwsAlgorithm::EdDsa, "k1").await;
    let token = sign(&attacker, header(&attacker), claims()).await;
    assert_eq!(verify(&token, &jwks(&[&published])).await, Err(IdTokenError::BadSignature));
}

#[wasm_bindgen_test]
async fn refuses_bad_claims_even_when_the_signature_is_good() {
    let signer = generate(JwsAlgorithm::EdDsa, "k1").await;
    let keys = jwks(&[&signer]);
    let now = now();
    let cases: Vec<(Value, IdTokenError)> = vec![
        (claims_with(|c| drop(c.insert("iss".into(), json!("https://evil.test")))), IdTokenError::WrongIssuer),
        (claims_with(|c| drop(c.insert("aud".into(), json!("another-client")))), IdTokenError::WrongAudience),
        (claims_with(|c| drop(c.insert("nonce".into(), json!("other-nonce")))), IdTokenError::WrongNonce),
        (claims_with(|c| drop(c.remove("nonce"))), IdTokenError::MissingClaim("nonce")),
        (claims_with(|c| drop(c.insert("exp".into(), json!(now - 3600)))), IdTokenError::Expired),
        (claims_with(|c| drop(c.insert("iat".into(), json!(now + 3600)))), IdTokenError::IssuedInFuture),
        (claims_with(|c| drop(c.insert("aud".into(), json!([CLIENT, "api"])))), IdTokenError::MissingAzp),
    ];
    for (claims, error) in cases {
        let token = sign(&signer, header(&signer), claims).await;
        assert_eq!(verify(&token, &keys).await, Err(error));
    }
}

#[wasm_bindgen_test]
fn random_bytes_are_fresh_and_sized() {
    let a = random_bytes(32).unwrap();
    let b = random_bytes(32).unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
    assert!(random_bytes(0).unwrap().is_empty());
    // Larger than one getRandomValues call (65,536 bytes).
    let big = random_bytes(70_000).unwrap();
    assert!(big[65_536..].iter().any(|&byte| byte != 0));
}

#[wasm_bindgen_test]
async fn pkce_verifiers_from_webcrypto_are_valid_and_unique() {
    use oten_auth_core::pkce::PkceVerifier;
    let v1 = PkceVerifier::from_random_bytes(&random_bytes(32).unwrap()).unwrap();
    let v2 = PkceVerifier::from_random_bytes(&random_bytes(32).unwrap()).unwrap();
    assert!(v1.as_str().len() >= 43 && v1.as_str().len() <= 128);
    assert!(v1.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    assert_ne!(v1, v2);
    let c1 = code_challenge_from_digest(&sha256(v1.as_str().as_bytes()).await.unwrap());
    assert_eq!(c1.len(), 43);
}

#[wasm_bindgen_test]
async fn sha256_matches_known_vectors() {
    assert_eq!(
        base64url::encode(&sha256(b"abc").await.unwrap()),
        base64url::encode(&[
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03,
            0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        ])
    );
    // RFC 7636 Appendix B, end to end through WebCrypto.
    let digest = sha256(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").await.unwrap();
    assert_eq!(code_challenge_from_digest(&digest), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[wasm_bindgen_test]
async fn verify_jws_refuses_a_key_of_the_wrong_type() {
    let ec = generate(JwsAlgorithm::Es256, "ec").await;
    let result = verify_jws(&ec.jwk, JwsAlgorithm::EdDsa, b"x", &[0; 64]).await;
    assert!(result.is_err());
}
