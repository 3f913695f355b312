//! Signed authorization requests for a confidential client: request objects (JAR, RFC 9101) and pushed
//! authorization requests (PAR, RFC 9126). Oten requires them of confidential clients (HS256 with the client
//! secret, or EdDSA); a public client (a browser) must not use them.
//!
//! The claims are built here, from the same parameters as [`AuthorizationRequest::url`]; signing goes through a
//! [`JwsSigner`], so the core carries no crypto library (the backend signs with a maintained JWS crate).
//!
//! ## Usage
//!
//! ```
//! use oten_auth_core::{AuthConfig, JwsSigner, CryptoError, PendingAuthorization, ProviderMetadata, RequestObject,
//!     SignInOptions, AuthorizationRequest, pkce::PkceVerifier, id_token::decode_jwt};
//!
//! /// A signer for the example only (a real one computes HMAC-SHA256 or Ed25519).
//! struct Fake;
//! impl JwsSigner for Fake {
//!     fn alg(&self) -> &str { "HS256" }
//!     fn sign(&self, _input: &[u8]) -> Result<Vec<u8>, CryptoError> { Ok(vec![0; 32]) }
//! }
//!
//! let config = AuthConfig::from_json(r#"{"issuer":"https://idp.test","client_id":"bff",
//!   "redirect_uri":"https://app.test/callback",
//!   "endpoints":{"authorization_endpoint":"https://idp.test/authorize","token_endpoint":"https://idp.test/token",
//!   "jwks_uri":"https://idp.test/jwks"}}"#).unwrap();
//! let meta = ProviderMetadata::from_config(&config).unwrap();
//! let pending = PendingAuthorization::new("st", "nn", PkceVerifier::parse("v".repeat(43)).unwrap(), "/",
//!     &config.redirect_uri, 1_700_000_000_000);
//! let object = RequestObject::new(&meta, &config, &pending, "CHALLENGE", &SignInOptions::default(), "jti-1", 1_700_000_000);
//! assert_eq!(object.claims()["aud"], "https://idp.test");
//! assert_eq!(object.claims()["exp"], 1_700_000_000 + 300);
//! let jwt = object.sign(&Fake).unwrap();
//! // An ID-token reader refuses it: HMAC with a shared secret is never accepted as an ID token's signature.
//! assert!(decode_jwt(&jwt).unwrap_err().to_string().contains("HS256"));
//! let url = AuthorizationRequest::url_with_request(&meta, "bff", &config.scope(), &jwt);
//! assert!(url.contains("&request=eyJ"));
//! ```

use crate::authorize::{AuthorizationRequest, PendingAuthorization, SignInOptions};
use crate::base64url;
use crate::client_auth::OAuthClient;
use crate::config::AuthConfig;
use crate::crypto::CryptoError;
use crate::discovery::ProviderMetadata;
use crate::error::AuthError;
use crate::oauth_error::OAuthErrorBody;
use crate::request::client_form_post;
use crate::token_set::TokenResponseError;
use crate::transport::{HttpRequest, HttpResponse, TransportError};
use serde_json::{Map, Value};

/// The longest a request object may live: 5 minutes (`exp - iat`), as Oten and FAPI ask.
pub const REQUEST_OBJECT_LIFETIME_SECS: i64 = 300;

/// The media type of a request object (RFC 9101 §10.8), put in its `typ` header.
pub const REQUEST_OBJECT_TYPE: &str = "oauth-authz-req+jwt";

/// Signs JWS compact serialisations: an HMAC with the client secret (`HS256`), or a private key (`EdDSA`).
pub trait JwsSigner {
    /// The JWS `alg` this signer produces (`HS256`, `EdDSA`, …).
    fn alg(&self) -> &str;
    /// The key id to put in the header, if the provider knows the key by one.
    fn key_id(&self) -> Option<&str> {
        None
    }
    /// The signature over `signing_input` (`base64url(header) "." base64url(payload)`).
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

/// Serialises `claims` as a compact JWS signed by `signer`, with the given `typ` header.
///
/// ```
/// use oten_auth_core::{sign_jwt, CryptoError, JwsSigner};
/// struct Zero;
/// impl JwsSigner for Zero {
///     fn alg(&self) -> &str { "HS256" }
///     fn key_id(&self) -> Option<&str> { Some("k1") }
///     fn sign(&self, _: &[u8]) -> Result<Vec<u8>, CryptoError> { Ok(vec![0]) }
/// }
/// let claims = serde_json::json!({"iss": "bff"}).as_object().unwrap().clone();
/// let jwt = sign_jwt("JWT", &claims, &Zero).unwrap();
/// let header = oten_auth_core::base64url::decode(jwt.split('.').next().unwrap()).unwrap();
/// assert_eq!(String::from_utf8(header).unwrap(), r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#);
/// assert!(jwt.ends_with(".AA"));
/// ```
pub fn sign_jwt(typ: &str, claims: &Map<String, Value>, signer: &dyn JwsSigner) -> Result<String, CryptoError> {
    let mut header = Map::new();
    header.insert("alg".into(), signer.alg().into());
    if let Some(kid) = signer.key_id() {
        header.insert("kid".into(), kid.into());
    }
    header.insert("typ".into(), typ.into());
    let encode = |map: &Map<String, Value>| base64url::encode(Value::Object(map.clone()).to_string().as_bytes());
    let signing_input = format!("{}.{}", encode(&header), encode(claims));
    let signature = signer.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", base64url::encode(&signature)))
}

/// The claims of one sign-in's request object (RFC 9101 §4, OpenID Connect Core §6.1).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestObject {
    claims: Map<String, Value>,
}

