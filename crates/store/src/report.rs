//! Canned reports (SQL over the views) and the self-contained HTML report with SVG charts.

use crate::query::{run_query, Cell, QueryLimits, QueryResult};
use crate::schema::EVENT_TABLES;
use crate::StoreError;
use plotters::prelude::*;
use rusqlite::Connection;

/// The canned reports of `vedette report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CannedReport {
    /// Hosts by bytes in flows they took part in.
    TopTalkers,
    /// Alerts grouped by signature.
    Alerts,
    /// Traffic by protocol and app protocol.
    Protocols,
    /// Most queried DNS names.
    Dns,
    /// Most seen TLS server names.
    Tls,
    /// Per-minute flows, bytes, alerts and events.
    Timeline,
}

impl CannedReport {
    /// Parses a report name as typed on the command line.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "top-talkers" => CannedReport::TopTalkers,
            "alerts" => CannedReport::Alerts,
            "protocols" => CannedReport::Protocols,
            "dns" => CannedReport::Dns,
            "tls" => CannedReport::Tls,
            "timeline" => CannedReport::Timeline,
            _ => return None,
        })
    }

    /// The names, for help and errors.
    pub const NAMES: &'static str = "top-talkers, alerts, protocols, dns, tls, timeline";

    /// Its SQL; `?1` is the time cutoff in microseconds, `?2` the row limit.
    fn sql(self) -> &'static str {
        match self {
            CannedReport::TopTalkers => {
                "SELECT ip, sum(bytes) AS bytes, sum(pkts) AS pkts, sum(flows) AS flows
                 FROM hosts_per_minute WHERE minute_start * 1000000 >= ?1 - 59999999
                 GROUP BY ip ORDER BY bytes DESC, ip LIMIT ?2"
            }
            CannedReport::Alerts => {
                "SELECT signature_id, signature, severity, count(*) AS alerts,
                 count(DISTINCT src_ip) AS sources, min(time) AS first, max(time) AS last
                 FROM alerts WHERE ts >= ?1 GROUP BY signature_id, signature, severity
                 ORDER BY alerts DESC, signature_id LIMIT ?2"
            }
            CannedReport::Protocols => {
                "SELECT proto, app_proto, sum(flows) AS flows, sum(pkts) AS pkts, sum(bytes) AS bytes
                 FROM traffic_per_minute WHERE minute_start * 1000000 >= ?1 - 59999999
                 GROUP BY proto, app_proto ORDER BY bytes DESC, proto, app_proto LIMIT ?2"
            }
            CannedReport::Dns => {
                "SELECT rrname, count(*) AS queries, count(DISTINCT src_ip) AS clients,
                 group_concat(DISTINCT rrtype) AS rrtypes
                 FROM dns WHERE ts >= ?1 AND dns_type = 'query' AND rrname IS NOT NULL
                 GROUP BY rrname ORDER BY queries DESC, rrname LIMIT ?2"
            }
            CannedReport::Tls => {
                "SELECT sni, count(*) AS handshakes, count(DISTINCT src_ip) AS clients,
                 group_concat(DISTINCT version) AS versions
                 FROM tls WHERE ts >= ?1 GROUP BY sni ORDER BY handshakes DESC, sni LIMIT ?2"
            }
            CannedReport::Timeline => {
                "SELECT m.time, coalesce(t.flows, 0) AS flows, coalesce(t.bytes, 0) AS bytes,
                 coalesce(a.alerts, 0) AS alerts, m.events
                 FROM (SELECT minute_start, time, sum(events) AS events FROM events_per_minute
                       GROUP BY minute_start) m
                 LEFT JOIN (SELECT minute_start, sum(flows) AS flows, sum(bytes) AS bytes
                       FROM traffic_per_minute GROUP BY minute_start) t USING (minute_start)
                 LEFT JOIN (SELECT minute_start, sum(alerts) AS alerts FROM alerts_per_minute
                       GROUP BY minute_start) a USING (minute_start)
                 WHERE m.minute_start * 1000000 >= ?1 - 59999999
                 ORDER BY m.minute_start LIMIT ?2"
            }
        }
    }
}

