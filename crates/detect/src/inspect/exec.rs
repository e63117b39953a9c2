//! Running a [`Program`]: Suricata 7's `DetectEngineContentInspection` semantics.
//!
//! Each keyword either fails, or passes and hands over to the next keyword (recursively, so a
//! content or pcre can try its next occurrence when everything after it failed). Results are
//! tri-state like Suricata's: `Discontinue` means no later retry can help (an absolute keyword
//! failed, or the step limit was hit), which stops all backtracking.

use vedette_rules::ast::{ByteOp, MathOp};

use super::bytes::extract;
use super::compile::{
    string_max, ByteExtractOp, ByteJumpOp, ByteMathOp, ByteTestOp, ContentOp, Form, IsDataAtOp,
    Mask, Op, PcreOp, Val,
};
use super::{Program, Scratch, INSPECTION_RECURSION_LIMIT};

/// Outcome of a keyword and everything after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    Match,
    NoMatch,
    Discontinue,
}

/// isdataat values from variables at or above this never match (Suricata's sanity bound).
const ISDATAAT_VAR_MAX: u64 = 100_000_000;

impl Program {
    /// Runs the checks on `buf` (already transformed). True on match.
    pub fn matches(&self, buf: &[u8], scratch: &mut Scratch) -> bool {
        if self.ops.is_empty() {
            return true;
        }
        if scratch.vars.len() < self.n_vars {
            // Grows once per worker to the largest program's needs.
            scratch.vars.resize(self.n_vars, 0);
        }
        scratch.cursor = 0;
        scratch.steps = 0;
        let r = self.run(0, buf, scratch);
        if scratch.steps >= INSPECTION_RECURSION_LIMIT {
            scratch.stats.recursion_limit_hits += 1;
        }
        r == Res::Match
    }

    /// Evaluates op `idx` and, when it passes, the ops after it.
    fn run(&self, idx: usize, buf: &[u8], st: &mut Scratch) -> Res {
        st.steps += 1;
        if st.steps >= INSPECTION_RECURSION_LIMIT {
            return Res::Discontinue;
        }
        let Some(op) = self.ops.get(idx) else {
            return Res::Match;
        };
        match op {
            Op::Content(c) => self.content(idx, c, buf, st),
            Op::Pcre(p) => self.pcre(idx, p, buf, st),
            Op::ByteTest(b) => {
                if byte_test(b, buf, st) {
                    self.next(idx, buf, st)
                } else {
                    Res::NoMatch
                }
            }
            Op::ByteJump(b) => {
                if byte_jump(b, buf, st) {
                    self.next(idx, buf, st)
                } else {
                    Res::NoMatch
                }
            }
            Op::ByteExtract(b) => {
                if byte_extract(b, buf, st) {
                    self.next(idx, buf, st)
                } else {
                    Res::NoMatch
                }
            }
            Op::ByteMath(b) => {
                if byte_math(b, buf, st) {
                    self.next(idx, buf, st)
                } else {
                    Res::NoMatch
                }
            }
            Op::IsDataAt(d) => match isdataat(d, buf, st) {
                Res::Match => self.next(idx, buf, st),
                r => r,
            },
            // The length cannot change by retrying earlier keywords.
            Op::Bsize(cmp) => {
                if cmp.matches(buf.len() as u64) {
                    self.next(idx, buf, st)
                } else {
                    Res::Discontinue
                }
            }
            Op::Urilen(cmp) => {
                let len = buf.len().min(usize::from(u16::MAX)) as u64;
                if cmp.matches(len) {
                    self.next(idx, buf, st)
                } else {
                    Res::Discontinue
                }
            }
            Op::Absent { or_else } => {
                if *or_else {
                    self.next(idx, buf, st)
                } else {
                    Res::NoMatch
                }
            }
        }
    }

    /// Op `idx` passed: the program matches if it was the last, else the rest decides.
    fn next(&self, idx: usize, buf: &[u8], st: &mut Scratch) -> Res {
        if idx + 1 >= self.ops.len() {
            Res::Match
        } else {
            self.run(idx + 1, buf, st)
        }
    }