impl RequestObject {
    /// Every authorization parameter of the sign-in (as [`AuthorizationRequest::url`] would send them; `max_age` as
    /// a number), plus `iss` (the client), `aud` (the issuer), `jti` (unique per request), `iat`, `nbf` and `exp`
    /// ([`REQUEST_OBJECT_LIFETIME_SECS`] after `now_secs`).
    pub fn new(
        meta: &ProviderMetadata,
        config: &AuthConfig,
        pending: &PendingAuthorization,
        code_challenge: &str,
        options: &SignInOptions,
        jti: &str,
        now_secs: i64,
    ) -> Self {
        let mut claims = Map::new();
        claims.insert("iss".into(), config.client_id.clone().into());
        claims.insert("aud".into(), meta.issuer.clone().into());
        claims.insert("jti".into(), jti.into());
        claims.insert("iat".into(), now_secs.into());
        claims.insert("nbf".into(), now_secs.into());
        claims.insert("exp".into(), (now_secs + REQUEST_OBJECT_LIFETIME_SECS).into());
        for (name, value) in AuthorizationRequest::parameters(config, pending, code_challenge, options) {
            let value = match (name, value.parse::<u32>()) {
                ("max_age", Ok(n)) => Value::from(n),
                _ => Value::from(value),
            };
            claims.insert(name.into(), value);
        }
        Self { claims }
    }

    /// The claims, for inspection.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The signed request object (compact JWS with `typ: oauth-authz-req+jwt`).
    pub fn sign(&self, signer: &dyn JwsSigner) -> Result<String, CryptoError> {
        sign_jwt(REQUEST_OBJECT_TYPE, &self.claims, signer)
    }
}

/// The pushed authorization request (RFC 9126 §2.1): the signed request object, with the client's credentials.
///
/// ```
/// use oten_auth_core::{par_request, ClientSecret, OAuthClient};
/// let client = OAuthClient::secret_post("bff", ClientSecret::new("s"));
/// let r = par_request("https://idp.test/par", &client, "eyJ.eyJ.sig");
/// assert_eq!(r.body.as_deref(), Some("request=eyJ.eyJ.sig&client_id=bff&client_secret=s"));
/// ```
pub fn par_request(endpoint: &str, client: &OAuthClient, request_object: &str) -> HttpRequest {
    client_form_post(endpoint, client, &[("request", request_object)])
}

/// What the provider answers to a pushed request: where the authorization request now lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequest {
    /// The `request_uri` to send the browser with ([`AuthorizationRequest::url_with_request_uri`]).
    pub request_uri: String,
    /// How long it stays valid, in seconds.
    pub expires_in: u32,
}

/// Classifies the answer to a [`par_request`]: `201` with `request_uri` and `expires_in`, or an [`AuthError`]
/// (`invalid_client` and `invalid_request_object` are the provider refusing the client's configuration).
///
/// ```
/// use oten_auth_core::{par_outcome, HttpResponse};
/// let ok = HttpResponse::new(201, r#"{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":60}"#);
/// assert_eq!(par_outcome(Ok(ok)).unwrap().expires_in, 60);
/// assert!(par_outcome(Ok(HttpResponse::new(201, "{}"))).is_err());
/// ```
pub fn par_outcome(answer: Result<HttpResponse, TransportError>) -> Result<PushedRequest, AuthError> {
    let response = answer?;
    if !response.is_success() {
        return Err(AuthError::Server {
            status: response.status,
            oauth: OAuthErrorBody::parse(&response.body),
            retry_after_secs: None,
        });
    }
    let value: Value = serde_json::from_str(&response.body).map_err(|_| malformed(None))?;
    let request_uri = value
        .get("request_uri")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| malformed(Some("request_uri")))?;
    let expires_in = value.get("expires_in").and_then(Value::as_u64).ok_or_else(|| malformed(Some("expires_in")))?;
    Ok(PushedRequest { request_uri: request_uri.to_owned(), expires_in: u32::try_from(expires_in).unwrap_or(u32::MAX) })
}

fn malformed(field: Option<&'static str>) -> AuthError {
    AuthError::MalformedResponse(match field {
        None => TokenResponseError::NotAnObject,
        Some(field) => TokenResponseError::InvalidField { field, reason: "missing or of the wrong type" },
    })
}
