//! A streaming EVE line reader with a line-length cap: memory stays bounded whatever the file
//! holds (a multi-gigabyte line without a newline costs `max_line_bytes`, not gigabytes).

use std::io::BufRead;

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum LineOutcome<'a> {
    /// A line (without its newline; a trailing `\r` is removed), and its 1-based number.
    Line(u64, &'a [u8]),
    /// A line longer than the cap (skipped to its end), and its number.
    TooLong(u64),
}

/// Reads lines of at most `max_line_bytes` from any reader.
pub struct EveLineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_line_bytes: usize,
    line_no: u64,
}

impl<R: BufRead> EveLineReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, max_line_bytes: usize) -> Self {
        EveLineReader {
            inner,
            buf: Vec::new(),
            max_line_bytes: max_line_bytes.max(1),
            line_no: 0,
        }
    }

    /// The next line; `Ok(None)` at the end. Blank lines are skipped (still numbered).
    pub fn next_line(&mut self) -> std::io::Result<Option<LineOutcome<'_>>> {
        loop {
            self.buf.clear();
            let mut too_long = false;
            let mut saw_any = false;
            loop {
                let chunk = match self.inner.fill_buf() {
                    Ok(c) => c,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if chunk.is_empty() {
                    break;
                }
                saw_any = true;
                let (part, done) = match memchr_newline(chunk) {
                    Some(i) => (chunk.get(..i).unwrap_or_default(), Some(i + 1)),
                    None => (chunk, None),
                };
                if !too_long {
                    if self.buf.len() + part.len() > self.max_line_bytes {
                        too_long = true;
                        self.buf.clear();
                    } else {
                        self.buf.extend_from_slice(part);
                    }
                }
                let used = done.unwrap_or(chunk.len());
                self.inner.consume(used);
                if done.is_some() {
                    break;
                }
            }
            if !saw_any {
                return Ok(None);
            }
            self.line_no += 1;
            if too_long {
                return Ok(Some(LineOutcome::TooLong(self.line_no)));
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(LineOutcome::Line(self.line_no, &self.buf)));
        }
    }
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lines_are_numbered_and_long_ones_skipped_with_bounded_memory() {
        let mut data = b"{\"a\":1}\r\n\n".to_vec();
        data.extend_from_slice(&[b'x'; 10_000]);
        data.extend_from_slice(b"\nlast");
        // A tiny BufReader capacity makes every line span several chunks.
        let mut r = EveLineReader::new(std::io::BufReader::with_capacity(7, &data[..]), 100);
        assert_eq!(
            r.next_line().unwrap(),
            Some(LineOutcome::Line(1, b"{\"a\":1}"))
        );
        assert_eq!(r.next_line().unwrap(), Some(LineOutcome::TooLong(3)));
        assert!(
            r.buf.capacity() <= 200,
            "buffer grew to {}",
            r.buf.capacity()
        );
        assert_eq!(r.next_line().unwrap(), Some(LineOutcome::Line(4, b"last")));
        assert_eq!(r.next_line().unwrap(), None);
    }
}
