//! The store queries behind the API. Every statement is fixed text with bound parameters;
//! user input only ever reaches SQLite as a parameter value. Each request opens its own
//! read-only connection (cheap for SQLite) with a run-time bound.

use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows one page returns at most.
pub const MAX_PAGE_ROWS: u32 = 500;
/// Rows one page returns by default.
const DEFAULT_PAGE_ROWS: u32 = 50;
/// Deepest page offset accepted.
const MAX_OFFSET: u32 = 100_000;
/// Longest text filter (bytes).
const MAX_FILTER_BYTES: usize = 256;
/// Run time of one API query before it is interrupted.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Most chart buckets a series has.
const MAX_BUCKETS: i64 = 2000;
/// Chart buckets aimed at when the range picks the width.
const TARGET_BUCKETS: i64 = 120;
/// Events one flow page lists at most.
const MAX_FLOW_EVENTS: i64 = 2000;
/// Rows in the "top" tables.
const TOP_ROWS: i64 = 10;
const MICROS: i64 = 1_000_000;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A request parameter was refused.
    #[error("bad parameter: {0}")]
    BadParam(String),
    /// Nothing has that id.
    #[error("not found")]
    NotFound,
    /// The store does not exist (yet).
    #[error("no store yet in {0}")]
    NoStore(String),
    /// The store could not be opened.
    #[error("{0}")]
    Store(vedette_store::StoreError),
    /// SQLite failed (or the query ran too long).
    #[error("query failed: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// Filters shared by the search routes (every field optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Earliest event time, microseconds since the epoch.
    pub from: Option<i64>,
    /// Latest event time, microseconds since the epoch.
    pub to: Option<i64>,
    /// Source or destination address.
    pub ip: Option<String>,
    /// Source or destination port.
    pub port: Option<u16>,
    /// Signature id (alerts).
    pub sid: Option<i64>,
    /// Transport protocol (TCP, UDP, ICMP, ...), any case.
    pub proto: Option<String>,
    /// Application protocol.
    pub app_proto: Option<String>,
    /// Free text searched in the whole EVE record.
    pub q: Option<String>,
    /// Detector name (alerts); `any` for every detector alert.
    pub detector: Option<String>,
    /// Sensor name (events from remote sensors).
    pub sensor: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
    /// Rows skipped.
    pub offset: Option<u32>,
}

/// Opens the store read-only with a run-time bound and runs `f`.
pub fn with_store<T>(
    dir: &Path,
    f: impl FnOnce(&Connection) -> Result<T, QueryError>,
) -> Result<T, QueryError> {
    let conn = vedette_store::open_read_only(dir).map_err(|e| match e {
        vedette_store::StoreError::Missing(d) => QueryError::NoStore(d.display().to_string()),
        other => QueryError::Store(other),
    })?;
    let started = Instant::now();
    conn.progress_handler(10_000, Some(move || started.elapsed() > QUERY_TIMEOUT));
    f(&conn)
}

fn checked_text(name: &str, v: &Option<String>) -> Result<Option<String>, QueryError> {
    match v {
        Some(s) if s.len() > MAX_FILTER_BYTES => Err(QueryError::BadParam(format!(
            "{name} longer than {MAX_FILTER_BYTES} bytes"
        ))),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => Ok(Some(s.trim().to_owned())),
        None => Ok(None),
    }
}

/// A WHERE clause under construction: fixed SQL fragments and their bound values.
#[derive(Default)]
struct Where {
    sql: Vec<&'static str>,
    args: Vec<Value>,
}

impl Where {
    fn add(&mut self, sql: &'static str, args: impl IntoIterator<Item = Value>) {
        self.sql.push(sql);
        self.args.extend(args);
    }

    fn text(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }
}

