//! The app-layer side of a worker: per-flow stream reassembly and protocol state, protocol
//! detection by probing the first bytes (port-independent), and EVE records for transactions
//! and app-layer anomalies.
//!
//! Per-flow state lives in a side table indexed by the flow's handle, boxed and pooled: a flow
//! only pays for it once it carries payload, and boxes are reused after flows end.

use crate::alert::{flow_input, oriented_tuple, write_alerts, AlertCtx};
use crate::EveOptions;
use vedette_applayer::{dns, http, tls, AppEvents, AppLimits, Probe, MAX_APP_EVENTS};
use vedette_detect::{http_level, Detector, TxRef};
use vedette_eve::{EventBatch, EventType, Header, JsonWriter};
use vedette_flow::eve::{flow_community_id, header_tuple};
use vedette_flow::features::AppFacts;
use vedette_flow::{Chunk, Flow, StreamConfig, StreamDir, StreamStats, MAX_SYN_DATA};
use vedette_types::{ip_proto, AppProto, Direction, Timestamp};

/// Bytes kept while the first bytes of a direction are too few to tell the protocol.
const PROBE_BYTES: usize = 64;

/// App-layer counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppStats {
    /// Flows detected as HTTP.
    pub flows_http: u64,
    /// Flows detected as DNS over UDP.
    pub flows_dns_udp: u64,
    /// Flows detected as DNS over TCP.
    pub flows_dns_tcp: u64,
    /// Flows detected as TLS.
    pub flows_tls: u64,
    /// TCP flows whose protocol could not be detected.
    pub flows_failed_tcp: u64,
    /// UDP flows whose protocol could not be detected.
    pub flows_failed_udp: u64,
    /// HTTP transactions logged.
    pub tx_http: u64,
    /// DNS records logged.
    pub tx_dns: u64,
    /// TLS sessions logged.
    pub tx_tls: u64,
    /// App-layer anomaly events raised.
    pub anomalies: u64,
    /// App-layer events beyond the per-call list.
    pub anomalies_dropped: u64,
    /// Stream reassembly counters.
    pub stream: StreamStats,
}

impl AppStats {
    /// Adds another worker's counters.
    pub fn merge(&mut self, o: &AppStats) {
        self.flows_http += o.flows_http;
        self.flows_dns_udp += o.flows_dns_udp;
        self.flows_dns_tcp += o.flows_dns_tcp;
        self.flows_tls += o.flows_tls;
        self.flows_failed_tcp += o.flows_failed_tcp;
        self.flows_failed_udp += o.flows_failed_udp;
        self.tx_http += o.tx_http;
        self.tx_dns += o.tx_dns;
        self.tx_tls += o.tx_tls;
        self.anomalies += o.anomalies;
        self.anomalies_dropped += o.anomalies_dropped;
        self.stream.merge(&o.stream);
    }
}

// AppFlow is boxed and pooled as a whole, so the size of the largest parser costs nothing per
// packet; boxing the variants would add an allocation per flow.
#[allow(clippy::large_enum_variant)]
enum Parser {
    Detecting,
    Http(http::State),
    Dns(dns::State),
    Tls(tls::State),
    Failed,
}

struct ProbeBuf {
    bytes: [u8; PROBE_BYTES],
    len: usize,
}

impl Default for ProbeBuf {
    fn default() -> Self {
        ProbeBuf {
            bytes: [0; PROBE_BYTES],
            len: 0,
        }
    }
}

struct AppFlow {
    to_server: StreamDir,
    to_client: StreamDir,
    parser: Parser,
    probe_ts: ProbeBuf,
    probe_tc: ProbeBuf,
    /// Detection progress of live HTTP transactions: (tx id, [request, response] level
    /// inspected so far).
    det_http: Vec<(u64, [u8; 2])>,
    /// Detection progress of the TLS session.
    det_tls: [u8; 2],
    /// Data that came on the client's SYN (TCP Fast Open) and its sequence number, held in IDS
    /// mode until the SYN/ACK acknowledges it.
    syn_data: Option<(u32, Vec<u8>)>,
    /// Transactions counted for the ML features (a few additions per logged transaction).
    facts: AppFacts,
}

