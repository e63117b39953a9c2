//! Pure HTTP/1.x parsing helpers (no state, no allocation unless stated): request and response
//! lines, header fields, Content-Length and chunk sizes, Host values and host names, protocol
//! versions. The rules follow libhtp 0.5 (Suricata 7's HTTP parser) so that the same bytes give
//! the same fields; each function says where it is lenient.

/// `htp_is_space`: SP, HT, LF, VT, FF, CR.
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Linear white space inside a line: SP or HT.
pub(crate) fn is_lws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// RFC 2616 `token` character.
pub(crate) fn is_token(c: u8) -> bool {
    (33..=126).contains(&c)
        && !matches!(
            c,
            b'(' | b')'
                | b'<'
                | b'>'
                | b'@'
                | b','
                | b';'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'='
                | b'{'
                | b'}'
        )
}

/// Removes one trailing LF (and the CR before it), as lines are handed over with their LF.
pub(crate) fn chomp(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Trims SP/HT (and CR/LF/VT/FF) on both sides.
pub(crate) fn trim(mut v: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = v {
        if is_space(*first) {
            v = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = v {
        if is_space(*last) {
            v = rest;
        } else {
            break;
        }
    }
    v
}

/// Case-insensitive ASCII prefix test.
pub(crate) fn starts_with_ci(data: &[u8], prefix: &[u8]) -> bool {
    data.get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

/// Case-insensitive ASCII substring test.
pub(crate) fn contains_ci(data: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    data.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Request methods libhtp knows (`htp_convert_method_to_number`), used for `HTP_M_UNKNOWN`
/// decisions and for resynchronisation after a gap.
pub(crate) const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"PUT",
    b"POST",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"VERSION-CONTROL",
    b"CHECKOUT",
    b"UNCHECKOUT",
    b"CHECKIN",
    b"UPDATE",
    b"LABEL",
    b"REPORT",
    b"MKWORKSPACE",
    b"MKACTIVITY",
    b"BASELINE-CONTROL",
    b"MERGE",
    b"INVALID",
    b"HEAD",
];

/// Methods whose semantics the state machine needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Head,
    Connect,
    Other,
    Unknown,
}

/// Classifies a method token (case-sensitive, as libhtp does).
pub(crate) fn method_kind(m: &[u8]) -> Method {
    match m {
        b"HEAD" => Method::Head,
        b"CONNECT" => Method::Connect,
        _ if KNOWN_METHODS.contains(&m) => Method::Other,
        _ => Method::Unknown,
    }
}

/// Protocol version of a request or response line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Protocol {
    /// Not `HTTP/d.d` at all.
    Invalid,
    /// `HTTP/d.d` with numbers libhtp does not know (e.g. `HTTP/2.0`).
    Unknown,
    /// No protocol on the request line (a simple request).
    V09,
    V10,
    V11,
}

/// `htp_parse_protocol`: exactly `HTTP/d.d` (case-sensitive); 0.9, 1.0 and 1.1 are known.
pub(crate) fn parse_protocol(p: &[u8]) -> Protocol {
    match p {
        [b'H', b'T', b'T', b'P', b'/', maj, b'.', min]
            if maj.is_ascii_digit() && min.is_ascii_digit() =>
        {
            match (maj, min) {
                (b'0', b'9') => Protocol::V09,
                (b'1', b'0') => Protocol::V10,
                (b'1', b'1') => Protocol::V11,
                _ => Protocol::Unknown,
            }
        }
        _ => Protocol::Invalid,
    }
}

/// A request line split like libhtp's generic parser does.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RequestLine<'a> {
    pub method: &'a [u8],
    pub uri: Option<&'a [u8]>,
    pub protocol: Option<&'a [u8]>,
    /// Whitespace before the method (`REQUEST_LINE_LEADING_WHITESPACE`).
    pub leading_whitespace: bool,
    /// A delimiter other than SP between method and URI (`METHOD_DELIM_NON_COMPLIANT`).
    pub method_delim_bad: bool,
    /// Whitespace other than SP inside/after the URI (`URI_DELIM_NON_COMPLIANT`).
    pub uri_delim_bad: bool,
}

/// Splits a request line (without its line ending): leading whitespace is skipped, the method
/// ends at the first whitespace, any run of whitespace follows, the URI ends at the next SP
/// (or at any whitespace when only non-SP delimiters were seen), and the rest after whitespace is
/// the protocol. No URI or no protocol means an HTTP/0.9 simple request.
pub(crate) fn parse_request_line(data: &[u8]) -> RequestLine<'_> {
    let len = data.len();
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut pos = 0;
    while pos < len && is_space(at(pos)) {
        pos += 1;
    }
    let mut out = RequestLine {
        leading_whitespace: pos > 0,
        ..RequestLine::default()
    };
    let mstart = pos;
    while pos < len && !is_space(at(pos)) {
        pos += 1;
    }
    out.method = data.get(mstart..pos).unwrap_or(&[]);
    while pos < len && is_space(at(pos)) {
        if at(pos) != b' ' {
            out.method_delim_bad = true;
        }
        pos += 1;
    }
    if pos >= len {
        return out;
    }
    let start = pos;
    while pos < len && at(pos) != b' ' {
        if is_space(at(pos)) {
            out.uri_delim_bad = true;
        }
        pos += 1;
    }
    if out.uri_delim_bad && pos >= len {
        pos = start;
        while pos < len && !is_space(at(pos)) {
            pos += 1;
        }
    }
    // Spaces inside the URI (`GET /a b HTTP/1.1`): when what follows the first space is not a
    // protocol but the line ends in one, the URI runs up to that protocol (Suricata 8).
    let rest = data.get(pos..).unwrap_or(&[]);
    let is_proto = |t: &[u8]| t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/"));
    if !is_proto(rest.trim_ascii_start()) {
        if let Some(last) = rest.iter().rposition(|&b| b == b' ') {
            if is_proto(rest.get(last + 1..).unwrap_or(&[])) {
                let mut end = pos + last;
                while end > pos && is_space(at(end - 1)) {
                    end -= 1;
                }
                pos = end;
            }
        }
    }
    out.uri = data.get(start..pos);
    while pos < len && is_space(at(pos)) {
        pos += 1;
    }
    if pos >= len {
        return out;
    }
    out.protocol = data.get(pos..);
    out
}

