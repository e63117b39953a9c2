//! Captures through the parser: a tiny pcap walker with per-flow in-order TCP reassembly
//! (enough for clean captures), TLS detected with [`probe`] on the first bytes.

use super::*;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

/// One TCP direction being reassembled.
#[derive(Default)]
struct Stream {
    /// Sequence number of the next byte to deliver.
    next: Option<u32>,
    /// Segments ahead of `next`, by sequence number.
    pending: BTreeMap<u32, Vec<u8>>,
}

impl Stream {
    /// Takes a segment; returns the bytes that became contiguous.
    fn segment(&mut self, seq: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
        if syn {
            self.next = Some(seq.wrapping_add(1));
            if payload.is_empty() {
                return Vec::new();
            }
        }
        let next = *self.next.get_or_insert(seq);
        if payload.is_empty() {
            return Vec::new();
        }
        self.pending.entry(seq).or_insert_with(|| payload.to_vec());
        let mut out = Vec::new();
        let mut next = next;
        while let Some((&s, _)) = self.pending.iter().next() {
            let offset = next.wrapping_sub(s) as i32;
            if offset < 0 {
                break; // a hole before this segment
            }
            let data = self.pending.remove(&s).unwrap_or_default();
            let skip = offset as usize;
            if skip < data.len() {
                out.extend_from_slice(&data[skip..]);
                next = next.wrapping_add((data.len() - skip) as u32);
            }
        }
        self.next = Some(next);
        out
    }
}

/// ALPN protocol names.
type Alpns = Vec<Vec<u8>>;

enum Proto {
    Detecting(Vec<u8>, Direction),
    Tls(Box<State>),
    Other,
}

struct Flow {
    client: (IpAddr, u16),
    streams: [Stream; 2],
    proto: Proto,
}

/// What one capture produced.
#[derive(Default)]
pub(super) struct Outcome {
    /// EVE `tls` objects (default fields) of the sessions handed over, in order.
    pub(super) logged: Vec<serde_json::Value>,
    /// Same, extended fields.
    pub(super) logged_ext: Vec<serde_json::Value>,
    /// (server port, sessions) of TLS flows.
    pub(super) tls_flows: usize,
    /// App-layer events raised.
    pub(super) events: Vec<&'static str>,
    /// Client certificate subject and chain length of each handed-over session.
    pub(super) client_cert_subjects: Vec<String>,
    pub(super) chain_lens: Vec<usize>,
    /// (client ALPNs, server ALPNs) of each handed-over session.
    pub(super) alpns: Vec<(Alpns, Alpns)>,
    /// Subject alternative names of each handed-over session.
    pub(super) sans: Vec<Vec<String>>,
}

/// The path of a shared test file, or `None` (skipped, with a message) when it is missing;
/// with `CI=true` a missing file fails the test.
pub(super) fn shared(path: &str) -> Option<Vec<u8>> {
    match std::fs::read(Path::new(path)) {
        Ok(b) => Some(b),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{path} is required in CI: {e}"
            );
            eprintln!("skipping: {path} not readable ({e})");
            None
        }
    }
}

struct Packet<'a> {
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &'a [u8],
}