impl AppFlow {
    fn new() -> Self {
        AppFlow {
            to_server: StreamDir::default(),
            to_client: StreamDir::default(),
            parser: Parser::Detecting,
            probe_ts: ProbeBuf::default(),
            probe_tc: ProbeBuf::default(),
            det_http: Vec::new(),
            det_tls: [0; 2],
            syn_data: None,
            facts: AppFacts::default(),
        }
    }
}

/// Where the current packet is, for logging what it completes.
#[derive(Clone, Copy)]
pub(crate) struct PacketCtx<'a> {
    pub ts: Timestamp,
    pub pcap_cnt: Option<u64>,
    /// The packet's transport payload and direction, once its flow is known (for rules that
    /// mix payload content with transaction buffers).
    pub payload: &'a [u8],
    pub dir: Option<Direction>,
}

impl PacketCtx<'static> {
    /// A packet whose payload does not take part in transaction inspection.
    pub fn at(ts: Timestamp, pcap_cnt: Option<u64>) -> Self {
        PacketCtx {
            ts,
            pcap_cnt,
            payload: &[],
            dir: None,
        }
    }
}

impl<'a> PacketCtx<'a> {
    /// The payload seen by inspections of direction `dir`.
    fn payload_for(&self, dir: Direction) -> &'a [u8] {
        if self.dir == Some(dir) {
            self.payload
        } else {
            &[]
        }
    }
}

/// TCP facts of the current packet.
#[derive(Clone, Copy)]
pub(crate) struct TcpCtx<'a> {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub payload: &'a [u8],
}

/// Per-worker app-layer state for all flows of the shard.
pub(crate) struct AppLayer {
    flows: Vec<Option<Box<AppFlow>>>,
    // Boxes move between `flows` and `spare` without copying the (large) state.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<AppFlow>>,
    limits: AppLimits,
    stream_cfg: StreamConfig,
    events: AppEvents,
    /// Names of the app-layer events of the current packet (for `app-layer-event` rules).
    last_events: [&'static str; MAX_APP_EVENTS],
    last_events_len: usize,
    /// A protocol was detected (or detection failed) on the current packet.
    detected_now: bool,
    /// Bytes of SYN data held by this worker's flows (bounded by [`MAX_SYN_DATA_HELD`]).
    syn_data_held: usize,
    pub stats: AppStats,
}

/// Most boxes kept for reuse.
const MAX_SPARE: usize = 1024;

/// Most SYN data (TCP Fast Open) one worker holds at once, so that a flood of SYNs with
/// payload cannot grow memory: beyond it SYN data is dropped and counted.
const MAX_SYN_DATA_HELD: usize = 1 << 20;

impl AppLayer {
    pub fn new(limits: AppLimits, stream_cfg: StreamConfig) -> Self {
        AppLayer {
            flows: Vec::new(),
            spare: Vec::new(),
            limits,
            stream_cfg,
            events: AppEvents::default(),
            last_events: [""; MAX_APP_EVENTS],
            last_events_len: 0,
            detected_now: false,
            syn_data_held: 0,
            stats: AppStats::default(),
        }
    }

    /// Whether the current packet completed protocol detection.
    pub fn detected_now(&self) -> bool {
        self.detected_now
    }

    /// App-layer events raised by the current packet.
    pub fn last_events(&self) -> &[&'static str] {
        self.last_events.get(..self.last_events_len).unwrap_or(&[])
    }

    fn slot(&mut self, flow: &Flow) -> Option<&mut AppFlow> {
        let i = flow.handle().index();
        if self.flows.len() <= i {
            self.flows.resize_with(i + 1, || None);
        }
        let slot = self.flows.get_mut(i)?;
        if slot.is_none() {
            *slot = Some(self.spare.pop().unwrap_or_else(|| Box::new(AppFlow::new())));
        }
        slot.as_deref_mut()
    }

