//! Behavioural anomaly detectors over the event stream.
//!
//! This crate owns cross-flow analytics: vertical port scans, horizontal host sweeps, SYN/UDP/
//! ICMP floods, SSH/RDP/FTP-style brute force, beaconing, DNS tunnelling and per-host volume
//! baselines. It consumes *events*, never packets: a [`FlowRecord`] per finished flow and a
//! [`DnsRecord`] per DNS query, built either by the binary from its own event stream or by
//! [`eve_in`] from EVE JSON written by any sensor. Time is the events' time (never the wall
//! clock), so replaying a capture gives the same detections every time.
//!
//! It must not touch the packet path: the binary runs it on the event-bus thread. Every piece
//! of per-subject state is capped (each detector's `max_tracked`); hitting a cap leaves state
//! unchanged and is counted in [`AnomalyStats`].

#![forbid(unsafe_code)]

mod beacon;
mod brute;
mod config;
mod dns;
pub mod eve_in;
mod flood;
mod net;
mod output;
mod scan;
#[cfg(test)]
mod testutil;
mod volume;
mod window;

pub use config::{
    AnomalyConfig, BeaconConfig, BruteForceConfig, ConfigError, DnsTunnelConfig, FloodConfig,
    HostSweepConfig, PortScanConfig, SynFloodConfig, VolumeConfig,
};
pub use net::Cidr;
pub use output::{write_alert, write_stats, GID};

use std::net::IpAddr;
use vedette_types::Timestamp;

/// TCP flag bits as logged in `tcp_flags_ts`/`tcp_flags_tc`.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// What a detector needs to know about one finished flow (client = `src`).
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRecord {
    /// First packet.
    pub start: Timestamp,
    /// Last packet.
    pub end: Timestamp,
    /// Client address.
    pub src_ip: IpAddr,
    /// Server address.
    pub dst_ip: IpAddr,
    /// Client port (0 without ports).
    pub src_port: u16,
    /// Server port (0 without ports).
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Packets client → server.
    pub pkts_toserver: u64,
    /// Packets server → client.
    pub pkts_toclient: u64,
    /// Bytes client → server.
    pub bytes_toserver: u64,
    /// Bytes server → client.
    pub bytes_toclient: u64,
    /// TCP flags seen from each side, when the TCP session was tracked.
    pub tcp: Option<TcpFacts>,
    /// ICMP type of the client's first packet.
    pub icmp_type: Option<u8>,
    /// Detected application protocol (EVE name), if any.
    pub app_proto: Option<String>,
}

/// TCP flags of a flow, per direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFacts {
    /// Flags sent by the client (OR of all packets).
    pub flags_ts: u8,
    /// Flags sent by the server.
    pub flags_tc: u8,
}

/// One DNS query (a request record; answers are not counted, so each lookup counts once).
#[derive(Clone, Debug, PartialEq)]
pub struct DnsRecord {
    /// When the query was seen.
    pub ts: Timestamp,
    /// The querying client.
    pub src_ip: IpAddr,
    /// The resolver asked.
    pub dst_ip: IpAddr,
    /// Client port.
    pub src_port: u16,
    /// Resolver port.
    pub dst_port: u16,
    /// IP protocol number (UDP or TCP).
    pub proto: u8,
    /// Queried name.
    pub rrname: String,
    /// Queried type, as EVE names it (`A`, `TXT`, `NULL`, or a number).
    pub rrtype: String,
}

/// One HTTP transaction with its response status (for authentication failures).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRecord {
    /// When the transaction was logged.
    pub ts: Timestamp,
    /// Client.
    pub src_ip: IpAddr,
    /// Server.
    pub dst_ip: IpAddr,
    /// Server port.
    pub dst_port: u16,
    /// Response status (0 without a response).
    pub status: u16,
}

/// The detectors, each with its own `vedette.detector` name and signature-id range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Detector {
    /// One source probing many ports of one host.
    PortScan,
    /// One source probing one service on many hosts.
    HostSweep,
    /// Half-open TCP connections piling up at one service.
    SynFlood,
    /// Unanswered UDP packets piling up at one host.
    UdpFlood,
    /// ICMP packets piling up at one host.
    IcmpFlood,
    /// DNS queries shaped like a data channel.
    DnsTunnel,
    /// Regular, same-sized connections from one host to one service.
    Beacon,
    /// Many short login-service connections from one source to one server.
    BruteForce,
    /// A host sending far more than its learned baseline.
    Volume,
}

impl Detector {
    /// All detectors, in sid order.
    pub const ALL: [Detector; 9] = [
        Detector::PortScan,
        Detector::HostSweep,
        Detector::SynFlood,
        Detector::UdpFlood,
        Detector::IcmpFlood,
        Detector::DnsTunnel,
        Detector::Beacon,
        Detector::BruteForce,
        Detector::Volume,
    ];