/// Decodes the TCP packet of one frame (Ethernet with VLANs, raw IP, BSD loopback, Linux SLL).
fn tcp_packet(linktype: u32, frame: &[u8]) -> Option<Packet<'_>> {
    let ip = match linktype {
        1 => {
            let mut et = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
            let mut off = 14;
            while et == 0x8100 || et == 0x88a8 {
                et = u16::from_be_bytes([*frame.get(off + 2)?, *frame.get(off + 3)?]);
                off += 4;
            }
            frame.get(off..)?
        }
        0 => frame.get(4..)?,
        101 | 228 | 229 => frame,
        113 => frame.get(16..)?,
        _ => return None,
    };
    let (src, dst, proto, l4) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (
                IpAddr::from(s),
                IpAddr::from(d),
                *ip.get(9)?,
                ip.get(ihl..total.min(ip.len()))?,
            )
        }
        6 => {
            let plen = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (
                IpAddr::from(s),
                IpAddr::from(d),
                *ip.get(6)?,
                ip.get(40..(40 + plen).min(ip.len()))?,
            )
        }
        _ => return None,
    };
    if proto != 6 {
        return None;
    }
    let doff = usize::from(l4.get(12)? >> 4) * 4;
    Some(Packet {
        src,
        dst,
        sport: u16::from_be_bytes([*l4.first()?, *l4.get(1)?]),
        dport: u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]),
        seq: u32::from_be_bytes(l4.get(4..8)?.try_into().ok()?),
        flags: *l4.get(13)?,
        payload: l4.get(doff..)?,
    })
}

fn collect(st: &mut State, at_end: bool, out: &mut Outcome) {
    st.drain(at_end, &mut |tx| {
        out.logged.push(super::eve_json(tx, false));
        out.logged_ext.push(super::eve_json(tx, true));
        out.client_cert_subjects.push(
            tx.client_cert()
                .map(|c| c.subject.clone())
                .unwrap_or_default(),
        );
        out.chain_lens.push(tx.cert_chain_len());
        out.alpns
            .push((tx.client_alpns().to_vec(), tx.server_alpns().to_vec()));
        out.sans.push(tx.subject_alt_names().to_vec());
    });
}

/// Runs every TCP flow of a classic pcap through probe + parser.
pub(super) fn run_pcap(bytes: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    let magic = u32::from_le_bytes(bytes[..4].try_into().unwrap());
    let le = match magic {
        0xa1b2c3d4 | 0xa1b23c4d => true,
        0xd4c3b2a1 | 0x4d3cb2a1 => false,
        _ => panic!("not a classic pcap"),
    };
    let rd = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let linktype = rd(&bytes[20..24]);
    let mut flows: HashMap<(IpAddr, u16, IpAddr, u16), Flow> = HashMap::new();
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let caplen = rd(&bytes[off + 8..off + 12]) as usize;
        let Some(frame) = bytes.get(off + 16..off + 16 + caplen) else {
            break;
        };
        off += 16 + caplen;
        let Some(p) = tcp_packet(linktype, frame) else {
            continue;
        };
        let key = if (p.src, p.sport) < (p.dst, p.dport) {
            (p.src, p.sport, p.dst, p.dport)
        } else {
            (p.dst, p.dport, p.src, p.sport)
        };
        let syn = p.flags & 0x02 != 0;
        let ack = p.flags & 0x10 != 0;
        let flow = flows.entry(key).or_insert_with(|| Flow {
            // The SYN sender is the client; without a SYN, the first sender (or the sender of
            // a SYN-ACK's peer).
            client: if syn && ack {
                (p.dst, p.dport)
            } else {
                (p.src, p.sport)
            },
            streams: [Stream::default(), Stream::default()],
            proto: Proto::Detecting(Vec::new(), Direction::ToServer),
        });
        let d = if (p.src, p.sport) == flow.client {
            TS
        } else {
            TC
        };
        let i = d.index();
        let data = flow.streams[i].segment(p.seq, syn, p.payload);
        if data.is_empty() {
            continue;
        }
        match &mut flow.proto {
            Proto::Other => {}
            Proto::Tls(st) => {
                let mut ev = AppEvents::default();
                st.parse(d, &data, &mut ev);
                out.events.extend(ev.iter().map(|(_, n)| n));
                collect(st, false, &mut out);
            }
            Proto::Detecting(buf, first_dir) => {
                if buf.is_empty() {
                    *first_dir = d;
                }
                if *first_dir != d {
                    // The other side spoke first: detection only looks at the first direction.
                    flow.proto = Proto::Other;
                    continue;
                }
                buf.extend_from_slice(&data);
                match probe(buf, d) {
                    Probe::Yes => {
                        let mut st = Box::new(State::new(&Limits::default()));
                        let mut ev = AppEvents::default();
                        st.parse(d, buf, &mut ev);
                        out.events.extend(ev.iter().map(|(_, n)| n));
                        collect(&mut st, false, &mut out);
                        out.tls_flows += 1;
                        flow.proto = Proto::Tls(st);
                    }
                    Probe::NeedMore if buf.len() < 64 => {}
                    _ => flow.proto = Proto::Other,
                }
            }
        }
    }
    // Flow end, in a stable order.
    let mut rest: Vec<_> = flows.into_iter().collect();
    rest.sort_by_key(|a| a.0);
    for (_, f) in rest.iter_mut() {
        if let Proto::Tls(st) = &mut f.proto {
            collect(st, true, &mut out);
        }
    }
    out
}

