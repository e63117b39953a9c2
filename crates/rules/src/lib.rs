//! Suricata's rule language: rule text to an AST ([`ast`]) with file:line errors.
//!
//! Owns: syntax and the meaning of each keyword's arguments; address and port variables;
//! the classification table; threshold.config files. Must not: know about traffic or how rules
//! are matched (that is `vedette-detect`).
//!
//! Every keyword that could change what a rule matches is either parsed fully or rejected with
//! [`RuleError::Unsupported`], so the engine can skip and report the rule rather than evaluate
//! it wrongly. Parsing is linear in the input and never panics on hostile text.
#![forbid(unsafe_code)]

pub mod ast;
pub mod classification;
pub mod threshold_config;

mod addr;
mod cmp;
mod lexer;
mod names;
mod parse;

pub use addr::{parse_addr, parse_ports};
pub use cmp::parse_cmp;

/// Longest rule (after joining continuation lines) we accept, in bytes. Suricata's own rule
/// loader caps lines well below this; the limit bounds the memory one hostile line can take.
pub const MAX_RULE_BYTES: usize = 64 * 1024;

/// Deepest `[...]` nesting accepted in address and port lists; bounds recursion.
pub const MAX_LIST_DEPTH: usize = 16;

/// Most transforms accepted on one sticky buffer (Suricata's own limit).
pub const MAX_TRANSFORMS: usize = 16;

/// Why a rule (or an address/port/number expression) was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The text is not a rule: bad header, unterminated option or quote, bad bytes.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// A keyword Suricata knows (or might know) that vedette does not implement: the rule must
    /// be skipped and reported, never evaluated without it.
    #[error("unsupported keyword `{keyword}`")]
    Unsupported {
        /// The keyword as written (lower case).
        keyword: String,
    },
    /// A known keyword with a bad value or in a place Suricata rejects.
    #[error("invalid `{keyword}`: {reason}")]
    Invalid {
        /// The keyword (or header field) at fault.
        keyword: String,
        /// What is wrong.
        reason: String,
    },
}

impl RuleError {
    /// Shorthand for [`RuleError::Invalid`].
    pub(crate) fn invalid(keyword: &str, reason: impl Into<String>) -> Self {
        RuleError::Invalid {
            keyword: keyword.to_string(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`RuleError::Syntax`].
    pub(crate) fn syntax(reason: impl Into<String>) -> Self {
        RuleError::Syntax(reason.into())
    }
}

/// Parses one rule. `text` is the rule without its trailing newline (continuation lines already
/// joined); `location` is recorded in the rule.
pub fn parse_rule(text: &str, location: ast::Location) -> Result<ast::Rule, RuleError> {
    parse::parse_rule(text, location)
}

/// The result of parsing a rules file: the rules that parsed, and one error per rule that did
/// not (with its file:line).
#[derive(Clone, Debug, Default)]
pub struct ParsedFile {
    /// Rules in file order.
    pub rules: Vec<ast::Rule>,
    /// Rejected rules, in file order.
    pub errors: Vec<(ast::Location, RuleError)>,
}

/// Parses a whole rules file. Blank lines and `#` comments are skipped, lines ending in `\` are
/// joined with the next, CRLF is accepted. A line that is not UTF-8 or does not parse becomes
/// one error; the rest of the file is still parsed.
pub fn parse_rules(text: &[u8], file: &str) -> ParsedFile {
    let mut out = ParsedFile::default();
    for line in lexer::LogicalLines::new(text) {
        let location = ast::Location {
            file: file.to_string(),
            line: line.line,
        };
        if line.too_long {
            out.errors.push((
                location,
                RuleError::syntax(format!("rule is longer than {MAX_RULE_BYTES} bytes")),
            ));
            continue;
        }
        let text = match std::str::from_utf8(&line.text) {
            Ok(t) => t,
            Err(e) => {
                out.errors.push((
                    location,
                    RuleError::syntax(format!("not valid UTF-8 at byte {}", e.valid_up_to())),
                ));
                continue;
            }
        };
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse::parse_rule(trimmed, location.clone()) {
            Ok(rule) => out.rules.push(rule),
            Err(e) => out.errors.push((location, e)),
        }
    }
    out
}
