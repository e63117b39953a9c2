//! The writer: EVE lines in, rows and per-minute rollups out, in batched transactions, with
//! retention applied after each commit.

use crate::common_columns;
use crate::schema::{DDL, EVENT_TABLES, MIGRATE_V1, SCHEMA_VERSION};
use crate::time::parse_eve_timestamp;
use crate::{db_path, EventKind, StoreConfig, StoreError};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;

/// Why a line was not stored (it is counted and skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Garbage {
    /// Not a JSON object (with serde's reason).
    NotJson(String),
    /// No `event_type` string.
    NoEventType,
    /// No or unreadable `timestamp`.
    BadTimestamp,
}

impl std::fmt::Display for Garbage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Garbage::NotJson(e) => write!(f, "not an EVE JSON object: {e}"),
            Garbage::NoEventType => f.write_str("no event_type"),
            Garbage::BadTimestamp => f.write_str("missing or unreadable timestamp"),
        }
    }
}

/// Counters of one writer's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Stored events per [`EventKind`].
    pub stored: [u64; EventKind::COUNT],
    /// Lines skipped as garbage.
    pub garbage: u64,
    /// Transactions committed.
    pub commits: u64,
    /// Events whose commit is durable.
    pub committed_events: u64,
    /// Rows removed because they were older than `max_age`.
    pub expired_rows: u64,
    /// Rows removed to keep the store under `max_bytes`.
    pub evicted_rows: u64,
    /// Events skipped because an event with the same id was already stored.
    pub duplicates: u64,
}

impl IngestStats {
    /// Stored events of one kind.
    pub fn get(&self, k: EventKind) -> u64 {
        self.stored.get(k as usize).copied().unwrap_or(0)
    }

    /// All stored events.
    pub fn total(&self) -> u64 {
        self.stored.iter().sum()
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_type: Option<Cow<'a, str>>,
    flow_id: Option<u64>,
    #[serde(borrow)]
    src_ip: Option<Cow<'a, str>>,
    src_port: Option<u64>,
    #[serde(borrow)]
    dest_ip: Option<Cow<'a, str>>,
    dest_port: Option<u64>,
    #[serde(borrow)]
    proto: Option<Cow<'a, str>>,
    #[serde(borrow)]
    app_proto: Option<Cow<'a, str>>,
    #[serde(borrow)]
    community_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    alert: Option<AlertPart<'a>>,
    #[serde(borrow)]
    flow: Option<FlowPart<'a>>,
    #[serde(borrow)]
    dns: Option<DnsPart<'a>>,
    #[serde(borrow)]
    http: Option<HttpPart<'a>>,
    #[serde(borrow)]
    tls: Option<TlsPart<'a>>,
    #[serde(borrow)]
    anomaly: Option<AnomalyPart<'a>>,
    #[serde(borrow)]
    vedette: Option<VedettePart<'a>>,
}

/// vedette's own additions to EVE records (`vedette.*`).
#[derive(Deserialize)]
struct VedettePart<'a> {
    #[serde(borrow)]
    sensor: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detector: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ml: Option<MlPart<'a>>,
}

#[derive(Deserialize)]
struct MlPart<'a> {
    score: Option<f64>,
    #[serde(borrow)]
    label: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
}

/// Where an event came from when it did not come from this machine: the sensor that
/// produced it and its unique id (used to drop redelivered duplicates). It overrides the
/// record's own `vedette.sensor` / `vedette.event_id`.
#[derive(Clone, Copy, Debug)]
pub struct EventOrigin<'a> {
    /// The sensor's name.
    pub sensor: &'a str,
    /// The event's unique id.
    pub event_id: &'a str,
}

#[derive(Deserialize)]
struct AlertPart<'a> {
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    gid: Option<u64>,
    signature_id: Option<u64>,
    rev: Option<u64>,
    #[serde(borrow)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow)]
    category: Option<Cow<'a, str>>,
    severity: Option<u64>,
}

