//! Builders for tiny pcap and pcapng byte blobs used by the unit tests.

use std::io::Cursor;

use vedette_types::{LinkType, Timestamp};

use crate::{CaptureError, CaptureLimits, FileSource, PacketSource};

pub(crate) const MAGIC_US: u32 = 0xa1b2_c3d4;
pub(crate) const MAGIC_NS: u32 = 0xa1b2_3c4d;
pub(crate) const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

fn put32(out: &mut Vec<u8>, be: bool, v: u32) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put16(out: &mut Vec<u8>, be: bool, v: u16) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// A classic pcap file header; `be` writes every field (magic included) big-endian.
pub(crate) fn pcap_header(magic: u32, be: bool, link_type: u32) -> Vec<u8> {
    let mut out = Vec::new();
    put32(&mut out, be, magic);
    put16(&mut out, be, 2);
    put16(&mut out, be, 4);
    put32(&mut out, be, 0); // thiszone
    put32(&mut out, be, 0); // sigfigs
    put32(&mut out, be, 65_535); // snaplen
    put32(&mut out, be, link_type);
    out
}

/// A classic record header claiming `caplen` bytes (data not appended).
pub(crate) fn pcap_record_header(
    out: &mut Vec<u8>,
    be: bool,
    sec: u32,
    frac: u32,
    caplen: u32,
    orig_len: u32,
) {
    put32(out, be, sec);
    put32(out, be, frac);
    put32(out, be, caplen);
    put32(out, be, orig_len);
}

/// A complete classic record.
pub(crate) fn pcap_record(
    out: &mut Vec<u8>,
    be: bool,
    sec: u32,
    frac: u32,
    orig_len: u32,
    data: &[u8],
) {
    let caplen = u32::try_from(data.len()).expect("small test data");
    pcap_record_header(out, be, sec, frac, caplen, orig_len);
    out.extend_from_slice(data);
}

/// A pcapng block: type, length, body padded to 32 bits, length again.
pub(crate) fn ng_block(be: bool, block_type: u32, body: &[u8]) -> Vec<u8> {
    let padded = (body.len() + 3) & !3;
    let total = u32::try_from(12 + padded).expect("small block");
    let mut out = Vec::new();
    put32(&mut out, be, block_type);
    put32(&mut out, be, total);
    out.extend_from_slice(body);
    out.resize(8 + padded, 0);
    put32(&mut out, be, total);
    out
}

/// pcapng options (code, value), terminated by opt_endofopt.
pub(crate) fn ng_options(be: bool, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    if opts.is_empty() {
        return out;
    }
    for (code, value) in opts {
        put16(&mut out, be, *code);
        put16(
            &mut out,
            be,
            u16::try_from(value.len()).expect("small option"),
        );
        out.extend_from_slice(value);
        out.resize((out.len() + 3) & !3, 0);
    }
    put32(&mut out, be, 0);
    out
}

/// A Section Header Block of version 1.0 with unknown section length.
pub(crate) fn ng_shb(be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, be, 0x1a2b_3c4d);
    put16(&mut body, be, 1);
    put16(&mut body, be, 0);
    body.extend_from_slice(&if be {
        (-1i64).to_be_bytes()
    } else {
        (-1i64).to_le_bytes()
    });
    ng_block(be, 0x0a0d_0d0a, &body)
}

/// An Interface Description Block.
pub(crate) fn ng_idb(be: bool, link_type: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    put16(&mut body, be, link_type);
    put16(&mut body, be, 0);
    put32(&mut body, be, snaplen);
    body.extend_from_slice(&ng_options(be, opts));
    ng_block(be, 1, &body)
}

/// An Enhanced Packet Block.
pub(crate) fn ng_epb(
    be: bool,
    if_id: u32,
    ts: u64,
    data: &[u8],
    orig_len: u32,
    opts: &[(u16, &[u8])],
) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, be, if_id);
    put32(&mut body, be, (ts >> 32) as u32);
    put32(&mut body, be, ts as u32);
    put32(&mut body, be, u32::try_from(data.len()).expect("small"));
    put32(&mut body, be, orig_len);
    body.extend_from_slice(data);
    body.resize((body.len() + 3) & !3, 0);
    body.extend_from_slice(&ng_options(be, opts));
    ng_block(be, 6, &body)
}

/// A Simple Packet Block.
pub(crate) fn ng_spb(be: bool, orig_len: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, be, orig_len);
    body.extend_from_slice(data);
    ng_block(be, 3, &body)
}

/// An obsolete Packet Block.
pub(crate) fn ng_pb(be: bool, if_id: u16, ts: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = Vec::new();
    put16(&mut body, be, if_id);
    put16(&mut body, be, 0); // drops
    put32(&mut body, be, (ts >> 32) as u32);
    put32(&mut body, be, ts as u32);
    put32(&mut body, be, u32::try_from(data.len()).expect("small"));
    put32(&mut body, be, orig_len);
    body.extend_from_slice(data);
    ng_block(be, 2, &body)
}

/// Opens in-memory bytes with the given limits.
pub(crate) fn source_with(
    bytes: Vec<u8>,
    limits: CaptureLimits,
) -> Result<FileSource, CaptureError> {
    FileSource::from_reader(Box::new(Cursor::new(bytes)), "test.pcap", limits)
}

/// Opens in-memory bytes with default limits.
pub(crate) fn source(bytes: Vec<u8>) -> FileSource {
    source_with(bytes, CaptureLimits::default()).expect("test capture opens")
}

/// One packet, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Owned {
    pub ts: Timestamp,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub link_type: LinkType,
}

/// Reads every packet; returns them and the error that ended reading, if any. Also checks the
/// contract that a source returns `Ok(None)` after an error or the end.
pub(crate) fn drain(src: &mut dyn PacketSource) -> (Vec<Owned>, Option<CaptureError>) {
    let mut out = Vec::new();
    let err = loop {
        match src.next_packet() {
            Ok(Some(p)) => out.push(Owned {
                ts: p.ts,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
                link_type: p.link_type,
            }),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(
        matches!(src.next_packet(), Ok(None)),
        "a finished source stays finished"
    );
    (out, err)
}

/// Timestamp from seconds and nanoseconds.
pub(crate) fn ts(secs: i64, nanos: u32) -> Timestamp {
    Timestamp::from_parts(secs, nanos)
}

/// A scratch directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// A fresh, empty directory unique to this process and `name`.
    pub(crate) fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "vedette-capture-test-{}-{name}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Writes `bytes` to `rel` (creating parent directories) and returns the full path.
    pub(crate) fn write(&self, rel: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, bytes).expect("write test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A classic pcap with one packet per given second (one-byte payload = index).
pub(crate) fn pcap_with_seconds(secs: &[u32]) -> Vec<u8> {
    let mut f = pcap_header(MAGIC_US, false, 1);
    for (i, &s) in secs.iter().enumerate() {
        pcap_record(&mut f, false, s, 0, 1, &[i as u8]);
    }
    f
}
