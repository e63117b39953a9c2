//! A reusable read buffer over any byte stream, sized for whole capture records.
//!
//! Capture readers need a complete record (header + data) in one contiguous slice so they can
//! hand out `&[u8]` views without copying. This buffer reads large chunks straight from the
//! underlying reader into one `Vec` (no `BufReader` in between, so every byte is copied once,
//! kernel → buffer), and only moves bytes when a partial record sits at the end of the buffer.

use std::io::{self, Read};

/// A growable, reused window over a stream.
///
/// Invariant: `start <= end <= data.len()`; `data[start..end]` holds unconsumed bytes and
/// `pos` is the stream offset of `data[start]`.
pub(crate) struct ReadBuf {
    inner: Box<dyn Read + Send>,
    data: Vec<u8>,
    start: usize,
    end: usize,
    pos: u64,
    eof: bool,
    /// The buffer never grows past this, whatever a record header claims.
    max_len: usize,
}

impl ReadBuf {
    /// A buffer of `initial_len` bytes that may grow to `max_len` bytes.
    pub(crate) fn new(inner: Box<dyn Read + Send>, initial_len: usize, max_len: usize) -> Self {
        let initial_len = initial_len.clamp(64, max_len.max(64));
        ReadBuf {
            inner,
            // Zeroed allocation: the allocator hands out fresh (lazily mapped) pages for large
            // sizes, so a small file does not pay for touching the whole buffer.
            data: vec![0; initial_len],
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
            max_len: max_len.max(initial_len),
        }
    }

    /// Stream offset of the first unconsumed byte.
    #[inline]
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Index in the backing buffer of the first unconsumed byte (for building packet views).
    #[inline]
    pub(crate) fn start_index(&self) -> usize {
        self.start
    }

    /// The backing buffer (packet views index into it).
    #[inline]
    pub(crate) fn raw(&self) -> &[u8] {
        &self.data
    }

    /// The unconsumed bytes currently buffered.
    #[inline]
    pub(crate) fn available(&self) -> &[u8] {
        self.data.get(self.start..self.end).unwrap_or(&[])
    }

    /// Largest `n` that [`ReadBuf::fill`] accepts.
    #[inline]
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// Makes at least `n` bytes available. `Ok(false)` means the stream ended first (whatever
    /// was read stays available). `n` above [`ReadBuf::max_len`] is an `InvalidInput` error:
    /// callers check untrusted lengths against their limits before asking.
    #[inline]
    pub(crate) fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.start >= n {
            return Ok(true);
        }
        self.fill_slow(n)
    }

    #[cold]
    fn fill_slow(&mut self, n: usize) -> io::Result<bool> {
        if n > self.max_len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "record larger than the read buffer limit",
            ));
        }
        // Move the partial record to the front when it cannot complete in place, or when
        // there is no room left to read into; this copies at most one record per buffer cycle.
        if self.start + n > self.data.len() || self.end == self.data.len() {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if n > self.data.len() {
            // Grow geometrically (bounded) so a run of growing records does not reallocate
            // each time; the bound comes from the caller's limits, never from file data.
            let new_len = n.max(self.data.len().saturating_mul(2).min(self.max_len));
            self.data.resize(new_len, 0);
        }
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            let space = self.data.get_mut(self.end..).unwrap_or(&mut []);
            match self.inner.read(space) {
                Ok(0) => self.eof = true,
                // A misbehaving reader could claim more than the slice it was given.
                Ok(k) => self.end = (self.end + k).min(self.data.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Drops `n` buffered bytes (`n` larger than what is buffered drops everything buffered).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.pos += n as u64;
    }

    /// Drops `n` bytes of the stream, reading and discarding past the buffer if needed.
    /// `Ok(false)` means the stream ended before `n` bytes.
    pub(crate) fn skip(&mut self, n: u64) -> io::Result<bool> {
        let buffered = (self.end - self.start) as u64;
        if n <= buffered {
            // n <= buffered, which is a usize, so the cast is lossless.
            self.consume(n as usize);
            return Ok(true);
        }
        self.consume(self.end - self.start);
        self.start = 0;
        self.end = 0;
        let mut left = n - buffered;
        while left > 0 {
            if self.eof {
                return Ok(false);
            }
            let chunk = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.data.len());
            let space = self.data.get_mut(..chunk).unwrap_or(&mut []);
            match self.inner.read(space) {
                Ok(0) => self.eof = true,
                Ok(k) => {
                    let k = k.min(chunk) as u64;
                    left -= k;
                    self.pos += k;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `chunk` bytes per call, to exercise refills.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        chunk: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.chunk).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn trickle(len: usize, chunk: usize) -> ReadBuf {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        ReadBuf::new(Box::new(Trickle { data, at: 0, chunk }), 64, 256)
    }

    #[test]
    fn fill_compacts_and_grows_within_limit() {
        let mut b = trickle(1000, 7);
        assert!(b.fill(60).expect("fill"));
        assert_eq!(b.available()[..10], (0..10u8).collect::<Vec<_>>()[..]);
        b.consume(60);
        assert_eq!(b.pos(), 60);
        // Needs compaction (60 + 100 > 64) and growth (100 > 64).
        assert!(b.fill(100).expect("fill"));
        assert_eq!(b.available()[0], 60);
        assert_eq!(b.available()[99], 159);
        assert!(b.fill(257).is_err(), "over the limit is refused");
    }

    #[test]
    fn skip_past_buffer_and_eof() {
        let mut b = trickle(1000, 13);
        assert!(b.fill(5).expect("fill"));
        assert!(b.skip(500).expect("skip"));
        assert_eq!(b.pos(), 500);
        assert!(b.fill(1).expect("fill"));
        assert_eq!(b.available()[0], (500 % 256) as u8);
        assert!(!b.skip(1000).expect("skip"), "stream ends first");
        assert!(!b.fill(1).expect("fill"));
    }
}
