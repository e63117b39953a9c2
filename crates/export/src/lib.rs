//! Scale-out over NATS JetStream. A sensor's [`Exporter`] publishes EVE events (already
//! serialised, taken from the event bus) to `<prefix>.<sensor>.<event_type>` with a unique event
//! id, and keeps what NATS did not acknowledge in a bounded local [`spool`]; the hub
//! ([`hub::run`]) consumes the stream with a durable pull consumer into the store and acks only
//! after the store commit.
//!
//! This crate owns the NATS client, its tokio runtime (one small runtime on the exporter's or the
//! hub's own thread) and the spool file. It must not see packets, and nothing on the packet path
//! may call into it: the exporter is fed through a bounded queue by an event output.

pub mod hub;
mod publish;
pub mod spool;

pub use publish::{ExportStats, Exporter};

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Errors of the exporter and the hub.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Invalid configuration (key and reason).
    #[error("export config {key}: {reason}")]
    Config {
        /// The config key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The spool file could not be opened or written.
    #[error("spool {path}: {source}")]
    Spool {
        /// The spool file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// NATS connection, stream or consumer setup failed.
    #[error("nats: {0}")]
    Nats(String),
    /// The store failed (the hub stops; unacknowledged messages are redelivered).
    #[error("store: {0}")]
    Store(#[from] vedette_store::StoreError),
    /// A thread or the runtime could not be started.
    #[error("cannot start the {0}: {1}")]
    Start(&'static str, std::io::Error),
}

/// `[export.auth]`: credentials and TLS passed through to async-nats. Empty strings mean unset.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// NATS credentials file (JWT + NKey seed, `.creds`).
    pub creds_file: String,
    /// Token authentication.
    pub token: String,
    /// User name (with `password`).
    pub user: String,
    /// Password (with `user`).
    pub password: String,
    /// File holding an NKey seed (`SU...`).
    pub nkey_seed_file: String,
    /// PEM file of the CA(s) that signed the server certificates.
    pub tls_ca_file: String,
    /// PEM client certificate (with `tls_key_file`) for mutual TLS.
    pub tls_cert_file: String,
    /// PEM client key.
    pub tls_key_file: String,
    /// Refuse to talk to a server without TLS.
    pub tls_required: bool,
}

/// `[export]`: the sensor side.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    /// Publish events to NATS (`--export` turns it on).
    pub enabled: bool,
    /// NATS server URLs (`nats://host:port`); the client fails over between them.
    pub servers: Vec<String>,
    /// This sensor's name in subjects and event ids; empty: the host name.
    pub sensor: String,
    /// JetStream stream name.
    pub stream: String,
    /// First subject token: events go to `<prefix>.<sensor>.<event_type>`.
    pub subject_prefix: String,
    /// Stream replicas when the stream is created.
    pub replicas: u32,
    /// Stream limit: oldest messages removed past this age, seconds (0: none).
    pub max_age: u64,
    /// Stream limit: oldest messages removed past this size, bytes (0: none).
    pub max_bytes: u64,
    /// JetStream duplicate window (Nats-Msg-Id dedup), seconds.
    pub duplicate_window: u64,
    /// Event batches queued between the output thread and the exporter.
    pub queue_batches: u32,
    /// Publishes awaiting their JetStream ack at most.
    pub max_in_flight: u32,
    /// A publish not acked within this time goes to the spool, milliseconds.
    pub ack_timeout_ms: u64,
    /// Publish at most this many events per second (0: no limit).
    pub rate_limit: u64,
    /// Spool file; empty: `export.spool` in the output directory.
    pub spool_path: String,
    /// Largest spool file, bytes; events past it are dropped and counted.
    pub spool_max_bytes: u64,
    /// At the end of a run, wait at most this long for acks and spool replay, seconds.
    pub finish_timeout: u64,
    /// Credentials and TLS.
    pub auth: AuthConfig,
}

impl ExportConfig {
    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), ExportError> {
        let bad = |key, reason: &str| {
            Err(ExportError::Config {
                key,
                reason: reason.into(),
            })
        };
        if self.enabled && self.servers.is_empty() {
            return bad("export.servers", "at least one server is needed");
        }
        if !self.sensor.is_empty() && !valid_token(&self.sensor) {
            return bad(
                "export.sensor",
                "letters, digits, '-' and '_' only (it is a subject token)",
            );
        }
        if !valid_token(&self.stream) {
            return bad("export.stream", "letters, digits, '-' and '_' only");
        }
        if self.subject_prefix.is_empty() || !self.subject_prefix.split('.').all(valid_token) {
            return bad(
                "export.subject_prefix",
                "dot-separated tokens of letters, digits, '-', '_'",
            );
        }
        if self.replicas == 0 || self.replicas > 5 {
            return bad("export.replicas", "1 to 5");
        }
        if self.queue_batches == 0 || self.max_in_flight == 0 {
            return bad(
                "export.queue_batches",
                "queue_batches and max_in_flight must be at least 1",
            );
        }
        if self.ack_timeout_ms == 0 {
            return bad("export.ack_timeout_ms", "must be at least 1");
        }
        Ok(())
    }

    /// The sensor name: `sensor`, else the host name (made a valid subject token).
    pub fn sensor_name(&self) -> String {
        if !self.sensor.is_empty() {
            return self.sensor.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .unwrap_or_default();
        let name: String = host
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if name.is_empty() {
            "sensor".into()
        } else {
            name
        }
    }

    /// The stream's subjects filter (`<prefix>.>`).
    pub fn subjects(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }
}

/// `[hub]`: the consumer side.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// Durable consumer name; hubs with the same name share the work.
    pub durable: String,
    /// Messages fetched (and committed to the store) per batch.
    pub batch: u32,
    /// Longest wait for a batch to fill, milliseconds.
    pub fetch_wait_ms: u64,
    /// Messages delivered and not yet acknowledged, at most (per consumer, over all hubs).
    pub max_ack_pending: u32,
    /// A message not acknowledged within this many seconds is delivered again.
    pub ack_wait: u64,
}

