//! Return paths after sign-in: same-origin, relative, or `/`.

use crate::form::percent_decode;

/// Longest return path kept.
const MAX_LEN: usize = 2048;

/// Keeps `candidate` only if it is a same-origin relative path; anything else becomes `/`.
///
/// Refused: absolute URLs, scheme-relative `//host`, backslash tricks (`/\host`, which browsers treat as
/// `//host`), dot and empty segments (a browser resolves `/.//host` to `//host`), `javascript:` and other schemes,
/// control characters, and the same in percent-encoded form (checked after up to three rounds of decoding). The auth
/// routes themselves (`/login`, `/callback`) are refused too so that a return can never loop.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::sanitize_return_path;
/// assert_eq!(sanitize_return_path("/profile?tab=bio#top"), "/profile?tab=bio#top");
/// for hostile in ["//evil.test", "https://evil.test", "/\\evil.test", "javascript:alert(1)", "%2F%2Fevil.test", "/%5Cevil.test", "/.//evil.test"] {
///     assert_eq!(sanitize_return_path(hostile), "/");
/// }
/// ```
pub fn sanitize_return_path(candidate: &str) -> String {
    if is_safe(candidate) {
        candidate.to_owned()
    } else {
        "/".to_owned()
    }
}

fn is_safe(candidate: &str) -> bool {
    if candidate.is_empty() || candidate.len() > MAX_LEN {
        return false;
    }
    let mut text = candidate.to_owned();
    for _ in 0..4 {
        if !shape_ok(&text) {
            return false;
        }
        let decoded = percent_decode(&text, false);
        if decoded == text {
            break;
        }
        text = decoded;
    }
    // Still encoded after several rounds: refuse rather than guess.
    percent_decode(&text, false) == text && !crate::navigator::is_auth_route(&text)
}

fn shape_ok(path: &str) -> bool {
    let bytes = path.as_bytes();
    let path_part = path.split(['?', '#']).next().unwrap_or("");
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control())
        && !path_part.contains(':')
        // A browser resolves dot segments before anything else: `/.//evil.test` becomes `//evil.test`, another
        // host. No dot segment and no empty segment, so what is kept is what the router navigates to.
        && !path_part.contains("//")
        // `%2e` is a dot to a browser's dot-segment rule even where the text as a whole does not decode.
        && path_part.replace("%2e", ".").replace("%2E", ".").split('/').all(|segment| segment != "." && segment != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_paths_land_on_root() {
        for hostile in [
            "//evil.test",
            "///evil.test",
            "https://evil.test",
            "HTTPS://evil.test/x",
            "/\\evil.test",
            "\\\\evil.test",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " /profile",
            "/%2F%2Fevil.test",
            "%2F%2Fevil.test",
            "/%5Cevil.test",
            "%2f%5cevil.test",
            "/%252F%252Fevil.test",
            "/.//evil.test",
            "/./evil/..//evil.test",
            "/a/..//evil.test",
            "/%2e//evil.test",
            "/%2E%2E//evil.test",
            "/..",
            "/profile//x",
            "/y@st3ptt%2E l}vA%3F%/tpD3F%/%2E",
            "/a/%/%2e%2E/b",
            "/%25252F%25252Fevil.test",
            "/%0d%0aSet-Cookie:x",
            "/\tevil",
            "/javascript:alert(1)",
            "/login?return_to=/login",
            "/callback?code=x",
            "",
            "profile",
            "data:text/html,hi",
        ] {
            assert_eq!(sanitize_return_path(hostile), "/", "{hostile:?}");
        }
        assert_eq!(sanitize_return_path(&format!("/{}", "a".repeat(3000))), "/");
    }

    #[test]
    fn ordinary_paths_are_kept() {
        for ok in ["/", "/profile", "/a/b?c=d&e=%20f#g", "/search?q=http%3A", "/logins", "/x?next=/callback"] {
            assert_eq!(sanitize_return_path(ok), ok, "{ok}");
        }
    }
}
