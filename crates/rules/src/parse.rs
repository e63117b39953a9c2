//! Rule text to [`Rule`]: the header, then each option in order. Content modifiers and sticky
//! buffers are resolved here so every [`Item`] carries the buffer it inspects.

use crate::ast::*;
use crate::cmp::{cmp, cmp_max, int, uint};
use crate::lexer::{self, preview, unescape, unquote, RawOpt};
use crate::{names, parse_addr, parse_ports, RuleError, MAX_RULE_BYTES, MAX_TRANSFORMS};

type R<T> = Result<T, RuleError>;

/// Longest content pattern accepted (Suricata stores content lengths in 16 bits).
const MAX_CONTENT_BYTES: usize = u16::MAX as usize;

fn invalid(kw: &str, reason: impl Into<String>) -> RuleError {
    RuleError::invalid(kw, reason)
}

fn unsupported(kw: &str) -> RuleError {
    RuleError::Unsupported {
        keyword: kw.to_string(),
    }
}

/// Parses one rule; see [`crate::parse_rule`].
pub(crate) fn parse_rule(text: &str, location: Location) -> R<Rule> {
    if text.len() > MAX_RULE_BYTES {
        return Err(RuleError::syntax(format!(
            "rule is longer than {MAX_RULE_BYTES} bytes"
        )));
    }
    // Callers normally join continuation lines; accept a rule that still contains them.
    let joined;
    let text = if text.contains('\n') {
        joined = text.replace("\\\r\n", "").replace("\\\n", "");
        joined.trim()
    } else {
        text.trim()
    };
    let open = text
        .find('(')
        .ok_or_else(|| RuleError::syntax("no '(' opening the rule options"))?;
    let header = text.get(..open).unwrap_or_default();
    let body = text
        .get(open + 1..)
        .unwrap_or_default()
        .strip_suffix(')')
        .ok_or_else(|| RuleError::syntax("rule options do not end with ')'"))?;
    // All options are split first so a syntax error anywhere wins over a keyword error.
    let opts = lexer::split_options(body)?;
    let mut b = Builder::new(parse_header(header)?, location);
    for o in opts {
        b.option(o)?;
    }
    b.finish()
}

struct Header {
    action: Action,
    proto: Proto,
    src: AddrSpec,
    src_ports: PortSpec,
    bidirectional: bool,
    dst: AddrSpec,
    dst_ports: PortSpec,
}

fn parse_header(h: &str) -> R<Header> {
    let t = lexer::header_tokens(h)?;
    let [action, proto, src, sp, dir, dst, dp] = t.as_slice() else {
        return Err(RuleError::syntax(format!(
            "rule header has {} fields; expected `action proto src sport dir dst dport`",
            t.len()
        )));
    };
    let action = match action.to_ascii_lowercase().as_str() {
        "alert" => Action::Alert,
        "pass" => Action::Pass,
        "drop" => Action::Drop,
        "reject" | "rejectsrc" | "rejectdst" | "rejectboth" => Action::Reject,
        _ => {
            return Err(RuleError::syntax(format!(
                "unknown action {}",
                preview(action)
            )))
        }
    };
    let lower = proto.to_ascii_lowercase();
    let proto = match lower.as_str() {
        "ip" | "pkthdr" => Proto::Ip,
        "tcp" => Proto::Tcp,
        "tcp-pkt" => Proto::TcpPkt,
        "tcp-stream" => Proto::TcpStream,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        "icmpv4" => Proto::IcmpV4,
        "icmpv6" => Proto::IcmpV6,
        // Header protocols Suricata knows that vedette cannot match on.
        "sctp" | "ipv4" | "ipv6" => return Err(unsupported(&format!("protocol {lower}"))),
        other => match names::app_name(other) {
            Some(app) => Proto::App(app),
            None => {
                return Err(RuleError::syntax(format!(
                    "unknown protocol {}",
                    preview(proto)
                )))
            }
        },
    };
    let bidirectional = match *dir {
        "->" => false,
        "<>" => true,
        // Suricata 8's transactional bidirectional rules: different matching semantics.
        "=>" => return Err(unsupported("direction =>")),
        "<-" => {
            return Err(RuleError::syntax(
                "direction `<-` is not valid; write `->` with source and destination swapped",
            ))
        }
        other => {
            return Err(RuleError::syntax(format!(
                "bad direction {}",
                preview(other)
            )))
        }
    };
    let addr = |s: &str, what: &str| {
        parse_addr(s).map_err(|e| match e {
            RuleError::Invalid { reason, .. } => invalid(what, reason),
            e => e,
        })
    };
    let port = |s: &str, what: &str| {
        parse_ports(s).map_err(|e| match e {
            RuleError::Invalid { reason, .. } => invalid(what, reason),
            e => e,
        })
    };
    Ok(Header {
        action,
        proto,
        src: addr(src, "source address")?,
        src_ports: port(sp, "source port")?,
        bidirectional,
        dst: addr(dst, "destination address")?,
        dst_ports: port(dp, "destination port")?,
    })
}

/// The sticky buffer in force and what has been put in it.
struct Sticky {
    /// Keyword as written, for errors.
    name: String,
    /// Buffer and transforms for the next item.
    sel: BufferSel,
    /// Index of the first item after the sticky keyword.
    start: usize,
    /// Items put in this buffer so far.
    matches: usize,
    /// A transform that no item has used yet.
    pending_transform: Option<&'static str>,
    /// `absent` (without `or_else`) was given: nothing else may inspect the buffer.
    absent: bool,
}

/// What the previous option produced, for `prefilter`.
#[derive(Clone, Copy)]
enum Last {
    Nothing,
    Item(usize),
    Opt,
}

struct Builder {
    rule: Rule,
    sticky: Option<Sticky>,
    /// Per item: the content already has its final buffer (sticky, legacy modifier, uricontent).
    placed: Vec<bool>,
    last_content: Option<usize>,
    last: Last,
    /// `byte_extract` / `byte_math` variables defined so far.
    vars: Vec<String>,
    seen_sid: bool,
    seen_gid: bool,
    seen_rev: bool,
    seen_msg: bool,
    seen_flow: bool,
    seen_threshold: bool,
    seen_detection_filter: bool,
    seen_fast_pattern: bool,
}

fn no_value(kw: &str, v: Option<&str>) -> R<()> {
    match v {
        Some(v) if !v.is_empty() => Err(invalid(kw, format!("takes no value, got {}", preview(v)))),
        _ => Ok(()),
    }
}

fn need<'a>(kw: &str, v: Option<&'a str>) -> R<&'a str> {
    match v {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(invalid(kw, "needs a value")),
    }
}

fn is_var_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.')
}

fn u32_of(kw: &str, s: &str) -> R<u32> {
    let v = uint(s).map_err(|r| invalid(kw, r))?;
    u32::try_from(v).map_err(|_| invalid(kw, format!("{v} is larger than {}", u32::MAX)))
}

fn u16_of(kw: &str, s: &str) -> R<u16> {
    let v = uint(s).map_err(|r| invalid(kw, r))?;
    u16::try_from(v).map_err(|_| invalid(kw, format!("{v} is larger than {}", u16::MAX)))
}

/// A comparison whose values must fit in `max`.
fn cmp_of(kw: &str, s: &str, max: u64) -> R<Cmp> {
    let c = cmp(s).map_err(|r| invalid(kw, r))?;
    if cmp_max(&c) > max {
        return Err(invalid(kw, format!("value above {max} in {}", preview(s))));
    }
    Ok(c)
}

/// A comparison, or `[!]NAME` looked up in `table`.
fn cmp_or_name(kw: &str, s: &str, max: u64, table: fn(&str) -> Option<u64>) -> R<Cmp> {
    if let Ok(c) = cmp(s) {
        if cmp_max(&c) > max {
            return Err(invalid(kw, format!("value above {max} in {}", preview(s))));
        }
        return Ok(c);
    }
    let t = s.trim();
    let (neg, name) = match t.strip_prefix('!') {
        Some(n) => (true, n.trim()),
        None => (false, t),
    };
    let v = table(name).ok_or_else(|| invalid(kw, format!("unknown value {}", preview(t))))?;
    Ok(if neg { Cmp::Ne(v) } else { Cmp::Eq(v) })
}

fn track_of(kw: &str, s: &str) -> R<Track> {
    Ok(match s {
        "by_src" => Track::BySrc,
        "by_dst" => Track::ByDst,
        "by_rule" => Track::ByRule,
        "by_both" => Track::ByBoth,
        "by_flow" => Track::ByFlow,
        _ => return Err(invalid(kw, format!("unknown track {}", preview(s)))),
    })
}

/// Splits `key value` pairs separated by commas (threshold, detection_filter, byte_math).
fn key_values(kw: &str, v: &str) -> R<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in v.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(invalid(kw, "empty element"));
        }
        let (k, val) = match part.split_once(|c: char| c.is_ascii_whitespace()) {
            Some((k, val)) => (k, val.trim()),
            None => (part, ""),
        };
        out.push((k.to_ascii_lowercase(), val.to_string()));
    }
    Ok(out)
}

/// `threshold:` (rule option) or the tail of a threshold.config `threshold` line.
pub(crate) fn threshold_from_pairs(kw: &str, pairs: &[(String, String)]) -> R<Threshold> {
    let (mut kind, mut track, mut count, mut seconds, mut mult) = (None, None, None, None, None);
    for (k, v) in pairs {
        let slot_dup = |set: bool| {
            if set {
                Err(invalid(kw, format!("`{k}` given twice")))
            } else {
                Ok(())
            }
        };
        match k.as_str() {
            "type" => {
                slot_dup(kind.is_some())?;
                kind = Some(v.as_str());
            }
            "track" => {
                slot_dup(track.is_some())?;
                track = Some(track_of(kw, v)?);
            }
            "count" => {
                slot_dup(count.is_some())?;
                count = Some(u32_of(kw, v)?);
            }
            "seconds" => {
                slot_dup(seconds.is_some())?;
                seconds = Some(u32_of(kw, v)?);
            }
            "multiplier" => {
                slot_dup(mult.is_some())?;
                mult = Some(u32_of(kw, v)?);
            }
            _ => return Err(invalid(kw, format!("unknown setting `{k}`"))),
        }
    }
    let kind = kind.ok_or_else(|| invalid(kw, "missing `type`"))?;
    let track = track.ok_or_else(|| invalid(kw, "missing `track`"))?;
    let count = count.ok_or_else(|| invalid(kw, "missing `count`"))?;
    let kind = match kind {
        "threshold" => ThresholdKind::Threshold,
        "limit" => ThresholdKind::Limit,
        "both" => ThresholdKind::Both,
        "backoff" => {
            let multiplier = mult.ok_or_else(|| invalid(kw, "type backoff needs `multiplier`"))?;
            if multiplier == 0 || count == 0 {
                return Err(invalid(kw, "backoff needs count and multiplier above 0"));
            }
            if seconds.is_some() {
                return Err(invalid(kw, "type backoff takes no `seconds`"));
            }
            return Ok(Threshold {
                kind: ThresholdKind::Backoff { multiplier },
                track,
                count,
                seconds: 0,
            });
        }
        other => return Err(invalid(kw, format!("unknown type {}", preview(other)))),
    };
    if mult.is_some() {
        return Err(invalid(kw, "`multiplier` is only for type backoff"));
    }
    let seconds = seconds.ok_or_else(|| invalid(kw, "missing `seconds`"))?;
    Ok(Threshold {
        kind,
        track,
        count,
        seconds,
    })
}

/// `content` value: `[!]"bytes"` with `|hex|` blocks and `\;` `\"` `\\` `\:` escapes.
fn parse_content(kw: &str, v: &str) -> R<Content> {
    let v = v.trim();
    let (negated, rest) = match v.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, v),
    };
    if !rest.starts_with('"') {
        return Err(invalid(
            kw,
            format!("value must be a quoted string, got {}", preview(v)),
        ));
    }
    let inner = unquote(rest).map_err(|r| invalid(kw, r))?;
    let pattern = decode_content(inner).map_err(|r| invalid(kw, r))?;
    if pattern.is_empty() {
        return Err(invalid(kw, "empty content"));
    }
    if pattern.len() > MAX_CONTENT_BYTES {
        return Err(invalid(
            kw,
            format!("content longer than {MAX_CONTENT_BYTES} bytes"),
        ));
    }
    Ok(Content {
        pattern,
        negated,
        ..Content::default()
    })
}

fn decode_content(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut hex = false;
    let mut nibble: Option<u8> = None;
    let mut escaped = false;
    for &c in s.as_bytes() {
        if hex {
            match c {
                b'|' => {
                    if nibble.is_some() {
                        return Err("odd number of hex digits in |...|".into());
                    }
                    hex = false;
                }
                b' ' | b'\t' => {}
                _ => {
                    let d = char::from(c).to_digit(16).ok_or_else(|| {
                        format!("invalid character {:?} in |hex| block", char::from(c))
                    })?;
                    // to_digit(16) is below 16, so the narrowing is exact.
                    let d = d as u8;
                    match nibble.take() {
                        Some(h) => out.push(h << 4 | d),
                        None => nibble = Some(d),
                    }
                }
            }
        } else if escaped {
            match c {
                b'\\' | b'"' | b';' | b':' => out.push(c),
                _ => return Err(format!("invalid escape '\\{}'", char::from(c))),
            }
            escaped = false;
        } else {
            match c {
                b'\\' => escaped = true,
                b'|' => hex = true,
                b'"' => return Err("unescaped '\"' inside the content".into()),
                _ => out.push(c),
            }
        }
    }
    if hex {
        return Err("unterminated |hex| block".into());
    }
    if escaped {
        return Err("trailing backslash".into());
    }
    Ok(out)
}

