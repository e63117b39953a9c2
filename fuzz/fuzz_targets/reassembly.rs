//! One direction of TCP reassembly (`vedette_flow::StreamDir`). Two modes, by bit 0 of the
//! first byte:
//!
//! Free mode (bit 0 clear): arbitrary segments, ACKs, FINs and flushes with small caps.
//! `[conf, depth, qbytes, qsegs, isn x4, ops...]`; depth = `depth * (16 if conf bit 1)`
//! (0 = unlimited), `max_queued_bytes = qbytes * 4`, `max_queued_segments = qsegs % 16`;
//! conf bit 2: `init(isn)` first (else the first segment fixes the base). Ops:
//! `[op, off_hi, off_lo, ...]`, offset = signed 16-bit from isn+1, times 65536 with op bit 2;
//! op & 3 = 0 segment `[len, bytes]`, 1 ack, 2 fin `[payload_len]`, 3 flush.
//! Checks: chunks are never empty, delivered bytes == `delivered()` == `bytes_delivered`, at
//! most `depth` delivered, `queued_bytes() <= max_queued_bytes`, nothing queued after flush.
//!
//! Lossless mode (bit 0 set): one byte string cut at input-chosen points, shuffled, with
//! duplicates, fed after `init(isn)`; optional ACKs of what the receiver already had (conf bit
//! 1), an early FIN (bit 2) and the FIN's ACK at the end (bit 3); queue caps exactly the bytes
//! and segments fed. `[conf, depth, isn x4, ncuts, cuts (u16 each), nops, ops (a, b each),
//! data...]`; op: swap segments a and b, and with a bit 7 add a copy of segment b.
//! Checks: no gap, and the delivered bytes are the string (its first `depth * 4` bytes when
//! depth > 0).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedette_flow::{Chunk, StreamConfig, StreamDir, StreamStats};

#[derive(Default)]
struct Sink {
    data: Vec<u8>,
    gaps: u64,
}

impl Sink {
    fn take(&mut self, c: Chunk<'_>) {
        match c {
            Chunk::Data(d) => {
                assert!(!d.is_empty(), "empty Data chunk");
                self.data.extend_from_slice(d);
            }
            Chunk::Gap(g) => {
                assert!(g > 0, "Gap(0)");
                self.gaps += u64::from(g);
            }
        }
    }
}

