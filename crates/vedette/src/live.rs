//! `vedette live`: capture from an interface with one AF_PACKET ring per worker.
//!
//! Threads: each worker owns one socket of the fanout group, its ring and its flow table, and
//! processes packets straight from the ring blocks (no copy, no lock, no channel per packet).
//! The main thread waits for signals: SIGINT/SIGTERM stop the workers (each drains what the
//! kernel already queued, ends its flows and flushes), SIGHUP loads the rules again and hands
//! the new engine to every worker, which swaps it between two ring blocks. Workers publish
//! their counters once per stats interval (a lock per worker per interval, never per packet);
//! the main thread writes the periodic and final `stats` events through the shared event pipe.

use crate::analyze::{engine_config, EventPipe, Flusher, RunSummary};
use crate::config::{Config, FanoutCfg};
use anyhow::{bail, Context as _};
use crossbeam_channel::{bounded, Receiver, Sender};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vedette_capture::{
    interface_link_type, BpfProgram, FanoutMode, KernelStats, LiveConfig, LiveSocket,
};
use vedette_engine::{EngineConfig, EngineStats, RuleEngine, RunCounters, Worker};
use vedette_types::Timestamp;

/// What to capture and where to write.
pub struct LiveOptions {
    /// Interface name.
    pub iface: String,
    /// tcpdump-syntax capture filter.
    pub bpf: Option<String>,
    /// Directory for eve.json.
    pub output_dir: PathBuf,
    /// Effective configuration.
    pub config: Config,
    /// Compiled rules at start.
    pub rules: Option<Arc<RuleEngine>>,
    /// The event store to write, unless disabled.
    pub store: Option<vedette_store::StoreConfig>,
    /// The dashboard's live alert feed, when it is served from this process.
    pub feed: Option<vedette_api::LiveFeed>,
}

/// Longest time shutdown spends on packets the kernel queued before the stop.
const DRAIN_LIMIT: Duration = Duration::from_millis(600);

/// How often the main thread looks at the signal flags.
const MAIN_POLL: Duration = Duration::from_millis(50);

/// The wall clock as packet time (live packets carry kernel wall-clock timestamps).
pub fn wall_now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_parts(i64::try_from(d.as_secs()).unwrap_or(0), d.subsec_nanos())
}

/// The ring settings from the configuration (`fanout: None` for a lone socket).
pub fn live_config(cfg: &Config, fanout: Option<FanoutMode>) -> LiveConfig {
    let l = &cfg.capture.live;
    LiveConfig {
        block_bytes: l.block_bytes,
        block_count: l.block_count,
        frame_bytes: l.frame_bytes,
        block_timeout_ms: l.block_timeout_ms,
        promisc: l.promisc,
        fanout_group: if l.fanout_group != 0 {
            l.fanout_group
        } else {
            // Distinct per process so two captures on one host never share a group.
            (std::process::id() & 0xffff) as u16
        },
        fanout,
    }
}

/// Compiles `expr` for `iface` (None when there is no filter).
pub fn compile_filter(
    iface: &str,
    expr: Option<&str>,
    snaplen: u32,
) -> anyhow::Result<Option<BpfProgram>> {
    let Some(expr) = expr.filter(|e| !e.trim().is_empty()) else {
        return Ok(None);
    };
    let link = interface_link_type(iface)?;
    Ok(Some(BpfProgram::compile(expr, link, snaplen)?))
}

/// Flags set by signal handlers (the handlers only store to these atomics).
pub struct Signals {
    /// SIGINT or SIGTERM arrived.
    pub stop: Arc<AtomicBool>,
    /// SIGHUP arrived.
    pub reload: Arc<AtomicBool>,
}

/// Registers SIGINT/SIGTERM (a second one exits at once) and SIGHUP.
pub fn signals() -> anyhow::Result<Signals> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    let reload = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // Order matters: the conditional exit sees the flag set by the first signal only.
        signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }
    signal_hook::flag::register(SIGHUP, Arc::clone(&reload))
        .context("cannot install signal handlers")?;
    Ok(Signals { stop, reload })
}

/// A worker's counters, published once per stats interval.
#[derive(Clone)]
struct Snapshot {
    stats: EngineStats,
    kernel: KernelStats,
    now: Timestamp,
}