    /// A TCP segment of a tracked session.
    #[allow(clippy::too_many_arguments)] // the packet, its flow and the worker's outputs
    pub fn on_tcp(
        &mut self,
        flow: &mut Flow,
        dir: Direction,
        tcp: TcpCtx<'_>,
        ctx: PacketCtx<'_>,
        mut det: Option<&mut Detector>,
        batch: &mut EventBatch,
        eve: &EveOptions,
    ) {
        self.last_events_len = 0;
        self.detected_now = false;
        let ctx = PacketCtx {
            payload: tcp.payload,
            dir: Some(dir),
            ..ctx
        };
        const FIN: u8 = 0x01;
        const SYN: u8 = 0x02;
        const ACK: u8 = 0x10;
        // Nothing to reassemble yet: a flow only gets app state once data flows.
        let has_state = self
            .flows
            .get(flow.handle().index())
            .is_some_and(|s| s.is_some());
        if tcp.payload.is_empty() && !has_state && tcp.flags & SYN == 0 {
            return;
        }
        let cfg = self.stream_cfg;
        let limits = self.limits;
        let (sport, dport) = (flow.src_port, flow.dst_port);
        let mut stats = self.stats;
        let mut events = std::mem::take(&mut self.events);
        let mut held = self.syn_data_held;
        let Some(app) = self.slot(flow) else { return };
        let AppFlow {
            to_server,
            to_client,
            parser,
            probe_ts,
            probe_tc,
            syn_data,
            ..
        } = app;
        let (mine, other) = match dir {
            Direction::ToServer => (to_server, to_client),
            Direction::ToClient => (to_client, to_server),
        };
        if tcp.flags & SYN != 0 {
            mine.init(tcp.seq);
        }
        let mut detected = None;
        {
            let mut feed = |d: Direction, c: Chunk<'_>| {
                let probe = match d {
                    Direction::ToServer => &mut *probe_ts,
                    Direction::ToClient => &mut *probe_tc,
                };
                feed_tcp(
                    parser,
                    probe,
                    d,
                    c,
                    sport,
                    dport,
                    &limits,
                    &mut events,
                    &mut detected,
                );
            };
            let syn = tcp.flags & SYN != 0;
            if syn && tcp.flags & ACK == 0 && !tcp.payload.is_empty() && !cfg.inline {
                // TCP Fast Open data counts once the server acknowledges it.
                let n = tcp.payload.len();
                if n <= MAX_SYN_DATA && held + n <= MAX_SYN_DATA_HELD && syn_data.is_none() {
                    *syn_data = Some((tcp.seq.wrapping_add(1), tcp.payload.to_vec()));
                    held += n;
                } else {
                    stats.stream.syn_data_dropped += 1;
                }
            } else {
                // Data on a SYN starts after the SYN's sequence number.
                let data_seq = if syn {
                    tcp.seq.wrapping_add(1)
                } else {
                    tcp.seq
                };
                mine.segment(data_seq, tcp.payload, &cfg, &mut stats.stream, &mut |c| {
                    feed(dir, c)
                });
            }
            if syn && tcp.flags & ACK != 0 {
                if let Some((seq, data)) = syn_data.take() {
                    held = held.saturating_sub(data.len());
                    let end = seq.wrapping_add(data.len() as u32);
                    if tcp.ack == end {
                        other.segment(seq, &data, &cfg, &mut stats.stream, &mut |c| {
                            feed(dir.reverse(), c)
                        });
                    } else {
                        stats.stream.syn_data_dropped += 1;
                    }
                }
            }
            if tcp.flags & ACK != 0 {
                other.acked(tcp.ack, &cfg, &mut stats.stream, &mut |c| {
                    feed(dir.reverse(), c)
                });
            }
        }
        if tcp.flags & FIN != 0 {
            mine.fin(tcp.seq, tcp.payload.len() as u32);
        }
        self.syn_data_held = held;
        self.stats = stats;
        self.note_detection(flow, detected, ip_proto::TCP);
        self.events = events;
        if self.log(flow, ctx, false, det.as_deref_mut(), batch, eve) {
            flow.alerted = true;
        }
        self.follow_tunnel(flow, ctx, det, batch, eve);
    }

