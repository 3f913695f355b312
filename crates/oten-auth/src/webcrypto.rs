//! The browser's WebCrypto (`crypto.getRandomValues`, `crypto.subtle`) as the core's [`Crypto`]: [`WebCrypto`].
//!
//! Randomness, SHA-256 and signature checks come from the browser, so the WebAssembly carries no crypto
//! crate. The sign-in flow itself ([`oten_auth_core::SignInFlow`]) and everything that can be decided without
//! cryptography (PKCE encoding, JWT parsing, key selection, claims rules) live in the core and are tested natively.
//!
//! WebCrypto exists only in secure contexts (`https://` or `http://localhost`); elsewhere every function
//! returns [`CryptoError::Unavailable`].
//!
//! ## Usage
//!
//! ```no_run
//! # async fn demo() -> Result<(), oten_auth_core::CryptoError> {
//! use oten_auth::WebCrypto;
//! use oten_auth_core::Crypto;
//!
//! let state = oten_auth_core::base64url::encode(&WebCrypto.random_bytes(16)?);
//! let digest = WebCrypto.sha256(b"abc").await?;
//! # let _ = (state, digest);
//! # Ok(()) }
//! ```

use futures::future::{FutureExt, LocalBoxFuture};
use js_sys::{Array, Object, Reflect, Uint8Array};
use oten_auth_core::id_token::{Jwk, JwsAlgorithm};
use oten_auth_core::Crypto;
use oten_auth_core::CryptoError;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `getRandomValues` fills at most 65,536 bytes per call.
const MAX_RANDOM_CHUNK: usize = 65_536;

/// The browser's WebCrypto as a [`Crypto`].
///
/// ## Usage
///
/// ```no_run
/// use std::rc::Rc;
/// let crypto: Rc<dyn oten_auth_core::Crypto> = Rc::new(oten_auth::WebCrypto);
/// # let _ = crypto;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct WebCrypto;

impl Crypto for WebCrypto {
    fn random_bytes(&self, n: usize) -> Result<Vec<u8>, CryptoError> {
        random_bytes(n)
    }

    fn sha256(&self, data: &[u8]) -> LocalBoxFuture<'static, Result<[u8; 32], CryptoError>> {
        let data = data.to_vec();
        async move { sha256(&data).await }.boxed_local()
    }

    fn verify_signature(
        &self,
        jwk: &Jwk,
        alg: JwsAlgorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> LocalBoxFuture<'static, Result<bool, CryptoError>> {
        let (jwk, input, signature) = (jwk.clone(), signing_input.to_vec(), signature.to_vec());
        async move { verify_jws(&jwk, alg, &input, &signature).await }.boxed_local()
    }
}

/// `n` bytes from the browser's cryptographically secure random generator (`crypto.getRandomValues`).
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, CryptoError> {
    let crypto = crypto()?;
    let mut bytes = vec![0u8; n];
    for chunk in bytes.chunks_mut(MAX_RANDOM_CHUNK) {
        crypto.get_random_values_with_u8_array(chunk).map_err(|e| js_error("getRandomValues", &e))?;
    }
    Ok(bytes)
}

/// SHA-256 digest of `data` (`crypto.subtle.digest('SHA-256', data)`).
pub(crate) async fn sha256(data: &[u8]) -> Result<[u8; 32], CryptoError> {
    let promise = subtle()?.digest_with_str_and_u8_array("SHA-256", data).map_err(|e| js_error("digest", &e))?;
    let buffer = JsFuture::from(promise).await.map_err(|e| js_error("digest", &e))?;
    Uint8Array::new(&buffer)
        .to_vec()
        .try_into()
        .map_err(|_| CryptoError::Operation { operation: "digest", message: "unexpected digest length".into() })
}

