//! Tokens encrypted at rest: AES-256-GCM with a key ring, so keys rotate without losing sessions.
//!
//! Each value gets a fresh random 96-bit nonce. The row's id and the field name are bound as associated data, so a
//! ciphertext copied to another row or another column does not decrypt. The key id travels with the ciphertext:
//! the newest key encrypts, every key of the ring decrypts.
//!
//! Text form of a ring (environment `OTEN_BACKEND_KEYS` or a key file): `kid:base64url(32 bytes)` entries separated
//! by commas or newlines, the current key first. `#` starts a comment line.
//!
//! ## Usage
//!
//! ```
//! use oten_backend::KeyRing;
//! let ring = KeyRing::parse("k2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
//! let sealed = ring.seal("session-1", "tokens", b"secret").unwrap();
//! assert_eq!(ring.open("session-1", "tokens", &sealed).unwrap(), b"secret");
//! assert!(ring.open("session-2", "tokens", &sealed).is_err()); // another row
//! ```

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use oten_auth_core::base64url;
use std::fmt;

/// Format version of a sealed value.
const VERSION: u8 = 1;
/// Longest key id.
const MAX_KID_LEN: usize = 32;

/// Why a key ring could not be read, or a value not sealed or opened. Never contains key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRingError {
    /// No key at all.
    #[error("the key ring is empty: give at least one key as kid:base64url(32 random bytes)")]
    Empty,
    /// An entry is not `kid:key`.
    #[error("key ring entry {0} is not of the form kid:base64url(32 bytes)")]
    BadEntry(usize),
    /// A key id is empty, too long, repeated, or has characters other than letters, digits, `-` and `_`.
    #[error("key ring entry {0} has an invalid or repeated key id")]
    BadKeyId(usize),
    /// A key is not 32 bytes of base64url.
    #[error("key ring entry {0} is not 32 bytes of base64url")]
    BadKey(usize),
    /// A sealed value names a key the ring does not have (it was removed before its values were re-sealed).
    #[error("the value was encrypted with key {0:?}, which is not in the key ring")]
    UnknownKey(String),
    /// A sealed value is not in the expected format.
    #[error("the encrypted value is malformed")]
    Malformed,
    /// Authentication failed: tampered, truncated, or sealed for another row or field.
    #[error("the encrypted value does not authenticate (tampered, or sealed for another row or field)")]
    Tampered,
    /// The platform's random source or cipher failed.
    #[error("encryption failed")]
    Encrypt,
}

/// AES-256-GCM keys by id; the first one seals.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<(String, Aes256Gcm)>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing").field("key_ids", &self.key_ids()).finish()
    }
}

impl KeyRing {
    /// Reads a ring from its text form (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, KeyRingError> {
        let mut keys: Vec<(String, Aes256Gcm)> = Vec::new();
        let entries = text.split([',', '\n']).map(str::trim).filter(|e| !e.is_empty() && !e.starts_with('#'));
        for (index, entry) in entries.enumerate() {
            let n = index + 1;
            let (kid, key) = entry.split_once(':').ok_or(KeyRingError::BadEntry(n))?;
            let (kid, key) = (kid.trim(), key.trim());
            let valid_kid = !kid.is_empty()
                && kid.len() <= MAX_KID_LEN
                && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !keys.iter().any(|(k, _)| k == kid);
            if !valid_kid {
                return Err(KeyRingError::BadKeyId(n));
            }
            let bytes = base64url::decode(key).map_err(|_| KeyRingError::BadKey(n))?;
            if bytes.len() != 32 {
                return Err(KeyRingError::BadKey(n));
            }
            keys.push((kid.to_owned(), Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes))));
        }
        if keys.is_empty() {
            return Err(KeyRingError::Empty);
        }
        Ok(Self { keys })
    }

    /// A new random key in the ring's text form (`kid:base64url`), for `scripts/dev` and operators.
    pub fn generate_entry(kid: &str) -> String {
        let key = Aes256Gcm::generate_key(OsRng);
        format!("{kid}:{}", base64url::encode(&key))
    }

    /// The key ids, current first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The id of the key that seals.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    /// Encrypts `plaintext` for field `field` of row `row` with the current key.
    pub fn seal(&self, row: &str, field: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyRingError> {
        let (kid, cipher) = &self.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(kid, row, field);
        let ciphertext =
            cipher.encrypt(&nonce, Payload { msg: plaintext, aad: &aad }).map_err(|_| KeyRingError::Encrypt)?;
        let mut out = Vec::with_capacity(2 + kid.len() + nonce.len() + ciphertext.len());
        out.push(VERSION);
        out.push(kid.len() as u8);
        out.extend_from_slice(kid.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value sealed for field `field` of row `row`, with whichever key of the ring sealed it.
    pub fn open(&self, row: &str, field: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyRingError> {
        let (&version, rest) = sealed.split_first().ok_or(KeyRingError::Malformed)?;
        let (&kid_len, rest) = rest.split_first().ok_or(KeyRingError::Malformed)?;
        let kid_len = usize::from(kid_len);
        if version != VERSION || kid_len == 0 || kid_len > MAX_KID_LEN || rest.len() < kid_len + 12 + 16 {
            return Err(KeyRingError::Malformed);
        }
        let (kid, rest) = rest.split_at(kid_len);
        let kid = std::str::from_utf8(kid).map_err(|_| KeyRingError::Malformed)?;
        let (nonce, ciphertext) = rest.split_at(12);
        let cipher = self
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, c)| c)
            .ok_or_else(|| KeyRingError::UnknownKey(kid.to_owned()))?;
        let aad = associated_data(kid, row, field);
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| KeyRingError::Tampered)
    }

    /// [`KeyRing::seal`] as base64url text, for a text column.
    pub fn seal_text(&self, row: &str, field: &str, plaintext: &[u8]) -> Result<String, KeyRingError> {
        self.seal(row, field, plaintext).map(|v| base64url::encode(&v))
    }

    /// [`KeyRing::open`] of base64url text.
    pub fn open_text(&self, row: &str, field: &str, sealed: &str) -> Result<Vec<u8>, KeyRingError> {
        let bytes = base64url::decode(sealed).map_err(|_| KeyRingError::Malformed)?;
        self.open(row, field, &bytes)
    }
}

