//! HTTP/1.x: a streaming parser per direction over in-order stream bytes (any split works),
//! transactions pairing each request with its response (FIFO, so pipelining works), the
//! inspection buffers of Suricata's `http.*` keywords, and EVE `http` records as Suricata 7
//! writes them. Field values follow libhtp 0.5 (Suricata 7's parser) with its `IDS`
//! personality: see [`uri`] for exactly what `http.uri` normalisation does.
//!
//! Engine contract (see the crate documentation): `State::new(&limits)`, `parse(dir, bytes,
//! events)` for each in-order chunk, `gap(dir, len, events)` for missing bytes,
//! `drain(at_end, f)` after each call to log finished transactions (`at_end` when the flow
//! ends), `Tx::write_eve` after the common header. After a successful `CONNECT` (or a `101`),
//! [`State::tunnel`] is set: HTTP parsing stops and the bytes that follow
//! ([`State::take_tunnel_data`]) belong to another protocol to detect.
//!
//! What the parser does, in libhtp's terms:
//! - Request line: leading whitespace skipped, method, URI, protocol split on whitespace; a line
//!   without protocol is an HTTP/0.9 simple request unless header lines follow (the response is
//!   then all body, read until the flow ends); empty lines before a request are ignored. A
//!   request line still missing its line ending when the response starts (or the flow ends) is
//!   taken as complete.
//! - Headers: `name: value`, LWS-folded continuation lines appended, duplicate names merged with
//!   `", "` (a repeated Content-Length is compared instead), a line without colon kept as a
//!   header with an empty name. Names are compared case-insensitively.
//! - Bodies: chunked Transfer-Encoding wins over Content-Length; chunk extensions and trailers
//!   are accepted (trailers join the header table); responses to HEAD and 1xx/204/304
//!   responses have no body; a response without length is read until the flow ends;
//!   `100 Continue` (and other 1xx except 101) responses are skipped. Request and response
//!   bodies with `Content-Encoding: gzip|deflate` are decompressed, bounded.
//! - After a complete message, the rest of the same chunk that does not start a new message
//!   (no known method / no `HTTP` prefix) is more body of that message, as libhtp's
//!   `FINALIZE` state does (Suricata counts it in `length`; for requests it raises
//!   `REQUEST_BODY_UNEXPECTED`).
//! - Invalid Content-Length or Transfer-Encoding stops that direction, as libhtp does.
//! - A response without request gets its own transaction (`UNABLE_TO_MATCH_RESPONSE_TO_REQUEST`,
//!   url `/libhtp::request_uri_not_seen`, as Suricata logs it).
//!
//! Events: Suricata's names ([`event`]). The request flags (`MISSING_HOST_HEADER`,
//! `REQUEST_HEADER_HOST_INVALID`, `HOST_HEADER_AMBIGUOUS`, `REQUEST_URI_HOST_INVALID`,
//! `INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST`, `INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST`) are
//! raised when the request line is parsed (if already set), when the headers are, and when the
//! request completes, because Suricata 7 evaluates them at those points: a GET without Host
//! gives two `MISSING_HOST_HEADER`, as in Suricata's output. Header-level anomalies are raised
//! once per message. Truncation of a stored body at its limit is counted in [`Stats`] but
//! raises no event (Suricata has none). Events produced while `drain(true)` finishes the flow
//! are not reported.
//!
//! Memory: every size an attacker controls is capped by [`Limits`]. Per transaction the parser
//! keeps at most about `3 * max_line_bytes` (line, URI, normalised URI) `+ 3 * max_header_bytes
//! + 5 * max_header_line_bytes` per side (header table, raw block, `http.header` buffer,
//! always-kept framing headers) plus the two body limits; decoders (flate2, ~40 KiB each) exist
//! only while a compressed body is received. At most `max_pending_tx` transactions wait for
//! `drain` (up to twice that within one `parse` call).

mod decompress;
mod eve;
mod parser;
mod state;
mod tx;
pub mod uri;

#[cfg(test)]
mod pcap_tests;
#[cfg(test)]
mod tests;