const SHARED: &str = "/work/shared";

fn conformance(path: &str) -> Option<Outcome> {
    shared(&format!("{SHARED}/conformance/tests/{path}")).map(|b| run_pcap(&b))
}

/// Suricata 7.0.10 on this capture writes 180 `tls` events (`grep -c '"event_type":"tls"'` on
/// its eve.json, kept as target/ref/suricata-small-eve.json): 105 TLS 1.3 and 75 TLS 1.2, on
/// ports 443 and 8443.
const SURICATA_TLS_EVENTS: usize = 180;

#[test]
fn synthetic_small_capture_matches_suricata_counts() {
    let Some(bytes) = shared(&format!("{SHARED}/data/pcap/synthetic-small.pcap")) else {
        return;
    };
    let out = run_pcap(&bytes);
    let n = out.logged.len();
    let tolerance = SURICATA_TLS_EVENTS / 50; // 2%
    assert!(
        n.abs_diff(SURICATA_TLS_EVENTS) <= tolerance,
        "{n} tls sessions logged, Suricata logs {SURICATA_TLS_EVENTS}"
    );
    let with_sni = out.logged.iter().filter(|t| t["sni"].is_string()).count();
    assert!(with_sni + 2 >= n, "{with_sni} of {n} have an SNI");
    for t in &out.logged {
        if let Some(s) = t["sni"].as_str() {
            assert!(s.contains('.') && !s.contains(' '), "{s}");
        }
        let v = t["version"].as_str().unwrap();
        assert!(v == "TLS 1.2" || v == "TLS 1.3", "{v}");
        if v == "TLS 1.2" {
            for k in [
                "subject",
                "issuerdn",
                "serial",
                "fingerprint",
                "notbefore",
                "notafter",
            ] {
                assert!(t[k].is_string(), "{k} missing in {t}");
            }
        }
    }
    let v13 = out
        .logged
        .iter()
        .filter(|t| t["version"] == "TLS 1.3")
        .count();
    eprintln!(
        "{n} tls sessions logged ({v13} TLS 1.3, {with_sni} with SNI) of {} TLS flows",
        out.tls_flows
    );
    assert!(
        v13.abs_diff(105) <= 2 && (n - v13).abs_diff(75) <= 2,
        "{v13} TLS 1.3 of {n}"
    );
    assert!(out.events.is_empty(), "{:?}", out.events);

    // With Suricata's own output at hand, the `tls` objects must be the same, field for field.
    let reference =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ref/suricata-small-eve.json");
    let Ok(text) = std::fs::read_to_string(&reference) else {
        eprintln!("no {}: field comparison skipped", reference.display());
        return;
    };
    let mut want: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event_type"] == "tls")
        .map(|v| v["tls"].to_string())
        .collect();
    let mut got: Vec<String> = out.logged.iter().map(|t| t.to_string()).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn conformance_tls13_drafts() {
    // suricata-verify tests/tls/tls13-draft{14,18,28}: version strings and JA3.
    if let Some(out) = conformance("tls/tls13-draft14/tls13_draft14.pcap") {
        assert_eq!(out.logged.len(), 1);
        assert_eq!(out.logged[0]["version"], "TLS 1.3 draft-<16");
        assert_eq!(
            out.logged_ext[0]["ja3"]["hash"],
            "65825469c473e48f3ee2571129256ab0"
        );
    }
    if let Some(out) = conformance("tls/tls13-draft18/tls13_draft18.pcap") {
        assert_eq!(out.logged.len(), 1);
        assert_eq!(out.logged[0]["version"], "TLS 1.3 draft-18");
        assert_eq!(
            out.logged_ext[0]["ja3"]["hash"],
            "23d254f72096d25c350e4a4a792f4948"
        );
    }
    if let Some(out) = conformance("tls/tls13-draft28/tls13_draft28.pcap") {
        assert_eq!(out.logged.len(), 2);
        let mut hashes: Vec<&str> = out
            .logged_ext
            .iter()
            .map(|t| t["ja3"]["hash"].as_str().unwrap())
            .collect();
        hashes.sort_unstable();
        assert_eq!(
            hashes,
            [
                "43202faa1c8c1760d6f7f4bd9adde4ab",
                "d00857e0c8e7a7f35e446508c6233460"
            ]
        );
        for t in &out.logged {
            assert_eq!(t["sni"], "localhost");
            assert_eq!(t["version"], "TLS 1.3 draft-28");
        }
    }
}

#[test]
fn conformance_certificate_fields() {
    // suricata-verify tests/tls/bug-7286-tls-metadata-01 (pcap of ja4-tls).
    if let Some(out) = conformance("ja4-tls/input.pcap") {
        assert_eq!(out.logged.len(), 1);
        let t = &out.logged[0];
        assert_eq!(t["subject"], "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS");
        assert_eq!(t["issuerdn"], "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS");
        assert_eq!(t["serial"], "00:97:E6:47:09:8E:EA:C9:B4");
        assert_eq!(
            t["fingerprint"],
            "3a:0b:3b:23:15:2c:44:5c:27:ac:6a:0c:41:d6:fa:74:af:b4:09:5b"
        );
        assert_eq!(t["version"], "TLS 1.2");
        assert_eq!(t["notbefore"], "2015-02-12T18:07:27");
        assert_eq!(t["notafter"], "2025-02-09T18:07:27");
    }
    // tests/tls/tls-pre-1970: a notBefore before the epoch.
    if let Some(out) = conformance("tls/tls-pre-1970/input.pcap") {
        assert_eq!(out.logged.len(), 1);
        let t = &out.logged[0];
        assert_eq!(t["notbefore"], "1969-12-31T00:00:00");
        assert_eq!(t["notafter"], "2038-12-31T00:10:03");
        assert_eq!(t["serial"], "32");
        assert_eq!(t["sni"], "fkp.samsungcloudsolution.com");
        assert_eq!(t["subject"], "OU=vd, CN=fkp.samsungcloudsolution.com");
        assert_eq!(
            t["issuerdn"],
            "C=KR, ST=Kyunggido, L=Suwon, O=Samsung Electronics, OU=SW2 SISC, CN=ROOT CA SISC FKP2_PLUS"
        );
        assert_eq!(
            t["fingerprint"],
            "71:cd:fe:08:7f:3d:2a:18:32:69:38:fa:bd:64:7b:c6:cf:cc:44:8e"
        );
        assert_eq!(t["version"], "TLSv1");
    }
    // tests/tls/tls-glupteba: TLSv1 and Let's Encrypt fields (SANs are checked on the Tx).
    if let Some(out) = conformance("tls/tls-glupteba/input.pcap") {
        assert_eq!(out.logged.len(), 1);
        let t = &out.logged[0];
        assert_eq!(t["version"], "TLSv1");
        assert_eq!(t["issuerdn"], "C=US, O=Let's Encrypt, CN=R3");
        assert_eq!(
            t["serial"],
            "03:DE:23:89:7E:97:FB:86:8E:7C:C5:53:09:FE:AE:D0:AE:20"
        );
        assert_eq!(t["subject"], "CN=xn--j1ahhq.xn--p1ai");
        assert_eq!(t["notbefore"], "2022-12-01T06:47:31");
        let sans = &out.sans[0];
        assert_eq!(sans.len(), 17);
        assert_eq!(sans[0], "server1.xn--j1ahhq.xn--p1ai");
        assert_eq!(sans[16], "xn--j1ahhq.xn--p1ai");
        assert_eq!(
            out.logged_ext[0]["subjectaltname"][15],
            "server9.xn--j1ahhq.xn--p1ai"
        );
    }
    // tests/tls/tls-issuerdn: four sessions with the SELKS issuer.
    if let Some(out) = conformance("tls/tls-cert-issuer/tls.pcap") {
        let n = out
            .logged
            .iter()
            .filter(|t| t["issuerdn"] == "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS")
            .count();
        assert_eq!(n, 4);
    }
    // tests/tls/tls-cert-chain-len: a chain of three.
    if let Some(out) = conformance("tls/tls-certs-alert/input.pcap") {
        assert_eq!(out.chain_lens, [3]);
    }
}

#[test]
fn conformance_sni_alpn_and_client_certificates() {
    // tests/tls/tls-client-hello-frag-01: a ClientHello split over small segments.
    if let Some(out) = conformance("tls/tls-client-hello-frag-01/dump_mtu300.pcap") {
        assert_eq!(out.logged.len(), 1);
        assert_eq!(out.logged[0]["sni"], "www.google.com");
    }
    // tests/community-id-ipv4: TLS 1.3.
    if let Some(out) = conformance("community-id-ipv4/input.pcap") {
        assert_eq!(out.logged.len(), 1);
        assert_eq!(out.logged[0]["sni"], "ipv4.google.com");
        assert_eq!(out.logged[0]["version"], "TLS 1.3");
    }
    // tests/ja4-sv-handshake (Suricata 8 field): server handshake parameters.
    if let Some(out) = conformance("ja4-sv-handshake/input.pcap") {
        assert_eq!(out.logged.len(), 1);
        assert_eq!(
            out.logged_ext[0]["server_handshake"],
            serde_json::json!({"version": "TLS 1.2", "cipher": 49200, "exts": [65281, 11, 35, 23]})
        );
    }
    // tests/tls-alpn-log-detect-02 (Suricata 8 fields): ALPNs of both sides.
    if let Some(out) = conformance("tls-alpn-log-detect-02/input.pcap") {
        assert_eq!(out.logged.len(), 1);
        assert_eq!(out.alpns[0].0, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(out.alpns[0].1, [b"http/1.1".to_vec()]);
        assert_eq!(
            out.logged_ext[0]["client_alpns"],
            serde_json::json!(["h2", "http/1.1"])
        );
        assert_eq!(
            out.logged_ext[0]["server_alpns"],
            serde_json::json!(["http/1.1"])
        );
    }
    // tests/tls/tls-client-cert-01: the client certificate.
    if let Some(out) = conformance("tls/tls-store-02/tls-client-auth.pcap") {
        assert_eq!(out.logged.len(), 1);
        assert!(out.client_cert_subjects[0].contains("O=TLSClientAuthSampleClient"));
        assert!(out.logged_ext[0]["client"]["issuerdn"]
            .as_str()
            .unwrap()
            .contains("O=TLSClientAuthSampleCA"));
        assert_eq!(
            out.logged_ext[0]["client"]["fingerprint"],
            "32:56:41:d0:6a:ff:47:cb:21:e4:89:c5:ae:2a:a2:d8:1b:c9:70:0c"
        );
    }
}
