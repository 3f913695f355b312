//! Fetching the provider's metadata (cached for the tab) and its signing keys.

use crate::session_store::{read_item, remove_item, write_item};
use oten_auth_core::{AuthConfig, DiscoveryError, FetchError, HttpRequest, Method, ProviderMetadata, Transport};
use serde::{Deserialize, Serialize};

/// The sessionStorage key of the cached discovery document.
pub const DISCOVERY_KEY: &str = "oten.auth.discovery";
/// How long a cached discovery document is used before it is fetched again (1 hour).
const DISCOVERY_TTL_MS: i64 = 60 * 60 * 1000;

#[derive(Serialize, Deserialize)]
struct CachedMetadata {
    fetched_at: i64,
    metadata: ProviderMetadata,
}

/// The provider's metadata: the explicit endpoints when all are configured, else
/// `/.well-known/openid-configuration`, fetched once and cached in sessionStorage for an hour (so the
/// callback page load does not fetch it again). A cached or fetched document whose `issuer` is not the
/// configured one is refused.
pub(crate) async fn load_metadata(
    config: &AuthConfig,
    transport: &dyn Transport,
    now_ms: i64,
) -> Result<ProviderMetadata, DiscoveryError> {
    if let Some(meta) = ProviderMetadata::from_config(config) {
        return Ok(meta);
    }
    let cached = read_item(DISCOVERY_KEY).ok().flatten().map(|t| serde_json::from_str::<CachedMetadata>(&t));
    // A cached document of another issuer (the configuration changed) or an unreadable one is dropped, not kept.
    if matches!(&cached, Some(Err(_))) || matches!(&cached, Some(Ok(c)) if c.metadata.issuer != config.issuer) {
        let _ = remove_item(DISCOVERY_KEY);
    }
    if let Some(Ok(cached)) = cached {
        let fresh = now_ms >= cached.fetched_at && now_ms - cached.fetched_at < DISCOVERY_TTL_MS;
        if fresh && cached.metadata.issuer == config.issuer {
            // Re-apply the overrides and checks to the cached copy as well.
            let text = serde_json::to_string(&cached.metadata).unwrap_or_default();
            if let Ok(meta) = ProviderMetadata::parse(&text, config) {
                return Ok(meta);
            }
        }
    }
    let url = ProviderMetadata::discovery_url(&config.issuer);
    let request = HttpRequest::new(Method::Get, url).header("Accept", "application/json");
    let response = transport.send(request).await.map_err(|e| DiscoveryError::Fetch(e.into()))?;
    if !response.is_success() {
        return Err(DiscoveryError::Fetch(FetchError::Status(response.status)));
    }
    let meta = ProviderMetadata::parse(&response.body, config)?;
    let cached = CachedMetadata { fetched_at: now_ms, metadata: meta.clone() };
    let _ = write_item(DISCOVERY_KEY, &serde_json::to_string(&cached).unwrap_or_default());
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    async fn a_cached_discovery_document_of_another_issuer_is_dropped() {
        // Needs the dev stack's IdP (scripts/test starts it).
        let config = oten_auth_core::AuthConfig::from_json(r#"{"issuer":"http://127.0.0.1:9000","client_id":"spa-dev","redirect_uri":"http://127.0.0.1:8099/callback"}"#).unwrap();
        let storage = web_sys::window().unwrap().session_storage().unwrap().unwrap();
        let foreign = r#"{"fetched_at":1,"metadata":{"issuer":"https://old-idp.test","authorization_endpoint":"https://old-idp.test/a","token_endpoint":"https://old-idp.test/t","jwks_uri":"https://old-idp.test/j"}}"#;
        storage.set_item(DISCOVERY_KEY, foreign).unwrap();
        let meta = load_metadata(&config, &crate::FetchTransport::default(), js_sys::Date::now() as i64).await.unwrap();
        assert_eq!(meta.issuer, "http://127.0.0.1:9000");
        let cached = storage.get_item(DISCOVERY_KEY).unwrap().unwrap();
        assert!(!cached.contains("old-idp"), "replaced by the configured issuer's document");
    }
}