pub use state::State;
pub use tx::{Header, Progress, Tx};

use crate::Probe;
use vedette_types::Direction;

/// Suricata's `request-body-limit` / `response-body-limit` default (100 KiB).
pub const DEFAULT_BODY_LIMIT: usize = 100 * 1024;
/// libhtp's default field limit (`field-limit-hard`), used for line lengths.
pub const DEFAULT_FIELD_LIMIT: usize = 18_000;

/// What `Tx::write_eve` writes, as Suricata's `eve-log.types.http` options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// `extended: yes` (Suricata's shipped configuration): `http_refer`, `http_method`,
    /// `protocol`, `status`, `redirect`, `length`. Default true.
    pub extended: bool,
    /// `dump-all-headers: request|both`: `request_headers` array. Default false.
    pub request_headers: bool,
    /// `dump-all-headers: response|both`: `response_headers` array. Default false.
    pub response_headers: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            extended: true,
            request_headers: false,
            response_headers: false,
        }
    }
}

/// Limits of the HTTP parser. Defaults follow Suricata 7 / libhtp where they have one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest request/status line kept, line ending included (default 18000, libhtp's field
    /// limit). Longer lines are truncated and raise `REQUEST_FIELD_TOO_LONG` /
    /// `RESPONSE_FIELD_TOO_LONG`.
    pub max_line_bytes: usize,
    /// Longest header line (folded continuations included) or chunk-size line kept (default
    /// 18000); longer ones are truncated with the same events.
    pub max_header_line_bytes: usize,
    /// Most header fields kept per message (default 256); more raise
    /// `REQUEST_TOO_MANY_HEADERS` / `RESPONSE_TOO_MANY_HEADERS` and are not stored (framing
    /// and Host headers are always kept).
    pub max_headers: usize,
    /// Most header bytes (names + values) stored per message, and most raw header-block
    /// bytes kept for `http.header.raw` (default 64 KiB).
    pub max_header_bytes: usize,
    /// Most times one header name is merged (default 64, libhtp's); more raise
    /// `REQUEST_HEADER_REPETITION` / `RESPONSE_HEADER_REPETITION`.
    pub max_header_repetitions: u32,
    /// Request body bytes kept for inspection (Suricata's `request-body-limit`, 100 KiB).
    pub request_body_limit: usize,
    /// Response body bytes kept for inspection (`response-body-limit`, 100 KiB).
    pub response_body_limit: usize,
    /// Most decompressed bytes produced per body (default 1 MiB, Suricata's
    /// `compression-bomb-limit`); decompression stops there.
    pub max_decompressed_bytes: u64,
    /// When decompression stops at `max_decompressed_bytes` with a ratio above this, it is a
    /// `COMPRESSION_BOMB` (default 500; libhtp uses 2048, which a single deflate layer, at
    /// most about 1032:1, can never reach).
    pub compression_bomb_ratio: u64,
    /// Most transactions waiting to be handed over per flow (default 64). Beyond it
    /// `TOO_MANY_TRANSACTIONS` is raised and the oldest is handed over by the next `drain`
    /// before it completes; past twice the limit the oldest are dropped (counted).
    pub max_pending_tx: usize,
    /// Bytes kept per direction for the protocol that follows a tunnel (CONNECT/101), and
    /// request bytes held while a CONNECT waits for its answer (default 64 KiB).
    pub max_tunnel_bytes: usize,
    /// Raise `DOUBLE_ENCODED_URI` when the path or query still decodes after one decoding
    /// (Suricata's `double-decode-path/query`; default false as in Suricata).
    pub double_decode_events: bool,
    /// EVE output options.
    pub log: LogOptions,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: DEFAULT_FIELD_LIMIT,
            max_header_line_bytes: DEFAULT_FIELD_LIMIT,
            max_headers: 256,
            max_header_bytes: 64 * 1024,
            max_header_repetitions: 64,
            request_body_limit: DEFAULT_BODY_LIMIT,
            response_body_limit: DEFAULT_BODY_LIMIT,
            max_decompressed_bytes: 1024 * 1024,
            compression_bomb_ratio: 500,
            max_pending_tx: 64,
            max_tunnel_bytes: 64 * 1024,
            double_decode_events: false,
            log: LogOptions::default(),
        }
    }
}

