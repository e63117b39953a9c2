//! DNS over UDP and TCP with Suricata 7 semantics: message decoding, per-flow state,
//! Suricata's default ("version 2") `dns` EVE records, inspection buffers and anomaly events.
//!
//! Transport: [`State::new_udp`] takes one whole datagram per [`State::parse`] call;
//! [`State::new_tcp`] takes stream bytes framed by a 2-byte length, buffering a partial message
//! (up to [`Limits::max_tcp_message`]) and parsing several messages per call. After a gap in
//! the middle of a message whose length is known the parser skips to its end; otherwise it
//! waits for input that looks like the start of a DNS message.
//!
//! Transactions: as in Suricata, every decoded message is a transaction with the next
//! `tx_id` of the flow (queries and responses alike). Suricata 7 logs queries and answers as
//! separate `dns` events, so [`State::drain`] hands over one [`Tx`] per EVE record: a query once
//! per question (Suricata writes one event per question; [`Tx::record_index`] says which), a
//! response once, as soon as each is decoded. Responses are also matched to the pending query
//! with the same DNS id ([`Tx::query_tx_id`]). A message decoded in the wrong direction is
//! treated as Suricata does: a response sent to the server is dropped (`not_request`), a query
//! sent to the client is logged as an answer (`not_response`). Responses without questions
//! produce no record (Suricata's v2 logger writes none).
//!
//! Owns: DNS decoding and per-flow DNS state. Must not: match rules, do I/O, panic on input,
//! or hold more than [`Limits`] allows.

mod eve;
mod wire;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pcap;

use crate::{AppEvents, Probe};
use std::collections::VecDeque;
use vedette_eve::JsonWriter;
use vedette_types::Direction;
use wire::{DecodeLimits, Discard, Header, Message, Name, RData, Record, HEADER_LEN};

pub use eve::{rcode_name, rrtype_name};
pub use wire::Section;

/// App-layer event names, as Suricata 7 spells its DNS events (lowercase: its DNS parser's
/// events are derived from Rust enum names), plus the limits vedette adds.
pub mod events {
    /// The message could not be decoded (truncated, bad counts, bad name or rdata).
    pub const MALFORMED_DATA: &str = "malformed_data";
    /// A response (QR set) was sent to the server; it is dropped.
    pub const NOT_REQUEST: &str = "not_request";
    /// A query (QR clear) was sent to the client; it is logged as an answer.
    pub const NOT_RESPONSE: &str = "not_response";
    /// The reserved Z bit is set.
    pub const Z_FLAG_SET: &str = "z_flag_set";
    /// Opcode 7 or above.
    pub const INVALID_OPCODE: &str = "invalid_opcode";
    /// A name was longer than [`super::Limits::max_name_len`] and was truncated.
    pub const NAME_TOO_LONG: &str = "name_too_long";
    /// A compression pointer pointed at itself.
    pub const INFINITE_LOOP: &str = "infinite_loop";
    /// A name had more labels and pointers than [`super::Limits::max_name_steps`].
    pub const TOO_MANY_LABELS: &str = "too_many_labels";
    /// The additional section of a response could not be decoded (Suricata 8's name;
    /// Suricata 7 does not decode that section). The rest of the message is kept.
    pub const INVALID_ADDITIONALS: &str = "invalid_additionals";
    /// vedette: more unanswered queries than [`super::Limits::max_pending_queries`]; the
    /// oldest are forgotten. Raised once per flow (the name of Suricata 4's DNS flood event).
    pub const FLOODED: &str = "flooded";
    /// vedette: a memory limit was hit — records or decoded bytes of one message
    /// ([`super::Limits::max_records`], [`super::Limits::max_message_bytes`]), a TCP message
    /// longer than [`super::Limits::max_tcp_message`] (skipped), or messages waiting to be
    /// drained ([`super::Limits::max_queued_messages`], [`super::Limits::max_queued_bytes`];
    /// the oldest are dropped). The name of Suricata 4's DNS memcap event.
    pub const STATE_MEMCAP_REACHED: &str = "state_memcap_reached";
}

