//! `application/x-www-form-urlencoded`, both ways (token requests and callback query strings).

/// Encodes pairs as a form body or query string.
///
/// ```
/// use oten_auth_core::form_encode;
/// assert_eq!(form_encode(&[("a", "x y"), ("b", "é&=/")]), "a=x+y&b=%C3%A9%26%3D%2F");
/// ```
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, k);
        out.push('=');
        encode_into(&mut out, v);
    }
    out
}

fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// Decodes a query string (with or without the leading `?`) into pairs, in order.
///
/// Invalid percent escapes are kept as they are; invalid UTF-8 becomes U+FFFD. Nothing here panics.
///
/// ```
/// use oten_auth_core::parse_query;
/// let q = parse_query("?code=abc&state=x%2By&error_description=Access+denied");
/// assert_eq!(q[1], ("state".to_string(), "x+y".to_string()));
/// assert_eq!(q[2].1, "Access denied");
/// ```
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`).
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decode("%2F%2fevil", false), "//evil");
    }

    use super::*;

    #[test]
    fn round_trip_and_odd_input() {
        let body = form_encode(&[("k", "a b+c%/?&=ü")]);
        assert_eq!(parse_query(&body), vec![("k".into(), "a b+c%/?&=ü".into())]);
        assert_eq!(percent_decode("%", false), "%");
        assert_eq!(percent_decode("%4", false), "%4");
        assert_eq!(percent_decode("%zz", false), "%zz");
        assert_eq!(percent_decode("%41", false), "A");
        assert_eq!(percent_decode("%ff", false), "\u{FFFD}");
        assert_eq!(
            parse_query("a&&b=1&=2"),
            vec![("a".into(), "".into()), ("b".into(), "1".into()), ("".into(), "2".into())]
        );
    }
}