/// Time of the newest stored event (µs), or `None` for an empty store. `--since` counts back
/// from it: stores of replayed captures are in packet time, not the wall clock's.
pub fn newest_ts(conn: &Connection) -> Result<Option<i64>, StoreError> {
    let mut newest: Option<i64> = None;
    for t in EVENT_TABLES {
        let ts: Option<i64> = conn
            .query_row(&format!("SELECT max(ts) FROM {t}"), [], |r| r.get(0))
            .map_err(|e| StoreError::Sql {
                context: "reading the newest event".into(),
                error: e,
            })?;
        newest = newest.max(ts);
    }
    Ok(newest)
}

/// The cutoff (µs) for events of the last `since_secs` before the newest event.
fn cutoff(conn: &Connection, since_secs: Option<u64>) -> Result<i64, StoreError> {
    Ok(match (since_secs, newest_ts(conn)?) {
        (Some(s), Some(n)) => n.saturating_sub(
            i64::try_from(s)
                .unwrap_or(i64::MAX)
                .saturating_mul(1_000_000),
        ),
        _ => i64::MIN,
    })
}

/// Runs a canned report over the events of the last `since_secs` (all when `None`).
pub fn canned_report(
    conn: &Connection,
    report: CannedReport,
    since_secs: Option<u64>,
    limit: u32,
) -> Result<QueryResult, StoreError> {
    let from = cutoff(conn, since_secs)?;
    run_query(
        conn,
        report.sql(),
        &[&from, &i64::from(limit)],
        QueryLimits::default(),
    )
}

fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// Chart size in pixels; the HTML grid cells match it.
pub const CHART_W: u32 = 600;
/// Chart height in pixels.
pub const CHART_H: u32 = 300;

fn q(conn: &Connection, sql: &str, from: i64) -> Result<QueryResult, StoreError> {
    run_query(conn, sql, &[&from], QueryLimits::default())
}

fn chart_err(chart: &'static str) -> impl Fn(String) -> StoreError {
    move |reason| StoreError::Chart { chart, reason }
}

/// Shortens a label for an axis (plotters escapes it for SVG).
fn label(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > 40 {
        let mut t: String = clean.chars().take(39).collect();
        t.push('…');
        t
    } else {
        clean
    }
}

