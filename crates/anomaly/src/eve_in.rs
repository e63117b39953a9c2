//! Records from EVE JSON: the `flow` and `dns` (query) events of vedette or any
//! Suricata-compatible sensor, so the detectors run on remote sensors' files too.
//!
//! Unknown fields are ignored and anything unparseable gives `None`: event files are data,
//! and one bad line must not stop the analysis.

use crate::{DnsRecord, FlowRecord, HttpRecord, TcpFacts};
use serde::Deserialize;
use std::net::IpAddr;
use vedette_types::{ip_proto, Timestamp};

#[derive(Deserialize)]
struct Head<'a> {
    event_type: &'a str,
}

// Fields are borrowed from the line: addresses, protocol names and timestamps never contain
// JSON escapes, so parsing a record allocates only for `app_proto`.
#[derive(Deserialize)]
struct FlowJson<'a> {
    timestamp: &'a str,
    src_ip: &'a str,
    dest_ip: &'a str,
    #[serde(default)]
    src_port: u16,
    #[serde(default)]
    dest_port: u16,
    proto: &'a str,
    #[serde(default)]
    icmp_type: Option<u8>,
    #[serde(default)]
    app_proto: Option<String>,
    #[serde(borrow)]
    flow: FlowCounters<'a>,
    #[serde(default, borrow)]
    tcp: Option<TcpJson<'a>>,
}

#[derive(Deserialize)]
struct FlowCounters<'a> {
    #[serde(default)]
    pkts_toserver: u64,
    #[serde(default)]
    pkts_toclient: u64,
    #[serde(default)]
    bytes_toserver: u64,
    #[serde(default)]
    bytes_toclient: u64,
    #[serde(default, borrow)]
    start: Option<&'a str>,
    #[serde(default, borrow)]
    end: Option<&'a str>,
}

#[derive(Deserialize)]
struct TcpJson<'a> {
    #[serde(default, borrow)]
    tcp_flags_ts: Option<&'a str>,
    #[serde(default, borrow)]
    tcp_flags_tc: Option<&'a str>,
}

#[derive(Deserialize)]
struct DnsJson {
    timestamp: String,
    src_ip: String,
    dest_ip: String,
    #[serde(default)]
    src_port: u16,
    #[serde(default)]
    dest_port: u16,
    #[serde(default)]
    proto: String,
    dns: DnsInner,
}

#[derive(Deserialize)]
struct DnsInner {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    rrname: Option<String>,
    #[serde(default)]
    rrtype: Option<String>,
    /// Suricata's EVE DNS v3 puts questions in an array.
    #[serde(default)]
    queries: Vec<Question>,
}

#[derive(Deserialize)]
struct Question {
    rrname: String,
    #[serde(default)]
    rrtype: String,
}

#[derive(Deserialize)]
struct HttpJson<'a> {
    timestamp: &'a str,
    src_ip: &'a str,
    dest_ip: &'a str,
    #[serde(default)]
    dest_port: u16,
    http: HttpInner,
}

#[derive(Deserialize)]
struct HttpInner {
    /// `null` or absent without a response.
    #[serde(default)]
    status: Option<u16>,
}

/// One parsed event.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// An `http` transaction.
    Http(HttpRecord),
    /// A `flow` event.
    Flow(FlowRecord),
    /// A `dns` query.
    Dns(DnsRecord),
}

/// Parses an EVE timestamp (`2024-02-08T15:16:39.842117+0000`, also `Z` and `+00:00`).
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    if b.get(4) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut digits = 0;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if digits < 9 {
                nanos = nanos * 10 + i64::from(c - b'0');
                digits += 1;
            }
            i += 1;
        }
        for _ in digits..9 {
            nanos *= 10;
        }
    }
    let offset_secs = match s.get(i..)? {
        "" | "Z" => 0,
        rest => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest.chars().skip(1).filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let oh: i64 = digits.get(0..2)?.parse().ok()?;
            let om: i64 = digits.get(2..4)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm, public domain).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_secs;
    Some(Timestamp(
        secs.checked_mul(Timestamp::NANOS_PER_SEC)?
            .checked_add(nanos)?,
    ))
}

fn proto_number(p: &str) -> Option<u8> {
    Some(match p {
        "TCP" => ip_proto::TCP,
        "UDP" => ip_proto::UDP,
        "ICMP" => ip_proto::ICMP,
        "IPv6-ICMP" | "ICMPv6" => ip_proto::ICMPV6,
        "SCTP" => ip_proto::SCTP,
        n => n.parse().ok()?,
    })
}

fn hex_flags(s: Option<&str>) -> u8 {
    s.and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0)
}

