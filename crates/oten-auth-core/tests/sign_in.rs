//! Sign-in and sign-out natively, end to end: authorization request, callback checks, code exchange, ID-token
//! verification with real Ed25519 / P-256 / RSA signatures, key rotation, revocation and end-session requests —
//! every callback and ID-token case of the security checklist, each refused before it can sign anyone in.
#![cfg(not(target_arch = "wasm32"))]

mod sign_in_support;

use oten_auth_core::id_token::IdTokenError;
use oten_auth_core::*;
use serde_json::json;
use sign_in_support::*;

fn ok(rig: &Rig) -> SignedIn {
    let params = rig.start("/profile?tab=bio", &SignInOptions::default());
    rig.callback(&params).expect("signed in")
}

#[test]
fn a_sign_in_with_each_algorithm_verifies_the_id_token_and_returns_the_person() {
    for (alg, kid) in [("EdDSA", "ed"), ("ES256", "ec"), ("RS256", "rsa")] {
        let rig = Rig::new(alg, kid);
        let signed_in = ok(&rig);
        let user = signed_in.tokens.user.clone().unwrap();
        assert_eq!((user.sub.as_str(), user.name.as_deref()), ("alice-1", Some("Alice Example")), "{alg}");
        assert_eq!(signed_in.return_to, "/profile?tab=bio");
        assert_eq!(signed_in.tokens.refresh_token.as_ref().unwrap().expose(), "rt1");
        assert!(is_valid_lineage(&signed_in.tokens.lineage), "a random lineage");
        assert_eq!(rig.crypto.verified.get(), 1, "{alg}: the signature was checked");
    }
}

#[test]
fn the_authorization_request_carries_pkce_s256_a_one_time_state_and_nonce_and_the_options() {
    let rig = Rig::new("EdDSA", "ed");
    let options = SignInOptions {
        prompt: Some("login".into()),
        max_age_secs: Some(300),
        acr_values: Some("urn:pwd".into()),
        login_hint: Some("alice@example.test".into()),
        ui_locales: Some("fr en".into()),
    };
    let params = rig.start("//evil.test/phish", &options);
    let get = |k: &str| param(&params, k);
    assert_eq!(get("response_type"), "code");
    assert_eq!(get("code_challenge_method"), "S256");
    assert_eq!(get("redirect_uri"), "https://app.test/callback");
    assert_eq!((get("state").len(), get("nonce").len(), get("code_challenge").len()), (43, 43, 43));
    assert_eq!(
        (get("prompt"), get("max_age"), get("acr_values"), get("login_hint"), get("ui_locales")),
        ("login".into(), "300".into(), "urn:pwd".into(), "alice@example.test".into(), "fr en".into())
    );
    let signed_in = rig.callback(&params).unwrap();
    assert_eq!(signed_in.return_to, "/", "a hostile return path never survives");
    // The exchange presents the verifier whose SHA-256 is the challenge, and the same redirect URI.
    let exchange = rig.idp.exchanges.borrow()[0].clone();
    let verifier = param(&exchange, "code_verifier");
    assert!((43..=128).contains(&verifier.len()));
    let digest = futures::executor::block_on(rig.crypto.as_ref().sha256(verifier.as_bytes())).unwrap();
    assert_eq!(pkce::code_challenge_from_digest(&digest), get("code_challenge"));
    assert_eq!(param(&exchange, "redirect_uri"), "https://app.test/callback");
    assert_eq!(param(&exchange, "grant_type"), "authorization_code");
    assert!(exchange.iter().all(|(k, _)| k != "client_secret"));
    // Two sign-ins never share a state or nonce.
    let again = rig.start("/", &SignInOptions::default());
    assert_ne!(param(&again, "state"), get("state"));
    assert_ne!(param(&again, "nonce"), get("nonce"));
}

