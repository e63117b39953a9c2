//! Bounded streaming decompression of `Content-Encoding: gzip | deflate` bodies.
//!
//! Output goes into a sink that keeps at most the inspection room left in the body and stops
//! the decoder (by failing its write) once `max_out` bytes were produced, so neither a gzip
//! bomb nor a long stream grows memory. Like libhtp, data that claims `gzip` but does not start
//! with the gzip magic (nor a zlib header) is passed through unchanged; `deflate` accepts zlib
//! streams and raw deflate (which some servers send).

use std::io::{self, Write};

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

/// Compressed bytes written to the decoder at a time.
const STEP: usize = 512;

/// Compression named by `Content-Encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
}

/// Why decompression stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The stream is corrupt (`GZIP_DECOMPRESSION_FAILED`).
    Corrupt,
    /// More than `max_out` bytes and a ratio above the bomb ratio (`COMPRESSION_BOMB`).
    Bomb,
    /// More than `max_out` bytes at an ordinary ratio: the rest is not needed for inspection.
    Capped,
}

/// Collects decompressed bytes, bounded.
#[derive(Debug)]
struct Sink {
    /// Bytes waiting to be moved to the body (at most `room`).
    kept: Vec<u8>,
    /// How many more bytes the body can keep.
    room: usize,
    /// Decompressed bytes produced so far.
    produced: u64,
    /// Compressed bytes fed so far.
    consumed: u64,
    max_out: u64,
    bomb_ratio: u64,
    stop: Option<Stop>,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.produced = self.produced.saturating_add(buf.len() as u64);
        if self.produced > self.max_out {
            self.stop = Some(
                if self.produced > self.consumed.saturating_mul(self.bomb_ratio) {
                    Stop::Bomb
                } else {
                    Stop::Capped
                },
            );
            return Err(io::Error::other("decompressed size limit"));
        }
        let take = buf.len().min(self.room);
        if let Some(part) = buf.get(..take) {
            self.kept.extend_from_slice(part);
            self.room -= take;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Inner {
    /// Waiting for the first two bytes to pick the format.
    Sniff {
        head: [u8; 2],
        len: usize,
    },
    Gzip(Box<GzDecoder<Sink>>),
    Zlib(Box<ZlibDecoder<Sink>>),
    Raw(Box<DeflateDecoder<Sink>>),
    /// Not compressed after all: bytes are kept as they are.
    Passthrough,
    /// Stopped; later bytes are ignored.
    Done,
}

/// A streaming decoder for one body.
pub(crate) struct Decoder {
    coding: Coding,
    inner: Inner,
    max_out: u64,
    bomb_ratio: u64,
    /// Set when the decoder stopped for a reason the caller should report.
    pub stopped: Option<Stop>,
    /// Decompressed (or passed-through) bytes produced.
    pub produced: u64,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("coding", &self.coding)
            .field("stopped", &self.stopped)
            .field("produced", &self.produced)
            .finish()
    }
}

fn zlib_header(h: [u8; 2]) -> bool {
    h[0] & 0x0f == 8 && (u16::from(h[0]) << 8 | u16::from(h[1])) % 31 == 0
}

impl Decoder {
    pub(crate) fn new(coding: Coding, max_out: u64, bomb_ratio: u64) -> Self {
        Decoder {
            coding,
            inner: Inner::Sniff {
                head: [0; 2],
                len: 0,
            },
            max_out,
            bomb_ratio,
            stopped: None,
            produced: 0,
        }
    }

    fn sink(&self) -> Sink {
        Sink {
            kept: Vec::new(),
            room: 0,
            produced: 0,
            consumed: 0,
            max_out: self.max_out,
            bomb_ratio: self.bomb_ratio,
            stop: None,
        }
    }

