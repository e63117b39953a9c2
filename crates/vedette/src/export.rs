//! NATS scale-out wiring: the exporter as an event [`Output`] (sensor side) and the `hub`
//! command (consumer side). The protocol, spool and consumer live in `vedette-export`.

use crate::config::{Config, Overflow};
use crate::outputs::Output;
use anyhow::Context as _;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use vedette_eve::EventBatch;
use vedette_export::{ExportStats, Exporter};

/// Sensor-side flags shared by `analyze`, `live` and `demo`.
#[derive(Args, Clone, Debug, Default)]
pub struct ExportArgs {
    /// Publish every event to NATS JetStream (comma-separated server URLs,
    /// e.g. nats://10.0.0.5:4222,nats://10.0.0.6:4222); turns export.enabled on.
    #[arg(long, value_name = "URL[,URL...]")]
    pub export: Option<String>,
    /// Sensor name in subjects and event ids (export.sensor; default: the host name).
    #[arg(long, value_name = "NAME")]
    pub sensor: Option<String>,
}

impl ExportArgs {
    /// Applies the flags to the configuration.
    pub fn apply(&self, cfg: &mut Config) -> anyhow::Result<()> {
        if let Some(urls) = &self.export {
            cfg.export.servers = split_urls(urls);
            cfg.export.enabled = true;
        }
        if let Some(s) = &self.sensor {
            cfg.export.sensor = s.clone();
        }
        if cfg.export.enabled {
            cfg.export.validate()?;
        }
        Ok(())
    }
}

fn split_urls(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The exporter as an output: batches are copied to the exporter's bounded queue (waiting when
/// it is full with `events.overflow = block`, dropping and counting with `drop`).
pub struct ExportOutput {
    exporter: Exporter,
    block: bool,
    report: Arc<Mutex<Option<ExportStats>>>,
}

impl ExportOutput {
    /// Starts the exporter; the spool defaults to `export.spool` in `output_dir`.
    pub fn start(
        cfg: &Config,
        output_dir: &Path,
        report: Arc<Mutex<Option<ExportStats>>>,
    ) -> anyhow::Result<Self> {
        let exporter = Exporter::start(&cfg.export, output_dir.join("export.spool"))
            .context("cannot start the NATS exporter")?;
        Ok(ExportOutput {
            exporter,
            block: cfg.events.overflow == Overflow::Block,
            report,
        })
    }
}

impl Output for ExportOutput {
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()> {
        // An empty batch is the pipe's end-of-traffic marker.
        if batch.is_empty() {
            return Ok(());
        }
        let copy = batch.copy_records();
        self.exporter.submit(copy, self.block);
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        let r = self.exporter.finish();
        let stats = match r {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("export: {e}");
                self.exporter.stats()
            }
        };
        if let Ok(mut g) = self.report.lock() {
            *g = Some(stats);
        }
        Ok(())
    }
}

/// The summary line of the exporter.
pub fn summary_line(s: &ExportStats) -> String {
    format!(
        "  export: {} events, {} published, {} acked, {} spooled, {} replayed, {} left in spool, {} dropped (spool full {}, queue full {}), {} corrupt spool tails",
        s.events,
        s.published,
        s.acked,
        s.spooled,
        s.replayed,
        s.spool_left,
        s.spool_dropped + s.queue_dropped,
        s.spool_dropped,
        s.queue_dropped,
        s.spool_corrupt
    )
}

/// `vedette hub`: consume the events stream into the store.
#[derive(Args)]
pub struct HubArgs {
    /// NATS server URLs, comma-separated (overrides export.servers).
    #[arg(long, value_name = "URL[,URL...]")]
    nats: Option<String>,
    /// Store directory (overrides store.path).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Durable consumer name (hub.durable); hubs with the same name share the work.
    #[arg(long, value_name = "NAME")]
    durable: Option<String>,
    /// Serve the dashboard of the hub's store (all sensors) on ADDR while the hub runs.
    #[arg(long, value_name = "ADDR")]
    serve: Option<std::net::SocketAddr>,
    #[command(flatten)]
    auth: crate::web::TokenArgs,
    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override a configuration key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Stop once the consumer has nothing pending (catch up, then exit).
    #[arg(long)]
    drain: bool,
    /// Do not print the summary.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Runs the hub until SIGINT/SIGTERM, then commits, acknowledges and prints its counters.
pub fn hub(args: HubArgs) -> anyhow::Result<()> {
    let mut cfg = Config::load(args.config.as_deref(), &args.sets)?;
    if let Some(urls) = &args.nats {
        cfg.export.servers = split_urls(urls);
    }
    if let Some(d) = &args.durable {
        cfg.hub.durable = d.clone();
    }
    anyhow::ensure!(
        !cfg.export.servers.is_empty(),
        "hub: no NATS server (--nats URL or export.servers)"
    );
    let store = crate::store_cmd::store_config(&cfg, args.store.as_deref());
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install the signal handler")?;
    }
    // The dashboard reads the store the hub writes (its live page tails it by row id), so the
    // store is created first.
    let _server = match args.serve {
        Some(addr) => {
            vedette_store::StoreWriter::open(&store)?.finish()?;
            let token = args.auth.resolve(&cfg);
            let server = crate::web::start(addr, store.dir.clone(), token.clone(), None, false)?;
            crate::web::announce(&server, token.is_some(), "serving while the hub runs");
            Some(server)
        }
        None => None,
    };
    let stats = vedette_export::hub::run(&cfg.export, &cfg.hub, &store, stop, args.drain)?;
    if !args.quiet {
        eprintln!(
            "vedette hub: {} received, {} stored, {} duplicates dropped, {} garbage, {} without id, {} acked, {} commits; {} ms fetching, {} ms in the store",
            stats.received,
            stats.stored,
            stats.duplicates,
            stats.garbage,
            stats.without_id,
            stats.acked,
            stats.commits,
            stats.fetch_ms,
            stats.store_ms
        );
    }
    Ok(())
}
