//! Per-flow feature vector for machine learning, computed incrementally: every statistic is a
//! running one (counts, Welford mean/variance, min/max, first few sizes), so a flow's features
//! take a fixed amount of memory ([`FlowFeatures`], boxed and pooled by the flow table) however
//! long the flow lives, and a packet costs a few arithmetic operations, no allocation.
//!
//! The vector's layout is declared once in [`FEATURES`] (name, unit, meaning); [`fill`] writes
//! the values in that order, and docs/ML-FEATURES.md lists the same names (a test checks it).
//! Features are computed only when the flow table is configured with `features: true`.

use crate::table::{Flow, PacketFacts};
use vedette_types::{AppProto, Direction};

/// Payload sizes of the first packets kept per direction.
pub const FIRST_PAYLOADS: usize = 4;

/// TCP flag bits in the order of the `<flag>_<dir>` counters.
const FLAG_BITS: [u8; 8] = [0x02, 0x01, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80];

/// Running statistics of one direction of a flow.
#[derive(Clone, Debug, PartialEq)]
pub struct DirFeatures {
    /// Packets.
    pub pkts: u64,
    /// Captured bytes (frame lengths, as the flow record counts them).
    pub bytes: u64,
    /// Transport payload bytes.
    pub payload_bytes: u64,
    size_mean: f64,
    size_m2: f64,
    size_min: u32,
    size_max: u32,
    last_ts: i64,
    iat_n: u64,
    iat_mean: f64,
    iat_m2: f64,
    iat_min: i64,
    iat_max: i64,
    flags: [u32; 8],
    win_init: i32,
    win_min: i32,
    win_max: i32,
    first_payloads: [i32; FIRST_PAYLOADS],
}

impl Default for DirFeatures {
    fn default() -> Self {
        DirFeatures {
            pkts: 0,
            bytes: 0,
            payload_bytes: 0,
            size_mean: 0.0,
            size_m2: 0.0,
            size_min: 0,
            size_max: 0,
            last_ts: 0,
            iat_n: 0,
            iat_mean: 0.0,
            iat_m2: 0.0,
            iat_min: 0,
            iat_max: 0,
            flags: [0; 8],
            win_init: -1,
            win_min: -1,
            win_max: -1,
            first_payloads: [-1; FIRST_PAYLOADS],
        }
    }
}

impl DirFeatures {
    fn update(&mut self, p: &PacketFacts) {
        let size = p.len;
        let ts = p.ts.0;
        if self.pkts == 0 {
            self.size_min = size;
            self.size_max = size;
        } else {
            self.size_min = self.size_min.min(size);
            self.size_max = self.size_max.max(size);
            // Inter-arrival time; packets out of time order count as 0.
            let iat = ts.saturating_sub(self.last_ts).max(0);
            if self.iat_n == 0 {
                self.iat_min = iat;
                self.iat_max = iat;
            } else {
                self.iat_min = self.iat_min.min(iat);
                self.iat_max = self.iat_max.max(iat);
            }
            self.iat_n += 1;
            welford(&mut self.iat_mean, &mut self.iat_m2, self.iat_n, iat as f64);
        }
        if self.pkts == 0 || ts > self.last_ts {
            self.last_ts = ts;
        }
        if let Some(slot) = self.first_payloads.get_mut(self.pkts as usize) {
            *slot = i32::try_from(p.payload_len).unwrap_or(i32::MAX);
        }
        self.pkts += 1;
        self.bytes += u64::from(size);
        self.payload_bytes += u64::from(p.payload_len);
        welford(
            &mut self.size_mean,
            &mut self.size_m2,
            self.pkts,
            f64::from(size),
        );
        if let Some(seg) = p.tcp {
            for (count, bit) in self.flags.iter_mut().zip(FLAG_BITS) {
                if seg.flags & bit != 0 {
                    *count += 1;
                }
            }
            let w = i32::from(p.tcp_window);
            if self.win_init < 0 {
                self.win_init = w;
                self.win_min = w;
                self.win_max = w;
            } else {
                self.win_min = self.win_min.min(w);
                self.win_max = self.win_max.max(w);
            }
        }
    }