/// What each ciphertext is bound to: the format, the key id, the row and the field (length-prefixed, so no two
/// different triples give the same bytes).
fn associated_data(kid: &str, row: &str, field: &str) -> Vec<u8> {
    let mut aad = b"oten-backend/v1".to_vec();
    for part in [kid, row, field] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(text: &str) -> KeyRing {
        KeyRing::parse(text).unwrap()
    }

    const K1: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
    const K2: &str = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI";

    #[test]
    fn a_value_opens_only_where_it_was_sealed() {
        let r = ring(K1);
        let sealed = r.seal("row-a", "tokens", b"refresh-token").unwrap();
        assert_eq!(r.open("row-a", "tokens", &sealed).unwrap(), b"refresh-token");
        assert_eq!(r.open("row-b", "tokens", &sealed), Err(KeyRingError::Tampered));
        assert_eq!(r.open("row-a", "pending", &sealed), Err(KeyRingError::Tampered));
        // Every single bit flipped past the header is caught.
        for i in 2 + 2..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(r.open("row-a", "tokens", &bad).is_err(), "byte {i}");
        }
        assert_eq!(r.open("row-a", "tokens", &sealed[..sealed.len() - 1]), Err(KeyRingError::Tampered));
        assert_eq!(r.open("row-a", "tokens", &[]), Err(KeyRingError::Malformed));
        assert_eq!(r.open("row-a", "tokens", &[9, 2, b'k', b'1']), Err(KeyRingError::Malformed));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let r = ring(K1);
        let a = r.seal("row", "f", b"same").unwrap();
        let b = r.seal("row", "f", b"same").unwrap();
        assert_ne!(a, b);
        assert_ne!(a[4..16], b[4..16]);
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_seals_with_the_new_key() {
        let old = ring(K1);
        let sealed = old.seal("row", "tokens", b"v").unwrap();
        let rotated = ring(&format!("{K2},{K1}"));
        assert_eq!(rotated.open("row", "tokens", &sealed).unwrap(), b"v");
        let resealed = rotated.seal("row", "tokens", b"v").unwrap();
        assert_eq!(&resealed[2..4], b"k2");
        // Once k1 leaves the ring, its values are refused by name, not as garbage.
        let without_k1 = ring(K2);
        assert_eq!(without_k1.open("row", "tokens", &sealed), Err(KeyRingError::UnknownKey("k1".into())));
        // A kid renamed in the header fails authentication: the kid is bound too.
        let mut renamed = sealed.clone();
        renamed[3] = b'2';
        assert_eq!(rotated.open("row", "tokens", &renamed), Err(KeyRingError::Tampered));
    }

    #[test]
    fn bad_rings_are_refused_with_the_entry_named() {
        assert_eq!(KeyRing::parse(" \n# nothing\n").unwrap_err(), KeyRingError::Empty);
        assert_eq!(KeyRing::parse("k1").unwrap_err(), KeyRingError::BadEntry(1));
        assert_eq!(
            KeyRing::parse(&format!("{K1},k1:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI")).unwrap_err(),
            KeyRingError::BadKeyId(2)
        );
        assert_eq!(KeyRing::parse("k 1:AQEB").unwrap_err(), KeyRingError::BadKeyId(1));
        assert_eq!(KeyRing::parse("k1:AQEB").unwrap_err(), KeyRingError::BadKey(1));
        let generated = KeyRing::generate_entry("fresh");
        assert_eq!(KeyRing::parse(&generated).unwrap().current_key_id(), "fresh");
        assert!(!format!("{:?}", ring(K1)).contains("AQEB"));
    }
}
