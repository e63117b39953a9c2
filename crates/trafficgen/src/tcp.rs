//! A scripted TCP conversation with realistic sequence numbers, options, ACK clocking and
//! timing, as observed by a sensor sitting next to one of the two hosts.

use vedette_types::Timestamp;

use crate::packet::{tcp_flags, tcp_frame, Endpoints, IpParams, Link, MacAddr, TcpHeader};
use crate::rng::Rng;

/// One captured frame and the time it was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Capture time.
    pub ts: Timestamp,
    /// Complete Ethernet frame.
    pub frame: Vec<u8>,
}

/// One end of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The host that opened the connection.
    Client,
    /// The host that accepted it.
    Server,
}

impl Side {
    /// The other end.
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    fn idx(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}

/// Settings of a [`TcpSession`]; build with [`TcpSessionConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct TcpSessionConfig {
    /// Client address and port, server address and port.
    pub endpoints: Endpoints,
    /// Client MAC as seen on the capture link (the router's, for a remote client).
    pub client_mac: MacAddr,
    /// Server MAC as seen on the capture link (the router's, for a remote server).
    pub server_mac: MacAddr,
    /// 802.1Q tag of every frame, if any.
    pub vlan: Option<u16>,
    /// Pad short frames to the Ethernet minimum, as a mirror port shows them.
    pub pad: bool,
    /// Time of the SYN.
    pub start: Timestamp,
    /// Round-trip time between the two hosts, in nanoseconds.
    pub rtt_ns: i64,
    /// Which host the capture point is next to; the other one's replies arrive one RTT later.
    pub sensor_near: Side,
    /// IP TTL of client packets as seen by the sensor.
    pub client_ttl: u8,
    /// IP TTL of server packets as seen by the sensor.
    pub server_ttl: u8,
}

impl TcpSessionConfig {
    /// Defaults: 20 ms RTT, sensor next to the client, TTL 64 both ways, untagged, unpadded.
    pub fn new(
        endpoints: Endpoints,
        client_mac: MacAddr,
        server_mac: MacAddr,
        start: Timestamp,
    ) -> Self {
        TcpSessionConfig {
            endpoints,
            client_mac,
            server_mac,
            vlan: None,
            pad: false,
            start,
            rtt_ns: 20_000_000,
            sensor_near: Side::Client,
            client_ttl: 64,
            server_ttl: 64,
        }
    }
}

/// TCP state of one end.
#[derive(Clone, Debug)]
struct End {
    /// Next sequence number this end will send.
    next_seq: u32,
    /// Announced MSS.
    mss: u16,
    /// Window scale shift this end announced (applies to windows it sends).
    wscale: u8,
    /// Bytes received so far (drives window growth).
    received: u64,
    /// TCP timestamp clock value at session start.
    ts_base: u32,
    /// Next IPv4 identification.
    ip_id: u16,
    /// IPv6 flow label.
    flow_label: u32,
    /// Send times of every packet of this end (for timestamp echo).
    sent_times: Vec<i64>,
    /// Congestion window in segments (slow start).
    cwnd: usize,
    /// Time of the last pure ACK this end sent, to keep ACKs monotonic in time.
    last_ack_time: i64,
    /// Time of the last packet this end sent: its packets must stay in emission order.
    last_sent: i64,
}

/// A pure ACK that the receiver of the last data still owes.
#[derive(Clone, Copy, Debug)]
struct PendingAck {
    by: Side,
    /// Observed time at which the ACK goes out unless data from `by` carries it first.
    due: i64,
}

/// Largest burst of segments sent before waiting for ACKs.
const MAX_BURST: usize = 40;
/// Initial congestion window (RFC 6928).
const INIT_CWND: usize = 10;
/// Linux's minimum delayed-ACK timeout.
const DELACK_NS: i64 = 40_000_000;

