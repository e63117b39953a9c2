//! `cargo bench -p vedette-engine`: the per-packet pipeline (decode → defrag → flow → app layer
//! → EVE) on packets already in memory, one worker, no I/O. Prints Mpps and Gbps per pass and
//! asserts the flow and event counts, so a fast wrong answer fails the benchmark.
//!
//! Input: `$VEDETTE_SHARED/data/pcap/synthetic-small.pcap` when present, else the demo capture
//! from vedette's own generator.

use std::path::PathBuf;
use std::time::Instant;
use vedette_capture::{CaptureLimits, FileSource, Packet, PacketSource};
use vedette_engine::{EngineConfig, Worker};
use vedette_eve::EventBatch;
use vedette_types::{LinkType, Timestamp};

fn load() -> (String, Vec<(Timestamp, LinkType, Vec<u8>)>) {
    let shared = std::env::var_os("VEDETTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let mut path = shared.join("data/pcap/synthetic-small.pcap");
    if !path.is_file() {
        path = std::env::temp_dir().join("vedette-bench-demo.pcap");
        vedette_trafficgen::write_demo_capture(&path, 1).expect("write demo capture");
    }
    let mut src = FileSource::open(&path, CaptureLimits::default()).expect("open capture");
    let mut pkts = Vec::new();
    while let Ok(Some(p)) = src.next_packet() {
        pkts.push((p.ts, p.link_type, p.data.to_vec()));
    }
    (path.display().to_string(), pkts)
}

fn run(pkts: &[(Timestamp, LinkType, Vec<u8>)], cfg: &EngineConfig) -> (u64, usize) {
    let mut w = Worker::new(cfg);
    let mut events = 0usize;
    for (i, (ts, lt, data)) in pkts.iter().enumerate() {
        let p = Packet {
            ts: *ts,
            data,
            orig_len: data.len() as u32,
            link_type: *lt,
        };
        w.process(&p, i as u64 + 1);
        if w.pending_event_bytes() > 1 << 20 {
            events += w.swap_batch(EventBatch::default()).len();
        }
    }
    w.finish();
    events += w.swap_batch(EventBatch::default()).len();
    (w.stats().flow.created(), events)
}

fn main() {
    let (name, pkts) = load();
    let bytes: usize = pkts.iter().map(|p| p.2.len()).sum();
    let mut cfg = EngineConfig::default();
    cfg.decode.validate_checksums = false;
    let (flows, events) = run(&pkts, &cfg);
    println!(
        "input: {name}: {} packets, {bytes} bytes; {flows} flows, {events} events",
        pkts.len()
    );
    assert!(
        flows > 0 && events as u64 >= flows,
        "pipeline produced no flows"
    );
    let passes = 20;
    let mut best = f64::MAX;
    for _ in 0..passes {
        let t = Instant::now();
        let (f, e) = run(&pkts, &cfg);
        let secs = t.elapsed().as_secs_f64();
        assert_eq!((f, e), (flows, events), "results changed between passes");
        best = best.min(secs);
    }
    println!(
        "pipeline (best of {passes}): {:.3} ms/pass, {:.2} Mpps, {:.2} Gbps, {:.0} ns/packet",
        best * 1e3,
        pkts.len() as f64 / best / 1e6,
        bytes as f64 * 8.0 / best / 1e9,
        best * 1e9 / pkts.len() as f64
    );
}
