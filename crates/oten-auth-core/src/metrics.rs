//! Counters for refreshes, API usage and expirations, with sinks an app can forward them to.

use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Most distinct endpoint labels kept; more are counted under `other` so the label set stays bounded.
pub const MAX_ENDPOINT_LABELS: usize = 100;

/// One thing that happened, as sent to each [`MetricsSink`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricEvent {
    /// A refresh stored new tokens.
    RefreshSucceeded,
    /// A refresh failed; `reason` is a bounded label such as `invalid_grant` or `network`.
    RefreshFailed {
        /// Why.
        reason: &'static str,
    },
    /// An API answer to a request made with a token.
    TokenUsed {
        /// The endpoint label (path without query or ids).
        endpoint: String,
        /// HTTP status.
        status: u16,
    },
    /// An access token was found expired (counted once per token; an API's 401 is not an expiration).
    TokenExpired,
    /// Tokens were taken from a sibling tab (its rotation, or a session joined) instead of refreshing.
    TokensAdopted,
}

/// Receives every [`MetricEvent`], for example to forward it to an analytics endpoint.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::{MetricEvent, Metrics, MetricsSink};
/// use std::{cell::Cell, rc::Rc};
/// #[derive(Default)]
/// struct Count(Cell<u32>);
/// impl MetricsSink for Count {
///     fn record(&self, _event: &MetricEvent) { self.0.set(self.0.get() + 1) }
/// }
/// let metrics = Metrics::default();
/// let sink = Rc::new(Count::default());
/// metrics.add_sink(sink.clone());
/// metrics.record(MetricEvent::RefreshSucceeded);
/// assert_eq!(sink.0.get(), 1);
/// assert_eq!(metrics.snapshot().refresh_success, 1);
/// ```
pub trait MetricsSink {
    /// Called once per event, synchronously.
    fn record(&self, event: &MetricEvent);
}

impl<F: Fn(&MetricEvent)> MetricsSink for F {
    fn record(&self, event: &MetricEvent) {
        self(event)
    }
}

/// Calls made to one endpoint with one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointUsage {
    /// Endpoint label.
    pub endpoint: String,
    /// HTTP status.
    pub status: u16,
    /// How many answers.
    pub count: u64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MetricsSnapshot {
    /// Successful refreshes.
    pub refresh_success: u64,
    /// Failed refreshes by reason.
    pub refresh_failure: BTreeMap<String, u64>,
    /// API answers by endpoint and status, sorted.
    pub usage: Vec<EndpointUsage>,
    /// Expired access tokens seen.
    pub expirations: u64,
    /// Token sets taken from sibling tabs.
    pub adopted: u64,
}

impl MetricsSnapshot {
    /// All failed refreshes, whatever the reason.
    pub fn refresh_failures(&self) -> u64 {
        self.refresh_failure.values().sum()
    }

    /// All API answers counted.
    pub fn api_calls(&self) -> u64 {
        self.usage.iter().map(|u| u.count).sum()
    }
}

