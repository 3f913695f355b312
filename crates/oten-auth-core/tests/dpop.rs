//! DPoP proofs (RFC 9449) from the DpopTransport, checked with a real P-256 key: what they sign, where they go, the
//! nonce dance, and the API client's DPoP scheme.

#![cfg(not(target_arch = "wasm32"))]

use futures::executor::block_on;
use futures::future::{FutureExt, LocalBoxFuture};
use oten_auth_core::id_token::{Jwk, JwsAlgorithm};
use oten_auth_core::testing::{FakeClock, FakeTransport};
use oten_auth_core::*;
use p256::ecdsa::signature::Signer as _;
use serde_json::Value;
use sha2::Digest;
use std::rc::Rc;

mod sign_in_support;
use sign_in_support::NativeCrypto;

const TOKEN: &str = "https://idp.test/v1/oauth/token";
const API: &str = "https://api.test";
const NOW_MS: i64 = 1_780_000_000_500;

struct P256Key {
    key: p256::ecdsa::SigningKey,
    jwk: String,
}

impl P256Key {
    fn new(seed: u8) -> Rc<Self> {
        let key = p256::ecdsa::SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let point = p256::EncodedPoint::from(key.verifying_key());
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": base64url::encode(point.x().unwrap()), "y": base64url::encode(point.y().unwrap()),
        });
        Rc::new(Self { key, jwk: jwk.to_string() })
    }
}

impl DpopKey for P256Key {
    fn public_jwk(&self) -> &str {
        &self.jwk
    }
    fn sign(&self, input: &[u8]) -> LocalBoxFuture<'static, Result<Vec<u8>, CryptoError>> {
        let signature: p256::ecdsa::Signature = self.key.sign(input);
        futures::future::ready(Ok(signature.to_bytes().to_vec())).boxed_local()
    }
}

struct Rig {
    inner: Rc<FakeTransport>,
    dpop: Rc<Dpop>,
    transport: Rc<DpopTransport>,
    crypto: Rc<NativeCrypto>,
}

fn rig() -> Rig {
    let inner = Rc::new(FakeTransport::default());
    let dpop = Rc::new(Dpop::default());
    let crypto = Rc::new(NativeCrypto::default());
    let transport = Rc::new(DpopTransport::new(
        inner.clone(),
        dpop.clone(),
        crypto.clone(),
        Rc::new(FakeClock::new(NOW_MS)),
        TOKEN,
    ));
    Rig { inner, dpop, transport, crypto }
}

/// The proof's header and claims, after checking its signature with the key in its own header.
fn verified_proof(crypto: &NativeCrypto, proof: &str) -> (Value, Value) {
    let jwt = id_token::decode_jwt(proof).expect("a JWT");
    assert_eq!(jwt.header().alg, JwsAlgorithm::Es256);
    assert_eq!(jwt.header().typ.as_deref(), Some("dpop+jwt"));
    let (header, _) = proof.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&base64url::decode(header).unwrap()).unwrap();
    let jwk: Jwk = serde_json::from_value(header["jwk"].clone()).unwrap();
    assert!(header["jwk"].get("d").is_none(), "no private member in the proof");
    let ok = block_on(crypto.verify_signature(&jwk, JwsAlgorithm::Es256, jwt.signing_input(), jwt.signature()));
    assert_eq!(ok, Ok(true), "the proof verifies with its own public key");
    (header, Value::Object(jwt.claims().clone()))
}

fn send(r: &Rig, request: HttpRequest) -> HttpResponse {
    block_on(r.transport.send(request)).expect("an answer")
}

#[test]
fn without_a_bound_key_nothing_changes() {
    let r = rig();
    r.inner.push(Ok(HttpResponse::new(200, "{}")));
    send(&r, HttpRequest::new(Method::Post, TOKEN).body("grant_type=refresh_token"));
    let sent = &r.inner.requests()[0];
    assert!(sent.header_value("DPoP").is_none());
}

