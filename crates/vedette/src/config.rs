//! Configuration: the documented defaults (`config/default.toml`, embedded), an optional user
//! file, then `--set key=value` overrides. Engine config is strict: unknown keys are errors that
//! name the key path (or file and line).

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The default configuration file, with every key documented.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// Errors loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The user file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The user file (or the merged result) is not valid for vedette.
    #[error("{origin}: {message}")]
    Invalid {
        /// Which file or source.
        origin: String,
        /// What is wrong (with line and column for files).
        message: String,
    },
    /// A `--set` argument without `=`.
    #[error("--set {0}: expected key=value")]
    SetSyntax(String),
    /// A `--set` or file key that does not exist.
    #[error("unknown config key '{0}' (see `vedette config --default`)")]
    UnknownKey(String),
    /// A value of the wrong type for its key.
    #[error("config key '{key}': expected {expected}, got {got}")]
    WrongType {
        /// The key path.
        key: String,
        /// Type of the default.
        expected: &'static str,
        /// Type given.
        got: &'static str,
    },
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Capture sources.
    pub capture: CaptureCfg,
    /// Decoder.
    pub decode: DecodeCfg,
    /// Threads and batching.
    pub runtime: RuntimeCfg,
    /// Flow table.
    pub flow: FlowCfg,
    /// TCP stream handling.
    pub stream: StreamCfg,
    /// IP defragmentation.
    pub defrag: DefragCfg,
    /// App layer.
    pub app_layer: AppLayerCfg,
    /// Signature detection.
    pub detect: DetectCfg,
    /// Event bus.
    pub events: EventsCfg,
    /// Outputs.
    pub outputs: OutputsCfg,
    /// The embedded event store.
    pub store: StoreCfg,
    /// Flow features and model scoring.
    pub ml: MlCfg,
    /// The dashboard server.
    pub web: WebCfg,
    /// Behavioural anomaly detectors (`[anomaly]`; the crate owns the keys).
    pub anomaly: vedette_anomaly::AnomalyConfig,
    /// Alert notifications (`[notify]`; the crate owns the keys).
    pub notify: vedette_notify::NotifyConfig,
    /// Publishing events to NATS JetStream (`[export]`; the export crate owns the keys).
    pub export: vedette_export::ExportConfig,
    /// Consuming them into the store (`[hub]`).
    pub hub: vedette_export::HubConfig,
}

/// `[ml]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlCfg {
    /// Score flows with `model`.
    pub enabled: bool,
    /// Model file ("" for none).
    pub model: PathBuf,
    /// Scores at or above this raise an alert.
    pub alert_threshold: f64,
    /// Features named in an ML alert's explanation.
    pub top_features: u32,
    /// CSV file of per-flow features ("" for none).
    pub flow_features: PathBuf,
}

impl MlCfg {
    /// The model to score flows with, when scoring is on.
    pub fn model_path(&self) -> Option<&Path> {
        (self.enabled && !self.model.as_os_str().is_empty()).then_some(self.model.as_path())
    }

    /// The feature CSV to write, when asked for.
    pub fn features_path(&self) -> Option<&Path> {
        (!self.flow_features.as_os_str().is_empty()).then_some(self.flow_features.as_path())
    }
}

/// `[store]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreCfg {
    /// Write events to the store.
    pub enabled: bool,
    /// Store directory.
    pub path: PathBuf,
    /// Event batches queued for the store thread.
    pub queue_batches: u32,
    /// Events per transaction.
    pub batch_events: u64,
    /// Longest time before received events are committed, in milliseconds.
    pub commit_interval_ms: u64,
    /// Retention by event age, seconds (0: none).
    pub max_age: u64,
    /// Retention by database size, bytes (0: none).
    pub max_bytes: u64,
    /// Longest EVE line `vedette ingest` accepts.
    pub max_line_bytes: u64,
}

/// `[web]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebCfg {
    /// Address `serve` (and `demo`) listen on.
    pub listen: String,
    /// Bearer token of the API; empty for none (loopback only). VEDETTE_TOKEN and --token
    /// override it.
    pub token: String,
}

/// `[capture]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureCfg {
    /// Largest accepted record.
    pub max_packet_bytes: u32,
    /// Live capture (`vedette live`, `vedette sniff`).
    pub live: LiveCfg,
}

