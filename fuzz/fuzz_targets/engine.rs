//! The whole per-packet pipeline (decode, defragment, flow table, TCP state, app layer, EVE)
//! over a sequence of frames. Nothing may panic, and every EVE record must be valid JSON.
//!
//! Input: one config byte, then records of `[dt, len_hi, len_lo, frame bytes...]`
//! (scripts/mkseeds.py writes seeds in this format).
//! - config bits 0-3: link type (LINKS), bit 4: midstream, bit 5: verify checksums,
//!   bit 6: tiny tables (flow/defrag/stream caps hit quickly), bit 7: app layer off.
//! - dt < 0xf0: time advances dt milliseconds; 0xf0..=0xfd: advances (dt-0xef)*30 s and the
//!   worker is ticked first (timeouts fire); 0xfe: time goes back one second (pcaps are not
//!   always in order).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedette_capture::Packet;
use vedette_engine::{new_batch, EngineConfig, Worker};
use vedette_types::{LinkType, Timestamp};

const LINKS: [u32; 16] = [1, 1, 1, 1, 1, 1, 1, 1, 101, 101, 113, 276, 0, 108, 228, 229];

fn check_batch(w: &mut Worker) {
    let batch = w.swap_batch(new_batch(false));
    for i in 0..batch.len() {
        let rec = batch.record(i).expect("record index in range");
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(rec) {
            panic!("invalid EVE JSON ({e}): {}", String::from_utf8_lossy(rec));
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&conf, mut rest)) = input.split_first() else { return };
    let link = LinkType(LINKS[usize::from(conf & 0x0f)]);
    let mut cfg = EngineConfig::default();
    cfg.flow.midstream = conf & 0x10 != 0;
    cfg.decode.validate_checksums = conf & 0x20 != 0;
    if conf & 0x40 != 0 {
        cfg.flow.max_flows = 4;
        cfg.defrag.max_trackers = 2;
        cfg.defrag.max_bytes = 4096;
        cfg.defrag.max_fragments = 4;
        cfg.stream.depth = 512;
        cfg.stream.max_queued_bytes = 1024;
        cfg.stream.max_queued_segments = 4;
    } else {
        // Keeps Worker::new cheap; still far more flows than one input can open.
        cfg.flow.max_flows = 4096;
    }
    cfg.app_layer = conf & 0x80 == 0;
    let mut w = Worker::new(&cfg);
    let mut ts = Timestamp::from_secs(1_700_000_000);
    let mut n = 0u64;
    while let [dt, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        match *dt {
            0..=0xef => ts = ts.add_nanos(i64::from(*dt) * 1_000_000),
            0xf0..=0xfd => {
                ts = ts.add_secs(i64::from(*dt - 0xef) * 30);
                w.tick(ts);
            }
            _ => ts = ts.add_secs(-1),
        }
        n += 1;
        let pkt = Packet { ts, data: frame, orig_len: frame.len() as u32, link_type: link };
        w.process(&pkt, n);
        if w.pending_event_bytes() > 1 << 20 {
            check_batch(&mut w);
        }
    }
    w.finish();
    let _ = w.stats();
    check_batch(&mut w);
});
