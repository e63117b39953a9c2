//! Alert rate control: the `threshold` and `detection_filter` keywords and threshold.config
//! entries (threshold/event_filter, suppress, rate_filter), with Suricata's counting rules.
//! State is per worker and bounded; a full table lets alerts through and counts it.

use std::net::IpAddr;

use hashbrown::HashMap;
use vedette_rules::ast::{Action, DetectionFilter, Threshold, ThresholdKind, Track, UniqueOn};
use vedette_types::Timestamp;

use crate::addr::IpSet;

/// What a threshold.config entry does to a signature.
#[derive(Clone, Debug)]
pub(crate) enum ConfigRule {
    /// Replaces the rule's own `threshold`.
    Threshold(Threshold),
    /// Drops alerts (all, or those whose tracked address is in the set).
    Suppress(Option<(Track, IpSet)>),
    /// Changes the action once the rate is exceeded.
    Rate {
        track: Track,
        count: u32,
        seconds: u32,
        new_action: Action,
        timeout: u32,
    },
}

/// Key of a counter: signature, what is tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    sig: u32,
    /// 0 = threshold, 1 = detection_filter, 2 = rate_filter.
    kind: u8,
    a: Option<IpAddr>,
    b: Option<IpAddr>,
    flow: u64,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    start: Timestamp,
    count: u32,
    next: u64,
    /// Until when a rate_filter's new action applies.
    until: Timestamp,
    /// Last unique port counted (detection_filter unique_on keeps a tiny set).
    ports: [u16; 8],
    nports: u8,
}

/// Packet facts thresholds track.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Subject {
    pub ts: Timestamp,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub flow: u64,
}

/// Per-worker counters.
#[derive(Debug, Default)]
pub(crate) struct ThresholdState {
    table: HashMap<Key, Entry>,
    max_entries: usize,
    /// by_flow entries held (flow ends only scan the table when there are some).
    flow_entries: usize,
    /// Lookups that found the table full (the alert was let through).
    pub full: u64,
}

/// A window in packet-time units (nanoseconds).
fn window_ns(secs: u32) -> i64 {
    i64::from(secs) * Timestamp::NANOS_PER_SEC
}

fn key(sig: u32, kind: u8, track: Track, s: &Subject) -> Key {
    let (a, b, flow) = match track {
        // by_either only means something for suppress; counters key it like by_src.
        Track::BySrc | Track::ByEither => (Some(s.src), None, 0),
        Track::ByDst => (Some(s.dst), None, 0),
        Track::ByBoth => (Some(s.src.min(s.dst)), Some(s.src.max(s.dst)), 0),
        Track::ByRule => (None, None, 0),
        Track::ByFlow => (None, None, s.flow),
    };
    Key {
        sig,
        kind,
        a,
        b,
        flow,
    }
}

impl ThresholdState {
    pub fn new(max_entries: usize) -> Self {
        ThresholdState {
            table: HashMap::new(),
            max_entries,
            flow_entries: 0,
            full: 0,
        }
    }

    /// The counter of `k` and whether it was just created; `None` (counted) when the table is
    /// full and `k` is new.
    fn entry(&mut self, k: Key, now: Timestamp) -> Option<(&mut Entry, bool)> {
        let full = self.table.len() >= self.max_entries;
        match self.table.entry(k) {
            hashbrown::hash_map::Entry::Occupied(o) => Some((o.into_mut(), false)),
            hashbrown::hash_map::Entry::Vacant(v) => {
                if full {
                    self.full += 1;
                    return None;
                }
                if k.flow != 0 {
                    self.flow_entries += 1;
                }
                let e = v.insert(Entry {
                    start: now,
                    count: 0,
                    next: 0,
                    until: Timestamp(i64::MIN),
                    ports: [0; 8],
                    nports: 0,
                });
                Some((e, true))
            }
        }
    }

    /// `threshold` (or a config threshold): whether this match alerts.
    pub fn threshold(&mut self, sig: u32, t: &Threshold, s: &Subject) -> bool {
        let k = key(sig, 0, t.track, s);
        let Some((e, fresh)) = self.entry(k, s.ts) else {
            return true;
        };
        let window = window_ns(t.seconds);
        let within = s.ts.0 - e.start.0 < window;
        match t.kind {
            ThresholdKind::Limit => {
                if fresh || !within {
                    e.start = s.ts;
                    e.count = 1;
                    true
                } else {
                    e.count = e.count.saturating_add(1);
                    e.count <= t.count
                }
            }
            ThresholdKind::Threshold => {
                if fresh || !within {
                    e.start = s.ts;
                    e.count = 1;
                } else {
                    e.count = e.count.saturating_add(1);
                }
                if e.count >= t.count {
                    e.count = 0;
                    true
                } else {
                    false
                }
            }
            ThresholdKind::Both => {
                if fresh || !within {
                    e.start = s.ts;
                    e.count = 1;
                } else {
                    e.count = e.count.saturating_add(1);
                }
                e.count == t.count
            }
            ThresholdKind::Backoff { multiplier } => {
                // Alerts at the count-th match, then each time the count reaches the previous
                // alert's count times the multiplier (1, 10, 100... for count 1, multiplier 10).
                if fresh {
                    e.next = u64::from(t.count.max(1));
                }
                e.count = e.count.saturating_add(1);
                if u64::from(e.count) == e.next {
                    e.next = e.next.saturating_mul(u64::from(multiplier.max(2)));
                    true
                } else {
                    false
                }
            }
        }
    }

