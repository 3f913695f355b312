//! `scripts/bench`'s harness: the library in a release build (the app's optimisation settings), driven from
//! JavaScript through `window.wasmBindings` (trunk's loader). Nothing is mounted; `bench/browser.mjs` calls:
//!
//! - `setup(auth_json, token_response)`: connects (discovery) and signs in with a token-endpoint answer the dev
//!   stack gave (`POST /test/session`), stored in sessionStorage like the app's session;
//! - `lookup_loop(n)` / `lookup_concurrent(n)`: `n` valid-token lookups awaited inside the wasm, one after the other
//!   or all at once; the wall time in ms (the per-call figure is `lookup_ns_median`);
//! - `access_token()`: one lookup per call from JavaScript (`lookup_js_ns_median`): the token itself when fresh,
//!   a promise when it must be refreshed; `access_token_async()` always through a promise;
//! - `expire_access_token()`, `storm_expired(n)`, `storm_api(n, url)`, `refresh_once()`: the refresh storms.
//!
//! Token values never leave the page: the lookups hand the token to the calling script, as the peers' `getUser()`
//! does, and nothing here logs one.

use futures::future::join_all;
use oten_auth::core::{AccessToken, AuthConfig, TokenSet};
use oten_auth::Auth;
use std::cell::RefCell;
use std::hint::black_box;
use wasm_bindgen::prelude::*;

thread_local! {
    static AUTH: RefCell<Option<Auth>> = const { RefCell::new(None) };
    /// The current token and its JavaScript string (see [`access_token`]).
    static LAST_TOKEN: RefCell<Option<(AccessToken, JsValue)>> = const { RefCell::new(None) };
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

/// Connects with the `auth` section of a `config.json` and signs in with a token-endpoint answer.
#[wasm_bindgen]
pub async fn setup(auth_json: String, token_response: String) -> Result<(), JsError> {
    let origin = web_sys::window()
        .ok_or_else(|| JsError::new("no window"))?
        .location()
        .origin()
        .map_err(|_| err("no origin"))?;
    let config = AuthConfig::from_json(&auth_json).map_err(err)?.with_app_origin(&origin);
    let auth = Auth::connect(config).await.map_err(err)?;
    let tokens = TokenSet::parse_token_response(&token_response, js_sys::Date::now() as i64, None).map_err(err)?;
    auth.manager().sign_in(tokens).map_err(err)?;
    AUTH.with(|a| *a.borrow_mut() = Some(auth));
    Ok(())
}

/// `n` lookups awaited one after the other inside the wasm: the wall time in ms.
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

/// `n` lookups started at once and awaited together: the wall time in ms.
#[wasm_bindgen]
pub async fn lookup_concurrent(n: u32) -> Result<f64, JsError> {
    let auth = auth()?;
    let manager = auth.manager();
    let start = now_ms();
    for result in join_all((0..n).map(|_| manager.get_valid_access_token())).await {
        black_box(result.map_err(err)?);
    }
    Ok(now_ms() - start)
}

/// One lookup, called from JavaScript: the access token (as `getUser()` hands out the stored user). A fresh token
/// comes back at once as a string ([`TokenManager::fresh_access_token`]: no future, no promise); a due one as a
/// promise of the refreshed token. `await` takes either.
///
/// A string crossing into JavaScript is decoded from the wasm's memory on every call (about 250 ns for a token):
/// the binding keeps the JavaScript string of the current token and hands it out again until the token changes.
///
/// [`TokenManager::fresh_access_token`]: oten_auth::core::TokenManager::fresh_access_token
#[wasm_bindgen]
pub fn access_token() -> Result<JsValue, JsError> {
    let auth = auth()?;
    let fresh = auth.manager().with_fresh_access_token(|token| {
        LAST_TOKEN.with(|last| {
            let mut last = last.borrow_mut();
            match &*last {
                Some((known, js)) if known.expose() == token.expose() => js.clone(),
                _ => {
                    let js = JsValue::from_str(token.expose());
                    *last = Some((token.clone(), js.clone()));
                    js
                }
            }
        })
    });
    if let Some(js) = fresh {
        return Ok(js);
    }
    let manager = auth.manager().clone();
    Ok(wasm_bindgen_futures::future_to_promise(async move {
        let token = manager.get_valid_access_token().await.map_err(|e| JsValue::from_str(&e.to_string()))?;
        Ok(JsValue::from_str(token.expose()))
    })
    .into())
}

/// The same lookup always through the async path (a promise per call), for comparison.
#[wasm_bindgen]
pub async fn access_token_async() -> Result<String, JsError> {
    let token = auth()?.manager().get_valid_access_token().await.map_err(err)?;
    Ok(token.expose().to_owned())
}

/// Marks the stored access token expired a second ago (the refresh token stays valid).
#[wasm_bindgen]
pub fn expire_access_token() -> Result<(), JsError> {
    let auth = auth()?;
    let mut tokens = auth.manager().tokens().ok_or_else(|| JsError::new("not signed in"))?;
    tokens.expires_at = js_sys::Date::now() as i64 - 1_000;
    auth.manager().sign_in(tokens).map_err(err)
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
