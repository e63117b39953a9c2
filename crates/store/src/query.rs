//! Read-only access: `vedette query` and the reports. The connection is opened read-only,
//! `query_only` is set, ATTACH is disabled, every statement is checked with
//! `sqlite3_stmt_readonly` before it runs, and a progress handler bounds its run time.

use crate::schema::SCHEMA_VERSION;
use crate::{db_path, StoreError};
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Opens the store in `dir` for reading only.
pub fn open_read_only(dir: &Path) -> Result<Connection, StoreError> {
    let path = db_path(dir);
    if !path.is_file() {
        return Err(StoreError::Missing(dir.to_owned()));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags).map_err(|e| StoreError::open(&path, e))?;
    let bad = |e| StoreError::open(&path, e);
    conn.execute_batch("PRAGMA query_only = 1; PRAGMA busy_timeout = 5000;")
        .map_err(bad)?;
    // Reading the schema is the first real access: a corrupt or foreign file fails here.
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(bad)?;
    let has_alerts: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name = 'alerts'",
            [],
            |r| r.get(0),
        )
        .map_err(bad)?;
    if version != SCHEMA_VERSION || has_alerts == 0 {
        return Err(StoreError::NotAStore {
            path,
            reason: format!("schema version {version}, expected {SCHEMA_VERSION}"),
        });
    }
    // No other database may be attached (or created) through this connection.
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0);
    Ok(conn)
}

/// Bounds on one query.
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    /// Rows kept; the rest are counted and reported as truncated.
    pub max_rows: usize,
    /// Run time before the query is interrupted.
    pub timeout: Duration,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_rows: 100_000,
            timeout: Duration::from_secs(60),
        }
    }
}

/// A cell: SQLite's value types (blobs are shown as hex).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// NULL
    Null,
    /// INTEGER
    Int(i64),
    /// REAL
    Real(f64),
    /// TEXT (lossy for invalid UTF-8)
    Text(String),
}

impl Cell {
    fn as_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Real(f) => f.to_string(),
            Cell::Text(s) => s.clone(),
        }
    }

    /// The integer value, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            Cell::Real(f) => Some(*f as i64),
            Cell::Text(s) => s.parse().ok(),
            Cell::Null => None,
        }
    }

    /// The value as display text (NULL is empty).
    pub fn text(&self) -> String {
        self.as_text()
    }
}

/// The rows of one query.
#[derive(Clone, Debug, Default)]
pub struct QueryResult {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows (at most `max_rows`).
    pub rows: Vec<Vec<Cell>>,
    /// Rows not kept because of `max_rows`.
    pub rows_truncated: u64,
}

/// Runs one read-only statement with positional `params`.
pub fn run_query(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    limits: QueryLimits,
) -> Result<QueryResult, StoreError> {
    let err = |e| StoreError::Sql {
        context: "query".into(),
        error: e,
    };
    let mut stmt = conn.prepare(sql).map_err(err)?;
    if !stmt.readonly() {
        return Err(StoreError::WriteRefused);
    }
    let started = Instant::now();
    let timeout = limits.timeout;
    conn.progress_handler(10_000, Some(move || started.elapsed() > timeout));
    let columns: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut out = QueryResult {
        columns,
        ..QueryResult::default()
    };
    let ncol = out.columns.len();
    let result = (|| -> rusqlite::Result<()> {
        let mut rows = stmt.query(params)?;
        while let Some(r) = rows.next()? {
            if out.rows.len() >= limits.max_rows {
                out.rows_truncated += 1;
                continue;
            }
            let mut row = Vec::with_capacity(ncol);
            for i in 0..ncol {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Cell::Text(b.iter().map(|x| format!("{x:02x}")).collect()),
                });
            }
            out.rows.push(row);
        }
        Ok(())
    })();
    conn.progress_handler(0, None::<fn() -> bool>);
    match result {
        Ok(()) => Ok(out),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            Err(StoreError::Timeout(timeout.as_secs()))
        }
        Err(e) => Err(err(e)),
    }
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// One JSON object per row, in an array.
    Json,
    /// RFC 4180 CSV with a header row.
    Csv,
}

/// Terminal control characters in packet-derived text are shown escaped, never sent raw.
fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Writes `r` in `format` (the caller reports `rows_truncated`).
pub fn write_result(
    out: &mut dyn Write,
    r: &QueryResult,
    format: OutputFormat,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => {
            let rows: Vec<serde_json::Value> = r
                .rows
                .iter()
                .map(|row| {
                    let mut m = serde_json::Map::new();
                    for (c, v) in r.columns.iter().zip(row) {
                        let j = match v {
                            Cell::Null => serde_json::Value::Null,
                            Cell::Int(i) => serde_json::Value::from(*i),
                            Cell::Real(f) => serde_json::Value::from(*f),
                            Cell::Text(s) => serde_json::Value::from(s.as_str()),
                        };
                        m.insert(c.clone(), j);
                    }
                    serde_json::Value::Object(m)
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
        }
        OutputFormat::Csv => {
            let header: Vec<String> = r.columns.iter().map(|c| csv_field(c)).collect();
            writeln!(out, "{}", header.join(","))?;
            for row in &r.rows {
                let line: Vec<String> = row.iter().map(|c| csv_field(&c.as_text())).collect();
                writeln!(out, "{}", line.join(","))?;
            }
        }
        OutputFormat::Table => {
            // Wide cells are cut so one huge value (a JSON column) does not stretch every row.
            const MAX_CELL: usize = 80;
            let cut = |s: String| -> String {
                let s = printable(&s);
                if s.chars().count() > MAX_CELL {
                    let mut t: String = s.chars().take(MAX_CELL - 1).collect();
                    t.push('…');
                    t
                } else {
                    s
                }
            };
            let cells: Vec<Vec<String>> = r
                .rows
                .iter()
                .map(|row| row.iter().map(|c| cut(c.as_text())).collect())
                .collect();
            let mut widths: Vec<usize> = r.columns.iter().map(|c| c.chars().count()).collect();
            for row in &cells {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |vals: &[String]| -> String {
                vals.iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
            };
            writeln!(out, "{}", line(&r.columns))?;
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            writeln!(out, "{}", line(&rule))?;
            for row in &cells {
                writeln!(out, "{}", line(row))?;
            }
            writeln!(out, "({} rows)", r.rows.len())?;
        }
    }
    Ok(())
}
