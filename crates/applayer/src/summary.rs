//! One-line, best-effort summaries of a single packet's payload for `vedette sniff`:
//! `DNS query A example.com`, `HTTP GET /index.html`, `TLS ClientHello sni=example.com`.
//!
//! Stateless and cheap: only the bytes of this packet are looked at (no reassembly), every read
//! is bounds-checked, and anything unexpected yields no summary rather than an error. Text taken
//! from the packet is cut to [`MAX_SUMMARY_FIELD`] bytes and non-printable bytes are escaped.

use std::fmt::Write as _;

/// Most bytes of one packet-derived field (name, URI, SNI) put into a summary.
pub const MAX_SUMMARY_FIELD: usize = 128;

/// Appends a summary of `payload` (transport payload of a TCP or UDP packet between `sport` and
/// `dport`) to `out`; returns false when nothing was recognised.
pub fn summarize(tcp: bool, sport: u16, dport: u16, payload: &[u8], out: &mut String) -> bool {
    if payload.is_empty() {
        return false;
    }
    if let Some(rest) = http_method(payload) {
        out.push_str("HTTP ");
        push_text(out, rest);
        return true;
    }
    if payload.starts_with(b"HTTP/1.") {
        let line = first_line(payload);
        out.push_str("HTTP ");
        push_text(out, line);
        return true;
    }
    if tls_summary(payload, out) {
        return true;
    }
    if sport == 53 || dport == 53 || sport == 5353 || dport == 5353 {
        let msg = if tcp {
            payload.get(2..).unwrap_or(&[])
        } else {
            payload
        };
        return dns_summary(msg, out);
    }
    false
}

fn first_line(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == b'\n').unwrap_or(b.len());
    let line = b.get(..end).unwrap_or(b);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// "GET /x" of a request line (method and target, without the version).
fn http_method(b: &[u8]) -> Option<&[u8]> {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"CONNECT ",
        b"PATCH ",
        b"TRACE ",
    ];
    if !METHODS.iter().any(|m| b.starts_with(m)) {
        return None;
    }
    let line = first_line(b);
    let cut = match line.iter().rposition(|&c| c == b' ') {
        Some(i) if line.get(i + 1..).is_some_and(|v| v.starts_with(b"HTTP/")) => i,
        _ => line.len(),
    };
    line.get(..cut)
}

