//! The per-worker packet pipeline: decode → IP defragmentation → flow table → (app layer and
//! detection, later) → EVE events, with the counters that feed the `stats` event.
//!
//! Owns: what happens to one packet inside one worker, and the worker's shard of flow state.
//! Must not: spawn threads, do I/O, read a clock (time comes from packets and from `tick`),
//! allocate per packet in steady state, or panic on any input. Threads, channels and outputs
//! belong to the binary.
#![forbid(unsafe_code)]

mod alert;
mod app;
mod ml;
mod stats;

pub use app::AppStats;
pub use ml::{FlowScorer, MlScoring, MlStats, ML_GID, ML_SID};
pub use stats::{write_stats_event, write_stats_event_with, EngineStats, RunCounters};
pub use vedette_applayer::AppLimits;
pub use vedette_detect::{DetectStats, Detector, Engine as RuleEngine};
pub use vedette_flow::StreamConfig;

use std::sync::Arc;

use app::{AppLayer, PacketCtx, TcpCtx};
use ml::FeatureStage;

use vedette_capture::Packet;
use vedette_decode::{decode, decode_ip, DecodeConfig, DecodeEvent, Decoded, Events, Ip, L4};
use vedette_eve::{EventBatch, EventType, Header, HeaderTuple};
use vedette_flow::eve::{has_ports, write_flow_event_with};
use vedette_flow::features::AppFacts;
use vedette_flow::{
    DefragConfig, Defragmenter, EndReason, Flow, FlowConfig, FlowTable, PacketFacts, Segment,
};
use vedette_types::{ip_proto, Direction};
use vedette_types::{LinkType, Timestamp};

/// EVE output choices that change what the engine writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EveOptions {
    /// Write `flow` events.
    pub flow: bool,
    /// Write decoder `anomaly` events.
    pub anomaly: bool,
    /// Include the packet (base64) and link type in anomaly events.
    pub anomaly_packethdr: bool,
    /// Add `community_id` with this seed.
    pub community_id_seed: Option<u16>,
    /// Write IPv6 addresses compressed rather than in Suricata 7's full form.
    pub ipv6_compress: bool,
    /// Write `http` events.
    pub http: bool,
    /// Write `dns` events.
    pub dns: bool,
    /// Write `tls` events.
    pub tls: bool,
    /// Add JA3/JA3S/JA4 and other extended fields to `tls` events.
    pub tls_extended: bool,
    /// Write app-layer `anomaly` events.
    pub anomaly_applayer: bool,
    /// Add the packet payload (`payload`, `payload_printable`) to alerts.
    pub alert_payload: bool,
}

impl Default for EveOptions {
    fn default() -> Self {
        EveOptions {
            flow: true,
            anomaly: true,
            anomaly_packethdr: true,
            community_id_seed: Some(0),
            ipv6_compress: false,
            http: true,
            dns: true,
            tls: true,
            tls_extended: true,
            anomaly_applayer: true,
            alert_payload: false,
        }
    }
}

/// Everything a worker needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Decoder settings.
    pub decode: DecodeConfig,
    /// Flow table settings (the cap is per worker).
    pub flow: FlowConfig,
    /// Fragment reassembly limits (per worker).
    pub defrag: DefragConfig,
    /// EVE output choices.
    pub eve: EveOptions,
    /// Parse application protocols (and reassemble TCP streams for them).
    pub app_layer: bool,
    /// Stream reassembly limits (per direction).
    pub stream: StreamConfig,
    /// App-layer parser limits.
    pub app_limits: AppLimits,
    /// Attach each finished flow's feature vector to its flow record in the event batch (for
    /// the CSV export). Needs `flow.features`.
    pub export_features: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            decode: DecodeConfig::default(),
            flow: FlowConfig::default(),
            defrag: DefragConfig::default(),
            eve: EveOptions::default(),
            app_layer: true,
            stream: StreamConfig::default(),
            app_limits: AppLimits::default(),
            export_features: false,
        }
    }
}

/// Largest packet prefix copied into an anomaly event.
const MAX_ANOMALY_PACKET_BYTES: usize = 2048;

/// One worker: a shard of flows and the events they produce.
pub struct Worker {
    decode_cfg: DecodeConfig,
    eve: EveOptions,
    flows: FlowTable,
    app: AppLayer,
    app_enabled: bool,
    defrag: Defragmenter,
    batch: EventBatch,
    stats: EngineStats,
    now: Timestamp,
    last_sweep_sec: i64,
    detect: Option<Detector>,
    /// Detection counters of rule sets replaced by [`Worker::set_rules`].
    detect_before: DetectStats,
    /// Feature export and scoring at flow end (`None`: off, nothing computed).
    features: Option<Box<FeatureStage>>,
}