/// How the kernel spreads live packets over workers.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FanoutCfg {
    /// vedette's symmetric IP-pair hash (a classic BPF fanout program).
    IpPair,
    /// The kernel's flow hash (PACKET_FANOUT_HASH).
    Hash,
    /// The receiving CPU (PACKET_FANOUT_CPU).
    Cpu,
}

/// `[capture.live]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveCfg {
    /// Bytes per ring block.
    pub block_bytes: u32,
    /// Blocks per worker ring.
    pub block_count: u32,
    /// Frame slot size (snap length).
    pub frame_bytes: u32,
    /// Block retire timeout and poll interval, ms.
    pub block_timeout_ms: u32,
    /// Promiscuous mode.
    pub promisc: bool,
    /// Fanout mode.
    pub fanout: FanoutCfg,
    /// Fanout group id (0: derived from the process id).
    pub fanout_group: u16,
    /// Seconds between periodic stats events (0: only the final one).
    pub stats_interval_secs: u64,
}

/// `[decode]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeCfg {
    /// Validate checksums.
    pub checksums: bool,
}

/// `[runtime]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeCfg {
    /// Worker threads.
    pub workers: u32,
    /// Packets per reader→worker batch.
    pub batch_packets: u32,
    /// Batches queued per worker.
    pub worker_queue_batches: u32,
}

/// `[flow]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowCfg {
    /// Total flow cap.
    pub max_flows: u32,
    /// Timeouts.
    pub timeouts: TimeoutsCfg,
}

/// `[flow.timeouts]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsCfg {
    /// TCP.
    pub tcp: TcpTimeoutCfg,
    /// UDP.
    pub udp: TimeoutCfg,
    /// ICMP.
    pub icmp: TimeoutCfg,
    /// Other protocols.
    pub other: TimeoutCfg,
}

/// TCP timeouts.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpTimeoutCfg {
    /// Not yet established.
    pub new: u32,
    /// Established.
    pub established: u32,
    /// Closed.
    pub closed: u32,
}

/// Timeouts of a protocol without a closed state.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutCfg {
    /// Not yet established.
    pub new: u32,
    /// Established.
    pub established: u32,
}

/// `[stream]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamCfg {
    /// Pick up sessions without a handshake.
    pub midstream: bool,
    /// Inline mode: TCP Fast Open data on a SYN is used at once instead of once acknowledged.
    pub inline: bool,
    /// Reassembly depth per direction.
    pub depth: u64,
    /// Out-of-order bytes per direction.
    pub max_queued_bytes: u32,
    /// Out-of-order segments per direction.
    pub max_queued_segments: u16,
}

/// `[app_layer]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLayerCfg {
    /// Parse application protocols.
    pub enabled: bool,
}

/// `[defrag]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefragCfg {
    /// Datagrams in reassembly.
    pub max_trackers: u32,
    /// Bytes in reassembly.
    pub max_bytes: u64,
    /// Seconds to complete.
    pub timeout: u32,
    /// Fragments per datagram.
    pub max_fragments: u16,
}

/// `[detect]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectCfg {
    /// Rule files or directories.
    pub rules: Vec<PathBuf>,
    /// threshold.config file ("" for none).
    pub threshold_file: PathBuf,
    /// classification.config file ("" for the built-in table).
    pub classification_file: PathBuf,
    /// Threshold counters per worker.
    pub max_threshold_entries: u32,
    /// `$NAME` address groups.
    pub address_groups: std::collections::BTreeMap<String, String>,
    /// `$NAME` port groups.
    pub port_groups: std::collections::BTreeMap<String, String>,
}

/// Tables whose keys are names chosen by the user (rule variables): new keys are allowed.
const OPEN_TABLES: [&str; 2] = ["detect.address_groups", "detect.port_groups"];

/// Overflow policy of the event bus.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Overflow {
    /// Wait for outputs.
    Block,
    /// Drop and count.
    Drop,
}

/// `[events]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsCfg {
    /// Batches queued to outputs.
    pub queue_batches: u32,
    /// Overflow policy.
    pub overflow: Overflow,
    /// Longest wait before events reach outputs.
    pub flush_interval_ms: u64,
}

/// `[outputs]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsCfg {
    /// EVE JSON file.
    pub eve: EveCfg,
}

