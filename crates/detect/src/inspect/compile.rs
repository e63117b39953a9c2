//! `ast::Check` lists to [`Program`] ops: variables resolved to slots, patterns prepared, and
//! Suricata's "a relative keyword follows me" flags computed so matching can backtrack exactly
//! where Suricata does.

use vedette_rules::ast::{self, Check, Endian, MathOp, NumBase};

use super::search::ContentSearch;
use super::{Program, MAX_VARIABLES};

/// Why a rule's checks could not be compiled.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// PCRE2 rejected the pattern.
    #[error("pcre \"/{pattern}/\": {message}")]
    Pcre {
        /// The pattern as written in the rule.
        pattern: String,
        /// PCRE2's message.
        message: String,
    },
    /// `dce` byte order needs DCE/RPC state, which vedette does not have.
    #[error("{keyword}: dce not supported")]
    DceUnsupported {
        /// The keyword (`byte_test`, ...).
        keyword: &'static str,
    },
    /// nbytes outside what Suricata accepts for this keyword and form.
    #[error("{keyword}: nbytes {nbytes} out of range (1..={max})")]
    NbytesOutOfRange {
        /// The keyword.
        keyword: &'static str,
        /// The value given.
        nbytes: u8,
        /// The largest allowed value.
        max: u8,
    },
    /// A `Num::Var` names no earlier byte_extract/byte_math of this buffer.
    #[error("unknown variable \"{0}\" (no earlier byte_extract/byte_math on this buffer)")]
    UnknownVariable(String),
    /// More variables than [`MAX_VARIABLES`].
    #[error("more than {MAX_VARIABLES} byte_extract/byte_math variables")]
    TooManyVariables,
    /// byte_extract `align` other than 0, 2 or 4.
    #[error("byte_extract: align {0} (must be 2 or 4)")]
    BadAlign(u8),
}

/// A number known at compile time or read from a variable slot at match time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Val {
    Lit(i64),
    Var(u8),
}

/// Byte order of a binary extraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Order {
    Big,
    Little,
}

/// How bytes become a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Form {
    Binary(Order),
    /// ASCII digits in this radix (strtoull rules).
    String(u32),
}

/// A bitmask with Suricata's post-mask right shift (one bit per trailing zero of the mask).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Mask {
    pub mask: u64,
    pub shift: u32,
}

impl Mask {
    fn new(mask: Option<u64>) -> Option<Mask> {
        mask.map(|mask| Mask {
            mask,
            shift: if mask == 0 { 0 } else { mask.trailing_zeros() },
        })
    }

    pub(super) fn apply(m: Option<Mask>, val: u64) -> u64 {
        match m {
            None => val,
            Some(m) => {
                let v = val & m.mask;
                if v != 0 {
                    v >> m.shift
                } else {
                    v
                }
            }
        }
    }
}

#[derive(Debug)]
pub(super) struct ContentOp {
    pub search: ContentSearch,
    pub negated: bool,
    /// distance or within given: the window is relative to the cursor.
    pub relative: bool,
    pub distance: Option<Val>,
    pub within: Option<Val>,
    pub depth: Option<Val>,
    pub offset: Option<Val>,
    pub endswith: bool,
    /// Suricata's WITHIN_NEXT: when what follows fails, try this content's next occurrence.
    pub retry: bool,
    /// Suricata's RELATIVE_NEXT (either bit): something relative follows.
    pub relative_next: bool,
}

#[derive(Debug)]
pub(super) struct PcreOp {
    pub re: pcre2::bytes::Regex,
    pub negated: bool,
    pub relative: bool,
    /// Suricata's PCRE RELATIVE_NEXT: retry the next match when what follows fails.
    pub retry: bool,
}

#[derive(Debug)]
pub(super) struct ByteTestOp {
    pub nbytes: Val,
    pub form: Form,
    pub op: ast::ByteOp,
    pub negated: bool,
    pub value: Val,
    pub offset: Val,
    pub relative: bool,
    pub mask: Option<Mask>,
}