impl Worker {
    /// A worker with empty state and no rules.
    pub fn new(cfg: &EngineConfig) -> Self {
        Worker::with_rules(cfg, None)
    }

    /// A worker that also matches `rules` (shared by all workers).
    pub fn with_rules(cfg: &EngineConfig, rules: Option<Arc<RuleEngine>>) -> Self {
        Worker {
            detect: rules.map(Detector::new),
            decode_cfg: cfg.decode,
            eve: cfg.eve,
            flows: FlowTable::new(cfg.flow),
            app: AppLayer::new(cfg.app_limits, cfg.stream),
            app_enabled: cfg.app_layer,
            defrag: Defragmenter::new(cfg.defrag),
            batch: new_batch(cfg.eve.ipv6_compress),
            stats: EngineStats::default(),
            now: Timestamp(i64::MIN),
            last_sweep_sec: i64::MIN,
            detect_before: DetectStats::default(),
            features: FeatureStage::new(cfg.export_features && cfg.flow.features, None),
        }
    }

    /// Scores every finished flow with `ml` (`None`: no model). The flow table must compute
    /// features (`EngineConfig::flow.features`); otherwise flows are scored on counters only.
    pub fn set_model(&mut self, ml: Option<MlScoring>) {
        match &mut self.features {
            Some(stage) => stage.set_model(ml),
            None => self.features = FeatureStage::new(false, ml),
        }
    }

    /// Replaces the rules (a reload) while keeping flows, streams and app-layer state. Flowbits
    /// and threshold counters belong to the old rule set (their numbering changes with the rules)
    /// and start empty; the detection counters keep counting.
    pub fn set_rules(&mut self, rules: Option<Arc<RuleEngine>>) {
        if let Some(old) = self.detect.take() {
            add_detect(&mut self.detect_before, &old.stats());
        }
        self.detect = rules.map(Detector::new);
    }

    /// Counters so far (flow and defrag counters included).
    pub fn stats(&self) -> EngineStats {
        let mut s = self.stats.clone();
        s.flow = *self.flows.stats();
        s.flows_active = self.flows.active();
        s.defrag = *self.defrag.stats();
        s.app = self.app.stats;
        s.detect = self.detect_before;
        if let Some(f) = &self.features {
            s.ml = f.stats;
        }
        if let Some(d) = &self.detect {
            add_detect(&mut s.detect, &d.stats());
        }
        s
    }

    /// Latest packet time seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Bytes of events waiting in the current batch.
    pub fn pending_event_bytes(&self) -> usize {
        self.batch.buf.len()
    }

    /// Hands out the current batch and continues with `fresh` (cleared first).
    pub fn swap_batch(&mut self, mut fresh: EventBatch) -> EventBatch {
        fresh.clear();
        fresh.ipv6_compress = self.eve.ipv6_compress;
        std::mem::replace(&mut self.batch, fresh)
    }

    /// Advances packet time to `now` (from the reader, so idle shards also expire flows).
    pub fn tick(&mut self, now: Timestamp) {
        if now > self.now {
            self.now = now;
        }
        self.sweep_if_due();
    }

    fn sweep_if_due(&mut self) {
        let sec = self.now.secs();
        if sec > self.last_sweep_sec {
            self.last_sweep_sec = sec;
            let (flows, app, batch, eve, det, feat) = (
                &mut self.flows,
                &mut self.app,
                &mut self.batch,
                self.eve,
                &mut self.detect,
                &mut self.features,
            );
            flows.expire(self.now, &mut |f, r| {
                end_flow(app, det, feat, batch, &eve, f, r)
            });
            self.defrag.expire(self.now);
        }
    }

    /// Ends all flows (timed-out ones as `timeout`, the rest as `shutdown`).
    pub fn finish(&mut self) {
        let now = self.now;
        let (flows, app, batch, eve, det, feat) = (
            &mut self.flows,
            &mut self.app,
            &mut self.batch,
            self.eve,
            &mut self.detect,
            &mut self.features,
        );
        flows.shutdown(now, &mut |f, r| end_flow(app, det, feat, batch, &eve, f, r));
    }

