//! The bodies of the fuzz targets. Each reads outside data through the core's parsers and checks what must hold for
//! any input, beyond not panicking. One file, two users: the libFuzzer targets (`fuzz/fuzz_targets/*.rs`, run by
//! `scripts/fuzz`) and the stable replay of the saved corpora (`crates/oten-auth-core/tests/fuzz_corpora.rs`, run by
//! `cargo test`), which includes it with `#[path]`.

use oten_auth_core::id_token::{
    decode_jwt, select_key, validate_claims, validate_logout_claims, IdTokenExpectations, JwkSet, JwsAlgorithm,
    JwtHeader,
};
use oten_auth_core::pkce::PkceVerifier;
use oten_auth_core::{
    sanitize_return_path, token_endpoint_outcome, AuthConfig, CallbackError, CallbackParams, ConfigFile, HttpResponse,
    LineageRecord, OAuthErrorBody, PendingAuthorization, ProviderMetadata, ReauthState, SecurityHeaders,
    SiblingMessage, StepUpChallenge, TokenSet,
};

/// A target's body: one input, checked; a panic is a finding.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus folder (`fuzz/corpus/<name>/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("token_response", token_response),
    ("stored_session", stored_session),
    ("callback_query", callback_query),
    ("jwt", jwt),
    ("discovery", discovery),
    ("jwks", jwks),
    ("config", config),
    ("api_answer", api_answer),
];

const NOW_MS: i64 = 1_780_000_000_000;
const ISSUER: &str = "https://account.oten.test";

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A token-endpoint answer: parsed, stored and read back unchanged; refreshed over itself; any status through the
/// outcome classifier.
pub fn token_response(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else { return };
    let Some(body) = text(rest) else { return };
    if let Ok(set) = TokenSet::parse_token_response(body, NOW_MS, None) {
        assert!(set.expires_at > NOW_MS, "a token handed out already expired");
        assert_eq!(TokenSet::from_storage_json(&set.to_storage_json()).as_ref(), Ok(&set), "storage round trip");
        if let Ok(next) = TokenSet::parse_token_response(body, NOW_MS + 1_000, Some(&set)) {
            assert_eq!(next.lineage, set.lineage, "a refresh keeps the lineage");
        }
    }
    let status = [200, 400, 401, 429, 500, 503][usize::from(first) % 6];
    let headers = if first & 0x80 != 0 { vec![("retry-after".to_owned(), "7".to_owned())] } else { Vec::new() };
    let answer = HttpResponse { status, headers, body: body.to_owned(), url: None };
    if let Ok(set) = token_endpoint_outcome(Ok(answer), NOW_MS, None) {
        assert_eq!(status, 200, "only a 200 gives tokens");
        assert!(set.expires_at > NOW_MS);
    }
}

/// What sessionStorage and sibling tabs hand back: tokens, a pending sign-in, the sign-in loop guard, lineage
/// records and sibling messages.
pub fn stored_session(data: &[u8]) {
    let Some(stored) = text(data) else { return };
    if let Ok(set) = TokenSet::from_storage_json(stored) {
        assert_eq!(TokenSet::from_storage_json(&set.to_storage_json()).as_ref(), Ok(&set), "storage round trip");
    }
    if let Some(pending) = PendingAuthorization::from_json(stored) {
        assert_eq!(PendingAuthorization::from_json(&pending.to_json()).as_ref(), Some(&pending));
    }
    let _ = ReauthState::from_json(stored);
    let _ = LineageRecord::from_json(stored);
    let _ = SiblingMessage::from_json(stored);
}

/// The callback's query string, checked against a pending sign-in: only its own state and issuer pass.
pub fn callback_query(data: &[u8]) {
    let Some(query) = text(data) else { return };
    let params = CallbackParams::from_query(query);
    let verifier = PkceVerifier::parse("v".repeat(43)).expect("a valid verifier");
    let pending = PendingAuthorization::new("state-1", "nonce-1", verifier, "/", "https://app.test/callback", NOW_MS);
    let meta: ProviderMetadata = serde_json::from_value(serde_json::json!({
        "issuer": ISSUER, "authorization_endpoint": format!("{ISSUER}/a"), "token_endpoint": format!("{ISSUER}/t"),
        "jwks_uri": format!("{ISSUER}/j"), "authorization_response_iss_parameter_supported": true
    }))
    .expect("metadata");
    let own_state = params.state.as_ref().is_some_and(|s| s.expose() == "state-1");
    let own_issuer = params.iss.as_deref() == Some(ISSUER);
    match params.check(Some(&pending), &meta, NOW_MS + 1) {
        Ok(code) => {
            assert!(own_state && own_issuer, "a code passed without this tab's state and the issuer");
            assert_eq!(Some(code.expose()), params.code.as_ref().map(|c| c.expose()));
        }
        Err(CallbackError::Provider { .. }) => assert!(own_state && own_issuer, "an error shown for another sign-in"),
        Err(_) => {}
    }
    assert!(matches!(
        params.check(None, &meta, NOW_MS),
        Err(CallbackError::MissingState | CallbackError::UnknownState)
    ));
    let _ = StepUpChallenge::from_login_query(query);
    return_path(query);
}

