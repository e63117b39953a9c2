//! Classic libpcap file writer (microsecond resolution, little-endian, Ethernet).

use std::io::{self, Write};

use vedette_types::{LinkType, Timestamp};

/// Snapshot length written in the file header; frames longer than this are truncated.
pub const SNAPLEN: u32 = 262_144;

/// Writes a classic pcap stream: microsecond timestamps, little-endian, snaplen 262144,
/// `LINKTYPE_ETHERNET`.
///
/// The writer does no buffering of its own; wrap files in a `BufWriter`.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: W,
    packets: u64,
    bytes: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte global header and returns the writer.
    pub fn new(mut w: W) -> io::Result<Self> {
        let mut hdr = [0u8; 24];
        // Magic 0xa1b2c3d4 written little-endian tells readers both the byte order and
        // that timestamps are in microseconds.
        hdr[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        hdr[4..6].copy_from_slice(&2u16.to_le_bytes());
        hdr[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone (8..12) and sigfigs (12..16) stay zero: times are UTC.
        hdr[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        hdr[20..24].copy_from_slice(&LinkType::ETHERNET.0.to_le_bytes());
        w.write_all(&hdr)?;
        Ok(PcapWriter {
            inner: w,
            packets: 0,
            bytes: 24,
        })
    }

    /// Appends one frame captured at `ts`. Fails for times outside the 32-bit pcap range.
    pub fn write_packet(&mut self, ts: Timestamp, frame: &[u8]) -> io::Result<()> {
        let secs = u32::try_from(ts.secs()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "timestamp outside the classic pcap range (1970..2106)",
            )
        })?;
        let orig_len = u32::try_from(frame.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?;
        let incl_len = orig_len.min(SNAPLEN);
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&secs.to_le_bytes());
        rec[4..8].copy_from_slice(&ts.subsec_micros().to_le_bytes());
        rec[8..12].copy_from_slice(&incl_len.to_le_bytes());
        rec[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.inner.write_all(&rec)?;
        // incl_len <= frame.len() by construction, so the slice is in bounds.
        self.inner.write_all(&frame[..incl_len as usize])?;
        self.packets += 1;
        self.bytes += 16 + u64::from(incl_len);
        Ok(())
    }

    /// Number of packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Number of bytes written so far, file header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Returns the underlying writer (not flushed; call [`PcapWriter::flush`] first if needed).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut w = PcapWriter::new(Vec::new()).expect("vec write");
        w.write_packet(
            Timestamp::from_parts(1_768_467_600, 123_456_789),
            &[1, 2, 3],
        )
        .expect("vec write");
        assert_eq!(w.packets(), 1);
        let buf = w.into_inner();
        assert_eq!(&buf[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&buf[20..24], &[1, 0, 0, 0]);
        assert_eq!(&buf[24..28], &1_768_467_600u32.to_le_bytes());
        assert_eq!(&buf[28..32], &123_456u32.to_le_bytes());
        assert_eq!(&buf[32..36], &3u32.to_le_bytes());
        assert_eq!(&buf[40..], &[1, 2, 3]);
        assert!(PcapWriter::new(Vec::new())
            .expect("vec write")
            .write_packet(Timestamp::from_secs(-1), &[0])
            .is_err());
    }
}
