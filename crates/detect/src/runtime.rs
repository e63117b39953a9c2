//! Per-worker detection: candidates from the prefilters, full verification of each candidate,
//! flowbits, thresholds and the alerts that result. No allocation per packet in steady state:
//! candidate lists, stamps and transform buffers are reused.

use std::net::IpAddr;
use std::sync::Arc;

use vedette_decode::{Decoded, Ip, L4};
use vedette_rules::ast::{Action, AppName, Buffer, FlagsMod, StreamSide, Target};
use vedette_types::{AppProto, Direction, Timestamp};

use crate::compile::{BitOp, Engine, PktCheck, Sig, Stage, TxCheck};
use crate::inspect::{self, Scratch, TransformScratch};
use crate::prefilter::Seen;
use crate::threshold::{ConfigRule, Subject, ThresholdState};
use crate::txbuf::{self, TxApp, TxRef};
use crate::xbits::XbitTable;

/// The flow a packet or transaction belongs to.
#[derive(Clone, Copy, Debug)]
pub struct FlowInput {
    /// The flow's slot in the worker's flow table (index of per-flow detect state).
    pub slot: usize,
    /// The flow's id (tells a reused slot apart).
    pub id: u64,
    /// Direction of the packet.
    pub dir: Direction,
    /// Suricata's `established` for this packet.
    pub established: bool,
    /// Detected app-layer protocol.
    pub app_proto: AppProto,
    /// The protocol was detected on this packet (`app-layer-protocol` matches packets there).
    pub app_detected_now: bool,
    /// Client address and port.
    pub client: (IpAddr, u16),
    /// Server address and port.
    pub server: (IpAddr, u16),
    /// IP protocol.
    pub proto: u8,
    /// TCP sequence space used so far by the client and the server (`stream_size`); None for
    /// flows without a TCP session.
    pub stream_size: Option<[u32; 2]>,
}

/// A packet to inspect.
pub struct PacketInput<'a> {
    /// Packet time.
    pub ts: Timestamp,
    /// The decoded packet.
    pub d: &'a Decoded<'a>,
    /// The transport payload (or reassembled data) to match payload rules against.
    pub payload: &'a [u8],
    /// The flow, when the packet has one.
    pub flow: Option<FlowInput>,
    /// App-layer events (Suricata names) raised while parsing this packet.
    pub app_events: &'a [&'static str],
}

/// One alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Signature index (see [`Engine::info`]).
    pub sig: u32,
    /// Action to record (a rate_filter may change it).
    pub action: Action,
    /// Raised on a transaction: its id.
    pub tx_id: Option<u64>,
    /// Direction of the inspected data (for tx alerts).
    pub dir: Direction,
}

/// Counters of one worker's detection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetectStats {
    /// Alerts raised (after thresholds and suppression).
    pub alerts: u64,
    /// Matches kept quiet by `noalert`, thresholds or suppression.
    pub suppressed: u64,
    /// Candidate rules verified.
    pub candidates: u64,
    /// Threshold lookups that found the table full.
    pub threshold_table_full: u64,
    /// `xbits` sets dropped because the table was full.
    pub xbits_table_full: u64,
}

#[derive(Default)]
struct FlowState {
    id: u64,
    bits: Vec<u64>,
    passed: bool,
}

/// Detection state of one worker: the shared rules and this worker's mutable state, kept apart
/// so an inspection borrows the rules without touching the shared reference count.
pub struct Detector {
    engine: Arc<Engine>,
    work: Work,
}

/// The mutable part of a worker's detection.
struct Work {
    seen: Seen,
    cand: Vec<u32>,
    scratch: Scratch,
    tscratch: TransformScratch,
    tmp: Vec<u8>,
    flows: Vec<Option<FlowState>>,
    thresholds: ThresholdState,
    xbits: XbitTable,
    /// Alerts of the last inspection, in order.
    alerts: Vec<Alert>,
    stats: DetectStats,
}

/// What the packet looks like to header checks.
struct View<'a> {
    ts: Timestamp,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
    d: Option<&'a Decoded<'a>>,
    payload: &'a [u8],
    flow: Option<FlowInput>,
    dir: Direction,
    app_events: &'a [&'static str],
}