/// A response (status) line split like libhtp's generic parser does.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ResponseLine<'a> {
    pub protocol: Option<&'a [u8]>,
    pub status: Option<&'a [u8]>,
    pub message: Option<&'a [u8]>,
}

/// Splits a status line: protocol, status code and the reason phrase (rest of the line).
pub(crate) fn parse_response_line(data: &[u8]) -> ResponseLine<'_> {
    let len = data.len();
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut out = ResponseLine::default();
    let mut pos = 0;
    while pos < len && is_space(at(pos)) {
        pos += 1;
    }
    let start = pos;
    while pos < len && !is_space(at(pos)) {
        pos += 1;
    }
    if pos == start {
        return out;
    }
    out.protocol = data.get(start..pos);
    while pos < len && is_space(at(pos)) {
        pos += 1;
    }
    if pos >= len {
        return out;
    }
    let start = pos;
    while pos < len && !is_space(at(pos)) {
        pos += 1;
    }
    out.status = data.get(start..pos);
    while pos < len && is_space(at(pos)) {
        pos += 1;
    }
    if pos >= len {
        return out;
    }
    out.message = data.get(pos..);
    out
}

/// `htp_treat_response_line_as_body`: a first response line that does not start with `HTTP`
/// (case-insensitive, after whitespace and NULs) is body data, as browsers treat it.
pub(crate) fn response_line_is_body(line: &[u8]) -> bool {
    let mut pos = 0;
    while line.get(pos).is_some_and(|c| is_space(*c) || *c == 0) {
        pos += 1;
    }
    !line.get(pos..).is_some_and(|r| starts_with_ci(r, b"HTTP"))
}

