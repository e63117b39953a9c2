//! Real-time alert notifications: webhook (JSON or Slack), syslog (RFC 5424 over UDP or TCP)
//! and email (SMTP), with per-notifier routing, dedup windows and rate limits.
//!
//! Owns: the `[notify]` configuration, parsing EVE `alert` records, routing/dedup/rate policy,
//! message formats and delivery. Input is EVE alert lines handed over by the binary's output
//! thread ([`Notifier::submit`], never blocking: a full queue drops and counts). One dispatcher
//! thread routes and deduplicates; each notifier delivers on its own thread from its own bounded
//! queue, so a slow or dead endpoint delays nobody else.
//!
//! Must not: see packets or engine state, block the caller, grow without a cap, panic on a
//! hostile record, or hold the end of a run longer than `shutdown_timeout_ms`.

#![forbid(unsafe_code)]

pub mod alert;
pub mod config;
pub mod deliver;
pub mod format;
pub mod policy;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use config::NotifyConfig;

use crate::alert::Alert;
use crate::deliver::{Deadline, Delivery, Retry, Sink};
use crate::policy::{Notification, Policy};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vedette_eve::JsonWriter;

/// A notifier that could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("notifier {notifier}: {message}")]
pub struct StartError {
    /// Its name.
    pub notifier: String,
    /// Why.
    pub message: String,
}

/// Which time dedup windows and the token bucket run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Live capture: the wall clock (windows close on time even when traffic stops).
    Wall,
    /// Files: the newest alert time seen (replays give the same notifications every time);
    /// windows still open at the end close then.
    Event,
}

/// Counters of one notifier, shared by the dispatcher, its delivery thread and stats readers.
#[derive(Debug, Default)]
pub struct NotifierCounters {
    /// Alerts its route took.
    pub matched: AtomicU64,
    /// Alerts folded into a dedup count.
    pub deduplicated: AtomicU64,
    /// Notifications the rate limit held back.
    pub rate_limited: AtomicU64,
    /// Alerts that bypassed dedup because its table was full.
    pub dedup_table_full: AtomicU64,
    /// Notifications dropped because its queue was full.
    pub dropped: AtomicU64,
    /// Notifications delivered.
    pub sent: AtomicU64,
    /// Notifications given up on after the retries.
    pub failed: AtomicU64,
    /// Retries made.
    pub retried: AtomicU64,
    /// Notifications being delivered right now.
    pub in_flight: AtomicU64,
    /// Notifications collected for the next mail.
    pub unsent_batched: AtomicU64,
    /// Longest time from the dispatcher to a delivered notification, ms.
    pub max_latency_ms: AtomicU64,
}

/// One notifier's counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifierStats {
    /// Name.
    pub name: String,
    /// `webhook`, `slack`, `syslog` or `email`.
    pub kind: &'static str,
    /// Alerts its route took.
    pub matched: u64,
    /// Alerts folded into a dedup count.
    pub deduplicated: u64,
    /// Notifications held back by the rate limit.
    pub rate_limited: u64,
    /// Alerts that bypassed dedup (table full).
    pub dedup_table_full: u64,
    /// Dropped: queue full.
    pub dropped: u64,
    /// Delivered.
    pub sent: u64,
    /// Given up after retries.
    pub failed: u64,
    /// Retries made.
    pub retried: u64,
    /// Still queued or in flight when the shutdown wait ended.
    pub unsent: u64,
    /// Longest dispatcher-to-delivery time, ms.
    pub max_latency_ms: u64,
}

/// All notification counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifyStats {
    /// Alert records handed over.
    pub alerts: u64,
    /// Alert records dropped because the dispatcher queue was full.
    pub queue_dropped: u64,
    /// Records that were not parsable alerts.
    pub unparsable: u64,
    /// Per notifier, in configuration order.
    pub notifiers: Vec<NotifierStats>,
}

impl NotifyStats {
    /// Delivery failures plus drops of every kind (for the summary).
    pub fn problems(&self) -> u64 {
        self.queue_dropped
            + self
                .notifiers
                .iter()
                .map(|n| n.failed + n.dropped + n.unsent)
                .sum::<u64>()
    }
}

struct NotifierShared {
    name: String,
    kind: &'static str,
    counters: Arc<NotifierCounters>,
    queue: Receiver<Notification>,
}

/// Counters readable while notifications run (for periodic stats events).
#[derive(Clone)]
pub struct StatsHandle {
    alerts: Arc<AtomicU64>,
    queue_dropped: Arc<AtomicU64>,
    unparsable: Arc<AtomicU64>,
    notifiers: Arc<Vec<NotifierShared>>,
}

