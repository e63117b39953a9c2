//! Hand-written scanning shared by the rule, classification and threshold parsers: logical
//! lines, the rule's option list, bracket-aware splitting and quoted values. No regex: rule
//! files are large and this is the hot path of loading them.

use std::borrow::Cow;

use crate::{RuleError, MAX_RULE_BYTES};

/// One logical line: physical lines joined where they end in `\`.
pub(crate) struct LogicalLine<'a> {
    /// 1-based number of the first physical line.
    pub line: u32,
    /// The joined bytes, without line terminators and continuation backslashes.
    pub text: Cow<'a, [u8]>,
    /// The joined line exceeded [`MAX_RULE_BYTES`]; `text` is truncated.
    pub too_long: bool,
}

/// Iterator over the logical lines of a file.
pub(crate) struct LogicalLines<'a> {
    rest: &'a [u8],
    next_line: u32,
}

impl<'a> LogicalLines<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        LogicalLines {
            rest: text,
            next_line: 1,
        }
    }

    /// Takes one physical line (without `\n` / `\r\n`), or `None` at end of input.
    fn physical(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(p) => (
                self.rest.get(..p).unwrap_or_default(),
                self.rest.get(p + 1..).unwrap_or_default(),
            ),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        self.next_line = self.next_line.saturating_add(1);
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// Splits a trailing continuation backslash (after trailing whitespace, as Suricata does).
fn continuation(line: &[u8]) -> Option<&[u8]> {
    let end = line.iter().rposition(|b| !b.is_ascii_whitespace())?;
    let body = line.get(..=end)?;
    body.strip_suffix(b"\\")
}

impl<'a> Iterator for LogicalLines<'a> {
    type Item = LogicalLine<'a>;

    fn next(&mut self) -> Option<LogicalLine<'a>> {
        let line = self.next_line;
        let first = self.physical()?;
        let Some(body) = continuation(first) else {
            let too_long = first.len() > MAX_RULE_BYTES;
            let text = if too_long {
                Cow::Borrowed(&[][..])
            } else {
                Cow::Borrowed(first)
            };
            return Some(LogicalLine {
                line,
                text,
                too_long,
            });
        };
        // A comment ending in `\` does not swallow the next line: comments are whole lines.
        if first.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'#') {
            return Some(LogicalLine {
                line,
                text: Cow::Borrowed(first),
                too_long: false,
            });
        }
        let mut joined: Vec<u8> = body.to_vec();
        let mut too_long = joined.len() > MAX_RULE_BYTES;
        while let Some(next) = self.physical() {
            let (part, more) = match continuation(next) {
                Some(b) => (b, true),
                None => (next, false),
            };
            if !too_long {
                if joined.len() + part.len() > MAX_RULE_BYTES {
                    too_long = true;
                    joined.clear();
                } else {
                    joined.extend_from_slice(part);
                }
            }
            if !more {
                break;
            }
        }
        Some(LogicalLine {
            line,
            text: Cow::Owned(joined),
            too_long,
        })
    }
}

/// One `keyword[:value];` of a rule, as written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawOpt<'a> {
    /// The keyword.
    pub keyword: &'a str,
    /// The value, trimmed, escapes still in place; `None` for `keyword;`.
    pub value: Option<&'a str>,
}

fn is_keyword_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-'
}

/// Splits the text between the rule's parentheses into options. Like Suricata, a value ends at
/// the first `;` not preceded by a backslash (quotes do not protect `;`).
pub(crate) fn split_options(body: &str) -> Result<Vec<RawOpt<'_>>, RuleError> {
    let b = body.as_bytes();
    let mut out = Vec::with_capacity(16);
    let mut i = 0;
    loop {
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        if i >= b.len() {
            return Ok(out);
        }
        let ks = i;
        while b.get(i).is_some_and(|&c| is_keyword_byte(c)) {
            i += 1;
        }
        let keyword = body.get(ks..i).unwrap_or_default();
        if keyword.is_empty() {
            let c = body.get(i..).and_then(|s| s.chars().next()).unwrap_or(' ');
            return Err(RuleError::syntax(format!(
                "expected an option keyword at byte {i} of the options, found {c:?}"
            )));
        }
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        match b.get(i) {
            Some(b';') => {
                out.push(RawOpt {
                    keyword,
                    value: None,
                });
                i += 1;
            }
            Some(b':') => {
                i += 1;
                let vs = i;
                let mut escaped = false;
                loop {
                    match b.get(i) {
                        None => {
                            return Err(RuleError::syntax(format!(
                                "option `{keyword}` is not terminated by ';'"
                            )))
                        }
                        Some(b'\\') => escaped = !escaped,
                        Some(b';') if !escaped => break,
                        Some(_) => escaped = false,
                    }
                    i += 1;
                }
                let value = body.get(vs..i).unwrap_or_default().trim();
                out.push(RawOpt {
                    keyword,
                    value: Some(value),
                });
                i += 1;
            }
            None => {
                return Err(RuleError::syntax(format!(
                    "option `{keyword}` is not terminated by ';'"
                )))
            }
            Some(&c) => {
                return Err(RuleError::syntax(format!(
                    "unexpected {:?} after option keyword `{keyword}`",
                    char::from(c)
                )))
            }
        }
    }
}

/// Splits `s` at `sep` bytes that are outside `[...]`. Errors on unbalanced brackets.
pub(crate) fn split_top(s: &str, sep: u8) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, &c) in s.as_bytes().iter().enumerate() {
        match c {
            b'[' => depth += 1,
            b']' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced ']' in {s:?}"))?
            }
            c if c == sep && depth == 0 => {
                out.push(s.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("unbalanced '[' in {s:?}"));
    }
    out.push(s.get(start..).unwrap_or_default());
    Ok(out)
}

