//! The access token handed to JavaScript: for a JS SDK or a script that needs the token, at the cost of a call.

use oten_auth_core::{AccessToken, TokenManager};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// Hands the session's access token to JavaScript code. A fresh token comes back at once as a JavaScript string
/// ([`TokenManager::fresh_access_token`]: no future, no promise); a due one as a promise of the refreshed token,
/// through the same single flight as every other caller.
///
/// A Rust string crossing into JavaScript is decoded from the wasm's memory each time (a few hundred nanoseconds for
/// a token): the source keeps the JavaScript string of the current token and hands out the same one until the token
/// changes. Clones share that cache.
///
/// ```no_run
/// # fn demo(auth: oten_auth::Auth) {
/// let source = oten_auth::JsTokenSource::new(auth.manager().clone());
/// // Export it to JavaScript with wasm-bindgen, e.g. `#[wasm_bindgen] pub fn access_token() -> JsValue`:
/// let token_or_promise = source.get();
/// # let _ = token_or_promise; }
/// ```
#[derive(Clone)]
pub struct JsTokenSource {
    manager: TokenManager,
    last: Rc<RefCell<Option<(AccessToken, JsValue)>>>,
}

impl JsTokenSource {
    /// A source over `manager`'s session.
    pub fn new(manager: TokenManager) -> Self {
        Self { manager, last: Rc::new(RefCell::new(None)) }
    }

    /// The access token as a JavaScript string when it is fresh; `None` when it must be refreshed (or there is no
    /// session): then [`get`](Self::get) returns a promise.
    pub fn fresh(&self) -> Option<JsValue> {
        self.manager.with_fresh_access_token(|token| {
            let mut last = self.last.borrow_mut();
            match &*last {
                Some((known, js)) if known.expose() == token.expose() => js.clone(),
                _ => {
                    let js = JsValue::from_str(token.expose());
                    *last = Some((token.clone(), js.clone()));
                    js
                }
            }
        })
    }

    /// The access token as a JavaScript string when it is fresh, else a `Promise` of it once refreshed, which
    /// rejects with the error's text (never a token) when there is no valid token. JavaScript's `await` takes either.
    pub fn get(&self) -> JsValue {
        if let Some(token) = self.fresh() {
            return token;
        }
        let manager = self.manager.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let token = manager.get_valid_access_token().await.map_err(|e| JsValue::from_str(&e.to_string()))?;
            Ok(JsValue::from_str(token.expose()))
        })
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::JsTokenSource;
    use oten_auth_core::testing::{FakeClock, FakeTransport};
    use oten_auth_core::{HttpResponse, ManagerConfig, MemoryStore, Metrics, TokenManager, TokenSet};
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn tokens(access: &str) -> TokenSet {
        let body = format!(r#"{{"access_token":"{access}","refresh_token":"r","expires_in":600}}"#);
        TokenSet::parse_token_response(&body, 0, None).unwrap()
    }

    fn rig() -> (Rc<FakeClock>, Rc<FakeTransport>, TokenManager) {
        let clock = Rc::new(FakeClock::new(0));
        let transport = Rc::new(FakeTransport::default());
        let manager = TokenManager::new(
            ManagerConfig::new("https://idp.test/token", "spa"),
            clock.clone(),
            Rc::new(MemoryStore::default()),
            transport.clone(),
            Metrics::default(),
        );
        (clock, transport, manager)
    }

    #[wasm_bindgen_test]
    fn a_fresh_token_is_one_javascript_string_until_it_changes() {
        let (_, _, manager) = rig();
        let source = JsTokenSource::new(manager.clone());
        assert!(source.fresh().is_none(), "no session: nothing");
        manager.sign_in(tokens("a1")).unwrap();
        let cached = |s: &JsTokenSource| s.last.borrow().as_ref().map(|(token, _)| token.expose().to_owned());
        let first = source.fresh().unwrap();
        assert_eq!(first.as_string().as_deref(), Some("a1"));
        assert_eq!(cached(&source).as_deref(), Some("a1"), "kept with its JavaScript string");
        let clone = source.clone();
        assert_eq!(clone.get().as_string().as_deref(), Some("a1"));
        assert!(Rc::ptr_eq(&clone.last, &source.last), "clones share the cache");
        manager.sign_in(tokens("a2")).unwrap();
        assert_eq!(source.fresh().unwrap().as_string().as_deref(), Some("a2"), "a new token: a new string");
        assert_eq!(cached(&source).as_deref(), Some("a2"), "the cache follows the token");
    }

    #[wasm_bindgen_test]
    async fn a_due_token_is_a_promise_of_the_refreshed_one() {
        let (clock, transport, manager) = rig();
        let source = JsTokenSource::new(manager.clone());
        manager.sign_in(tokens("a1")).unwrap();
        clock.set(300_000);
        assert!(source.fresh().is_none(), "due at half its lifetime");
        transport.push(Ok(HttpResponse::new(200, r#"{"access_token":"a2","refresh_token":"r2","expires_in":600}"#)));
        let promise = source.get().dyn_into::<js_sys::Promise>().expect("a promise");
        assert_eq!(JsFuture::from(promise).await.unwrap().as_string().as_deref(), Some("a2"));
        assert_eq!(transport.request_count(), 1);
        // Expired, and the provider refuses the refresh token: the promise rejects with the reason, never a token.
        clock.set(10_000_000);
        transport.push(Ok(HttpResponse::new(400, r#"{"error":"invalid_grant"}"#)));
        let promise = source.get().dyn_into::<js_sys::Promise>().expect("a promise");
        let error = JsFuture::from(promise).await.expect_err("refused").as_string().unwrap_or_default();
        assert!(!error.is_empty(), "a readable reason");
        assert!(!error.contains("a2") && !error.contains("r2"), "never a token in the error: {error}");
        assert_eq!(transport.request_count(), 2, "the refresh was tried once more");
    }
}
