//! The HTTP parser over the TCP traffic of the shared `synthetic-small.pcap`, compared with
//! Suricata 7.0.10's reference run (`target/ref/suricata-small-eve.json`).
//!
//! A tiny pcap walker lives here (Ethernet, VLAN, IPv4/IPv6, TCP) with per-flow in-order
//! delivery: the capture is clean (in order, no loss), so tracking the next expected sequence
//! number per direction and dropping bytes already seen (retransmissions, overlaps) is enough.
//! Data on SYN packets is ignored, as Suricata does without TCP Fast Open. After a CONNECT or
//! 101 tunnel, detection starts again on the bytes that follow, as Suricata does.
//!
//! A second test runs the same walker over the HTTP cases of the shared conformance suite
//! (`conformance/tests/*`) and checks the `http` record expectations of their `test.yaml`.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use vedette_types::Direction;

use super::{probe, Limits, State};
use crate::{AppEvents, Probe};

/// Number of `event_type: http` records of Suricata 7.0.10 on synthetic-small.pcap (436 on
/// port 80, 29 on port 8080; Suricata detects HTTP without looking at ports, so do we).
const SURICATA_HTTP_EVENTS: usize = 465;
const SURICATA_HTTP_EVENTS_PORT_80: usize = 436;

fn shared_file(rel: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("VEDETTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = dir.join(rel);
    if path.exists() {
        return Some(path);
    }
    let msg = format!("{} not found", path.display());
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg} (required when CI=true)");
    }
    eprintln!("skipping: {msg}; set VEDETTE_SHARED");
    None
}

type Endpoint = (IpAddr, u16);

struct Segment<'a> {
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    flags: u8,
    payload: &'a [u8],
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Ethernet (link type 1) or BSD loopback (0) → (VLAN)* → IPv4/IPv6 → TCP; `None` for
/// anything else (and IP fragments).
fn tcp_segment(frame: &[u8], linktype: u32) -> Option<Segment<'_>> {
    let (mut et, mut at) = if linktype == 0 {
        let family = u32::from_le_bytes(frame.get(..4)?.try_into().ok()?);
        let family = if family > 0xffff {
            family.swap_bytes()
        } else {
            family
        };
        (if family == 2 { 0x0800 } else { 0x86dd }, 4)
    } else {
        (be16(frame, 12)?, 14)
    };
    while et == 0x8100 || et == 0x88a8 {
        et = be16(frame, at + 2)?;
        at += 4;
    }
    let (src, dst, l4) = match et {
        0x0800 => {
            let ip = frame.get(at..)?;
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?);
            let frag = be16(ip, 6)?;
            if frag & 0x3fff != 0 || *ip.get(9)? != 6 {
                return None;
            }
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (
                IpAddr::from(s),
                IpAddr::from(d),
                ip.get(ihl..total.min(ip.len()))?,
            )
        }
        0x86dd => {
            let ip = frame.get(at..)?;
            let plen = usize::from(be16(ip, 4)?);
            let mut next = *ip.get(6)?;
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let mut off = 40;
            let end = (40 + plen).min(ip.len());
            while matches!(next, 0 | 43 | 60) {
                next = *ip.get(off)?;
                off += (usize::from(*ip.get(off + 1)?) + 1) * 8;
            }
            if next != 6 {
                return None;
            }
            (IpAddr::from(s), IpAddr::from(d), ip.get(off..end)?)
        }
        _ => return None,
    };
    let doff = usize::from(l4.get(12)? >> 4) * 4;
    Some(Segment {
        src: (src, be16(l4, 0)?),
        dst: (dst, be16(l4, 2)?),
        seq: be32(l4, 4)?,
        flags: *l4.get(13)?,
        payload: l4.get(doff..)?,
    })
}

enum Proto {
    Detecting,
    Http(Box<State>),
    Other,
}

struct TcpFlow {
    client: (IpAddr, u16),
    server_port: u16,
    next: [Option<u32>; 2],
    pending: [Vec<u8>; 2],
    proto: Proto,
}

#[derive(Default)]
struct Totals {
    txs: usize,
    by_port: BTreeMap<u16, usize>,
    events: BTreeMap<&'static str, usize>,
    /// EVE `http` object per (client address, client port, tx_id).
    eve: HashMap<(IpAddr, u16, u64), serde_json::Value>,
    /// Every record in order: tx_id, `http` object, request and response header pairs.
    records: Vec<Logged>,
}

struct Logged {
    tx_id: u64,
    http: serde_json::Value,
    request_headers: Vec<(String, String)>,
    response_headers: Vec<(String, String)>,
}