/// Splits a rule header on whitespace outside brackets (Suricata allows `[1.2.3.4, 5.6.7.8]`).
pub(crate) fn header_tokens(h: &str) -> Result<Vec<&str>, RuleError> {
    let mut out = Vec::with_capacity(7);
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    for (i, &c) in h.as_bytes().iter().enumerate() {
        match c {
            b'[' => depth += 1,
            b']' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| RuleError::syntax("unbalanced ']' in the rule header"))?
            }
            _ => {}
        }
        if c.is_ascii_whitespace() && depth == 0 {
            if let Some(s) = start.take() {
                out.push(h.get(s..i).unwrap_or_default());
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if depth != 0 {
        return Err(RuleError::syntax("unbalanced '[' in the rule header"));
    }
    if let Some(s) = start {
        out.push(h.get(s..).unwrap_or_default());
    }
    Ok(out)
}

/// True when the byte at `end` (a quote) is escaped by an odd run of backslashes before it.
fn escaped_at(b: &[u8], end: usize) -> bool {
    let mut n = 0;
    let mut i = end;
    while i > 0 && b.get(i - 1) == Some(&b'\\') {
        n += 1;
        i -= 1;
    }
    n % 2 == 1
}

/// Strips the quotes of a `"..."` value (escapes kept). Unquoted values are returned as is.
pub(crate) fn unquote(v: &str) -> Result<&str, String> {
    let v = v.trim();
    if !v.starts_with('"') {
        if v.ends_with('"') && !escaped_at(v.as_bytes(), v.len() - 1) {
            return Err(format!("unbalanced quote in {}", preview(v)));
        }
        return Ok(v);
    }
    if v.len() < 2 || !v.ends_with('"') || escaped_at(v.as_bytes(), v.len() - 1) {
        return Err(format!("unterminated quoted value {}", preview(v)));
    }
    Ok(v.get(1..v.len() - 1).unwrap_or_default())
}

/// Removes the rule-syntax escapes `\;` `\"` `\\` `\:` (other backslashes are kept).
pub(crate) fn unescape(v: &str) -> Cow<'_, str> {
    if !v.contains('\\') {
        return Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(n @ (';' | '"' | '\\' | ':')) => out.push(n),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// A short, quoted preview of a value for error messages (hostile values can be huge).
pub(crate) fn preview(v: &str) -> String {
    const MAX: usize = 60;
    if v.len() <= MAX {
        return format!("{v:?}");
    }
    let mut end = MAX;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}...", v.get(..end).unwrap_or_default())
}

/// Walks a line-oriented config file (classification.config, threshold.config): skips blank
/// and `#` lines, reports over-long lines into `errors`, and hands every other line, trimmed,
/// to `f` with its location; what `f` returns as an error is reported at that location.
pub(crate) fn for_each_config_line(
    text: &str,
    file: &str,
    errors: &mut Vec<(crate::ast::Location, String)>,
    mut f: impl FnMut(&str) -> Result<(), String>,
) {
    for line in LogicalLines::new(text.as_bytes()) {
        let loc = crate::ast::Location {
            file: file.to_string(),
            line: line.line,
        };
        let s = String::from_utf8_lossy(&line.text);
        let s = s.trim();
        if s.is_empty() || s.starts_with('#') {
            continue;
        }
        if line.too_long {
            errors.push((loc, "line too long".to_string()));
            continue;
        }
        if let Err(e) = f(s) {
            errors.push((loc, e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<(u32, String)> {
        LogicalLines::new(s.as_bytes())
            .map(|l| (l.line, String::from_utf8_lossy(&l.text).into_owned()))
            .collect()
    }

    #[test]
    fn logical_lines_join_and_crlf() {
        assert_eq!(
            lines("a\r\nb \\\r\nc\\\nd\n\ne"),
            vec![
                (1, "a".into()),
                (2, "b cd".into()),
                (5, "".into()),
                (6, "e".into())
            ]
        );
        assert_eq!(
            lines("# x \\\ny"),
            vec![(1, "# x \\".into()), (2, "y".into())]
        );
        assert_eq!(lines("x \\"), vec![(1, "x ".into())]);
    }

    #[test]
    fn options_split_on_unescaped_semicolon() {
        let o = split_options(r#" msg:"a\;b"; nocase ; content: "x\\"; sid:1;"#).unwrap();
        let v: Vec<_> = o.iter().map(|o| (o.keyword, o.value)).collect();
        assert_eq!(
            v,
            vec![
                ("msg", Some(r#""a\;b""#)),
                ("nocase", None),
                ("content", Some(r#""x\\""#)),
                ("sid", Some("1"))
            ]
        );
        assert!(split_options("sid:1").is_err());
        assert!(split_options("sid:1; \"x").is_err());
        assert!(split_options("nocase").is_err());
    }

    #[test]
    fn header_tokens_respect_brackets() {
        let t = header_tokens("alert tcp [1.1.1.1, 2.2.2.2] any -> any [80, 81] ").unwrap();
        assert_eq!(
            t,
            vec![
                "alert",
                "tcp",
                "[1.1.1.1, 2.2.2.2]",
                "any",
                "->",
                "any",
                "[80, 81]"
            ]
        );
        assert!(header_tokens("alert tcp [1.1.1.1 any").is_err());
    }

    #[test]
    fn quotes() {
        assert_eq!(unquote(r#""abc""#).unwrap(), "abc");
        assert_eq!(unquote("abc").unwrap(), "abc");
        assert!(unquote(r#""abc\""#).is_err());
        assert!(unquote(r#""abc"#).is_err());
        assert!(unquote(r#"""#).is_err());
        assert_eq!(unescape(r#"a\;b\"c\\d\xe"#), r#"a;b"c\d\xe"#);
    }
}