/// A positive integer surrounded by optional SP/HT, in `base` (10 or 16); `None` when empty,
/// malformed or above `i64::MAX` (libhtp's `htp_parse_positive_integer_whitespace`).
pub(crate) fn parse_int_lws(data: &[u8], base: u32) -> Option<u64> {
    let mut pos = 0;
    while data.get(pos).copied().is_some_and(is_lws) {
        pos += 1;
    }
    let mut value: u64 = 0;
    let mut digits = 0;
    while let Some(d) = data.get(pos).and_then(|c| char::from(*c).to_digit(base)) {
        value = value
            .checked_mul(u64::from(base))?
            .checked_add(u64::from(d))?;
        digits += 1;
        pos += 1;
    }
    if digits == 0 || value > i64::MAX as u64 {
        return None;
    }
    while let Some(c) = data.get(pos) {
        if !is_lws(*c) {
            return None;
        }
        pos += 1;
    }
    Some(value)
}

/// `htp_parse_status`: a status code is a number 100..=999 with optional SP/HT around it.
pub(crate) fn parse_status(s: &[u8]) -> Option<u16> {
    parse_int_lws(s, 10)
        .filter(|n| (100..=999).contains(n))
        .and_then(|n| u16::try_from(n).ok())
}

/// The status as Suricata 7 logs it: `strtoul` of the status text (leading whitespace and an
/// optional sign skipped, digits until the first non-digit, 0 when none, saturated).
pub(crate) fn status_strtoul(s: &[u8]) -> u64 {
    let mut pos = 0;
    while s.get(pos).copied().is_some_and(is_space) {
        pos += 1;
    }
    if matches!(s.get(pos), Some(b'+')) {
        pos += 1;
    }
    let mut v: u64 = 0;
    while let Some(c) = s.get(pos).filter(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
        pos += 1;
    }
    v.min(u64::from(u32::MAX))
}

/// `htp_parse_content_length` (libhtp 0.5.4x): junk before the first digit and after the last
/// is tolerated; no digit or an overflowing number is invalid (`None`).
pub(crate) fn parse_content_length(v: &[u8]) -> Option<u64> {
    let start = v.iter().position(|c| c.is_ascii_digit())?;
    let digits = v.get(start..)?;
    let mut value: u64 = 0;
    for c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    (value <= i64::MAX as u64).then_some(value)
}

/// Result of reading a chunk-size line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkLen {
    /// An empty (whitespace-only) line: libhtp skips it and reads the next line.
    Empty,
    /// A valid size.
    Size(u64),
    /// Not a chunk size.
    Invalid,
}

/// `htp_parse_chunked_length`: leading CR/LF/SP/HT/VT/FF skipped, then hex digits; anything
/// after them (chunk extensions, junk) is ignored; sizes above `i32::MAX` are invalid.
pub(crate) fn parse_chunk_len(line: &[u8]) -> ChunkLen {
    let mut pos = 0;
    while line
        .get(pos)
        .is_some_and(|c| matches!(c, b'\r' | b'\n' | b' ' | b'\t' | 0x0b | 0x0c))
    {
        pos += 1;
    }
    let Some(rest) = line.get(pos..).filter(|r| !r.is_empty()) else {
        return ChunkLen::Empty;
    };
    let n = rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    match rest.get(..n).and_then(|h| parse_int_lws(h, 16)) {
        Some(v) if v <= i32::MAX as u64 => ChunkLen::Size(v),
        _ => ChunkLen::Invalid,
    }
}

/// One header field split like libhtp's generic header parser.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HeaderField<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    /// No colon (or a NUL before it): the whole line is the value of a header with an empty name.
    pub missing_colon: bool,
    /// Empty name, LWS before the colon, or a name that is not a token.
    pub invalid: bool,
}

