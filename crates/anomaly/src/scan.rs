//! Vertical port scans (one source, one host, many ports) and horizontal host sweeps (one
//! source, one service, many hosts), counted over failed attempts only: a scan is mostly
//! probes that get nothing, while busy clients mostly succeed.

use crate::config::{AnomalyConfig, DetectorLimits as _};
use crate::window::{CappedSet, WindowState, Windows};
use crate::{span_secs, tcp_flags, Detection, Detector, FlowRecord};
use std::net::IpAddr;
use vedette_types::{ip_proto, Timestamp};

/// Whether a flow was an attempt that got nowhere: a TCP SYN the client never followed with an
/// ACK (closed, filtered or half-open-scanned port) or a UDP datagram nobody answered.
pub(crate) fn failed_attempt(f: &FlowRecord) -> bool {
    match f.proto {
        ip_proto::TCP => f
            .tcp
            .is_some_and(|t| t.flags_ts & tcp_flags::SYN != 0 && t.flags_ts & tcp_flags::ACK == 0),
        ip_proto::UDP => f.pkts_toclient == 0,
        _ => false,
    }
}

/// Whether a flow is an ICMP echo request (a ping probe).
pub(crate) fn echo_request(f: &FlowRecord) -> bool {
    matches!(
        (f.proto, f.icmp_type),
        (ip_proto::ICMP, Some(8)) | (ip_proto::ICMPV6, Some(128))
    )
}

/// Group addresses are not hosts one can sweep.
pub(crate) fn is_group(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_multicast(),
    }
}

pub(crate) struct Probes<T> {
    targets: CappedSet<T>,
    attempts: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// The lowest target, so the alert names the same one whatever the arrival order.
    lowest: Option<T>,
}

impl<T> Default for Probes<T> {
    fn default() -> Self {
        Probes {
            targets: CappedSet::default(),
            attempts: 0,
            first: None,
            last: None,
            lowest: None,
        }
    }
}

impl<T> WindowState for Probes<T> {
    fn is_empty(&self) -> bool {
        self.attempts == 0
    }
}

impl<T: std::hash::Hash + Ord + Copy> Probes<T> {
    fn add(&mut self, v: T, ts: Timestamp, cap: usize) {
        self.targets.insert(v, cap);
        self.lowest = Some(self.lowest.map_or(v, |l| l.min(v)));
        self.attempts += 1;
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
    }
    fn span(&self) -> f64 {
        match (self.first, self.last) {
            (Some(a), Some(b)) => span_secs(a, b),
            _ => 0.0,
        }
    }
}

/// Distinct ports or hosts remembered per subject (at least; 4 x the threshold when larger).
/// Past it the explanation says "at least N": memory per subject stays bounded.
const DISTINCT_CAP: usize = 1024;

/// Port-scan key: (scanner, target).
type ScanKey = (IpAddr, IpAddr);
/// Sweep key: (scanner, protocol, port or 0 for ICMP).
type SweepKey = (IpAddr, u8, u16);

pub(crate) struct ScanDetectors {
    scan_on: bool,
    min_ports: usize,
    window_s: u64,
    scans: Windows<ScanKey, Probes<(u8, u16)>>,
    sweep_on: bool,
    min_hosts: usize,
    sweep_window_s: u64,
    sweeps: Windows<SweepKey, Probes<IpAddr>>,
}

impl ScanDetectors {
    pub(crate) fn new(cfg: &AnomalyConfig) -> Self {
        let p = &cfg.port_scan;
        let h = &cfg.host_sweep;
        ScanDetectors {
            scan_on: p.enabled,
            min_ports: p.min_ports as usize,
            window_s: p.window_secs,
            scans: Windows::new(p.window_secs, p.max_tracked()),
            sweep_on: h.enabled,
            min_hosts: h.min_hosts as usize,
            sweep_window_s: h.window_secs,
            sweeps: Windows::new(h.window_secs, h.max_tracked()),
        }
    }

    pub(crate) fn cap_hits(&self, d: Detector) -> u64 {
        if d == Detector::PortScan {
            self.scans.cap_hits
        } else {
            self.sweeps.cap_hits
        }
    }

    pub(crate) fn suppressed(&self) -> u64 {
        self.scans.suppressed + self.sweeps.suppressed
    }

    fn judge_scan(
        min: usize,
        window_s: u64,
    ) -> impl FnMut(&ScanKey, Timestamp, &Probes<(u8, u16)>) -> Option<Detection> {
        move |&(src, dst), start, st| {
            if st.targets.len() < min {
                return None;
            }
            Some(Detection {
                detector: Detector::PortScan,
                variant: 0,
                ts: start,
                src_ip: src,
                dst_ip: dst,
                src_port: 0,
                dst_port: 0,
                proto: ip_proto::TCP,
                signature: "VEDETTE ANOMALY port scan".into(),
                explain: format!(
                    "{} distinct ports of {dst} probed without success ({} attempts) in {:.1} s >= {min} ports in {window_s} s",
                    st.targets.count_text(),
                    st.attempts,
                    st.span()
                ),
            })
        }
    }

