//! `vedette analyze`: read captures, run them through sharded workers, write events.
//!
//! Threads: the reader (this thread) shards packets by a symmetric IP-pair hash into per-worker
//! bounded queues of reused packet batches; each worker owns its flow table and hands event
//! batches to the bounded event bus; one bus thread feeds the outputs. With one worker the
//! reader runs the worker inline, so no packet is copied.

use crate::anomaly::AnomalyStage;
use crate::config::{Config, Overflow};
use crate::notify::NotifyOutput;
use crate::outputs::{EveFile, EventCounts, Output, Rotation, StoreOutput, StoreReport};
use anyhow::{bail, Context as _};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vedette_capture::{CaptureLimits, CaptureSet, KernelStats, Packet, PacketSource};
use vedette_engine::{
    new_batch, write_stats_event_with, EngineConfig, EngineStats, EveOptions, MlScoring,
    RuleEngine, RunCounters, Worker,
};
use vedette_eve::EventBatch;
use vedette_flow::{DefragConfig, FlowConfig, ProtoTimeouts, Timeouts};
use vedette_types::{LinkType, Timestamp};

/// What to analyse and where to write.
pub struct AnalyzeOptions {
    /// Capture files or directories.
    pub inputs: Vec<PathBuf>,
    /// Directory for eve.json.
    pub output_dir: PathBuf,
    /// Effective configuration.
    pub config: Config,
    /// Show a progress bar (only honoured on a terminal).
    pub progress: bool,
    /// Compiled signature rules, shared by the workers.
    pub rules: Option<Arc<RuleEngine>>,
    /// The event store to write to (`None`: no store).
    pub store: Option<vedette_store::StoreConfig>,
    /// The dashboard's live alert feed, when it is served from this process.
    pub feed: Option<vedette_api::LiveFeed>,
}

/// What a run did.
pub struct RunSummary {
    /// Merged worker counters.
    pub stats: EngineStats,
    /// Events written, by type.
    pub events: EventCounts,
    /// Wall time.
    pub wall: Duration,
    /// Capture files read.
    pub files: u64,
    /// Capture errors (file and reason).
    pub capture_errors: Vec<String>,
    /// Event batches dropped by the bus.
    pub dropped_batches: u64,
    /// Where events went.
    pub eve_path: Option<PathBuf>,
    /// Peak resident memory, bytes (0 when unknown).
    pub peak_rss_bytes: u64,
    /// Kernel counters per live capture socket (`None` for files).
    pub kernel: Option<Vec<KernelStats>>,
    /// What the store did, when it was written.
    pub store: Option<StoreReport>,
    /// What the NATS exporter did, when on.
    pub export: Option<vedette_export::ExportStats>,
    /// Anomaly detector counters (None when the detectors are off).
    pub anomaly: Option<vedette_anomaly::AnomalyStats>,
    /// Notification counters (None when no notifier is configured).
    pub notify: Option<vedette_notify::NotifyStats>,
}

/// Peak resident set size of this process (Linux `VmHWM`), or 0 when it cannot be read.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Builds the worker configuration from the user configuration.
pub fn engine_config(cfg: &Config) -> EngineConfig {
    let t = &cfg.flow.timeouts;
    let workers = cfg.runtime.workers.max(1);
    let mut e = EngineConfig::default();
    e.decode.validate_checksums = cfg.decode.checksums;
    e.flow = FlowConfig {
        max_flows: (cfg.flow.max_flows / workers).max(1),
        midstream: cfg.stream.midstream,
        features: false, // set by flow_ml::configure_engine
        timeouts: Timeouts {
            tcp: ProtoTimeouts {
                new_secs: t.tcp.new,
                established_secs: t.tcp.established,
                closed_secs: t.tcp.closed,
            },
            udp: ProtoTimeouts {
                new_secs: t.udp.new,
                established_secs: t.udp.established,
                closed_secs: 0,
            },
            icmp: ProtoTimeouts {
                new_secs: t.icmp.new,
                established_secs: t.icmp.established,
                closed_secs: 0,
            },
            other: ProtoTimeouts {
                new_secs: t.other.new,
                established_secs: t.other.established,
                closed_secs: 0,
            },
        },
    };
    e.defrag = DefragConfig {
        max_trackers: cfg.defrag.max_trackers,
        max_bytes: usize::try_from(cfg.defrag.max_bytes).unwrap_or(usize::MAX),
        timeout_secs: cfg.defrag.timeout,
        max_fragments: cfg.defrag.max_fragments,
    };
    let eve = &cfg.outputs.eve;
    e.eve = EveOptions {
        flow: eve.flow,
        anomaly: eve.anomaly,
        anomaly_packethdr: eve.anomaly_packethdr,
        community_id_seed: eve.community_id.then_some(eve.community_id_seed),
        ipv6_compress: eve.ipv6_compress,
        http: eve.http,
        dns: eve.dns,
        tls: eve.tls,
        tls_extended: eve.tls_extended,
        anomaly_applayer: eve.anomaly_applayer,
        alert_payload: eve.alert_payload,
    };
    e.app_layer = cfg.app_layer.enabled;
    e.stream = vedette_flow::StreamConfig {
        depth: cfg.stream.depth,
        max_queued_bytes: cfg.stream.max_queued_bytes,
        max_queued_segments: cfg.stream.max_queued_segments,
        inline: cfg.stream.inline,
    };
    crate::flow_ml::configure_engine(cfg, &mut e);
    e
}

