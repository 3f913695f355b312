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

/// The short-lived cookie that ties a started sign-in to the browser that started it (login CSRF).
fn login_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-oten-login"
    } else {
        "oten-login"
    }
}

/// How long a started sign-in may take (the pending attempt's own limit).
const LOGIN_COOKIE_SECS: i64 = oten_auth_core::PENDING_LIFETIME_MS / 1000;

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
    read_named(headers, cookie_name(secure))
}

/// The login cookie's value, if well-formed.
pub fn read_login(headers: &HeaderMap, secure: bool) -> Option<String> {
    read_named(headers, login_cookie_name(secure))
}

fn read_named(headers: &HeaderMap, name: &str) -> Option<String> {
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

/// `Set-Cookie` for a new session, living as long as the session may (a closed browser does not leave the row
/// alive for the cleanup to renew).
pub fn set(value: &str, secure: bool, max_age_secs: u64) -> String {
    attributes(cookie_name(secure), value, secure, Some(max_age_secs))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear(secure: bool) -> String {
    attributes(cookie_name(secure), "", secure, Some(0))
}

/// `Set-Cookie` for the login cookie of a started sign-in.
pub fn set_login(value: &str, secure: bool) -> String {
    attributes(login_cookie_name(secure), value, secure, Some(LOGIN_COOKIE_SECS as u64))
}

fn attributes(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let secure_attr = if secure { "; Secure" } else { "" };
    let max_age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{max_age}{secure_attr}")
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
        assert_eq!(set("v", true, 60), "__Host-oten-session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
        assert_eq!(set("v", false, 60), "oten-session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
        assert!(set_login("v", true).starts_with("__Host-oten-login=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=600"));
        assert!(clear(true).contains("Max-Age=0"));
        assert_ne!(row_id("a"), row_id("b"));
        assert_eq!(row_id("a").len(), 64);
        assert_ne!(logout_id("a"), row_id("a")[..32]);
    }
}
