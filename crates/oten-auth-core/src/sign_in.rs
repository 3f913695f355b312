//! Sign-in and sign-out of a public client, chained over small traits: every protocol step is one of the core's
//! pure functions, and the flow only adds the effects (random bytes, hashing and signature checks through
//! [`Crypto`], the attempt kept by a [`PendingStore`], requests through a [`Transport`], time from a [`Clock`]).

use crate::authorize::{AuthorizationRequest, PendingAuthorization, SignInOptions};
use crate::base64url;
use crate::callback::{CallbackError, CallbackParams};
use crate::client_auth::OAuthClient;
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::crypto::{Crypto, CryptoError};
use crate::discovery::ProviderMetadata;
use crate::end_session::{end_session_request, EndSession};
use crate::fetch_error::FetchError;
use crate::id_token::{verify_id_token, IdTokenClaims, IdTokenError, IdTokenExpectations, JwkSet};
use crate::pending_store::PendingStore;
use crate::pkce::{code_challenge_from_digest, PkceVerifier};
use crate::request::{code_exchange_request, revocation_request, token_endpoint_outcome, RevocableToken};
use crate::secret::IdToken;
use crate::store::StoreError;
use crate::token_set::TokenSet;
use crate::transport::{HttpRequest, HttpResponse, Method, Transport};
use std::cell::RefCell;
use std::rc::Rc;

/// Random bytes in a `state`, a `nonce`, a PKCE verifier and a lineage id.
const RANDOM_BYTES: usize = 32;

/// Why a sign-in could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    /// No random bytes or no hash (in a browser: not a secure context).
    #[error("could not start the sign-in: {0}")]
    Crypto(#[source] CryptoError),
    /// The attempt could not be kept for the callback.
    #[error("could not start the sign-in: {0}")]
    Storage(#[source] StoreError),
}

/// What [`SignInFlow`] needs from its platform.
#[derive(Clone)]
pub struct SignInParts {
    /// Random bytes, SHA-256, signature checks.
    pub crypto: Rc<dyn Crypto>,
    /// Where the attempt waits for its callback.
    pub pending: Rc<dyn PendingStore>,
    /// How requests are sent.
    pub transport: Rc<dyn Transport>,
    /// The time.
    pub clock: Rc<dyn Clock>,
}

/// A completed sign-in: the tokens (with the validated person, and a new random lineage) and where to go back.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    /// The tokens, ready for [`crate::TokenManager::sign_in`].
    pub tokens: TokenSet,
    /// The same-origin path the sign-in started from.
    pub return_to: String,
}

/// The sign-in and sign-out of one app with one provider.
///
/// - [`SignInFlow::start`]: fresh `state`, `nonce` and PKCE verifier (S256), kept for one round trip; returns the
///   authorization URL.
/// - [`SignInFlow::complete`]: the callback checked against the attempt (state, `iss`) before any token request;
///   the code exchanged once; the ID token verified (signature by `kid`/`alg`, then `iss`, `aud`/`azp`, times,
///   `nonce`, and `auth_time`/`acr` when the sign-in asked for them), the provider's keys fetched once more when a
///   `kid` is unknown (rotation).
/// - [`SignInFlow::end_session`] and [`SignInFlow::revocation_requests`] for sign-out.
///
/// ## Usage
///
/// ```no_run
/// # async fn demo(config: oten_auth_core::AuthConfig, meta: oten_auth_core::ProviderMetadata, parts: oten_auth_core::SignInParts) {
/// use oten_auth_core::{SignInFlow, SignInOptions};
/// let flow = SignInFlow::new(config, meta, parts);
/// let url = flow.start("/profile", &SignInOptions::default()).await.unwrap(); // send the browser there
/// // … at /callback:
/// let signed_in = flow.complete("code=…&state=…&iss=…").await.unwrap();
/// # let _ = (url, signed_in);
/// # }
/// ```
pub struct SignInFlow {
    config: AuthConfig,
    metadata: ProviderMetadata,
    parts: SignInParts,
    jwks: RefCell<Option<JwkSet>>,
}

