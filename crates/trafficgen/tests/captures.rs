//! End-to-end checks of the generated captures: determinism, checksums, TCP consistency,
//! certificates, content, and (when tshark is installed) a clean dissection.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use common::{be16, be32, decode_and_verify, read_pcap, Frame};
use vedette_trafficgen::{
    benign_capture, demo_capture, write_benign_capture, write_demo_capture, write_syn_flood,
};

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("vedette-trafficgen-{}-{name}", std::process::id()))
}

fn demo_bytes(seed: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    demo_capture(seed).write_to(&mut buf).unwrap();
    buf
}

fn benign_bytes(seed: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    benign_capture(seed).write_to(&mut buf).unwrap();
    buf
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn demo_is_deterministic_and_seed_dependent() {
    let path = temp_path("demo-a.pcap");
    let summary = write_demo_capture(&path, 7).unwrap();
    let file = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let again = demo_bytes(7);
    assert_eq!(file, again, "same seed must give identical bytes");
    assert_eq!(summary.bytes, file.len() as u64);
    assert_ne!(again, demo_bytes(8), "different seeds must differ");
    assert!(
        (1_000_000..=3_000_000).contains(&file.len()),
        "size {}",
        file.len()
    );
}

#[test]
fn benign_is_deterministic_and_seed_dependent() {
    let path = temp_path("benign-a.pcap");
    write_benign_capture(&path, 3).unwrap();
    let file = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(file, benign_bytes(3));
    assert_ne!(file, benign_bytes(4));
}

#[test]
fn all_checksums_verify() {
    for bytes in [demo_bytes(1), benign_bytes(1), demo_bytes(99)] {
        let (frames, reassembled) = decode_and_verify(&bytes);
        assert!(!frames.is_empty());
        let _ = reassembled;
    }
    let (_, reassembled) = decode_and_verify(&demo_bytes(1));
    assert_eq!(reassembled, 1, "the demo holds one fragmented datagram");
}

#[test]
fn demo_summary_and_time_span() {
    let cap = demo_capture(1);
    let c = &cap.counts;
    assert!(c.http_sessions >= 20, "{c:?}");
    assert_eq!(c.http_attacks, 4);
    assert!(c.dns_udp >= 40, "{c:?}");
    assert_eq!(c.dns_tcp, 1);
    assert_eq!(c.tls_sessions, 10);
    assert_eq!(c.tls13_sessions, 1);
    assert_eq!(c.scan_ports, 200);
    assert!(c.icmp_echo_pairs >= 4);
    assert!(c.beacons >= 8);
    assert_eq!(
        (c.ipv6_sessions, c.vlan_sessions, c.fragmented_datagrams),
        (1, 1, 1)
    );
    let first = cap.packets.first().unwrap().ts;
    let last = cap.packets.last().unwrap().ts;
    assert!(first.secs() >= 1_768_467_600);
    let span = last.nanos_since(first) / 1_000_000_000;
    assert!((120..=420).contains(&span), "span {span}s");
    assert!(cap.packets.windows(2).all(|w| w[0].ts <= w[1].ts));
}

#[test]
fn demo_contains_the_scripted_activities() {
    let bytes = demo_bytes(1);
    for needle in [
        &b"GET /index.php?id=1%27%20OR%20%271%27=%271 HTTP/1.1\r\n"[..],
        b"GET /../../etc/passwd HTTP/1.1\r\n",
        b"User-Agent: ${jndi:ldap://",
        b"User-Agent: sqlmap/1.7",
        b"POST /cart/add HTTP/1.1\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"/api/v2/ping?uid=",
    ] {
        assert!(
            contains(&bytes, needle),
            "missing {}",
            String::from_utf8_lossy(needle)
        );
    }
    let (frames, _) = decode_and_verify(&bytes);
    assert!(frames.iter().any(|f| f.vlan == Some(42) && f.proto == 6));
    assert!(frames
        .iter()
        .any(|f| matches!(f.src, Some(IpAddr::V6(_))) && f.proto == 6));
    assert!(frames.iter().any(|f| f.proto == 58));
    assert!(frames.iter().any(|f| f.proto == 1));
    assert!(frames.iter().any(|f| f.ethertype == 0x0806));
    // Scan: 200 distinct destination ports from the scanner, RST/ACK from closed ones and
    // SYN/ACK from open ones.
    let scanner = IpAddr::V4(Ipv4Addr::new(10, 10, 0, 66));
    let target = IpAddr::V4(Ipv4Addr::new(10, 10, 0, 20));
    let probed: BTreeSet<u16> = frames
        .iter()
        .filter(|f| f.src == Some(scanner) && f.proto == 6 && f.l4[13] == 0x02)
        .map(|f| be16(&f.l4, 2))
        .collect();
    assert_eq!(probed.len(), 200);
    let rst_ack = frames
        .iter()
        .filter(|f| {
            f.src == Some(target)
                && f.proto == 6
                && f.l4[13] == 0x14
                && probed.contains(&be16(&f.l4, 0))
        })
        .count();
    let syn_ack = frames
        .iter()
        .filter(|f| {
            f.src == Some(target) && f.dst == Some(scanner) && f.proto == 6 && f.l4[13] == 0x12
        })
        .count();
    assert_eq!((rst_ack, syn_ack), (197, 3));
    // Beacon: roughly every 30 s from one host to one server.
    let c2 = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 77));
    let syns: Vec<u64> = frames
        .iter()
        .filter(|f| f.dst == Some(c2) && f.proto == 6 && f.l4[13] == 0x02)
        .map(|f| f.ts_us)
        .collect();
    assert!(syns.len() >= 8);
    for w in syns.windows(2) {
        let gap = (w[1] - w[0]) as f64 / 1e6;
        assert!((27.0..=33.0).contains(&gap), "beacon gap {gap}");
    }
}

