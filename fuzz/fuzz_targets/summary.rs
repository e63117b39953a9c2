//! `vedette sniff`'s per-packet app summary: config byte (bit 0 TCP, bit 1 port 53, bit 2
//! port 80) + one payload. No panic; the summary is printable ASCII and bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedette_applayer::summary::{summarize, MAX_SUMMARY_FIELD};

fuzz_target!(|input: &[u8]| {
    let Some((&conf, payload)) = input.split_first() else { return };
    let dport = if conf & 2 != 0 { 53 } else if conf & 4 != 0 { 80 } else { 443 };
    let mut out = String::new();
    summarize(conf & 1 != 0, 40000, dport, payload, &mut out);
    assert!(out.bytes().all(|c| (0x20..0x7f).contains(&c)), "{out:?}");
    // Escapes take four bytes per input byte; a summary holds at most two packet fields.
    assert!(out.len() <= 128 + 2 * (4 * MAX_SUMMARY_FIELD + 3), "{} bytes", out.len());
});
