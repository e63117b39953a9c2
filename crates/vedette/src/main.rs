//! The `vedette` binary: command line, configuration, threads and outputs. Protocol and
//! detection logic live in the library crates; this crate only wires them together.
#![forbid(unsafe_code)]

mod analyze;
mod anomaly;
mod config;
mod outputs;
mod rules;
mod summary;

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
}

#[derive(Subcommand)]
enum Command {
    /// Analyse pcap/pcapng files or directories and write eve.json.
    Analyze(AnalyzeArgs),
    /// Generate the bundled demo capture, analyse it and print a summary.
    Demo(DemoArgs),
    /// Print configuration.
    Config(ConfigArgs),
    /// Rule tools.
    #[command(subcommand)]
    Rules(RulesCommand),
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
struct DemoArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Seed of the generated traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
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

fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn load_config(common: &CommonArgs) -> anyhow::Result<config::Config> {
    let mut sets = common.sets.clone();
    if common.checksum_mode.as_deref() == Some("none") {
        sets.push("decode.checksums=false".into());
    }
    if let Some(n) = common.workers {
        sets.push(format!("runtime.workers={n}"));
    }
    Ok(config::Config::load(common.config.as_deref(), &sets)?)
}

fn analyze(args: AnalyzeArgs) -> anyhow::Result<()> {
    let cfg = load_config(&args.common)?;
    let rules = rules::load(&cfg, &args.common.rules, args.common.quiet)?.map(|(e, _)| e);
    let output_dir = args
        .common
        .output_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("vedette-out"));
    let summary = analyze::run(analyze::AnalyzeOptions {
        inputs: args.inputs,
        output_dir,
        config: cfg,
        progress: !args.common.quiet,
        rules,
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
    let summary = analyze::run(analyze::AnalyzeOptions {
        inputs: vec![pcap],
        output_dir: dir,
        config: cfg,
        progress: !args.common.quiet,
        rules,
    })?;
    summary::print(&summary);
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
    init_tracing(&cli.log_level);
    let result = match cli.command {
        Command::Analyze(a) => analyze(a),
        Command::Demo(d) => demo(d),
        Command::Config(c) => config_cmd(c),
        Command::Rules(r) => match rules_cmd(r) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vedette: error: {e:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}
