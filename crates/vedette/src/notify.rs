//! The notification output: hands every EVE `alert` record of each batch (found through the
//! batch's record index; no other line is looked at) to `vedette-notify`, whose dispatcher and
//! delivery threads do the rest. Nothing here waits on the network: a full queue drops the alert
//! for notification only and counts it.
//!
//! End of run: `EventPipe::finish` puts one extra empty batch on the bus after the anomaly
//! detectors' end marker; the output thread hands batches over in order, so when this output
//! has seen all the end markers it expects, every alert of the run (the detectors' last ones
//! included) has been submitted. It then waits (bounded by `notify.shutdown_timeout_ms`) for
//! delivery and sends the final counters to the pipe, which writes them in the last stats event.

use crate::outputs::Output;
use crossbeam_channel::Sender;
use vedette_eve::{EventBatch, EventType};
use vedette_notify::{Notifier, NotifyStats, StatsHandle};

/// The notifiers as an output of the event pipe.
pub struct NotifyOutput {
    notifier: Option<Notifier>,
    /// Empty batches (end markers) still to see before the run is over.
    ends_left: u32,
    /// Where the final counters go.
    done: Sender<NotifyStats>,
}

impl NotifyOutput {
    /// Wraps running notifiers; `end_markers` is how many empty batches end the run.
    pub fn new(
        notifier: Notifier,
        end_markers: u32,
        done: Sender<NotifyStats>,
    ) -> (Self, StatsHandle) {
        let stats = notifier.stats();
        (
            NotifyOutput {
                notifier: Some(notifier),
                ends_left: end_markers,
                done,
            },
            stats,
        )
    }

    fn finish_notifier(&mut self) {
        if let Some(n) = self.notifier.take() {
            let _ = self.done.send(n.finish());
        }
    }
}

impl Output for NotifyOutput {
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()> {
        if batch.is_empty() {
            self.ends_left = self.ends_left.saturating_sub(1);
            if self.ends_left == 0 {
                self.finish_notifier();
            }
            return Ok(());
        }
        let Some(n) = &self.notifier else {
            return Ok(());
        };
        for (i, r) in batch.records.iter().enumerate() {
            if r.event_type == EventType::Alert {
                if let Some(line) = batch.record(i) {
                    n.submit(line);
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.finish_notifier();
        Ok(())
    }
}