    fn size_std(&self) -> f64 {
        std_of(self.size_m2, self.pkts)
    }

    fn iat_std(&self) -> f64 {
        std_of(self.iat_m2, self.iat_n)
    }
}

/// Welford's update of a running mean and sum of squared deviations with the `n`-th value.
fn welford(mean: &mut f64, m2: &mut f64, n: u64, x: f64) {
    let d = x - *mean;
    *mean += d / n as f64;
    *m2 += d * (x - *mean);
}

/// Population standard deviation from Welford's sum of squares.
fn std_of(m2: f64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        (m2 / n as f64).max(0.0).sqrt()
    }
}

/// The running features of one flow (both directions).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowFeatures {
    /// Client → server.
    pub to_server: DirFeatures,
    /// Server → client.
    pub to_client: DirFeatures,
}

impl FlowFeatures {
    /// Accounts one packet travelling in `dir`.
    pub fn update(&mut self, dir: Direction, p: &PacketFacts) {
        match dir {
            Direction::ToServer => self.to_server.update(p),
            Direction::ToClient => self.to_client.update(p),
        }
    }

    /// Swaps the directions (the flow was turned around).
    pub fn reverse(&mut self) {
        std::mem::swap(&mut self.to_server, &mut self.to_client);
    }

    /// Back to the state of a new flow (for reuse from a pool).
    pub fn reset(&mut self) {
        *self = FlowFeatures::default();
    }
}

/// Application-layer facts of a flow known when it ends, counted by the app layer per logged
/// transaction (no per-packet cost).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppFacts {
    /// DNS queries logged.
    pub dns_queries: u32,
    /// DNS answers logged.
    pub dns_answers: u32,
    /// DNS answers with rcode NXDOMAIN.
    pub dns_nxdomain: u32,
    /// HTTP transactions (requests) logged.
    pub http_requests: u32,
    /// HTTP responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    pub http_status: [u32; 5],
    /// TLS handshakes logged.
    pub tls_handshakes: u32,
    /// A TLS client hello carried a server name (SNI).
    pub tls_sni: bool,
}

impl AppFacts {
    /// Counts an HTTP response status.
    pub fn http_response(&mut self, status: u16) {
        if let Some(c) = self
            .http_status
            .get_mut(usize::from(status / 100).wrapping_sub(1))
        {
            *c += 1;
        }
    }
}

/// One feature: its column name, unit and meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Feature {
    /// Column name (CSV header, model input name).
    pub name: &'static str,
    /// Unit.
    pub unit: &'static str,
    /// What it measures.
    pub meaning: &'static str,
}

const fn feat(name: &'static str, unit: &'static str, meaning: &'static str) -> Feature {
    Feature {
        name,
        unit,
        meaning,
    }
}

