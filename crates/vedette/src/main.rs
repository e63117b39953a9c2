//! The `vedette` binary: command line, configuration, threads and outputs. Protocol and
//! detection logic live in the library crates; this crate only wires them together.
#![forbid(unsafe_code)]

mod analyze;
mod anomaly;
mod config;
mod export;
mod flow_ml;
mod live;
mod logging;
mod ml_cmd;
mod notify;
mod outputs;
mod rules;
mod sniff;
mod store_cmd;
mod summary;
mod web;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Rules of `vedette demo`, written for the traffic the demo generates.
const DEMO_RULES: &str = include_str!("../../../config/demo.rules");

/// Exit codes (documented in the README): 0 success (even when the capture had bad packets),
/// 1 a fatal error (configuration, output files, no readable capture), 2 command-line misuse.
const EXIT_FATAL: u8 = 1;

#[derive(Parser)]
#[command(
    name = "vedette",
    version,
    about = "A fast, memory-bounded network security monitor: captures in, flows and Suricata-compatible EVE JSON out.",
    after_help = "Exit status: 0 on success (bad packets are reported as anomaly events, not errors), \
                  1 on a fatal error (configuration, output, no readable capture), 2 on command-line misuse."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log level for vedette's own messages (error, warn, info, debug, trace); RUST_LOG overrides.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    /// Write vedette's own log messages to this file instead of stderr (rotated by size).
    #[arg(long, global = true, value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// Log line format.
    #[arg(long, global = true, value_parser = ["text", "json"], default_value = "text")]
    log_format: String,
    /// Rotate the log file at this many bytes (to FILE.1, FILE.2, ...).
    #[arg(long, global = true, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    log_max_bytes: u64,
    /// Rotated log files kept.
    #[arg(long, global = true, value_name = "N", default_value_t = 5)]
    log_keep: u32,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse pcap/pcapng files or directories and write eve.json.
    Analyze(AnalyzeArgs),
    /// Generate the bundled demo capture, analyse it and print a summary.
    Demo(DemoArgs),
    /// Capture live from an interface (AF_PACKET) and write eve.json until SIGINT/SIGTERM;
    /// SIGHUP reloads the rules. Needs CAP_NET_RAW.
    Live(LiveArgs),
    /// Print one line per packet seen on an interface (time, protocol, endpoints, flags,
    /// length, app summary). Needs CAP_NET_RAW.
    Sniff(SniffArgs),
    /// Print configuration.
    Config(ConfigArgs),
    /// Rule tools.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Import EVE JSON files (vedette's or Suricata's) into the store.
    Ingest(store_cmd::IngestArgs),
    /// Run read-only SQL over the store's views (`--schema` lists them).
    Query(store_cmd::QueryArgs),
    /// Canned reports from the store, or a self-contained HTML report with charts.
    Report(store_cmd::ReportArgs),
    /// Machine learning: train, evaluate and import flow classifiers and anomaly models.
    #[command(subcommand)]
    Ml(ml_cmd::MlCommand),
    /// Serve the web dashboard and its read-only JSON API over a store, until Ctrl-C.
    Serve(web::ServeArgs),
    /// Consume the events sensors publish to NATS JetStream (`--export`) into the store,
    /// until SIGINT/SIGTERM.
    Hub(export::HubArgs),
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Parse and compile rule files; list every rule that would be skipped (file:line, reason)
    /// and the counts. Exit status 0 when every rule loads, 3 otherwise.
    Check(RulesCheckArgs),
}

