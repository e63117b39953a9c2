//! The sensor side: a thread with a current-thread tokio runtime that publishes event batches
//! to JetStream with bounded in-flight acks, spooling what NATS does not take.

use crate::spool::Spool;
use crate::{connect, ensure_stream, ExportConfig, ExportError, HEADER_EVENT_ID, HEADER_SENSOR};
use async_nats::connection::State;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use futures_util::FutureExt as _;
use std::collections::VecDeque;
use std::future::IntoFuture as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use vedette_eve::EventBatch;

/// Exporter counters (also readable while running).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Events handed to the exporter (each got an id).
    pub events: u64,
    /// Publishes sent to NATS (first tries and replays).
    pub published: u64,
    /// Publishes JetStream acknowledged.
    pub acked: u64,
    /// Events written to the spool (no connection, publish error or ack timeout).
    pub spooled: u64,
    /// Spooled events replayed and acknowledged.
    pub replayed: u64,
    /// Events lost because the spool was full.
    pub spool_dropped: u64,
    /// Corrupt spool tails skipped.
    pub spool_corrupt: u64,
    /// Events left in the spool when the exporter stopped (replayed by the next run).
    pub spool_left: u64,
    /// Events the output could not queue to the exporter (`events.overflow = drop`).
    pub queue_dropped: u64,
}

#[derive(Default)]
struct Counters {
    events: AtomicU64,
    published: AtomicU64,
    acked: AtomicU64,
    spooled: AtomicU64,
    replayed: AtomicU64,
    spool_dropped: AtomicU64,
    spool_corrupt: AtomicU64,
    spool_left: AtomicU64,
    queue_dropped: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> ExportStats {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ExportStats {
            events: g(&self.events),
            published: g(&self.published),
            acked: g(&self.acked),
            spooled: g(&self.spooled),
            replayed: g(&self.replayed),
            spool_dropped: g(&self.spool_dropped),
            spool_corrupt: g(&self.spool_corrupt),
            spool_left: g(&self.spool_left),
            queue_dropped: g(&self.queue_dropped),
        }
    }
}