impl SignInFlow {
    /// A flow for `config` against the provider described by `metadata`.
    pub fn new(config: AuthConfig, metadata: ProviderMetadata, parts: SignInParts) -> Self {
        Self { config, metadata, parts, jwks: RefCell::new(None) }
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The provider's metadata.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// Starts a sign-in that comes back to `return_to` (kept only when it is a same-origin relative path) and
    /// returns the authorization URL to send the browser to.
    pub async fn start(&self, return_to: &str, options: &SignInOptions) -> Result<String, SignInError> {
        let random = |n| self.parts.crypto.random_bytes(n).map_err(SignInError::Crypto);
        let state = base64url::encode(&random(RANDOM_BYTES)?);
        let nonce = base64url::encode(&random(RANDOM_BYTES)?);
        let verifier = PkceVerifier::from_random_bytes(&random(RANDOM_BYTES)?)
            .map_err(|e| SignInError::Crypto(CryptoError::Operation { operation: "random", message: e.to_string() }))?;
        let digest = self.parts.crypto.sha256(verifier.as_str().as_bytes()).await.map_err(SignInError::Crypto)?;
        let now = self.parts.clock.now_ms();
        let pending =
            PendingAuthorization::new(state, nonce, verifier.clone(), return_to, &self.config.redirect_uri, now)
                .with_options(options);
        self.parts.pending.save(&pending).map_err(SignInError::Storage)?;
        Ok(AuthorizationRequest::url(
            &self.metadata,
            &self.config,
            &pending,
            &code_challenge_from_digest(&digest),
            options,
        ))
    }

    /// Completes a sign-in from the callback's query string. On any error nothing is signed in, and the attempt is
    /// used up (a replay finds nothing).
    pub async fn complete(&self, query: &str) -> Result<SignedIn, CallbackError> {
        let params = CallbackParams::from_query(query);
        let pending = self.parts.pending.take();
        let code = params.check(pending.as_ref(), &self.metadata, self.parts.clock.now_ms())?;
        let pending = pending.ok_or(CallbackError::UnknownState)?;
        let request = code_exchange_request(
            &self.metadata.token_endpoint,
            &OAuthClient::public(self.config.client_id.as_str()),
            &code,
            &pending.redirect_uri,
            &pending.code_verifier,
        );
        let answer = self.parts.transport.send(request).await;
        let now = self.parts.clock.now_ms();
        let tokens = token_endpoint_outcome(answer, now, None).map_err(CallbackError::Exchange)?;
        let id_token = tokens.id_token.clone().ok_or(CallbackError::IdToken(IdTokenError::MissingClaim("id_token")))?;
        let expect = IdTokenExpectations::new(
            self.metadata.issuer.clone(),
            self.config.client_id.clone(),
            pending.nonce.clone(),
            self.parts.clock.now_ms() / 1000,
        )
        .with_leeway_secs(i64::from(self.config.id_token_leeway_secs))
        .with_step_up(pending.max_age_secs, pending.acr_values.as_deref());
        let user = self.verify_id_token(id_token.expose(), &expect).await.map_err(CallbackError::IdToken)?;
        let lineage = self
            .parts
            .crypto
            .random_bytes(RANDOM_BYTES / 2)
            .map(|b| base64url::encode(&b))
            .map_err(CallbackError::Crypto)?;
        Ok(SignedIn { tokens: tokens.with_user(user).with_lineage(lineage), return_to: pending.return_to })
    }

    /// Verifies an ID token of this provider. Keys are cached; an unknown key id with cached keys fetches them
    /// once more (the provider rotated its keys).
    pub async fn verify_id_token(
        &self,
        token: &str,
        expect: &IdTokenExpectations,
    ) -> Result<IdTokenClaims, IdTokenError> {
        let cached = self.jwks.borrow().clone();
        if let Some(jwks) = cached {
            match verify_id_token(self.parts.crypto.as_ref(), token, &jwks, expect).await {
                Err(IdTokenError::UnknownKey) => {}
                other => return other,
            }
        }
        let jwks = fetch_jwks(&self.metadata.jwks_uri, self.parts.transport.as_ref())
            .await
            .map_err(IdTokenError::KeysUnavailable)?;
        *self.jwks.borrow_mut() = Some(jwks.clone());
        verify_id_token(self.parts.crypto.as_ref(), token, &jwks, expect).await
    }

    /// Where to send the browser to end the session at the provider ([`crate::AuthConfig::end_session_method`]), or
    /// `None` when it has no end-session endpoint.
    pub fn end_session(&self, id_token: Option<&IdToken>) -> Option<EndSession> {
        end_session_request(&self.metadata, &self.config, id_token, self.config.end_session_method)
    }

    /// The revocation requests (RFC 7009) for `tokens`: the refresh token first, then the access token. Empty when
    /// the provider has no revocation endpoint.
    pub fn revocation_requests(&self, tokens: &TokenSet) -> Vec<HttpRequest> {
        let Some(endpoint) = &self.metadata.revocation_endpoint else { return Vec::new() };
        let client = &OAuthClient::public(self.config.client_id.as_str());
        let mut requests = Vec::new();
        if let Some(rt) = &tokens.refresh_token {
            requests.push(revocation_request(endpoint, client, RevocableToken::Refresh(rt)));
        }
        requests.push(revocation_request(endpoint, client, RevocableToken::Access(&tokens.access_token)));
        requests
    }

    /// Revokes `tokens` (all requests at once) and returns how many revocations the provider confirmed.
    pub async fn revoke(&self, tokens: &TokenSet) -> usize {
        let confirmed = |answer: &Result<HttpResponse, _>| usize::from(answer.as_ref().is_ok_and(|a| a.is_success()));
        // The refresh and access tokens at once (join, not join_all: its machinery costs kilobytes of wasm).
        let mut sends = self.revocation_requests(tokens).into_iter().map(|r| self.parts.transport.send(r));
        let (first, second) = (sends.next(), sends.next());
        let mut count = match (first, second) {
            (Some(refresh), Some(access)) => {
                let (a, b) = futures::future::join(refresh, access).await;
                confirmed(&a) + confirmed(&b)
            }
            (Some(only), None) => confirmed(&only.await),
            _ => 0,
        };
        for more in sends {
            count += confirmed(&more.await);
        }
        count
    }
}

/// The provider's key set from `jwks_uri`.
///
/// ```no_run
/// # async fn demo(meta: oten_auth_core::ProviderMetadata, transport: &dyn oten_auth_core::Transport) {
/// let keys = oten_auth_core::fetch_jwks(&meta.jwks_uri, transport).await;
/// # let _ = keys; }
/// ```
pub async fn fetch_jwks(jwks_uri: &str, transport: &dyn Transport) -> Result<JwkSet, FetchError> {
    let request = HttpRequest::new(Method::Get, jwks_uri).header("Accept", "application/json");
    let response = transport.send(request).await?;
    if !response.is_success() {
        return Err(FetchError::Status(response.status));
    }
    serde_json::from_str(&response.body).map_err(|e| FetchError::Malformed(e.into()))
}