#[derive(Args)]
struct RulesCheckArgs {
    /// Rule files or directories.
    #[arg(required = true, value_name = "FILE|DIR")]
    files: Vec<PathBuf>,
    /// Configuration file (for address/port variables and classification).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override a key.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

#[derive(Args)]
struct CommonArgs {
    /// Directory for eve.json and other outputs.
    #[arg(long, short = 'l', value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Worker threads (overrides runtime.workers).
    #[arg(long, value_name = "N")]
    workers: Option<u32>,
    /// Configuration file (TOML); see `vedette config --default`.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override a configuration key, e.g. --set stream.midstream=true (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Checksum validation: `-k none` turns it off (as Suricata's -k).
    #[arg(short = 'k', value_name = "MODE", value_parser = ["none", "all"])]
    checksum_mode: Option<String>,
    /// Suricata rule files or directories of *.rules (repeatable; added to detect.rules).
    #[arg(long, short = 'S', value_name = "FILE|DIR")]
    rules: Vec<PathBuf>,
    /// Do not print the summary.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Store directory events are written to (overrides store.path; default ./vedette-data).
    #[arg(long, value_name = "DIR", conflicts_with = "no_store")]
    store: Option<PathBuf>,
    /// Do not write events to the store.
    #[arg(long)]
    no_store: bool,
    /// Write each flow's feature vector as a CSV row to FILE (sets ml.flow_features).
    #[arg(long, value_name = "FILE")]
    flow_features: Option<PathBuf>,
    /// Score each flow with this model and alert above ml.alert_threshold (sets ml.model).
    #[arg(long, value_name = "MODEL")]
    model: Option<PathBuf>,
    /// Serve the dashboard on ADDR while running (analyze: and after, until Ctrl-C).
    #[arg(long, value_name = "ADDR")]
    serve: Option<std::net::SocketAddr>,
    #[command(flatten)]
    auth: web::TokenArgs,
    #[command(flatten)]
    export: export::ExportArgs,
}

impl CommonArgs {
    /// `--output-dir`, else `vedette-out` in the working directory.
    fn output_dir_or_default(&self) -> PathBuf {
        self.output_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("vedette-out"))
    }
}

