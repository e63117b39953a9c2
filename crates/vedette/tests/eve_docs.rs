//! docs/EVE.md lists every EVE field vedette writes: run the demo (flows) and a capture with a
//! broken packet (anomalies), collect every field path and look each one up in the page.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;

fn paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                paths(x, &p, out);
            }
        }
        serde_json::Value::Array(_) => {
            out.insert(format!("{prefix}[]"));
        }
        _ => {
            out.insert(prefix.to_owned());
        }
    }
}

#[test]
fn every_written_field_is_documented() {
    let dir = tmpdir("eve-docs");
    let o = run(vedette()
        .args(["demo", "--no-serve"])
        .arg("--output-dir")
        .arg(&dir)
        .arg("-q"));
    assert!(o.status.success());
    // Append a truncated copy of the first demo packet so an anomaly event is written too.
    let demo = std::fs::read(dir.join("demo.pcap")).unwrap();
    let caplen = u32::from_le_bytes(demo[32..36].try_into().unwrap()) as usize;
    let mut broken = demo[..24].to_vec();
    let mut rec = demo[24..40].to_vec();
    let cut = caplen.min(60) - 10;
    rec[8..12].copy_from_slice(&(cut as u32).to_le_bytes());
    broken.extend_from_slice(&rec);
    broken.extend_from_slice(&demo[40..40 + cut]);
    let bp = dir.join("broken.pcap");
    std::fs::write(&bp, broken).unwrap();
    let out2 = dir.join("broken-out");
    analyze(&[&bp], &out2, &[]);

    let mut fields = BTreeSet::new();
    for f in [dir.join("eve.json"), out2.join("eve.json")] {
        for e in eve(&f) {
            paths(&e, "", &mut fields);
        }
    }
    assert!(
        fields.contains("anomaly.event"),
        "no anomaly event was produced"
    );
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/EVE.md"))
            .unwrap();
    let undocumented: Vec<_> = fields
        .iter()
        .filter(|p| !p.starts_with("stats.decoder.event."))
        .filter(|p| !p.starts_with("dns.grouped."))
        // Metadata keys come from the rules (documented as `alert.metadata.<key>[]`).
        .filter(|p| !p.starts_with("alert.metadata."))
        .filter(|p| !doc.contains(&format!("`{p}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "fields missing from docs/EVE.md: {undocumented:?}"
    );
}