/// `[outputs.eve]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EveCfg {
    /// Write the file.
    pub enabled: bool,
    /// File name in the output directory.
    pub filename: String,
    /// Flow events.
    pub flow: bool,
    /// Anomaly events.
    pub anomaly: bool,
    /// Stats event.
    pub stats: bool,
    /// HTTP events.
    pub http: bool,
    /// DNS events.
    pub dns: bool,
    /// TLS events.
    pub tls: bool,
    /// App-layer anomaly events.
    pub anomaly_applayer: bool,
    /// Extended TLS fields.
    pub tls_extended: bool,
    /// Packet bytes in anomaly events.
    pub anomaly_packethdr: bool,
    /// Community ID on flows.
    pub community_id: bool,
    /// Community ID seed.
    pub community_id_seed: u16,
    /// Compressed IPv6 addresses.
    pub ipv6_compress: bool,
    /// Packet payload in alerts.
    pub alert_payload: bool,
    /// Rotate the file at this size, bytes (0: never).
    pub rotate_bytes: u64,
    /// Rotate the file after this many seconds (0: never).
    pub rotate_interval: u64,
    /// Rotated files kept (0: all).
    pub rotate_keep: u32,
}

fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a datetime",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

/// Checks that every key of `user` exists in `defaults` with the same type, then merges it in.
fn merge(defaults: &mut toml::Table, user: toml::Table, prefix: &str) -> Result<(), ConfigError> {
    for (k, v) in user {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if !defaults.contains_key(&k) && OPEN_TABLES.contains(&prefix) {
            if !matches!(v, toml::Value::String(_)) {
                return Err(ConfigError::WrongType {
                    key: path,
                    expected: "a string",
                    got: type_name(&v),
                });
            }
            defaults.insert(k, v);
            continue;
        }
        let Some(slot) = defaults.get_mut(&k) else {
            return Err(ConfigError::UnknownKey(path));
        };
        match (slot, v) {
            (toml::Value::Table(d), toml::Value::Table(u)) => merge(d, u, &path)?,
            (slot, v) => {
                if std::mem::discriminant(slot) != std::mem::discriminant(&v) {
                    return Err(ConfigError::WrongType {
                        key: path,
                        expected: type_name(slot),
                        got: type_name(&v),
                    });
                }
                *slot = v;
            }
        }
    }
    Ok(())
}

/// Parses a `--set` value: TOML syntax when it parses (numbers, booleans, quoted strings),
/// otherwise the raw text as a string.
fn parse_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

/// Builds a one-key table `a.b.c = v` from a dotted path.
fn nested(path: &str, v: toml::Value) -> toml::Table {
    let mut value = v;
    for part in path.rsplit('.') {
        let mut t = toml::Table::new();
        t.insert(part.to_owned(), value);
        value = toml::Value::Table(t);
    }
    match value {
        toml::Value::Table(t) => t,
        _ => toml::Table::new(),
    }
}

