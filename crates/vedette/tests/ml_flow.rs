//! End to end: the per-flow feature export (`--flow-features`) against the flow records of the
//! same run, and online scoring (`--model`) with a model trained on exported features.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A parsed feature CSV: the header and the rows as text fields.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(path: &Path) -> Csv {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap()
            .split(',')
            .map(str::to_owned)
            .collect();
        // vedette's own fields (addresses, names, base64, timestamps) hold no commas.
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect();
        for r in &rows {
            assert_eq!(r.len(), header.len(), "ragged row {r:?}");
        }
        Csv { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn num(&self, row: &[String], name: &str) -> f64 {
        let v = &row[self.col(name)];
        v.parse()
            .unwrap_or_else(|_| panic!("{name} = {v:?} is not a number"))
    }
}

fn demo_pcap(tag: &str) -> PathBuf {
    let dir = tmpdir(&format!("ml-flow-pcap-{tag}"));
    let p = dir.join("demo.pcap");
    vedette_trafficgen::write_demo_capture(&p, 3).unwrap();
    p
}

/// EVE lines other than `stats` (whose counters and timings differ between runs).
fn non_stats_lines(eve: &Path) -> Vec<String> {
    std::fs::read_to_string(eve)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"event_type\":\"stats\""))
        .map(str::to_owned)
        .collect()
}

#[test]
fn feature_csv_has_one_consistent_row_per_flow_record() {
    let pcap = demo_pcap("csv");
    let out = tmpdir("ml-flow-csv");
    let csv_path = out.join("flows.csv");
    analyze(
        &[&pcap],
        &out,
        &["--flow-features", csv_path.to_str().unwrap()],
    );
    let csv = Csv::read(&csv_path);
    let events = eve(&out.join("eve.json"));
    let flows: BTreeMap<u64, &serde_json::Value> = of_type(&events, "flow")
        .into_iter()
        .map(|f| (f["flow_id"].as_u64().unwrap(), f))
        .collect();
    assert!(flows.len() > 100, "{} flows", flows.len());
    assert_eq!(csv.rows.len(), flows.len(), "one row per flow record");
    assert_eq!(
        &csv.header[..10],
        &[
            "flow_id",
            "start",
            "end",
            "src_ip",
            "src_port",
            "dest_ip",
            "dest_port",
            "proto",
            "app_proto",
            "community_id"
        ]
    );
    let mut seen = BTreeSet::new();
    for r in &csv.rows {
        let id: u64 = r[0].parse().unwrap();
        assert!(seen.insert(id), "flow {id} twice");
        let f = flows
            .get(&id)
            .unwrap_or_else(|| panic!("row {id} has no flow record"));
        for k in [
            "pkts_toserver",
            "pkts_toclient",
            "bytes_toserver",
            "bytes_toclient",
        ] {
            assert_eq!(
                csv.num(r, k),
                f["flow"][k].as_f64().unwrap(),
                "{k} of flow {id}"
            );
        }
        assert_eq!(r[csv.col("src_ip")], f["src_ip"].as_str().unwrap());
        assert_eq!(r[csv.col("dest_ip")], f["dest_ip"].as_str().unwrap());
        assert_eq!(r[csv.col("proto")], f["proto"].as_str().unwrap());
        assert_eq!(r[csv.col("start")], f["flow"]["start"].as_str().unwrap());
        assert_eq!(
            r[csv.col("community_id")],
            f["community_id"].as_str().unwrap()
        );
        assert_eq!(
            r[csv.col("app_proto")],
            f["app_proto"].as_str().unwrap_or("")
        );
        if let Some(p) = f["dest_port"].as_u64() {
            assert_eq!(csv.num(r, "server_port"), p as f64);
        }
        assert!(csv.num(r, "duration") >= 0.0);
        for d in ["toserver", "toclient"] {
            let n = csv.num(r, &format!("pkts_{d}"));
            let (min, mean, max) = (
                csv.num(r, &format!("pkt_size_min_{d}")),
                csv.num(r, &format!("pkt_size_mean_{d}")),
                csv.num(r, &format!("pkt_size_max_{d}")),
            );
            if n > 0.0 {
                assert!(
                    min <= mean + 1e-3 && mean <= max + 1e-3,
                    "size {min} {mean} {max} of {id}"
                );
                assert!(csv.num(r, &format!("pkt_size_std_{d}")) >= 0.0);
                // Rounded to f32: compare with a relative tolerance.
                let bytes = csv.num(r, &format!("bytes_{d}"));
                assert!((mean * n - bytes).abs() <= 1e-4 * bytes.max(1.0) + 1.0);
            }
            if n > 1.0 {
                let (min, mean, max) = (
                    csv.num(r, &format!("iat_min_{d}")),
                    csv.num(r, &format!("iat_mean_{d}")),
                    csv.num(r, &format!("iat_max_{d}")),
                );
                assert!(
                    min <= mean * (1.0 + 1e-5) + 1e-9 && mean <= max * (1.0 + 1e-5) + 1e-9,
                    "iat {min} {mean} {max} of {id}"
                );
                assert!(max <= csv.num(r, "duration") * (1.0 + 1e-5) + 1e-6);
            }
            let syn = csv.num(r, &format!("syn_{d}"));
            assert!(syn <= n);
        }
    }
    let sum = |name: &str| csv.rows.iter().map(|r| csv.num(r, name)).sum::<f64>();
    // The demo has web browsing, DNS and TLS with SNI: the app-layer facts must show them.
    assert!(sum("http_requests") > 0.0 && sum("http_2xx") > 0.0);
    assert!(sum("dns_queries") > 0.0 && sum("tls_sni") > 0.0);
    assert!(sum("syn_toserver") > 0.0);
    let s = stats(&events);
    assert_eq!(
        s["stats"]["ml"]["feature_rows"].as_u64(),
        Some(csv.rows.len() as u64)
    );

    // Export changes nothing in eve.json (but the stats counters).
    let plain = tmpdir("ml-flow-plain");
    analyze(&[&pcap], &plain, &[]);
    assert_eq!(
        non_stats_lines(&plain.join("eve.json")),
        non_stats_lines(&out.join("eve.json"))
    );
    let plain_events = eve(&plain.join("eve.json"));
    assert!(stats(&plain_events)["stats"].get("ml").is_none());

    // Two workers export the same rows (in another order).
    let two = tmpdir("ml-flow-two-workers");
    let csv2 = two.join("flows.csv");
    analyze(
        &[&pcap],
        &two,
        &["--workers", "2", "--flow-features", csv2.to_str().unwrap()],
    );
    let sorted = |c: &Csv| {
        let mut rows = c.rows.clone();
        rows.sort();
        rows
    };
    assert_eq!(sorted(&Csv::read(&csv2)), sorted(&csv));
}