fn push_text(out: &mut String, b: &[u8]) {
    for &c in b.iter().take(MAX_SUMMARY_FIELD) {
        if (0x20..0x7f).contains(&c) {
            out.push(c as char);
        } else {
            let _ = write!(out, "\\x{c:02x}");
        }
    }
    if b.len() > MAX_SUMMARY_FIELD {
        out.push_str("...");
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn dns_summary(m: &[u8], out: &mut String) -> bool {
    let (Some(flags), Some(qd), Some(an)) = (be16(m, 2), be16(m, 4), be16(m, 6)) else {
        return false;
    };
    if qd == 0 || qd > 16 || m.len() < 12 {
        return false;
    }
    let response = flags & 0x8000 != 0;
    // The first question name: labels only (a question never needs a compression pointer).
    let mut name = String::new();
    let mut at = 12;
    loop {
        let Some(&len) = m.get(at) else { return false };
        at += 1;
        if len == 0 {
            break;
        }
        if len & 0xc0 != 0 || name.len() > MAX_SUMMARY_FIELD {
            return false;
        }
        let Some(label) = m.get(at..at + len as usize) else {
            return false;
        };
        if !name.is_empty() {
            name.push('.');
        }
        push_text(&mut name, label);
        at += len as usize;
    }
    let Some(qtype) = be16(m, at) else {
        return false;
    };
    if name.is_empty() {
        name.push('.');
    }
    let t = crate::dns::rrtype_name(qtype);
    if response {
        let _ = write!(
            out,
            "DNS response {} {} {} answers={}",
            crate::dns::rcode_name(flags),
            t,
            name,
            an
        );
    } else {
        let _ = write!(out, "DNS query {t} {name}");
    }
    true
}

/// TLS handshake record: ClientHello (with SNI), ServerHello or another handshake type.
fn tls_summary(b: &[u8], out: &mut String) -> bool {
    if b.first() != Some(&22) || b.get(1) != Some(&3) || b.len() < 9 {
        return false;
    }
    let hs = b.get(5..).unwrap_or(&[]);
    match hs.first() {
        Some(1) => {
            out.push_str("TLS ClientHello");
            if let Some(sni) = client_hello_sni(hs) {
                out.push_str(" sni=");
                push_text(out, sni);
            }
            true
        }
        Some(2) => {
            out.push_str("TLS ServerHello");
            true
        }
        Some(t) => {
            let _ = write!(out, "TLS handshake type {t}");
            true
        }
        None => false,
    }
}

fn client_hello_sni(hs: &[u8]) -> Option<&[u8]> {
    // type(1) len(3) version(2) random(32)
    let mut at = 38;
    let sid = *hs.get(at)? as usize;
    at += 1 + sid;
    let suites = be16(hs, at)? as usize;
    at += 2 + suites;
    let comp = *hs.get(at)? as usize;
    at += 1 + comp;
    let ext_len = be16(hs, at)? as usize;
    at += 2;
    let end = (at + ext_len).min(hs.len());
    while at + 4 <= end {
        let (typ, len) = (be16(hs, at)?, be16(hs, at + 2)? as usize);
        at += 4;
        if typ == 0 {
            // server_name list: list len(2), type(1), name len(2), name
            let n = be16(hs, at + 3)? as usize;
            return hs.get(at + 5..at + 5 + n);
        }
        at += len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(tcp: bool, sp: u16, dp: u16, p: &[u8]) -> String {
        let mut s = String::new();
        summarize(tcp, sp, dp, p, &mut s);
        s
    }

    #[test]
    fn http_dns_tls_summaries() {
        assert_eq!(
            sum(
                true,
                5000,
                80,
                b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
            ),
            "HTTP GET /index.html"
        );
        assert_eq!(
            sum(true, 80, 5000, b"HTTP/1.1 200 OK\r\n\r\n"),
            "HTTP HTTP/1.1 200 OK"
        );
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        assert_eq!(sum(false, 5353, 53, &q), "DNS query A example.com");
        let mut ch = vec![22, 3, 1, 0, 0, 1, 0, 0, 0, 3, 3];
        ch.extend_from_slice(&[0; 32]);
        ch.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        let name = b"example.com";
        let ext_body_len = 5 + name.len();
        let mut ext = vec![0, 0];
        ext.extend_from_slice(&(ext_body_len as u16).to_be_bytes());
        ext.extend_from_slice(&((3 + name.len()) as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        ext.extend_from_slice(name);
        ch.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        ch.extend_from_slice(&ext);
        assert_eq!(sum(true, 5000, 443, &ch), "TLS ClientHello sni=example.com");
    }

    proptest::proptest! {
        #[test]
        fn any_payload_gives_printable_bounded_text(
            tcp: bool,
            port in proptest::sample::select(vec![53u16, 80, 443, 5353]),
            p in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
        ) {
            let s = sum(tcp, 40000, port, &p);
            proptest::prop_assert!(s.bytes().all(|c| (0x20..0x7f).contains(&c)));
            proptest::prop_assert!(s.len() <= 128 + 2 * (4 * MAX_SUMMARY_FIELD + 3));
        }
    }

    #[test]
    fn hostile_bytes_never_panic_and_are_escaped() {
        assert_eq!(
            sum(true, 1, 80, b"GET /\x01\xff HTTP/1.1"),
            "HTTP GET /\\x01\\xff"
        );
        for n in 0..64 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 37 + 22) as u8).collect();
            let _ = sum(false, 53, 53, &junk);
            let mut t = vec![22, 3, 1, 0, 0, 1];
            t.extend_from_slice(&junk);
            let _ = sum(true, 1, 443, &t);
        }
    }
}