    /// The `vedette.detector` value.
    pub fn name(self) -> &'static str {
        match self {
            Detector::PortScan => "port_scan",
            Detector::HostSweep => "host_sweep",
            Detector::SynFlood => "syn_flood",
            Detector::UdpFlood => "udp_flood",
            Detector::IcmpFlood => "icmp_flood",
            Detector::DnsTunnel => "dns_tunnel",
            Detector::Beacon => "beacon",
            Detector::BruteForce => "brute_force",
            Detector::Volume => "volume",
        }
    }

    /// Position in [`Detector::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// First signature id of this detector's range (100 ids each, under gid [`GID`]).
    pub fn sid_base(self) -> u32 {
        9_000_100 + 100 * self as u32
    }

    /// Suricata classtype description and priority used as `alert.category`/`alert.severity`.
    fn class(self) -> (&'static str, u8) {
        match self {
            Detector::PortScan | Detector::HostSweep => ("Detection of a Network Scan", 3),
            Detector::SynFlood | Detector::UdpFlood | Detector::IcmpFlood => {
                ("Attempted Denial of Service", 2)
            }
            Detector::BruteForce => ("Attempted User Privilege Gain", 2),
            Detector::DnsTunnel | Detector::Beacon => ("Potentially Bad Traffic", 2),
            Detector::Volume => ("Misc activity", 3),
        }
    }
}

/// One detection: becomes one EVE `alert`.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Which detector.
    pub detector: Detector,
    /// Offset of the signature within the detector's sid range.
    pub variant: u32,
    /// Event time of the alert (start of the observed activity).
    pub ts: Timestamp,
    /// Source of the activity (scanner, flooder, beaconing host...).
    pub src_ip: IpAddr,
    /// Target of the activity.
    pub dst_ip: IpAddr,
    /// Source port (0 when not meaningful).
    pub src_port: u16,
    /// Target port (0 when not meaningful).
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// `alert.signature`.
    pub signature: String,
    /// `vedette.explain`: what was observed against which threshold or baseline.
    pub explain: String,
}

impl Detection {
    /// `alert.signature_id`.
    pub fn sid(&self) -> u32 {
        self.detector.sid_base() + self.variant
    }
}

/// Counters of the anomaly engine (written under `stats.anomaly`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnomalyStats {
    /// Flow records consumed.
    pub flows: u64,
    /// DNS queries consumed.
    pub dns_queries: u64,
    /// HTTP transactions consumed.
    pub http_transactions: u64,
    /// Records skipped because a party is allowlisted.
    pub allowlisted: u64,
    /// Alerts raised, per detector ([`Detector::index`]).
    pub alerts: [u64; 9],
    /// Detections kept quiet because the subject alerted within `suppress_secs`.
    pub suppressed: u64,
    /// New subjects not tracked because a detector's `max_tracked` was reached, per detector.
    pub cap_hits: [u64; 9],
}

impl AnomalyStats {
    /// All alerts.
    pub fn alerts_total(&self) -> u64 {
        self.alerts.iter().sum()
    }
    /// All cap hits.
    pub fn cap_hits_total(&self) -> u64 {
        self.cap_hits.iter().sum()
    }
}

/// Nanoseconds in a second, for converting configured seconds.
const NS: i64 = Timestamp::NANOS_PER_SEC;

/// Converts configured seconds to nanoseconds without overflow.
fn secs_ns(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX / NS).saturating_mul(NS)
}

/// Seconds between two timestamps, for explanations.
fn span_secs(from: Timestamp, to: Timestamp) -> f64 {
    to.0.saturating_sub(from.0).max(0) as f64 / NS as f64
}

/// Runs every enabled detector over flow and DNS records and collects detections.
pub struct AnomalyEngine {
    cfg: AnomalyConfig,
    scan: scan::ScanDetectors,
    flood: flood::FloodDetectors,
    brute: brute::BruteForce,
    beacon: beacon::Beacons,
    dns: dns::DnsTunnels,
    volume: volume::Volume,
    stats: AnomalyStats,
    /// Latest event time seen (end of flows, time of queries).
    now: Timestamp,
    last_sweep: Timestamp,
    out: Vec<Detection>,
}

impl AnomalyEngine {
    /// A new engine; `cfg` must have passed [`AnomalyConfig::validate`].
    pub fn new(cfg: AnomalyConfig) -> Self {
        AnomalyEngine {
            scan: scan::ScanDetectors::new(&cfg),
            flood: flood::FloodDetectors::new(&cfg),
            brute: brute::BruteForce::new(&cfg.brute_force),
            beacon: beacon::Beacons::new(&cfg.beacon),
            dns: dns::DnsTunnels::new(&cfg.dns_tunnel),
            volume: volume::Volume::new(&cfg.volume),
            cfg,
            stats: AnomalyStats::default(),
            now: Timestamp(i64::MIN),
            last_sweep: Timestamp(i64::MIN),
            out: Vec::new(),
        }
    }

    /// Whether any detector is on.
    pub fn enabled(&self) -> bool {
        self.cfg.enabled
    }