/// Splits one (unfolded, line-ending-free) header line. The value ends at the first NUL and is
/// trimmed of SP/HT; the name loses trailing SP/HT.
pub(crate) fn parse_header(data: &[u8]) -> HeaderField<'_> {
    let colon = data.iter().position(|c| *c == b':' || *c == 0);
    let Some(colon) = colon.filter(|i| data.get(*i) == Some(&b':')) else {
        return HeaderField {
            name: &[],
            value: data,
            missing_colon: true,
            invalid: false,
        };
    };
    let mut invalid = colon == 0;
    let mut name_end = colon;
    while name_end > 0 && data.get(name_end - 1).copied().is_some_and(is_lws) {
        name_end -= 1;
        invalid = true;
    }
    let name = data.get(..name_end).unwrap_or(&[]);
    if !name.iter().all(|c| is_token(*c)) {
        invalid = true;
    }
    let mut vstart = colon + 1;
    while data.get(vstart).copied().is_some_and(is_lws) {
        vstart += 1;
    }
    let rest = data.get(vstart..).unwrap_or(&[]);
    let vend = rest.iter().position(|c| *c == 0).unwrap_or(rest.len());
    let mut value = rest.get(..vend).unwrap_or(&[]);
    while let [head @ .., last] = value {
        if is_lws(*last) {
            value = head;
        } else {
            break;
        }
    }
    HeaderField {
        name,
        value,
        missing_colon: false,
        invalid,
    }
}

/// A Host header value (or URI authority) split into host name and port.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct HostPort {
    /// Lowercased host name (IPv6 literals keep their brackets); `None` when unusable.
    pub host: Option<Vec<u8>>,
    /// Port, when present and valid (1..=65535).
    pub port: Option<u16>,
    /// Something was wrong: bad port, bad IPv6 literal, empty value.
    pub invalid: bool,
}

fn parse_port(p: &[u8]) -> (Option<u16>, bool) {
    match parse_int_lws(p, 10) {
        Some(n) if (1..=65535).contains(&n) => (u16::try_from(n).ok(), false),
        _ => (None, true),
    }
}

/// `htp_parse_hostport`: trims, handles `[v6]:port` and `name:port`, lowercases the name.
pub(crate) fn parse_hostport(value: &[u8]) -> HostPort {
    let data = trim(value);
    let mut out = HostPort::default();
    if data.is_empty() {
        out.invalid = true;
        return out;
    }
    if data.first() == Some(&b'[') {
        let Some(end) = data.iter().position(|c| *c == b']') else {
            out.invalid = true;
            return out;
        };
        out.host = data.get(..=end).map(|h| h.to_ascii_lowercase());
        let rest = data.get(end + 1..).unwrap_or(&[]);
        match rest.split_first() {
            None => {}
            Some((b':', port)) => {
                let (p, bad) = parse_port(port);
                out.port = p;
                out.invalid = bad;
            }
            Some(_) => out.invalid = true,
        }
        return out;
    }
    match data.iter().position(|c| *c == b':') {
        None => out.host = Some(data.to_ascii_lowercase()),
        Some(colon) => {
            let mut hend = colon;
            while hend > 0 && data.get(hend - 1).copied().is_some_and(is_space) {
                hend -= 1;
            }
            out.host = data.get(..hend).map(|h| h.to_ascii_lowercase());
            let (p, bad) = parse_port(data.get(colon + 1..).unwrap_or(&[]));
            out.port = p;
            out.invalid = bad;
        }
    }
    out
}

