//! EVE `alert` records: Suricata's common header in the packet's direction, the `alert` object,
//! the flow's app-layer object for transaction alerts, and the flow summary Suricata adds.

use vedette_detect::{Alert, Detector, FlowInput, SigInfo};
use vedette_eve::{EventBatch, EventType, Header, HeaderTuple, JsonWriter};
use vedette_flow::eve::{flow_community_id, has_ports, write_flow_counters};
use vedette_flow::Flow;
use vedette_types::{AppProto, Direction, Timestamp};

use crate::EveOptions;

/// Where an alert happened.
pub(crate) struct AlertCtx<'a> {
    pub ts: Timestamp,
    pub pcap_cnt: Option<u64>,
    /// The packet's tuple (source = sender of the inspected data).
    pub tuple: Option<HeaderTuple>,
    pub vlan: &'a [u16],
    pub flow: Option<&'a Flow>,
    /// The payload of the packet the alert was raised on (empty for flow-end inspections).
    pub payload: &'a [u8],
}

/// Most payload bytes an alert carries (Suricata's default `payload-buffer-size`).
const MAX_ALERT_PAYLOAD: usize = 4096;

/// The flow as seen from direction `dir` (source = sender).
pub(crate) fn oriented_tuple(flow: &Flow, dir: Direction) -> HeaderTuple {
    let (src_ip, dst_ip, src_port, dst_port) = match dir {
        Direction::ToServer => (flow.src_ip, flow.dst_ip, flow.src_port, flow.dst_port),
        Direction::ToClient => (flow.dst_ip, flow.src_ip, flow.dst_port, flow.src_port),
    };
    HeaderTuple {
        src_ip,
        dst_ip,
        src_port,
        dst_port,
        proto: flow.proto,
        has_ports: has_ports(flow.proto),
    }
}

/// What detection needs to know about a flow for one packet in direction `dir`.
pub(crate) fn flow_input(flow: &Flow, dir: Direction, app_detected_now: bool) -> FlowInput {
    let established = flow.pkt_established;
    FlowInput {
        slot: flow.handle().index(),
        id: flow.id,
        dir,
        established,
        app_proto: flow.app_proto,
        app_detected_now,
        client: (flow.src_ip, flow.src_port),
        server: (flow.dst_ip, flow.dst_port),
        proto: flow.proto,
        stream_size: flow.tcp.as_ref().map(|t| {
            [
                t.stream_size(Direction::ToServer),
                t.stream_size(Direction::ToClient),
            ]
        }),
    }
}

/// Writes every alert in `det.alerts`; `app` writes the transaction's object (for tx alerts).
/// Returns true when at least one alert was written.
pub(crate) fn write_alerts(
    batch: &mut EventBatch,
    eve: &EveOptions,
    det: &Detector,
    ctx: &AlertCtx<'_>,
    app: &mut dyn FnMut(&mut JsonWriter<'_>),
) -> bool {
    let engine = det.engine();
    let mut any = false;
    for a in det.alerts() {
        let Some(info) = engine.info(a.sig) else {
            continue;
        };
        write_one(batch, eve, info, a, ctx, app);
        any = true;
    }
    any
}

fn write_one(
    batch: &mut EventBatch,
    eve: &EveOptions,
    info: &SigInfo,
    a: &Alert,
    ctx: &AlertCtx<'_>,
    app: &mut dyn FnMut(&mut JsonWriter<'_>),
) {
    let mut w = batch.begin(EventType::Alert);
    w.header(&Header {
        ts: ctx.ts,
        flow_id: ctx.flow.map(|f| f.id),
        pcap_cnt: ctx.pcap_cnt,
        vlan: ctx.vlan,
        tuple: ctx.tuple,
    });
    if let (Some(seed), Some(f)) = (eve.community_id_seed, ctx.flow) {
        let id = flow_community_id(f, seed);
        w.str("community_id", &id);
    }
    w.object("alert");
    // IDS mode: nothing is blocked whatever the rule's action.
    w.str("action", "allowed");
    w.u64("gid", u64::from(info.gid));
    w.u64("signature_id", u64::from(info.sid));
    w.u64("rev", u64::from(info.rev));
    w.str("signature", &info.msg);
    w.str("category", &info.category);
    w.u64("severity", u64::from(info.severity));
    if !info.metadata.is_empty() {
        w.object("metadata");
        for (k, vals) in &info.metadata {
            w.array(k);
            for v in vals {
                w.elem_str(v);
            }
            w.close_array();
        }
        w.close_object();
    }
    w.close_object();
    if let Some(f) = ctx.flow {
        if let Some(name) = f.app_proto.eve_name() {
            if f.app_proto != AppProto::Unknown {
                w.str("app_proto", name);
            }
        }
        w.str(
            "direction",
            match a.dir {
                Direction::ToServer => "to_server",
                Direction::ToClient => "to_client",
            },
        );
        w.object("flow");
        write_flow_counters(&mut w, f);
        w.ip("src_ip", f.src_ip);
        w.ip("dest_ip", f.dst_ip);
        if has_ports(f.proto) {
            w.u64("src_port", u64::from(f.src_port));
            w.u64("dest_port", u64::from(f.dst_port));
        }
        w.close_object();
    }
    if a.tx_id.is_some() {
        app(&mut w);
    }
    if eve.alert_payload {
        let p = ctx.payload.get(..MAX_ALERT_PAYLOAD).unwrap_or(ctx.payload);
        w.base64("payload", p);
        // Lossy and only when asked for: alerts are rare next to packets.
        let printable: String = p
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        w.str("payload_printable", &printable);
        w.u64("stream", 0);
    }
    w.finish();
}