impl TcpFlow {
    fn deliver(&mut self, dir: Direction, data: &[u8], limits: &Limits, t: &mut Totals) {
        let d = usize::from(dir == Direction::ToClient);
        let mut ev = AppEvents::default();
        match &mut self.proto {
            Proto::Other => return,
            Proto::Http(st) => {
                st.parse(dir, data, &mut ev);
                if st.tunnel().is_some() {
                    // Detect again on what follows (Suricata's protocol change after CONNECT).
                    let ts = st.take_tunnel_data(Direction::ToServer);
                    let tc = st.take_tunnel_data(Direction::ToClient);
                    count_events(&ev, t);
                    self.drain(true, t);
                    self.proto = Proto::Detecting;
                    self.pending = [Vec::new(), Vec::new()];
                    if !ts.is_empty() {
                        self.deliver(Direction::ToServer, &ts, limits, t);
                    }
                    if !tc.is_empty() {
                        self.deliver(Direction::ToClient, &tc, limits, t);
                    }
                    return;
                }
            }
            Proto::Detecting => {
                let Some(buf) = self.pending.get_mut(d) else {
                    return;
                };
                buf.extend_from_slice(data);
                // Stray line endings (e.g. after a CONNECT) do not stop the detection.
                let start = buf
                    .iter()
                    .position(|c| !matches!(c, b'\r' | b'\n'))
                    .unwrap_or(buf.len());
                let head = buf.get(start..).unwrap_or(&[]);
                let verdict = probe(head.get(..head.len().min(64)).unwrap_or(&[]), dir);
                match verdict {
                    Probe::Yes => {
                        let mut st = Box::new(State::new(limits));
                        let [ts, tc] = std::mem::take(&mut self.pending);
                        st.parse(Direction::ToServer, &ts, &mut ev);
                        st.parse(Direction::ToClient, &tc, &mut ev);
                        self.proto = Proto::Http(st);
                    }
                    Probe::NeedMore if head.len() < 64 => return,
                    // A server that speaks first with something else: wait for the client
                    // (a stray line ending after a CONNECT answer, for instance).
                    _ if dir == Direction::ToClient && buf.len() < 64 * 1024 => return,
                    _ => {
                        self.proto = Proto::Other;
                        return;
                    }
                }
            }
        }
        count_events(&ev, t);
        self.drain(false, t);
    }

    fn drain(&mut self, at_end: bool, t: &mut Totals) {
        if let Proto::Http(st) = &mut self.proto {
            let port = self.server_port;
            let client = self.client;
            st.drain(at_end, &mut |tx| {
                t.txs += 1;
                *t.by_port.entry(port).or_default() += 1;
                let mut batch = vedette_eve::EventBatch::with_capacity(512);
                let mut w = batch.begin(vedette_eve::EventType::Http);
                w.open();
                tx.write_eve(&mut w);
                w.finish();
                let v: serde_json::Value =
                    serde_json::from_slice(batch.record(0).unwrap_or(&[])).unwrap_or_default();
                t.eve
                    .insert((client.0, client.1, tx.id()), v["http"].clone());
                let pairs = |dir| {
                    tx.eve_headers(dir)
                        .map(|(n, v)| {
                            (
                                String::from_utf8_lossy(n).into_owned(),
                                String::from_utf8_lossy(v).into_owned(),
                            )
                        })
                        .collect()
                };
                t.records.push(Logged {
                    tx_id: tx.id(),
                    http: v["http"].clone(),
                    request_headers: pairs(Direction::ToServer),
                    response_headers: pairs(Direction::ToClient),
                });
            });
        }
    }
}

fn count_events(ev: &AppEvents, t: &mut Totals) {
    for (_, name) in ev.iter() {
        *t.events.entry(name).or_default() += 1;
    }
}

