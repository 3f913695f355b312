//! The session cookie: a random id the browser holds (HttpOnly, SameSite=Lax), `__Host-` prefixed and `Secure` over
//! https. Its name is the backend's own, so it never meets the provider's cookies on the same host in development.

use axum::http::{header, HeaderMap};
use oten_auth_core::base64url;
use sha2::{Digest, Sha256};

/// The cookie's name over https: the `__Host-` prefix pins it to this host, path `/`, `Secure`.
pub const SECURE_COOKIE: &str = "__Host-oten-session";
/// The cookie's name over plain http on loopback (development): browsers refuse `__Host-` without `Secure`.
pub const DEV_COOKIE: &str = "oten-session";

/// The cookie name for this deployment.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE
    } else {
        DEV_COOKIE
    }
}

/// A new session id: 32 random bytes, base64url.
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    aes_gcm::aead::rand_core::RngCore::fill_bytes(&mut aes_gcm::aead::OsRng, &mut bytes);
    base64url::encode(&bytes)
}

/// The row id of a session: the SHA-256 (hex) of its cookie, so the database never holds a usable cookie.
pub fn row_id(cookie_value: &str) -> String {
    hex(&Sha256::digest(cookie_value.as_bytes()))
}

/// The value that authorises a sign-out by link (`/auth/logout?sid=…`): derived from the cookie, so another site
/// cannot sign the person out by sending them a link (Duende's `sid` parameter).
pub fn logout_id(cookie_value: &str) -> String {
    hex(&Sha256::digest(format!("logout\0{cookie_value}").as_bytes())[..16])
}

/// The session cookie's value from a request, if it has a well-formed one.
pub fn read(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = cookie_name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| v.len() == 43 && base64url::decode(v).is_ok())
}

/// `Set-Cookie` for a new session.
pub fn set(value: &str, secure: bool) -> String {
    let name = cookie_name(secure);
    let secure_attr = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure_attr}")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear(secure: bool) -> String {
    let name = cookie_name(secure);
    let secure_attr = if secure { "; Secure" } else { "" };
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure_attr}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_read_only_under_its_own_name_and_shape() {
        let id = new_session_id();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("_interaction=x; oten-session={id}")).unwrap());
        assert_eq!(read(&headers, false).as_deref(), Some(id.as_str()));
        assert_eq!(read(&headers, true), None); // over https only the __Host- cookie counts
        headers.insert(header::COOKIE, HeaderValue::from_static("oten-session=short"));
        assert_eq!(read(&headers, false), None);
    }

    #[test]
    fn attributes_follow_the_origin() {
        assert_eq!(set("v", true), "__Host-oten-session=v; Path=/; HttpOnly; SameSite=Lax; Secure");
        assert_eq!(set("v", false), "oten-session=v; Path=/; HttpOnly; SameSite=Lax");
        assert!(clear(true).contains("Max-Age=0"));
        assert_ne!(row_id("a"), row_id("b"));
        assert_eq!(row_id("a").len(), 64);
        assert_ne!(logout_id("a"), row_id("a")[..32]);
    }
}