fn be16(b: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

fn free(input: &[u8]) {
    let [conf, depth, qbytes, qsegs, i0, i1, i2, i3, ops0 @ ..] = input else { return };
    let mut ops: &[u8] = ops0;
    let cfg = StreamConfig {
        depth: u64::from(*depth) * if conf & 2 != 0 { 16 } else { 1 },
        max_queued_bytes: u32::from(*qbytes) * 4,
        max_queued_segments: u16::from(*qsegs % 16),
    };
    let isn = u32::from_be_bytes([*i0, *i1, *i2, *i3]);
    let base = isn.wrapping_add(1);
    let mut dir = StreamDir::default();
    if conf & 4 != 0 {
        dir.init(isn);
    }
    let mut stats = StreamStats::default();
    let mut sink = Sink::default();
    while let [op, hi, lo, rest @ ..] = ops {
        ops = rest;
        let mult: i64 = if op & 4 != 0 { 65536 } else { 1 };
        let off = i64::from(i16::from_be_bytes([*hi, *lo])) * mult;
        let seq = base.wrapping_add(off as u32);
        let mut flushed = false;
        match op & 3 {
            0 => {
                let Some((&len, tail)) = ops.split_first() else { break };
                let (payload, next) = tail.split_at(usize::from(len).min(tail.len()));
                ops = next;
                dir.segment(seq, payload, &cfg, &mut stats, &mut |c| sink.take(c));
            }
            1 => dir.acked(seq, &cfg, &mut stats, &mut |c| sink.take(c)),
            2 => {
                let Some((&plen, next)) = ops.split_first() else { break };
                ops = next;
                dir.fin(seq, u32::from(plen));
            }
            _ => {
                dir.flush(&cfg, &mut stats, &mut |c| sink.take(c));
                flushed = true;
            }
        }
        let got = sink.data.len() as u64;
        assert_eq!(got, dir.delivered(), "delivered() disagrees with the chunks");
        assert_eq!(got, stats.bytes_delivered, "bytes_delivered disagrees with the chunks");
        if cfg.depth > 0 {
            assert!(got <= cfg.depth, "{got} bytes delivered past depth {}", cfg.depth);
        }
        assert!(
            dir.queued_bytes() <= cfg.max_queued_bytes,
            "queued {} > max_queued_bytes {}",
            dir.queued_bytes(),
            cfg.max_queued_bytes
        );
        if flushed {
            assert_eq!(dir.queued_bytes(), 0, "bytes still queued after flush");
        }
        assert!(sink.gaps <= stats.gap_bytes, "more gap bytes reported than counted");
    }
    dir.flush(&cfg, &mut stats, &mut |c| sink.take(c));
    assert_eq!(dir.queued_bytes(), 0, "bytes still queued after flush");
    assert_eq!(sink.data.len() as u64, dir.delivered());
}

fn lossless(input: &[u8]) {
    let [conf, depth, i0, i1, i2, i3, ncuts, rest @ ..] = input else { return };
    let isn = u32::from_be_bytes([*i0, *i1, *i2, *i3]);
    let depth = u64::from(*depth) * 4;
    let Some(cuts) = rest.get(..2 * usize::from(*ncuts)) else { return };
    let rest = &rest[cuts.len()..];
    let Some((&nops, rest)) = rest.split_first() else { return };
    let Some(ops) = rest.get(..2 * usize::from(nops)) else { return };
    let data = &rest[ops.len()..];
    if data.is_empty() {
        return;
    }
    // Cut points -> segments (offset, bytes).
    let mut points: Vec<usize> = cuts.chunks(2).filter_map(be16).map(|c| usize::from(c) % data.len()).collect();
    points.extend([0, data.len()]);
    points.sort_unstable();
    points.dedup();
    let mut segs: Vec<(usize, &[u8])> = points.windows(2).map(|w| (w[0], &data[w[0]..w[1]])).collect();
    for op in ops.chunks(2) {
        let n = segs.len();
        let (a, b) = (usize::from(op[0] & 0x7f) % n, usize::from(op[1]) % n);
        segs.swap(a, b);
        if op[0] & 0x80 != 0 {
            segs.push(segs[b]);
        }
    }
    let total: usize = segs.iter().map(|(_, s)| s.len()).sum();
    let cfg = StreamConfig {
        depth,
        max_queued_bytes: u32::try_from(total).unwrap_or(u32::MAX),
        max_queued_segments: u16::try_from(segs.len()).unwrap_or(u16::MAX),
    };
    let base = isn.wrapping_add(1);
    let end = base.wrapping_add(data.len() as u32);
    let mut dir = StreamDir::default();
    let mut stats = StreamStats::default();
    let mut sink = Sink::default();
    dir.init(isn);
    if conf & 4 != 0 {
        dir.fin(end, 0);
    }
    // Bytes the receiver has seen, to ACK only what it really had.
    let mut have = vec![false; data.len()];
    let mut frontier = 0usize;
    for (off, s) in &segs {
        dir.segment(base.wrapping_add(*off as u32), s, &cfg, &mut stats, &mut |c| sink.take(c));
        have[*off..*off + s.len()].iter_mut().for_each(|h| *h = true);
        while frontier < data.len() && have[frontier] {
            frontier += 1;
        }
        if conf & 2 != 0 {
            dir.acked(base.wrapping_add(frontier as u32), &cfg, &mut stats, &mut |c| sink.take(c));
        }
        assert!(dir.queued_bytes() <= cfg.max_queued_bytes);
    }
    if conf & 8 != 0 {
        dir.fin(end, 0);
        dir.acked(end.wrapping_add(1), &cfg, &mut stats, &mut |c| sink.take(c));
    }
    dir.flush(&cfg, &mut stats, &mut |c| sink.take(c));
    assert_eq!(sink.gaps, 0, "gap in a lossless segmentation");
    let want = match usize::try_from(depth) {
        Ok(d) if d > 0 => &data[..d.min(data.len())],
        _ => data,
    };
    assert!(sink.data == want, "delivered {} bytes, differ from the {} sent", sink.data.len(), want.len());
}

fuzz_target!(|input: &[u8]| {
    match input.first() {
        Some(c) if c & 1 != 0 => lossless(input),
        Some(_) => free(input),
        None => {}
    }
});