/// `%text%` for LIKE with `\` escaping the wildcards.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Filters common to every event view.
fn common_where(f: &Filter) -> Result<Where, QueryError> {
    let mut w = Where::default();
    if let Some(from) = f.from {
        w.add("ts >= ?", [Value::Integer(from)]);
    }
    if let Some(to) = f.to {
        w.add("ts <= ?", [Value::Integer(to)]);
    }
    if let Some(ip) = checked_text("ip", &f.ip)? {
        w.add(
            "(src_ip = ? OR dest_ip = ?)",
            [Value::Text(ip.clone()), Value::Text(ip)],
        );
    }
    if let Some(port) = f.port {
        let p = Value::Integer(i64::from(port));
        w.add("(src_port = ? OR dest_port = ?)", [p.clone(), p]);
    }
    if let Some(proto) = checked_text("proto", &f.proto)? {
        w.add("proto = ? COLLATE NOCASE", [Value::Text(proto)]);
    }
    if let Some(app) = checked_text("app_proto", &f.app_proto)? {
        w.add("app_proto = ? COLLATE NOCASE", [Value::Text(app)]);
    }
    if let Some(sensor) = checked_text("sensor", &f.sensor)? {
        w.add("sensor = ?", [Value::Text(sensor)]);
    }
    if let Some(q) = checked_text("q", &f.q)? {
        w.add("json LIKE ? ESCAPE '\\'", [Value::Text(like_pattern(&q))]);
    }
    Ok(w)
}

fn page(f: &Filter) -> Result<(u32, u32), QueryError> {
    let limit = f.limit.unwrap_or(DEFAULT_PAGE_ROWS);
    let offset = f.offset.unwrap_or(0);
    if limit == 0 || limit > MAX_PAGE_ROWS {
        return Err(QueryError::BadParam(format!(
            "limit must be 1..={MAX_PAGE_ROWS}"
        )));
    }
    if offset > MAX_OFFSET {
        return Err(QueryError::BadParam(format!(
            "offset must be at most {MAX_OFFSET}"
        )));
    }
    Ok((limit, offset))
}

fn cell(v: ValueRef<'_>) -> Json {
    match v {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(i) => json!(i),
        ValueRef::Real(r) => json!(r),
        ValueRef::Text(t) => Json::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(_) => Json::Null,
    }
}

/// Rows as JSON objects. `flow_id` is always text (it exceeds JavaScript's exact integers);
/// `json` is the parsed EVE record.
fn rows_json(
    conn: &Connection,
    sql: &str,
    args: &[Value],
    limit: usize,
) -> Result<Vec<Json>, QueryError> {
    let mut stmt = conn.prepare(sql)?;
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        if out.len() >= limit {
            break;
        }
        let mut obj = Map::new();
        for (i, name) in names.iter().enumerate() {
            let v = row.get_ref(i)?;
            let j = match name.as_str() {
                "flow_id" => match v {
                    ValueRef::Null => Json::Null,
                    ValueRef::Integer(i) => Json::String(i.to_string()),
                    other => Json::String(cell(other).as_str().unwrap_or_default().to_owned()),
                },
                "json" => match v {
                    ValueRef::Text(t) => serde_json::from_slice(t).unwrap_or(Json::Null),
                    _ => Json::Null,
                },
                _ => cell(v),
            };
            obj.insert(name.clone(), j);
        }
        out.push(Json::Object(obj));
    }
    Ok(out)
}

fn count(conn: &Connection, sql: &str, args: &[Value]) -> Result<i64, QueryError> {
    Ok(
        conn.query_row(sql, rusqlite::params_from_iter(args.iter()), |r| {
            r.get::<_, i64>(0)
        })?,
    )
}

fn has_column(conn: &Connection, view: &'static str, column: &str) -> Result<bool, QueryError> {
    let stmt = conn.prepare(&format!("SELECT * FROM {view} LIMIT 0"))?;
    Ok(stmt.column_names().contains(&column))
}

/// The detector name of an alert: the store's `detector` column when it has one, else the
/// EVE field.
fn detector_expr(conn: &Connection) -> Result<&'static str, QueryError> {
    Ok(if has_column(conn, "alerts", "detector")? {
        "detector"
    } else {
        "json_extract(json, '$.vedette.detector')"
    })
}

const ALERT_COLUMNS: &str = "id, ts, time, flow_id, src_ip, src_port, dest_ip, dest_port, \
proto, app_proto, action, signature_id, rev, signature, category, severity, sensor";

