//! The Leptos binding: `provide_auth` once at the root, `use_auth` anywhere below.

use crate::auth::{Auth, AuthParts};
use crate::browser_siblings::BrowserSiblings;
use crate::config_loader::load_config;
use crate::fetch_transport::FetchTransport;
use crate::scheduler::{start_background_refresh, BackgroundRefresh};
use crate::use_auth::{AuthStatus, AuthUnavailable, LastError, UseAuth, Writers};
use leptos::prelude::*;
use oten_auth_core::id_token::IdTokenClaims;
use oten_auth_core::{
    AuthConfig, AuthMode, ConfigFile, MetricsSink, MetricsSnapshot, Navigator, SessionEvent, Subscription, TokenStore,
    Transport,
};
use serde_json::Map;
use std::rc::Rc;

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// Given in code.
    Value(Box<ConfigFile>),
    /// Fetched at runtime from this URL (usually `/config.json`): one build for every environment.
    Url(String),
}

impl From<AuthConfig> for ConfigSource {
    fn from(auth: AuthConfig) -> Self {
        ConfigSource::Value(Box::new(ConfigFile { auth, app: Map::new() }))
    }
}

impl From<ConfigFile> for ConfigSource {
    fn from(file: ConfigFile) -> Self {
        ConfigSource::Value(Box::new(file))
    }
}

impl From<&str> for ConfigSource {
    fn from(url: &str) -> Self {
        ConfigSource::Url(url.to_owned())
    }
}

/// What [`provide_auth_with_options`] may change. Every part not given is the browser's own.
///
/// ## Usage
///
/// ```no_run
/// use std::rc::Rc;
/// use oten_auth::ProvideAuthOptions;
/// let options = ProvideAuthOptions::default()
///     .store(Rc::new(oten_auth_core::MemoryStore::default())) // a session that lives in memory only
///     .metrics_sink(Rc::new(|event: &oten_auth_core::MetricEvent| { let _ = event; }))
///     .background_refresh(false);
/// # let _ = options;
/// ```
#[must_use]
pub struct ProvideAuthOptions {
    store: Option<Rc<dyn TokenStore>>,
    transport: Option<Rc<dyn Transport>>,
    navigator: Option<Rc<dyn Navigator>>,
    metrics_sink: Option<Rc<dyn MetricsSink>>,
    background_refresh: bool,
    coordinate_tabs: bool,
}

impl Default for ProvideAuthOptions {
    fn default() -> Self {
        Self {
            store: None,
            transport: None,
            navigator: None,
            metrics_sink: None,
            background_refresh: true,
            coordinate_tabs: true,
        }
    }
}

