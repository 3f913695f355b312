//! OpenID Provider metadata (OpenID Connect Discovery 1.0), checked against the configured issuer.

use crate::config::{check_endpoint_url, AuthConfig, ConfigError};
use crate::fetch_error::FetchError;
use crate::json_error::JsonError;
use serde::{Deserialize, Serialize};

/// The endpoints and capabilities the client uses.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{AuthConfig, ProviderMetadata};
/// let config = AuthConfig::from_json(r#"{"issuer":"https://account.oten.com","client_id":"spa"}"#).unwrap();
/// let doc = r#"{"issuer":"https://account.oten.com",
///   "authorization_endpoint":"https://account.oten.com/v1/oauth/authorize",
///   "token_endpoint":"https://account.oten.com/v1/oauth/token",
///   "jwks_uri":"https://account.oten.com/.well-known/jwks.json"}"#;
/// let meta = ProviderMetadata::parse(doc, &config).unwrap();
/// assert_eq!(meta.token_endpoint, "https://account.oten.com/v1/oauth/token");
/// assert_eq!(ProviderMetadata::discovery_url("https://account.oten.com/"),
///            "https://account.oten.com/.well-known/openid-configuration");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    /// Issuer identifier; equals the configured one.
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// Key set for ID token signatures.
    pub jwks_uri: String,
    /// Revocation endpoint (RFC 7009), when offered.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// End-session endpoint, when offered.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// Pushed authorization request endpoint (RFC 9126), when offered: a confidential client pushes its signed
    /// request there first.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// PKCE methods; when listed, must include S256.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Whether the authorization response carries `iss` (RFC 9207); then a missing `iss` is refused.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// The DPoP proof algorithms the provider takes (RFC 9449); DPoP is used when `ES256` is among them.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

/// Why the provider's metadata was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// Network or HTTP failure fetching the document.
    #[error("could not load the provider's configuration: {0}")]
    Fetch(#[source] FetchError),
    /// Not a metadata document.
    #[error("the provider's configuration is malformed: {0}")]
    Malformed(#[source] JsonError),
    /// The document names another issuer (a mix-up or a hostile document).
    #[error("the provider's configuration names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The one in the document.
        found: String,
    },
    /// An endpoint is not acceptable.
    #[error(transparent)]
    BadEndpoint(ConfigError),
    /// The provider does not offer PKCE with S256.
    #[error("the provider does not support PKCE with S256")]
    NoS256,
}

impl ProviderMetadata {
    /// Where the metadata of `issuer` lives.
    pub fn discovery_url(issuer: &str) -> String {
        format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
    }