/// The event bus: a bounded queue of batches from workers to the output thread.
#[derive(Clone)]
pub struct Bus {
    tx: Sender<EventBatch>,
    overflow: Overflow,
    dropped_batches: Arc<AtomicU64>,
    dropped_events: Arc<AtomicU64>,
    sent_events: Arc<AtomicU64>,
}

impl Bus {
    /// Hands a batch to the outputs (blocking or dropping as configured).
    pub fn send(&self, batch: EventBatch) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        let sent = match self.overflow {
            Overflow::Block => self.tx.send(batch).is_ok(),
            Overflow::Drop => match self.tx.try_send(batch) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            },
        };
        if sent {
            self.sent_events.fetch_add(n, Ordering::Relaxed);
        } else {
            self.dropped_batches.fetch_add(1, Ordering::Relaxed);
            self.dropped_events.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// Events a worker keeps before handing them on, unless the flush interval passes first.
const EVENT_FLUSH_BYTES: usize = 512 * 1024;

/// Hands a worker's events to the bus when enough piled up or the interval passed.
pub struct Flusher {
    bus: Bus,
    interval: Duration,
    last: Instant,
    ipv6_compress: bool,
}

impl Flusher {
    /// A flusher for one worker.
    pub fn new(bus: Bus, interval: Duration, ipv6_compress: bool) -> Flusher {
        Flusher {
            bus,
            interval,
            last: Instant::now(),
            ipv6_compress,
        }
    }

    /// Hands the worker's batch on when it is big or old enough (always with `force`).
    pub fn maybe_flush(&mut self, w: &mut Worker, force: bool) {
        let due = force
            || w.pending_event_bytes() >= EVENT_FLUSH_BYTES
            || (w.pending_event_bytes() > 0 && self.last.elapsed() >= self.interval);
        if due {
            let batch = w.swap_batch(new_batch(self.ipv6_compress));
            self.bus.send(batch);
            self.last = Instant::now();
        }
    }
}

/// Packets copied from the reader to one worker.
struct PacketBatch {
    data: Vec<u8>,
    metas: Vec<Meta>,
}

#[derive(Clone, Copy)]
struct Meta {
    ts: Timestamp,
    start: usize,
    len: usize,
    orig_len: u32,
    link: LinkType,
    pcap_cnt: u64,
}

enum WorkMsg {
    Packets(PacketBatch),
    Tick(Timestamp),
}

/// Runs the analysis and returns its summary; the caller prints it.
pub fn run(opts: AnalyzeOptions) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    let cfg = &opts.config;
    let limits = CaptureLimits {
        max_packet_bytes: cfg.capture.max_packet_bytes,
    };
    let mut source = CaptureSet::open(&opts.inputs, limits)?;
    let model = crate::flow_ml::load_model(cfg)?;
    let pipe = EventPipe::start(
        cfg,
        &opts.output_dir,
        opts.store.as_ref(),
        opts.feed.as_ref(),
        false,
    )?;
    let (bus, flush_interval) = (pipe.bus.clone(), pipe.flush_interval);

    let ecfg = engine_config(cfg);
    let progress = make_progress(opts.progress, source.total_bytes());
    let workers = cfg.runtime.workers as usize;
    let (stats, last_ts) = if workers <= 1 {
        run_inline(
            &mut source,
            &ecfg,
            opts.rules.clone(),
            model,
            &bus,
            flush_interval,
            progress.as_ref(),
        )
    } else {
        run_sharded(
            &mut source,
            &ecfg,
            opts.rules.clone(),
            model,
            cfg,
            &bus,
            flush_interval,
            progress.as_ref(),
        )?
    };
    if let Some(pb) = &progress {
        pb.finish_and_clear();
    }
    let src_stats = source.stats();
    let run = RunCounters {
        uptime_secs: started.elapsed().as_secs(),
        files_opened: src_stats.files_opened,
        files_failed: src_stats.files_failed + src_stats.files_truncated,
        oversized_skipped: src_stats.oversized_skipped,
        ..RunCounters::default()
    };
    drop(bus);
    let done = pipe.finish(cfg.outputs.eve.stats.then_some((last_ts, &stats, run)), &[])?;
    Ok(RunSummary {
        stats,
        events: done.events,
        wall: started.elapsed(),
        files: src_stats.files_opened,
        capture_errors: source.errors().to_vec(),
        dropped_batches: done.dropped_batches,
        eve_path: done.eve_path,
        peak_rss_bytes: peak_rss_bytes(),
        kernel: None,
        store: done.store,
        export: done.export,
        anomaly: done.anomaly,
        notify: done.notify,
    })
}