/// Buffers selected by Suricata's HTTP pcre flags.
fn pcre_buffer_flag(c: char) -> Option<Buffer> {
    Some(match c {
        'U' => Buffer::HttpUri,
        'I' => Buffer::HttpUriRaw,
        'P' => Buffer::HttpRequestBody,
        'Q' => Buffer::HttpResponseBody,
        'H' => Buffer::HttpHeader,
        'D' => Buffer::HttpHeaderRaw,
        'M' => Buffer::HttpMethod,
        'C' => Buffer::HttpCookie,
        'S' => Buffer::HttpStatCode,
        'Y' => Buffer::HttpStatMsg,
        'V' => Buffer::HttpUserAgent,
        'W' => Buffer::HttpHost,
        'Z' => Buffer::HttpHostRaw,
        _ => return None,
    })
}

/// `pcre:"[!]/pattern/flags"`; the pattern is kept as written (PCRE reads `\;` `\"` as the
/// literal characters, so no rule-level unescaping is needed).
fn parse_pcre(kw: &str, v: &str) -> R<(Pcre, Option<Buffer>)> {
    // Suricata accepts the negation inside or before the quotes, and unquoted patterns.
    let (outer_neg, v) = match v.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, v),
    };
    let inner = if v.starts_with('"') {
        unquote(v).map_err(|r| invalid(kw, r))?
    } else {
        v
    };
    let (inner_neg, rest) = match inner.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, inner),
    };
    if outer_neg && inner_neg {
        return Err(invalid(kw, "negated twice"));
    }
    let negated = outer_neg || inner_neg;
    let body = rest.strip_prefix('/').ok_or_else(|| {
        invalid(
            kw,
            format!("pattern must start with '/': {}", preview(inner)),
        )
    })?;
    let end = body.rfind('/').ok_or_else(|| {
        invalid(
            kw,
            format!("pattern has no closing '/': {}", preview(inner)),
        )
    })?;
    let pattern = body.get(..end).unwrap_or_default();
    let flags = body.get(end + 1..).unwrap_or_default();
    if pattern.is_empty() {
        return Err(invalid(kw, "empty pattern"));
    }
    let mut p = Pcre {
        pattern: pattern.to_string(),
        negated,
        ..Pcre::default()
    };
    let mut buffer: Option<Buffer> = None;
    for c in flags.chars() {
        match c {
            'i' => p.caseless = true,
            's' => p.dotall = true,
            'm' => p.multiline = true,
            'x' => p.extended = true,
            'A' => p.anchored = true,
            'E' => p.dollar_endonly = true,
            'G' => p.ungreedy = true,
            'R' => p.relative = true,
            'O' => p.override_limits = true,
            'B' => {}
            _ => {
                let b = pcre_buffer_flag(c)
                    .ok_or_else(|| invalid(kw, format!("unknown flag {c:?}")))?;
                if buffer.is_some_and(|prev| prev != b) {
                    return Err(invalid(kw, "more than one buffer flag"));
                }
                buffer = Some(b);
            }
        }
    }
    Ok((p, buffer))
}

/// Comma-separated arguments, trimmed.
fn args(v: &str) -> Vec<&str> {
    v.split(',').map(str::trim).collect()
}

/// Shared optional words of `byte_test`, `byte_jump` and `byte_extract`.
#[derive(Default)]
struct ByteOpts {
    relative: bool,
    endian: Option<Endian>,
    string: Option<NumBase>,
    bitmask: Option<u64>,
}