fn walk(bytes: &[u8], limits: &Limits) -> Totals {
    let le = match bytes.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => true,
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => false,
        _ => panic!("not a classic pcap"),
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let linktype = u32_at(20).unwrap_or(u32::MAX);
    assert!(linktype <= 1, "Ethernet or loopback link type expected");
    let mut flows: HashMap<(Endpoint, Endpoint), TcpFlow> = HashMap::new();
    let mut totals = Totals::default();
    let mut at = 24;
    while let Some(caplen) = u32_at(at + 8) {
        let caplen = caplen as usize;
        let Some(frame) = bytes.get(at + 16..at + 16 + caplen) else {
            break;
        };
        at += 16 + caplen;
        let Some(seg) = tcp_segment(frame, linktype) else {
            continue;
        };
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let flow = flows.entry(key).or_insert_with(|| {
            // The SYN sender is the client; midstream, the side talking to the lower port.
            let client = if seg.flags & (SYN | ACK) == SYN || seg.src.1 > seg.dst.1 {
                seg.src
            } else {
                seg.dst
            };
            let server_port = if client == seg.src {
                seg.dst.1
            } else {
                seg.src.1
            };
            TcpFlow {
                client,
                server_port,
                next: [None, None],
                pending: [Vec::new(), Vec::new()],
                proto: Proto::Detecting,
            }
        });
        let dir = if seg.src == flow.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let d = usize::from(dir == Direction::ToClient);
        if seg.flags & SYN != 0 {
            if let Some(n) = flow.next.get_mut(d) {
                *n = Some(seg.seq.wrapping_add(1));
            }
            continue;
        }
        if seg.payload.is_empty() {
            continue;
        }
        let next = flow.next.get(d).copied().flatten().unwrap_or(seg.seq);
        let diff = seg.seq.wrapping_sub(next) as i32;
        let mut payload = seg.payload;
        if diff < 0 {
            let skip = diff.unsigned_abs() as usize;
            if skip >= payload.len() {
                continue; // retransmission of bytes already delivered
            }
            payload = payload.get(skip..).unwrap_or(&[]);
        } else if diff > 0 {
            if let Proto::Http(st) = &mut flow.proto {
                st.gap(
                    dir,
                    u64::from(diff.unsigned_abs()),
                    &mut AppEvents::default(),
                );
            }
        }
        if let Some(n) = flow.next.get_mut(d) {
            *n = Some(
                seg.seq
                    .wrapping_add(seg.payload.len() as u32)
                    .max_wrapping(next),
            );
        }
        flow.deliver(dir, payload, limits, &mut totals);
    }
    for flow in flows.values_mut() {
        flow.drain(true, &mut totals);
    }
    totals
}

trait MaxWrapping {
    fn max_wrapping(self, other: u32) -> u32;
}

impl MaxWrapping for u32 {
    /// The later of two sequence numbers.
    fn max_wrapping(self, other: u32) -> u32 {
        if (self.wrapping_sub(other) as i32) >= 0 {
            self
        } else {
            other
        }
    }
}