    /// After an HTTP CONNECT (or an upgrade) succeeded, the bytes that follow belong to another
    /// protocol: log the HTTP transactions, then detect and parse the tunnelled protocol.
    fn follow_tunnel(
        &mut self,
        flow: &mut Flow,
        ctx: PacketCtx<'_>,
        mut det: Option<&mut Detector>,
        batch: &mut EventBatch,
        eve: &EveOptions,
    ) {
        let i = flow.handle().index();
        let tunnel = matches!(
            self.flows.get(i),
            Some(Some(a)) if matches!(&a.parser, Parser::Http(st) if st.tunnel().is_some())
        );
        if !tunnel {
            return;
        }
        if self.log(flow, ctx, true, det.as_deref_mut(), batch, eve) {
            flow.alerted = true;
        }
        let limits = self.limits;
        let (sport, dport) = (flow.src_port, flow.dst_port);
        let mut events = std::mem::take(&mut self.events);
        let mut detected = None;
        if let Some(Some(app)) = self.flows.get_mut(i) {
            let AppFlow {
                parser,
                probe_ts,
                probe_tc,
                det_http,
                ..
            } = &mut **app;
            let (ts_data, tc_data) = match parser {
                Parser::Http(st) => (
                    st.take_tunnel_data(Direction::ToServer),
                    st.take_tunnel_data(Direction::ToClient),
                ),
                _ => (Vec::new(), Vec::new()),
            };
            *parser = Parser::Detecting;
            det_http.clear();
            *probe_ts = ProbeBuf::default();
            *probe_tc = ProbeBuf::default();
            for (dir, data, probe) in [
                (Direction::ToServer, ts_data, &mut *probe_ts),
                (Direction::ToClient, tc_data, &mut *probe_tc),
            ] {
                // Stray line ends after the CONNECT exchange are not part of the tunnel.
                let start = data
                    .iter()
                    .position(|b| *b != b'\r' && *b != b'\n')
                    .unwrap_or(data.len());
                if let Some(rest) = data.get(start..).filter(|r| !r.is_empty()) {
                    feed_tcp(
                        parser,
                        probe,
                        dir,
                        Chunk::Data(rest),
                        sport,
                        dport,
                        &limits,
                        &mut events,
                        &mut detected,
                    );
                }
            }
        }
        flow.app_proto_orig = AppProto::Http;
        flow.app_proto = AppProto::Unknown;
        self.events = events;
        self.note_detection(flow, detected, ip_proto::TCP);
        if self.log(flow, ctx, false, det, batch, eve) {
            flow.alerted = true;
        }
    }

    /// A UDP datagram.
    #[allow(clippy::too_many_arguments)] // the packet, its flow and the worker's outputs
    pub fn on_udp(
        &mut self,
        flow: &mut Flow,
        dir: Direction,
        payload: &[u8],
        ctx: PacketCtx<'_>,
        det: Option<&mut Detector>,
        batch: &mut EventBatch,
        eve: &EveOptions,
    ) {
        self.last_events_len = 0;
        self.detected_now = false;
        let ctx = PacketCtx {
            payload,
            dir: Some(dir),
            ..ctx
        };
        if payload.is_empty() {
            return;
        }
        let i = flow.handle().index();
        let known = self
            .flows
            .get(i)
            .and_then(|s| s.as_ref())
            .map(|a| match a.parser {
                Parser::Detecting => 0,
                Parser::Failed => 1,
                _ => 2,
            });
        if known == Some(1) {
            return;
        }
        let mut dir = dir;
        if known.is_none() {
            // Only DNS runs over UDP today; like Suricata, it is looked for on port 53.
            let dns_port = flow.src_port == 53 || flow.dst_port == 53;
            if !dns_port || dns::probe(payload, dir) != Probe::Yes {
                flow.app_proto = AppProto::Failed;
                self.stats.flows_failed_udp += 1;
                if let Some(a) = self.slot(flow) {
                    a.parser = Parser::Failed;
                }
                return;
            }
            // A response first means the sender is the server: turn the flow around.
            if dns::message_direction(payload, false) == Some(Direction::ToClient)
                && dir == Direction::ToServer
            {
                flow.reverse();
                dir = Direction::ToClient;
            }
            let limits = self.limits;
            if let Some(a) = self.slot(flow) {
                a.parser = Parser::Dns(dns::State::new_udp(&limits.dns));
            }
            flow.app_proto = AppProto::Dns;
            self.detected_now = true;
            self.stats.flows_dns_udp += 1;
        }
        let mut events = std::mem::take(&mut self.events);
        if let Some(Some(a)) = self.flows.get_mut(i) {
            if let Parser::Dns(st) = &mut a.parser {
                st.parse(dir, payload, &mut events);
            }
        }
        self.events = events;
        if self.log(flow, ctx, false, det, batch, eve) {
            flow.alerted = true;
        }
    }

