//! DPoP (RFC 9449): sender-constrained tokens. A stolen DPoP-bound token is useless without the private key that
//! signs a fresh proof for every request, and the browser keeps that key non-extractable.
//!
//! [`DpopTransport`] wraps the app's [`Transport`]: while a session is bound to a key ([`Dpop::bind`], [`Dpop::want`]), it adds a
//! `DPoP` proof (a JWT signed by the key, naming the request's method and URL) to every request to the token
//! endpoint and to every request carrying `Authorization: DPoP …` (with `ath`, the token's hash); it keeps the
//! `DPoP-Nonce` each server hands out (per origin) and puts it in the next proofs; and when a server answers
//! `use_dpop_nonce`, it sends the request once more with the new nonce. A token endpoint answers `use_dpop_nonce`
//! *before* looking at the grant, so that second presentation of a refresh token is not a reuse.
//!
//! Everything else passes through untouched: no proof without a bound key, none to other URLs.

use crate::base64url;
use crate::clock::Clock;
use crate::crypto::{Crypto, CryptoError};
use crate::origin::origin_of;
use crate::transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use futures::future::{FutureExt, LocalBoxFuture};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// The only proof algorithm used: ECDSA P-256 with SHA-256 (`ES256`), which every browser's WebCrypto has.
pub const DPOP_ALG: &str = "ES256";

/// A DPoP key pair: its public JWK and a signer. The private key never leaves it (in the browser, a
/// non-extractable WebCrypto key).
pub trait DpopKey {
    /// The public key as a JWK (`kty`, `crv`, `x`, `y`) in JSON, as it goes in every proof's header.
    fn public_jwk(&self) -> &str;
    /// An `ES256` signature of `input`: raw `r || s`, 64 bytes.
    fn sign(&self, input: &[u8]) -> LocalBoxFuture<'static, Result<Vec<u8>, CryptoError>>;
}

/// Whether a provider's metadata offers DPoP with the algorithm this client signs with.
///
/// ```
/// assert!(oten_auth_core::dpop_offered(Some(&["ES256".to_string(), "EdDSA".to_string()][..])));
/// assert!(!oten_auth_core::dpop_offered(Some(&["RS256".to_string()][..])));
/// assert!(!oten_auth_core::dpop_offered(None));
/// ```
pub fn dpop_offered(algs: Option<&[String]>) -> bool {
    algs.is_some_and(|algs| algs.iter().any(|a| a == DPOP_ALG))
}