/// Emits a complete, self-consistent TCP conversation.
///
/// The capture point sits next to [`TcpSessionConfig::sensor_near`]: a packet from the far
/// host in reply to something appears one RTT (plus processing) after its trigger, a reply
/// from the near host a few tens of microseconds after. Every segment carries the timestamp
/// option; the handshake negotiates MSS, SACK-permitted, timestamps and window scaling;
/// data is cut into MSS-sized segments sent in slow-start bursts, and the receiver ACKs
/// every second segment. Call [`TcpSession::into_packets`] for the time-ordered frames.
#[derive(Clone, Debug)]
pub struct TcpSession {
    cfg: TcpSessionConfig,
    ends: [End; 2],
    rng: Rng,
    now: i64,
    last_side: Option<Side>,
    pending: Option<PendingAck>,
    packets: Vec<Packet>,
    established: bool,
    closed: bool,
}

impl TcpSession {
    /// Prepares a session; nothing is emitted until [`TcpSession::handshake`].
    pub fn new(cfg: TcpSessionConfig, rng: &mut Rng) -> Self {
        let mut rng = rng.fork(0x7c9);
        let mss = if cfg.endpoints.src.is_ipv6() || cfg.endpoints.dst.is_ipv6() {
            1440
        } else {
            1460
        };
        let end = |rng: &mut Rng| End {
            next_seq: rng.next_u32(),
            mss,
            wscale: 7,
            received: 0,
            ts_base: rng.next_u32() >> 1,
            ip_id: rng.next_u16(),
            flow_label: rng.next_u32() & 0x000f_ffff,
            sent_times: Vec::new(),
            cwnd: INIT_CWND,
            last_ack_time: i64::MIN / 2,
            last_sent: i64::MIN / 2,
        };
        let ends = [end(&mut rng), end(&mut rng)];
        TcpSession {
            now: cfg.start.0,
            cfg,
            ends,
            rng,
            last_side: None,
            pending: None,
            packets: Vec::new(),
            established: false,
            closed: false,
        }
    }

    /// Time of the most recent causal event (last data or control packet).
    pub fn now(&self) -> Timestamp {
        Timestamp(self.now)
    }

    /// Lets `nanos` nanoseconds pass (think time, idle keep-alive time).
    pub fn pause(&mut self, nanos: i64) {
        self.now = self.now.saturating_add(nanos.max(0));
    }

    /// Next sequence number `side` will send.
    pub fn next_seq(&self, side: Side) -> u32 {
        self.ends[side.idx()].next_seq
    }

    /// The client→server endpoints.
    pub fn endpoints(&self) -> Endpoints {
        self.cfg.endpoints
    }

    /// Number of frames emitted so far.
    pub fn packet_count(&self) -> usize {
        self.packets.len()
    }

    /// The emitted frames in time order (stable for equal times). An ACK still owed for
    /// the last data is sent first, when its delayed-ACK timer would fire.
    pub fn into_packets(mut self) -> Vec<Packet> {
        if let Some(p) = self.pending.take() {
            self.pure_ack(p.by, p.due);
        }
        self.packets.sort_by_key(|p| p.ts);
        self.packets
    }

    /// Observed delay between a packet reaching the sensor and `responder`'s reaction to
    /// it reaching the sensor.
    fn response_delay(&mut self, responder: Side) -> i64 {
        let proc = self.rng.range_i64(30_000, 180_000);
        if responder == self.cfg.sensor_near {
            proc
        } else {
            // ±5% jitter on the path keeps RTT samples from looking synthetic.
            let jitter = self.cfg.rtt_ns / 20;
            self.cfg.rtt_ns + self.rng.range_i64(-jitter, jitter) + proc
        }
    }

    /// Spacing of back-to-back segments from one host (about one 1500-byte frame at 1 Gb/s).
    fn gap(&mut self) -> i64 {
        self.rng.range_i64(11_000, 25_000)
    }

    fn tsval(&self, side: Side, t: i64) -> u32 {
        let ms = (t - self.cfg.start.0).max(0) / 1_000_000;
        self.ends[side.idx()].ts_base.wrapping_add(ms as u32)
    }