/// Counters of one flow's HTTP state: limits hit and other conditions worth counting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Request/status/header/chunk lines cut by a line limit.
    pub lines_too_long: u64,
    /// Header fields not stored (count or byte limit).
    pub headers_dropped: u64,
    /// Header merges refused (repetition limit).
    pub header_repetitions: u64,
    /// Bodies whose stored bytes were cut by the body limit.
    pub bodies_truncated: u64,
    /// Decompressions stopped at `max_decompressed_bytes` at an ordinary ratio (no event:
    /// the rest is beyond what inspection keeps).
    pub decompress_capped: u64,
    /// Decompressions stopped as compression bombs.
    pub compression_bombs: u64,
    /// Bodies that failed to decompress (passed through or cut).
    pub decompress_failed: u64,
    /// Times `max_pending_tx` was reached.
    pub tx_limit_hits: u64,
    /// Transactions dropped without being handed over.
    pub tx_dropped: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Tunnel bytes not kept (beyond `max_tunnel_bytes`).
    pub tunnel_bytes_dropped: u64,
}

/// The stream became a tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunnel {
    /// Port named by the CONNECT target or Host header, if any.
    pub port: Option<u16>,
    /// True for `101 Switching Protocols`, false for a `CONNECT` answered 2xx.
    pub upgrade: bool,
}

/// App-layer event names raised by the HTTP parser: Suricata 7's names
/// (`app-layer-events` `http.*`), plus the few marked as vedette's own.
pub mod event {
    #![allow(missing_docs)] // each constant is its own name
    pub const UNKNOWN_ERROR: &str = "UNKNOWN_ERROR";
    pub const GZIP_DECOMPRESSION_FAILED: &str = "GZIP_DECOMPRESSION_FAILED";
    pub const REQUEST_FIELD_MISSING_COLON: &str = "REQUEST_FIELD_MISSING_COLON";
    pub const RESPONSE_FIELD_MISSING_COLON: &str = "RESPONSE_FIELD_MISSING_COLON";
    pub const INVALID_REQUEST_CHUNK_LEN: &str = "INVALID_REQUEST_CHUNK_LEN";
    pub const INVALID_RESPONSE_CHUNK_LEN: &str = "INVALID_RESPONSE_CHUNK_LEN";
    pub const INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST: &str =
        "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST";
    pub const INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST: &str =
        "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST";
    pub const INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE: &str =
        "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE";
    pub const DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST: &str =
        "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST";
    pub const DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE: &str =
        "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE";
    pub const CONTINUE_ALREADY_SEEN: &str = "100_CONTINUE_ALREADY_SEEN";
    pub const UNABLE_TO_MATCH_RESPONSE_TO_REQUEST: &str = "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST";
    pub const REQUEST_HEADER_INVALID: &str = "REQUEST_HEADER_INVALID";
    pub const RESPONSE_HEADER_INVALID: &str = "RESPONSE_HEADER_INVALID";
    pub const MISSING_HOST_HEADER: &str = "MISSING_HOST_HEADER";
    pub const HOST_HEADER_AMBIGUOUS: &str = "HOST_HEADER_AMBIGUOUS";
    pub const INVALID_REQUEST_FIELD_FOLDING: &str = "INVALID_REQUEST_FIELD_FOLDING";
    pub const INVALID_RESPONSE_FIELD_FOLDING: &str = "INVALID_RESPONSE_FIELD_FOLDING";
    pub const REQUEST_FIELD_TOO_LONG: &str = "REQUEST_FIELD_TOO_LONG";
    pub const RESPONSE_FIELD_TOO_LONG: &str = "RESPONSE_FIELD_TOO_LONG";
    pub const REQUEST_LINE_INVALID: &str = "REQUEST_LINE_INVALID";
    pub const REQUEST_BODY_UNEXPECTED: &str = "REQUEST_BODY_UNEXPECTED";
    pub const REQUEST_URI_HOST_INVALID: &str = "REQUEST_URI_HOST_INVALID";
    pub const REQUEST_HEADER_HOST_INVALID: &str = "REQUEST_HEADER_HOST_INVALID";
    pub const REQUEST_HEADER_REPETITION: &str = "REQUEST_HEADER_REPETITION";
    pub const RESPONSE_HEADER_REPETITION: &str = "RESPONSE_HEADER_REPETITION";
    pub const DOUBLE_ENCODED_URI: &str = "DOUBLE_ENCODED_URI";
    pub const URI_DELIM_NON_COMPLIANT: &str = "URI_DELIM_NON_COMPLIANT";
    pub const METHOD_DELIM_NON_COMPLIANT: &str = "METHOD_DELIM_NON_COMPLIANT";
    pub const REQUEST_LINE_LEADING_WHITESPACE: &str = "REQUEST_LINE_LEADING_WHITESPACE";
    pub const TOO_MANY_ENCODING_LAYERS: &str = "TOO_MANY_ENCODING_LAYERS";
    pub const ABNORMAL_CE_HEADER: &str = "ABNORMAL_CE_HEADER";
    pub const RESPONSE_MULTIPART_BYTERANGES: &str = "RESPONSE_MULTIPART_BYTERANGES";
    pub const RESPONSE_ABNORMAL_TRANSFER_ENCODING: &str = "RESPONSE_ABNORMAL_TRANSFER_ENCODING";
    pub const RESPONSE_CHUNKED_OLD_PROTO: &str = "RESPONSE_CHUNKED_OLD_PROTO";
    pub const RESPONSE_INVALID_PROTOCOL: &str = "RESPONSE_INVALID_PROTOCOL";
    pub const RESPONSE_INVALID_STATUS: &str = "RESPONSE_INVALID_STATUS";
    pub const COMPRESSION_BOMB: &str = "COMPRESSION_BOMB";
    /// vedette's own (Suricata 7 has no header count limit).
    pub const REQUEST_TOO_MANY_HEADERS: &str = "REQUEST_TOO_MANY_HEADERS";
    /// vedette's own (Suricata 7 has no header count limit).
    pub const RESPONSE_TOO_MANY_HEADERS: &str = "RESPONSE_TOO_MANY_HEADERS";
    /// vedette's own: `max_pending_tx` reached.
    pub const TOO_MANY_TRANSACTIONS: &str = "TOO_MANY_TRANSACTIONS";
}