/// `/api/alerts`: a page of alerts, newest first, and how many match.
pub fn alerts(conn: &Connection, f: &Filter) -> Result<Json, QueryError> {
    let (limit, offset) = page(f)?;
    let mut w = common_where(f)?;
    if let Some(sid) = f.sid {
        w.add("signature_id = ?", [Value::Integer(sid)]);
    }
    let det = detector_expr(conn)?;
    let det_filter = checked_text("detector", &f.detector)?;
    // The detector expression is one of two fixed strings, never user text.
    let det_sql = match det_filter.as_deref() {
        None => None,
        Some("any") => Some(format!("{det} IS NOT NULL")),
        Some(_) => Some(format!("{det} = ?")),
    };
    let mut where_sql = w.text();
    let mut args = w.args;
    if let Some(d) = det_sql {
        where_sql.push_str(if where_sql.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
        where_sql.push_str(&d);
        if let Some(name) = det_filter.filter(|n| n != "any") {
            args.push(Value::Text(name));
        }
    }
    let total = count(
        conn,
        &format!("SELECT count(*) FROM alerts{where_sql}"),
        &args,
    )?;
    let sql = format!(
        "SELECT {ALERT_COLUMNS}, {det} AS detector, json FROM alerts{where_sql} \
         ORDER BY ts DESC, id DESC LIMIT {limit} OFFSET {offset}"
    );
    let items = rows_json(conn, &sql, &args, limit as usize)?;
    Ok(json!({ "total": total, "limit": limit, "offset": offset, "items": items }))
}

/// `/api/flows`: a page of flow records, newest first, and how many match.
pub fn flows(conn: &Connection, f: &Filter) -> Result<Json, QueryError> {
    let (limit, offset) = page(f)?;
    if f.sid.is_some() || f.detector.is_some() {
        return Err(QueryError::BadParam(
            "sid and detector filter alerts, not flows".into(),
        ));
    }
    let w = common_where(f)?;
    let where_sql = w.text();
    let ml = if has_column(conn, "flows", "ml_score")? {
        ", ml_score, ml_label, ml_model"
    } else {
        ""
    };
    let total = count(
        conn,
        &format!("SELECT count(*) FROM flows{where_sql}"),
        &w.args,
    )?;
    let sql = format!(
        "SELECT id, ts, time, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, \
         pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, flow_start, flow_end, \
         age, state, reason, alerted, sensor{ml} FROM flows{where_sql} \
         ORDER BY ts DESC, id DESC LIMIT {limit} OFFSET {offset}"
    );
    let items = rows_json(conn, &sql, &w.args, limit as usize)?;
    Ok(json!({ "total": total, "limit": limit, "offset": offset, "items": items }))
}

/// `/api/flows/{flow_id}`: every event of one flow, in time order.
pub fn flow_events(conn: &Connection, flow_id: &str) -> Result<Json, QueryError> {
    if flow_id.is_empty() || flow_id.len() > 20 || !flow_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::BadParam(
            "flow_id must be a decimal number".into(),
        ));
    }
    // Ids above i64::MAX are stored as text (see the store's schema).
    let id = match flow_id.parse::<i64>() {
        Ok(i) => Value::Integer(i),
        Err(_) => Value::Text(flow_id.to_owned()),
    };
    let events = rows_json(
        conn,
        &format!(
            "SELECT event_type, ts, time, flow_id, src_ip, src_port, dest_ip, dest_port, proto, \
             app_proto, json FROM events WHERE flow_id = ? ORDER BY ts, event_type \
             LIMIT {MAX_FLOW_EVENTS}"
        ),
        &[id],
        MAX_FLOW_EVENTS as usize,
    )?;
    if events.is_empty() {
        return Err(QueryError::NotFound);
    }
    Ok(json!({ "flow_id": flow_id, "events": events }))
}

