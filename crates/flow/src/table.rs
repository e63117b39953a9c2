//! The per-worker flow table: lookup/creation by key, counters, state, timeouts from packet time,
//! and a hard cap with emergency eviction.
//!
//! Flows live in a slab (`Vec<Slot>`) that grows up to the cap and is then reused, so steady
//! state allocates nothing. Each flow is on one of several intrusive LRU lists, one per timeout
//! class (protocol × state); within a list flows are ordered by last activity, so expiry only
//! looks at list heads and costs O(expired flows).

use crate::features::FlowFeatures;
use crate::key::FlowKey;
use crate::tcp::{Segment, Start, TcpSession};
use hashbrown::HashMap;
use std::net::IpAddr;
use vedette_decode::Embedded;
use vedette_types::{ip_proto, AppProto, Direction, Timestamp};

/// Timeouts of one protocol, in seconds of packet time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtoTimeouts {
    /// Flow not yet established.
    pub new_secs: u32,
    /// Established flow.
    pub established_secs: u32,
    /// Closed flow (TCP after FIN/RST).
    pub closed_secs: u32,
}

/// Per-protocol timeouts (defaults follow Suricata's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP.
    pub tcp: ProtoTimeouts,
    /// UDP.
    pub udp: ProtoTimeouts,
    /// ICMP and ICMPv6.
    pub icmp: ProtoTimeouts,
    /// Any other IP protocol.
    pub other: ProtoTimeouts,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: ProtoTimeouts {
                new_secs: 60,
                established_secs: 600,
                closed_secs: 60,
            },
            udp: ProtoTimeouts {
                new_secs: 30,
                established_secs: 300,
                closed_secs: 0,
            },
            icmp: ProtoTimeouts {
                new_secs: 30,
                established_secs: 300,
                closed_secs: 0,
            },
            other: ProtoTimeouts {
                new_secs: 30,
                established_secs: 300,
                closed_secs: 0,
            },
        }
    }
}

/// Flow table settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// Most flows this table holds; when full, the oldest not-yet-established flow (or else the
    /// oldest flow) is evicted with reason `forced`.
    pub max_flows: u32,
    /// Start TCP sessions from packets other than a SYN.
    pub midstream: bool,
    /// Per-protocol timeouts.
    pub timeouts: Timeouts,
    /// Compute the running ML features of each flow ([`crate::features`]).
    pub features: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: DEFAULT_MAX_FLOWS,
            midstream: false,
            timeouts: Timeouts::default(),
            features: false,
        }
    }
}

/// Default flow cap (per run; split between workers).
pub const DEFAULT_MAX_FLOWS: u32 = 1_000_000;

/// Flow state as logged in EVE `flow.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowState {
    /// Not yet established.
    New,
    /// Established (TCP handshake done; others: traffic both ways).
    Established,
    /// Closed (TCP FIN/RST).
    Closed,
}

impl FlowState {
    /// EVE name.
    pub fn name(self) -> &'static str {
        match self {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
        }
    }
}

/// Why a flow ended (EVE `flow.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Idle past its timeout.
    Timeout,
    /// Evicted because the table was full.
    Forced,
    /// Still active when the run ended.
    Shutdown,
}