    fn note_detection(&mut self, flow: &mut Flow, detected: Option<AppProto>, proto: u8) {
        let Some(p) = detected else { return };
        self.detected_now = true;
        flow.app_proto = p;
        match p {
            AppProto::Http => self.stats.flows_http += 1,
            AppProto::Tls => self.stats.flows_tls += 1,
            AppProto::Dns if proto == ip_proto::TCP => self.stats.flows_dns_tcp += 1,
            AppProto::Dns => self.stats.flows_dns_udp += 1,
            AppProto::Failed if proto == ip_proto::TCP => self.stats.flows_failed_tcp += 1,
            AppProto::Failed => self.stats.flows_failed_udp += 1,
            _ => {}
        }
    }

    /// Writes pending app-layer anomalies, inspects transactions that progressed with the
    /// rules, and writes finished transactions of `flow`. Returns true when an alert was written.
    fn log(
        &mut self,
        flow: &Flow,
        ctx: PacketCtx<'_>,
        at_end: bool,
        mut det: Option<&mut Detector>,
        batch: &mut EventBatch,
        eve: &EveOptions,
    ) -> bool {
        let app_name = flow.app_proto.eve_name().unwrap_or("unknown");
        if !self.events.is_empty() || self.events.dropped > 0 {
            for (_dir, name) in self.events.iter() {
                self.stats.anomalies += 1;
                if let Some(slot) = self.last_events.get_mut(self.last_events_len) {
                    *slot = name;
                    self.last_events_len += 1;
                }
                if eve.anomaly_applayer {
                    let mut w = batch.begin(EventType::Anomaly);
                    app_header(&mut w, flow, ctx, eve);
                    w.object("anomaly");
                    w.str("app_proto", app_name);
                    w.str("type", "applayer");
                    w.str("event", name);
                    w.str("layer", "proto_parser");
                    w.close_object();
                    w.finish();
                }
            }
            self.stats.anomalies_dropped += u64::from(self.events.dropped);
            self.events.clear();
        }
        let Some(Some(app)) = self.flows.get_mut(flow.handle().index()) else {
            return false;
        };
        let mut alerted = false;
        if let Some(det) = det.as_deref_mut() {
            alerted |= inspect_txs(app, flow, ctx, at_end, det, batch, eve);
        }
        let stats = &mut self.stats;
        let facts = &mut app.facts;
        let mut emit = |t: EventType, on: bool, body: &mut dyn FnMut(&mut JsonWriter<'_>)| {
            if on {
                let mut w = batch.begin(t);
                app_header(&mut w, flow, ctx, eve);
                body(&mut w);
                w.finish();
            }
        };
        match &mut app.parser {
            Parser::Http(st) => {
                st.drain(at_end, &mut |tx| {
                    stats.tx_http += 1;
                    facts.http_requests += 1;
                    if let Some(status) = tx.status() {
                        facts.http_response(status);
                    }
                    emit(EventType::Http, eve.http, &mut |w| tx.write_eve(w));
                });
                if !app.det_http.is_empty() {
                    let live = &*st;
                    app.det_http
                        .retain(|(id, _)| live.transactions().any(|t| t.id() == *id));
                }
            }
            Parser::Dns(st) => st.drain(at_end, &mut |tx| {
                stats.tx_dns += 1;
                if tx.is_response() {
                    facts.dns_answers += 1;
                    // rcode 3: NXDOMAIN.
                    facts.dns_nxdomain += u32::from(tx.rcode() == 3);
                } else {
                    facts.dns_queries += 1;
                }
                if let Some(det) = det.as_deref_mut() {
                    // Each DNS message is complete when it arrives: inspect it once.
                    let dir = if tx.is_response() {
                        Direction::ToClient
                    } else {
                        Direction::ToServer
                    };
                    det.inspect_tx(
                        ctx.ts,
                        TxRef::Dns(tx),
                        tx.tx_id(),
                        dir,
                        0,
                        1,
                        flow_input(flow, dir, false),
                        ctx.payload_for(dir),
                    );
                    alerted |=
                        write_tx_alerts(det, flow, dir, ctx, batch, eve, &mut |w| tx.write_eve(w));
                }
                if eve.dns {
                    let mut w = batch.begin(EventType::Dns);
                    app_header(&mut w, flow, ctx, eve);
                    tx.write_eve(&mut w);
                    w.finish();
                }
            }),
            Parser::Tls(st) => st.drain(at_end, &mut |tx| {
                stats.tx_tls += 1;
                facts.tls_handshakes += 1;
                facts.tls_sni |= tx.sni().is_some();
                emit(EventType::Tls, eve.tls, &mut |w| {
                    if eve.tls_extended {
                        tx.write_eve_extended(w)
                    } else {
                        tx.write_eve(w)
                    }
                });
            }),
            Parser::Detecting | Parser::Failed => {}
        }
        alerted
    }