impl ProvideAuthOptions {
    /// Where tokens are kept (default: sessionStorage).
    pub fn store(mut self, store: Rc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How requests are sent (default: `fetch` with the configured timeout).
    pub fn transport(mut self, transport: Rc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// How the browser is moved (default: `window.location`).
    pub fn navigator(mut self, navigator: Rc<dyn Navigator>) -> Self {
        self.navigator = Some(navigator);
        self
    }

    /// Receives every metric event (to forward to analytics).
    pub fn metrics_sink(mut self, sink: Rc<dyn MetricsSink>) -> Self {
        self.metrics_sink = Some(sink);
        self
    }

    /// Whether tokens are refreshed in the background ahead of expiry (default: yes). Without it, refreshes happen
    /// on demand only.
    pub fn background_refresh(mut self, on: bool) -> Self {
        self.background_refresh = on;
        self
    }

    /// Whether this tab coordinates with its sibling tabs (default: yes). Off only for a session that no other tab
    /// can hold (an in-memory store given with [`ProvideAuthOptions::store`]); with the default sessionStorage
    /// store, which a duplicated tab copies, tabs coordinate whatever this says.
    pub fn coordinate_tabs(mut self, on: bool) -> Self {
        self.coordinate_tabs = on;
        self
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
    provide_auth_with_options(config, ProvideAuthOptions::default())
}

/// Like [`provide_auth`], with the configuration file fetched from `url` at runtime (one build for every
/// environment). A missing or invalid file gives [`AuthStatus::Unavailable`] naming the field.
///
/// ```no_run
/// let auth = oten_auth::provide_auth_from_url("/config.json");
/// # let _ = auth;
/// ```
pub fn provide_auth_from_url(url: &str) -> UseAuth {
    provide_auth_with_options(url, ProvideAuthOptions::default())
}

/// The general form: a configuration (a value, or a URL to fetch it from) and [`ProvideAuthOptions`].
///
/// ```no_run
/// use oten_auth::{provide_auth_with_options, ProvideAuthOptions};
/// let auth = provide_auth_with_options("/config.json", ProvideAuthOptions::default().background_refresh(false));
/// # let _ = auth;
/// ```
pub fn provide_auth_with_options(source: impl Into<ConfigSource>, options: ProvideAuthOptions) -> UseAuth {
    let source = source.into();
    // The configuration comes through the same transport as everything else.
    let transport = options.transport.clone().unwrap_or_else(|| Rc::new(FetchTransport::default()));
    provide(
        async move {
            match source {
                ConfigSource::Value(file) => Ok(*file),
                ConfigSource::Url(url) => load_config(&url, transport.as_ref()).await.map_err(AuthUnavailable::Config),
            }
        },
        options,
    )
}

/// The handle provided by [`provide_auth`].
///
/// # Panics
///
/// When no ancestor called [`provide_auth`] (a programming error, reported at once); [`try_use_auth`] does not.
pub fn use_auth() -> UseAuth {
    use_context::<UseAuth>().expect("use_auth() needs provide_auth() in an ancestor component")
}

/// The handle provided by [`provide_auth`], or `None` outside it.
///
/// ```no_run
/// let signed_in = oten_auth::try_use_auth().is_some_and(|auth| auth.is_signed_in());
/// # let _ = signed_in;
/// ```
pub fn try_use_auth() -> Option<UseAuth> {
    use_context::<UseAuth>()
}

/// The signed-in person, for components under `<RequireAuth>`: a user, not an `Option`. It never panics; when the
/// session ends (another tab can end it) it keeps the last user until the guard unmounts the component.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[component]
/// fn Greeting() -> impl IntoView {
///     let user = oten_auth::use_user();
///     view! { <p>"Hello, " {move || user.get().name.unwrap_or_default()}</p> }
/// }
/// ```
pub fn use_user() -> Signal<IdTokenClaims> {
    let auth = try_use_auth();
    let last = StoredValue::new(None::<IdTokenClaims>);
    Signal::derive(move || {
        let current = auth.and_then(|a| a.user.get());
        if let Some(user) = &current {
            last.set_value(Some(user.clone()));
        }
        current.or_else(|| last.get_value()).unwrap_or_else(|| IdTokenClaims::new(""))
    })
}

thread_local! {
    /// Whether a `provide_auth` is live on this page: a second one would run a second manager on the same storage.
    static PROVIDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn new_handle(app: Map<String, serde_json::Value>) -> UseAuth {
    let w = Writers {
        status: RwSignal::new(AuthStatus::Loading),
        user: RwSignal::new(None),
        scopes: RwSignal::new(Vec::new()),
        expires_at: RwSignal::new(None),
        refreshing: RwSignal::new(false),
        last_error: RwSignal::new(None),
        metrics: RwSignal::new(MetricsSnapshot::default()),
        signing_out: RwSignal::new(false),
    };
    UseAuth {
        status: w.status.into(),
        user: w.user.into(),
        scopes: w.scopes.into(),
        expires_at: w.expires_at.into(),
        refreshing: w.refreshing.into(),
        last_error: w.last_error.into(),
        metrics: w.metrics.into(),
        session: RwSignal::new_local(None),
        app: StoredValue::new(app),
        waiters: StoredValue::new_local(Vec::new()),
        writers: w,
    }
}

fn provide(
    config: impl std::future::Future<Output = Result<ConfigFile, AuthUnavailable>> + 'static,
    options: ProvideAuthOptions,
) -> UseAuth {
    let handle = new_handle(Map::new());
    let w = handle.writers;
    provide_context(handle);
    if PROVIDED.with(|p| p.replace(true)) {
        w.status.set(AuthStatus::Unavailable(AuthUnavailable::ProvidedTwice));
        return handle;
    }
    // What must stop when the owner is disposed: the background check, the manager's listener, the siblings.
    let running = StoredValue::new_local(None::<(Option<BackgroundRefresh>, Auth, Subscription)>);
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
        let file = match config.await {
            Ok(file) => file,
            Err(e) => {
                w.status.try_set(AuthStatus::Unavailable(e));
                handle.wake_waiters();
                return;
            }
        };
        handle.app.try_set_value(file.app);
        let config = file.auth;
        // A duplicated tab copies sessionStorage: with the default store, tabs always coordinate. With a backend
        // nothing is stored in the tab and the backend serialises refreshes: no coordination.
        let public = config.mode == AuthMode::Public;
        let siblings = match public && (options.coordinate_tabs || options.store.is_none()) {
            true => Some(BrowserSiblings::connect(&config.client_id).await),
            false => None,
        };
        let mut parts = AuthParts::for_config(&config, siblings);
        if let Some(store) = options.store {
            parts.store = store;
        }
        if let Some(transport) = options.transport {
            parts.transport = transport;
        }
        if let Some(navigator) = options.navigator {
            parts.navigator = navigator;
        }
        if let Some(sink) = options.metrics_sink {
            parts.metrics.add_sink(sink);
        }
        let auth = match Auth::connect_with(config, parts).await {
            Ok(auth) => auth,
            Err(e) => {
                w.status.try_set(AuthStatus::Unavailable(AuthUnavailable::Provider(e)));
                handle.wake_waiters();
                return;
            }
        };
        // Unmounted while loading: nothing starts (a new provider may already run over the same storage).
        if handle.status.try_get_untracked().is_none() {
            if let Some(siblings) = auth.siblings() {
                siblings.stop();
            }
            return;
        }
        let subscription = wire(&auth, w);
        if let Err(unavailable) = auth.start().await {
            auth.manager().unsubscribe(subscription);
            w.status.try_set(AuthStatus::Unavailable(AuthUnavailable::Backend(unavailable)));
            handle.wake_waiters();
            return;
        }
        // The owner may be gone by now (an unmount): then nothing keeps running.
        if handle.session.try_set(Some(auth.clone())).is_some() {
            auth.manager().unsubscribe(subscription);
            if let Some(siblings) = auth.siblings() {
                siblings.stop();
            }
            return;
        }
        sync(&auth, w);
        let background = options.background_refresh.then(|| start_background_refresh(auth.clone()));
        handle.wake_waiters();
        if running.try_set_value(Some((background, auth.clone(), subscription))).is_some() {
            auth.manager().unsubscribe(subscription);
        }
    });
    handle
}

/// Provides a session that is ready at once (the test kit's): no configuration to load, no siblings, no
/// background refresh; it stops when the owner is disposed.
#[cfg(feature = "testing")]
pub(crate) fn provide_ready(auth: Auth, app: Map<String, serde_json::Value>) -> UseAuth {
    let handle = new_handle(app);
    provide_context(handle);
    let subscription = wire(&auth, handle.writers);
    handle.session.set(Some(auth.clone()));
    sync(&auth, handle.writers);
    let running = StoredValue::new_local(Some(auth));
    on_cleanup(move || {
        if let Some(Some(auth)) = running.try_update_value(Option::take) {
            auth.manager().unsubscribe(subscription);
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
    let scopes = tokens.as_ref().and_then(|t| t.scope.as_deref()).map(|s| s.split(' ').map(str::to_owned).collect());
    set_if_changed(w.status, status);
    set_if_changed(w.user, tokens.as_ref().and_then(|t| t.user.clone()));
    set_if_changed(w.scopes, scopes.unwrap_or_default());
    set_if_changed(w.expires_at, tokens.as_ref().map(|t| t.expires_at));
    set_if_changed(w.refreshing, auth.manager().is_refreshing());
}

/// Writes `value` only when it differs: a refresh must not re-render what depends on an unchanged status (a
/// protected page under `<RequireAuth>` would be rebuilt and lose its state at every refresh).
pub(crate) fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    signal.try_maybe_update(|current| {
        let changed = *current != value;
        if changed {
            *current = value;
        }
        (changed, ())
    });
}

fn wire(auth: &Auth, w: Writers) -> Subscription {
    let for_events = auth.clone();
    let subscription = auth.manager().subscribe(move |event| {
        match event {
            SessionEvent::RefreshFailed(e) | SessionEvent::Ended(e) => {
                set_if_changed(w.last_error, Some(LastError::Session(e.clone())));
            }
            SessionEvent::StoreFailed(e) => {
                set_if_changed(w.last_error, Some(LastError::Storage(e.clone())));
            }
            SessionEvent::SignedIn | SessionEvent::Refreshed | SessionEvent::Adopted | SessionEvent::SignedOut => {
                set_if_changed(w.last_error, None);
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