    fn content(&self, idx: usize, c: &ContentOp, buf: &[u8], st: &mut Scratch) -> Res {
        let len = buf.len() as i64;
        let prev_cursor = st.cursor as i64;
        // Start of the previous occurrence + 1 when retrying; 0 on the first search.
        let mut retry_from: i64 = 0;
        loop {
            let (mut start, mut end) = if c.relative {
                relative_window(c, prev_cursor, len, st)
            } else {
                absolute_window(c, len, st)
            };
            if retry_from != 0 {
                start = retry_from;
            }
            end = end.min(len);
            if start > end || end <= 0 {
                return if c.negated {
                    self.next(idx, buf, st)
                } else {
                    Res::NoMatch
                };
            }
            // 0 <= start <= end <= len here.
            let (s, e) = (start as usize, end as usize);
            let window = buf.get(s..e).unwrap_or(&[]);
            let plen = c.search.len();

            if c.negated {
                let found = if c.endswith && e < buf.len() {
                    None
                } else {
                    c.search.find(window).map(|at| s + at)
                };
                let Some(at) = found else {
                    return self.next(idx, buf, st);
                };
                // Suricata compares the window length with the match's absolute end, so with a
                // non-zero window start this is only "ends at buffer end" when start is 0.
                if c.endswith && window.len() != at + plen {
                    return self.next(idx, buf, st);
                }
                let single =
                    !(c.relative || c.relative_next || c.depth.is_some() || c.offset.is_some());
                return if single {
                    Res::Discontinue
                } else {
                    Res::NoMatch
                };
            }

            let found = if c.endswith {
                // Only an occurrence ending at the buffer end counts (Suricata scans forward to
                // it; the result is the same occurrence).
                if e < buf.len() || plen > buf.len() {
                    None
                } else {
                    let at = buf.len() - plen;
                    (at >= s && c.search.is_at(buf, at)).then_some(at)
                }
            } else {
                c.search.find(window).map(|at| s + at)
            };
            let Some(at) = found else {
                return if c.relative {
                    Res::NoMatch
                } else {
                    // Independent of earlier matches: no retry of theirs can help.
                    Res::Discontinue
                };
            };
            st.cursor = at + plen;
            if idx + 1 >= self.ops.len() {
                return Res::Match;
            }
            match self.run(idx + 1, buf, st) {
                Res::NoMatch => {}
                r => return r,
            }
            if !c.retry {
                return Res::Discontinue;
            }
            retry_from = at as i64 + 1;
        }
    }

    fn pcre(&self, idx: usize, p: &PcreOp, buf: &[u8], st: &mut Scratch) -> Res {
        let prev_cursor = st.cursor;
        // Absolute start of the previous match + 1; 0 before any match.
        let mut retry_from: usize = 0;
        loop {
            let base = if p.relative {
                st.cursor.min(buf.len())
            } else {
                0
            };
            let subject = buf.get(base..).unwrap_or(&[]);
            let start = retry_from.saturating_sub(base);
            let matched = if start > subject.len() {
                // PCRE2 would reject the start offset: no match.
                false
            } else {
                match p.re.find_at(subject, start) {
                    Ok(None) => p.negated,
                    Ok(Some(m)) => {
                        if p.negated {
                            false
                        } else {
                            st.cursor = base + m.end();
                            retry_from = base + m.start() + 1;
                            true
                        }
                    }
                    Err(_) => {
                        // Match/depth limit (or another PCRE2 error): no match either way.
                        st.stats.pcre_errors += 1;
                        false
                    }
                }
            };
            if !matched {
                return Res::NoMatch;
            }
            if !p.retry {
                return self.next(idx, buf, st);
            }
            match self.run(idx + 1, buf, st) {
                Res::NoMatch => {}
                r => return r,
            }
            if retry_from == 0 {
                // Negated pcre: there is no "next occurrence".
                return Res::NoMatch;
            }
            st.cursor = prev_cursor;
        }
    }
}

/// Reads a value operand: literals as given, variables as stored.
fn val_u64(v: Val, st: &Scratch) -> u64 {
    match v {
        Val::Lit(x) => x as u64,
        Val::Var(s) => st.vars.get(usize::from(s)).copied().unwrap_or(0),
    }
}

/// An offset-like operand as Suricata casts it (variables truncated to 32 bits, signed).
fn val_i32(v: Val, st: &Scratch) -> i64 {
    match v {
        Val::Lit(x) => x,
        Val::Var(_) => i64::from(val_u64(v, st) as u32 as i32),
    }
}

/// An unsigned 32-bit operand (depth/offset/within variables are cast to uint32_t).
fn val_u32(v: Val, st: &Scratch) -> i64 {
    match v {
        Val::Lit(x) => x.max(0),
        Val::Var(_) => i64::from(val_u64(v, st) as u32),
    }
}