#[derive(Debug)]
pub(super) struct ByteJumpOp {
    pub nbytes: Val,
    pub form: Form,
    pub offset: Val,
    pub relative: bool,
    pub multiplier: u64,
    pub align: bool,
    pub from_beginning: bool,
    pub from_end: bool,
    pub post_offset: i64,
    pub mask: Option<Mask>,
}

#[derive(Debug)]
pub(super) struct ByteExtractOp {
    pub nbytes: u8,
    pub form: Form,
    pub offset: i64,
    pub relative: bool,
    pub multiplier: u64,
    pub align: u64,
    pub mask: Option<Mask>,
    pub slot: u8,
}

#[derive(Debug)]
pub(super) struct ByteMathOp {
    pub nbytes: u8,
    pub form: Form,
    pub offset: i64,
    pub relative: bool,
    pub op: MathOp,
    pub rvalue: Val,
    pub mask: Option<Mask>,
    pub slot: u8,
}

#[derive(Debug)]
pub(super) struct IsDataAtOp {
    pub pos: Val,
    pub negated: bool,
    pub relative: bool,
}

#[derive(Debug)]
pub(super) enum Op {
    Content(Box<ContentOp>),
    Pcre(Box<PcreOp>),
    ByteTest(ByteTestOp),
    ByteJump(ByteJumpOp),
    ByteExtract(ByteExtractOp),
    ByteMath(ByteMathOp),
    IsDataAt(IsDataAtOp),
    Bsize(ast::Cmp),
    Urilen(ast::Cmp),
    Absent { or_else: bool },
}

/// How a keyword ties to the previous content/pcre, for Suricata's *_NEXT flags.
enum Rel {
    None,
    /// Relative content with `within` (WITHIN_NEXT on a previous content).
    Within,
    /// Relative positive content with `distance` only (DISTANCE_NEXT: no retry).
    DistanceOnly,
    /// Everything else relative (RELATIVE_NEXT: both bits).
    Full,
}

/// Variable name → slot, in definition order; later definitions shadow earlier ones.
struct Vars {
    names: Vec<(String, u8)>,
    next: usize,
}

impl Vars {
    fn resolve(&self, n: &ast::Num) -> Result<Val, CompileError> {
        match n {
            ast::Num::Lit(v) => Ok(Val::Lit(*v)),
            ast::Num::Var(name) => self
                .names
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|&(_, s)| Val::Var(s))
                .ok_or_else(|| CompileError::UnknownVariable(name.clone())),
        }
    }

    fn define(&mut self, name: &str) -> Result<u8, CompileError> {
        if self.next >= MAX_VARIABLES {
            return Err(CompileError::TooManyVariables);
        }
        // MAX_VARIABLES fits in u8.
        let slot = self.next as u8;
        self.next += 1;
        self.names.push((name.to_string(), slot));
        Ok(slot)
    }
}

fn form(
    keyword: &'static str,
    endian: Endian,
    string: Option<NumBase>,
) -> Result<Form, CompileError> {
    if endian == Endian::Dce {
        return Err(CompileError::DceUnsupported { keyword });
    }
    Ok(match string {
        Some(NumBase::Hex) => Form::String(16),
        Some(NumBase::Dec) => Form::String(10),
        Some(NumBase::Oct) => Form::String(8),
        None => Form::Binary(if endian == Endian::Little {
            Order::Little
        } else {
            Order::Big
        }),
    })
}

fn check_nbytes(keyword: &'static str, nbytes: u8, min: u8, max: u8) -> Result<(), CompileError> {
    if nbytes < min || nbytes > max {
        return Err(CompileError::NbytesOutOfRange {
            keyword,
            nbytes,
            max,
        });
    }
    Ok(())
}

