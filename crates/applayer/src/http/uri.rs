//! Request-target parsing and the normalised URI of the `http.uri` buffer.
//!
//! What `http.uri` contains (libhtp 0.5 with Suricata 7's default `IDS` personality, path
//! lowercasing switched off as Suricata does, then Suricata's `SCHTPGenerateNormalizedUri`):
//!
//! 1. The raw target is split (`htp_parse_uri`): a scheme when it does not start with `/` and
//!    has a `:`; an authority (`[user[:pass]@]host[:port]`) only after a scheme and `//`; the
//!    path up to `?` or `#`; the query up to `#`; the fragment. `CONNECT` targets are an
//!    authority only (no path).
//! 2. Path: every valid `%HH` is decoded (including `%2F` and `%00`), `%uHHHH` too (`%u00HH`
//!    gives the byte `HH`, other code points go through the best-fit map below); invalid
//!    `%` sequences are kept as they are. Then `\` becomes `/`, runs of `/` collapse to one,
//!    UTF-8 sequences (overlong forms accepted, e.g. `%c0%af` is `/`) are folded to one byte by
//!    best fit, invalid UTF-8 bytes become `?`, and dot segments are removed as in RFC 3986
//!    section 5.2.4 (`/./`, `/../`, leading `../`).
//! 3. Query: `%HH` decoded (not `+`, not `%u`), invalid sequences kept.
//! 4. Fragment: decoded like the path's percent-decoding step only.
//! 5. `http.uri` = path, then `?query` if there was a `?`, then `#fragment` if there was a `#`.
//!    Scheme and authority are not part of it (`uri-include-all: false`).
//!
//! Best fit (simplified from libhtp's Windows-1252 map): code points below 0x100 map to that
//! byte, the full-width forms U+FF01..U+FF5E map to ASCII `!`..`~`, everything else is `?`.

use super::parser::{parse_hostport, valid_hostname};

/// The pieces of a request target (raw, not decoded).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct UriParts<'a> {
    pub host: Option<&'a [u8]>,
    pub port: Option<&'a [u8]>,
    pub path: Option<&'a [u8]>,
    pub query: Option<&'a [u8]>,
    pub fragment: Option<&'a [u8]>,
}