/// The event path shared by `analyze` and `live`: the bus, the output thread and its outputs.
pub struct EventPipe {
    /// Where workers hand their batches.
    pub bus: Bus,
    /// Longest time events wait in a worker.
    pub flush_interval: Duration,
    ipv6_compress: bool,
    eve_path: Option<PathBuf>,
    /// What the store thread did (when there is one).
    store: Option<Arc<Mutex<StoreReport>>>,
    /// What the NATS exporter did (when on).
    export: Option<Arc<Mutex<Option<vedette_export::ExportStats>>>>,
    /// Where the anomaly detectors return their counters once told the traffic ended.
    anomaly_rx: Option<Receiver<vedette_anomaly::AnomalyStats>>,
    /// The notifiers' live counters and where their final ones arrive.
    notify: Option<NotifyLink>,
    thread: std::thread::JoinHandle<anyhow::Result<EventCounts>>,
}

/// What the event path did, once closed.
pub struct PipeDone {
    /// Events written, by type.
    pub events: EventCounts,
    /// Batches the bus dropped.
    pub dropped_batches: u64,
    /// The EVE file, when written.
    pub eve_path: Option<PathBuf>,
    /// What the store did, when it was written.
    pub store: Option<StoreReport>,
    /// What the NATS exporter did, when on.
    pub export: Option<vedette_export::ExportStats>,
    /// Anomaly detector counters (None when the detectors are off).
    pub anomaly: Option<vedette_anomaly::AnomalyStats>,
    /// Notification counters (None when no notifier is configured).
    pub notify: Option<vedette_notify::NotifyStats>,
}

/// The pipe's side of the notification output.
struct NotifyLink {
    stats: vedette_notify::StatsHandle,
    done: Receiver<vedette_notify::NotifyStats>,
    wait: Duration,
}

