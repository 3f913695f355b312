//! The handle `use_auth()` returns: signals to read, actions to call, and an API client that waits for readiness.

use crate::auth::Auth;
use crate::config_loader::ConfigLoadError;
use futures::channel::oneshot;
use leptos::prelude::*;
use oten_auth_core::id_token::IdTokenClaims;
use oten_auth_core::{
    ApiClient, ApiError, AuthError, ConfigError, ConfigFile, DiscoveryError, MetricsSnapshot, SignInError,
    SignInOptions, StepUpChallenge, StoreError,
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

/// Where the session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStatus {
    /// The configuration, the provider's metadata or the stored session are being loaded.
    Loading,
    /// No session.
    SignedOut,
    /// A session (its access token may be due; the client refreshes it).
    SignedIn,
    /// Sign-out is under way (revocation, then the IdP's end-session page); guards wait instead of
    /// starting a new sign-in.
    SigningOut,
    /// Sign-in cannot work here; the error says why.
    Unavailable(AuthUnavailable),
}

/// Why sign-in cannot work on this page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthUnavailable {
    /// The configuration could not be loaded or is invalid (the message names the field).
    #[error(transparent)]
    Config(ConfigLoadError),
    /// The provider's metadata could not be loaded or is unacceptable.
    #[error(transparent)]
    Provider(DiscoveryError),
    /// `provide_auth` was called a second time on this page.
    #[error(
        "provide_auth() was called a second time on this page; call it once, at the root, and use use_auth() below it \
         (two providers would run two token managers over the same stored session)"
    )]
    ProvidedTwice,
    /// The app's backend (token-mediating and bff modes) did not answer as expected.
    #[error(transparent)]
    Backend(crate::BackendUnavailable),
    /// The component that provided the session is gone (unmounted).
    #[error("the sign-in component was removed from the page")]
    Gone,
}