/// `htp_parse_uri`.
pub(crate) fn split(data: &[u8]) -> UriParts<'_> {
    let mut out = UriParts::default();
    if data.is_empty() {
        return out;
    }
    let len = data.len();
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut pos = 0;
    let mut scheme = false;
    if at(0) != b'/' {
        if let Some(colon) = data.iter().position(|c| *c == b':') {
            scheme = true;
            pos = colon + 1;
        }
    }
    if scheme && pos + 2 < len && at(pos) == b'/' && at(pos + 1) == b'/' && at(pos + 2) != b'/' {
        let start = pos + 2;
        pos = start;
        while pos < len && !matches!(at(pos), b'?' | b'/' | b'#') {
            pos += 1;
        }
        let auth = data.get(start..pos).unwrap_or(&[]);
        let hostport = match auth.iter().position(|c| *c == b'@') {
            Some(at_sign) => auth.get(at_sign + 1..).unwrap_or(&[]),
            None => auth,
        };
        if hostport.first() == Some(&b'[') {
            match hostport.iter().position(|c| *c == b']') {
                None => out.host = Some(hostport),
                Some(end) => {
                    out.host = hostport.get(..=end);
                    let rest = hostport.get(end + 1..).unwrap_or(&[]);
                    if let Some(colon) = rest.iter().position(|c| *c == b':') {
                        out.port = rest.get(colon + 1..);
                    }
                }
            }
        } else {
            match hostport.iter().position(|c| *c == b':') {
                Some(colon) => {
                    out.host = hostport.get(..colon);
                    out.port = hostport.get(colon + 1..);
                }
                None => out.host = Some(hostport),
            }
        }
    }
    let start = pos;
    while pos < len && at(pos) != b'?' && at(pos) != b'#' {
        pos += 1;
    }
    out.path = data.get(start..pos);
    if pos >= len {
        return out;
    }
    if at(pos) == b'?' {
        let start = pos + 1;
        pos = start;
        while pos < len && at(pos) != b'#' {
            pos += 1;
        }
        out.query = data.get(start..pos);
        if pos >= len {
            return out;
        }
    }
    if at(pos) == b'#' {
        out.fragment = data.get(pos + 1..);
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn best_fit(cp: u32) -> u8 {
    match cp {
        0..=0xff => cp as u8,
        0xff01..=0xff5e => (cp - 0xfee0) as u8,
        _ => b'?',
    }
}

/// Percent-decodes `src` into `out`: `%HH` always, `%uHHHH` when `u_encoding`.
fn percent_decode(src: &[u8], u_encoding: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&c) = src.get(i) {
        if c == b'%' {
            if u_encoding && matches!(src.get(i + 1), Some(b'u' | b'U')) {
                let digits: Option<Vec<u8>> = (2..6)
                    .map(|k| src.get(i + k).and_then(|d| hex(*d)))
                    .collect();
                if let Some([a, b, c2, d]) = digits.as_deref() {
                    let hi = a * 16 + b;
                    let lo = c2 * 16 + d;
                    out.push(if hi == 0 {
                        lo
                    } else {
                        best_fit(u32::from(hi) << 8 | u32::from(lo))
                    });
                    i += 6;
                    continue;
                }
            } else if let (Some(h), Some(l)) = (
                src.get(i + 1).and_then(|d| hex(*d)),
                src.get(i + 2).and_then(|d| hex(*d)),
            ) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
}

/// Folds UTF-8 (overlong forms accepted) to single bytes by best fit, in place.
fn utf8_bestfit(data: &mut Vec<u8>) {
    if data.is_ascii() {
        return;
    }
    let src = std::mem::take(data);
    let mut i = 0;
    while let Some(&b) = src.get(i) {
        let need = match b {
            0x00..=0x7f => 0,
            0xc0..=0xdf => 1,
            0xe0..=0xef => 2,
            0xf0..=0xf7 => 3,
            _ => usize::MAX,
        };
        if need == 0 {
            data.push(b);
            i += 1;
            continue;
        }
        let cont = if need == usize::MAX {
            None
        } else {
            src.get(i + 1..i + 1 + need)
                .filter(|s| s.iter().all(|c| c & 0xc0 == 0x80))
        };
        match cont {
            Some(cont) => {
                let lead_bits = match need {
                    1 => u32::from(b & 0x1f),
                    2 => u32::from(b & 0x0f),
                    _ => u32::from(b & 0x07),
                };
                let cp = cont
                    .iter()
                    .fold(lead_bits, |acc, c| acc << 6 | u32::from(c & 0x3f));
                data.push(best_fit(cp));
                i += 1 + need;
            }
            None => {
                data.push(b'?');
                i += 1;
            }
        }
    }
}

/// RFC 3986 section 5.2.4 (libhtp's `htp_normalize_uri_path_inplace`).
fn remove_dot_segments(path: &[u8]) -> Vec<u8> {
    let mut input = path;
    let mut out: Vec<u8> = Vec::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix(b"../") {
            input = rest;
        } else if let Some(rest) = input.strip_prefix(b"./") {
            input = rest;
        } else if input.starts_with(b"/./") {
            input = input.get(2..).unwrap_or(&[]);
        } else if input == b"/." {
            input = b"/";
        } else if input.starts_with(b"/../") || input == b"/.." {
            input = if input == b"/.." {
                b"/"
            } else {
                input.get(3..).unwrap_or(&[])
            };
            let cut = out.iter().rposition(|c| *c == b'/').unwrap_or(0);
            out.truncate(cut);
        } else if input == b"." || input == b".." {
            input = &[];
        } else {
            let skip = usize::from(input.first() == Some(&b'/'));
            let seg_end = input
                .get(skip..)
                .and_then(|r| r.iter().position(|c| *c == b'/'))
                .map_or(input.len(), |p| p + skip);
            out.extend_from_slice(input.get(..seg_end).unwrap_or(&[]));
            input = input.get(seg_end..).unwrap_or(&[]);
        }
    }
    out
}

/// The normalised path (step 2 of the module documentation).
pub(crate) fn normalize_path(path: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::with_capacity(path.len());
    percent_decode(path, true, &mut decoded);
    let mut compressed = Vec::with_capacity(decoded.len());
    for c in decoded {
        let c = if c == b'\\' { b'/' } else { c };
        if c == b'/' && compressed.last() == Some(&b'/') {
            continue;
        }
        compressed.push(c);
    }
    utf8_bestfit(&mut compressed);
    remove_dot_segments(&compressed)
}

/// The `http.uri` buffer for a parsed target.
pub(crate) fn normalized(parts: &UriParts<'_>) -> Vec<u8> {
    let mut out = match parts.path {
        Some(p) => normalize_path(p),
        None => Vec::new(),
    };
    if let Some(q) = parts.query {
        out.push(b'?');
        percent_decode(q, false, &mut out);
    }
    if let Some(f) = parts.fragment {
        out.push(b'#');
        percent_decode(f, true, &mut out);
    }
    out
}

/// True when decoding `part` once more would change it (`DOUBLE_ENCODED_URI`).
pub(crate) fn double_encoded(part: &[u8]) -> bool {
    let mut once = Vec::with_capacity(part.len());
    percent_decode(part, false, &mut once);
    once.len() < part.len()
}

/// Host information carried by an absolute URI or a CONNECT authority.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct UriHost {
    /// Decoded, lowercased host without trailing dots.
    pub host: Option<Vec<u8>>,
    /// Raw host bytes as in the target.
    pub raw: Option<Vec<u8>>,
    pub port: Option<u16>,
    /// Bad port or host name (`REQUEST_URI_HOST_INVALID`).
    pub invalid: bool,
}