#[test]
fn token_requests_carry_a_signed_proof_of_method_and_url() {
    let r = rig();
    r.dpop.bind("k3", P256Key::new(3));
    r.inner.push(Ok(HttpResponse::new(200, "{}")));
    send(&r, HttpRequest::new(Method::Post, TOKEN).body("grant_type=refresh_token&refresh_token=rt"));
    let proof = r.inner.requests()[0].header_value("DPoP").expect("a proof").to_owned();
    let (header, claims) = verified_proof(&r.crypto, &proof);
    assert_eq!(header["jwk"]["kty"], "EC");
    assert_eq!((claims["htm"].as_str(), claims["htu"].as_str()), (Some("POST"), Some(TOKEN)));
    assert_eq!(claims["iat"], NOW_MS / 1000);
    assert!(claims.get("ath").is_none() && claims.get("nonce").is_none());
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    // A fresh jti every time.
    r.inner.push(Ok(HttpResponse::new(200, "{}")));
    send(&r, HttpRequest::new(Method::Post, TOKEN));
    let (_, again) = verified_proof(&r.crypto, r.inner.requests()[1].header_value("DPoP").unwrap());
    assert_ne!(again["jti"], claims["jti"]);
}

#[test]
fn dpop_api_requests_carry_the_token_hash_and_others_no_proof() {
    let r = rig();
    r.dpop.bind("k4", P256Key::new(4));
    for _ in 0..3 {
        r.inner.push(Ok(HttpResponse::new(200, "{}")));
    }
    send(&r, HttpRequest::new(Method::Get, format!("{API}/me?x=1#f")).header("Authorization", "DPoP at-1"));
    send(&r, HttpRequest::new(Method::Get, format!("{API}/me")).header("Authorization", "Bearer at-1"));
    send(&r, HttpRequest::new(Method::Get, "https://cdn.test/x.js"));
    let sent = r.inner.requests();
    let (_, claims) = verified_proof(&r.crypto, sent[0].header_value("DPoP").unwrap());
    let ath = base64url::encode(&sha2::Sha256::digest(b"at-1"));
    assert_eq!(claims["ath"], ath.as_str());
    assert_eq!((claims["htm"].as_str(), claims["htu"].as_str()), (Some("GET"), Some("https://api.test/me")));
    assert!(sent[1].header_value("DPoP").is_none(), "a Bearer request gets no proof");
    assert!(sent[2].header_value("DPoP").is_none());
}