#[test]
fn benign_has_no_attacks_scans_or_beacons() {
    let bytes = benign_bytes(1);
    for needle in [&b"jndi"[..], b"sqlmap", b"../", b"%27", b"/api/v2/ping"] {
        assert!(
            !contains(&bytes, needle),
            "found {}",
            String::from_utf8_lossy(needle)
        );
    }
    let (frames, _) = decode_and_verify(&bytes);
    // No RST anywhere, and every SYN belongs to a completed handshake.
    assert!(frames.iter().all(|f| f.proto != 6 || f.l4[13] & 0x04 == 0));
    let flows = tcp_flows(&frames);
    assert!(flows.len() >= 20);
    for (key, segs) in &flows {
        check_tcp_flow(key, segs, false);
    }
    let c = benign_capture(1).counts;
    assert_eq!(
        (c.http_attacks, c.scan_ports, c.beacons, c.udp_noise),
        (0, 0, 0, 0)
    );
}

type FlowKey = (IpAddr, u16, IpAddr, u16);

/// TCP frames grouped per connection (keyed client-first by the SYN's direction), in time order.
fn tcp_flows(frames: &[Frame]) -> BTreeMap<FlowKey, Vec<(bool, Frame)>> {
    let mut flows: BTreeMap<FlowKey, Vec<(bool, Frame)>> = BTreeMap::new();
    for f in frames.iter().filter(|f| f.proto == 6 && f.frag.is_none()) {
        let (s, d) = (f.src.unwrap(), f.dst.unwrap());
        let (sp, dp) = (be16(&f.l4, 0), be16(&f.l4, 2));
        let fwd = (s, sp, d, dp);
        let rev = (d, dp, s, sp);
        if flows.contains_key(&rev) {
            flows.get_mut(&rev).unwrap().push((false, f.clone()));
        } else {
            flows.entry(fwd).or_default().push((true, f.clone()));
        }
    }
    flows
}