impl ByteOpts {
    /// Handles one shared word; `Ok(false)` when the word is not one of them.
    fn word(&mut self, kw: &str, w: &str) -> R<bool> {
        let set_endian = |e: &mut Option<Endian>, v: Endian| {
            if e.is_some() {
                return Err(invalid(kw, "byte order given twice"));
            }
            *e = Some(v);
            Ok(())
        };
        match w {
            "relative" => self.relative = true,
            "big" => set_endian(&mut self.endian, Endian::Big)?,
            "little" => set_endian(&mut self.endian, Endian::Little)?,
            "dce" => set_endian(&mut self.endian, Endian::Dce)?,
            "string" => {
                if self.string.is_some() {
                    return Err(invalid(kw, "`string` given twice"));
                }
                self.string = Some(NumBase::Dec);
            }
            "hex" | "dec" | "oct" => {
                if self.string.is_none() {
                    return Err(invalid(kw, format!("`{w}` needs `string` before it")));
                }
                self.string = Some(match w {
                    "hex" => NumBase::Hex,
                    "oct" => NumBase::Oct,
                    _ => NumBase::Dec,
                });
            }
            _ => {
                if let Some(m) = w.strip_prefix("bitmask") {
                    if self.bitmask.is_some() {
                        return Err(invalid(kw, "`bitmask` given twice"));
                    }
                    self.bitmask = Some(bitmask(kw, m)?);
                } else if let Some(b) = w.strip_prefix("string ") {
                    // byte_math style `string dec` in one argument.
                    self.word(kw, "string")?;
                    self.word(kw, b.trim())?;
                } else if let Some(e) = w.strip_prefix("endian ") {
                    self.word(kw, e.trim())?;
                } else {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// `var`: the count comes from a variable, checked when the rule runs.
    fn check_nbytes(&self, kw: &str, n: u8, var: bool) -> R<()> {
        let max = if self.string.is_some() { 23 } else { 8 };
        // 0 with `string`: Suricata converts every digit from the offset on.
        if !var && ((n == 0 && self.string.is_none()) || n > max) {
            return Err(invalid(
                kw,
                format!("number of bytes must be 1 to {max}, got {n}"),
            ));
        }
        if self.string.is_some() && self.endian == Some(Endian::Dce) {
            return Err(invalid(kw, "`dce` cannot be used with `string`"));
        }
        Ok(())
    }
}

fn bitmask(kw: &str, s: &str) -> R<u64> {
    let t = s.trim();
    let h = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let v = u64::from_str_radix(h, 16)
        .map_err(|_| invalid(kw, format!("bad bitmask {}", preview(t))))?;
    if v == 0 {
        return Err(invalid(kw, "bitmask 0 masks everything"));
    }
    Ok(v)
}

fn nbytes_of(kw: &str, s: &str) -> R<u8> {
    if !s.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err(unsupported(&format!("{kw} (variable byte count)")));
    }
    let v = uint(s).map_err(|r| invalid(kw, r))?;
    u8::try_from(v).map_err(|_| invalid(kw, format!("byte count {v} too large")))
}

/// The byte count of byte_test/byte_jump: a literal, or (Suricata 7) a variable name.
fn nbytes_or_var(kw: &str, s: &str) -> R<(u8, Option<String>)> {
    if s.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
    {
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(invalid(kw, format!("bad variable name {}", preview(s))));
        }
        return Ok((0, Some(s.to_string())));
    }
    Ok((nbytes_of(kw, s)?, None))
}

fn multiplier_of(kw: &str, s: &str) -> R<u32> {
    let m = u32_of(kw, s)?;
    if m == 0 || m > 65535 {
        return Err(invalid(
            kw,
            format!("multiplier must be 1 to 65535, got {m}"),
        ));
    }
    Ok(m)
}

impl Builder {
    fn new(h: Header, location: Location) -> Self {
        Builder {
            rule: Rule {
                action: h.action,
                proto: h.proto,
                src: h.src,
                src_ports: h.src_ports,
                bidirectional: h.bidirectional,
                dst: h.dst,
                dst_ports: h.dst_ports,
                sid: 0,
                gid: 1,
                rev: 0,
                msg: String::new(),
                classtype: None,
                priority: None,
                references: Vec::new(),
                metadata: Vec::new(),
                target: None,
                items: Vec::new(),
                opts: Vec::new(),
                location,
            },
            sticky: None,
            placed: Vec::new(),
            last_content: None,
            last: Last::Nothing,
            vars: Vec::new(),
            seen_sid: false,
            seen_gid: false,
            seen_rev: false,
            seen_msg: false,
            seen_flow: false,
            seen_threshold: false,
            seen_detection_filter: false,
            seen_fast_pattern: false,
        }
    }

    /// A literal within `min..=max` or a defined variable.
    fn num(&self, kw: &str, s: &str, min: i64, max: i64) -> R<Num> {
        let s = s.trim();
        if s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
        {
            let v = int(s).map_err(|r| invalid(kw, r))?;
            if v < min || v > max {
                return Err(invalid(kw, format!("{v} is outside {min}..={max}")));
            }
            return Ok(Num::Lit(v));
        }
        if self.vars.iter().any(|v| v == s) {
            return Ok(Num::Var(s.to_string()));
        }
        Err(invalid(
            kw,
            format!(
                "unknown variable {} (not set by an earlier byte_extract/byte_math)",
                preview(s)
            ),
        ))
    }

    fn define_var(&mut self, kw: &str, name: &str) -> R<String> {
        if !is_var_name(name) {
            return Err(invalid(kw, format!("bad variable name {}", preview(name))));
        }
        if !self.vars.iter().any(|v| v == name) {
            self.vars.push(name.to_string());
        }
        Ok(name.to_string())
    }

    fn current_sel(&self) -> BufferSel {
        match &self.sticky {
            Some(s) => s.sel.clone(),
            None => BufferSel {
                buffer: Buffer::Payload,
                transforms: Vec::new(),
            },
        }
    }

    /// Adds an item in the current buffer (sticky buffer or payload).
    fn push_item(&mut self, kw: &str, check: Check) -> R<usize> {
        if let Some(s) = &mut self.sticky {
            if s.absent {
                return Err(invalid(
                    kw,
                    format!(
                        "`{}` was declared absent; nothing else may inspect it",
                        s.name
                    ),
                ));
            }
            s.matches += 1;
            s.pending_transform = None;
        }
        let mut buf = self.current_sel();
        // Without a sticky buffer, a relative keyword continues the list of the previous item
        // (e.g. `uricontent:"x"; isdataat:1,relative;` inspects the URI), as Suricata does.
        if self.sticky.is_none() && check_is_relative(&check) {
            if let Some(prev) = self.rule.items.last() {
                buf = prev.buf.clone();
            }
        }
        let placed = self.sticky.is_some();
        Ok(self.push_item_in(buf, check, placed))
    }

    fn push_item_in(&mut self, buf: BufferSel, check: Check, placed: bool) -> usize {
        let idx = self.rule.items.len();
        self.rule.items.push(Item {
            buf,
            check,
            prefilter: false,
        });
        self.placed.push(placed);
        self.last = Last::Item(idx);
        idx
    }

    fn push_opt(&mut self, o: Opt) {
        self.rule.opts.push(o);
        self.last = Last::Opt;
    }

    /// The content a modifier applies to: the last one, which must be in the current sticky
    /// buffer when one is active.
    fn last_content(&mut self, kw: &str) -> R<&mut Content> {
        let idx = self
            .last_content
            .ok_or_else(|| invalid(kw, "no content before it"))?;
        if let Some(s) = &self.sticky {
            if idx < s.start {
                return Err(invalid(
                    kw,
                    format!("no content in the current buffer `{}` before it", s.name),
                ));
            }
        }
        match self.rule.items.get_mut(idx).map(|i| &mut i.check) {
            Some(Check::Content(c)) => Ok(c),
            _ => Err(invalid(kw, "no content before it")),
        }
    }

    /// Ends the current sticky buffer, checking it was used.
    fn close_sticky(&mut self, next: &str) -> R<()> {
        if let Some(s) = self.sticky.take() {
            if let Some(t) = s.pending_transform {
                return Err(invalid(
                    t,
                    format!(
                        "transform on `{}` is not followed by a match before `{next}`",
                        s.name
                    ),
                ));
            }
            if s.matches == 0 {
                return Err(invalid(
                    &s.name,
                    format!("sticky buffer has no matches before `{next}`"),
                ));
            }
        }
        Ok(())
    }

    fn option(&mut self, o: RawOpt<'_>) -> R<()> {
        let lowered;
        let kw = if o.keyword.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = o.keyword.to_ascii_lowercase();
            lowered.as_str()
        } else {
            o.keyword
        };
        let v = o.value;
        // Modifiers restore this so `prefilter` after `content; nocase;` still finds the content.
        let prev = std::mem::replace(&mut self.last, Last::Nothing);
        match kw {
            "msg" => {
                if std::mem::replace(&mut self.seen_msg, true) {
                    return Err(invalid(kw, "given twice"));
                }
                let s = unquote(need(kw, v)?).map_err(|r| invalid(kw, r))?;
                self.rule.msg = unescape(s).into_owned();
            }
            "sid" => {
                if std::mem::replace(&mut self.seen_sid, true) {
                    return Err(invalid(kw, "given twice"));
                }
                let sid = u32_of(kw, unquote(need(kw, v)?).map_err(|r| invalid(kw, r))?)?;
                if sid == 0 {
                    return Err(invalid(kw, "sid must be above 0"));
                }
                self.rule.sid = sid;
            }
            "gid" => {
                if std::mem::replace(&mut self.seen_gid, true) {
                    return Err(invalid(kw, "given twice"));
                }
                self.rule.gid = u32_of(kw, need(kw, v)?)?;
            }
            "rev" => {
                if std::mem::replace(&mut self.seen_rev, true) {
                    return Err(invalid(kw, "given twice"));
                }
                self.rule.rev = u32_of(kw, need(kw, v)?)?;
            }
            "classtype" => {
                if self.rule.classtype.is_some() {
                    return Err(invalid(kw, "given twice"));
                }
                let c = need(kw, v)?;
                if !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(invalid(kw, format!("bad name {}", preview(c))));
                }
                // Suricata compares classtypes case-insensitively; we store lower case.
                self.rule.classtype = Some(c.to_ascii_lowercase());
            }
            "priority" => {
                if self.rule.priority.is_some() {
                    return Err(invalid(kw, "given twice"));
                }
                let p = uint(need(kw, v)?).map_err(|r| invalid(kw, r))?;
                let p = u8::try_from(p).ok().filter(|&p| p > 0);
                self.rule.priority = Some(p.ok_or_else(|| invalid(kw, "must be 1 to 255"))?);
            }
            "reference" => {
                let r = need(kw, v)?;
                if !r.contains(',') {
                    return Err(invalid(
                        kw,
                        format!("expected `type,id`, got {}", preview(r)),
                    ));
                }
                self.rule.references.push(r.to_string());
            }
            "metadata" => {
                let m = need(kw, v)?;
                self.rule.metadata.extend(
                    m.split(',')
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .map(str::to_string),
                );
            }
            "target" => {
                if self.rule.target.is_some() {
                    return Err(invalid(kw, "given twice"));
                }
                self.rule.target = Some(match need(kw, v)? {
                    "src_ip" => Target::Src,
                    "dest_ip" => Target::Dst,
                    other => {
                        return Err(invalid(
                            kw,
                            format!("expected src_ip or dest_ip, got {}", preview(other)),
                        ))
                    }
                });
            }

            // ---- payload and buffers
            "content" => {
                let c = parse_content(kw, need(kw, v)?)?;
                let idx = self.push_item(kw, Check::Content(c))?;
                self.last_content = Some(idx);
            }
            "uricontent" => {
                let c = parse_content(kw, need(kw, v)?)?;
                let buf = BufferSel {
                    buffer: Buffer::HttpUri,
                    transforms: Vec::new(),
                };
                let idx = self.push_item_in(buf, Check::Content(c), true);
                self.last_content = Some(idx);
            }
            "nocase" | "rawbytes" | "startswith" | "endswith" => {
                no_value(kw, v)?;
                let c = self.last_content(kw)?;
                let flag = match kw {
                    "nocase" => &mut c.nocase,
                    "rawbytes" => &mut c.rawbytes,
                    "startswith" => &mut c.startswith,
                    _ => &mut c.endswith,
                };
                if std::mem::replace(flag, true) {
                    return Err(invalid(kw, "given twice on the same content"));
                }
                if kw == "rawbytes" && self.sticky.is_some() {
                    return Err(invalid(
                        kw,
                        "only applies to the packet payload, not a sticky buffer",
                    ));
                }
                self.last = prev;
            }
            "depth" | "offset" => {
                let n = self.num(kw, need(kw, v)?, 0, i64::from(u16::MAX))?;
                let c = self.last_content(kw)?;
                let slot = if kw == "depth" {
                    &mut c.depth
                } else {
                    &mut c.offset
                };
                if slot.replace(n).is_some() {
                    return Err(invalid(kw, "given twice on the same content"));
                }
                self.last = prev;
            }
            "distance" | "within" => {
                let n = self.num(kw, need(kw, v)?, i64::from(i32::MIN), i64::from(i32::MAX))?;
                let c = self.last_content(kw)?;
                let slot = if kw == "distance" {
                    &mut c.distance
                } else {
                    &mut c.within
                };
                if slot.replace(n).is_some() {
                    return Err(invalid(kw, "given twice on the same content"));
                }
                self.last = prev;
            }
            "fast_pattern" => {
                let fp = match v.map(str::trim) {
                    None | Some("") => FastPattern::default(),
                    Some("only") => FastPattern {
                        only: true,
                        chop: None,
                    },
                    Some(s) => {
                        let (a, b) = s.split_once(',').ok_or_else(|| {
                            invalid(
                                kw,
                                format!("expected `only` or `offset,length`, got {}", preview(s)),
                            )
                        })?;
                        FastPattern {
                            only: false,
                            chop: Some((u16_of(kw, a)?, u16_of(kw, b)?)),
                        }
                    }
                };
                if std::mem::replace(&mut self.seen_fast_pattern, true) {
                    return Err(invalid(
                        kw,
                        "only one content per rule can be the fast_pattern",
                    ));
                }
                self.last_content(kw)?.fast_pattern = Some(fp);
                self.last = prev;
            }
            "pcre" => {
                let (p, flag_buf) = parse_pcre(kw, need(kw, v)?)?;
                // A buffer flag naming the sticky buffer in force is redundant, as in Suricata;
                // `file.data` is where Suricata puts `/Q` (server body) too.
                let same = |flag: Buffer, s: &Sticky| {
                    flag == s.sel.buffer
                        || (flag == Buffer::HttpResponseBody && s.sel.buffer == Buffer::FileData)
                };
                match flag_buf {
                    Some(b) if self.sticky.as_ref().is_some_and(|s| same(b, s)) => {
                        self.push_item(kw, Check::Pcre(p))?;
                    }
                    Some(b) => {
                        if let Some(s) = &self.sticky {
                            return Err(invalid(
                                kw,
                                format!("HTTP buffer flag used inside sticky buffer `{}`", s.name),
                            ));
                        }
                        let buf = BufferSel {
                            buffer: b,
                            transforms: Vec::new(),
                        };
                        self.push_item_in(buf, Check::Pcre(p), true);
                    }
                    None => {
                        self.push_item(kw, Check::Pcre(p))?;
                    }
                }
            }
            "byte_test" => {
                let c = self.byte_test(kw, need(kw, v)?)?;
                self.push_item(kw, Check::ByteTest(c))?;
            }
            "byte_jump" => {
                let c = self.byte_jump(kw, need(kw, v)?)?;
                self.push_item(kw, Check::ByteJump(c))?;
            }
            "byte_extract" => {
                let c = self.byte_extract(kw, need(kw, v)?)?;
                self.push_item(kw, Check::ByteExtract(c))?;
            }
            "byte_math" => {
                let c = self.byte_math(kw, need(kw, v)?)?;
                self.push_item(kw, Check::ByteMath(c))?;
            }
            "isdataat" => {
                let a = args(need(kw, v)?);
                let first = a.first().copied().unwrap_or_default();
                let (negated, pos) = match first.strip_prefix('!') {
                    Some(p) => (true, p),
                    None => (false, first),
                };
                let pos = self.num(kw, pos, 0, i64::from(u16::MAX))?;
                let mut relative = false;
                for w in a.iter().skip(1) {
                    match *w {
                        "relative" => relative = true,
                        "rawbytes" => {}
                        other => {
                            return Err(invalid(kw, format!("unknown option {}", preview(other))))
                        }
                    }
                }
                self.push_item(
                    kw,
                    Check::IsDataAt(IsDataAt {
                        pos,
                        negated,
                        relative,
                    }),
                )?;
            }
            "bsize" => {
                if self.sticky.is_none() {
                    return Err(invalid(kw, "needs a sticky buffer before it"));
                }
                let c = cmp_of(kw, need(kw, v)?, u64::from(u32::MAX))?;
                self.push_item(kw, Check::Bsize(c))?;
            }
            "urilen" => {
                let val = need(kw, v)?;
                let (c, raw) = match val.rsplit_once(',').map(|(c, m)| (c, m.trim())) {
                    Some((c, "raw")) => (c, true),
                    Some((c, "norm")) => (c, false),
                    Some((_, other)) => {
                        return Err(invalid(
                            kw,
                            format!("expected raw or norm, got {}", preview(other.trim())),
                        ))
                    }
                    None => (val, false),
                };
                let c = cmp_of(kw, c, u64::from(u16::MAX))?;
                let buffer = if raw {
                    Buffer::HttpUriRaw
                } else {
                    Buffer::HttpUri
                };
                self.push_item_in(
                    BufferSel {
                        buffer,
                        transforms: Vec::new(),
                    },
                    Check::Urilen(c),
                    true,
                );
            }
            "absent" => {
                let or_else = match v.map(str::trim) {
                    None | Some("") => false,
                    Some("or_else") => true,
                    Some(other) => {
                        return Err(invalid(
                            kw,
                            format!("expected nothing or `or_else`, got {}", preview(other)),
                        ))
                    }
                };
                let Some(s) = &self.sticky else {
                    return Err(invalid(kw, "needs a sticky buffer before it"));
                };
                if !or_else && s.matches > 0 {
                    return Err(invalid(kw, format!("`{}` already has matches", s.name)));
                }
                self.push_item(kw, Check::Absent { or_else })?;
                if let Some(s) = &mut self.sticky {
                    s.absent = !or_else;
                }
            }
            "prefilter" => {
                no_value(kw, v)?;
                match prev {
                    Last::Item(i) => {
                        if let Some(item) = self.rule.items.get_mut(i) {
                            item.prefilter = true;
                        }
                    }
                    // A hint to the engine on a header-like keyword: does not change matching.
                    Last::Opt => {}
                    Last::Nothing => {
                        return Err(invalid(kw, "must follow a keyword that can prefilter"))
                    }
                }
                self.last = prev;
            }

            // ---- non-buffer options
            "flow" => {
                if std::mem::replace(&mut self.seen_flow, true) {
                    return Err(invalid(kw, "given twice"));
                }
                let f = flow(kw, need(kw, v)?)?;
                self.push_opt(Opt::Flow(f));
            }
            "flowbits" => {
                let f = flowbits(kw, need(kw, v)?)?;
                self.push_opt(Opt::Flowbits(f));
            }
            "xbits" => {
                let x = xbits(kw, need(kw, v)?)?;
                self.push_opt(Opt::Xbits(x));
            }
            "threshold" => {
                if self.seen_detection_filter {
                    return Err(invalid(kw, "cannot be combined with detection_filter"));
                }
                if std::mem::replace(&mut self.seen_threshold, true) {
                    return Err(invalid(kw, "given twice"));
                }
                let t = threshold_from_pairs(kw, &key_values(kw, need(kw, v)?)?)?;
                self.push_opt(Opt::Threshold(t));
            }
            "detection_filter" => {
                if self.seen_threshold {
                    return Err(invalid(kw, "cannot be combined with threshold"));
                }
                if std::mem::replace(&mut self.seen_detection_filter, true) {
                    return Err(invalid(kw, "given twice"));
                }
                let d = detection_filter(kw, need(kw, v)?)?;
                self.push_opt(Opt::DetectionFilter(d));
            }
            "noalert" => {
                no_value(kw, v)?;
                self.push_opt(Opt::NoAlert);
            }
            "dsize" => {
                let c = cmp_of(kw, need(kw, v)?, u64::from(u16::MAX))?;
                self.push_opt(Opt::Dsize(c));
            }
            "ttl" => {
                let c = cmp_of(kw, need(kw, v)?, 255)?;
                self.push_opt(Opt::Ttl(c));
            }
            "itype" => {
                let c = cmp_of(kw, need(kw, v)?, 255)?;
                self.push_opt(Opt::Itype(c));
            }
            "icode" => {
                let c = cmp_of(kw, need(kw, v)?, 255)?;
                self.push_opt(Opt::Icode(c));
            }
            "icmp_id" => {
                let n = u16_of(kw, unquote(need(kw, v)?).map_err(|r| invalid(kw, r))?)?;
                self.push_opt(Opt::IcmpId(n));
            }
            "icmp_seq" => {
                let n = u16_of(kw, unquote(need(kw, v)?).map_err(|r| invalid(kw, r))?)?;
                self.push_opt(Opt::IcmpSeq(n));
            }
            "flags" | "tcp.flags" => {
                let f = tcp_flags(kw, need(kw, v)?)?;
                self.push_opt(Opt::Flags(f));
            }
            "fragbits" => {
                let f = fragbits(kw, need(kw, v)?)?;
                self.push_opt(Opt::Fragbits(f));
            }
            "fragoffset" => {
                let c = cmp_of(kw, need(kw, v)?, u64::from(u16::MAX))?;
                self.push_opt(Opt::Fragoffset(c));
            }
            "id" => {
                let n = u16_of(kw, unquote(need(kw, v)?).map_err(|r| invalid(kw, r))?)?;
                self.push_opt(Opt::IpId(n));
            }
            "ip_proto" => {
                let c = ip_proto(kw, need(kw, v)?)?;
                self.push_opt(Opt::IpProto(c));
            }
            "ipopts" => {
                let name = need(kw, v)?.to_ascii_lowercase();
                let o = names::ipopt(&name)
                    .ok_or_else(|| invalid(kw, format!("unknown option {}", preview(&name))))?;
                self.push_opt(Opt::Ipopts(o));
            }
            "sameip" => {
                no_value(kw, v)?;
                self.push_opt(Opt::Sameip);
            }
            "seq" => {
                let n = u32_of(kw, need(kw, v)?)?;
                self.push_opt(Opt::Seq(n));
            }
            "ack" => {
                let n = u32_of(kw, need(kw, v)?)?;
                self.push_opt(Opt::Ack(n));
            }
            "window" => {
                let s = need(kw, v)?;
                let (negated, n) = match s.strip_prefix('!') {
                    Some(n) => (true, n),
                    None => (false, s),
                };
                let size = u16_of(kw, n)?;
                self.push_opt(Opt::Window { size, negated });
            }
            "tcp.mss" => {
                let c = cmp_of(kw, need(kw, v)?, u64::from(u16::MAX))?;
                self.push_opt(Opt::TcpMss(c));
            }
            "app-layer-protocol" => {
                let s = need(kw, v)?;
                if s.contains(',') {
                    // `,final` / `,original` / `,to_server` ... select which detection result.
                    return Err(unsupported("app-layer-protocol (with mode)"));
                }
                let (negated, name) = match s.strip_prefix('!') {
                    Some(n) => (true, n.trim()),
                    None => (false, s),
                };
                let proto = names::app_name(name)
                    .ok_or_else(|| invalid(kw, format!("unknown protocol {}", preview(name))))?;
                self.push_opt(Opt::AppLayerProtocol { proto, negated });
            }
            "decode-event" | "app-layer-event" | "stream-event" => {
                let s = need(kw, v)?;
                if !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
                {
                    return Err(invalid(kw, format!("bad event name {}", preview(s))));
                }
                let o = match kw {
                    "decode-event" => Opt::DecodeEvent(s.to_string()),
                    "app-layer-event" => Opt::AppLayerEvent(s.to_string()),
                    _ => Opt::StreamEvent(s.to_string()),
                };
                self.push_opt(o);
            }
            "ssl_version" => {
                let (bits, negated) = bit_list(kw, need(kw, v)?, &[','], |n| match n {
                    "sslv2" => Some(1),
                    "sslv3" => Some(2),
                    "tls1.0" => Some(4),
                    "tls1.1" => Some(8),
                    "tls1.2" => Some(16),
                    "tls1.3" => Some(32),
                    _ => None,
                })?;
                self.push_opt(Opt::SslVersion { bits, negated });
            }
            "ssl_state" => {
                let (bits, negated) = bit_list(kw, need(kw, v)?, &[',', '|'], |n| match n {
                    "client_hello" => Some(1),
                    "server_hello" => Some(2),
                    "client_keyx" => Some(4),
                    "server_keyx" => Some(8),
                    "unknown" => Some(16),
                    _ => None,
                })?;
                self.push_opt(Opt::SslState { bits, negated });
            }
            "tls.version" | "tls_version" => {
                let s = need(kw, v)?;
                let ver = match s {
                    "1.0" => 0x0301,
                    "1.1" => 0x0302,
                    "1.2" => 0x0303,
                    "1.3" => 0x0304,
                    "3.0" | "ssl3" | "sslv3" => 0x0300,
                    other if other.starts_with("0x") || other.starts_with("0X") => {
                        u16_of(kw, other)?
                    }
                    other => {
                        return Err(invalid(kw, format!("unknown version {}", preview(other))))
                    }
                };
                self.push_opt(Opt::TlsVersion(ver));
            }
            "tls.cert_chain_len" => {
                let c = cmp_of(kw, need(kw, v)?, u64::from(u32::MAX))?;
                self.push_opt(Opt::TlsCertChainLen(c));
            }
            "dns.opcode" => {
                let c = cmp_of(kw, need(kw, v)?, 15)?;
                self.push_opt(Opt::DnsOpcode(c));
            }
            "dns.rcode" => {
                let c = cmp_or_name(kw, need(kw, v)?, 0xffff, names::dns_rcode)?;
                self.push_opt(Opt::DnsRcode(c));
            }
            "dns.rrtype" => {
                if need(kw, v)?.contains(',') {
                    // Suricata 8's `value,index` form selects answers by position.
                    return Err(unsupported("dns.rrtype (with index)"));
                }
                let c = cmp_or_name(kw, need(kw, v)?, 0xffff, names::dns_rrtype)?;
                self.push_opt(Opt::DnsRrtype(c));
            }
            "stream_size" => {
                let o = stream_size(kw, need(kw, v)?)?;
                self.push_opt(o);
            }
            // Output or IPS-only keywords: no effect on what an IDS rule matches.
            "tag" => self.push_opt(Opt::Ignored("tag")),
            "replace" => {
                need(kw, v)?;
                self.push_opt(Opt::Ignored("replace"));
            }
            "filestore" => self.push_opt(Opt::Ignored("filestore")),
            _ => {
                if let Some(buffer) = names::sticky_buffer(kw) {
                    no_value(kw, v)?;
                    self.close_sticky(kw)?;
                    if buffer != Buffer::Payload {
                        self.sticky = Some(Sticky {
                            name: kw.to_string(),
                            sel: BufferSel {
                                buffer,
                                transforms: Vec::new(),
                            },
                            start: self.rule.items.len(),
                            matches: 0,
                            pending_transform: None,
                            absent: false,
                        });
                    }
                } else if let Some(buffer) = names::legacy_modifier(kw) {
                    no_value(kw, v)?;
                    self.legacy_modifier(kw, buffer)?;
                    self.last = prev;
                } else if let Some(t) = names::transform(kw) {
                    no_value(kw, v)?;
                    let s = self
                        .sticky
                        .as_mut()
                        .ok_or_else(|| invalid(kw, "transforms must follow a sticky buffer"))?;
                    if s.sel.transforms.len() >= MAX_TRANSFORMS {
                        return Err(invalid(
                            kw,
                            format!("more than {MAX_TRANSFORMS} transforms"),
                        ));
                    }
                    s.sel.transforms.push(t);
                    s.pending_transform = Some(names_static(kw));
                } else {
                    return Err(unsupported(kw));
                }
            }
        }
        Ok(())
    }

