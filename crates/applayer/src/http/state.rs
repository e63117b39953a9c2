//! Per-flow HTTP/1.x state: one streaming parser per direction over in-order bytes, and the
//! transactions they fill. Framing (where a line, header block, body or chunk ends) lives in
//! [`Side`]; content lives in the [`Tx`], so a transaction that had to be handed over early or
//! dropped never disturbs the framing of the stream.

use std::collections::VecDeque;

use vedette_types::Direction;

use super::decompress::{Coding, Decoder, Stop};
use super::event as ev;
use super::parser::{
    chomp, contains_ci, is_lws, is_space, method_kind, parse_chunk_len, parse_content_length,
    parse_header, parse_hostport, parse_protocol, parse_request_line, parse_response_line,
    parse_status, response_line_is_body, starts_with_ci, valid_hostname, ChunkLen, Method,
    Protocol, KNOWN_METHODS,
};
use super::tx::{flag, Header, Headers, Progress, Tx};
use super::uri;
use super::{Limits, Stats, Tunnel};
use crate::AppEvents;

/// Once-per-message event bits (`Msg::once`).
mod once {
    pub const MISSING_COLON: u32 = 1;
    pub const HEADER_INVALID: u32 = 1 << 1;
    pub const FOLDING: u32 = 1 << 2;
    pub const REPETITION: u32 = 1 << 3;
    pub const TOO_MANY_HEADERS: u32 = 1 << 4;
    pub const TRUNCATED: u32 = 1 << 5;
}

/// `uri` of a transaction created for a response without request, as libhtp names it.
const URI_NOT_SEEN: &[u8] = b"/libhtp::request_uri_not_seen";

/// Headers that decide framing or host resolution: always kept, whatever the count limits.
const CRITICAL_HEADERS: &[&[u8]] = &[
    b"content-length",
    b"transfer-encoding",
    b"content-encoding",
    b"host",
    b"content-type",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    /// Waiting for a request line / status line.
    Line,
    /// A request line without protocol: looking at what follows to decide whether headers
    /// come (libhtp's "missing protocol" check) or this is an HTTP/0.9 simple request.
    Probe09,
    Headers,
    Trailers,
    Body {
        left: u64,
    },
    UntilClose,
    ChunkLen,
    ChunkData {
        left: u64,
    },
    /// After chunk data: skip to the end of the line.
    ChunkEnd,
    /// The message is complete as far as framing goes; bytes that follow in the same chunk and
    /// do not start a new message are still its body (libhtp's `FINALIZE`: "unexpected
    /// body"). Completes when the chunk ends or a new message starts.
    Finalize,
    /// CONNECT sent: request bytes are held until the response says tunnel or not.
    ConnectWait,
    /// Lost framing after a gap: skip lines until one looks like a request/status line.
    Resync,
    /// Tunnel, HTTP/0.9 request done, or a fatal framing error: bytes are not parsed.
    Stopped,
}

/// Framing state of one direction.
#[derive(Debug)]
struct Side {
    st: St,
    line: Vec<u8>,
    line_overflow: bool,
    /// Last header line, kept until the next line shows whether it continues (folding).
    pending: Vec<u8>,
    has_pending: bool,
    pending_overflow: bool,
    /// Transaction being filled by this direction.
    cur: Option<u64>,
    /// Request bytes received while a CONNECT waits for its response.
    hold: Vec<u8>,
}

impl Side {
    fn new() -> Self {
        Side {
            st: St::Line,
            line: Vec::new(),
            line_overflow: false,
            pending: Vec::new(),
            has_pending: false,
            pending_overflow: false,
            cur: None,
            hold: Vec::new(),
        }
    }

    /// Appends bytes up to and including the next LF to `line` (at most `limit` bytes are
    /// kept; the rest is skipped and flagged). True when the line is complete.
    fn take_line(&mut self, data: &mut &[u8], limit: usize) -> bool {
        let (n, done) = match data.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (data.len(), false),
        };
        let chunk = data.get(..n).unwrap_or(&[]);
        let room = limit.saturating_sub(self.line.len());
        if chunk.len() > room {
            self.line_overflow = true;
        }
        self.line
            .extend_from_slice(chunk.get(..chunk.len().min(room)).unwrap_or(&[]));
        *data = data.get(n..).unwrap_or(&[]);
        done
    }

    fn heap_bytes(&self) -> usize {
        self.line.capacity() + self.pending.capacity() + self.hold.capacity()
    }
}

/// Per-flow HTTP state.
#[derive(Debug)]
pub struct State {
    limits: Limits,
    txs: VecDeque<Tx>,
    next_id: u64,
    /// Id of the transaction the next response answers (responses pair FIFO with requests).
    resp_next: u64,
    /// Stand-in for a response whose request was already handed over or dropped.
    scratch: Option<Box<Tx>>,
    req: Side,
    resp: Side,
    tunnel: Option<Tunnel>,
    tunnel_data: [Vec<u8>; 2],
    stats: Stats,
}

impl State {
    /// A fresh state.
    pub fn new(limits: &Limits) -> Self {
        State {
            limits: *limits,
            txs: VecDeque::new(),
            next_id: 0,
            resp_next: 0,
            scratch: None,
            req: Side::new(),
            resp: Side::new(),
            tunnel: None,
            tunnel_data: [Vec::new(), Vec::new()],
            stats: Stats::default(),
        }
    }

    /// Takes the next in-order bytes of one direction.
    pub fn parse(&mut self, dir: Direction, data: &[u8], events: &mut AppEvents) {
        if data.is_empty() {
            return;
        }
        self.run(dir, data, events);
    }