/// The counters, in vectors kept sorted by key: a few entries each, and in wasm a fraction of the code that ordered
/// maps and their sorting bring in.
#[derive(Default)]
struct Counters {
    refresh_success: u64,
    refresh_failure: Vec<(&'static str, u64)>,
    usage: Vec<((String, u16), u64)>,
    labels: Vec<String>,
    expirations: u64,
    adopted: u64,
}

/// Adds one to the count of `key` in a vector sorted by key, inserting it in order when new.
fn bump(counts: &mut Vec<(&'static str, u64)>, key: &'static str) {
    match counts.binary_search_by(|(k, _)| k.cmp(&key)) {
        Ok(i) => counts[i].1 += 1,
        Err(i) => counts.insert(i, (key, 1)),
    }
}

/// The metrics of one session manager: cheap to clone (shared), no global state.
#[derive(Clone, Default)]
pub struct Metrics {
    counters: Rc<RefCell<Counters>>,
    sinks: Rc<RefCell<Vec<Rc<dyn MetricsSink>>>>,
}

impl Metrics {
    /// Adds a sink that sees every later event.
    pub fn add_sink(&self, sink: Rc<dyn MetricsSink>) {
        self.sinks.borrow_mut().push(sink);
    }

    /// Counts an event and passes it to the sinks.
    pub fn record(&self, event: MetricEvent) {
        {
            let mut c = self.counters.borrow_mut();
            match &event {
                MetricEvent::RefreshSucceeded => c.refresh_success += 1,
                MetricEvent::RefreshFailed { reason } => bump(&mut c.refresh_failure, reason),
                MetricEvent::TokenUsed { endpoint, status } => {
                    // Every API answer passes here: a known label and status allocate nothing.
                    let known = match c.labels.binary_search(endpoint) {
                        Ok(_) => true,
                        Err(i) if c.labels.len() < MAX_ENDPOINT_LABELS => {
                            c.labels.insert(i, endpoint.clone());
                            true
                        }
                        Err(_) => false,
                    };
                    let key = (if known { endpoint.as_str() } else { "other" }, *status);
                    match c.usage.binary_search_by(|((label, status), _)| (label.as_str(), *status).cmp(&key)) {
                        Ok(i) => c.usage[i].1 += 1,
                        Err(i) => c.usage.insert(i, ((key.0.to_owned(), key.1), 1)),
                    }
                }
                MetricEvent::TokenExpired => c.expirations += 1,
                MetricEvent::TokensAdopted => c.adopted += 1,
            }
        }
        if self.sinks.borrow().is_empty() {
            return;
        }
        // A copy: a sink may add sinks.
        let sinks = self.sinks.borrow().clone();
        for sink in sinks {
            sink.record(&event);
        }
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let c = self.counters.borrow();
        MetricsSnapshot {
            refresh_success: c.refresh_success,
            refresh_failure: {
                // Inserted one by one: collecting into a map would sort what is already sorted.
                let mut map = BTreeMap::new();
                for (reason, count) in &c.refresh_failure {
                    map.insert((*reason).to_owned(), *count);
                }
                map
            },
            usage: c
                .usage
                .iter()
                .map(|((endpoint, status), count)| EndpointUsage {
                    endpoint: endpoint.clone(),
                    status: *status,
                    count: *count,
                })
                .collect(),
            expirations: c.expirations,
            adopted: c.adopted,
        }
    }
}

/// The metrics label of a URL: its path, without query or fragment, with id-like segments replaced by `:id`.
///
/// ```
/// use oten_auth_core::endpoint_label;
/// assert_eq!(endpoint_label("https://api.test/api/users/12345/posts?page=2"), "/api/users/:id/posts");
/// assert_eq!(endpoint_label("/api/orders/6f1c2a9e-41d3-4c6b-9b1e-2f0e8d7c6b5a"), "/api/orders/:id");
/// assert_eq!(endpoint_label("/api/user/profile#x"), "/api/user/profile");
/// assert_eq!(endpoint_label("https://api.test?x=a/b"), "/");
/// ```
pub fn endpoint_label(url: &str) -> String {
    let without_origin = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            match rest.find(['/', '?', '#']) {
                Some(p) if rest[p..].starts_with('/') => &rest[p..],
                _ => "/",
            }
        }
        None => url,
    };
    let path = without_origin.split(['?', '#']).next().unwrap_or("/");
    let mut label = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            label.push('/');
        }
        if looks_like_id(segment) {
            label.push_str(":id");
        } else {
            label.push_str(segment);
        }
    }
    if label.is_empty() {
        label.push('/');
    }
    label
}

fn looks_like_id(segment: &str) -> bool {
    if segment.is_empty() {
        return false;
    }
    let digits = segment.bytes().filter(u8::is_ascii_digit).count();
    let hexish = segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    digits == segment.len() || (hexish && segment.len() >= 16 && digits > 0) || (segment.len() >= 24 && digits >= 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_endpoint_and_status() {
        let m = Metrics::default();
        for status in [200, 200, 401] {
            m.record(MetricEvent::TokenUsed { endpoint: "/api/user/profile".into(), status });
        }
        m.record(MetricEvent::RefreshFailed { reason: "network" });
        m.record(MetricEvent::TokenExpired);
        let s = m.snapshot();
        assert_eq!(
            s.usage,
            vec![
                EndpointUsage { endpoint: "/api/user/profile".into(), status: 200, count: 2 },
                EndpointUsage { endpoint: "/api/user/profile".into(), status: 401, count: 1 },
            ]
        );
        assert_eq!(s.refresh_failures(), 1);
        assert_eq!(s.expirations, 1);
        assert_eq!(s.api_calls(), 3);
    }

    #[test]
    fn label_set_is_bounded() {
        let m = Metrics::default();
        for i in 0..(MAX_ENDPOINT_LABELS + 50) {
            m.record(MetricEvent::TokenUsed { endpoint: format!("/api/x{i}"), status: 200 });
        }
        let s = m.snapshot();
        assert_eq!(s.usage.len(), MAX_ENDPOINT_LABELS + 1);
        assert_eq!(s.usage.iter().find(|u| u.endpoint == "other").unwrap().count, 50);
    }

    #[test]
    fn separate_metrics_do_not_share_state() {
        let a = Metrics::default();
        let b = Metrics::default();
        a.record(MetricEvent::RefreshSucceeded);
        assert_eq!(b.snapshot().refresh_success, 0);
        assert_eq!(a.clone().snapshot().refresh_success, 1);
    }
}