#[test]
fn every_bad_callback_is_refused_before_any_token_request() {
    let rig = Rig::new("EdDSA", "ed");
    let complete = |query: &str| futures::executor::block_on(rig.flow.complete(query));
    let state_of = |rig: &Rig| param(&rig.start("/", &SignInOptions::default()), "state");
    let iss = form_encode(&[("iss", ISSUER)]);

    let s = state_of(&rig);
    assert_eq!(complete(&format!("code=c&{iss}")), Err(CallbackError::MissingState));
    let s2 = state_of(&rig);
    assert_eq!(
        complete(&format!("code=c&state={s}&{iss}")),
        Err(CallbackError::StateMismatch),
        "an older attempt's state"
    );
    assert_eq!(
        complete(&format!("code=c&state={s2}&{iss}")),
        Err(CallbackError::UnknownState),
        "used up by the failure"
    );
    let s = state_of(&rig);
    assert_eq!(complete(&format!("code=c&state={s}&iss=https%3A%2F%2Fevil.test")), Err(CallbackError::WrongIssuer));
    let s = state_of(&rig);
    assert_eq!(complete(&format!("code=c&state={s}")), Err(CallbackError::WrongIssuer), "iss promised but missing");
    let s = state_of(&rig);
    assert_eq!(complete(&format!("state={s}&{iss}")), Err(CallbackError::MissingCode));
    let s = state_of(&rig);
    rig.clock.advance(PENDING_LIFETIME_MS);
    assert_eq!(complete(&format!("code=c&state={s}&{iss}")), Err(CallbackError::Expired));
    // An error answer is shown only when it answers this tab's attempt; a crafted one shows nothing of its text.
    let s = state_of(&rig);
    let crafted = complete(&format!("error=access_denied&error_description=Call+0800-SCAM&state=guess&{iss}"));
    assert_eq!(crafted, Err(CallbackError::StateMismatch));
    let _ = s;
    let s = state_of(&rig);
    let denied = complete(&format!("error=access_denied&error_description=No+thanks&state={s}&{iss}")).unwrap_err();
    assert_eq!(denied.to_string(), "Sign-in was cancelled or denied: No thanks");
    assert_eq!(rig.token_requests(), 0, "no token request for any of them");
}

#[test]
fn a_replayed_callback_exchanges_nothing() {
    let rig = Rig::new("EdDSA", "ed");
    let params = rig.start("/", &SignInOptions::default());
    rig.callback(&params).unwrap();
    assert_eq!(rig.callback(&params), Err(CallbackError::UnknownState));
    assert_eq!(rig.token_requests(), 1);
}

/// Each way an ID token can be wrong, and the error it must give.
#[test]
fn every_bad_id_token_is_refused() {
    type Shape = Box<dyn Fn(&mut Issue)>;
    let cases: Vec<(&str, Shape, IdTokenError)> = vec![
        ("bad signature", Box::new(|i| i.tamper = true), IdTokenError::BadSignature),
        (
            "alg none",
            Box::new(|i| i.header = json!({"alg": "none", "kid": "ed"})),
            IdTokenError::UnsupportedAlgorithm("none".into()),
        ),
        (
            "HS256",
            Box::new(|i| i.header = json!({"alg": "HS256", "kid": "ed"})),
            IdTokenError::UnsupportedAlgorithm("HS256".into()),
        ),
        ("unknown kid", Box::new(|i| i.header["kid"] = json!("gone")), IdTokenError::UnknownKey),
        ("key of another type", Box::new(|i| i.header["kid"] = json!("ec")), IdTokenError::KeyMismatch),
        ("wrong iss", Box::new(|i| i.claims["iss"] = json!("https://evil.test")), IdTokenError::WrongIssuer),
        ("wrong aud", Box::new(|i| i.claims["aud"] = json!("other-client")), IdTokenError::WrongAudience),
        ("several aud, no azp", Box::new(|i| i.claims["aud"] = json!([CLIENT, "other"])), IdTokenError::MissingAzp),
        ("wrong azp", Box::new(|i| i.claims["azp"] = json!("other")), IdTokenError::WrongAzp),
        ("wrong nonce", Box::new(|i| i.claims["nonce"] = json!("replayed-nonce")), IdTokenError::WrongNonce),
        (
            "missing nonce",
            Box::new(|i| {
                i.claims.as_object_mut().unwrap().remove("nonce");
            }),
            IdTokenError::MissingClaim("nonce"),
        ),
        ("expired", Box::new(|i| i.claims["exp"] = json!(T0 / 1000 - 61)), IdTokenError::Expired),
        ("issued in the future", Box::new(|i| i.claims["iat"] = json!(T0 / 1000 + 3600)), IdTokenError::IssuedInFuture),
        ("not valid yet", Box::new(|i| i.claims["nbf"] = json!(T0 / 1000 + 3600)), IdTokenError::NotYetValid),
        ("no sub", Box::new(|i| i.claims["sub"] = json!("")), IdTokenError::MissingClaim("sub")),
    ];
    for (name, shape, expected) in cases {
        let rig = Rig::new("EdDSA", "ed");
        rig.idp.shape(shape);
        let params = rig.start("/", &SignInOptions::default());
        assert_eq!(rig.callback(&params), Err(CallbackError::IdToken(expected)), "{name}");
    }
}