    /// The TSecr a packet from `side` at `t` carries: the TSval of the newest packet from
    /// the peer that `side` had received when it sent this one.
    fn tsecr(&self, side: Side, t: i64) -> u32 {
        let peer = side.other();
        let horizon = if side == self.cfg.sensor_near {
            t
        } else {
            t - self.cfg.rtt_ns / 2
        };
        let newest = self.ends[peer.idx()]
            .sent_times
            .iter()
            .copied()
            .filter(|&tp| tp <= horizon)
            .max();
        match newest {
            Some(tp) => self.tsval(peer, tp),
            None => 0,
        }
    }

    fn window(&self, side: Side) -> u16 {
        let e = &self.ends[side.idx()];
        // Linux starts near 64 KiB and grows the receive window as data arrives.
        let bytes = (64_256 + e.received.saturating_mul(2)).min(3_145_728);
        ((bytes >> e.wscale).min(0xffff)) as u16
    }

    /// Emits one segment from `side` at `t` (or just after the previous packet of `side`,
    /// if that is later, so each end's packets stay in sequence order); returns the time used.
    fn emit(&mut self, side: Side, t: i64, flags: u8, payload: &[u8], syn_options: bool) -> i64 {
        let t = t.max(self.ends[side.idx()].last_sent + 1_000);
        let peer = side.other();
        let tsval = self.tsval(side, t);
        let tsecr = if flags & tcp_flags::ACK != 0 {
            self.tsecr(side, t)
        } else {
            0
        };
        let me = &self.ends[side.idx()];
        let mut opts: Vec<u8> = Vec::with_capacity(20);
        if syn_options {
            // Linux order: MSS, SACK-permitted, timestamps, NOP, window scale.
            opts.extend_from_slice(&[2, 4]);
            opts.extend_from_slice(&me.mss.to_be_bytes());
            opts.extend_from_slice(&[4, 2, 8, 10]);
            opts.extend_from_slice(&tsval.to_be_bytes());
            opts.extend_from_slice(&tsecr.to_be_bytes());
            opts.extend_from_slice(&[1, 3, 3, me.wscale]);
        } else {
            opts.extend_from_slice(&[1, 1, 8, 10]);
            opts.extend_from_slice(&tsval.to_be_bytes());
            opts.extend_from_slice(&tsecr.to_be_bytes());
        }
        let window = if flags & tcp_flags::SYN != 0 {
            // SYN windows are never scaled.
            if side == Side::Client {
                64_240
            } else {
                65_160
            }
        } else if flags & tcp_flags::RST != 0 && flags & tcp_flags::ACK == 0 {
            0
        } else {
            self.window(side)
        };
        let hdr = TcpHeader {
            seq: me.next_seq,
            ack: self.ends[peer.idx()].next_seq,
            flags,
            window,
            urgent: 0,
            options: &opts,
        };
        let (ep, link, ttl) = match side {
            Side::Client => (
                self.cfg.endpoints,
                Link {
                    src_mac: self.cfg.client_mac,
                    dst_mac: self.cfg.server_mac,
                    vlan: self.cfg.vlan,
                    pad: self.cfg.pad,
                },
                self.cfg.client_ttl,
            ),
            Side::Server => (
                self.cfg.endpoints.reversed(),
                Link {
                    src_mac: self.cfg.server_mac,
                    dst_mac: self.cfg.client_mac,
                    vlan: self.cfg.vlan,
                    pad: self.cfg.pad,
                },
                self.cfg.server_ttl,
            ),
        };
        let ip = IpParams {
            ttl,
            id: me.ip_id,
            dont_fragment: true,
            tos: 0,
            flow_label: me.flow_label,
        };
        let frame = tcp_frame(&link, &ip, &ep, &hdr, payload);
        let seq_len =
            payload.len() as u32 + u32::from(flags & (tcp_flags::SYN | tcp_flags::FIN) != 0);
        let me = &mut self.ends[side.idx()];
        me.next_seq = me.next_seq.wrapping_add(seq_len);
        me.ip_id = me.ip_id.wrapping_add(1);
        me.sent_times.push(t);
        me.last_sent = t;
        self.ends[peer.idx()].received += payload.len() as u64;
        self.packets.push(Packet {
            ts: Timestamp(t),
            frame,
        });
        t
    }