impl StatsHandle {
    /// The counters now.
    pub fn snapshot(&self) -> NotifyStats {
        let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
        NotifyStats {
            alerts: ld(&self.alerts),
            queue_dropped: ld(&self.queue_dropped),
            unparsable: ld(&self.unparsable),
            notifiers: self
                .notifiers
                .iter()
                .map(|n| {
                    let c = &n.counters;
                    NotifierStats {
                        name: n.name.clone(),
                        kind: n.kind,
                        matched: ld(&c.matched),
                        deduplicated: ld(&c.deduplicated),
                        rate_limited: ld(&c.rate_limited),
                        dedup_table_full: ld(&c.dedup_table_full),
                        dropped: ld(&c.dropped),
                        sent: ld(&c.sent),
                        failed: ld(&c.failed),
                        retried: ld(&c.retried),
                        unsent: n.queue.len() as u64 + ld(&c.in_flight) + ld(&c.unsent_batched),
                        max_latency_ms: ld(&c.max_latency_ms),
                    }
                })
                .collect(),
        }
    }
}

/// The running notifiers.
pub struct Notifier {
    tx: Sender<Vec<u8>>,
    stats: StatsHandle,
    dispatcher: std::thread::JoinHandle<()>,
    done: Receiver<()>,
    threads: usize,
    deadline: Deadline,
    shutdown_timeout: Duration,
}

/// How often the dispatcher closes due windows without new alerts (wall clock).
const TICK: Duration = Duration::from_millis(100);

fn wall_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

struct Route {
    policy: Policy,
    tx: Sender<Notification>,
    counters: Arc<NotifierCounters>,
}

