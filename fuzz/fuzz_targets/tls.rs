//! TLS record layer, handshake and certificate decoding over a direction-tagged chunk
//! sequence (format in `common.rs`), plus `probe`. No panic; the session is handed over at
//! most once; its `write_eve` and `write_eve_extended` records are valid JSON; chains and
//! extension lists keep to `Limits`.
//!
//! Config byte: bit 0 small limits (records, handshake messages, chain, extensions) instead
//! of the defaults.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use vedette_applayer::tls::{self, CertInfo, Limits, State, Tx};
use vedette_applayer::AppEvents;
use vedette_eve::EventType;

use common::DIRS;

/// First stream bytes kept per direction for `probe`.
const PROBE_BYTES: usize = 64;

fn small_limits() -> Limits {
    Limits {
        max_record_len: 512,
        max_handshake_len: 512,
        max_certificate_msg_len: 2048,
        max_certs: 2,
        max_extensions: 4,
    }
}

fn touch_cert(c: Option<&CertInfo>) {
    if let Some(c) = c {
        let _ = (c.subject.len(), c.issuer.len(), c.serial.len(), c.fingerprint.len());
        let _ = (c.not_before, c.not_after, c.sans.len());
    }
}

fn touch(tx: &Tx, l: &Limits) {
    let _ = (tx.sni(), tx.cert_subject(), tx.cert_issuer(), tx.cert_serial());
    let _ = (tx.cert_fingerprint(), tx.subject_alt_names().len(), tx.cert_chain_len());
    let _ = (tx.ja3_hash(), tx.ja3_string(), tx.ja3s_hash(), tx.ja3s_string(), tx.ja4());
    let _ = (tx.version(), tx.version_str(), tx.client_version());
    let _ = (tx.client_alpns().len(), tx.server_alpns().len(), tx.progress());
    let _ = (tx.session_resumed(), tx.app_data_records(), tx.app_data_bytes());
    let _ = (tx.is_loggable(), tx.last_alert(DIRS[0]), tx.last_alert(DIRS[1]));
    touch_cert(tx.server_cert());
    touch_cert(tx.client_cert());
    assert!(tx.certs().len() <= l.max_certs, "{} server certs kept", tx.certs().len());
    assert!(tx.client_certs().len() <= l.max_certs, "{} client certs", tx.client_certs().len());
    if let Some(h) = tx.ja3_hash() {
        assert!(h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()), "ja3 hash {h}");
    }
    if let Some(h) = tx.ja3s_hash() {
        assert!(h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()), "ja3s hash {h}");
    }
    if let Some(ch) = tx.client_hello() {
        assert!(ch.extensions.len() <= l.max_extensions, "{} extensions", ch.extensions.len());
        let _ = (ch.sni.as_ref().map(Vec::len), ch.cipher_suites.len(), ch.complete);
    }
    if let Some(sh) = tx.server_hello() {
        assert!(sh.extensions.len() <= l.max_extensions, "{} extensions", sh.extensions.len());
        let _ = (sh.selected_version, sh.cipher_suite, sh.complete);
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&conf, rest)) = input.split_first() else { return };
    let limits = if conf & 1 != 0 { small_limits() } else { Limits::default() };
    let mut st = State::new(&limits);
    let mut ev = AppEvents::default();
    let mut heads: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut handed = 0u32;
    let mut on_tx = |tx: &Tx| {
        handed += 1;
        assert!(tx.is_loggable(), "handed over a session Suricata would not log");
        touch(tx, &limits);
        common::eve(EventType::Tls, |w| tx.write_eve(w));
        common::eve(EventType::Tls, |w| tx.write_eve_extended(w));
    };
    for c in common::chunks(rest) {
        let head = &mut heads[usize::from(c.tag & 1)];
        if c.gap.is_none() && head.len() < PROBE_BYTES {
            head.extend_from_slice(&c.data[..c.data.len().min(PROBE_BYTES - head.len())]);
            let _ = tls::probe(head, c.dir);
        }
        match c.gap {
            Some(n) => st.gap(c.dir, n, &mut ev),
            None => st.parse(c.dir, c.data, &mut ev),
        }
        ev.clear();
        touch(st.tx(), &limits);
        let _ = (st.stopped(c.dir), st.drained());
        st.drain(false, &mut on_tx);
    }
    st.drain(true, &mut on_tx);
    assert!(st.drained());
    assert!(handed <= 1, "session handed over {handed} times");
});