/// Declares the per-direction features for one direction suffix.
macro_rules! dir_features {
    ($d:literal, $who:literal) => {
        [
            feat(concat!("pkts_", $d), "packets", concat!("packets ", $who)),
            feat(
                concat!("bytes_", $d),
                "bytes",
                concat!("captured bytes ", $who, " (frame lengths, as flow.bytes_*)"),
            ),
            feat(
                concat!("payload_bytes_", $d),
                "bytes",
                concat!("transport payload bytes ", $who),
            ),
            feat(
                concat!("pkt_size_mean_", $d),
                "bytes",
                concat!("mean frame length ", $who),
            ),
            feat(
                concat!("pkt_size_std_", $d),
                "bytes",
                concat!(
                    "standard deviation of frame lengths ",
                    $who,
                    " (population)"
                ),
            ),
            feat(
                concat!("pkt_size_min_", $d),
                "bytes",
                concat!("smallest frame ", $who, " (0: none)"),
            ),
            feat(
                concat!("pkt_size_max_", $d),
                "bytes",
                concat!("largest frame ", $who, " (0: none)"),
            ),
            feat(
                concat!("iat_mean_", $d),
                "seconds",
                concat!(
                    "mean time between consecutive packets ",
                    $who,
                    " (0: fewer than two)"
                ),
            ),
            feat(
                concat!("iat_std_", $d),
                "seconds",
                concat!("standard deviation of the times between packets ", $who),
            ),
            feat(
                concat!("iat_min_", $d),
                "seconds",
                concat!("shortest time between packets ", $who),
            ),
            feat(
                concat!("iat_max_", $d),
                "seconds",
                concat!("longest time between packets ", $who),
            ),
            feat(
                concat!("syn_", $d),
                "packets",
                concat!("TCP packets with SYN ", $who),
            ),
            feat(
                concat!("fin_", $d),
                "packets",
                concat!("TCP packets with FIN ", $who),
            ),
            feat(
                concat!("rst_", $d),
                "packets",
                concat!("TCP packets with RST ", $who),
            ),
            feat(
                concat!("psh_", $d),
                "packets",
                concat!("TCP packets with PSH ", $who),
            ),
            feat(
                concat!("ack_", $d),
                "packets",
                concat!("TCP packets with ACK ", $who),
            ),
            feat(
                concat!("urg_", $d),
                "packets",
                concat!("TCP packets with URG ", $who),
            ),
            feat(
                concat!("ece_", $d),
                "packets",
                concat!("TCP packets with ECE ", $who),
            ),
            feat(
                concat!("cwr_", $d),
                "packets",
                concat!("TCP packets with CWR ", $who),
            ),
            feat(
                concat!("win_init_", $d),
                "bytes",
                concat!(
                    "TCP window field of the first TCP packet ",
                    $who,
                    " (unscaled; -1: no TCP packet)"
                ),
            ),
            feat(
                concat!("win_min_", $d),
                "bytes",
                concat!("smallest TCP window field ", $who, " (unscaled; -1: none)"),
            ),
            feat(
                concat!("win_max_", $d),
                "bytes",
                concat!("largest TCP window field ", $who, " (unscaled; -1: none)"),
            ),
            feat(
                concat!("first_payload_1_", $d),
                "bytes",
                concat!(
                    "payload length of the 1st packet ",
                    $who,
                    " (-1: no such packet)"
                ),
            ),
            feat(
                concat!("first_payload_2_", $d),
                "bytes",
                concat!(
                    "payload length of the 2nd packet ",
                    $who,
                    " (-1: no such packet)"
                ),
            ),
            feat(
                concat!("first_payload_3_", $d),
                "bytes",
                concat!(
                    "payload length of the 3rd packet ",
                    $who,
                    " (-1: no such packet)"
                ),
            ),
            feat(
                concat!("first_payload_4_", $d),
                "bytes",
                concat!(
                    "payload length of the 4th packet ",
                    $who,
                    " (-1: no such packet)"
                ),
            ),
        ]
    };
}