/// Longest decoded name kept, in bytes including dots (Suricata 7's `MAX_NAME_LEN`, the
/// value dnsmasq uses). Longer names are truncated.
pub const DEFAULT_MAX_NAME_LEN: usize = 1025;
/// Labels plus compression pointers followed per name (Suricata 7's segment limit); this is
/// what ends a pointer loop.
pub const DEFAULT_MAX_NAME_STEPS: usize = 255;
/// Questions, and records per section, kept per message.
pub const DEFAULT_MAX_RECORDS: usize = 500;
/// Decoded bytes (names, strings, raw rdata) kept per message; compression lets a 64 KiB
/// message expand to megabytes.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Longest DNS message buffered over TCP (the 2-byte length prefix allows no more).
pub const DEFAULT_MAX_TCP_MESSAGE: usize = 65_535;
/// Unanswered queries remembered per flow for matching responses.
pub const DEFAULT_MAX_PENDING_QUERIES: usize = 256;
/// Decoded messages waiting for [`State::drain`].
pub const DEFAULT_MAX_QUEUED_MESSAGES: usize = 1024;
/// Heap bytes of decoded messages waiting for [`State::drain`].
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 4 * 1024 * 1024;

/// Limits of the DNS parser. Hitting one raises an event (see [`events`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest decoded name kept (bytes, dots included); longer ones are truncated.
    pub max_name_len: usize,
    /// Labels plus pointers followed per name; beyond, the name ends (loop protection).
    pub max_name_steps: usize,
    /// Questions, and records per section, kept per message; the rest is decoded and skipped.
    pub max_records: usize,
    /// Decoded bytes kept per message; further questions and records are skipped.
    pub max_message_bytes: usize,
    /// Longest TCP message buffered (bytes, without the length prefix); longer ones are skipped.
    pub max_tcp_message: usize,
    /// Unanswered queries remembered per flow; the oldest are forgotten.
    pub max_pending_queries: usize,
    /// Decoded messages waiting to be drained; the oldest are dropped.
    pub max_queued_messages: usize,
    /// Heap bytes of decoded messages waiting to be drained; the oldest are dropped.
    pub max_queued_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_name_len: DEFAULT_MAX_NAME_LEN,
            max_name_steps: DEFAULT_MAX_NAME_STEPS,
            max_records: DEFAULT_MAX_RECORDS,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_tcp_message: DEFAULT_MAX_TCP_MESSAGE,
            max_pending_queries: DEFAULT_MAX_PENDING_QUERIES,
            max_queued_messages: DEFAULT_MAX_QUEUED_MESSAGES,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
        }
    }
}

impl Limits {
    fn decode(&self) -> DecodeLimits {
        DecodeLimits {
            max_name_len: self.max_name_len,
            max_name_steps: self.max_name_steps,
            max_records: self.max_records,
            max_decoded_bytes: self.max_message_bytes,
        }
    }
}

/// One direction of a TCP flow.
#[derive(Debug, Default)]
struct TcpDir {
    /// A partial message with its length prefix.
    buf: Vec<u8>,
    /// Bytes still to discard (the rest of a message that is not parsed).
    skip: usize,
    /// Bytes went missing at an unknown place: wait for something that looks like DNS.
    gap: bool,
    /// A message failed to decode: this direction is no longer inspected (as Suricata).
    stopped: bool,
}

/// Buffers above this capacity are released rather than kept for the next message.
const KEEP_BUFFER_BYTES: usize = 4096;
/// Recycled messages kept per flow.
const SPARE_TXS: usize = 2;

