//! Packet sources: classic pcap and pcapng files, directories of them, live AF_PACKET rings.
//!
//! Owns: reading captures into zero-copy packet views with their timestamps and link types.
//! Must not: decode protocols, allocate per packet (buffers are reused), or panic on a corrupt
//! file. The only crate that may contain `unsafe` (for capture syscalls), each block with a
//! `// SAFETY:` line.
//!
//! - [`FileSource`] reads one classic pcap or pcapng file (or any byte stream in those formats).
//! - [`CaptureSet`] reads files and directories as one stream, ordered by each file's first
//!   packet, logging and skipping bad files instead of stopping.
//! - [`LiveSocket`] (Linux) captures from an interface through a TPACKET_V3 ring in a fanout
//!   group; [`BpfProgram`] compiles tcpdump-syntax filters with libpcap loaded at run time.
//!
//! Hostile files: every length read from a file is checked against [`CaptureLimits`] or a named
//! constant (`MAX_*`) before it sizes a read, so a file cannot make the reader allocate more
//! than `max_packet_bytes` plus fixed overheads.
#![deny(unsafe_code)]

use std::path::PathBuf;
use vedette_types::{LinkType, Timestamp};

#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // socket options, the mmapped ring and dlopen of libpcap need syscalls
mod bpf;
mod buf;
mod file;
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // AF_PACKET socket, ring mapping and kernel statistics
mod live;
mod set;
#[cfg(test)]
mod testutil;

pub use file::{
    CaptureFormat, FileSource, DEFAULT_BUFFER_BYTES, MAX_INTERFACES_PER_SECTION,
    MAX_META_BLOCK_BYTES, MAX_PACKET_OPTIONS_BYTES, MAX_SKIPPED_BLOCK_BYTES,
};
pub use set::{CaptureSet, MAX_KEPT_ERRORS};
#[cfg(target_os = "linux")]
pub use {
    bpf::{fanout_program, BpfProgram, MAX_BPF_INSNS, MAX_FILTER_CHARS},
    live::{interface_link_type, FanoutMode, LiveConfig, LiveError, LiveSocket},
};

/// One captured frame, borrowed from the source's reused buffer until the next call.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Captured bytes (may be shorter than `orig_len` when the snap length cut it).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
    /// Link type of `data`.
    pub link_type: LinkType,
}

/// Counters a source keeps about what it read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Files opened successfully.
    pub files_opened: u64,
    /// Files that could not be opened or whose format was not recognised.
    pub files_failed: u64,
    /// Files whose reading stopped early at a corrupt or truncated record.
    pub files_truncated: u64,
    /// Packets returned.
    pub packets: u64,
    /// Bytes returned (captured lengths).
    pub bytes: u64,
    /// Records skipped because their captured length exceeded `max_packet_bytes`.
    pub oversized_skipped: u64,
}

/// Kernel counters of one socket (PACKET_STATISTICS), accumulated since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Packets that reached the socket (after the filter), including dropped ones.
    pub packets: u64,
    /// Packets dropped because the ring was full.
    pub drops: u64,
    /// Times the ring was frozen (all blocks owned by user space).
    pub freezes: u64,
}

impl KernelStats {
    /// Adds another socket's counters.
    pub fn merge(&mut self, o: &KernelStats) {
        self.packets += o.packets;
        self.drops += o.drops;
        self.freezes += o.freezes;
    }
}

/// Limits applied to hostile capture files.
#[derive(Clone, Copy, Debug)]
pub struct CaptureLimits {
    /// Largest captured length accepted for one record; larger records end the file with an error.
    pub max_packet_bytes: u32,
}

impl Default for CaptureLimits {
    fn default() -> Self {
        CaptureLimits {
            max_packet_bytes: 262_144,
        }
    }
}

/// Errors opening or reading captures.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// An I/O error on a path.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is neither classic pcap nor pcapng.
    #[error("{path}: not a pcap or pcapng file ({reason})")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// A record could not be parsed; reading this file stops here.
    #[error("{path}: corrupt capture at byte offset {offset}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the bad record.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// No capture files were found in the given paths.
    #[error("no capture files found in {0}")]
    NoCaptures(String),
}

/// A source of packets, read in order.
pub trait PacketSource {
    /// The next packet, `Ok(None)` at the end. The packet borrows the source until the next call.
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError>;
    /// Counters so far.
    fn stats(&self) -> SourceStats;
}
