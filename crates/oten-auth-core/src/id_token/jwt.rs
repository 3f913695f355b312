//! Splitting a compact JWS (RFC 7515 §7.1) into its parts, before any signature check.

use super::IdTokenError;
use crate::base64url;
use serde_json::{Map, Value};

/// Largest accepted token, in bytes. Real ID tokens are a few hundred bytes to a few KiB.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A JWS signing algorithm this library accepts for ID tokens (RFC 7518 / RFC 8037).
///
/// `none`, the HMAC family (a public client has no secret to check them with) and every other algorithm are
/// refused by [`decode_jwt`].
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::JwsAlgorithm;
///
/// assert_eq!(JwsAlgorithm::from_name("EdDSA"), Ok(JwsAlgorithm::EdDsa));
/// assert_eq!(JwsAlgorithm::Es256.as_str(), "ES256");
/// assert!(JwsAlgorithm::from_name("none").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    /// `EdDSA` with Ed25519 (RFC 8037); Oten's algorithm.
    EdDsa,
    /// `ES256`: ECDSA on P-256 with SHA-256; signature is raw `r || s` (64 bytes).
    Es256,
    /// `RS256`: RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl JwsAlgorithm {
    /// The `alg` value as written in a JWS header or a JWK.
    ///
    /// ## Usage
    ///
    /// ```
    /// assert_eq!(oten_auth_core::id_token::JwsAlgorithm::Rs256.as_str(), "RS256");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// Parses an `alg` value (case-sensitive, as RFC 7515 requires).
    ///
    /// ## Usage
    ///
    /// ```
    /// use oten_auth_core::id_token::{IdTokenError, JwsAlgorithm};
    ///
    /// assert_eq!(JwsAlgorithm::from_name("HS256"), Err(IdTokenError::UnsupportedAlgorithm("HS256".into())));
    /// ```
    pub fn from_name(name: &str) -> Result<Self, IdTokenError> {
        match name {
            "EdDSA" => Ok(Self::EdDsa),
            "ES256" => Ok(Self::Es256),
            "RS256" => Ok(Self::Rs256),
            other => {
                // The name comes from the token: keep it short and printable in the message.
                let shown: String = other.chars().take(16).filter(|c| c.is_ascii_graphic()).collect();
                Err(IdTokenError::UnsupportedAlgorithm(shown))
            }
        }
    }
}

/// The protected header of a JWS, reduced to what verification needs.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::{JwsAlgorithm, JwtHeader};
///
/// let header = JwtHeader { alg: JwsAlgorithm::EdDsa, kid: Some("k1".into()), typ: None };
/// assert_eq!(header.alg.as_str(), "EdDSA");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtHeader {
    /// The signing algorithm.
    pub alg: JwsAlgorithm,
    /// The key id, when the issuer names its key.
    pub kid: Option<String>,
    /// The media type, when present (for example `JWT`).
    pub typ: Option<String>,
}

/// A JWT split into parts whose signature has **not** been checked yet. Trust nothing in it until the
/// signature is verified over [`UnverifiedJwt::signing_input`] and the claims are validated.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::decode_jwt;
///
/// // {"alg":"EdDSA","kid":"k1"} . {"sub":"alice"} . (signature bytes)
/// let jwt = decode_jwt("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.AAEC").unwrap();
/// assert_eq!(jwt.header().kid.as_deref(), Some("k1"));
/// assert_eq!(jwt.claims()["sub"], "alice");
/// assert_eq!(jwt.signature(), &[0, 1, 2]);
/// assert!(jwt.signing_input().ends_with(b".eyJzdWIiOiJhbGljZSJ9"));
/// ```
#[derive(Clone, PartialEq)]
pub struct UnverifiedJwt {
    header: JwtHeader,
    claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl UnverifiedJwt {
    /// The parsed protected header.
    pub fn header(&self) -> &JwtHeader {
        &self.header
    }

    /// The claims (payload) as a JSON object, unverified.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The bytes the signature covers: the ASCII of `base64url(header) "." base64url(payload)`.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The decoded signature bytes (never empty).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

impl std::fmt::Debug for UnverifiedJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signing input and signature together are the token: never print them.
        f.debug_struct("UnverifiedJwt").field("header", &self.header).finish_non_exhaustive()
    }
}