    /// Notes that `len` bytes of `dir` are missing. Inside a body of known length (or a chunk)
    /// parsing goes on after the hole; elsewhere the current message is closed as incomplete
    /// and the parser skips to the next line that looks like a request/status line.
    pub fn gap(&mut self, dir: Direction, len: u64, events: &mut AppEvents) {
        if len == 0 {
            return;
        }
        self.stats.gaps += 1;
        let side = self.side(dir);
        side.line.clear();
        side.line_overflow = false;
        let st = side.st;
        let cur = side.cur;
        match st {
            St::Stopped | St::Resync => {}
            St::Finalize => {
                self.message_done(dir, events);
                self.side(dir).st = St::Resync;
            }
            St::ConnectWait => {
                // Tunnel bytes are lost anyway; keep waiting for the response.
            }
            St::Body { left } if len < left => {
                self.side(dir).st = St::Body { left: left - len };
                self.body_gap(dir, cur, len);
            }
            St::ChunkData { left } if len < left => {
                self.side(dir).st = St::ChunkData { left: left - len };
                self.body_gap(dir, cur, len);
            }
            St::ChunkData { left } if len == left => {
                self.side(dir).st = St::ChunkEnd;
                self.body_gap(dir, cur, len);
            }
            St::UntilClose => self.body_gap(dir, cur, len),
            St::Body { left } if len == left => {
                self.body_gap(dir, cur, len);
                self.message_done(dir, events);
            }
            St::Line if cur.is_none() => {
                self.side(dir).st = St::Resync;
            }
            _ => {
                // Framing lost in the middle of a message: close it as it is.
                if let Some(id) = cur {
                    if let Some(tx) = self.tx_mut(id) {
                        tx.msg_mut(dir).body.gap = true;
                    }
                }
                let side = self.side(dir);
                side.has_pending = false;
                side.pending.clear();
                if cur.is_some() {
                    self.message_done(dir, events);
                }
                self.side(dir).st = St::Resync;
            }
        }
    }

    /// Hands over each transaction ready to log, in order, then forgets it. With `at_end`
    /// (flow ended) a body read until close is finished and every transaction is handed over.
    pub fn drain(&mut self, at_end: bool, f: &mut dyn FnMut(&Tx)) {
        if at_end {
            let mut sink = AppEvents::default();
            self.flush_partial_request(&mut sink);
            if self.req.st == St::Probe09 {
                self.finish_09(&mut sink);
            }
            if self.req.st == St::Finalize {
                self.message_done(Direction::ToServer, &mut sink);
            }
            if matches!(self.resp.st, St::UntilClose | St::Finalize) {
                self.message_done(Direction::ToClient, &mut sink);
            }
        }
        while let Some(front) = self.txs.front() {
            if !at_end && !front.ready() {
                break;
            }
            if let Some(tx) = self.txs.pop_front() {
                f(&tx);
            }
        }
    }

    /// Set once a CONNECT got a 2xx answer or a 101 switched protocols: HTTP parsing stopped and
    /// the stream carries another protocol from here (re-detect it).
    pub fn tunnel(&self) -> Option<Tunnel> {
        self.tunnel
    }

    /// Bytes of `dir` received after the tunnel started (at most `max_tunnel_bytes`), for the
    /// next protocol's detection; taking them empties the buffer.
    pub fn take_tunnel_data(&mut self, dir: Direction) -> Vec<u8> {
        match self.tunnel_data.get_mut(dir.index()) {
            Some(buf) => std::mem::take(buf),
            None => Vec::new(),
        }
    }

