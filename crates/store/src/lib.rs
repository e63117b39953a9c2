//! vedette's embedded event store: EVE records in a SQLite database (bundled, WAL mode) with
//! indexes on time, addresses, ports and sid, per-minute rollups for charts, retention by age
//! and size, read-only SQL over documented views, canned reports and an HTML report.
//!
//! Owns: the schema, batched ingest of EVE lines (from vedette or Suricata), retention,
//! read-only querying and report rendering.
//! Must not: be touched by packet workers (it is fed from an output thread or a file reader),
//! trust its inputs (EVE lines, SQL text and the database file are all hostile), or panic.
#![forbid(unsafe_code)]

mod ingest;
mod query;
mod reader;
mod report;
mod schema;
mod time;

pub use ingest::{EventOrigin, Garbage, IngestStats, StoreWriter};
pub use query::{
    open_read_only, run_query, write_result, Cell, OutputFormat, QueryLimits, QueryResult,
};
pub use reader::{EveLineReader, LineOutcome};
pub use report::{canned_report, html_report, newest_ts, CannedReport};
pub use schema::{SCHEMA_VERSION, VIEWS_DOC};
pub use time::{parse_duration_secs, parse_eve_timestamp};

use std::path::{Path, PathBuf};

/// File name of the database inside the store directory.
pub const DB_FILE: &str = "vedette.db";

/// The database file of a store directory.
pub fn db_path(dir: &Path) -> PathBuf {
    dir.join(DB_FILE)
}

/// Where and how the writer stores events.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Store directory (holds [`DB_FILE`] and its WAL).
    pub dir: PathBuf,
    /// Events per transaction.
    pub batch_events: u64,
    /// Events older than this (event time, relative to the newest stored) are removed; 0 keeps
    /// everything.
    pub max_age_secs: u64,
    /// The oldest events are removed while the database holds more than this; 0 for no limit.
    pub max_bytes: u64,
}

impl StoreConfig {
    /// Defaults for `dir`: 10,000 events a batch, no retention limits.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            dir: dir.into(),
            batch_events: 10_000,
            max_age_secs: 0,
            max_bytes: 0,
        }
    }
}

/// The store's event classes; each has its own table and view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `alert`
    Alert,
    /// `flow`
    Flow,
    /// `dns`
    Dns,
    /// `http`
    Http,
    /// `tls`
    Tls,
    /// `anomaly`
    Anomaly,
    /// `stats`
    Stats,
    /// any other `event_type` (kept in `other_events`)
    Other,
}

impl EventKind {
    /// Number of kinds.
    pub const COUNT: usize = 8;
    /// All kinds, in index order.
    pub const ALL: [EventKind; Self::COUNT] = [
        EventKind::Alert,
        EventKind::Flow,
        EventKind::Dns,
        EventKind::Http,
        EventKind::Tls,
        EventKind::Anomaly,
        EventKind::Stats,
        EventKind::Other,
    ];

    /// The kind of an EVE `event_type`.
    pub fn from_event_type(t: &str) -> Self {
        match t {
            "alert" => EventKind::Alert,
            "flow" => EventKind::Flow,
            "dns" => EventKind::Dns,
            "http" => EventKind::Http,
            "tls" => EventKind::Tls,
            "anomaly" => EventKind::Anomaly,
            "stats" => EventKind::Stats,
            _ => EventKind::Other,
        }
    }

    /// The name used in counts and in `events_per_minute` (`other` for the rest).
    pub fn rollup_name(self) -> &'static str {
        match self {
            EventKind::Alert => "alert",
            EventKind::Flow => "flow",
            EventKind::Dns => "dns",
            EventKind::Http => "http",
            EventKind::Tls => "tls",
            EventKind::Anomaly => "anomaly",
            EventKind::Stats => "stats",
            EventKind::Other => "other",
        }
    }
}

/// Store errors; each names the file or what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or read.
    // SQLite's error is part of the message, not a `source`: its own chain repeats the text.
    #[error("store {path}: {error}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason.
        error: rusqlite::Error,
    },
    /// The file exists but is not a usable vedette store.
    #[error("store {path}: not a vedette store: {reason}")]
    NotAStore {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No store at that place.
    #[error("no store at {0} (write one with `vedette analyze`, `vedette demo` or `vedette ingest`, or pass --store DIR)")]
    Missing(PathBuf),
    /// A statement failed.
    #[error("{context}: {error}")]
    Sql {
        /// What was being done.
        context: String,
        /// SQLite's reason.
        error: rusqlite::Error,
    },
    /// `query` was given a statement that would change the store.
    #[error("refused: the query would modify the store; `vedette query` is read-only (use SELECT, WITH or read-only PRAGMAs)")]
    WriteRefused,
    /// The query ran longer than allowed.
    #[error("query interrupted after {0} s (raise it with --timeout)")]
    Timeout(u64),
    /// File-system failure.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("report chart '{chart}': {reason}")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// Why.
        reason: String,
    },
}

impl StoreError {
    /// An open/read failure; "file is not a database" becomes [`StoreError::NotAStore`].
    fn open(path: &Path, e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if matches!(
                f.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            ) {
                return StoreError::NotAStore {
                    path: path.to_owned(),
                    reason: format!("{e} (the file is corrupt or belongs to something else)"),
                };
            }
        }
        StoreError::Open {
            path: path.to_owned(),
            error: e,
        }
    }

    fn sql(context: &str, e: rusqlite::Error) -> Self {
        StoreError::Sql {
            context: context.to_owned(),
            error: e,
        }
    }
}
