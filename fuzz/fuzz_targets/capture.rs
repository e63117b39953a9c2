//! The bytes as a classic pcap / pcapng stream: reading it to the end must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedette_capture::{CaptureLimits, FileSource, PacketSource};

fuzz_target!(|data: &[u8]| {
    let reader = Box::new(std::io::Cursor::new(data.to_vec()));
    let limits = CaptureLimits { max_packet_bytes: 65536 };
    let Ok(mut src) = FileSource::from_reader(reader, "fuzz", limits) else { return };
    let _ = src.format();
    // A returned packet is made of input bytes, so the reader can never produce more
    // packets than the input has bytes: bound the loop to catch a reader that never ends.
    for _ in 0..=data.len() {
        match src.next_packet() {
            Ok(Some(p)) => {
                assert!(p.data.len() <= 65536, "packet over max_packet_bytes");
                let _ = (p.ts, p.orig_len, p.link_type);
            }
            Ok(None) | Err(_) => {
                let _ = (src.stats(), src.offset());
                return;
            }
        }
    }
    panic!("next_packet returned more packets than input bytes");
});
