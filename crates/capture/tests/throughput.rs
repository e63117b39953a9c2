//! Read throughput from the page cache. Ignored by default; run with
//! `cargo test --release -p vedette-capture --test throughput -- --ignored --nocapture`.
//!
//! Builds a capture of `VEDETTE_BENCH_BYTES` (default 1.5 GB) by repeating the records of the
//! shared `synthetic-small.pcap`, reads it once to warm the page cache, then times a full read
//! and asserts the packet and byte counts, so a fast wrong answer cannot pass.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use vedette_capture::{CaptureLimits, CaptureSet, FileSource, PacketSource};

/// The sample's records re-encoded as pcapng: (SHB + IDB, EPBs), microsecond resolution.
fn to_pcapng(sample: &Path) -> (Vec<u8>, Vec<u8>) {
    fn block(out: &mut Vec<u8>, block_type: u32, body: &[u8]) {
        let padded = (body.len() + 3) & !3;
        let total = (12 + padded) as u32;
        out.extend_from_slice(&block_type.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&total.to_le_bytes());
    }
    let mut head = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut head, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    block(&mut head, 1, &idb);
    let mut records = Vec::new();
    let mut src = FileSource::open(sample, CaptureLimits::default()).expect("opens");
    let mut body = Vec::new();
    while let Some(p) = src.next_packet().expect("reads") {
        let micros = (p.ts.0 / 1000) as u64;
        body.clear();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(micros as u32).to_le_bytes());
        body.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        body.extend_from_slice(&p.orig_len.to_le_bytes());
        body.extend_from_slice(p.data);
        block(&mut records, 6, &body);
    }
    (head, records)
}

fn checksum_read(src: &mut dyn PacketSource) -> (u64, u64, u64) {
    let mut packets = 0u64;
    let mut bytes = 0u64;
    // Touch the data and the timestamp so nothing is optimised away.
    let mut check = 0u64;
    while let Some(p) = src.next_packet().expect("reads") {
        packets += 1;
        bytes += p.data.len() as u64;
        check = check
            .wrapping_add(u64::from(p.data.first().copied().unwrap_or(0)))
            .wrapping_add(p.ts.0 as u64);
    }
    (packets, bytes, check)
}

#[test]
#[ignore = "benchmark: writes a large file to the temp dir"]
fn read_throughput_from_page_cache() {
    let shared = std::env::var_os("VEDETTE_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let sample = shared.join("data/pcap/synthetic-small.pcap");
    let Ok(bytes) = std::fs::read(&sample) else {
        eprintln!("skipping: {} not found", sample.display());
        return;
    };
    let target: u64 = std::env::var("VEDETTE_BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500_000_000);
    let (header, records) = bytes.split_at(24);
    let (ng_head, ng_records) = to_pcapng(&sample);
    for (name, header, records) in [
        ("pcap", header, records),
        ("pcapng", &ng_head[..], &ng_records[..]),
    ] {
        bench_one(&sample, name, header, records, target);
    }
}

fn bench_one(sample: &Path, name: &str, header: &[u8], records: &[u8], target: u64) {
    let copies = target.div_ceil(records.len() as u64);
    let path = std::env::temp_dir().join(format!("vedette-bench-{}.{name}", std::process::id()));
    {
        let mut f = std::io::BufWriter::with_capacity(
            8 << 20,
            std::fs::File::create(&path).expect("create"),
        );
        f.write_all(header).expect("write");
        for _ in 0..copies {
            f.write_all(records).expect("write");
        }
        f.flush().expect("flush");
    }
    let file_len = std::fs::metadata(&path).expect("meta").len();

    let mut per_copy = FileSource::open(sample, CaptureLimits::default()).expect("opens");
    let (sample_packets, sample_bytes, _) = checksum_read(&mut per_copy);

    // Warm the page cache.
    let _ = std::fs::read(&path).map(|v| v.len());

    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut src = FileSource::open(&path, CaptureLimits::default()).expect("opens");
        let (packets, data_bytes, _) = checksum_read(&mut src);
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(packets, sample_packets * copies);
        assert_eq!(data_bytes, sample_bytes * copies);
        best = best.min(secs);
    }
    let start = Instant::now();
    let mut set =
        CaptureSet::open(std::slice::from_ref(&path), CaptureLimits::default()).expect("opens");
    let (set_packets, _, _) = checksum_read(&mut set);
    let set_secs = start.elapsed().as_secs_f64();
    assert_eq!(set_packets, sample_packets * copies);

    let gbps = file_len as f64 / best / 1e9;
    println!(
        "{name} FileSource: {:.2} GB in {best:.3} s = {gbps:.2} GB/s, {:.2} Mpackets/s \
         ({} packets, mean {} B)",
        file_len as f64 / 1e9,
        (sample_packets * copies) as f64 / best / 1e6,
        sample_packets * copies,
        sample_bytes / sample_packets.max(1),
    );
    println!(
        "{name} CaptureSet: {:.2} GB/s",
        file_len as f64 / set_secs / 1e9
    );
    let _ = std::fs::remove_file(&path);
    assert!(gbps > 1.0, "read throughput {gbps:.2} GB/s is below 1 GB/s");
}
