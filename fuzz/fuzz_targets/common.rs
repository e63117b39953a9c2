//! Shared by the app-layer targets (`http`, `dns`, `tls`): the chunk-sequence input format and
//! the EVE check. Not a target itself (no `[[bin]]`).
//!
//! After the target's config byte, the input is records `[tag, len_hi, len_lo, bytes...]`
//! (a short last record takes what is left; scripts/mkseeds.py writes this format):
//! - tag bit 0: direction (0 = to server, 1 = to client);
//! - tag bit 1: a gap of `len` bytes (`len << 16` with bit 2) instead of data (no bytes follow);
//! - tag bits 3-7: left to the target (e.g. `http` takes tunnel bytes on bit 3).
#![allow(dead_code)]

use vedette_eve::{EventBatch, EventType, JsonWriter};
use vedette_types::Direction;

pub const DIRS: [Direction; 2] = [Direction::ToServer, Direction::ToClient];

/// One record of the input.
pub struct Chunk<'a> {
    pub dir: Direction,
    /// `Some(n)`: `n` bytes are missing (no data).
    pub gap: Option<u64>,
    pub data: &'a [u8],
    pub tag: u8,
}

/// The records of `rest`, in order.
pub fn chunks(mut rest: &[u8]) -> impl Iterator<Item = Chunk<'_>> {
    std::iter::from_fn(move || {
        let [tag, hi, lo, tail @ ..] = rest else { return None };
        let len = u16::from_be_bytes([*hi, *lo]);
        let dir = DIRS[usize::from(tag & 1)];
        if tag & 2 != 0 {
            rest = tail;
            let n = if tag & 4 != 0 { u64::from(len) << 16 } else { u64::from(len) };
            return Some(Chunk { dir, gap: Some(n), data: &[], tag: *tag });
        }
        let (data, next) = tail.split_at(usize::from(len).min(tail.len()));
        rest = next;
        Some(Chunk { dir, gap: None, data, tag: *tag })
    })
}

/// Writes one EVE record with `write` (after `open`), checks it is one line of valid JSON whose
/// top level is an object, and returns it parsed.
pub fn eve(ty: EventType, write: impl FnOnce(&mut JsonWriter<'_>)) -> serde_json::Value {
    let mut batch = EventBatch::default();
    let mut w = batch.begin(ty);
    w.open();
    write(&mut w);
    w.finish();
    assert_eq!(batch.len(), 1, "one record per begin/finish");
    let line = batch.record(0).expect("record 0");
    assert!(!line.contains(&b'\n'), "newline inside an EVE record");
    match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(v) if v.is_object() => v,
        Ok(_) => panic!("EVE record is not an object: {}", String::from_utf8_lossy(line)),
        Err(e) => panic!("invalid EVE JSON ({e}): {}", String::from_utf8_lossy(line)),
    }
}