/// Suricata's limits on string extraction lengths: 23 characters for any base in byte_test and
/// byte_jump (the longest octal string that fits u64); byte_extract is stricter per base.
/// The byte count of byte_test/byte_jump: a checked literal or a variable slot (checked when
/// read: a count outside `min..=max` makes the keyword fail).
fn nbytes_val(
    vars: &Vars,
    keyword: &'static str,
    nbytes: u8,
    var: &Option<String>,
    min: u8,
    f: Form,
) -> Result<Val, CompileError> {
    match var {
        Some(name) => vars.resolve(&ast::Num::Var(name.clone())),
        None => {
            check_nbytes(keyword, nbytes, min, string_max(f, false))?;
            Ok(Val::Lit(i64::from(nbytes)))
        }
    }
}

/// Largest byte count of a read in form `f`.
pub(super) fn string_max(f: Form, extract: bool) -> u8 {
    match (f, extract) {
        (Form::Binary(_), _) => 8,
        (Form::String(_), false) => 23,
        (Form::String(16), true) => 14,
        (Form::String(10), true) => 20,
        (Form::String(_), true) => 23,
    }
}

impl Program {
    /// Compiles the checks of one rule that share one buffer, in rule order.
    pub fn compile(checks: &[&Check]) -> Result<Program, CompileError> {
        let mut vars = Vars {
            names: Vec::new(),
            next: 0,
        };
        let mut ops = Vec::with_capacity(checks.len());
        let mut rels = Vec::with_capacity(checks.len());
        let mut absent = None;
        for check in checks {
            let (op, rel) = compile_one(check, &mut vars)?;
            if let Op::Absent { or_else } = op {
                absent = Some(or_else);
            }
            ops.push(op);
            rels.push(rel);
        }
        set_next_flags(&mut ops, &rels);
        Ok(Program {
            ops,
            n_vars: vars.next,
            absent,
        })
    }
}

/// Sets WITHIN_NEXT / RELATIVE_NEXT on the content or pcre each relative keyword is relative
/// to (the nearest earlier content or pcre), as Suricata's keyword setup functions do.
fn set_next_flags(ops: &mut [Op], rels: &[Rel]) {
    for j in 0..ops.len() {
        let rel = match rels.get(j) {
            Some(Rel::None) | None => continue,
            Some(r) => r,
        };
        let Some(i) = (0..j)
            .rev()
            .find(|&i| matches!(ops.get(i), Some(Op::Content(_) | Op::Pcre(_))))
        else {
            continue;
        };
        match ops.get_mut(i) {
            Some(Op::Content(c)) => {
                c.relative_next = true;
                if !matches!(rel, Rel::DistanceOnly) {
                    c.retry = true;
                }
            }
            Some(Op::Pcre(p)) => p.retry = true,
            _ => {}
        }
    }
}

