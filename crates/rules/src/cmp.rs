//! Numeric comparisons shared by `dsize`, `ttl`, `itype`, `bsize`, `urilen`, ... and plain
//! integer parsing.

use crate::ast::Cmp;
use crate::lexer::preview;
use crate::RuleError;

/// Parses a comparison: `5`, `=5`, `!5`, `!=5`, `<5`, `<=5`, `>5`, `>=5`, `1-10`, `1<>10`,
/// `!1-10` (ranges are exclusive, as in Suricata). Numbers are decimal or `0x` hex.
pub fn parse_cmp(s: &str) -> Result<Cmp, RuleError> {
    cmp(s).map_err(|reason| RuleError::invalid("comparison", reason))
}

/// [`parse_cmp`] with the reason as a plain string, for keyword-specific errors.
pub(crate) fn cmp(s: &str) -> Result<Cmp, String> {
    let s = s.trim();
    let (neg, rest) = match s.strip_prefix('!') {
        Some(r) if !r.starts_with('=') => (true, r.trim_start()),
        _ => (false, s),
    };
    for sep in ["<>", "-"] {
        if let Some((a, b)) = rest.split_once(sep) {
            // `<` followed by `>` is a range; `-` after an operator is not one.
            if a.trim().is_empty() {
                break;
            }
            let a = uint(a)?;
            let b = uint(b)?;
            if a >= b {
                return Err(format!(
                    "range {} has its start at or above its end",
                    preview(s)
                ));
            }
            return Ok(if neg {
                Cmp::NotBetween(a, b)
            } else {
                Cmp::Between(a, b)
            });
        }
    }
    if neg {
        return Ok(Cmp::Ne(uint(rest)?));
    }
    let (op, num): (fn(u64) -> Cmp, &str) = if let Some(r) = s.strip_prefix("<=") {
        (Cmp::Le, r)
    } else if let Some(r) = s.strip_prefix(">=") {
        (Cmp::Ge, r)
    } else if let Some(r) = s.strip_prefix("!=") {
        (Cmp::Ne, r)
    } else if let Some(r) = s.strip_prefix("==") {
        (Cmp::Eq, r)
    } else if let Some(r) = s.strip_prefix('<') {
        (Cmp::Lt, r)
    } else if let Some(r) = s.strip_prefix('>') {
        (Cmp::Gt, r)
    } else if let Some(r) = s.strip_prefix('=') {
        (Cmp::Eq, r)
    } else {
        (Cmp::Eq, s)
    };
    Ok(op(uint(num)?))
}

/// An unsigned integer: decimal or `0x` hex, surrounding whitespace allowed.
pub(crate) fn uint(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, radix) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (t, 10),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("not a number: {}", preview(t)));
    }
    u64::from_str_radix(digits, radix).map_err(|_| format!("number out of range: {}", preview(t)))
}

/// A signed integer: optional sign, decimal or `0x` hex.
pub(crate) fn int(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = uint(rest)?;
    let v = i64::try_from(v).map_err(|_| format!("number out of range: {}", preview(t)))?;
    Ok(if neg { -v } else { v })
}

/// Largest value any part of `c` names.
pub(crate) fn cmp_max(c: &Cmp) -> u64 {
    match *c {
        Cmp::Eq(a) | Cmp::Ne(a) | Cmp::Lt(a) | Cmp::Le(a) | Cmp::Gt(a) | Cmp::Ge(a) => a,
        Cmp::Between(_, b) | Cmp::NotBetween(_, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_cmp("5").unwrap(), Cmp::Eq(5));
        assert_eq!(parse_cmp(" = 5").unwrap(), Cmp::Eq(5));
        assert_eq!(parse_cmp("<5").unwrap(), Cmp::Lt(5));
        assert_eq!(parse_cmp("<= 5").unwrap(), Cmp::Le(5));
        assert_eq!(parse_cmp(">5").unwrap(), Cmp::Gt(5));
        assert_eq!(parse_cmp(">=5").unwrap(), Cmp::Ge(5));
        assert_eq!(parse_cmp("!5").unwrap(), Cmp::Ne(5));
        assert_eq!(parse_cmp("!= 0").unwrap(), Cmp::Ne(0));
        assert_eq!(parse_cmp("1-10").unwrap(), Cmp::Between(1, 10));
        assert_eq!(parse_cmp("1<>10").unwrap(), Cmp::Between(1, 10));
        assert_eq!(parse_cmp("1 <> 10").unwrap(), Cmp::Between(1, 10));
        assert_eq!(parse_cmp("!1-10").unwrap(), Cmp::NotBetween(1, 10));
        assert_eq!(parse_cmp("0x10").unwrap(), Cmp::Eq(16));
        for bad in [
            "",
            "<",
            "a",
            "10-1",
            "5-5",
            "-5",
            "<-5",
            "1-",
            "99999999999999999999",
            "<>5",
            "!",
        ] {
            assert!(parse_cmp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ints() {
        assert_eq!(int("-5").unwrap(), -5);
        assert_eq!(int("+5").unwrap(), 5);
        assert_eq!(int("0x10").unwrap(), 16);
        assert!(int("--5").is_err());
        assert!(uint("").is_err());
    }
}