#[derive(Deserialize)]
struct FlowPart<'a> {
    pkts_toserver: Option<u64>,
    pkts_toclient: Option<u64>,
    bytes_toserver: Option<u64>,
    bytes_toclient: Option<u64>,
    #[serde(borrow)]
    start: Option<Cow<'a, str>>,
    #[serde(borrow)]
    end: Option<Cow<'a, str>>,
    age: Option<u64>,
    #[serde(borrow)]
    state: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
    alerted: Option<bool>,
}

#[derive(Deserialize)]
struct DnsQuestion<'a> {
    #[serde(borrow)]
    rrname: Option<Cow<'a, str>>,
    #[serde(borrow)]
    rrtype: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct DnsPart<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    id: Option<u64>,
    #[serde(borrow)]
    rrname: Option<Cow<'a, str>>,
    #[serde(borrow)]
    rrtype: Option<Cow<'a, str>>,
    #[serde(borrow)]
    rcode: Option<Cow<'a, str>>,
    // Suricata 8 (EVE dns v3) moves the question into `queries`.
    #[serde(borrow)]
    queries: Option<Vec<DnsQuestion<'a>>>,
}

#[derive(Deserialize)]
struct HttpPart<'a> {
    #[serde(borrow)]
    hostname: Option<Cow<'a, str>>,
    #[serde(borrow)]
    url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    http_method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    http_user_agent: Option<Cow<'a, str>>,
    #[serde(borrow)]
    protocol: Option<Cow<'a, str>>,
    status: Option<u64>,
    length: Option<u64>,
}

#[derive(Deserialize)]
struct Ja3<'a> {
    #[serde(borrow)]
    hash: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct TlsPart<'a> {
    #[serde(borrow)]
    sni: Option<Cow<'a, str>>,
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    issuerdn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    fingerprint: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ja3: Option<Ja3<'a>>,
    #[serde(borrow)]
    ja4: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct AnomalyPart<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    layer: Option<Cow<'a, str>>,
}

/// Per-minute aggregates of the open batch, merged into the rollup tables at commit.
#[derive(Default)]
struct Rollups {
    proto: HashMap<(i64, String, String), [i64; 3]>,
    host: HashMap<(i64, String), [i64; 3]>,
    alert: HashMap<(i64, i64, i64), (i64, String)>,
    event: HashMap<(i64, &'static str), i64>,
}

const MICROS_PER_MINUTE: i64 = 60_000_000;

fn opt_str<'s>(v: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    v.as_deref()
}

fn to_i64(v: Option<u64>) -> Option<i64> {
    v.map(|x| i64::try_from(x).unwrap_or(i64::MAX))
}

/// Flow ids are unsigned 64-bit; those above i64::MAX are kept exact as text.
fn flow_id_value(v: Option<u64>) -> Value {
    match v {
        None => Value::Null,
        Some(x) => match i64::try_from(x) {
            Ok(i) => Value::Integer(i),
            Err(_) => Value::Text(x.to_string()),
        },
    }
}

/// Placeholders of the common columns.
macro_rules! common_params {
    () => {
        "?,?,?,?,?,?,?,?,?,?,?,?,?"
    };
}

/// The INSERT statement of each event table; parameters: the common columns, then its own.
/// `OR IGNORE` skips an event whose `event_id` is already stored (the only unique index).
fn insert_sql(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Alert => concat!(
            "INSERT OR IGNORE INTO ev_alert (",
            common_columns!(),
            ", action, gid, sid, rev, signature, category, severity, detector) VALUES (",
            common_params!(),
            ",?,?,?,?,?,?,?,?)"
        ),
        EventKind::Flow => {
            concat!(
            "INSERT OR IGNORE INTO ev_flow (", common_columns!(),
            ", pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, flow_start, flow_end,",
            " age, state, reason, alerted, ml_score, ml_label, ml_model) VALUES (",
            common_params!(), ",?,?,?,?,?,?,?,?,?,?,?,?,?)"
        )
        }
        EventKind::Dns => concat!(
            "INSERT OR IGNORE INTO ev_dns (",
            common_columns!(),
            ", dns_type, dns_id, rrname, rrtype, rcode) VALUES (",
            common_params!(),
            ",?,?,?,?,?)"
        ),
        EventKind::Http => concat!(
            "INSERT OR IGNORE INTO ev_http (",
            common_columns!(),
            ", hostname, url, http_method, http_user_agent, protocol, status, length) VALUES (",
            common_params!(),
            ",?,?,?,?,?,?,?)"
        ),
        EventKind::Tls => concat!(
            "INSERT OR IGNORE INTO ev_tls (",
            common_columns!(),
            ", sni, version, subject, issuerdn, fingerprint, ja3, ja4) VALUES (",
            common_params!(),
            ",?,?,?,?,?,?,?)"
        ),
        EventKind::Anomaly => concat!(
            "INSERT OR IGNORE INTO ev_anomaly (",
            common_columns!(),
            ", anomaly_type, event, layer) VALUES (",
            common_params!(),
            ",?,?,?)"
        ),
        EventKind::Stats => concat!(
            "INSERT OR IGNORE INTO ev_stats (",
            common_columns!(),
            ") VALUES (",
            common_params!(),
            ")"
        ),
        EventKind::Other => concat!(
            "INSERT OR IGNORE INTO ev_other (",
            common_columns!(),
            ", event_type) VALUES (",
            common_params!(),
            ",?)"
        ),
    }
}

