//! DPoP keys (RFC 9449): one ECDSA P-256 key pair per grant, made by WebCrypto as **non-extractable** (no script,
//! not even the app's own, can read the private key; it can only ask the browser to sign with it), kept in
//! IndexedDB (`oten-auth-dpop`, store `keys`) under a random id. The session's tokens carry that id
//! ([`oten_auth_core::TokenSet::dpop_key`]), so sibling tabs of one grant load the same key. A key is deleted at
//! sign-out and when its session ends everywhere; keys no session names are pruned after the longest session.

use crate::idb::{bounded, committed, delete_where, settled, store, unavailable, Db};
use crate::webcrypto::{js_error, object, random_bytes, subtle};
use futures::future::{FutureExt, LocalBoxFuture};
use js_sys::{Array, Object, Reflect};
use oten_auth_core::{base64url, CryptoError, DpopKey, SiblingsError};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, IdbTransactionMode};

/// A DPoP key of this browser: the private key as a WebCrypto handle, and its public JWK.
pub(crate) struct BrowserDpopKey {
    private: CryptoKey,
    /// The public JWK, as JSON.
    jwk: String,
}

impl DpopKey for BrowserDpopKey {
    fn public_jwk(&self) -> &str {
        &self.jwk
    }

    fn sign(&self, input: &[u8]) -> LocalBoxFuture<'static, Result<Vec<u8>, CryptoError>> {
        let (key, input) = (self.private.clone(), input.to_vec());
        async move {
            let algorithm = object(&[("name", "ECDSA"), ("hash", "SHA-256")])?;
            let promise =
                subtle()?.sign_with_object_and_u8_array(&algorithm, &key, &input).map_err(|e| js_error("sign", &e))?;
            let signature = JsFuture::from(promise).await.map_err(|e| js_error("sign", &e))?;
            Ok(js_sys::Uint8Array::new(&signature).to_vec())
        }
        .boxed_local()
    }
}

fn store_error(error: SiblingsError) -> CryptoError {
    CryptoError::Operation { operation: "DPoP key store", message: error.to_string() }
}

