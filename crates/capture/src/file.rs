//! Reading one capture file: classic pcap (both byte orders, micro- or nanosecond stamps, and
//! the "modified" 24-byte-record variant) and pcapng (any number of sections and interfaces).
//!
//! # Design: own framing over a reused buffer, `pcap-parser` for the rare blocks
//!
//! `pcap-parser`'s streaming readers (`LegacyPcapReader`, `PcapNGReader`) return a block that
//! borrows the reader and must be `consume`d afterwards; that fits a lending `next_packet` only
//! with deferred consumes, and a few properties of 0.17 rule them out for the hot path:
//! `parse_enhancedpacketblock_*` collects EPB options into a `Vec` (nom's `many0` allocates
//! even when there are none, so one allocation per packet), Simple Packet Blocks are not clamped
//! to the interface snap length, obsolete Packet Blocks (type 2) are not recognised, and an
//! incomplete record needs extra bookkeeping to tell "needs more bytes" from "grow the buffer
//! to what a hostile header asks for".
//!
//! So this module frames records itself: it reads the fixed-size record/block header from a
//! [`ReadBuf`] (one 4 MiB buffer reused for the whole file), checks every length against
//! [`CaptureLimits`] *before* asking for more bytes, makes sure the whole record is buffered,
//! and returns a slice of the buffer. Nothing is allocated per packet and nothing is copied
//! besides the kernel's copy into the buffer. `pcap-parser` still parses what is rare and
//! option-heavy: the classic file header (`parse_pcap_header`), pcapng Section Header Blocks
//! (`parse_sectionheaderblock`) and Interface Description Blocks
//! (`parse_interfacedescriptionblock_le/_be`), always over a complete, length-checked block, so
//! its `Incomplete` can only mean a malformed block.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use pcap_parser::pcapng::{
    parse_interfacedescriptionblock_be, parse_interfacedescriptionblock_le,
    parse_sectionheaderblock,
};
use vedette_types::{LinkType, Timestamp};

use crate::buf::ReadBuf;
use crate::{CaptureError, CaptureLimits, Packet, PacketSource, SourceStats};

/// Size of the read buffer of a [`FileSource`]: large reads keep syscall overhead negligible.
pub const DEFAULT_BUFFER_BYTES: usize = 4 << 20;

/// Largest pcapng Section Header or Interface Description Block accepted. They are buffered
/// whole to parse their options; real ones are a few hundred bytes.
pub const MAX_META_BLOCK_BYTES: u32 = 1 << 20;

/// Room allowed in a pcapng packet block beyond its header and padded data (EPB options such
/// as comments or hashes). A packet block larger than that is reported as corrupt.
pub const MAX_PACKET_OPTIONS_BYTES: u32 = 64 << 10;

/// Largest pcapng block of another type (name resolution, statistics, decryption secrets,
/// custom...) that is skipped; anything longer is taken as a garbage length. Skipping does not
/// buffer the block, so this bounds wasted reading, not memory.
pub const MAX_SKIPPED_BLOCK_BYTES: u32 = 64 << 20;

/// Most interfaces one pcapng section may declare (each costs a small table entry).
pub const MAX_INTERFACES_PER_SECTION: usize = 65_536;

/// Buffer used by [`crate::CaptureSet`] to read only the first packet of each file.
pub(crate) const PROBE_BUFFER_BYTES: usize = 64 << 10;

/// Bytes a packet record or block may need beyond its captured data, so the buffer limit
/// derived from `max_packet_bytes` always fits a legal record (largest fixed header 28 bytes,
/// 3 padding, 4 trailer, plus the options allowance).
const PACKET_RECORD_OVERHEAD: usize = 64 + MAX_PACKET_OPTIONS_BYTES as usize;

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAP_MAGIC_MODIFIED: u32 = 0xa1b2_cd34;
const PCAP_HEADER_LEN: usize = 24;

const SHB_TYPE: u32 = 0x0a0d_0d0a;
const IDB_TYPE: u32 = 0x0000_0001;
const PB_TYPE: u32 = 0x0000_0002;
const SPB_TYPE: u32 = 0x0000_0003;
const EPB_TYPE: u32 = 0x0000_0006;
/// The byte-order magic of a Section Header Block, as read little-endian.
const BOM_LE: u32 = 0x1a2b_3c4d;
const BOM_BE: u32 = 0x4d3c_2b1a;
/// `if_tsoffset` option code of an Interface Description Block.
const OPT_IF_TSOFFSET: u16 = 14;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Container format of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap format (any byte order, micro- or nanosecond timestamps).
    Pcap,
    /// pcapng.
    PcapNg,
}