/// Verifies a JWS signature with a public JWK: `Ok(true)` if it verifies, `Ok(false)` if it does not (wrong
/// key, tampered data, or a signature of the wrong length — EdDSA and ES256 signatures are exactly 64 bytes,
/// ES256 as raw `r || s`), `Err` if the browser could not do the check at all.
///
/// The key is imported with only the members its type needs, as non-extractable, for `verify` only.
pub(crate) async fn verify_jws(
    jwk: &Jwk,
    alg: JwsAlgorithm,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    jwk.check_usable_for(alg).map_err(|_| CryptoError::KeyMismatch(alg.as_str()))?;
    if matches!(alg, JwsAlgorithm::EdDsa | JwsAlgorithm::Es256) && signature.len() != 64 {
        return Ok(false);
    }
    let subtle = subtle()?;
    let (import_alg, verify_alg, members): (Object, Object, &[(&str, &Option<String>)]) = match alg {
        JwsAlgorithm::EdDsa => {
            (object(&[("name", "Ed25519")])?, object(&[("name", "Ed25519")])?, &[("crv", &jwk.crv), ("x", &jwk.x)])
        }
        JwsAlgorithm::Es256 => (
            object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?,
            object(&[("name", "ECDSA"), ("hash", "SHA-256")])?,
            &[("crv", &jwk.crv), ("x", &jwk.x), ("y", &jwk.y)],
        ),
        JwsAlgorithm::Rs256 => (
            object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")])?,
            object(&[("name", "RSASSA-PKCS1-v1_5")])?,
            &[("n", &jwk.n), ("e", &jwk.e)],
        ),
    };
    let key_data = object(&[("kty", jwk.kty.as_deref().unwrap_or_default())])?;
    for (name, value) in members {
        if let Some(value) = value {
            set(&key_data, name, value)?;
        }
    }
    let usages = Array::of1(&JsValue::from_str("verify"));
    let key = subtle
        .import_key_with_object("jwk", &key_data, &import_alg, false, &usages)
        .map_err(|e| js_error("importKey", &e))?;
    let key = JsFuture::from(key).await.map_err(|e| js_error("importKey", &e))?;
    let key: web_sys::CryptoKey = key.dyn_into().map_err(|e| js_error("importKey", &e))?;
    let verdict = subtle
        .verify_with_object_and_u8_array_and_u8_array(&verify_alg, &key, signature, signing_input)
        .map_err(|e| js_error("verify", &e))?;
    let verdict = JsFuture::from(verdict).await.map_err(|e| js_error("verify", &e))?;
    Ok(verdict.as_bool() == Some(true))
}

fn crypto() -> Result<web_sys::Crypto, CryptoError> {
    Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .and_then(|value| value.dyn_into::<web_sys::Crypto>().ok())
        .ok_or(CryptoError::Unavailable)
}

pub(crate) fn subtle() -> Result<web_sys::SubtleCrypto, CryptoError> {
    let subtle = crypto()?.subtle();
    if subtle.is_undefined() || subtle.is_null() {
        return Err(CryptoError::Unavailable);
    }
    Ok(subtle)
}

pub(crate) fn object(entries: &[(&str, &str)]) -> Result<Object, CryptoError> {
    let object = Object::new();
    for (name, value) in entries {
        set(&object, name, value)?;
    }
    Ok(object)
}

fn set(object: &Object, name: &str, value: &str) -> Result<(), CryptoError> {
    Reflect::set(object, &JsValue::from_str(name), &JsValue::from_str(value))
        .map(drop)
        .map_err(|e| js_error("setup", &e))
}

/// `"Name: message"` of a JavaScript error (a `DOMException` for WebCrypto), without any key or data.
pub(crate) fn js_error(operation: &'static str, error: &JsValue) -> CryptoError {
    let text = |key: &str| Reflect::get(error, &JsValue::from_str(key)).ok().and_then(|v| v.as_string());
    let message = match (text("name"), text("message")) {
        (Some(name), Some(message)) if !message.is_empty() => format!("{name}: {message}"),
        (Some(name), _) => name,
        (None, Some(message)) => message,
        (None, None) => error.as_string().unwrap_or_else(|| "unknown error".into()),
    };
    CryptoError::Operation { operation, message }
}