#[test]
fn max_age_and_acr_are_checked_when_the_sign_in_asked_for_them() {
    let step_up =
        SignInOptions { max_age_secs: Some(60), acr_values: Some("urn:mfa urn:pwd".into()), ..Default::default() };
    let rig = Rig::new("EdDSA", "ed");
    let params = rig.start("/", &step_up);
    assert!(rig.callback(&params).is_ok(), "auth_time 5 s ago, acr urn:pwd");

    let rig = Rig::new("EdDSA", "ed");
    rig.idp.shape(|i| i.claims["auth_time"] = json!(T0 / 1000 - 3600));
    let params = rig.start("/", &step_up);
    assert_eq!(rig.callback(&params), Err(CallbackError::IdToken(IdTokenError::AuthenticationTooOld)));

    let rig = Rig::new("EdDSA", "ed");
    rig.idp.shape(|i| {
        i.claims.as_object_mut().unwrap().remove("auth_time");
    });
    let params = rig.start("/", &step_up);
    assert_eq!(rig.callback(&params), Err(CallbackError::IdToken(IdTokenError::MissingClaim("auth_time"))));

    let rig = Rig::new("EdDSA", "ed");
    rig.idp.shape(|i| i.claims["acr"] = json!("urn:weak"));
    let params = rig.start("/", &step_up);
    assert_eq!(rig.callback(&params), Err(CallbackError::IdToken(IdTokenError::WrongAcr)));

    // Without the options, neither is required.
    let rig = Rig::new("EdDSA", "ed");
    rig.idp.shape(|i| {
        i.claims.as_object_mut().unwrap().remove("auth_time");
        i.claims["acr"] = json!("urn:weak");
    });
    assert!(rig.callback(&rig.start("/", &SignInOptions::default())).is_ok());
}

#[test]
fn keys_are_cached_and_fetched_once_more_when_the_provider_rotates() {
    let rig = Rig::new("EdDSA", "ed");
    ok(&rig);
    ok(&rig);
    assert_eq!(rig.idp.jwks_fetches.get(), 1, "cached");
    // The provider rotates: a new key id, the old key gone.
    rig.idp.keys.borrow_mut()[0].kid = Some("ed-2".into());
    rig.idp.shape(|i| i.header["kid"] = json!("ed-2"));
    ok(&rig);
    assert_eq!(rig.idp.jwks_fetches.get(), 2, "one refetch for the unknown kid");
    // A kid nobody publishes: one refetch, then refused.
    rig.idp.shape(|i| i.header["kid"] = json!("nobody"));
    let params = rig.start("/", &SignInOptions::default());
    assert_eq!(rig.callback(&params), Err(CallbackError::IdToken(IdTokenError::UnknownKey)));
    assert_eq!(rig.idp.jwks_fetches.get(), 3);
}