/// Reads packets from one classic pcap or pcapng file (or any byte stream in those formats).
///
/// Packets borrow the source's reused buffer; nothing is allocated per packet. See the module
/// documentation for why framing is hand-written and what `pcap-parser` is used for.
///
/// Errors: a record that cannot be parsed (or whose captured length exceeds
/// [`CaptureLimits::max_packet_bytes`]) makes `next_packet` return
/// [`CaptureError::Corrupt`] once; a file that ends in the middle of a record is logged as a
/// warning and counted in [`SourceStats::files_truncated`]. After either, the source returns
/// `Ok(None)`.
pub struct FileSource {
    path: PathBuf,
    buf: ReadBuf,
    format: Format,
    max_packet_bytes: u32,
    stats: SourceStats,
    /// The packet handed out by the last `next_packet`, as positions in the buffer.
    current: Option<Meta>,
    /// Bytes of the last returned record still to release on the next call (the returned
    /// packet borrows them until then).
    pending: usize,
    done: bool,
    /// Whether to log truncation (off while `CaptureSet` only probes the first packet, so a
    /// truncated file is reported once, when it is read for real).
    log_truncation: bool,
}

/// Where the current packet sits in the buffer, and what it is.
#[derive(Clone, Copy, Debug)]
struct Meta {
    start: usize,
    len: usize,
    ts: Timestamp,
    orig_len: u32,
    link_type: LinkType,
    /// Length of the whole record, released on the next call.
    record_len: usize,
}

enum Format {
    Legacy(Legacy),
    Ng(Ng),
}

/// Per-file state of a classic pcap file.
struct Legacy {
    big_endian: bool,
    /// Multiplier from the fractional timestamp field to nanoseconds (1000 or 1).
    frac_to_nanos: i64,
    /// 16, or 24 for the "modified" format, whose records carry extra fields we ignore.
    record_header_len: usize,
    link_type: LinkType,
}

/// Per-section state of a pcapng file.
struct Ng {
    big_endian: bool,
    in_section: bool,
    interfaces: Vec<Interface>,
    /// Simple Packet Blocks have no timestamp: they get the previous packet's time, so packet
    /// time never jumps back to 1970 (time drives flow timeouts downstream).
    last_ts: Timestamp,
}

/// What a pcapng Interface Description Block says about its packets.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    /// Timestamp units per second (`if_tsresol`), never 0.
    units_per_sec: u64,
    /// Nanoseconds per unit when `units_per_sec` divides 10^9 (the usual case), else 0.
    nanos_per_unit: u64,
    /// `if_tsoffset`: seconds added to every timestamp.
    offset_secs: i64,
}

impl Interface {
    fn new(link_type: u16, snaplen: u32, tsresol: u8, offset_secs: i64, path: &Path) -> Self {
        // High bit clear: units are 10^-n s; set: 2^-n s. Out-of-range values cannot be
        // represented; fall back to the default (microseconds) rather than drop the file.
        let units = if tsresol & 0x80 == 0 {
            10u64.checked_pow(u32::from(tsresol))
        } else {
            1u64.checked_shl(u32::from(tsresol & 0x7f))
        };
        let units_per_sec = units.unwrap_or_else(|| {
            tracing::warn!(path = %path.display(), tsresol, "invalid if_tsresol; assuming microseconds");
            1_000_000
        });
        let nanos_per_unit = if NANOS_PER_SEC % units_per_sec == 0 {
            NANOS_PER_SEC / units_per_sec
        } else {
            0
        };
        Interface {
            link_type: LinkType(u32::from(link_type)),
            snaplen,
            units_per_sec,
            nanos_per_unit,
            offset_secs,
        }
    }

    #[inline]
    fn timestamp(&self, raw: u64) -> Timestamp {
        let secs = raw / self.units_per_sec;
        let frac = raw % self.units_per_sec;
        let nanos = if self.nanos_per_unit != 0 {
            frac * self.nanos_per_unit
        } else {
            // frac < units_per_sec, so the quotient is < 10^9 and fits easily.
            ((u128::from(frac) * u128::from(NANOS_PER_SEC)) / u128::from(self.units_per_sec)) as u64
        };
        let secs = i64::try_from(secs)
            .unwrap_or(i64::MAX)
            .saturating_add(self.offset_secs);
        Timestamp::from_parts(secs, u32::try_from(nanos).unwrap_or(0))
    }
}