/// Checks sequence/acknowledgment consistency of one connection: contiguous data in each
/// direction, ACKs never ahead of what the peer sent and never going backwards, full
/// option sets in the handshake, and an end: either a FIN exchange acknowledged by both
/// sides or (with `allow_rst`) an in-window RST as the last packet.
fn check_tcp_flow(key: &FlowKey, segs: &[(bool, Frame)], allow_rst: bool) -> [Vec<u8>; 2] {
    let mut reset = false;
    let mut next: [Option<u32>; 2] = [None, None];
    let mut last_ack: [Option<u32>; 2] = [None, None];
    let mut fin = [false, false];
    let mut data: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let (first_fwd, first) = &segs[0];
    assert!(
        *first_fwd && first.l4[13] == 0x02,
        "{key:?} does not start with a SYN"
    );
    for (fwd, f) in segs {
        let me = usize::from(!*fwd);
        let peer = 1 - me;
        let l4 = &f.l4;
        let seq = be32(l4, 4);
        let ack = be32(l4, 8);
        let hlen = usize::from(l4[12] >> 4) * 4;
        let flags = l4[13];
        let payload = &l4[hlen..];
        let syn = flags & 0x02 != 0;
        let fin_flag = flags & 0x01 != 0;
        if syn {
            let opts = &l4[20..hlen];
            assert_eq!(opts[0], 2, "MSS first");
            assert!(opts.windows(2).any(|w| w == [4, 2]), "SACK permitted");
            assert!(opts.windows(2).any(|w| w == [8, 10]), "timestamps");
            assert!(
                opts.windows(2).any(|w| w[0] == 3 && w[1] == 3),
                "window scale"
            );
            next[me] = Some(seq.wrapping_add(1));
            if flags & 0x10 != 0 {
                assert_eq!(Some(ack), next[peer], "{key:?} SYN/ACK acks the SYN");
                last_ack[me] = Some(ack);
            }
            continue;
        }
        let expect = next[me].expect("segment before SYN");
        assert_eq!(
            seq, expect,
            "{key:?} non-contiguous sequence from side {me}"
        );
        assert!(!fin[me] || payload.is_empty(), "data after FIN");
        data[me].extend_from_slice(payload);
        next[me] = Some(expect.wrapping_add(payload.len() as u32 + u32::from(fin_flag)));
        if fin_flag {
            fin[me] = true;
        }
        if flags & 0x10 != 0 {
            let peer_next = next[peer].expect("ack before peer SYN");
            // Serial-number arithmetic: ack must not pass what the peer has sent.
            assert!(
                peer_next.wrapping_sub(ack) < 1 << 31,
                "{key:?} ACK ahead of data"
            );
            if let Some(prev) = last_ack[me] {
                assert!(
                    ack.wrapping_sub(prev) < 1 << 31,
                    "{key:?} ACK went backwards"
                );
            }
            last_ack[me] = Some(ack);
        }
        assert!(!reset, "{key:?} packets after RST");
        if flags & 0x04 != 0 {
            assert!(allow_rst, "{key:?} unexpected RST");
            reset = true;
        }
    }
    if !reset {
        assert!(fin[0] && fin[1], "{key:?} not closed by both sides");
        assert_eq!(
            last_ack[0], next[1],
            "{key:?} client did not ack everything"
        );
        assert_eq!(
            last_ack[1], next[0],
            "{key:?} server did not ack everything"
        );
    }
    data
}

#[test]
fn tcp_sessions_are_consistent() {
    let (frames, _) = decode_and_verify(&demo_bytes(5));
    let scanner = IpAddr::V4(Ipv4Addr::new(10, 10, 0, 66));
    let mut checked = 0;
    for (key, segs) in tcp_flows(&frames) {
        if key.0 == scanner {
            continue;
        }
        let streams = check_tcp_flow(&key, &segs, true);
        // HTTP request/response counts line up on port 80.
        if key.3 == 80 {
            let reqs = streams[0].windows(9).filter(|w| w == b" HTTP/1.1").count();
            let resps = streams[1].windows(9).filter(|w| w == b"HTTP/1.1 ").count();
            assert_eq!(reqs, resps, "{key:?}");
            assert!(reqs >= 1);
        }
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} sessions");
}

/// Splits a TLS byte stream into (content type, fragment) records.
fn tls_records(stream: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 5 <= stream.len() {
        let len = usize::from(be16(stream, off + 3));
        assert!(off + 5 + len <= stream.len(), "truncated record");
        assert!(len <= 16_384 + 256);
        out.push((stream[off], stream[off + 5..off + 5 + len].to_vec()));
        off += 5 + len;
    }
    assert_eq!(off, stream.len(), "trailing bytes in TLS stream");
    out
}

/// Handshake messages (type, body) carried in the clear records of a stream.
fn handshakes(records: &[(u8, Vec<u8>)]) -> Vec<(u8, Vec<u8>)> {
    let mut buf = Vec::new();
    for (ct, frag) in records {
        if *ct == 20 {
            break; // everything after ChangeCipherSpec is encrypted
        }
        if *ct == 22 {
            buf.extend_from_slice(frag);
        }
    }
    let mut out = Vec::new();
    let mut off = 0;
    while off + 4 <= buf.len() {
        let len = (usize::from(buf[off + 1]) << 16) | usize::from(be16(&buf, off + 2));
        out.push((buf[off], buf[off + 4..off + 4 + len].to_vec()));
        off += 4 + len;
    }
    assert_eq!(off, buf.len());
    out
}

