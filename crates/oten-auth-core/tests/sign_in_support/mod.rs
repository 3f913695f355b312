//! A provider for native sign-in tests: test keys from fixed bytes (Ed25519, P-256, RSA from a fixed seed), a
//! native `Crypto` that really verifies, and a token endpoint whose ID token a test can shape.

#![allow(dead_code)]

use ed25519_dalek::Signer as _;
use futures::future::{FutureExt, LocalBoxFuture};
use oten_auth_core::id_token::{Jwk, JwkSet, JwsAlgorithm};
use oten_auth_core::parse_query;
use oten_auth_core::testing::{FakeClock, FakeTransport};
use oten_auth_core::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rsa::signature::{SignatureEncoding, Verifier as _};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::Digest;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::OnceLock;

pub const T0: i64 = 1_700_000_000_000;
pub const ISSUER: &str = "https://idp.test";
pub const CLIENT: &str = "spa";
pub const AUTHORIZE: &str = "https://idp.test/v1/oauth/authorize";
pub const TOKEN: &str = "https://idp.test/v1/oauth/token";
pub const JWKS: &str = "https://idp.test/v1/oauth/jwks";
pub const REVOKE: &str = "https://idp.test/v1/oauth/revoke";
pub const LOGOUT: &str = "https://idp.test/v1/oauth/logout";

fn b64(bytes: &[u8]) -> String {
    base64url::encode(bytes)
}

fn ed_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
}

fn p256_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_bytes(&[9u8; 32].into()).expect("a valid P-256 scalar")
}

fn rsa_key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2048);
        rsa::RsaPrivateKey::new(&mut rng, 2048).expect("an RSA test key")
    })
}

/// The provider's published keys: `ed`, `ec`, `rsa` (and whatever a test adds).
pub fn published_keys() -> Vec<Jwk> {
    let ec = p256::EncodedPoint::from(p256_key().verifying_key());
    let rsa = rsa_key().to_public_key();
    vec![
        Jwk {
            kty: Some("OKP".into()),
            crv: Some("Ed25519".into()),
            x: Some(b64(ed_key().verifying_key().as_bytes())),
            kid: Some("ed".into()),
            ..Jwk::default()
        },
        Jwk {
            kty: Some("EC".into()),
            crv: Some("P-256".into()),
            x: Some(b64(ec.x().unwrap())),
            y: Some(b64(ec.y().unwrap())),
            kid: Some("ec".into()),
            ..Jwk::default()
        },
        Jwk {
            kty: Some("RSA".into()),
            n: Some(b64(&rsa.n().to_bytes_be())),
            e: Some(b64(&rsa.e().to_bytes_be())),
            kid: Some("rsa".into()),
            ..Jwk::default()
        },
    ]
}

/// Signs `claims` as a compact JWS with the key `kid` under `alg` (the key of the algorithm's family).
pub fn sign(header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = match header["alg"].as_str().unwrap_or_default() {
        "EdDSA" => ed_key().sign(input.as_bytes()).to_bytes().to_vec(),
        "ES256" => {
            let sig: p256::ecdsa::Signature = p256_key().sign(input.as_bytes());
            sig.to_bytes().to_vec()
        }
        "RS256" => {
            let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa_key().clone());
            key.sign(input.as_bytes()).to_vec()
        }
        _ => Vec::new(),
    };
    format!("{input}.{}", b64(&signature))
}

/// A `Crypto` with real native signature checks, a seeded random source and SHA-256.
pub struct NativeCrypto {
    rng: RefCell<rand_chacha::ChaCha8Rng>,
    pub verified: Cell<u32>,
}

impl Default for NativeCrypto {
    fn default() -> Self {
        Self { rng: RefCell::new(rand_chacha::ChaCha8Rng::seed_from_u64(1)), verified: Cell::new(0) }
    }
}