fn add(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

/// Handle on the exporter thread.
pub struct Exporter {
    tx: Option<mpsc::Sender<EventBatch>>,
    counters: Arc<Counters>,
    thread: Option<std::thread::JoinHandle<Result<(), ExportError>>>,
    sensor: String,
    run_id: String,
}

impl Exporter {
    /// Validates `cfg`, opens the spool and starts the exporter thread (which connects in the
    /// background: an unreachable NATS only means spooling). `default_spool` is used when
    /// `spool_path` is empty.
    pub fn start(cfg: &ExportConfig, default_spool: PathBuf) -> Result<Exporter, ExportError> {
        cfg.validate()?;
        let spool_path = if cfg.spool_path.is_empty() {
            default_spool
        } else {
            PathBuf::from(&cfg.spool_path)
        };
        let spool = Spool::open(&spool_path, cfg.spool_max_bytes)?;
        let counters = Arc::new(Counters::default());
        add(&counters.spool_corrupt, spool.corrupt_tails);
        let sensor = cfg.sensor_name();
        let run_id = run_id();
        let (tx, rx) = mpsc::channel(cfg.queue_batches as usize);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ExportError::Start("exporter runtime", e))?;
        let mut task = Task {
            cfg: cfg.clone(),
            sensor: sensor.clone(),
            id_prefix: format!("{sensor}:{run_id}:"),
            counters: Arc::clone(&counters),
            spool,
            in_flight: VecDeque::new(),
            seq: 0,
            paced_since: Instant::now(),
            paced_sent: 0,
            ack_timeout: Duration::from_millis(cfg.ack_timeout_ms),
        };
        let thread = std::thread::Builder::new()
            .name("vedette-export".into())
            .spawn(move || rt.block_on(task.run(rx)))
            .map_err(|e| ExportError::Start("exporter thread", e))?;
        tracing::info!("export: sensor {sensor}, run {run_id}");
        Ok(Exporter {
            tx: Some(tx),
            counters,
            thread: Some(thread),
            sensor,
            run_id,
        })
    }

    /// The sensor name in subjects and ids.
    pub fn sensor(&self) -> &str {
        &self.sensor
    }

    /// This run's id (the middle part of every event id).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Queues a batch, waiting while the queue is full (`block`) or dropping and counting it.
    pub fn submit(&self, batch: EventBatch, block: bool) {
        let n = batch.len() as u64;
        let Some(tx) = &self.tx else { return };
        let ok = if block {
            tx.blocking_send(batch).is_ok()
        } else {
            tx.try_send(batch).is_ok()
        };
        if !ok {
            add(&self.counters.queue_dropped, n);
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> ExportStats {
        self.counters.snapshot()
    }

    /// Closes the queue and waits for the thread, which publishes what is queued and waits up
    /// to `export.finish_timeout` for acks and replay; what is left stays in the spool.
    pub fn finish(&mut self) -> Result<ExportStats, ExportError> {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            match t.join() {
                Ok(r) => r?,
                Err(_) => return Err(ExportError::Nats("the exporter thread panicked".into())),
            }
        }
        Ok(self.counters.snapshot())
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// A unique id for this run: time and process id in hex (sortable, unique per host), plus
/// randomness from the hasher seed so two hosts starting together differ.
fn run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now.as_nanos());
    h.write_u32(std::process::id());
    format!("{:x}{:04x}", now.as_millis(), h.finish() & 0xffff)
}

/// One event on its way.
struct Pending {
    subject: String,
    id: String,
    data: Bytes,
    from_spool: bool,
}

struct Task {
    cfg: ExportConfig,
    sensor: String,
    id_prefix: String,
    counters: Arc<Counters>,
    spool: Spool,
    in_flight: VecDeque<(Pending, PublishAckFuture)>,
    seq: u64,
    paced_since: Instant,
    paced_sent: u64,
    ack_timeout: Duration,
}

/// How often the exporter looks at the connection and the spool when idle.
const TICK: Duration = Duration::from_millis(100);

impl Task {
    async fn run(&mut self, mut rx: mpsc::Receiver<EventBatch>) -> Result<(), ExportError> {
        let client = connect(&self.cfg.servers, &self.cfg.auth, &self.sensor, true).await?;
        let js = async_nats::jetstream::ContextBuilder::new()
            .ack_timeout(self.ack_timeout)
            .timeout(self.ack_timeout)
            .build(client.clone());
        let mut stream_ready = false;
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                b = rx.recv() => {
                    let Some(batch) = b else { break };
                    let up = stream_ready && client.connection_state() == State::Connected;
                    self.take_batch(&js, &batch, up).await?;
                }
                _ = ticker.tick() => {
                    stream_ready = self.maintain(&client, &js, stream_ready).await?;
                }
            }
        }
        // The run is over: settle acks and replay the spool, within the finish timeout.
        let deadline = Instant::now() + Duration::from_secs(self.cfg.finish_timeout);
        while Instant::now() < deadline {
            stream_ready = self.maintain(&client, &js, stream_ready).await?;
            if self.in_flight.is_empty() && self.spool.pending() == 0 {
                break;
            }
            ticker.tick().await;
        }
        // Whatever is still unacknowledged is spooled for the next run.
        while let Some((p, _)) = self.in_flight.pop_front() {
            self.spool_event(&p)?;
        }
        self.spool.sync()?;
        self.spool.truncate_if_drained()?;
        self.counters
            .spool_left
            .store(self.spool.pending(), Ordering::Relaxed);
        if self.spool.pending() > 0 {
            tracing::warn!(
                "export: {} events left in the spool (replayed by the next run)",
                self.spool.pending()
            );
        }
        let _ = client.flush().await;
        Ok(())
    }

    /// Gives every event of `batch` an id and publishes it, or spools it when NATS is not up
    /// or older events are still spooled (replay keeps their order).
    async fn take_batch(
        &mut self,
        js: &async_nats::jetstream::Context,
        batch: &EventBatch,
        up: bool,
    ) -> Result<(), ExportError> {
        let direct = up && self.spool.pending() == 0;
        for (i, r) in batch.records.iter().enumerate() {
            let Some(line) = batch.record(i) else {
                continue;
            };
            let mut id = String::with_capacity(self.id_prefix.len() + 12);
            id.push_str(&self.id_prefix);
            id.push_str(itoa::Buffer::new().format(self.seq));
            self.seq += 1;
            add(&self.counters.events, 1);
            let p = Pending {
                subject: format!(
                    "{}.{}.{}",
                    self.cfg.subject_prefix,
                    self.sensor,
                    r.event_type.name()
                ),
                id,
                data: Bytes::copy_from_slice(line),
                from_spool: false,
            };
            if direct {
                self.publish(js, p).await?;
            } else {
                self.spool_event(&p)?;
            }
        }
        self.spool.sync()
    }

    /// Connection upkeep: creates the stream once connected, settles acks that arrived and
    /// replays the spool. Returns whether the stream is known to exist.
    async fn maintain(
        &mut self,
        client: &async_nats::Client,
        js: &async_nats::jetstream::Context,
        mut stream_ready: bool,
    ) -> Result<bool, ExportError> {
        if client.connection_state() != State::Connected {
            // Acks cannot arrive: settle (time out) what is in flight so it is spooled.
            self.settle_all().await?;
            return Ok(stream_ready);
        }
        if !stream_ready {
            match ensure_stream(js, &self.cfg).await {
                Ok(_) => stream_ready = true,
                Err(e) => {
                    tracing::warn!("export: {e} (retrying)");
                    return Ok(false);
                }
            }
        }
        // Replay up to one window of spooled events per tick; new events keep being spooled
        // behind them until the spool is empty.
        let mut budget = self.cfg.max_in_flight as usize;
        while budget > 0 && client.connection_state() == State::Connected {
            let Some(rec) = self.spool.next_record()? else {
                break;
            };
            budget -= 1;
            let p = Pending {
                subject: rec.subject,
                id: rec.id,
                data: Bytes::from(rec.data),
                from_spool: true,
            };
            self.publish(js, p).await?;
        }
        self.counters
            .spool_corrupt
            .store(self.spool.corrupt_tails, Ordering::Relaxed);
        self.settle_all().await?;
        if self.in_flight.is_empty() {
            self.spool.truncate_if_drained()?;
        }
        Ok(stream_ready)
    }

    /// Publishes one event; waits for the oldest ack when `max_in_flight` are outstanding.
    async fn publish(
        &mut self,
        js: &async_nats::jetstream::Context,
        p: Pending,
    ) -> Result<(), ExportError> {
        self.pace().await;
        while self.in_flight.len() >= self.cfg.max_in_flight as usize {
            self.settle_one().await?;
        }
        let msg = PublishMessage::build()
            .payload(p.data.clone())
            .message_id(&p.id)
            .header(HEADER_EVENT_ID, p.id.as_str())
            .header(HEADER_SENSOR, self.sensor.as_str());
        match js.send_publish(p.subject.clone(), msg).await {
            Ok(fut) => {
                add(&self.counters.published, 1);
                self.in_flight.push_back((p, fut));
            }
            Err(e) => {
                tracing::debug!("export: publish failed: {e}");
                self.spool_event(&p)?;
            }
        }
        Ok(())
    }

    /// Waits for the oldest in-flight ack; a failure or timeout spools the event.
    async fn settle_one(&mut self) -> Result<(), ExportError> {
        let Some((p, fut)) = self.in_flight.pop_front() else {
            return Ok(());
        };
        match fut.await {
            Ok(_) => {
                add(&self.counters.acked, 1);
                if p.from_spool {
                    add(&self.counters.replayed, 1);
                }
            }
            Err(e) => {
                tracing::debug!("export: no ack for {}: {e}", p.id);
                self.spool_event(&p)?;
                // The publishes behind it went out no earlier, so their acks are no more
                // likely: awaiting each in turn would cost `ack_timeout` per event (thousands
                // in flight when a node dies). Take the acks already here and spool the rest;
                // a republished event is dropped as a duplicate (Nats-Msg-Id, store event id).
                while let Some((p, fut)) = self.in_flight.pop_front() {
                    match fut.into_future().now_or_never() {
                        Some(Ok(_)) => {
                            add(&self.counters.acked, 1);
                            if p.from_spool {
                                add(&self.counters.replayed, 1);
                            }
                        }
                        _ => self.spool_event(&p)?,
                    }
                }
            }
        }
        Ok(())
    }

    async fn settle_all(&mut self) -> Result<(), ExportError> {
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        self.spool.sync()
    }

    fn spool_event(&mut self, p: &Pending) -> Result<(), ExportError> {
        if self.spool.append(&p.subject, &p.id, &p.data)? {
            add(&self.counters.spooled, 1);
        } else {
            add(&self.counters.spool_dropped, 1);
            if self.counters.spool_dropped.load(Ordering::Relaxed) == 1 {
                tracing::warn!(
                    "export: spool full ({} bytes): events are being dropped and counted",
                    self.spool.bytes()
                );
            }
        }
        Ok(())
    }

    /// Holds publishing to `rate_limit` events per second.
    async fn pace(&mut self) {
        let rate = self.cfg.rate_limit;
        if rate == 0 {
            return;
        }
        self.paced_sent += 1;
        let due = Duration::from_secs_f64(self.paced_sent as f64 / rate as f64);
        let elapsed = self.paced_since.elapsed();
        if due > elapsed {
            tokio::time::sleep(due - elapsed).await;
        }
        // Restart the window now and then so an idle period does not bank a burst.
        if elapsed > Duration::from_secs(10) {
            self.paced_since = Instant::now();
            self.paced_sent = 0;
        }
    }
}