/// SNI from a ClientHello body.
fn sni(ch: &[u8]) -> Option<String> {
    let mut off = 2 + 32;
    off += 1 + usize::from(ch[off]);
    off += 2 + usize::from(be16(ch, off));
    off += 1 + usize::from(ch[off]);
    let end = off + 2 + usize::from(be16(ch, off));
    assert_eq!(end, ch.len(), "extensions length");
    off += 2;
    while off < end {
        let (t, l) = (be16(ch, off), usize::from(be16(ch, off + 2)));
        if t == 0 {
            let n = usize::from(be16(ch, off + 7));
            return Some(String::from_utf8(ch[off + 9..off + 9 + n].to_vec()).unwrap());
        }
        off += 4 + l;
    }
    None
}

/// Parses one DER TLV: (tag, header length, content length), checking minimal lengths.
fn tlv(b: &[u8]) -> (u8, usize, usize) {
    assert!(b.len() >= 2);
    let tag = b[0];
    assert_ne!(tag & 0x1f, 0x1f, "multi-byte tags are not used");
    let first = b[1];
    if first < 0x80 {
        return (tag, 2, usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    assert!((1..=3).contains(&n), "indefinite or huge length");
    assert_ne!(b[2], 0, "non-minimal length");
    let len = b[2..2 + n]
        .iter()
        .fold(0usize, |a, &x| (a << 8) | usize::from(x));
    assert!(len >= 0x80, "long form for a short length");
    (tag, 2 + n, len)
}

/// Children of a constructed DER value, recursively checking that nested lengths add up.
fn der_children(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < b.len() {
        let (tag, hl, cl) = tlv(&b[off..]);
        assert!(off + hl + cl <= b.len(), "child overruns its parent");
        let content = b[off + hl..off + hl + cl].to_vec();
        if tag & 0x20 != 0 {
            der_children(&content);
        }
        out.push((tag, content));
        off += hl + cl;
    }
    assert_eq!(off, b.len());
    out
}

fn common_name(name: &[u8]) -> String {
    for (_, set) in der_children(name) {
        for (_, atv) in der_children(&set) {
            let parts = der_children(&atv);
            if parts[0].1 == [0x55, 0x04, 0x03] {
                return String::from_utf8(parts[1].1.clone()).unwrap();
            }
        }
    }
    panic!("no CN");
}

fn check_certificate(der: &[u8], expect_cn: &str) {
    let (tag, hl, cl) = tlv(der);
    assert_eq!(tag, 0x30);
    assert_eq!(hl + cl, der.len(), "certificate length");
    let top = der_children(&der[hl..]);
    assert_eq!(
        top.iter().map(|c| c.0).collect::<Vec<_>>(),
        [0x30, 0x30, 0x03]
    );
    let tbs = der_children(&top[0].1);
    let tags: Vec<u8> = tbs.iter().map(|c| c.0).collect();
    assert_eq!(tags, [0xa0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30, 0xa3]);
    assert_eq!(tbs[0].1, [0x02, 0x01, 0x02], "v3");
    assert_eq!(common_name(&tbs[3].1), "Vedette Demo CA");
    assert_eq!(common_name(&tbs[5].1), expect_cn);
    let validity = der_children(&tbs[4].1);
    assert!(validity.iter().all(|v| v.0 == 0x17 && v.1.len() == 13));
    // Extension values are DER themselves.
    for (_, ext) in der_children(&der_children(&tbs[7].1)[0].1) {
        let parts = der_children(&ext);
        let value = &parts.last().unwrap().1;
        let (_, hl, cl) = tlv(value);
        assert_eq!(hl + cl, value.len());
        der_children(value);
    }
}

#[test]
fn tls_handshakes_and_certificates_parse() {
    let (frames, _) = decode_and_verify(&demo_bytes(1));
    let mut tls12 = 0;
    let mut tls13 = 0;
    for (key, segs) in tcp_flows(&frames) {
        if key.3 != 443 || segs.len() < 6 {
            continue;
        }
        let [c2s, s2c] = check_tcp_flow(&key, &segs, false);
        let client_hs = handshakes(&tls_records(&c2s));
        assert_eq!(client_hs[0].0, 1, "ClientHello first");
        let name = sni(&client_hs[0].1).expect("SNI");
        let server_recs = tls_records(&s2c);
        let server_hs = handshakes(&server_recs);
        assert_eq!(server_hs[0].0, 2, "ServerHello first");
        if server_hs.len() == 1 {
            // TLS 1.3: ServerHello with supported_versions 0x0304, the rest encrypted.
            assert!(contains(
                &server_hs[0].1,
                &[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]
            ));
            assert!(contains(&client_hs[0].1, &[0x00, 0x33]));
            tls13 += 1;
            continue;
        }
        let types: Vec<u8> = server_hs.iter().map(|h| h.0).collect();
        assert_eq!(types, [2, 11, 12, 14]);
        let body = &server_hs[1].1;
        let total = (usize::from(body[0]) << 16) | usize::from(be16(body, 1));
        assert_eq!(total + 3, body.len());
        let mut off = 3;
        let mut certs = Vec::new();
        while off < body.len() {
            let len = (usize::from(body[off]) << 16) | usize::from(be16(body, off + 1));
            certs.push(body[off + 3..off + 3 + len].to_vec());
            off += 3 + len;
        }
        assert_eq!(certs.len(), 2, "leaf and CA");
        check_certificate(&certs[0], &name);
        check_certificate(&certs[1], "Vedette Demo CA");
        assert!(server_recs.iter().any(|r| r.0 == 23), "application data");
        tls12 += 1;
    }
    assert_eq!((tls12, tls13), (9, 1));
}

#[test]
fn syn_flood_has_distinct_sources() {
    let path = temp_path("flood.pcap");
    let n = write_syn_flood(&path, 10_000, 1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(n, 10_000);
    let packets = read_pcap(&bytes);
    assert_eq!(packets.len(), 10_000);
    let mut sources = BTreeSet::new();
    let mut last = None;
    for (ts, raw) in &packets {
        if let Some(prev) = last {
            assert_eq!(ts - prev, 1, "1 µs apart");
        }
        last = Some(*ts);
        let f = common::decode(*ts, raw);
        common::verify_l4(f.src.unwrap(), f.dst.unwrap(), 6, &f.l4);
        assert_eq!(f.dst, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        assert_eq!(be16(&f.l4, 2), 80);
        assert_eq!(f.l4[13], 0x02, "SYN only");
        sources.insert(f.src.unwrap());
    }
    assert_eq!(sources.len(), 10_000);
}

/// Runs tshark over both captures when it is installed: no malformed packets, no checksum
/// errors, and no warnings except the scan's resets in the demo.
#[test]
fn tshark_dissects_cleanly_if_available() {
    let Ok(out) = std::process::Command::new("tshark").arg("-v").output() else {
        eprintln!("tshark not installed; skipping");
        return;
    };
    if !out.status.success() {
        return;
    }
    for (name, bytes, allowed_rst) in [
        ("demo", demo_bytes(1), true),
        ("benign", benign_bytes(1), false),
    ] {
        let path = temp_path(&format!("{name}-tshark.pcap"));
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new("tshark")
            .args([
                "-o",
                "tcp.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
                "-o",
                "ip.check_checksum:TRUE",
                "-r",
            ])
            .arg(&path)
            .args([
                "-Y",
                "_ws.malformed || _ws.expert.severity >= 0x00600000",
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "_ws.expert.message",
            ])
            .output()
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let bad: Vec<&str> = text
            .lines()
            .filter(|l| !(allowed_rst && l.contains("Connection reset (RST)")))
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:?}");
    }
}

/// The memory-bound tests need a million sources: the writer must stream them quickly.
#[test]
#[ignore = "writes a 76 MB file; run with --ignored"]
fn syn_flood_million_sources_streams() {
    let path = temp_path("flood-1m.pcap");
    let start = std::time::Instant::now();
    let n = write_syn_flood(&path, 1_000_000, 2).unwrap();
    let elapsed = start.elapsed();
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(n, 1_000_000);
    assert_eq!(len, 24 + 1_000_000 * (16 + 60));
    assert!(elapsed.as_secs() < 30, "took {elapsed:?}");
}