impl Detector {
    /// A detector for one worker.
    pub fn new(engine: Arc<Engine>) -> Self {
        let max_pats = engine
            .tx
            .iter()
            .flatten()
            .flat_map(|g| g.prefilters.iter())
            .chain(engine.packet.iter())
            .map(|(_, p)| p.patterns())
            .max()
            .unwrap_or(0);
        let n = engine.sigs.len();
        let max_entries = engine.max_threshold_entries;
        Detector {
            engine,
            work: Work {
                seen: Seen::new(n, max_pats),
                cand: Vec::with_capacity(256),
                scratch: Scratch::default(),
                tscratch: TransformScratch::default(),
                tmp: Vec::new(),
                flows: Vec::new(),
                thresholds: ThresholdState::new(max_entries),
                xbits: XbitTable::new(max_entries),
                alerts: Vec::new(),
                stats: DetectStats::default(),
            },
        }
    }

    /// The compiled rules.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Alerts of the last inspection, in order.
    pub fn alerts(&self) -> &[Alert] {
        &self.work.alerts
    }

    /// Counters so far.
    pub fn stats(&self) -> DetectStats {
        let mut s = self.work.stats;
        s.threshold_table_full = self.work.thresholds.full;
        s.xbits_table_full = self.work.xbits.full;
        s
    }

    /// Whether any rule inspects packets (so callers can skip building inputs).
    pub fn has_packet_rules(&self) -> bool {
        self.engine.has_packet_rules
    }

    /// Forgets a flow's flowbits and counters.
    pub fn flow_ended(&mut self, slot: usize, id: u64) {
        let w = &mut self.work;
        if let Some(s) = w.flows.get_mut(slot) {
            if s.as_ref().is_some_and(|f| f.id == id) {
                *s = None;
            }
        }
        w.thresholds.flow_ended(id);
    }

    /// Inspects one packet with the packet rules; alerts land in `w.alerts` (cleared first).
    pub fn inspect_packet(&mut self, p: &PacketInput<'_>) {
        let (engine, w) = (&*self.engine, &mut self.work);
        w.alerts.clear();
        if !engine.has_packet_rules || w.flow_passed(&p.flow) {
            return;
        }
        // Packets without a usable IP header only meet decoder-event rules.
        let unspecified = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        let (src, dst) = p.d.addrs().unwrap_or((unspecified, unspecified));
        let no_ip = p.d.addrs().is_none();
        let proto = p.d.ip_proto().unwrap_or(0);
        let (sport, dport) = match p.d.l4 {
            L4::Tcp(_) | L4::Udp(_) => p.d.ports(),
            _ => (0, 0),
        };
        let view = View {
            ts: p.ts,
            src,
            dst,
            sport,
            dport,
            proto,
            d: Some(p.d),
            payload: p.payload,
            flow: p.flow,
            dir: p.flow.map(|f| f.dir).unwrap_or(Direction::ToServer),
            app_events: p.app_events,
        };
        w.seen.next_inspection();
        w.cand.clear();
        if !p.payload.is_empty() {
            for (sel, pf) in &engine.packet {
                let buf = inspect::transform(&sel.transforms, p.payload, &mut w.tscratch);
                pf.candidates(buf, &mut w.seen, &mut w.cand);
            }
        }
        let (seen, cand) = (&mut w.seen, &mut w.cand);
        engine.packet_always.each(proto, src, dst, dport, &mut |s| {
            if seen.first_sig(s) {
                cand.push(s);
            }
        });
        w.cand.sort_unstable();
        let cand = std::mem::take(&mut w.cand);
        for &i in &cand {
            let Some(sig) = engine.sigs.get(i as usize) else {
                continue;
            };
            if no_ip && !sig.decoder_event {
                continue;
            }
            w.stats.candidates += 1;
            if !w.match_packet(engine, sig, &view) {
                continue;
            }
            if w.fire(engine, i, sig, &view, None) {
                break;
            }
        }
        w.cand = cand;
    }