impl EndReason {
    /// EVE name.
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Forced => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// One bidirectional flow, seen from its client.
#[derive(Clone, Debug)]
pub struct Flow {
    /// Stable id (EVE `flow_id`), derived from the key and start time.
    pub id: u64,
    /// Client address.
    pub src_ip: IpAddr,
    /// Server address.
    pub dst_ip: IpAddr,
    /// Client port (0 for ICMP and others).
    pub src_port: u16,
    /// Server port.
    pub dst_port: u16,
    /// IP protocol.
    pub proto: u8,
    /// VLAN ids, outermost first.
    pub vlan: [u16; 3],
    /// Number of VLAN ids.
    pub vlan_count: u8,
    /// First packet time.
    pub start: Timestamp,
    /// Last packet time.
    pub last: Timestamp,
    /// Packets client → server.
    pub pkts_toserver: u64,
    /// Packets server → client.
    pub pkts_toclient: u64,
    /// Bytes client → server (captured frame lengths, as Suricata counts).
    pub bytes_toserver: u64,
    /// Bytes server → client.
    pub bytes_toclient: u64,
    /// Flow state.
    pub state: FlowState,
    /// TCP session, when one was started.
    pub tcp: Option<TcpSession>,
    /// TCP flags seen client → server.
    pub tcp_flags_ts: u8,
    /// TCP flags seen server → client.
    pub tcp_flags_tc: u8,
    /// First ICMP (type, code) client → server.
    pub icmp_ts: Option<(u8, u8)>,
    /// First ICMP (type, code) server → client.
    pub icmp_tc: Option<(u8, u8)>,
    /// Application protocol.
    pub app_proto: AppProto,
    /// The protocol before a change (e.g. `http` before a CONNECT tunnel carried TLS).
    pub app_proto_orig: AppProto,
    /// An alert was raised on this flow.
    pub alerted: bool,
    /// Whether the current packet belongs to an established flow, as Suricata's
    /// `flow:established` sees it: for TCP the session state before this packet (the ACK
    /// completing the handshake is not yet established), otherwise both directions seen.
    pub pkt_established: bool,
    /// Running ML features (only when the table computes them).
    features: Option<Box<FlowFeatures>>,
    key: FlowKey,
    client_is_lo: bool,
    slot: u32,
}

impl Flow {
    /// The handle of this flow in its table (stable for the flow's life).
    pub fn handle(&self) -> FlowHandle {
        FlowHandle(self.slot)
    }

    /// The age Suricata logs: whole seconds between first and last packet.
    pub fn age_secs(&self) -> i64 {
        self.last.secs() - self.start.secs()
    }

    /// The flow's key.
    pub fn key(&self) -> &FlowKey {
        &self.key
    }

    /// The running ML features, when the table computes them.
    pub fn features(&self) -> Option<&FlowFeatures> {
        self.features.as_deref()
    }

    /// Swaps client and server (with their counters), for when the app layer learns that the
    /// first packet came from the server, e.g. a DNS response seen before its query.
    pub fn reverse(&mut self) {
        std::mem::swap(&mut self.src_ip, &mut self.dst_ip);
        std::mem::swap(&mut self.src_port, &mut self.dst_port);
        std::mem::swap(&mut self.pkts_toserver, &mut self.pkts_toclient);
        std::mem::swap(&mut self.bytes_toserver, &mut self.bytes_toclient);
        std::mem::swap(&mut self.tcp_flags_ts, &mut self.tcp_flags_tc);
        std::mem::swap(&mut self.icmp_ts, &mut self.icmp_tc);
        if let Some(f) = self.features.as_deref_mut() {
            f.reverse();
        }
        self.client_is_lo = !self.client_is_lo;
    }
}

/// What the flow table needs to know about a packet.
#[derive(Clone, Copy, Debug)]
pub struct PacketFacts {
    /// Packet time.
    pub ts: Timestamp,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port (TCP/UDP; 0 otherwise).
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// IP protocol.
    pub proto: u8,
    /// VLAN ids.
    pub vlan: [u16; 3],
    /// Number of VLAN ids.
    pub vlan_count: u8,
    /// Bytes to count.
    pub len: u32,
    /// Transport payload bytes (for the ML features).
    pub payload_len: u32,
    /// TCP window field (0 for other protocols; for the ML features).
    pub tcp_window: u16,
    /// TCP segment facts.
    pub tcp: Option<Segment>,
    /// ICMP (type, code).
    pub icmp: Option<(u8, u8)>,
    /// The packet is an ICMPv4 error message (which never creates a flow, as in Suricata).
    pub icmp_error: bool,
    /// Flow quoted by an ICMP destination-unreachable message (attached to it when it exists).
    pub icmp_embedded: Option<Embedded>,
    /// The TCP checksum was wrong: count the packet but don't let it change TCP state.
    pub bad_checksum: bool,
}

/// A handle to a flow in the table, valid until the flow ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowHandle(u32);

impl FlowHandle {
    /// A dense index (below the flow cap), for side tables kept per flow.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Flow table counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Flows created, TCP.
    pub created_tcp: u64,
    /// Flows created, UDP.
    pub created_udp: u64,
    /// Flows created, ICMP/ICMPv6.
    pub created_icmp: u64,
    /// Flows created, other protocols.
    pub created_other: u64,
    /// Flows ended by timeout.
    pub ended_timeout: u64,
    /// Flows evicted because the table was full.
    pub ended_forced: u64,
    /// Flows ended at shutdown.
    pub ended_shutdown: u64,
    /// TCP flows ended because a new SYN reused their ports after they closed.
    pub tcp_reuse: u64,
    /// ICMP errors attached to the flow they quote.
    pub icmp_error_attached: u64,
    /// ICMPv4 errors that quote no tracked flow (they start none).
    pub icmp_error_untracked: u64,
    /// Most flows held at once.
    pub peak_active: u64,
}

impl FlowStats {
    /// Adds another table's counters (peak is summed, an upper bound across workers).
    pub fn merge(&mut self, o: &FlowStats) {
        self.created_tcp += o.created_tcp;
        self.created_udp += o.created_udp;
        self.created_icmp += o.created_icmp;
        self.created_other += o.created_other;
        self.ended_timeout += o.ended_timeout;
        self.ended_forced += o.ended_forced;
        self.ended_shutdown += o.ended_shutdown;
        self.tcp_reuse += o.tcp_reuse;
        self.icmp_error_attached += o.icmp_error_attached;
        self.icmp_error_untracked += o.icmp_error_untracked;
        self.peak_active += o.peak_active;
    }

