//! The backend as a confidential client of the provider. Every protocol step is the core's pure function; this file
//! only sends what they build and feeds them the answers.

use crate::config::{BackendConfig, ClientAuthMethod, RequestObjectAlg};
use crate::http::HttpClient;
use crate::jose::{verify_signature, RequestSigner};
use oten_auth_core::id_token::{
    decode_jwt, select_key, validate_claims, validate_logout_claims, IdTokenClaims, IdTokenError, IdTokenExpectations,
    JwkSet, LogoutToken, DEFAULT_LEEWAY_SECS,
};
use oten_auth_core::pkce::{code_challenge_from_digest, PkceVerifier};
use oten_auth_core::{
    base64url, code_exchange_request, end_session_request, par_outcome, par_request, refresh_outcome, refresh_request,
    revocation_request, token_endpoint_outcome, AuthConfig, AuthError, AuthorizationCode, AuthorizationRequest,
    CallbackError, CallbackParams, ClientSecret, CryptoError, DiscoveryError, EndSession, EndSessionMethod, FetchError,
    HttpRequest, Method, OAuthClient, PendingAuthorization, ProviderMetadata, RefreshOutcome, RequestObject,
    RevocableToken, SignInOptions, TokenSet,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::RwLock;

/// Why the backend could not start talking to the provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The settings do not make a valid client configuration for the core.
    #[error("invalid provider settings: {0}")]
    Settings(String),
    /// Discovery failed.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// The request-object key could not be read.
    #[error("cannot use the request-object key: {0}")]
    Key(String),
}

/// Why a sign-in could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The callback was refused (state, issuer, provider error, exchange, ID token).
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// The request object could not be signed.
    #[error("the sign-in request could not be signed: {0}")]
    Sign(#[source] CryptoError),
    /// The provider refused the pushed request, or could not be reached.
    #[error("the provider refused the sign-in request: {0}")]
    Push(#[source] AuthError),
}

/// The provider, as this backend's client sees it.
pub struct Provider {
    config: AuthConfig,
    meta: ProviderMetadata,
    client: OAuthClient,
    signer: RequestSigner,
    use_par: bool,
    prompt: Option<String>,
    http: HttpClient,
    jwks: RwLock<Option<JwkSet>>,
    /// When the keys were last fetched: an unknown `kid` fetches them again at most once a minute (anyone can post
    /// a logout token).
    jwks_fetched: std::sync::Mutex<Option<std::time::Instant>>,
}

/// The shortest time between two fetches of the provider's keys for an unknown `kid`.
const JWKS_REFETCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.meta.issuer)
            .field("client_id", &self.client.client_id)
            .finish()
    }
}

/// A signed-in person, as the callback leaves them.
#[derive(Debug)]
pub struct SignedIn {
    /// The tokens (with the validated claims as their user).
    pub tokens: TokenSet,
    /// The provider's session id (`sid`), for back-channel logout.
    pub sid: Option<String>,
    /// Where the person was going (sanitised when the sign-in started).
    pub return_to: String,
}

/// The most a token's expiry is brought forward (ms).
const EXPIRY_MARGIN_MS: i64 = 1_000;

/// Tokens whose expiry is counted from when the request left (not when the answer came) and brought forward by up
/// to a second (at most a quarter of the lifetime): providers count `exp` in whole seconds, so `expires_in` can
/// overstate the life left by almost one, and a token handed out near its real end would expire in flight.
fn with_safety_margin(mut tokens: TokenSet) -> TokenSet {
    let margin = EXPIRY_MARGIN_MS.min(tokens.lifetime_ms() / 4);
    tokens.expires_at -= margin;
    tokens
}

impl Provider {
    /// Reads the provider's metadata and prepares the client.
    pub async fn discover(
        settings: &BackendConfig,
        http: HttpClient,
        secret: ClientSecret,
    ) -> Result<Self, ProviderError> {
        let mut config = AuthConfig::from_json(
            &serde_json::json!({
                "issuer": settings.issuer,
                "client_id": settings.client_id,
                "scopes": settings.scopes,
                "refresh_buffer_secs": settings.refresh_buffer_secs,
            })
            .to_string(),
        )
        .map_err(|e| ProviderError::Settings(e.to_string()))?;
        config.redirect_uri = settings.redirect_uri();
        config.post_logout_redirect_uri = settings.post_logout_redirect_uri();
        let url = ProviderMetadata::discovery_url(&config.issuer);
        let answer = http.send(HttpRequest::new(Method::Get, &url).header("Accept", "application/json")).await;
        let body = match answer {
            Ok(r) if r.is_success() => r.body,
            Ok(r) => return Err(DiscoveryError::Fetch(FetchError::Status(r.status)).into()),
            Err(e) => return Err(DiscoveryError::Fetch(FetchError::Transport(e)).into()),
        };
        let meta = ProviderMetadata::parse(&body, &config)?;
        let signer = match settings.request_object_alg {
            RequestObjectAlg::HS256 => RequestSigner::hs256(&secret),
            RequestObjectAlg::EdDSA => {
                let path = settings.request_object_key_file.as_deref().unwrap_or(std::path::Path::new(""));
                let pem = std::fs::read(path).map_err(|e| ProviderError::Key(format!("{}: {e}", path.display())))?;
                RequestSigner::ed25519_pem(&pem, settings.request_object_key_id.clone())
                    .map_err(|e| ProviderError::Key(e.to_string()))?
            }
        };
        let client = match settings.client_auth {
            ClientAuthMethod::ClientSecretBasic => OAuthClient::secret_basic(settings.client_id.clone(), secret),
            ClientAuthMethod::ClientSecretPost => OAuthClient::secret_post(settings.client_id.clone(), secret),
        };
        Ok(Self {
            config,
            meta,
            client,
            signer,
            use_par: settings.use_par,
            prompt: settings.prompt.clone(),
            http,
            jwks: RwLock::new(None),
            jwks_fetched: std::sync::Mutex::new(None),
        })
    }

