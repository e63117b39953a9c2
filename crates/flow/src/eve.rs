//! The EVE `flow` record, with Suricata's field names and shapes.

use crate::community_id::community_id_v1;
use crate::table::{EndReason, Flow};
use vedette_eve::{EventBatch, EventType, Header, HeaderTuple, JsonWriter};
use vedette_types::ip_proto;

/// Whether a protocol's EVE records carry ports.
pub fn has_ports(proto: u8) -> bool {
    matches!(proto, ip_proto::TCP | ip_proto::UDP | ip_proto::SCTP)
}

/// The logged tuple of a flow (client as source).
pub fn header_tuple(f: &Flow) -> HeaderTuple {
    HeaderTuple {
        src_ip: f.src_ip,
        dst_ip: f.dst_ip,
        src_port: f.src_port,
        dst_port: f.dst_port,
        proto: f.proto,
        has_ports: has_ports(f.proto),
    }
}

/// The counters and start time shared by the `flow` object of flow and alert records, written
/// into the open object.
pub fn write_flow_counters(w: &mut JsonWriter<'_>, f: &Flow) {
    w.u64("pkts_toserver", f.pkts_toserver);
    w.u64("pkts_toclient", f.pkts_toclient);
    w.u64("bytes_toserver", f.bytes_toserver);
    w.u64("bytes_toclient", f.bytes_toclient);
    w.timestamp("start", f.start);
}

/// The Community ID of a flow (ICMP uses the client's first type/code).
pub fn flow_community_id(f: &Flow, seed: u16) -> String {
    let (sp, dp) = match f.icmp_ts.or(f.icmp_tc) {
        Some((t, c)) if !has_ports(f.proto) => (u16::from(t), u16::from(c)),
        _ => (f.src_port, f.dst_port),
    };
    community_id_v1(seed, f.src_ip, f.dst_ip, sp, dp, f.proto)
}

fn hex2(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]
}

/// Appends a `flow` event for a finished flow to `batch`.
pub fn write_flow_event(
    batch: &mut EventBatch,
    f: &Flow,
    reason: EndReason,
    community_id_seed: Option<u16>,
) {
    write_flow_event_with(batch, f, reason, community_id_seed, f.alerted, &mut |_| {});
}

/// Appends a `flow` event with `flow.alerted` given by the caller and `extra` fields (vedette's
/// own, under the `vedette` key) written last.
pub fn write_flow_event_with(
    batch: &mut EventBatch,
    f: &Flow,
    reason: EndReason,
    community_id_seed: Option<u16>,
    alerted: bool,
    extra: &mut dyn FnMut(&mut JsonWriter<'_>),
) {
    let mut w = batch.begin(EventType::Flow);
    w.header(&Header {
        ts: f.start,
        flow_id: Some(f.id),
        pcap_cnt: None,
        vlan: f.vlan.get(..usize::from(f.vlan_count)).unwrap_or(&[]),
        tuple: Some(header_tuple(f)),
    });
    if let Some((t, c)) = f.icmp_ts {
        w.u64("icmp_type", u64::from(t));
        w.u64("icmp_code", u64::from(c));
    }
    if let Some((t, c)) = f.icmp_tc {
        w.u64("response_icmp_type", u64::from(t));
        w.u64("response_icmp_code", u64::from(c));
    }
    if let Some(name) = f.app_proto.eve_name() {
        w.str("app_proto", name);
    }
    if let Some(name) = f.app_proto_orig.eve_name() {
        w.str("app_proto_orig", name);
    }
    w.object("flow");
    write_flow_counters(&mut w, f);
    w.timestamp("end", f.last);
    w.i64("age", f.age_secs());
    w.str("state", f.state.name());
    w.str("reason", reason.name());
    w.bool("alerted", alerted);
    w.close_object();
    if let Some(sess) = f.tcp {
        let all = f.tcp_flags_ts | f.tcp_flags_tc;
        w.object("tcp");
        w.bytes_str("tcp_flags", &hex2(all));
        w.bytes_str("tcp_flags_ts", &hex2(f.tcp_flags_ts));
        w.bytes_str("tcp_flags_tc", &hex2(f.tcp_flags_tc));
        for (bit, name) in [
            (0x02, "syn"),
            (0x01, "fin"),
            (0x04, "rst"),
            (0x08, "psh"),
            (0x10, "ack"),
            (0x20, "urg"),
            (0x40, "ecn"),
            (0x80, "cwr"),
        ] {
            if all & bit != 0 {
                w.bool(name, true);
            }
        }
        w.str("state", sess.state.name());
        w.close_object();
    }
    if let Some(seed) = community_id_seed {
        let id = flow_community_id(f, seed);
        w.str("community_id", &id);
    }
    extra(&mut w);
    w.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{FlowConfig, FlowTable, PacketFacts};
    use crate::tcp::Segment;
    use vedette_types::Timestamp;

    #[test]
    fn single_syn_flow_matches_suricata_shape() {
        // Mirrors suricata-verify bug-6733-syn-packet-flow-output.
        let mut t = FlowTable::new(FlowConfig::default());
        let mut batch = EventBatch::default();
        let p = PacketFacts {
            ts: Timestamp::from_parts(1_700_000_000, 5_000),
            src: "147.183.77.73".parse().unwrap(),
            dst: "155.166.235.43".parse().unwrap(),
            sport: 38212,
            dport: 25,
            proto: 6,
            vlan: [0; 3],
            vlan_count: 0,
            len: 66,
            payload_len: 0,
            tcp_window: 0,
            tcp: Some(Segment {
                flags: 0x02,
                seq: 1,
                ack: 0,
                payload_len: 0,
            }),
            icmp: None,
            icmp_error: false,
            icmp_embedded: None,
            bad_checksum: false,
        };
        t.update(&p, &mut |_, _| {});
        t.shutdown(p.ts, &mut |f, r| {
            write_flow_event(&mut batch, f, r, Some(0))
        });
        let v: serde_json::Value = serde_json::from_slice(batch.record(0).unwrap()).unwrap();
        assert_eq!(v["event_type"], "flow");
        assert_eq!(v["proto"], "TCP");
        assert_eq!(v["src_port"], 38212);
        assert_eq!(v["flow"]["bytes_toserver"], 66);
        assert_eq!(v["flow"]["pkts_toclient"], 0);
        assert_eq!(v["flow"]["state"], "new");
        assert_eq!(v["flow"]["reason"], "shutdown");
        assert_eq!(v["flow"]["alerted"], false);
        assert_eq!(v["flow"]["age"], 0);
        assert_eq!(v["tcp"]["state"], "syn_sent");
        assert_eq!(v["tcp"]["tcp_flags"], "02");
        assert_eq!(v["tcp"]["tcp_flags_ts"], "02");
        assert_eq!(v["tcp"]["tcp_flags_tc"], "00");
        assert_eq!(v["tcp"]["syn"], true);
        assert!(v["community_id"].as_str().unwrap().starts_with("1:"));
        assert_eq!(v["timestamp"], "2023-11-14T22:13:20.000005+0000");
    }
}
