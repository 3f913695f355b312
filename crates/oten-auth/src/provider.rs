//! Fetching the provider's metadata (cached for the tab) and its signing keys.

use crate::session_store::{read_item, remove_item, write_item};
use oten_auth_core::{AuthConfig, DiscoveryError, HttpRequest, Method, ProviderMetadata, Transport};
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
///
/// ## Usage
///
/// ```no_run
/// # async fn demo(config: oten_auth_core::AuthConfig) {
/// use oten_auth::{load_metadata, BrowserClock, FetchTransport};
/// use oten_auth_core::Clock;
/// let meta = load_metadata(&config, &FetchTransport::default(), BrowserClock.now_ms()).await;
/// # let _ = meta; }
/// ```
pub async fn load_metadata(
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
    let response = transport.send(request).await.map_err(|e| DiscoveryError::Fetch(e.to_string()))?;
    if !response.is_success() {
        return Err(DiscoveryError::Fetch(format!("HTTP {}", response.status)));
    }
    let meta = ProviderMetadata::parse(&response.body, config)?;
    let cached = CachedMetadata { fetched_at: now_ms, metadata: meta.clone() };
    let _ = write_item(DISCOVERY_KEY, &serde_json::to_string(&cached).unwrap_or_default());
    Ok(meta)
}