    /// Feeds compressed bytes; at most `room` decompressed bytes are appended to `out` (the
    /// rest is counted and dropped). Returns true when the decoder stopped during this call.
    pub(crate) fn feed(&mut self, mut data: &[u8], room: usize, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let left = |out: &Vec<u8>| room.saturating_sub(out.len() - start);
        if let Inner::Sniff { head, len } = &mut self.inner {
            while *len < 2 {
                let Some((b, rest)) = data.split_first() else {
                    return false;
                };
                if let Some(slot) = head.get_mut(*len) {
                    *slot = *b;
                }
                *len += 1;
                data = rest;
            }
            let head = *head;
            let sink = self.sink();
            self.inner = match self.coding {
                Coding::Gzip if head == [0x1f, 0x8b] => Inner::Gzip(Box::new(GzDecoder::new(sink))),
                _ if zlib_header(head) => Inner::Zlib(Box::new(ZlibDecoder::new(sink))),
                Coding::Deflate => Inner::Raw(Box::new(DeflateDecoder::new(sink))),
                Coding::Gzip => {
                    // Not compressed: libhtp passes such data through unchanged.
                    self.stopped = Some(Stop::Corrupt);
                    self.pass(&head, room, out);
                    let l = left(out);
                    self.pass(data, l, out);
                    self.inner = Inner::Passthrough;
                    return true;
                }
            };
            if self.run(&head, room, out) {
                return true;
            }
            let l = left(out);
            return self.run(data, l, out);
        }
        if let Inner::Passthrough = self.inner {
            self.pass(data, room, out);
            return false;
        }
        self.run(data, room, out)
    }

    fn pass(&mut self, data: &[u8], room: usize, out: &mut Vec<u8>) {
        self.produced = self.produced.saturating_add(data.len() as u64);
        out.extend_from_slice(data.get(..data.len().min(room)).unwrap_or(&[]));
    }

    fn run(&mut self, mut data: &[u8], room: usize, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        while !data.is_empty() {
            let room_now = room.saturating_sub(out.len() - start);
            // Small steps keep the compressed count precise enough for the ratio test.
            let piece = data.get(..data.len().min(STEP)).unwrap_or(&[]);
            let res = match &mut self.inner {
                Inner::Gzip(d) => step(d.as_mut(), piece, room_now),
                Inner::Zlib(d) => step(d.as_mut(), piece, room_now),
                Inner::Raw(d) => step(d.as_mut(), piece, room_now),
                _ => return false,
            };
            let (n, stop) = match res {
                Ok((n, s)) => {
                    out.append(&mut s.kept);
                    self.produced = s.produced;
                    (n, s.stop)
                }
                Err(s) => {
                    out.append(&mut s.kept);
                    self.produced = s.produced;
                    (0, Some(s.stop.unwrap_or(Stop::Corrupt)))
                }
            };
            if let Some(stop) = stop {
                self.stopped = Some(stop);
                self.inner = Inner::Done;
                return true;
            }
            if n == 0 {
                // End of the compressed stream: trailing bytes are ignored.
                break;
            }
            data = data.get(n..).unwrap_or(&[]);
        }
        false
    }