/// Why reading a file stopped early.
enum Stop {
    /// The stream ended inside a record.
    Truncated { offset: u64, what: &'static str },
    /// A record is malformed.
    Corrupt { offset: u64, reason: String },
    /// A record's captured length exceeds the limit.
    Oversized { offset: u64, caplen: u32 },
    /// The underlying reader failed.
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

fn corrupt(offset: u64, reason: impl Into<String>) -> Stop {
    Stop::Corrupt {
        offset,
        reason: reason.into(),
    }
}

#[inline]
fn u32_at(b: &[u8], off: usize, big_endian: bool) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(off..off + 4) {
        a.copy_from_slice(s);
    }
    if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

#[inline]
fn u16_at(b: &[u8], off: usize, big_endian: bool) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(off..off + 2) {
        a.copy_from_slice(s);
    }
    if big_endian {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

/// Rounds up to the next multiple of 4 (pcapng pads data to 32 bits).
#[inline]
fn pad4(n: u64) -> u64 {
    (n + 3) & !3
}

/// Makes `n` bytes available, or reports the record starting at `offset` as truncated.
#[inline]
fn need(buf: &mut ReadBuf, n: usize, offset: u64, what: &'static str) -> Result<(), Stop> {
    if buf.fill(n)? {
        Ok(())
    } else {
        Err(Stop::Truncated { offset, what })
    }
}

/// At a record boundary: `Ok(false)` at a clean end of file, truncation if only part of the
/// `n`-byte header is there.
#[inline]
fn header_or_end(buf: &mut ReadBuf, n: usize, what: &'static str) -> Result<bool, Stop> {
    let offset = buf.pos();
    if buf.fill(n)? {
        Ok(true)
    } else if buf.available().is_empty() {
        Ok(false)
    } else {
        Err(Stop::Truncated { offset, what })
    }
}

impl Legacy {
    fn next(&self, buf: &mut ReadBuf, max_packet_bytes: u32) -> Result<Option<Meta>, Stop> {
        let offset = buf.pos();
        if !header_or_end(buf, self.record_header_len, "record header")? {
            return Ok(None);
        }
        let h = buf.available();
        let be = self.big_endian;
        let ts_sec = u32_at(h, 0, be);
        let ts_frac = u32_at(h, 4, be);
        let caplen = u32_at(h, 8, be);
        let orig_len = u32_at(h, 12, be);
        if caplen > max_packet_bytes {
            return Err(Stop::Oversized { offset, caplen });
        }
        // caplen <= max_packet_bytes, and the buffer limit covers header + max_packet_bytes.
        let record_len = self.record_header_len.saturating_add(caplen as usize);
        need(buf, record_len, offset, "packet data")?;
        // Both fields are u32 (seconds are unsigned since the 2038 fix), so this cannot
        // overflow an i64: 2^32 * 10^9 + 2^32 * 1000 < 2^63. The fraction is not range-checked,
        // as libpcap does not check it either; an out-of-range value just carries over.
        let ts = Timestamp(
            i64::from(ts_sec) * Timestamp::NANOS_PER_SEC + i64::from(ts_frac) * self.frac_to_nanos,
        );
        Ok(Some(Meta {
            start: buf.start_index() + self.record_header_len,
            len: caplen as usize,
            ts,
            orig_len: orig_len.max(caplen),
            link_type: self.link_type,
            record_len,
        }))
    }
}

impl Ng {
    fn next(
        &mut self,
        buf: &mut ReadBuf,
        max_packet_bytes: u32,
        path: &Path,
    ) -> Result<Option<Meta>, Stop> {
        loop {
            let offset = buf.pos();
            if !header_or_end(buf, 8, "block header")? {
                return Ok(None);
            }
            // The SHB type is a byte palindrome, so it reads the same in either byte order;
            // each SHB fixes the byte order of its section through its byte-order magic.
            if u32_at(buf.available(), 0, false) == SHB_TYPE {
                need(buf, 12, offset, "section header")?;
                self.big_endian = match u32_at(buf.available(), 8, false) {
                    BOM_LE => false,
                    BOM_BE => true,
                    other => {
                        return Err(corrupt(
                            offset,
                            format!("section header with bad byte-order magic 0x{other:08x}"),
                        ))
                    }
                };
                self.in_section = true;
                self.interfaces.clear();
            } else if !self.in_section {
                return Err(corrupt(offset, "block outside any section"));
            }
            let be = self.big_endian;
            let h = buf.available();
            let block_type = u32_at(h, 0, be);
            let block_len = u32_at(h, 4, be);
            if block_len < 12 || block_len % 4 != 0 {
                return Err(corrupt(
                    offset,
                    format!("block type 0x{block_type:08x} has invalid length {block_len}"),
                ));
            }
            match block_type {
                SHB_TYPE => self.section_header(buf, block_len, path)?,
                IDB_TYPE => self.interface(buf, block_len, path)?,
                EPB_TYPE | PB_TYPE => {
                    return self
                        .packet_block(buf, block_type, block_len, max_packet_bytes)
                        .map(Some)
                }
                SPB_TYPE => {
                    return self
                        .simple_packet_block(buf, block_len, max_packet_bytes)
                        .map(Some)
                }
                _ => {
                    if block_len > MAX_SKIPPED_BLOCK_BYTES {
                        return Err(corrupt(
                            offset,
                            format!(
                                "block type 0x{block_type:08x} claims {block_len} bytes \
                                 (limit {MAX_SKIPPED_BLOCK_BYTES})"
                            ),
                        ));
                    }
                    if !buf.skip(u64::from(block_len))? {
                        return Err(Stop::Truncated {
                            offset,
                            what: "block",
                        });
                    }
                }
            }
        }
    }

    /// Buffers a whole metadata block (SHB/IDB) of `block_len` bytes and checks its trailer.
    fn whole_meta_block(
        &self,
        buf: &mut ReadBuf,
        block_len: u32,
        min_len: u32,
        what: &'static str,
    ) -> Result<(), Stop> {
        let offset = buf.pos();
        if block_len < min_len || block_len > MAX_META_BLOCK_BYTES {
            return Err(corrupt(
                offset,
                format!("{what} has invalid length {block_len}"),
            ));
        }
        let len = block_len as usize;
        need(buf, len, offset, what)?;
        check_trailer(buf.available(), len, self.big_endian, offset)
    }

    fn section_header(
        &mut self,
        buf: &mut ReadBuf,
        block_len: u32,
        path: &Path,
    ) -> Result<(), Stop> {
        let offset = buf.pos();
        self.whole_meta_block(buf, block_len, 28, "section header")?;
        let block = buf.available().get(..block_len as usize).unwrap_or(&[]);
        match parse_sectionheaderblock(block) {
            Ok((_, shb)) => {
                if shb.major_version != 1 {
                    // Layouts of other versions are unknown; read on as 1.x, as a best effort.
                    tracing::warn!(
                        path = %path.display(),
                        offset,
                        version = shb.major_version,
                        "unexpected pcapng major version"
                    );
                }
            }
            Err(_) => return Err(corrupt(offset, "unparseable section header block")),
        }
        buf.consume(block_len as usize);
        Ok(())
    }

    fn interface(&mut self, buf: &mut ReadBuf, block_len: u32, path: &Path) -> Result<(), Stop> {
        let offset = buf.pos();
        self.whole_meta_block(buf, block_len, 20, "interface description")?;
        if self.interfaces.len() >= MAX_INTERFACES_PER_SECTION {
            return Err(corrupt(
                offset,
                format!("more than {MAX_INTERFACES_PER_SECTION} interfaces in one section"),
            ));
        }
        let be = self.big_endian;
        let block = buf.available().get(..block_len as usize).unwrap_or(&[]);
        let parsed = if be {
            parse_interfacedescriptionblock_be(block)
        } else {
            parse_interfacedescriptionblock_le(block)
        };
        let idb = match parsed {
            Ok((_, idb)) => idb,
            Err(_) => return Err(corrupt(offset, "unparseable interface description block")),
        };
        // pcap-parser decodes if_tsoffset as little-endian whatever the section's byte order,
        // so it is read here from the raw option instead.
        let offset_secs = idb
            .options
            .iter()
            .find(|o| o.code.0 == OPT_IF_TSOFFSET && o.len == 8)
            .and_then(|o| o.value().get(..8))
            .and_then(|v| <[u8; 8]>::try_from(v).ok())
            .map(|a| {
                if be {
                    i64::from_be_bytes(a)
                } else {
                    i64::from_le_bytes(a)
                }
            })
            .unwrap_or(0);
        // The link type is 16 bits in an IDB; pcap-parser widened it to i32 without sign.
        let link_type = u16::try_from(idb.linktype.0).unwrap_or(u16::MAX);
        self.interfaces.push(Interface::new(
            link_type,
            idb.snaplen,
            idb.if_tsresol,
            offset_secs,
            path,
        ));
        buf.consume(block_len as usize);
        Ok(())
    }

    /// Enhanced (type 6) and obsolete (type 2) Packet Blocks: same layout except that the
    /// obsolete block has a 16-bit interface id followed by a 16-bit drop count.
    fn packet_block(
        &mut self,
        buf: &mut ReadBuf,
        block_type: u32,
        block_len: u32,
        max_packet_bytes: u32,
    ) -> Result<Meta, Stop> {
        const HDR: usize = 28;
        let offset = buf.pos();
        if block_len < 32 {
            return Err(corrupt(
                offset,
                format!("packet block has invalid length {block_len}"),
            ));
        }
        need(buf, HDR, offset, "packet block header")?;
        let be = self.big_endian;
        let h = buf.available();
        let if_id = if block_type == EPB_TYPE {
            u32_at(h, 8, be)
        } else {
            u32::from(u16_at(h, 8, be))
        };
        let ts_raw = (u64::from(u32_at(h, 12, be)) << 32) | u64::from(u32_at(h, 16, be));
        let caplen = u32_at(h, 20, be);
        let orig_len = u32_at(h, 24, be);
        check_packet_block(buf, HDR, caplen, block_len, max_packet_bytes, be)?;
        let Some(iface) = usize::try_from(if_id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
        else {
            return Err(corrupt(
                offset,
                format!("packet for undeclared interface {if_id}"),
            ));
        };
        let ts = iface.timestamp(ts_raw);
        self.last_ts = ts;
        Ok(Meta {
            start: buf.start_index() + HDR,
            len: caplen as usize,
            ts,
            orig_len: orig_len.max(caplen),
            link_type: iface.link_type,
            record_len: block_len as usize,
        })
    }

    /// Simple Packet Block: interface 0, no timestamp, captured length implied by the block
    /// length, the original length and the interface's snap length.
    fn simple_packet_block(
        &mut self,
        buf: &mut ReadBuf,
        block_len: u32,
        max_packet_bytes: u32,
    ) -> Result<Meta, Stop> {
        const HDR: usize = 12;
        let offset = buf.pos();
        if block_len < 16 {
            return Err(corrupt(
                offset,
                format!("simple packet block has invalid length {block_len}"),
            ));
        }
        need(buf, HDR, offset, "simple packet block header")?;
        let orig_len = u32_at(buf.available(), 8, self.big_endian);
        let Some(iface) = self.interfaces.first().copied() else {
            return Err(corrupt(
                offset,
                "simple packet block before any interface description",
            ));
        };
        let mut caplen = orig_len.min(block_len - 16);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen);
        }
        check_packet_block(
            buf,
            HDR,
            caplen,
            block_len,
            max_packet_bytes,
            self.big_endian,
        )?;
        Ok(Meta {
            start: buf.start_index() + HDR,
            len: caplen as usize,
            ts: self.last_ts,
            orig_len: orig_len.max(caplen),
            link_type: iface.link_type,
            record_len: block_len as usize,
        })
    }
}

/// Checks a packet block's lengths against each other and the limits (before buffering it),
/// then buffers the whole block and checks its trailer.
fn check_packet_block(
    buf: &mut ReadBuf,
    header_len: usize,
    caplen: u32,
    block_len: u32,
    max_packet_bytes: u32,
    big_endian: bool,
) -> Result<(), Stop> {
    let offset = buf.pos();
    if caplen > max_packet_bytes {
        return Err(Stop::Oversized { offset, caplen });
    }
    if header_len as u64 + pad4(u64::from(caplen)) + 4 > u64::from(block_len) {
        return Err(corrupt(
            offset,
            format!("captured length {caplen} overruns a block of {block_len} bytes"),
        ));
    }
    // caplen is within limits, so only options could make the block this big.
    if u64::from(block_len)
        > header_len as u64 + pad4(u64::from(caplen)) + 4 + u64::from(MAX_PACKET_OPTIONS_BYTES)
        || block_len as usize > buf.max_len()
    {
        return Err(corrupt(
            offset,
            format!("packet block of {block_len} bytes has oversized options"),
        ));
    }
    need(buf, block_len as usize, offset, "packet block")?;
    check_trailer(buf.available(), block_len as usize, big_endian, offset)
}

/// A pcapng block repeats its length at its end; a mismatch means we lost the framing.
fn check_trailer(block: &[u8], len: usize, big_endian: bool, offset: u64) -> Result<(), Stop> {
    let trailer = u32_at(block, len.saturating_sub(4), big_endian);
    if trailer as usize == len {
        Ok(())
    } else {
        Err(corrupt(
            offset,
            format!("block length {len} does not match its trailing copy {trailer}"),
        ))
    }
}

impl FileSource {
    /// Opens a capture file, detecting classic pcap or pcapng from its first bytes.
    pub fn open(path: &Path, limits: CaptureLimits) -> Result<FileSource, CaptureError> {
        Self::open_with_buffer(path, limits, DEFAULT_BUFFER_BYTES)
    }

    /// Like [`FileSource::open`] with a chosen initial buffer size (the set reads only one
    /// packet of each file to sort them, and should not read megabytes to do it).
    pub(crate) fn open_with_buffer(
        path: &Path,
        limits: CaptureLimits,
        buffer_bytes: usize,
    ) -> Result<FileSource, CaptureError> {
        let file = File::open(path).map_err(|source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::with_reader(Box::new(file), path.to_path_buf(), limits, buffer_bytes)
    }

    /// Reads a capture from any byte stream (a pipe, an in-memory buffer in tests...).
    /// `name` stands for the path in errors and logs.
    pub fn from_reader(
        reader: Box<dyn Read + Send>,
        name: impl Into<PathBuf>,
        limits: CaptureLimits,
    ) -> Result<FileSource, CaptureError> {
        Self::with_reader(reader, name.into(), limits, DEFAULT_BUFFER_BYTES)
    }

    fn with_reader(
        reader: Box<dyn Read + Send>,
        path: PathBuf,
        limits: CaptureLimits,
        buffer_bytes: usize,
    ) -> Result<FileSource, CaptureError> {
        // The buffer may grow to hold the largest legal record, and never beyond.
        let max_buffer = (limits.max_packet_bytes as usize)
            .saturating_add(PACKET_RECORD_OVERHEAD)
            .max(MAX_META_BLOCK_BYTES as usize)
            .max(buffer_bytes);
        let mut buf = ReadBuf::new(reader, buffer_bytes, max_buffer);
        let io_err = |source: io::Error, path: &Path| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        };
        let unknown = |reason: String, path: &Path| CaptureError::UnknownFormat {
            path: path.to_path_buf(),
            reason,
        };
        if !buf.fill(4).map_err(|e| io_err(e, &path))? {
            let n = buf.available().len();
            let reason = if n == 0 {
                "empty file".to_string()
            } else {
                format!("only {n} bytes long")
            };
            return Err(unknown(reason, &path));
        }
        let magic = u32_at(buf.available(), 0, false);
        let format = match magic {
            SHB_TYPE => {
                // "\n\r\r\n" could begin a text file; the byte-order magic confirms pcapng.
                let bom = if buf.fill(12).map_err(|e| io_err(e, &path))? {
                    u32_at(buf.available(), 8, false)
                } else {
                    0
                };
                if bom != BOM_LE && bom != BOM_BE {
                    return Err(unknown(
                        "pcapng magic without a byte-order magic".to_string(),
                        &path,
                    ));
                }
                // The section header is parsed by the block loop, like any later section.
                Format::Ng(Ng {
                    big_endian: bom == BOM_BE,
                    in_section: false,
                    interfaces: Vec::new(),
                    last_ts: Timestamp::default(),
                })
            }
            m if m == PCAP_MAGIC_US
                || m == PCAP_MAGIC_NS
                || m == PCAP_MAGIC_MODIFIED
                || m == PCAP_MAGIC_US.swap_bytes()
                || m == PCAP_MAGIC_NS.swap_bytes() =>
            {
                if !buf.fill(PCAP_HEADER_LEN).map_err(|e| io_err(e, &path))? {
                    return Err(CaptureError::Corrupt {
                        path,
                        offset: 0,
                        reason: "truncated pcap file header".to_string(),
                    });
                }
                let header = buf.available().get(..PCAP_HEADER_LEN).unwrap_or(&[]);
                let (_, hdr) = pcap_parser::parse_pcap_header(header)
                    .map_err(|_| unknown("unparseable pcap file header".to_string(), &path))?;
                let legacy = Legacy {
                    big_endian: hdr.is_bigendian(),
                    frac_to_nanos: if hdr.is_nanosecond_precision() {
                        1
                    } else {
                        1000
                    },
                    record_header_len: if hdr.is_modified_format() { 24 } else { 16 },
                    // The upper 16 bits of this field carry FCS-length flags, not the type.
                    link_type: LinkType((hdr.network.0 as u32) & 0xffff),
                };
                buf.consume(PCAP_HEADER_LEN);
                Format::Legacy(legacy)
            }
            other => {
                return Err(unknown(
                    format!("unrecognised magic number 0x{other:08x}"),
                    &path,
                ))
            }
        };
        Ok(FileSource {
            path,
            buf,
            format,
            max_packet_bytes: limits.max_packet_bytes,
            stats: SourceStats {
                files_opened: 1,
                ..SourceStats::default()
            },
            current: None,
            pending: 0,
            done: false,
            log_truncation: true,
        })
    }

    /// The path (or name) this source reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The container format detected when opening.
    pub fn format(&self) -> CaptureFormat {
        match self.format {
            Format::Legacy(_) => CaptureFormat::Pcap,
            Format::Ng(_) => CaptureFormat::PcapNg,
        }
    }

    /// Bytes of the file consumed so far, including the packet last returned.
    pub fn offset(&self) -> u64 {
        self.buf.pos() + self.pending as u64
    }

    /// Turns off the truncation warning (used when only probing the first packet).
    pub(crate) fn quiet(mut self) -> Self {
        self.log_truncation = false;
        self
    }

    /// Moves to the next packet (kept in `self.current`). Split from `next_packet` so callers
    /// can decide what to do before borrowing the packet (see `CaptureSet`).
    pub(crate) fn advance(&mut self) -> Result<bool, CaptureError> {
        self.current = None;
        if self.done {
            return Ok(false);
        }
        // Release the previous record only now: the caller's packet borrowed it until this call.
        self.buf.consume(std::mem::take(&mut self.pending));
        let step = match &mut self.format {
            Format::Legacy(l) => l.next(&mut self.buf, self.max_packet_bytes),
            Format::Ng(n) => n.next(&mut self.buf, self.max_packet_bytes, &self.path),
        };
        match step {
            Ok(Some(meta)) => {
                self.stats.packets += 1;
                self.stats.bytes += meta.len as u64;
                self.pending = meta.record_len;
                self.current = Some(meta);
                Ok(true)
            }
            Ok(None) => {
                self.done = true;
                Ok(false)
            }
            Err(stop) => {
                self.done = true;
                self.stats.files_truncated += 1;
                match stop {
                    Stop::Truncated { offset, what } => {
                        if self.log_truncation {
                            tracing::warn!(
                                path = %self.path.display(),
                                offset,
                                "capture ends in the middle of a {what}; stopping this file"
                            );
                        }
                        Ok(false)
                    }
                    Stop::Corrupt { offset, reason } => Err(CaptureError::Corrupt {
                        path: self.path.clone(),
                        offset,
                        reason,
                    }),
                    Stop::Oversized { offset, caplen } => {
                        self.stats.oversized_skipped += 1;
                        Err(CaptureError::Corrupt {
                            path: self.path.clone(),
                            offset,
                            reason: format!(
                                "captured length {caplen} exceeds the limit of {} bytes",
                                self.max_packet_bytes
                            ),
                        })
                    }
                    Stop::Io(source) => Err(CaptureError::Io {
                        path: self.path.clone(),
                        source,
                    }),
                }
            }
        }
    }

    /// The packet found by the last successful [`FileSource::advance`].
    pub(crate) fn packet(&self) -> Option<Packet<'_>> {
        let m = self.current?;
        let data = self.buf.raw().get(m.start..m.start + m.len)?;
        Some(Packet {
            ts: m.ts,
            data,
            orig_len: m.orig_len,
            link_type: m.link_type,
        })
    }
}

impl PacketSource for FileSource {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.advance()? {
            Ok(self.packet())
        } else {
            Ok(None)
        }
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSource")
            .field("path", &self.path)
            .field("format", &self.format())
            .field("offset", &self.offset())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