    /// Counters of limits hit and other noteworthy conditions.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Transactions not yet handed over by [`State::drain`] (for inspection at the right
    /// progress).
    pub fn transactions(&self) -> impl Iterator<Item = &Tx> + '_ {
        self.txs.iter()
    }

    /// Approximate heap bytes held by this state (transactions, buffers, decoders excluded).
    pub fn heap_bytes(&self) -> usize {
        self.txs.iter().map(Tx::heap_bytes).sum::<usize>()
            + self.txs.capacity() * std::mem::size_of::<Tx>()
            + self.scratch.as_ref().map_or(0, |t| t.heap_bytes())
            + self.req.heap_bytes()
            + self.resp.heap_bytes()
            + self.tunnel_data.iter().map(Vec::capacity).sum::<usize>()
    }

    // ---------------------------------------------------------------- plumbing

    fn side(&mut self, dir: Direction) -> &mut Side {
        match dir {
            Direction::ToServer => &mut self.req,
            Direction::ToClient => &mut self.resp,
        }
    }

    fn tx_mut(&mut self, id: u64) -> Option<&mut Tx> {
        let front = self.txs.front().map(|t| t.id)?;
        if id >= front {
            if let Some(tx) = usize::try_from(id - front)
                .ok()
                .and_then(|i| self.txs.get_mut(i))
            {
                return Some(tx);
            }
        }
        self.scratch.as_deref_mut()
    }

    /// The transaction a direction is filling (the scratch one when it was handed over).
    fn cur_tx(&mut self, dir: Direction) -> Option<&mut Tx> {
        let id = self.side(dir).cur?;
        let front = self.txs.front().map(|t| t.id);
        match front {
            Some(front) if id >= front => {
                let i = usize::try_from(id - front).ok()?;
                if i < self.txs.len() {
                    return self.txs.get_mut(i);
                }
                self.scratch.as_deref_mut()
            }
            _ => self.scratch.as_deref_mut(),
        }
    }

    fn new_tx(&mut self, events: &mut AppEvents) -> u64 {
        let max = self.limits.max_pending_tx.max(1);
        if self.txs.len() >= max {
            self.stats.tx_limit_hits += 1;
            events.push(Direction::ToServer, ev::TOO_MANY_TRANSACTIONS);
            // The oldest still-pending transaction is handed over by the next drain...
            if let Some(t) = self.txs.iter_mut().find(|t| !t.forced) {
                t.forced = true;
            }
            // ...and if drain is not called in time, the oldest are dropped.
            while self.txs.len() >= max.saturating_mul(2) {
                if let Some(old) = self.txs.pop_front() {
                    self.stats.tx_dropped += 1;
                    if self.req.cur == Some(old.id) || self.resp.cur == Some(old.id) {
                        self.scratch = Some(Box::new(Tx::new(old.id, self.limits.log)));
                    }
                }
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.txs.push_back(Tx::new(id, self.limits.log));
        id
    }

    fn run(&mut self, dir: Direction, data: &[u8], events: &mut AppEvents) {
        self.run_inner(dir, data, events);
        if self.side(dir).st != St::Finalize {
            return;
        }
        if self.side(dir).line.is_empty() {
            self.message_done(dir, events);
            return;
        }
        // The chunk ended after a complete message: decide on what is left of a line.
        let line = std::mem::take(&mut self.side(dir).line);
        match partial_verdict(dir, &line) {
            Partial::Wait => {
                self.side(dir).line = line;
            }
            Partial::Body => {
                if dir == Direction::ToServer {
                    events.push(dir, ev::REQUEST_BODY_UNEXPECTED);
                }
                self.body_data(dir, &line, true, events);
                self.side(dir).line_overflow = false;
                self.message_done(dir, events);
                self.restore_line(dir, line);
            }
            Partial::NextMessage => {
                self.message_done(dir, events);
                self.side(dir).line = line;
            }
        }
    }

    fn run_inner(&mut self, dir: Direction, mut data: &[u8], events: &mut AppEvents) {
        while !data.is_empty() {
            let st = self.side(dir).st;
            match st {
                St::Finalize => {
                    let limit = self.limits.max_line_bytes;
                    if !self.side(dir).take_line(&mut data, limit) {
                        continue;
                    }
                    let line = std::mem::take(&mut self.side(dir).line);
                    let overflow = std::mem::replace(&mut self.side(dir).line_overflow, false);
                    self.finalize_line(dir, &line, overflow, events);
                    self.restore_line(dir, line);
                }
                St::Stopped => {
                    if self.tunnel.is_some() {
                        self.keep_tunnel_bytes(dir, data);
                    }
                    return;
                }
                St::ConnectWait => {
                    let room = self
                        .limits
                        .max_tunnel_bytes
                        .saturating_sub(self.req.hold.len());
                    let take = data.len().min(room);
                    if take < data.len() {
                        self.stats.tunnel_bytes_dropped += (data.len() - take) as u64;
                    }
                    self.req
                        .hold
                        .extend_from_slice(data.get(..take).unwrap_or(&[]));
                    return;
                }
                St::Line | St::Resync => {
                    if dir == Direction::ToClient && st == St::Line && self.resp.cur.is_none() {
                        // Line endings between responses are skipped without pairing.
                        if self.resp.line.is_empty() {
                            let skip = data
                                .iter()
                                .take_while(|c| matches!(c, b'\r' | b'\n'))
                                .count();
                            data = data.get(skip..).unwrap_or(&[]);
                            if data.is_empty() {
                                return;
                            }
                        }
                        if self.response_start(events) {
                            let partial = std::mem::take(&mut self.resp.line);
                            self.body_data(dir, &partial, true, events);
                            self.restore_line(dir, partial);
                            continue;
                        }
                    }
                    let limit = self.limits.max_line_bytes;
                    if !self.side(dir).take_line(&mut data, limit) {
                        continue;
                    }
                    let line = std::mem::take(&mut self.side(dir).line);
                    let overflow = std::mem::replace(&mut self.side(dir).line_overflow, false);
                    if st == St::Resync {
                        if overflow || !looks_like_start(dir, chomp(&line)) {
                            self.restore_line(dir, line);
                            continue;
                        }
                        self.side(dir).st = St::Line;
                        if dir == Direction::ToClient
                            && self.resp.cur.is_none()
                            && self.response_start(events)
                        {
                            self.body_data(dir, &line, true, events);
                            self.restore_line(dir, line);
                            continue;
                        }
                    }
                    match dir {
                        Direction::ToServer => self.request_line(&line, overflow, events),
                        Direction::ToClient => self.status_line(&line, overflow, events),
                    }
                    self.restore_line(dir, line);
                }
                St::Probe09 => {
                    if looks_like_header(data) {
                        if let Some(tx) = self.cur_tx(dir) {
                            tx.is_09 = false;
                        }
                        self.req.st = St::Headers;
                    } else {
                        self.finish_09(events);
                        return;
                    }
                }
                St::Headers | St::Trailers => {
                    let limit = self.limits.max_header_line_bytes;
                    if !self.side(dir).take_line(&mut data, limit) {
                        continue;
                    }
                    let line = std::mem::take(&mut self.side(dir).line);
                    let overflow = std::mem::replace(&mut self.side(dir).line_overflow, false);
                    self.header_line(dir, &line, overflow, st == St::Trailers, events);
                    self.restore_line(dir, line);
                }
                St::Body { left } => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
                    let (chunk, rest) = data.split_at_checked(n).unwrap_or((data, &[]));
                    data = rest;
                    self.body_data(dir, chunk, true, events);
                    let left = left - n as u64;
                    self.side(dir).st = if left == 0 {
                        St::Finalize
                    } else {
                        St::Body { left }
                    };
                }
                St::UntilClose => {
                    self.body_data(dir, data, true, events);
                    return;
                }
                St::ChunkData { left } => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
                    let (chunk, rest) = data.split_at_checked(n).unwrap_or((data, &[]));
                    data = rest;
                    self.body_data(dir, chunk, true, events);
                    let left = left - n as u64;
                    self.side(dir).st = if left == 0 {
                        St::ChunkEnd
                    } else {
                        St::ChunkData { left }
                    };
                }
                St::ChunkEnd => {
                    let (n, done) = match data.iter().position(|b| *b == b'\n') {
                        Some(i) => (i + 1, true),
                        None => (data.len(), false),
                    };
                    data = data.get(n..).unwrap_or(&[]);
                    self.count_framing(dir, n);
                    if done {
                        self.side(dir).st = St::ChunkLen;
                    }
                }
                St::ChunkLen => {
                    let limit = self.limits.max_header_line_bytes;
                    if !self.side(dir).take_line(&mut data, limit) {
                        continue;
                    }
                    let line = std::mem::take(&mut self.side(dir).line);
                    let overflow = std::mem::replace(&mut self.side(dir).line_overflow, false);
                    self.chunk_len_line(dir, &line, overflow, events);
                    self.restore_line(dir, line);
                }
            }
        }
    }

    fn restore_line(&mut self, dir: Direction, mut line: Vec<u8>) {
        line.clear();
        let side = self.side(dir);
        if side.line.is_empty() {
            side.line = line;
        }
    }

    fn keep_tunnel_bytes(&mut self, dir: Direction, data: &[u8]) {
        let max = self.limits.max_tunnel_bytes;
        if let Some(buf) = self.tunnel_data.get_mut(dir.index()) {
            let take = data.len().min(max.saturating_sub(buf.len()));
            buf.extend_from_slice(data.get(..take).unwrap_or(&[]));
            self.stats.tunnel_bytes_dropped += (data.len() - take) as u64;
        }
    }

    // ---------------------------------------------------------------- request side

    fn request_line(&mut self, raw: &[u8], overflow: bool, events: &mut AppEvents) {
        let line = chomp(raw);
        if line.is_empty() && !overflow {
            // Empty lines before a request are ignored.
            return;
        }
        let id = self.new_tx(events);
        self.req.cur = Some(id);
        let d = Direction::ToServer;
        if overflow {
            self.stats.lines_too_long += 1;
            events.push(d, ev::REQUEST_FIELD_TOO_LONG);
        }
        let rl = parse_request_line(line);
        if rl.leading_whitespace {
            events.push(d, ev::REQUEST_LINE_LEADING_WHITESPACE);
        }
        if rl.method_delim_bad {
            events.push(d, ev::METHOD_DELIM_NON_COMPLIANT);
        }
        if rl.uri_delim_bad {
            events.push(d, ev::URI_DELIM_NON_COMPLIANT);
        }
        let kind = method_kind(rl.method);
        let proto = rl.protocol.map_or(Protocol::V09, parse_protocol);
        if kind == Method::Unknown && (rl.protocol.is_none() || proto == Protocol::Invalid) {
            events.push(d, ev::REQUEST_LINE_INVALID);
        }
        let double_decode = self.limits.double_decode_events;
        let Some(tx) = self.tx_mut(id) else { return };
        tx.req.line = Some(line.to_vec());
        tx.method = Some(rl.method.to_vec());
        tx.method_kind = kind;
        tx.req.protocol = rl.protocol.map(<[u8]>::to_vec);
        tx.req.proto = Some(proto);
        tx.is_09 = rl.protocol.is_none();
        let mut double = false;
        if let Some(u) = rl.uri {
            tx.uri = Some(u.to_vec());
            let host = if kind == Method::Connect {
                tx.uri_norm = Some(Vec::new());
                let mut h = uri::connect_host(u);
                if h.invalid {
                    // An unusable authority gives no host name (Suricata 7.0.x bug 7851).
                    h.host = None;
                }
                h
            } else {
                let parts = uri::split(u);
                tx.uri_norm = Some(uri::normalized(&parts));
                if double_decode {
                    double = parts.path.is_some_and(uri::double_encoded)
                        || parts.query.is_some_and(uri::double_encoded);
                }
                uri::uri_host(&parts)
            };
            if host.invalid {
                tx.flags |= flag::HOSTU_INVALID;
            }
            tx.uri_host_raw = host.raw;
            tx.hostname = host.host;
            tx.port = host.port;
        }
        tx.req.progress = Progress::Line;
        let flags = tx.flags;
        if double {
            events.push(d, ev::DOUBLE_ENCODED_URI);
        }
        raise_flags(flags, events);
        self.req.st = if rl.protocol.is_none() {
            St::Probe09
        } else {
            St::Headers
        };
    }

    /// Takes an unterminated request line as complete (the response started, or the flow
    /// ended).
    fn flush_partial_request(&mut self, events: &mut AppEvents) {
        if self.req.st != St::Line || self.req.line.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.req.line);
        let overflow = std::mem::replace(&mut self.req.line_overflow, false);
        self.request_line(&line, overflow, events);
        self.restore_line(Direction::ToServer, line);
    }

    /// Completes a simple (HTTP/0.9) request; later request bytes are ignored, as libhtp does.
    fn finish_09(&mut self, events: &mut AppEvents) {
        self.request_done(events);
        self.req.st = St::Stopped;
    }

    fn request_headers_done(&mut self, events: &mut AppEvents) {
        let d = Direction::ToServer;
        let limits = self.limits;
        let Some(tx) = self.cur_tx(d) else {
            self.req.st = St::Line;
            return;
        };
        tx.req.build_buffers(d);
        tx.req.progress = Progress::Headers;
        // Host: the URI authority wins; the Host header fills in or is compared.
        match tx.req.headers.get(b"host") {
            None => {
                if tx.req.proto == Some(Protocol::V11) {
                    tx.flags |= flag::HOST_MISSING;
                }
            }
            Some(v) => {
                let hp = parse_hostport(v);
                if hp.invalid || hp.host.as_deref().is_some_and(|h| !valid_hostname(h)) {
                    tx.flags |= flag::HOSTH_INVALID;
                }
                match (&tx.hostname, hp.host) {
                    (None, Some(h)) => {
                        tx.hostname = Some(h);
                        tx.port = hp.port;
                    }
                    (Some(uh), Some(h)) => {
                        if !uh.eq_ignore_ascii_case(&h)
                            || matches!((tx.port, hp.port), (Some(a), Some(b)) if a != b)
                        {
                            tx.flags |= flag::HOST_AMBIGUOUS;
                        }
                    }
                    (Some(_), None) => tx.flags |= flag::HOST_AMBIGUOUS,
                    (None, None) => {}
                }
            }
        }
        // Body framing.
        enum Framing {
            None,
            Chunked,
            Length(u64),
            Invalid,
        }
        let te = tx.req.headers.get(b"transfer-encoding");
        let cl = tx.req.headers.get(b"content-length");
        let framing = if tx.method_kind == Method::Connect {
            Framing::None
        } else if let Some(te) = te {
            if has_token(te, b"chunked") {
                if tx.req.proto < Some(Protocol::V11) {
                    tx.flags |= flag::INVALID_TE;
                }
                Framing::Chunked
            } else {
                tx.flags |= flag::INVALID_TE;
                Framing::Invalid
            }
        } else if let Some(cl) = cl {
            match parse_content_length(cl) {
                Some(n) => Framing::Length(n),
                None => {
                    tx.flags |= flag::INVALID_CL;
                    Framing::Invalid
                }
            }
        } else {
            Framing::None
        };
        let coding = content_coding(&tx.req.headers, d, events);
        if let (Some(c), Framing::Chunked | Framing::Length(1..)) = (coding, &framing) {
            tx.req.body.decoder = Some(Decoder::new(
                c,
                limits.max_decompressed_bytes,
                limits.compression_bomb_ratio,
            ));
        }
        let connect = tx.method_kind == Method::Connect;
        raise_flags(tx.flags, events);
        match framing {
            Framing::None if connect => {
                self.request_done(events);
                self.req.st = St::ConnectWait;
            }
            Framing::None | Framing::Length(0) => self.req.st = St::Finalize,
            Framing::Length(n) => {
                self.set_body_progress(d);
                self.req.st = St::Body { left: n };
            }
            Framing::Chunked => {
                self.set_body_progress(d);
                self.req.st = St::ChunkLen;
            }
            Framing::Invalid => {
                // libhtp stops parsing the request stream here.
                self.request_done(events);
                self.req.st = St::Stopped;
            }
        }
    }

    fn request_done(&mut self, events: &mut AppEvents) {
        let d = Direction::ToServer;
        self.finish_body(d, events);
        if let Some(tx) = self.cur_tx(d) {
            tx.req.progress = Progress::Complete;
            let flags = tx.flags;
            raise_flags(flags, events);
        }
        self.req.cur = None;
        self.req.st = St::Line;
    }

    // ---------------------------------------------------------------- response side

    /// Pairs the response that starts now with its request (FIFO). Returns true when the
    /// response is a body read until close (HTTP/0.9 request).
    fn response_start(&mut self, events: &mut AppEvents) -> bool {
        if self.resp_next >= self.next_id {
            // A request line still waiting for its line ending is the request answered here.
            self.flush_partial_request(events);
        }
        let id = self.resp_next;
        if id >= self.next_id {
            // A response without request.
            events.push(Direction::ToClient, ev::UNABLE_TO_MATCH_RESPONSE_TO_REQUEST);
            let nid = self.new_tx(events);
            self.resp_next = nid + 1;
            self.resp.cur = Some(nid);
            if let Some(tx) = self.tx_mut(nid) {
                tx.uri = Some(URI_NOT_SEEN.to_vec());
                tx.uri_norm = Some(URI_NOT_SEEN.to_vec());
                tx.req.progress = Progress::Complete;
            }
            return false;
        }
        self.resp_next = id + 1;
        self.resp.cur = Some(id);
        let present = self.txs.front().is_some_and(|f| id >= f.id)
            && self.txs.back().is_some_and(|b| id <= b.id);
        if !present {
            self.scratch = Some(Box::new(Tx::new(id, self.limits.log)));
        }
        if self.req.cur == Some(id) && self.req.st == St::Probe09 {
            self.finish_09(events);
        }
        let is_09 = self.cur_tx(Direction::ToClient).is_some_and(|t| t.is_09);
        if is_09 {
            self.set_body_progress(Direction::ToClient);
            self.resp.st = St::UntilClose;
            return true;
        }
        false
    }

    fn status_line(&mut self, raw: &[u8], overflow: bool, events: &mut AppEvents) {
        let d = Direction::ToClient;
        let line = chomp(raw);
        if line.is_empty() && !overflow {
            return;
        }
        if overflow {
            self.stats.lines_too_long += 1;
            events.push(d, ev::RESPONSE_FIELD_TOO_LONG);
        }
        if response_line_is_body(line) {
            // Not a status line: browsers treat it as the body, read until close.
            self.set_body_progress(d);
            self.resp.st = St::UntilClose;
            self.body_data(d, raw, true, events);
            return;
        }
        let rl = parse_response_line(line);
        let proto = rl.protocol.map_or(Protocol::Invalid, parse_protocol);
        let num = rl.status.and_then(parse_status);
        if proto == Protocol::Invalid {
            events.push(d, ev::RESPONSE_INVALID_PROTOCOL);
        }
        if num.is_none() {
            events.push(d, ev::RESPONSE_INVALID_STATUS);
        }
        if let Some(tx) = self.cur_tx(d) {
            tx.resp.line = Some(line.to_vec());
            tx.resp.protocol = rl.protocol.map(<[u8]>::to_vec);
            tx.resp.proto = Some(proto);
            tx.status = rl.status.map(<[u8]>::to_vec);
            tx.status_num = num;
            tx.status_msg = rl.message.map(<[u8]>::to_vec);
            tx.resp.progress = Progress::Line;
        }
        self.resp.st = St::Headers;
    }

    fn response_headers_done(&mut self, events: &mut AppEvents) {
        let d = Direction::ToClient;
        let Some(tx) = self.cur_tx(d) else {
            self.resp.st = St::Line;
            return;
        };
        tx.resp.build_buffers(d);
        tx.resp.progress = Progress::Headers;
        let status = tx.status_num.unwrap_or(0);
        let method = tx.method_kind;
        // Interim responses: forget them and read the next status line for this request.
        if (100..200).contains(&status) && status != 101 {
            if status == 100 && tx.seen_100 {
                events.push(d, ev::CONTINUE_ALREADY_SEEN);
            }
            tx.seen_100 |= status == 100;
            tx.resp.reset_interim();
            tx.status = None;
            tx.status_num = None;
            tx.status_msg = None;
            self.resp.st = St::Line;
            return;
        }
        let port = tx.port;
        if status == 101 {
            self.start_tunnel(port, true, events);
            return;
        }
        if method == Method::Connect {
            if (200..300).contains(&status) {
                self.start_tunnel(port, false, events);
                return;
            }
            // Refused: the request stream goes on with what was held meanwhile.
            if self.req.st == St::ConnectWait {
                self.req.st = St::Line;
                let held = std::mem::take(&mut self.req.hold);
                if !held.is_empty() {
                    self.run(Direction::ToServer, &held, events);
                }
            }
        }
        if (100..200).contains(&status) || status == 204 || status == 304 || method == Method::Head
        {
            self.resp.st = St::Finalize;
            return;
        }
        let limits = self.limits;
        let Some(tx) = self.cur_tx(d) else { return };
        let te = tx.resp.headers.get(b"transfer-encoding");
        let proto = tx.resp.proto;
        let mut next = St::UntilClose;
        let mut fatal = false;
        if let Some(te) = te.filter(|te| contains_ci(te, b"chunked")) {
            if !te.eq_ignore_ascii_case(b"chunked") {
                events.push(d, ev::RESPONSE_ABNORMAL_TRANSFER_ENCODING);
            }
            if proto < Some(Protocol::V11) {
                events.push(d, ev::RESPONSE_CHUNKED_OLD_PROTO);
            }
            next = St::ChunkLen;
        } else if let Some(cl) = tx.resp.headers.get(b"content-length") {
            match parse_content_length(cl) {
                Some(n) => next = St::Body { left: n },
                None => {
                    events.push(d, ev::INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE);
                    fatal = true;
                }
            }
        } else if tx
            .resp
            .headers
            .get(b"content-type")
            .is_some_and(|ct| contains_ci(ct, b"multipart/byteranges"))
        {
            events.push(d, ev::RESPONSE_MULTIPART_BYTERANGES);
        }
        if !fatal && next != (St::Body { left: 0 }) {
            if let Some(c) = content_coding(&tx.resp.headers, d, events) {
                tx.resp.body.decoder = Some(Decoder::new(
                    c,
                    limits.max_decompressed_bytes,
                    limits.compression_bomb_ratio,
                ));
            }
        }
        if fatal {
            // libhtp stops parsing the response stream on an invalid Content-Length.
            self.response_done(events);
            self.resp.st = St::Stopped;
            return;
        }
        if next == (St::Body { left: 0 }) {
            self.resp.st = St::Finalize;
            return;
        }
        self.set_body_progress(d);
        self.resp.st = next;
    }

    fn response_done(&mut self, events: &mut AppEvents) {
        let d = Direction::ToClient;
        self.finish_body(d, events);
        if let Some(tx) = self.cur_tx(d) {
            tx.resp.progress = Progress::Complete;
        }
        self.resp.cur = None;
        self.resp.st = St::Line;
    }

    fn start_tunnel(&mut self, port: Option<u16>, upgrade: bool, events: &mut AppEvents) {
        self.response_done(events);
        if let Some(id) = self.resp_next.checked_sub(1) {
            if let Some(tx) = self.tx_mut(id) {
                tx.req.progress = Progress::Complete;
            }
        }
        self.tunnel = Some(Tunnel { port, upgrade });
        self.req.st = St::Stopped;
        self.resp.st = St::Stopped;
        let held = std::mem::take(&mut self.req.hold);
        self.keep_tunnel_bytes(Direction::ToServer, &held);
    }

    // ---------------------------------------------------------------- shared

    /// A whole line right after a complete message: more body, or the next message.
    fn finalize_line(
        &mut self,
        dir: Direction,
        raw: &[u8],
        overflow: bool,
        events: &mut AppEvents,
    ) {
        let line = chomp(raw);
        let is_body = match dir {
            Direction::ToServer => {
                let start = line
                    .iter()
                    .position(|c| !is_space(*c))
                    .unwrap_or(line.len());
                let rest = line.get(start..).unwrap_or(&[]);
                let end = rest.iter().position(|c| is_space(*c)).unwrap_or(rest.len());
                let method = rest.get(..end).unwrap_or(&[]);
                if method.is_empty() {
                    true
                } else if method_kind(method) == Method::Unknown {
                    events.push(dir, ev::REQUEST_BODY_UNEXPECTED);
                    true
                } else {
                    false
                }
            }
            Direction::ToClient => response_line_is_body(line),
        };
        if is_body {
            self.body_data(dir, raw, true, events);
            return;
        }
        self.message_done(dir, events);
        match dir {
            Direction::ToServer => self.request_line(raw, overflow, events),
            Direction::ToClient => {
                if self.response_start(events) {
                    self.body_data(dir, raw, true, events);
                } else {
                    self.status_line(raw, overflow, events);
                }
            }
        }
    }

    fn message_done(&mut self, dir: Direction, events: &mut AppEvents) {
        match dir {
            Direction::ToServer => self.request_done(events),
            Direction::ToClient => self.response_done(events),
        }
    }

    fn set_body_progress(&mut self, dir: Direction) {
        if let Some(tx) = self.cur_tx(dir) {
            tx.msg_mut(dir).progress = Progress::Body;
        }
    }

    fn header_line(
        &mut self,
        dir: Direction,
        raw: &[u8],
        overflow: bool,
        trailer: bool,
        events: &mut AppEvents,
    ) {
        let max_raw = self.limits.max_header_bytes;
        if let Some(tx) = self.cur_tx(dir) {
            let m = tx.msg_mut(dir);
            let room = max_raw.saturating_sub(m.raw.len());
            m.raw
                .extend_from_slice(raw.get(..raw.len().min(room)).unwrap_or(&[]));
        }
        let line = chomp(raw);
        if line.is_empty() && !overflow {
            self.flush_header(dir, events);
            if trailer {
                if let Some(tx) = self.cur_tx(dir) {
                    tx.msg_mut(dir).build_buffers(dir);
                }
                self.side(dir).st = St::Finalize;
            } else {
                match dir {
                    Direction::ToServer => self.request_headers_done(events),
                    Direction::ToClient => self.response_headers_done(events),
                }
            }
            return;
        }
        if overflow {
            self.too_long(dir, events);
        }
        let limit = self.limits.max_header_line_bytes;
        let folded = line.first().copied().is_some_and(is_lws);
        let side = self.side(dir);
        if folded && side.has_pending {
            let room = limit.saturating_sub(side.pending.len());
            if line.len() > room && !side.pending_overflow {
                side.pending_overflow = true;
                self.too_long(dir, events);
            }
            let side = self.side(dir);
            side.pending
                .extend_from_slice(line.get(..line.len().min(room)).unwrap_or(&[]));
            return;
        }
        if folded {
            self.once(dir, once::FOLDING, events, |d| match d {
                Direction::ToServer => ev::INVALID_REQUEST_FIELD_FOLDING,
                Direction::ToClient => ev::INVALID_RESPONSE_FIELD_FOLDING,
            });
        }
        self.flush_header(dir, events);
        let side = self.side(dir);
        side.pending.clear();
        side.pending.extend_from_slice(line);
        side.has_pending = true;
        side.pending_overflow = false;
    }

    fn too_long(&mut self, dir: Direction, events: &mut AppEvents) {
        self.stats.lines_too_long += 1;
        events.push(
            dir,
            match dir {
                Direction::ToServer => ev::REQUEST_FIELD_TOO_LONG,
                Direction::ToClient => ev::RESPONSE_FIELD_TOO_LONG,
            },
        );
    }

    /// Raises `name(dir)` once per message.
    fn once(
        &mut self,
        dir: Direction,
        bit: u32,
        events: &mut AppEvents,
        name: fn(Direction) -> &'static str,
    ) {
        if let Some(tx) = self.cur_tx(dir) {
            let m = tx.msg_mut(dir);
            if m.once & bit == 0 {
                m.once |= bit;
                events.push(dir, name(dir));
            }
        }
    }

    /// Parses the pending (possibly folded) header line into the table.
    fn flush_header(&mut self, dir: Direction, events: &mut AppEvents) {
        let side = self.side(dir);
        if !side.has_pending {
            return;
        }
        side.has_pending = false;
        let pending = std::mem::take(&mut side.pending);
        let h = parse_header(&pending);
        if h.missing_colon {
            self.once(dir, once::MISSING_COLON, events, |d| match d {
                Direction::ToServer => ev::REQUEST_FIELD_MISSING_COLON,
                Direction::ToClient => ev::RESPONSE_FIELD_MISSING_COLON,
            });
        } else if h.invalid {
            self.once(dir, once::HEADER_INVALID, events, |d| match d {
                Direction::ToServer => ev::REQUEST_HEADER_INVALID,
                Direction::ToClient => ev::RESPONSE_HEADER_INVALID,
            });
        }
        let limits = self.limits;
        let outcome = match self.cur_tx(dir) {
            Some(tx) => add_header(&mut tx.msg_mut(dir).headers, h.name, h.value, &limits),
            None => Added::Ok,
        };
        match outcome {
            Added::Ok => {}
            Added::AmbiguousLength => events.push(
                dir,
                match dir {
                    Direction::ToServer => ev::DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST,
                    Direction::ToClient => ev::DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE,
                },
            ),
            Added::Repetition => {
                self.stats.header_repetitions += 1;
                self.once(dir, once::REPETITION, events, |d| match d {
                    Direction::ToServer => ev::REQUEST_HEADER_REPETITION,
                    Direction::ToClient => ev::RESPONSE_HEADER_REPETITION,
                });
            }
            Added::Dropped => {
                self.stats.headers_dropped += 1;
                self.once(dir, once::TOO_MANY_HEADERS, events, |d| match d {
                    Direction::ToServer => ev::REQUEST_TOO_MANY_HEADERS,
                    Direction::ToClient => ev::RESPONSE_TOO_MANY_HEADERS,
                });
            }
        }
        let mut pending = pending;
        pending.clear();
        self.side(dir).pending = pending;
    }

    fn chunk_len_line(
        &mut self,
        dir: Direction,
        raw: &[u8],
        overflow: bool,
        events: &mut AppEvents,
    ) {
        self.count_framing(dir, raw.len());
        let parsed = if overflow {
            ChunkLen::Invalid
        } else {
            parse_chunk_len(chomp(raw))
        };
        match parsed {
            ChunkLen::Empty => {}
            ChunkLen::Size(0) => self.side(dir).st = St::Trailers,
            ChunkLen::Size(n) => self.side(dir).st = St::ChunkData { left: n },
            ChunkLen::Invalid => match dir {
                Direction::ToServer => {
                    events.push(dir, ev::INVALID_REQUEST_CHUNK_LEN);
                    self.request_done(events);
                    self.req.st = St::Stopped;
                }
                Direction::ToClient => {
                    // libhtp falls back to a body read until close, this line included.
                    events.push(dir, ev::INVALID_RESPONSE_CHUNK_LEN);
                    self.resp.st = St::UntilClose;
                    self.body_data(dir, raw, false, events);
                }
            },
        }
    }

    /// Counts chunk framing bytes in the wire length of the body.
    fn count_framing(&mut self, dir: Direction, n: usize) {
        if let Some(tx) = self.cur_tx(dir) {
            let b = &mut tx.msg_mut(dir).body;
            b.message_len = b.message_len.saturating_add(n as u64);
        }
    }

    fn body_data(&mut self, dir: Direction, data: &[u8], count: bool, events: &mut AppEvents) {
        let limit = match dir {
            Direction::ToServer => self.limits.request_body_limit,
            Direction::ToClient => self.limits.response_body_limit,
        };
        let mut stop = None;
        let mut truncated_now = false;
        if let Some(tx) = self.cur_tx(dir) {
            let m = tx.msg_mut(dir);
            let body = &mut m.body;
            if count {
                body.message_len = body.message_len.saturating_add(data.len() as u64);
            }
            if !body.gap {
                let room = limit.saturating_sub(body.data.len());
                match body.decoder.as_mut() {
                    Some(dec) => {
                        let before = dec.produced;
                        let kept_before = body.data.len();
                        if dec.feed(data, room, &mut body.data) {
                            stop = dec.stopped;
                        }
                        let made = dec.produced.saturating_sub(before);
                        if made > (body.data.len() - kept_before) as u64 && !body.truncated {
                            body.truncated = true;
                            truncated_now = true;
                        }
                        if stop.is_some() && !matches!(stop, Some(Stop::Corrupt)) && !body.truncated
                        {
                            body.truncated = true;
                            truncated_now = true;
                        }
                    }
                    None => {
                        let take = data.len().min(room);
                        body.data.extend_from_slice(data.get(..take).unwrap_or(&[]));
                        if take < data.len() && !body.truncated {
                            body.truncated = true;
                            truncated_now = true;
                        }
                    }
                }
                if stop.is_some() && !matches!(stop, Some(Stop::Corrupt)) {
                    body.decoder = None;
                }
            }
            if truncated_now {
                m.once |= once::TRUNCATED;
            }
        }
        if truncated_now {
            self.stats.bodies_truncated += 1;
        }
        self.note_stop(dir, stop, events);
    }

    fn note_stop(&mut self, dir: Direction, stop: Option<Stop>, events: &mut AppEvents) {
        match stop {
            None => {}
            Some(Stop::Corrupt) => {
                self.stats.decompress_failed += 1;
                events.push(dir, ev::GZIP_DECOMPRESSION_FAILED);
            }
            Some(Stop::Bomb) => {
                self.stats.compression_bombs += 1;
                events.push(dir, ev::COMPRESSION_BOMB);
            }
            Some(Stop::Capped) => self.stats.decompress_capped += 1,
        }
    }

    fn body_gap(&mut self, dir: Direction, cur: Option<u64>, len: u64) {
        if let Some(id) = cur {
            if let Some(tx) = self.tx_mut(id) {
                let b = &mut tx.msg_mut(dir).body;
                b.gap = true;
                b.decoder = None;
                b.message_len = b.message_len.saturating_add(len);
            }
        }
    }

    fn finish_body(&mut self, dir: Direction, events: &mut AppEvents) {
        let limit = match dir {
            Direction::ToServer => self.limits.request_body_limit,
            Direction::ToClient => self.limits.response_body_limit,
        };
        let mut stop = None;
        if let Some(tx) = self.cur_tx(dir) {
            let body = &mut tx.msg_mut(dir).body;
            if let Some(mut dec) = body.decoder.take() {
                let room = limit.saturating_sub(body.data.len());
                let had = dec.stopped;
                dec.finish(room, &mut body.data);
                if had.is_none() {
                    stop = dec.stopped;
                }
            }
        }
        self.note_stop(dir, stop, events);
    }
}

