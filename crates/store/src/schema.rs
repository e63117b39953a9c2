//! The store's tables, indexes and documented views.
//!
//! Storage tables (`ev_*`, `rollup_*`) are an implementation detail that may change between
//! schema versions; users query the views, whose columns are documented in [`VIEWS_DOC`] and
//! printed by `vedette query --schema`.

/// Bumped whenever a table changes; a store with another version is refused with a clear error.
pub const SCHEMA_VERSION: i64 = 2;

/// Storage tables of the event types the store indexes, in the order of [`crate::EventKind`].
pub const EVENT_TABLES: [&str; 8] = [
    "ev_alert",
    "ev_flow",
    "ev_dns",
    "ev_http",
    "ev_tls",
    "ev_anomaly",
    "ev_stats",
    "ev_other",
];

/// Columns every event table starts with (after `id`), bound in this order by the ingester.
#[macro_export]
#[doc(hidden)]
macro_rules! common_columns {
    () => {
        "ts, timestamp, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, community_id, json, sensor, event_id"
    };
}

/// Creates tables, indexes and views (idempotent).
// flow_id is declared without a type: with INTEGER affinity SQLite would turn the text of an
// id above i64::MAX into an inexact REAL.
pub const DDL: &str = r#"
CREATE TABLE IF NOT EXISTS ev_alert (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
  community_id TEXT, json TEXT NOT NULL, sensor TEXT, event_id TEXT,
  action TEXT, gid INTEGER, sid INTEGER, rev INTEGER, signature TEXT, category TEXT,
  severity INTEGER, detector TEXT);