/// Methods Suricata's HTTP detection recognises at the start of a client stream (followed by
/// SP or HT, case-insensitive).
const PROBE_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"CHECKOUT",
    b"UNCHECKOUT",
    b"CHECKIN",
    b"UPDATE",
    b"LABEL",
    b"REPORT",
    b"MKWORKSPACE",
    b"MKACTIVITY",
    b"MERGE",
    b"SEARCH",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
];

/// Port-independent detection from the first bytes of a direction: a client stream starts
/// with a known method and SP/HT, a server stream with `HTTP/1.` (both case-insensitive).
/// `NeedMore` while the bytes are a strict prefix of such a start.
pub fn probe(data: &[u8], dir: Direction) -> Probe {
    if data.is_empty() {
        return Probe::NeedMore;
    }
    match dir {
        Direction::ToServer => {
            let mut more = false;
            for m in PROBE_METHODS {
                if data.len() > m.len() {
                    if parser::starts_with_ci(data, m)
                        && data.get(m.len()).is_some_and(|c| *c == b' ' || *c == b'\t')
                    {
                        return Probe::Yes;
                    }
                } else if m
                    .get(..data.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(data))
                {
                    more = true;
                }
            }
            if more {
                Probe::NeedMore
            } else {
                Probe::No
            }
        }
        Direction::ToClient => {
            const START: &[u8] = b"HTTP/1.";
            if data.len() >= START.len() {
                if parser::starts_with_ci(data, START) {
                    Probe::Yes
                } else {
                    Probe::No
                }
            } else if START
                .get(..data.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(data))
            {
                Probe::NeedMore
            } else {
                Probe::No
            }
        }
    }
}