/// Features per direction.
const DIR_FEATURES: usize = 26;
const GLOBAL_HEAD: [Feature; 10] = [
    feat(
        "duration",
        "seconds",
        "last packet time minus first packet time",
    ),
    feat(
        "ip_proto",
        "number",
        "IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6)",
    ),
    feat(
        "server_port",
        "port",
        "server (destination) port; 0 for protocols without ports",
    ),
    feat("app_http", "0/1", "1 when the flow was detected as HTTP"),
    feat("app_dns", "0/1", "1 when the flow was detected as DNS"),
    feat("app_tls", "0/1", "1 when the flow was detected as TLS"),
    feat(
        "app_none",
        "0/1",
        "1 when no application protocol was detected (or detection failed)",
    ),
    feat(
        "pkts_per_sec",
        "packets/second",
        "all packets divided by duration (0 when duration is 0)",
    ),
    feat(
        "bytes_per_sec",
        "bytes/second",
        "all captured bytes divided by duration (0 when duration is 0)",
    ),
    feat(
        "down_up_ratio",
        "ratio",
        "bytes server → client divided by bytes client → server (0 when none to the server)",
    ),
];
const TO_SERVER: [Feature; DIR_FEATURES] = dir_features!("toserver", "client → server");
const TO_CLIENT: [Feature; DIR_FEATURES] = dir_features!("toclient", "server → client");
const APP_TAIL: [Feature; 11] = [
    feat("dns_queries", "messages", "DNS queries logged on the flow"),
    feat("dns_answers", "messages", "DNS answers logged on the flow"),
    feat(
        "dns_nxdomain",
        "messages",
        "DNS answers with rcode NXDOMAIN",
    ),
    feat(
        "http_requests",
        "transactions",
        "HTTP transactions logged on the flow",
    ),
    feat("http_1xx", "responses", "HTTP responses with a 1xx status"),
    feat("http_2xx", "responses", "HTTP responses with a 2xx status"),
    feat("http_3xx", "responses", "HTTP responses with a 3xx status"),
    feat("http_4xx", "responses", "HTTP responses with a 4xx status"),
    feat("http_5xx", "responses", "HTTP responses with a 5xx status"),
    feat(
        "tls_handshakes",
        "sessions",
        "TLS handshakes logged on the flow",
    ),
    feat(
        "tls_sni",
        "0/1",
        "1 when a TLS client hello named a server (SNI)",
    ),
];

/// Number of features in a vector.
pub const FEATURE_COUNT: usize = GLOBAL_HEAD.len() + 2 * DIR_FEATURES + APP_TAIL.len();

/// Every feature, in vector order.
pub const FEATURES: [Feature; FEATURE_COUNT] = {
    let mut all = [feat("", "", ""); FEATURE_COUNT];
    let mut i = 0;
    let mut j = 0;
    while j < GLOBAL_HEAD.len() {
        all[i] = GLOBAL_HEAD[j];
        i += 1;
        j += 1;
    }
    j = 0;
    while j < DIR_FEATURES {
        all[i] = TO_SERVER[j];
        i += 1;
        j += 1;
    }
    j = 0;
    while j < DIR_FEATURES {
        all[i] = TO_CLIENT[j];
        i += 1;
        j += 1;
    }
    j = 0;
    while j < APP_TAIL.len() {
        all[i] = APP_TAIL[j];
        i += 1;
        j += 1;
    }
    all
};

/// A flow's feature values, in [`FEATURES`] order.
pub type FeatureVector = [f32; FEATURE_COUNT];

/// The index of the feature called `name`.
pub fn feature_index(name: &str) -> Option<usize> {
    FEATURES.iter().position(|f| f.name == name)
}

const NS: f64 = 1e9;

/// Writes the features of a finished flow into `out` (in [`FEATURES`] order). A flow without
/// running features (computation off) gets only its counters, the rest 0.
pub fn fill(flow: &Flow, app: &AppFacts, out: &mut FeatureVector) {
    let empty = FlowFeatures::default();
    let ff = flow.features().unwrap_or(&empty);
    let duration = flow.last.nanos_since(flow.start).max(0) as f64 / NS;
    let total_pkts = (flow.pkts_toserver + flow.pkts_toclient) as f64;
    let total_bytes = (flow.bytes_toserver + flow.bytes_toclient) as f64;
    let rate = |x: f64| if duration > 0.0 { x / duration } else { 0.0 };
    let (http, dns, tls) = (
        flow.app_proto == AppProto::Http,
        flow.app_proto == AppProto::Dns,
        flow.app_proto == AppProto::Tls,
    );
    let b = |v: bool| if v { 1.0 } else { 0.0 };
    let mut w = Writer { out, at: 0 };
    w.put(duration);
    w.put(f64::from(flow.proto));
    w.put(f64::from(flow.dst_port));
    w.put(b(http));
    w.put(b(dns));
    w.put(b(tls));
    w.put(b(!(http || dns || tls)));
    w.put(rate(total_pkts));
    w.put(rate(total_bytes));
    w.put(if flow.bytes_toserver > 0 {
        flow.bytes_toclient as f64 / flow.bytes_toserver as f64
    } else {
        0.0
    });
    for d in [&ff.to_server, &ff.to_client] {
        w.put(d.pkts as f64);
        w.put(d.bytes as f64);
        w.put(d.payload_bytes as f64);
        w.put(d.size_mean);
        w.put(d.size_std());
        w.put(f64::from(d.size_min));
        w.put(f64::from(d.size_max));
        w.put(d.iat_mean / NS);
        w.put(d.iat_std() / NS);
        w.put(d.iat_min as f64 / NS);
        w.put(d.iat_max as f64 / NS);
        for c in d.flags {
            w.put(f64::from(c));
        }
        w.put(f64::from(d.win_init));
        w.put(f64::from(d.win_min));
        w.put(f64::from(d.win_max));
        for p in d.first_payloads {
            w.put(f64::from(p));
        }
    }
    w.put(f64::from(app.dns_queries));
    w.put(f64::from(app.dns_answers));
    w.put(f64::from(app.dns_nxdomain));
    w.put(f64::from(app.http_requests));
    for c in app.http_status {
        w.put(f64::from(c));
    }
    w.put(f64::from(app.tls_handshakes));
    w.put(b(app.tls_sni));
}