    /// Emits a pure ACK from `side` no earlier than `t`, keeping ACK times monotonic.
    fn pure_ack(&mut self, side: Side, t: i64) -> i64 {
        let t = t.max(self.ends[side.idx()].last_ack_time + 1_000);
        let t = self.emit(side, t, tcp_flags::ACK, &[], false);
        self.ends[side.idx()].last_ack_time = t;
        t
    }

    /// Settles the ACK owed for the previous data before `next_from` sends at `t_next`.
    /// If the delayed-ACK timer fires first, the ACK goes out as a pure ACK then; otherwise
    /// it is folded into what follows (the owner's own packet carries it, or the receiver's
    /// next ACK covers the new data too).
    fn settle_pending(&mut self, t_next: i64) {
        if let Some(p) = self.pending.take() {
            if t_next > p.due {
                self.pure_ack(p.by, p.due);
            }
        }
    }

    /// Start time of the next packet from `side`, given who spoke last.
    fn next_start(&mut self, side: Side) -> i64 {
        let t = match self.last_side {
            Some(s) if s == side => self.now + self.gap(),
            Some(_) => self.now + self.response_delay(side),
            None => self.now,
        };
        // A host's ACKs of the previous data leave before its next data.
        t.max(self.ends[side.idx()].last_sent + 1_000)
    }

    /// Three-way handshake: SYN, SYN/ACK, ACK with full option sets.
    pub fn handshake(&mut self) {
        let t0 = self.now;
        let t0 = self.emit(Side::Client, t0, tcp_flags::SYN, &[], true);
        let t1 = t0 + self.response_delay(Side::Server);
        let t1 = self.emit(Side::Server, t1, tcp_flags::SYN | tcp_flags::ACK, &[], true);
        let t2 = t1 + self.response_delay(Side::Client);
        let t2 = self.emit(Side::Client, t2, tcp_flags::ACK, &[], false);
        self.ends[0].last_ack_time = t2;
        self.now = t2;
        self.last_side = Some(Side::Client);
        self.established = true;
    }

    /// A connection attempt answered by RST/ACK (closed port): SYN, then RST/ACK.
    pub fn refused(&mut self) {
        let t0 = self.now;
        let t0 = self.emit(Side::Client, t0, tcp_flags::SYN, &[], true);
        let t1 = t0 + self.response_delay(Side::Server);
        // A RST answering a SYN carries no options beyond what emit always adds; real
        // stacks send none, so build it by hand.
        let peer_next = self.ends[0].next_seq;
        let (ep, link) = (
            self.cfg.endpoints.reversed(),
            Link {
                src_mac: self.cfg.server_mac,
                dst_mac: self.cfg.client_mac,
                vlan: self.cfg.vlan,
                pad: self.cfg.pad,
            },
        );
        let hdr = TcpHeader {
            seq: 0,
            ack: peer_next,
            flags: tcp_flags::RST | tcp_flags::ACK,
            window: 0,
            urgent: 0,
            options: &[],
        };
        let ip = IpParams {
            ttl: self.cfg.server_ttl,
            id: 0,
            dont_fragment: true,
            tos: 0,
            flow_label: self.ends[1].flow_label,
        };
        let frame = tcp_frame(&link, &ip, &ep, &hdr, &[]);
        self.packets.push(Packet {
            ts: Timestamp(t1),
            frame,
        });
        self.now = t1;
        self.closed = true;
    }

    /// Data from the client to the server.
    pub fn client_send(&mut self, data: &[u8]) {
        self.send(Side::Client, data);
    }

    /// Data from the server to the client.
    pub fn server_send(&mut self, data: &[u8]) {
        self.send(Side::Server, data);
    }