    /// `detection_filter`: alerts only once more than `count` matches happened in the window.
    pub fn detection_filter(&mut self, sig: u32, f: &DetectionFilter, s: &Subject) -> bool {
        let k = key(sig, 1, f.track, s);
        let Some((e, fresh)) = self.entry(k, s.ts) else {
            return true;
        };
        let within = s.ts.0 - e.start.0 < window_ns(f.seconds);
        if fresh || !within {
            e.start = s.ts;
            e.count = 0;
            e.nports = 0;
        }
        match f.unique_on {
            None => e.count = e.count.saturating_add(1),
            Some(u) => {
                let p = match u {
                    UniqueOn::SrcPort => s.sport,
                    UniqueOn::DstPort => s.dport,
                };
                let n = usize::from(e.nports);
                let seen = e.ports.get(..n).is_some_and(|ps| ps.contains(&p));
                if !seen {
                    e.count = e.count.saturating_add(1);
                    if let Some(slot) = e.ports.get_mut(n) {
                        *slot = p;
                        e.nports += 1;
                    } else {
                        // Remember the most recent ports only; older ones may count again.
                        e.ports.rotate_left(1);
                        if let Some(last) = e.ports.last_mut() {
                            *last = p;
                        }
                    }
                }
            }
        }
        e.count > f.count
    }

    /// `rate_filter`: the action to record for this match.
    #[allow(clippy::too_many_arguments)] // the fields of one threshold.config entry
    pub fn rate(
        &mut self,
        sig: u32,
        track: Track,
        count: u32,
        seconds: u32,
        new_action: Action,
        timeout: u32,
        s: &Subject,
    ) -> Option<Action> {
        let k = key(sig, 2, track, s);
        let (e, fresh) = self.entry(k, s.ts)?;
        if e.until.0 > s.ts.0 {
            return Some(new_action);
        }
        if fresh || s.ts.0 - e.start.0 >= window_ns(seconds) {
            e.start = s.ts;
            e.count = 0;
        }
        e.count = e.count.saturating_add(1);
        if e.count > count {
            e.until = Timestamp(s.ts.0.saturating_add(window_ns(timeout)));
            e.count = 0;
            return Some(new_action);
        }
        None
    }

    /// Forgets the counters of a flow that ended.
    pub fn flow_ended(&mut self, flow: u64) {
        if self.flow_entries == 0 || flow == 0 {
            return;
        }
        let before = self.table.len();
        self.table.retain(|k, _| k.flow != flow);
        self.flow_entries = self.flow_entries.saturating_sub(before - self.table.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subj(sec: i64) -> Subject {
        Subject {
            ts: Timestamp(sec * Timestamp::NANOS_PER_SEC),
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            sport: 1000,
            dport: 80,
            flow: 7,
        }
    }

    fn run(t: Threshold, secs: &[i64]) -> Vec<bool> {
        let mut st = ThresholdState::new(100);
        secs.iter()
            .map(|s| st.threshold(1, &t, &subj(*s)))
            .collect()
    }

    #[test]
    fn limit_threshold_both() {
        let limit = Threshold {
            kind: ThresholdKind::Limit,
            track: Track::BySrc,
            count: 2,
            seconds: 60,
        };
        assert_eq!(
            run(limit, &[0, 1, 2, 3, 61]),
            [true, true, false, false, true]
        );
        let every = Threshold {
            kind: ThresholdKind::Threshold,
            count: 3,
            ..limit
        };
        assert_eq!(
            run(every, &[0, 1, 2, 3, 4, 5]),
            [false, false, true, false, false, true]
        );
        let both = Threshold {
            kind: ThresholdKind::Both,
            ..every
        };
        assert_eq!(
            run(both, &[0, 1, 2, 3, 4]),
            [false, false, true, false, false]
        );
    }

    #[test]
    fn detection_filter_counts_past_threshold() {
        let f = DetectionFilter {
            track: Track::ByDst,
            count: 2,
            seconds: 10,
            unique_on: None,
        };
        let mut st = ThresholdState::new(100);
        let r: Vec<bool> = (0..5)
            .map(|i| st.detection_filter(1, &f, &subj(i)))
            .collect();
        assert_eq!(r, [false, false, true, true, true]);
    }

    #[test]
    fn full_table_lets_alerts_through_and_counts() {
        let mut st = ThresholdState::new(0);
        let t = Threshold {
            kind: ThresholdKind::Limit,
            track: Track::BySrc,
            count: 0,
            seconds: 60,
        };
        assert!(st.threshold(1, &t, &subj(0)));
        assert_eq!(st.full, 1);
    }
}
