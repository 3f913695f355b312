//! JWS on the server, through `jsonwebtoken`: signing request objects (HS256 with the client secret, or EdDSA) and
//! checking the provider's signatures (ID tokens, logout tokens) for the core's pure checks.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use oten_auth_core::id_token::{Jwk, JwsAlgorithm};
use oten_auth_core::{base64url, ClientSecret, CryptoError, JwsSigner};

/// Signs request objects for the core's [`oten_auth_core::RequestObject::sign`].
pub struct RequestSigner {
    alg: Algorithm,
    key: EncodingKey,
    kid: Option<String>,
}

impl std::fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSigner").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl RequestSigner {
    /// HMAC-SHA256 keyed with the client secret (OpenID Connect Core §10.1: the secret's UTF-8 bytes).
    pub fn hs256(secret: &ClientSecret) -> Self {
        Self { alg: Algorithm::HS256, key: EncodingKey::from_secret(secret.expose().as_bytes()), kid: None }
    }

    /// Ed25519 with a PKCS#8 PEM private key; `kid` as registered with the provider.
    pub fn ed25519_pem(pem: &[u8], kid: Option<String>) -> Result<Self, CryptoError> {
        let key = EncodingKey::from_ed_pem(pem).map_err(|e| CryptoError::Operation {
            operation: "importKey",
            message: format!("the EdDSA request-object key is not a PKCS#8 PEM Ed25519 key ({e})"),
        })?;
        Ok(Self { alg: Algorithm::EdDSA, key, kid })
    }
}

impl JwsSigner for RequestSigner {
    fn alg(&self) -> &str {
        match self.alg {
            Algorithm::EdDSA => "EdDSA",
            _ => "HS256",
        }
    }

    fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let signature = jsonwebtoken::crypto::sign(signing_input, &self.key, self.alg)
            .map_err(|e| CryptoError::Operation { operation: "sign", message: e.to_string() })?;
        base64url::decode(&signature).map_err(|e| CryptoError::Operation { operation: "sign", message: e.to_string() })
    }
}

/// Whether `signature` is a valid `alg` signature of `signing_input` by the provider's key `jwk`. The key must
/// first pass the core's [`oten_auth_core::id_token::select_key`] checks.
pub fn verify_signature(
    jwk: &Jwk,
    alg: JwsAlgorithm,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let member = |v: &Option<String>| v.clone().ok_or(CryptoError::KeyMismatch(alg.as_str()));
    let import =
        |e: jsonwebtoken::errors::Error| CryptoError::Operation { operation: "importKey", message: e.to_string() };
    let (key, algorithm) = match alg {
        JwsAlgorithm::EdDsa => (DecodingKey::from_ed_components(&member(&jwk.x)?).map_err(import)?, Algorithm::EdDSA),
        JwsAlgorithm::Es256 => {
            (DecodingKey::from_ec_components(&member(&jwk.x)?, &member(&jwk.y)?).map_err(import)?, Algorithm::ES256)
        }
        JwsAlgorithm::Rs256 => {
            (DecodingKey::from_rsa_components(&member(&jwk.n)?, &member(&jwk.e)?).map_err(import)?, Algorithm::RS256)
        }
    };
    Ok(jsonwebtoken::crypto::verify(&base64url::encode(signature), signing_input, &key, algorithm).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs256_matches_rfc_4231_test_case_2() {
        // HMAC-SHA256 with key "Jefe" over "what do ya want for nothing?".
        let signer = RequestSigner::hs256(&ClientSecret::new("Jefe"));
        let mac = signer.sign(b"what do ya want for nothing?").unwrap();
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_eq!(signer.alg(), "HS256");
    }

    #[test]
    fn a_bad_eddsa_key_is_a_clear_error() {
        let err = RequestSigner::ed25519_pem(b"not a key", None).unwrap_err();
        assert!(err.to_string().contains("PKCS#8"), "{err}");
    }
}