/// The store's writer. Not `Sync`: one thread owns it.
pub struct StoreWriter {
    conn: Connection,
    path: PathBuf,
    cfg: StoreConfig,
    in_tx: bool,
    pending: u64,
    rollups: Rollups,
    stats: IngestStats,
    newest_ts: i64,
}

/// Opens (creating when missing) the store database read-write and checks its schema.
fn open_rw(cfg: &StoreConfig) -> Result<(Connection, PathBuf), StoreError> {
    std::fs::create_dir_all(&cfg.dir).map_err(|error| StoreError::Io {
        path: cfg.dir.clone(),
        error,
    })?;
    let path = db_path(&cfg.dir);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags).map_err(|e| StoreError::open(&path, e))?;
    let bad = |e: rusqlite::Error| StoreError::open(&path, e);
    // auto_vacuum must be chosen before the first table exists: it lets retention give pages
    // back to the file system (incremental_vacuum), so the file size follows max_bytes.
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(bad)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(bad)?;
    if tables == 0 {
        // Bigger pages: fewer B-tree splits for rows that carry their whole EVE record.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; PRAGMA page_size = 16384;")
            .map_err(bad)?;
    } else if version == 1 {
        // Older stores gain the new columns in place (one transaction), keeping their data.
        conn.execute_batch(&format!(
            "BEGIN; {MIGRATE_V1} {DDL} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(bad)?;
        tracing::info!(path = %path.display(), "store: upgraded from schema version 1");
    } else if version != SCHEMA_VERSION {
        return Err(StoreError::NotAStore {
            path,
            reason: format!(
                "schema version {version}, this vedette reads version {SCHEMA_VERSION}"
            ),
        });
    }
    let journal_limit = cfg.max_bytes.clamp(1 << 20, 64 << 20);
    // Checkpoints copy the WAL into the database: rarer ones write hot index pages once
    // instead of after every batch (about 32 MiB of WAL between them, less with max_bytes).
    let checkpoint_pages = (journal_limit / 16384).max(64);
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;
         PRAGMA journal_size_limit = {journal_limit}; PRAGMA cache_size = -65536;
         PRAGMA wal_autocheckpoint = {checkpoint_pages};
         PRAGMA temp_store = MEMORY; PRAGMA busy_timeout = 5000;"
    ))
    .map_err(bad)?;
    conn.execute_batch(DDL).map_err(bad)?;
    conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
        .map_err(bad)?;
    Ok((conn, path))
}

impl StoreWriter {
    /// Opens or creates the store in `cfg.dir`.
    pub fn open(cfg: &StoreConfig) -> Result<Self, StoreError> {
        let (conn, path) = open_rw(cfg)?;
        let mut newest = i64::MIN;
        for t in EVENT_TABLES {
            let ts: Option<i64> = conn
                .query_row(&format!("SELECT max(ts) FROM {t}"), [], |r| r.get(0))
                .map_err(|e| StoreError::sql("reading the newest event", e))?;
            newest = newest.max(ts.unwrap_or(i64::MIN));
        }
        Ok(StoreWriter {
            conn,
            path,
            cfg: cfg.clone(),
            in_tx: false,
            pending: 0,
            rollups: Rollups::default(),
            stats: IngestStats::default(),
            newest_ts: newest,
        })
    }

