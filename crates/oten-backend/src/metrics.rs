//! Token metrics in Prometheus text format (`GET /metrics`): refreshes by outcome and reason, API usage by route
//! and status, expirations, sign-ins and sign-outs, sessions. No label ever names a person or a session.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// `outcome` and `reason` of a refresh.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefreshLabels {
    /// `renewed`, `salvaged`, `ended` (the session is over) or `failed` (kept; retried later).
    pub outcome: String,
    /// The error's label (`invalid_grant`, `timeout`, `server_error`, …) or `ok`.
    pub reason: String,
}

/// `route` and `status` of an API call or an endpoint of the backend.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route, with ids folded (`/api/items/:id`).
    pub route: String,
    /// The HTTP status.
    pub status: String,
}

/// A label set of one `kind`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// What happened.
    pub kind: String,
}

/// The backend's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Refreshes.
    pub refreshes: Family<RefreshLabels, Counter>,
    /// Requests proxied to the API, and calls of `/api/refresh-token`.
    pub api_requests: Family<RouteLabels, Counter>,
    /// Access tokens found expired when a request needed one.
    pub expirations: Counter,
    /// Sign-ins by outcome (`ok`, or the refusal's kind).
    pub sign_ins: Family<KindLabels, Counter>,
    /// Sessions ended, by why (`logout`, `backchannel`, `max_age`, `refused`, `corrupt`).
    pub sessions_ended: Family<KindLabels, Counter>,
    /// Sessions stored (set at each scrape).
    pub sessions: Gauge,
    routes: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// The most routes labelled one by one in `api_requests`.
pub const MAX_ROUTES: usize = 64;

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("oten_backend");
        let refreshes = Family::<RefreshLabels, Counter>::default();
        let api_requests = Family::<RouteLabels, Counter>::default();
        let expirations = Counter::default();
        let sign_ins = Family::<KindLabels, Counter>::default();
        let sessions_ended = Family::<KindLabels, Counter>::default();
        let sessions = Gauge::default();
        registry.register("refreshes", "Refresh-token presentations by outcome and reason", refreshes.clone());
        registry.register("api_requests", "API requests by route and status", api_requests.clone());
        registry.register("token_expirations", "Access tokens found expired when needed", expirations.clone());
        registry.register("sign_ins", "Sign-ins by outcome", sign_ins.clone());
        registry.register("sessions_ended", "Sessions ended, by reason", sessions_ended.clone());
        registry.register("sessions", "Sessions stored", sessions.clone());
        let routes = std::sync::Mutex::default();
        Self { registry, refreshes, api_requests, expirations, sign_ins, sessions_ended, sessions, routes }
    }
}

impl Metrics {
    /// Counts a refresh.
    pub fn refresh(&self, outcome: &str, reason: &str) {
        self.refreshes.get_or_create(&RefreshLabels { outcome: outcome.into(), reason: reason.into() }).inc();
    }

    /// Counts an API request. At most [`MAX_ROUTES`] routes get a label of their own; later ones count as
    /// `other` (a client sending random paths cannot grow the metrics without bound).
    pub fn api(&self, route: &str, status: u16) {
        let route = {
            let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
            if routes.contains(route) {
                route.to_owned()
            } else if routes.len() < MAX_ROUTES {
                routes.insert(route.to_owned());
                route.to_owned()
            } else {
                "other".to_owned()
            }
        };
        self.api_requests.get_or_create(&RouteLabels { route, status: status.to_string() }).inc();
    }

    /// Counts a sign-in outcome.
    pub fn sign_in(&self, kind: &str) {
        self.sign_ins.get_or_create(&KindLabels { kind: kind.into() }).inc();
    }

    /// Counts ended sessions.
    pub fn ended(&self, kind: &str, n: u64) {
        self.sessions_ended.get_or_create(&KindLabels { kind: kind.into() }).inc_by(n);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}
