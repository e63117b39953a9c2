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

type AlertKey = (u64, String, u64, String, u64);

fn alert_set(eve_path: &Path) -> std::collections::BTreeSet<AlertKey> {
    eve(eve_path)
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| {
            (
                e["alert"]["signature_id"].as_u64().unwrap_or(0),
                e["src_ip"].as_str().unwrap_or("").to_owned(),
                e["src_port"].as_u64().unwrap_or(0),
                e["dest_ip"].as_str().unwrap_or("").to_owned(),
                e["dest_port"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The sids `vedette rules check` reports as skipped (unsupported keyword or protocol).
fn skipped_sids(rules: &Path) -> std::collections::BTreeSet<u64> {
    let o = vedette()
        .args(["rules", "check"])
        .arg(rules)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let rest = l.split(" sid ").nth(1)?;
            rest.split(':').next()?.trim().parse().ok()
        })
        .collect()
}

#[test]
fn alerts_match_suricata_on_synthetic_small() {
    let Some(shared) = shared() else { return };
    if !ensure_tool("suricata") {
        return;
    }
    let pcap = shared.join("data/pcap/synthetic-small.pcap");
    let rules = shared.join("data/rules/synthetic-small.rules");
    let s_out = tmpdir("suricata-small-alerts");
    let o = Command::new("suricata")
        .args(["-k", "none", "--runmode", "single", "-S"])
        .arg(&rules)
        .arg("-l")
        .arg(&s_out)
        .arg("-r")
        .arg(&pcap)
        .output()
        .expect("run suricata");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs = alert_set(&s_out.join("eve.json"));
    let v_out = tmpdir("vedette-small-alerts");
    let rules_arg = rules.to_str().unwrap();
    // Signature alerts only: Suricata has no counterpart of the anomaly detectors.
    analyze(
        &[&pcap],
        &v_out,
        &[
            "-k",
            "none",
            "--rules",
            rules_arg,
            "--set",
            "anomaly.enabled=false",
        ],
    );
    let ours = alert_set(&v_out.join("eve.json"));
    let skipped = skipped_sids(&rules);
    // Rules vedette does not load (reported by `rules check`, e.g. SSH buffers) cannot match.
    let theirs: std::collections::BTreeSet<AlertKey> = theirs
        .into_iter()
        .filter(|k| !skipped.contains(&k.0))
        .collect();
    let missing: Vec<_> = theirs.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&theirs).collect();
    eprintln!(
        "suricata {} alert keys, vedette {}, skipped sids {:?}",
        theirs.len(),
        ours.len(),
        skipped
    );
    assert!(
        theirs.len() > 20,
        "suricata raised too few alerts: {}",
        theirs.len()
    );
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing (suricata only): {missing:?}\nextra (vedette only): {extra:?}"
    );
}