fn native_verify(jwk: &Jwk, alg: JwsAlgorithm, input: &[u8], signature: &[u8]) -> Result<bool, CryptoError> {
    jwk.check_usable_for(alg).map_err(|_| CryptoError::KeyMismatch(alg.as_str()))?;
    let field = |v: &Option<String>| v.as_deref().and_then(|s| base64url::decode(s).ok()).unwrap_or_default();
    Ok(match alg {
        JwsAlgorithm::EdDsa => {
            let Ok(key) = ed25519_dalek::VerifyingKey::try_from(field(&jwk.x).as_slice()) else { return Ok(false) };
            let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else { return Ok(false) };
            key.verify_strict(input, &sig).is_ok()
        }
        JwsAlgorithm::Es256 => {
            let (x, y) = (field(&jwk.x), field(&jwk.y));
            if x.len() != 32 || y.len() != 32 {
                return Ok(false);
            }
            let point = p256::EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
            let Ok(key) = p256::ecdsa::VerifyingKey::from_encoded_point(&point) else { return Ok(false) };
            let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else { return Ok(false) };
            key.verify(input, &sig).is_ok()
        }
        JwsAlgorithm::Rs256 => {
            let n = rsa::BigUint::from_bytes_be(&field(&jwk.n));
            let e = rsa::BigUint::from_bytes_be(&field(&jwk.e));
            let Ok(key) = rsa::RsaPublicKey::new(n, e) else { return Ok(false) };
            let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
            let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else { return Ok(false) };
            key.verify(input, &sig).is_ok()
        }
    })
}

impl Crypto for NativeCrypto {
    fn random_bytes(&self, n: usize) -> Result<Vec<u8>, CryptoError> {
        let mut bytes = vec![0u8; n];
        self.rng.borrow_mut().fill_bytes(&mut bytes);
        Ok(bytes)
    }

    fn sha256(&self, data: &[u8]) -> LocalBoxFuture<'static, Result<[u8; 32], CryptoError>> {
        let digest: [u8; 32] = sha2::Sha256::digest(data).into();
        futures::future::ready(Ok(digest)).boxed_local()
    }

    fn verify_signature(
        &self,
        jwk: &Jwk,
        alg: JwsAlgorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> LocalBoxFuture<'static, Result<bool, CryptoError>> {
        self.verified.set(self.verified.get() + 1);
        futures::future::ready(native_verify(jwk, alg, signing_input, signature)).boxed_local()
    }
}

/// What the token endpoint puts in the next ID token, and how it answers.
pub struct Issue {
    pub header: Value,
    pub claims: Value,
    /// Replaces the whole token-endpoint answer.
    pub answer: Option<(u16, String)>,
    /// Corrupts the signature.
    pub tamper: bool,
}

/// A provider: JWKS, token endpoint (code → tokens with an ID token for the nonce of the attempt), revocation.
pub struct Provider {
    pub clock: Rc<FakeClock>,
    pub keys: RefCell<Vec<Jwk>>,
    pub issue: RefCell<Box<dyn Fn(&str, i64) -> Issue>>,
    pub jwks_fetches: Cell<u32>,
    pub exchanges: RefCell<Vec<Vec<(String, String)>>>,
    pub revocations: Cell<u32>,
}

/// A well-formed ID token's claims for `nonce` at `now_secs`.
pub fn good_claims(nonce: &str, now_secs: i64) -> Value {
    json!({
        "iss": ISSUER, "aud": CLIENT, "sub": "alice-1", "nonce": nonce, "iat": now_secs, "exp": now_secs + 3600,
        "auth_time": now_secs - 5, "name": "Alice Example", "email": "alice@example.test", "acr": "urn:pwd",
    })
}

impl Provider {
    pub fn new(clock: Rc<FakeClock>, alg: &'static str, kid: &'static str) -> Rc<Self> {
        Rc::new(Self {
            clock,
            keys: RefCell::new(published_keys()),
            issue: RefCell::new(Box::new(move |nonce, now| Issue {
                header: json!({"alg": alg, "kid": kid, "typ": "JWT"}),
                claims: good_claims(nonce, now),
                answer: None,
                tamper: false,
            })),
            jwks_fetches: Cell::new(0),
            exchanges: RefCell::new(Vec::new()),
            revocations: Cell::new(0),
        })
    }

    /// Changes what the next ID tokens look like.
    pub fn shape(&self, change: impl Fn(&mut Issue) + 'static) {
        let previous = std::mem::replace(&mut *self.issue.borrow_mut(), Box::new(|_, _| unreachable!()));
        *self.issue.borrow_mut() = Box::new(move |nonce, now| {
            let mut issue = previous(nonce, now);
            change(&mut issue);
            issue
        });
    }

