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
            // Name the rule by its sid when the text shows one, so reports can be joined.
            let sid = sid_at_line(bytes, location.line);
            let mut issue = parse_issue(location, e);
            issue.sid = sid;
            parse_issues.push(issue);
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

/// The `sid:` value written on 1-based line `line` of `text` (for rules that did not parse).
fn sid_at_line(text: &[u8], line: u32) -> Option<u32> {
    let l = text
        .split(|b| *b == b'\n')
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let l = std::str::from_utf8(l).ok()?;
    let at = l.find("sid:")?;
    let digits: String = l
        .get(at + 4..)?
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::sid_at_line;

    #[test]
    fn sid_of_a_line() {
        let t = b"# c\nalert ssh any any -> any any (ssh.proto; sid: 42; rev:1;)\n";
        assert_eq!(sid_at_line(t, 2), Some(42));
        assert_eq!(sid_at_line(t, 1), None);
        assert_eq!(sid_at_line(t, 9), None);
    }
}