    /// Sends `data` from `from`, segmenting at the negotiated MSS with ACK clocking.
    pub fn send(&mut self, from: Side, data: &[u8]) {
        if data.is_empty() || self.closed {
            return;
        }
        if !self.established {
            self.handshake();
        }
        let to = from.other();
        let mss = usize::from(self.ends[0].mss.min(self.ends[1].mss)) - 12;
        let chunks: Vec<&[u8]> = data.chunks(mss).collect();
        let n = chunks.len();
        let mut t = self.next_start(from);
        self.settle_pending(t);
        let mut i = 0;
        let mut last_seg_time = t;
        let mut last_acked = true;
        while i < n {
            let cwnd = self.ends[from.idx()].cwnd;
            let burst = cwnd.min(MAX_BURST).min(n - i);
            let mut last_ack = t;
            for j in 0..burst {
                let last_of_burst = j + 1 == burst;
                let mut flags = tcp_flags::ACK;
                if last_of_burst {
                    flags |= tcp_flags::PSH;
                }
                t = self.emit(from, t, flags, chunks[i + j], false);
                last_seg_time = t;
                let final_seg = i + j + 1 == n;
                // Delayed ACK: every second full segment, and the tail of a burst that the
                // sender is waiting on. The tail of the whole send is left owed, so the
                // reply can carry it.
                if j % 2 == 1 || (last_of_burst && !final_seg) {
                    let ta = t + self.response_delay(to);
                    last_ack = self.pure_ack(to, ta);
                    last_acked = true;
                } else {
                    last_acked = false;
                }
                t += self.gap();
            }
            i += burst;
            if i < n {
                self.ends[from.idx()].cwnd = (cwnd * 2).min(MAX_BURST);
                // The next burst leaves when the ACKs reach the sender.
                t = last_ack + self.response_delay(from);
            }
        }
        self.now = last_seg_time;
        self.last_side = Some(from);
        self.pending = if last_acked {
            None
        } else {
            let due = last_seg_time + self.response_delay(to) + DELACK_NS;
            Some(PendingAck { by: to, due })
        };
    }

    /// Orderly close started by `initiator`: FIN/ACK, FIN/ACK, ACK.
    pub fn close(&mut self, initiator: Side) {
        if self.closed || !self.established {
            return;
        }
        let responder = initiator.other();
        let t1 = self.next_start(initiator);
        self.settle_pending(t1);
        let t1 = self.emit(initiator, t1, tcp_flags::FIN | tcp_flags::ACK, &[], false);
        let t2 = t1 + self.response_delay(responder);
        let t2 = self.emit(responder, t2, tcp_flags::FIN | tcp_flags::ACK, &[], false);
        let t3 = t2 + self.response_delay(initiator);
        let t3 = self.emit(initiator, t3, tcp_flags::ACK, &[], false);
        self.now = t3;
        self.last_side = Some(initiator);
        self.closed = true;
    }

    /// Abortive close: `from` sends RST/ACK.
    pub fn reset(&mut self, from: Side) {
        if self.closed {
            return;
        }
        let t = self.next_start(from);
        self.settle_pending(t);
        let t = self.emit(from, t, tcp_flags::RST | tcp_flags::ACK, &[], false);
        self.now = t;
        self.last_side = Some(from);
        self.closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn sequence_numbers_advance_with_data_and_fin() {
        let ep = Endpoints::new(
            IpAddr::from([10, 0, 0, 1]),
            40000,
            IpAddr::from([10, 0, 0, 2]),
            80,
        );
        let cfg = TcpSessionConfig::new(ep, [2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], Timestamp(0));
        let mut s = TcpSession::new(cfg, &mut Rng::new(9));
        let (c0, s0) = (s.next_seq(Side::Client), s.next_seq(Side::Server));
        s.handshake();
        s.client_send(&[b'a'; 300]);
        s.server_send(&[b'b'; 10_000]);
        s.close(Side::Client);
        assert_eq!(s.next_seq(Side::Client), c0.wrapping_add(1 + 300 + 1));
        assert_eq!(s.next_seq(Side::Server), s0.wrapping_add(1 + 10_000 + 1));
        let pkts = s.into_packets();
        assert!(pkts.windows(2).all(|w| w[0].ts <= w[1].ts));
        // 10,000 bytes at 1448 per segment: 7 data segments from the server.
        let server_data = pkts
            .iter()
            .filter(|p| p.frame[26..30] == [10, 0, 0, 2] && p.frame.len() > 74)
            .count();
        assert_eq!(server_data, 7);
    }
}
