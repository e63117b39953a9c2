//! DNS over UDP (each chunk one datagram) or TCP (chunks are stream bytes), chunk format in
//! `common.rs`, plus `probe` / `probe_tcp` / `message_direction`. No panic; every drained
//! record's EVE is valid JSON; names, question counts and tx ids keep to what the API documents.
//!
//! Config byte: bit 0 TCP (`State::new_tcp`) instead of UDP (`State::new_udp`), bit 1 small
//! limits (names, records, TCP message, queues hit quickly) instead of the defaults.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use vedette_applayer::dns::{self, Limits, Rdata, Section, State, Tx};
use vedette_applayer::AppEvents;
use vedette_eve::EventType;

/// First stream bytes kept per direction for `probe_tcp`.
const PROBE_BYTES: usize = 512;

fn small_limits() -> Limits {
    Limits {
        max_name_len: 32,
        max_name_steps: 8,
        max_records: 4,
        max_message_bytes: 256,
        max_tcp_message: 300,
        max_pending_queries: 4,
        max_queued_messages: 4,
        max_queued_bytes: 2048,
    }
}

fn touch(tx: &Tx, l: &Limits) {
    let _ = (tx.kind(), tx.is_response(), tx.dns_id(), tx.flags(), tx.opcode(), tx.rcode());
    let _ = (dns::rcode_name(tx.flags()), tx.rrtype().map(dns::rrtype_name));
    let nq = tx.questions().count();
    assert!(nq <= l.max_records, "{nq} questions kept, max_records {}", l.max_records);
    if tx.is_response() {
        assert_eq!(tx.record_index(), 0);
    } else {
        assert!(tx.record_index() < nq, "query record {} of {nq} questions", tx.record_index());
    }
    if let Some(q) = tx.query_tx_id() {
        assert!(q < tx.tx_id(), "answer matched to a later query");
    }
    for (name, t, c) in tx.questions() {
        assert!(name.len() <= l.max_name_len, "name of {} bytes", name.len());
        let _ = (dns::rrtype_name(t), t, c);
    }
    let _ = tx.query_names().map(<[u8]>::len).sum::<usize>();
    let _ = tx.answer_names().map(<[u8]>::len).sum::<usize>();
    let _ = tx.all_names().map(<[u8]>::len).sum::<usize>();
    for s in [Section::Answer, Section::Authority, Section::Additional] {
        for r in tx.records(s) {
            assert_eq!(r.section(), s);
            let _ = (r.name(), r.rrtype(), r.rrclass(), r.ttl());
            match r.rdata() {
                Rdata::Addr(a) | Rdata::Name(a) | Rdata::Txt(a) | Rdata::Null(a) => {
                    let _ = a.len();
                }
                Rdata::Mx { exchange, .. } => {
                    let _ = exchange.len();
                }
                Rdata::Soa { mname, rname, .. } => {
                    let _ = (mname.len(), rname.len());
                }
                Rdata::Srv { target, .. } => {
                    let _ = target.len();
                }
                Rdata::Sshfp { fingerprint, .. } => {
                    let _ = fingerprint.len();
                }
                Rdata::Other { len } => {
                    let _ = len;
                }
            }
        }
    }
    common::eve(EventType::Dns, |w| tx.write_eve(w));
}

fuzz_target!(|input: &[u8]| {
    let Some((&conf, rest)) = input.split_first() else { return };
    let tcp = conf & 1 != 0;
    let limits = if conf & 2 != 0 { small_limits() } else { Limits::default() };
    let mut st = if tcp { State::new_tcp(&limits) } else { State::new_udp(&limits) };
    let mut ev = AppEvents::default();
    let mut heads: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut last_id: Option<u64> = None;
    let mut on_tx = |tx: &Tx| {
        assert!(last_id.is_none_or(|p| tx.tx_id() >= p), "tx ids going back");
        last_id = Some(tx.tx_id());
        touch(tx, &limits);
    };
    for c in common::chunks(rest) {
        if tcp {
            let head = &mut heads[usize::from(c.tag & 1)];
            if c.gap.is_none() && head.len() < PROBE_BYTES {
                head.extend_from_slice(&c.data[..c.data.len().min(PROBE_BYTES - head.len())]);
                let _ = dns::probe_tcp(head, c.dir);
                let _ = dns::message_direction(head, true);
            }
        } else {
            let _ = dns::probe(c.data, c.dir);
            let _ = dns::message_direction(c.data, false);
        }
        match c.gap {
            Some(n) => st.gap(c.dir, n, &mut ev),
            None => st.parse(c.dir, c.data, &mut ev),
        }
        ev.clear();
        st.drain(false, &mut on_tx);
        let _ = st.heap_bytes();
    }
    st.drain(true, &mut on_tx);
});
