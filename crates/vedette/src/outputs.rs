//! Event outputs, fed by the event bus off the packet path. Each output sees every batch; the
//! bus thread owns them so that a worker never waits on a file write.

use anyhow::Context as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use vedette_eve::{EventBatch, EventType};

/// A consumer of event batches.
pub trait Output: Send {
    /// Takes one batch.
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()>;
    /// Makes everything written so far durable/visible.
    fn flush(&mut self) -> anyhow::Result<()>;
}

/// The EVE JSON file: one event per line.
pub struct EveFile {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EveFile {
    /// Creates (truncates) `path`.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(EveFile {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 20, f),
        })
    }
}

impl Output for EveFile {
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()> {
        self.out
            .write_all(&batch.buf)
            .with_context(|| format!("writing {}", self.path.display()))
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
