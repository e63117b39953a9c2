//! Per-subject tumbling windows with a cap on subjects and per-subject alert suppression.
//!
//! A subject's window opens at its first record's time and covers `window` nanoseconds.
//! Records are placed by their own time (flow start), so a record that arrives late, within
//! the grace period, still lands in the window it belongs to; one older than the open window
//! is counted in it (records come out of flow tables roughly, not strictly, in time order).
//! A window is judged when it closes: when a record of the subject falls after it, at a sweep
//! once event time passed it by the grace period, or at the end of input. Judging at close
//! lets the explanation carry the whole window's counts, and gives one alert per window.

use std::collections::HashMap;
use std::hash::Hash;
use vedette_types::Timestamp;

/// Window contents of one detector.
pub(crate) trait WindowState: Default {
    /// Whether the window was empty (nothing worth keeping).
    fn is_empty(&self) -> bool;
}

struct Slot<S> {
    start: Timestamp,
    /// Earliest record time in the window: the alert's time, the same whatever the order in
    /// which workers handed the records on.
    first: Timestamp,
    state: S,
    /// The subject alerted; stay quiet until then.
    quiet_until: Timestamp,
}

/// Tracked subjects of one detector.
pub(crate) struct Windows<K, S> {
    map: HashMap<K, Slot<S>>,
    window_ns: i64,
    max: usize,
    /// New subjects refused at the cap.
    pub(crate) cap_hits: u64,
    /// Windows over threshold kept quiet by suppression.
    pub(crate) suppressed: u64,
}

impl<K: Hash + Eq + Clone, S: WindowState> Windows<K, S> {
    pub(crate) fn new(window_secs: u64, max: usize) -> Self {
        Windows {
            map: HashMap::new(),
            window_ns: crate::secs_ns(window_secs),
            max,
            cap_hits: 0,
            suppressed: 0,
        }
    }

    /// Adds a record at `ts` to `key`'s window via `add`. When the record starts a new window,
    /// the old one is judged first by `judge` (which returns a detection when over threshold).
    pub(crate) fn observe<D>(
        &mut self,
        key: K,
        ts: Timestamp,
        suppress_ns: i64,
        add: impl FnOnce(&mut S),
        mut judge: impl FnMut(&K, Timestamp, &S) -> Option<D>,
        out: &mut Vec<D>,
    ) {
        if !self.map.contains_key(&key) {
            if self.map.len() >= self.max {
                self.cap_hits += 1;
                return;
            }
            self.map.insert(
                key.clone(),
                Slot {
                    start: ts,
                    first: ts,
                    state: S::default(),
                    quiet_until: Timestamp(i64::MIN),
                },
            );
        }
        let Some(slot) = self.map.get_mut(&key) else {
            return;
        };
        if ts.0 >= slot.start.0.saturating_add(self.window_ns) {
            let old = std::mem::take(&mut slot.state);
            let first = slot.first;
            slot.start = ts;
            slot.first = ts;
            Self::close(
                &key,
                first,
                &old,
                &mut slot.quiet_until,
                suppress_ns,
                &mut self.suppressed,
                &mut judge,
                out,
            );
        }
        slot.first = slot.first.min(ts);
        add(&mut slot.state);
    }

    #[allow(clippy::too_many_arguments)] // split borrows of one slot; a struct would not help
    fn close<D>(
        key: &K,
        start: Timestamp,
        state: &S,
        quiet_until: &mut Timestamp,
        suppress_ns: i64,
        suppressed: &mut u64,
        judge: &mut impl FnMut(&K, Timestamp, &S) -> Option<D>,
        out: &mut Vec<D>,
    ) {
        if state.is_empty() {
            return;
        }
        if let Some(d) = judge(key, start, state) {
            if start < *quiet_until {
                *suppressed += 1;
            } else {
                *quiet_until = Timestamp(start.0.saturating_add(suppress_ns));
                out.push(d);
            }
        }
    }

    /// Judges and drops every window that ended before `cutoff`; subjects still inside a
    /// suppression period keep an empty slot so they stay quiet.
    pub(crate) fn sweep<D>(
        &mut self,
        cutoff: Timestamp,
        suppress_ns: i64,
        mut judge: impl FnMut(&K, Timestamp, &S) -> Option<D>,
        out: &mut Vec<D>,
    ) {
        let window_ns = self.window_ns;
        let suppressed = &mut self.suppressed;
        self.map.retain(|key, slot| {
            let end = slot.start.0.saturating_add(window_ns);
            if end > cutoff.0 {
                return true;
            }
            let state = std::mem::take(&mut slot.state);
            Self::close(
                key,
                slot.first,
                &state,
                &mut slot.quiet_until,
                suppress_ns,
                suppressed,
                &mut judge,
                out,
            );
            slot.quiet_until > cutoff && cutoff.0 != i64::MAX
        });
    }
}

/// A set of small values with a cap: past the cap it only remembers that it overflowed.
pub(crate) struct CappedSet<T> {
    items: std::collections::HashSet<T>,
    /// Values not stored because the set was full.
    pub(crate) overflow: bool,
}

impl<T> Default for CappedSet<T> {
    fn default() -> Self {
        CappedSet {
            items: std::collections::HashSet::new(),
            overflow: false,
        }
    }
}

impl<T: Hash + Eq> CappedSet<T> {
    pub(crate) fn insert(&mut self, v: T, cap: usize) {
        if self.items.len() >= cap {
            if !self.items.contains(&v) {
                self.overflow = true;
            }
            return;
        }
        self.items.insert(v);
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The count as text: `≥ n` once the cap was reached.
    pub(crate) fn count_text(&self) -> String {
        if self.overflow {
            format!("at least {}", self.items.len())
        } else {
            self.items.len().to_string()
        }
    }
}
