//! Event outputs, fed by the event bus off the packet path. Each output sees every batch; the
//! bus thread owns them so that a worker never waits on a file write.

use crate::config::Overflow;
use anyhow::Context as _;
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vedette_eve::{EventBatch, EventType};
use vedette_store::{IngestStats, StoreConfig, StoreWriter};

/// A consumer of event batches.
pub trait Output: Send {
    /// Takes one batch.
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()>;
    /// Makes everything written so far durable/visible.
    fn flush(&mut self) -> anyhow::Result<()>;
    /// Called once after the last batch.
    fn finish(&mut self) -> anyhow::Result<()> {
        self.flush()
    }
}

/// When the EVE file is rotated (both limits may be set; 0 turns one off).
#[derive(Clone, Copy, Debug, Default)]
pub struct Rotation {
    /// Rotate once the file holds this many bytes.
    pub max_bytes: u64,
    /// Rotate when the file is this old (wall clock).
    pub interval: Duration,
    /// Rotated files kept (the oldest are deleted); 0 keeps all.
    pub keep: u32,
}

/// The EVE JSON file: one event per line, rotated at event boundaries (a line is never split) to
/// `<name>.1`, `<name>.2`, ... (higher is newer).
pub struct EveFile {
    path: PathBuf,
    out: BufWriter<File>,
    rotation: Rotation,
    written: u64,
    opened: Instant,
    /// Sequence number of the last rotated file.
    rotated: u64,
}

impl EveFile {
    /// Creates (truncates) `path`; rotated files of an earlier run are left alone and numbered
    /// after.
    pub fn create(path: &Path, rotation: Rotation) -> anyhow::Result<Self> {
        let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let rotated = rotated_files(path).last().map_or(0, |(n, _)| *n);
        Ok(EveFile {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 20, f),
            rotation,
            written: 0,
            opened: Instant::now(),
            rotated,
        })
    }

    /// Whether to rotate before the next record, with `pending` bytes not yet written.
    fn due(&self, pending: u64) -> bool {
        let r = &self.rotation;
        let size = self.written + pending;
        size > 0
            && ((r.max_bytes > 0 && size >= r.max_bytes)
                || (!r.interval.is_zero() && self.opened.elapsed() >= r.interval))
    }

    fn rotate(&mut self) -> anyhow::Result<()> {
        let ctx = || format!("rotating {}", self.path.display());
        self.out.flush().with_context(ctx)?;
        self.rotated += 1;
        let mut target = self.path.clone().into_os_string();
        target.push(format!(".{}", self.rotated));
        std::fs::rename(&self.path, &target).with_context(ctx)?;
        let f = File::create(&self.path).with_context(ctx)?;
        self.out = BufWriter::with_capacity(1 << 20, f);
        self.written = 0;
        self.opened = Instant::now();
        if self.rotation.keep > 0 {
            let files = rotated_files(&self.path);
            let excess = files.len().saturating_sub(self.rotation.keep as usize);
            for (_, old) in files.iter().take(excess) {
                if let Err(e) = std::fs::remove_file(old) {
                    tracing::warn!("cannot remove rotated {}: {e}", old.display());
                }
            }
        }
        tracing::info!(
            "rotated {} to {}",
            self.path.display(),
            PathBuf::from(target).display()
        );
        Ok(())
    }
}

/// Rotated siblings `<name>.<n>` of `path`, oldest (lowest n) first.
fn rotated_files(path: &Path) -> Vec<(u64, PathBuf)> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{name}.");
    let mut v: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let f = e.file_name();
            let n: u64 = f.to_str()?.strip_prefix(&prefix)?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    v.sort();
    v
}