    /// Runs one packet through the pipeline. `pcap_cnt` is its 1-based number in the capture.
    pub fn process(&mut self, pkt: &Packet<'_>, pcap_cnt: u64) {
        let s = &mut self.stats;
        s.pkts += 1;
        s.bytes += pkt.data.len() as u64;
        s.max_pkt_size = s.max_pkt_size.max(pkt.data.len() as u64);
        if pkt.ts > self.now {
            self.now = pkt.ts;
            self.sweep_if_due();
        }
        let d = decode(pkt.link_type, pkt.data, &self.decode_cfg);
        self.count_layers(&d);
        self.log_decoder_events(&d, &d.events, pkt, pcap_cnt);
        if d.invalid {
            self.stats.invalid += 1;
            // Decoder-event rules still see the packet.
            let ctx = PacketCtx::at(pkt.ts, Some(pcap_cnt));
            inspect_packet(&mut self.detect, &mut self.batch, &self.eve, &d, None, ctx);
            return;
        }
        if d.fragment.is_some() {
            // Each fragment is a packet for header rules (fragbits, ttl...); the datagram it
            // completes is inspected again with its flow.
            let ctx = PacketCtx::at(pkt.ts, Some(pcap_cnt));
            inspect_packet(&mut self.detect, &mut self.batch, &self.eve, &d, None, ctx);
            let mut ev = Events::default();
            let (defrag, flows, app, batch, eve, app_on, det, feat) = (
                &mut self.defrag,
                &mut self.flows,
                &mut self.app,
                &mut self.batch,
                self.eve,
                self.app_enabled,
                &mut self.detect,
                &mut self.features,
            );
            let datagram = defrag.insert(pkt.ts, &d, pkt.data, &mut ev);
            if let Some(datagram) = datagram {
                let r = decode_ip(datagram, &d, &self.decode_cfg);
                // Counted with the link header of the completing fragment, as Suricata does.
                let len = (datagram.len() + d.ip_offset) as u32;
                let ctx = PacketCtx::at(pkt.ts, Some(pcap_cnt));
                let w = WorkerParts {
                    flows,
                    app,
                    det,
                    feat,
                    app_on,
                    batch,
                    eve: &eve,
                };
                track(w, &r, len, ctx);
                self.stats.reassembled_l4 += 1;
                let events = r.events;
                self.log_decoder_events(&d, &events, pkt, pcap_cnt);
            }
            if !ev.is_empty() {
                self.log_decoder_events(&d, &ev, pkt, pcap_cnt);
            }
            return;
        }
        let ctx = PacketCtx::at(pkt.ts, Some(pcap_cnt));
        let w = WorkerParts {
            flows: &mut self.flows,
            app: &mut self.app,
            det: &mut self.detect,
            feat: &mut self.features,
            app_on: self.app_enabled,
            batch: &mut self.batch,
            eve: &self.eve,
        };
        track(w, &d, pkt.data.len() as u32, ctx);
    }

    fn count_layers(&mut self, d: &Decoded<'_>) {
        let s = &mut self.stats;
        if d.link_type == LinkType::ETHERNET {
            s.ethernet += 1;
        }
        match d.vlan_count {
            0 => {}
            1 => s.vlan += 1,
            _ => s.vlan_qinq += 1,
        }
        match d.ip {
            Ip::V4(_) => s.ipv4 += 1,
            Ip::V6(_) => s.ipv6 += 1,
            Ip::None => {
                if !d.invalid {
                    s.non_ip += 1
                }
            }
        }
        if d.fragment.is_some() {
            s.fragments += 1;
        }
        match d.l4 {
            L4::Tcp(_) => s.tcp += 1,
            L4::Udp(_) => s.udp += 1,
            L4::Icmp4(_) => s.icmpv4 += 1,
            L4::Icmp6(_) => s.icmpv6 += 1,
            L4::Other(_) => s.other_ip_proto += 1,
            L4::None => {}
        }
        if d.checksum_errors.ipv4 {
            s.ipv4_checksum_bad += 1;
        }
        if d.checksum_errors.l4 {
            s.l4_checksum_bad += 1;
        }
    }

    fn log_decoder_events(
        &mut self,
        d: &Decoded<'_>,
        events: &Events,
        pkt: &Packet<'_>,
        pcap_cnt: u64,
    ) {
        for ev in events.as_slice() {
            if let Some(c) = self.stats.decoder_events.get_mut(ev.index()) {
                *c += 1;
            }
            if self.eve.anomaly {
                write_anomaly(&mut self.batch, &self.eve, d, *ev, pkt, pcap_cnt);
                self.stats.anomaly_events += 1;
            }
        }
        self.stats.decoder_events_dropped += u64::from(events.dropped);
    }
}