    /// Counters so far.
    pub fn stats(&self) -> AnomalyStats {
        let mut s = self.stats;
        for d in Detector::ALL {
            let i = d.index();
            let hits = match d {
                Detector::PortScan | Detector::HostSweep => self.scan.cap_hits(d),
                Detector::SynFlood | Detector::UdpFlood | Detector::IcmpFlood => {
                    self.flood.cap_hits(d)
                }
                Detector::BruteForce => self.brute.cap_hits(),
                Detector::Beacon => self.beacon.cap_hits(),
                Detector::DnsTunnel => self.dns.cap_hits(),
                Detector::Volume => self.volume.cap_hits(),
            };
            if let Some(c) = s.cap_hits.get_mut(i) {
                *c = hits;
            }
        }
        s
    }

    /// Consumes one finished flow.
    pub fn on_flow(&mut self, f: &FlowRecord) {
        if !self.cfg.enabled {
            return;
        }
        self.stats.flows += 1;
        self.advance(f.end.max(f.start));
        if self.cfg.is_allowed_src(f.src_ip) || self.cfg.is_allowed_dst(f.dst_ip) {
            self.stats.allowlisted += 1;
            return;
        }
        let sup = secs_ns(self.cfg.suppress_secs);
        let mut found = std::mem::take(&mut self.out);
        self.scan.on_flow(f, sup, &mut found);
        self.flood.on_flow(f, sup, &mut found);
        self.brute.on_flow(f, sup, &mut found);
        self.beacon.on_flow(f, sup, &mut found);
        self.volume.on_flow(f, sup, &mut found);
        self.out = found;
    }

    /// Consumes one DNS query.
    pub fn on_dns(&mut self, q: &DnsRecord) {
        if !self.cfg.enabled {
            return;
        }
        self.stats.dns_queries += 1;
        self.advance(q.ts);
        if self.cfg.is_allowed_src(q.src_ip) {
            self.stats.allowlisted += 1;
            return;
        }
        let sup = secs_ns(self.cfg.suppress_secs);
        let mut found = std::mem::take(&mut self.out);
        self.dns.on_query(q, sup, &mut found);
        self.out = found;
    }

    /// Consumes one HTTP transaction (authentication failures feed `brute_force`).
    pub fn on_http(&mut self, h: &HttpRecord) {
        if !self.cfg.enabled {
            return;
        }
        self.stats.http_transactions += 1;
        self.advance(h.ts);
        if self.cfg.is_allowed_src(h.src_ip) || self.cfg.is_allowed_dst(h.dst_ip) {
            self.stats.allowlisted += 1;
            return;
        }
        let sup = secs_ns(self.cfg.suppress_secs);
        let mut found = std::mem::take(&mut self.out);
        self.brute.on_http(h, sup, &mut found);
        self.out = found;
    }

    /// Moves event time forward; every `grace_secs / 4` closes the windows that late records
    /// can no longer reach, so a live sensor alerts without waiting for the subject's next flow.
    fn advance(&mut self, ts: Timestamp) {
        if ts <= self.now {
            return;
        }
        self.now = ts;
        let every = secs_ns(self.cfg.grace_secs / 4).max(NS);
        if self.last_sweep.0 == i64::MIN {
            self.last_sweep = ts;
            return;
        }
        if ts.0.saturating_sub(self.last_sweep.0) >= every {
            self.last_sweep = ts;
            let cutoff = Timestamp(ts.0.saturating_sub(secs_ns(self.cfg.grace_secs)));
            self.sweep(cutoff);
        }
    }

    fn sweep(&mut self, cutoff: Timestamp) {
        let sup = secs_ns(self.cfg.suppress_secs);
        let mut found = std::mem::take(&mut self.out);
        self.scan.sweep(cutoff, sup, &mut found);
        self.flood.sweep(cutoff, sup, &mut found);
        self.brute.sweep(cutoff, sup, &mut found);
        self.beacon.sweep(cutoff, sup, &mut found);
        self.dns.sweep(cutoff, sup, &mut found);
        self.volume.sweep(cutoff, sup, &mut found);
        self.out = found;
    }

    /// End of input: closes every open window and evaluates every baseline.
    pub fn finish(&mut self) {
        if self.cfg.enabled {
            self.sweep(Timestamp(i64::MAX));
        }
    }

    /// Takes the detections raised so far (counted per detector).
    pub fn drain(&mut self) -> Vec<Detection> {
        let mut v = std::mem::take(&mut self.out);
        let sup = self.scan.suppressed()
            + self.flood.suppressed()
            + self.brute.suppressed()
            + self.beacon.suppressed()
            + self.dns.suppressed()
            + self.volume.suppressed();
        self.stats.suppressed = sup;
        // Deterministic order whatever the hash maps did.
        v.sort_by(|a, b| {
            (a.ts, a.sid(), a.src_ip, a.dst_ip, a.dst_port).cmp(&(
                b.ts,
                b.sid(),
                b.src_ip,
                b.dst_ip,
                b.dst_port,
            ))
        });
        for d in &v {
            if let Some(c) = self.stats.alerts.get_mut(d.detector.index()) {
                *c += 1;
            }
        }
        v
    }
}
