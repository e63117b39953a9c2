//! Reading many capture files as one stream: "a directory means every capture in it, in time
//! order".

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use vedette_types::Timestamp;

use crate::file::{FileSource, PROBE_BUFFER_BYTES};
use crate::{CaptureError, CaptureLimits, Packet, PacketSource, SourceStats};

/// Most error messages a [`CaptureSet`] keeps for [`CaptureSet::errors`]; later ones are only
/// counted (a directory of broken files must not grow memory without bound).
pub const MAX_KEPT_ERRORS: usize = 100;

/// Reads the capture files under a list of paths one after another, in the order of their
/// first packets' timestamps (ties broken by path).
///
/// Directories are walked recursively; every regular file in them is considered whatever its
/// name, and those that are not pcap or pcapng (by magic number) are skipped with a warning and
/// counted in [`SourceStats::files_failed`]. Symbolic links to files are followed; symbolic
/// links to directories are not (they could form loops).
///
/// A file that turns out corrupt or unreadable while being read is logged with
/// `tracing::error!`, remembered in [`CaptureSet::errors`], and reading continues with the next
/// file: `next_packet` never returns `Err`, so one bad file does not stop the analysis of the
/// others. The caller decides what the collected errors mean for its exit code.
pub struct CaptureSet {
    files: Vec<CaptureFile>,
    /// Index in `files` of the next file to open.
    next_file: usize,
    current: Option<FileSource>,
    /// Index in `files` of the file `current` reads.
    current_index: usize,
    limits: CaptureLimits,
    /// Counters of files already finished, plus files that failed to open.
    finished: SourceStats,
    /// Sizes of the files already finished.
    finished_bytes: u64,
    total_bytes: u64,
    errors: Vec<String>,
    error_count: u64,
}

/// A capture file found by `open`, with what sorting needs.
#[derive(Debug)]
struct CaptureFile {
    path: PathBuf,
    size: u64,
    /// Time of its first packet; `None` when it has none (or the first record is bad), which
    /// sorts first: such a file contributes no packets to misorder.
    first_ts: Option<Timestamp>,
}

impl CaptureSet {
    /// Finds the capture files under `paths` (files, or directories walked recursively) and
    /// sorts them by the timestamp of their first packet.
    ///
    /// Errors: [`CaptureError::Io`] when a given path does not exist or a given directory
    /// cannot be listed; [`CaptureError::NoCaptures`] when no capture file was found at all.
    /// Unreadable or non-capture files are skipped (and counted), not fatal.
    pub fn open(paths: &[PathBuf], limits: CaptureLimits) -> Result<CaptureSet, CaptureError> {
        let mut set = CaptureSet {
            files: Vec::new(),
            next_file: 0,
            current: None,
            current_index: 0,
            limits,
            finished: SourceStats::default(),
            finished_bytes: 0,
            total_bytes: 0,
            errors: Vec::new(),
            error_count: 0,
        };

        // (path, size, named explicitly by the caller)
        let mut candidates: Vec<(PathBuf, u64, bool)> = Vec::new();
        for path in paths {
            let meta = fs::metadata(path).map_err(|source| CaptureError::Io {
                path: path.clone(),
                source,
            })?;
            if meta.is_dir() {
                let before = candidates.len();
                set.walk_dir(path, &mut candidates, true)?;
                // Within a directory, visit in name order so logs and ties are deterministic.
                if let Some(found) = candidates.get_mut(before..) {
                    found.sort();
                }
            } else {
                candidates.push((path.clone(), meta.len(), true));
            }
        }

        // The same file named twice (or found through two given paths) is read once.
        let mut seen = HashSet::new();
        candidates.retain(|(path, _, _)| {
            let key = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            seen.insert(key)
        });

        let mut first_skip_reason = None;
        for (path, size, explicit) in candidates {
            match probe_first_timestamp(&path, limits) {
                Ok(first_ts) => set.files.push(CaptureFile {
                    path,
                    size,
                    first_ts,
                }),
                Err(e) => {
                    set.finished.files_failed += 1;
                    if explicit || !matches!(e, CaptureError::UnknownFormat { .. }) {
                        // The caller named this file, or it is a capture we cannot read:
                        // worth reporting, not just a README sitting in a capture directory.
                        set.record_error(&e);
                    } else {
                        tracing::warn!(error = %e, "skipping file that is not a capture");
                    }
                    first_skip_reason.get_or_insert_with(|| e.to_string());
                }
            }
        }

        if set.files.is_empty() {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let mut what = names.join(", ");
            if let Some(reason) = first_skip_reason {
                what.push_str(&format!(" (first skipped: {reason})"));
            }
            return Err(CaptureError::NoCaptures(what));
        }
        set.files.sort_by(|a, b| {
            a.first_ts
                .cmp(&b.first_ts)
                .then_with(|| a.path.cmp(&b.path))
        });
        set.total_bytes = set.files.iter().map(|f| f.size).sum();
        Ok(set)
    }