    /// The nonce of the attempt whose code is exchanged: the test remembers it from the authorization URL.
    pub fn transport(self: &Rc<Self>, nonce_of_code: Rc<RefCell<String>>) -> Rc<FakeTransport> {
        let idp = self.clone();
        Rc::new(FakeTransport::with_handler(move |req| {
            if req.url == JWKS {
                idp.jwks_fetches.set(idp.jwks_fetches.get() + 1);
                let body = serde_json::to_string(&JwkSet { keys: idp.keys.borrow().clone() }).unwrap();
                return Ok(HttpResponse::new(200, body));
            }
            if req.url == REVOKE {
                idp.revocations.set(idp.revocations.get() + 1);
                return Ok(HttpResponse::new(200, ""));
            }
            assert_eq!(req.url, TOKEN, "unexpected request");
            idp.exchanges.borrow_mut().push(parse_query(req.body.as_deref().unwrap_or("")));
            let now = idp.clock.now_ms() / 1000;
            let issue = (idp.issue.borrow())(&nonce_of_code.borrow(), now);
            if let Some((status, body)) = issue.answer {
                return Ok(HttpResponse::new(status, body));
            }
            let mut id_token = sign(&issue.header, &issue.claims);
            if issue.tamper {
                let last = id_token.pop().unwrap();
                id_token.push(if last == 'A' { 'B' } else { 'A' });
            }
            let body = json!({
                "access_token": "at1", "token_type": "Bearer", "expires_in": 300, "refresh_token": "rt1",
                "id_token": id_token, "scope": "openid profile email offline_access",
            });
            Ok(HttpResponse::new(200, body.to_string()))
        }))
    }
}

/// The configuration and metadata of the test provider.
pub fn config(extra: &str) -> (AuthConfig, ProviderMetadata) {
    let json = format!(
        r#"{{"issuer":"{ISSUER}","client_id":"{CLIENT}","endpoints":{{"authorization_endpoint":"{AUTHORIZE}",
        "token_endpoint":"{TOKEN}","jwks_uri":"{JWKS}","revocation_endpoint":"{REVOKE}","end_session_endpoint":"{LOGOUT}"}}{extra}}}"#
    );
    let config = AuthConfig::from_json(&json).unwrap().with_app_origin("https://app.test");
    let mut meta = ProviderMetadata::from_config(&config).unwrap();
    meta.authorization_response_iss_parameter_supported = true;
    (config, meta)
}

/// A flow against a provider signing with `alg`/`kid`.
pub struct Rig {
    pub clock: Rc<FakeClock>,
    pub idp: Rc<Provider>,
    pub crypto: Rc<NativeCrypto>,
    pub pending: Rc<MemoryPendingStore>,
    pub transport: Rc<FakeTransport>,
    pub flow: SignInFlow,
    pub nonce: Rc<RefCell<String>>,
}

impl Rig {
    pub fn new(alg: &'static str, kid: &'static str) -> Self {
        Self::with_config(alg, kid, "")
    }

    pub fn with_config(alg: &'static str, kid: &'static str, extra: &str) -> Self {
        let clock = Rc::new(FakeClock::new(T0));
        let idp = Provider::new(clock.clone(), alg, kid);
        let nonce = Rc::new(RefCell::new(String::new()));
        let transport = idp.transport(nonce.clone());
        let crypto = Rc::new(NativeCrypto::default());
        let pending = Rc::new(MemoryPendingStore::default());
        let (config, meta) = config(extra);
        let parts = SignInParts {
            crypto: crypto.clone(),
            pending: pending.clone(),
            transport: transport.clone(),
            clock: clock.clone(),
        };
        Self { clock, idp, crypto, pending, transport, flow: SignInFlow::new(config, meta, parts), nonce }
    }

    /// Starts a sign-in; returns the authorization URL's parameters.
    pub fn start(&self, return_to: &str, options: &SignInOptions) -> Vec<(String, String)> {
        let url = futures::executor::block_on(self.flow.start(return_to, options)).unwrap();
        let query = url.split_once('?').unwrap().1;
        let params = parse_query(query);
        *self.nonce.borrow_mut() = param(&params, "nonce");
        params
    }

    /// The callback the provider would send for `params` (code, state, iss).
    pub fn callback(&self, params: &[(String, String)]) -> Result<SignedIn, CallbackError> {
        let query = form_encode(&[("code", "the-code"), ("state", &param(params, "state")), ("iss", ISSUER)]);
        futures::executor::block_on(self.flow.complete(&query))
    }

    pub fn token_requests(&self) -> usize {
        self.transport.requests().iter().filter(|r| r.url == TOKEN).count()
    }
}

pub fn param(params: &[(String, String)], name: &str) -> String {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}