    /// Parses the discovery document, refuses a foreign issuer, and applies the configured endpoint overrides.
    pub fn parse(body: &str, config: &AuthConfig) -> Result<Self, DiscoveryError> {
        let value: serde_json::Value = serde_json::from_str(body).map_err(|e| DiscoveryError::Malformed(e.into()))?;
        let issuer = value.get("issuer").and_then(|v| v.as_str()).unwrap_or_default();
        if issuer != config.issuer {
            return Err(DiscoveryError::IssuerMismatch { expected: config.issuer.clone(), found: issuer.to_owned() });
        }
        let overrides = &config.endpoints;
        let mut object = value.as_object().cloned().unwrap_or_default();
        for (key, value) in [
            ("authorization_endpoint", &overrides.authorization_endpoint),
            ("token_endpoint", &overrides.token_endpoint),
            ("revocation_endpoint", &overrides.revocation_endpoint),
            ("end_session_endpoint", &overrides.end_session_endpoint),
            ("jwks_uri", &overrides.jwks_uri),
        ] {
            if let Some(v) = value {
                object.insert(key.to_owned(), serde_json::Value::String(v.clone()));
            }
        }
        let meta: ProviderMetadata = serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|e| DiscoveryError::Malformed(e.into()))?;
        meta.check()?;
        Ok(meta)
    }

    /// Metadata from explicit endpoints alone, for a provider without discovery.
    pub fn from_config(config: &AuthConfig) -> Option<Self> {
        let e = &config.endpoints;
        let meta = ProviderMetadata {
            issuer: config.issuer.clone(),
            authorization_endpoint: e.authorization_endpoint.clone()?,
            token_endpoint: e.token_endpoint.clone()?,
            jwks_uri: e.jwks_uri.clone()?,
            revocation_endpoint: e.revocation_endpoint.clone(),
            end_session_endpoint: e.end_session_endpoint.clone(),
            pushed_authorization_request_endpoint: None,
            code_challenge_methods_supported: None,
            authorization_response_iss_parameter_supported: false,
            dpop_signing_alg_values_supported: None,
        };
        meta.check().ok().map(|_| meta)
    }

    fn check(&self) -> Result<(), DiscoveryError> {
        for (field, url) in [
            ("authorization_endpoint", Some(&self.authorization_endpoint)),
            ("token_endpoint", Some(&self.token_endpoint)),
            ("jwks_uri", Some(&self.jwks_uri)),
            ("revocation_endpoint", self.revocation_endpoint.as_ref()),
            ("end_session_endpoint", self.end_session_endpoint.as_ref()),
            ("pushed_authorization_request_endpoint", self.pushed_authorization_request_endpoint.as_ref()),
        ] {
            if let Some(url) = url {
                check_endpoint_url(field, url).map_err(DiscoveryError::BadEndpoint)?;
            }
        }
        if let Some(methods) = &self.code_challenge_methods_supported {
            if !methods.iter().any(|m| m == "S256") {
                return Err(DiscoveryError::NoS256);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> AuthConfig {
        AuthConfig::from_json(&format!(r#"{{"issuer":"http://127.0.0.1:9000","client_id":"spa"{extra}}}"#)).unwrap()
    }

    const DOC: &str = r#"{"issuer":"http://127.0.0.1:9000","authorization_endpoint":"http://127.0.0.1:9000/v1/oauth/authorize",
        "token_endpoint":"http://127.0.0.1:9000/v1/oauth/token","jwks_uri":"http://127.0.0.1:9000/v1/oauth/jwks",
        "revocation_endpoint":"http://127.0.0.1:9000/v1/oauth/revoke","code_challenge_methods_supported":["S256"],
        "authorization_response_iss_parameter_supported":true}"#;

    #[test]
    fn a_foreign_issuer_is_refused() {
        let doc = DOC.replacen("\"issuer\":\"http://127.0.0.1:9000\"", "\"issuer\":\"https://evil.test\"", 1);
        assert!(matches!(ProviderMetadata::parse(&doc, &config("")), Err(DiscoveryError::IssuerMismatch { .. })));
        let trailing = DOC.replacen("\"issuer\":\"http://127.0.0.1:9000\"", "\"issuer\":\"http://127.0.0.1:9000/\"", 1);
        assert!(ProviderMetadata::parse(&trailing, &config("")).is_err(), "issuers compare exactly");
    }

    #[test]
    fn overrides_win_and_bad_documents_fail() {
        let m = ProviderMetadata::parse(DOC, &config(r#","endpoints":{"token_endpoint":"http://127.0.0.1:7000/t"}"#))
            .unwrap();
        assert_eq!(m.token_endpoint, "http://127.0.0.1:7000/t");
        assert!(m.authorization_response_iss_parameter_supported);
        assert!(matches!(ProviderMetadata::parse("<html>", &config("")), Err(DiscoveryError::Malformed(_))));
        let plain = DOC.replace("S256", "plain");
        assert_eq!(ProviderMetadata::parse(&plain, &config("")), Err(DiscoveryError::NoS256));
        let http = DOC.replace("http://127.0.0.1:9000/v1/oauth/token", "http://evil.test/token");
        assert!(matches!(ProviderMetadata::parse(&http, &config("")), Err(DiscoveryError::BadEndpoint(_))));
    }
}