#[test]
fn synthetic_small_transaction_count_matches_suricata() {
    let Some(path) = shared_file("data/pcap/synthetic-small.pcap") else {
        return;
    };
    let bytes = std::fs::read(&path).expect("read synthetic-small.pcap");
    let totals = walk(&bytes, &Limits::default());
    eprintln!(
        "http transactions: {} (by port {:?}); events {:?}",
        totals.txs, totals.by_port, totals.events
    );
    let within = |got: usize, want: usize| got.abs_diff(want) * 50 <= want;
    assert!(
        within(totals.txs, SURICATA_HTTP_EVENTS),
        "{} transactions, Suricata logged {SURICATA_HTTP_EVENTS}",
        totals.txs
    );
    let port80 = totals.by_port.get(&80).copied().unwrap_or(0);
    assert!(
        within(port80, SURICATA_HTTP_EVENTS_PORT_80),
        "{port80} on port 80, Suricata logged {SURICATA_HTTP_EVENTS_PORT_80}"
    );
    // Suricata's app-layer anomaly records for HTTP on this capture.
    for (name, n) in [
        ("INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE", 4),
        ("MISSING_HOST_HEADER", 2),
        ("REQUEST_HEADER_HOST_INVALID", 2),
        ("REQUEST_FIELD_MISSING_COLON", 1),
    ] {
        assert_eq!(totals.events.get(name).copied().unwrap_or(0), n, "{name}");
    }
    assert_eq!(
        totals.events.values().sum::<usize>(),
        9,
        "{:?}",
        totals.events
    );

    // Field by field against the reference run, when it is there (it is a build artefact).
    let reference =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ref/suricata-small-eve.json");
    let Ok(text) = std::fs::read_to_string(&reference) else {
        eprintln!(
            "skipping the field comparison: {} not found",
            reference.display()
        );
        return;
    };
    let mut compared = 0;
    let mut differ = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["event_type"] != "http" {
            continue;
        }
        let ip: IpAddr = v["src_ip"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("src_ip");
        let port = v["src_port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("src_port");
        let id = v["tx_id"].as_u64().expect("tx_id");
        compared += 1;
        match totals.eve.get(&(ip, port, id)) {
            Some(ours) if *ours == v["http"] => {}
            ours => differ.push(format!(
                "{ip}:{port} tx {id}: suricata {} vedette {:?}",
                v["http"], ours
            )),
        }
    }
    assert_eq!(compared, SURICATA_HTTP_EVENTS);
    assert!(
        differ.is_empty(),
        "{} differ, e.g.\n{}",
        differ.len(),
        differ
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The `http` expectations of the conformance cases that have them (`test.yaml` filters on
/// `event_type: http`), checked on what the walker logs.
#[test]
fn conformance_http_records() {
    let Some(dir) = shared_file("conformance/tests") else {
        return;
    };
    let run = |case: &str| -> Totals {
        let pcap = std::fs::read_dir(dir.join(case))
            .expect("case dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "pcap"))
            .expect("pcap");
        walk(&std::fs::read(pcap).expect("read pcap"), &Limits::default())
    };
    let count = |t: &Totals, f: &dyn Fn(&Logged) -> bool| t.records.iter().filter(|r| f(r)).count();
    let field = |r: &Logged, k: &str| r.http.get(k).cloned().unwrap_or_default();

    let t = run("http-protocol-nodup");
    assert_eq!(count(&t, &|r| field(r, "protocol") == "HTTP/1.1"), 40);

    let t = run("http-all-headers");
    assert_eq!(t.records.len(), 1);
    let r = &t.records[0];
    assert_eq!(r.request_headers.len(), 9);
    assert_eq!(r.response_headers.len(), 9);
    assert_eq!(
        r.request_headers[0],
        ("Host".into(), "www.ethereal.com".into())
    );
    assert_eq!(
        r.response_headers[5],
        ("Content-Length".into(), "18070".into())
    );

    for case in ["http-gap-double", "http-gap-whole-body"] {
        let t = run(case);
        for url in ["/1", "/2", "/3"] {
            assert_eq!(
                count(&t, &|r| field(r, "url") == url && field(r, "status") == 200),
                1,
                "{case} {url}"
            );
        }
    }
    let t = run("http-async");
    for url in ["/1", "/2"] {
        assert_eq!(
            count(&t, &|r| field(r, "url") == url && field(r, "status") == 200),
            1
        );
    }

    // The fields bug-814's test.yaml checks.
    let t = run("bug-814");
    assert_eq!(t.records.len(), 1);
    let r = &t.records[0];
    assert_eq!(r.tx_id, 0);
    for (k, v) in [
        ("hostname", "www.net1.bg"),
        ("http_method", "GET"),
        (
            "http_user_agent",
            "Mozilla/4.75 (Nikto/2.1.4) (Evasions:None) (Test:000003)",
        ),
        ("protocol", "HTTP/1.1"),
        ("url", "/cgi-bin/cart32.exe"),
    ] {
        assert_eq!(field(r, k), v, "{k}");
    }
    assert_eq!(field(r, "length"), 0);

    // bug-78 checks the http fields of an alert raised mid-response (length 1194 then); the
    // http record itself is written when the response is complete.
    let t = run("bug-78-uricontent");
    let r = t.records.first().expect("one record");
    for (k, v) in [
        ("hostname", "www.google.com"),
        ("http_content_type", "text/html"),
        ("http_method", "GET"),
        ("http_user_agent", "Wget/1.11.4"),
        ("protocol", "HTTP/1.0"),
        ("url", "/blah/"),
    ] {
        assert_eq!(field(r, k), v, "{k}");
    }
    assert_eq!(field(r, "status"), 404);
    assert!(field(r, "length").as_u64().is_some_and(|n| n >= 1194));

    for case in [
        "http-connect/http-connect-simple",
        "http-connect/http-connect-fragmented",
    ] {
        let t = run(case);
        assert_eq!(
            count(&t, &|r| r.tx_id == 0
                && field(r, "http_method") == "CONNECT"
                && field(r, "protocol") == "HTTP/1.1"
                && field(r, "status") == 200),
            1,
            "{case}"
        );
        assert_eq!(
            count(&t, &|r| r.tx_id == 0
                && field(r, "http_method") == "GET"
                && field(r, "protocol") == "HTTP/1.1"
                && field(r, "status") == 200),
            1,
            "{case}"
        );
    }
    let t = run("http-connect/http-connect-tls");
    assert_eq!(
        count(&t, &|r| field(r, "http_method") == "CONNECT"
            && field(r, "status") == 200),
        1
    );

    let t = run("bug-2430");
    assert_eq!(
        count(&t, &|r| field(r, "http_method") == "CONNECT"
            && field(r, "hostname") == "qagpublic.qg1.apps.qualys.com"),
        1
    );
    let t = run("bug-7851-01");
    assert_eq!(
        count(&t, &|r| field(r, "http_method") == "CONNECT"
            && field(r, "url") == "/"),
        1
    );
    assert_eq!(count(&t, &|r| r.http.get("hostname").is_some()), 0);
    let t = run("bug-4702-01");
    assert_eq!(count(&t, &|r| field(r, "url") == "/"), 1);
    let t = run("bug-6269-01");
    assert_eq!(
        count(&t, &|r| field(r, "url") == "/test_lastline_blocking"),
        1
    );
}