/// A time series chart: one line per series; x in minutes since the first point.
fn line_chart(
    title: &'static str,
    y_label: &str,
    series: &[(String, Vec<(i64, f64)>)],
) -> Result<String, StoreError> {
    let err = chart_err(title);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (CHART_W, CHART_H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let points = series.iter().flat_map(|(_, p)| p.iter());
        let x0 = points.clone().map(|p| p.0).min().unwrap_or(0);
        let x1 = points.clone().map(|p| p.0).max().unwrap_or(0).max(x0 + 1);
        let y1 = points.map(|p| p.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..((x1 - x0) as f64), 0f64..y1)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("minutes since the first point")
            .y_desc(y_label)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|v| human(*v))
            .y_label_formatter(&|v| human(*v))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (i, (name, pts)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let data: Vec<(f64, f64)> = pts.iter().map(|(x, y)| ((x - x0) as f64, *y)).collect();
            chart
                .draw_series(LineSeries::new(data, color.stroke_width(2)))
                .map_err(|e| err(e.to_string()))?
                .label(label(name))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// A horizontal bar chart of (label, value), largest first.
fn bar_chart(title: &'static str, bars: &[(String, f64)]) -> Result<String, StoreError> {
    let err = chart_err(title);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (CHART_W, CHART_H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let n = bars.len().max(1);
        let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1.0) * 1.05;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(8)
            .build_cartesian_2d(0f64..max, 0f64..n as f64)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(5)
            .x_label_formatter(&|v| human(*v))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                let top = (n - i) as f64;
                let color = Palette99::pick(i).mix(0.75).filled();
                Rectangle::new([(0.0, top - 0.9), (*v, top - 0.1)], color)
            }))
            .map_err(|e| err(e.to_string()))?;
        // Labels sit on the bars (left-aligned), so long names need no axis room.
        let style = TextStyle::from(("sans-serif", 13).into_font()).pos(
            plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            ),
        );
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (name, v))| {
                let mid = (n - i) as f64 - 0.5;
                Text::new(
                    format!("{} ({})", label(name), human(*v)),
                    (max * 0.01, mid),
                    style.clone(),
                )
            }))
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// 1234567 -> "1.2M": short axis and bar labels.
fn human(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn to_bars(r: &QueryResult) -> Vec<(String, f64)> {
    r.rows
        .iter()
        .map(|row| {
            let name = row.first().map(Cell::text).unwrap_or_default();
            let v = row.get(1).and_then(Cell::as_i64).unwrap_or(0) as f64;
            (
                if name.is_empty() {
                    "(none)".into()
                } else {
                    name
                },
                v,
            )
        })
        .collect()
}

/// Groups rows of (series, minute_start, value) into series.
fn to_series(r: &QueryResult) -> Vec<(String, Vec<(i64, f64)>)> {
    let mut out: Vec<(String, Vec<(i64, f64)>)> = Vec::new();
    for row in &r.rows {
        let name = row.first().map(Cell::text).unwrap_or_default();
        let minute = row.get(1).and_then(Cell::as_i64).unwrap_or(0) / 60;
        let v = row.get(2).and_then(Cell::as_i64).unwrap_or(0) as f64;
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, pts)) => pts.push((minute, v)),
            None => out.push((name, vec![(minute, v)])),
        }
    }
    out
}

fn html_table(title: &str, r: &QueryResult) -> String {
    let mut s = format!("<h2>{}</h2>\n<table>\n<tr>", html_escape(title));
    for c in &r.columns {
        s.push_str(&format!("<th>{}</th>", html_escape(c)));
    }
    s.push_str("</tr>\n");
    for row in &r.rows {
        s.push_str("<tr>");
        for c in row {
            s.push_str(&format!("<td>{}</td>", html_escape(&c.text())));
        }
        s.push_str("</tr>\n");
    }
    if r.rows.is_empty() {
        s.push_str(&format!(
            "<tr><td colspan=\"{}\">no data</td></tr>\n",
            r.columns.len().max(1)
        ));
    }
    s.push_str("</table>\n");
    s
}

