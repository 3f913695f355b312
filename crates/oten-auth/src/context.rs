//! The Leptos binding: `provide_auth` once at the root, `use_auth` anywhere below.

use crate::auth::{Auth, AuthParts};
use crate::browser_siblings::BrowserSiblings;
use crate::config_loader::load_config;
use crate::fetch_transport::FetchTransport;
use crate::scheduler::{start_background_refresh, BackgroundRefresh};
use leptos::prelude::*;
use oten_auth_core::id_token::IdTokenClaims;
use oten_auth_core::{ApiClient, AuthConfig, MetricsSnapshot, SessionEvent, Subscription};
use std::rc::Rc;

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
    /// Sign-in cannot work: the configuration or the provider's metadata is unusable. The text says why.
    Unavailable(String),
}

/// The handle `use_auth()` returns: signals to read and actions to call. `Copy`, so it moves into closures freely.
///
/// ## Usage
///
/// ```no_run
/// use leptos::prelude::*;
/// use oten_auth::use_auth;
///
/// #[component]
/// fn Greeting() -> impl IntoView {
///     let auth = use_auth();
///     view! {
///         <Show when=move || auth.is_signed_in() fallback=move || view! {
///             <button on:click=move |_| auth.login("/")>"Sign in"</button>
///         }>
///             <p>"Hello, " {move || auth.user.get().and_then(|u| u.name).unwrap_or_default()}</p>
///             <button on:click=move |_| auth.logout()>"Sign out"</button>
///         </Show>
///     }
/// }
/// ```
#[derive(Clone, Copy)]
pub struct UseAuth {
    /// Where the session stands.
    pub status: Signal<AuthStatus>,
    /// The signed-in person (from the validated ID token).
    pub user: Signal<Option<IdTokenClaims>>,
    /// When the access token expires (ms since epoch).
    pub expires_at: Signal<Option<i64>>,
    /// Whether a refresh is in flight.
    pub refreshing: Signal<bool>,
    /// The last error worth showing (a failed refresh, a session that ended), as text.
    pub last_error: Signal<Option<String>>,
    /// The metrics, updated on every event.
    pub metrics: Signal<MetricsSnapshot>,
    auth: StoredValue<Option<Auth>, LocalStorage>,
    writers: Writers,
}

#[derive(Clone, Copy)]
struct Writers {
    status: RwSignal<AuthStatus>,
    user: RwSignal<Option<IdTokenClaims>>,
    expires_at: RwSignal<Option<i64>>,
    refreshing: RwSignal<bool>,
    last_error: RwSignal<Option<String>>,
    metrics: RwSignal<MetricsSnapshot>,
    signing_out: RwSignal<bool>,
}

impl UseAuth {
    /// Whether there is a session (reactive).
    pub fn is_signed_in(&self) -> bool {
        self.status.get() == AuthStatus::SignedIn
    }

    /// The session, once loaded.
    pub fn auth(&self) -> Option<Auth> {
        self.auth.get_value()
    }

    /// The authenticated API client, once loaded.
    pub fn client(&self) -> Option<ApiClient> {
        self.auth().map(|a| a.client().clone())
    }

    /// Starts a sign-in that comes back to `return_to` (a same-origin path; anything else becomes `/`). A session
    /// this tab holds is signed out and revoked first (see [`Auth::login`]).
    pub fn login(&self, return_to: &str) {
        let (Some(auth), return_to) = (self.auth(), return_to.to_owned()) else { return };
        let last_error = self.writers.last_error;
        last_error.try_set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = auth.login(&return_to).await {
                last_error.try_set(Some(e.to_string()));
            }
        });
    }

    /// Signs out: local session cleared, tokens revoked at the IdP, IdP session ended.
    pub fn logout(&self) {
        let Some(auth) = self.auth() else { return };
        self.writers.signing_out.try_set(true);
        self.writers.status.try_set(AuthStatus::SigningOut);
        leptos::task::spawn_local(async move {
            auth.logout().await;
        });
    }
}

/// Builds the session from `config` and provides it to every component below. Call once, at the root.
///
/// ## Usage
///
/// ```no_run
/// use leptos::prelude::*;
/// # fn demo(config: oten_auth_core::AuthConfig) {
/// let auth = oten_auth::provide_auth(config);
/// # let _ = auth; }
/// ```
pub fn provide_auth(config: AuthConfig) -> UseAuth {
    provide(async move { Ok(config) })
}

/// Like [`provide_auth`], with the configuration fetched from `url` at runtime (one build for every
/// environment). A missing or invalid file gives [`AuthStatus::Unavailable`] naming the field.
pub fn provide_auth_from_url(url: &str) -> UseAuth {
    let url = url.to_owned();
    provide(async move { load_config(&url, &FetchTransport::default()).await.map_err(|e| e.to_string()) })
}