/// Host and port from the URI authority (`htp_normalize_parsed_uri` for the hostname).
pub(crate) fn uri_host(parts: &UriParts<'_>) -> UriHost {
    let mut out = UriHost::default();
    let Some(raw) = parts.host else {
        return out;
    };
    out.raw = Some(raw.to_vec());
    let mut host = Vec::with_capacity(raw.len());
    percent_decode(raw, true, &mut host);
    host.make_ascii_lowercase();
    while host.last() == Some(&b'.') {
        host.pop();
    }
    out.invalid = !valid_hostname(&host);
    out.host = Some(host);
    if let Some(p) = parts.port {
        match super::parser::parse_int_lws(p, 10) {
            Some(n) if (1..=65535).contains(&n) => out.port = u16::try_from(n).ok(),
            _ => out.invalid = true,
        }
    }
    out
}

/// Host and port from a `CONNECT host:port` target.
pub(crate) fn connect_host(target: &[u8]) -> UriHost {
    let hp = parse_hostport(target);
    let mut out = UriHost {
        raw: hp.host.is_some().then(|| target.to_vec()),
        port: hp.port,
        invalid: hp.invalid,
        host: None,
    };
    if let Some(h) = hp.host {
        out.invalid |= !valid_hostname(&h);
        out.host = Some(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(u: &[u8]) -> Vec<u8> {
        normalized(&split(u))
    }

    #[test]
    fn splits_targets() {
        let p = split(b"http://user:pw@Host.Example:8080/a/b?x=1#frag");
        assert_eq!(p.host, Some(&b"Host.Example"[..]));
        assert_eq!(p.port, Some(&b"8080"[..]));
        assert_eq!(p.path, Some(&b"/a/b"[..]));
        assert_eq!(p.query, Some(&b"x=1"[..]));
        assert_eq!(p.fragment, Some(&b"frag"[..]));
        let p = split(b"/index.php?page=../../etc");
        assert_eq!(p.path, Some(&b"/index.php"[..]));
        assert_eq!(p.host, None);
        let p = split(b"*");
        assert_eq!(p.path, Some(&b"*"[..]));
    }

    #[test]
    fn normalises_paths_like_libhtp() {
        assert_eq!(norm(b"/a/./b/../c//d"), b"/a/c/d");
        assert_eq!(norm(b"/../../../../etc/passwd"), b"/etc/passwd");
        assert_eq!(norm(b"/%2e%2e%2f%2e%2e%2fetc%2fpasswd"), b"/etc/passwd");
        assert_eq!(
            norm(b"/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir+c:\\"),
            b"/winnt/system32/cmd.exe?/c+dir+c:\\"
        );
        assert_eq!(norm(b"/a\\b"), b"/a/b");
        assert_eq!(norm(b"/%41%zz%"), b"/A%zz%");
        assert_eq!(norm(b"/%u0041%uff0f"), b"/A/");
        assert_eq!(norm(b"/Caps/Kept"), b"/Caps/Kept");
        assert_eq!(norm(b"/q?a=%3Cscript%3E+b"), b"/q?a=<script>+b");
        assert_eq!(norm(b"/x?%u0041"), b"/x?%u0041");
        assert_eq!(norm(b"/\xff"), b"/?");
        assert_eq!(norm(b"http://h/p?q"), b"/p?q");
        assert_eq!(norm(b"/a/.."), b"/");
        assert_eq!(norm(b""), b"");
    }

    #[test]
    fn detects_double_encoding() {
        assert!(double_encoded(b"%2541"));
        assert!(!double_encoded(b"abc%"));
    }

    #[test]
    fn uri_hosts() {
        let h = uri_host(&split(b"http://WWW.Example.COM.:81/"));
        assert_eq!(h.host.as_deref(), Some(&b"www.example.com"[..]));
        assert_eq!(h.port, Some(81));
        assert!(!h.invalid);
        assert!(uri_host(&split(b"http://bad host/")).invalid);
        let c = connect_host(b"qagpublic.qg1.apps.qualys.com:443");
        assert_eq!(
            c.host.as_deref(),
            Some(&b"qagpublic.qg1.apps.qualys.com"[..])
        );
        assert_eq!(c.port, Some(443));
    }
}
