//! Real rule sets from the shared data directory: ET Open, the synthetic sets and the
//! conformance tests' rules. Skipped (with a message) when the directory is absent, except
//! under `CI=true`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use vedette_rules::{parse_rules, ParsedFile, RuleError};

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VEDETTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("data/rules").is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "shared data directory {} not found (set VEDETTE_SHARED)",
        dir.display()
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    None
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == ext));
    v.sort();
    v
}

/// Counts errors by kind and prints the most common keywords.
fn report(name: &str, parsed: &[ParsedFile]) -> (usize, usize, usize) {
    let rules: usize = parsed.iter().map(|p| p.rules.len()).sum();
    let mut syntax = Vec::new();
    let mut unsupported: HashMap<String, usize> = HashMap::new();
    let mut invalid: HashMap<String, usize> = HashMap::new();
    let mut errors = 0;
    for p in parsed {
        for (loc, e) in &p.errors {
            errors += 1;
            match e {
                RuleError::Syntax(_) => syntax.push(format!("{}:{}: {e}", loc.file, loc.line)),
                RuleError::Unsupported { keyword } => {
                    *unsupported.entry(keyword.clone()).or_default() += 1
                }
                RuleError::Invalid { keyword, reason } => {
                    if invalid.len() < 1000 {
                        eprintln!("  invalid {}:{}: `{keyword}`: {reason}", loc.file, loc.line);
                    }
                    *invalid.entry(keyword.clone()).or_default() += 1;
                }
            }
        }
    }
    let total = rules + errors;
    eprintln!(
        "{name}: {rules} of {total} rules parsed ({:.2}%); {} syntax, {} unsupported, {} invalid",
        100.0 * rules as f64 / total.max(1) as f64,
        syntax.len(),
        unsupported.values().sum::<usize>(),
        invalid.values().sum::<usize>()
    );
    let mut top: Vec<_> = unsupported.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (k, n) in top.iter().take(15) {
        eprintln!("  unsupported {k}: {n}");
    }
    for s in syntax.iter().take(20) {
        eprintln!("  {s}");
    }
    (rules, total, syntax.len())
}

#[test]
fn et_open_parses() {
    let Some(dir) = shared_dir() else { return };
    let files = files_with_ext(&dir.join("data/rules/et-open"), "rules");
    if files.is_empty() {
        eprintln!("skipped: no et-open rules");
        return;
    }
    let texts: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            (
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(p).unwrap_or_default(),
            )
        })
        .collect();
    let bytes: usize = texts.iter().map(|t| t.1.len()).sum();
    let start = Instant::now();
    let parsed: Vec<ParsedFile> = texts.iter().map(|(n, t)| parse_rules(t, n)).collect();
    let elapsed = start.elapsed();
    eprintln!(
        "et-open: {} files, {bytes} bytes parsed in {elapsed:?}",
        files.len()
    );
    // Parse time is printed for information; speed is measured by benchmarks, not tests.
    let (ok, total, syntax) = report("et-open", &parsed);
    assert_eq!(syntax, 0, "syntax errors in ET Open");
    assert!(
        ok * 100 >= total * 99,
        "only {ok} of {total} ET Open rules parse"
    );
}

#[test]
fn synthetic_sets_parse() {
    let Some(dir) = shared_dir() else { return };
    for name in ["synthetic-small.rules", "synthetic-large.rules"] {
        let path = dir.join("data/rules").join(name);
        let Ok(text) = std::fs::read(&path) else {
            eprintln!("skipped: {} missing", path.display());
            continue;
        };
        let parsed = parse_rules(&text, name);
        let (_, _, syntax) = report(name, std::slice::from_ref(&parsed));
        assert_eq!(syntax, 0, "syntax errors in {name}");
    }
}

fn find_test_rules(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() && depth < 8 {
            find_test_rules(&p, out, depth + 1);
        } else if p.file_name().is_some_and(|n| n == "test.rules") {
            out.push(p);
        }
    }
}

#[test]
fn conformance_rules_report() {
    let Some(dir) = shared_dir() else { return };
    let mut files = Vec::new();
    find_test_rules(&dir.join("conformance/tests"), &mut files, 0);
    files.sort();
    let (mut ok, mut bad) = (0, 0);
    for f in &files {
        let text = std::fs::read(f).unwrap_or_default();
        let name = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        let p = parse_rules(&text, &name);
        ok += p.rules.len();
        for (loc, e) in &p.errors {
            bad += 1;
            eprintln!("  {}:{}: {e}", loc.file, loc.line);
        }
    }
    eprintln!(
        "conformance: {} files, {ok} rules parsed, {bad} rejected",
        files.len()
    );
}
