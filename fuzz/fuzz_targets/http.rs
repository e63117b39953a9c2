//! HTTP/1.x state machine over a direction-tagged chunk sequence (format in `common.rs`), as
//! the engine drives it: `parse`/`gap`, `drain(false)` after every chunk, `drain(true)` at the
//! end. No panic; every drained transaction's EVE is valid JSON; buffers stay within their
//! limits; `heap_bytes()` stays under a bound derived from `Limits`.
//!
//! Config byte: bit 0 small limits (hit quickly) instead of the defaults, bit 1 EVE
//! `extended` off, bit 2 / bit 3 dump request / response headers, bit 4 double-decode events.
//! Chunk tag bit 3: take the tunnel bytes (both directions) after the chunk.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use vedette_applayer::http::{self, Header, Limits, LogOptions, State, Tx};
use vedette_applayer::AppEvents;
use vedette_eve::EventType;
use common::DIRS;

fn small_limits() -> Limits {
    Limits {
        max_line_bytes: 256,
        max_header_line_bytes: 256,
        max_headers: 8,
        max_header_bytes: 1024,
        max_header_repetitions: 4,
        request_body_limit: 512,
        response_body_limit: 512,
        max_decompressed_bytes: 4096,
        max_pending_tx: 4,
        max_tunnel_bytes: 512,
        ..Limits::default()
    }
}

/// Headers always kept whatever the count limit (framing and host: state.rs CRITICAL_HEADERS).
const ALWAYS_KEPT_HEADERS: usize = 5;

/// Heap bound, from the `http` module documentation: per transaction and side about
/// `3 * max_line_bytes + 3 * max_header_bytes + 5 * max_header_line_bytes` plus the body limit
/// (and the header table's `Header` slots); at most `2 * max_pending_tx` transactions (plus the
/// stand-in for an unmatched response); per direction the line / folding / CONNECT buffers and
/// the tunnel bytes. Doubled for Vec growth slack (capacity up to twice the length), as the
/// http property tests do.
fn heap_bound(l: &Limits) -> usize {
    let line = l.max_line_bytes.max(l.max_header_line_bytes);
    let side = |body: usize| {
        3 * l.max_line_bytes
            + 3 * l.max_header_bytes
            + 5 * l.max_header_line_bytes
            + body
            + (l.max_headers + ALWAYS_KEPT_HEADERS) * std::mem::size_of::<Header>()
    };
    let tx = side(l.request_body_limit)
        + side(l.response_body_limit)
        + 3 * l.max_line_bytes // method, hostname, status strings: pieces of the lines
        + std::mem::size_of::<Tx>();
    let per_dir = 2 * line + l.max_tunnel_bytes; // line + folding buffer + CONNECT hold
    2 * ((2 * l.max_pending_tx + 1) * tx + 2 * per_dir + 2 * l.max_tunnel_bytes)
}

/// Reads every inspection buffer, checks the documented limits, and (for drained
/// transactions) writes the EVE record twice: as configured, and with every option on.
fn touch(tx: &Tx, l: &Limits, log: bool) {
    let _ = (tx.id(), tx.request_line_done(), tx.request_headers_done(), tx.request_complete());
    let _ = (tx.response_line_done(), tx.response_headers_done(), tx.response_complete());
    let _ = (tx.method(), tx.uri(), tx.uri_raw(), tx.request_protocol(), tx.host());
    let _ = (tx.host_raw(), tx.port(), tx.user_agent(), tx.referer());
    let _ = (tx.request_header(b"accept"), tx.response_header(b"server"));
    let _ = (tx.response_line(), tx.response_protocol(), tx.stat_code(), tx.status());
    let _ = (tx.stat_msg(), tx.location(), tx.server());
    if let Some(line) = tx.request_line() {
        assert!(line.len() <= l.max_line_bytes, "request line over max_line_bytes");
    }
    if let Some(line) = tx.response_line() {
        assert!(line.len() <= l.max_line_bytes, "response line over max_line_bytes");
    }
    if let Some(s) = tx.status() {
        assert!((100..=999).contains(&s), "status {s}");
    }
    assert!(tx.request_body().len() <= l.request_body_limit, "request body over its limit");
    assert!(tx.response_body().len() <= l.response_body_limit, "response body over its limit");
    for dir in DIRS {
        let _ = (tx.progress(dir), tx.cookie(dir), tx.content_type(dir), tx.content_len(dir));
        let _ = (tx.header(dir), tx.header_raw(dir), tx.header_names(dir));
        let _ = (tx.body_wire_len(dir), tx.body_truncated(dir), tx.has_gap(dir));
        let hs = tx.headers(dir);
        assert!(
            hs.len() <= l.max_headers + ALWAYS_KEPT_HEADERS,
            "{} headers kept with max_headers {}",
            hs.len(),
            l.max_headers
        );
        for h in hs {
            let _ = (h.name().len(), h.value().len());
        }
        for (n, v) in tx.eve_headers(dir) {
            assert!(n.len() <= 255 && v.len() <= 2047);
        }
    }
    if log {
        let v = common::eve(EventType::Http, |w| tx.write_eve(w));
        assert_eq!(v["tx_id"].as_u64(), Some(tx.id()));
        let all = LogOptions { extended: true, request_headers: true, response_headers: true };
        common::eve(EventType::Http, |w| tx.write_eve_with(w, &all));
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&conf, rest)) = input.split_first() else { return };
    let mut limits = if conf & 1 != 0 { small_limits() } else { Limits::default() };
    limits.log = LogOptions {
        extended: conf & 2 == 0,
        request_headers: conf & 4 != 0,
        response_headers: conf & 8 != 0,
    };
    limits.double_decode_events = conf & 0x10 != 0;
    let bound = heap_bound(&limits);
    let mut st = State::new(&limits);
    let mut ev = AppEvents::default();
    let mut last_id: Option<u64> = None;
    let mut on_tx = |tx: &Tx| {
        assert!(last_id.is_none_or(|p| tx.id() > p), "tx ids not increasing");
        last_id = Some(tx.id());
        touch(tx, &limits, true);
    };
    for c in common::chunks(rest) {
        let _ = http::probe(c.data, c.dir);
        match c.gap {
            Some(n) => st.gap(c.dir, n, &mut ev),
            None => st.parse(c.dir, c.data, &mut ev),
        }
        for (_, name) in ev.iter() {
            assert!(!name.is_empty());
        }
        ev.clear();
        if let Some(t) = st.tunnel() {
            let _ = (t.port, t.upgrade);
            if c.tag & 8 != 0 {
                for dir in DIRS {
                    let held = st.take_tunnel_data(dir);
                    assert!(held.len() <= limits.max_tunnel_bytes, "tunnel bytes over limit");
                }
            }
        }
        for tx in st.transactions() {
            touch(tx, &limits, false);
        }
        st.drain(false, &mut on_tx);
        let heap = st.heap_bytes();
        assert!(heap <= bound, "heap_bytes {heap} over bound {bound}");
    }
    st.drain(true, &mut on_tx);
    assert_eq!(st.transactions().count(), 0, "drain(true) left transactions");
    let _ = st.stats();
});
