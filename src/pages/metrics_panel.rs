//! The session's counters (the seed's `TokenMetrics`) as small bar charts drawn in SVG, the numbers beside them.

use super::lifetime_bar::svg_length;
use leptos::prelude::*;
use oten_auth::use_auth;

/// One bar: a label, a count, and how it is coloured (`ok`, `warn`, `failed`, `neutral`).
#[derive(Debug, Clone, PartialEq)]
struct Bar {
    label: String,
    count: u64,
    kind: &'static str,
}

/// A chart: bars scaled to the largest, each with its number (redrawn whole when the counters change).
#[component]
fn Chart(title: &'static str, testid: &'static str, bars: Signal<Vec<Bar>>, empty: &'static str) -> impl IntoView {
    let rows = move || {
        bars.with(|bars| {
            if bars.is_empty() {
                return view! { <p class="hint">{empty}</p> }.into_any();
            }
            let max = bars.iter().map(|b| b.count).max().unwrap_or(1).max(1);
            let rows = bars
                .iter()
                .map(|bar| {
                    let width = svg_length((bar.count.min(max) * 10_000 / max) as i64);
                    view! {
                        <li>
                            <span class="chart-label">{bar.label.clone()}</span>
                            <svg class="chart-bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
                                <rect class=format!("fill-{}", bar.kind) x="0" y="0" height="8" width=width/>
                            </svg>
                            <span class="chart-count">{bar.count}</span>
                        </li>
                    }
                })
                .collect_view();
            view! { <ul class="chart-rows">{rows}</ul> }.into_any()
        })
    };
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption>{title}</figcaption>
            {rows}
        </figure>
    }
}

/// Refreshes by outcome and reason, API calls by endpoint and status, expirations and tokens from other tabs.
#[component]
pub fn MetricsPanel() -> impl IntoView {
    let auth = use_auth();
    let refreshes = Signal::derive(move || {
        auth.metrics.with(|m| {
            let mut bars = Vec::new();
            if m.refresh_success > 0 {
                bars.push(Bar { label: "renewed".into(), count: m.refresh_success, kind: "ok" });
            }
            if m.adopted > 0 {
                bars.push(Bar { label: "from another tab".into(), count: m.adopted, kind: "neutral" });
            }
            bars.extend(m.refresh_failure.iter().map(|(reason, n)| Bar {
                label: format!("failed: {reason}"),
                count: *n,
                kind: "failed",
            }));
            bars
        })
    });
    let calls = Signal::derive(move || {
        auth.metrics.with(|m| {
            m.usage
                .iter()
                .map(|u| Bar {
                    label: format!("{} → {}", u.endpoint, u.status),
                    count: u.count,
                    kind: match u.status {
                        200..=399 => "ok",
                        400..=499 => "warn",
                        _ => "failed",
                    },
                })
                .collect()
        })
    });
    let expirations = Signal::derive(move || {
        auth.metrics.with(|m| match m.expirations {
            0 => Vec::new(),
            n => vec![Bar { label: "access tokens found expired".into(), count: n, kind: "warn" }],
        })
    });
    view! {
        <section class="card metrics" aria-labelledby="metrics-title" data-testid="metrics-panel">
            <h2 id="metrics-title">"Metrics of this tab"</h2>
            <Chart title="Refreshes" testid="chart-refreshes" bars=refreshes empty="No refresh yet."/>
            <Chart title="API calls" testid="chart-api" bars=calls empty="No API call yet."/>
            <Chart title="Expirations" testid="chart-expirations" bars=expirations empty="No token has expired."/>
        </section>
    }
}