/// The signing input (`header.payload`, base64url) of a DPoP proof for `method` at `url` (query and fragment are
/// left out of `htu`), issued at `iat` (seconds) with a unique `jti`, the server's `nonce` if it gave one, and `ath`
/// (the base64url SHA-256 of the access token) for resource requests.
///
/// ```
/// use oten_auth_core::{dpop_signing_input, Method};
/// let jwk = r#"{"kty":"EC","crv":"P-256","x":"x","y":"y"}"#;
/// let input = dpop_signing_input(jwk, Method::Post, "https://idp.test/token?x#y", 1_700, "j1", None, None);
/// let (header, payload) = input.split_once('.').unwrap();
/// let payload = oten_auth_core::base64url::decode(payload).unwrap();
/// assert_eq!(String::from_utf8(payload).unwrap(), r#"{"jti":"j1","htm":"POST","htu":"https://idp.test/token","iat":1700}"#);
/// assert!(String::from_utf8(oten_auth_core::base64url::decode(header).unwrap()).unwrap().contains(r#""typ":"dpop+jwt""#));
/// ```
pub fn dpop_signing_input(
    public_jwk: &str,
    method: Method,
    url: &str,
    iat: i64,
    jti: &str,
    nonce: Option<&str>,
    ath: Option<&str>,
) -> String {
    // Written by hand (no JSON tree for two small objects); every string goes through the JSON encoder.
    let text = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"{DPOP_ALG}","jwk":{public_jwk}}}"#);
    let htu = url.split(['?', '#']).next().unwrap_or(url);
    let mut claims = format!(r#"{{"jti":{},"htm":"{}","htu":{},"iat":{iat}"#, text(jti), method.as_str(), text(htu));
    for (name, value) in [("nonce", nonce), ("ath", ath)] {
        if let Some(value) = value {
            claims.push_str(&format!(r#","{name}":{}"#, text(value)));
        }
    }
    claims.push('}');
    format!("{}.{}", base64url::encode(header.as_bytes()), base64url::encode(claims.as_bytes()))
}

/// Loads a stored key by its id: `Ok(None)` when there is none.
pub type DpopKeyLoader = Rc<dyn Fn(&str) -> LocalBoxFuture<'static, Result<Option<Rc<dyn DpopKey>>, CryptoError>>>;

/// The DPoP state of one app: the key its session is bound to (by id, loaded when first needed), and the nonces
/// servers gave. Shared by the [`DpopTransport`] that makes the proofs and the code that binds and unbinds the
/// session as it starts, changes and ends.
#[derive(Default)]
pub struct Dpop {
    wanted: RefCell<Option<String>>,
    loaded: RefCell<Option<(String, Rc<dyn DpopKey>)>>,
    loader: Option<DpopKeyLoader>,
    exchange: RefCell<Option<Rc<dyn DpopKey>>>,
    nonces: RefCell<Vec<(String, String)>>,
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dpop")
            .field("wanted", &self.wanted.borrow())
            .field("nonces", &self.nonces.borrow().len())
            .finish_non_exhaustive()
    }
}

/// Why no proof could be made for a bound session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopKeyError {
    /// The key the session is bound to is not in the key store any more.
    #[error("the session's DPoP key is gone")]
    Missing,
    /// The key store or the signer failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl Dpop {
    /// A DPoP state that loads keys it is asked for ([`Dpop::want`]) with `loader`.
    pub fn with_loader(loader: DpopKeyLoader) -> Self {
        Self { loader: Some(loader), ..Self::default() }
    }

    /// Binds the session to a key in hand (just made): token requests and `Authorization: DPoP` requests carry
    /// proofs with it.
    pub fn bind(&self, id: impl Into<String>, key: Rc<dyn DpopKey>) {
        let id = id.into();
        *self.wanted.borrow_mut() = Some(id.clone());
        *self.loaded.borrow_mut() = Some((id, key));
    }

    /// The session's key id (`None`: a Bearer session, or none): the key is loaded when a proof first needs it.
    pub fn want(&self, id: Option<&str>) {
        *self.wanted.borrow_mut() = id.map(str::to_owned);
    }

    /// The id of the key the session is bound to.
    pub fn wanted(&self) -> Option<String> {
        self.wanted.borrow().clone()
    }

    /// Whether a key is wanted: proofs are made.
    pub fn is_bound(&self) -> bool {
        self.wanted.borrow().is_some()
    }

    /// The key to sign with: `Ok(None)` when the session is not bound, an error when its key cannot be had.
    pub async fn key(&self) -> Result<Option<Rc<dyn DpopKey>>, DpopKeyError> {
        let Some(wanted) = self.wanted() else { return Ok(None) };
        if let Some((id, key)) = self.loaded.borrow().as_ref() {
            if *id == wanted {
                return Ok(Some(key.clone()));
            }
        }
        let loader = self.loader.clone().ok_or(DpopKeyError::Missing)?;
        let key = loader(&wanted).await?.ok_or(DpopKeyError::Missing)?;
        // Still the one wanted (the session may have changed while the key loaded).
        if self.wanted().as_deref() == Some(wanted.as_str()) {
            *self.loaded.borrow_mut() = Some((wanted, key.clone()));
        }
        Ok(Some(key))
    }

    /// The last nonce `origin` handed out.
    fn nonce_for(&self, origin: &str) -> Option<String> {
        self.nonces.borrow().iter().find(|(o, _)| o == origin).map(|(_, n)| n.clone())
    }

    /// Keeps the `DPoP-Nonce` of an answer from `url`'s origin and returns it (`None` when there is none, or it is
    /// not one a proof can carry).
    fn note_nonce(&self, url: &str, response: &HttpResponse) -> Option<String> {
        let (origin, nonce) = (origin_of(url)?, response.header_value("DPoP-Nonce")?);
        // A nonce is a token68-like value: anything else is not put in a proof.
        if nonce.is_empty()
            || nonce.len() > 512
            || !nonce.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\'))
        {
            return None;
        }
        let mut nonces = self.nonces.borrow_mut();
        match nonces.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, kept)) => nonce.clone_into(kept),
            None => nonces.push((origin, nonce.to_owned())),
        }
        Some(nonce.to_owned())
    }

    /// Makes `key` the one code exchanges are proved with (a sign-in's new key), without touching the session's:
    /// a callback that fails — or a hostile one — leaves the signed-in session as it was.
    pub fn set_exchange_key(&self, key: Option<Rc<dyn DpopKey>>) {
        *self.exchange.borrow_mut() = key;
    }
}