/// The handle provided by [`provide_auth`].
///
/// # Panics
///
/// When no ancestor called [`provide_auth`] (a programming error, reported at once).
pub fn use_auth() -> UseAuth {
    use_context::<UseAuth>().expect("use_auth() needs provide_auth() in an ancestor component")
}

thread_local! {
    /// Whether a `provide_auth` is live on this page: a second one would run a second manager on the same storage.
    static PROVIDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Why a second `provide_auth` on one page is refused.
pub const PROVIDED_TWICE: &str = "provide_auth() was called a second time on this page; call it once, at the root, \
and use use_auth() below it (two providers would run two token managers over the same stored session)";

fn provide(config: impl std::future::Future<Output = Result<AuthConfig, String>> + 'static) -> UseAuth {
    let w = Writers {
        status: RwSignal::new(AuthStatus::Loading),
        user: RwSignal::new(None),
        expires_at: RwSignal::new(None),
        refreshing: RwSignal::new(false),
        last_error: RwSignal::new(None),
        metrics: RwSignal::new(MetricsSnapshot::default()),
        signing_out: RwSignal::new(false),
    };
    let handle = UseAuth {
        status: w.status.into(),
        user: w.user.into(),
        expires_at: w.expires_at.into(),
        refreshing: w.refreshing.into(),
        last_error: w.last_error.into(),
        metrics: w.metrics.into(),
        auth: StoredValue::new_local(None),
        writers: w,
    };
    provide_context(handle);
    if PROVIDED.with(|p| p.replace(true)) {
        w.status.set(AuthStatus::Unavailable(PROVIDED_TWICE.into()));
        return handle;
    }
    // What must stop when the owner is disposed: the background check, the manager's listener, the siblings.
    let running = StoredValue::new_local(None::<(BackgroundRefresh, Auth, Subscription)>);
    on_cleanup(move || {
        PROVIDED.with(|p| p.set(false));
        if let Some(Some((background, auth, subscription))) = running.try_update_value(Option::take) {
            drop(background);
            auth.manager().unsubscribe(subscription);
            if let Some(siblings) = auth.siblings() {
                siblings.stop();
            }
        }
    });
    leptos::task::spawn_local(async move {
        let config = match config.await {
            Ok(c) => c,
            Err(e) => {
                w.status.try_set(AuthStatus::Unavailable(e));
                return;
            }
        };
        let siblings = BrowserSiblings::connect(&config.client_id).await;
        let parts = AuthParts::for_config(&config, Some(siblings));
        match Auth::connect_with(config, parts).await {
            // The owner may be gone by now (a remount): then nothing is started.
            Ok(auth) if handle.auth.try_set_value(Some(auth.clone())).is_none() => {
                let subscription = wire(&auth, w);
                auth.start().await;
                sync(&auth, w);
                let background = start_background_refresh(auth.clone());
                if running.try_set_value(Some((background, auth.clone(), subscription))).is_some() {
                    auth.manager().unsubscribe(subscription);
                    if let Some(siblings) = auth.siblings() {
                        siblings.stop();
                    }
                }
            }
            // Unmounted while connecting: nothing may keep listening to the siblings.
            Ok(auth) => {
                if let Some(siblings) = auth.siblings() {
                    siblings.stop();
                }
            }
            Err(e) => {
                w.status.try_set(AuthStatus::Unavailable(e.to_string()));
            }
        }
    });
    handle
}

fn sync(auth: &Auth, w: Writers) {
    let tokens = auth.manager().tokens();
    let status = match (&tokens, w.signing_out.try_get_untracked().unwrap_or(false)) {
        (_, true) => AuthStatus::SigningOut,
        (Some(_), false) => AuthStatus::SignedIn,
        (None, false) => AuthStatus::SignedOut,
    };
    w.status.try_set(status);
    w.user.try_set(tokens.as_ref().and_then(|t| t.user.clone()));
    w.expires_at.try_set(tokens.as_ref().map(|t| t.expires_at));
    w.refreshing.try_set(auth.manager().is_refreshing());
}

fn wire(auth: &Auth, w: Writers) -> Subscription {
    let for_events = auth.clone();
    let subscription = auth.manager().subscribe(move |event| {
        match event {
            SessionEvent::RefreshFailed(e) | SessionEvent::Ended(e) => {
                w.last_error.try_set(Some(e.to_string()));
            }
            SessionEvent::StoreFailed(e) => {
                w.last_error.try_set(Some(e.to_string()));
            }
            SessionEvent::SignedIn | SessionEvent::Refreshed | SessionEvent::Adopted | SessionEvent::SignedOut => {
                w.last_error.try_set(None);
            }
            SessionEvent::RefreshStarted | SessionEvent::Discarded(_) => {}
        }
        sync(&for_events, w);
    });
    let metrics = auth.manager().metrics().clone();
    let source = metrics.clone();
    metrics.add_sink(Rc::new(move |_: &oten_auth_core::MetricEvent| {
        w.metrics.try_set(source.snapshot());
    }));
    w.metrics.try_set(metrics.snapshot());
    subscription
}
