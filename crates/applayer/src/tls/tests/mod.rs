//! TLS parser tests: transcripts built in the tests (bytes in, session and events out),
//! fingerprints against published values, byte-split invariance, hostile input, and captures.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod builders;
mod cert_der;
mod pcap;

use super::*;
use builders::*;
use cert_der::CERT_DER;
use proptest::prelude::*;
use vedette_eve::{EventBatch, EventType};

const TS: Direction = Direction::ToServer;
const TC: Direction = Direction::ToClient;

fn dir(to_server: bool) -> Direction {
    if to_server {
        TS
    } else {
        TC
    }
}

/// Feeds `flights` in pieces of `split` bytes (0: whole); returns the state and event names.
fn run_split(
    flights: &[(bool, Vec<u8>)],
    split: usize,
    limits: &Limits,
) -> (State, Vec<(Direction, &'static str)>) {
    let mut st = State::new(limits);
    let mut out = Vec::new();
    for (to_server, bytes) in flights {
        let pieces: Vec<&[u8]> = if split == 0 {
            vec![bytes.as_slice()]
        } else {
            bytes.chunks(split).collect()
        };
        for p in pieces {
            let mut ev = AppEvents::default();
            st.parse(dir(*to_server), p, &mut ev);
            out.extend(ev.iter());
        }
    }
    (st, out)
}

fn run(flights: &[(bool, Vec<u8>)]) -> (State, Vec<(Direction, &'static str)>) {
    run_split(flights, 0, &Limits::default())
}

fn names(ev: &[(Direction, &'static str)]) -> Vec<&'static str> {
    ev.iter().map(|(_, n)| *n).collect()
}

/// The `tls` object as written by `write_eve` (or the extended variant).
fn eve_json(tx: &Tx, extended: bool) -> serde_json::Value {
    let mut b = EventBatch::with_capacity(4096);
    let mut w = b.begin(EventType::Tls);
    w.open();
    if extended {
        tx.write_eve_extended(&mut w);
    } else {
        tx.write_eve(&mut w);
    }
    w.finish();
    let v: serde_json::Value = serde_json::from_slice(b.record(0).unwrap()).unwrap();
    v["tls"].clone()
}

fn eve_text(tx: &Tx, extended: bool) -> String {
    let mut b = EventBatch::with_capacity(4096);
    let mut w = b.begin(EventType::Tls);
    w.open();
    if extended {
        tx.write_eve_extended(&mut w);
    } else {
        tx.write_eve(&mut w);
    }
    w.finish();
    String::from_utf8(b.record(0).unwrap().to_vec()).unwrap()
}

fn drained(st: &mut State, at_end: bool) -> usize {
    let mut n = 0;
    st.drain(at_end, &mut |_| n += 1);
    n
}

// ---------------------------------------------------------------------------------------------
// Full sessions

#[test]
fn tls12_session_with_certificate() {
    let (mut st, ev) = run(&tls12_session(&[CERT_DER, CERT_DER]));
    assert!(ev.is_empty(), "{ev:?}");
    let tx = st.tx();
    assert_eq!(
        tx.progress(),
        Progress {
            client_hello: true,
            server_hello: true,
            certificate: true,
            handshake_done: true
        }
    );
    assert_eq!(tx.sni(), Some(&b"example.com"[..]));
    assert_eq!(
        tx.cert_subject(),
        Some("C=US, ST=CA, O=Example Org, CN=example.com")
    );
    assert_eq!(
        tx.cert_issuer(),
        Some("C=US, ST=CA, O=Example Org, CN=example.com")
    );
    // DER keeps the leading zero of a positive serial with its top bit set.
    assert_eq!(tx.cert_serial(), Some("00:A1:B2:C3:D4:E5:F6:07:18"));
    assert_eq!(
        tx.cert_fingerprint(),
        Some("cd:8d:2a:43:d4:e1:84:ac:d8:f5:3e:4e:9c:d0:90:7b:84:73:b7:d6")
    );
    assert_eq!(
        tx.subject_alt_names(),
        &["example.com".to_string(), "www.example.com".to_string()]
    );
    assert_eq!(tx.certs().len(), 2);
    assert_eq!(tx.certs()[0], CERT_DER);
    assert_eq!(tx.cert_chain_len(), 2);
    assert_eq!(tx.version(), version::TLS12);
    assert_eq!(tx.version_str(), "TLS 1.2");
    assert_eq!(tx.client_alpns(), &[b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!(tx.server_alpns(), &[b"h2".to_vec()]);
    assert_eq!(tx.app_data_records(), (1, 1));
    assert_eq!(tx.app_data_bytes(), (300, 2000));
    assert!(tx.ja3_hash().is_some() && tx.ja3s_hash().is_some() && tx.ja4().is_some());
    assert_eq!(tx.ja3s_string(), Some("771,49199,65281-11-16"));

    let eve = eve_json(tx, false);
    assert_eq!(
        eve,
        serde_json::json!({
            "subject": "C=US, ST=CA, O=Example Org, CN=example.com",
            "issuerdn": "C=US, ST=CA, O=Example Org, CN=example.com",
            "serial": "00:A1:B2:C3:D4:E5:F6:07:18",
            "fingerprint": "cd:8d:2a:43:d4:e1:84:ac:d8:f5:3e:4e:9c:d0:90:7b:84:73:b7:d6",
            "sni": "example.com",
            "version": "TLS 1.2",
            "notbefore": "2026-11-23T10:30:27",
            "notafter": "2036-11-20T10:30:27",
        })
    );
    // Suricata's key order.
    let text = eve_text(tx, false);
    let order = [
        "subject",
        "issuerdn",
        "serial",
        "fingerprint",
        "sni",
        "version",
        "notbefore",
        "notafter",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|k| text.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");

    let ext = eve_json(tx, true);
    assert_eq!(ext["ja3s"]["string"], "771,49199,65281-11-16");
    assert_eq!(ext["ja3"]["hash"].as_str(), tx.ja3_hash());
    assert_eq!(ext["ja4"].as_str(), tx.ja4());
    assert_eq!(
        ext["server_handshake"],
        serde_json::json!({"version": "TLS 1.2", "cipher": 49199, "exts": [65281, 11, 16]})
    );
    assert_eq!(ext["client_handshake"]["version"], "TLS 1.3");
    assert_eq!(
        ext["client_handshake"]["sig_algs"],
        serde_json::json!([0x0403, 0x0804])
    );
    assert_eq!(ext["client_alpns"], serde_json::json!(["h2", "http/1.1"]));
    assert_eq!(ext["server_alpns"], serde_json::json!(["h2"]));
    assert_eq!(
        ext["subjectaltname"],
        serde_json::json!(["example.com", "www.example.com"])
    );
    // The extended object has the default fields in the same order, extras interleaved as
    // Suricata places them (subjectaltname after issuerdn, the rest after notafter).
    let full = eve_text(tx, true);
    let pos: Vec<usize> = order
        .iter()
        .map(|k| full.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{full}");
    assert!(full.find("\"notafter\"").unwrap() < full.find("\"ja3\"").unwrap());

    assert_eq!(drained(&mut st, false), 1);
    assert_eq!(drained(&mut st, false), 0);
    assert_eq!(drained(&mut st, true), 0, "handed over once");
}

#[test]
fn tls12_logged_when_the_certificate_decodes() {
    let flights = tls12_session(&[CERT_DER]);
    let mut st = State::new(&Limits::default());
    let mut ev = AppEvents::default();
    st.parse(TS, &flights[0].1, &mut ev);
    assert_eq!(drained(&mut st, false), 0, "client hello alone is not done");
    assert!(st.tx().progress().client_hello && !st.tx().progress().server_hello);
    st.parse(TC, &flights[1].1, &mut ev);
    assert!(st.tx().progress().handshake_done);
    assert_eq!(drained(&mut st, false), 1);
    assert!(ev.is_empty());
}

#[test]
fn tls13_session_logs_without_certificate() {
    let (mut st, ev) = run(&tls13_session());
    assert!(ev.is_empty(), "{ev:?}");
    let tx = st.tx();
    assert_eq!(tx.version_str(), "TLS 1.3");
    assert!(tx.progress().server_hello && tx.progress().handshake_done);
    assert!(!tx.progress().certificate);
    assert!(tx.server_cert().is_none());
    let eve = eve_json(tx, false);
    assert_eq!(
        eve,
        serde_json::json!({"sni": "example.com", "version": "TLS 1.3"})
    );
    assert_eq!(drained(&mut st, false), 1);
}

#[test]
fn tls13_logged_at_first_encrypted_record() {
    let flights = tls13_session();
    let mut st = State::new(&Limits::default());
    let mut ev = AppEvents::default();
    st.parse(TS, &flights[0].1, &mut ev);
    // ServerHello alone: version known, handshake not done yet.
    let sh_len = 5 + usize::from(u16::from_be_bytes([flights[1].1[3], flights[1].1[4]]));
    st.parse(TC, &flights[1].1[..sh_len], &mut ev);
    assert_eq!(st.tx().version_str(), "TLS 1.3");
    assert_eq!(drained(&mut st, false), 0);
    st.parse(TC, &flights[1].1[sh_len..], &mut ev);
    assert_eq!(drained(&mut st, false), 1);
}

#[test]
fn early_data_before_server_hello_is_not_handshake_done() {
    let mut ch = Ch::default();
    ch.exts.as_mut().unwrap().push(ext_empty(42));
    let mut flight = ch.record();
    flight.extend(rec(APPDATA, 0x0303, &[1; 50]));
    let (mut st, _) = run(&[(true, flight)]);
    assert!(!st.tx().progress().handshake_done);
    assert_eq!(drained(&mut st, false), 0);
}

#[test]
fn client_hello_only_is_not_logged_unless_resumption_is_offered() {
    let mut ch = Ch::default();
    ch.exts.as_mut().unwrap().retain(|(t, _)| *t != 35);
    let (mut st, _) = run(&[(true, ch.record())]);
    assert!(!st.tx().is_loggable());
    assert_eq!(drained(&mut st, false), 0);
    assert_eq!(drained(&mut st, true), 0);
    assert!(st.drained());

    // A session ticket offer is Suricata's "session resumed" flag: logged at flow end.
    let (mut st, _) = run(&[(true, Ch::default().record())]);
    assert!(st.tx().is_loggable());
    assert_eq!(drained(&mut st, false), 0);
    let mut seen = None;
    st.drain(true, &mut |tx| seen = Some(eve_json(tx, false)));
    assert_eq!(
        seen,
        Some(serde_json::json!({"sni": "example.com", "version": "UNDETERMINED"}))
    );
}

#[test]
fn the_log_decision_is_taken_once() {
    // Client data before any ServerHello marks the handshake done while nothing makes the
    // session loggable: it is dropped, and a later TLS 1.3 ServerHello does not revive it.
    let mut ch = Ch::default();
    ch.exts.as_mut().unwrap().retain(|(t, _)| *t != 35);
    ch.session_id.clear();
    let mut client = ch.record();
    client.extend(rec(APPDATA, 0x0303, &[1; 20]));
    let (mut st, _) = run(&[(true, client)]);
    assert!(st.tx().progress().handshake_done && !st.tx().is_loggable());
    assert_eq!(drained(&mut st, false), 0);
    assert!(st.drained());
    let sh = sh_body(0x0303, &[], 0x1301, &[ext_versions_server(0x0304)]);
    let mut e = AppEvents::default();
    st.parse(TC, &rec(HANDSHAKE, 0x0303, &hs(2, &sh)), &mut e);
    assert!(st.tx().is_loggable());
    assert_eq!(drained(&mut st, true), 0);
}

#[test]
fn resumed_tls12_session_logs_session_resumed() {
    let v = 0x0303;
    let mut ch = Ch::default();
    ch.exts
        .as_mut()
        .unwrap()
        .retain(|(t, _)| *t != 35 && *t != 43);
    // The server echoes the client's session id: abbreviated handshake, no certificate.
    let mut server = rec(
        HANDSHAKE,
        v,
        &hs(2, &sh_body(v, &ch.session_id, 0xc02f, &[])),
    );
    server.extend(rec(CCS, v, &[1]));
    server.extend(rec(HANDSHAKE, v, &[0xdd; 40]));
    let mut client = rec(CCS, v, &[1]);
    client.extend(rec(HANDSHAKE, v, &[0xee; 40]));
    client.extend(rec(APPDATA, v, &[0xaa; 40]));
    let (mut st, ev) = run(&[(true, ch.record()), (false, server), (true, client)]);
    assert!(ev.is_empty(), "{ev:?}");
    assert!(st.tx().session_resumed());
    let mut seen = None;
    st.drain(false, &mut |tx| seen = Some(eve_json(tx, false)));
    assert_eq!(
        seen,
        Some(
            serde_json::json!({"session_resumed": true, "sni": "example.com", "version": "TLS 1.2"})
        )
    );
}

#[test]
fn client_certificate_when_requested() {
    let v = 0x0303;
    let mut server = rec(HANDSHAKE, v, &hs(2, &sh_body(v, &[1; 32], 0xc02f, &[])));
    server.extend(rec(HANDSHAKE, v, &hs(11, &certificate_body(&[CERT_DER]))));
    server.extend(rec(HANDSHAKE, v, &hs(13, &[1, 1, 0, 0, 0, 0])));
    server.extend(rec(HANDSHAKE, v, &hs(14, &[])));
    let mut client = rec(HANDSHAKE, v, &hs(11, &certificate_body(&[CERT_DER])));
    client.extend(rec(HANDSHAKE, v, &hs(16, &[3; 66])));
    let (mut st, ev) = run(&[(true, Ch::default().record()), (false, server)]);
    assert!(ev.is_empty());
    assert!(
        !st.tx().progress().handshake_done,
        "waits for the requested client certificate"
    );
    assert_eq!(drained(&mut st, false), 0);
    let mut e = AppEvents::default();
    st.parse(TS, &client, &mut e);
    assert!(st.tx().progress().handshake_done);
    assert_eq!(
        st.tx().client_cert().unwrap().subject,
        "C=US, ST=CA, O=Example Org, CN=example.com"
    );
    assert_eq!(st.tx().client_certs().len(), 1);
    let ext = eve_json(st.tx(), true);
    assert_eq!(ext["client"]["serial"], "00:A1:B2:C3:D4:E5:F6:07:18");
    assert_eq!(drained(&mut st, false), 1);
}

#[test]
fn handshake_messages_spanning_records_and_records_spanning_messages() {
    // The certificate message split over three records; the ServerHello and the first part of
    // the certificate in the same record.
    let v = 0x0303;
    let mut hsbytes = hs(2, &sh_body(v, &[1; 32], 0xc02f, &[]));
    hsbytes.extend(hs(11, &certificate_body(&[CERT_DER])));
    hsbytes.extend(hs(14, &[]));
    let mut server = Vec::new();
    for part in hsbytes.chunks(217) {
        server.extend(rec(HANDSHAKE, v, part));
    }
    let (st, ev) = run(&[(true, Ch::default().record()), (false, server)]);
    assert!(ev.is_empty(), "{ev:?}");
    assert_eq!(st.tx().cert_serial(), Some("00:A1:B2:C3:D4:E5:F6:07:18"));
    assert!(st.tx().progress().handshake_done);
}

// ---------------------------------------------------------------------------------------------
// Versions

#[test]
fn version_strings_follow_suricata() {
    let s = |v| eve::version_string(v).into_owned();
    assert_eq!(s(0), "UNDETERMINED");
    assert_eq!(s(0x0200), "SSLv2");
    assert_eq!(s(0x0300), "SSLv3");
    assert_eq!(s(0x0301), "TLSv1");
    assert_eq!(s(0x0302), "TLS 1.1");
    assert_eq!(s(0x0303), "TLS 1.2");
    assert_eq!(s(0x0304), "TLS 1.3");
    assert_eq!(s(0x7f12), "TLS 1.3 draft-18");
    assert_eq!(s(0x7f1c), "TLS 1.3 draft-28");
    assert_eq!(s(0x7f01), "TLS 1.3 draft-<16");
    assert_eq!(s(0xfb17), "TLS 1.3 draft-23-fb");
    assert_eq!(s(0x1234), "0x1234");
}

fn server_version_after(sh: Vec<u8>, client_exts_versions: bool) -> String {
    let mut ch = Ch::default();
    if !client_exts_versions {
        ch.exts.as_mut().unwrap().retain(|(t, _)| *t != 43);
    }
    let (st, _) = run(&[
        (true, ch.record()),
        (false, rec(HANDSHAKE, 0x0303, &hs(2, &sh))),
    ]);
    st.tx().version_str().into_owned()
}

#[test]
fn server_hello_versions_and_drafts() {
    // Draft 18: the version field carries the draft number, no session id nor compression.
    let mut draft18 = 0x7f12u16.to_be_bytes().to_vec();
    draft18.extend_from_slice(&[9; 32]);
    draft18.extend_from_slice(&0x1301u16.to_be_bytes());
    draft18.extend_from_slice(&[0, 0]);
    assert_eq!(server_version_after(draft18, true), "TLS 1.3 draft-18");
    // Drafts before 16 (and 0x0304 in the version field) are "draft-<16".
    let mut draft14 = 0x7f0eu16.to_be_bytes().to_vec();
    draft14.extend_from_slice(&[9; 32]);
    draft14.extend_from_slice(&0x1301u16.to_be_bytes());
    assert_eq!(server_version_after(draft14, true), "TLS 1.3 draft-<16");
    // Draft 28 and final: supported_versions selects the version.
    let sv = |v| sh_body(0x0303, &[1; 32], 0x1301, &[ext_versions_server(v)]);
    assert_eq!(server_version_after(sv(0x7f1c), true), "TLS 1.3 draft-28");
    assert_eq!(server_version_after(sv(0x0304), true), "TLS 1.3");
    assert_eq!(
        server_version_after(sh_body(0x0301, &[], 0x002f, &[]), false),
        "TLSv1"
    );
    assert_eq!(
        server_version_after(sh_body(0x0300, &[], 0x002f, &[]), false),
        "SSLv3"
    );
}

#[test]
fn record_version_is_used_until_the_server_hello() {
    let (st, _) = run(&[(false, rec(ALERT, 0x0302, &[2, 40]))]);
    assert_eq!(st.tx().version_str(), "TLS 1.1");
    assert_eq!(st.tx().last_alert(TC), Some((2, 40)));
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

/// (JA3 string, MD5) pairs: the salesforce/ja3 README examples and Suricata's tls13-draft
/// tests (suricata-verify tests/tls/tls13-draft14, -draft18, -draft28).
const JA3_KNOWN: &[(&str, &str)] = &[
    ("769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0", "ada70206e40642a3e4461f35503241d5"),
    ("769,4-5-10-9-100-98-3-6-19-18-99,,,", "de350869b8c85de67a350c8d186f11e6"),
    (
        "772,49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-51-57-47-53-10,0-23-65281-10-11-35-13172-16-5-65282-40-13,23-24-25-256-257-258-259-260,0",
        "65825469c473e48f3ee2571129256ab0",
    ),
    (
        "771,4865-4866-4867-49195-49199-158-49196-49200-159-52393-52392-52244-52243-49161-49187-49171-49191-51-103-49162-49188-49172-49192-57-107-156-157-47-60-53-61-10,65281-23-35-13-11-40-45-43-10,29-23-24,0",
        "23d254f72096d25c350e4a4a792f4948",
    ),
    (
        "771,4866-4867-4865-4868-49196-52393-49325-49162-49195-49324-49161-49200-52392-49172-49199-49171-157-49309-53-156-49308-47-159-52394-49311-57-158-49310-51,5-10-11-13-22-23-35-51-43-65281-0-45-41,23,0",
        "d00857e0c8e7a7f35e446508c6233460",
    ),
];

#[test]
fn ja3_matches_published_values() {
    for (s, hash) in JA3_KNOWN {
        let (st, ev) = run(&[(true, Ch::from_ja3(s).record())]);
        assert!(ev.is_empty(), "{s}: {ev:?}");
        assert_eq!(st.tx().ja3_string(), Some(*s));
        assert_eq!(st.tx().ja3_hash(), Some(*hash), "{s}");
    }
}

#[test]
fn ja3_ignores_grease() {
    let s = JA3_KNOWN[0].0;
    let mut ch = Ch::from_ja3(s);
    ch.ciphers.insert(0, 0x0a0a);
    ch.ciphers.push(0xfafa);
    let exts = ch.exts.as_mut().unwrap();
    exts.insert(0, ext_empty(0x2a2a));
    exts.push((0xdada, vec![0]));
    for e in exts.iter_mut() {
        if e.0 == 10 {
            *e = ext_groups(&[0x4a4a, 23, 24, 25]);
        }
    }
    let (st, _) = run(&[(true, ch.record())]);
    assert_eq!(st.tx().ja3_string(), Some(s));
    assert_eq!(st.tx().ja3_hash(), Some(JA3_KNOWN[0].1));
}

/// The FoxIO JA4 specification's example ClientHello (technical_details/JA4.md).
fn ja4_spec_hello() -> Ch {
    let exts_order: [u16; 16] = [
        0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
        0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
    ];
    let sigs = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];
    Ch {
        ciphers: vec![
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ],
        exts: Some(
            exts_order
                .iter()
                .map(|&t| match t {
                    0x0000 => ext_sni(b"example.com"),
                    0x0010 => ext_alpn(&[b"h2", b"http/1.1"]),
                    0x000d => ext_sigalgs(&sigs),
                    0x002b => ext_versions_client(&[0x0304, 0x0303]),
                    0x000a => ext_groups(&[29, 23, 24]),
                    0x000b => ext_point_formats(&[0]),
                    t => ext_empty(t),
                })
                .collect(),
        ),
        ..Ch::default()
    }
}

#[test]
fn ja4_matches_the_specification_example() {
    let (st, _) = run(&[(true, ja4_spec_hello().record())]);
    assert_eq!(st.tx().ja4(), Some("t13d1516h2_8daaf6152771_e5627efa2ab1"));

    // GREASE is ignored everywhere.
    let mut ch = ja4_spec_hello();
    ch.ciphers.insert(0, 0x1a1a);
    let exts = ch.exts.as_mut().unwrap();
    exts.insert(0, ext_empty(0x0a0a));
    exts.push((0xeaea, vec![0]));
    for e in exts.iter_mut() {
        if e.0 == 0x002b {
            *e = ext_versions_client(&[0x7a7a, 0x0304, 0x0303]);
        }
        if e.0 == 0x000d {
            *e = ext_sigalgs(&[
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0xbaba,
            ]);
        }
    }
    let (st, _) = run(&[(true, ch.record())]);
    assert_eq!(st.tx().ja4(), Some("t13d1516h2_8daaf6152771_e5627efa2ab1"));

    // Without signature algorithms the extension list alone is hashed (spec: 6d807ffa2a79).
    let mut ch = ja4_spec_hello();
    for e in ch.exts.as_mut().unwrap().iter_mut() {
        if e.0 == 0x000d {
            *e = ext_empty(0x000d);
        }
    }
    let (st, _) = run(&[(true, ch.record())]);
    assert_eq!(st.tx().ja4(), Some("t13d1516h2_8daaf6152771_6d807ffa2a79"));
}

#[test]
fn ja4_edge_cases() {
    // No SNI, no ALPN, TLS 1.2 legacy version, no ciphers, no extensions.
    let ch = Ch {
        ciphers: vec![],
        exts: None,
        ..Ch::default()
    };
    let (st, _) = run(&[(true, ch.record())]);
    assert_eq!(st.tx().ja4(), Some("t12i000000_000000000000_000000000000"));
    assert_eq!(st.tx().ja3_string(), Some("771,,,,"));
    // ALPN first value non-alphanumeric: hex of first and last byte.
    for (alpn, want) in [
        (&[0xab][..], "ab"),
        (&[0xab, 0xcd], "ad"),
        (&[0x30, 0xab], "3b"),
        (&[0x30, 0x31, 0xab, 0xcd], "3d"),
        (&[0x30, 0xab, 0xcd, 0x31], "01"),
        (b"a", "aa"),
        (b"http/1.1", "h1"),
    ] {
        let ch = Ch {
            exts: Some(vec![ext_alpn(&[alpn])]),
            ..Ch::default()
        };
        let (st, _) = run(&[(true, ch.record())]);
        let j = st.tx().ja4().unwrap();
        assert_eq!(&j[8..10], want, "{alpn:?}");
        assert_eq!(&j[..8], "t12i0401");
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming

fn snapshot(st: &State, ev: &[(Direction, &'static str)]) -> String {
    format!(
        "{}|{:?}|{:?}|{ev:?}",
        eve_text(st.tx(), true),
        st.tx().progress(),
        st.tx().certs()
    )
}

#[test]
fn any_byte_split_gives_the_same_result() {
    for flights in [tls12_session(&[CERT_DER, CERT_DER]), tls13_session()] {
        let (whole, ev) = run(&flights);
        let want = snapshot(&whole, &ev);
        for split in [1, 2, 3, 4, 5, 6, 7, 13, 100, 1000] {
            let (st, ev) = run_split(&flights, split, &Limits::default());
            assert_eq!(snapshot(&st, &ev), want, "split {split}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_splits_of_a_session_give_the_same_result(cuts in proptest::collection::vec(1usize..700, 1..40)) {
        let flights = tls12_session(&[CERT_DER]);
        let (whole, ev) = run(&flights);
        let want = snapshot(&whole, &ev);
        let mut st = State::new(&Limits::default());
        let mut all = Vec::new();
        let mut c = cuts.iter().cycle();
        for (to_server, bytes) in &flights {
            let mut rest = bytes.as_slice();
            while !rest.is_empty() {
                let n = (*c.next().unwrap()).min(rest.len());
                let mut e = AppEvents::default();
                st.parse(dir(*to_server), &rest[..n], &mut e);
                all.extend(e.iter());
                rest = &rest[n..];
            }
        }
        prop_assert_eq!(snapshot(&st, &all), want);
    }

    #[test]
    fn random_bytes_never_panic(
        chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..20),
        prefix in any::<bool>(),
    ) {
        let mut st = State::new(&Limits::default());
        let mut ev = AppEvents::default();
        if prefix {
            // Start from a valid hello so that deeper states are reached.
            st.parse(TS, &Ch::default().record(), &mut ev);
        }
        for (to_server, bytes) in &chunks {
            st.parse(dir(*to_server), bytes, &mut ev);
            st.drain(false, &mut |tx| { let _ = eve_text(tx, true); });
        }
        st.drain(true, &mut |tx| { let _ = eve_text(tx, true); });
    }

    #[test]
    fn mutated_sessions_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        split in 1usize..64,
    ) {
        let mut flights = tls12_session(&[CERT_DER]);
        let n = flights.len();
        for (pos, val) in flips {
            let f = &mut flights[pos % n].1;
            let j = pos / n % f.len();
            f[j] = val;
        }
        let (mut st, _) = run_split(&flights, split, &Limits::default());
        st.drain(true, &mut |tx| { let _ = eve_text(tx, true); });
    }

    #[test]
    fn garbage_certificates_never_panic(der in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (mut st, _) = run(&tls12_session(&[&der]));
        st.drain(true, &mut |tx| { let _ = eve_text(tx, true); });
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile input and limits

#[test]
fn record_length_beyond_limit_stops_the_direction() {
    let mut bytes = vec![HANDSHAKE, 3, 3, 0xff, 0xff];
    bytes.extend(vec![0; 70_000]);
    let (st, ev) = run(&[(true, bytes)]);
    assert_eq!(names(&ev), ["INVALID_RECORD_LENGTH"]);
    assert!(st.stopped(TS) && !st.stopped(TC));
    // Nothing more is parsed in that direction.
    let mut st = st;
    let mut e = AppEvents::default();
    st.parse(TS, &Ch::default().record(), &mut e);
    assert!(e.is_empty() && !st.tx().progress().client_hello);
}

#[test]
fn bad_record_type_and_version_stop_the_direction() {
    let (st, ev) = run(&[(true, vec![0x30, 3, 3, 0, 1, 0])]);
    assert_eq!(names(&ev), ["INVALID_RECORD_TYPE"]);
    assert!(st.stopped(TS));
    let (st, ev) = run(&[(false, vec![HANDSHAKE, 0x12, 0x34, 0, 1, 0])]);
    assert_eq!(names(&ev), ["INVALID_RECORD_VERSION"]);
    assert!(st.stopped(TC));
}

#[test]
fn handshake_message_beyond_limit_is_skipped() {
    let limits = Limits::default();
    // A 70 000-byte "ServerKeyExchange" spanning records, then a ServerHello that still counts.
    let mut msg = hs(12, &vec![0x42; 70_000]);
    msg.extend(hs(2, &sh_body(0x0303, &[], 0xc02f, &[])));
    let bytes = rec(HANDSHAKE, 0x0303, &msg);
    for split in [0, 999] {
        let (st, ev) = run_split(&[(false, bytes.clone())], split, &limits);
        assert_eq!(names(&ev), ["HANDSHAKE_INVALID_LENGTH"]);
        assert!(st.tx().progress().server_hello);
        assert_eq!(st.tx().version_str(), "TLS 1.2");
    }
    // A handshake length field far beyond anything: skipped, never buffered.
    let (st, ev) = run(&[(
        true,
        rec(HANDSHAKE, 0x0301, &[1, 0xff, 0xff, 0xff, 0, 0, 0]),
    )]);
    assert_eq!(names(&ev), ["HANDSHAKE_INVALID_LENGTH"]);
    assert!(!st.tx().progress().client_hello);
    // A certificate chain beyond its own limit.
    let small = Limits {
        max_certificate_msg_len: 100,
        ..Limits::default()
    };
    let (st, ev) = run_split(&tls12_session(&[CERT_DER]), 0, &small);
    assert_eq!(names(&ev), ["CERTIFICATE_INVALID_LENGTH"]);
    assert!(st.tx().server_cert().is_none() && !st.tx().progress().certificate);
}

#[test]
fn many_extensions_hit_the_limit() {
    // 16 000 empty extensions: the most a 64 KiB extension block holds.
    let mut ch = Ch::default();
    let exts = ch.exts.as_mut().unwrap();
    exts.extend((0..16_000u32).map(|i| ext_empty(0x1000 + (i % 0x100) as u16)));
    let (st, ev) = run(&[(true, ch.record())]);
    assert_eq!(names(&ev), ["TOO_MANY_EXTENSIONS"]);
    let h = st.tx().client_hello().unwrap();
    assert_eq!(h.extensions.len(), DEFAULT_MAX_EXTENSIONS);
    assert!(h.complete && st.tx().ja3_hash().is_some());
    assert_eq!(st.tx().sni(), Some(&b"example.com"[..]));

    // 100 000 extensions cannot fit a hello: 16 KiB records of extension headers stream past.
    let mut body = Ch {
        exts: None,
        ..Ch::default()
    }
    .body();
    body.extend_from_slice(&[0xff, 0xff]);
    body.extend((0..100_000u32).flat_map(|i| [(i >> 8) as u8, i as u8, 0, 0]));
    let (st, ev) = run(&[(true, rec(HANDSHAKE, 0x0301, &hs(1, &body)))]);
    assert_eq!(names(&ev), ["HANDSHAKE_INVALID_LENGTH"]);
    assert!(st.tx().client_hello().is_none());
}

#[test]
fn garbage_certificate_raises_an_event_and_is_not_logged() {
    let garbage = [0x30, 0x82, 0x01, 0x00, 1, 2, 3, 4, 5];
    let (mut st, ev) = run(&tls12_session(&[&garbage[..], CERT_DER]));
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert!(ev[0].1.starts_with("CERTIFICATE_INVALID") || ev[0].1 == "INVALID_CERTIFICATE");
    assert!(st.tx().server_cert().is_none());
    assert_eq!(st.tx().certs().len(), 2);
    // Application data marks the handshake done; the session ticket offer makes it loggable.
    assert!(st.tx().progress().handshake_done);
    let mut seen = None;
    st.drain(false, &mut |tx| seen = Some(eve_json(tx, false)));
    assert_eq!(seen.unwrap()["version"], "TLS 1.2");
}

#[test]
fn truncated_certificate_list_and_too_many_certificates() {
    let mut body = certificate_body(&[CERT_DER]);
    body.truncate(body.len() - 10);
    body[2] = (body.len() - 3) as u8; // keep the list length consistent with the message
    body[1] = ((body.len() - 3) >> 8) as u8;
    let bytes = rec(HANDSHAKE, 0x0303, &hs(11, &body));
    let (_, ev) = run(&[(false, bytes)]);
    assert_eq!(names(&ev), ["INVALID_CERTIFICATE"]);

    let chain: Vec<&[u8]> = vec![CERT_DER; 20];
    let (st, ev) = run(&[(
        false,
        rec(HANDSHAKE, 0x0303, &hs(11, &certificate_body(&chain))),
    )]);
    assert_eq!(names(&ev), ["TOO_MANY_CERTIFICATES"]);
    assert_eq!(st.tx().cert_chain_len(), DEFAULT_MAX_CERTS);
}

#[test]
fn sni_events() {
    let bad_type = {
        let mut e = vec![0, 4, 1, 0, 1, b'a'];
        e[0] = 0;
        (0u16, e)
    };
    let ch = Ch {
        exts: Some(vec![ext_groups(&[23]), bad_type, ext_point_formats(&[0])]),
        ..Ch::default()
    };
    let (st, ev) = run(&[(true, ch.record())]);
    assert_eq!(names(&ev), ["INVALID_SNI_TYPE"]);
    // The extension list ends before the malformed extension (Suricata's JA3 does the same).
    assert_eq!(st.tx().ja3_string(), Some("771,4865-4866-49199-47,10,23,"));

    let long = ext_sni(&[b'a'; 256]);
    let ch = Ch {
        exts: Some(vec![long]),
        ..Ch::default()
    };
    assert_eq!(
        names(&run(&[(true, ch.record())]).1),
        ["INVALID_SNI_LENGTH"]
    );

    let ch = Ch {
        exts: Some(vec![ext_sni(b"a.example"), ext_sni(b"b.example")]),
        ..Ch::default()
    };
    let (st, ev) = run(&[(true, ch.record())]);
    assert_eq!(names(&ev), ["MULTIPLE_SNI_EXTENSIONS"]);
    assert_eq!(st.tx().sni(), Some(&b"a.example"[..]));

    // A NUL ends the SNI as Suricata sees it; other bytes are escaped in EVE.
    let ch = Ch {
        exts: Some(vec![ext_sni(b"x\xffy\0hidden")]),
        ..Ch::default()
    };
    let (st, _) = run(&[(true, ch.record())]);
    assert_eq!(st.tx().sni(), Some(&b"x\xffy"[..]));
    assert_eq!(eve_json(st.tx(), false)["sni"], "x\u{ff}y");
}

#[test]
fn truncated_hello_raises_handshake_invalid_length() {
    let body = Ch::default().body();
    let cut = &body[..50];
    let (st, ev) = run(&[(true, rec(HANDSHAKE, 0x0301, &hs(1, cut)))]);
    assert_eq!(names(&ev), ["HANDSHAKE_INVALID_LENGTH"]);
    assert!(st.tx().progress().client_hello);
    assert!(st.tx().ja3_hash().is_none() && st.tx().ja4().is_none());
}

#[test]
fn unknown_handshake_type_is_skipped() {
    let mut body = hs(99, &[1, 2, 3]);
    body.extend(hs(1, &Ch::default().body()));
    let (st, ev) = run(&[(true, rec(HANDSHAKE, 0x0301, &body))]);
    assert_eq!(names(&ev), ["INVALID_HANDSHAKE_MESSAGE"]);
    assert!(st.tx().progress().client_hello);
}

#[test]
fn heartbeat_checks() {
    // Heartbleed: a 3-byte request claiming a 16 KiB payload.
    let (st, ev) = run(&[(true, rec(HEARTBEAT, 0x0302, &[1, 0x40, 0x00]))]);
    assert_eq!(names(&ev), ["OVERFLOW_HEARTBEAT_MESSAGE"]);
    assert!(st.stopped(TS));
    // A well-formed request and response.
    let mut ok = vec![1, 0, 4, 1, 2, 3, 4];
    ok.extend([0u8; 16]);
    let mut resp = ok.clone();
    resp[0] = 2;
    let (_, ev) = run(&[
        (true, rec(HEARTBEAT, 0x0302, &ok)),
        (false, rec(HEARTBEAT, 0x0302, &resp)),
    ]);
    assert!(ev.is_empty(), "{ev:?}");
    // Short padding.
    let (_, ev) = run(&[(true, rec(HEARTBEAT, 0x0302, &[1, 0, 1, 9, 0, 0]))]);
    assert_eq!(names(&ev), ["INVALID_HEARTBEAT_MESSAGE"]);
    // Encrypted response longer than the encrypted request.
    let mut flights = vec![
        (true, rec(CCS, 0x0302, &[1])),
        (true, rec(HEARTBEAT, 0x0302, &[0x77; 40])),
    ];
    flights.push((false, rec(HEARTBEAT, 0x0302, &[0x66; 400])));
    let (_, ev) = run(&flights);
    assert_eq!(names(&ev), ["DATALEAK_HEARTBEAT_MISMATCH"]);
}

#[test]
fn gap_stops_the_direction() {
    let flights = tls12_session(&[CERT_DER]);
    let mut st = State::new(&Limits::default());
    let mut ev = AppEvents::default();
    st.parse(TS, &flights[0].1, &mut ev);
    st.gap(TC, 100, &mut ev);
    st.parse(TC, &flights[1].1, &mut ev);
    assert!(st.stopped(TC) && !st.tx().progress().server_hello);
    assert!(ev.is_empty());
}

#[test]
fn sslv2_client_hello() {
    // 2-byte header, CLIENT-HELLO, version 3.1, 3 cipher specs, no session id, 16-byte challenge.
    let mut body = vec![1, 3, 1, 0, 9, 0, 0, 0, 16];
    body.extend([0, 0, 4, 0, 0, 5, 0, 0, 0x0a]);
    body.extend([0x55; 16]);
    let mut rec2 = vec![0x80 | ((body.len() >> 8) as u8), body.len() as u8];
    rec2.extend(&body);
    assert_eq!(probe(&rec2, TS), Probe::Yes);
    let (st, ev) = run(&[
        (true, rec2),
        (
            false,
            rec(
                HANDSHAKE,
                0x0301,
                &hs(2, &sh_body(0x0301, &[], 0x000a, &[])),
            ),
        ),
    ]);
    assert!(ev.is_empty(), "{ev:?}");
    assert!(st.tx().progress().client_hello && st.tx().progress().server_hello);
    assert_eq!(st.tx().client_version(), 0x0301);
    assert_eq!(st.tx().version_str(), "TLSv1");
    // A zero-length SSLv2 record.
    let (st, ev) = run(&[(true, vec![0x80, 0x00, 0x01])]);
    assert_eq!(names(&ev), ["INVALID_SSLV2_HEADER"]);
    assert!(st.stopped(TS));
}

#[test]
fn empty_records_are_skipped() {
    let mut bytes = rec(HANDSHAKE, 0x0301, &[]);
    bytes.extend(Ch::default().record());
    let (st, ev) = run(&[(true, bytes)]);
    assert!(ev.is_empty());
    assert!(st.tx().progress().client_hello);
}

// ---------------------------------------------------------------------------------------------
// Probe

#[test]
fn probe_detects_hellos() {
    let ch = Ch::default().record();
    assert_eq!(probe(&ch, TS), Probe::Yes);
    assert_eq!(probe(&ch[..6], TS), Probe::Yes);
    for n in 0..3 {
        assert_eq!(probe(&ch[..n], TS), Probe::NeedMore, "{n}");
    }
    for n in 3..6 {
        assert_eq!(probe(&ch[..n], TS), Probe::Yes, "{n}");
    }
    assert_eq!(
        probe(&ch, TC),
        Probe::No,
        "a ClientHello does not come from the server"
    );
    let sh = rec(
        HANDSHAKE,
        0x0303,
        &hs(2, &sh_body(0x0303, &[], 0xc02f, &[])),
    );
    assert_eq!(probe(&sh, TC), Probe::Yes);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", TS), Probe::No);
    assert_eq!(probe(b"\x16\x04", TS), Probe::No);
    assert_eq!(probe(b"\x16\x03\x09", TS), Probe::No);
    // A zero-length handshake record still looks like TLS (Suricata's pattern detection).
    assert_eq!(probe(b"\x16\x03\x01\x00\x00", TS), Probe::Yes);
    assert_eq!(probe(b"SSH-2.0-OpenSSH_9.0\r\n", TS), Probe::No);
    assert_eq!(probe(&[0x17, 3, 3, 0, 10, 1, 2], TS), Probe::No);
}

#[test]
fn limits_default_is_documented() {
    let l = Limits::default();
    assert_eq!(l.max_record_len, 16_384 + 2048);
    assert_eq!(l.max_handshake_len, 65_536);
    assert_eq!(l.max_certificate_msg_len, 262_144);
    assert_eq!(l.max_certs, 16);
    assert_eq!(l.max_extensions, 128);
    assert!(events::ALL.iter().all(|e| e
        .chars()
        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())));
}

#[test]
fn certificate_dates_format() {
    assert_eq!(eve::format_time(1_700_000_000), "2023-11-14T22:13:20");
    assert_eq!(eve::format_time(-86_400), "1969-12-31T00:00:00");
    assert_eq!(eve::format_time(951_782_400), "2000-02-29T00:00:00");
}
