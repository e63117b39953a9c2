//! Application layer: protocol detection independent of ports, and streaming parsers for
//! HTTP/1.x, DNS and TLS that turn in-order stream bytes (or UDP datagrams) into transactions.
//! Transactions expose the inspection buffers the signature engine needs and write their own
//! EVE fields.
//!
//! Contract for every protocol module (`dns`, `http`, `tls`), shared so the engine drives them
//! the same way:
//! - `State::new(&Limits)`; `state.parse(dir, data, &mut AppEvents)` takes the next in-order
//!   bytes of one direction (TCP) or one whole datagram (UDP); it never fails: malformed input
//!   raises events in `AppEvents` and the parser resynchronises or stops inspecting that
//!   direction. `state.gap(dir, len, &mut AppEvents)` says `len` bytes are missing.
//! - `state.drain(at_end, &mut |tx| ...)` hands over each transaction ready to be logged, in
//!   order, then forgets it; with `at_end` (flow ended) unfinished ones are handed over too.
//! - `tx.write_eve(&mut JsonWriter)` writes the fields that follow Suricata's common header
//!   for that event type.
//! - Every attacker-controlled size (line, header count, body, names, records, transactions
//!   per flow) has a limit in `Limits`; hitting it raises an event and is counted.
//!
//! Owns: protocol state per flow. Must not: match rules, do I/O, read a clock, panic on input,
//! or allocate without a limit.
#![forbid(unsafe_code)]

pub mod dns;
pub mod http;
pub mod summary;
pub mod tls;

use vedette_types::Direction;

/// Result of probing the first bytes of a direction for a protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// This is the protocol.
    Yes,
    /// This is not the protocol.
    No,
    /// Not enough bytes to tell.
    NeedMore,
}

/// Most app-layer events one parse call records; more are only counted.
pub const MAX_APP_EVENTS: usize = 16;

/// App-layer anomaly events raised while parsing (Suricata's event names, e.g.
/// `INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE`), collected per call without allocation.
#[derive(Clone, Debug, Default)]
pub struct AppEvents {
    list: [Option<(Direction, &'static str)>; MAX_APP_EVENTS],
    len: usize,
    /// Events beyond the list's capacity.
    pub dropped: u32,
}

impl AppEvents {
    /// Records an event seen in direction `dir`.
    pub fn push(&mut self, dir: Direction, name: &'static str) {
        match self.list.get_mut(self.len) {
            Some(slot) => {
                *slot = Some((dir, name));
                self.len += 1;
            }
            None => self.dropped = self.dropped.saturating_add(1),
        }
    }

    /// The events recorded, in order.
    pub fn iter(&self) -> impl Iterator<Item = (Direction, &'static str)> + '_ {
        self.list.iter().take(self.len).flatten().copied()
    }

    /// Number of events recorded.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets all events.
    pub fn clear(&mut self) {
        *self = AppEvents::default();
    }
}

/// Limits of all app-layer parsers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppLimits {
    /// HTTP limits.
    pub http: http::Limits,
    /// DNS limits.
    pub dns: dns::Limits,
    /// TLS limits.
    pub tls: tls::Limits,
}