/// Splits and decodes a compact JWS: exactly three base64url segments, a JSON header with a supported `alg`
/// and no `crit`, a JSON object as payload, and a non-empty signature. Checks nothing else; see
/// [`crate::id_token::select_key`] and [`crate::id_token::validate_claims`].
///
/// ## Usage
///
/// ```
/// use oten_auth_core::id_token::{decode_jwt, IdTokenError};
///
/// // {"alg":"none"} . {} . (empty)
/// assert_eq!(
///     decode_jwt("eyJhbGciOiJub25lIn0.e30.").unwrap_err(),
///     IdTokenError::UnsupportedAlgorithm("none".into()),
/// );
/// ```
pub fn decode_jwt(token: &str) -> Result<UnverifiedJwt, IdTokenError> {
    let malformed = |what: &str| IdTokenError::Malformed(what.to_owned());
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed("the token is larger than 16 KiB"));
    }
    let mut segments = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(malformed("a signed JWT has exactly three dot-separated segments"));
    };

    let header_json = base64url::decode(header_b64).map_err(|_| malformed("the header is not base64url"))?;
    let header_map = match serde_json::from_slice::<Value>(&header_json) {
        Ok(Value::Object(map)) => map,
        _ => return Err(malformed("the header is not a JSON object")),
    };
    let header = parse_header(&header_map)?;

    let payload_json = base64url::decode(payload_b64).map_err(|_| malformed("the payload is not base64url"))?;
    let claims = match serde_json::from_slice::<Value>(&payload_json) {
        Ok(Value::Object(map)) => map,
        _ => return Err(malformed("the payload is not a JSON object")),
    };

    let signature = base64url::decode(signature_b64).map_err(|_| malformed("the signature is not base64url"))?;
    if signature.is_empty() {
        return Err(malformed("the signature is empty"));
    }

    Ok(UnverifiedJwt { header, claims, signing_input: format!("{header_b64}.{payload_b64}"), signature })
}

fn parse_header(map: &Map<String, Value>) -> Result<JwtHeader, IdTokenError> {
    let malformed = |what: &str| IdTokenError::Malformed(what.to_owned());
    if map.contains_key("crit") {
        // RFC 7515 §4.1.11: critical extensions we do not understand make the JWS invalid.
        return Err(malformed("the header lists critical extensions (crit), which are not supported"));
    }
    let alg = match map.get("alg") {
        Some(Value::String(alg)) => JwsAlgorithm::from_name(alg)?,
        Some(_) => return Err(malformed("the header's alg is not a string")),
        None => return Err(malformed("the header has no alg")),
    };
    let optional_string = |name: &str| match map.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(IdTokenError::Malformed(format!("the header's {name} is not a string"))),
    };
    let kid = optional_string("kid")?;
    let typ = optional_string("typ")?;
    if let Some(typ) = &typ {
        // RFC 9068 access tokens must never be accepted as ID tokens.
        let lower = typ.to_ascii_lowercase();
        if lower == "at+jwt" || lower == "application/at+jwt" {
            return Err(malformed("the token is an access token (typ at+jwt), not an ID token"));
        }
    }
    Ok(JwtHeader { alg, kid, typ })
}

#[cfg(test)]
mod tests {
    // Tests of the `jwt` module.
    use super::*;
    use crate::base64url::encode;