/// Raises the events of libhtp's request flags. Suricata checks these flags when the request
/// line is parsed, when the headers are, and when the request completes, adding the events
/// each time; calling this at the same points gives the same counts.
fn raise_flags(flags: u32, events: &mut AppEvents) {
    let d = Direction::ToServer;
    for (bit, name) in [
        (
            flag::INVALID_TE,
            ev::INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST,
        ),
        (
            flag::INVALID_CL,
            ev::INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST,
        ),
        (flag::HOST_MISSING, ev::MISSING_HOST_HEADER),
        (flag::HOST_AMBIGUOUS, ev::HOST_HEADER_AMBIGUOUS),
        (flag::HOSTU_INVALID, ev::REQUEST_URI_HOST_INVALID),
        (flag::HOSTH_INVALID, ev::REQUEST_HEADER_HOST_INVALID),
    ] {
        if flags & bit != 0 {
            events.push(d, name);
        }
    }
}

/// `Transfer-Encoding` token test for requests (comma-separated, case-insensitive).
fn has_token(v: &[u8], token: &[u8]) -> bool {
    v.split(|c| *c == b',')
        .any(|t| super::parser::trim(t).eq_ignore_ascii_case(token))
}

/// The decompression to apply for `Content-Encoding`, raising `ABNORMAL_CE_HEADER` for unknown
/// codings and `TOO_MANY_ENCODING_LAYERS` for more than one (only the last is undone).
fn content_coding(h: &Headers, dir: Direction, events: &mut AppEvents) -> Option<Coding> {
    let v = h.get(b"content-encoding")?;
    let mut found = None;
    let mut layers = 0;
    for t in v.split(|c| *c == b',') {
        let t = super::parser::trim(t);
        let c = if t.eq_ignore_ascii_case(b"gzip") || t.eq_ignore_ascii_case(b"x-gzip") {
            Some(Coding::Gzip)
        } else if t.eq_ignore_ascii_case(b"deflate") || t.eq_ignore_ascii_case(b"x-deflate") {
            Some(Coding::Deflate)
        } else {
            if !t.is_empty() && !t.eq_ignore_ascii_case(b"identity") {
                events.push(dir, ev::ABNORMAL_CE_HEADER);
            }
            None
        };
        if c.is_some() {
            layers += 1;
            found = c;
        }
    }
    if layers > 1 {
        events.push(dir, ev::TOO_MANY_ENCODING_LAYERS);
    }
    found
}