impl Config {
    /// Defaults, then `file`, then each `--set key=value` in order.
    pub fn load(file: Option<&Path>, sets: &[String]) -> Result<Config, ConfigError> {
        let mut table: toml::Table =
            DEFAULT_TOML
                .parse()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    origin: "built-in defaults".into(),
                    message: e.to_string(),
                })?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let user: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Invalid {
                        origin: path.display().to_string(),
                        message: e.to_string(),
                    })?;
            merge(&mut table, user, "")?;
        }
        for s in sets {
            let (k, v) = s
                .split_once('=')
                .ok_or_else(|| ConfigError::SetSyntax(s.clone()))?;
            let (k, v) = (k.trim(), v.trim());
            let mut value = parse_value(v);
            // `--set stream.midstream=true` must not fail because "true" could be a string.
            if let toml::Value::String(text) = &value {
                if let Some(toml::Value::Integer(_) | toml::Value::Boolean(_)) = lookup(&table, k) {
                    value = parse_value(text);
                }
            }
            merge(&mut table, nested(k, value), "")?;
        }
        let cfg: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                origin: "configuration".into(),
                message: e.to_string(),
            })?;
        cfg.validate()?;
        // The anomaly section checks itself and parses its address lists.
        let mut cfg = cfg;
        cfg.anomaly.prepare().map_err(|e| ConfigError::Invalid {
            origin: format!("config key 'anomaly.{}'", e.key),
            message: e.message,
        })?;
        cfg.notify.prepare().map_err(|e| ConfigError::Invalid {
            origin: format!("config key 'notify.{}'", e.key),
            message: e.message,
        })?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, msg: &str| ConfigError::Invalid {
            origin: format!("config key '{key}'"),
            message: msg.to_owned(),
        };
        if self.runtime.workers == 0 || self.runtime.workers > 256 {
            return Err(bad("runtime.workers", "must be 1..=256"));
        }
        if self.flow.max_flows < self.runtime.workers {
            return Err(bad(
                "flow.max_flows",
                "must be at least one flow per worker",
            ));
        }
        if self.events.queue_batches == 0 || self.runtime.worker_queue_batches == 0 {
            return Err(bad(
                "events.queue_batches",
                "queues need room for at least one batch",
            ));
        }
        if self.web.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(bad(
                "web.listen",
                "must be an address:port, e.g. 127.0.0.1:8080",
            ));
        }
        if self.runtime.batch_packets == 0 {
            return Err(bad("runtime.batch_packets", "must be at least 1"));
        }
        let l = &self.capture.live;
        if !l.block_bytes.is_power_of_two() || !(4096..=1 << 28).contains(&l.block_bytes) {
            return Err(bad(
                "capture.live.block_bytes",
                "must be a power of two from 4096 to 268435456",
            ));
        }
        if l.block_count == 0 || l.block_count > 65536 {
            return Err(bad("capture.live.block_count", "must be 1..=65536"));
        }
        if l.frame_bytes < 128 || l.frame_bytes & 15 != 0 || l.frame_bytes > l.block_bytes {
            return Err(bad(
                "capture.live.frame_bytes",
                "must be a multiple of 16, at least 128 and at most block_bytes",
            ));
        }
        if l.block_timeout_ms == 0 || l.block_timeout_ms > 10_000 {
            return Err(bad("capture.live.block_timeout_ms", "must be 1..=10000"));
        }
        if self.capture.max_packet_bytes < 64 {
            return Err(bad("capture.max_packet_bytes", "must be at least 64"));
        }
        if self.outputs.eve.filename.is_empty() || self.outputs.eve.filename.contains(['/', '\\']) {
            return Err(bad("outputs.eve.filename", "must be a plain file name"));
        }
        if self.store.queue_batches == 0 || self.store.batch_events == 0 {
            return Err(bad(
                "store.queue_batches",
                "store.queue_batches and store.batch_events must be at least 1",
            ));
        }
        if !(0.0..=1.0).contains(&self.ml.alert_threshold) {
            return Err(bad("ml.alert_threshold", "must be 0..=1"));
        }
        if !(1..=32).contains(&self.ml.top_features) {
            return Err(bad("ml.top_features", "must be 1..=32"));
        }
        if self.store.max_line_bytes < 1024 {
            return Err(bad("store.max_line_bytes", "must be at least 1024"));
        }
        for r in [self.export.validate(), self.hub.validate()] {
            r.map_err(|e| ConfigError::Invalid {
                origin: "configuration".into(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }
}

fn lookup<'t>(table: &'t toml::Table, path: &str) -> Option<&'t toml::Value> {
    let mut parts = path.split('.');
    let mut cur = table.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_table()?.get(p)?;
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_sets_override() {
        let c = Config::load(None, &[]).unwrap();
        assert_eq!(c.flow.max_flows, 1_000_000);
        assert!(!c.stream.midstream);
        let c = Config::load(
            None,
            &[
                "stream.midstream=true".into(),
                "flow.max_flows=10".into(),
                "events.overflow=drop".into(),
                "outputs.eve.filename=\"x.json\"".into(),
            ],
        )
        .unwrap();
        assert!(c.stream.midstream);
        assert_eq!(c.flow.max_flows, 10);
        assert_eq!(c.events.overflow, Overflow::Drop);
        assert_eq!(c.outputs.eve.filename, "x.json");
    }

    #[test]
    fn notifiers_load_strictly_and_bad_values_name_their_key() {
        let c = Config::load(None, &[]).unwrap();
        assert_eq!(c.notify, vedette_notify::NotifyConfig::default());
        assert!(!c.notify.any());
        let c = Config::load(
            None,
            &[r#"notify.webhook=[{url="http://127.0.0.1:9/", route={min_severity=1}}]"#.into()],
        )
        .unwrap();
        assert_eq!(c.notify.webhook[0].name, "webhook0");
        assert_eq!(c.notify.webhook[0].route.min_severity, Some(1));
        let e = Config::load(
            None,
            &[r#"notify.webhook=[{url="http://x/", urll=1}]"#.into()],
        )
        .unwrap_err();
        assert!(e.to_string().contains("urll"), "{e}");
        let e = Config::load(
            None,
            &[r#"notify.syslog=[{address="x:514", facility="local9"}]"#.into()],
        )
        .unwrap_err();
        assert!(e.to_string().contains("notify.syslog[0].facility"), "{e}");
        let e = Config::load(None, &["notify.shutdown_timeout_ms=9999999".into()]).unwrap_err();
        assert!(e.to_string().contains("notify.shutdown_timeout_ms"), "{e}");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors_naming_the_key() {
        let e = Config::load(None, &["flow.max_flow=3".into()]).unwrap_err();
        assert!(e.to_string().contains("flow.max_flow"), "{e}");
        let e = Config::load(None, &["flow.max_flows=lots".into()]).unwrap_err();
        assert!(e.to_string().contains("flow.max_flows"), "{e}");
        let e = Config::load(None, &["events.overflow=sometimes".into()]).unwrap_err();
        assert!(e.to_string().contains("overflow"), "{e}");
        let e = Config::load(None, &["nokey".into()]).unwrap_err();
        assert!(matches!(e, ConfigError::SetSyntax(_)));
        let e = Config::load(None, &["runtime.workers=0".into()]).unwrap_err();
        assert!(e.to_string().contains("runtime.workers"), "{e}");
    }

    #[test]
    fn anomaly_defaults_match_the_crate_and_bad_values_name_their_key() {
        let c = Config::load(None, &[]).unwrap();
        assert_eq!(c.anomaly, vedette_anomaly::AnomalyConfig::default());
        let c = Config::load(None, &["anomaly.port_scan.min_ports=80".into()]).unwrap();
        assert_eq!(c.anomaly.port_scan.min_ports, 80);
        let e = Config::load(None, &["anomaly.port_scan.min_port=80".into()]).unwrap_err();
        assert!(e.to_string().contains("anomaly.port_scan.min_port"), "{e}");
        let e = Config::load(None, &["anomaly.allow_src=[\"10.0.0.0/40\"]".into()]).unwrap_err();
        assert!(e.to_string().contains("anomaly.allow_src"), "{e}");
    }

    #[test]
    fn export_keys_load_and_bad_values_name_their_key() {
        let c = Config::load(
            None,
            &[
                "export.sensor=\"edge-1\"".into(),
                "export.replicas=3".into(),
            ],
        )
        .unwrap();
        assert_eq!((c.export.sensor.as_str(), c.export.replicas), ("edge-1", 3));
        assert!(!c.export.enabled);
        let e = Config::load(None, &["export.sensor=\"a.b\"".into()]).unwrap_err();
        assert!(e.to_string().contains("export.sensor"), "{e}");
        let e = Config::load(None, &["export.enabled=true".into()]).unwrap_err();
        assert!(e.to_string().contains("export.servers"), "{e}");
        let e = Config::load(None, &["hub.durable=\"x y\"".into()]).unwrap_err();
        assert!(e.to_string().contains("hub.durable"), "{e}");
    }

    #[test]
    fn user_file_errors_carry_the_file_name() {
        let dir = std::env::temp_dir().join(format!("vedette-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.toml");
        std::fs::write(
            &f,
            "[flow]\nmax_flows = 5\n[flow.timeouts.tcp]\nnew = 1\nbogus = 2\n",
        )
        .unwrap();
        let e = Config::load(Some(&f), &[]).unwrap_err();
        assert!(e.to_string().contains("flow.timeouts.tcp.bogus"), "{e}");
        std::fs::write(&f, "[flow\n").unwrap();
        let e = Config::load(Some(&f), &[]).unwrap_err();
        assert!(e.to_string().contains("bad.toml"), "{e}");
        std::fs::write(&f, "[flow]\nmax_flows = 5\n").unwrap();
        assert_eq!(Config::load(Some(&f), &[]).unwrap().flow.max_flows, 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