/// Per-flow DNS state.
#[derive(Debug)]
pub struct State {
    limits: Limits,
    /// `Some` for TCP: [to_server, to_client].
    tcp: Option<[TcpDir; 2]>,
    next_tx_id: u64,
    /// Unanswered queries: (DNS id, tx_id), oldest first.
    pending: VecDeque<(u16, u64)>,
    flood_reported: bool,
    /// Decoded messages waiting for `drain`.
    queue: VecDeque<Tx>,
    queued_bytes: usize,
    spare: Vec<Tx>,
}

impl Default for State {
    fn default() -> Self {
        State::new_udp(&Limits::default())
    }
}

/// Whether a record stands for a query or an answer (Suricata's `dns.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A message sent to the server.
    Query,
    /// A message sent to the client.
    Answer,
}

/// One decoded DNS message, handed over by [`State::drain`] once per EVE record.
#[derive(Clone, Debug)]
pub struct Tx {
    tx_id: u64,
    kind: Kind,
    query_tx_id: Option<u64>,
    record_index: u16,
    msg: Message,
}

impl Default for Tx {
    fn default() -> Self {
        Tx {
            tx_id: 0,
            kind: Kind::Query,
            query_tx_id: None,
            record_index: 0,
            msg: Message::default(),
        }
    }
}

impl State {
    /// A fresh state for DNS over UDP (same as [`State::new_udp`]).
    pub fn new(limits: &Limits) -> Self {
        State::new_udp(limits)
    }

    /// A fresh state for DNS over UDP: each [`State::parse`] call is one datagram.
    pub fn new_udp(limits: &Limits) -> Self {
        State {
            limits: *limits,
            tcp: None,
            next_tx_id: 0,
            pending: VecDeque::new(),
            flood_reported: false,
            queue: VecDeque::new(),
            queued_bytes: 0,
            spare: Vec::new(),
        }
    }

    /// A fresh state for DNS over TCP: [`State::parse`] takes in-order stream bytes.
    pub fn new_tcp(limits: &Limits) -> Self {
        State {
            tcp: Some([TcpDir::default(), TcpDir::default()]),
            ..State::new_udp(limits)
        }
    }

    /// Takes one datagram (UDP) or the next in-order stream bytes (TCP) of direction `dir`.
    pub fn parse(&mut self, dir: Direction, data: &[u8], events: &mut AppEvents) {
        if self.tcp.is_some() {
            self.parse_tcp(dir, data, events);
        } else if !data.is_empty() {
            self.message(dir, data, events);
        }
    }