    fn token(header: &str, payload: &str, signature: &[u8]) -> String {
        format!("{}.{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()), encode(signature))
    }

    #[test]
    fn decodes_a_well_formed_token() {
        let t = token(r#"{"alg":"ES256","kid":"k","typ":"JWT"}"#, r#"{"sub":"a"}"#, &[9; 64]);
        let jwt = decode_jwt(&t).unwrap();
        assert_eq!(
            jwt.header(),
            &JwtHeader { alg: JwsAlgorithm::Es256, kid: Some("k".into()), typ: Some("JWT".into()) }
        );
        assert_eq!(jwt.claims()["sub"], "a");
        assert_eq!(jwt.signature(), &[9; 64]);
        let dot = t.rfind('.').unwrap();
        assert_eq!(jwt.signing_input(), &t.as_bytes()[..dot]);
    }

    #[test]
    fn accepts_each_supported_algorithm() {
        for alg in ["EdDSA", "ES256", "RS256"] {
            let t = token(&format!(r#"{{"alg":"{alg}"}}"#), "{}", &[1]);
            assert_eq!(decode_jwt(&t).unwrap().header().alg.as_str(), alg);
        }
    }

    #[test]
    fn refuses_alg_none_and_others() {
        let none = format!("{}.{}.", encode(br#"{"alg":"none"}"#), encode(b"{}"));
        assert_eq!(decode_jwt(&none), Err(IdTokenError::UnsupportedAlgorithm("none".into())));
        for alg in ["HS256", "RS512", "eddsa", "None", "ES384", ""] {
            let t = token(&format!(r#"{{"alg":"{alg}"}}"#), "{}", &[1]);
            assert!(matches!(decode_jwt(&t), Err(IdTokenError::UnsupportedAlgorithm(_))), "{alg}");
        }
    }

    #[test]
    fn refuses_missing_or_non_string_alg() {
        for header in [r#"{}"#, r#"{"alg":1}"#, r#"{"alg":null}"#] {
            assert!(matches!(decode_jwt(&token(header, "{}", &[1])), Err(IdTokenError::Malformed(_))));
        }
    }

    #[test]
    fn refuses_crit() {
        let t = token(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#, "{}", &[1]);
        assert!(matches!(decode_jwt(&t), Err(IdTokenError::Malformed(m)) if m.contains("crit")));
    }

    #[test]
    fn refuses_access_token_typ_and_non_string_kid() {
        let t = token(r#"{"alg":"EdDSA","typ":"at+jwt"}"#, "{}", &[1]);
        assert!(matches!(decode_jwt(&t), Err(IdTokenError::Malformed(_))));
        let t = token(r#"{"alg":"EdDSA","kid":7}"#, "{}", &[1]);
        assert!(matches!(decode_jwt(&t), Err(IdTokenError::Malformed(_))));
    }

    #[test]
    fn refuses_wrong_segment_count() {
        let good = token(r#"{"alg":"EdDSA"}"#, "{}", &[1]);
        for bad in [String::new(), "a".into(), "a.b".into(), format!("{good}.x"), format!("{good}.x.y")] {
            assert!(matches!(decode_jwt(&bad), Err(IdTokenError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn refuses_bad_base64() {
        let h = encode(br#"{"alg":"EdDSA"}"#);
        let p = encode(b"{}");
        for bad in [format!("{h}=.{p}.AQ"), format!("{h}.{p}+.AQ"), format!("{h}.{p}.A"), format!("{h}.{p}.AQ==")] {
            assert!(matches!(decode_jwt(&bad), Err(IdTokenError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn refuses_non_object_json_and_empty_signature() {
        assert!(matches!(decode_jwt(&token("[]", "{}", &[1])), Err(IdTokenError::Malformed(_))));
        assert!(matches!(decode_jwt(&token(r#"{"alg":"EdDSA"}"#, "[1]", &[1])), Err(IdTokenError::Malformed(_))));
        assert!(matches!(decode_jwt(&token(r#"{"alg":"EdDSA"}"#, "{", &[1])), Err(IdTokenError::Malformed(_))));
        assert!(matches!(decode_jwt(&token(r#"{"alg":"EdDSA"}"#, "{}", &[])), Err(IdTokenError::Malformed(_))));
    }

    #[test]
    fn refuses_oversized_tokens() {
        let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(MAX_TOKEN_BYTES));
        assert!(matches!(decode_jwt(&token(r#"{"alg":"EdDSA"}"#, &big, &[1])), Err(IdTokenError::Malformed(_))));
    }

    #[test]
    fn errors_and_debug_never_contain_the_token() {
        let t = token(r#"{"alg":"EdDSA"}"#, r#"{"secret":"hunter2hunter2"}"#, &[1]);
        let jwt = decode_jwt(&t).unwrap();
        let shown = format!("{jwt:?}");
        assert!(!shown.contains(&t[..10]) && !shown.contains("hunter2"));
        let err = decode_jwt(&format!("{t}.x")).unwrap_err().to_string();
        assert!(!err.contains(&t[..10]));
    }
}
