//! Detections as EVE `alert` records (Suricata's alert shape plus `vedette.detector` and
//! `vedette.explain`), and the engine's counters for the stats record.

use crate::{AnomalyStats, Detection, Detector};
use vedette_eve::{EventBatch, EventType, Header, HeaderTuple, JsonWriter};
use vedette_types::ip_proto;

/// Generator id of every anomaly alert (signature alerts use gid 1).
pub const GID: u32 = 9000;

/// Appends one `alert` record for `d` to `batch`.
pub fn write_alert(batch: &mut EventBatch, d: &Detection) {
    let (category, severity) = d.detector.class();
    let has_ports = matches!(d.proto, ip_proto::TCP | ip_proto::UDP | ip_proto::SCTP)
        && (d.src_port != 0 || d.dst_port != 0);
    let mut w = batch.begin(EventType::Alert);
    w.header(&Header {
        ts: d.ts,
        flow_id: None,
        pcap_cnt: None,
        vlan: &[],
        tuple: Some(HeaderTuple {
            src_ip: d.src_ip,
            dst_ip: d.dst_ip,
            src_port: d.src_port,
            dst_port: d.dst_port,
            proto: d.proto,
            has_ports,
        }),
    });
    w.object("alert");
    w.str("action", "allowed");
    w.u64("gid", u64::from(GID));
    w.u64("signature_id", u64::from(d.sid()));
    w.u64("rev", 1);
    w.str("signature", &d.signature);
    w.str("category", category);
    w.u64("severity", u64::from(severity));
    w.close_object();
    w.object("vedette");
    w.str("detector", d.detector.name());
    w.str("explain", &d.explain);
    w.close_object();
    w.finish();
}

/// Writes the `anomaly` object of the stats record into the open `stats` object.
pub fn write_stats(w: &mut JsonWriter<'_>, s: &AnomalyStats) {
    w.object("anomaly");
    w.u64("flows", s.flows);
    w.u64("dns_queries", s.dns_queries);
    w.u64("http_transactions", s.http_transactions);
    w.u64("allowlisted", s.allowlisted);
    w.u64("alerts", s.alerts_total());
    w.u64("suppressed", s.suppressed);
    w.object("alerts_by_detector");
    for d in Detector::ALL {
        w.u64(d.name(), s.alerts.get(d.index()).copied().unwrap_or(0));
    }
    w.close_object();
    w.object("max_tracked_reached");
    for d in Detector::ALL {
        w.u64(d.name(), s.cap_hits.get(d.index()).copied().unwrap_or(0));
    }
    w.close_object();
    w.close_object();
}
