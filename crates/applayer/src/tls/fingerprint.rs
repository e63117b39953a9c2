//! Client and server fingerprints: JA3 and JA3S (salesforce/ja3, as Suricata computes them)
//! and JA4 (FoxIO specification, TLS over TCP).

use super::handshake::{ClientHello, ServerHello, EXT_ALPN, EXT_SERVER_NAME};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// A JA3 or JA3S fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Ja3 {
    /// The decimal fields, e.g. `771,4865-4866,0-23-65281,29-23-24,0`.
    pub(super) string: String,
    /// Lowercase MD5 of the string.
    pub(super) hash: String,
}

/// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
pub(super) fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn push_list<T: Copy + Into<u32>>(s: &mut String, items: &[T], skip_grease: bool) {
    let mut first = true;
    for &v in items {
        let v: u32 = v.into();
        if skip_grease && u16::try_from(v).is_ok_and(is_grease) {
            continue;
        }
        if !first {
            s.push('-');
        }
        first = false;
        let _ = write!(s, "{v}");
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn finish(string: String) -> Ja3 {
    let hash = hex(&Md5::digest(string.as_bytes()));
    Ja3 { string, hash }
}

/// JA3: `version,ciphers,extensions,groups,point_formats`, GREASE removed, wire order.
pub(super) fn ja3(h: &ClientHello) -> Ja3 {
    let mut s = String::with_capacity(256);
    let _ = write!(s, "{}", h.legacy_version);
    s.push(',');
    push_list(&mut s, &h.cipher_suites, true);
    s.push(',');
    push_list(&mut s, &h.extensions, true);
    s.push(',');
    push_list(&mut s, &h.supported_groups, true);
    s.push(',');
    push_list(&mut s, &h.ec_point_formats, true);
    finish(s)
}

/// JA3S: `version,cipher,extensions`, GREASE removed.
pub(super) fn ja3s(h: &ServerHello) -> Ja3 {
    let mut s = String::with_capacity(64);
    let _ = write!(s, "{}", h.legacy_version);
    s.push(',');
    push_list(&mut s, &[h.cipher_suite], true);
    s.push(',');
    push_list(&mut s, &h.extensions, true);
    finish(s)
}

/// JA4 `a_b_c` for TLS over TCP.
pub(super) fn ja4(h: &ClientHello) -> String {
    let version = h
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .max()
        .unwrap_or(h.legacy_version);
    let version = match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    };
    let mut ciphers: Vec<u16> = h
        .cipher_suites
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .collect();
    let exts: Vec<u16> = h
        .extensions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .collect();
    let sni = if h.extensions.contains(&EXT_SERVER_NAME) {
        'd'
    } else {
        'i'
    };
    let alpn = alpn_chars(
        h.alpn
            .iter()
            .find(|a| !matches!(a.as_slice(), [x, y] if is_grease(u16::from_be_bytes([*x, *y]))))
            .map(Vec::as_slice),
    );
    let mut out = String::with_capacity(36);
    let _ = write!(
        out,
        "t{version}{sni}{:02}{:02}{}{}_",
        ciphers.len().min(99),
        exts.len().min(99),
        alpn[0],
        alpn[1]
    );

    ciphers.sort_unstable();
    if ciphers.is_empty() {
        out.push_str("000000000000");
    } else {
        out.push_str(&sha256_12(&hex_list(&ciphers)));
    }
    out.push('_');

    let mut sorted: Vec<u16> = exts
        .into_iter()
        .filter(|&e| e != EXT_SERVER_NAME && e != EXT_ALPN)
        .collect();
    sorted.sort_unstable();
    if sorted.is_empty() {
        out.push_str("000000000000");
    } else {
        let mut raw = hex_list(&sorted);
        let sigs: Vec<u16> = h
            .signature_algorithms
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .collect();
        if !sigs.is_empty() {
            raw.push('_');
            raw.push_str(&hex_list(&sigs));
        }
        out.push_str(&sha256_12(&raw));
    }
    out
}

/// First and last characters of the first ALPN value; hex digits when either byte is not
/// alphanumeric; "00" without ALPN.
fn alpn_chars(first: Option<&[u8]>) -> [char; 2] {
    let Some((&a, &z)) = first.and_then(|v| Some((v.first()?, v.last()?))) else {
        return ['0', '0'];
    };
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        return [char::from(a), char::from(z)];
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [
        char::from(HEX[usize::from(a >> 4)]),
        char::from(HEX[usize::from(z & 0x0f)]),
    ]
}

fn hex_list(v: &[u16]) -> String {
    let mut s = String::with_capacity(v.len() * 5);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{x:04x}");
    }
    s
}

fn sha256_12(s: &str) -> String {
    let mut h = hex(&Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}
