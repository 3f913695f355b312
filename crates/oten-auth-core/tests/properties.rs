//! Property tests (proptest): the refresh policy and the token manager over generated lifetimes, buffers and call
//! times, and the return-path sanitiser over generated hostile strings.
//!
//! - never more than one refresh per half lifetime of a token (so at most two per lifetime, and one when the buffer
//!   is at most half of it), whatever the lifetime, buffer and call pattern;
//! - never an expired token handed out, and no refresh token presented twice;
//! - whatever the return path, the sanitiser gives a same-origin path.

#![cfg(not(target_arch = "wasm32"))]

use futures::executor::{block_on, LocalPool};
use futures::task::LocalSpawnExt;
use oten_auth_core::testing::FakeClock;
use oten_auth_core::{
    sanitize_return_path, Clock, ManagerConfig, MemoryStore, Metrics, RefreshPolicy, TokenManager, TokenSet,
};
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

mod support;
use support::{FakeIdp, IdpTransport, TOKEN_URL};

const T0: i64 = 1_700_000_000_000;

fn token(lifetime_secs: i64, now_ms: i64) -> TokenSet {
    let body =
        format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{lifetime_secs},"refresh_token":"r"}}"#);
    TokenSet::parse_token_response(&body, now_ms, None).unwrap()
}

proptest! {
    #[test]
    fn the_policy_refreshes_in_the_second_half_of_a_lifetime_and_before_expiry(
        lifetime_secs in 1i64..=31_536_000,
        buffer_secs in 0u32..=86_400,
        now in 0i64..=1_000_000,
    ) {
        let policy = RefreshPolicy::with_buffer_secs(buffer_secs);
        let t = token(lifetime_secs, T0);
        let lifetime_ms = t.expires_at - t.stored_at;
        let due = policy.refresh_at(&t);
        prop_assert!(due >= t.stored_at + lifetime_ms / 2, "due {} ms into a {} ms life", due - t.stored_at, lifetime_ms);
        prop_assert!(due <= t.expires_at, "due after expiry");
        prop_assert!(policy.needs_refresh(&t, t.expires_at), "an expired token is always due");
        // Monotonic: once due, due for ever after.
        let at = t.stored_at + now * lifetime_ms / 1_000_000;
        if policy.needs_refresh(&t, at) {
            prop_assert!(policy.needs_refresh(&t, at + 1));
            prop_assert!(at >= due);
        } else {
            prop_assert!(at < due);
        }
    }

    #[test]
    fn the_manager_never_hands_out_an_expired_token_nor_refreshes_twice_per_half_life(
        ttl_secs in 2i64..=7_200,
        buffer_secs in 0u32..=900,
        // Steps between calls as thousandths of the lifetime, and how many callers arrive together.
        steps in proptest::collection::vec((0i64..=1_500, 1usize..=4), 1..40),
    ) {
        let clock = Rc::new(FakeClock::new(T0));
        let idp = FakeIdp::new(clock.clone(), ttl_secs);
        let manager = Rc::new(TokenManager::new(
            ManagerConfig::new(TOKEN_URL, "spa").with_policy(RefreshPolicy::with_buffer_secs(buffer_secs)),
            clock.clone(),
            Rc::new(MemoryStore::default()),
            IdpTransport::new(idp.clone()),
            Metrics::default(),
        ));
        manager.sign_in(idp.sign_in()).unwrap();
        let lifetime_ms = ttl_secs * 1000;
        let mut refreshed_at = vec![T0];
        for (step, callers) in steps {
            clock.advance(step * lifetime_ms / 1000);
            let now = clock.now_ms();
            let before = idp.requests();
            let mut pool = LocalPool::new();
            let results = Rc::new(RefCell::new(Vec::new()));
            for _ in 0..callers {
                let (manager, results) = (manager.clone(), results.clone());
                pool.spawner().spawn_local(async move {
                    let got = manager.get_valid_access_token().await.map(|t| t.expose().to_owned());
                    results.borrow_mut().push(got);
                }).unwrap();
            }
            pool.run();
            let held = manager.tokens().expect("still signed in");
            for got in results.borrow().iter() {
                let got = got.as_ref().expect("a token");
                prop_assert_eq!(got, held.access_token.expose(), "every caller gets the held token");
                prop_assert!(held.expires_at > now, "an expired token handed out");
            }
            prop_assert!(idp.requests() - before <= 1, "{} callers, {} refreshes", callers, idp.requests() - before);
            if idp.requests() > before {
                let last = *refreshed_at.last().unwrap();
                prop_assert!(now - last >= lifetime_ms / 2, "refreshed {} ms after the last, life {} ms", now - last, lifetime_ms);
                refreshed_at.push(now);
            }
        }
        prop_assert_eq!(idp.presented_twice(), 0);
        prop_assert_eq!(idp.reuse(), 0);
    }

    #[test]
    fn the_return_path_is_always_same_origin(candidate in ".{0,64}", prefix in prop::sample::select(vec![
        "", "/", "//", "\\", "/\\", "http://", "https://evil.test", "javascript:", "%2F%2F", "/%09/", "\t", " /",
        "/./", "/.//", "/a/../", "/%2e/", "/..", "/profile/",
    ])) {
        let candidate = format!("{prefix}{candidate}");
        let out = sanitize_return_path(&candidate);
        prop_assert!(out.starts_with('/'), "{:?}", out);
        prop_assert!(!out.starts_with("//") && !out.starts_with("/\\"), "{:?} leaves the origin", out);
        prop_assert!(!out.chars().any(|c| c.is_control() || c == '\\'), "{:?}", out);
        prop_assert!(out == "/" || out == candidate);
        let path = out.split(['?', '#']).next().unwrap_or("").replace("%2e", ".").replace("%2E", ".");
        prop_assert!(!path.contains("//") && path.split('/').all(|s| s != "." && s != ".."), "{:?}", out);
    }
}
