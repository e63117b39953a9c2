//! The hub: a durable pull consumer on the events stream that writes every message to the
//! store and acknowledges a batch only after the store committed it. A hub that dies before
//! acking gets its batch redelivered (to itself or another hub sharing the durable consumer);
//! events already committed are then skipped by their event id in the store.

use crate::{
    connect, ensure_stream, ExportConfig, ExportError, HubConfig, HEADER_EVENT_ID, HEADER_SENSOR,
};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use futures_util::StreamExt as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vedette_store::{EventOrigin, StoreConfig, StoreWriter};

/// What a hub did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Messages received (redeliveries included).
    pub received: u64,
    /// Events committed to the store.
    pub stored: u64,
    /// Events skipped because the store already held their event id.
    pub duplicates: u64,
    /// Messages that were not an EVE record (acknowledged and dropped; counted).
    pub garbage: u64,
    /// Messages without an event-id header (stored without one: cannot be deduplicated).
    pub without_id: u64,
    /// Messages acknowledged.
    pub acked: u64,
    /// Store commits.
    pub commits: u64,
    /// Time spent waiting for NATS (fetching), milliseconds.
    pub fetch_ms: u64,
    /// Time spent in the store (ingest and commit), milliseconds.
    pub store_ms: u64,
}

/// Consumes until `stop` is set (or, with `drain`, until a fetch finds nothing), then commits and acks what it holds and returns. Stream
/// settings (name, subjects, replicas) come from `export`, so a hub started before any sensor
/// creates the stream the same way.
pub fn run(
    export: &ExportConfig,
    hub: &HubConfig,
    store: &StoreConfig,
    stop: Arc<AtomicBool>,
    drain: bool,
) -> Result<HubStats, ExportError> {
    hub.validate()?;
    let mut writer = StoreWriter::open(store)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ExportError::Start("hub runtime", e))?;
    let mut stats = HubStats::default();
    let r = rt.block_on(consume(export, hub, &mut writer, &stop, drain, &mut stats));
    let final_stats = writer.finish()?;
    stats.duplicates = final_stats.duplicates;
    r.map(|()| stats)
}

async fn consume(
    export: &ExportConfig,
    hub: &HubConfig,
    writer: &mut StoreWriter,
    stop: &AtomicBool,
    drain: bool,
    stats: &mut HubStats,
) -> Result<(), ExportError> {
    let client = connect(&export.servers, &export.auth, &hub.durable, true).await?;
    let js = async_nats::jetstream::new(client.clone());
    let wait = Duration::from_millis(hub.fetch_wait_ms.max(10));
    // Stream and consumer setup retries until NATS answers (or we are stopped).
    let consumer = loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        match setup(&js, export, hub).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!("hub: {e} (retrying)");
                tokio::time::sleep(wait).await;
            }
        }
    };
    tracing::info!(
        "hub: consuming stream {} as durable {}",
        export.stream,
        hub.durable
    );
    let mut last_log = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let t0 = Instant::now();
        let mut batch = match consumer
            .fetch()
            .max_messages(hub.batch as usize)
            .expires(wait)
            .messages()
            .await
        {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("hub: fetch: {e}");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        let mut msgs = Vec::with_capacity(hub.batch as usize);
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => msgs.push(m),
                Err(e) => {
                    tracing::debug!("hub: fetch ended: {e}");
                    break;
                }
            }
        }
        stats.fetch_ms += t0.elapsed().as_millis() as u64;
        if msgs.is_empty() {
            if drain {
                break;
            }
            continue;
        }
        let t1 = Instant::now();
        stats.received += msgs.len() as u64;
        for m in &msgs {
            let header = |name: &str| {
                m.headers
                    .as_ref()
                    .and_then(|h| h.get(name))
                    .map(|v| v.as_str())
            };
            let id = header(HEADER_EVENT_ID);
            // The sensor header, else the subject's second token.
            let sensor = header(HEADER_SENSOR)
                .or_else(|| m.subject.as_str().split('.').nth(1))
                .unwrap_or("");
            let origin = id.map(|event_id| EventOrigin { sensor, event_id });
            if origin.is_none() {
                stats.without_id += 1;
            }
            match writer.ingest_line_from(&m.payload, origin)? {
                Ok(_) => {}
                Err(g) => {
                    stats.garbage += 1;
                    tracing::debug!("hub: message on {} skipped: {g}", m.subject);
                }
            }
        }
        writer.commit()?;
        stats.commits += 1;
        stats.store_ms += t1.elapsed().as_millis() as u64;
        // Acknowledge only now: everything above is durable in the store.
        for m in &msgs {
            match m.ack().await {
                Ok(()) => stats.acked += 1,
                Err(e) => tracing::warn!("hub: ack failed (will be redelivered): {e}"),
            }
        }
        let s = writer.stats();
        stats.stored = s.committed_events;
        if last_log.elapsed() >= Duration::from_secs(10) {
            tracing::info!(
                "hub: {} received, {} stored, {} duplicates",
                stats.received,
                stats.stored,
                s.duplicates
            );
            last_log = Instant::now();
        }
    }
    let _ = client.flush().await;
    Ok(())
}

async fn setup(
    js: &async_nats::jetstream::Context,
    export: &ExportConfig,
    hub: &HubConfig,
) -> Result<PullConsumer, ExportError> {
    let stream = ensure_stream(js, export).await?;
    let cfg = pull::Config {
        durable_name: Some(hub.durable.clone()),
        ack_policy: AckPolicy::Explicit,
        deliver_policy: DeliverPolicy::All,
        ack_wait: Duration::from_secs(hub.ack_wait),
        max_ack_pending: i64::from(hub.max_ack_pending),
        filter_subject: export.subjects(),
        ..Default::default()
    };
    stream
        .get_or_create_consumer(&hub.durable, cfg)
        .await
        .map_err(|e| ExportError::Nats(format!("consumer {}: {e}", hub.durable)))
}