    /// The provider's metadata.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.meta
    }

    /// The core's view of this client (issuer, client id, redirect URIs, scopes, refresh buffer).
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// A new sign-in: the attempt to keep until the callback, and where to send the browser. The parameters travel
    /// in a signed request object, pushed first when the provider offers PAR.
    pub async fn start_sign_in(
        &self,
        return_to: &str,
        options: &SignInOptions,
        now_ms: i64,
    ) -> Result<(PendingAuthorization, String), LoginError> {
        let random = |n| {
            let mut bytes = vec![0u8; n];
            aes_gcm::aead::rand_core::RngCore::fill_bytes(&mut aes_gcm::aead::OsRng, &mut bytes);
            bytes
        };
        let verifier = PkceVerifier::from_random_bytes(&random(32))
            .map_err(|e| LoginError::Sign(CryptoError::Operation { operation: "pkce", message: e.to_string() }))?;
        let challenge = code_challenge_from_digest(&Sha256::digest(verifier.as_str().as_bytes()).into());
        let mut options = options.clone();
        if options.prompt.is_none() {
            options.prompt.clone_from(&self.prompt);
        }
        let pending = PendingAuthorization::new(
            base64url::encode(&random(32)),
            base64url::encode(&random(32)),
            verifier,
            return_to,
            self.config.redirect_uri.clone(),
            now_ms,
        )
        .with_options(&options);
        let jti = base64url::encode(&random(16));
        let object = RequestObject::new(&self.meta, &self.config, &pending, &challenge, &options, &jti, now_ms / 1000);
        let jwt = object.sign(&self.signer).map_err(LoginError::Sign)?;
        let url = match (&self.meta.pushed_authorization_request_endpoint, self.use_par) {
            (Some(endpoint), true) => {
                let answer = self.http.send(par_request(endpoint, &self.client, &jwt)).await;
                let pushed = par_outcome(answer).map_err(LoginError::Push)?;
                AuthorizationRequest::url_with_request_uri(&self.meta, &self.client.client_id, &pushed.request_uri)
            }
            _ => AuthorizationRequest::url_with_request(&self.meta, &self.client.client_id, &self.config.scope(), &jwt),
        };
        Ok((pending, url))
    }

    /// Finishes a sign-in from the callback's query and the attempt it answers (taken from storage, once).
    pub async fn finish_sign_in(
        &self,
        query: &str,
        pending: Option<PendingAuthorization>,
        now_ms: i64,
    ) -> Result<SignedIn, LoginError> {
        let params = CallbackParams::from_query(query);
        let code: AuthorizationCode = params.check(pending.as_ref(), &self.meta, now_ms)?;
        let pending = pending.ok_or(CallbackError::UnknownState)?;
        let request = code_exchange_request(
            &self.meta.token_endpoint,
            &self.client,
            &code,
            &pending.redirect_uri,
            &pending.code_verifier,
        );
        let sent_at = crate::now_ms();
        let answer = self.http.send(request).await;
        let tokens = token_endpoint_outcome(answer, sent_at, None).map_err(CallbackError::Exchange)?;
        let tokens = with_safety_margin(tokens);
        let id_token = tokens.id_token.clone().ok_or(CallbackError::IdToken(IdTokenError::MissingClaim("id_token")))?;
        let expect = IdTokenExpectations::new(
            self.meta.issuer.clone(),
            self.client.client_id.clone(),
            pending.nonce.clone(),
            now_ms / 1000,
        )
        .with_leeway_secs(i64::from(self.config.id_token_leeway_secs))
        .with_step_up(pending.max_age_secs, pending.acr_values.as_deref());
        let (user, claims) = self.verify_id_token(id_token.expose(), &expect).await.map_err(CallbackError::IdToken)?;
        let sid = claims.get("sid").and_then(Value::as_str).map(str::to_owned);
        let lineage = base64url::encode(&Sha256::digest(pending.state.expose().as_bytes())[..16]);
        Ok(SignedIn { tokens: tokens.with_user(user).with_lineage(lineage), sid, return_to: pending.return_to })
    }

    /// Verifies an ID token of this provider; returns the person and all the token's claims.
    pub async fn verify_id_token(
        &self,
        token: &str,
        expect: &IdTokenExpectations,
    ) -> Result<(IdTokenClaims, Map<String, Value>), IdTokenError> {
        let jwt = self.verified(token).await?;
        Ok((validate_claims(jwt.claims(), expect)?, jwt.claims().clone()))
    }

    /// Verifies a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6).
    pub async fn verify_logout_token(&self, token: &str, now_secs: i64) -> Result<LogoutToken, IdTokenError> {
        let jwt = self.verified(token).await?;
        validate_logout_claims(
            jwt.claims(),
            jwt.header().typ.as_deref(),
            &self.meta.issuer,
            &self.client.client_id,
            now_secs,
            DEFAULT_LEEWAY_SECS,
        )
    }

    /// Decodes `token` and checks its signature with the provider's keys (fetched again once on an unknown `kid`).
    async fn verified(&self, token: &str) -> Result<oten_auth_core::id_token::UnverifiedJwt, IdTokenError> {
        let jwt = decode_jwt(token)?;
        let cached = self.jwks.read().map(|g| g.clone()).unwrap_or(None);
        let check = |jwks: &JwkSet| -> Result<(), IdTokenError> {
            let jwk = select_key(jwks, jwt.header())?;
            match verify_signature(jwk, jwt.header().alg, jwt.signing_input(), jwt.signature()) {
                Ok(true) => Ok(()),
                Ok(false) => Err(IdTokenError::BadSignature),
                Err(CryptoError::KeyMismatch(_)) => Err(IdTokenError::KeyMismatch),
                Err(other) => Err(IdTokenError::Crypto(other)),
            }
        };
        let had_keys = cached.is_some();
        if let Some(jwks) = cached {
            match check(&jwks) {
                Err(IdTokenError::UnknownKey) => {}
                Ok(()) => return Ok(jwt),
                Err(other) => return Err(other),
            }
        }
        {
            let fetched = self.jwks_fetched.lock().unwrap_or_else(|e| e.into_inner());
            if had_keys && fetched.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
                return Err(IdTokenError::UnknownKey);
            }
        }
        let jwks = self.fetch_jwks().await.map_err(IdTokenError::KeysUnavailable)?;
        *self.jwks_fetched.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
        if let Ok(mut slot) = self.jwks.write() {
            *slot = Some(jwks.clone());
        }
        check(&jwks).map(|()| jwt)
    }

    async fn fetch_jwks(&self) -> Result<JwkSet, FetchError> {
        let request = HttpRequest::new(Method::Get, &self.meta.jwks_uri).header("Accept", "application/json");
        let response = self.http.send(request).await?;
        if !response.is_success() {
            return Err(FetchError::Status(response.status));
        }
        serde_json::from_str(&response.body).map_err(|e| FetchError::Malformed(e.into()))
    }

    /// Presents `tokens`' refresh token once and classifies the answer.
    pub async fn refresh(&self, tokens: &TokenSet, now_ms: impl Fn() -> i64) -> RefreshOutcome {
        let Some(refresh_token) = &tokens.refresh_token else {
            return RefreshOutcome::Failed(AuthError::Deferred(oten_auth_core::Deferral::NoRefreshToken));
        };
        let sent_at = now_ms();
        let answer = self.http.send(refresh_request(&self.meta.token_endpoint, &self.client, refresh_token)).await;
        match refresh_outcome(answer, sent_at, tokens) {
            RefreshOutcome::Renewed(new) => RefreshOutcome::Renewed(with_safety_margin(new)),
            RefreshOutcome::Salvaged { tokens, problem } => RefreshOutcome::Salvaged { tokens, problem },
            failed => failed,
        }
    }

    /// Revokes the refresh token (which ends the grant) and the access token; how many the provider confirmed.
    pub async fn revoke(&self, tokens: &TokenSet) -> usize {
        let Some(endpoint) = &self.meta.revocation_endpoint else { return 0 };
        let mut requests = Vec::new();
        if let Some(rt) = &tokens.refresh_token {
            requests.push(revocation_request(endpoint, &self.client, RevocableToken::Refresh(rt)));
        }
        requests.push(revocation_request(endpoint, &self.client, RevocableToken::Access(&tokens.access_token)));
        let answers = futures::future::join_all(requests.into_iter().map(|r| self.http.send(r))).await;
        answers.into_iter().filter(|a| a.as_ref().is_ok_and(|a| a.is_success())).count()
    }

    /// Where to send the browser to end the session at the provider (a GET: no token in the URL).
    pub fn end_session_url(&self) -> Option<String> {
        match end_session_request(&self.meta, &self.config, None, EndSessionMethod::Get)? {
            EndSession::Redirect(url) => Some(url),
            _ => None,
        }
    }
}