impl Output for EveFile {
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()> {
        let path = self.path.clone();
        let ctx = || format!("writing {}", path.display());
        let rotating = self.rotation.max_bytes > 0 || !self.rotation.interval.is_zero();
        // Rotation happens at record boundaries, so a big batch can span files.
        let mut from = 0usize;
        if rotating {
            for r in &batch.records {
                let at = r.start as usize;
                let pending = at.saturating_sub(from) as u64;
                if self.due(pending) {
                    let part = batch.buf.get(from..at).unwrap_or_default();
                    self.out.write_all(part).with_context(ctx)?;
                    self.written += part.len() as u64;
                    self.rotate()?;
                    from = at;
                }
            }
        }
        let rest = batch.buf.get(from..).unwrap_or_default();
        self.out.write_all(rest).with_context(ctx)?;
        self.written += rest.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// Counts events by type (for the run summary).
#[derive(Clone, Copy, Debug, Default)]
pub struct EventCounts {
    /// Per [`EventType::index`].
    pub by_type: [u64; EventType::COUNT],
}

impl EventCounts {
    /// Adds a batch.
    pub fn add(&mut self, batch: &EventBatch) {
        for r in &batch.records {
            if let Some(c) = self.by_type.get_mut(r.event_type.index()) {
                *c += 1;
            }
        }
    }

    /// Events of one type.
    pub fn get(&self, t: EventType) -> u64 {
        self.by_type.get(t.index()).copied().unwrap_or(0)
    }
}

/// What the store did during a run (for the summary).
#[derive(Clone, Debug, Default)]
pub struct StoreReport {
    /// The database file.
    pub path: PathBuf,
    /// Writer counters (stored, committed, retention).
    pub ingest: IngestStats,
    /// Batches the queue to the store thread could not take.
    pub dropped_batches: u64,
    /// Events in those batches.
    pub dropped_events: u64,
    /// Why the store thread stopped early, if it did.
    pub error: Option<String>,
}

/// The store as an output: batches are copied into a bounded queue and written by their own
/// thread in batched transactions, so a slow disk never holds up the output thread beyond
/// the queue (with `overflow = drop`, not at all).
pub struct StoreOutput {
    tx: Option<Sender<EventBatch>>,
    overflow: Overflow,
    thread: Option<std::thread::JoinHandle<(IngestStats, Option<String>)>>,
    report: Arc<Mutex<StoreReport>>,
}

impl StoreOutput {
    /// Opens the store (so a bad path or corrupt file fails the run up front) and starts its
    /// thread. `report` receives the final counters in [`Output::finish`].
    pub fn start(
        cfg: &StoreConfig,
        queue_batches: usize,
        commit_interval: Duration,
        overflow: Overflow,
        report: Arc<Mutex<StoreReport>>,
    ) -> anyhow::Result<Self> {
        let writer = StoreWriter::open(cfg)?;
        if let Ok(mut r) = report.lock() {
            r.path = writer.path().to_owned();
        }
        let (tx, rx) = bounded::<EventBatch>(queue_batches.max(1));
        let thread = std::thread::Builder::new()
            .name("vedette-store".into())
            .spawn(move || store_loop(writer, rx, commit_interval))
            .context("cannot start the store thread")?;
        Ok(StoreOutput {
            tx: Some(tx),
            overflow,
            thread: Some(thread),
            report,
        })
    }

    fn count_drop(&self, events: usize) {
        if let Ok(mut r) = self.report.lock() {
            r.dropped_batches += 1;
            r.dropped_events += events as u64;
        }
    }
}

/// The store thread: writes batches, commits when a batch of events is full (inside the
/// writer) or `commit_interval` passed, and stops on the first database error (logged; later
/// batches are then counted as dropped).
fn store_loop(
    mut writer: StoreWriter,
    rx: Receiver<EventBatch>,
    commit_interval: Duration,
) -> (IngestStats, Option<String>) {
    let mut last_commit = Instant::now();
    let mut error = None;
    'run: loop {
        match rx.recv_timeout(commit_interval) {
            Ok(batch) => {
                for i in 0..batch.len() {
                    let Some(line) = batch.record(i) else {
                        continue;
                    };
                    match writer.ingest_line(line) {
                        Ok(Ok(_)) => {}
                        // vedette's own records always parse; counted in the writer's stats.
                        Ok(Err(g)) => tracing::warn!("store: record skipped: {g}"),
                        Err(e) => {
                            error = Some(e.to_string());
                            break 'run;
                        }
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if writer.pending() > 0 && last_commit.elapsed() >= commit_interval {
            if let Err(e) = writer.commit() {
                error = Some(e.to_string());
                break;
            }
            last_commit = Instant::now();
        }
    }
    if let Some(e) = &error {
        tracing::error!("store: stopped writing: {e}");
        // Dropping the receiver makes every later send fail, so losses are counted.
        drop(rx);
        return (writer.stats(), error);
    }
    match writer.finish() {
        Ok(s) => (s, None),
        Err(e) => {
            tracing::error!("store: final commit failed: {e}");
            (IngestStats::default(), Some(e.to_string()))
        }
    }
}

impl Output for StoreOutput {
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()> {
        let Some(tx) = &self.tx else { return Ok(()) };
        let copy = batch.copy_records();
        let sent = match self.overflow {
            Overflow::Block => tx.send(copy).is_ok(),
            Overflow::Drop => match tx.try_send(copy) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
        };
        if !sent {
            self.count_drop(batch.len());
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        // The store thread commits on its own schedule.
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let (stats, error) = t.join().unwrap_or_else(|_| {
                (
                    IngestStats::default(),
                    Some("the store thread panicked".into()),
                )
            });
            if let Ok(mut r) = self.report.lock() {
                r.ingest = stats;
                r.error = error;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vedette_eve::RecordMeta;

    fn batch(events: usize) -> EventBatch {
        let mut b = EventBatch::default();
        for i in 0..events {
            let line = format!(
                r#"{{"timestamp":"2024-01-01T00:00:{:02}.000000+0000","event_type":"flow","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP","flow":{{"bytes_toserver":1}}}}"#,
                i % 60
            );
            let start = b.buf.len() as u32;
            b.buf.extend_from_slice(line.as_bytes());
            b.records.push(RecordMeta {
                start,
                len: line.len() as u32,
                event_type: EventType::Flow,
            });
            b.buf.push(b'\n');
        }
        b
    }

    #[test]
    fn a_stalled_store_drops_and_counts_instead_of_blocking() {
        let dir = std::env::temp_dir().join(format!("vedette-store-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = StoreConfig::new(&dir);
        let report = Arc::new(Mutex::new(StoreReport::default()));
        let mut out = StoreOutput::start(
            &cfg,
            2,
            Duration::from_millis(50),
            Overflow::Drop,
            Arc::clone(&report),
        )
        .unwrap();
        // Another connection holds the write lock: the store thread stalls on its first
        // batch, as on a disk that stopped answering.
        let blocker = rusqlite_lock(&dir);
        for _ in 0..10 {
            out.write(&batch(5)).unwrap();
        }
        drop(blocker);
        out.finish().unwrap();
        let r = report.lock().unwrap().clone();
        // One batch in the thread, two in the queue; the rest dropped and counted.
        assert!(r.dropped_batches >= 7, "{r:?}");
        assert_eq!(r.dropped_events, r.dropped_batches * 5);
        assert_eq!(r.ingest.committed_events, (10 - r.dropped_batches) * 5);
        assert!(r.error.is_none(), "{r:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// SQLite's write lock on a store, held until dropped.
    struct WriteLock(rusqlite::Connection);

    impl Drop for WriteLock {
        fn drop(&mut self) {
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }

    fn rusqlite_lock(dir: &Path) -> WriteLock {
        let c = rusqlite::Connection::open(vedette_store::db_path(dir)).unwrap();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        WriteLock(c)
    }
}