    fn legacy_modifier(&mut self, kw: &str, buffer: Buffer) -> R<()> {
        if let Some(s) = &self.sticky {
            return Err(invalid(
                kw,
                format!(
                    "content modifier used inside sticky buffer `{}`; use one or the other",
                    s.name
                ),
            ));
        }
        let idx = self
            .last_content
            .ok_or_else(|| invalid(kw, "no content before it"))?;
        if self.placed.get(idx).copied().unwrap_or(true) {
            return Err(invalid(kw, "the previous content already has a buffer"));
        }
        if let Some(item) = self.rule.items.get_mut(idx) {
            if let Check::Content(c) = &item.check {
                if c.rawbytes {
                    return Err(invalid(
                        kw,
                        "rawbytes content cannot be moved to an HTTP buffer",
                    ));
                }
            }
            item.buf = BufferSel {
                buffer,
                transforms: Vec::new(),
            };
        }
        if let Some(p) = self.placed.get_mut(idx) {
            *p = true;
        }
        Ok(())
    }

    fn byte_test(&self, kw: &str, v: &str) -> R<ByteTest> {
        let a = args(v);
        let [n, op, value, offset, rest @ ..] = a.as_slice() else {
            return Err(invalid(
                kw,
                "expected `nbytes, op, value, offset[, options]`",
            ));
        };
        let (nbytes, nbytes_var) = nbytes_or_var(kw, n)?;
        let (negated, op) = match op.strip_prefix('!') {
            Some(o) => (true, o.trim()),
            None => (false, *op),
        };
        let op = match op {
            "<" => ByteOp::Lt,
            ">" => ByteOp::Gt,
            "<=" => ByteOp::Le,
            ">=" => ByteOp::Ge,
            "=" => ByteOp::Eq,
            // `!` alone is Suricata's "not equal".
            "" if negated => ByteOp::Eq,
            "&" => ByteOp::And,
            "^" => ByteOp::Xor,
            other => return Err(invalid(kw, format!("unknown operator {}", preview(other)))),
        };
        let value = self.num(kw, value, 0, i64::MAX)?;
        let offset = self.num(kw, offset, -65535, 65535)?;
        let mut o = ByteOpts::default();
        for w in rest {
            if !o.word(kw, w)? {
                return Err(invalid(kw, format!("unknown option {}", preview(w))));
            }
        }
        o.check_nbytes(kw, nbytes, nbytes_var.is_some())?;
        Ok(ByteTest {
            nbytes,
            nbytes_var,
            op,
            negated,
            value,
            offset,
            relative: o.relative,
            endian: o.endian.unwrap_or_default(),
            string: o.string,
            bitmask: o.bitmask,
        })
    }

    fn byte_jump(&self, kw: &str, v: &str) -> R<ByteJump> {
        let a = args(v);
        let [n, offset, rest @ ..] = a.as_slice() else {
            return Err(invalid(kw, "expected `nbytes, offset[, options]`"));
        };
        let (nbytes, nbytes_var) = nbytes_or_var(kw, n)?;
        let offset = self.num(kw, offset, -65535, 65535)?;
        let mut o = ByteOpts::default();
        let mut j = ByteJump {
            nbytes,
            nbytes_var,
            offset,
            relative: false,
            multiplier: 1,
            endian: Endian::Big,
            string: None,
            align: false,
            from_beginning: false,
            from_end: false,
            post_offset: 0,
            bitmask: None,
        };
        for w in rest {
            if o.word(kw, w)? {
                continue;
            }
            match *w {
                "align" => j.align = true,
                "from_beginning" => j.from_beginning = true,
                "from_end" => j.from_end = true,
                _ => {
                    if let Some(m) = w.strip_prefix("multiplier") {
                        j.multiplier = multiplier_of(kw, m)?;
                    } else if let Some(p) = w.strip_prefix("post_offset") {
                        let p = int(p).map_err(|r| invalid(kw, r))?;
                        j.post_offset = i32::try_from(p)
                            .ok()
                            .filter(|p| (-65535..=65535).contains(p))
                            .ok_or_else(|| invalid(kw, "post_offset must be within ±65535"))?;
                    } else {
                        return Err(invalid(kw, format!("unknown option {}", preview(w))));
                    }
                }
            }
        }
        if j.from_beginning && j.from_end {
            return Err(invalid(kw, "from_beginning and from_end together"));
        }
        o.check_nbytes(kw, nbytes, j.nbytes_var.is_some())?;
        j.relative = o.relative;
        j.endian = o.endian.unwrap_or_default();
        j.string = o.string;
        j.bitmask = o.bitmask;
        Ok(j)
    }

    fn byte_extract(&mut self, kw: &str, v: &str) -> R<ByteExtract> {
        let a = args(v);
        let [n, offset, name, rest @ ..] = a.as_slice() else {
            return Err(invalid(kw, "expected `nbytes, offset, name[, options]`"));
        };
        let nbytes = nbytes_of(kw, n)?;
        let offset = int(offset).map_err(|r| invalid(kw, r))?;
        let offset = i32::try_from(offset)
            .ok()
            .filter(|o| (-65535..=65535).contains(o))
            .ok_or_else(|| invalid(kw, "offset must be within ±65535"))?;
        let mut o = ByteOpts::default();
        let (mut multiplier, mut align) = (1, 0);
        for w in rest {
            if o.word(kw, w)? {
                continue;
            }
            if let Some(m) = w.strip_prefix("multiplier") {
                multiplier = multiplier_of(kw, m)?;
            } else if let Some(al) = w.strip_prefix("align") {
                align = match al.trim() {
                    "2" => 2,
                    "4" => 4,
                    other => {
                        return Err(invalid(
                            kw,
                            format!("align must be 2 or 4, got {}", preview(other)),
                        ))
                    }
                };
            } else {
                return Err(invalid(kw, format!("unknown option {}", preview(w))));
            }
        }
        o.check_nbytes(kw, nbytes, false)?;
        let name = self.define_var(kw, name)?;
        Ok(ByteExtract {
            nbytes,
            offset,
            name,
            relative: o.relative,
            multiplier,
            endian: o.endian.unwrap_or_default(),
            string: o.string,
            align,
            bitmask: o.bitmask,
        })
    }