#[derive(Args)]
struct AnalyzeArgs {
    /// Capture files (pcap, pcapng) or directories of them (read in time order).
    #[arg(required = true, value_name = "PCAP|DIR")]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct LiveArgs {
    /// Interface to capture from.
    #[arg(long, short = 'i', value_name = "IFACE")]
    interface: String,
    /// Capture filter in tcpdump syntax (needs libpcap at run time to compile it).
    #[arg(long, value_name = "EXPR")]
    bpf: Option<String>,
    /// Put the interface into promiscuous mode (capture.live.promisc).
    #[arg(long)]
    promisc: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct SniffArgs {
    /// Interface to capture from.
    #[arg(long, short = 'i', value_name = "IFACE")]
    interface: String,
    /// Capture filter in tcpdump syntax (needs libpcap at run time to compile it).
    #[arg(long, short = 'f', value_name = "EXPR")]
    filter: Option<String>,
    /// Stop after N packets.
    #[arg(long, short = 'c', value_name = "N")]
    count: Option<u64>,
    /// One JSON object per packet instead of text.
    #[arg(long)]
    json: bool,
    /// Put the interface into promiscuous mode.
    #[arg(long)]
    promisc: bool,
    /// Configuration file (TOML) for ring sizes.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override a configuration key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Seed of the generated traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Exit after the summary instead of serving the dashboard.
    #[arg(long, conflicts_with = "serve")]
    no_serve: bool,
}

#[derive(Args)]
struct ConfigArgs {
    /// Print the built-in defaults, every key documented.
    #[arg(long = "default")]
    defaults: bool,
    /// Print the effective configuration after --config and --set.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override a key.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

fn load_config(common: &CommonArgs) -> anyhow::Result<config::Config> {
    let mut sets = common.sets.clone();
    if common.checksum_mode.as_deref() == Some("none") {
        sets.push("decode.checksums=false".into());
    }
    if let Some(n) = common.workers {
        sets.push(format!("runtime.workers={n}"));
    }
    let mut cfg = config::Config::load(common.config.as_deref(), &sets)?;
    if let Some(p) = &common.flow_features {
        cfg.ml.flow_features = p.clone();
    }
    if let Some(p) = &common.model {
        cfg.ml.model = p.clone();
        cfg.ml.enabled = true;
    }
    common.export.apply(&mut cfg)?;
    Ok(cfg)
}

/// The store the run writes to, from `[store]`, `--store` and `--no-store`.
fn store_config(cfg: &config::Config, common: &CommonArgs) -> Option<vedette_store::StoreConfig> {
    if common.no_store || !cfg.store.enabled {
        return None;
    }
    Some(store_cmd::store_config(cfg, common.store.as_deref()))
}

/// Starts the dashboard for `--serve ADDR` (before the run, so its live stream follows it).
fn serve_during(
    cfg: &config::Config,
    common: &CommonArgs,
    store: Option<&vedette_store::StoreConfig>,
) -> anyhow::Result<Option<(vedette_api::RunningServer, vedette_api::LiveFeed)>> {
    let Some(addr) = common.serve else {
        return Ok(None);
    };
    let Some(store) = store else {
        anyhow::bail!(
            "--serve shows the store: it cannot be used with --no-store or store.enabled = false"
        );
    };
    let feed = vedette_api::LiveFeed::new();
    let token = common.auth.resolve(cfg);
    let server = web::start(
        addr,
        store.dir.clone(),
        token.clone(),
        Some(feed.clone()),
        false,
    )?;
    web::announce(&server, token.is_some(), "serving while the run lasts");
    Ok(Some((server, feed)))
}

fn analyze(args: AnalyzeArgs) -> anyhow::Result<()> {
    let cfg = load_config(&args.common)?;
    let rules = rules::load(&cfg, &args.common.rules, args.common.quiet)?.map(|(e, _)| e);
    let output_dir = args.common.output_dir_or_default();
    let store = store_config(&cfg, &args.common);
    let served = serve_during(&cfg, &args.common, store.as_ref())?;
    let feed = served.as_ref().map(|(_, f)| f.clone());
    let has_token = args.common.auth.resolve(&cfg).is_some();
    let summary = analyze::run(analyze::AnalyzeOptions {
        inputs: args.inputs,
        output_dir,
        config: cfg,
        progress: !args.common.quiet,
        rules,
        store,
        feed,
    })?;
    if !args.common.quiet {
        summary::print(&summary);
    }
    if summary.stats.pkts == 0 && !summary.capture_errors.is_empty() {
        anyhow::bail!(
            "no packets could be read: {}",
            summary.capture_errors.join("; ")
        );
    }
    if let Some((server, _)) = served {
        web::announce(&server, has_token, "analysis done; Ctrl-C to stop");
        server.wait_for_signal();
    }
    Ok(())
}

fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let cfg = load_config(&args.common)?;
    let dir = args
        .common
        .output_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("vedette-demo"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pcap = dir.join("demo.pcap");
    let gen = vedette_trafficgen::write_demo_capture(&pcap, args.seed)
        .with_context(|| format!("cannot write {}", pcap.display()))?;
    eprintln!(
        "vedette demo: generated {} ({} packets, {} bytes: web, DNS, TLS, ICMP, a port scan, attack strings, a beacon)",
        pcap.display(),
        gen.packets,
        gen.bytes
    );
    // The demo brings its own rules (written for the generated traffic) unless given others.
    let mut rule_paths = args.common.rules.clone();
    if rule_paths.is_empty() && cfg.detect.rules.is_empty() {
        let p = dir.join("demo.rules");
        std::fs::write(&p, DEMO_RULES).with_context(|| format!("cannot write {}", p.display()))?;
        rule_paths.push(p);
    }
    let rules = rules::load(&cfg, &rule_paths, args.common.quiet)?.map(|(e, _)| e);
    let store = store_config(&cfg, &args.common);
    let token = args.common.auth.resolve(&cfg);
    let listen = match args.common.serve {
        Some(a) => a,
        None => web::default_listen(&cfg)?,
    };
    let store_dir = store.as_ref().map(|s| s.dir.clone());
    let summary = analyze::run(analyze::AnalyzeOptions {
        inputs: vec![pcap],
        output_dir: dir,
        config: cfg,
        progress: !args.common.quiet,
        rules,
        store,
        feed: None,
    })?;
    summary::print(&summary);
    if args.no_serve {
        return Ok(());
    }
    let Some(store_dir) = store_dir else {
        eprintln!("vedette demo: the store is off, so there is no dashboard to serve");
        return Ok(());
    };
    // The default port may be taken: then any free one (an explicit --serve must be honoured).
    let server = web::start(
        listen,
        store_dir,
        token.clone(),
        None,
        args.common.serve.is_none(),
    )?;
    web::announce(&server, token.is_some(), "Ctrl-C to stop");
    server.wait_for_signal();
    Ok(())
}

fn live_cmd(args: LiveArgs) -> anyhow::Result<()> {
    let mut cfg = load_config(&args.common)?;
    if args.promisc {
        cfg.capture.live.promisc = true;
    }
    let quiet = args.common.quiet;
    let rule_paths = args.common.rules.clone();
    let rules = rules::load(&cfg, &rule_paths, quiet)?.map(|(e, _)| e);
    let output_dir = args.common.output_dir_or_default();
    let store = store_config(&cfg, &args.common);
    let served = serve_during(&cfg, &args.common, store.as_ref())?;
    let feed = served.as_ref().map(|(_, f)| f.clone());
    // SIGHUP reads the configuration file and the rule files again.
    let reload = || -> anyhow::Result<_> {
        let cfg = load_config(&args.common)?;
        Ok(rules::load(&cfg, &rule_paths, quiet)?.map(|(e, _)| e))
    };
    let summary = live::run(
        live::LiveOptions {
            iface: args.interface.clone(),
            bpf: args.bpf.clone(),
            output_dir,
            config: cfg,
            rules,
            store,
            feed,
        },
        &reload,
    )?;
    drop(served);
    if !quiet {
        summary::print(&summary);
    }
    Ok(())
}

fn sniff_cmd(args: SniffArgs) -> anyhow::Result<()> {
    let mut cfg = config::Config::load(args.config.as_deref(), &args.sets)?;
    if args.promisc {
        cfg.capture.live.promisc = true;
    }
    sniff::run(sniff::SniffOptions {
        iface: args.interface,
        filter: args.filter,
        count: args.count,
        json: args.json,
        config: cfg,
    })?;
    Ok(())
}

fn config_cmd(args: ConfigArgs) -> anyhow::Result<()> {
    if args.defaults {
        print!("{}", config::DEFAULT_TOML);
        return Ok(());
    }
    let cfg = config::Config::load(args.config.as_deref(), &args.sets)?;
    println!("{cfg:#?}");
    Ok(())
}

/// Exit status of `rules check` when some rules do not load.
const EXIT_RULES_SKIPPED: u8 = 3;

fn rules_cmd(c: RulesCommand) -> anyhow::Result<ExitCode> {
    match c {
        RulesCommand::Check(a) => {
            let cfg = config::Config::load(a.config.as_deref(), &a.sets)?;
            let all = rules::check(&cfg, &a.files)?;
            Ok(if all {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_RULES_SKIPPED)
            })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = logging::init(&logging::LogOptions {
        level: &cli.log_level,
        file: cli.log_file.as_deref(),
        json: cli.log_format == "json",
        max_bytes: cli.log_max_bytes,
        keep: cli.log_keep,
    }) {
        eprintln!("vedette: error: {e:#}");
        return ExitCode::from(EXIT_FATAL);
    }
    let result = match cli.command {
        Command::Analyze(a) => analyze(a),
        Command::Demo(d) => demo(d),
        Command::Live(l) => live_cmd(l),
        Command::Sniff(a) => sniff_cmd(a),
        Command::Config(c) => config_cmd(c),
        Command::Rules(r) => match rules_cmd(r) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Command::Ingest(a) => store_cmd::ingest(a),
        Command::Query(a) => store_cmd::query(a),
        Command::Report(a) => store_cmd::report(a),
        Command::Ml(c) => ml_cmd::run(c),
        Command::Serve(a) => web::serve(a),
        Command::Hub(a) => export::hub(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vedette: error: {e:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}