/// What a worker thread needs besides its socket.
struct WorkerCtx {
    ecfg: EngineConfig,
    rules: Option<Arc<RuleEngine>>,
    model: Option<vedette_engine::MlScoring>,
    new_rules: Receiver<Option<Arc<RuleEngine>>>,
    stop: Arc<AtomicBool>,
    flusher: Flusher,
    snapshot: Arc<Mutex<Option<Snapshot>>>,
    snapshot_every: Duration,
    timeout_ms: i32,
}

/// Runs live capture until SIGINT/SIGTERM; `reload` builds the rules again on SIGHUP.
pub fn run(
    opts: LiveOptions,
    reload: &dyn Fn() -> anyhow::Result<Option<Arc<RuleEngine>>>,
) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    let cfg = &opts.config;
    let sig = signals()?;
    let n = cfg.runtime.workers.max(1) as usize;
    let fanout = match cfg.capture.live.fanout {
        FanoutCfg::IpPair => FanoutMode::IpPair,
        FanoutCfg::Hash => FanoutMode::Hash,
        FanoutCfg::Cpu => FanoutMode::Cpu,
    };
    let lcfg = live_config(cfg, Some(fanout));
    let filter = compile_filter(&opts.iface, opts.bpf.as_deref(), lcfg.frame_bytes)?;
    // Every socket joins the group before any worker runs, so the kernel's split is final
    // before the first packet is processed.
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        sockets.push(LiveSocket::open(&opts.iface, &lcfg, filter.as_ref())?);
    }
    let model = crate::flow_ml::load_model(cfg)?;
    let pipe = EventPipe::start(
        cfg,
        &opts.output_dir,
        opts.store.as_ref(),
        opts.feed.as_ref(),
        true,
    )?;
    let ecfg = engine_config(cfg);
    let stats_every = Duration::from_secs(cfg.capture.live.stats_interval_secs);
    let mut handles = Vec::with_capacity(n);
    let mut rule_txs: Vec<Sender<Option<Arc<RuleEngine>>>> = Vec::with_capacity(n);
    let mut slots = Vec::with_capacity(n);
    for (i, sock) in sockets.into_iter().enumerate() {
        let (tx, rx) = bounded(4);
        let slot = Arc::new(Mutex::new(None));
        let ctx = WorkerCtx {
            ecfg,
            rules: opts.rules.clone(),
            model: model.clone(),
            new_rules: rx,
            stop: Arc::clone(&sig.stop),
            flusher: Flusher::new(
                pipe.bus.clone(),
                pipe.flush_interval,
                ecfg.eve.ipv6_compress,
            ),
            snapshot: Arc::clone(&slot),
            snapshot_every: if stats_every.is_zero() {
                Duration::MAX
            } else {
                // Fresh enough that the main thread's event is at most half an interval old.
                stats_every / 2
            },
            timeout_ms: i32::try_from(lcfg.block_timeout_ms).unwrap_or(100),
        };
        let h = std::thread::Builder::new()
            .name(format!("vedette-live-{i}"))
            .spawn(move || live_worker(sock, ctx))
            .context("cannot start a capture worker")?;
        handles.push(h);
        rule_txs.push(tx);
        slots.push(slot);
    }
    eprintln!(
        "vedette live: capturing on {} with {} worker(s){}; SIGINT/SIGTERM stop, SIGHUP reloads rules",
        opts.iface,
        n,
        opts.bpf
            .as_deref()
            .map(|f| format!(", filter '{f}'"))
            .unwrap_or_default()
    );
    let run_counters = |started: Instant| RunCounters {
        uptime_secs: started.elapsed().as_secs(),
        ..RunCounters::default()
    };
    let mut last_stats = Instant::now();
    while !sig.stop.load(Ordering::Relaxed) {
        std::thread::sleep(MAIN_POLL);
        if handles.iter().any(|h| h.is_finished()) {
            // A worker failed (its error is logged); stop the others.
            sig.stop.store(true, Ordering::Relaxed);
            break;
        }
        if sig.reload.swap(false, Ordering::Relaxed) {
            // Built here, off the workers; each swaps it in between two ring blocks.
            match reload() {
                Ok(rules) => {
                    for tx in &rule_txs {
                        let _ = tx.try_send(rules.clone());
                    }
                    tracing::warn!("rules reloaded");
                    eprintln!("vedette live: rules reloaded");
                }
                Err(e) => {
                    tracing::error!("rule reload failed, keeping the old rules: {e:#}");
                    eprintln!("vedette live: rule reload failed, keeping the old rules: {e:#}");
                }
            }
        }
        if !stats_every.is_zero() && last_stats.elapsed() >= stats_every {
            last_stats = Instant::now();
            let mut total = EngineStats::default();
            let mut kernel = Vec::with_capacity(slots.len());
            let mut now = Timestamp(i64::MIN);
            for s in &slots {
                let snap = s.lock().ok().and_then(|g| g.clone());
                if let Some(snap) = snap {
                    total.merge(&snap.stats);
                    kernel.push(snap.kernel);
                    now = now.max(snap.now);
                } else {
                    kernel.push(KernelStats::default());
                }
            }
            if cfg.outputs.eve.stats {
                pipe.write_stats(now.max(wall_now()), &total, run_counters(started), &kernel);
            }
        }
    }
    drop(rule_txs);
    let mut total = EngineStats::default();
    let mut kernel = Vec::with_capacity(handles.len());
    let mut last = Timestamp(i64::MIN);
    let mut failed = None;
    for h in handles {
        match h.join() {
            Ok(Ok((s, k, t))) => {
                total.merge(&s);
                kernel.push(k);
                last = last.max(t);
            }
            Ok(Err(e)) => failed = Some(e),
            Err(_) => failed = Some(anyhow::anyhow!("a capture worker panicked")),
        }
    }
    let final_stats =
        cfg.outputs
            .eve
            .stats
            .then_some((last.max(wall_now()), &total, run_counters(started)));
    let done = pipe.finish(final_stats, &kernel)?;
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(RunSummary {
        stats: total,
        events: done.events,
        wall: started.elapsed(),
        files: 0,
        capture_errors: Vec::new(),
        dropped_batches: done.dropped_batches,
        eve_path: done.eve_path,
        peak_rss_bytes: crate::analyze::peak_rss_bytes(),
        kernel: Some(kernel),
        store: done.store,
        export: done.export,
        anomaly: done.anomaly,
        notify: done.notify,
    })
}

