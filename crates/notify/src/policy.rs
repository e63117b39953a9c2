//! Routing, dedup windows and the token bucket of one notifier. Pure state machines: time is
//! passed in (ns), so file runs (event time) are deterministic and tests need no clock.

use crate::alert::Alert;
use crate::config::{sid_range, Limits, Route};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// A route compiled for matching.
#[derive(Clone, Debug)]
pub struct RouteMatcher {
    min_severity: Option<u64>,
    categories: Vec<String>,
    sids: Vec<(u64, u64)>,
    gids: Vec<u64>,
    detectors: Vec<String>,
}

impl RouteMatcher {
    /// Compiles `r` (already validated).
    pub fn new(r: &Route) -> Self {
        RouteMatcher {
            min_severity: r.min_severity.map(u64::from),
            categories: r
                .categories
                .iter()
                .map(|c| c.to_ascii_lowercase())
                .collect(),
            sids: r.sids.iter().filter_map(sid_range).collect(),
            gids: r.gids.clone(),
            detectors: r.detectors.iter().map(|d| d.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether the notifier takes `a`.
    pub fn matches(&self, a: &Alert) -> bool {
        if self.min_severity.is_some_and(|m| a.severity > m) {
            return false;
        }
        if !self.categories.is_empty() {
            let cat = a.category.to_ascii_lowercase();
            if !self
                .categories
                .iter()
                .any(|c| *c == cat || (!a.classtype.is_empty() && *c == a.classtype))
            {
                return false;
            }
        }
        if !self.sids.is_empty()
            && !self
                .sids
                .iter()
                .any(|(lo, hi)| (*lo..=*hi).contains(&a.sid))
        {
            return false;
        }
        if !self.gids.is_empty() && !self.gids.contains(&a.gid) {
            return false;
        }
        if !self.detectors.is_empty() {
            let d = if a.detector.is_empty() {
                "signature".to_owned()
            } else {
                a.detector.to_ascii_lowercase()
            };
            if !self.detectors.contains(&d) {
                return false;
            }
        }
        true
    }
}

/// What a notification reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The first alert of its signature and source in a window (or any alert without dedup).
    First,
    /// The repeats of a window, summarised when it closed.
    Repeats,
}

impl Kind {
    /// Name in payloads.
    pub fn name(self) -> &'static str {
        match self {
            Kind::First => "alert",
            Kind::Repeats => "repeats",
        }
    }
}

/// One notification to deliver.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The alert (for `Repeats`, the last repeat).
    pub alert: Arc<Alert>,
    /// First or summary.
    pub kind: Kind,
    /// Alerts this notification stands for (1 for `First`; the repeats for `Repeats`).
    pub count: u64,
    /// Time of the first alert counted (EVE format).
    pub first_seen: String,
    /// Time of the last alert counted.
    pub last_seen: String,
    /// Notifications the rate limit held back since the last one that went out.
    pub rate_suppressed: u64,
    /// Wall-clock time the alert reached the dispatcher (for latency logs).
    pub queued_at: std::time::Instant,
}

/// Counters of the policy stage of one notifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyCounts {
    /// Alerts the route took.
    pub matched: u64,
    /// Alerts folded into a window's count instead of a notification of their own.
    pub deduplicated: u64,
    /// Notifications held back by the rate limit.
    pub rate_limited: u64,
    /// Alerts that bypassed dedup because the table was full.
    pub dedup_table_full: u64,
}

struct Window {
    repeats: u64,
    first_seen: String,
    last: Option<Arc<Alert>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    gid: u64,
    sid: u64,
    src: String,
}

/// Route + dedup + token bucket of one notifier.
pub struct Policy {
    route: RouteMatcher,
    dedup_ns: i64,
    max_entries: usize,
    windows: HashMap<Key, Window>,
    /// Window keys in opening order; all windows have one length, so this is closing order.
    order: VecDeque<(i64, Key)>,
    rate_per_ns: f64,
    burst: f64,
    tokens: f64,
    last_refill_ns: Option<i64>,
    held_back: u64,
    /// What happened so far.
    pub counts: PolicyCounts,
}