/// Whether `response` asks for the request again with a DPoP nonce: a token endpoint's `400 {"error":
/// "use_dpop_nonce"}` or a resource server's `401` with a `DPoP` challenge whose `error` is `use_dpop_nonce`.
///
/// ```
/// use oten_auth_core::{asks_for_dpop_nonce, HttpResponse};
/// assert!(asks_for_dpop_nonce(&HttpResponse::new(400, r#"{"error":"use_dpop_nonce"}"#)));
/// let api = HttpResponse::new(401, "").with_header("WWW-Authenticate", r#"DPoP error="use_dpop_nonce", algs="ES256""#);
/// assert!(asks_for_dpop_nonce(&api));
/// assert!(!asks_for_dpop_nonce(&HttpResponse::new(400, r#"{"error":"invalid_grant"}"#)));
/// ```
pub fn asks_for_dpop_nonce(response: &HttpResponse) -> bool {
    match response.status {
        400 => serde_json::from_str::<Value>(&response.body)
            .ok()
            .is_some_and(|v| v.get("error").and_then(Value::as_str) == Some("use_dpop_nonce")),
        401 => response.header_value("WWW-Authenticate").is_some_and(|challenge| {
            let lower = challenge.to_ascii_lowercase();
            lower.contains("dpop") && lower.contains("use_dpop_nonce")
        }),
        _ => false,
    }
}

/// A [`Transport`] that adds DPoP proofs (see the module docs).
///
/// ## Usage
///
/// ```
/// # use std::rc::Rc;
/// # use oten_auth_core::testing::{FakeClock, FakeTransport};
/// use oten_auth_core::{Dpop, DpopTransport, HttpRequest, Method, Transport};
/// # struct NoCrypto;
/// # impl oten_auth_core::Crypto for NoCrypto {
/// #   fn random_bytes(&self, n: usize) -> Result<Vec<u8>, oten_auth_core::CryptoError> { Ok(vec![7; n]) }
/// #   fn sha256(&self, _: &[u8]) -> futures::future::LocalBoxFuture<'static, Result<[u8; 32], oten_auth_core::CryptoError>> { Box::pin(async { Ok([0; 32]) }) }
/// #   fn verify_signature(&self, _: &oten_auth_core::id_token::Jwk, _: oten_auth_core::id_token::JwsAlgorithm, _: &[u8], _: &[u8]) -> futures::future::LocalBoxFuture<'static, Result<bool, oten_auth_core::CryptoError>> { Box::pin(async { Ok(false) }) }
/// # }
/// let inner = Rc::new(FakeTransport::default());
/// let dpop = Rc::new(Dpop::default());
/// let transport = DpopTransport::new(inner.clone(), dpop.clone(), Rc::new(NoCrypto), Rc::new(FakeClock::new(0)),
///     "https://idp.test/token");
/// // No key bound: requests pass through unchanged.
/// let _ = futures::executor::block_on(transport.send(HttpRequest::new(Method::Post, "https://idp.test/token")));
/// assert!(inner.requests()[0].header_value("DPoP").is_none());
/// ```
pub struct DpopTransport {
    inner: Rc<dyn Transport>,
    dpop: Rc<Dpop>,
    crypto: Rc<dyn Crypto>,
    clock: Rc<dyn Clock>,
    token_endpoint: String,
}