    /// Notes that `len` bytes of direction `dir` are missing (TCP; nothing to do for UDP).
    pub fn gap(&mut self, dir: Direction, len: u64, _events: &mut AppEvents) {
        let Some(t) = self.tcp_dir(dir) else { return };
        if t.stopped {
            return;
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if t.skip > 0 {
            // Inside a message being skipped: still in sync if the gap ends within it.
            if len <= t.skip {
                t.skip -= len;
            } else {
                t.skip = 0;
                t.gap = true;
            }
            return;
        }
        if let Some(msg_len) = wire::be16(&t.buf, 0) {
            // Inside a buffered message of known length: it is lost, but its end is known.
            let remaining = (2 + usize::from(msg_len)).saturating_sub(t.buf.len());
            release(&mut t.buf);
            if len <= remaining {
                t.skip = remaining - len;
            } else {
                t.gap = true;
            }
            return;
        }
        release(&mut t.buf);
        t.gap = true;
    }

    /// Hands over each decoded message ready to log, in order, then forgets it: a query once
    /// per question (see [`Tx::record_index`]), a response once. Every message is complete
    /// when decoded, so `at_end` changes nothing; a partial TCP message is not handed over.
    pub fn drain(&mut self, _at_end: bool, f: &mut dyn FnMut(&Tx)) {
        while let Some(mut tx) = self.queue.pop_front() {
            self.queued_bytes = self.queued_bytes.saturating_sub(tx.msg.heap_bytes());
            let records = match tx.kind {
                Kind::Query => tx.msg.questions.len(),
                Kind::Answer => usize::from(!tx.msg.questions.is_empty()),
            };
            for i in 0..records {
                tx.record_index = i as u16;
                f(&tx);
            }
            self.recycle(tx);
        }
    }

    /// Heap bytes held by this state (buffers, queued messages, recycled messages), for
    /// accounting and tests.
    pub fn heap_bytes(&self) -> usize {
        let tcp = self
            .tcp
            .as_ref()
            .map_or(0, |t| t.iter().map(|d| d.buf.capacity()).sum());
        let spare: usize = self.spare.iter().map(|t| t.msg.heap_bytes()).sum();
        tcp + self.queued_bytes
            + spare
            + self.pending.capacity() * std::mem::size_of::<(u16, u64)>()
            + self.queue.capacity() * std::mem::size_of::<Tx>()
    }

    fn tcp_dir(&mut self, dir: Direction) -> Option<&mut TcpDir> {
        let t = self.tcp.as_mut()?;
        match dir {
            Direction::ToServer => t.get_mut(0),
            Direction::ToClient => t.get_mut(1),
        }
    }

    fn parse_tcp(&mut self, dir: Direction, data: &[u8], events: &mut AppEvents) {
        let max = self.limits.max_tcp_message;
        {
            let Some(t) = self.tcp_dir(dir) else { return };
            if t.stopped {
                return;
            }
            if t.gap {
                // Resynchronise only on input that starts like a DNS message (Suricata's rule).
                if probe_tcp(data, dir) == Probe::No {
                    return;
                }
                t.gap = false;
            }
        }
        let mut rest = data;
        while !rest.is_empty() {
            let Some(t) = self.tcp_dir(dir) else { return };
            if t.skip > 0 {
                let n = t.skip.min(rest.len());
                t.skip -= n;
                rest = rest.get(n..).unwrap_or(&[]);
                continue;
            }
            if t.buf.is_empty() {
                // Fast path: whole messages straight from the input.
                let Some(len) = wire::be16(rest, 0) else {
                    t.buf.reserve_exact(2);
                    t.buf.extend_from_slice(rest);
                    break;
                };
                let len = usize::from(len);
                rest = rest.get(2..).unwrap_or(&[]);
                if len == 0 {
                    continue;
                }
                if len > max {
                    t.skip = len;
                    events.push(dir, events::STATE_MEMCAP_REACHED);
                    continue;
                }
                match (rest.get(..len), rest.get(len..)) {
                    (Some(msg), Some(tail)) => {
                        rest = tail;
                        if !self.message(dir, msg, events) {
                            self.stop(dir);
                            return;
                        }
                    }
                    _ => {
                        t.buf.reserve_exact(2 + len);
                        t.buf.extend_from_slice(&(len as u16).to_be_bytes());
                        t.buf.extend_from_slice(rest);
                        break;
                    }
                }
                continue;
            }
            // Complete the buffered length prefix, then the buffered message.
            if t.buf.len() < 2 {
                if let Some((&b, tail)) = rest.split_first() {
                    t.buf.push(b);
                    rest = tail;
                }
                let Some(len) = wire::be16(&t.buf, 0) else {
                    continue;
                };
                let len = usize::from(len);
                if len == 0 {
                    t.buf.clear();
                    continue;
                }
                if len > max {
                    release(&mut t.buf);
                    t.skip = len;
                    events.push(dir, events::STATE_MEMCAP_REACHED);
                    continue;
                }
                t.buf.reserve_exact(len);
                continue;
            }
            let total = 2 + usize::from(wire::be16(&t.buf, 0).unwrap_or(0));
            let n = total.saturating_sub(t.buf.len()).min(rest.len());
            t.buf.extend_from_slice(rest.get(..n).unwrap_or(&[]));
            rest = rest.get(n..).unwrap_or(&[]);
            if t.buf.len() >= total {
                let mut buf = std::mem::take(&mut t.buf);
                let ok = self.message(dir, buf.get(2..).unwrap_or(&[]), events);
                buf.clear();
                if buf.capacity() <= KEEP_BUFFER_BYTES {
                    if let Some(t) = self.tcp_dir(dir) {
                        t.buf = buf;
                    }
                }
                if !ok {
                    self.stop(dir);
                    return;
                }
            }
        }
    }

    fn stop(&mut self, dir: Direction) {
        if let Some(t) = self.tcp_dir(dir) {
            t.stopped = true;
            release(&mut t.buf);
            t.skip = 0;
        }
    }

    /// Decodes one whole message; returns false when it was rejected.
    fn message(&mut self, dir: Direction, msg: &[u8], events: &mut AppEvents) -> bool {
        let mut tx = self.spare.pop().unwrap_or_default();
        let as_response = dir == Direction::ToClient;
        let outcome = match tx.msg.decode(msg, as_response, &self.limits.decode()) {
            Ok(o) => o,
            Err(_) => {
                events.push(dir, events::MALFORMED_DATA);
                self.recycle(tx);
                return false;
            }
        };
        let header = tx.msg.header;
        if !as_response && header.is_response() {
            events.push(dir, events::NOT_REQUEST);
            self.recycle(tx);
            return false;
        }
        if as_response && !header.is_response() {
            events.push(dir, events::NOT_RESPONSE);
        }
        if header.flags & 0x0040 != 0 {
            events.push(dir, events::Z_FLAG_SET);
        }
        if (header.flags >> 11) & 0xf >= 7 {
            events.push(dir, events::INVALID_OPCODE);
        }
        if outcome.name_flags & wire::NAME_TRUNCATED != 0 {
            events.push(dir, events::NAME_TOO_LONG);
        }
        if outcome.name_flags & wire::NAME_INFINITE_LOOP != 0 {
            events.push(dir, events::INFINITE_LOOP);
        }
        if outcome.name_flags & wire::NAME_LABEL_LIMIT != 0 {
            events.push(dir, events::TOO_MANY_LABELS);
        }
        if outcome.invalid_additionals {
            events.push(dir, events::INVALID_ADDITIONALS);
        }
        if outcome.over_limit {
            events.push(dir, events::STATE_MEMCAP_REACHED);
        }

        tx.tx_id = self.next_tx_id;
        self.next_tx_id += 1;
        tx.record_index = 0;
        if as_response {
            tx.kind = Kind::Answer;
            tx.query_tx_id = self
                .pending
                .iter()
                .position(|&(id, _)| id == header.id)
                .and_then(|i| self.pending.remove(i))
                .map(|(_, q)| q);
        } else {
            tx.kind = Kind::Query;
            tx.query_tx_id = None;
            if self.limits.max_pending_queries > 0 {
                if self.pending.len() >= self.limits.max_pending_queries {
                    self.pending.pop_front();
                    if !self.flood_reported {
                        self.flood_reported = true;
                        events.push(dir, events::FLOODED);
                    }
                }
                self.pending.push_back((header.id, tx.tx_id));
            }
        }

        // Suricata's v2 logger writes one record per question of a query, and nothing for a
        // response without questions.
        if tx.msg.questions.is_empty() {
            self.recycle(tx);
            return true;
        }
        self.queued_bytes += tx.msg.heap_bytes();
        self.queue.push_back(tx);
        while self.queue.len() > self.limits.max_queued_messages
            || (self.queued_bytes > self.limits.max_queued_bytes && !self.queue.is_empty())
        {
            let Some(old) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes = self.queued_bytes.saturating_sub(old.msg.heap_bytes());
            events.push(dir, events::STATE_MEMCAP_REACHED);
        }
        true
    }

    fn recycle(&mut self, mut tx: Tx) {
        if self.spare.len() < SPARE_TXS && tx.msg.heap_bytes() <= KEEP_BUFFER_BYTES * 4 {
            tx.msg.clear();
            self.spare.push(tx);
        }
    }
}

fn release(buf: &mut Vec<u8>) {
    if buf.capacity() > KEEP_BUFFER_BYTES {
        *buf = Vec::new();
    } else {
        buf.clear();
    }
}

impl Tx {
    /// Writes Suricata 7's `"dns":{...}` object (version 2) for this record.
    pub fn write_eve(&self, w: &mut JsonWriter<'_>) {
        eve::write(self, w);
    }