    /// `byte_math`: `name value` settings in any order (Suricata's syntax), also accepting the
    /// bare `big`/`little`/`string`/`hex` words of the other byte keywords.
    fn byte_math(&mut self, kw: &str, v: &str) -> R<ByteMath> {
        let a = args(v);
        let (mut nbytes, mut offset, mut op, mut rvalue, mut result) =
            (None, None, None, None, None);
        let mut o = ByteOpts::default();
        for w in &a {
            let (k, val) = match w.split_once(|c: char| c.is_ascii_whitespace()) {
                Some((k, val)) => (k, val.trim()),
                None => (*w, ""),
            };
            let dup = |set: bool| {
                if set {
                    Err(invalid(kw, format!("`{k}` given twice")))
                } else {
                    Ok(())
                }
            };
            match k {
                "bytes" => {
                    dup(nbytes.is_some())?;
                    nbytes = Some(nbytes_of(kw, val)?);
                }
                "offset" => {
                    dup(offset.is_some())?;
                    let off = int(val).map_err(|r| invalid(kw, r))?;
                    offset = Some(
                        i32::try_from(off)
                            .ok()
                            .filter(|o| (-65535..=65535).contains(o))
                            .ok_or_else(|| invalid(kw, "offset must be within ±65535"))?,
                    );
                }
                "oper" => {
                    dup(op.is_some())?;
                    op = Some(match val {
                        "+" => MathOp::Add,
                        "-" => MathOp::Sub,
                        "*" => MathOp::Mul,
                        "/" => MathOp::Div,
                        "<<" => MathOp::Shl,
                        ">>" => MathOp::Shr,
                        other => {
                            return Err(invalid(kw, format!("unknown oper {}", preview(other))))
                        }
                    });
                }
                "rvalue" => {
                    dup(rvalue.is_some())?;
                    rvalue = Some(self.num(kw, val, 0, i64::from(u32::MAX))?);
                }
                "result" => {
                    dup(result.is_some())?;
                    result = Some(val);
                }
                _ => {
                    if !o.word(kw, w)? {
                        return Err(invalid(kw, format!("unknown option {}", preview(w))));
                    }
                }
            }
        }
        let nbytes = nbytes.ok_or_else(|| invalid(kw, "missing `bytes`"))?;
        let offset = offset.ok_or_else(|| invalid(kw, "missing `offset`"))?;
        let op = op.ok_or_else(|| invalid(kw, "missing `oper`"))?;
        let rvalue = rvalue.ok_or_else(|| invalid(kw, "missing `rvalue`"))?;
        let result = result.ok_or_else(|| invalid(kw, "missing `result`"))?;
        if nbytes == 0 || nbytes > 10 {
            return Err(invalid(kw, format!("bytes must be 1 to 10, got {nbytes}")));
        }
        if matches!(op, MathOp::Shl | MathOp::Shr) && nbytes > 4 {
            return Err(invalid(kw, "bytes must be 1 to 4 with << or >>"));
        }
        let result = self.define_var(kw, result)?;
        Ok(ByteMath {
            nbytes,
            offset,
            op,
            rvalue,
            result,
            relative: o.relative,
            endian: o.endian.unwrap_or_default(),
            string: o.string,
            bitmask: o.bitmask,
        })
    }

    fn finish(mut self) -> R<Rule> {
        self.close_sticky("end of rule")?;
        if !self.seen_sid {
            return Err(invalid("sid", "missing (every rule needs a sid)"));
        }
        for item in &self.rule.items {
            if let Check::Content(c) = &item.check {
                validate_content(c)?;
            }
        }
        Ok(self.rule)
    }
}

/// Transform keywords as `'static` names (for error messages after the rule text is gone).
fn names_static(kw: &str) -> &'static str {
    match names::transform(kw) {
        Some(Transform::ToLowercase) => "to_lowercase",
        Some(Transform::ToUppercase) => "to_uppercase",
        Some(Transform::StripWhitespace) => "strip_whitespace",
        Some(Transform::CompressWhitespace) => "compress_whitespace",
        Some(Transform::UrlDecode) => "url_decode",
        Some(Transform::Dotprefix) => "dotprefix",
        Some(Transform::ToMd5) => "to_md5",
        Some(Transform::ToSha1) => "to_sha1",
        Some(Transform::ToSha256) => "to_sha256",
        Some(Transform::HeaderLowercase) => "header_lowercase",
        Some(Transform::StripPseudoHeaders) => "strip_pseudo_headers",
        None => "transform",
    }
}

/// Suricata's per-content consistency checks, run once all modifiers are known.
fn validate_content(c: &Content) -> R<()> {
    let shown = String::from_utf8_lossy(&c.pattern);
    let absolute = c.depth.is_some() || c.offset.is_some();
    if absolute && c.is_relative() {
        return Err(invalid(
            "content",
            format!(
                "{}: relative modifiers (distance/within) cannot be mixed with depth/offset",
                preview(&shown)
            ),
        ));
    }
    if c.startswith && (absolute || c.is_relative()) {
        return Err(invalid(
            "startswith",
            format!(
                "{}: cannot be combined with depth, offset, distance or within",
                preview(&shown)
            ),
        ));
    }
    let len = i64::try_from(c.pattern.len()).unwrap_or(i64::MAX);
    if let Some(Num::Lit(d)) = c.depth {
        if d < len {
            return Err(invalid(
                "depth",
                format!("{d} is smaller than the content length {len}"),
            ));
        }
    }
    if let Some(Num::Lit(w)) = c.within {
        if w < len {
            return Err(invalid(
                "within",
                format!("{w} is smaller than the content length {len}"),
            ));
        }
    }
    if let Some(fp) = c.fast_pattern {
        if let Some((off, l)) = fp.chop {
            if usize::from(off) + usize::from(l) > c.pattern.len() || l == 0 {
                return Err(invalid(
                    "fast_pattern",
                    format!("{off},{l} is outside the content (length {len})"),
                ));
            }
        }
        if (fp.only || c.negated) && (absolute || c.is_relative()) {
            return Err(invalid(
                "fast_pattern",
                "cannot be used on a negated or `only` content with depth/offset/distance/within",
            ));
        }
        if fp.only && c.negated {
            return Err(invalid(
                "fast_pattern",
                "`only` cannot be used on a negated content",
            ));
        }
    }
    Ok(())
}

fn flow(kw: &str, v: &str) -> R<FlowOpts> {
    let mut f = FlowOpts::default();
    for w in v.split(',') {
        let w = w.trim().to_ascii_lowercase();
        let slot = match w.as_str() {
            "established" => &mut f.established,
            "not_established" => &mut f.not_established,
            "stateless" => &mut f.stateless,
            "to_server" | "from_client" => &mut f.to_server,
            "to_client" | "from_server" => &mut f.to_client,
            "only_stream" => &mut f.only_stream,
            "no_stream" => &mut f.no_stream,
            "only_frag" => &mut f.only_frag,
            "no_frag" => &mut f.no_frag,
            _ => return Err(invalid(kw, format!("unknown option {}", preview(&w)))),
        };
        if std::mem::replace(slot, true) {
            return Err(invalid(kw, format!("`{w}` given twice")));
        }
    }
    let conflicts = [
        (f.to_server && f.to_client, "to_server and to_client"),
        (
            f.established && f.not_established,
            "established and not_established",
        ),
        (f.established && f.stateless, "established and stateless"),
        (
            f.not_established && f.stateless,
            "not_established and stateless",
        ),
        (f.only_stream && f.no_stream, "only_stream and no_stream"),
        (f.only_frag && f.no_frag, "only_frag and no_frag"),
    ];
    if let Some((_, what)) = conflicts.iter().find(|(bad, _)| *bad) {
        return Err(invalid(kw, format!("{what} contradict each other")));
    }
    Ok(f)
}

fn flowbit_names(kw: &str, s: &str, sep: char) -> R<Vec<String>> {
    let mut out = Vec::new();
    for n in s.split(sep) {
        let n = n.trim();
        if n.is_empty() || n.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(invalid(kw, format!("bad name in {}", preview(s))));
        }
        out.push(n.to_string());
    }
    Ok(out)
}

fn flowbits(kw: &str, v: &str) -> R<Flowbits> {
    let (cmd, names) = match v.split_once(',') {
        Some((c, n)) => (c.trim(), Some(n.trim())),
        None => (v.trim(), None),
    };
    let cmd = cmd.to_ascii_lowercase();
    if cmd == "noalert" {
        return match names {
            None => Ok(Flowbits::NoAlert),
            Some(_) => Err(invalid(kw, "noalert takes no name")),
        };
    }
    let names = names.ok_or_else(|| invalid(kw, format!("`{cmd}` needs a name")))?;
    if names.contains(',') {
        return Err(invalid(kw, "too many arguments"));
    }
    let (has_or, has_and) = (names.contains('|'), names.contains('&'));
    Ok(match cmd.as_str() {
        "set" | "unset" | "toggle" => {
            if has_and {
                return Err(invalid(kw, format!("`{cmd}` does not take `&`")));
            }
            let n = flowbit_names(kw, names, '|')?;
            match cmd.as_str() {
                "set" => Flowbits::Set(n),
                "unset" => Flowbits::Unset(n),
                _ => Flowbits::Toggle(n),
            }
        }
        "isset" | "isnotset" => {
            if has_or && has_and {
                return Err(invalid(kw, "cannot mix `|` and `&`"));
            }
            let n = flowbit_names(kw, names, if has_and { '&' } else { '|' })?;
            if cmd == "isset" {
                Flowbits::IsSet {
                    names: n,
                    all: has_and,
                }
            } else {
                Flowbits::IsNotSet {
                    names: n,
                    all: has_and,
                }
            }
        }
        other => return Err(invalid(kw, format!("unknown command {}", preview(other)))),
    })
}

fn xbits(kw: &str, v: &str) -> R<Xbits> {
    let a = args(v);
    let [cmd, name, rest @ ..] = a.as_slice() else {
        return Err(invalid(
            kw,
            "expected `command, name, track ip_src|ip_dst|ip_pair`",
        ));
    };
    let cmd = match cmd.to_ascii_lowercase().as_str() {
        "set" => XbitCmd::Set,
        "unset" => XbitCmd::Unset,
        "toggle" => XbitCmd::Toggle,
        "isset" => XbitCmd::IsSet,
        "isnotset" => XbitCmd::IsNotSet,
        other => return Err(invalid(kw, format!("unknown command {}", preview(other)))),
    };
    if name.is_empty()
        || name
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b == b'|' || b == b'&')
    {
        return Err(invalid(kw, format!("bad name {}", preview(name))));
    }
    let (mut track, mut expire) = (None, 30);
    for w in rest {
        let (k, val) = w.split_once(char::is_whitespace).unwrap_or((w, ""));
        match (k, val.trim()) {
            ("track", "ip_src") => track = Some(XbitTrack::IpSrc),
            ("track", "ip_dst") => track = Some(XbitTrack::IpDst),
            ("track", "ip_pair") => track = Some(XbitTrack::IpPair),
            // Suricata parses `track tx` but has no transaction bits in IDS mode either.
            ("track", other) => {
                return Err(unsupported(&format!("{kw} track {}", preview(other))));
            }
            ("expire", n) => {
                expire = u32_of(kw, n)?;
                if expire == 0 {
                    return Err(invalid(kw, "expire must be at least 1 second"));
                }
            }
            _ => return Err(invalid(kw, format!("unknown option {}", preview(w)))),
        }
    }
    let track = track.ok_or_else(|| invalid(kw, "missing `track ip_src|ip_dst|ip_pair`"))?;
    Ok(Xbits {
        cmd,
        name: name.to_string(),
        track,
        expire,
    })
}

fn detection_filter(kw: &str, v: &str) -> R<DetectionFilter> {
    let (mut track, mut count, mut seconds, mut unique_on) = (None, None, None, None);
    for (k, val) in key_values(kw, v)? {
        let dup = |set: bool| {
            if set {
                Err(invalid(kw, format!("`{k}` given twice")))
            } else {
                Ok(())
            }
        };
        match k.as_str() {
            "track" => {
                dup(track.is_some())?;
                track = Some(track_of(kw, &val)?);
            }
            "count" => {
                dup(count.is_some())?;
                count = Some(u32_of(kw, &val)?);
            }
            "seconds" => {
                dup(seconds.is_some())?;
                seconds = Some(u32_of(kw, &val)?);
            }
            "unique_on" => {
                dup(unique_on.is_some())?;
                unique_on = Some(match val.as_str() {
                    "src_port" => UniqueOn::SrcPort,
                    "dst_port" => UniqueOn::DstPort,
                    other => {
                        return Err(invalid(kw, format!("unknown unique_on {}", preview(other))))
                    }
                });
            }
            _ => return Err(invalid(kw, format!("unknown setting `{k}`"))),
        }
    }
    Ok(DetectionFilter {
        track: track.ok_or_else(|| invalid(kw, "missing `track`"))?,
        count: count.ok_or_else(|| invalid(kw, "missing `count`"))?,
        seconds: seconds.ok_or_else(|| invalid(kw, "missing `seconds`"))?,
        unique_on,
    })
}

fn flag_mod(kw: &str, c: char, m: &mut Option<FlagsMod>) -> R<()> {
    let new = match c {
        '+' => FlagsMod::Plus,
        '*' => FlagsMod::Any,
        _ => FlagsMod::Not,
    };
    if m.replace(new).is_some() {
        return Err(invalid(kw, "more than one modifier"));
    }
    Ok(())
}

