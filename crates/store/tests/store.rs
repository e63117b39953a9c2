//! The store through its public API: ingest counts and rollups, garbage, read-only queries,
//! corrupt files, retention by age and size, and the HTML report's escaping.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with its location

use std::path::PathBuf;
use vedette_store::{
    canned_report, html_report, open_read_only, run_query, CannedReport, Cell, EventKind,
    EventOrigin, Garbage, QueryLimits, StoreConfig, StoreError, StoreWriter,
};

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vedette-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An EVE timestamp `secs` after 2024-01-01T00:00:00Z.
fn ts(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    format!(
        "2024-01-{:02}T{:02}:{m:02}:{s:02}.000000+0000",
        1 + h / 24,
        h % 24
    )
}

fn flow(secs: u64, src: &str, bytes: u64) -> String {
    format!(
        r#"{{"timestamp":"{}","flow_id":{},"event_type":"flow","src_ip":"{src}","src_port":40000,"dest_ip":"10.0.0.1","dest_port":80,"proto":"TCP","app_proto":"http","flow":{{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":{bytes},"bytes_toclient":100,"start":"x","end":"y","age":1,"state":"closed","reason":"timeout","alerted":false}},"community_id":"1:abc"}}"#,
        ts(secs),
        1000 + secs
    )
}

fn alert(secs: u64, sid: u64, sig: &str, severity: u64) -> String {
    format!(
        r#"{{"timestamp":"{}","flow_id":7,"event_type":"alert","src_ip":"10.0.0.9","src_port":1234,"dest_ip":"10.0.0.1","dest_port":80,"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":{sid},"rev":2,"signature":{},"category":"c","severity":{severity}}}}}"#,
        ts(secs),
        serde_json::Value::from(sig)
    )
}

fn count(dir: &std::path::Path, view: &str) -> i64 {
    let conn = open_read_only(dir).unwrap();
    let r = run_query(
        &conn,
        &format!("SELECT count(*) FROM {view}"),
        &[],
        QueryLimits::default(),
    )
    .unwrap();
    r.rows[0][0].as_i64().unwrap()
}

fn cfg(dir: &std::path::Path) -> StoreConfig {
    let mut c = StoreConfig::new(dir);
    c.batch_events = 100;
    c
}