    /// The flow's transaction number of this message (Suricata's `tx_id`: every decoded
    /// message, query or response, takes the next one, from 0).
    pub fn tx_id(&self) -> u64 {
        self.tx_id
    }

    /// Query or answer.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// True for a message sent to the client (logged as an answer).
    pub fn is_response(&self) -> bool {
        self.kind == Kind::Answer
    }

    /// For a response: the `tx_id` of the earlier unanswered query with the same DNS id.
    pub fn query_tx_id(&self) -> Option<u64> {
        self.query_tx_id
    }

    /// Which question this record stands for: a query is handed over once per question
    /// (0, 1, ...); always 0 for an answer. Per-message work (detection) should run once,
    /// on record 0.
    pub fn record_index(&self) -> usize {
        usize::from(self.record_index)
    }

    /// The DNS id from the header.
    pub fn dns_id(&self) -> u16 {
        self.msg.header.id
    }

    /// The header's flags word.
    pub fn flags(&self) -> u16 {
        self.msg.header.flags
    }

    /// The opcode (Suricata's `dns.opcode`).
    pub fn opcode(&self) -> u8 {
        ((self.msg.header.flags >> 11) & 0xf) as u8
    }

    /// The response code in the header (0 = NOERROR).
    pub fn rcode(&self) -> u8 {
        (self.msg.header.flags & 0xf) as u8
    }

