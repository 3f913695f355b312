//! The response headers the app's documents are served with: a strict Content-Security-Policy derived from the
//! app's configuration, and the headers that go with it.
//!
//! Tokens live in `sessionStorage`, so they are exactly as safe as the page is from injected script. The policy lets
//! the page run only its own files (`script-src 'self' 'wasm-unsafe-eval'`: no inline script, no `eval`), talk only
//! to the origins its configuration names (`connect-src`), submit forms only to itself and the provider's
//! end-session endpoint, and refuses `<base>`, plugins and framing.

use crate::config::{AuthConfig, AuthMode};
use crate::origin::origin_of;

/// What a configuration holds that no Content-Security-Policy can name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityHeadersError {
    /// A URL of the configuration whose origin is not a plain `scheme://host[:port]` (a `;`, `,`, quote or space
    /// in it would change the policy).
    #[error("{field}: {value:?} has no origin a Content-Security-Policy can name")]
    NotAnOrigin {
        /// The configuration field (`issuer`, `api_origins`, `endpoints.token_endpoint`…).
        field: &'static str,
        /// The value found there.
        value: String,
    },
}

/// The security headers of the app's documents, derived from its [`AuthConfig`].
///
/// `connect-src` holds `'self'` (the app's `config.json`, and the backend in the `token-mediating` and `bff`
/// modes), the provider's issuer and any explicit endpoint's origin (public mode only: with a backend the browser
/// never talks to the provider), and the API origins. `form-action` holds `'self'` and, in public mode, the origin
/// of the end-session endpoint (the `post` sign-out submits a form there).
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{AuthConfig, SecurityHeaders};
/// let config = AuthConfig::from_json(r#"{
///     "issuer": "https://account.oten.com",
///     "client_id": "my-spa",
///     "api_origins": ["https://api.example.test"]
/// }"#).unwrap();
/// let headers = SecurityHeaders::for_config(&config).unwrap();
/// assert_eq!(
///     headers.content_security_policy(),
///     "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
///      connect-src 'self' https://account.oten.com https://api.example.test; \
///      form-action 'self' https://account.oten.com; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
/// );
/// assert!(headers.headers().contains(&("Referrer-Policy", "no-referrer".to_string())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityHeaders {
    connect: Vec<String>,
    form_action: Vec<String>,
}

impl SecurityHeaders {
    /// The strictest headers: the page may talk to its own origin only.
    pub fn same_origin_only() -> Self {
        Self { connect: Vec::new(), form_action: Vec::new() }
    }

    /// The headers for an app with this configuration.
    pub fn for_config(config: &AuthConfig) -> Result<Self, SecurityHeadersError> {
        let mut headers = Self::same_origin_only();
        if config.mode == AuthMode::Public {
            headers.connect.push(csp_origin("issuer", &config.issuer)?);
            let endpoints = &config.endpoints;
            for (field, url) in [
                ("endpoints.token_endpoint", &endpoints.token_endpoint),
                ("endpoints.revocation_endpoint", &endpoints.revocation_endpoint),
                ("endpoints.jwks_uri", &endpoints.jwks_uri),
            ] {
                if let Some(url) = url {
                    push_new(&mut headers.connect, csp_origin(field, url)?);
                }
            }
            let end_session = match &endpoints.end_session_endpoint {
                Some(url) => csp_origin("endpoints.end_session_endpoint", url)?,
                None => csp_origin("issuer", &config.issuer)?,
            };
            push_new(&mut headers.form_action, end_session);
        }
        for origin in config.api_origins.origins() {
            push_new(&mut headers.connect, csp_origin("api_origins", origin)?);
        }
        Ok(headers)
    }

    /// Also lets the page fetch from `url`'s origin (an origin the app calls without a token).
    pub fn with_connect(mut self, url: &str) -> Result<Self, SecurityHeadersError> {
        push_new(&mut self.connect, csp_origin("connect", url)?);
        Ok(self)
    }

    /// The `Content-Security-Policy` header's value.
    pub fn content_security_policy(&self) -> String {
        self.directives().join("; ")
    }