    /// The database file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Counters so far.
    pub fn stats(&self) -> IngestStats {
        self.stats
    }

    /// Events in the open (uncommitted) batch.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Stores one EVE line (without its newline). `Ok(Err(_))` means the line was garbage
    /// (counted, nothing stored); `Err` is a database failure. Commits when the batch is full.
    pub fn ingest_line(&mut self, line: &[u8]) -> Result<Result<EventKind, Garbage>, StoreError> {
        self.ingest_line_from(line, None)
    }

    /// [`StoreWriter::ingest_line`] for an event from another sensor. An event whose id is
    /// already stored is skipped and counted in [`IngestStats::duplicates`] (still `Ok(Ok(_))`).
    pub fn ingest_line_from(
        &mut self,
        line: &[u8],
        origin: Option<EventOrigin<'_>>,
    ) -> Result<Result<EventKind, Garbage>, StoreError> {
        let parsed: Line<'_> = match serde_json::from_slice(line) {
            Ok(l) => l,
            Err(e) => {
                self.stats.garbage += 1;
                return Ok(Err(Garbage::NotJson(e.to_string())));
            }
        };
        let Some(event_type) = parsed.event_type.as_deref() else {
            self.stats.garbage += 1;
            return Ok(Err(Garbage::NoEventType));
        };
        let Some(ts) = parsed.timestamp.as_deref().and_then(parse_eve_timestamp) else {
            self.stats.garbage += 1;
            return Ok(Err(Garbage::BadTimestamp));
        };
        // serde_json accepted it, so it is valid UTF-8.
        let json = std::str::from_utf8(line).unwrap_or_default();
        let kind = EventKind::from_event_type(event_type);
        if !self.in_tx {
            self.conn
                .execute_batch("BEGIN")
                .map_err(|e| StoreError::sql("starting a transaction", e))?;
            self.in_tx = true;
        }
        let inserted = self
            .insert(kind, event_type, ts, &parsed, json, origin)
            .map_err(|e| StoreError::sql("inserting an event", e))?;
        if !inserted {
            self.stats.duplicates += 1;
            return Ok(Ok(kind));
        }
        self.newest_ts = self.newest_ts.max(ts);
        self.pending += 1;
        if let Some(c) = self.stats.stored.get_mut(kind as usize) {
            *c += 1;
        }
        if self.pending >= self.cfg.batch_events {
            self.commit()?;
        }
        Ok(Ok(kind))
    }

    /// Inserts one event; false when its event id was already stored (nothing changed).
    fn insert(
        &mut self,
        kind: EventKind,
        event_type: &str,
        ts: i64,
        l: &Line<'_>,
        json: &str,
        origin: Option<EventOrigin<'_>>,
    ) -> rusqlite::Result<bool> {
        let mut st = self.conn.prepare_cached(insert_sql(kind))?;
        let v = l.vedette.as_ref();
        let sensor = origin
            .map(|o| o.sensor)
            .or_else(|| v.and_then(|v| opt_str(&v.sensor)));
        let event_id = origin
            .map(|o| o.event_id)
            .or_else(|| v.and_then(|v| opt_str(&v.event_id)));
        // Bound by position, borrowing from the parsed line: no owned copies per column.
        let mut i = 0usize;
        macro_rules! bind {
            ($v:expr) => {{
                i += 1;
                st.raw_bind_parameter(i, $v)?;
            }};
        }
        bind!(ts);
        bind!(l.timestamp.as_deref());
        bind!(flow_id_value(l.flow_id));
        bind!(l.src_ip.as_deref());
        bind!(to_i64(l.src_port));
        bind!(l.dest_ip.as_deref());
        bind!(to_i64(l.dest_port));
        bind!(l.proto.as_deref());
        bind!(l.app_proto.as_deref());
        bind!(l.community_id.as_deref());
        bind!(json);
        bind!(sensor);
        bind!(event_id);
        match kind {
            EventKind::Alert => {
                let a = l.alert.as_ref();
                bind!(a.and_then(|a| opt_str(&a.action)));
                bind!(to_i64(a.and_then(|a| a.gid)));
                bind!(to_i64(a.and_then(|a| a.signature_id)));
                bind!(to_i64(a.and_then(|a| a.rev)));
                bind!(a.and_then(|a| opt_str(&a.signature)));
                bind!(a.and_then(|a| opt_str(&a.category)));
                bind!(to_i64(a.and_then(|a| a.severity)));
                bind!(v.and_then(|v| opt_str(&v.detector)));
            }
            EventKind::Flow => {
                let f = l.flow.as_ref();
                bind!(to_i64(f.and_then(|f| f.pkts_toserver)));
                bind!(to_i64(f.and_then(|f| f.pkts_toclient)));
                bind!(to_i64(f.and_then(|f| f.bytes_toserver)));
                bind!(to_i64(f.and_then(|f| f.bytes_toclient)));
                bind!(f.and_then(|f| opt_str(&f.start)));
                bind!(f.and_then(|f| opt_str(&f.end)));
                bind!(to_i64(f.and_then(|f| f.age)));
                bind!(f.and_then(|f| opt_str(&f.state)));
                bind!(f.and_then(|f| opt_str(&f.reason)));
                bind!(f.and_then(|f| f.alerted));
                let ml = v.and_then(|v| v.ml.as_ref());
                bind!(ml.and_then(|m| m.score).filter(|x| x.is_finite()));
                bind!(ml.and_then(|m| opt_str(&m.label)));
                bind!(ml.and_then(|m| opt_str(&m.model)));
            }
            EventKind::Dns => {
                let d = l.dns.as_ref();
                let first_q = d.and_then(|d| d.queries.as_ref()).and_then(|q| q.first());
                let rrname = d
                    .and_then(|d| opt_str(&d.rrname))
                    .or_else(|| first_q.and_then(|q| opt_str(&q.rrname)));
                let rrtype = d
                    .and_then(|d| opt_str(&d.rrtype))
                    .or_else(|| first_q.and_then(|q| opt_str(&q.rrtype)));
                bind!(d.and_then(|d| opt_str(&d.kind)));
                bind!(to_i64(d.and_then(|d| d.id)));
                bind!(rrname);
                bind!(rrtype);
                bind!(d.and_then(|d| opt_str(&d.rcode)));
            }
            EventKind::Http => {
                let h = l.http.as_ref();
                bind!(h.and_then(|h| opt_str(&h.hostname)));
                bind!(h.and_then(|h| opt_str(&h.url)));
                bind!(h.and_then(|h| opt_str(&h.http_method)));
                bind!(h.and_then(|h| opt_str(&h.http_user_agent)));
                bind!(h.and_then(|h| opt_str(&h.protocol)));
                bind!(to_i64(h.and_then(|h| h.status)));
                bind!(to_i64(h.and_then(|h| h.length)));
            }
            EventKind::Tls => {
                let t = l.tls.as_ref();
                bind!(t.and_then(|t| opt_str(&t.sni)));
                bind!(t.and_then(|t| opt_str(&t.version)));
                bind!(t.and_then(|t| opt_str(&t.subject)));
                bind!(t.and_then(|t| opt_str(&t.issuerdn)));
                bind!(t.and_then(|t| opt_str(&t.fingerprint)));
                let ja3 = t
                    .and_then(|t| t.ja3.as_ref())
                    .and_then(|j| opt_str(&j.hash));
                bind!(ja3);
                bind!(t.and_then(|t| opt_str(&t.ja4)));
            }
            EventKind::Anomaly => {
                let a = l.anomaly.as_ref();
                bind!(a.and_then(|a| opt_str(&a.kind)));
                bind!(a.and_then(|a| opt_str(&a.event)));
                bind!(a.and_then(|a| opt_str(&a.layer)));
            }
            EventKind::Stats => {}
            EventKind::Other => bind!(event_type),
        }
        if st.raw_execute()? == 0 {
            return Ok(false);
        }
        drop(st);
        let minute = ts.div_euclid(MICROS_PER_MINUTE);
        *self
            .rollups
            .event
            .entry((minute, kind.rollup_name()))
            .or_insert(0) += 1;
        self.update_rollups(kind, minute, l);
        Ok(true)
    }

    /// Adds one event to the per-minute aggregates of the open batch.
    fn update_rollups(&mut self, kind: EventKind, minute: i64, l: &Line<'_>) {
        match kind {
            EventKind::Alert => {
                let a = l.alert.as_ref();
                let sid = to_i64(a.and_then(|a| a.signature_id)).unwrap_or(0);
                let sev = to_i64(a.and_then(|a| a.severity)).unwrap_or(0);
                let e = self
                    .rollups
                    .alert
                    .entry((minute, sid, sev))
                    .or_insert_with(|| {
                        let sig = a.and_then(|a| opt_str(&a.signature));
                        (0, sig.unwrap_or_default().to_owned())
                    });
                e.0 += 1;
            }
            EventKind::Flow => {
                let f = l.flow.as_ref();
                let sum = |x: Option<u64>, y: Option<u64>| {
                    to_i64(Some(x.unwrap_or(0).saturating_add(y.unwrap_or(0)))).unwrap_or(0)
                };
                let pkts = f.map_or(0, |f| sum(f.pkts_toserver, f.pkts_toclient));
                let bytes = f.map_or(0, |f| sum(f.bytes_toserver, f.bytes_toclient));
                let key = (
                    minute,
                    l.proto.as_deref().unwrap_or_default().to_owned(),
                    l.app_proto.as_deref().unwrap_or_default().to_owned(),
                );
                let e = self.rollups.proto.entry(key).or_insert([0; 3]);
                e[0] += 1;
                e[1] = e[1].saturating_add(pkts);
                e[2] = e[2].saturating_add(bytes);
                for ip in [&l.src_ip, &l.dest_ip].into_iter().flatten() {
                    let e = self
                        .rollups
                        .host
                        .entry((minute, ip.as_ref().to_owned()))
                        .or_insert([0; 3]);
                    e[0] += 1;
                    e[1] = e[1].saturating_add(pkts);
                    e[2] = e[2].saturating_add(bytes);
                }
            }
            _ => {}
        }
    }

    fn flush_rollups(&mut self) -> rusqlite::Result<()> {
        let r = std::mem::take(&mut self.rollups);
        {
            let mut st = self.conn.prepare_cached(
                "INSERT INTO rollup_proto (minute, proto, app_proto, flows, pkts, bytes) VALUES (?,?,?,?,?,?)
                 ON CONFLICT DO UPDATE SET flows = flows + excluded.flows,
                 pkts = pkts + excluded.pkts, bytes = bytes + excluded.bytes",
            )?;
            for ((m, p, a), [f, pk, b]) in &r.proto {
                st.execute(params![m, p, a, f, pk, b])?;
            }
        }
        {
            let mut st = self.conn.prepare_cached(
                "INSERT INTO rollup_host (minute, ip, flows, pkts, bytes) VALUES (?,?,?,?,?)
                 ON CONFLICT DO UPDATE SET flows = flows + excluded.flows,
                 pkts = pkts + excluded.pkts, bytes = bytes + excluded.bytes",
            )?;
            for ((m, ip), [f, pk, b]) in &r.host {
                st.execute(params![m, ip, f, pk, b])?;
            }
        }
        {
            let mut st = self.conn.prepare_cached(
                "INSERT INTO rollup_alert (minute, sid, severity, signature, alerts) VALUES (?,?,?,?,?)
                 ON CONFLICT DO UPDATE SET alerts = alerts + excluded.alerts,
                 signature = excluded.signature",
            )?;
            for ((m, sid, sev), (n, sig)) in &r.alert {
                st.execute(params![m, sid, sev, sig, n])?;
            }
        }
        {
            let mut st = self.conn.prepare_cached(
                "INSERT INTO rollup_event (minute, event_type, events) VALUES (?,?,?)
                 ON CONFLICT DO UPDATE SET events = events + excluded.events",
            )?;
            for ((m, t), n) in &r.event {
                st.execute(params![m, t, n])?;
            }
        }
        Ok(())
    }

    /// Commits the open batch (with its rollups), then applies retention. Cheap when nothing
    /// is pending.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if !self.in_tx {
            return Ok(());
        }
        self.flush_rollups()
            .map_err(|e| StoreError::sql("updating rollups", e))?;
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| StoreError::sql("committing a batch", e))?;
        self.in_tx = false;
        self.stats.commits += 1;
        self.stats.committed_events += self.pending;
        tracing::debug!(
            events = self.stats.committed_events,
            "store: batch committed"
        );
        self.pending = 0;
        self.enforce_retention()
    }

    /// Rows held by the database file (free pages excluded), in bytes.
    fn used_bytes(&self) -> Result<u64, StoreError> {
        let q = |sql: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| StoreError::sql("measuring the store", e))
        };
        let pages = q("PRAGMA page_count")? - q("PRAGMA freelist_count")?;
        Ok(u64::try_from(pages.max(0) * q("PRAGMA page_size")?).unwrap_or(0))
    }

    fn delete_before(&mut self, cutoff_us: i64) -> Result<u64, StoreError> {
        let tx_err = |e| StoreError::sql("retention", e);
        self.conn.execute_batch("BEGIN").map_err(tx_err)?;
        let mut n = 0u64;
        for t in EVENT_TABLES {
            n += self
                .conn
                .execute(&format!("DELETE FROM {t} WHERE ts < ?1"), [cutoff_us])
                .map_err(tx_err)? as u64;
        }
        // A rollup minute is removed once all of it is older than the cutoff.
        let minute = cutoff_us.div_euclid(MICROS_PER_MINUTE);
        for t in [
            "rollup_proto",
            "rollup_host",
            "rollup_alert",
            "rollup_event",
        ] {
            self.conn
                .execute(&format!("DELETE FROM {t} WHERE minute < ?1"), [minute])
                .map_err(tx_err)?;
        }
        self.conn.execute_batch("COMMIT").map_err(tx_err)?;
        Ok(n)
    }

    fn oldest_ts(&self) -> Result<Option<i64>, StoreError> {
        let mut oldest: Option<i64> = None;
        for t in EVENT_TABLES {
            let ts: Option<i64> = self
                .conn
                .query_row(&format!("SELECT min(ts) FROM {t}"), [], |r| r.get(0))
                .map_err(|e| StoreError::sql("retention", e))?;
            oldest = match (oldest, ts) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(oldest)
    }

    /// Removes events older than `max_age` (event time) and, while the store is above
    /// `max_bytes`, the oldest eighth of the stored time span; then gives free pages back.
    fn enforce_retention(&mut self) -> Result<(), StoreError> {
        let mut freed = false;
        if self.cfg.max_age_secs > 0 && self.newest_ts != i64::MIN {
            let age_us = i64::try_from(self.cfg.max_age_secs)
                .unwrap_or(i64::MAX / 1_000_000)
                .saturating_mul(1_000_000);
            let cutoff = self.newest_ts.saturating_sub(age_us);
            if self.oldest_ts()?.is_some_and(|o| o < cutoff) {
                let n = self.delete_before(cutoff)?;
                self.stats.expired_rows += n;
                freed |= n > 0;
            }
        }
        if self.cfg.max_bytes > 0 {
            // Bounded: each round removes at least the oldest microsecond of events.
            for _ in 0..64 {
                if self.used_bytes()? <= self.cfg.max_bytes {
                    break;
                }
                let Some(oldest) = self.oldest_ts()? else {
                    break;
                };
                let span = self.newest_ts.saturating_sub(oldest);
                let cutoff = oldest.saturating_add((span / 8).max(1));
                let n = self.delete_before(cutoff)?;
                self.stats.evicted_rows += n;
                freed = true;
                if n == 0 && cutoff > self.newest_ts {
                    break;
                }
            }
        }
        if freed {
            self.conn
                .execute_batch("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(|e| StoreError::sql("returning free pages", e))?;
        }
        Ok(())
    }

    /// Commits what is pending and closes the store.
    pub fn finish(mut self) -> Result<IngestStats, StoreError> {
        self.commit()?;
        // Leaves a compact WAL behind so readers start fast.
        let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        Ok(self.stats)
    }
}