    /// The record type of the question this record stands for (a query's question
    /// `record_index`, an answer's first question) — what Suricata's `types` filter checks.
    pub fn rrtype(&self) -> Option<u16> {
        let i = match self.kind {
            Kind::Query => self.record_index(),
            Kind::Answer => 0,
        };
        self.msg.questions.get(i).map(|q| q.rrtype)
    }

    /// The questions: name as decoded (labels joined by dots, no trailing dot, case kept,
    /// at most `max_name_len` bytes), type and class.
    pub fn questions(&self) -> impl Iterator<Item = (&[u8], u16, u16)> + '_ {
        self.msg
            .questions
            .iter()
            .map(|q| (self.msg.bytes(q.name.span), q.rrtype, q.rrclass))
    }

    /// The question names (Suricata's `dns.query` buffer, one per question). Suricata
    /// inspects it on queries only (`!is_response()`).
    pub fn query_names(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.msg
            .questions
            .iter()
            .map(|q| self.msg.bytes(q.name.span))
    }

    /// The owner names of the answer section (Suricata 8's `dns.answers.rrname`).
    pub fn answer_names(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.records(Section::Answer).map(|r| r.name())
    }

    /// Every name of the message: questions, then the owner name and any name in the
    /// rdata (CNAME, NS, PTR, MX, SOA mname/rname, SRV target) of each record (Suricata 8's
    /// `dns.response.rrname` on responses).
    pub fn all_names(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let m = &self.msg;
        let records = m.records.iter().flat_map(move |r| {
            let (a, b) = rdata_names(&r.data);
            [Some(r.name), a, b]
                .into_iter()
                .flatten()
                .map(move |n| m.bytes(n.span))
        });
        self.query_names().chain(records)
    }

    /// The records of one section, in wire order (TXT records split per string, records
    /// with empty rdata left out, at most `max_records`).
    pub fn records(&self, section: Section) -> impl Iterator<Item = RecordRef<'_>> + '_ {
        self.msg
            .records
            .iter()
            .filter(move |r| r.section == section)
            .map(move |r| RecordRef { msg: &self.msg, r })
    }
}

fn rdata_names(d: &RData) -> (Option<Name>, Option<Name>) {
    match *d {
        RData::Name(n) | RData::Mx { exchange: n, .. } | RData::Srv { target: n, .. } => {
            (Some(n), None)
        }
        RData::Soa(s) => (Some(s.mname), Some(s.rname)),
        _ => (None, None),
    }
}

