//! Suricata `pcre` flags to a PCRE2 regex. The safe `pcre2` crate exposes only some compile
//! options, so the others are written into the pattern: match/depth limits and ungreedy as
//! leading inline settings, `A` as a `\G` anchor, `E` by rewriting `$` to `\z`.

use pcre2::bytes::{Regex, RegexBuilder};
use vedette_rules::ast::Pcre;

use super::CompileError;

/// Suricata's default `pcre.match-limit`.
pub const PCRE_MATCH_LIMIT: u32 = 3500;
/// Suricata's default `pcre.match-limit-recursion` (PCRE2's depth limit).
pub const PCRE_DEPTH_LIMIT: u32 = 1500;
/// Limits used with the `O` flag: Suricata removes its limits there; vedette keeps a cap so one
/// rule cannot stall a worker.
pub const PCRE_OVERRIDE_MATCH_LIMIT: u32 = 1_000_000;
/// Depth limit with the `O` flag.
pub const PCRE_OVERRIDE_DEPTH_LIMIT: u32 = 100_000;

/// Start-of-pattern verbs PCRE2 accepts only at the very beginning; they are moved in front of
/// the anchoring group vedette adds for `A`.
const START_VERBS: &[&str] = &[
    "UTF",
    "UCP",
    "NO_AUTO_POSSESS",
    "NO_DOTSTAR_ANCHOR",
    "NO_JIT",
    "NO_START_OPT",
    "NOTEMPTY",
    "NOTEMPTY_ATSTART",
    "CR",
    "LF",
    "CRLF",
    "ANYCRLF",
    "ANY",
    "NUL",
    "BSR_ANYCRLF",
    "BSR_UNICODE",
    "LIMIT_MATCH",
    "LIMIT_DEPTH",
    "LIMIT_HEAP",
    "LIMIT_RECURSION",
];

/// Compiles a rule's pcre with its flags (`R`, `O` and negation are handled by the caller).
pub(super) fn build(p: &Pcre) -> Result<Regex, CompileError> {
    let pattern = pattern_text(p);
    RegexBuilder::new()
        .caseless(p.caseless)
        .dotall(p.dotall)
        .multi_line(p.multiline)
        .extended(p.extended)
        .jit_if_available(true)
        .build(&pattern)
        .map_err(|e| CompileError::Pcre {
            pattern: p.pattern.clone(),
            message: e.to_string(),
        })
}

/// The pattern PCRE2 compiles: limits, then the user's start verbs, then options, then the body.
fn pattern_text(p: &Pcre) -> String {
    let (match_limit, depth_limit) = if p.override_limits {
        (PCRE_OVERRIDE_MATCH_LIMIT, PCRE_OVERRIDE_DEPTH_LIMIT)
    } else {
        (PCRE_MATCH_LIMIT, PCRE_DEPTH_LIMIT)
    };
    let (verbs, body) = split_start_verbs(&p.pattern);
    let body = if p.dollar_endonly && !p.multiline {
        dollar_to_end(body)
    } else {
        body.to_string()
    };
    let mut out = format!("(*LIMIT_MATCH={match_limit})(*LIMIT_DEPTH={depth_limit}){verbs}");
    if p.ungreedy {
        out.push_str("(?U)");
    }
    if p.anchored {
        // PCRE2_ANCHORED anchors at the start offset, which is what \G asserts. The closing
        // `\E` ends an unterminated \Q, and the newline ends a trailing `#` comment in
        // extended mode, so the group always closes.
        out.push_str("\\G(?:");
        out.push_str(&body);
        out.push_str("\\E");
        if p.extended || body.contains("(?x") {
            out.push('\n');
        }
        out.push(')');
    } else {
        out.push_str(&body);
    }
    out
}

/// Splits leading `(*VERB)` / `(*VERB=n)` items off the pattern.
fn split_start_verbs(pat: &str) -> (&str, &str) {
    let mut i = 0;
    while let Some(rest) = pat.get(i..).and_then(|r| r.strip_prefix("(*")) {
        let Some(close) = rest.find(')') else { break };
        let name = rest.get(..close).unwrap_or("");
        let name = name.split('=').next().unwrap_or("");
        if !START_VERBS.contains(&name) {
            break;
        }
        i += 2 + close + 1;
    }
    (pat.get(..i).unwrap_or(""), pat.get(i..).unwrap_or(pat))
}

/// Rewrites unescaped `$` outside character classes to `\z` (PCRE2_DOLLAR_ENDONLY: `$` matches
/// only at the very end, not before a final newline).
fn dollar_to_end(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len() + 4);
    let mut chars = pat.chars().peekable();
    let mut in_class = false;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            out.push(c);
            if c == '\\' && chars.peek() == Some(&'E') {
                out.push('E');
                chars.next();
                quoted = false;
            }
            continue;
        }
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                    if n == 'Q' {
                        quoted = true;
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal member.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // POSIX class like [:alpha:] inside a class.
                out.push(c);
                for n in chars.by_ref() {
                    out.push(n);
                    if n == ']' {
                        break;
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '$' if !in_class => out.push_str("\\z"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_verbs_are_hoisted() {
        assert_eq!(split_start_verbs("(*UTF)(*UCP)ab"), ("(*UTF)(*UCP)", "ab"));
        assert_eq!(split_start_verbs("(*F)ab"), ("", "(*F)ab"));
        assert_eq!(
            split_start_verbs("(*LIMIT_MATCH=10)a"),
            ("(*LIMIT_MATCH=10)", "a")
        );
    }

    #[test]
    fn dollar_rewrite_skips_classes_and_escapes() {
        assert_eq!(dollar_to_end("a$"), "a\\z");
        assert_eq!(dollar_to_end("[$]\\$"), "[$]\\$");
        assert_eq!(dollar_to_end("[]$]$"), "[]$]\\z");
        assert_eq!(dollar_to_end("[[:alpha:]$]$"), "[[:alpha:]$]\\z");
        assert_eq!(dollar_to_end("\\Q$\\E$"), "\\Q$\\E\\z");
    }
}