    /// Collects the regular files under `dir`. Only a failure to list the top directory (one
    /// the caller named) is fatal; deeper failures are recorded and skipped.
    fn walk_dir(
        &mut self,
        dir: &Path,
        out: &mut Vec<(PathBuf, u64, bool)>,
        top: bool,
    ) -> Result<(), CaptureError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(source) => {
                let e = CaptureError::Io {
                    path: dir.to_path_buf(),
                    source,
                };
                if top {
                    return Err(e);
                }
                self.finished.files_failed += 1;
                self.record_error(&e);
                return Ok(());
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(source) => {
                    self.finished.files_failed += 1;
                    self.record_error(&CaptureError::Io {
                        path: dir.to_path_buf(),
                        source,
                    });
                    continue;
                }
            };
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                self.walk_dir(&path, out, false)?;
            } else if file_type.is_file() || file_type.is_symlink() {
                // fs::metadata follows the link; links to directories are left alone.
                match fs::metadata(&path) {
                    Ok(meta) if meta.is_file() => out.push((path, meta.len(), false)),
                    Ok(_) => {}
                    Err(source) => {
                        self.finished.files_failed += 1;
                        self.record_error(&CaptureError::Io { path, source });
                    }
                }
            }
        }
        Ok(())
    }

    fn record_error(&mut self, e: &CaptureError) {
        tracing::error!(error = %e, "capture file error");
        self.error_count += 1;
        if self.errors.len() < MAX_KEPT_ERRORS {
            self.errors.push(e.to_string());
        }
    }

    /// Messages of the errors met so far (at most [`MAX_KEPT_ERRORS`]; see
    /// [`CaptureSet::error_count`] for the total).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Number of errors met so far, including those beyond [`MAX_KEPT_ERRORS`].
    pub fn error_count(&self) -> u64 {
        self.error_count
    }

    /// The capture files that will be read, in reading order.
    pub fn files(&self) -> impl ExactSizeIterator<Item = &Path> + '_ {
        self.files.iter().map(|f| f.path.as_path())
    }

    /// The file being read, if any.
    pub fn current_file(&self) -> Option<&Path> {
        self.current.as_ref().map(FileSource::path)
    }

    /// Sum of the sizes of all capture files in the set (for a progress bar).
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// File bytes consumed so far. A file that stops early at an error counts as fully read,
    /// so progress still reaches [`CaptureSet::total_bytes`] at the end.
    pub fn bytes_read(&self) -> u64 {
        let current = match &self.current {
            Some(src) => {
                let size = self.files.get(self.current_index).map_or(0, |f| f.size);
                // A file growing while we read must not push progress past its slot.
                src.offset().min(size)
            }
            None => 0,
        };
        self.finished_bytes + current
    }

    /// Closes the current file, folding its counters into the set's.
    fn finish_current(&mut self) {
        if let Some(src) = self.current.take() {
            add_stats(&mut self.finished, &src.stats());
            self.finished_bytes += self.files.get(self.current_index).map_or(0, |f| f.size);
        }
    }
}

impl PacketSource for CaptureSet {
    /// The next packet of the current file, moving on to the next file at its end or at an
    /// error (which is logged and recorded, never returned).
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        loop {
            if let Some(src) = &mut self.current {
                match src.advance() {
                    Ok(true) => break,
                    Ok(false) => self.finish_current(),
                    Err(e) => {
                        self.record_error(&e);
                        self.finish_current();
                    }
                }
                continue;
            }
            let Some(file) = self.files.get(self.next_file) else {
                return Ok(None);
            };
            let path = file.path.clone();
            self.current_index = self.next_file;
            self.next_file += 1;
            match FileSource::open(&path, self.limits) {
                Ok(src) => self.current = Some(src),
                Err(e) => {
                    // It was readable when probed; it changed or vanished since.
                    self.finished.files_failed += 1;
                    self.finished_bytes += file_size(&self.files, self.current_index);
                    self.record_error(&e);
                }
            }
        }
        // Borrowing the packet only after the loop keeps the borrow checker happy: inside the
        // loop, `self.current` is still replaced when a file ends.
        Ok(self.current.as_ref().and_then(FileSource::packet))
    }

    fn stats(&self) -> SourceStats {
        let mut total = self.finished;
        if let Some(src) = &self.current {
            add_stats(&mut total, &src.stats());
        }
        total
    }
}

