//! Loading rule files: files or directories (every `*.rules` inside, sorted), parsed and
//! compiled, with every rule that was not loaded reported by file:line and reason.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vedette_rules::ast::Location;
use vedette_rules::RuleError;

use crate::compile::{DetectConfig, Engine, LoadIssue, LoadReport};
use crate::CompileError;

/// Largest rule file read (a bigger one is reported and skipped).
const MAX_RULE_FILE_BYTES: u64 = 512 << 20;

/// Where rules come from.
#[derive(Clone, Debug)]
pub enum RuleSource {
    /// A file or a directory of `*.rules` files.
    Path(PathBuf),
    /// Rule text given directly (tests, `-S`-like use); the name is used in errors.
    Text {
        /// Name for error messages.
        name: String,
        /// The rules.
        text: String,
    },
}

/// Result of [`load_rule_files`].
pub struct RulesLoad {
    /// The compiled rules.
    pub engine: Engine,
    /// Loaded/skipped counts and reasons (parse errors included in `skipped`).
    pub report: LoadReport,
    /// Rule files read.
    pub files: Vec<PathBuf>,
    /// Files that could not be read: (path, reason).
    pub file_errors: Vec<(PathBuf, String)>,
    /// Time spent parsing.
    pub parse_time: Duration,
    /// Time spent compiling.
    pub compile_time: Duration,
}

fn expand(p: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, String)>) {
    if p.is_dir() {
        match std::fs::read_dir(p) {
            Ok(rd) => {
                let mut files: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rules"))
                    .collect();
                files.sort();
                out.extend(files);
            }
            Err(e) => errors.push((p.to_path_buf(), e.to_string())),
        }
    } else {
        out.push(p.to_path_buf());
    }
}

/// Reads, parses and compiles rules from `sources`.
pub fn load_rule_files(sources: &[RuleSource], cfg: &DetectConfig) -> RulesLoad {
    let t0 = Instant::now();
    let mut files = Vec::new();
    let mut file_errors = Vec::new();
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    for s in sources {
        match s {
            RuleSource::Path(p) => {
                let mut list = Vec::new();
                expand(p, &mut list, &mut file_errors);
                for f in list {
                    let size = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
                    if size > MAX_RULE_FILE_BYTES {
                        file_errors.push((f, format!("larger than {MAX_RULE_FILE_BYTES} bytes")));
                        continue;
                    }
                    match std::fs::read(&f) {
                        Ok(b) => {
                            texts.push((f.display().to_string(), b));
                            files.push(f);
                        }
                        Err(e) => file_errors.push((f, e.to_string())),
                    }
                }
            }
            RuleSource::Text { name, text } => texts.push((name.clone(), text.as_bytes().to_vec())),
        }
    }
    let mut rules = Vec::new();
    let mut parse_issues = Vec::new();
    for (name, bytes) in &texts {
        let parsed = vedette_rules::parse_rules(bytes, name);
        rules.extend(parsed.rules);
        for (location, e) in parsed.errors {
            parse_issues.push(parse_issue(location, e));
        }
    }
    let parse_time = t0.elapsed();
    let t1 = Instant::now();
    let (engine, mut report) = Engine::build(rules, cfg);
    let compile_time = t1.elapsed();
    parse_issues.append(&mut report.skipped);
    report.skipped = parse_issues;
    RulesLoad {
        engine,
        report,
        files,
        file_errors,
        parse_time,
        compile_time,
    }
}

fn parse_issue(location: Location, e: RuleError) -> LoadIssue {
    let error = match e {
        RuleError::Unsupported { keyword } => {
            CompileError::Unsupported(format!("keyword {keyword}"))
        }
        other => CompileError::Parse(other.to_string()),
    };
    LoadIssue {
        location,
        sid: None,
        error,
    }
}