fn flow(line: &[u8]) -> Option<FlowRecord> {
    let j: FlowJson = serde_json::from_slice(line).ok()?;
    let start = j
        .flow
        .start
        .and_then(parse_timestamp)
        .or_else(|| parse_timestamp(j.timestamp))?;
    let end = j.flow.end.and_then(parse_timestamp).unwrap_or(start);
    Some(FlowRecord {
        start,
        end: end.max(start),
        src_ip: j.src_ip.parse::<IpAddr>().ok()?,
        dst_ip: j.dest_ip.parse::<IpAddr>().ok()?,
        src_port: j.src_port,
        dst_port: j.dest_port,
        proto: proto_number(j.proto)?,
        pkts_toserver: j.flow.pkts_toserver,
        pkts_toclient: j.flow.pkts_toclient,
        bytes_toserver: j.flow.bytes_toserver,
        bytes_toclient: j.flow.bytes_toclient,
        tcp: j.tcp.map(|t| TcpFacts {
            flags_ts: hex_flags(t.tcp_flags_ts),
            flags_tc: hex_flags(t.tcp_flags_tc),
        }),
        icmp_type: j.icmp_type,
        app_proto: j.app_proto,
    })
}

fn dns(line: &[u8]) -> Option<DnsRecord> {
    let j: DnsJson = serde_json::from_slice(line).ok()?;
    // Queries only: answers repeat the question, and counting both would double every lookup.
    if j.dns.kind != "query" && j.dns.kind != "request" {
        return None;
    }
    let (rrname, rrtype) = match (j.dns.rrname, j.dns.queries.into_iter().next()) {
        (Some(n), _) => (n, j.dns.rrtype.unwrap_or_default()),
        (None, Some(q)) => (q.rrname, q.rrtype),
        (None, None) => return None,
    };
    Some(DnsRecord {
        ts: parse_timestamp(&j.timestamp)?,
        src_ip: j.src_ip.parse().ok()?,
        dst_ip: j.dest_ip.parse().ok()?,
        src_port: j.src_port,
        dst_port: j.dest_port,
        proto: proto_number(&j.proto).unwrap_or(ip_proto::UDP),
        rrname,
        rrtype,
    })
}

/// Parses one EVE line; `None` for other event types and for anything malformed.
pub fn parse_line(line: &[u8]) -> Option<Record> {
    let head: Head<'_> = serde_json::from_slice(line).ok()?;
    match head.event_type {
        "flow" => flow(line).map(Record::Flow),
        "dns" => dns(line).map(Record::Dns),
        "http" => http(line).map(Record::Http),
        _ => None,
    }
}

/// Parses a `flow` event (the caller knows the type, as the binary does from its batches).
pub fn parse_flow(line: &[u8]) -> Option<FlowRecord> {
    flow(line)
}

fn http(line: &[u8]) -> Option<HttpRecord> {
    let j: HttpJson<'_> = serde_json::from_slice(line).ok()?;
    Some(HttpRecord {
        ts: parse_timestamp(j.timestamp)?,
        src_ip: j.src_ip.parse().ok()?,
        dst_ip: j.dest_ip.parse().ok()?,
        dst_port: j.dest_port,
        status: j.http.status.unwrap_or(0),
    })
}

/// Parses an `http` event.
pub fn parse_http(line: &[u8]) -> Option<HttpRecord> {
    http(line)
}