fn add_detect(d: &mut DetectStats, e: &DetectStats) {
    d.alerts += e.alerts;
    d.suppressed += e.suppressed;
    d.candidates += e.candidates;
    d.threshold_table_full += e.threshold_table_full;
}

/// A batch sized for a worker's event buffer.
pub fn new_batch(ipv6_compress: bool) -> EventBatch {
    let mut b = EventBatch::with_capacity(1 << 20);
    b.ipv6_compress = ipv6_compress;
    b
}

/// A flow ended: its app layer logs what is left, then (with features on) the flow is scored
/// and its vector attached, then the flow record is written.
fn end_flow(
    app: &mut AppLayer,
    det: &mut Option<Detector>,
    feat: &mut Option<Box<FeatureStage>>,
    batch: &mut EventBatch,
    eve: &EveOptions,
    f: &Flow,
    r: EndReason,
) {
    let mut facts = AppFacts::default();
    let alerted = app.on_flow_end(f, det.as_mut(), batch, eve, &mut facts) || f.alerted;
    if let Some(d) = det {
        d.flow_ended(f.handle().index(), f.id);
    }
    if !eve.flow {
        return;
    }
    let seed = eve.community_id_seed;
    match feat {
        Some(stage) => stage.on_flow_end(f, &facts, alerted, batch, eve, &mut |b, al, extra| {
            write_flow_event_with(b, f, r, seed, al, extra)
        }),
        None => write_flow_event_with(batch, f, r, seed, alerted, &mut |_| {}),
    }
}

/// The pieces of a worker a packet touches, borrowed separately.
struct WorkerParts<'a> {
    flows: &'a mut FlowTable,
    app: &'a mut AppLayer,
    det: &'a mut Option<Detector>,
    feat: &'a mut Option<Box<FeatureStage>>,
    app_on: bool,
    batch: &'a mut EventBatch,
    eve: &'a EveOptions,
}

/// Updates the packet's flow, feeds its payload to the app layer (which inspects transactions)
/// and runs the packet rules.
fn track(w: WorkerParts<'_>, d: &Decoded<'_>, len: u32, ctx: PacketCtx<'_>) {
    let WorkerParts {
        flows,
        app,
        det,
        feat,
        app_on,
        batch,
        eve,
    } = w;
    let Some(facts) = facts_of(d, ctx.ts, len) else {
        inspect_packet(det, batch, eve, d, None, ctx);
        return;
    };
    let Some((h, dir)) = flows.update(&facts, &mut |f, r| {
        end_flow(app, det, feat, batch, eve, f, r)
    }) else {
        inspect_packet(det, batch, eve, d, None, ctx);
        return;
    };
    let Some(flow) = flows.get_mut(h) else { return };
    if app_on && !facts.bad_checksum {
        match d.l4 {
            L4::Tcp(t) if flow.tcp.is_some() && flow.proto == ip_proto::TCP => {
                let tcp = TcpCtx {
                    flags: t.flags(),
                    seq: t.seq(),
                    ack: t.ack(),
                    payload: t.payload(),
                };
                app.on_tcp(flow, dir, tcp, ctx, det.as_mut(), batch, eve);
            }
            L4::Udp(u) if flow.proto == ip_proto::UDP => {
                app.on_udp(flow, dir, u.payload(), ctx, det.as_mut(), batch, eve);
            }
            _ => {}
        }
    }
    inspect_packet(
        det,
        batch,
        eve,
        d,
        Some((flow, dir, app.last_events(), app.detected_now())),
        ctx,
    );
}