fn live_worker(
    mut sock: LiveSocket,
    mut ctx: WorkerCtx,
) -> anyhow::Result<(EngineStats, KernelStats, Timestamp)> {
    let mut worker = Worker::with_rules(&ctx.ecfg, ctx.rules.take());
    worker.set_model(ctx.model.take());
    let mut cnt: u64 = 0;
    let mut last_snapshot = Instant::now();
    let mut result = Ok(());
    while !ctx.stop.load(Ordering::Relaxed) {
        match sock.next_block(ctx.timeout_ms, |p| {
            cnt += 1;
            worker.process(p, cnt);
        }) {
            // No traffic: time still passes, so idle flows expire.
            Ok(0) => worker.tick(wall_now()),
            Ok(_) => {}
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        if let Ok(rules) = ctx.new_rules.try_recv() {
            worker.set_rules(rules);
        }
        ctx.flusher.maybe_flush(&mut worker, false);
        if last_snapshot.elapsed() >= ctx.snapshot_every {
            last_snapshot = Instant::now();
            let snap = Snapshot {
                stats: worker.stats(),
                kernel: sock.stats(),
                now: worker.now(),
            };
            if let Ok(mut g) = ctx.snapshot.lock() {
                *g = Some(snap);
            }
        }
    }
    // Packets the kernel accepted before the stop are still processed: the block being filled
    // is handed over at the latest after the block timeout.
    let drain_until = Instant::now() + DRAIN_LIMIT;
    while result.is_ok() && Instant::now() < drain_until {
        match sock.next_block(ctx.timeout_ms * 2, |p| {
            cnt += 1;
            worker.process(p, cnt);
        }) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => result = Err(e),
        }
    }
    worker.tick(wall_now());
    worker.finish();
    ctx.flusher.maybe_flush(&mut worker, true);
    let kernel = sock.stats();
    if let Err(e) = result {
        tracing::error!("capture failed: {e}");
        bail!("capture failed: {e}");
    }
    Ok((worker.stats(), kernel, worker.now()))
}