fn tcp_flag_bit(c: char) -> Option<u8> {
    Some(match c.to_ascii_uppercase() {
        'F' => 0x01,
        'S' => 0x02,
        'R' => 0x04,
        'P' => 0x08,
        'A' => 0x10,
        'U' => 0x20,
        'E' | '2' => 0x40,
        'C' | '1' => 0x80,
        _ => return None,
    })
}

fn tcp_flags(kw: &str, v: &str) -> R<TcpFlags> {
    let (set, mask) = match v.split_once(',') {
        Some((s, m)) => (s.trim(), Some(m.trim())),
        None => (v.trim(), None),
    };
    let mut flags = 0u8;
    let mut modifier = None;
    let mut zero = false;
    for c in set.chars() {
        match c {
            '+' | '*' | '!' => flag_mod(kw, c, &mut modifier)?,
            '0' => zero = true,
            _ => {
                flags |=
                    tcp_flag_bit(c).ok_or_else(|| invalid(kw, format!("unknown flag {c:?}")))?
            }
        }
    }
    if zero && flags != 0 {
        return Err(invalid(kw, "`0` (no flags) combined with other flags"));
    }
    if !zero && flags == 0 {
        return Err(invalid(kw, "no flags given"));
    }
    let mut ignore = 0u8;
    if let Some(m) = mask {
        for c in m.chars() {
            ignore |= tcp_flag_bit(c)
                .ok_or_else(|| invalid(kw, format!("unknown flag {c:?} in mask")))?;
        }
    }
    Ok(TcpFlags {
        flags,
        modifier: modifier.unwrap_or(FlagsMod::Exact),
        ignore,
    })
}

fn fragbits(kw: &str, v: &str) -> R<Fragbits> {
    let mut bits = 0u8;
    let mut modifier = None;
    for c in v.trim().chars() {
        match c {
            '+' | '*' | '!' => flag_mod(kw, c, &mut modifier)?,
            'M' | 'm' => bits |= 0x1,
            'D' | 'd' => bits |= 0x2,
            'R' | 'r' => bits |= 0x4,
            _ => return Err(invalid(kw, format!("unknown bit {c:?}"))),
        }
    }
    if bits == 0 {
        return Err(invalid(kw, "no bits given"));
    }
    Ok(Fragbits {
        bits,
        modifier: modifier.unwrap_or(FlagsMod::Exact),
    })
}

fn ip_proto(kw: &str, v: &str) -> R<Cmp> {
    let v = v.trim();
    let (op, rest) = match v.as_bytes().first() {
        Some(b'!') => ("!", v.get(1..).unwrap_or_default()),
        Some(b'<') => ("<", v.get(1..).unwrap_or_default()),
        Some(b'>') => (">", v.get(1..).unwrap_or_default()),
        _ => ("", v),
    };
    let rest = rest.trim();
    let n = match uint(rest) {
        Ok(n) => n,
        Err(_) => names::ip_proto(rest)
            .ok_or_else(|| invalid(kw, format!("unknown protocol {}", preview(rest))))?,
    };
    if n > 255 {
        return Err(invalid(kw, format!("{n} is above 255")));
    }
    Ok(match op {
        "!" => Cmp::Ne(n),
        "<" => Cmp::Lt(n),
        ">" => Cmp::Gt(n),
        _ => Cmp::Eq(n),
    })
}

/// `[!]name` items separated by any of `seps`, to wanted / negated bit sets.
fn bit_list(kw: &str, v: &str, seps: &[char], table: fn(&str) -> Option<u8>) -> R<(u8, u8)> {
    let (mut bits, mut negated) = (0u8, 0u8);
    for item in v.split(seps) {
        let item = item.trim().to_ascii_lowercase();
        let (neg, name) = match item.strip_prefix('!') {
            Some(n) => (true, n.trim()),
            None => (false, item.as_str()),
        };
        let b =
            table(name).ok_or_else(|| invalid(kw, format!("unknown value {}", preview(name))))?;
        if neg {
            negated |= b;
        } else {
            bits |= b;
        }
    }
    Ok((bits, negated))
}

fn stream_size(kw: &str, v: &str) -> R<Opt> {
    let a = args(v);
    let [side, op, n] = a.as_slice() else {
        return Err(invalid(kw, "expected `side, operator, bytes`"));
    };
    let side = match *side {
        "server" => StreamSide::Server,
        "client" => StreamSide::Client,
        "both" => StreamSide::Both,
        "either" => StreamSide::Either,
        other => return Err(invalid(kw, format!("unknown side {}", preview(other)))),
    };
    let n = u64::from(u32_of(kw, n)?);
    let cmp = match *op {
        "<" => Cmp::Lt(n),
        ">" => Cmp::Gt(n),
        "=" => Cmp::Eq(n),
        "!=" => Cmp::Ne(n),
        "<=" => Cmp::Le(n),
        ">=" => Cmp::Ge(n),
        other => return Err(invalid(kw, format!("unknown operator {}", preview(other)))),
    };
    Ok(Opt::StreamSize { side, cmp })
}