/// `htp_validate_hostname`: 1..=255 bytes; an IPv6 literal in brackets with hex digits, `:`
/// and `.`; otherwise dot-separated labels of 1..=63 letters, digits, `-` or `_`.
pub(crate) fn valid_hostname(h: &[u8]) -> bool {
    if h.is_empty() || h.len() > 255 {
        return false;
    }
    if let Some(inner) = h.strip_prefix(b"[") {
        return h.len() >= 2
            && h.len() - 2 < 40
            && inner.strip_suffix(b"]").is_some_and(|v6| {
                v6.iter()
                    .all(|c| c.is_ascii_hexdigit() || *c == b':' || *c == b'.')
            });
    }
    let mut rest = h;
    loop {
        let label_len = rest.iter().position(|c| *c == b'.').unwrap_or(rest.len());
        let label = rest.get(..label_len).unwrap_or(&[]);
        if label.is_empty()
            || label.len() > 63
            || !label
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
        {
            return false;
        }
        let after = rest.get(label_len..).unwrap_or(&[]);
        if after.is_empty() {
            return true;
        }
        let dots = after.iter().take_while(|c| **c == b'.').count();
        if dots != 1 {
            return false;
        }
        rest = after.get(1..).unwrap_or(&[]);
        if rest.is_empty() {
            // A single trailing dot: libhtp accepts it (no more data after the dot run).
            return true;
        }
    }
}

