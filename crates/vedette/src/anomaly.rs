//! The anomaly stage on the event-bus thread: flow, DNS and HTTP events of each batch feed the
//! detectors (`vedette-anomaly`), whose alerts go to the same outputs.
//!
//! Why here and not in the workers: detectors need every flow of a host, while workers see only
//! their shard; the bus thread already sees every event, off the packet path, in one place, and
//! reading events (not engine internals) is what lets the same detectors run on EVE files of
//! remote sensors. The cost is one typed JSON parse per flow/DNS record on this thread (only of
//! those two event types, found by the batch's record index); when outputs fall behind, the
//! bus's overflow policy applies as for any slow output.

use crossbeam_channel::Sender;
use vedette_anomaly::{eve_in, write_alert, AnomalyConfig, AnomalyEngine, AnomalyStats};
use vedette_eve::{EventBatch, EventType};

/// The detectors plus where their end-of-run counters go.
pub struct AnomalyStage {
    engine: AnomalyEngine,
    ipv6_compress: bool,
    /// Receives the counters when the run ends (for the stats event and summary).
    done: Sender<AnomalyStats>,
}

impl AnomalyStage {
    /// A stage running `cfg`'s detectors.
    pub fn new(cfg: AnomalyConfig, ipv6_compress: bool, done: Sender<AnomalyStats>) -> Self {
        AnomalyStage {
            engine: AnomalyEngine::new(cfg),
            ipv6_compress,
            done,
        }
    }

    fn alerts(&mut self) -> Option<EventBatch> {
        let found = self.engine.drain();
        if found.is_empty() {
            return None;
        }
        let mut b = vedette_engine::new_batch(self.ipv6_compress);
        for d in &found {
            write_alert(&mut b, d);
        }
        Some(b)
    }

    /// Feeds a batch's flow and DNS events; returns the alerts raised, if any.
    pub fn feed(&mut self, batch: &EventBatch) -> Option<EventBatch> {
        for (i, r) in batch.records.iter().enumerate() {
            match r.event_type {
                EventType::Flow => {
                    if let Some(f) = batch.record(i).and_then(eve_in::parse_flow) {
                        self.engine.on_flow(&f);
                    }
                }
                EventType::Dns => {
                    if let Some(q) = batch.record(i).and_then(eve_in::parse_dns) {
                        self.engine.on_dns(&q);
                    }
                }
                EventType::Http => {
                    if let Some(h) = batch.record(i).and_then(eve_in::parse_http) {
                        self.engine.on_http(&h);
                    }
                }
                _ => {}
            }
        }
        self.alerts()
    }

    /// End of the events: closes every window, returns the last alerts and reports counters.
    pub fn finish(&mut self) -> Option<EventBatch> {
        self.engine.finish();
        let b = self.alerts();
        let _ = self.done.send(self.engine.stats());
        b
    }
}