    /// The policy's directives, in order (`trunk serve` takes them as a list).
    pub fn directives(&self) -> Vec<String> {
        let list = |first: &str, rest: &[String]| {
            std::iter::once(first).chain(rest.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
        };
        vec![
            "default-src 'self'".to_owned(),
            "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
            "style-src 'self'".to_owned(),
            format!("connect-src {}", list("'self'", &self.connect)),
            format!("form-action {}", list("'self'", &self.form_action)),
            "base-uri 'none'".to_owned(),
            "object-src 'none'".to_owned(),
            "frame-ancestors 'none'".to_owned(),
        ]
    }

    /// Every header, as (name, value) pairs: the policy, `Referrer-Policy: no-referrer` (no URL of the app, which
    /// may hold a code or state for a moment, reaches another origin), `X-Content-Type-Options: nosniff` and
    /// `Cross-Origin-Opener-Policy: same-origin` (no other origin's window keeps a handle on the app's).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Content-Security-Policy", self.content_security_policy()),
            ("Referrer-Policy", "no-referrer".to_owned()),
            ("X-Content-Type-Options", "nosniff".to_owned()),
            ("Cross-Origin-Opener-Policy", "same-origin".to_owned()),
        ]
    }
}

fn push_new(list: &mut Vec<String>, origin: String) {
    if !list.contains(&origin) {
        list.push(origin);
    }
}

/// `url`'s origin when it is safe to write into a policy: letters, digits, `.`, `-`, `:` and IPv6 brackets only.
fn csp_origin(field: &'static str, url: &str) -> Result<String, SecurityHeadersError> {
    origin_of(url)
        .filter(|origin| {
            let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or_default();
            !authority.is_empty()
                && authority.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        })
        .ok_or_else(|| SecurityHeadersError::NotAnOrigin { field, value: url.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> AuthConfig {
        AuthConfig::from_json(json).unwrap()
    }

    #[test]
    fn backend_modes_talk_to_their_own_origin_and_the_api_only() {
        let bff = config(r#"{"mode":"bff"}"#).with_app_origin("https://app.test");
        let csp = SecurityHeaders::for_config(&bff).unwrap().content_security_policy();
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert!(csp.contains("form-action 'self';"), "{csp}");
        let mediated = config(r#"{"mode":"token-mediating","api_origins":["https://api.test"]}"#);
        let csp = SecurityHeaders::for_config(&mediated).unwrap().content_security_policy();
        assert!(csp.contains("connect-src 'self' https://api.test;"), "{csp}");
    }

    #[test]
    fn explicit_endpoints_are_allowed_once_each() {
        let c = config(
            r#"{"issuer":"https://idp.test","client_id":"c","api_origins":["https://idp.test"],
            "endpoints":{"token_endpoint":"https://tokens.idp.test/t","jwks_uri":"https://idp.test/jwks",
            "end_session_endpoint":"https://logout.idp.test/end"}}"#,
        );
        let csp = SecurityHeaders::for_config(&c).unwrap().content_security_policy();
        assert!(csp.contains("connect-src 'self' https://idp.test https://tokens.idp.test;"), "{csp}");
        assert!(csp.contains("form-action 'self' https://logout.idp.test;"), "{csp}");
    }

    #[test]
    fn nothing_in_a_url_can_add_a_directive() {
        let base = SecurityHeaders::same_origin_only();
        for hostile in [
            "https://a.test;script-src",
            "https://a.test,b.test",
            "https://a'unsafe-inline'.test",
            "https://*.test",
            "javascript:alert(1)",
            "",
        ] {
            assert!(
                matches!(base.clone().with_connect(hostile), Err(SecurityHeadersError::NotAnOrigin { .. })),
                "{hostile}"
            );
        }
        let csp = base.with_connect("http://[::1]:9001/x").unwrap().content_security_policy();
        assert!(csp.contains("connect-src 'self' http://[::1]:9001;"), "{csp}");
    }

    #[test]
    fn the_policy_never_allows_inline_script_or_eval() {
        let csp = SecurityHeaders::for_config(&config(r#"{"issuer":"https://i.test","client_id":"c"}"#))
            .unwrap()
            .content_security_policy();
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{csp}");
        for directive in ["base-uri 'none'", "object-src 'none'", "frame-ancestors 'none'", "default-src 'self'"] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
    }
}