/// Parses a `Content-Range` value as Suricata does: `bytes start-end/size`, `bytes start-end/*`
/// or `bytes */size`; `None` when malformed. Unknown parts are -1.
pub(crate) fn parse_content_range(v: &[u8]) -> Option<(i64, i64, i64)> {
    let v = trim(v);
    let rest = v.strip_prefix(b"bytes")?;
    let n = rest.iter().take_while(|c| **c == b' ').count();
    if n == 0 {
        return None;
    }
    let rest = rest.get(n..)?;
    let num = |s: &[u8]| -> Option<i64> {
        if s.is_empty() || !s.iter().all(|c| c.is_ascii_digit()) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse::<i64>().ok()
    };
    if let Some(size) = rest.strip_prefix(b"*/") {
        return Some((-1, -1, num(size)?));
    }
    let dash = rest.iter().position(|c| *c == b'-')?;
    let slash = rest.iter().position(|c| *c == b'/')?;
    if slash < dash {
        return None;
    }
    let start = num(rest.get(..dash)?)?;
    let end = num(rest.get(dash + 1..slash)?)?;
    let size_s = rest.get(slash + 1..)?;
    let size = if size_s == b"*" { -1 } else { num(size_s)? };
    if end < start {
        return None;
    }
    Some((start, end, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_split_like_libhtp() {
        let r = parse_request_line(b"GET /a?b HTTP/1.1");
        assert_eq!(r.method, b"GET");
        assert_eq!(r.uri, Some(&b"/a?b"[..]));
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        assert!(!r.leading_whitespace && !r.method_delim_bad && !r.uri_delim_bad);

        let r = parse_request_line(b"GET  /double-space-uri HTTP/1.1");
        assert_eq!(r.uri, Some(&b"/double-space-uri"[..]));
        assert!(!r.method_delim_bad);

        let r = parse_request_line(b" GET\t/x\tHTTP/1.0");
        assert!(r.leading_whitespace && r.method_delim_bad && r.uri_delim_bad);
        assert_eq!(r.method, b"GET");
        assert_eq!(r.uri, Some(&b"/x"[..]));
        assert_eq!(r.protocol, Some(&b"HTTP/1.0"[..]));

        let r = parse_request_line(b"GET /only");
        assert_eq!(r.uri, Some(&b"/only"[..]));
        assert_eq!(r.protocol, None);
        let r = parse_request_line(b"GET");
        assert_eq!((r.method, r.uri), (&b"GET"[..], None));
        assert_eq!(parse_request_line(b""), RequestLine::default());
        // Spaces inside the URI when the line still ends in a protocol.
        let r = parse_request_line(b"GET /uri afterspace HTTP/1.1");
        assert_eq!(r.uri, Some(&b"/uri afterspace"[..]));
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        let r = parse_request_line(b"GET /a b c");
        assert_eq!(r.uri, Some(&b"/a"[..]));
        assert_eq!(r.protocol, Some(&b"b c"[..]));
    }

    #[test]
    fn response_lines_and_status() {
        let r = parse_response_line(b"HTTP/1.1 404 Not Found");
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        assert_eq!(r.status, Some(&b"404"[..]));
        assert_eq!(r.message, Some(&b"Not Found"[..]));
        assert_eq!(parse_status(b"404"), Some(404));
        assert_eq!(parse_status(b"2XX"), None);
        assert_eq!(parse_status(b"99"), None);
        assert_eq!(status_strtoul(b"2XX"), 2);
        assert_eq!(status_strtoul(b"abc"), 0);
        assert!(response_line_is_body(b"<html>"));
        assert!(!response_line_is_body(b"  http/1.0 200"));
    }

    #[test]
    fn protocols() {
        assert_eq!(parse_protocol(b"HTTP/1.1"), Protocol::V11);
        assert_eq!(parse_protocol(b"HTTP/1.0"), Protocol::V10);
        assert_eq!(parse_protocol(b"HTTP/2.0"), Protocol::Unknown);
        assert_eq!(parse_protocol(b"http/1.1"), Protocol::Invalid);
        assert_eq!(parse_protocol(b"HTTP/1.1 "), Protocol::Invalid);
    }

    #[test]
    fn lengths() {
        assert_eq!(parse_content_length(b" 12 "), Some(12));
        assert_eq!(parse_content_length(b"abc"), None);
        assert_eq!(parse_content_length(b"x5y"), Some(5));
        assert_eq!(parse_content_length(b"99999999999999999999999"), None);
        assert_eq!(parse_chunk_len(b"1a;ext=1"), ChunkLen::Size(26));
        assert_eq!(parse_chunk_len(b"\r"), ChunkLen::Empty);
        assert_eq!(parse_chunk_len(b"zz"), ChunkLen::Invalid);
        assert_eq!(parse_chunk_len(b"ffffffff"), ChunkLen::Invalid);
        assert_eq!(parse_chunk_len(b" 0 "), ChunkLen::Size(0));
    }

    #[test]
    fn headers() {
        let h = parse_header(b"Host: www.example.com ");
        assert_eq!((h.name, h.value), (&b"Host"[..], &b"www.example.com"[..]));
        assert!(!h.invalid && !h.missing_colon);
        let h = parse_header(b"ThisHeaderHasNoColon");
        assert!(h.missing_colon);
        assert_eq!((h.name, h.value), (&b""[..], &b"ThisHeaderHasNoColon"[..]));
        let h = parse_header(b"Bad Name : v");
        assert!(h.invalid);
        assert_eq!(h.name, b"Bad Name");
        let h = parse_header(b"X:a\0b");
        assert_eq!(h.value, b"a");
        assert!(parse_header(b"a\0:b").missing_colon);
    }

    #[test]
    fn hosts() {
        let h = parse_hostport(b" WWW.Example.com:8080 ");
        assert_eq!(h.host.as_deref(), Some(&b"www.example.com"[..]));
        assert_eq!((h.port, h.invalid), (Some(8080), false));
        let h = parse_hostport(b"[::1]:443");
        assert_eq!(h.host.as_deref(), Some(&b"[::1]"[..]));
        assert_eq!(h.port, Some(443));
        assert!(parse_hostport(b"a:0").invalid);
        assert!(parse_hostport(b"").invalid);
        assert!(valid_hostname(b"www.example.com"));
        assert!(valid_hostname(b"[::1]"));
        assert!(!valid_hostname(b"a.example.com, b.example.com"));
        assert!(!valid_hostname(b"a..b"));
        assert!(valid_hostname(b"x_y-z.example"));
    }

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range(b"bytes 0-99/200"), Some((0, 99, 200)));
        assert_eq!(parse_content_range(b"bytes 0-99/*"), Some((0, 99, -1)));
        assert_eq!(parse_content_range(b"bytes */200"), Some((-1, -1, 200)));
        assert_eq!(parse_content_range(b"items 0-1/2"), None);
    }
}
