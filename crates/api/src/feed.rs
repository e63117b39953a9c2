//! The in-process live feed: alert lines published by the event pipe's output thread, fanned
//! out to SSE clients through a bounded broadcast ring. A slow client lags and skips (counted);
//! publishing never waits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Alert lines the ring keeps for slow clients before they skip.
pub const FEED_CAPACITY: usize = 1024;

/// Counters of the live feed (shown in `/metrics`).
#[derive(Debug, Default)]
pub struct FeedCounters {
    /// Alert lines published.
    pub published: AtomicU64,
    /// Lines SSE clients skipped because they fell behind.
    pub lagged: AtomicU64,
    /// Lines longer than the cap, not published.
    pub oversized: AtomicU64,
}

/// Longest alert line published (bytes); longer ones are counted and skipped.
const MAX_LINE_BYTES: usize = 256 * 1024;

/// Handle to publish alert lines to the dashboard's live stream; cheap to clone.
#[derive(Clone, Debug)]
pub struct LiveFeed {
    tx: broadcast::Sender<Arc<str>>,
    counters: Arc<FeedCounters>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveFeed {
    /// A feed whose ring holds [`FEED_CAPACITY`] lines.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(FEED_CAPACITY);
        LiveFeed {
            tx,
            counters: Arc::new(FeedCounters::default()),
        }
    }

    /// Publishes one EVE alert line (without its newline). Never blocks; with no client
    /// connected the line is simply dropped.
    pub fn publish(&self, line: &[u8]) {
        if line.len() > MAX_LINE_BYTES {
            self.counters.oversized.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        if self.tx.receiver_count() == 0 {
            return;
        }
        let text: Arc<str> = String::from_utf8_lossy(line).into();
        // An error only means no receiver is left.
        let _ = self.tx.send(text);
    }

    /// The feed's counters.
    pub fn counters(&self) -> &FeedCounters {
        &self.counters
    }

    /// A receiver of the lines published from now on (what each SSE client holds).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_receiver_lags_and_publisher_never_waits() {
        let feed = LiveFeed::new();
        let mut rx = feed.subscribe();
        for i in 0..(FEED_CAPACITY + 10) {
            feed.publish(format!("{{\"n\":{i}}}").as_bytes());
        }
        match rx.try_recv() {
            Err(broadcast::error::TryRecvError::Lagged(n)) => assert_eq!(n, 10),
            other => panic!("expected a lag, got {other:?}"),
        }
        assert_eq!(
            feed.counters().published.load(Ordering::Relaxed),
            FEED_CAPACITY as u64 + 10
        );
        let first = rx.try_recv().expect("a line after the lag");
        assert_eq!(&*first, "{\"n\":10}");
    }

    #[test]
    fn oversized_lines_are_counted_not_sent() {
        let feed = LiveFeed::new();
        let mut rx = feed.subscribe();
        feed.publish(&vec![b'x'; MAX_LINE_BYTES + 1]);
        assert!(rx.try_recv().is_err());
        assert_eq!(feed.counters().oversized.load(Ordering::Relaxed), 1);
    }
}
