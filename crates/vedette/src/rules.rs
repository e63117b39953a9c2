//! Rule loading for `analyze`/`demo` and the `rules check` command: configuration to the
//! detection settings, files to a compiled engine, and readable reports of what was skipped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use vedette_detect::addr::Vars;
use vedette_detect::{load_rule_files, DetectConfig, LoadIssue, LoadReport, RuleSource, RulesLoad};

use crate::config::Config;

/// Detection settings from the configuration (variables, classification, thresholds).
pub fn detect_config(cfg: &Config) -> anyhow::Result<DetectConfig> {
    let d = &cfg.detect;
    let mut vars = Vars::default();
    for (k, v) in &d.address_groups {
        let a = vedette_rules::parse_addr(v)
            .map_err(|e| anyhow::anyhow!("detect.address_groups.{k} = {v:?}: {e}"))?;
        vars.addrs.insert(k.clone(), a);
    }
    for (k, v) in &d.port_groups {
        let p = vedette_rules::parse_ports(v)
            .map_err(|e| anyhow::anyhow!("detect.port_groups.{k} = {v:?}: {e}"))?;
        vars.ports.insert(k.clone(), p);
    }
    let classes = read_config_file(&d.classification_file, vedette_rules::classification::parse)?
        .unwrap_or_else(vedette_rules::classification::builtin);
    let thresholds = read_config_file(&d.threshold_file, vedette_rules::threshold_config::parse)?
        .unwrap_or_default();
    Ok(DetectConfig {
        vars,
        classes,
        thresholds,
        max_threshold_entries: d.max_threshold_entries as usize,
    })
}

/// The parser of a line-oriented config file: items, and bad lines with where and why.
type ConfigParser<T> = fn(&str, &str) -> (Vec<T>, Vec<(vedette_rules::ast::Location, String)>);

/// Reads and parses an optional config file (`""` means none); bad lines are logged with
/// their location and skipped by `parse`.
fn read_config_file<T>(f: &Path, parse: ConfigParser<T>) -> anyhow::Result<Option<Vec<T>>> {
    if f.as_os_str().is_empty() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
    let (items, errors) = parse(&text, &f.display().to_string());
    for (loc, e) in errors {
        tracing::warn!("{}:{}: {e}", loc.file, loc.line);
    }
    Ok(Some(items))
}

/// Checks that every path exists, then reads, parses and compiles the rules.
fn load_paths(cfg: &Config, paths: &[PathBuf]) -> anyhow::Result<RulesLoad> {
    for p in paths {
        if !p.exists() {
            anyhow::bail!("rule file {} does not exist", p.display());
        }
    }
    let dcfg = detect_config(cfg)?;
    let sources: Vec<RuleSource> = paths.iter().cloned().map(RuleSource::Path).collect();
    Ok(load_rule_files(&sources, &dcfg))
}

/// Loads the rules named on the command line and in the configuration; `None` when there are
/// none. Skipped rules are reported as warnings (one line each up to a limit, then a count).
pub fn load(
    cfg: &Config,
    cli: &[PathBuf],
    quiet: bool,
) -> anyhow::Result<Option<(Arc<vedette_engine::RuleEngine>, LoadReport)>> {
    let mut paths: Vec<PathBuf> = cfg.detect.rules.clone();
    paths.extend(cli.iter().cloned());
    if paths.is_empty() {
        return Ok(None);
    }
    let load = load_paths(cfg, &paths)?;
    for (f, e) in &load.file_errors {
        tracing::warn!("{}: {e}", f.display());
    }
    const SHOWN: usize = 20;
    for issue in load.report.skipped.iter().take(SHOWN) {
        tracing::warn!("rule skipped: {}", issue_line(issue));
    }
    if load.report.skipped.len() > SHOWN {
        tracing::warn!(
            "{} more rules skipped (`vedette rules check` lists them all)",
            load.report.skipped.len() - SHOWN
        );
    }
    if !quiet {
        eprintln!(
            "vedette: rules: {} loaded, {} skipped, {} warnings ({} files; parsed in {:.2}s, compiled in {:.2}s)",
            load.report.loaded,
            load.report.skipped.len(),
            load.report.warnings.len(),
            load.files.len(),
            load.parse_time.as_secs_f64(),
            load.compile_time.as_secs_f64()
        );
    }
    let RulesLoad { engine, report, .. } = load;
    Ok(Some((Arc::new(engine), report)))
}

/// `file:line: [sid N] reason`.
pub fn issue_line(i: &LoadIssue) -> String {
    let sid = i.sid.map(|s| format!(" sid {s}:")).unwrap_or_default();
    format!(
        "{}:{}:{} {}",
        i.location.file, i.location.line, sid, i.error
    )
}

/// `vedette rules check`: prints every skipped rule and warning, then the counts. Returns
/// whether every rule loaded.
pub fn check(cfg: &Config, files: &[PathBuf]) -> anyhow::Result<bool> {
    let load = load_paths(cfg, files)?;
    for (f, e) in &load.file_errors {
        println!("{}: error: {e}", f.display());
    }
    for i in &load.report.skipped {
        println!("{}", issue_line(i));
    }
    for i in &load.report.warnings {
        println!("{} (warning)", issue_line(i));
    }
    // Unsupported keywords ranked, the question users ask first.
    let mut by_reason: std::collections::BTreeMap<String, usize> = Default::default();
    for i in &load.report.skipped {
        if let vedette_detect::CompileError::Unsupported(r) = &i.error {
            *by_reason.entry(r.clone()).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, usize)> = by_reason.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if !ranked.is_empty() {
        println!("unsupported, by rules affected:");
        for (r, n) in ranked.iter().take(25) {
            println!("  {n:6}  {r}");
        }
    }
    let errors = load
        .report
        .skipped
        .iter()
        .filter(|i| !matches!(i.error, vedette_detect::CompileError::Unsupported(_)))
        .count();
    println!(
        "{} files: {} loaded, {} skipped ({} unsupported, {} errors), {} warnings; parse {:.3}s, compile {:.3}s",
        load.files.len(),
        load.report.loaded,
        load.report.skipped.len(),
        load.report.skipped.len() - errors,
        errors,
        load.report.warnings.len(),
        load.parse_time.as_secs_f64(),
        load.compile_time.as_secs_f64()
    );
    Ok(load.report.skipped.is_empty() && load.file_errors.is_empty())
}