impl Policy {
    /// A policy for one notifier.
    pub fn new(route: &Route, limits: &Limits) -> Self {
        Policy {
            route: RouteMatcher::new(route),
            dedup_ns: i64::try_from(limits.dedup_secs)
                .unwrap_or(i64::MAX / 1_000_000_000)
                .saturating_mul(1_000_000_000),
            max_entries: limits.max_dedup_entries,
            windows: HashMap::new(),
            order: VecDeque::new(),
            rate_per_ns: f64::from(limits.rate_per_minute) / 60e9,
            burst: f64::from(limits.burst),
            tokens: f64::from(limits.burst),
            last_refill_ns: None,
            held_back: 0,
            counts: PolicyCounts::default(),
        }
    }

    /// Open dedup windows.
    pub fn open_windows(&self) -> usize {
        self.windows.len()
    }

    fn take_token(&mut self, now_ns: i64) -> bool {
        if self.rate_per_ns <= 0.0 {
            return true;
        }
        if let Some(last) = self.last_refill_ns {
            let dt = now_ns.saturating_sub(last).max(0) as f64;
            self.tokens = (self.tokens + dt * self.rate_per_ns).min(self.burst);
        }
        if self.last_refill_ns.is_none_or(|l| now_ns > l) {
            self.last_refill_ns = Some(now_ns);
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn emit(&mut self, mut n: Notification, now_ns: i64, out: &mut Vec<Notification>) {
        if self.take_token(now_ns) {
            n.rate_suppressed = std::mem::take(&mut self.held_back);
            out.push(n);
        } else {
            self.counts.rate_limited += 1;
            self.held_back += 1;
        }
    }

    /// Takes one alert at time `now_ns`; notifications due go to `out`.
    pub fn on_alert(&mut self, a: &Arc<Alert>, now_ns: i64, out: &mut Vec<Notification>) {
        self.close_due(now_ns, out);
        if !self.route.matches(a) {
            return;
        }
        self.counts.matched += 1;
        let first = |a: &Arc<Alert>| Notification {
            alert: Arc::clone(a),
            kind: Kind::First,
            count: 1,
            first_seen: a.timestamp.clone(),
            last_seen: a.timestamp.clone(),
            rate_suppressed: 0,
            queued_at: std::time::Instant::now(),
        };
        if self.dedup_ns == 0 {
            self.emit(first(a), now_ns, out);
            return;
        }
        let key = Key {
            gid: a.gid,
            sid: a.sid,
            src: a.src_ip.clone(),
        };
        if let Some(w) = self.windows.get_mut(&key) {
            w.repeats += 1;
            w.last = Some(Arc::clone(a));
            self.counts.deduplicated += 1;
            return;
        }
        if self.windows.len() >= self.max_entries {
            self.counts.dedup_table_full += 1;
        } else {
            let end_ns = now_ns.saturating_add(self.dedup_ns);
            self.order.push_back((end_ns, key.clone()));
            self.windows.insert(
                key,
                Window {
                    repeats: 0,
                    first_seen: a.timestamp.clone(),
                    last: None,
                },
            );
        }
        self.emit(first(a), now_ns, out);
    }

    /// Closes the windows that ended by `now_ns`, summarising their repeats.
    pub fn close_due(&mut self, now_ns: i64, out: &mut Vec<Notification>) {
        while let Some((end, _)) = self.order.front() {
            if *end > now_ns {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                if let Some(w) = self.windows.remove(&key) {
                    self.summarise(w, now_ns, out);
                }
            }
        }
    }

    fn summarise(&mut self, w: Window, now_ns: i64, out: &mut Vec<Notification>) {
        if let (Some(last), true) = (w.last, w.repeats > 0) {
            let n = Notification {
                last_seen: last.timestamp.clone(),
                alert: last,
                kind: Kind::Repeats,
                count: w.repeats,
                first_seen: w.first_seen,
                rate_suppressed: 0,
                queued_at: std::time::Instant::now(),
            };
            self.emit(n, now_ns, out);
        }
    }

    /// Closes every window (end of run).
    pub fn close_all(&mut self, now_ns: i64, out: &mut Vec<Notification>) {
        while let Some((_, key)) = self.order.pop_front() {
            if let Some(w) = self.windows.remove(&key) {
                self.summarise(w, now_ns, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SidSpec;

    fn alert(sid: u64, src: &str, sev: u64, detector: &str) -> Arc<Alert> {
        let det = if detector.is_empty() {
            String::new()
        } else {
            format!(r#","vedette":{{"detector":"{detector}"}}"#)
        };
        let line = format!(
            r#"{{"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"alert","src_ip":"{src}","dest_ip":"10.9.9.9","proto":"TCP","alert":{{"gid":1,"signature_id":{sid},"rev":1,"signature":"s{sid}","category":"Attempted Recon","severity":{sev}}}{det}}}"#
        );
        Arc::new(Alert::parse(line.as_bytes()).expect("alert"))
    }

    const S: i64 = 1_000_000_000;

    #[test]
    fn routes_by_severity_category_sid_gid_and_detector() {
        let r = Route {
            min_severity: Some(2),
            categories: vec!["attempted recon".into()],
            sids: vec![SidSpec::Range("100-200".into()), SidSpec::One(7)],
            gids: vec![1],
            detectors: vec!["signature".into()],
        };
        let m = RouteMatcher::new(&r);
        assert!(m.matches(&alert(150, "1.1.1.1", 1, "")));
        assert!(m.matches(&alert(7, "1.1.1.1", 2, "")));
        assert!(!m.matches(&alert(150, "1.1.1.1", 3, "")), "severity 3 < 2");
        assert!(
            !m.matches(&alert(201, "1.1.1.1", 1, "")),
            "sid out of range"
        );
        assert!(
            !m.matches(&alert(150, "1.1.1.1", 1, "port_scan")),
            "detector"
        );
        let only_scans = RouteMatcher::new(&Route {
            detectors: vec!["port_scan".into()],
            ..Route::default()
        });
        assert!(only_scans.matches(&alert(1, "1.1.1.1", 3, "port_scan")));
        assert!(!only_scans.matches(&alert(1, "1.1.1.1", 3, "")));
        assert!(RouteMatcher::new(&Route::default()).matches(&alert(1, "x", 255, "")));
    }

    #[test]
    fn dedup_sends_the_first_at_once_and_the_repeats_with_their_count_at_window_close() {
        let limits = Limits {
            dedup_secs: 10,
            rate_per_minute: 0,
            ..Limits::default()
        };
        let mut p = Policy::new(&Route::default(), &limits);
        let mut out = Vec::new();
        p.on_alert(&alert(1, "1.1.1.1", 1, ""), 0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].kind, out[0].count), (Kind::First, 1));
        for i in 1..=4 {
            p.on_alert(&alert(1, "1.1.1.1", 1, ""), i * S, &mut out);
        }
        // Another source and another signature are their own keys.
        p.on_alert(&alert(1, "2.2.2.2", 1, ""), 5 * S, &mut out);
        p.on_alert(&alert(2, "1.1.1.1", 1, ""), 5 * S, &mut out);
        assert_eq!(out.len(), 3);
        p.close_due(9 * S, &mut out);
        assert_eq!(out.len(), 3, "window still open");
        p.close_due(10 * S, &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!((out[3].kind, out[3].count), (Kind::Repeats, 4));
        assert_eq!(p.counts.deduplicated, 4);
        // After the window, the next alert is a first again.
        p.on_alert(&alert(1, "1.1.1.1", 1, ""), 11 * S, &mut out);
        assert_eq!(out[4].kind, Kind::First);
        // Windows without repeats close silently.
        p.close_all(11 * S, &mut out);
        assert_eq!(out.len(), 5);
        assert_eq!(p.open_windows(), 0);
    }

    #[test]
    fn token_bucket_holds_back_and_the_next_one_carries_the_count() {
        let limits = Limits {
            dedup_secs: 0,
            rate_per_minute: 60, // one a second
            burst: 2,
            ..Limits::default()
        };
        let mut p = Policy::new(&Route::default(), &limits);
        let mut out = Vec::new();
        for i in 0..5 {
            p.on_alert(&alert(i, "1.1.1.1", 1, ""), 0, &mut out);
        }
        assert_eq!(out.len(), 2);
        assert_eq!(p.counts.rate_limited, 3);
        p.on_alert(&alert(9, "1.1.1.1", 1, ""), S, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].rate_suppressed, 3);
    }

    #[test]
    fn full_dedup_table_lets_alerts_through_and_counts_it() {
        let limits = Limits {
            dedup_secs: 60,
            max_dedup_entries: 2,
            rate_per_minute: 0,
            ..Limits::default()
        };
        let mut p = Policy::new(&Route::default(), &limits);
        let mut out = Vec::new();
        for src in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "3.3.3.3"] {
            p.on_alert(&alert(1, src, 1, ""), 0, &mut out);
        }
        assert_eq!(out.len(), 4);
        assert_eq!(p.counts.dedup_table_full, 2);
        assert_eq!(p.open_windows(), 2);
    }
}
