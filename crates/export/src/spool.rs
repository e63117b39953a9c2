//! The export spool: events NATS did not take (no connection, no ack in time), kept in one
//! append-only file and replayed in order when the connection returns.
//!
//! Record: `len: u32 LE | crc32(payload): u32 LE | payload`, payload =
//! `subject_len: u16 LE | subject | id_len: u16 LE | id | event`. The file is fsync'ed
//! (`sync_data`) by [`Spool::sync`], which the exporter calls once per batch it spooled and at
//! shutdown, so a crash loses at most the batch being written. On open the file is checked
//! record by record; a torn or corrupt tail is logged, counted and cut off. Once every record
//! was replayed and acknowledged the file is truncated to zero. A spool left by a crash is
//! replayed by the next run (JetStream's duplicate window and the hub's event-id check drop
//! what was already delivered).

use crate::ExportError;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Largest record accepted when reading (a larger length field means corruption).
const MAX_RECORD: u32 = 64 << 20;
const HEADER: u64 = 8;

/// One spooled event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolRecord {
    /// NATS subject.
    pub subject: String,
    /// Event id (also the `Nats-Msg-Id`).
    pub id: String,
    /// The EVE line.
    pub data: Vec<u8>,
}

/// An append-only, bounded spool file with a read cursor.
pub struct Spool {
    path: PathBuf,
    out: BufWriter<File>,
    reader: File,
    /// Bytes in the file (written, maybe not yet synced).
    end: u64,
    /// Next record to replay.
    read_at: u64,
    max_bytes: u64,
    dirty: bool,
    /// Records not yet replayed.
    pending: u64,
    /// Corrupt tails cut off at open.
    pub corrupt_tails: u64,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Spool {
        path: path.to_owned(),
        source,
    }
}

impl Spool {
    /// Opens (or creates) the spool; records from an earlier run are kept for replay.
    pub fn open(path: &Path, max_bytes: u64) -> Result<Spool, ExportError> {
        let err = io_err(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(&err)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(&err)?;
        let mut reader = File::open(path).map_err(&err)?;
        let len = file.metadata().map_err(&err)?.len();
        // Find where the valid records end.
        let mut at = 0u64;
        let mut pending = 0u64;
        let mut corrupt_tails = 0;
        loop {
            match read_record(&mut reader, at, len) {
                Ok(Some((_, next))) => {
                    at = next;
                    pending += 1;
                }
                Ok(None) => break,
                Err(why) => {
                    tracing::warn!(
                        "spool {}: {why} at byte {at}; skipping the {} bytes after it",
                        path.display(),
                        len - at
                    );
                    corrupt_tails += 1;
                    file.set_len(at).map_err(&err)?;
                    break;
                }
            }
        }
        if pending > 0 {
            tracing::info!(
                "spool {}: {pending} events from an earlier run will be replayed",
                path.display()
            );
        }
        Ok(Spool {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 16, file),
            reader,
            end: at,
            read_at: 0,
            max_bytes,
            dirty: false,
            pending,
            corrupt_tails,
        })
    }

    /// Records waiting for replay.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Bytes in the file.
    pub fn bytes(&self) -> u64 {
        self.end
    }

    /// Appends a record; false when it would pass `max_bytes` (the caller counts the drop).
    pub fn append(&mut self, subject: &str, id: &str, data: &[u8]) -> Result<bool, ExportError> {
        let (Ok(sl), Ok(il)) = (u16::try_from(subject.len()), u16::try_from(id.len())) else {
            return Ok(false);
        };
        let payload_len = 4 + subject.len() + id.len() + data.len();
        let Ok(plen) = u32::try_from(payload_len) else {
            return Ok(false);
        };
        if plen > MAX_RECORD || self.end + HEADER + u64::from(plen) > self.max_bytes {
            return Ok(false);
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&sl.to_le_bytes());
        crc.update(subject.as_bytes());
        crc.update(&il.to_le_bytes());
        crc.update(id.as_bytes());
        crc.update(data);
        let err = io_err(&self.path);
        let w = &mut self.out;
        w.write_all(&plen.to_le_bytes()).map_err(&err)?;
        w.write_all(&crc.finalize().to_le_bytes()).map_err(&err)?;
        w.write_all(&sl.to_le_bytes()).map_err(&err)?;
        w.write_all(subject.as_bytes()).map_err(&err)?;
        w.write_all(&il.to_le_bytes()).map_err(&err)?;
        w.write_all(id.as_bytes()).map_err(&err)?;
        w.write_all(data).map_err(&err)?;
        self.end += HEADER + u64::from(plen);
        self.pending += 1;
        self.dirty = true;
        Ok(true)
    }

    /// Writes buffered records and fsyncs the file (when anything was appended).
    pub fn sync(&mut self) -> Result<(), ExportError> {
        if !self.dirty {
            return Ok(());
        }
        let err = io_err(&self.path);
        self.out.flush().map_err(&err)?;
        self.out.get_ref().sync_data().map_err(&err)?;
        self.dirty = false;
        Ok(())
    }