#[test]
fn unwritable_feature_file_is_a_clear_error() {
    let pcap = demo_pcap("bad-path");
    let out = tmpdir("ml-flow-bad-path");
    let o = run(vedette()
        .arg("analyze")
        .arg(&pcap)
        .arg("-q")
        .arg("--no-store")
        .arg("--output-dir")
        .arg(&out)
        .arg("--flow-features")
        .arg(out.join("no/such/dir/f.csv")));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("flow feature file"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Exports the features of `pcap` and returns the feature columns (identifying columns
/// dropped, as a user does before training) with `label` appended.
fn labelled_rows(pcap: &Path, tag: &str, label: &str) -> (String, Vec<String>) {
    let out = tmpdir(&format!("ml-flow-train-{tag}"));
    let csv_path = out.join("flows.csv");
    analyze(
        &[pcap],
        &out,
        &["--flow-features", csv_path.to_str().unwrap()],
    );
    let csv = Csv::read(&csv_path);
    let first = csv.col("duration");
    let header = format!("{},label", csv.header[first..].join(","));
    let rows = csv
        .rows
        .iter()
        .map(|r| format!("{},{label}", r[first..].join(",")))
        .collect();
    (header, rows)
}

/// ML alerts (gid 9001) and scored flow records of a run with `--model`.
fn scored_run(
    pcap: &Path,
    model: &Path,
    tag: &str,
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let out = tmpdir(&format!("ml-flow-score-{tag}"));
    analyze(&[pcap], &out, &["--model", model.to_str().unwrap()]);
    let events = eve(&out.join("eve.json"));
    let alerts: Vec<serde_json::Value> = of_type(&events, "alert")
        .into_iter()
        .filter(|a| a["alert"]["gid"] == 9001)
        .cloned()
        .collect();
    let flows: Vec<serde_json::Value> = of_type(&events, "flow").into_iter().cloned().collect();
    for f in &flows {
        let ml = &f["vedette"]["ml"];
        let score = ml["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{f}");
        assert_eq!(ml["model"], "flows-test");
        assert!(ml["label"].is_string());
    }
    // Every ML field is documented in docs/EVE.md.
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/EVE.md"))
            .unwrap();
    let mut fields = BTreeSet::new();
    for e in alerts.iter().chain(&flows).chain([stats(&events)]) {
        json_paths(e, "", &mut fields);
    }
    for f in fields
        .iter()
        .filter(|p| p.starts_with("vedette.") || p.starts_with("stats.ml."))
    {
        assert!(
            doc.contains(&format!("`{f}`")),
            "{f} missing from docs/EVE.md"
        );
    }
    let s = stats(&events);
    assert_eq!(
        s["stats"]["ml"]["flows_scored"].as_u64(),
        Some(flows.len() as u64)
    );
    assert_eq!(
        s["stats"]["ml"]["alerts"].as_u64(),
        Some(alerts.len() as u64)
    );
    (alerts, flows)
}

#[test]
fn model_trained_on_exported_features_flags_the_flood_not_the_benign_traffic() {
    let dir = tmpdir("ml-flow-model");
    let pcap = |name: &str| dir.join(name);
    for seed in 1..=5 {
        let p = pcap(&format!("benign{seed}.pcap"));
        vedette_trafficgen::write_benign_capture(&p, seed).unwrap();
    }
    vedette_trafficgen::write_syn_flood(&pcap("flood1.pcap"), 1500, 1).unwrap();
    vedette_trafficgen::write_syn_flood(&pcap("flood2.pcap"), 1500, 2).unwrap();

    // Training: benign seeds 1-4 and a flood; held out: benign seed 5, another flood.
    let (header, mut rows) = labelled_rows(&pcap("benign1.pcap"), "benign1", "benign");
    for seed in 2..=4 {
        let p = pcap(&format!("benign{seed}.pcap"));
        let (h, more) = labelled_rows(&p, &format!("benign{seed}"), "benign");
        assert_eq!(h, header);
        rows.extend(more);
    }
    let benign_rows = rows.len();
    let (header2, attack) = labelled_rows(&pcap("flood1.pcap"), "flood", "attack");
    assert_eq!(header, header2);
    assert!(benign_rows > 200 && attack.len() >= 1500, "{benign_rows}");
    rows.extend(attack);
    let train = dir.join("train.csv");
    std::fs::write(&train, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let model = dir.join("flows.vmodel");
    let o = run(vedette()
        .args(["ml", "train", "--format", "flows-csv", "--model", "gbdt"])
        .args(["--name", "flows-test", "--data"])
        .arg(&train)
        .arg("--out")
        .arg(&model));
    assert!(
        o.status.success(),
        "train failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Held-out captures (other seeds): the flood is flagged, the benign traffic is not.
    let (alerts, flows) = scored_run(&pcap("flood2.pcap"), &model, "flood");
    assert!(
        alerts.len() as f64 >= 0.95 * flows.len() as f64,
        "{} of {} flood flows alerted",
        alerts.len(),
        flows.len()
    );
    for a in &alerts {
        assert_eq!(a["vedette"]["detector"], "ml");
        assert_eq!(a["alert"]["signature_id"], 9001001);
        assert!(a["flow_id"].is_u64() && a["src_ip"].is_string());
        let explain = a["vedette"]["explain"].as_str().unwrap();
        // Names at least one feature with its value, e.g. "syn_toserver=1".
        let named = explain
            .split([' ', ','])
            .filter_map(|t| t.split_once('='))
            .filter(|(n, _)| vedette_flow::features::feature_index(n).is_some())
            .count();
        assert!(named >= 1, "{explain}");
    }
    let alerted: BTreeSet<u64> = alerts
        .iter()
        .map(|a| a["flow_id"].as_u64().unwrap())
        .collect();
    for f in &flows {
        if alerted.contains(&f["flow_id"].as_u64().unwrap()) {
            assert_eq!(f["flow"]["alerted"], true);
        }
    }
    // The store keeps the scores and the detector.
    let store = dir.join("store");
    analyze(
        &[&pcap("flood2.pcap")],
        &dir.join("stored"),
        &[
            "--model",
            model.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ],
    );
    let o = run(vedette()
        .args(["query", "--format", "csv", "--store"])
        .arg(&store)
        .arg("select (select count(ml_score) from ev_flow where ml_model = 'flows-test'), (select count(*) from ev_alert where detector = 'ml')"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let last = text.lines().last().unwrap();
    assert_eq!(last, format!("{},{}", flows.len(), alerts.len()), "{text}");

    let (alerts, flows) = scored_run(&pcap("benign5.pcap"), &model, "benign");
    assert!(flows.len() > 50);
    assert!(
        alerts.len() as f64 <= (0.02 * flows.len() as f64).max(1.0),
        "{} of {} benign flows alerted: {:?}",
        alerts.len(),
        flows.len(),
        alerts.first()
    );
}

#[test]
fn a_corrupt_or_foreign_model_is_a_clear_error_at_start() {
    let dir = tmpdir("ml-flow-bad-model");
    let pcap = dir.join("b.pcap");
    vedette_trafficgen::write_benign_capture(&pcap, 1).unwrap();
    let corrupt = dir.join("corrupt.vmodel");
    std::fs::write(&corrupt, b"\x00\xffnot a model{{{").unwrap();
    let missing = dir.join("missing.vmodel");
    for m in [&corrupt, &missing] {
        let o = run(vedette()
            .arg("analyze")
            .arg(&pcap)
            .args(["-q", "--no-store", "--output-dir"])
            .arg(dir.join("out"))
            .arg("--model")
            .arg(m));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{err}");
        assert!(err.contains("cannot load the model"), "{err}");
        assert!(
            err.contains(m.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

fn json_paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let serde_json::Value::Object(m) = v {
        for (k, x) in m {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            json_paths(x, &p, out);
        }
    } else {
        out.insert(prefix.to_owned());
    }
}