impl EventPipe {
    /// Creates the output directory and outputs and starts the output thread. `live` makes the
    /// outputs flush whenever the bus is idle, so `tail -f eve.json` follows the traffic.
    pub fn start(
        cfg: &Config,
        output_dir: &Path,
        store_cfg: Option<&vedette_store::StoreConfig>,
        feed: Option<&vedette_api::LiveFeed>,
        live: bool,
    ) -> anyhow::Result<EventPipe> {
        std::fs::create_dir_all(output_dir)
            .with_context(|| format!("cannot create output directory {}", output_dir.display()))?;
        let mut outputs: Vec<Box<dyn Output>> = Vec::new();
        let mut eve_path = None;
        if cfg.outputs.eve.enabled {
            let p = output_dir.join(&cfg.outputs.eve.filename);
            let rotation = Rotation {
                max_bytes: cfg.outputs.eve.rotate_bytes,
                interval: Duration::from_secs(cfg.outputs.eve.rotate_interval),
                keep: cfg.outputs.eve.rotate_keep,
            };
            outputs.push(Box::new(EveFile::create(&p, rotation)?));
            eve_path = Some(p);
        }
        let mut store = None;
        if let Some(store_cfg) = store_cfg {
            let report = Arc::new(Mutex::new(StoreReport::default()));
            outputs.push(Box::new(StoreOutput::start(
                store_cfg,
                cfg.store.queue_batches as usize,
                Duration::from_millis(cfg.store.commit_interval_ms),
                cfg.events.overflow,
                Arc::clone(&report),
            )?));
            store = Some(report);
        }
        if let Some(p) = cfg.ml.features_path() {
            outputs.push(Box::new(crate::flow_ml::FlowFeaturesCsv::create(p)?));
        }
        // Notifications: alerts go to their own threads; the run ends for them at the last end
        // marker on the bus (the anomaly detectors' one, if any, then the pipe's own).
        let mut notify = None;
        let clock = if live {
            vedette_notify::Clock::Wall
        } else {
            vedette_notify::Clock::Event
        };
        if let Some(n) = vedette_notify::Notifier::start(&cfg.notify, clock)? {
            let (done_tx, done) = bounded(1);
            let (o, stats) = NotifyOutput::new(n, 1 + u32::from(cfg.anomaly.enabled), done_tx);
            outputs.push(Box::new(o));
            notify = Some(NotifyLink {
                stats,
                done,
                // The output thread may first have a full bus to write.
                wait: Duration::from_millis(cfg.notify.shutdown_timeout_ms)
                    + Duration::from_secs(60),
            });
        }
        if let Some(feed) = feed {
            outputs.push(Box::new(crate::web::FeedOutput::new(feed.clone())));
        }
        let export = cfg.export.enabled.then(|| Arc::new(Mutex::new(None)));
        if let Some(report) = &export {
            let out = crate::export::ExportOutput::start(cfg, output_dir, Arc::clone(report))?;
            outputs.push(Box::new(out));
        }
        let (bus_tx, bus_rx) = bounded::<EventBatch>(cfg.events.queue_batches as usize);
        let bus = Bus {
            tx: bus_tx,
            overflow: cfg.events.overflow,
            dropped_batches: Arc::new(AtomicU64::new(0)),
            dropped_events: Arc::new(AtomicU64::new(0)),
            sent_events: Arc::new(AtomicU64::new(0)),
        };
        let flush_interval = Duration::from_millis(cfg.events.flush_interval_ms);
        // Anomaly detectors run on the output thread; an empty batch on the bus asks them to
        // finish, and their counters come back on `anomaly_rx` before the last stats event.
        let (anomaly_tx, anomaly_rx) = bounded(1);
        let stage = cfg.anomaly.enabled.then(|| {
            AnomalyStage::new(
                cfg.anomaly.clone(),
                cfg.outputs.eve.ipv6_compress,
                anomaly_tx,
            )
        });
        let anomaly_rx = stage.is_some().then_some(anomaly_rx);
        let thread = std::thread::Builder::new()
            .name("vedette-outputs".into())
            .spawn(move || output_loop(bus_rx, outputs, flush_interval, live, stage))
            .context("cannot start the output thread")?;
        Ok(EventPipe {
            bus,
            flush_interval,
            ipv6_compress: cfg.outputs.eve.ipv6_compress,
            eve_path,
            store,
            export,
            anomaly_rx,
            notify,
            thread,
        })
    }

    /// Writes a `stats` event now (never dropped, whatever the overflow policy).
    pub fn write_stats(
        &self,
        ts: Timestamp,
        stats: &EngineStats,
        run: RunCounters,
        kernel: &[KernelStats],
    ) {
        let notify = self.notify.as_ref().map(|n| n.stats.snapshot());
        self.write_stats_with(ts, stats, run, kernel, None, notify.as_ref());
    }

