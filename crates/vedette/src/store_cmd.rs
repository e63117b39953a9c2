//! `vedette ingest`, `vedette query` and `vedette report`: the store's command line. The SQL,
//! parsing and rendering live in `vedette-store`; this module handles arguments and output.

use crate::config::Config;
use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vedette_store::{
    CannedReport, EveLineReader, EventKind, LineOutcome, OutputFormat, QueryLimits, StoreConfig,
    StoreWriter,
};

/// Garbage lines reported one by one (with file:line); the rest are only counted.
const MAX_GARBAGE_REPORTED: u64 = 20;

/// Options shared by the store commands.
#[derive(Args)]
pub struct StoreArgs {
    /// Store directory (default: store.path, ./vedette-data).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override a configuration key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

impl StoreArgs {
    fn load(&self) -> anyhow::Result<(Config, PathBuf)> {
        let cfg = Config::load(self.config.as_deref(), &self.sets)?;
        let dir = self.store.clone().unwrap_or_else(|| cfg.store.path.clone());
        Ok((cfg, dir))
    }
}

/// The writer settings from `[store]`, with `dir` overriding `store.path`.
pub fn store_config(cfg: &Config, dir: Option<&Path>) -> StoreConfig {
    StoreConfig {
        dir: dir.map_or_else(|| cfg.store.path.clone(), Path::to_owned),
        batch_events: cfg.store.batch_events,
        max_age_secs: cfg.store.max_age,
        max_bytes: cfg.store.max_bytes,
    }
}

/// Output formats of `query` and `report`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// A JSON array of objects.
    Json,
    /// CSV with a header.
    Csv,
}

impl From<Format> for OutputFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => OutputFormat::Table,
            Format::Json => OutputFormat::Json,
            Format::Csv => OutputFormat::Csv,
        }
    }
}