CREATE INDEX IF NOT EXISTS ev_alert_ts ON ev_alert(ts);
CREATE UNIQUE INDEX IF NOT EXISTS ev_alert_event_id ON ev_alert(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ev_alert_sid ON ev_alert(sid);
CREATE INDEX IF NOT EXISTS ev_alert_src ON ev_alert(src_ip);
CREATE INDEX IF NOT EXISTS ev_alert_dest ON ev_alert(dest_ip, dest_port);

CREATE TABLE IF NOT EXISTS ev_flow (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
  community_id TEXT, json TEXT NOT NULL, sensor TEXT, event_id TEXT,
  pkts_toserver INTEGER, pkts_toclient INTEGER, bytes_toserver INTEGER, bytes_toclient INTEGER,
  flow_start TEXT, flow_end TEXT, age INTEGER, state TEXT, reason TEXT, alerted INTEGER,
  ml_score REAL, ml_label TEXT, ml_model TEXT);
CREATE INDEX IF NOT EXISTS ev_flow_ts ON ev_flow(ts);
CREATE UNIQUE INDEX IF NOT EXISTS ev_flow_event_id ON ev_flow(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ev_flow_src ON ev_flow(src_ip);
CREATE INDEX IF NOT EXISTS ev_flow_dest ON ev_flow(dest_ip, dest_port);

CREATE TABLE IF NOT EXISTS ev_dns (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
  community_id TEXT, json TEXT NOT NULL, sensor TEXT, event_id TEXT,
  dns_type TEXT, dns_id INTEGER, rrname TEXT, rrtype TEXT, rcode TEXT);
CREATE INDEX IF NOT EXISTS ev_dns_ts ON ev_dns(ts);
CREATE UNIQUE INDEX IF NOT EXISTS ev_dns_event_id ON ev_dns(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ev_dns_src ON ev_dns(src_ip);

CREATE TABLE IF NOT EXISTS ev_http (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
  community_id TEXT, json TEXT NOT NULL, sensor TEXT, event_id TEXT,
  hostname TEXT, url TEXT, http_method TEXT, http_user_agent TEXT, protocol TEXT,
  status INTEGER, length INTEGER);
CREATE INDEX IF NOT EXISTS ev_http_ts ON ev_http(ts);
CREATE UNIQUE INDEX IF NOT EXISTS ev_http_event_id ON ev_http(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ev_http_src ON ev_http(src_ip);

CREATE TABLE IF NOT EXISTS ev_tls (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
  community_id TEXT, json TEXT NOT NULL, sensor TEXT, event_id TEXT,
  sni TEXT, version TEXT, subject TEXT, issuerdn TEXT, fingerprint TEXT, ja3 TEXT, ja4 TEXT);
CREATE INDEX IF NOT EXISTS ev_tls_ts ON ev_tls(ts);
CREATE UNIQUE INDEX IF NOT EXISTS ev_tls_event_id ON ev_tls(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ev_tls_src ON ev_tls(src_ip);

CREATE TABLE IF NOT EXISTS ev_anomaly (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
  community_id TEXT, json TEXT NOT NULL, sensor TEXT, event_id TEXT,
  anomaly_type TEXT, event TEXT, layer TEXT);
CREATE INDEX IF NOT EXISTS ev_anomaly_ts ON ev_anomaly(ts);
CREATE UNIQUE INDEX IF NOT EXISTS ev_anomaly_event_id ON ev_anomaly(event_id) WHERE event_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS ev_stats (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
  community_id TEXT, json TEXT NOT NULL, sensor TEXT, event_id TEXT);
CREATE INDEX IF NOT EXISTS ev_stats_ts ON ev_stats(ts);
CREATE UNIQUE INDEX IF NOT EXISTS ev_stats_event_id ON ev_stats(event_id) WHERE event_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS ev_other (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, timestamp TEXT NOT NULL, flow_id,
  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER, proto TEXT, app_proto TEXT,
  community_id TEXT, json TEXT NOT NULL, sensor TEXT, event_id TEXT,
  event_type TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ev_other_ts ON ev_other(ts);
CREATE UNIQUE INDEX IF NOT EXISTS ev_other_event_id ON ev_other(event_id) WHERE event_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS rollup_proto (
  minute INTEGER NOT NULL, proto TEXT NOT NULL, app_proto TEXT NOT NULL,
  flows INTEGER NOT NULL, pkts INTEGER NOT NULL, bytes INTEGER NOT NULL,
  PRIMARY KEY (minute, proto, app_proto)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_host (
  minute INTEGER NOT NULL, ip TEXT NOT NULL,
  flows INTEGER NOT NULL, pkts INTEGER NOT NULL, bytes INTEGER NOT NULL,
  PRIMARY KEY (minute, ip)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_alert (
  minute INTEGER NOT NULL, sid INTEGER NOT NULL, severity INTEGER NOT NULL,
  signature TEXT NOT NULL, alerts INTEGER NOT NULL,
  PRIMARY KEY (minute, sid, severity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_event (
  minute INTEGER NOT NULL, event_type TEXT NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY (minute, event_type)) WITHOUT ROWID;

CREATE VIEW IF NOT EXISTS alerts AS SELECT id, ts, timestamp AS time, flow_id, src_ip, src_port,
  dest_ip, dest_port, proto, app_proto, community_id, action, gid, sid AS signature_id, rev,
  signature, category, severity, detector, sensor, event_id, json FROM ev_alert;
CREATE VIEW IF NOT EXISTS flows AS SELECT id, ts, timestamp AS time, flow_id, src_ip, src_port,
  dest_ip, dest_port, proto, app_proto, community_id, pkts_toserver, pkts_toclient,
  bytes_toserver, bytes_toclient, flow_start, flow_end, age, state, reason, alerted, ml_score,
  ml_label, ml_model, sensor, event_id, json FROM ev_flow;
CREATE VIEW IF NOT EXISTS dns AS SELECT id, ts, timestamp AS time, flow_id, src_ip, src_port,
  dest_ip, dest_port, proto, app_proto, community_id, dns_type, dns_id, rrname, rrtype, rcode,
  sensor, event_id, json FROM ev_dns;
CREATE VIEW IF NOT EXISTS http AS SELECT id, ts, timestamp AS time, flow_id, src_ip, src_port,
  dest_ip, dest_port, proto, app_proto, community_id, hostname, url, http_method,
  http_user_agent, protocol, status, length, sensor, event_id, json FROM ev_http;
CREATE VIEW IF NOT EXISTS tls AS SELECT id, ts, timestamp AS time, flow_id, src_ip, src_port,
  dest_ip, dest_port, proto, app_proto, community_id, sni, version, subject, issuerdn,
  fingerprint, ja3, ja4, sensor, event_id, json FROM ev_tls;
CREATE VIEW IF NOT EXISTS anomalies AS SELECT id, ts, timestamp AS time, flow_id, src_ip,
  src_port, dest_ip, dest_port, proto, app_proto, community_id, anomaly_type, event, layer,
  sensor, event_id, json FROM ev_anomaly;
CREATE VIEW IF NOT EXISTS stats AS SELECT id, ts, timestamp AS time, sensor, event_id, json
  FROM ev_stats;
CREATE VIEW IF NOT EXISTS other_events AS SELECT id, ts, timestamp AS time, event_type, flow_id,
  src_ip, src_port, dest_ip, dest_port, proto, app_proto, community_id, sensor, event_id, json
  FROM ev_other;
CREATE VIEW IF NOT EXISTS events AS
  SELECT 'alert' AS event_type, ts, timestamp AS time, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, sensor, event_id, json FROM ev_alert
  UNION ALL SELECT 'flow', ts, timestamp, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, sensor, event_id, json FROM ev_flow
  UNION ALL SELECT 'dns', ts, timestamp, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, sensor, event_id, json FROM ev_dns
  UNION ALL SELECT 'http', ts, timestamp, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, sensor, event_id, json FROM ev_http
  UNION ALL SELECT 'tls', ts, timestamp, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, sensor, event_id, json FROM ev_tls
  UNION ALL SELECT 'anomaly', ts, timestamp, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, sensor, event_id, json FROM ev_anomaly
  UNION ALL SELECT 'stats', ts, timestamp, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, sensor, event_id, json FROM ev_stats
  UNION ALL SELECT event_type, ts, timestamp, flow_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, sensor, event_id, json FROM ev_other;
CREATE VIEW IF NOT EXISTS traffic_per_minute AS SELECT minute * 60 AS minute_start,
  strftime('%Y-%m-%dT%H:%M:00Z', minute * 60, 'unixepoch') AS time, proto, app_proto, flows,
  pkts, bytes FROM rollup_proto;
CREATE VIEW IF NOT EXISTS hosts_per_minute AS SELECT minute * 60 AS minute_start,
  strftime('%Y-%m-%dT%H:%M:00Z', minute * 60, 'unixepoch') AS time, ip, flows, pkts, bytes
  FROM rollup_host;
CREATE VIEW IF NOT EXISTS alerts_per_minute AS SELECT minute * 60 AS minute_start,
  strftime('%Y-%m-%dT%H:%M:00Z', minute * 60, 'unixepoch') AS time, sid AS signature_id,
  severity, signature, alerts FROM rollup_alert;
CREATE VIEW IF NOT EXISTS events_per_minute AS SELECT minute * 60 AS minute_start,
  strftime('%Y-%m-%dT%H:%M:00Z', minute * 60, 'unixepoch') AS time, event_type, events
  FROM rollup_event;
"#;

/// Brings a version-1 store (before sensors, event ids, detectors and ML scores) to version 2;
/// [`DDL`] then adds the new indexes and recreates the views with the new columns.
pub const MIGRATE_V1: &str = r#"
ALTER TABLE ev_alert ADD COLUMN sensor TEXT; ALTER TABLE ev_alert ADD COLUMN event_id TEXT;
ALTER TABLE ev_alert ADD COLUMN detector TEXT;
ALTER TABLE ev_flow ADD COLUMN sensor TEXT; ALTER TABLE ev_flow ADD COLUMN event_id TEXT;
ALTER TABLE ev_flow ADD COLUMN ml_score REAL; ALTER TABLE ev_flow ADD COLUMN ml_label TEXT;
ALTER TABLE ev_flow ADD COLUMN ml_model TEXT;
ALTER TABLE ev_dns ADD COLUMN sensor TEXT; ALTER TABLE ev_dns ADD COLUMN event_id TEXT;
ALTER TABLE ev_http ADD COLUMN sensor TEXT; ALTER TABLE ev_http ADD COLUMN event_id TEXT;
ALTER TABLE ev_tls ADD COLUMN sensor TEXT; ALTER TABLE ev_tls ADD COLUMN event_id TEXT;
ALTER TABLE ev_anomaly ADD COLUMN sensor TEXT; ALTER TABLE ev_anomaly ADD COLUMN event_id TEXT;
ALTER TABLE ev_stats ADD COLUMN sensor TEXT; ALTER TABLE ev_stats ADD COLUMN event_id TEXT;
ALTER TABLE ev_other ADD COLUMN sensor TEXT; ALTER TABLE ev_other ADD COLUMN event_id TEXT;
DROP VIEW IF EXISTS alerts; DROP VIEW IF EXISTS flows; DROP VIEW IF EXISTS dns;
DROP VIEW IF EXISTS http; DROP VIEW IF EXISTS tls; DROP VIEW IF EXISTS anomalies;
DROP VIEW IF EXISTS stats; DROP VIEW IF EXISTS other_events; DROP VIEW IF EXISTS events;
"#;

/// What `vedette query --schema` prints: every view and what its columns mean.
pub const VIEWS_DOC: &str = "\
vedette store: read-only views (query them with `vedette query \"SQL\"`)

Every event view has these columns:
  id            row id (insertion order)
  ts            event time, microseconds since the Unix epoch (UTC); use it to filter by time
  time          the EVE `timestamp` text as logged
  flow_id       EVE flow_id (integer; text when above 2^63)
  src_ip, src_port, dest_ip, dest_port, proto, app_proto, community_id
  sensor        the sensor that produced the event (NULL: this machine or an ingested file
                without one); set by `vedette hub` from NATS, or from `vedette.sensor`
  event_id      the event's unique id when it has one (`vedette.event_id`, NATS exports);
                an event whose id is already stored is skipped as a duplicate
  json          the whole EVE record (use json_extract(json, '$.path') for any other field)

alerts        alert events: action, gid, signature_id, rev, signature, category, severity,
              detector (`vedette.detector` of anomaly/ML alerts, NULL for signatures)
flows         flow events: pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient,
              flow_start, flow_end, age, state, reason, alerted (0/1),
              ml_score, ml_label, ml_model (`vedette.ml` when a model scored the flow)
dns           dns events: dns_type (query/answer), dns_id, rrname, rrtype, rcode
http          http events: hostname, url, http_method, http_user_agent, protocol, status, length
tls           tls events: sni, version, subject, issuerdn, fingerprint, ja3 (hash), ja4
anomalies     anomaly events: anomaly_type (decode/stream/applayer), event, layer
stats         stats events: ts, time, sensor, event_id, json
other_events  events of any other event_type (e.g. Suricata's fileinfo, ssh): event_type
events        every event above: event_type, ts, time, flow_id, addresses, proto, app_proto,
              sensor, event_id, json

Per-minute rollups, kept up to date on ingest (minute_start: Unix seconds; time: ISO minute):
traffic_per_minute  proto, app_proto ('' when none), flows, pkts, bytes (of flows starting then)
hosts_per_minute    ip, flows, pkts, bytes (each flow counts for both its endpoints)
alerts_per_minute   signature_id, severity, signature, alerts
events_per_minute   event_type, events

Retention removes events and rollups older than store.max_age and, when the store exceeds
store.max_bytes, the oldest events first. Time is event (packet) time, not the wall clock.
";