    fn write_stats_with(
        &self,
        ts: Timestamp,
        stats: &EngineStats,
        mut run: RunCounters,
        kernel: &[KernelStats],
        anomaly: Option<&vedette_anomaly::AnomalyStats>,
        notify: Option<&vedette_notify::NotifyStats>,
    ) {
        run.bus_batches_dropped = self.bus.dropped_batches.load(Ordering::Relaxed);
        run.bus_events_dropped = self.bus.dropped_events.load(Ordering::Relaxed);
        run.bus_queue_batches = self.bus.tx.len() as u64;
        run.events_written = self.bus.sent_events.load(Ordering::Relaxed)
            + anomaly.map_or(0, |a| a.alerts_total())
            + 1;
        run.peak_rss_bytes = peak_rss_bytes();
        let mut b = new_batch(self.ipv6_compress);
        let ts = if ts.0 == i64::MIN { Timestamp(0) } else { ts };
        write_stats_event_with(&mut b, ts, stats, &run, kernel, &mut |w| {
            if let Some(a) = anomaly {
                vedette_anomaly::write_stats(w, a);
            }
            if let Some(n) = notify {
                vedette_notify::write_stats(w, n);
            }
        });
        let n = b.len() as u64;
        if self.bus.tx.send(b).is_ok() {
            self.bus.sent_events.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Writes the final stats event (when given), closes the bus and waits for the outputs.
    /// Every other clone of [`EventPipe::bus`] must be dropped first.
    pub fn finish(
        self,
        final_stats: Option<(Timestamp, &EngineStats, RunCounters)>,
        kernel: &[KernelStats],
    ) -> anyhow::Result<PipeDone> {
        // The traffic is over: the anomaly detectors close their windows first, so their
        // alerts precede the last stats event, which carries their counters.
        let anomaly = match &self.anomaly_rx {
            Some(rx) if self.bus.tx.send(EventBatch::with_capacity(0)).is_ok() => rx.recv().ok(),
            _ => None,
        };
        // Then the notifiers deliver what is pending (bounded by notify.shutdown_timeout_ms).
        let notify = self.notify.as_ref().map(|n| {
            let end = if self.bus.tx.send(EventBatch::with_capacity(0)).is_ok() {
                n.done.recv_timeout(n.wait).ok()
            } else {
                None
            };
            end.unwrap_or_else(|| n.stats.snapshot())
        });
        if let Some((ts, stats, run)) = final_stats {
            self.write_stats_with(ts, stats, run, kernel, anomaly.as_ref(), notify.as_ref());
        }
        let dropped_batches = self.bus.dropped_batches.load(Ordering::Relaxed);
        drop(self.bus);
        let events = match self.thread.join() {
            Ok(r) => r?,
            Err(_) => bail!("the output thread panicked"),
        };
        let store = self.store.and_then(|r| r.lock().ok().map(|r| r.clone()));
        let export = self.export.and_then(|r| r.lock().ok().and_then(|r| *r));
        Ok(PipeDone {
            events,
            dropped_batches,
            eve_path: self.eve_path,
            store,
            export,
            anomaly,
            notify,
        })
    }
}

fn make_progress(wanted: bool, total: u64) -> Option<indicatif::ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() || total < 64 * 1024 * 1024 {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
    ) {
        pb.set_style(style);
    }
    Some(pb)
}

/// How often (in packets) the reader looks at the clock and the progress bar.
const CHECK_EVERY: u64 = 8192;

fn run_inline(
    source: &mut CaptureSet,
    ecfg: &EngineConfig,
    rules: Option<Arc<RuleEngine>>,
    model: Option<MlScoring>,
    bus: &Bus,
    interval: Duration,
    progress: Option<&indicatif::ProgressBar>,
) -> (EngineStats, Timestamp) {
    let mut worker = Worker::with_rules(ecfg, rules);
    worker.set_model(model);
    let mut flusher = Flusher::new(bus.clone(), interval, ecfg.eve.ipv6_compress);
    let mut cnt: u64 = 0;
    loop {
        match source.next_packet() {
            Ok(Some(p)) => {
                cnt += 1;
                worker.process(&p, cnt);
            }
            Ok(None) => break,
            // CaptureSet logs and skips bad files itself; an error here is not recoverable.
            Err(e) => {
                tracing::error!("{e}");
                break;
            }
        }
        if cnt.is_multiple_of(CHECK_EVERY) {
            flusher.maybe_flush(&mut worker, false);
            if let Some(pb) = progress {
                pb.set_position(source.bytes_read());
            }
        }
    }
    worker.finish();
    flusher.maybe_flush(&mut worker, true);
    (worker.stats(), worker.now())
}

#[allow(clippy::too_many_arguments)] // the run's parts, built separately by `run`
fn run_sharded(
    source: &mut CaptureSet,
    ecfg: &EngineConfig,
    rules: Option<Arc<RuleEngine>>,
    model: Option<MlScoring>,
    cfg: &Config,
    bus: &Bus,
    interval: Duration,
    progress: Option<&indicatif::ProgressBar>,
) -> anyhow::Result<(EngineStats, Timestamp)> {
    let n = cfg.runtime.workers as usize;
    let batch_packets = cfg.runtime.batch_packets as usize;
    let depth = cfg.runtime.worker_queue_batches as usize;
    let mut txs = Vec::with_capacity(n);
    let mut recycle_rxs = Vec::with_capacity(n);
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let (tx, rx) = bounded::<WorkMsg>(depth);
        let (rtx, rrx) = bounded::<PacketBatch>(depth + 2);
        let ecfg = *ecfg;
        let rules = rules.clone();
        let model = model.clone();
        let mut flusher = Flusher::new(bus.clone(), interval, ecfg.eve.ipv6_compress);
        let h = std::thread::Builder::new()
            .name(format!("vedette-worker-{i}"))
            .spawn(move || worker_loop(&ecfg, rules, model, rx, rtx, &mut flusher))
            .context("cannot start a worker thread")?;
        txs.push(tx);
        recycle_rxs.push(rrx);
        handles.push(h);
    }
    let fresh = |rrx: &Receiver<PacketBatch>| {
        rrx.try_recv().unwrap_or_else(|_| PacketBatch {
            data: Vec::with_capacity(batch_packets * 512),
            metas: Vec::with_capacity(batch_packets),
        })
    };
    let mut pending: Vec<PacketBatch> = recycle_rxs.iter().map(fresh).collect();
    let mut cnt: u64 = 0;
    let mut now = Timestamp(i64::MIN);
    let mut last_tick_sec = i64::MIN;
    let send = |i: usize, pending: &mut Vec<PacketBatch>| {
        if let (Some(slot), Some(tx), Some(rrx)) =
            (pending.get_mut(i), txs.get(i), recycle_rxs.get(i))
        {
            if slot.metas.is_empty() {
                return;
            }
            let full = std::mem::replace(slot, fresh(rrx));
            let _ = tx.send(WorkMsg::Packets(full));
        }
    };
    loop {
        let p: Packet<'_> = match source.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                tracing::error!("{e}");
                break;
            }
        };
        cnt += 1;
        if p.ts > now {
            now = p.ts;
        }
        let w = (vedette_decode::shard_hash(p.link_type, p.data) % n as u64) as usize;
        if let Some(b) = pending.get_mut(w) {
            let start = b.data.len();
            b.data.extend_from_slice(p.data);
            b.metas.push(Meta {
                ts: p.ts,
                start,
                len: p.data.len(),
                orig_len: p.orig_len,
                link: p.link_type,
                pcap_cnt: cnt,
            });
            if b.metas.len() >= batch_packets {
                send(w, &mut pending);
            }
        }
        // Once per second of packet time, every worker learns the time, so idle shards expire
        // flows as a single worker would.
        if now.secs() > last_tick_sec {
            last_tick_sec = now.secs();
            for i in 0..n {
                send(i, &mut pending);
                if let Some(tx) = txs.get(i) {
                    let _ = tx.send(WorkMsg::Tick(now));
                }
            }
        }
        if cnt.is_multiple_of(CHECK_EVERY) {
            if let Some(pb) = progress {
                pb.set_position(source.bytes_read());
            }
        }
    }
    for i in 0..n {
        send(i, &mut pending);
        if let Some(tx) = txs.get(i) {
            let _ = tx.send(WorkMsg::Tick(now));
        }
    }
    drop(txs);
    let mut total = EngineStats::default();
    let mut last = Timestamp(i64::MIN);
    for h in handles {
        match h.join() {
            Ok((s, t)) => {
                total.merge(&s);
                last = last.max(t);
            }
            Err(_) => bail!("a worker thread panicked"),
        }
    }
    Ok((total, last))
}

