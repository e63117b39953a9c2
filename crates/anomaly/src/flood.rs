//! SYN, UDP and ICMP floods: packets piling up at one victim within a window.
//!
//! A flow's packets are credited to the window of its start, scaled down to the window's share
//! of the flow's duration, so one long one-way stream (syslog, a video feed) counts at its
//! average rate while the thousands of short flows of a spoofed or reflected flood count whole.

use crate::config::{AnomalyConfig, DetectorLimits as _};
use crate::window::{CappedSet, WindowState, Windows};
use crate::{span_secs, tcp_flags, Detection, Detector, FlowRecord};
use std::net::IpAddr;
use vedette_types::{ip_proto, Timestamp};

/// Distinct sources remembered per victim (only for the explanation).
const MAX_SOURCES: usize = 1024;

#[derive(Default)]
pub(crate) struct Pile {
    /// Packets (scaled) or half-open connections.
    count: u64,
    flows: u64,
    bytes: u64,
    sources: CappedSet<IpAddr>,
    lowest_source: Option<IpAddr>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl WindowState for Pile {
    fn is_empty(&self) -> bool {
        self.flows == 0
    }
}

impl Pile {
    fn add(&mut self, f: &FlowRecord, count: u64, bytes: u64) {
        self.count = self.count.saturating_add(count);
        self.bytes = self.bytes.saturating_add(bytes);
        self.flows += 1;
        self.sources.insert(f.src_ip, MAX_SOURCES);
        self.lowest_source = Some(self.lowest_source.map_or(f.src_ip, |l| l.min(f.src_ip)));
        self.first = Some(self.first.map_or(f.start, |t| t.min(f.start)));
        self.last = Some(self.last.map_or(f.end, |t| t.max(f.end)));
    }
    fn span(&self) -> f64 {
        match (self.first, self.last) {
            (Some(a), Some(b)) => span_secs(a, b),
            _ => 0.0,
        }
    }
}

/// Whether a TCP flow is a connection the client opened and never completed.
pub(crate) fn half_open(f: &FlowRecord) -> bool {
    f.proto == ip_proto::TCP
        && f.tcp.is_some_and(|t| {
            t.flags_ts & tcp_flags::SYN != 0 && t.flags_ts & (tcp_flags::ACK | tcp_flags::RST) == 0
        })
}

/// `n` scaled by the share of the flow inside a window of `window_ns`.
fn in_window(n: u64, f: &FlowRecord, window_ns: i64) -> u64 {
    let dur = f.end.0.saturating_sub(f.start.0);
    if dur <= window_ns {
        return n;
    }
    // dur > window_ns > 0 here; u128 keeps the product exact.
    let scaled = u128::from(n) * window_ns.unsigned_abs() as u128 / dur.unsigned_abs() as u128;
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

type SynKey = (IpAddr, u16);

pub(crate) struct FloodDetectors {
    syn_on: bool,
    syn_min: u64,
    syn_window_s: u64,
    syn: Windows<SynKey, Pile>,
    udp_on: bool,
    udp_min: u64,
    udp_window_s: u64,
    udp: Windows<IpAddr, Pile>,
    icmp_on: bool,
    icmp_min: u64,
    icmp_window_s: u64,
    icmp: Windows<IpAddr, Pile>,
}

fn detection(
    detector: Detector,
    victim: IpAddr,
    port: u16,
    proto: u8,
    start: Timestamp,
    p: &Pile,
    what: String,
) -> Detection {
    Detection {
        detector,
        variant: 0,
        ts: start,
        src_ip: p.lowest_source.unwrap_or(victim),
        dst_ip: victim,
        src_port: 0,
        dst_port: port,
        proto,
        signature: format!(
            "VEDETTE ANOMALY {} flood",
            match detector {
                Detector::SynFlood => "SYN",
                Detector::UdpFlood => "UDP",
                _ => "ICMP",
            }
        ),
        explain: what,
    }
}

impl FloodDetectors {
    pub(crate) fn new(cfg: &AnomalyConfig) -> Self {
        let (s, u, i) = (&cfg.syn_flood, &cfg.udp_flood, &cfg.icmp_flood);
        FloodDetectors {
            syn_on: s.enabled,
            syn_min: s.min_half_open,
            syn_window_s: s.window_secs,
            syn: Windows::new(s.window_secs, s.max_tracked()),
            udp_on: u.enabled,
            udp_min: u.min_packets,
            udp_window_s: u.window_secs,
            udp: Windows::new(u.window_secs, u.max_tracked()),
            icmp_on: i.enabled,
            icmp_min: i.min_packets,
            icmp_window_s: i.window_secs,
            icmp: Windows::new(i.window_secs, i.max_tracked()),
        }
    }

    pub(crate) fn cap_hits(&self, d: Detector) -> u64 {
        match d {
            Detector::SynFlood => self.syn.cap_hits,
            Detector::UdpFlood => self.udp.cap_hits,
            _ => self.icmp.cap_hits,
        }
    }

    pub(crate) fn suppressed(&self) -> u64 {
        self.syn.suppressed + self.udp.suppressed + self.icmp.suppressed
    }

    fn judge_syn(min: u64, w: u64) -> impl FnMut(&SynKey, Timestamp, &Pile) -> Option<Detection> {
        move |&(victim, port), start, p| {
            (p.count >= min).then(|| {
                detection(
                    Detector::SynFlood,
                    victim,
                    port,
                    ip_proto::TCP,
                    start,
                    p,
                    format!(
                        "{} half-open connections to {victim} port {port} from {} sources in {:.1} s >= {min} in {w} s",
                        p.count,
                        p.sources.count_text(),
                        p.span()
                    ),
                )
            })
        }
    }

    fn judge_pkts(
        detector: Detector,
        min: u64,
        w: u64,
    ) -> impl FnMut(&IpAddr, Timestamp, &Pile) -> Option<Detection> {
        move |&victim, start, p| {
            (p.count >= min).then(|| {
                let (proto, what) = if detector == Detector::UdpFlood {
                    (ip_proto::UDP, "unanswered UDP packets")
                } else {
                    (ip_proto::ICMP, "ICMP packets")
                };
                detection(
                    detector,
                    victim,
                    0,
                    proto,
                    start,
                    p,
                    format!(
                        "{} {what} ({} bytes) to {victim} from {} sources in {:.1} s >= {min} in {w} s",
                        p.count,
                        p.bytes,
                        p.sources.count_text(),
                        p.span()
                    ),
                )
            })
        }
    }

    pub(crate) fn on_flow(&mut self, f: &FlowRecord, sup: i64, out: &mut Vec<Detection>) {
        if self.syn_on && half_open(f) {
            let n = in_window(f.pkts_toserver.max(1), f, crate::secs_ns(self.syn_window_s));
            // A retransmitted SYN is the same half-open connection, so count connections, but
            // let one long-lived SYN-spraying flow count by its packets.
            let n = if f.end.0.saturating_sub(f.start.0) > crate::secs_ns(1) {
                n
            } else {
                1
            };
            self.syn.observe(
                (f.dst_ip, f.dst_port),
                f.start,
                sup,
                |p| p.add(f, n, f.bytes_toserver),
                Self::judge_syn(self.syn_min, self.syn_window_s),
                out,
            );
        }
        if self.udp_on && f.proto == ip_proto::UDP && f.pkts_toclient == 0 {
            let w = crate::secs_ns(self.udp_window_s);
            let n = in_window(f.pkts_toserver, f, w);
            let b = in_window(f.bytes_toserver, f, w);
            self.udp.observe(
                f.dst_ip,
                f.start,
                sup,
                |p| p.add(f, n, b),
                Self::judge_pkts(Detector::UdpFlood, self.udp_min, self.udp_window_s),
                out,
            );
        }
        if self.icmp_on && (f.proto == ip_proto::ICMP || f.proto == ip_proto::ICMPV6) {
            let w = crate::secs_ns(self.icmp_window_s);
            let n = in_window(f.pkts_toserver, f, w);
            let b = in_window(f.bytes_toserver, f, w);
            self.icmp.observe(
                f.dst_ip,
                f.start,
                sup,
                |p| p.add(f, n, b),
                Self::judge_pkts(Detector::IcmpFlood, self.icmp_min, self.icmp_window_s),
                out,
            );
        }
    }

    pub(crate) fn sweep(&mut self, cutoff: Timestamp, sup: i64, out: &mut Vec<Detection>) {
        self.syn.sweep(
            cutoff,
            sup,
            Self::judge_syn(self.syn_min, self.syn_window_s),
            out,
        );
        self.udp.sweep(
            cutoff,
            sup,
            Self::judge_pkts(Detector::UdpFlood, self.udp_min, self.udp_window_s),
            out,
        );
        self.icmp.sweep(
            cutoff,
            sup,
            Self::judge_pkts(Detector::IcmpFlood, self.icmp_min, self.icmp_window_s),
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;

    #[test]
    fn spoofed_syn_flood_fires_at_threshold() {
        for (n, expect) in [(999u32, 0usize), (1000, 1)] {
            let mut e = engine();
            for i in 0..n {
                let src = std::net::Ipv4Addr::from(0x0100_0000 + i).to_string();
                e.on_flow(&syn_only(&src, "10.0.0.1", 80, i64::from(i)));
            }
            e.finish();
            let d = of(&e.drain(), Detector::SynFlood);
            assert_eq!(d.len(), expect, "{n}");
            if let Some(d) = d.first() {
                assert_eq!(d.dst_port, 80);
                assert!(
                    d.explain.starts_with(
                        "1000 half-open connections to 10.0.0.1 port 80 from 1000 sources"
                    ),
                    "{}",
                    d.explain
                );
            }
        }
    }

    #[test]
    fn udp_flood_counts_unanswered_packets_and_long_streams_by_rate() {
        let mut e = engine();
        for i in 0..2000u32 {
            let src = std::net::Ipv4Addr::from(0x0200_0000 + i).to_string();
            e.on_flow(&udp(&src, "10.0.0.2", 161, 1, 0, i64::from(i) / 10, 0));
        }
        // One syslog sender: 100 000 unanswered packets spread over an hour (28 per second).
        e.on_flow(&udp("10.0.0.7", "10.0.0.3", 514, 100_000, 0, 0, 3_600_000));
        // Answered traffic (a resolver) is not a flood.
        for i in 0..5000u32 {
            e.on_flow(&udp("10.0.0.8", "10.0.0.53", 53, 1, 1, i64::from(i), 0));
        }
        e.finish();
        let d = of(&e.drain(), Detector::UdpFlood);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].dst_ip.to_string(), "10.0.0.2");
    }

    #[test]
    fn icmp_flood_at_threshold() {
        for (n, expect) in [(999u64, 0usize), (1000, 1)] {
            let mut e = engine();
            let mut f = ping("10.9.9.9", "10.0.0.4", 0);
            f.pkts_toserver = n;
            f.end = Timestamp(f.start.0 + 5 * NS);
            e.on_flow(&f);
            e.finish();
            assert_eq!(of(&e.drain(), Detector::IcmpFlood).len(), expect);
        }
    }
}