impl HubConfig {
    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), ExportError> {
        if !valid_token(&self.durable) {
            return Err(ExportError::Config {
                key: "hub.durable",
                reason: "letters, digits, '-' and '_' only".into(),
            });
        }
        if self.batch == 0 || self.max_ack_pending < self.batch || self.ack_wait == 0 {
            return Err(ExportError::Config {
                key: "hub.batch",
                reason: "batch >= 1, max_ack_pending >= batch, ack_wait >= 1".into(),
            });
        }
        Ok(())
    }
}

/// Whether `s` can be one NATS subject token (and a stream/consumer name).
fn valid_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Connects with the configured credentials. The client reconnects on its own (forever, with
/// a short back-off); with `retry_initial` it returns at once even when no server answers yet.
async fn connect(
    servers: &[String],
    auth: &AuthConfig,
    name: &str,
    retry_initial: bool,
) -> Result<async_nats::Client, ExportError> {
    let nats = |e: &dyn std::fmt::Display| ExportError::Nats(e.to_string());
    let mut opts = async_nats::ConnectOptions::new()
        .name(name)
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(2))
        .reconnect_delay_callback(|attempt| {
            Duration::from_millis((100 * attempt as u64).min(1000))
        });
    if retry_initial {
        opts = opts.retry_on_initial_connect();
    }
    if !auth.creds_file.is_empty() {
        opts = opts
            .credentials_file(&auth.creds_file)
            .await
            .map_err(|e| nats(&format!("credentials file {}: {e}", auth.creds_file)))?;
    }
    if !auth.token.is_empty() {
        opts = opts.token(auth.token.clone());
    }
    if !auth.user.is_empty() {
        opts = opts.user_and_password(auth.user.clone(), auth.password.clone());
    }
    if !auth.nkey_seed_file.is_empty() {
        let seed = std::fs::read_to_string(&auth.nkey_seed_file)
            .map_err(|e| nats(&format!("nkey seed file {}: {e}", auth.nkey_seed_file)))?;
        opts = opts.nkey(seed.trim().to_owned());
    }
    if !auth.tls_ca_file.is_empty() {
        opts = opts.add_root_certificates(PathBuf::from(&auth.tls_ca_file));
    }
    if !auth.tls_cert_file.is_empty() {
        opts = opts.add_client_certificate(
            PathBuf::from(&auth.tls_cert_file),
            PathBuf::from(&auth.tls_key_file),
        );
    }
    if auth.tls_required {
        opts = opts.require_tls(true);
    }
    let urls: Vec<async_nats::ServerAddr> = servers
        .iter()
        .map(|s| s.parse().map_err(|e| nats(&format!("server {s}: {e}"))))
        .collect::<Result<_, _>>()?;
    opts.connect(urls).await.map_err(|e| nats(&e))
}

/// Creates the stream when it does not exist (an existing stream is used as it is).
async fn ensure_stream(
    js: &async_nats::jetstream::Context,
    cfg: &ExportConfig,
) -> Result<async_nats::jetstream::stream::Stream, ExportError> {
    use async_nats::jetstream::stream;
    let sc = stream::Config {
        name: cfg.stream.clone(),
        subjects: vec![cfg.subjects()],
        num_replicas: cfg.replicas as usize,
        storage: stream::StorageType::File,
        max_age: Duration::from_secs(cfg.max_age),
        max_bytes: if cfg.max_bytes == 0 {
            -1
        } else {
            i64::try_from(cfg.max_bytes).unwrap_or(i64::MAX)
        },
        duplicate_window: Duration::from_secs(cfg.duplicate_window),
        ..Default::default()
    };
    js.get_or_create_stream(sc)
        .await
        .map_err(|e| ExportError::Nats(format!("stream {}: {e}", cfg.stream)))
}

/// NATS header carrying the event id (also sent as `Nats-Msg-Id`).
pub const HEADER_EVENT_ID: &str = "Vedette-Event-Id";
/// NATS header carrying the sensor name.
pub const HEADER_SENSOR: &str = "Vedette-Sensor";