/// `vedette ingest`
#[derive(Args)]
pub struct IngestArgs {
    /// EVE JSON files (one event per line; vedette's or Suricata's).
    #[arg(required = true, value_name = "EVE.JSON")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

/// `vedette query`
#[derive(Args)]
pub struct QueryArgs {
    /// One read-only SQL statement over the views (see --schema).
    #[arg(value_name = "SQL", required_unless_present = "schema")]
    sql: Option<String>,
    /// Print the documented views and their columns.
    #[arg(long)]
    schema: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Rows printed at most.
    #[arg(long, default_value_t = 100_000)]
    max_rows: usize,
    /// Seconds before a query is interrupted.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    #[command(flatten)]
    store: StoreArgs,
}

/// `vedette report`
#[derive(Args)]
pub struct ReportArgs {
    /// One of: top-talkers, alerts, protocols, dns, tls, timeline (not needed with --html).
    #[arg(value_name = "REPORT", required_unless_present = "html")]
    name: Option<String>,
    /// Only events of this last period before the newest stored event (e.g. 30m, 1h, 7d).
    #[arg(long, value_name = "DURATION")]
    since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Rows per report.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Write a self-contained HTML report with charts to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs `vedette ingest`: every file is streamed through the writer; garbage lines are
/// reported (file:line, reason), counted and skipped.
pub fn ingest(args: IngestArgs) -> anyhow::Result<()> {
    let (cfg, dir) = args.store.load()?;
    let mut writer = StoreWriter::open(&store_config(&cfg, Some(&dir)))?;
    let max_line = usize::try_from(cfg.store.max_line_bytes).unwrap_or(usize::MAX);
    let started = Instant::now();
    let mut garbage_reported = 0u64;
    let mut lines_total = 0u64;
    let mut last_commits = 0u64;
    for path in &args.files {
        let f =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut reader =
            EveLineReader::new(std::io::BufReader::with_capacity(1 << 20, f), max_line);
        let mut report = |line_no: u64, why: &str| {
            if garbage_reported < MAX_GARBAGE_REPORTED {
                eprintln!("vedette: {}:{line_no}: skipped: {why}", path.display());
            }
            garbage_reported += 1;
        };
        loop {
            let outcome = reader
                .next_line()
                .with_context(|| format!("reading {}", path.display()))?;
            match outcome {
                None => break,
                Some(LineOutcome::TooLong(n)) => {
                    lines_total += 1;
                    report(
                        n,
                        &format!("line longer than store.max_line_bytes ({max_line})"),
                    );
                }
                Some(LineOutcome::Line(n, line)) => {
                    lines_total += 1;
                    if let Err(g) = writer.ingest_line(line)? {
                        report(n, &g.to_string());
                    }
                }
            }
            let commits = writer.stats().commits;
            if commits != last_commits {
                last_commits = commits;
                tracing::info!(
                    committed = writer.stats().committed_events,
                    "store: batch committed"
                );
            }
        }
    }
    let path = writer.path().to_owned();
    let stats = writer.finish()?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let stored = stats.total();
    let parts: Vec<String> = EventKind::ALL
        .iter()
        .filter(|k| stats.get(**k) > 0)
        .map(|k| format!("{} {}", k.rollup_name(), stats.get(*k)))
        .collect();
    let garbage = lines_total - stored - stats.duplicates;
    eprintln!(
        "vedette: ingested {stored} events ({}) from {} file(s) into {} in {secs:.2} s ({:.0} events/s); {garbage} garbage lines skipped, {} duplicate event ids skipped",
        if parts.is_empty() { "none".to_owned() } else { parts.join(", ") },
        args.files.len(),
        path.display(),
        stored as f64 / secs,
        stats.duplicates,
    );
    if stats.expired_rows + stats.evicted_rows > 0 {
        eprintln!(
            "vedette: retention removed {} rows by age and {} by size",
            stats.expired_rows, stats.evicted_rows
        );
    }
    Ok(())
}

/// Runs `vedette query`.
pub fn query(args: QueryArgs) -> anyhow::Result<()> {
    if args.schema {
        print!("{}", vedette_store::VIEWS_DOC);
        return Ok(());
    }
    let Some(sql) = args.sql.as_deref() else {
        bail!("no SQL given (see `vedette query --schema`)");
    };
    let (_, dir) = args.store.load()?;
    let conn = vedette_store::open_read_only(&dir)?;
    let limits = QueryLimits {
        max_rows: args.max_rows,
        timeout: Duration::from_secs(args.timeout),
    };
    let r = vedette_store::run_query(&conn, sql, &[], limits)?;
    print_result(&r, args.format)
}

fn print_result(r: &vedette_store::QueryResult, format: Format) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    vedette_store::write_result(&mut out, r, format.into()).context("writing the result")?;
    out.flush().context("writing the result")?;
    if r.rows_truncated > 0 {
        eprintln!(
            "vedette: {} more rows not printed (raise --max-rows or add LIMIT)",
            r.rows_truncated
        );
    }
    Ok(())
}

/// Runs `vedette report`.
pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    let (_, dir) = args.store.load()?;
    let since = match args.since.as_deref() {
        Some(s) => Some(vedette_store::parse_duration_secs(s).with_context(|| {
            format!("--since {s}: expected a duration like 90s, 30m, 1h or 7d")
        })?),
        None => None,
    };
    let conn = vedette_store::open_read_only(&dir)?;
    if let Some(path) = &args.html {
        let html = vedette_store::html_report(&conn, since)?;
        std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("vedette: report written to {}", path.display());
        if args.name.is_none() {
            return Ok(());
        }
    }
    let name = args.name.as_deref().unwrap_or_default();
    let Some(kind) = CannedReport::from_name(name) else {
        bail!("unknown report '{name}' (known: {})", CannedReport::NAMES);
    };
    let r = vedette_store::canned_report(&conn, kind, since, args.limit)?;
    print_result(&r, args.format)
}