enum Added {
    Ok,
    AmbiguousLength,
    Repetition,
    Dropped,
}

/// Adds a header to the table within the limits: duplicates merge with `", "` (a repeated
/// Content-Length is compared, not merged), at most `max_header_repetitions` times and up to
/// `max_header_line_bytes` per value; new names stop at `max_headers` / `max_header_bytes`,
/// except the framing and host headers, which are always kept.
fn add_header(h: &mut Headers, name: &[u8], value: &[u8], limits: &Limits) -> Added {
    let max_value = limits.max_header_line_bytes;
    if let Some(existing) = h.find_mut(name) {
        existing.repeats = existing.repeats.saturating_add(1);
        if name.eq_ignore_ascii_case(b"content-length") {
            let a = parse_content_length(&existing.value);
            let b = parse_content_length(value);
            return if a.is_none() || b.is_none() || a != b {
                Added::AmbiguousLength
            } else {
                Added::Ok
            };
        }
        if existing.repeats > limits.max_header_repetitions {
            return Added::Repetition;
        }
        if existing.value.len() + 2 + value.len() > max_value {
            return Added::Dropped;
        }
        existing.value.extend_from_slice(b", ");
        existing.value.extend_from_slice(value);
        h.bytes += 2 + value.len();
        return Added::Ok;
    }
    let critical = CRITICAL_HEADERS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name));
    if !critical
        && (h.list.len() >= limits.max_headers
            || h.bytes + name.len() + value.len() > limits.max_header_bytes)
    {
        return Added::Dropped;
    }
    h.bytes += name.len() + value.len();
    h.list.push(Header {
        name: name.to_vec(),
        value: value.to_vec(),
        repeats: 0,
    });
    Added::Ok
}