/// Window `[start, end)` of a content without distance/within: `offset .. offset + depth`.
fn absolute_window(c: &ContentOp, len: i64, st: &Scratch) -> (i64, i64) {
    let offset = c.offset.map_or(0, |o| val_u32(o, st));
    let end = c.depth.map_or(len, |d| offset + val_u32(d, st));
    (offset, end)
}

/// Window of a relative content: from `cursor + distance` (clamped at 0), ending at
/// `cursor + distance + within` when within is given.
fn relative_window(c: &ContentOp, prev: i64, len: i64, st: &Scratch) -> (i64, i64) {
    let distance = c.distance.map_or(0, |d| val_i32(d, st));
    let mut start = if distance < 0 && -distance > prev {
        0
    } else {
        prev + distance
    };
    let mut end = len;
    if let Some(w) = c.within {
        let limit = prev + val_u32(w, st) + distance;
        // Suricata computes this in 32-bit signed and then stores it unsigned: a negative limit
        // wraps to a huge depth, i.e. no limit.
        if limit >= 0 && limit < end {
            end = limit;
        }
    }
    // depth/offset next to distance/within are rejected by Suricata's parser; its runtime treats
    // them as relative to the cursor (depth) and as a lower bound (offset).
    let offset = c.offset.map_or(0, |o| val_u32(o, st));
    if let Some(d) = c.depth {
        let limit = prev + offset + val_u32(d, st);
        if limit < end {
            end = limit;
        }
    }
    if offset > start {
        start = offset;
    }
    (start, end)
}

/// Position of a byte_* read: absolute `offset`, or `cursor + offset` when relative (then
/// no match unless at least one byte remains there). `None` when it lies outside the buffer or
/// fewer than `nbytes` bytes remain.
fn read_pos(
    relative: bool,
    offset: i64,
    nbytes: usize,
    len: usize,
    cursor: usize,
) -> Option<usize> {
    let len = len as i64;
    let pos = if relative {
        let pos = cursor as i64 + offset;
        if len - pos <= 0 {
            return None;
        }
        pos
    } else {
        offset
    };
    if pos < 0 || nbytes as i64 > len - pos {
        return None;
    }
    Some(pos as usize)
}

/// Reads the value of a byte_test/byte_extract/byte_math: (position, value, bytes used), or
/// `None` when the buffer is empty or the read does not fit.
fn read_value(
    buf: &[u8],
    relative: bool,
    offset: i64,
    nbytes: u8,
    form: Form,
    cursor: usize,
) -> Option<(usize, u64, usize)> {
    if buf.is_empty() {
        return None;
    }
    let nbytes = usize::from(nbytes);
    let pos = read_pos(relative, offset, nbytes, buf.len(), cursor)?;
    let (val, used) = extract(buf, pos, nbytes, form)?;
    Some((pos, val, used))
}

/// A byte count read from a variable must fit the form, as a literal would have to.
fn nbytes_at(v: Val, min: u8, form: Form, st: &Scratch) -> Option<u8> {
    match v {
        Val::Lit(n) => u8::try_from(n).ok(),
        Val::Var(_) => u8::try_from(val_u64(v, st))
            .ok()
            .filter(|&n| n >= min && n <= string_max(form, false)),
    }
}

fn byte_test(b: &ByteTestOp, buf: &[u8], st: &mut Scratch) -> bool {
    let offset = val_i32(b.offset, st);
    let min = u8::from(matches!(b.form, Form::Binary(_)));
    let Some(nbytes) = nbytes_at(b.nbytes, min, b.form, st) else {
        return false;
    };
    let Some((_, val, _)) = read_value(buf, b.relative, offset, nbytes, b.form, st.cursor) else {
        return false;
    };
    let val = Mask::apply(b.mask, val);
    let value = val_u64(b.value, st);
    let hit = match b.op {
        ByteOp::Eq => val == value,
        ByteOp::Lt => val < value,
        ByteOp::Gt => val > value,
        ByteOp::Le => val <= value,
        ByteOp::Ge => val >= value,
        ByteOp::And => val & value != 0,
        ByteOp::Xor => val ^ value != 0,
    };
    hit != b.negated
}