    /// The flow ended: deliver what reassembly still holds, log the rest, recycle the state.
    /// Returns true when an alert was written for the flow; `facts` receives what the app layer
    /// counted (default when the flow carried no payload).
    pub fn on_flow_end(
        &mut self,
        flow: &Flow,
        det: Option<&mut Detector>,
        batch: &mut EventBatch,
        eve: &EveOptions,
        facts: &mut AppFacts,
    ) -> bool {
        *facts = AppFacts::default();
        self.last_events_len = 0;
        self.detected_now = false;
        let i = flow.handle().index();
        if self.flows.get(i).is_none_or(|s| s.is_none()) {
            return false;
        }
        let cfg = self.stream_cfg;
        let limits = self.limits;
        let (sport, dport) = (flow.src_port, flow.dst_port);
        let mut events = std::mem::take(&mut self.events);
        let mut detected = None;
        if let Some(Some(app)) = self.flows.get_mut(i) {
            let AppFlow {
                to_server,
                to_client,
                parser,
                probe_ts,
                probe_tc,
                ..
            } = &mut **app;
            if flow.proto == ip_proto::TCP {
                let stats = &mut self.stats.stream;
                to_server.flush(&cfg, stats, &mut |c| {
                    feed_tcp(
                        parser,
                        probe_ts,
                        Direction::ToServer,
                        c,
                        sport,
                        dport,
                        &limits,
                        &mut events,
                        &mut detected,
                    )
                });
                to_client.flush(&cfg, stats, &mut |c| {
                    feed_tcp(
                        parser,
                        probe_tc,
                        Direction::ToClient,
                        c,
                        sport,
                        dport,
                        &limits,
                        &mut events,
                        &mut detected,
                    )
                });
            }
        }
        self.events = events;
        let ctx = PacketCtx::at(flow.last, None);
        let alerted = self.log(flow, ctx, true, det, batch, eve);
        if let Some(slot) = self.flows.get_mut(i) {
            if let Some(mut b) = slot.take() {
                *facts = b.facts;
                if let Some((_, data)) = b.syn_data.take() {
                    // Never acknowledged before the flow ended.
                    self.syn_data_held = self.syn_data_held.saturating_sub(data.len());
                    self.stats.stream.syn_data_dropped += 1;
                }
                if self.spare.len() < MAX_SPARE {
                    *b = AppFlow::new();
                    self.spare.push(b);
                }
            }
        }
        alerted
    }
}