/// Runs the packet rules on one packet and writes their alerts.
fn inspect_packet(
    det: &mut Option<Detector>,
    batch: &mut EventBatch,
    eve: &EveOptions,
    d: &Decoded<'_>,
    flow: Option<(&mut Flow, Direction, &[&'static str], bool)>,
    ctx: PacketCtx<'_>,
) {
    let Some(det) = det else { return };
    if !det.has_packet_rules() {
        return;
    }
    let payload = match d.l4 {
        L4::Tcp(t) => t.payload(),
        L4::Udp(u) => u.payload(),
        L4::Icmp4(i) | L4::Icmp6(i) => i.payload(),
        _ => d.payload,
    };
    let (fi, events) = match &flow {
        Some((f, dir, ev, now)) => (Some(alert::flow_input(f, *dir, *now)), *ev),
        None => (None, &[][..]),
    };
    det.inspect_packet(&vedette_detect::PacketInput {
        ts: ctx.ts,
        d,
        payload,
        flow: fi,
        app_events: events,
    });
    if det.alerts().is_empty() {
        return;
    }
    // A fragment of a TCP/UDP datagram shows ports 0, as Suricata writes it.
    let tuple = packet_tuple(d, d.fragment.is_some());
    let flow_ref = flow.as_ref().map(|(f, _, _, _)| &**f);
    let actx = alert::AlertCtx {
        ts: ctx.ts,
        pcap_cnt: ctx.pcap_cnt,
        tuple,
        vlan: d.vlans(),
        flow: flow_ref,
        payload,
    };
    let wrote = alert::write_alerts(batch, eve, det, &actx, &mut |_| {});
    if wrote {
        if let Some((f, _, _, _)) = flow {
            f.alerted = true;
        }
    }
}

/// What the flow table needs from a decoded packet; `None` for packets without an IP layer.
fn facts_of(d: &Decoded<'_>, ts: Timestamp, len: u32) -> Option<PacketFacts> {
    let (src, dst) = d.addrs()?;
    let proto = d.ip_proto()?;
    let mut f = PacketFacts {
        ts,
        src,
        dst,
        sport: 0,
        dport: 0,
        proto,
        vlan: d.vlan,
        vlan_count: d.vlan_count,
        len,
        payload_len: d.payload.len() as u32,
        tcp_window: 0,
        tcp: None,
        icmp: None,
        icmp_error: false,
        icmp_embedded: None,
        bad_checksum: d.checksum_errors.l4 || d.checksum_errors.ipv4,
    };
    match d.l4 {
        L4::Tcp(t) => {
            f.sport = t.src_port();
            f.dport = t.dst_port();
            f.tcp_window = t.window();
            f.tcp = Some(Segment {
                flags: t.flags(),
                seq: t.seq(),
                ack: t.ack(),
                payload_len: t.payload().len() as u32,
            });
        }
        L4::Udp(u) => {
            f.sport = u.src_port();
            f.dport = u.dst_port();
        }
        L4::Icmp4(i) => {
            f.icmp = Some((i.icmp_type(), i.code()));
            // As Suricata: ICMPv4 errors start no flow; a destination-unreachable quoting a
            // TCP/UDP flow is counted in that flow.
            f.icmp_error = matches!(i.icmp_type(), 3 | 4 | 5 | 11 | 12);
            if i.icmp_type() == 3 {
                f.icmp_embedded = i.embedded().filter(|e| {
                    e.proto == vedette_types::ip_proto::TCP
                        || e.proto == vedette_types::ip_proto::UDP
                });
            }
        }
        L4::Icmp6(i) => f.icmp = Some((i.icmp_type(), i.code())),
        L4::Other(_) => {}
        // Transport header invalid: the packet is counted but starts no flow.
        L4::None => return None,
    }
    Some(f)
}

/// The EVE header tuple of a decoded packet (source = sender); ports are written for TCP and
/// UDP, and with `fragment_ports` also (as 0) for a fragment that has no transport header.
fn packet_tuple(d: &Decoded<'_>, fragment_ports: bool) -> Option<HeaderTuple> {
    d.addrs().map(|(src, dst)| {
        let proto = d.ip_proto().unwrap_or(0);
        let (sp, dp) = match d.l4 {
            L4::Tcp(_) | L4::Udp(_) => d.ports(),
            _ => (0, 0),
        };
        HeaderTuple {
            src_ip: src,
            dst_ip: dst,
            src_port: sp,
            dst_port: dp,
            proto,
            has_ports: has_ports(proto)
                && (matches!(d.l4, L4::Tcp(_) | L4::Udp(_)) || fragment_ports),
        }
    })
}

fn write_anomaly(
    batch: &mut EventBatch,
    eve: &EveOptions,
    d: &Decoded<'_>,
    ev: DecodeEvent,
    pkt: &Packet<'_>,
    pcap_cnt: u64,
) {
    let mut w = batch.begin(EventType::Anomaly);
    let tuple = packet_tuple(d, false);
    w.header(&Header {
        ts: pkt.ts,
        flow_id: None,
        pcap_cnt: Some(pcap_cnt),
        vlan: d.vlans(),
        tuple,
    });
    if eve.anomaly_packethdr {
        let n = pkt.data.len().min(MAX_ANOMALY_PACKET_BYTES);
        w.base64("packet", pkt.data.get(..n).unwrap_or(&[]));
        w.object("packet_info");
        w.u64("linktype", u64::from(pkt.link_type.0));
        w.close_object();
    }
    w.object("anomaly");
    w.str("type", "decode");
    w.str("event", ev.name());
    w.close_object();
    w.finish();
}

#[cfg(test)]
mod tests;