fn get(target: &JsValue, name: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// The public members of an exported EC JWK, as JSON (base64url values and fixed names: nothing to escape).
fn public_members(jwk: &JsValue) -> Option<String> {
    let member = |name: &str| {
        get(jwk, name).as_string().filter(|v| v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    };
    Some(format!(
        r#"{{"kty":"{}","crv":"{}","x":"{}","y":"{}"}}"#,
        member("kty")?,
        member("crv")?,
        member("x")?,
        member("y")?
    ))
}

/// Makes a new key pair, stores it and returns its id and the key.
pub(crate) async fn create(now_ms: i64) -> Result<(String, Rc<dyn DpopKey>), CryptoError> {
    let algorithm = object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?;
    let usages = Array::of1(&JsValue::from_str("sign"));
    let promise =
        subtle()?.generate_key_with_object(&algorithm, false, &usages).map_err(|e| js_error("generateKey", &e))?;
    let pair = JsFuture::from(promise).await.map_err(|e| js_error("generateKey", &e))?;
    let private: CryptoKey = get(&pair, "privateKey").dyn_into().map_err(|e| js_error("generateKey", &e))?;
    let public: CryptoKey = get(&pair, "publicKey").dyn_into().map_err(|e| js_error("generateKey", &e))?;
    let exported = subtle()?.export_key("jwk", &public).map_err(|e| js_error("exportKey", &e))?;
    let exported = JsFuture::from(exported).await.map_err(|e| js_error("exportKey", &e))?;
    let jwk = public_members(&exported)
        .ok_or(CryptoError::Operation { operation: "exportKey", message: "not an EC public key".into() })?;
    let id = base64url::encode(&random_bytes(16)?);
    let record = Object::new();
    let set = |name: &str, value: &JsValue| Reflect::set(&record, &JsValue::from_str(name), value);
    set("private", &private)
        .and_then(|_| set("jwk", &JsValue::from_str(&jwk)))
        .and_then(|_| set("created_at", &JsValue::from_f64(now_ms as f64)))
        .map_err(|e| js_error("setup", &e))?;
    bounded(put(&id, &record)).await.map_err(store_error)?;
    Ok((id, Rc::new(BrowserDpopKey { private, jwk })))
}

async fn put(id: &str, record: &Object) -> Result<(), SiblingsError> {
    let (transaction, store) = store(Db::DpopKeys, IdbTransactionMode::Readwrite).await?;
    store.put_with_key(record, &JsValue::from_str(id)).map_err(|_| unavailable("write refused"))?;
    committed(&transaction).await.then_some(()).ok_or_else(|| unavailable("write failed"))
}

/// The key stored under `id`: `Ok(None)` when there is none (or what is there is not a usable key).
pub(crate) async fn load(id: &str) -> Result<Option<Rc<dyn DpopKey>>, CryptoError> {
    let record = bounded(read(id)).await.map_err(store_error)?;
    let private = get(&record, "private").dyn_into::<CryptoKey>().ok();
    let jwk = get(&record, "jwk").as_string().filter(|text| text.starts_with('{') && text.ends_with('}'));
    Ok(match (private, jwk) {
        (Some(private), Some(jwk)) => Some(Rc::new(BrowserDpopKey { private, jwk })),
        _ => None,
    })
}

async fn read(id: &str) -> Result<JsValue, SiblingsError> {
    let (_transaction, store) = store(Db::DpopKeys, IdbTransactionMode::Readonly).await?;
    settled(&store.get(&JsValue::from_str(id)).map_err(|_| unavailable("read refused"))?).await
}

/// Deletes the key stored under `id` (nothing when there is none).
pub(crate) async fn delete(id: &str) -> Result<(), CryptoError> {
    bounded(delete_now(id)).await.map_err(store_error)
}

async fn delete_now(id: &str) -> Result<(), SiblingsError> {
    let (transaction, store) = store(Db::DpopKeys, IdbTransactionMode::Readwrite).await?;
    store.delete(&JsValue::from_str(id)).map_err(|_| unavailable("delete refused"))?;
    committed(&transaction).await.then_some(()).ok_or_else(|| unavailable("delete failed"))
}

/// Deletes the keys made before `older_than` (ms since epoch) but `keep`: keys of sessions long over.
pub(crate) async fn prune(older_than: i64, keep: Option<&str>) -> Result<usize, CryptoError> {
    bounded(prune_now(older_than, keep)).await.map_err(store_error)
}

async fn prune_now(older_than: i64, keep: Option<&str>) -> Result<usize, SiblingsError> {
    delete_where(Db::DpopKeys, |key, value| {
        let kept = key.as_string().as_deref() == keep;
        !kept && get(value, "created_at").as_f64().is_none_or(|created| (created as i64) < older_than)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webcrypto::verify_jws;
    use oten_auth_core::id_token::{Jwk, JwsAlgorithm};
    use wasm_bindgen_test::*;

    fn jwk_of(key: &Rc<dyn DpopKey>) -> Jwk {
        serde_json::from_str(key.public_jwk()).unwrap()
    }

    #[wasm_bindgen_test]
    async fn a_key_is_non_extractable_signs_es256_and_loads_back_by_id() {
        let (id, key) = create(1_000).await.unwrap();
        let jwk: serde_json::Value = serde_json::from_str(key.public_jwk()).unwrap();
        assert_eq!(jwk["crv"], "P-256");
        assert!(jwk.get("d").is_none(), "only the public half");
        let signature = key.sign(b"header.payload").await.unwrap();
        assert_eq!(signature.len(), 64, "raw r || s");
        assert_eq!(verify_jws(&jwk_of(&key), JwsAlgorithm::Es256, b"header.payload", &signature).await, Ok(true));
        let loaded = load(&id).await.unwrap().expect("stored");
        assert_eq!(loaded.public_jwk(), key.public_jwk());
        let again = loaded.sign(b"other").await.unwrap();
        assert_eq!(verify_jws(&jwk_of(&key), JwsAlgorithm::Es256, b"other", &again).await, Ok(true));
        // The stored private key cannot be exported, even by this page.
        let record = bounded(read(&id)).await.unwrap();
        let private: CryptoKey = get(&record, "private").dyn_into().unwrap();
        assert!(!private.extractable());
        let export = subtle().unwrap().export_key("jwk", &private).unwrap();
        assert!(JsFuture::from(export).await.is_err(), "exportKey refuses");
        delete(&id).await.unwrap();
        assert!(load(&id).await.unwrap().is_none());
    }

    #[wasm_bindgen_test]
    async fn prune_keeps_recent_keys_and_the_one_in_use() {
        let (old, _) = create(10).await.unwrap();
        let (in_use, _) = create(10).await.unwrap();
        let (recent, _) = create(1_000_000).await.unwrap();
        let removed = prune(500_000, Some(&in_use)).await.unwrap();
        assert!(removed >= 1);
        assert!(load(&old).await.unwrap().is_none());
        assert!(load(&in_use).await.unwrap().is_some());
        assert!(load(&recent).await.unwrap().is_some());
        for id in [in_use, recent] {
            delete(&id).await.unwrap();
        }
        assert!(load("never-stored").await.unwrap().is_none());
    }
}