#[test]
fn a_use_dpop_nonce_answer_is_retried_once_with_the_new_nonce_and_the_nonce_is_kept_per_origin() {
    let r = rig();
    r.dpop.bind("k5", P256Key::new(5));
    let nonce_please = |nonce: &str| {
        Ok(HttpResponse::new(400, r#"{"error":"use_dpop_nonce","error_description":"nonce required"}"#)
            .with_header("DPoP-Nonce", nonce))
    };
    r.inner.push(nonce_please("n1"));
    r.inner.push(Ok(HttpResponse::new(200, "{}").with_header("DPoP-Nonce", "n2")));
    let answer = send(&r, HttpRequest::new(Method::Post, TOKEN).body("grant_type=refresh_token&refresh_token=rt"));
    assert_eq!(answer.status, 200);
    let sent = r.inner.requests();
    assert_eq!(sent.len(), 2, "one retry");
    assert_eq!(sent[0].body, sent[1].body, "the same request again (the provider did not consume the token)");
    let (_, retry) = verified_proof(&r.crypto, sent[1].header_value("DPoP").unwrap());
    assert_eq!(retry["nonce"], "n1");
    // The next request to the provider carries its latest nonce; the API, which gave none, gets none.
    r.inner.push(Ok(HttpResponse::new(200, "{}")));
    r.inner.push(Ok(HttpResponse::new(200, "{}")));
    send(&r, HttpRequest::new(Method::Post, TOKEN));
    send(&r, HttpRequest::new(Method::Get, format!("{API}/me")).header("Authorization", "DPoP at"));
    let sent = r.inner.requests();
    assert_eq!(verified_proof(&r.crypto, sent[2].header_value("DPoP").unwrap()).1["nonce"], "n2");
    assert!(verified_proof(&r.crypto, sent[3].header_value("DPoP").unwrap()).1.get("nonce").is_none());
}

#[test]
fn a_server_that_keeps_asking_for_a_nonce_is_answered_as_it_is() {
    let r = rig();
    r.dpop.bind("k6", P256Key::new(6));
    let api_nonce = |nonce: &str| {
        Ok(HttpResponse::new(401, "")
            .with_header("WWW-Authenticate", r#"DPoP error="use_dpop_nonce""#)
            .with_header("DPoP-Nonce", nonce))
    };
    r.inner.push(api_nonce("a1"));
    r.inner.push(api_nonce("a2"));
    r.inner.push(api_nonce("a3"));
    let answer = send(&r, HttpRequest::new(Method::Get, format!("{API}/me")).header("Authorization", "DPoP at"));
    assert_eq!((answer.status, r.inner.request_count()), (401, 2), "one retry, then the answer as it is");
    // A nonce error without a new nonce is not retried.
    let r = rig();
    r.dpop.bind("k7", P256Key::new(7));
    r.inner.push(Ok(HttpResponse::new(400, r#"{"error":"use_dpop_nonce"}"#)));
    assert_eq!(send(&r, HttpRequest::new(Method::Post, TOKEN)).status, 400);
    assert_eq!(r.inner.request_count(), 1);
    // A hostile nonce (a space, a quote, 1 KB) never goes into a proof.
    let r = rig();
    r.dpop.bind("k8", P256Key::new(8));
    r.inner.push(Ok(HttpResponse::new(400, r#"{"error":"use_dpop_nonce"}"#).with_header("DPoP-Nonce", "a b\"c")));
    assert_eq!(send(&r, HttpRequest::new(Method::Post, TOKEN)).status, 400);
    assert_eq!(r.inner.request_count(), 1);
}

#[test]
fn a_wanted_key_is_loaded_once_and_a_missing_one_sends_nothing() {
    let inner = Rc::new(FakeTransport::default());
    let loads = Rc::new(std::cell::Cell::new(0));
    let counter = loads.clone();
    let loader: DpopKeyLoader = Rc::new(move |id: &str| {
        counter.set(counter.get() + 1);
        let key = (id == "k1").then(|| P256Key::new(11) as Rc<dyn DpopKey>);
        futures::future::ready(Ok(key)).boxed_local()
    });
    let dpop = Rc::new(Dpop::with_loader(loader));
    let crypto = Rc::new(NativeCrypto::default());
    let transport =
        DpopTransport::new(inner.clone(), dpop.clone(), crypto.clone(), Rc::new(FakeClock::new(NOW_MS)), TOKEN);
    dpop.want(Some("k1"));
    for _ in 0..2 {
        inner.push(Ok(HttpResponse::new(200, "{}")));
        block_on(transport.send(HttpRequest::new(Method::Post, TOKEN))).unwrap();
    }
    assert_eq!(loads.get(), 1, "loaded once");
    verified_proof(&crypto, inner.requests()[1].header_value("DPoP").unwrap());
    dpop.want(Some("gone"));
    let e = block_on(transport.send(HttpRequest::new(Method::Post, TOKEN))).unwrap_err();
    assert!(matches!(e, TransportError::NotSent(_)), "{e:?}");
    assert_eq!(inner.request_count(), 2, "nothing sent without its proof");
}

#[test]
fn unbinding_stops_the_proofs() {
    let r = rig();
    r.dpop.bind("k9", P256Key::new(9));
    r.dpop.want(None);
    r.inner.push(Ok(HttpResponse::new(200, "{}")));
    send(&r, HttpRequest::new(Method::Post, TOKEN));
    assert!(r.inner.requests()[0].header_value("DPoP").is_none());
}

struct Nowhere;

impl Navigator for Nowhere {
    fn current_path(&self) -> String {
        "/".into()
    }
    fn go_to(&self, _url: &str) {}
    fn post_form(&self, _action: &str, _fields: &[(&str, &str)]) {}
}

#[test]
fn the_api_client_sends_dpop_tokens_with_the_dpop_scheme() {
    let inner = Rc::new(FakeTransport::default());
    let clock = Rc::new(FakeClock::new(NOW_MS));
    let manager = TokenManager::new(
        ManagerConfig::new(TOKEN, "spa"),
        clock,
        Rc::new(MemoryStore::default()),
        inner.clone(),
        Metrics::default(),
    );
    let mut tokens =
        TokenSet::parse_token_response(r#"{"access_token":"at-9","token_type":"DPoP","expires_in":600}"#, NOW_MS, None)
            .unwrap();
    tokens.dpop_key = Some("k1".into());
    manager.sign_in(tokens).unwrap();
    let client = ApiClient::new(manager, OriginAllowList::new([API]).unwrap(), Rc::new(Nowhere));
    inner.push(Ok(HttpResponse::new(200, "{}")));
    block_on(client.get(&format!("{API}/me"))).unwrap();
    assert_eq!(inner.requests()[0].header_value("Authorization"), Some("DPoP at-9"));
}

#[test]
fn a_code_exchange_is_proved_with_the_sign_ins_key_and_never_touches_the_sessions() {
    let r = rig();
    let session = P256Key::new(21);
    let sign_in = P256Key::new(22);
    r.dpop.bind("session", session.clone());
    r.dpop.set_exchange_key(Some(sign_in.clone()));
    for _ in 0..2 {
        r.inner.push(Ok(HttpResponse::new(200, "{}")));
    }
    send(&r, HttpRequest::new(Method::Post, TOKEN).body("grant_type=authorization_code&code=c"));
    send(&r, HttpRequest::new(Method::Post, TOKEN).body("grant_type=refresh_token&refresh_token=rt"));
    let sent = r.inner.requests();
    let (exchange, _) = verified_proof(&r.crypto, sent[0].header_value("DPoP").unwrap());
    let (refresh, _) = verified_proof(&r.crypto, sent[1].header_value("DPoP").unwrap());
    let jwk = |k: &P256Key| serde_json::from_str::<Value>(&k.jwk).unwrap();
    assert_eq!(exchange["jwk"], jwk(&sign_in), "the exchange: the new key");
    assert_eq!(refresh["jwk"], jwk(&session), "the refresh: the session's key, whatever a sign-in is doing");
    assert_eq!(r.dpop.wanted().as_deref(), Some("session"));
    // Without a sign-in key, an exchange carries no proof (Bearer tokens).
    r.dpop.set_exchange_key(None);
    r.inner.push(Ok(HttpResponse::new(200, "{}")));
    send(&r, HttpRequest::new(Method::Post, TOKEN).body("grant_type=authorization_code&code=c"));
    assert!(r.inner.requests()[2].header_value("DPoP").is_none());
}

#[test]
fn the_retry_depends_on_the_nonce_the_proof_carried_not_on_what_is_cached() {
    // (Concurrent requests sent without a nonce are all answered with the same new one: each must retry, though the
    // first answer already put it in the cache.)
    let r = rig();
    r.dpop.bind("k", P256Key::new(23));
    let nonce_please = Ok(HttpResponse::new(401, "")
        .with_header("WWW-Authenticate", r#"DPoP error="use_dpop_nonce""#)
        .with_header("DPoP-Nonce", "n1"));
    r.inner.push(nonce_please.clone());
    r.inner.push(Ok(HttpResponse::new(200, "{}")));
    // A proof carrying no nonce (first contact with the API), answered with the nonce the cache may already hold.
    let answer = send(&r, HttpRequest::new(Method::Get, format!("{API}/me")).header("Authorization", "DPoP t"));
    assert_eq!(answer.status, 200, "retried with n1");
    let sent = r.inner.requests();
    assert_eq!(verified_proof(&r.crypto, sent[1].header_value("DPoP").unwrap()).1["nonce"], "n1");
    // Asked again with the very nonce it carried: not retried (the server keeps refusing).
    r.inner.push(nonce_please);
    let answer = send(&r, HttpRequest::new(Method::Get, format!("{API}/me")).header("Authorization", "DPoP t"));
    assert_eq!((answer.status, r.inner.request_count()), (401, 3));
}