    /// Inspects transaction `tx` (id `tx_id`) in direction `dir` with the rules that become
    /// complete between progress levels `from` (exclusive) and `to` (inclusive). `payload` is
    /// the transport payload of the packet that brought the inspection when it travels in
    /// `dir` (else empty): the payload part of rules that mix it with transaction buffers.
    #[allow(clippy::too_many_arguments)] // the facts of one inspection
    pub fn inspect_tx(
        &mut self,
        ts: Timestamp,
        tx: TxRef<'_>,
        tx_id: u64,
        dir: Direction,
        from: u8,
        to: u8,
        flow: FlowInput,
        payload: &[u8],
    ) {
        let (engine, w) = (&*self.engine, &mut self.work);
        w.alerts.clear();
        if to <= from || w.flow_passed(&Some(flow)) {
            return;
        }
        let app = match tx {
            TxRef::Http(_) => TxApp::Http,
            TxRef::Dns(_) => TxApp::Dns,
            TxRef::Tls(_) => TxApp::Tls,
        };
        let Some(group) = engine.tx.get(app.index()).and_then(|g| g.get(dir.index())) else {
            return;
        };
        if group.always.is_empty() && group.prefilters.is_empty() {
            return;
        }
        let (src, dst) = match dir {
            Direction::ToServer => (flow.client, flow.server),
            Direction::ToClient => (flow.server, flow.client),
        };
        let view = View {
            ts,
            src: src.0,
            dst: dst.0,
            sport: src.1,
            dport: dst.1,
            proto: flow.proto,
            d: None,
            payload,
            flow: Some(flow),
            dir,
            app_events: &[],
        };
        w.seen.next_inspection();
        w.cand.clear();
        for (sel, pf) in &group.prefilters {
            let (seen, cand, tscratch) = (&mut w.seen, &mut w.cand, &mut w.tscratch);
            txbuf::for_each(tx, sel.buffer, dir, &mut w.tmp, &mut |b| {
                let buf = inspect::transform(&sel.transforms, b, tscratch);
                pf.candidates(buf, seen, cand);
                false
            });
        }
        for &s in &group.always {
            if w.seen.first_sig(s) {
                w.cand.push(s);
            }
        }
        w.cand.sort_unstable();
        let cand = std::mem::take(&mut w.cand);
        for &i in &cand {
            let Some(sig) = engine.sigs.get(i as usize) else {
                continue;
            };
            let Stage::Tx { level, .. } = sig.stage else {
                continue;
            };
            if level <= from || level > to {
                continue;
            }
            w.stats.candidates += 1;
            if !w.match_tx(engine, sig, &view, tx) {
                continue;
            }
            if w.fire(engine, i, sig, &view, Some(tx_id)) {
                break;
            }
        }
        w.cand = cand;
    }
}

impl Work {
    fn flow_state(&mut self, f: &FlowInput) -> Option<&mut FlowState> {
        if self.flows.len() <= f.slot {
            self.flows.resize_with(f.slot + 1, || None);
        }
        let s = self.flows.get_mut(f.slot)?;
        if s.as_ref().is_none_or(|st| st.id != f.id) {
            *s = Some(FlowState {
                id: f.id,
                ..FlowState::default()
            });
        }
        s.as_mut()
    }

    fn flow_passed(&self, f: &Option<FlowInput>) -> bool {
        f.as_ref().is_some_and(
            |f| matches!(self.flows.get(f.slot), Some(Some(s)) if s.id == f.id && s.passed),
        )
    }