/// Time covered by the store, microseconds (None when empty).
fn data_range(conn: &Connection) -> Result<Option<(i64, i64)>, QueryError> {
    let r: (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT min(m), max(x) FROM (
           SELECT min(ts) m, max(ts) x FROM flows UNION ALL
           SELECT min(ts), max(ts) FROM alerts UNION ALL
           SELECT min(ts), max(ts) FROM dns UNION ALL
           SELECT min(ts), max(ts) FROM http UNION ALL
           SELECT min(ts), max(ts) FROM tls UNION ALL
           SELECT min(ts), max(ts) FROM stats)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(match r {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    })
}

/// Bucket width in seconds for a span: about [`TARGET_BUCKETS`] buckets, whole minutes once a
/// bucket reaches a minute (then the per-minute rollups answer).
fn bucket_secs(span_us: i64) -> i64 {
    let span_s = (span_us / MICROS).max(1);
    let w = (span_s + TARGET_BUCKETS - 1) / TARGET_BUCKETS;
    let w = w.max((span_s + MAX_BUCKETS - 1) / MAX_BUCKETS).max(1);
    if w >= 60 {
        (w + 59) / 60 * 60
    } else {
        w
    }
}

/// `/api/overview`: the charts and tables of the overview page for a time range (default:
/// everything stored).
pub fn overview(conn: &Connection, f: &Filter) -> Result<Json, QueryError> {
    let Some((min_ts, max_ts)) = data_range(conn)? else {
        return Ok(json!({ "empty": true }));
    };
    let from = f.from.unwrap_or(min_ts);
    let to = f.to.unwrap_or(max_ts);
    if to < from {
        return Err(QueryError::BadParam("to is before from".into()));
    }
    let w = bucket_secs(to - from);
    let first = from / MICROS / w * w;
    let last = to / MICROS / w * w;
    let n = ((last - first) / w + 1).min(MAX_BUCKETS) as usize;
    let idx = |t: i64| -> Option<usize> {
        let i = (t - first) / w;
        (0..n as i64).contains(&i).then_some(i as usize)
    };
    let (mut bytes, mut pkts, mut nflows) = (vec![0f64; n], vec![0f64; n], vec![0f64; n]);
    let series_sql = if w >= 60 {
        // Rollups: per minute, by flow start.
        "SELECT minute_start / ?1 * ?1, sum(bytes), sum(pkts), sum(flows) FROM traffic_per_minute \
         WHERE minute_start >= ?2 AND minute_start <= ?3 GROUP BY 1"
    } else {
        "SELECT ts / 1000000 / ?1 * ?1, sum(bytes_toserver + bytes_toclient), \
         sum(pkts_toserver + pkts_toclient), count(*) FROM flows \
         WHERE ts >= ?2 * 1000000 AND ts < (?3 + ?1) * 1000000 GROUP BY 1"
    };
    {
        let mut stmt = conn.prepare(series_sql)?;
        let mut rows = stmt.query(rusqlite::params![w, first, last])?;
        while let Some(r) = rows.next()? {
            if let Some(i) = idx(r.get(0)?) {
                bytes[i] = r.get::<_, Option<f64>>(1)?.unwrap_or(0.0) / w as f64;
                pkts[i] = r.get::<_, Option<f64>>(2)?.unwrap_or(0.0) / w as f64;
                nflows[i] = r.get::<_, Option<f64>>(3)?.unwrap_or(0.0) / w as f64;
            }
        }
    }
    // Alerts by severity (1..=3, 4 = other) per bucket.
    let mut sev = vec![vec![0f64; n]; 4];
    {
        let mut stmt = conn.prepare(
            "SELECT ts / 1000000 / ?1 * ?1, severity, count(*) FROM alerts \
             WHERE ts >= ?2 * 1000000 AND ts < (?3 + ?1) * 1000000 GROUP BY 1, 2",
        )?;
        let mut rows = stmt.query(rusqlite::params![w, first, last])?;
        while let Some(r) = rows.next()? {
            if let Some(i) = idx(r.get(0)?) {
                let s: Option<i64> = r.get(1)?;
                let k = match s {
                    Some(1) => 0,
                    Some(2) => 1,
                    Some(3) => 2,
                    _ => 3,
                };
                sev[k][i] += r.get::<_, f64>(2)?;
            }
        }
    }
    let times: Vec<i64> = (0..n as i64).map(|i| first + i * w).collect();
    let (m_from, m_to) = (from / MICROS / 60 * 60, to / MICROS);
    let rollup_args = [Value::Integer(m_from), Value::Integer(m_to)];
    let protocols = rows_json(
        conn,
        "SELECT proto, app_proto, sum(flows) AS flows, sum(pkts) AS pkts, sum(bytes) AS bytes \
         FROM traffic_per_minute WHERE minute_start >= ? AND minute_start <= ? \
         GROUP BY proto, app_proto ORDER BY bytes DESC LIMIT 50",
        &rollup_args,
        50,
    )?;
    let talkers = rows_json(
        conn,
        &format!(
            "SELECT ip, sum(flows) AS flows, sum(pkts) AS pkts, sum(bytes) AS bytes \
             FROM hosts_per_minute WHERE minute_start >= ? AND minute_start <= ? \
             GROUP BY ip ORDER BY bytes DESC LIMIT {TOP_ROWS}"
        ),
        &rollup_args,
        TOP_ROWS as usize,
    )?;
    let range_args = [Value::Integer(from), Value::Integer(to)];
    let signatures = rows_json(
        conn,
        "SELECT signature_id, signature, min(severity) AS severity, count(*) AS alerts \
         FROM alerts WHERE ts >= ? AND ts <= ? GROUP BY signature_id, signature \
         ORDER BY alerts DESC, signature_id LIMIT 50",
        &range_args,
        50,
    )?;
    let alerts_n = count(
        conn,
        "SELECT count(*) FROM alerts WHERE ts >= ? AND ts <= ?",
        &range_args,
    )?;
    let flows_n = count(
        conn,
        "SELECT count(*) FROM flows WHERE ts >= ? AND ts <= ?",
        &range_args,
    )?;
    Ok(json!({
        "range": { "min_ts": min_ts, "max_ts": max_ts, "from": from, "to": to },
        "bucket_secs": w,
        "series": {
            "t": times, "bytes_per_s": bytes, "pkts_per_s": pkts, "flows_per_s": nflows,
            "alerts_sev1": sev[0], "alerts_sev2": sev[1], "alerts_sev3": sev[2],
            "alerts_other": sev[3],
        },
        "totals": { "alerts": alerts_n, "flows": flows_n },
        "protocols": protocols,
        "top_talkers": talkers,
        "top_signatures": signatures,
    }))
}

/// The newest stats event (None when there is none).
pub fn newest_stats(conn: &Connection) -> Result<Option<(String, Json)>, QueryError> {
    let mut stmt = conn.prepare("SELECT time, json FROM stats ORDER BY id DESC LIMIT 1")?;
    let mut rows = stmt.query([])?;
    Ok(match rows.next()? {
        Some(r) => {
            let time: String = r.get(0)?;
            let text: String = r.get(1)?;
            let v: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
            Some((time, v.get("stats").cloned().unwrap_or(Json::Null)))
        }
        None => None,
    })
}

/// `/api/health`: sensor health from the newest stats event.
pub fn health(conn: &Connection) -> Result<Json, QueryError> {
    let Some((time, s)) = newest_stats(conn)? else {
        return Ok(json!({ "available": false }));
    };
    let n = |p: &str| s.pointer(p).cloned().unwrap_or(Json::Null);
    let caps = s.pointer("/vedette/caps").cloned().unwrap_or(json!({}));
    let anomaly_caps = s
        .pointer("/anomaly/max_tracked_reached")
        .cloned()
        .unwrap_or(json!({}));
    Ok(json!({
        "available": true,
        "time": time,
        "packets": n("/decoder/pkts"),
        "bytes": n("/decoder/bytes"),
        "invalid": n("/decoder/invalid"),
        "kernel_packets": n("/capture/kernel_packets"),
        "kernel_drops": n("/capture/kernel_drops"),
        "flows": n("/flow/total"),
        "flows_active": n("/flow/active"),
        "alerts": n("/detect/alert"),
        "events_written": n("/vedette/events_written"),
        "bus_batches_dropped": caps.get("event_batches_dropped").cloned().unwrap_or(Json::Null),
        "bus_events_dropped": caps.get("events_dropped").cloned().unwrap_or(Json::Null),
        "reassembly_gaps": n("/tcp/reassembly_gap"),
        "segment_queue_full_drops": n("/tcp/segment_queue_full_drop"),
        "caps": caps,
        "anomaly_caps": anomaly_caps,
    }))
}

/// `/api/detectors`: anomaly-detector alerts by detector over time range.
pub fn detectors(conn: &Connection, f: &Filter) -> Result<Json, QueryError> {
    let det = detector_expr(conn)?;
    let w = common_where(f)?;
    let mut where_sql = w.text();
    where_sql.push_str(if where_sql.is_empty() {
        " WHERE "
    } else {
        " AND "
    });
    let sql = format!(
        "SELECT {det} AS detector, count(*) AS alerts, min(time) AS first, max(time) AS last, \
         count(DISTINCT src_ip) AS sources FROM alerts{where_sql}{det} IS NOT NULL \
         GROUP BY 1 ORDER BY alerts DESC LIMIT 100"
    );
    let by_detector = rows_json(conn, &sql, &w.args, 100)?;
    Ok(json!({ "detectors": by_detector }))
}

/// Bins of the ML score histogram over [0, 1].
const SCORE_BINS: i64 = 20;

/// `/api/ml`: the distribution of flow ML scores by label, and the highest-scored flows.
pub fn ml(conn: &Connection, f: &Filter) -> Result<Json, QueryError> {
    if !has_column(conn, "flows", "ml_score")? {
        return Ok(json!({ "available": false, "reason": "this store has no ML columns" }));
    }
    let w = common_where(f)?;
    let mut where_sql = w.text();
    where_sql.push_str(if where_sql.is_empty() {
        " WHERE "
    } else {
        " AND "
    });
    let hist_sql = format!(
        "SELECT max(0, min({SCORE_BINS} - 1, CAST(ml_score * {SCORE_BINS} AS INTEGER))) AS bin, \
         coalesce(ml_label, '') AS label, count(*) AS flows \
         FROM flows{where_sql}ml_score IS NOT NULL GROUP BY 1, 2 ORDER BY 1"
    );
    let hist = rows_json(conn, &hist_sql, &w.args, 10_000)?;
    let scored = count(
        conn,
        &format!("SELECT count(*) FROM flows{where_sql}ml_score IS NOT NULL"),
        &w.args,
    )?;
    let top = rows_json(
        conn,
        &format!(
            "SELECT flow_id, time, src_ip, src_port, dest_ip, dest_port, proto, app_proto, \
             ml_score, ml_label FROM flows{where_sql}ml_score IS NOT NULL \
             ORDER BY ml_score DESC LIMIT 20"
        ),
        &w.args,
        20,
    )?;
    Ok(json!({
        "available": true, "bins": SCORE_BINS, "scored_flows": scored,
        "histogram": hist, "top": top,
    }))
}

/// Row id of the newest alert (0 when none or no store).
pub fn last_alert_id(dir: &Path) -> i64 {
    with_store(dir, |c| {
        Ok(c.query_row("SELECT coalesce(max(id), 0) FROM alerts", [], |r| r.get(0))?)
    })
    .unwrap_or(0)
}

/// Alerts stored after row `after`, oldest first (empty when the store is unreadable).
pub fn alerts_after(dir: &Path, after: i64, max: usize) -> Vec<(i64, String)> {
    let res = with_store(dir, |c| {
        let mut stmt = c.prepare("SELECT id, json FROM alerts WHERE id > ? ORDER BY id LIMIT ?")?;
        let rows = stmt.query_map(rusqlite::params![after, max as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    });
    res.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket_secs(60 * MICROS), 1);
        assert_eq!(bucket_secs(300 * MICROS), 3);
        assert_eq!(bucket_secs(3600 * MICROS), 30);
        assert_eq!(bucket_secs(7200 * MICROS), 60);
        assert_eq!(bucket_secs(7300 * MICROS), 120);
        assert_eq!(bucket_secs(86_400 * MICROS), 720);
        assert!(86_400 * 365 / bucket_secs(86_400 * 365 * MICROS) <= MAX_BUCKETS);
    }

    #[test]
    fn page_limits() {
        let f = Filter {
            limit: Some(MAX_PAGE_ROWS + 1),
            ..Filter::default()
        };
        assert!(matches!(page(&f), Err(QueryError::BadParam(_))));
        assert_eq!(page(&Filter::default()).ok(), Some((50, 0)));
    }
}
