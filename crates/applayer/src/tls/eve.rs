//! The `tls` EVE object, field names and formats as Suricata writes them.

use super::fingerprint::is_grease;
use super::{version, CertInfo, Tx};
use std::borrow::Cow;
use vedette_eve::JsonWriter;

/// Suricata's `SSLVersionToString`.
pub(super) fn version_string(v: u16) -> Cow<'static, str> {
    Cow::Borrowed(match v {
        version::UNKNOWN => "UNDETERMINED",
        version::SSL2 => "SSLv2",
        version::SSL3 => "SSLv3",
        version::TLS10 => "TLSv1",
        version::TLS11 => "TLS 1.1",
        version::TLS12 => "TLS 1.2",
        version::TLS13 => "TLS 1.3",
        0x7f1c => "TLS 1.3 draft-28",
        0x7f1b => "TLS 1.3 draft-27",
        0x7f1a => "TLS 1.3 draft-26",
        0x7f19 => "TLS 1.3 draft-25",
        0x7f18 => "TLS 1.3 draft-24",
        0x7f17 => "TLS 1.3 draft-23",
        0x7f16 => "TLS 1.3 draft-22",
        0x7f15 => "TLS 1.3 draft-21",
        0x7f14 => "TLS 1.3 draft-20",
        0x7f13 => "TLS 1.3 draft-19",
        0x7f12 => "TLS 1.3 draft-18",
        0x7f11 => "TLS 1.3 draft-17",
        0x7f10 => "TLS 1.3 draft-16",
        version::TLS13_PRE_DRAFT16 => "TLS 1.3 draft-<16",
        0xfb14 => "TLS 1.3 draft-20-fb",
        0xfb15 => "TLS 1.3 draft-21-fb",
        0xfb16 => "TLS 1.3 draft-22-fb",
        0xfb17 => "TLS 1.3 draft-23-fb",
        0xfb1a => "TLS 1.3 draft-26-fb",
        other => return Cow::Owned(format!("0x{other:04x}")),
    })
}

/// Seconds since the epoch as Suricata writes certificate dates: `2023-11-14T22:13:20` (UTC).
pub(super) fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = vedette_eve::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

fn cert_dates(w: &mut JsonWriter<'_>, c: &CertInfo) {
    // Suricata treats 0 as "not set".
    if c.not_before != 0 {
        w.str("notbefore", &format_time(c.not_before));
    }
    if c.not_after != 0 {
        w.str("notafter", &format_time(c.not_after));
    }
}

fn u16_array(w: &mut JsonWriter<'_>, key: &str, values: &[u16]) {
    if values.iter().all(|&v| is_grease(v)) {
        return;
    }
    w.array(key);
    for &v in values.iter().filter(|&&v| !is_grease(v)) {
        w.elem_u64(u64::from(v));
    }
    w.close_array();
}

/// Writes the `tls` object; `extended` adds the subject alternative names, fingerprints, ALPNs,
/// handshake parameters and client certificate.
pub(super) fn write(tx: &Tx, w: &mut JsonWriter<'_>, extended: bool) {
    w.object("tls");
    let cert = tx.server_cert.as_ref();
    if let Some(c) = cert {
        w.str("subject", &c.subject);
        w.str("issuerdn", &c.issuer);
        if extended && !c.sans.is_empty() {
            w.array("subjectaltname");
            for san in &c.sans {
                w.elem_str(san);
            }
            w.close_array();
        }
    }
    // Only a resumption without a certificate, before TLS 1.3.
    if tx.flags.session_resumed
        && cert.is_none()
        && tx.progress.server_hello
        && !tx.flags.log_without_cert
    {
        w.bool("session_resumed", true);
    }
    if let Some(c) = cert {
        w.str("serial", &c.serial);
        w.str("fingerprint", &c.fingerprint);
    }
    if let Some(sni) = tx.sni() {
        w.bytes_str("sni", sni);
    }
    w.str("version", &version_string(tx.server_version));
    if let Some(c) = cert {
        cert_dates(w, c);
    }
    if extended {
        write_extended(tx, w);
    }
    w.close_object();
}

fn write_extended(tx: &Tx, w: &mut JsonWriter<'_>) {
    for (key, j) in [("ja3", &tx.ja3), ("ja3s", &tx.ja3s)] {
        if let Some(j) = j {
            w.object(key);
            w.str("hash", &j.hash);
            w.str("string", &j.string);
            w.close_object();
        }
    }
    if let Some(j) = &tx.ja4 {
        w.str("ja4", j);
    }
    for (key, list) in [
        ("client_alpns", tx.client_alpns()),
        ("server_alpns", tx.server_alpns()),
    ] {
        if !list.is_empty() {
            w.array(key);
            for a in list {
                w.elem_str(&String::from_utf8_lossy(a));
            }
            w.close_array();
        }
    }
    if let Some(h) = &tx.client_hello {
        w.object("client_handshake");
        let v = h
            .supported_versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .chain(std::iter::once(h.legacy_version))
            .max()
            .unwrap_or(h.legacy_version);
        w.str("version", &version_string(v));
        u16_array(w, "ciphers", &h.cipher_suites);
        u16_array(w, "exts", &h.extensions);
        u16_array(w, "sig_algs", &h.signature_algorithms);
        w.close_object();
    }
    if let Some(h) = &tx.server_hello {
        w.object("server_handshake");
        let v = h
            .selected_version
            .map_or(h.legacy_version, |s| s.max(h.legacy_version));
        w.str("version", &version_string(v));
        w.u64("cipher", u64::from(h.cipher_suite));
        u16_array(w, "exts", &h.extensions);
        w.close_object();
    }
    if let Some(c) = &tx.client_cert {
        w.object("client");
        w.str("subject", &c.subject);
        w.str("issuerdn", &c.issuer);
        w.str("fingerprint", &c.fingerprint);
        w.str("serial", &c.serial);
        cert_dates(w, c);
        w.close_object();
    }
}
