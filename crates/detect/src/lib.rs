//! Signature detection: Suricata rules (parsed by `vedette-rules`) compiled into an immutable
//! [`Engine`] shared by all workers, and a per-worker [`Detector`] that matches packets and
//! app-layer transactions against it.
//!
//! Owns: rule compilation (header sets, per-buffer programs, prefilter automata), matching,
//! flowbits, thresholds. Must not: parse traffic (it reads decoded packets and app-layer
//! transactions), write EVE, do I/O in the per-packet path, or allocate per packet in steady
//! state.
#![forbid(unsafe_code)]

pub mod addr;
mod compile;
pub mod inspect;
mod load;
mod prefilter;
mod runtime;
mod threshold;
mod txbuf;
mod xbits;

pub use compile::{DetectConfig, Engine, LoadIssue, LoadReport, SigInfo};
pub use load::{load_rule_files, RuleSource, RulesLoad};
pub use runtime::{Alert, DetectStats, Detector, FlowInput, PacketInput};
pub use txbuf::{http_level, TxRef};

/// Why a rule cannot be compiled.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CompileError {
    /// The rule did not parse.
    #[error("{0}")]
    Parse(String),
    /// Addresses or ports could not be resolved.
    #[error("header: {0}")]
    Header(String),
    /// The rule needs something vedette does not do; it is skipped.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The rule is not valid for the engine.
    #[error("invalid: {0}")]
    Invalid(String),
    /// A buffer's checks could not be compiled (bad pcre...).
    #[error("{0}")]
    Inspect(String),
    /// The (gid, sid) was already loaded from file:line.
    #[error("duplicate sid (first loaded at {0}:{1})")]
    DuplicateSid(String, u32),
}