enum Partial {
    /// Could still become the start of the next message.
    Wait,
    /// Cannot start a message: more body of the one just completed.
    Body,
    /// Starts the next message.
    NextMessage,
}

/// What the unterminated bytes left after a complete message are.
fn partial_verdict(dir: Direction, line: &[u8]) -> Partial {
    match dir {
        Direction::ToClient => {
            let start = line
                .iter()
                .position(|c| !is_space(*c) && *c != 0)
                .unwrap_or(line.len());
            let rest = line.get(start..).unwrap_or(&[]);
            let n = rest.len().min(4);
            if rest.is_empty() {
                Partial::Wait
            } else if !rest
                .get(..n)
                .zip(b"HTTP".get(..n))
                .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
            {
                Partial::Body
            } else if n < 4 {
                Partial::Wait
            } else {
                Partial::NextMessage
            }
        }
        Direction::ToServer => {
            let start = line
                .iter()
                .position(|c| !is_space(*c))
                .unwrap_or(line.len());
            let rest = line.get(start..).unwrap_or(&[]);
            let end = rest.iter().position(|c| is_space(*c));
            let token = rest.get(..end.unwrap_or(rest.len())).unwrap_or(&[]);
            if token.is_empty() {
                Partial::Wait
            } else if end.is_some() {
                if method_kind(token) == Method::Unknown {
                    Partial::Body
                } else {
                    Partial::NextMessage
                }
            } else if KNOWN_METHODS.iter().any(|m| m.starts_with(token)) {
                Partial::Wait
            } else {
                Partial::Body
            }
        }
    }
}

/// After a gap: does this line start a request (known method + SP/HT) or a response?
fn looks_like_start(dir: Direction, line: &[u8]) -> bool {
    match dir {
        Direction::ToServer => KNOWN_METHODS.iter().any(|m| {
            line.starts_with(m) && line.get(m.len()).is_some_and(|c| *c == b' ' || *c == b'\t')
        }),
        Direction::ToClient => starts_with_ci(line, b"HTTP/"),
    }
}

/// libhtp's check after a request line without protocol: do the next bytes look like a
/// header (`name:` before any line break)?
fn looks_like_header(data: &[u8]) -> bool {
    let mut after_space = false;
    for &c in data {
        if c == b':' {
            return true;
        } else if is_lws(c) {
            after_space = true;
        } else if is_space(c) || after_space {
            return false;
        }
    }
    false
}