fn compile_one(check: &Check, vars: &mut Vars) -> Result<(Op, Rel), CompileError> {
    Ok(match check {
        Check::Content(c) => {
            let relative = c.is_relative();
            let rel = if c.within.is_some() {
                Rel::Within
            } else if c.distance.is_some() {
                if c.negated {
                    Rel::Full
                } else {
                    Rel::DistanceOnly
                }
            } else {
                Rel::None
            };
            let mut depth = c.depth.as_ref().map(|n| vars.resolve(n)).transpose()?;
            if c.startswith && depth.is_none() {
                // Suricata turns startswith into depth = pattern length (offset 0).
                depth = Some(Val::Lit(c.pattern.len() as i64));
            }
            let op = ContentOp {
                search: ContentSearch::new(&c.pattern, c.nocase),
                negated: c.negated,
                relative,
                distance: c.distance.as_ref().map(|n| vars.resolve(n)).transpose()?,
                within: c.within.as_ref().map(|n| vars.resolve(n)).transpose()?,
                depth,
                offset: c.offset.as_ref().map(|n| vars.resolve(n)).transpose()?,
                endswith: c.endswith,
                retry: false,
                relative_next: false,
            };
            (Op::Content(Box::new(op)), rel)
        }
        Check::Pcre(p) => {
            let re = super::pcre::build(p)?;
            let rel = if p.relative { Rel::Full } else { Rel::None };
            let op = PcreOp {
                re,
                negated: p.negated,
                relative: p.relative,
                retry: false,
            };
            (Op::Pcre(Box::new(op)), rel)
        }
        Check::ByteTest(b) => {
            let f = form("byte_test", b.endian, b.string)?;
            // String form accepts 0: every digit from the offset on (Suricata's unbounded read).
            let min = u8::from(matches!(f, Form::Binary(_)));
            let op = ByteTestOp {
                nbytes: nbytes_val(vars, "byte_test", b.nbytes, &b.nbytes_var, min, f)?,
                form: f,
                op: b.op,
                negated: b.negated,
                value: vars.resolve(&b.value)?,
                offset: vars.resolve(&b.offset)?,
                relative: b.relative,
                mask: Mask::new(b.bitmask),
            };
            (Op::ByteTest(op), rel_of(b.relative))
        }
        Check::ByteJump(b) => {
            let f = form("byte_jump", b.endian, b.string)?;
            // Suricata accepts nbytes 0: a jump by 0 (binary) or by an unbounded number string.
            let op = ByteJumpOp {
                nbytes: nbytes_val(vars, "byte_jump", b.nbytes, &b.nbytes_var, 0, f)?,
                form: f,
                offset: vars.resolve(&b.offset)?,
                relative: b.relative,
                multiplier: u64::from(b.multiplier.max(1)),
                align: b.align,
                from_beginning: b.from_beginning,
                from_end: b.from_end,
                post_offset: i64::from(b.post_offset),
                mask: Mask::new(b.bitmask),
            };
            (Op::ByteJump(op), rel_of(b.relative))
        }
        Check::ByteExtract(b) => {
            let f = form("byte_extract", b.endian, b.string)?;
            check_nbytes("byte_extract", b.nbytes, 1, string_max(f, true))?;
            if !matches!(b.align, 0 | 2 | 4) {
                return Err(CompileError::BadAlign(b.align));
            }
            let slot = vars.define(&b.name)?;
            let op = ByteExtractOp {
                nbytes: b.nbytes,
                form: f,
                offset: i64::from(b.offset),
                relative: b.relative,
                multiplier: u64::from(b.multiplier.max(1)),
                align: u64::from(b.align),
                mask: Mask::new(b.bitmask),
                slot,
            };
            (Op::ByteExtract(op), rel_of(b.relative))
        }
        Check::ByteMath(b) => {
            let f = form("byte_math", b.endian, b.string)?;
            // Suricata accepts up to 10; binary reads of more than 8 bytes never match.
            let max = if matches!(f, Form::Binary(_)) { 10 } else { 23 };
            check_nbytes("byte_math", b.nbytes, 1, max)?;
            // rvalue may name a variable defined before this keyword, not its own result.
            let rvalue = vars.resolve(&b.rvalue)?;
            let slot = vars.define(&b.result)?;
            let op = ByteMathOp {
                nbytes: b.nbytes,
                form: f,
                offset: i64::from(b.offset),
                relative: b.relative,
                op: b.op,
                rvalue,
                mask: Mask::new(b.bitmask),
                slot,
            };
            (Op::ByteMath(op), rel_of(b.relative))
        }
        Check::IsDataAt(d) => {
            let op = IsDataAtOp {
                pos: vars.resolve(&d.pos)?,
                negated: d.negated,
                relative: d.relative,
            };
            (Op::IsDataAt(op), rel_of(d.relative))
        }
        Check::Bsize(c) => (Op::Bsize(*c), Rel::None),
        Check::Urilen(c) => (Op::Urilen(*c), Rel::None),
        Check::Absent { or_else } => (Op::Absent { or_else: *or_else }, Rel::None),
    })
}

fn rel_of(relative: bool) -> Rel {
    if relative {
        Rel::Full
    } else {
        Rel::None
    }
}