/// Renders the HTML report of the events of the last `since_secs` (all when `None`): six SVG
/// charts in a fixed grid, then tables. Everything from the store is HTML-escaped.
pub fn html_report(conn: &Connection, since_secs: Option<u64>) -> Result<String, StoreError> {
    let from = cutoff(conn, since_secs)?;
    let minute_filter = "minute_start * 1000000 >= ?1 - 59999999";
    let traffic = q(
        conn,
        &format!("SELECT 'bytes', minute_start, sum(bytes) FROM traffic_per_minute WHERE {minute_filter} GROUP BY minute_start ORDER BY minute_start"),
        from,
    )?;
    let protocols = q(
        conn,
        &format!("SELECT CASE WHEN app_proto = '' THEN proto ELSE proto || '/' || app_proto END, sum(bytes) AS b FROM traffic_per_minute WHERE {minute_filter} GROUP BY 1 ORDER BY b DESC LIMIT 10"),
        from,
    )?;
    let talkers = q(
        conn,
        &format!("SELECT ip, sum(bytes) AS b FROM hosts_per_minute WHERE {minute_filter} GROUP BY ip ORDER BY b DESC, ip LIMIT 10"),
        from,
    )?;
    let alert_timeline = q(
        conn,
        &format!("SELECT 'severity ' || severity, minute_start, sum(alerts) FROM alerts_per_minute WHERE {minute_filter} GROUP BY severity, minute_start ORDER BY severity, minute_start"),
        from,
    )?;
    let signatures = q(
        conn,
        &format!("SELECT signature, sum(alerts) AS n FROM alerts_per_minute WHERE {minute_filter} GROUP BY signature_id ORDER BY n DESC LIMIT 10"),
        from,
    )?;
    let anomalies = q(
        conn,
        &format!("SELECT event_type, minute_start, events FROM events_per_minute WHERE {minute_filter} AND event_type IN ('anomaly', 'alert') ORDER BY event_type, minute_start"),
        from,
    )?;
    let charts = [
        line_chart("Traffic over time", "bytes", &to_series(&traffic))?,
        bar_chart("Protocol mix (bytes)", &to_bars(&protocols))?,
        bar_chart("Top talkers (bytes)", &to_bars(&talkers))?,
        line_chart("Alerts by severity", "alerts", &to_series(&alert_timeline))?,
        bar_chart("Top signatures", &to_bars(&signatures))?,
        line_chart("Anomaly and alert events", "events", &to_series(&anomalies))?,
    ];
    let counts = q(
        conn,
        "SELECT event_type, sum(events) AS events FROM events_per_minute WHERE minute_start * 1000000 >= ?1 - 59999999 GROUP BY event_type ORDER BY events DESC",
        from,
    )?;
    let recent_alerts = q(
        conn,
        "SELECT time, signature_id, signature, severity, src_ip, src_port, dest_ip, dest_port, proto FROM alerts WHERE ts >= ?1 ORDER BY ts DESC LIMIT 100",
        from,
    )?;
    let limit = 20;
    let top_talkers = canned_report(conn, CannedReport::TopTalkers, since_secs, limit)?;
    let alert_groups = canned_report(conn, CannedReport::Alerts, since_secs, limit)?;
    let protocol_rows = canned_report(conn, CannedReport::Protocols, since_secs, limit)?;
    let dns = canned_report(conn, CannedReport::Dns, since_secs, limit)?;
    let tls = canned_report(conn, CannedReport::Tls, since_secs, limit)?;

    let mut html = String::with_capacity(256 * 1024);
    html.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>vedette report</title><style>\
         body{{margin:0;font-family:sans-serif;background:#fff;color:#111}}\
         header{{height:60px;box-sizing:border-box;padding:14px 20px;background:#1d3557;color:#fff}}\
         header h1{{margin:0;font-size:22px}}\
         .charts{{display:grid;grid-template-columns:repeat(2,{cw}px);grid-auto-rows:{ch}px;gap:0}}\
         .chart{{width:{cw}px;height:{ch}px;overflow:hidden}}\
         .chart svg{{display:block}}\
         main{{padding:0 20px 40px}}\
         table{{border-collapse:collapse;margin-bottom:20px;font-size:13px}}\
         td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left;max-width:480px;overflow-wrap:anywhere}}\
         th{{background:#eef}}</style></head><body>\n\
         <header><h1>vedette report{}</h1></header>\n<div class=\"charts\">\n",
        match since_secs {
            Some(s) => format!(" — last {s} s of stored events"),
            None => String::new(),
        },
        cw = CHART_W,
        ch = CHART_H
    ));
    for c in &charts {
        // The SVG comes from plotters, which escapes every text it draws.
        html.push_str("<div class=\"chart\">");
        html.push_str(c);
        html.push_str("</div>\n");
    }
    html.push_str("</div>\n<main>\n");
    html.push_str(&html_table("Events by type", &counts));
    html.push_str(&html_table("Top talkers", &top_talkers));
    html.push_str(&html_table("Protocols", &protocol_rows));
    html.push_str(&html_table("Alerts by signature", &alert_groups));
    html.push_str(&html_table("Recent alerts (newest 100)", &recent_alerts));
    html.push_str(&html_table("DNS names", &dns));
    html.push_str(&html_table("TLS server names", &tls));
    html.push_str("</main></body></html>\n");
    Ok(html)
}