impl std::fmt::Debug for CaptureSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureSet")
            .field("files", &self.files.len())
            .field("current_file", &self.current_file())
            .field("error_count", &self.error_count)
            .finish_non_exhaustive()
    }
}

fn file_size(files: &[CaptureFile], index: usize) -> u64 {
    files.get(index).map_or(0, |f| f.size)
}

/// Opens `path` and reads its first packet. `Ok(None)`: a capture without a readable packet
/// (its errors, if any, are reported when it is read for real).
fn probe_first_timestamp(
    path: &Path,
    limits: CaptureLimits,
) -> Result<Option<Timestamp>, CaptureError> {
    let mut src = FileSource::open_with_buffer(path, limits, PROBE_BUFFER_BYTES)?.quiet();
    Ok(match src.next_packet() {
        Ok(Some(p)) => Some(p.ts),
        Ok(None) | Err(_) => None,
    })
}

fn add_stats(acc: &mut SourceStats, s: &SourceStats) {
    acc.files_opened += s.files_opened;
    acc.files_failed += s.files_failed;
    acc.files_truncated += s.files_truncated;
    acc.packets += s.packets;
    acc.bytes += s.bytes;
    acc.oversized_skipped += s.oversized_skipped;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn limits() -> CaptureLimits {
        CaptureLimits::default()
    }

    /// (first byte of payload, seconds) of every packet, and the set's errors.
    fn read(set: &mut CaptureSet) -> Vec<(u8, i64)> {
        let mut out = Vec::new();
        while let Some(p) = set.next_packet().expect("a set never returns Err") {
            out.push((p.data.first().copied().unwrap_or(0xff), p.ts.secs()));
        }
        out
    }

    #[test]
    fn directory_files_are_read_in_first_packet_order() {
        let dir = TempDir::new("order");
        // Names sort opposite to time; one capture sits in a subdirectory; one has no
        // extension; one is pcapng.
        dir.write("a.pcap", &pcap_with_seconds(&[300, 301]));
        dir.write("sub/b.cap", &pcap_with_seconds(&[200]));
        dir.write("c", &pcap_with_seconds(&[100, 150]));
        let mut ng = ng_shb(false);
        ng.extend(ng_idb(false, 1, 0, &[]));
        ng.extend(ng_epb(false, 0, 250_000_000, &[7], 1, &[]));
        dir.write("d.pcapng", &ng);
        dir.write("README.md", b"# not a capture\n");
        dir.write("empty.pcap", b"");

        let mut set = CaptureSet::open(std::slice::from_ref(&dir.0), limits()).expect("opens");
        assert_eq!(set.files().len(), 4);
        assert!(set.current_file().is_none());
        let total: u64 = ["a.pcap", "sub/b.cap", "c", "d.pcapng"]
            .iter()
            .map(|f| std::fs::metadata(dir.0.join(f)).expect("meta").len())
            .sum();
        assert_eq!(set.total_bytes(), total);
        assert_eq!(set.bytes_read(), 0);

        let first = set.next_packet().expect("ok").map(|p| p.ts.secs());
        assert_eq!(first, Some(100));
        assert_eq!(set.current_file(), Some(dir.0.join("c").as_path()));
        assert!(set.bytes_read() > 0);

        let rest = read(&mut set);
        assert_eq!(
            rest.iter().map(|&(_, s)| s).collect::<Vec<_>>(),
            vec![150, 200, 250, 300, 301]
        );
        assert_eq!(set.bytes_read(), set.total_bytes());
        assert!(set.current_file().is_none());
        assert!(set.errors().is_empty(), "{:?}", set.errors());
        let st = set.stats();
        assert_eq!(st.files_opened, 4);
        assert_eq!(st.files_failed, 2, "README.md and the empty file");
        assert_eq!(st.packets, 6);
    }

    #[test]
    fn ties_are_broken_by_path_and_duplicates_read_once() {
        let dir = TempDir::new("ties");
        let b = dir.write("b.pcap", &pcap_with_seconds(&[10]));
        let a = dir.write("a.pcap", &pcap_with_seconds(&[10]));
        let set =
            CaptureSet::open(&[b.clone(), dir.0.clone(), a.clone()], limits()).expect("opens");
        let files: Vec<&Path> = set.files().collect();
        assert_eq!(files, vec![a.as_path(), b.as_path()]);
    }

    #[test]
    fn corrupt_file_is_logged_and_reading_continues() {
        let dir = TempDir::new("corrupt");
        dir.write("1.pcap", &pcap_with_seconds(&[1, 2]));
        let mut bad = pcap_with_seconds(&[3]);
        pcap_record_header(&mut bad, false, 4, 0, u32::MAX, 1);
        dir.write("2.pcap", &bad);
        let mut truncated = pcap_with_seconds(&[5, 6]);
        truncated.truncate(truncated.len() - 1);
        dir.write("3.pcap", &truncated);
        dir.write("4.pcap", &pcap_with_seconds(&[7]));

        let mut set = CaptureSet::open(std::slice::from_ref(&dir.0), limits()).expect("opens");
        let secs: Vec<i64> = read(&mut set).into_iter().map(|(_, s)| s).collect();
        assert_eq!(secs, vec![1, 2, 3, 5, 7]);
        assert_eq!(set.errors().len(), 1, "{:?}", set.errors());
        assert!(set.errors()[0].contains("2.pcap"), "{:?}", set.errors());
        assert_eq!(set.error_count(), 1);
        let st = set.stats();
        assert_eq!(st.files_opened, 4);
        assert_eq!(st.files_truncated, 2);
        assert_eq!(st.oversized_skipped, 1);
        assert_eq!(set.bytes_read(), set.total_bytes());
    }

    #[test]
    fn a_file_with_a_bad_first_record_sorts_first_and_reports_once() {
        let dir = TempDir::new("badfirst");
        dir.write("a.pcap", &pcap_with_seconds(&[1]));
        let mut bad = pcap_header(MAGIC_US, false, 1);
        bad.extend_from_slice(&[0xff; 32]);
        dir.write("z.pcap", &bad);
        let mut set = CaptureSet::open(std::slice::from_ref(&dir.0), limits()).expect("opens");
        assert_eq!(
            set.files().next(),
            Some(dir.0.join("z.pcap").as_path()),
            "no first timestamp sorts first"
        );
        assert_eq!(read(&mut set).len(), 1);
        assert_eq!(set.error_count(), 1);
    }

    #[test]
    fn missing_paths_and_empty_inputs() {
        let dir = TempDir::new("missing");
        assert!(matches!(
            CaptureSet::open(&[dir.0.join("nope.pcap")], limits()),
            Err(CaptureError::Io { .. })
        ));
        assert!(matches!(
            CaptureSet::open(std::slice::from_ref(&dir.0), limits()),
            Err(CaptureError::NoCaptures(_))
        ));
        assert!(matches!(
            CaptureSet::open(&[], limits()),
            Err(CaptureError::NoCaptures(_))
        ));
        let readme = dir.write("README", b"hello");
        match CaptureSet::open(&[readme], limits()) {
            Err(CaptureError::NoCaptures(what)) => {
                assert!(what.contains("not a pcap or pcapng"), "{what}")
            }
            other => panic!("expected NoCaptures, got {other:?}"),
        }
    }

    #[test]
    fn explicitly_named_non_capture_is_an_error_but_others_are_read() {
        let dir = TempDir::new("explicit");
        let good = dir.write("good.pcap", &pcap_with_seconds(&[1]));
        let text = dir.write("notes.txt", b"some notes");
        let mut set = CaptureSet::open(&[good, text], limits()).expect("opens");
        assert_eq!(set.errors().len(), 1);
        assert_eq!(read(&mut set).len(), 1);
        assert_eq!(set.stats().files_failed, 1);
    }

    #[test]
    fn file_removed_after_open_is_an_error_not_a_stop() {
        let dir = TempDir::new("removed");
        dir.write("a.pcap", &pcap_with_seconds(&[1]));
        let b = dir.write("b.pcap", &pcap_with_seconds(&[2]));
        dir.write("c.pcap", &pcap_with_seconds(&[3]));
        let mut set = CaptureSet::open(std::slice::from_ref(&dir.0), limits()).expect("opens");
        std::fs::remove_file(b).expect("remove");
        let secs: Vec<i64> = read(&mut set).into_iter().map(|(_, s)| s).collect();
        assert_eq!(secs, vec![1, 3]);
        assert_eq!(set.error_count(), 1);
        assert_eq!(set.bytes_read(), set.total_bytes());
    }
}
