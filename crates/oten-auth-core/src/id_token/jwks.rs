//! The provider's published keys (RFC 7517) and the choice of the one that may verify a token.

use super::{IdTokenError, JwsAlgorithm, JwtHeader};
use crate::base64url;
use serde::{Deserialize, Serialize};

/// Smallest accepted RSA modulus, in bytes (2048 bits, RFC 7518 §3.3).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A JSON Web Key Set, as served at the provider's `jwks_uri`.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::JwkSet;
///
/// let jwks: JwkSet = serde_json::from_str(
///     r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k1","alg":"EdDSA","use":"sig","x5c":[]}]}"#,
/// ).unwrap();
/// assert_eq!(jwks.keys[0].kid.as_deref(), Some("k1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys, in the provider's order.
    #[serde(default)]
    pub keys: Vec<Jwk>,
}

/// One public JSON Web Key. Members this library does not use are ignored when parsing.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::{Jwk, JwsAlgorithm};
///
/// let jwk: Jwk = serde_json::from_str(
///     r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
/// ).unwrap();
/// assert!(jwk.check_usable_for(JwsAlgorithm::EdDsa).is_ok());
/// assert!(jwk.check_usable_for(JwsAlgorithm::Es256).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `OKP`, `EC` or `RSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kty: Option<String>,
    /// Curve: `Ed25519` (OKP) or `P-256` (EC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Public key (OKP) or x coordinate (EC), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// y coordinate (EC), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Modulus (RSA), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// Public exponent (RSA), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The algorithm the key is meant for, if the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use: `sig` or `enc`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Permitted operations, for example `["verify"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
}

impl Jwk {
    /// Checks that this key may verify signatures of `alg`: type and curve match, the required members are
    /// present base64url of plausible size, `use` (if any) is `sig`, `alg` (if any) equals `alg`, and
    /// `key_ops` (if any) contains `verify`. RSA keys must have at least 2048 bits.
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::id_token::{IdTokenError, Jwk, JwsAlgorithm};
    ///
    /// let enc_key = Jwk { kty: Some("OKP".into()), crv: Some("Ed25519".into()), x: Some("A".repeat(43)),
    ///     use_: Some("enc".into()), ..Jwk::default() };
    /// assert_eq!(enc_key.check_usable_for(JwsAlgorithm::EdDsa), Err(IdTokenError::KeyMismatch));
    /// ```
    pub fn check_usable_for(&self, alg: JwsAlgorithm) -> Result<(), IdTokenError> {
        let mismatch = Err(IdTokenError::KeyMismatch);
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return mismatch;
        }
        if self.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
            return mismatch;
        }
        if self.key_ops.as_ref().is_some_and(|ops| !ops.iter().any(|op| op == "verify")) {
            return mismatch;
        }
        let kty = self.kty.as_deref();
        let crv = self.crv.as_deref();
        let fits = match alg {
            JwsAlgorithm::EdDsa => kty == Some("OKP") && crv == Some("Ed25519") && decoded_len(&self.x) == Some(32),
            JwsAlgorithm::Es256 => {
                kty == Some("EC")
                    && crv == Some("P-256")
                    && decoded_len(&self.x) == Some(32)
                    && decoded_len(&self.y) == Some(32)
            }
            JwsAlgorithm::Rs256 => {
                kty == Some("RSA")
                    && rsa_modulus_len(&self.n).is_some_and(|len| len >= MIN_RSA_MODULUS_BYTES)
                    && decoded_len(&self.e).is_some_and(|len| (1..=8).contains(&len))
            }
        };
        if fits {
            Ok(())
        } else {
            mismatch
        }
    }
}

fn decoded_len(member: &Option<String>) -> Option<usize> {
    member.as_deref().and_then(|text| base64url::decode(text).ok()).map(|bytes| bytes.len())
}

fn rsa_modulus_len(n: &Option<String>) -> Option<usize> {
    let bytes = base64url::decode(n.as_deref()?).ok()?;
    let first_nonzero = bytes.iter().position(|&b| b != 0)?;
    Some(bytes.len() - first_nonzero)
}

/// Chooses the key that may verify a token with this header.
///
/// - With a `kid`: the key with that `kid` ([`IdTokenError::UnknownKey`] if none); it must fit the header's
///   algorithm ([`IdTokenError::KeyMismatch`] otherwise). Several fitting keys with one `kid` are ambiguous and
///   refused as `UnknownKey`.
/// - Without a `kid`: the one key fitting the algorithm; none or several ⇒ `UnknownKey`.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::{select_key, IdTokenError, Jwk, JwkSet, JwsAlgorithm, JwtHeader};
///
/// let key = Jwk { kty: Some("OKP".into()), crv: Some("Ed25519".into()), x: Some("A".repeat(43)),
///     kid: Some("k1".into()), ..Jwk::default() };
/// let jwks = JwkSet { keys: vec![key] };
/// let header = JwtHeader { alg: JwsAlgorithm::EdDsa, kid: Some("k1".into()), typ: None };
/// assert_eq!(select_key(&jwks, &header).unwrap().kid.as_deref(), Some("k1"));
/// let other = JwtHeader { kid: Some("k2".into()), ..header };
/// assert_eq!(select_key(&jwks, &other), Err(IdTokenError::UnknownKey));
/// ```
pub fn select_key<'a>(jwks: &'a JwkSet, header: &JwtHeader) -> Result<&'a Jwk, IdTokenError> {
    match header.kid.as_deref() {
        Some(kid) => {
            let mut named = jwks.keys.iter().filter(|key| key.kid.as_deref() == Some(kid)).peekable();
            if named.peek().is_none() {
                return Err(IdTokenError::UnknownKey);
            }
            let mut fitting = named.filter(|key| key.check_usable_for(header.alg).is_ok());
            match (fitting.next(), fitting.next()) {
                (Some(key), None) => Ok(key),
                (Some(_), Some(_)) => Err(IdTokenError::UnknownKey),
                (None, _) => Err(IdTokenError::KeyMismatch),
            }
        }
        None => {
            let mut fitting = jwks.keys.iter().filter(|key| key.check_usable_for(header.alg).is_ok());
            match (fitting.next(), fitting.next()) {
                (Some(key), None) => Ok(key),
                _ => Err(IdTokenError::UnknownKey),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    // Tests of the `jwks` module.
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
}