/// The return-path sanitiser: whatever comes in, a same-origin path goes out.
pub fn return_path(candidate: &str) {
    check_return_path(candidate, &sanitize_return_path(candidate));
}

/// What must hold of the sanitiser's answer `out` to `candidate`.
pub fn check_return_path(candidate: &str, out: &str) {
    assert!(out.starts_with('/'), "{out:?}");
    assert!(!out.starts_with("//") && !out.starts_with("/\\"), "{out:?} leaves the origin");
    assert!(!out.chars().any(|c| c.is_control() || c == '\\'), "{out:?}");
    assert!(out == "/" || out == candidate, "{out:?} is neither the candidate nor /");
    // What a browser resolves it to stays on the origin: no dot segment (`%2e` counts as a dot) and no empty one.
    let path = out.split(['?', '#']).next().unwrap_or("").replace("%2e", ".").replace("%2E", ".");
    assert!(!path.contains("//"), "{out:?} has an empty segment");
    assert!(path.split('/').all(|s| s != "." && s != ".."), "{out:?} has a dot segment");
}

/// A JWT: split and decoded; its claims through the ID-token and logout-token checks.
pub fn jwt(data: &[u8]) {
    let Some(token) = text(data) else { return };
    let Ok(jwt) = decode_jwt(token) else { return };
    let expect = IdTokenExpectations {
        issuer: ISSUER.to_owned(),
        client_id: "client".to_owned(),
        nonce: "nonce-1".into(),
        now_secs: NOW_MS / 1000,
        leeway_secs: 60,
        max_age_secs: Some(300),
        acr_values: Some(vec!["urn:oten:mfa".to_owned()]),
    };
    if let Ok(claims) = validate_claims(jwt.claims(), &expect) {
        assert_eq!(jwt.claims().get("iss").and_then(|v| v.as_str()), Some(ISSUER));
        assert_eq!(jwt.claims().get("nonce").and_then(|v| v.as_str()), Some("nonce-1"));
        assert!(!claims.sub.is_empty());
    }
    let _ = validate_logout_claims(jwt.claims(), jwt.header().typ.as_deref(), ISSUER, "client", NOW_MS / 1000, 60);
}

/// A discovery document: only the configured issuer's is accepted, and its endpoints are URLs.
pub fn discovery(data: &[u8]) {
    let Some(body) = text(data) else { return };
    let config = AuthConfig::from_json(&format!(r#"{{"issuer":"{ISSUER}","client_id":"c"}}"#)).expect("config");
    if let Ok(meta) = ProviderMetadata::parse(body, &config) {
        assert_eq!(meta.issuer, ISSUER);
    }
}

/// A JWKS document: keys picked for every algorithm, with and without a key id.
pub fn jwks(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else { return };
    let Some(body) = text(rest) else { return };
    let Ok(set) = serde_json::from_str::<JwkSet>(body) else { return };
    let kid = set.keys.first().and_then(|k| k.kid.clone()).filter(|_| first & 1 == 1);
    for alg in [JwsAlgorithm::Rs256, JwsAlgorithm::Es256, JwsAlgorithm::EdDsa] {
        let header = JwtHeader { alg, kid: kid.clone(), typ: None };
        if let Ok(key) = select_key(&set, &header) {
            let _ = key.check_usable_for(alg);
        }
    }
}

/// `config.json`: parsed; when accepted, its security headers are well formed and never loosen the policy.
pub fn config(data: &[u8]) {
    let Some(body) = text(data) else { return };
    let Ok(file) = ConfigFile::from_json(body) else { return };
    let value: serde_json::Value = serde_json::from_str(body).expect("an accepted config is JSON");
    assert!(!has_secret_key(&value), "a config holding a client_secret key was accepted");
    if let Ok(headers) = SecurityHeaders::for_config(&file.auth) {
        let csp = headers.content_security_policy();
        assert_eq!(csp.split(';').count(), 8, "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'") && !csp.contains('*'), "{csp}");
    }
}

/// Whether a `client_secret` key (any case, `_`-prefixed as a comment) is anywhere in `value`.
fn has_secret_key(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => map.iter().any(|(key, value)| {
            key.trim_start_matches('_').eq_ignore_ascii_case("client_secret") || has_secret_key(value)
        }),
        serde_json::Value::Array(items) => items.iter().any(has_secret_key),
        _ => false,
    }
}

/// An API or token-endpoint refusal: its `WWW-Authenticate` challenge and its OAuth error body.
pub fn api_answer(data: &[u8]) {
    let Some(answer) = text(data) else { return };
    if let Some(challenge) = StepUpChallenge::from_www_authenticate(answer) {
        return_path(&challenge.login_url("/profile"));
    }
    if let Some(body) = OAuthErrorBody::parse(answer) {
        assert!(!body.error.is_empty());
    }
}
