//! `scripts/bench`'s harness: the library in a release build (the app's optimisation settings), driven from
//! JavaScript through `window.wasmBindings` (trunk's loader). Nothing is mounted; `bench/browser.mjs` calls:
//!
//! - `setup(auth_json, token_response)`: connects (discovery) and signs in with a token-endpoint answer the dev
//!   stack gave (`POST /test/session`), stored in sessionStorage like the app's session;
//! - `lookup_loop(n)` / `lookup_concurrent(n, batches)`: valid-token lookups awaited inside the wasm, one after the
//!   other or `n` at once, in one timed window; the wall time in ms (the per-call figure is `lookup_ns_median`);
//! - `access_token()`: one lookup per call from JavaScript through the library's `JsTokenSource`
//!   (`lookup_js_ns_median`); `access_token_uncached()` converting the string every call, `access_token_async()`
//!   always through a promise, for comparison;
//! - `storm_expired(n)`, `storm_api(n, url)`, `refresh_once()`: the refresh storms.
//!
//! Token values never leave the page: the lookups hand the token to the calling script, as the peers' `getUser()`
//! does, and nothing here logs one.

use futures::future::join_all;
use oten_auth::core::{AuthConfig, TokenSet};
use oten_auth::{Auth, AuthParts, BrowserSiblings, JsTokenSource};
use std::cell::RefCell;
use std::hint::black_box;
use wasm_bindgen::prelude::*;

thread_local! {
    static AUTH: RefCell<Option<Auth>> = const { RefCell::new(None) };
    static SOURCE: RefCell<Option<JsTokenSource>> = const { RefCell::new(None) };
}

fn main() {}

fn auth() -> Result<Auth, JsError> {
    AUTH.with(|a| a.borrow().clone()).ok_or_else(|| JsError::new("call setup() first"))
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// Connects with the `auth` section of a `config.json` and the app's parts (sibling tabs coordinated, as the
/// binding does in public mode), and signs in with a token-endpoint answer.
#[wasm_bindgen]
pub async fn setup(auth_json: String, token_response: String) -> Result<(), JsError> {
    let origin = web_sys::window()
        .ok_or_else(|| JsError::new("no window"))?
        .location()
        .origin()
        .map_err(|_| err("no origin"))?;
    let config = AuthConfig::from_json(&auth_json).map_err(err)?.with_app_origin(&origin);
    let siblings = BrowserSiblings::connect(&config.client_id).await;
    let parts = AuthParts::for_config(&config, Some(siblings));
    let auth = Auth::connect_with(config, parts).await.map_err(err)?;
    let tokens = TokenSet::parse_token_response(&token_response, js_sys::Date::now() as i64, None).map_err(err)?;
    auth.manager().sign_in(tokens).map_err(err)?;
    SOURCE.with(|s| *s.borrow_mut() = Some(JsTokenSource::new(auth.manager().clone())));
    AUTH.with(|a| *a.borrow_mut() = Some(auth));
    Ok(())
}

/// `n` lookups awaited one after the other inside the wasm, in one timed window: the wall time in ms.
#[wasm_bindgen]
pub async fn lookup_loop(n: u32) -> Result<f64, JsError> {
    let auth = auth()?;
    let manager = auth.manager();
    let start = now_ms();
    for _ in 0..n {
        black_box(manager.get_valid_access_token().await.map_err(err)?);
    }
    Ok(now_ms() - start)
}

/// `batches` rounds of `n` lookups started at once and awaited together, in one timed window: the wall time in ms.
#[wasm_bindgen]
pub async fn lookup_concurrent(n: u32, batches: u32) -> Result<f64, JsError> {
    let auth = auth()?;
    let manager = auth.manager();
    let start = now_ms();
    for _ in 0..batches {
        for result in join_all((0..n).map(|_| manager.get_valid_access_token())).await {
            black_box(result.map_err(err)?);
        }
    }
    Ok(now_ms() - start)
}

/// One lookup, called from JavaScript through the library's [`JsTokenSource`]: the token at once as a string when
/// fresh, a promise when it must be refreshed. `await` takes either.
///
/// [`JsTokenSource`]: oten_auth::JsTokenSource
#[wasm_bindgen]
pub fn access_token() -> Result<JsValue, JsError> {
    SOURCE.with(|s| s.borrow().as_ref().map(|s| s.get())).ok_or_else(|| JsError::new("call setup() first"))
}

/// The synchronous lookup converting the token to a JavaScript string on every call (no cache), for comparison.
#[wasm_bindgen]
pub fn access_token_uncached() -> Result<JsValue, JsError> {
    let auth = auth()?;
    auth.manager().with_fresh_access_token(|t| JsValue::from_str(t.expose())).ok_or_else(|| JsError::new("not fresh"))
}

/// The same lookup always through the async path (a promise per call), for comparison.
#[wasm_bindgen]
pub async fn access_token_async() -> Result<String, JsError> {
    let token = auth()?.manager().get_valid_access_token().await.map_err(err)?;
    Ok(token.expose().to_owned())
}

/// `n` concurrent lookups with an expired access token: `{"ms", "ok", "failed"}`.
#[wasm_bindgen]
pub async fn storm_expired(n: u32) -> Result<String, JsError> {
    let auth = auth()?;
    let manager = auth.manager();
    let start = now_ms();
    let results = join_all((0..n).map(|_| manager.get_valid_access_token())).await;
    let ms = now_ms() - start;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    Ok(format!(r#"{{"ms":{ms},"ok":{ok},"failed":{}}}"#, results.len() - ok))
}

/// `n` concurrent GETs of `url` through the API client: `{"ms", "ok", "failed"}` (ok: answered 2xx).
#[wasm_bindgen]
pub async fn storm_api(n: u32, url: String) -> Result<String, JsError> {
    let auth = auth()?;
    let client = auth.client();
    let start = now_ms();
    let results = join_all((0..n).map(|_| client.get(&url))).await;
    let ms = now_ms() - start;
    let ok = results.iter().filter(|r| matches!(r, Ok(response) if (200..300).contains(&response.status))).count();
    Ok(format!(r#"{{"ms":{ms},"ok":{ok},"failed":{}}}"#, results.len() - ok))
}

/// One refresh round trip (the token endpoint, rotation, storage): its wall time in ms.
#[wasm_bindgen]
pub async fn refresh_once() -> Result<f64, JsError> {
    let auth = auth()?;
    let start = now_ms();
    auth.manager().refresh().await.map_err(err)?;
    Ok(now_ms() - start)
}