/// Runs the transaction rules on the HTTP/TLS transactions of `app` whose parse progress
/// advanced since the last call. Returns true when an alert was written.
fn inspect_txs(
    app: &mut AppFlow,
    flow: &Flow,
    ctx: PacketCtx<'_>,
    at_end: bool,
    det: &mut Detector,
    batch: &mut EventBatch,
    eve: &EveOptions,
) -> bool {
    let mut alerted = false;
    match &app.parser {
        Parser::Http(st) => {
            for tx in st.transactions() {
                let mut now = [
                    http_level(tx.progress(Direction::ToServer)),
                    http_level(tx.progress(Direction::ToClient)),
                ];
                if at_end {
                    // The flow is over: what exists of each side is all there will be.
                    now = now.map(|l| if l > 0 { 3 } else { 0 });
                }
                let pos = app.det_http.iter().position(|(id, _)| *id == tx.id());
                let before = pos
                    .and_then(|p| app.det_http.get(p))
                    .map(|e| e.1)
                    .unwrap_or([0; 2]);
                if now == before {
                    continue;
                }
                for dir in [Direction::ToServer, Direction::ToClient] {
                    let (b, n) = (before[dir.index()], now[dir.index()]);
                    if n > b {
                        let fi = flow_input(flow, dir, false);
                        det.inspect_tx(
                            ctx.ts,
                            TxRef::Http(tx),
                            tx.id(),
                            dir,
                            b,
                            n,
                            fi,
                            ctx.payload_for(dir),
                        );
                        alerted |= write_tx_alerts(det, flow, dir, ctx, batch, eve, &mut |w| {
                            tx.write_eve(w)
                        });
                    }
                }
                match pos.and_then(|p| app.det_http.get_mut(p)) {
                    Some(e) => e.1 = now,
                    None => app.det_http.push((tx.id(), now)),
                }
            }
        }
        Parser::Tls(st) => {
            let tx = st.tx();
            let p = tx.progress();
            let ts = u8::from(p.client_hello);
            let tc = u8::from(p.server_hello && (p.certificate || p.handshake_done || at_end));
            let now = [ts, tc];
            for dir in [Direction::ToServer, Direction::ToClient] {
                let (b, n) = (app.det_tls[dir.index()], now[dir.index()]);
                if n > b {
                    let fi = flow_input(flow, dir, false);
                    det.inspect_tx(
                        ctx.ts,
                        TxRef::Tls(tx),
                        0,
                        dir,
                        b,
                        n,
                        fi,
                        ctx.payload_for(dir),
                    );
                    alerted |= write_tx_alerts(det, flow, dir, ctx, batch, eve, &mut |w| {
                        w.u64("tx_id", 0);
                        if eve.tls_extended {
                            tx.write_eve_extended(w)
                        } else {
                            tx.write_eve(w)
                        }
                    });
                }
            }
            app.det_tls = now;
        }
        _ => {}
    }
    alerted
}

