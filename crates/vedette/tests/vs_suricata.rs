//! Differential tests: the same capture through Suricata 7 (installed by
//! `scripts/install-test-deps.sh suricata`) and through vedette; record counts must agree.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn counts(eve_path: &Path) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in eve(eve_path) {
        *m.entry(e["event_type"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
    }
    m
}

fn suricata_eve(pcap: &Path, out: &Path) -> std::path::PathBuf {
    let o = Command::new("suricata")
        .args(["-k", "none", "--runmode", "single", "-S", "/dev/null", "-l"])
        .arg(out)
        .arg("-r")
        .arg(pcap)
        .output()
        .expect("run suricata");
    assert!(
        o.status.success(),
        "suricata failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out.join("eve.json")
}

#[test]
fn app_layer_record_counts_match_suricata_within_2_percent() {
    let Some(shared) = shared() else { return };
    if !ensure_tool("suricata") {
        return;
    }
    let pcap = shared.join("data/pcap/synthetic-small.pcap");
    let s_out = tmpdir("suricata-small");
    let theirs = counts(&suricata_eve(&pcap, &s_out));
    let v_out = tmpdir("vedette-small");
    analyze(&[&pcap], &v_out, &["-k", "none"]);
    let ours = counts(&v_out.join("eve.json"));
    eprintln!("suricata {theirs:?}\nvedette  {ours:?}");
    for t in ["flow", "dns", "http", "tls"] {
        let (a, b) = (
            ours.get(t).copied().unwrap_or(0) as f64,
            theirs.get(t).copied().unwrap_or(0) as f64,
        );
        assert!(b > 100.0, "suricata logged too few {t} events: {b}");
        assert!(
            (a - b).abs() / b <= 0.02,
            "{t}: vedette {a} vs suricata {b}"
        );
    }
}