struct Writer<'a> {
    out: &'a mut FeatureVector,
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, v: f64) {
        if let Some(slot) = self.out.get_mut(self.at) {
            *slot = if v.is_finite() { v as f32 } else { 0.0 };
        }
        self.at += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{FlowConfig, FlowTable};
    use crate::tcp::Segment;
    use std::collections::HashSet;
    use vedette_types::Timestamp;

    fn pkt(
        src: &str,
        sport: u16,
        dst: &str,
        dport: u16,
        ms: i64,
        len: u32,
        flags: u8,
    ) -> PacketFacts {
        PacketFacts {
            ts: Timestamp(ms * 1_000_000),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            sport,
            dport,
            proto: 6,
            vlan: [0; 3],
            vlan_count: 0,
            len,
            payload_len: len.saturating_sub(54),
            tcp_window: (len * 10) as u16,
            tcp: Some(Segment {
                flags,
                seq: 1,
                ack: 1,
                payload_len: len.saturating_sub(54),
            }),
            icmp: None,
            icmp_error: false,
            icmp_embedded: None,
            bad_checksum: false,
        }
    }

    fn value(v: &FeatureVector, name: &str) -> f32 {
        v[feature_index(name).unwrap()]
    }

    #[test]
    fn docs_list_every_feature_in_order() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ML-FEATURES.md"),
        )
        .unwrap();
        let section = doc.split("## Features").nth(1).unwrap();
        let documented: Vec<(&str, &str)> = section
            .lines()
            .filter_map(|l| {
                let mut cells = l.strip_prefix("| `")?.split(" | ");
                let name = cells.next()?.strip_suffix('`')?;
                Some((name, cells.next()?))
            })
            .collect();
        let code: Vec<(&str, &str)> = FEATURES.iter().map(|f| (f.name, f.unit)).collect();
        assert_eq!(
            documented, code,
            "docs/ML-FEATURES.md vs FEATURES (name, unit)"
        );
    }

    #[test]
    fn names_are_unique_and_complete() {
        let names: HashSet<_> = FEATURES.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), FEATURE_COUNT);
        assert!(FEATURES
            .iter()
            .all(|f| !f.name.is_empty() && !f.unit.is_empty()));
    }

    #[test]
    fn every_slot_is_written_in_order() {
        // A vector pre-filled with NaN has no NaN left after fill: the writer covered all slots.
        let mut t = FlowTable::new(FlowConfig {
            features: true,
            ..FlowConfig::default()
        });
        t.update(
            &pkt("10.0.0.1", 5, "10.0.0.2", 80, 0, 60, 0x02),
            &mut |_, _| {},
        );
        let mut v = [f32::NAN; FEATURE_COUNT];
        let mut n = 0;
        t.shutdown(Timestamp(0), &mut |f, _| {
            fill(f, &AppFacts::default(), &mut v);
            n += 1;
        });
        assert_eq!(n, 1);
        assert!(v.iter().all(|x| x.is_finite()), "{v:?}");
    }

    #[test]
    fn running_statistics_match_direct_computation() {
        let mut t = FlowTable::new(FlowConfig {
            features: true,
            ..FlowConfig::default()
        });
        let c = ("10.0.0.1", 40000);
        let s = ("10.0.0.2", 80);
        let mut sink = |_: &Flow, _: crate::table::EndReason| {};
        // Client packets at 0, 10, 40, 100 ms with sizes 60, 100, 200, 60; server at 5, 50 ms.
        t.update(&pkt(c.0, c.1, s.0, s.1, 0, 60, 0x02), &mut sink);
        t.update(&pkt(s.0, s.1, c.0, c.1, 5, 60, 0x12), &mut sink);
        t.update(&pkt(c.0, c.1, s.0, s.1, 10, 100, 0x10), &mut sink);
        t.update(&pkt(c.0, c.1, s.0, s.1, 40, 200, 0x18), &mut sink);
        t.update(&pkt(s.0, s.1, c.0, c.1, 50, 1500, 0x18), &mut sink);
        t.update(&pkt(c.0, c.1, s.0, s.1, 100, 60, 0x11), &mut sink);
        let mut v = [0.0; FEATURE_COUNT];
        let mut app = AppFacts {
            http_requests: 1,
            ..AppFacts::default()
        };
        app.http_response(404);
        t.shutdown(Timestamp(100_000_000), &mut |f, _| fill(f, &app, &mut v));
        let close = |a: f32, b: f64| assert!((f64::from(a) - b).abs() < 1e-4, "{a} vs {b}");
        close(value(&v, "duration"), 0.1);
        close(value(&v, "pkts_toserver"), 4.0);
        close(value(&v, "bytes_toserver"), 420.0);
        close(value(&v, "pkt_size_mean_toserver"), 105.0);
        let var = [60.0f64, 100.0, 200.0, 60.0]
            .iter()
            .map(|x| (x - 105.0) * (x - 105.0))
            .sum::<f64>()
            / 4.0;
        close(value(&v, "pkt_size_std_toserver"), var.sqrt());
        close(value(&v, "pkt_size_min_toserver"), 60.0);
        close(value(&v, "pkt_size_max_toserver"), 200.0);
        close(value(&v, "iat_mean_toserver"), 0.1 / 3.0);
        close(value(&v, "iat_min_toserver"), 0.01);
        close(value(&v, "iat_max_toserver"), 0.06);
        close(value(&v, "iat_mean_toclient"), 0.045);
        close(value(&v, "syn_toserver"), 1.0);
        close(value(&v, "ack_toserver"), 3.0);
        close(value(&v, "fin_toserver"), 1.0);
        close(value(&v, "psh_toclient"), 1.0);
        close(value(&v, "win_init_toserver"), 600.0);
        close(value(&v, "win_max_toserver"), 2000.0);
        close(value(&v, "first_payload_1_toserver"), 6.0);
        close(value(&v, "first_payload_3_toserver"), 146.0);
        close(value(&v, "first_payload_3_toclient"), -1.0);
        close(value(&v, "server_port"), 80.0);
        close(value(&v, "app_none"), 1.0);
        close(value(&v, "http_4xx"), 1.0);
        close(value(&v, "down_up_ratio"), 1560.0 / 420.0);
    }

    #[test]
    fn reversing_a_flow_swaps_its_features() {
        let mut f = FlowFeatures::default();
        f.update(
            Direction::ToServer,
            &pkt("10.0.0.1", 1, "10.0.0.2", 2, 0, 70, 0),
        );
        f.reverse();
        assert_eq!((f.to_server.pkts, f.to_client.pkts), (0, 1));
        f.reset();
        assert_eq!(f, FlowFeatures::default());
    }
}