fn worker_loop(
    ecfg: &EngineConfig,
    rules: Option<Arc<RuleEngine>>,
    model: Option<MlScoring>,
    rx: Receiver<WorkMsg>,
    recycle: Sender<PacketBatch>,
    flusher: &mut Flusher,
) -> (EngineStats, Timestamp) {
    let mut worker = Worker::with_rules(ecfg, rules);
    worker.set_model(model);
    for msg in rx {
        match msg {
            WorkMsg::Packets(mut b) => {
                for m in &b.metas {
                    let data = b.data.get(m.start..m.start + m.len).unwrap_or(&[]);
                    let p = Packet {
                        ts: m.ts,
                        data,
                        orig_len: m.orig_len,
                        link_type: m.link,
                    };
                    worker.process(&p, m.pcap_cnt);
                }
                b.data.clear();
                b.metas.clear();
                let _ = recycle.try_send(b);
            }
            WorkMsg::Tick(ts) => worker.tick(ts),
        }
        flusher.maybe_flush(&mut worker, false);
    }
    worker.finish();
    flusher.maybe_flush(&mut worker, true);
    (worker.stats(), worker.now())
}

/// Batches queued for the anomaly thread; when it falls behind, the output thread waits (so a
/// file run loses nothing and stays deterministic).
const ANOMALY_QUEUE: usize = 64;