/// Why the app's own settings could not be read ([`UseAuth::app_settings`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppSettingsError {
    /// Sign-in is unavailable, so the configuration is not loaded.
    #[error(transparent)]
    Unavailable(#[from] AuthUnavailable),
    /// The `app` section does not fit the app's type (the error names the field: `app.api_base_url`).
    #[error("config.json: {0}")]
    Invalid(#[source] ConfigError),
}

/// Why a request through the session's API client failed ([`UseAuth::get_json`] and its siblings).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Sign-in cannot work on this page (configuration, provider, …), so nothing was sent.
    #[error(transparent)]
    Unavailable(#[from] AuthUnavailable),
    /// The call failed: no session, a session the API refused, a step-up, no answer, a non-2xx status, bad JSON.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl RequestError {
    /// The API error, when the request got as far as the client.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            RequestError::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// The last problem worth showing to the person.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LastError {
    /// A refresh failed or the session ended.
    #[error(transparent)]
    Session(AuthError),
    /// The session could not be saved in this tab's storage.
    #[error(transparent)]
    Storage(StoreError),
    /// A sign-in could not start.
    #[error(transparent)]
    SignIn(SignInError),
}

/// The session handle: signals to read and actions to call. `Copy`, so it moves into closures freely.
///
/// ## Usage
///
/// A page that calls an API waits for the session to be ready, like the Leptos `fetch` example:
///
/// ```no_run
/// use leptos::prelude::*;
/// use oten_auth::use_auth;
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Profile { name: String }
///
/// #[component]
/// fn Profile() -> impl IntoView {
///     let auth = use_auth();
///     let profile = LocalResource::new(move || auth.get_json::<Profile>("https://api.example.test/me"));
///     view! {
///         <Suspense fallback=|| "Loading…">
///             <ErrorBoundary fallback=|_| "Could not load your profile">
///                 {move || profile.try_get().flatten().map(|p| p.map(|p| p.name))}
///             </ErrorBoundary>
///         </Suspense>
///         <button on:click=move |_| auth.logout()>"Sign out"</button>
///     }
/// }
/// ```
#[derive(Clone, Copy)]
pub struct UseAuth {
    /// Where the session stands.
    pub status: Signal<AuthStatus>,
    /// The signed-in person (from the validated ID token).
    pub user: Signal<Option<IdTokenClaims>>,
    /// The scopes the provider granted.
    pub scopes: Signal<Vec<String>>,
    /// When the access token expires (ms since epoch).
    pub expires_at: Signal<Option<i64>>,
    /// Whether a refresh is in flight.
    pub refreshing: Signal<bool>,
    /// The last problem worth showing (a failed refresh, a session that ended, a sign-in that could not start).
    pub last_error: Signal<Option<LastError>>,
    /// The metrics, updated on every event.
    pub metrics: Signal<MetricsSnapshot>,
    pub(crate) session: RwSignal<Option<Auth>, LocalStorage>,
    pub(crate) app: StoredValue<Map<String, Value>>,
    pub(crate) waiters: StoredValue<Vec<oneshot::Sender<()>>, LocalStorage>,
    pub(crate) writers: Writers,
}

#[derive(Clone, Copy)]
pub(crate) struct Writers {
    pub(crate) status: RwSignal<AuthStatus>,
    pub(crate) user: RwSignal<Option<IdTokenClaims>>,
    pub(crate) scopes: RwSignal<Vec<String>>,
    pub(crate) expires_at: RwSignal<Option<i64>>,
    pub(crate) refreshing: RwSignal<bool>,
    pub(crate) last_error: RwSignal<Option<LastError>>,
    pub(crate) metrics: RwSignal<MetricsSnapshot>,
    pub(crate) signing_out: RwSignal<bool>,
}

impl UseAuth {
    /// Whether there is a session (reactive).
    pub fn is_signed_in(&self) -> bool {
        self.status.get() == AuthStatus::SignedIn
    }

    /// The session once it is ready (reactive: a closure reading it runs again when it becomes ready).
    pub fn session(&self) -> Option<Auth> {
        self.session.try_get().flatten()
    }

    /// Waits until the session is ready (configuration, provider metadata, stored or joined session all loaded).
    #[must_use = "the session is only ready once this future has been awaited"]
    pub async fn ready(&self) -> Result<Auth, AuthUnavailable> {
        loop {
            if let Some(auth) = self.session.try_get_untracked().flatten() {
                return Ok(auth);
            }
            match self.status.try_get_untracked() {
                Some(AuthStatus::Unavailable(reason)) => return Err(reason),
                None => return Err(AuthUnavailable::Gone),
                Some(_) => {}
            }
            let (tx, rx) = oneshot::channel();
            if self.waiters.try_update_value(|w| w.push(tx)).is_none() {
                return Err(AuthUnavailable::Gone);
            }
            let _ = rx.await;
        }
    }

    /// The authenticated API client, once the session is ready (or why there will be none).
    pub async fn client(&self) -> Result<ApiClient, AuthUnavailable> {
        self.ready().await.map(|auth| auth.client().clone())
    }

    /// `GET url` through the authenticated client (after readiness), the 2xx answer read as JSON.
    pub async fn get_json<T: DeserializeOwned>(self, url: impl AsRef<str>) -> Result<T, RequestError> {
        Ok(self.client().await?.get_json(url.as_ref()).await?)
    }

    /// `PUT url` with a JSON body through the authenticated client, the 2xx answer read as JSON.
    pub async fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        self,
        url: impl AsRef<str>,
        body: &B,
    ) -> Result<T, RequestError> {
        Ok(self.client().await?.put_json(url.as_ref(), body).await?)
    }

    /// `POST url` with a JSON body through the authenticated client, the 2xx answer read as JSON.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        self,
        url: impl AsRef<str>,
        body: &B,
    ) -> Result<T, RequestError> {
        Ok(self.client().await?.post_json(url.as_ref(), body).await?)
    }

    /// The app's own settings (the `app` section of `config.json`) as the app's own type, once the configuration is
    /// loaded. The library does not check them: a missing or mistyped field is an error naming it.
    ///
    /// ```no_run
    /// #[derive(serde::Deserialize)]
    /// struct AppSettings { api_base_url: String }
    /// # async fn demo(auth: oten_auth::UseAuth) -> Result<(), oten_auth::AppSettingsError> {
    /// let base = auth.app_settings::<AppSettings>().await?.api_base_url;
    /// # let _ = base; Ok(()) }
    /// ```
    pub async fn app_settings<T: DeserializeOwned>(&self) -> Result<T, AppSettingsError> {
        self.ready().await?;
        let app = self.app.try_get_value().ok_or(AppSettingsError::Unavailable(AuthUnavailable::Gone))?;
        ConfigFile::parse_app_settings(&app).map_err(AppSettingsError::Invalid)
    }

    /// Starts a sign-in that comes back to `return_to` (a same-origin path; anything else becomes `/`). A session
    /// this tab holds is signed out and revoked first (see [`Auth::login`]).
    pub fn login(&self, return_to: &str) {
        self.login_with(return_to, SignInOptions::default());
    }

    /// Like [`UseAuth::login`] with [`SignInOptions`] (`prompt`, `max_age`, `acr_values`, `login_hint`,
    /// `ui_locales`): a step-up sign-in, for instance.
    pub fn login_with(&self, return_to: &str, options: SignInOptions) {
        let return_to = return_to.to_owned();
        self.start_sign_in(async move |auth: Auth| auth.login_with(&return_to, &options).await);
    }

    /// Starts a step-up sign-in for what an API asked ([`StepUpChallenge`]), coming back to `return_to`. The
    /// library's `/login` route calls it when the API client sent the person there for a step-up; the loop guard
    /// does not count it.
    pub fn step_up(&self, return_to: &str, challenge: StepUpChallenge) {
        let return_to = return_to.to_owned();
        self.start_sign_in(async move |auth: Auth| auth.step_up(&return_to, &challenge).await);
    }

    /// Runs `start` once the session is ready; a sign-in that cannot start becomes `last_error`.
    fn start_sign_in(&self, start: impl AsyncFnOnce(Auth) -> Result<(), SignInError> + 'static) {
        let handle = *self;
        self.writers.last_error.try_set(None);
        leptos::task::spawn_local(async move {
            let Ok(auth) = handle.ready().await else { return };
            if let Err(e) = start(auth).await {
                handle.writers.last_error.try_set(Some(LastError::SignIn(e)));
            }
        });
    }

    /// Signs out: local session cleared (in every tab), tokens revoked at the IdP, IdP session ended.
    pub fn logout(&self) {
        let handle = *self;
        self.writers.signing_out.try_set(true);
        self.writers.status.try_set(AuthStatus::SigningOut);
        leptos::task::spawn_local(async move {
            if let Ok(auth) = handle.ready().await {
                auth.logout().await;
            }
        });
    }

    pub(crate) fn wake_waiters(&self) {
        if let Some(waiters) = self.waiters.try_update_value(std::mem::take) {
            for w in waiters {
                let _ = w.send(());
            }
        }
    }
}