/// A view of one resource record.
#[derive(Clone, Copy, Debug)]
pub struct RecordRef<'a> {
    msg: &'a Message,
    r: &'a Record,
}

/// The decoded rdata of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rdata<'a> {
    /// A or AAAA address bytes (normally 4 or 16).
    Addr(&'a [u8]),
    /// CNAME, NS or PTR target.
    Name(&'a [u8]),
    /// MX.
    Mx {
        /// Preference.
        preference: u16,
        /// Exchange host.
        exchange: &'a [u8],
    },
    /// One TXT character-string.
    Txt(&'a [u8]),
    /// NULL bytes.
    Null(&'a [u8]),
    /// SOA.
    Soa {
        /// Primary name server.
        mname: &'a [u8],
        /// Responsible mailbox.
        rname: &'a [u8],
        /// Serial.
        serial: u32,
        /// Refresh interval.
        refresh: u32,
        /// Retry interval.
        retry: u32,
        /// Expiry.
        expire: u32,
        /// Minimum TTL.
        minimum: u32,
    },
    /// SRV.
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: &'a [u8],
    },
    /// SSHFP.
    Sshfp {
        /// Key algorithm.
        algo: u8,
        /// Fingerprint type.
        fp_type: u8,
        /// Fingerprint bytes.
        fingerprint: &'a [u8],
    },
    /// Any other type: not decoded.
    Other {
        /// Rdata length in bytes.
        len: u16,
    },
}

impl<'a> RecordRef<'a> {
    /// Owner name.
    pub fn name(&self) -> &'a [u8] {
        self.msg.bytes(self.r.name.span)
    }
    /// Record type.
    pub fn rrtype(&self) -> u16 {
        self.r.rrtype
    }
    /// Record class.
    pub fn rrclass(&self) -> u16 {
        self.r.rrclass
    }
    /// Time to live.
    pub fn ttl(&self) -> u32 {
        self.r.ttl
    }
    /// The section it came from.
    pub fn section(&self) -> Section {
        self.r.section
    }
    /// The decoded rdata.
    pub fn rdata(&self) -> Rdata<'a> {
        let m = self.msg;
        match self.r.data {
            RData::Addr(s) => Rdata::Addr(m.bytes(s)),
            RData::Name(n) => Rdata::Name(m.bytes(n.span)),
            RData::Mx {
                preference,
                exchange,
            } => Rdata::Mx {
                preference,
                exchange: m.bytes(exchange.span),
            },
            RData::Txt(s) => Rdata::Txt(m.bytes(s)),
            RData::Null(s) => Rdata::Null(m.bytes(s)),
            RData::Soa(s) => Rdata::Soa {
                mname: m.bytes(s.mname.span),
                rname: m.bytes(s.rname.span),
                serial: s.serial,
                refresh: s.refresh,
                retry: s.retry,
                expire: s.expire,
                minimum: s.minimum,
            },
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => Rdata::Srv {
                priority,
                weight,
                port,
                target: m.bytes(target.span),
            },
            RData::Sshfp {
                algo,
                fp_type,
                fingerprint,
            } => Rdata::Sshfp {
                algo,
                fp_type,
                fingerprint: m.bytes(fingerprint),
            },
            RData::Other { len } => Rdata::Other { len },
        }
    }
}

/// The direction a message normally travels, from its QR bit (responses go to the client).
/// Suricata orients a flow whose first datagram is a response this way (the sender is then
/// the server); `data` is a datagram, or TCP stream bytes starting with the length prefix
/// when `tcp`. `None` when there is no header yet.
pub fn message_direction(data: &[u8], tcp: bool) -> Option<Direction> {
    let flags = wire::be16(data, if tcp { 4 } else { 2 })?;
    Some(if flags & 0x8000 != 0 {
        Direction::ToClient
    } else {
        Direction::ToServer
    })
}