    /// Header, flow and packet checks shared by both stages.
    fn match_header(&self, sig: &Sig, v: &View<'_>) -> bool {
        if !sig.proto.matches(v.proto) {
            return false;
        }
        let fwd = sig.src.contains(v.src)
            && sig.dst.contains(v.dst)
            && sig.sport.contains(v.sport)
            && sig.dport.contains(v.dport);
        if !fwd {
            let rev = sig.bidir
                && sig.src.contains(v.dst)
                && sig.dst.contains(v.src)
                && sig.sport.contains(v.dport)
                && sig.dport.contains(v.sport);
            if !rev {
                return false;
            }
        }
        let f = &sig.flow;
        if f.to_server || f.to_client || f.established || f.not_established {
            let Some(flow) = &v.flow else { return false };
            if f.to_server && v.dir != Direction::ToServer {
                return false;
            }
            if f.to_client && v.dir != Direction::ToClient {
                return false;
            }
            if f.established && !flow.established {
                return false;
            }
            if f.not_established && flow.established {
                return false;
            }
        }
        if let Some(app) = sig.app {
            let have = v.flow.map(|f| f.app_proto).unwrap_or_default();
            if !app_is(app, have) {
                return false;
            }
        }
        true
    }

    fn match_packet(&mut self, engine: &Engine, sig: &Sig, v: &View<'_>) -> bool {
        if !self.match_header(sig, v) {
            return false;
        }
        if sig.flow.only_stream && v.proto != 6 {
            return false;
        }
        if !sig.pkt.iter().all(|c| pkt_check(c, v)) {
            return false;
        }
        for b in &sig.bufs {
            if v.payload.is_empty() {
                if b.prog.is_empty() && b.absent.is_some() {
                    continue;
                }
                return false;
            }
            if b.absent == Some(false) {
                return false;
            }
            let buf = inspect::transform(&b.sel.transforms, v.payload, &mut self.tscratch);
            if !b.prog.matches(buf, &mut self.scratch) {
                return false;
            }
        }
        self.bits_ok(engine, sig, v)
    }

    fn match_tx(&mut self, engine: &Engine, sig: &Sig, v: &View<'_>, tx: TxRef<'_>) -> bool {
        if !self.match_header(sig, v) {
            return false;
        }
        if !sig.pkt.iter().all(|c| match c {
            PktCheck::AppProto(..) | PktCheck::StreamSize(..) => pkt_check(c, v),
            // Packet-level checks need a packet: a rule mixing them with app-layer buffers is
            // checked against the flow only.
            _ => true,
        }) {
            return false;
        }
        if !sig.tx.iter().all(|c| tx_check(c, tx, v.dir)) {
            return false;
        }
        for b in &sig.bufs {
            if b.sel.buffer == Buffer::Payload {
                // The packet part of a mixed rule.
                if v.payload.is_empty() || b.absent == Some(false) {
                    return false;
                }
                let buf = inspect::transform(&b.sel.transforms, v.payload, &mut self.tscratch);
                if !b.prog.matches(buf, &mut self.scratch) {
                    return false;
                }
                continue;
            }
            let (prog, tscratch, scratch) = (&b.prog, &mut self.tscratch, &mut self.scratch);
            let mut found = false;
            let exists = txbuf::for_each(tx, b.sel.buffer, v.dir, &mut self.tmp, &mut |data| {
                let buf = inspect::transform(&b.sel.transforms, data, tscratch);
                found = prog.matches(buf, scratch);
                found
            });
            match (b.absent, exists) {
                (Some(_), false) => continue,
                (Some(false), true) => return false,
                (None, false) => return false,
                _ => {}
            }
            if !found {
                return false;
            }
        }
        self.bits_ok(engine, sig, v)
    }

