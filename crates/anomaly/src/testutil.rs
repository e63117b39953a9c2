//! Synthetic records for the detectors' unit tests.

use crate::*;
use vedette_types::ip_proto;

/// Base time of the synthetic records.
const T0: i64 = 1_700_000_000;

pub(crate) fn at(ms: i64) -> Timestamp {
    Timestamp(T0 * NS + ms * 1_000_000)
}

pub(crate) fn engine() -> AnomalyEngine {
    AnomalyEngine::new(AnomalyConfig::default())
}

pub(crate) fn of(d: &[Detection], which: Detector) -> Vec<Detection> {
    d.iter().filter(|x| x.detector == which).cloned().collect()
}

fn base(src: &str, dst: &str, proto: u8, dport: u16, ms: i64) -> FlowRecord {
    FlowRecord {
        start: at(ms),
        end: at(ms),
        src_ip: src.parse().unwrap(),
        dst_ip: dst.parse().unwrap(),
        src_port: 40_000,
        dst_port: dport,
        proto,
        pkts_toserver: 1,
        pkts_toclient: 0,
        bytes_toserver: 60,
        bytes_toclient: 0,
        tcp: None,
        icmp_type: None,
        app_proto: None,
    }
}

/// A SYN nobody answered.
pub(crate) fn syn_only(src: &str, dst: &str, dport: u16, ms: i64) -> FlowRecord {
    let mut f = base(src, dst, ip_proto::TCP, dport, ms);
    f.tcp = Some(TcpFacts {
        flags_ts: tcp_flags::SYN,
        flags_tc: 0,
    });
    f
}

/// A short complete TCP connection (200 ms, 400 bytes up, 600 down).
pub(crate) fn established(src: &str, dst: &str, dport: u16, ms: i64) -> FlowRecord {
    let mut f = base(src, dst, ip_proto::TCP, dport, ms);
    f.end = at(ms + 200);
    f.pkts_toserver = 5;
    f.pkts_toclient = 4;
    f.bytes_toserver = 400;
    f.bytes_toclient = 600;
    f.tcp = Some(TcpFacts {
        flags_ts: 0x1b,
        flags_tc: 0x1b,
    });
    f
}

/// An answered ping.
pub(crate) fn ping(src: &str, dst: &str, ms: i64) -> FlowRecord {
    let mut f = base(src, dst, ip_proto::ICMP, 0, ms);
    f.icmp_type = Some(8);
    f.pkts_toclient = 1;
    f
}

/// A UDP flow with the given source port, packet counts and duration.
pub(crate) fn udp(
    src: &str,
    dst: &str,
    sport: u16,
    up: u64,
    down: u64,
    ms: i64,
    dur_ms: i64,
) -> FlowRecord {
    let mut f = base(src, dst, ip_proto::UDP, 40_001, ms);
    f.src_port = sport;
    f.end = at(ms + dur_ms);
    f.pkts_toserver = up;
    f.pkts_toclient = down;
    f.bytes_toserver = up * 100;
    f
}

/// A DNS query.
pub(crate) fn query(src: &str, name: &str, rrtype: &str, ms: i64) -> DnsRecord {
    DnsRecord {
        ts: at(ms),
        src_ip: src.parse().unwrap(),
        dst_ip: "10.0.0.53".parse().unwrap(),
        src_port: 40_000,
        dst_port: 53,
        proto: ip_proto::UDP,
        rrname: name.into(),
        rrtype: rrtype.into(),
    }
}
