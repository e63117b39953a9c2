//! One frame of a fuzzer-chosen link type through the decoder; no input may panic it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedette_decode::{decode, decode_ip, shard_hash, DecodeConfig, L4};
use vedette_types::LinkType;

const LINKS: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

fuzz_target!(|input: &[u8]| {
    let Some((&sel, rest)) = input.split_first() else { return };
    // Selector byte: a known link type, or (out of range) a random u32 read from the input.
    let (link, frame) = match LINKS.get(usize::from(sel)) {
        Some(&l) => (l, rest),
        None if sel == 0xff && rest.len() >= 4 => {
            (u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]), &rest[4..])
        }
        None => (LINKS[usize::from(sel) % LINKS.len()], rest),
    };
    let link = LinkType(link);
    let cfg = DecodeConfig { validate_checksums: sel & 0x80 == 0 };
    let d = decode(link, frame, &cfg);
    let _ = (d.addrs(), d.ports(), d.ip_proto(), d.vlans(), d.payload.len(), d.fragment);
    for ev in d.events.as_slice() {
        let _ = (ev.name(), ev.index());
    }
    match d.l4 {
        L4::Tcp(t) => {
            let _ = (t.options(), t.flags(), t.header().len(), t.payload().len());
        }
        L4::Icmp4(i) | L4::Icmp6(i) => {
            let _ = (i.embedded(), i.id(), i.seq(), i.payload().len());
        }
        _ => {}
    }
    // The defragmenter hands rebuilt datagrams to decode_ip with the outer packet's link facts.
    if let Some(ip) = frame.get(d.ip_offset..) {
        let r = decode_ip(ip, &d, &cfg);
        let _ = (r.addrs(), r.ports(), r.ip_proto(), r.vlans());
    }
    let _ = shard_hash(link, frame);
});
