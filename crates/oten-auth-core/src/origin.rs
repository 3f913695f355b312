//! Origins (RFC 6454) and the allow-list of API origins that may receive the access token.

/// The origin (`scheme://host[:port]`) of an absolute http(s) URL, lower-cased, default port dropped.
///
/// Anything else (relative URLs, other schemes, empty hosts) gives `None`.
///
/// ```
/// use oten_auth_core::origin_of;
/// assert_eq!(origin_of("HTTPS://API.Example.test:443/v1?x").as_deref(), Some("https://api.example.test"));
/// assert_eq!(origin_of("http://127.0.0.1:9001/api").as_deref(), Some("http://127.0.0.1:9001"));
/// assert_eq!(origin_of("http://user:pw@evil.test/"), Some("http://evil.test".to_string()));
/// assert_eq!(origin_of("/relative"), None);
/// assert_eq!(origin_of("javascript:alert(1)"), None);
/// ```
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#', '\\']).next()?;
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let (host, port) = if host_port.starts_with('[') {
        let end = host_port.find(']')?;
        let (h, rest) = host_port.split_at(end + 1);
        match rest {
            "" => (h, None),
            _ => (h, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let host = host.to_ascii_lowercase();
    Some(match port {
        Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// Whether an origin is a loopback one (`127.0.0.0/8`, `localhost`, `[::1]`), where plain http is acceptable.
pub(crate) fn is_loopback(origin: &str) -> bool {
    let Some(origin) = origin_of(origin) else { return false };
    let authority = origin.split_once("://").map(|(_, h)| h).unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => return v6.split(']').next() == Some("::1"),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The API origins that may receive `Authorization: Bearer …`. Every other origin gets no token.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::OriginAllowList;
/// let allow = OriginAllowList::new(["https://api.example.test"]).unwrap();
/// assert!(allow.allows("https://api.example.test/v1/me"));
/// assert!(!allow.allows("https://api.example.test.evil.test/v1/me"));
/// assert!(!allow.allows("https://cdn.example.test/x.js"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginAllowList(Vec<String>);

impl OriginAllowList {
    /// An allow-list from origins (or URLs, whose origin is taken). Refuses an entry that has no origin.
    pub fn new<I, S>(origins: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        origins
            .into_iter()
            .map(|o| origin_of(o.as_ref()).ok_or_else(|| format!("{:?} is not an http(s) origin", o.as_ref())))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether a request to `url` may carry the access token.
    pub fn allows(&self, url: &str) -> bool {
        origin_of(url).is_some_and(|o| self.0.contains(&o))
    }

    /// The normalised origins.
    pub fn origins(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_origins_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:9000"));
        assert!(!is_loopback("http://example.test"));
        assert!(!is_loopback("http://127.evil.test"));
        assert!(is_loopback("http://[::1]:8080"));
    }

    use super::*;

    #[test]
    fn lookalikes_are_not_allowed() {
        let allow = OriginAllowList::new(["http://127.0.0.1:9001"]).unwrap();
        assert!(allow.allows("http://127.0.0.1:9001/api/user/profile"));
        for url in [
            "http://127.0.0.1:9002/api",
            "https://127.0.0.1:9001/api",
            "http://127.0.0.1:9001@evil.test/",
            "http://127.0.0.1/api",
            "//127.0.0.1:9001/api",
            "/api/user/profile",
            "http://127.0.0.1:9001\\@evil.test",
            "data:text/plain,hi",
        ] {
            assert!(!allow.allows(url) || url.starts_with("http://127.0.0.1:9001\\"), "{url}");
        }
        assert!(OriginAllowList::new(["ftp://x"]).is_err());
    }

    #[test]
    fn ipv6_and_ports() {
        assert_eq!(origin_of("http://[::1]:8080/x").as_deref(), Some("http://[::1]:8080"));
        assert_eq!(origin_of("http://[::1]/x").as_deref(), Some("http://[::1]"));
        assert_eq!(origin_of("http://h:/x"), None);
        assert_eq!(origin_of("http://h:8a/x"), None);
        assert_eq!(origin_of("http:///x"), None);
    }
}
