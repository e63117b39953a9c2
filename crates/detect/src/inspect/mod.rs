//! Buffer inspection programs: the content, pcre, byte_*, isdataat, bsize, urilen and absent
//! checks of one rule on one buffer, compiled once and run per buffer with Suricata 7's exact
//! matching semantics (detect cursor, relative windows, backtracking, recursion limit).
//!
//! Owns: compiling `ast::Check` lists into [`Program`]s, running them on a byte slice, and the
//! sticky-buffer [`transform`]s. Must not: know which buffer is which, fetch buffers, or decide
//! what happens when a buffer is absent (the engine does that, using [`Program::absent`]).
//!
//! A `Program` is immutable and shared between workers; everything that changes while matching
//! (cursor, byte_extract variables, step counter, statistics) lives in the per-worker
//! [`Scratch`], so `matches` does not allocate once the scratch has warmed up.

mod bytes;
mod compile;
mod exec;
mod pcre;
mod search;
mod transform;

#[cfg(test)]
mod tests;

pub use compile::CompileError;
pub use transform::{transform, TransformScratch};

use compile::Op;

/// Suricata's default `detect.inspection-recursion-limit`: how many keyword evaluations one
/// inspection may make (backtracking included) before it gives up with no match.
pub const INSPECTION_RECURSION_LIMIT: u32 = 3000;

/// Most byte_extract/byte_math variables one program may define (Suricata keeps them in a small
/// per-signature array too).
pub const MAX_VARIABLES: usize = 64;

/// One buffer's checks of one rule, compiled, in rule order.
#[derive(Debug)]
pub struct Program {
    ops: Vec<Op>,
    /// Number of variable slots the program writes (byte_extract / byte_math results).
    n_vars: usize,
    /// `Some(or_else)` when the checks include `absent`.
    absent: Option<bool>,
}

/// Counters a worker accumulates while inspecting; the engine reads and aggregates them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InspectStats {
    /// pcre searches that stopped on a match/depth limit (or another PCRE2 error): no match.
    pub pcre_errors: u64,
    /// Inspections abandoned because they reached [`INSPECTION_RECURSION_LIMIT`].
    pub recursion_limit_hits: u64,
}

/// Per-worker reusable state for [`Program::matches`].
#[derive(Debug, Default)]
pub struct Scratch {
    /// Suricata's `det_ctx->buffer_offset`: end of the last content/pcre/byte_jump/byte_extract
    /// /byte_math position, the base of relative keywords.
    cursor: usize,
    /// Keyword evaluations in the current inspection.
    steps: u32,
    /// byte_extract / byte_math values by slot.
    vars: Vec<u64>,
    /// Counters.
    pub stats: InspectStats,
}

impl Program {
    /// True when the program has no checks at all: it matches whenever the buffer exists.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// `Some(or_else)` when the checks include `absent` (`absent; ` gives `Some(false)`,
    /// `absent: or_else;` gives `Some(true)`): the engine matches the program when the buffer
    /// is missing. When the buffer exists, [`Program::matches`] treats plain `absent` as a
    /// failed check and `or_else` as a passed one.
    pub fn absent(&self) -> Option<bool> {
        self.absent
    }

    /// Number of checks (for statistics and cost ordering).
    pub fn len(&self) -> usize {
        self.ops.len()
    }
}