    fn bits_ok(&mut self, engine: &Engine, sig: &Sig, v: &View<'_>) -> bool {
        for x in &sig.xbits {
            if !self.xbits.check(x, v.src, v.dst, v.ts) {
                return false;
            }
        }
        if sig.bits.is_empty() {
            return true;
        }
        let Some(flow) = v.flow else {
            // Flowbits need a flow: a rule that only sets them still matches.
            return sig.bits.iter().all(|b| !matches!(b, BitOp::IsSet(..)));
        };
        let words = engine.flowbits.div_ceil(64);
        let Some(st) = self.flow_state(&flow) else {
            return false;
        };
        if st.bits.len() < words {
            st.bits.resize(words, 0);
        }
        let get = |bits: &[u64], i: u32| {
            bits.get((i / 64) as usize)
                .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
        };
        for b in &sig.bits {
            let ok = match b {
                BitOp::IsSet(ids, all) => {
                    if *all {
                        ids.iter().all(|i| get(&st.bits, *i))
                    } else {
                        ids.iter().any(|i| get(&st.bits, *i))
                    }
                }
                BitOp::IsNotSet(ids, all) => {
                    if *all {
                        ids.iter().all(|i| !get(&st.bits, *i))
                    } else {
                        ids.iter().any(|i| !get(&st.bits, *i))
                    }
                }
                _ => true,
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// A rule matched: flowbit actions, pass, thresholds, then the alert. Returns true when a
    /// `pass` rule matched (nothing more is inspected for this packet and flow).
    fn fire(
        &mut self,
        engine: &Engine,
        i: u32,
        sig: &Sig,
        v: &View<'_>,
        tx_id: Option<u64>,
    ) -> bool {
        for x in &sig.xbits {
            self.xbits.apply(x, v.src, v.dst, v.ts);
        }
        if let Some(flow) = v.flow {
            let words = engine.flowbits.div_ceil(64);
            if let Some(st) = self.flow_state(&flow) {
                for b in &sig.bits {
                    let (ids, op): (&[u32], u8) = match b {
                        BitOp::Set(ids) => (ids, 0),
                        BitOp::Unset(ids) => (ids, 1),
                        BitOp::Toggle(ids) => (ids, 2),
                        _ => continue,
                    };
                    if st.bits.len() < words {
                        st.bits.resize(words, 0);
                    }
                    for &id in ids {
                        if let Some(w) = st.bits.get_mut((id / 64) as usize) {
                            let m = 1u64 << (id % 64);
                            match op {
                                0 => *w |= m,
                                1 => *w &= !m,
                                _ => *w ^= m,
                            }
                        }
                    }
                }
            }
        }
        let Some(info) = engine.infos.get(i as usize) else {
            return false;
        };
        if info.action == Action::Pass {
            if let Some(flow) = v.flow {
                if let Some(st) = self.flow_state(&flow) {
                    st.passed = true;
                }
            }
            return true;
        }
        if sig.noalert {
            self.stats.suppressed += 1;
            return false;
        }
        let (asrc, adst) = match info.target {
            Some(Target::Dst) => (v.dst, v.src),
            _ => (v.src, v.dst),
        };
        let subj = Subject {
            ts: v.ts,
            src: asrc,
            dst: adst,
            sport: v.sport,
            dport: v.dport,
            flow: v.flow.map(|f| f.id).unwrap_or(0),
        };
        let mut action = info.action;
        let mut config_threshold = None;
        for c in &sig.config {
            match c {
                ConfigRule::Suppress(None) => {
                    self.stats.suppressed += 1;
                    return false;
                }
                ConfigRule::Suppress(Some((track, set))) => {
                    let hit = match track {
                        vedette_rules::ast::Track::ByDst => set.contains(subj.dst),
                        vedette_rules::ast::Track::ByEither => {
                            set.contains(subj.src) || set.contains(subj.dst)
                        }
                        _ => set.contains(subj.src),
                    };
                    if hit {
                        self.stats.suppressed += 1;
                        return false;
                    }
                }
                ConfigRule::Threshold(t) => config_threshold = Some(*t),
                ConfigRule::Rate {
                    track,
                    count,
                    seconds,
                    new_action,
                    timeout,
                } => {
                    if let Some(a) = self.thresholds.rate(
                        i,
                        *track,
                        *count,
                        *seconds,
                        *new_action,
                        *timeout,
                        &subj,
                    ) {
                        action = a;
                    }
                }
            }
        }
        if let Some(df) = &sig.detection_filter {
            if !self.thresholds.detection_filter(i, df, &subj) {
                self.stats.suppressed += 1;
                return false;
            }
        }
        // A threshold.config entry for the rule replaces the rule's own threshold.
        if let Some(t) = config_threshold.as_ref().or(sig.threshold.as_ref()) {
            if !self.thresholds.threshold(i, t, &subj) {
                self.stats.suppressed += 1;
                return false;
            }
        }
        self.stats.alerts += 1;
        self.alerts.push(Alert {
            sig: i,
            action,
            tx_id,
            dir: v.dir,
        });
        false
    }
}

fn app_is(want: AppName, have: AppProto) -> bool {
    match want {
        AppName::Http => have == AppProto::Http,
        AppName::Dns => have == AppProto::Dns,
        AppName::Tls => have == AppProto::Tls,
        AppName::Ssh => have == AppProto::Ssh,
        AppName::Failed => have == AppProto::Failed,
        AppName::Other(_) => false,
    }
}

fn pkt_check(c: &PktCheck, v: &View<'_>) -> bool {
    let d = v.d;
    match c {
        PktCheck::Dsize(cmp) => d.is_some() && cmp.matches(v.payload.len() as u64),
        PktCheck::StreamSize(side, cmp) => {
            let Some([client, server]) = v.flow.and_then(|f| f.stream_size) else {
                return false;
            };
            let (c, s) = (
                cmp.matches(u64::from(client)),
                cmp.matches(u64::from(server)),
            );
            match side {
                StreamSide::Client => c,
                StreamSide::Server => s,
                StreamSide::Both => c && s,
                StreamSide::Either => c || s,
            }
        }
        PktCheck::Ttl(cmp) => match d.map(|d| d.ip) {
            Some(Ip::V4(ip)) => cmp.matches(u64::from(ip.ttl())),
            Some(Ip::V6(ip)) => cmp.matches(u64::from(ip.hop_limit())),
            _ => false,
        },
        PktCheck::Itype(cmp) => icmp(d).is_some_and(|i| cmp.matches(u64::from(i.icmp_type()))),
        PktCheck::Icode(cmp) => icmp(d).is_some_and(|i| cmp.matches(u64::from(i.code()))),
        PktCheck::IcmpId(id) => icmp(d).is_some_and(|i| icmp_has_id(&i) && i.id() == *id),
        PktCheck::IcmpSeq(s) => icmp(d).is_some_and(|i| icmp_has_id(&i) && i.seq() == *s),
        PktCheck::Flags(f) => match d.map(|d| d.l4) {
            Some(L4::Tcp(t)) => flags_match(t.flags(), f.flags, f.ignore, f.modifier),
            _ => false,
        },
        PktCheck::Fragbits(fb) => match d.map(|d| d.ip) {
            Some(Ip::V4(ip)) => {
                let raw = u16::from_be_bytes([
                    ip.header().get(6).copied().unwrap_or(0),
                    ip.header().get(7).copied().unwrap_or(0),
                ]);
                let bits = ((raw >> 13) & 0x7) as u8;
                // Header order is R D M (0x4, 0x2, 0x1), as the AST encodes them.
                flags_match(bits, fb.bits, 0, fb.modifier)
            }
            _ => false,
        },
        PktCheck::Fragoffset(cmp) => match d.map(|d| d.ip) {
            Some(Ip::V4(ip)) => cmp.matches(u64::from(ip.fragment_offset())),
            _ => false,
        },
        PktCheck::IpId(id) => match d.map(|d| d.ip) {
            Some(Ip::V4(ip)) => ip.id() == *id,
            _ => false,
        },
        PktCheck::IpProto(cmp) => cmp.matches(u64::from(v.proto)),
        PktCheck::Ipopts(want) => match d.map(|d| d.ip) {
            Some(Ip::V4(ip)) => ipv4_has_option(ip.options(), *want),
            _ => false,
        },
        PktCheck::Sameip => v.src == v.dst,
        PktCheck::Seq(s) => matches!(d.map(|d| d.l4), Some(L4::Tcp(t)) if t.seq() == *s),
        PktCheck::Ack(s) => matches!(d.map(|d| d.l4), Some(L4::Tcp(t)) if t.ack() == *s),
        PktCheck::Window(w, neg) => match d.map(|d| d.l4) {
            Some(L4::Tcp(t)) => (t.window() == *w) != *neg,
            _ => false,
        },
        PktCheck::TcpMss(cmp) => match d.map(|d| d.l4) {
            Some(L4::Tcp(t)) => t.options().mss.is_some_and(|m| cmp.matches(u64::from(m))),
            _ => false,
        },
        PktCheck::AppProto(app, neg) => match v.flow {
            // On packets, as Suricata: only the packet that completed protocol detection.
            Some(f) if v.d.is_none() || f.app_detected_now => app_is(*app, f.app_proto) != *neg,
            _ => false,
        },
        PktCheck::DecodeEvent(idx) => {
            d.is_some_and(|d| d.events.as_slice().iter().any(|e| e.index() == *idx))
        }
        PktCheck::AppLayerEvent(name) => v.app_events.iter().any(|e| e == name),
    }
}

fn icmp<'a>(d: Option<&Decoded<'a>>) -> Option<vedette_decode::Icmp<'a>> {
    match d?.l4 {
        L4::Icmp4(i) | L4::Icmp6(i) => Some(i),
        _ => None,
    }
}

/// icmp_id/icmp_seq exist only in echo-like messages (as Suricata).
fn icmp_has_id(i: &vedette_decode::Icmp<'_>) -> bool {
    matches!(
        i.icmp_type(),
        0 | 8 | 13 | 14 | 15 | 16 | 17 | 18 | 128 | 129
    )
}

fn flags_match(have: u8, want: u8, ignore: u8, m: FlagsMod) -> bool {
    let have = have & !ignore;
    match m {
        FlagsMod::Exact => have == want,
        FlagsMod::Plus => have & want == want,
        FlagsMod::Any => have & want != 0 || want == 0,
        FlagsMod::Not => have & want == 0,
    }
}

fn ipv4_has_option(mut opts: &[u8], want: Option<u8>) -> bool {
    while let Some(&kind) = opts.first() {
        match kind {
            0 => return want == Some(0) || want.is_none(),
            1 => {
                if want == Some(1) || want.is_none() {
                    return true;
                }
                opts = opts.get(1..).unwrap_or(&[]);
            }
            _ => {
                if want.is_none_or(|w| w == kind) {
                    return true;
                }
                let len = usize::from(opts.get(1).copied().unwrap_or(0));
                if len < 2 {
                    return false;
                }
                opts = opts.get(len..).unwrap_or(&[]);
            }
        }
    }
    false
}

fn tx_check(c: &TxCheck, tx: TxRef<'_>, dir: Direction) -> bool {
    match (c, tx) {
        (TxCheck::SslVersion(bits, neg), TxRef::Tls(t)) => {
            // Each side is judged by the version it announced (as Suricata's connp).
            let ver = match dir {
                Direction::ToServer => t.client_version(),
                Direction::ToClient => t.version(),
            };
            let v: u8 = match ver {
                0x0002 => 1,
                0x0300 => 2,
                0x0301 => 4,
                0x0302 => 8,
                0x0303 => 16,
                0x0304 | 0x7f00..=0x7fff => 32,
                _ => 0,
            };
            if v == 0 {
                return false;
            }
            // Any entry holds: `v` listed, or a negated entry naming another version.
            bits & v != 0 || neg & !v != 0
        }
        (TxCheck::SslState(bits, neg), TxRef::Tls(t)) => {
            let p = t.progress();
            let mut have = 0u8;
            if p.client_hello {
                have |= 1;
            }
            if p.server_hello {
                have |= 2;
            }
            (*bits == 0 || have & bits != 0) && have & neg == 0
        }
        (TxCheck::TlsVersion(v), TxRef::Tls(t)) => t.version() == *v,
        (TxCheck::CertChainLen(cmp), TxRef::Tls(t)) => cmp.matches(t.cert_chain_len() as u64),
        (TxCheck::DnsOpcode(cmp), TxRef::Dns(t)) => cmp.matches(u64::from(t.opcode())),
        (TxCheck::DnsRcode(cmp), TxRef::Dns(t)) => cmp.matches(u64::from(t.rcode())),
        (TxCheck::DnsRrtype(cmp), TxRef::Dns(t)) => {
            t.questions().any(|(_, ty, _)| cmp.matches(u64::from(ty)))
        }
        _ => false,
    }
}