#[test]
fn a_refused_or_unusable_exchange_signs_nobody_in() {
    for (status, body, refused) in [
        (400, r#"{"error":"invalid_grant","error_description":"code already used"}"#, true),
        (503, "down", false),
        (200, r#"{"token_type":"Bearer"}"#, false),
    ] {
        let rig = Rig::new("EdDSA", "ed");
        rig.idp.shape(move |i| i.answer = Some((status, body.to_owned())));
        let params = rig.start("/", &SignInOptions::default());
        let Err(CallbackError::Exchange(e)) = rig.callback(&params) else { panic!("{status}") };
        assert_eq!(e.requires_reauth(), refused, "{status}: {e}");
    }
    // A token answer without an ID token is not a sign-in.
    let rig = Rig::new("EdDSA", "ed");
    rig.idp.shape(|i| i.answer = Some((200, r#"{"access_token":"a","token_type":"Bearer"}"#.into())));
    let params = rig.start("/", &SignInOptions::default());
    assert_eq!(rig.callback(&params), Err(CallbackError::IdToken(IdTokenError::MissingClaim("id_token"))));
}

#[test]
fn sign_out_revokes_both_tokens_and_ends_the_session_without_a_token_in_any_url() {
    let rig = Rig::new("EdDSA", "ed");
    let signed_in = ok(&rig);
    let requests = rig.flow.revocation_requests(&signed_in.tokens);
    let hints: Vec<_> = requests.iter().map(|r| parse_query(r.body.as_deref().unwrap())[1].1.clone()).collect();
    assert_eq!(hints, ["refresh_token", "access_token"], "refresh token first");
    assert!(requests.iter().all(|r| r.keepalive && !r.follow_redirects && !r.url.contains("token=")));
    assert_eq!(futures::executor::block_on(rig.flow.revoke(&signed_in.tokens)), 2);
    assert_eq!(rig.idp.revocations.get(), 2);

    let hint = signed_in.tokens.id_token.as_ref();
    let Some(EndSession::Redirect(url)) = rig.flow.end_session(hint) else { panic!("GET by default") };
    assert_eq!(url, format!("{LOGOUT}?client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fapp.test%2Fsigned-out"));
    let post = Rig::with_config("EdDSA", "ed", r#","end_session_method":"post""#);
    let Some(EndSession::FormPost { action, fields }) = post.flow.end_session(hint) else { panic!("POST") };
    assert_eq!(action, LOGOUT);
    assert!(fields.iter().any(|(k, v)| k == "id_token_hint" && v == hint.unwrap().expose()));
    assert!(!format!("{:?}", post.flow.end_session(hint)).contains(hint.unwrap().expose()), "Debug hides the hint");
}

#[test]
fn without_cryptography_a_sign_in_cannot_start_and_says_why() {
    struct Nothing;
    impl Crypto for Nothing {
        fn random_bytes(&self, _n: usize) -> Result<Vec<u8>, CryptoError> {
            Err(CryptoError::Unavailable)
        }
        fn sha256(&self, _data: &[u8]) -> futures::future::LocalBoxFuture<'static, Result<[u8; 32], CryptoError>> {
            Box::pin(async { Err(CryptoError::Unavailable) })
        }
        fn verify_signature(
            &self,
            _: &id_token::Jwk,
            _: id_token::JwsAlgorithm,
            _: &[u8],
            _: &[u8],
        ) -> futures::future::LocalBoxFuture<'static, Result<bool, CryptoError>> {
            Box::pin(async { Err(CryptoError::Unavailable) })
        }
    }
    let (config, meta) = config("");
    let pending = std::rc::Rc::new(MemoryPendingStore::default());
    let parts = SignInParts {
        crypto: std::rc::Rc::new(Nothing),
        pending: pending.clone(),
        transport: std::rc::Rc::new(testing::FakeTransport::default()),
        clock: std::rc::Rc::new(testing::FakeClock::new(T0)),
    };
    let flow = SignInFlow::new(config, meta, parts);
    let e = futures::executor::block_on(flow.start("/", &SignInOptions::default())).unwrap_err();
    assert_eq!(e, SignInError::Crypto(CryptoError::Unavailable));
    assert!(e.to_string().contains("https"));
    assert_eq!(pending.take(), None, "nothing kept");
}