#[test]
fn events_land_in_their_views_with_rollups_and_garbage_is_counted() {
    let dir = tmpdir("ingest");
    let mut w = StoreWriter::open(&cfg(&dir)).unwrap();
    let lines = [
        flow(0, "10.0.0.2", 1000),
        flow(30, "10.0.0.3", 2000),
        flow(70, "10.0.0.2", 500),
        alert(5, 2001, "ET TEST one", 1),
        alert(6, 2001, "ET TEST one", 1),
        r#"{"timestamp":"2024-01-01T00:00:01.000000+0000","event_type":"dns","src_ip":"10.0.0.2","dest_ip":"10.0.0.53","proto":"UDP","dns":{"type":"query","id":1,"rrname":"example.com","rrtype":"A"}}"#.to_owned(),
        r#"{"timestamp":"2024-01-01T00:00:02.000000+0000","event_type":"dns","dns":{"version":3,"type":"request","queries":[{"rrname":"v3.example","rrtype":"AAAA"}]}}"#.to_owned(),
        r#"{"timestamp":"2024-01-01T00:00:03.000000+0000","event_type":"http","http":{"hostname":"h","url":"/","http_method":"GET","status":200,"length":5}}"#.to_owned(),
        r#"{"timestamp":"2024-01-01T00:00:04.000000+0000","event_type":"tls","tls":{"sni":"s.example","version":"TLS 1.3","ja3":{"hash":"abc"},"ja4":"t13"}}"#.to_owned(),
        r#"{"timestamp":"2024-01-01T00:00:05.000000+0000","event_type":"anomaly","anomaly":{"type":"decode","event":"decoder.ipv4.trunc_pkt"}}"#.to_owned(),
        r#"{"timestamp":"2024-01-01T00:00:06.000000+0000","event_type":"stats","stats":{"uptime":1}}"#.to_owned(),
        r#"{"timestamp":"2024-01-01T00:00:07.000000+0000","event_type":"fileinfo","flow_id":18446744073709551615}"#.to_owned(),
    ];
    for l in &lines {
        assert!(w.ingest_line(l.as_bytes()).unwrap().is_ok(), "{l}");
    }
    let garbage: [&[u8]; 5] = [
        b"not json",
        b"[1,2]",
        br#"{"timestamp":"2024-01-01T00:00:00Z"}"#,
        br#"{"event_type":"flow","timestamp":"yesterday"}"#,
        br#"{"event_type":"flow","timestamp":"2024-01-01T00:00:00Z","src_port":"high"}"#,
    ];
    for g in garbage {
        assert!(w.ingest_line(g).unwrap().is_err());
    }
    assert_eq!(
        w.ingest_line(b"{}").unwrap(),
        Err(Garbage::NoEventType),
        "an object without event_type"
    );
    let stats = w.finish().unwrap();
    assert_eq!(stats.garbage, 6);
    assert_eq!(stats.get(EventKind::Flow), 3);
    assert_eq!(stats.total(), lines.len() as u64);
    for (view, n) in [
        ("flows", 3),
        ("alerts", 2),
        ("dns", 2),
        ("http", 1),
        ("tls", 1),
        ("anomalies", 1),
        ("stats", 1),
        ("other_events", 1),
        ("events", lines.len() as i64),
    ] {
        assert_eq!(count(&dir, view), n, "{view}");
    }
    let conn = open_read_only(&dir).unwrap();
    let q = |sql: &str| run_query(&conn, sql, &[], QueryLimits::default()).unwrap();
    // Indexed columns hold the EVE values.
    let r = q("SELECT rrname, rrtype FROM dns ORDER BY ts");
    assert_eq!(r.rows[1][0].text(), "v3.example");
    assert_eq!(q("SELECT ja3 FROM tls").rows[0][0].text(), "abc");
    assert_eq!(
        q("SELECT flow_id FROM other_events").rows[0][0].text(),
        "18446744073709551615",
        "flow ids above i64::MAX stay exact"
    );
    // Rollups: two flows in minute 0 (3000 + 200 bytes), one in minute 1.
    let r = q("SELECT minute_start, flows, bytes FROM traffic_per_minute ORDER BY minute_start");
    let minute0 = 1_704_067_200;
    assert_eq!(r.rows.len(), 2);
    assert_eq!(
        (
            r.rows[0][0].as_i64(),
            r.rows[0][1].as_i64(),
            r.rows[0][2].as_i64()
        ),
        (Some(minute0), Some(2), Some(3200))
    );
    assert_eq!(r.rows[1][2].as_i64(), Some(600));
    // Each flow counts for both endpoints.
    let r = q("SELECT sum(flows) FROM hosts_per_minute");
    assert_eq!(r.rows[0][0].as_i64(), Some(6));
    let r = q("SELECT signature_id, alerts FROM alerts_per_minute");
    assert_eq!(
        (r.rows[0][0].as_i64(), r.rows[0][1].as_i64()),
        (Some(2001), Some(2))
    );
    let top = canned_report(&conn, CannedReport::TopTalkers, None, 1).unwrap();
    assert_eq!(
        top.rows[0][0].text(),
        "10.0.0.1",
        "the server is in every flow"
    );
    // --since counts back from the newest event (70 s): the last 20 s hold one flow.
    let recent = canned_report(&conn, CannedReport::Protocols, Some(5), 10).unwrap();
    assert_eq!(recent.rows[0][2].as_i64(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn queries_cannot_write_and_errors_are_clear() {
    let dir = tmpdir("readonly");
    let mut w = StoreWriter::open(&cfg(&dir)).unwrap();
    w.ingest_line(flow(0, "10.0.0.2", 1).as_bytes())
        .unwrap()
        .unwrap();
    w.finish().unwrap();
    let conn = open_read_only(&dir).unwrap();
    for sql in [
        "DELETE FROM ev_flow",
        "INSERT INTO ev_stats (ts, timestamp, json) VALUES (1, 'x', '{}')",
        "DROP VIEW flows",
        "CREATE TABLE t (x)",
        "UPDATE ev_flow SET src_ip = 'x'",
        "PRAGMA user_version = 9",
    ] {
        let e = run_query(&conn, sql, &[], QueryLimits::default()).unwrap_err();
        assert!(matches!(e, StoreError::WriteRefused), "{sql}: {e}");
    }
    let e = run_query(&conn, "ATTACH 'other.db' AS o", &[], QueryLimits::default()).unwrap_err();
    assert!(e.to_string().contains("attached"), "{e}");
    let e = run_query(&conn, "SELEC 1", &[], QueryLimits::default()).unwrap_err();
    assert!(e.to_string().contains("syntax error"), "{e}");
    let e = run_query(&conn, "SELECT nope FROM flows", &[], QueryLimits::default()).unwrap_err();
    assert!(e.to_string().contains("no such column: nope"), "{e}");
    // A runaway query is interrupted.
    let limits = QueryLimits {
        max_rows: 10,
        timeout: std::time::Duration::from_millis(200),
    };
    let e = run_query(
        &conn,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        &[],
        limits,
    )
    .unwrap_err();
    assert!(matches!(e, StoreError::Timeout(_)), "{e}");
    // Rows beyond max_rows are counted, not kept.
    let r = run_query(
        &conn,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 25) SELECT x FROM c",
        &[],
        limits,
    )
    .unwrap();
    assert_eq!((r.rows.len(), r.rows_truncated), (10, 15));
    assert_eq!(count(&dir, "flows"), 1, "nothing was modified");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_or_foreign_files_are_refused_by_name() {
    let dir = tmpdir("corrupt");
    let db = vedette_store::db_path(&dir);
    std::fs::write(&db, vec![0x5a; 64 * 1024]).unwrap();
    let e = open_read_only(&dir).unwrap_err();
    assert!(matches!(e, StoreError::NotAStore { .. }), "{e}");
    assert!(e.to_string().contains("vedette.db"), "{e}");
    let e = StoreWriter::open(&cfg(&dir)).err().unwrap();
    assert!(matches!(e, StoreError::NotAStore { .. }), "{e}");
    // A valid SQLite file of something else.
    std::fs::remove_file(&db).unwrap();
    let other = rusqlite::Connection::open(&db).unwrap();
    other
        .execute_batch("CREATE TABLE x (y); PRAGMA user_version = 42;")
        .unwrap();
    drop(other);
    let e = open_read_only(&dir).unwrap_err();
    assert!(e.to_string().contains("not a vedette store"), "{e}");
    let e = StoreWriter::open(&cfg(&dir)).err().unwrap();
    assert!(e.to_string().contains("schema version 42"), "{e}");
    let missing = open_read_only(&dir.join("nothing-here")).unwrap_err();
    assert!(matches!(missing, StoreError::Missing(_)), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn retention_by_age_removes_old_events_and_rollups() {
    let dir = tmpdir("age");
    let mut c = cfg(&dir);
    c.max_age_secs = 600;
    c.batch_events = 10;
    let mut w = StoreWriter::open(&c).unwrap();
    // One flow every 10 s for an hour of event time.
    for i in 0..360 {
        w.ingest_line(flow(i * 10, "10.0.0.2", 10).as_bytes())
            .unwrap()
            .unwrap();
    }
    let stats = w.finish().unwrap();
    assert!(stats.expired_rows > 0);
    let conn = open_read_only(&dir).unwrap();
    let q = |sql: &str| {
        run_query(&conn, sql, &[], QueryLimits::default())
            .unwrap()
            .rows[0][0]
            .as_i64()
            .unwrap()
    };
    let newest = q("SELECT max(ts) FROM flows");
    let oldest = q("SELECT min(ts) FROM flows");
    assert_eq!(newest - oldest, 600_000_000, "exactly max_age is kept");
    assert_eq!(q("SELECT count(*) FROM flows"), 61);
    // Rollup minutes older than the cutoff are gone too.
    assert!(
        q("SELECT min(minute_start) FROM traffic_per_minute") * 1_000_000 >= oldest - 60_000_000
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn retention_by_size_holds_the_file_size_and_keeps_the_newest() {
    let dir = tmpdir("size");
    let mut c = cfg(&dir);
    let max_bytes: u64 = 1 << 20;
    c.max_bytes = max_bytes;
    c.batch_events = 500;
    let mut w = StoreWriter::open(&c).unwrap();
    let pad = "x".repeat(600);
    let mut peak_file = 0u64;
    let n = 20_000u64;
    for i in 0..n {
        let line = flow(i, &format!("10.1.{}.{}", (i / 250) % 250, i % 250), i).replace(
            "\"community_id\"",
            &format!("\"pad\":\"{pad}\",\"community_id\""),
        );
        w.ingest_line(line.as_bytes()).unwrap().unwrap();
        if i % 1000 == 999 {
            let size = std::fs::metadata(vedette_store::db_path(&dir))
                .unwrap()
                .len();
            peak_file = peak_file.max(size);
        }
    }
    let stats = w.finish().unwrap();
    // About 15 MB of events went in; the database file stays near the limit: retention runs
    // after each commit, so one batch (here ~0.5 MB) and partly filled pages are the slack.
    let file = std::fs::metadata(vedette_store::db_path(&dir))
        .unwrap()
        .len();
    eprintln!("final file {file} bytes, peak {peak_file} bytes, limit {max_bytes}");
    assert!(stats.evicted_rows > 10_000, "{stats:?}");
    assert!(file <= 2 * max_bytes, "file {file} bytes");
    assert!(peak_file <= 2 * max_bytes, "peak {peak_file} bytes");
    let conn = open_read_only(&dir).unwrap();
    let r = run_query(
        &conn,
        "SELECT min(ts), max(ts), count(*) FROM flows",
        &[],
        QueryLimits::default(),
    )
    .unwrap();
    let (min, max, rows) = (
        r.rows[0][0].as_i64().unwrap(),
        r.rows[0][1].as_i64().unwrap(),
        r.rows[0][2].as_i64().unwrap(),
    );
    let base = 1_704_067_200_000_000i64;
    assert_eq!(
        max,
        base + (n as i64 - 1) * 1_000_000,
        "the newest event is kept"
    );
    assert!(
        min > base + 10_000 * 1_000_000,
        "the oldest events are gone: {min}"
    );
    assert!(rows > 100, "a useful amount is kept: {rows}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn html_report_escapes_packet_strings_and_has_six_charts() {
    let dir = tmpdir("html");
    let mut w = StoreWriter::open(&cfg(&dir)).unwrap();
    let evil = "<script>alert('x')</script> & \"quotes\"";
    for i in 0..5 {
        w.ingest_line(alert(i * 60, 1, evil, 2).as_bytes())
            .unwrap()
            .unwrap();
        w.ingest_line(flow(i * 60, "<img src=x onerror=alert(1)>", 10).as_bytes())
            .unwrap()
            .unwrap();
    }
    w.finish().unwrap();
    let conn = open_read_only(&dir).unwrap();
    let html = html_report(&conn, None).unwrap();
    assert!(!html.contains("<script"), "a raw script tag got through");
    assert!(!html.contains("<img"), "a raw img tag got through");
    assert!(
        html.contains("&lt;script&gt;"),
        "the signature is shown escaped"
    );
    assert_eq!(html.matches("<svg").count(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn scalar(dir: &std::path::Path, sql: &str) -> serde_json::Value {
    let conn = open_read_only(dir).unwrap();
    let r = run_query(&conn, sql, &[], QueryLimits::default()).unwrap();
    match &r.rows[0][0] {
        Cell::Null => serde_json::Value::Null,
        Cell::Int(i) => serde_json::json!(i),
        Cell::Real(f) => serde_json::json!(f),
        Cell::Text(t) => serde_json::json!(t),
    }
}

#[test]
fn event_ids_drop_redelivered_duplicates_and_keep_the_sensor() {
    let dir = tmpdir("dedup");
    let mut w = StoreWriter::open(&cfg(&dir)).unwrap();
    let a = alert(1, 10, "a", 1);
    let f = flow(2, "10.0.0.2", 500);
    let origin = |id| {
        Some(EventOrigin {
            sensor: "tap-1",
            event_id: id,
        })
    };
    // The same two events delivered twice (a hub redelivery), plus one without an id.
    for _ in 0..2 {
        w.ingest_line_from(a.as_bytes(), origin("tap-1:r:1"))
            .unwrap()
            .unwrap();
        w.ingest_line_from(f.as_bytes(), origin("tap-1:r:2"))
            .unwrap()
            .unwrap();
    }
    w.ingest_line(a.as_bytes()).unwrap().unwrap();
    // An id carried in the record itself (a sensor's eve.json) is honoured the same way.
    let own = r#"{"timestamp":"2024-01-01T00:00:03.000000+0000","event_type":"dns","dns":{"type":"query","rrname":"x"},"vedette":{"sensor":"tap-2","event_id":"tap-2:r:9"}}"#;
    w.ingest_line(own.as_bytes()).unwrap().unwrap();
    w.ingest_line(own.as_bytes()).unwrap().unwrap();
    let stats = w.finish().unwrap();
    assert_eq!(stats.duplicates, 3);
    assert_eq!(stats.total(), 4);
    assert_eq!(count(&dir, "alerts"), 2);
    assert_eq!(count(&dir, "flows"), 1);
    assert_eq!(count(&dir, "dns"), 1);
    // Rollups count each event once.
    assert_eq!(
        scalar(&dir, "SELECT sum(flows) FROM traffic_per_minute"),
        serde_json::json!(1)
    );
    assert_eq!(
        scalar(&dir, "SELECT count(*) FROM events WHERE sensor = 'tap-1'"),
        serde_json::json!(2)
    );
    assert_eq!(
        scalar(&dir, "SELECT sensor FROM dns"),
        serde_json::json!("tap-2")
    );
}

#[test]
fn detector_and_ml_fields_get_their_columns() {
    let dir = tmpdir("mlcols");
    let mut w = StoreWriter::open(&cfg(&dir)).unwrap();
    let a = r#"{"timestamp":"2024-01-01T00:00:01.000000+0000","event_type":"alert","src_ip":"10.0.0.9","alert":{"gid":9000,"signature_id":9000001,"signature":"scan","severity":2},"vedette":{"detector":"port_scan","explain":"412 ports > 100"}}"#;
    let f = r#"{"timestamp":"2024-01-01T00:00:02.000000+0000","event_type":"flow","src_ip":"10.0.0.9","proto":"TCP","flow":{"pkts_toserver":1},"vedette":{"ml":{"score":0.93,"label":"attack","model":"gbdt-1"}}}"#;
    w.ingest_line(a.as_bytes()).unwrap().unwrap();
    w.ingest_line(f.as_bytes()).unwrap().unwrap();
    w.finish().unwrap();
    assert_eq!(
        scalar(&dir, "SELECT detector FROM alerts"),
        serde_json::json!("port_scan")
    );
    assert_eq!(
        scalar(&dir, "SELECT ml_score FROM flows"),
        serde_json::json!(0.93)
    );
    assert_eq!(
        scalar(&dir, "SELECT ml_label || '/' || ml_model FROM flows"),
        serde_json::json!("attack/gbdt-1")
    );
}

#[test]
fn a_version_1_store_is_upgraded_in_place() {
    let dir = tmpdir("migrate");
    // A version-1 store: the old alert table and view, one row.
    {
        let conn = rusqlite::Connection::open(dir.join("vedette.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE ev_alert (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
               src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
               community_id TEXT, json TEXT NOT NULL, action TEXT, gid INTEGER, sid INTEGER, rev INTEGER,
               signature TEXT, category TEXT, severity INTEGER);
             CREATE TABLE ev_flow (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
               src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
               community_id TEXT, json TEXT NOT NULL, pkts_toserver INTEGER, pkts_toclient INTEGER,
               bytes_toserver INTEGER, bytes_toclient INTEGER, flow_start TEXT, flow_end TEXT, age INTEGER,
               state TEXT, reason TEXT, alerted INTEGER);",
        )
        .unwrap();
        for t in ["dns", "http", "tls", "anomaly", "stats", "other"] {
            let extra = if t == "other" {
                ", event_type TEXT NOT NULL"
            } else {
                ""
            };
            conn.execute_batch(&format!(
                "CREATE TABLE ev_{t} (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
                   src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
                   community_id TEXT, json TEXT NOT NULL{extra})"
            ))
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO ev_alert (ts, timestamp, json, sid) VALUES (1, 't', '{}', 42);
             CREATE VIEW alerts AS SELECT id, sid AS signature_id FROM ev_alert;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let mut w = StoreWriter::open(&cfg(&dir)).unwrap();
    w.ingest_line(alert(5, 43, "new", 1).as_bytes())
        .unwrap()
        .unwrap();
    w.finish().unwrap();
    assert_eq!(count(&dir, "alerts"), 2);
    assert_eq!(
        scalar(
            &dir,
            "SELECT group_concat(signature_id) FROM (SELECT signature_id FROM alerts ORDER BY id)"
        ),
        serde_json::json!("42,43")
    );
    assert_eq!(
        scalar(
            &dir,
            "SELECT count(*) FROM alerts WHERE detector IS NULL AND sensor IS NULL"
        ),
        serde_json::json!(2)
    );
}