    fn judge_sweep(
        min: usize,
        window_s: u64,
    ) -> impl FnMut(&SweepKey, Timestamp, &Probes<IpAddr>) -> Option<Detection> {
        move |&(src, proto, port), start, st| {
            if st.targets.len() < min {
                return None;
            }
            let service = if proto == ip_proto::ICMP || proto == ip_proto::ICMPV6 {
                "ICMP echo".to_owned()
            } else {
                format!(
                    "{}/{port}",
                    vedette_types::ip_proto_name(proto).unwrap_or("?")
                )
            };
            let any_target = st.first_target().unwrap_or(src);
            Some(Detection {
                detector: Detector::HostSweep,
                variant: u32::from(proto == ip_proto::ICMP || proto == ip_proto::ICMPV6),
                ts: start,
                src_ip: src,
                dst_ip: any_target,
                src_port: 0,
                dst_port: port,
                proto,
                signature: format!("VEDETTE ANOMALY host sweep ({service})"),
                explain: format!(
                    "{} distinct hosts probed on {service} ({} attempts) in {:.1} s >= {min} hosts in {window_s} s",
                    st.targets.count_text(),
                    st.attempts,
                    st.span()
                ),
            })
        }
    }

    pub(crate) fn on_flow(&mut self, f: &FlowRecord, sup: i64, out: &mut Vec<Detection>) {
        let failed = failed_attempt(f);
        if self.scan_on && failed {
            let cap = self.min_ports.saturating_mul(4).max(DISTINCT_CAP);
            self.scans.observe(
                (f.src_ip, f.dst_ip),
                f.start,
                sup,
                |s| s.add((f.proto, f.dst_port), f.start, cap),
                Self::judge_scan(self.min_ports, self.window_s),
                out,
            );
        }
        if self.sweep_on && (failed || echo_request(f)) && !is_group(f.dst_ip) {
            let port = if echo_request(f) { 0 } else { f.dst_port };
            let cap = self.min_hosts.saturating_mul(4).max(DISTINCT_CAP);
            self.sweeps.observe(
                (f.src_ip, f.proto, port),
                f.start,
                sup,
                |s| s.add(f.dst_ip, f.start, cap),
                Self::judge_sweep(self.min_hosts, self.sweep_window_s),
                out,
            );
        }
    }

    pub(crate) fn sweep(&mut self, cutoff: Timestamp, sup: i64, out: &mut Vec<Detection>) {
        self.scans.sweep(
            cutoff,
            sup,
            Self::judge_scan(self.min_ports, self.window_s),
            out,
        );
        self.sweeps.sweep(
            cutoff,
            sup,
            Self::judge_sweep(self.min_hosts, self.sweep_window_s),
            out,
        );
    }
}

impl Probes<IpAddr> {
    fn first_target(&self) -> Option<IpAddr> {
        self.lowest
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;

    #[test]
    fn port_scan_fires_at_threshold_not_below() {
        for (ports, expect) in [(49u16, 0usize), (50, 1), (400, 1)] {
            let mut e = engine();
            for p in 0..ports {
                e.on_flow(&syn_only(
                    "10.0.0.9",
                    "10.0.0.1",
                    1000 + p,
                    1_000 + i64::from(p),
                ));
            }
            e.finish();
            let d = of(&e.drain(), Detector::PortScan);
            assert_eq!(d.len(), expect, "{ports} ports");
            if let Some(d) = d.first() {
                assert_eq!(d.src_ip.to_string(), "10.0.0.9");
                assert_eq!(d.dst_ip.to_string(), "10.0.0.1");
                assert!(
                    d.explain.starts_with(&format!("{ports} distinct ports")),
                    "{}",
                    d.explain
                );
            }
        }
    }

    #[test]
    fn successful_connections_and_slow_scans_are_not_scans() {
        let mut e = engine();
        for p in 0..200u16 {
            e.on_flow(&established(
                "10.0.0.9",
                "10.0.0.1",
                1000 + p,
                1_000 + i64::from(p),
            ));
        }
        // 40 ports per minute for 5 minutes: never 50 within one window.
        for p in 0..200u16 {
            e.on_flow(&syn_only(
                "10.0.0.8",
                "10.0.0.1",
                1000 + p,
                1_000_000 + i64::from(p) * 1500,
            ));
        }
        e.finish();
        assert!(e.drain().is_empty());
    }

    #[test]
    fn one_alert_per_subject_per_suppression_period() {
        let mut e = engine();
        // Three windows of 100 ports each, one minute apart.
        for w in 0..3i64 {
            for p in 0..100u16 {
                e.on_flow(&syn_only(
                    "10.0.0.9",
                    "10.0.0.1",
                    p,
                    w * 61_000 + i64::from(p),
                ));
            }
        }
        e.finish();
        assert_eq!(of(&e.drain(), Detector::PortScan).len(), 1);
        assert_eq!(e.stats().suppressed, 2);
    }

    #[test]
    fn icmp_sweep_and_tcp_sweep() {
        let mut e = engine();
        for h in 1..=16u8 {
            e.on_flow(&ping(
                "192.168.1.9",
                &format!("192.168.1.{h}"),
                i64::from(h) * 100,
            ));
        }
        for h in 1..=15u8 {
            e.on_flow(&syn_only(
                "192.168.1.7",
                &format!("192.168.2.{h}"),
                445,
                i64::from(h),
            ));
        }
        e.finish();
        let d = of(&e.drain(), Detector::HostSweep);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].src_ip.to_string(), "192.168.1.9");
        assert!(
            d[0].explain.starts_with("16 distinct hosts"),
            "{}",
            d[0].explain
        );
    }

    #[test]
    fn tracked_pairs_are_capped_and_counted() {
        let mut cfg = AnomalyConfig::default();
        cfg.port_scan.max_tracked = 10;
        cfg.host_sweep.enabled = false;
        let mut e = AnomalyEngine::new(cfg);
        for h in 0..30u8 {
            e.on_flow(&syn_only(
                "10.0.0.9",
                &format!("10.0.1.{h}"),
                80,
                i64::from(h),
            ));
        }
        assert_eq!(e.stats().cap_hits[Detector::PortScan.index()], 20);
    }
}