impl Route {
    fn push(&mut self, out: &mut Vec<Notification>) {
        let c = &self.counters;
        let p = &self.policy.counts;
        c.matched.store(p.matched, Ordering::Relaxed);
        c.deduplicated.store(p.deduplicated, Ordering::Relaxed);
        c.rate_limited.store(p.rate_limited, Ordering::Relaxed);
        c.dedup_table_full
            .store(p.dedup_table_full, Ordering::Relaxed);
        for n in out.drain(..) {
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(n)
            {
                c.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Notifier {
    /// Starts the dispatcher and one delivery thread per notifier; `None` when none is
    /// configured. `cfg` must have passed [`NotifyConfig::prepare`].
    pub fn start(cfg: &NotifyConfig, clock: Clock) -> Result<Option<Notifier>, StartError> {
        if !cfg.any() {
            return Ok(None);
        }
        let deadline: Deadline = Arc::new(OnceLock::new());
        let mut sinks: Vec<(String, &'static str, Sink, Retry, Policy)> = Vec::new();
        let retry = |r: u32, b: u64, m: u64| Retry {
            retries: r,
            backoff: Duration::from_millis(b),
            max_backoff: Duration::from_millis(m),
        };
        for w in &cfg.webhook {
            let kind = match w.format {
                config::WebhookFormat::Json => "webhook",
                config::WebhookFormat::Slack => "slack",
            };
            sinks.push((
                w.name.clone(),
                kind,
                Sink::webhook(w),
                retry(w.retries, w.backoff_ms, w.max_backoff_ms),
                Policy::new(&w.route, &w.limits),
            ));
        }
        for s in &cfg.syslog {
            sinks.push((
                s.name.clone(),
                "syslog",
                Sink::syslog(s)?,
                retry(s.retries, s.backoff_ms, s.max_backoff_ms),
                Policy::new(&s.route, &s.limits),
            ));
        }
        for e in &cfg.email {
            sinks.push((
                e.name.clone(),
                "email",
                Sink::email(e)?,
                retry(e.retries, e.backoff_ms, e.max_backoff_ms),
                Policy::new(&e.route, &e.limits),
            ));
        }
        let (done_tx, done) = bounded::<()>(sinks.len());
        let mut shared = Vec::new();
        let mut routes = Vec::new();
        let threads = sinks.len();
        for (name, kind, sink, retry, policy) in sinks {
            let (tx, rx) = bounded::<Notification>(cfg.notifier_queue);
            let counters = Arc::new(NotifierCounters::default());
            let d = Delivery {
                name: name.clone(),
                sink,
                retry,
                counters: Arc::clone(&counters),
                deadline: Arc::clone(&deadline),
            };
            let thread_rx = rx.clone();
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name(format!("vedette-notify-{}", shared.len()))
                .spawn(move || {
                    d.run(thread_rx);
                    let _ = done_tx.send(());
                })
                .map_err(|e| StartError {
                    notifier: name.clone(),
                    message: format!("cannot start its thread: {e}"),
                })?;
            routes.push(Route {
                policy,
                tx,
                counters: Arc::clone(&counters),
            });
            shared.push(NotifierShared {
                name,
                kind,
                counters,
                queue: rx,
            });
        }
        let stats = StatsHandle {
            alerts: Arc::new(AtomicU64::new(0)),
            queue_dropped: Arc::new(AtomicU64::new(0)),
            unparsable: Arc::new(AtomicU64::new(0)),
            notifiers: Arc::new(shared),
        };
        let (tx, rx) = bounded::<Vec<u8>>(cfg.queue_alerts);
        let unparsable = Arc::clone(&stats.unparsable);
        let dispatcher = std::thread::Builder::new()
            .name("vedette-notify".into())
            .spawn(move || dispatch(rx, routes, clock, &unparsable))
            .map_err(|e| StartError {
                notifier: "dispatcher".into(),
                message: format!("cannot start its thread: {e}"),
            })?;
        Ok(Some(Notifier {
            tx,
            stats,
            dispatcher,
            done,
            threads,
            deadline,
            shutdown_timeout: Duration::from_millis(cfg.shutdown_timeout_ms),
        }))
    }

    /// Hands over one EVE alert line; never blocks (a full queue drops it and counts).
    pub fn submit(&self, line: &[u8]) {
        self.stats.alerts.fetch_add(1, Ordering::Relaxed);
        if self.tx.try_send(line.to_vec()).is_err() {
            self.stats.queue_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A handle for reading the counters while running.
    pub fn stats(&self) -> StatsHandle {
        self.stats.clone()
    }

    /// Closes open dedup windows, then waits at most `shutdown_timeout_ms` for the notifiers to
    /// deliver what is queued; whatever is left is counted as `unsent`.
    pub fn finish(self) -> NotifyStats {
        let start = Instant::now();
        let end = start + self.shutdown_timeout;
        drop(self.tx);
        // The dispatcher never waits on anything but its queue: joining it is quick.
        let _ = self.dispatcher.join();
        let _ = self.deadline.set(end);
        for _ in 0..self.threads {
            if self.done.recv_deadline(end).is_err() {
                break;
            }
        }
        let s = self.stats.snapshot();
        let unsent: u64 = s.notifiers.iter().map(|n| n.unsent).sum();
        if unsent > 0 {
            tracing::warn!(
                "notifications: {unsent} still undelivered after the {} ms shutdown wait",
                self.shutdown_timeout.as_millis()
            );
        }
        s
    }
}

fn dispatch(rx: Receiver<Vec<u8>>, mut routes: Vec<Route>, clock: Clock, unparsable: &AtomicU64) {
    let mut now_ns = i64::MIN;
    let mut out = Vec::new();
    loop {
        match rx.recv_timeout(TICK) {
            Ok(line) => {
                let Some(a) = Alert::parse(&line) else {
                    unparsable.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                now_ns = match clock {
                    Clock::Wall => wall_ns(),
                    Clock::Event => now_ns.max(a.ts_ns),
                };
                let a = Arc::new(a);
                for r in routes.iter_mut() {
                    r.policy.on_alert(&a, now_ns, &mut out);
                    r.push(&mut out);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if clock == Clock::Wall {
            now_ns = wall_ns();
            for r in routes.iter_mut() {
                r.policy.close_due(now_ns, &mut out);
                r.push(&mut out);
            }
        }
    }
    for r in routes.iter_mut() {
        r.policy.close_all(now_ns, &mut out);
        r.push(&mut out);
    }
}

/// Writes the `notify` object of the stats record into the open `stats` object.
pub fn write_stats(w: &mut JsonWriter<'_>, s: &NotifyStats) {
    w.object("notify");
    w.u64("alerts", s.alerts);
    w.u64("queue_dropped", s.queue_dropped);
    w.u64("unparsable", s.unparsable);
    w.array("notifiers");
    for n in &s.notifiers {
        w.elem_object();
        w.str("name", &n.name);
        w.str("kind", n.kind);
        w.u64("matched", n.matched);
        w.u64("sent", n.sent);
        w.u64("failed", n.failed);
        w.u64("retried", n.retried);
        w.u64("dropped", n.dropped);
        w.u64("unsent", n.unsent);
        w.u64("deduplicated", n.deduplicated);
        w.u64("rate_limited", n.rate_limited);
        w.u64("dedup_table_full", n.dedup_table_full);
        w.u64("max_latency_ms", n.max_latency_ms);
        w.close_object();
    }
    w.close_array();
    w.close_object();
}