/// Question classes a real message uses (IN, CH, HS, NONE, ANY), ignoring mDNS's
/// unicast-response bit.
fn plausible_class(c: u16) -> bool {
    matches!(c & 0x7fff, 1 | 3 | 4 | 254 | 255)
}

/// Message bytes a partial TCP message must show before probing says yes.
const PROBE_PARTIAL_MIN: usize = 32;

/// Probes a UDP datagram: a plausible header (Suricata's count check), at least one
/// question, and every question decoding with a known class. Either direction is accepted
/// (as Suricata, which then knows which side is the server). A datagram is whole, so the
/// answer is never `NeedMore`.
pub fn probe(data: &[u8], _dir: Direction) -> Probe {
    if probe_whole(data) {
        Probe::Yes
    } else {
        Probe::No
    }
}

/// Probes the first bytes of a TCP direction: the 2-byte length, then as [`probe`] on the
/// message; when only the start of the message is there, a plausible header and a first
/// question name that decodes as far as it goes (`NeedMore` until enough is seen).
pub fn probe_tcp(data: &[u8], _dir: Direction) -> Probe {
    let Some(len) = wire::be16(data, 0) else {
        return Probe::NeedMore;
    };
    let len = usize::from(len);
    if len < HEADER_LEN {
        return Probe::No;
    }
    let avail = data.get(2..).unwrap_or(&[]);
    if let Some(msg) = avail.get(..len) {
        return if probe_whole(msg) {
            Probe::Yes
        } else {
            Probe::No
        };
    }
    probe_partial(avail, len)
}

fn probe_whole(msg: &[u8]) -> bool {
    let Some(h) = Header::parse(msg) else {
        return false;
    };
    if !h.plausible(msg.len()) || h.qdcount == 0 {
        return false;
    }
    let lim = Limits::default().decode();
    let mut pos = HEADER_LEN;
    for _ in 0..h.qdcount {
        let mut out = Discard::default();
        let Ok((p, _)) = wire::parse_name(msg, pos, msg.len(), &mut out, &lim) else {
            return false;
        };
        let (Some(_), Some(class)) = (wire::be16(msg, p), wire::be16(msg, p + 2)) else {
            return false;
        };
        if !plausible_class(class) {
            return false;
        }
        pos = p + 4;
    }
    true
}

/// Probes the start of a message of `len` bytes of which `avail` are present.
fn probe_partial(avail: &[u8], len: usize) -> Probe {
    let Some(h) = Header::parse(avail) else {
        return Probe::NeedMore;
    };
    if !h.plausible(len) || h.qdcount == 0 {
        return Probe::No;
    }
    // Walk the first question's name as far as the bytes go.
    let mut pos = HEADER_LEN;
    while let Some(&l) = avail.get(pos) {
        match l {
            0 => {
                return match wire::be16(avail, pos + 3) {
                    Some(class) if plausible_class(class) => Probe::Yes,
                    Some(_) => Probe::No,
                    None => enough(avail),
                };
            }
            1..=63 => pos += 1 + usize::from(l),
            // A pointer in the first name can only point back into it.
            0xc0..=0xff => {
                return match wire::be16(avail, pos) {
                    Some(p)
                        if usize::from(p & 0x3fff) >= HEADER_LEN
                            && usize::from(p & 0x3fff) < pos =>
                    {
                        match wire::be16(avail, pos + 4) {
                            Some(class) if plausible_class(class) => Probe::Yes,
                            Some(_) => Probe::No,
                            None => enough(avail),
                        }
                    }
                    Some(_) => Probe::No,
                    None => enough(avail),
                };
            }
            _ => return Probe::No,
        }
    }
    enough(avail)
}

fn enough(avail: &[u8]) -> Probe {
    if avail.len() >= PROBE_PARTIAL_MIN {
        Probe::Yes
    } else {
        Probe::NeedMore
    }
}