fn byte_jump(b: &ByteJumpOp, buf: &[u8], st: &mut Scratch) -> bool {
    if buf.is_empty() {
        return false;
    }
    let len = buf.len() as i64;
    let Some(nbytes) = nbytes_at(b.nbytes, 0, b.form, st) else {
        return false;
    };
    let nbytes = usize::from(nbytes);
    let mut pos = val_i32(b.offset, st);
    if b.relative {
        pos += st.cursor as i64;
        if nbytes > 0 && len - pos <= 0 {
            return false;
        }
    }
    if pos < 0 || nbytes as i64 > len - pos {
        return false;
    }
    let Some((val, used)) = extract(buf, pos as usize, nbytes, b.form) else {
        return false;
    };
    let mut val = Mask::apply(b.mask, val).wrapping_mul(b.multiplier);
    if b.align && val & 3 != 0 {
        val = val.wrapping_add(4 - val % 4);
    }
    // Suricata adds post_offset in u64 and then treats the sum as signed.
    let jump = val.wrapping_add(b.post_offset as u64) as i64;
    let target = if b.from_beginning {
        i128::from(jump)
    } else if b.from_end {
        i128::from(len) + i128::from(jump)
    } else {
        i128::from(pos) + i128::from(jump) + used as i128
    };
    if target > i128::from(len) {
        return false;
    }
    // A jump before the buffer start lands on the start (Suricata 7).
    st.cursor = target.max(0) as usize;
    true
}

fn byte_extract(b: &ByteExtractOp, buf: &[u8], st: &mut Scratch) -> bool {
    let Some((pos, val, used)) = read_value(buf, b.relative, b.offset, b.nbytes, b.form, st.cursor)
    else {
        return false;
    };
    let mut val = Mask::apply(b.mask, val).wrapping_mul(b.multiplier);
    // align is 2 or 4 (checked at compile time): a power of two.
    if b.align != 0 && val & (b.align - 1) != 0 {
        val = val.wrapping_add(b.align - val % b.align);
    }
    st.cursor = pos + used;
    if let Some(slot) = st.vars.get_mut(usize::from(b.slot)) {
        *slot = val;
    }
    true
}

fn byte_math(b: &ByteMathOp, buf: &[u8], st: &mut Scratch) -> bool {
    let Some((pos, val, used)) = read_value(buf, b.relative, b.offset, b.nbytes, b.form, st.cursor)
    else {
        return false;
    };
    st.cursor = pos + used;
    let rvalue = val_u64(b.rvalue, st);
    let val = match b.op {
        MathOp::Add => val.wrapping_add(rvalue),
        MathOp::Sub => val.wrapping_sub(rvalue),
        MathOp::Mul => val.wrapping_mul(rvalue),
        MathOp::Div => match val.checked_div(rvalue) {
            Some(v) => v,
            // Division by an extracted zero: no match rather than a crash.
            None => return false,
        },
        MathOp::Shl => u32::try_from(rvalue)
            .ok()
            .and_then(|s| val.checked_shl(s))
            .unwrap_or(0),
        MathOp::Shr => u32::try_from(rvalue)
            .ok()
            .and_then(|s| val.checked_shr(s))
            .unwrap_or(0),
    };
    let val = Mask::apply(b.mask, val);
    if let Some(slot) = st.vars.get_mut(usize::from(b.slot)) {
        *slot = val;
    }
    true
}

/// isdataat: absolute `pos < len`; relative `cursor + pos <= len` (Suricata's exact bounds:
/// `isdataat:1,relative` means at least one byte after the cursor). Literal failures are final
/// (Discontinue); variable ones may change on backtracking.
fn isdataat(d: &IsDataAtOp, buf: &[u8], st: &Scratch) -> Res {
    let is_var = matches!(d.pos, Val::Var(_));
    let fail = if is_var {
        Res::NoMatch
    } else {
        Res::Discontinue
    };
    let pos = match d.pos {
        Val::Lit(x) => x.max(0) as u64,
        Val::Var(_) => {
            let v = val_u64(d.pos, st);
            if v >= ISDATAAT_VAR_MAX {
                return if d.negated { Res::Match } else { Res::NoMatch };
            }
            v
        }
    };
    let len = buf.len() as u64;
    if d.relative {
        if st.cursor as u64 + pos > len {
            if d.negated {
                Res::Match
            } else {
                fail
            }
        } else if d.negated {
            Res::NoMatch
        } else {
            Res::Match
        }
    } else if pos < len {
        if d.negated {
            fail
        } else {
            Res::Match
        }
    } else if d.negated {
        Res::Match
    } else {
        fail
    }
}
