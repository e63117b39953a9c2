//! End-to-end tests of the event store: `analyze`/`demo` write it, `ingest` imports EVE files
//! (also Suricata's), `query` and `report` read it; crash safety, clear errors, and the HTML
//! report rendered by headless Chromium.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Event counts by `event_type` in an EVE file.
fn eve_counts(path: &Path) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for e in eve(path) {
        *m.entry(e["event_type"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
    }
    m
}

/// `vedette query SQL --store DIR --format json`, parsed.
fn query_json(store: &Path, sql: &str) -> Vec<serde_json::Value> {
    let o = run(vedette()
        .args(["query", sql, "--format", "json", "--store"])
        .arg(store));
    assert!(
        o.status.success(),
        "query {sql} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout).unwrap()
}

fn query_count(store: &Path, view: &str) -> i64 {
    let rows = query_json(store, &format!("select count(*) as n from {view}"));
    rows[0]["n"].as_i64().unwrap()
}

/// The store views of the event types vedette writes.
const VIEWS: [(&str, &str); 7] = [
    ("alert", "alerts"),
    ("flow", "flows"),
    ("dns", "dns"),
    ("http", "http"),
    ("tls", "tls"),
    ("anomaly", "anomalies"),
    ("stats", "stats"),
];

fn assert_counts_match(store: &Path, file_counts: &BTreeMap<String, i64>) {
    for (t, view) in VIEWS {
        let want = file_counts.get(t).copied().unwrap_or(0);
        assert_eq!(query_count(store, view), want, "{view} vs {t} events");
    }
    let total: i64 = file_counts.values().sum();
    assert_eq!(query_count(store, "events"), total, "all events");
}

#[test]
fn store_counts_equal_eve_counts_for_the_same_run() {
    let Some(shared) = shared() else { return };
    let pcap = shared.join("data/pcap/synthetic-small.pcap");
    let rules = shared.join("data/rules/synthetic-small.rules");
    let out = tmpdir("store-analyze");
    let store = out.join("store");
    let store_arg = store.to_str().unwrap();
    analyze(
        &[&pcap],
        &out,
        &[
            "-k",
            "none",
            "--rules",
            rules.to_str().unwrap(),
            "--store",
            store_arg,
        ],
    );
    let counts = eve_counts(&out.join("eve.json"));
    for t in ["alert", "flow", "dns", "http", "tls"] {
        assert!(
            counts.get(t).copied().unwrap_or(0) > 100,
            "too few {t}: {counts:?}"
        );
    }
    assert_counts_match(&store, &counts);
    // The rollups agree with the flow records they summarise.
    let a = query_json(
        &store,
        "select (select sum(bytes_toserver + bytes_toclient) from flows) as f, (select sum(bytes) from traffic_per_minute) as r",
    );
    assert_eq!(a[0]["f"], a[0]["r"]);
    let b = query_json(
        &store,
        "select (select count(*) from alerts) as a, (select sum(alerts) from alerts_per_minute) as r",
    );
    assert_eq!(b[0]["a"], b[0]["r"]);
}

#[test]
fn demo_writes_the_default_store_and_no_store_writes_none() {
    let dir = tmpdir("store-demo");
    let o =
        run(vedette()
            .current_dir(&dir)
            .args(["demo", "--no-serve", "-q", "--output-dir", "demo"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let store = dir.join("vedette-data");
    assert!(
        store.join("vedette.db").is_file(),
        "default store ./vedette-data"
    );
    assert_counts_match(&store, &eve_counts(&dir.join("demo/eve.json")));
    let dir2 = tmpdir("store-demo-none");
    let o = run(vedette().current_dir(&dir2).args([
        "demo",
        "--no-serve",
        "-q",
        "--no-store",
        "--output-dir",
        "demo",
    ]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!dir2.join("vedette-data").exists());
    // Canned reports read it.
    for r in [
        "top-talkers",
        "alerts",
        "protocols",
        "dns",
        "tls",
        "timeline",
    ] {
        let o = run(vedette()
            .args(["report", r, "--since", "1h", "--format", "csv", "--store"])
            .arg(&store));
        assert!(
            o.status.success(),
            "{r}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.lines().count() > 1, "{r} returned no rows:\n{text}");
    }
}

#[test]
fn suricata_eve_ingests_with_the_files_counts() {
    let Some(shared) = shared() else { return };
    if !ensure_tool("suricata") {
        return;
    }
    let pcap = shared.join("data/pcap/synthetic-small.pcap");
    let rules = shared.join("data/rules/synthetic-small.rules");
    let out = tmpdir("store-suricata");
    let o = Command::new("suricata")
        .args(["-k", "none", "--runmode", "single", "-S"])
        .arg(&rules)
        .arg("-l")
        .arg(&out)
        .arg("-r")
        .arg(&pcap)
        .output()
        .expect("run suricata");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let eve_path = out.join("eve.json");
    let counts = eve_counts(&eve_path);
    let store = out.join("store");
    let o = run(vedette()
        .arg("ingest")
        .arg(&eve_path)
        .arg("--store")
        .arg(&store));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("0 garbage lines"), "{err}");
    for (t, view) in VIEWS {
        if t == "anomaly" || t == "stats" {
            continue;
        }
        let want = counts.get(t).copied().unwrap_or(0);
        assert!(want > 20, "suricata logged too few {t}: {counts:?}");
        assert_eq!(query_count(&store, view), want, "{view}");
    }
    let total: i64 = counts.values().sum();
    assert_eq!(query_count(&store, "events"), total);
}

/// Removes ANSI colour sequences from log output.
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn kill_9_during_ingest_loses_at_most_the_open_batch() {
    let Some(shared) = shared() else { return };
    let pcap = shared.join("data/pcap/synthetic-small.pcap");
    let dir = tmpdir("store-crash");
    analyze(&[&pcap], &dir, &["-k", "none", "--no-store"]);
    let one = std::fs::read(dir.join("eve.json")).unwrap();
    let big = dir.join("big.json");
    let mut data = Vec::with_capacity(one.len() * 10);
    for _ in 0..10 {
        data.extend_from_slice(&one);
    }
    std::fs::write(&big, &data).unwrap();
    let lines = data.iter().filter(|&&b| b == b'\n').count() as i64;
    let batch = 2000i64;
    let store = dir.join("store");
    let mut child = vedette()
        .args(["--log-level", "info", "ingest"])
        .arg(&big)
        .arg("--store")
        .arg(&store)
        .args(["--set", &format!("store.batch_events={batch}")])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait (on the child's own progress reports, not on time) for three durable commits.
    let mut last_committed = 0i64;
    let mut commits = 0;
    let stderr = child.stderr.take().unwrap();
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    while commits < 3 {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let clean = strip_ansi(&line);
        if let Some(rest) = clean.split("committed=").nth(1) {
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            last_committed = n.parse().unwrap();
            commits += 1;
        }
    }
    assert_eq!(commits, 3, "the ingest did not report commits");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the ingest finished before it was killed"
    );
    // Reopen: recovery from the WAL, then a full integrity check.
    let conn = rusqlite::Connection::open(store.join("vedette.db")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    eprintln!("lines {lines}, reported durable {last_committed}, stored after kill {stored}");
    assert!(stored >= last_committed, "a committed batch was lost");
    assert_eq!(stored % batch, 0, "a partial batch survived");
    assert!(
        stored < lines,
        "everything was stored; the kill came too late"
    );
    // The store is writable again and keeps counting.
    let o = run(vedette()
        .arg("ingest")
        .arg(dir.join("eve.json"))
        .arg("--store")
        .arg(&store));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = query_count(&store, "events");
    assert_eq!(
        after,
        stored + (one.iter().filter(|&&b| b == b'\n').count() as i64)
    );
}

#[test]
fn bad_sql_writes_corrupt_stores_and_garbage_lines_give_clear_errors() {
    let dir = tmpdir("store-errors");
    let eve_path = dir.join("eve.json");
    let good = r#"{"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"TCP","alert":{"signature_id":1,"signature":"x","severity":1}}"#;
    let text = format!("{good}\nthis is not json\n{good}\n{{\"event_type\":\"flow\"}}\n");
    std::fs::write(&eve_path, text).unwrap();
    let store = dir.join("store");
    let o = run(vedette()
        .arg("ingest")
        .arg(&eve_path)
        .arg("--store")
        .arg(&store));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("eve.json:2: skipped: not an EVE JSON object"),
        "{err}"
    );
    assert!(
        err.contains("eve.json:4: skipped: missing or unreadable timestamp"),
        "{err}"
    );
    assert!(
        err.contains("ingested 2 events") && err.contains("2 garbage lines"),
        "{err}"
    );
    assert_eq!(query_count(&store, "alerts"), 2);

    let fails = |args: &[&str], store: &Path, needle: &str| {
        let o = run(vedette().args(args).arg("--store").arg(store));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    fails(&["query", "selec * from alerts"], &store, "syntax error");
    fails(
        &["query", "select * from nope"],
        &store,
        "no such table: nope",
    );
    fails(&["query", "delete from ev_alert"], &store, "read-only");
    fails(&["query", "drop view alerts"], &store, "read-only");
    fails(
        &["report", "everything"],
        &store,
        "unknown report 'everything'",
    );
    fails(
        &["report", "alerts", "--since", "soon"],
        &store,
        "--since soon",
    );
    assert_eq!(query_count(&store, "alerts"), 2, "nothing was modified");
    let corrupt = dir.join("corrupt");
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(corrupt.join("vedette.db"), vec![0xa5u8; 8192]).unwrap();
    fails(&["query", "select 1"], &corrupt, "not a vedette store");
    fails(
        &["ingest", eve_path.to_str().unwrap()],
        &corrupt,
        "not a vedette store",
    );
    fails(&["query", "select 1"], &dir.join("absent"), "no store at");
    // --schema documents every view.
    let o = run(vedette().args(["query", "--schema"]));
    let doc = String::from_utf8_lossy(&o.stdout);
    for (_, view) in VIEWS {
        assert!(doc.contains(&format!("\n{view} ")), "{view} undocumented");
    }
}

/// Decodes an RGB(A) PNG into (width, height, rgb pixels).
fn decode_png(path: &Path) -> (usize, usize, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let px = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width as usize, info.height as usize, px)
}

#[test]
fn html_report_charts_are_visible_in_headless_chromium() {
    if !ensure_tool("chromium") {
        return;
    }
    let dir = tmpdir("store-html");
    let o = run(vedette().current_dir(&dir).args([
        "demo",
        "--no-serve",
        "-q",
        "--output-dir",
        "demo",
        "--store",
        "st",
    ]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = dir.join("report.html");
    let o = run(vedette()
        .args(["report", "--html"])
        .arg(&html)
        .arg("--store")
        .arg(dir.join("st")));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let shot = dir.join("shot.png");
    let o = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1240,1000",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("run chromium");
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (w, h, px) = decode_png(&shot);
    assert!(w >= 1200 && h >= 960, "screenshot {w}x{h}");
    // The report lays its six 600x300 charts in a two-column grid below a 60 px header.
    for i in 0..6 {
        let (col, row) = (i % 2, i / 2);
        let (x0, y0) = (col * 600 + 60, 60 + row * 300 + 40);
        let mut inked = 0usize;
        let mut colours = std::collections::BTreeSet::new();
        let mut total = 0usize;
        for y in y0..y0 + 220 {
            for x in x0..x0 + 500 {
                let p = px[y * w + x];
                total += 1;
                if p != [255, 255, 255] {
                    inked += 1;
                }
                colours.insert(p);
            }
        }
        let share = inked as f64 / total as f64;
        assert!(
            share > 0.01 && colours.len() >= 3,
            "chart {i} looks blank: {:.3} inked, {} colours",
            share,
            colours.len()
        );
    }
}