/// Parses a `dns` event; `None` for answers.
pub fn parse_dns(line: &[u8]) -> Option<DnsRecord> {
    dns(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_eve_forms() {
        let t = parse_timestamp("1970-01-01T00:00:01.5+0000").unwrap();
        assert_eq!(t.0, 1_500_000_000);
        let a = parse_timestamp("2024-02-08T15:16:39.842117+0000").unwrap();
        let b = parse_timestamp("2024-02-08T16:16:39.842117+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.secs(), 1_707_405_399);
        assert!(parse_timestamp("2024-13-08T15:16:39+0000").is_none());
        assert!(parse_timestamp("yesterday").is_none());
        assert!(parse_timestamp("2024-02-08T15:16:39+00").is_none());
    }

    #[test]
    fn flow_and_dns_lines() {
        let f = br#"{"timestamp":"2024-02-08T15:16:39.842117+0000","event_type":"flow","src_ip":"147.32.80.37","src_port":39210,"dest_ip":"141.193.213.21","dest_port":443,"proto":"TCP","flow":{"pkts_toserver":14,"pkts_toclient":11,"bytes_toserver":1773,"bytes_toclient":4637,"start":"2024-02-08T15:16:39.842117+0000","end":"2024-02-08T15:16:40.013986+0000","age":1,"state":"new"},"tcp":{"tcp_flags_ts":"1b","tcp_flags_tc":"12"}}"#;
        let Some(Record::Flow(r)) = parse_line(f) else {
            panic!("not a flow")
        };
        assert_eq!((r.dst_port, r.proto, r.bytes_toserver), (443, 6, 1773));
        assert_eq!(
            r.tcp,
            Some(TcpFacts {
                flags_ts: 0x1b,
                flags_tc: 0x12
            })
        );
        assert_eq!(r.end.0 - r.start.0, 171_869_000);
        let q = br#"{"timestamp":"2024-02-13T14:34:38.788265+0000","event_type":"dns","src_ip":"10.0.0.1","src_port":3,"dest_ip":"10.0.0.2","dest_port":53,"proto":"UDP","dns":{"type":"query","id":1,"rrname":"testing.com","rrtype":"TXT"}}"#;
        let Some(Record::Dns(d)) = parse_line(q) else {
            panic!("not a query")
        };
        assert_eq!(
            (d.rrname.as_str(), d.rrtype.as_str()),
            ("testing.com", "TXT")
        );
        let a = br#"{"timestamp":"2024-02-13T14:34:38.788265+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP","dns":{"type":"answer","rrname":"testing.com"}}"#;
        assert!(parse_line(a).is_none());
        for bad in [&b"{"[..], b"null", br#"{"event_type":"flow"}"#, br#"{"event_type":"flow","timestamp":"x","src_ip":"1.1.1.1","dest_ip":"::1","proto":"TCP","flow":{}}"#] {
            assert!(parse_line(bad).is_none());
        }
    }
}

#[cfg(test)]
mod hostile {
    use super::*;
    use crate::{AnomalyConfig, AnomalyEngine};

    const FLOW: &str = r#"{"timestamp":"2024-02-08T15:16:39.842117+0000","event_type":"flow","src_ip":"147.32.80.37","src_port":39210,"dest_ip":"141.193.213.21","dest_port":443,"proto":"TCP","flow":{"pkts_toserver":14,"pkts_toclient":11,"bytes_toserver":1773,"bytes_toclient":4637,"start":"2024-02-08T15:16:39.842117+0000","end":"2024-02-08T15:16:40.013986+0000"},"tcp":{"tcp_flags_ts":"02","tcp_flags_tc":"12"}}"#;
    const DNS: &str = r#"{"timestamp":"2024-02-13T14:34:38.788265+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP","dns":{"type":"query","rrname":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x.y","rrtype":"TXT"}}"#;

    #[test]
    fn mutated_lines_never_panic_and_feed_the_engine_safely() {
        let mut e = AnomalyEngine::new(AnomalyConfig::default());
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..20_000 {
            let base = if i % 2 == 0 { FLOW } else { DNS };
            let mut b = base.as_bytes().to_vec();
            for _ in 0..(next() % 6) {
                let len = b.len() as u64;
                if len == 0 {
                    break;
                }
                let pos = (next() % len) as usize;
                match next() % 3 {
                    0 => b[pos] = (next() & 0xff) as u8,
                    1 => b.truncate(pos),
                    _ => b.insert(pos, b"0123456789.:-+Z\"{}"[(next() % 18) as usize]),
                }
            }
            match parse_line(&b) {
                Some(Record::Flow(f)) => e.on_flow(&f),
                Some(Record::Dns(q)) => e.on_dns(&q),
                Some(Record::Http(h)) => e.on_http(&h),
                None => {}
            }
        }
        e.finish();
        let _ = e.drain();
    }

    #[test]
    fn extreme_values_never_panic() {
        let mut e = AnomalyEngine::new(AnomalyConfig::default());
        for (start, end, pkts, bytes) in [
            (i64::MIN, i64::MAX, u64::MAX, u64::MAX),
            (i64::MAX, i64::MIN, 0, 0),
            (0, 0, u64::MAX, 1),
            (i64::MAX - 1, i64::MAX, 1, u64::MAX),
        ] {
            for proto in [6u8, 17, 1, 58, 0] {
                let f = crate::FlowRecord {
                    start: Timestamp(start),
                    end: Timestamp(end),
                    src_ip: "10.0.0.1".parse().unwrap(),
                    dst_ip: "10.0.0.2".parse().unwrap(),
                    src_port: 0,
                    dst_port: 22,
                    proto,
                    pkts_toserver: pkts,
                    pkts_toclient: pkts,
                    bytes_toserver: bytes,
                    bytes_toclient: bytes,
                    tcp: Some(crate::TcpFacts {
                        flags_ts: 0xff,
                        flags_tc: 0,
                    }),
                    icmp_type: Some(8),
                    app_proto: None,
                };
                e.on_flow(&f);
            }
        }
        e.finish();
        let _ = e.drain();
    }
}