impl DpopTransport {
    /// Proofs go on POSTs to `token_endpoint` and on requests with `Authorization: DPoP …`, while `dpop` is bound.
    pub fn new(
        inner: Rc<dyn Transport>,
        dpop: Rc<Dpop>,
        crypto: Rc<dyn Crypto>,
        clock: Rc<dyn Clock>,
        token_endpoint: impl Into<String>,
    ) -> Self {
        Self { inner, dpop, crypto, clock, token_endpoint: token_endpoint.into() }
    }
}

/// What a proof is for: a code exchange (the sign-in's new key), a refresh (the session's key), or a resource with
/// this access token (the session's key).
enum ProofFor {
    CodeExchange,
    Refresh,
    Resource(String),
}

impl Transport for DpopTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, TransportError>> {
        let (inner, dpop, crypto, clock) =
            (self.inner.clone(), self.dpop.clone(), self.crypto.clone(), self.clock.clone());
        let purpose = match request.header_value("Authorization").and_then(|a| a.split_once(' ')) {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("DPoP") => Some(ProofFor::Resource(token.to_owned())),
            _ if request.method == Method::Post && request.url == self.token_endpoint => {
                let grant = request.body.as_deref().unwrap_or_default();
                Some(if grant.split('&').any(|p| p == "grant_type=authorization_code") {
                    ProofFor::CodeExchange
                } else {
                    ProofFor::Refresh
                })
            }
            _ => None,
        };
        async move {
            let key = match purpose {
                Some(ProofFor::CodeExchange) => dpop.exchange.borrow().clone(),
                Some(_) => dpop.key().await.map_err(|e| TransportError::NotSent(format!("no DPoP proof: {e}")))?,
                None => None,
            };
            // A token bound to a key never goes out without a proof (say, a client used before its session started).
            if matches!(purpose, Some(ProofFor::Resource(_))) && key.is_none() {
                return Err(TransportError::NotSent("no DPoP key for a DPoP token".into()));
            }
            let (Some(purpose), Some(key)) = (purpose, key) else {
                let url = request.url.clone();
                let response = inner.send(request).await?;
                dpop.note_nonce(&url, &response);
                return Ok(response);
            };
            let ath = match &purpose {
                ProofFor::Resource(token) => {
                    Some(base64url::encode(&crypto.sha256(token.as_bytes()).await.map_err(not_sent)?))
                }
                ProofFor::CodeExchange | ProofFor::Refresh => None,
            };
            let origin = origin_of(&request.url).unwrap_or_default();
            let mut first = true;
            loop {
                let jti = base64url::encode(&crypto.random_bytes(16).map_err(not_sent)?);
                let nonce = dpop.nonce_for(&origin);
                let input = dpop_signing_input(
                    key.public_jwk(),
                    request.method,
                    &request.url,
                    clock.now_ms().div_euclid(1000),
                    &jti,
                    nonce.as_deref(),
                    ath.as_deref(),
                );
                let signature = key.sign(input.as_bytes()).await.map_err(not_sent)?;
                let mut attempt = request.clone();
                attempt.set_header("DPoP", format!("{input}.{}", base64url::encode(&signature)));
                let response = inner.send(attempt).await?;
                let answered = dpop.note_nonce(&request.url, &response);
                // One more try, only with a nonce the server gave in this answer, other than the one just used (a
                // concurrent request may have cached it already): a server that keeps asking is answered as is.
                let fresh = answered.is_some_and(|n| Some(n) != nonce);
                if !(first && fresh && asks_for_dpop_nonce(&response)) {
                    return Ok(response);
                }
                first = false;
            }
        }
        .boxed_local()
    }
}

fn not_sent(error: CryptoError) -> TransportError {
    TransportError::NotSent(format!("no DPoP proof: {error}"))
}