    /// The next record to replay, in append order; None when all were read. A record that
    /// fails its checksum ends the replay of this file (logged, counted by the caller).
    pub fn next_record(&mut self) -> Result<Option<SpoolRecord>, ExportError> {
        if self.read_at >= self.end {
            return Ok(None);
        }
        if self.dirty {
            self.out.flush().map_err(io_err(&self.path))?;
        }
        match read_record(&mut self.reader, self.read_at, self.end) {
            Ok(Some((rec, next))) => {
                self.read_at = next;
                self.pending = self.pending.saturating_sub(1);
                Ok(Some(rec))
            }
            Ok(None) => Ok(None),
            Err(why) => {
                tracing::warn!(
                    "spool {}: {why} at byte {}; skipping the rest",
                    self.path.display(),
                    self.read_at
                );
                self.corrupt_tails += 1;
                self.read_at = self.end;
                self.pending = 0;
                Ok(None)
            }
        }
    }

    /// Empties the file once everything was read (and acknowledged, which the caller knows).
    pub fn truncate_if_drained(&mut self) -> Result<bool, ExportError> {
        if self.read_at < self.end || self.end == 0 {
            return Ok(false);
        }
        let err = io_err(&self.path);
        self.out.flush().map_err(&err)?;
        self.out.get_ref().set_len(0).map_err(&err)?;
        self.out.get_ref().sync_data().map_err(&err)?;
        self.end = 0;
        self.read_at = 0;
        self.pending = 0;
        self.dirty = false;
        Ok(true)
    }
}

/// Reads the record at `at` (of a file of `len` valid-or-not bytes): the record and the next
/// offset, None at the end, or why the bytes there are not a record.
fn read_record(f: &mut File, at: u64, len: u64) -> Result<Option<(SpoolRecord, u64)>, String> {
    if at >= len {
        return Ok(None);
    }
    if len - at < HEADER {
        return Err("torn record header".into());
    }
    let mut head = [0u8; HEADER as usize];
    f.seek(SeekFrom::Start(at))
        .and_then(|_| f.read_exact(&mut head))
        .map_err(|e| format!("read error: {e}"))?;
    let [a, b, c, d, e, g, h, i] = head;
    let plen = u32::from_le_bytes([a, b, c, d]);
    let crc = u32::from_le_bytes([e, g, h, i]);
    if !(4..=MAX_RECORD).contains(&plen) {
        return Err(format!("bad record length {plen}"));
    }
    if len - at - HEADER < u64::from(plen) {
        return Err("torn record".into());
    }
    let mut payload = vec![0u8; plen as usize];
    f.read_exact(&mut payload)
        .map_err(|e| format!("read error: {e}"))?;
    if crc32fast::hash(&payload) != crc {
        return Err("checksum mismatch".into());
    }
    let bad = || "malformed record".to_string();
    let take = |p: &[u8], at: usize| -> Option<(String, usize)> {
        let l = usize::from(u16::from_le_bytes([*p.get(at)?, *p.get(at + 1)?]));
        let s = std::str::from_utf8(p.get(at + 2..at + 2 + l)?).ok()?;
        Some((s.to_owned(), at + 2 + l))
    };
    let (subject, i) = take(&payload, 0).ok_or_else(bad)?;
    let (id, i) = take(&payload, i).ok_or_else(bad)?;
    let data = payload.get(i..).ok_or_else(bad)?.to_vec();
    Ok(Some((
        SpoolRecord { subject, id, data },
        at + HEADER + u64::from(plen),
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("vedette-spool-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn records_come_back_in_order_and_survive_reopen() {
        let p = tmp("order");
        let mut s = Spool::open(&p, 1 << 20).unwrap();
        for i in 0..10 {
            assert!(s
                .append(
                    "vedette.s1.flow",
                    &format!("s1:r:{i}"),
                    format!("{{\"n\":{i}}}").as_bytes()
                )
                .unwrap());
        }
        s.sync().unwrap();
        drop(s);
        let mut s = Spool::open(&p, 1 << 20).unwrap();
        assert_eq!(s.pending(), 10);
        for i in 0..10 {
            let r = s.next_record().unwrap().unwrap();
            assert_eq!(r.id, format!("s1:r:{i}"));
            assert_eq!(r.subject, "vedette.s1.flow");
            assert_eq!(r.data, format!("{{\"n\":{i}}}").as_bytes());
        }
        assert!(s.next_record().unwrap().is_none());
        assert!(s.truncate_if_drained().unwrap());
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 0);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_full_spool_refuses_and_a_corrupt_tail_is_cut() {
        let p = tmp("corrupt");
        let mut s = Spool::open(&p, 200).unwrap();
        let mut taken = 0;
        for i in 0..20 {
            if s.append("v.s.flow", &format!("id{i}"), &[b'x'; 30])
                .unwrap()
            {
                taken += 1;
            }
        }
        assert!(taken > 0 && taken < 20, "{taken}");
        s.sync().unwrap();
        drop(s);
        // Flip a byte in the last record's payload and add a torn header.
        let mut bytes = std::fs::read(&p).unwrap();
        let n = bytes.len();
        bytes[n - 3] ^= 0xff;
        bytes.extend_from_slice(&[1, 2, 3]);
        std::fs::write(&p, &bytes).unwrap();
        let mut s = Spool::open(&p, 200).unwrap();
        assert_eq!(s.corrupt_tails, 1);
        assert_eq!(s.pending(), taken - 1);
        let mut read = 0;
        while s.next_record().unwrap().is_some() {
            read += 1;
        }
        assert_eq!(read, taken - 1);
        std::fs::remove_file(&p).unwrap();
    }
}
