//! Helpers shared by the end-to-end tests: the binary, the shared data, temp dirs, EVE reading.
#![allow(dead_code)] // each test file uses a different subset of these helpers

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `vedette` binary built for these tests.
pub fn vedette() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vedette"));
    // Defaults such as the store (./vedette-data) land in the build's scratch space, never in
    // the source tree.
    c.current_dir(env!("CARGO_TARGET_TMPDIR"));
    c
}

/// True when running in CI, where missing data or tools are failures, not skips.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The shared test data directory (`VEDETTE_SHARED`, default `../shared` beside the repo), or
/// `None` after printing why the test is skipped. In CI a missing directory fails the test.
pub fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("VEDETTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("data/pcap/synthetic-small.pcap").is_file() {
        return Some(dir);
    }
    if in_ci() {
        panic!(
            "shared test data not found at {} (set VEDETTE_SHARED)",
            dir.display()
        );
    }
    eprintln!(
        "SKIP: shared test data not found at {} (set VEDETTE_SHARED)",
        dir.display()
    );
    None
}

/// A fresh empty directory under the target dir, removed first if present.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Runs a command and panics with its stderr when it fails to start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run vedette")
}

/// Runs `vedette analyze` with extra args into `out`, asserting exit 0.
pub fn analyze(inputs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut c = vedette();
    c.arg("analyze")
        .args(inputs)
        .arg("--output-dir")
        .arg(out)
        .arg("-q")
        .args(extra);
    // The store has its own tests; elsewhere it would only be shared by parallel tests.
    if !extra.iter().any(|a| *a == "--store" || *a == "--no-store") {
        c.arg("--no-store");
    }
    let o = run(&mut c);
    assert!(
        o.status.success(),
        "analyze failed: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// All EVE records of a file, parsed.
pub fn eve(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("read eve.json");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad EVE line {l}: {e}")))
        .collect()
}

/// Records of one event type.
pub fn of_type<'a>(events: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event_type"] == t).collect()
}

/// The final stats record.
pub fn stats(events: &[serde_json::Value]) -> &serde_json::Value {
    events
        .iter()
        .rev()
        .find(|e| e["event_type"] == "stats")
        .expect("a stats event")
}

/// Ensures a command-line tool is available, installing it with the project's script when
/// missing. Returns false (after printing why) when it cannot be had outside CI.
pub fn ensure_tool(tool: &str) -> bool {
    let have = |t: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {t}"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if have(tool) {
        return true;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/install-test-deps.sh");
    let _ = Command::new("sh").arg(&script).arg(tool).status();
    if have(tool) {
        return true;
    }
    if in_ci() {
        panic!(
            "{tool} is required and could not be installed by {}",
            script.display()
        );
    }
    eprintln!("SKIP: {tool} not available and could not be installed");
    false
}