    /// Flushes what the decoder still holds at the end of the body (at most `room` bytes).
    pub(crate) fn finish(&mut self, room: usize, out: &mut Vec<u8>) {
        match &mut self.inner {
            Inner::Gzip(d) => finish_one(d.as_mut(), room, out, &mut self.produced),
            Inner::Zlib(d) => finish_one(d.as_mut(), room, out, &mut self.produced),
            Inner::Raw(d) => finish_one(d.as_mut(), room, out, &mut self.produced),
            Inner::Sniff { head, len } => {
                // A body of one byte: too short to be compressed, keep it as it is.
                let h = head.get(..*len).unwrap_or(&[]).to_vec();
                self.pass(&h, room, out);
            }
            Inner::Passthrough | Inner::Done => {}
        }
        self.inner = Inner::Done;
    }
}

fn finish_one<D: DecoderLike>(d: &mut D, room: usize, out: &mut Vec<u8>, produced: &mut u64) {
    d.sink().room = room;
    let _ = d.finish_some();
    let s = d.sink();
    out.append(&mut s.kept);
    *produced = s.produced;
}

/// One `write` into a decoder, with the sink's room set first.
fn step<'a, D: DecoderLike>(
    d: &'a mut D,
    data: &[u8],
    room: usize,
) -> Result<(usize, &'a mut Sink), &'a mut Sink> {
    {
        let s = d.sink();
        s.room = room;
        s.consumed = s.consumed.saturating_add(data.len() as u64);
    }
    // Flushing after each write hands over what the decoder produced right away.
    match d.write_some(data).and_then(|n| d.flush_some().map(|()| n)) {
        Ok(n) => {
            let s = d.sink();
            s.consumed = s
                .consumed
                .saturating_sub((data.len() - n.min(data.len())) as u64);
            Ok((n, s))
        }
        Err(_) => Err(d.sink()),
    }
}

trait DecoderLike {
    fn sink(&mut self) -> &mut Sink;
    fn write_some(&mut self, data: &[u8]) -> io::Result<usize>;
    fn finish_some(&mut self) -> io::Result<()>;
    fn flush_some(&mut self) -> io::Result<()>;
}

macro_rules! decoder_like {
    ($t:ty) => {
        impl DecoderLike for $t {
            fn sink(&mut self) -> &mut Sink {
                self.get_mut()
            }
            fn write_some(&mut self, data: &[u8]) -> io::Result<usize> {
                self.write(data)
            }
            fn finish_some(&mut self) -> io::Result<()> {
                self.try_finish()
            }
            fn flush_some(&mut self) -> io::Result<()> {
                self.flush()
            }
        }
    };
}
decoder_like!(GzDecoder<Sink>);
decoder_like!(ZlibDecoder<Sink>);
decoder_like!(DeflateDecoder<Sink>);

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_in_pieces() {
        let plain: Vec<u8> = (0..5000u32).flat_map(|i| i.to_le_bytes()).collect();
        let z = gzip(&plain);
        for split in [1, 2, 3, 7, 100] {
            let mut d = Decoder::new(Coding::Gzip, 1 << 20, 500);
            let mut out = Vec::new();
            for piece in z.chunks(split) {
                let room = 1_000_000 - out.len();
                d.feed(piece, room, &mut out);
            }
            d.finish(1_000_000 - out.len(), &mut out);
            assert_eq!(out, plain, "split {split}");
            assert_eq!(d.stopped, None);
        }
    }

    #[test]
    fn deflate_zlib_and_raw() {
        let plain = b"hello hello hello hello".repeat(10);
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(&plain).unwrap();
        let z = e.finish().unwrap();
        let mut d = Decoder::new(Coding::Deflate, 1 << 20, 500);
        let mut out = Vec::new();
        d.feed(&z, 1000, &mut out);
        assert_eq!(out, plain);
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(&plain).unwrap();
        let raw = e.finish().unwrap();
        let mut d = Decoder::new(Coding::Deflate, 1 << 20, 500);
        let mut out = Vec::new();
        d.feed(&raw, 1000, &mut out);
        assert_eq!(out, plain);
    }

    #[test]
    fn not_gzip_passes_through() {
        let mut d = Decoder::new(Coding::Gzip, 1 << 20, 500);
        let mut out = Vec::new();
        d.feed(b"{", 100, &mut out);
        d.feed(b"\"a\":1}", 100, &mut out);
        assert_eq!(out, b"{\"a\":1}");
        assert_eq!(d.stopped, Some(Stop::Corrupt));
    }

    #[test]
    fn bomb_is_stopped_and_bounded() {
        let z = gzip(&vec![0u8; 8 << 20]);
        let mut d = Decoder::new(Coding::Gzip, 1 << 20, 500);
        let mut out = Vec::new();
        for piece in z.chunks(4096) {
            let room = 100 * 1024 - out.len().min(100 * 1024);
            d.feed(piece, room, &mut out);
        }
        assert_eq!(d.stopped, Some(Stop::Bomb));
        assert!(out.len() <= 100 * 1024);
        assert!(d.produced <= (1 << 20) + 64 * 1024);
    }

    #[test]
    fn corrupt_stream_stops() {
        let mut z = gzip(&b"abcdefgh".repeat(1000));
        for b in z.iter_mut().skip(20).take(40) {
            *b = 0xff;
        }
        let mut d = Decoder::new(Coding::Gzip, 1 << 20, 500);
        let mut out = Vec::new();
        d.feed(&z, 1 << 20, &mut out);
        assert_eq!(d.stopped, Some(Stop::Corrupt));
    }
}