/// The anomaly detectors on a thread of their own: parsing records costs more than writing
/// them, so on its own thread it does not slow the outputs (and through them the workers).
/// Alerts come back on an unbounded channel (they are few: one per subject and window), so the
/// two threads can never wait on each other.
struct AnomalyThread {
    tx: Sender<EventBatch>,
    alerts: Receiver<EventBatch>,
    handle: std::thread::JoinHandle<()>,
}

impl AnomalyThread {
    fn start(mut stage: AnomalyStage) -> anyhow::Result<Self> {
        let (tx, rx) = bounded::<EventBatch>(ANOMALY_QUEUE);
        let (alert_tx, alerts) = crossbeam_channel::unbounded::<EventBatch>();
        let handle = std::thread::Builder::new()
            .name("vedette-anomaly".into())
            .spawn(move || {
                for batch in rx {
                    // Workers never send empty batches: an empty one marks the end of traffic.
                    let end = batch.is_empty();
                    let found = if end {
                        stage.finish()
                    } else {
                        stage.feed(&batch)
                    };
                    if let Some(a) = found {
                        let _ = alert_tx.send(a);
                    }
                    if end {
                        break;
                    }
                }
            })
            .context("cannot start the anomaly thread")?;
        Ok(AnomalyThread { tx, alerts, handle })
    }
}

/// Hands one batch to every output.
fn write_batch(
    outputs: &mut [Box<dyn Output>],
    counts: &mut EventCounts,
    b: &EventBatch,
) -> anyhow::Result<()> {
    counts.add(b);
    for o in outputs.iter_mut() {
        o.write(b)?;
    }
    Ok(())
}

fn output_loop(
    rx: Receiver<EventBatch>,
    mut outputs: Vec<Box<dyn Output>>,
    interval: Duration,
    flush_when_idle: bool,
    anomaly: Option<AnomalyStage>,
) -> anyhow::Result<EventCounts> {
    let mut counts = EventCounts::default();
    let mut last_flush = Instant::now();
    let mut anomaly = anomaly.map(AnomalyThread::start).transpose()?;
    loop {
        match rx.recv_timeout(interval) {
            Ok(batch) => {
                write_batch(&mut outputs, &mut counts, &batch)?;
                if let Some(a) = anomaly.take() {
                    let end = batch.is_empty();
                    let sent = a.tx.send(batch).is_ok();
                    if end || !sent {
                        // Wait for the detectors' last alerts; they precede the final stats.
                        let AnomalyThread { tx, alerts, handle } = a;
                        drop(tx);
                        let _ = handle.join();
                        for b in alerts.try_iter() {
                            write_batch(&mut outputs, &mut counts, &b)?;
                        }
                    } else {
                        for b in a.alerts.try_iter() {
                            write_batch(&mut outputs, &mut counts, &b)?;
                        }
                        anomaly = Some(a);
                    }
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
        if last_flush.elapsed() >= interval || (flush_when_idle && rx.is_empty()) {
            for o in outputs.iter_mut() {
                o.flush()?;
            }
            last_flush = Instant::now();
        }
    }
    if let Some(a) = anomaly {
        drop(a.tx);
        let _ = a.handle.join();
    }
    for o in outputs.iter_mut() {
        o.finish()?;
    }
    Ok(counts)
}