    /// All flows created.
    pub fn created(&self) -> u64 {
        self.created_tcp + self.created_udp + self.created_icmp + self.created_other
    }
}

const NIL: u32 = u32::MAX;
const CLASSES: usize = 9;
const FREE: u8 = u8::MAX;
/// Eviction preference when full: closed TCP, then half-open/new flows, then established.
const EVICT_ORDER: [u8; CLASSES] = [2, 0, 3, 5, 7, 4, 6, 8, 1];

struct Slot {
    flow: Option<Flow>,
    prev: u32,
    next: u32,
    class: u8,
}

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

/// A flow table owned by one worker.
pub struct FlowTable {
    cfg: FlowConfig,
    map: HashMap<FlowKey, u32>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    lists: [List; CLASSES],
    timeouts_ns: [i64; CLASSES],
    active: u64,
    stats: FlowStats,
    /// Feature boxes of ended flows, reused by new ones (at most [`MAX_FEATURE_POOL`]).
    #[allow(clippy::vec_box)] // boxes move between flows and the pool without copying
    feature_pool: Vec<Box<FlowFeatures>>,
}

/// Most feature boxes kept for reuse.
const MAX_FEATURE_POOL: usize = 4096;

impl FlowTable {
    /// An empty table.
    pub fn new(cfg: FlowConfig) -> Self {
        let t = &cfg.timeouts;
        let ns = |s: u32| i64::from(s) * Timestamp::NANOS_PER_SEC;
        let timeouts_ns = [
            ns(t.tcp.new_secs),
            ns(t.tcp.established_secs),
            ns(t.tcp.closed_secs),
            ns(t.udp.new_secs),
            ns(t.udp.established_secs),
            ns(t.icmp.new_secs),
            ns(t.icmp.established_secs),
            ns(t.other.new_secs),
            ns(t.other.established_secs),
        ];
        let initial = (cfg.max_flows as usize).min(65_536);
        FlowTable {
            cfg,
            map: HashMap::with_capacity(initial),
            slots: Vec::with_capacity(initial),
            free: Vec::new(),
            lists: [List {
                head: NIL,
                tail: NIL,
            }; CLASSES],
            timeouts_ns,
            active: 0,
            stats: FlowStats::default(),
            feature_pool: Vec::new(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &FlowStats {
        &self.stats
    }

    /// Flows currently held.
    pub fn active(&self) -> u64 {
        self.active
    }

    /// The flow behind a handle.
    pub fn get(&self, h: FlowHandle) -> Option<&Flow> {
        self.slots.get(h.0 as usize)?.flow.as_ref()
    }

    /// The flow behind a handle, mutably (for the app layer and detection).
    pub fn get_mut(&mut self, h: FlowHandle) -> Option<&mut Flow> {
        self.slots.get_mut(h.0 as usize)?.flow.as_mut()
    }

    fn class_of(flow: &Flow) -> u8 {
        let base = match flow.proto {
            ip_proto::TCP => {
                return match flow.state {
                    FlowState::New => 0,
                    FlowState::Established => 1,
                    FlowState::Closed => 2,
                }
            }
            ip_proto::UDP => 3,
            ip_proto::ICMP | ip_proto::ICMPV6 => 5,
            _ => 7,
        };
        if flow.state == FlowState::New {
            base
        } else {
            base + 1
        }
    }

    fn unlink(&mut self, idx: u32) {
        let Some(slot) = self.slots.get(idx as usize) else {
            return;
        };
        let (prev, next, class) = (slot.prev, slot.next, slot.class);
        let Some(list) = self.lists.get_mut(usize::from(class)) else {
            return;
        };
        if prev == NIL {
            list.head = next;
        }
        if next == NIL {
            list.tail = prev;
        }
        if let Some(p) = self.slots.get_mut(prev as usize) {
            p.next = next;
        }
        if let Some(n) = self.slots.get_mut(next as usize) {
            n.prev = prev;
        }
        if let Some(s) = self.slots.get_mut(idx as usize) {
            s.prev = NIL;
            s.next = NIL;
            s.class = FREE;
        }
    }

    fn push_tail(&mut self, idx: u32, class: u8) {
        let Some(list) = self.lists.get_mut(usize::from(class)) else {
            return;
        };
        let old_tail = list.tail;
        list.tail = idx;
        if old_tail == NIL {
            list.head = idx;
        }
        if let Some(t) = self.slots.get_mut(old_tail as usize) {
            t.next = idx;
        }
        if let Some(s) = self.slots.get_mut(idx as usize) {
            s.prev = old_tail;
            s.next = NIL;
            s.class = class;
        }
    }

    fn end(&mut self, idx: u32, reason: EndReason, on_end: &mut impl FnMut(&Flow, EndReason)) {
        self.unlink(idx);
        let Some(mut flow) = self.slots.get_mut(idx as usize).and_then(|s| s.flow.take()) else {
            return;
        };
        self.map.remove(&flow.key);
        self.free.push(idx);
        self.active -= 1;
        match reason {
            EndReason::Timeout => self.stats.ended_timeout += 1,
            EndReason::Forced => self.stats.ended_forced += 1,
            EndReason::Shutdown => self.stats.ended_shutdown += 1,
        }
        on_end(&flow, reason);
        if let Some(mut b) = flow.features.take() {
            if self.feature_pool.len() < MAX_FEATURE_POOL {
                b.reset();
                self.feature_pool.push(b);
            }
        }
    }

    fn expired(&self, idx: u32, now: Timestamp) -> bool {
        let Some(slot) = self.slots.get(idx as usize) else {
            return false;
        };
        let (Some(flow), Some(t)) = (&slot.flow, self.timeouts_ns.get(usize::from(slot.class)))
        else {
            return false;
        };
        now.nanos_since(flow.last) > *t
    }

    /// Ends every flow idle past its timeout at `now` (packet time), oldest first.
    pub fn expire(&mut self, now: Timestamp, on_end: &mut impl FnMut(&Flow, EndReason)) {
        for class in 0..CLASSES {
            loop {
                let head = self.lists[class].head;
                if head == NIL || !self.expired(head, now) {
                    break;
                }
                self.end(head, EndReason::Timeout, on_end);
            }
        }
    }

    /// Ends every remaining flow: those past their timeout at `now` as `timeout`, the rest as
    /// `shutdown`.
    pub fn shutdown(&mut self, now: Timestamp, on_end: &mut impl FnMut(&Flow, EndReason)) {
        self.expire(now, on_end);
        for idx in 0..self.slots.len() as u32 {
            if self
                .slots
                .get(idx as usize)
                .is_some_and(|s| s.flow.is_some())
            {
                self.end(idx, EndReason::Shutdown, on_end);
            }
        }
    }

    fn evict_one(&mut self, on_end: &mut impl FnMut(&Flow, EndReason)) {
        for class in EVICT_ORDER {
            let head = self.lists[usize::from(class)].head;
            if head != NIL {
                self.end(head, EndReason::Forced, on_end);
                return;
            }
        }
    }

    /// Finds or creates the flow of a packet and updates it. Returns the flow and the packet's
    /// direction in it, or `None` for ICMP errors that belong to no tracked flow. Flows that time
    /// out or are evicted on the way are passed to `on_end`.
    pub fn update(
        &mut self,
        p: &PacketFacts,
        on_end: &mut impl FnMut(&Flow, EndReason),
    ) -> Option<(FlowHandle, Direction)> {
        // An ICMP error belongs to the flow it quotes, when that flow exists.
        if let Some(e) = p.icmp_embedded {
            let (key, _) = FlowKey::new(e.src, e.src_port, e.dst, e.dst_port, e.proto, p.vlan);
            if let Some(&idx) = self.map.get(&key) {
                if !self.expired(idx, p.ts) {
                    self.stats.icmp_error_attached += 1;
                    let dir = match self.slots.get(idx as usize).and_then(|s| s.flow.as_ref()) {
                        Some(f) if f.src_ip == p.src => Direction::ToServer,
                        _ => Direction::ToClient,
                    };
                    self.account(idx, p, dir);
                    return Some((FlowHandle(idx), dir));
                }
            }
        }
        if p.icmp_error {
            self.stats.icmp_error_untracked += 1;
            return None;
        }
        let (key, src_is_lo) = FlowKey::new(p.src, p.sport, p.dst, p.dport, p.proto, p.vlan);
        if let Some(&idx) = self.map.get(&key) {
            let reused = self.is_tcp_reuse(idx, p);
            if reused {
                self.stats.tcp_reuse += 1;
            }
            if reused || self.expired(idx, p.ts) {
                self.end(idx, EndReason::Timeout, on_end);
            } else {
                let dir = match self.slots.get(idx as usize).and_then(|s| s.flow.as_ref()) {
                    Some(f) if f.client_is_lo == src_is_lo => Direction::ToServer,
                    _ => Direction::ToClient,
                };
                self.account(idx, p, dir);
                return Some((FlowHandle(idx), dir));
            }
        }
        if self.active >= u64::from(self.cfg.max_flows.max(1)) {
            self.evict_one(on_end);
        }
        let (idx, dir) = self.create(key, src_is_lo, p);
        Some((FlowHandle(idx), dir))
    }

    fn is_tcp_reuse(&self, idx: u32, p: &PacketFacts) -> bool {
        let Some(seg) = p.tcp else { return false };
        let syn_only = seg.flags & 0x12 == 0x02;
        syn_only
            && self
                .slots
                .get(idx as usize)
                .and_then(|s| s.flow.as_ref())
                .and_then(|f| f.tcp)
                .is_some_and(|t| t.state.is_closed())
    }

    fn create(&mut self, key: FlowKey, src_is_lo: bool, p: &PacketFacts) -> (u32, Direction) {
        let mut tcp = None;
        let mut swap = false;
        if let Some(seg) = p.tcp {
            if !p.bad_checksum {
                if let Start::Session(mut s, sw) = TcpSession::start(&seg, self.cfg.midstream) {
                    // The first segment travels client → server unless the flow is swapped.
                    let first_dir = if sw {
                        Direction::ToClient
                    } else {
                        Direction::ToServer
                    };
                    s.note_seq(first_dir, &seg);
                    tcp = Some(s);
                    swap = sw;
                }
            }
        }
        let (src_ip, dst_ip, src_port, dst_port) = if swap {
            (p.dst, p.src, p.dport, p.sport)
        } else {
            (p.src, p.dst, p.sport, p.dport)
        };
        let start_mix = vedette_decode::mix64(p.ts.0 as u64);
        let id = (key.digest() ^ start_mix) & ((1u64 << 51) - 1);
        let mut flow = Flow {
            id,
            src_ip,
            dst_ip,
            src_port,
            dst_port,
            proto: p.proto,
            vlan: p.vlan,
            vlan_count: p.vlan_count,
            start: p.ts,
            last: p.ts,
            pkts_toserver: 0,
            pkts_toclient: 0,
            bytes_toserver: 0,
            bytes_toclient: 0,
            state: FlowState::New,
            tcp,
            tcp_flags_ts: 0,
            tcp_flags_tc: 0,
            icmp_ts: None,
            icmp_tc: None,
            app_proto: AppProto::Unknown,
            app_proto_orig: AppProto::Unknown,
            alerted: false,
            pkt_established: false,
            features: self.cfg.features.then(|| {
                self.feature_pool
                    .pop()
                    .unwrap_or_else(|| Box::new(FlowFeatures::default()))
            }),
            key,
            client_is_lo: src_is_lo != swap,
            slot: 0,
        };
        let dir = if swap {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        count_packet(&mut flow, p, dir);
        flow.state = derive_state(&flow);
        match p.proto {
            ip_proto::TCP => self.stats.created_tcp += 1,
            ip_proto::UDP => self.stats.created_udp += 1,
            ip_proto::ICMP | ip_proto::ICMPV6 => self.stats.created_icmp += 1,
            _ => self.stats.created_other += 1,
        }
        let class = Self::class_of(&flow);
        let idx = match self.free.pop() {
            Some(i) => {
                flow.slot = i;
                if let Some(s) = self.slots.get_mut(i as usize) {
                    s.flow = Some(flow);
                }
                i
            }
            None => {
                flow.slot = self.slots.len() as u32;
                self.slots.push(Slot {
                    flow: Some(flow),
                    prev: NIL,
                    next: NIL,
                    class: FREE,
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.map.insert(key, idx);
        self.push_tail(idx, class);
        self.active += 1;
        self.stats.peak_active = self.stats.peak_active.max(self.active);
        (idx, dir)
    }

    fn account(&mut self, idx: u32, p: &PacketFacts, dir: Direction) {
        let Some(flow) = self
            .slots
            .get_mut(idx as usize)
            .and_then(|s| s.flow.as_mut())
        else {
            return;
        };
        count_packet(flow, p, dir);
        flow.pkt_established = match &flow.tcp {
            Some(t) => !t.state.is_new(),
            None => flow.proto != ip_proto::TCP && flow.pkts_toserver > 0 && flow.pkts_toclient > 0,
        };
        if let (Some(seg), Some(sess)) = (p.tcp, flow.tcp.as_mut()) {
            if !p.bad_checksum {
                sess.update(dir, &seg);
                sess.note_seq(dir, &seg);
            }
        }
        flow.state = derive_state(flow);
        let class = Self::class_of(flow);
        // Move to the tail of its (possibly new) list: it is now the most recently active.
        self.unlink(idx);
        self.push_tail(idx, class);
    }
}

fn count_packet(flow: &mut Flow, p: &PacketFacts, dir: Direction) {
    if p.ts > flow.last {
        flow.last = p.ts;
    }
    let flags = p.tcp.map_or(0, |s| s.flags);
    if let Some(f) = flow.features.as_deref_mut() {
        f.update(dir, p);
    }
    match dir {
        Direction::ToServer => {
            flow.pkts_toserver += 1;
            flow.bytes_toserver += u64::from(p.len);
            flow.tcp_flags_ts |= flags;
            if flow.icmp_ts.is_none() {
                flow.icmp_ts = p.icmp;
            }
        }
        Direction::ToClient => {
            flow.pkts_toclient += 1;
            flow.bytes_toclient += u64::from(p.len);
            flow.tcp_flags_tc |= flags;
            if flow.icmp_tc.is_none() {
                flow.icmp_tc = p.icmp;
            }
        }
    }
}

fn derive_state(flow: &Flow) -> FlowState {
    if flow.proto == ip_proto::TCP {
        return match flow.tcp {
            Some(s) if s.state.is_closed() => FlowState::Closed,
            Some(s) if !s.state.is_new() => FlowState::Established,
            _ => FlowState::New,
        };
    }
    if flow.pkts_toserver > 0 && flow.pkts_toclient > 0 {
        FlowState::Established
    } else {
        FlowState::New
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_decode::tcp_flags::{ACK, FIN, SYN};

    fn facts(
        src: &str,
        sport: u16,
        dst: &str,
        dport: u16,
        ts: i64,
        flags: Option<u8>,
    ) -> PacketFacts {
        PacketFacts {
            ts: Timestamp::from_secs(ts),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            sport,
            dport,
            proto: if flags.is_some() { 6 } else { 17 },
            vlan: [0; 3],
            vlan_count: 0,
            len: 60,
            payload_len: 0,
            tcp_window: 0,
            tcp: flags.map(|f| Segment {
                flags: f,
                seq: 1,
                ack: 1,
                payload_len: 0,
            }),
            icmp: None,
            icmp_error: false,
            icmp_embedded: None,
            bad_checksum: false,
        }
    }

    #[test]
    fn bidirectional_counting_and_shutdown() {
        let mut t = FlowTable::new(FlowConfig::default());
        let mut ended = Vec::new();
        let mut sink = |f: &Flow, r: EndReason| ended.push((f.clone(), r));
        let (h1, d1) = t
            .update(&facts("10.0.0.1", 1000, "10.0.0.2", 53, 0, None), &mut sink)
            .unwrap();
        let (h2, d2) = t
            .update(&facts("10.0.0.2", 53, "10.0.0.1", 1000, 1, None), &mut sink)
            .unwrap();
        assert_eq!(h1, h2);
        assert_eq!((d1, d2), (Direction::ToServer, Direction::ToClient));
        assert_eq!(t.get(h1).unwrap().state, FlowState::Established);
        t.shutdown(Timestamp::from_secs(2), &mut sink);
        assert_eq!(ended.len(), 1);
        let (f, r) = &ended[0];
        assert_eq!(*r, EndReason::Shutdown);
        assert_eq!(
            (f.pkts_toserver, f.pkts_toclient, f.bytes_toserver),
            (1, 1, 60)
        );
        assert_eq!(f.src_ip.to_string(), "10.0.0.1");
    }

    #[test]
    fn timeouts_come_from_packet_time() {
        let mut t = FlowTable::new(FlowConfig::default());
        let mut ended = Vec::new();
        t.update(
            &facts("10.0.0.1", 1, "10.0.0.2", 53, 0, None),
            &mut |_, _| {},
        );
        t.update(
            &facts("10.0.0.1", 2, "10.0.0.2", 53, 20, None),
            &mut |_, _| {},
        );
        t.expire(Timestamp::from_secs(30), &mut |f, r| {
            ended.push((f.src_port, r))
        });
        assert!(ended.is_empty(), "30 s is not past a 30 s timeout");
        t.expire(Timestamp::from_secs(31), &mut |f, r| {
            ended.push((f.src_port, r))
        });
        assert_eq!(ended, vec![(1, EndReason::Timeout)]);
        // A packet after the timeout starts a new flow, ending the old one lazily.
        t.update(
            &facts("10.0.0.1", 2, "10.0.0.2", 53, 100, None),
            &mut |f, r| ended.push((f.src_port, r)),
        );
        assert_eq!(ended.len(), 2);
        assert_eq!(t.active(), 1);
    }

    #[test]
    fn cap_evicts_half_open_first() {
        let cfg = FlowConfig {
            max_flows: 3,
            ..FlowConfig::default()
        };
        let mut t = FlowTable::new(cfg);
        let mut ended = Vec::new();
        let mut sink = |f: &Flow, r: EndReason| ended.push((f.src_port, r));
        // One established TCP flow.
        t.update(
            &facts("10.0.0.1", 5, "10.0.0.2", 80, 0, Some(SYN)),
            &mut sink,
        );
        t.update(
            &facts("10.0.0.2", 80, "10.0.0.1", 5, 0, Some(SYN | ACK)),
            &mut sink,
        );
        t.update(
            &facts("10.0.0.1", 5, "10.0.0.2", 80, 0, Some(ACK)),
            &mut sink,
        );
        for port in 100..110 {
            t.update(
                &facts("10.9.0.1", port, "10.0.0.2", 80, 1, Some(SYN)),
                &mut sink,
            );
        }
        assert_eq!(t.active(), 3);
        assert_eq!(ended.len(), 8);
        assert!(ended
            .iter()
            .all(|(p, r)| *p >= 100 && *r == EndReason::Forced));
        assert_eq!(t.stats().ended_forced, 8);
    }

    #[test]
    fn established_is_the_state_a_packet_finds() {
        let mut t = FlowTable::new(FlowConfig::default());
        let mut sink = |_: &Flow, _: EndReason| {};
        let mut step = |src: &str, sp: u16, dst: &str, dp: u16, fl: u8| {
            let (h, _) = t
                .update(&facts(src, sp, dst, dp, 0, Some(fl)), &mut sink)
                .unwrap();
            t.get_mut(h).unwrap().pkt_established
        };
        assert!(!step("10.0.0.1", 5, "10.0.0.2", 80, SYN));
        assert!(!step("10.0.0.2", 80, "10.0.0.1", 5, SYN | ACK));
        // The ACK completing the handshake still finds the session opening (as Suricata).
        assert!(!step("10.0.0.1", 5, "10.0.0.2", 80, ACK));
        assert!(step("10.0.0.1", 5, "10.0.0.2", 80, ACK));
        assert!(step("10.0.0.1", 5, "10.0.0.2", 80, FIN | ACK));
        // UDP: established once both directions were seen, this packet included.
        let mut u = |src: &str, sp: u16, dst: &str, dp: u16| {
            let (h, _) = t
                .update(&facts(src, sp, dst, dp, 0, None), &mut sink)
                .unwrap();
            t.get_mut(h).unwrap().pkt_established
        };
        assert!(!u("10.0.0.1", 53000, "10.0.0.3", 53));
        assert!(u("10.0.0.3", 53, "10.0.0.1", 53000));
    }

    #[test]
    fn syn_after_close_starts_a_new_flow() {
        let mut t = FlowTable::new(FlowConfig::default());
        let mut n = 0;
        let mut sink = |_: &Flow, _: EndReason| n += 1;
        t.update(
            &facts("10.0.0.1", 5, "10.0.0.2", 80, 0, Some(SYN)),
            &mut sink,
        );
        t.update(
            &facts("10.0.0.2", 80, "10.0.0.1", 5, 0, Some(0x04)),
            &mut sink,
        );
        let (h, _) = t
            .update(
                &facts("10.0.0.1", 5, "10.0.0.2", 80, 1, Some(SYN)),
                &mut sink,
            )
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(t.stats().tcp_reuse, 1);
        assert_eq!(t.get(h).unwrap().pkts_toserver, 1);
        let _ = FIN;
    }

    #[test]
    fn synack_first_with_midstream_swaps_direction() {
        let cfg = FlowConfig {
            midstream: true,
            ..FlowConfig::default()
        };
        let mut t = FlowTable::new(cfg);
        let mut sink = |_: &Flow, _: EndReason| {};
        let (h, d) = t
            .update(
                &facts("10.0.0.2", 80, "10.0.0.1", 5, 0, Some(SYN | ACK)),
                &mut sink,
            )
            .unwrap();
        assert_eq!(d, Direction::ToClient);
        let f = t.get(h).unwrap();
        assert_eq!((f.src_port, f.dst_port), (5, 80));
        assert_eq!((f.pkts_toserver, f.pkts_toclient), (0, 1));
        let (_, d) = t
            .update(
                &facts("10.0.0.1", 5, "10.0.0.2", 80, 0, Some(ACK)),
                &mut sink,
            )
            .unwrap();
        assert_eq!(d, Direction::ToServer);
    }
}