/// Whether a check is placed relative to the previous match.
fn check_is_relative(c: &Check) -> bool {
    match c {
        Check::ByteTest(b) => b.relative,
        Check::ByteJump(b) => b.relative,
        Check::ByteExtract(b) => b.relative,
        Check::ByteMath(b) => b.relative,
        Check::IsDataAt(b) => b.relative,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(opts: &str) -> Result<Rule, RuleError> {
        parse_rule(
            &format!("alert tcp any any -> any any ({opts})"),
            Location::default(),
        )
    }

    fn ok(opts: &str) -> Rule {
        rule(opts).unwrap_or_else(|e| panic!("{opts}: {e}"))
    }

    fn err(opts: &str) -> RuleError {
        match rule(opts) {
            Ok(r) => panic!("{opts}: parsed as {r:?}"),
            Err(e) => e,
        }
    }

    fn is_invalid(opts: &str, keyword: &str) {
        match err(opts) {
            RuleError::Invalid { keyword: k, .. } if k == keyword => {}
            e => panic!("{opts}: expected invalid `{keyword}`, got {e:?}"),
        }
    }

    fn content(r: &Rule, i: usize) -> (&Content, Buffer) {
        match &r.items[i].check {
            Check::Content(c) => (c, r.items[i].buf.buffer),
            other => panic!("item {i} is {other:?}"),
        }
    }

    #[test]
    fn header() {
        let r = parse_rule(
            "drop udp [1.1.1.1, 2.2.2.2] !53 <> $HOME_NET [80,8080] (sid:1;)",
            Location {
                file: "f".into(),
                line: 3,
            },
        )
        .unwrap();
        assert_eq!(r.action, Action::Drop);
        assert_eq!(r.proto, Proto::Udp);
        assert!(r.bidirectional);
        assert!(matches!(r.src, AddrSpec::List(ref l) if l.len() == 2));
        assert_eq!(r.dst, AddrSpec::Var("HOME_NET".into()));
        assert_eq!(r.location.line, 3);
        assert_eq!((r.gid, r.rev), (1, 0));
        for (p, want) in [
            ("ip", Proto::Ip),
            ("pkthdr", Proto::Ip),
            ("tcp-pkt", Proto::TcpPkt),
            ("tcp-stream", Proto::TcpStream),
            ("icmpv4", Proto::IcmpV4),
            ("icmpv6", Proto::IcmpV6),
            ("http1", Proto::App(AppName::Http)),
            ("ssl", Proto::App(AppName::Tls)),
            ("ssh", Proto::App(AppName::Ssh)),
            ("failed", Proto::App(AppName::Failed)),
            ("smb", Proto::App(AppName::Other(OtherApp::Smb))),
            ("krb5", Proto::App(AppName::Other(OtherApp::Misc))),
        ] {
            let r = parse_rule(
                &format!("alert {p} any any -> any any (sid:1;)"),
                Location::default(),
            )
            .unwrap();
            assert_eq!(r.proto, want, "{p}");
        }
        for a in ["pass", "reject", "rejectsrc", "rejectdst", "rejectboth"] {
            assert!(parse_rule(
                &format!("{a} tcp any any -> any any (sid:1;)"),
                Location::default()
            )
            .is_ok());
        }
        for bad in [
            "alert tcp any any <- any any (sid:1;)",
            "alert tcp any any -> any (sid:1;)",
            "alert foo any any -> any any (sid:1;)",
            "bogus tcp any any -> any any (sid:1;)",
            "alert tcp any any -> any any sid:1;",
            "alert tcp any any -> any any (sid:1;",
            "alert tcp any any -> any any (sid:1)",
            "alert tcp any any -> any any (\u{1}\u{2};)",
        ] {
            assert!(
                matches!(
                    parse_rule(bad, Location::default()),
                    Err(RuleError::Syntax(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_rule("alert tcp 1.2.3 any -> any any (sid:1;)", Location::default()),
            Err(RuleError::Invalid { ref keyword, .. }) if keyword == "source address"
        ));
    }

    #[test]
    fn meta_keywords() {
        let r = ok(
            r#"msg:"a \"q\" \; \\ b"; sid:5; rev:3; gid:7; classtype:Trojan-Activity; priority:2; reference:url,example.com; reference:cve,2020-1; metadata:a b, c d; metadata: e f ; target:dest_ip;"#,
        );
        assert_eq!(r.msg, r#"a "q" ; \ b"#);
        assert_eq!((r.sid, r.rev, r.gid), (5, 3, 7));
        assert_eq!(r.classtype.as_deref(), Some("trojan-activity"));
        assert_eq!(r.priority, Some(2));
        assert_eq!(r.references, vec!["url,example.com", "cve,2020-1"]);
        assert_eq!(r.metadata, vec!["a b", "c d", "e f"]);
        assert_eq!(r.target, Some(Target::Dst));
        // An unknown classtype is for the engine to report.
        assert_eq!(
            ok("classtype:no-such-class; sid:1;").classtype.as_deref(),
            Some("no-such-class")
        );
        is_invalid("msg:\"x\";", "sid");
        is_invalid("sid:0;", "sid");
        is_invalid("sid:1; sid:2;", "sid");
        is_invalid("sid:x;", "sid");
        is_invalid("sid:1; priority:0;", "priority");
        is_invalid("sid:1; target:foo;", "target");
        is_invalid("sid:1; reference:nocomma;", "reference");
        is_invalid("sid:1; msg:\"unterminated;", "msg");
    }

    #[test]
    fn content_and_modifiers() {
        let r = ok(
            r#"content:"A|42 43|D\;\"\\\:"; nocase; depth:20; offset:2; content:!"x"; distance:-1; within:5; sid:1;"#,
        );
        let (c, b) = content(&r, 0);
        assert_eq!(c.pattern, b"ABCD;\"\\:");
        assert!(c.nocase && !c.negated);
        assert_eq!(
            (c.depth.clone(), c.offset.clone()),
            (Some(Num::Lit(20)), Some(Num::Lit(2)))
        );
        assert_eq!(b, Buffer::Payload);
        let (c, _) = content(&r, 1);
        assert!(c.negated && c.is_relative());
        assert_eq!(c.distance, Some(Num::Lit(-1)));
        assert!(c.fast_pattern.is_none());
        let r = ok(
            r#"content:"abcdef"; fast_pattern:1,3; startswith; content:"x"; endswith; rawbytes; sid:1;"#,
        );
        assert_eq!(
            content(&r, 0).0.fast_pattern,
            Some(FastPattern {
                only: false,
                chop: Some((1, 3))
            })
        );
        assert!(content(&r, 0).0.startswith);
        assert!(content(&r, 1).0.endswith && content(&r, 1).0.rawbytes);
        let r = ok(r#"content:"abc"; fast_pattern:only; sid:1;"#);
        assert!(content(&r, 0).0.fast_pattern.unwrap().only);

        is_invalid(r#"content:""; sid:1;"#, "content");
        is_invalid(r#"content:"a|4|"; sid:1;"#, "content");
        is_invalid(r#"content:"a|4g|"; sid:1;"#, "content");
        is_invalid(r#"content:"a|41"; sid:1;"#, "content");
        is_invalid(r#"content:"a\x"; sid:1;"#, "content");
        is_invalid(r#"content:"a"b"; sid:1;"#, "content");
        is_invalid(r#"content:abc; sid:1;"#, "content");
        is_invalid(r#"nocase; content:"a"; sid:1;"#, "nocase");
        is_invalid(r#"content:"a"; nocase; nocase; sid:1;"#, "nocase");
        is_invalid(r#"content:"a"; depth:1; depth:2; sid:1;"#, "depth");
        is_invalid(r#"content:"abc"; depth:2; sid:1;"#, "depth");
        is_invalid(r#"content:"abc"; within:2; sid:1;"#, "within");
        is_invalid(r#"content:"abc"; within:-5; sid:1;"#, "within");
        is_invalid(r#"content:"abc"; depth:5; distance:1; sid:1;"#, "content");
        is_invalid(r#"content:"abc"; within:5; offset:1; sid:1;"#, "content");
        is_invalid(
            r#"content:"abc"; startswith; offset:1; sid:1;"#,
            "startswith",
        );
        is_invalid(
            r#"content:"abc"; depth:3; startswith; sid:1;"#,
            "startswith",
        );
        is_invalid(r#"content:"abc"; depth:70000; sid:1;"#, "depth");
        is_invalid(r#"content:"abc"; depth:-1; sid:1;"#, "depth");
        is_invalid(r#"content:"abc"; fast_pattern:2,5; sid:1;"#, "fast_pattern");
        is_invalid(r#"content:"abc"; fast_pattern:x; sid:1;"#, "fast_pattern");
        is_invalid(
            r#"content:"a"; fast_pattern; content:"b"; fast_pattern; sid:1;"#,
            "fast_pattern",
        );
        is_invalid(
            r#"content:!"abc"; fast_pattern:only; sid:1;"#,
            "fast_pattern",
        );
        is_invalid(
            r#"content:"abc"; fast_pattern:only; distance:1; sid:1;"#,
            "fast_pattern",
        );
        is_invalid(r#"content:"abc"; nocase:1; sid:1;"#, "nocase");
        is_invalid(r#"content:"abc"; distance:nosuchvar; sid:1;"#, "distance");
    }

    #[test]
    fn legacy_modifiers_move_content() {
        let r = ok(
            r#"content:"GET"; http_method; content:"/x"; http_uri; content:"y"; uricontent:"z"; sid:1;"#,
        );
        assert_eq!(content(&r, 0).1, Buffer::HttpMethod);
        assert_eq!(content(&r, 1).1, Buffer::HttpUri);
        assert_eq!(content(&r, 2).1, Buffer::Payload);
        assert_eq!(content(&r, 3).1, Buffer::HttpUri);
        for (kw, b) in [
            ("http_raw_uri", Buffer::HttpUriRaw),
            ("http_header", Buffer::HttpHeader),
            ("http_raw_header", Buffer::HttpHeaderRaw),
            ("http_cookie", Buffer::HttpCookie),
            ("http_stat_code", Buffer::HttpStatCode),
            ("http_stat_msg", Buffer::HttpStatMsg),
            ("http_client_body", Buffer::HttpRequestBody),
            ("http_server_body", Buffer::HttpResponseBody),
            ("http_host", Buffer::HttpHost),
            ("http_raw_host", Buffer::HttpHostRaw),
            ("http_user_agent", Buffer::HttpUserAgent),
        ] {
            let r = ok(&format!(r#"content:"a"; nocase; {kw}; sid:1;"#));
            assert_eq!(content(&r, 0).1, b, "{kw}");
        }
        is_invalid(r#"http_uri; sid:1;"#, "http_uri");
        is_invalid(
            r#"content:"a"; http_uri; http_header; sid:1;"#,
            "http_header",
        );
        is_invalid(r#"http.uri; content:"a"; http_uri; sid:1;"#, "http_uri");
        is_invalid(r#"uricontent:"a"; http_header; sid:1;"#, "http_header");
        // pkt_data ends the sticky buffer, so legacy modifiers work again.
        let r = ok(r#"http.uri; content:"a"; pkt_data; content:"b"; http_cookie; sid:1;"#);
        assert_eq!(content(&r, 1).1, Buffer::HttpCookie);
    }

    #[test]
    fn sticky_buffers_and_transforms() {
        let r = ok(
            r#"http.uri; content:"a"; dns_query; dotprefix; to_lowercase; content:".b"; file_data; content:"c"; pkt_data; content:"d"; sid:1;"#,
        );
        assert_eq!(content(&r, 0).1, Buffer::HttpUri);
        assert_eq!(
            r.items[1].buf,
            BufferSel {
                buffer: Buffer::DnsQuery,
                transforms: vec![Transform::Dotprefix, Transform::ToLowercase]
            }
        );
        assert_eq!(content(&r, 2).1, Buffer::FileData);
        assert_eq!(content(&r, 3).1, Buffer::Payload);
        for (kw, b) in [
            ("http.uri.raw", Buffer::HttpUriRaw),
            ("http.request_line", Buffer::HttpRequestLine),
            ("http.header_names", Buffer::HttpHeaderNames),
            ("http.content_type", Buffer::HttpContentType),
            ("http_content_type", Buffer::HttpContentType),
            ("http.request_header", Buffer::HttpRequestHeader),
            ("http.response_body", Buffer::HttpResponseBody),
            ("tls.sni", Buffer::TlsSni),
            ("tls_sni", Buffer::TlsSni),
            ("tls.certs", Buffer::TlsCerts),
            ("ja3_hash", Buffer::Ja3Hash),
            ("ja3s.string", Buffer::Ja3sString),
            ("ja4.hash", Buffer::Ja4Hash),
        ] {
            let r = ok(&format!(r#"{kw}; content:"a"; sid:1;"#));
            assert_eq!(content(&r, 0).1, b, "{kw}");
        }
        // Transforms added after a match apply to later matches only.
        let r = ok(r#"http.uri; content:"A"; to_lowercase; content:"b"; sid:1;"#);
        assert!(r.items[0].buf.transforms.is_empty());
        assert_eq!(r.items[1].buf.transforms, vec![Transform::ToLowercase]);
        is_invalid(r#"http.uri; http.host; content:"a"; sid:1;"#, "http.uri");
        is_invalid(r#"content:"a"; http.uri; sid:1;"#, "http.uri");
        is_invalid(r#"to_lowercase; content:"a"; sid:1;"#, "to_lowercase");
        is_invalid(r#"http.uri; content:"a"; to_md5; sid:1;"#, "to_md5");
        is_invalid(r#"http.uri:1; content:"a"; sid:1;"#, "http.uri");
        is_invalid(
            r#"http.uri; content:"a"; http.host; nocase; sid:1;"#,
            "nocase",
        );
        is_invalid(r#"http.uri; content:"a"; rawbytes; sid:1;"#, "rawbytes");
        assert!(matches!(
            err(r#"http.uri; xor:"0d0a"; content:"a"; sid:1;"#),
            RuleError::Unsupported { .. }
        ));
    }

    #[test]
    fn pcre() {
        let r = ok(
            r#"pcre:"/a\;b\/c/smxAEGRO"; pcre:!"/x/Ui"; pcre:"!/y/H"; http.host; pcre:"/z/W"; sid:1;"#,
        );
        let Check::Pcre(p) = &r.items[0].check else {
            panic!()
        };
        assert_eq!(p.pattern, r"a\;b\/c");
        assert!(
            p.dotall
                && p.multiline
                && p.extended
                && p.anchored
                && p.dollar_endonly
                && p.ungreedy
                && p.relative
                && p.override_limits
        );
        assert!(!p.caseless && !p.negated);
        let Check::Pcre(p) = &r.items[1].check else {
            panic!()
        };
        assert!(p.negated && p.caseless);
        assert_eq!(r.items[1].buf.buffer, Buffer::HttpUri);
        assert_eq!(r.items[2].buf.buffer, Buffer::HttpHeader);
        assert_eq!(r.items[3].buf.buffer, Buffer::HttpHost);
        for (f, b) in [
            ("I", Buffer::HttpUriRaw),
            ("P", Buffer::HttpRequestBody),
            ("Q", Buffer::HttpResponseBody),
            ("D", Buffer::HttpHeaderRaw),
            ("M", Buffer::HttpMethod),
            ("C", Buffer::HttpCookie),
            ("S", Buffer::HttpStatCode),
            ("Y", Buffer::HttpStatMsg),
            ("V", Buffer::HttpUserAgent),
            ("Z", Buffer::HttpHostRaw),
            ("B", Buffer::Payload),
        ] {
            assert_eq!(
                ok(&format!(r#"pcre:"/a/{f}"; sid:1;"#)).items[0].buf.buffer,
                b,
                "{f}"
            );
        }
        is_invalid(r#"pcre:"/a/q"; sid:1;"#, "pcre");
        is_invalid(r#"pcre:"/a/UH"; sid:1;"#, "pcre");
        is_invalid(r#"pcre:"a"; sid:1;"#, "pcre");
        is_invalid(r#"pcre:"/a"; sid:1;"#, "pcre");
        is_invalid(r#"pcre:"//"; sid:1;"#, "pcre");
        is_invalid(r#"http.uri; pcre:"/a/H"; sid:1;"#, "pcre");
    }

    #[test]
    fn byte_keywords() {
        let r = ok("byte_extract:2,0,len,relative,little,multiplier 2,align 4; byte_test:4,!>,len,-2,relative,string,hex,bitmask 0xff; byte_jump:4,len,relative,little,align,from_beginning,post_offset -3,multiplier 2; byte_math:bytes 2, offset 1, oper <<, rvalue len, result r2, relative, endian little, string dec; isdataat:!r2,relative; sid:1;");
        let Check::ByteExtract(e) = &r.items[0].check else {
            panic!()
        };
        assert_eq!(
            (
                e.nbytes,
                e.offset,
                e.name.as_str(),
                e.multiplier,
                e.align,
                e.endian
            ),
            (2, 0, "len", 2, 4, Endian::Little)
        );
        let Check::ByteTest(t) = &r.items[1].check else {
            panic!()
        };
        assert_eq!(
            (t.op, t.negated, t.value.clone(), t.offset.clone()),
            (ByteOp::Gt, true, Num::Var("len".into()), Num::Lit(-2))
        );
        assert_eq!(
            (t.string, t.bitmask, t.relative),
            (Some(NumBase::Hex), Some(0xff), true)
        );
        let Check::ByteJump(j) = &r.items[2].check else {
            panic!()
        };
        assert_eq!(
            (
                j.offset.clone(),
                j.align,
                j.from_beginning,
                j.post_offset,
                j.multiplier
            ),
            (Num::Var("len".into()), true, true, -3, 2)
        );
        let Check::ByteMath(m) = &r.items[3].check else {
            panic!()
        };
        assert_eq!(
            (m.op, m.rvalue.clone(), m.result.as_str(), m.string),
            (
                MathOp::Shl,
                Num::Var("len".into()),
                "r2",
                Some(NumBase::Dec)
            )
        );
        let Check::IsDataAt(i) = &r.items[4].check else {
            panic!()
        };
        assert_eq!(
            *i,
            IsDataAt {
                pos: Num::Var("r2".into()),
                negated: true,
                relative: true
            }
        );
        // Both orders of byte_math settings.
        assert!(
            rule("byte_math:result x, rvalue 5, oper +, offset 0, bytes 1, dce; sid:1;").is_ok()
        );
        assert!(rule(
            "byte_test:1,=,1,0; byte_test:2,&,0x10,0,big; byte_test:0,<,100,0,string,dec; sid:1;"
        )
        .is_ok());

        is_invalid("byte_test:9,=,1,0; sid:1;", "byte_test");
        is_invalid("byte_test:0,=,1,0; sid:1;", "byte_test");
        is_invalid("byte_test:1,~,1,0; sid:1;", "byte_test");
        is_invalid("byte_test:1,=,1; sid:1;", "byte_test");
        is_invalid("byte_test:1,=,nosuch,0; sid:1;", "byte_test");
        is_invalid("byte_test:1,=,1,0,hex; sid:1;", "byte_test");
        is_invalid("byte_test:1,=,1,0,big,little; sid:1;", "byte_test");
        let r = ok("byte_extract:1,0,n; byte_jump:n,0,relative; byte_test:n,=,1,0; sid:1;");
        assert!(matches!(&r.items[1].check,
            Check::ByteJump(j) if j.nbytes_var.as_deref() == Some("n") && j.nbytes == 0));
        assert!(matches!(&r.items[2].check,
            Check::ByteTest(t) if t.nbytes_var.as_deref() == Some("n")));
        is_invalid("byte_jump:n-1,0; sid:1;", "byte_jump");
        is_invalid("byte_jump:4,0,from_beginning,from_end; sid:1;", "byte_jump");
        is_invalid("byte_jump:4,0,multiplier 0; sid:1;", "byte_jump");
        is_invalid("byte_extract:2,0,1bad; sid:1;", "byte_extract");
        is_invalid("byte_extract:2,0,v,align 3; sid:1;", "byte_extract");
        is_invalid(
            "byte_math:bytes 2, offset 0, oper +, rvalue 1; sid:1;",
            "byte_math",
        );
        is_invalid(
            "byte_math:bytes 8, offset 0, oper >>, rvalue 1, result x; sid:1;",
            "byte_math",
        );
        is_invalid(
            "byte_math:bytes 2, offset 0, oper %, rvalue 1, result x; sid:1;",
            "byte_math",
        );
        is_invalid("isdataat:-1; sid:1;", "isdataat");
        is_invalid("isdataat:1,foo; sid:1;", "isdataat");
        is_invalid("isdataat:v; sid:1;", "isdataat");
        // A variable byte count parses; whether `v` exists is checked when compiling.
        assert!(ok("byte_test:v,=,1,0; sid:1;").items.len() == 1);
    }

    #[test]
    fn bsize_urilen_absent_prefilter() {
        let r = ok(
            "http.uri; bsize:>10; urilen:5<>10,raw; urilen:<3; content:\"a\"; prefilter; sid:1;",
        );
        assert_eq!(r.items[0].check, Check::Bsize(Cmp::Gt(10)));
        assert_eq!(r.items[0].buf.buffer, Buffer::HttpUri);
        assert_eq!(
            (r.items[1].check.clone(), r.items[1].buf.buffer),
            (Check::Urilen(Cmp::Between(5, 10)), Buffer::HttpUriRaw)
        );
        assert_eq!(r.items[2].buf.buffer, Buffer::HttpUri);
        assert!(r.items[3].prefilter);
        let r = ok("http.referer; absent; sid:1;");
        assert_eq!(r.items[0].check, Check::Absent { or_else: false });
        let r = ok("http.referer; absent:or_else; content:\"x\"; sid:1;");
        assert_eq!(r.items[0].check, Check::Absent { or_else: true });
        assert!(ok("ttl:64; prefilter; sid:1;").items.is_empty());
        is_invalid("bsize:5; sid:1;", "bsize");
        is_invalid("http.referer; absent; content:\"x\"; sid:1;", "content");
        is_invalid("http.referer; content:\"x\"; absent; sid:1;", "absent");
        is_invalid("absent; sid:1;", "absent");
        is_invalid("http.uri; absent:foo; sid:1;", "absent");
        is_invalid("prefilter; sid:1;", "prefilter");
        is_invalid("urilen:5,foo; sid:1;", "urilen");
    }

    #[test]
    fn flow_and_flowbits() {
        let r = ok("flow:established,to_server,no_stream; flowbits:set,a|b; flowbits:isset,a&b; flowbits:isnotset,c; flowbits:noalert; flowbits:toggle,x; flowbits:unset,y; sid:1;");
        assert_eq!(
            r.opts[0],
            Opt::Flow(FlowOpts {
                established: true,
                to_server: true,
                no_stream: true,
                ..FlowOpts::default()
            })
        );
        assert_eq!(
            r.opts[1],
            Opt::Flowbits(Flowbits::Set(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            r.opts[2],
            Opt::Flowbits(Flowbits::IsSet {
                names: vec!["a".into(), "b".into()],
                all: true
            })
        );
        assert_eq!(
            r.opts[3],
            Opt::Flowbits(Flowbits::IsNotSet {
                names: vec!["c".into()],
                all: false
            })
        );
        assert_eq!(r.opts[4], Opt::Flowbits(Flowbits::NoAlert));
        assert!(
            matches!(ok("flow:from_client,stateless,only_frag; sid:1;").opts[0], Opt::Flow(f) if f.to_server && f.stateless && f.only_frag)
        );
        for bad in [
            "to_server,to_client",
            "established,not_established",
            "established,stateless",
            "only_stream,no_stream",
            "no_frag,only_frag",
            "sideways",
            "established,established",
        ] {
            is_invalid(&format!("flow:{bad}; sid:1;"), "flow");
        }
        is_invalid("flow:established; flow:to_server; sid:1;", "flow");
        for bad in [
            "set",
            "bogus,a",
            "isset,a|b&c",
            "set,a&b",
            "noalert,x",
            "set,a,b",
            "set,a||b",
        ] {
            is_invalid(&format!("flowbits:{bad}; sid:1;"), "flowbits");
        }
    }

    #[test]
    fn threshold_and_detection_filter() {
        let r = ok("threshold: type limit, track by_src, count 1, seconds 60; sid:1;");
        assert_eq!(
            r.opts[0],
            Opt::Threshold(Threshold {
                kind: ThresholdKind::Limit,
                track: Track::BySrc,
                count: 1,
                seconds: 60
            })
        );
        let r = ok("threshold:type backoff, track by_flow, count 1, multiplier 10; sid:1;");
        assert_eq!(
            r.opts[0],
            Opt::Threshold(Threshold {
                kind: ThresholdKind::Backoff { multiplier: 10 },
                track: Track::ByFlow,
                count: 1,
                seconds: 0
            })
        );
        assert!(rule("threshold:type both, track by_both, count 3, seconds 1; sid:1;").is_ok());
        assert!(
            rule("threshold:type threshold, track by_rule, count 3, seconds 1; sid:1;").is_ok()
        );
        let r = ok("detection_filter:track by_dst, count 5, seconds 2, unique_on dst_port; sid:1;");
        assert_eq!(
            r.opts[0],
            Opt::DetectionFilter(DetectionFilter {
                track: Track::ByDst,
                count: 5,
                seconds: 2,
                unique_on: Some(UniqueOn::DstPort)
            })
        );
        for bad in [
            "type limit, track by_src, count 1",
            "type nope, track by_src, count 1, seconds 1",
            "type limit, track by_nothing, count 1, seconds 1",
            "type limit, track by_src, count x, seconds 1",
            "type limit, type limit, track by_src, count 1, seconds 1",
            "type backoff, track by_flow, count 1",
            "type limit, track by_src, count 1, seconds 1, multiplier 2",
            "type limit, track by_src, count 1, seconds 1, foo 2",
        ] {
            is_invalid(&format!("threshold:{bad}; sid:1;"), "threshold");
        }
        is_invalid(
            "detection_filter:track by_src, count 1; sid:1;",
            "detection_filter",
        );
        is_invalid(
            "detection_filter:track by_src, count 1, seconds 1, unique_on x; sid:1;",
            "detection_filter",
        );
        is_invalid("detection_filter:track by_src, count 1, seconds 1; threshold:type limit, track by_src, count 1, seconds 1; sid:1;", "threshold");
    }

    #[test]
    fn packet_options() {
        let r = ok("dsize:>10; ttl:<5; itype:8; icode:!0; icmp_id:5; icmp_seq:7; id:3; seq:1; ack:2; window:!1024; sameip; noalert; fragoffset:>0; tcp.mss:<536; sid:1;");
        assert_eq!(
            r.opts,
            vec![
                Opt::Dsize(Cmp::Gt(10)),
                Opt::Ttl(Cmp::Lt(5)),
                Opt::Itype(Cmp::Eq(8)),
                Opt::Icode(Cmp::Ne(0)),
                Opt::IcmpId(5),
                Opt::IcmpSeq(7),
                Opt::IpId(3),
                Opt::Seq(1),
                Opt::Ack(2),
                Opt::Window {
                    size: 1024,
                    negated: true
                },
                Opt::Sameip,
                Opt::NoAlert,
                Opt::Fragoffset(Cmp::Gt(0)),
                Opt::TcpMss(Cmp::Lt(536)),
            ]
        );
        let r = ok("flags:SA+,CE; tcp.flags:!0; fragbits:*MD; ip_proto:!tcp; ip_proto:<17; ipopts:lsrr; ipopts:any; sid:1;");
        assert_eq!(
            r.opts[0],
            Opt::Flags(TcpFlags {
                flags: 0x12,
                modifier: FlagsMod::Plus,
                ignore: 0xc0
            })
        );
        assert_eq!(
            r.opts[1],
            Opt::Flags(TcpFlags {
                flags: 0,
                modifier: FlagsMod::Not,
                ignore: 0
            })
        );
        assert_eq!(
            r.opts[2],
            Opt::Fragbits(Fragbits {
                bits: 3,
                modifier: FlagsMod::Any
            })
        );
        assert_eq!(r.opts[3], Opt::IpProto(Cmp::Ne(6)));
        assert_eq!(r.opts[4], Opt::IpProto(Cmp::Lt(17)));
        assert_eq!(r.opts[5], Opt::Ipopts(Some(131)));
        assert_eq!(r.opts[6], Opt::Ipopts(None));
        assert_eq!(
            ok("flags:12; sid:1;").opts[0],
            Opt::Flags(TcpFlags {
                flags: 0xc0,
                modifier: FlagsMod::Exact,
                ignore: 0
            })
        );
        is_invalid("ttl:256; sid:1;", "ttl");
        is_invalid("dsize:70000; sid:1;", "dsize");
        is_invalid("itype:x; sid:1;", "itype");
        is_invalid("flags:SX; sid:1;", "flags");
        is_invalid("flags:+*S; sid:1;", "flags");
        is_invalid("flags:0S; sid:1;", "flags");
        is_invalid("fragbits:Q; sid:1;", "fragbits");
        is_invalid("ip_proto:nope; sid:1;", "ip_proto");
        is_invalid("ip_proto:300; sid:1;", "ip_proto");
        is_invalid("ipopts:bogus; sid:1;", "ipopts");
        is_invalid("window:70000; sid:1;", "window");
        is_invalid("sameip:1; sid:1;", "sameip");
        is_invalid("icmp_id:70000; sid:1;", "icmp_id");
    }

    #[test]
    fn app_options() {
        let r = ok("app-layer-protocol:!http; decode-event:ipv4.trunc_pkt; app-layer-event:http.request_field_too_long; stream-event:3whs_wrong_seq_wrong_ack; ssl_version:tls1.2,!sslv3; ssl_state:client_hello|!server_hello; tls.version:1.2; tls.cert_chain_len:>2; dns.opcode:!0; dns.rcode:nxdomain; dns.rrtype:AAAA; dns.rrtype:>10; stream_size:client,>=,100; sid:1;");
        assert_eq!(
            r.opts[0],
            Opt::AppLayerProtocol {
                proto: AppName::Http,
                negated: true
            }
        );
        assert_eq!(r.opts[1], Opt::DecodeEvent("ipv4.trunc_pkt".into()));
        assert_eq!(
            r.opts[4],
            Opt::SslVersion {
                bits: 16,
                negated: 2
            }
        );
        assert_eq!(
            r.opts[5],
            Opt::SslState {
                bits: 1,
                negated: 2
            }
        );
        assert_eq!(r.opts[6], Opt::TlsVersion(0x0303));
        assert_eq!(r.opts[7], Opt::TlsCertChainLen(Cmp::Gt(2)));
        assert_eq!(r.opts[8], Opt::DnsOpcode(Cmp::Ne(0)));
        assert_eq!(r.opts[9], Opt::DnsRcode(Cmp::Eq(3)));
        assert_eq!(r.opts[10], Opt::DnsRrtype(Cmp::Eq(28)));
        assert_eq!(r.opts[11], Opt::DnsRrtype(Cmp::Gt(10)));
        assert_eq!(
            r.opts[12],
            Opt::StreamSize {
                side: StreamSide::Client,
                cmp: Cmp::Ge(100)
            }
        );
        assert_eq!(
            ok("dns.rrtype:!mx; sid:1;").opts[0],
            Opt::DnsRrtype(Cmp::Ne(15))
        );
        is_invalid("app-layer-protocol:nope; sid:1;", "app-layer-protocol");
        is_invalid("ssl_version:tls9; sid:1;", "ssl_version");
        is_invalid("ssl_state:hello; sid:1;", "ssl_state");
        is_invalid("tls.version:9.9; sid:1;", "tls.version");
        is_invalid("dns.opcode:16; sid:1;", "dns.opcode");
        is_invalid("dns.rrtype:NOPE; sid:1;", "dns.rrtype");
        is_invalid("stream_size:client,~,1; sid:1;", "stream_size");
        is_invalid("stream_size:left,<,1; sid:1;", "stream_size");
        is_invalid("decode-event:a b; sid:1;", "decode-event");
    }

    #[test]
    fn ignored_and_unsupported() {
        let r = ok(r#"content:"a"; replace:"b"; tag:session,10,packets; filestore; sid:1;"#);
        assert_eq!(
            r.opts,
            vec![
                Opt::Ignored("replace"),
                Opt::Ignored("tag"),
                Opt::Ignored("filestore")
            ]
        );
        for kw in [
            "hostbits:set,x",
            "flowint:a,+,1",
            "base64_decode",
            "lua:x.lua",
            "dataset:isset,x",
            "ssh.proto",
            "smb.share",
            "ftpbounce",
            "http2.frametype:DATA",
            "asn1:oversize_length 10",
            "iprep:src,x,>,1",
            "bypass",
        ] {
            match err(&format!("{kw}; sid:1;")) {
                RuleError::Unsupported { keyword } => {
                    assert!(kw.starts_with(&keyword), "{kw} -> {keyword}")
                }
                e => panic!("{kw}: {e:?}"),
            }
        }
        // Keywords are case-insensitive, as in Suricata.
        assert!(rule("Content:\"a\"; NoCase; SID:1;").is_ok());
    }

    #[test]
    fn embedded_continuations() {
        let r = parse_rule(
            "alert tcp any any -> any any (msg:\"a\"; \\\n content:\"b\"; \\\r\n sid:1;)",
            Location::default(),
        );
        assert_eq!(r.map(|r| r.items.len()), Ok(1));
    }

    #[test]
    fn hostile_input_is_bounded() {
        let long = format!("content:\"{}\"; sid:1;", "a".repeat(MAX_RULE_BYTES));
        assert!(matches!(rule(&long), Err(RuleError::Syntax(_))));
        let many = "nocase;".repeat(5000);
        assert!(rule(&format!("content:\"a\"; {many} sid:1;")).is_err());
        for junk in [
            "",
            "(",
            ")",
            "alert",
            "alert tcp any any -> any any (",
            "\"\"\"",
            "alert tcp any any -> any any (;;;)",
            "alert tcp any any -> any any (content:\"|\"; sid:1;)",
        ] {
            assert!(parse_rule(junk, Location::default()).is_err(), "{junk}");
        }
    }
}