/// Writes the alerts of the last transaction inspection.
fn write_tx_alerts(
    det: &Detector,
    flow: &Flow,
    dir: Direction,
    ctx: PacketCtx<'_>,
    batch: &mut EventBatch,
    eve: &EveOptions,
    app: &mut dyn FnMut(&mut JsonWriter<'_>),
) -> bool {
    if det.alerts().is_empty() {
        return false;
    }
    let actx = AlertCtx {
        ts: ctx.ts,
        pcap_cnt: ctx.pcap_cnt,
        tuple: Some(oriented_tuple(flow, dir)),
        vlan: flow.vlan.get(..usize::from(flow.vlan_count)).unwrap_or(&[]),
        flow: Some(flow),
        payload: ctx.payload_for(dir),
    };
    write_alerts(batch, eve, det, &actx, app)
}

/// The common header of an event that belongs to a flow; with Community ID enabled it is added
/// to every such event, as Suricata does, so events of one flow can be joined across tools.
pub(crate) fn app_header(
    w: &mut JsonWriter<'_>,
    flow: &Flow,
    ctx: PacketCtx<'_>,
    eve: &EveOptions,
) {
    w.header(&Header {
        ts: ctx.ts,
        flow_id: Some(flow.id),
        pcap_cnt: ctx.pcap_cnt,
        vlan: flow.vlan.get(..usize::from(flow.vlan_count)).unwrap_or(&[]),
        tuple: Some(header_tuple(flow)),
    });
    if let Some(seed) = eve.community_id_seed {
        let id = flow_community_id(flow, seed);
        w.str("community_id", &id);
    }
}

/// Feeds one reassembled chunk to the flow's parser, detecting the protocol first if needed.
#[allow(clippy::too_many_arguments)] // the pieces of one flow's state, borrowed separately
fn feed_tcp(
    parser: &mut Parser,
    probe: &mut ProbeBuf,
    dir: Direction,
    chunk: Chunk<'_>,
    sport: u16,
    dport: u16,
    limits: &AppLimits,
    events: &mut AppEvents,
    detected: &mut Option<AppProto>,
) {
    if let Parser::Detecting = parser {
        if dir == Direction::ToClient && probe.len >= PROBE_BYTES {
            return;
        }
        let Chunk::Data(data) = chunk else {
            // Missing bytes before the protocol was known: give up on this flow.
            *parser = Parser::Failed;
            *detected = Some(AppProto::Failed);
            return;
        };
        let room = PROBE_BYTES - probe.len;
        let copied = data.len().min(room);
        if let (Some(dst), Some(src)) = (
            probe.bytes.get_mut(probe.len..probe.len + copied),
            data.get(..copied),
        ) {
            dst.copy_from_slice(src);
        }
        probe.len += copied;
        let head = probe.bytes.get(..probe.len).unwrap_or(&[]);
        let dns_port = sport == 53 || dport == 53;
        let verdicts = [
            (AppProto::Http, http::probe(head, dir)),
            (AppProto::Tls, tls::probe(head, dir)),
            (
                AppProto::Dns,
                if dns_port {
                    dns::probe_tcp(head, dir)
                } else {
                    Probe::No
                },
            ),
        ];
        let found = verdicts
            .iter()
            .find(|(_, v)| *v == Probe::Yes)
            .map(|(p, _)| *p);
        let waiting = verdicts.iter().any(|(_, v)| *v == Probe::NeedMore);
        match found {
            Some(p) => {
                *parser = match p {
                    AppProto::Http => Parser::Http(http::State::new(&limits.http)),
                    AppProto::Tls => Parser::Tls(tls::State::new(&limits.tls)),
                    _ => Parser::Dns(dns::State::new_tcp(&limits.dns)),
                };
                *detected = Some(p);
                let buffered = probe.len;
                probe.len = 0;
                let head = probe.bytes;
                if let Some(h) = head.get(..buffered) {
                    parse_chunk(parser, dir, Chunk::Data(h), events);
                }
                if let Some(rest) = data.get(copied..) {
                    if !rest.is_empty() {
                        parse_chunk(parser, dir, Chunk::Data(rest), events);
                    }
                }
            }
            None if waiting && copied == data.len() && probe.len < PROBE_BYTES => {}
            // The server spoke first with something unknown (a banner, say): the client's
            // first bytes decide.
            None if dir == Direction::ToClient => probe.len = PROBE_BYTES,
            None => {
                *parser = Parser::Failed;
                *detected = Some(AppProto::Failed);
            }
        }
        return;
    }
    parse_chunk(parser, dir, chunk, events);
}

fn parse_chunk(parser: &mut Parser, dir: Direction, chunk: Chunk<'_>, events: &mut AppEvents) {
    match (parser, chunk) {
        (Parser::Http(st), Chunk::Data(d)) => st.parse(dir, d, events),
        (Parser::Http(st), Chunk::Gap(n)) => st.gap(dir, u64::from(n), events),
        (Parser::Dns(st), Chunk::Data(d)) => st.parse(dir, d, events),
        (Parser::Dns(st), Chunk::Gap(n)) => st.gap(dir, u64::from(n), events),
        (Parser::Tls(st), Chunk::Data(d)) => st.parse(dir, d, events),
        (Parser::Tls(st), Chunk::Gap(n)) => st.gap(dir, u64::from(n), events),
        (Parser::Detecting | Parser::Failed, _) => {}
    }
}
