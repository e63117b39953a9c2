//! `/metrics`: Prometheus text format from the newest stats event in the store, the number of
//! stored alerts, and the live feed's counters when the server runs in-process.

use crate::queries::{self, QueryError};
use crate::server::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Named series taken from the stats event: (metric, JSON pointer, help).
const NAMED: &[(&str, &str, &str)] = &[
    ("vedette_packets_total", "/decoder/pkts", "Packets decoded."),
    ("vedette_bytes_total", "/decoder/bytes", "Bytes decoded."),
    (
        "vedette_kernel_packets_total",
        "/capture/kernel_packets",
        "Packets the capture saw.",
    ),
    (
        "vedette_kernel_drops_total",
        "/capture/kernel_drops",
        "Packets the kernel dropped.",
    ),
    ("vedette_flows_total", "/flow/total", "Flows created."),
    (
        "vedette_flows_active",
        "/flow/active",
        "Flows in the flow tables.",
    ),
    (
        "vedette_alerts_total",
        "/detect/alert",
        "Signature alerts raised.",
    ),
    (
        "vedette_events_written_total",
        "/vedette/events_written",
        "EVE events written.",
    ),
    (
        "vedette_event_queue_batches",
        "/vedette/event_queue_batches",
        "Event batches waiting on the bus when the newest stats event was written.",
    ),
    (
        "vedette_bus_batches_dropped_total",
        "/vedette/caps/event_batches_dropped",
        "Event batches the bus dropped.",
    ),
    (
        "vedette_bus_events_dropped_total",
        "/vedette/caps/events_dropped",
        "Events the bus dropped.",
    ),
];

fn flatten(prefix: &mut String, v: &Json, out: &mut Vec<(String, f64)>) {
    match v {
        Json::Object(m) => {
            for (k, child) in m {
                let len = prefix.len();
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(k);
                flatten(prefix, child, out);
                prefix.truncate(len);
            }
        }
        Json::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.push((prefix.clone(), f));
            }
        }
        _ => {}
    }
}

/// Escapes a label value (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render(stats: Option<&Json>, stored_alerts: Option<i64>, state: &AppState) -> String {
    let mut s = String::new();
    if let Some(stats) = stats {
        for (name, ptr, help) in NAMED {
            if let Some(v) = stats.pointer(ptr).and_then(Json::as_f64) {
                let kind = if name.ends_with("_total") {
                    "counter"
                } else {
                    "gauge"
                };
                let _ = writeln!(s, "# HELP {name} {help} (newest stats event)");
                let _ = writeln!(s, "# TYPE {name} {kind}\n{name} {v}");
            }
        }
        let mut all = Vec::new();
        flatten(&mut String::new(), stats, &mut all);
        s.push_str(
            "# HELP vedette_stat Every numeric counter of the newest stats event, by key.\n",
        );
        s.push_str("# TYPE vedette_stat gauge\n");
        for (k, v) in all {
            let _ = writeln!(s, "vedette_stat{{key=\"{}\"}} {v}", label(&k));
        }
    }
    if let Some(n) = stored_alerts {
        s.push_str("# HELP vedette_store_alerts Alerts in the store.\n");
        let _ = writeln!(
            s,
            "# TYPE vedette_store_alerts gauge\nvedette_store_alerts {n}"
        );
    }
    s.push_str("# HELP vedette_sse_clients Live streams open.\n");
    let _ = writeln!(
        s,
        "# TYPE vedette_sse_clients gauge\nvedette_sse_clients {}",
        state.sse_clients.load(Ordering::Relaxed)
    );
    if let Some(feed) = &state.feed {
        let c = feed.counters();
        for (name, v, help) in [
            (
                "vedette_feed_published_total",
                &c.published,
                "Alerts published to the live feed.",
            ),
            (
                "vedette_feed_lagged_total",
                &c.lagged,
                "Alerts live clients skipped (too slow).",
            ),
            (
                "vedette_feed_oversized_total",
                &c.oversized,
                "Alerts too long for the live feed.",
            ),
        ] {
            let _ = writeln!(s, "# HELP {name} {help}");
            let _ = writeln!(
                s,
                "# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
    }
    s
}

pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let dir = state.store_dir.clone();
    let read = tokio::task::spawn_blocking(move || {
        queries::with_store(&dir, |c| {
            let stats = queries::newest_stats(c)?.map(|(_, s)| s);
            let alerts: i64 = c.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))?;
            Ok::<_, QueryError>((stats, alerts))
        })
    })
    .await;
    let (stats, alerts) = match read {
        Ok(Ok((s, a))) => (s, Some(a)),
        _ => (None, None),
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(stats.as_ref(), alerts, &state),
    )
        .into_response()
}
