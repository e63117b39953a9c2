//! Hostile and broken input: bad captures, bad packets, bad configuration, floods.
//! Documented exit codes: 0 success (bad packets are events), 1 fatal error, 2 usage error.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use std::io::Write;
use std::path::Path;

/// Writes a classic pcap with the given link type and frames (snaplen 262144).
fn write_pcap(path: &Path, link: u32, frames: &[(&[u8], u32)]) {
    let mut f = std::fs::File::create(path).unwrap();
    let mut hdr = Vec::new();
    hdr.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    hdr.extend_from_slice(&2u16.to_le_bytes());
    hdr.extend_from_slice(&4u16.to_le_bytes());
    hdr.extend_from_slice(&[0; 8]);
    hdr.extend_from_slice(&262144u32.to_le_bytes());
    hdr.extend_from_slice(&link.to_le_bytes());
    f.write_all(&hdr).unwrap();
    for (i, (data, orig)) in frames.iter().enumerate() {
        f.write_all(&(1_700_000_000u32 + i as u32).to_le_bytes())
            .unwrap();
        f.write_all(&0u32.to_le_bytes()).unwrap();
        f.write_all(&(data.len() as u32).to_le_bytes()).unwrap();
        f.write_all(&orig.to_le_bytes()).unwrap();
        f.write_all(data).unwrap();
    }
}

/// A valid Ethernet/IPv4/UDP frame from the project's generator.
fn udp_frame(payload_len: usize) -> Vec<u8> {
    use vedette_trafficgen::{Endpoints, IpParams, Link};
    let ep = Endpoints::new(
        "10.0.0.1".parse().unwrap(),
        1234,
        "10.0.0.2".parse().unwrap(),
        53,
    );
    let link = Link::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    vedette_trafficgen::udp_frame(&link, &IpParams::default(), &ep, &vec![0x41; payload_len])
}

fn anomalies(out: &Path) -> Vec<String> {
    of_type(&eve(&out.join("eve.json")), "anomaly")
        .iter()
        .map(|e| e["anomaly"]["event"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn bad_packets_become_anomaly_events_and_exit_zero() {
    let dir = tmpdir("hostile-packets");
    let good = udp_frame(100);
    let cut = &good[..good.len() - 30]; // snaplen-cut: IPv4 total length beyond captured bytes
    let jumbo = vec![0xabu8; 65_536]; // 64 KiB of garbage as an Ethernet frame
    let mut ipv4_garbage = good.clone();
    ipv4_garbage[14] = 0x41; // IHL 1: header length too small
    let pcap = dir.join("bad.pcap");
    write_pcap(
        &pcap,
        1,
        &[
            (&good, good.len() as u32),
            (&[], 60),
            (cut, good.len() as u32),
            (&jumbo, 65_536),
            (&ipv4_garbage, good.len() as u32),
            (&[1, 2, 3], 3),
        ],
    );
    let out = dir.join("out");
    analyze(&[&pcap], &out, &[]);
    let names = anomalies(&out);
    for want in [
        "decoder.ipv4.trunc_pkt",
        "decoder.ipv4.hlen_too_small",
        "decoder.ethernet.pkt_too_small",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "missing {want} in {names:?}"
        );
    }
    let events = eve(&out.join("eve.json"));
    let s = stats(&events);
    assert_eq!(s["stats"]["decoder"]["pkts"], 6);
    assert_eq!(
        of_type(&events, "flow").len(),
        1,
        "only the good packet makes a flow"
    );
}

#[test]
fn unknown_link_type_is_reported_per_packet() {
    let dir = tmpdir("hostile-linktype");
    let pcap = dir.join("lt147.pcap");
    let f = udp_frame(10);
    write_pcap(&pcap, 147, &[(&f, f.len() as u32), (&f, f.len() as u32)]);
    let out = dir.join("out");
    analyze(&[&pcap], &out, &[]);
    assert_eq!(
        anomalies(&out),
        vec![
            "decoder.unsupported_linktype",
            "decoder.unsupported_linktype"
        ]
    );
}

#[test]
fn truncated_and_corrupt_captures_are_errors_not_crashes() {
    let dir = tmpdir("hostile-files");
    let f = udp_frame(50);
    let good = dir.join("good.pcap");
    write_pcap(&good, 1, &[(&f, f.len() as u32), (&f, f.len() as u32)]);
    let bytes = std::fs::read(&good).unwrap();
    // Cut in the middle of the second record: the first packet is still analysed.
    let truncated = dir.join("truncated.pcap");
    std::fs::write(&truncated, &bytes[..bytes.len() - 20]).unwrap();
    let out = dir.join("out-trunc");
    analyze(&[&truncated], &out, &[]);
    assert_eq!(
        stats(&eve(&out.join("eve.json")))["stats"]["decoder"]["pkts"],
        1
    );

    // A record claiming 4 GB: the file stops there with an error naming it; exit 0 since
    // packets before it were read.
    let mut huge = bytes.clone();
    let second = 24 + 16 + f.len();
    huge[second + 8..second + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let hp = dir.join("huge-caplen.pcap");
    std::fs::write(&hp, &huge).unwrap();
    let o = run(vedette()
        .arg("analyze")
        .arg(&hp)
        .arg("--output-dir")
        .arg(dir.join("out-huge")));
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("huge-caplen.pcap"), "{err}");

    // Random bytes: not a capture at all. Exit 1 with a clear message.
    let mut rng = vedette_trafficgen::Rng::new(7);
    let noise: Vec<u8> = (0..100_000).map(|_| rng.next_u64() as u8).collect();
    let np = dir.join("noise.bin");
    std::fs::write(&np, &noise).unwrap();
    let o = run(vedette()
        .arg("analyze")
        .arg(&np)
        .arg("--output-dir")
        .arg(dir.join("out-noise")));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("noise.bin") && err.contains("not a pcap"),
        "{err}"
    );

    // A directory with good and broken files: the good ones are analysed, in time order.
    let mixed = dir.join("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    std::fs::copy(&good, mixed.join("a.pcap")).unwrap();
    std::fs::copy(&hp, mixed.join("b.pcap")).unwrap();
    std::fs::write(mixed.join("c.pcap"), b"").unwrap();
    let out = dir.join("out-mixed");
    analyze(&[&mixed], &out, &[]);
    assert_eq!(
        stats(&eve(&out.join("eve.json")))["stats"]["decoder"]["pkts"],
        3
    );

    // Usage errors exit 2; a missing file exits 1.
    assert_eq!(run(vedette().arg("analyze")).status.code(), Some(2));
    let o = run(vedette()
        .arg("analyze")
        .arg(dir.join("does-not-exist.pcap")));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn configuration_errors_name_the_key() {
    let o = run(vedette().args(["config", "--default"]));
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.parse::<toml::Table>().is_ok());
    assert!(text.contains("max_flows"));
    let dir = tmpdir("config-errors");
    let f = udp_frame(10);
    let pcap = dir.join("one.pcap");
    write_pcap(&pcap, 1, &[(&f, f.len() as u32)]);
    for (set, key) in [
        ("flow.max_flowz=5", "flow.max_flowz"),
        ("flow.max_flows=many", "flow.max_flows"),
        ("runtime.workers=0", "runtime.workers"),
    ] {
        let o = run(vedette()
            .arg("analyze")
            .arg(&pcap)
            .args(["--output-dir"])
            .arg(dir.join("o"))
            .args(["--set", set]));
        assert_eq!(o.status.code(), Some(1), "{set}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(key), "{set}: {err}");
    }
}

/// Runs a SYN flood from `sources` distinct addresses with a flow cap; returns (peak RSS bytes,
/// flows evicted at the cap).
fn flood_run(pcap: &Path, out: &Path, max_flows: u32) -> (u64, u64) {
    analyze(
        &[pcap],
        out,
        &[
            "--set",
            &format!("flow.max_flows={max_flows}"),
            // One flow event per source would be a 400 MB file; the bus is bounded either way.
            "--set",
            "outputs.eve.flow=false",
        ],
    );
    let events = eve(&out.join("eve.json"));
    let s = stats(&events);
    (
        s["stats"]["vedette"]["peak_rss_bytes"].as_u64().unwrap(),
        s["stats"]["flow"]["end"]["forced"].as_u64().unwrap(),
    )
}

#[test]
fn syn_flood_memory_is_bounded_by_the_flow_cap() {
    const SOURCES: u32 = 1_000_000;
    let dir = tmpdir("synflood");
    let pcap = dir.join("flood.pcap");
    let written = vedette_trafficgen::write_syn_flood(&pcap, SOURCES, 3).unwrap();
    assert_eq!(written, u64::from(SOURCES));
    let (capped_rss, evicted) = flood_run(&pcap, &dir.join("capped"), 20_000);
    assert_eq!(evicted, u64::from(SOURCES) - 20_000);
    // Without a tight cap the same flood holds a million flows: memory must be far higher,
    // which shows the first measurement is the cap at work.
    let (uncapped_rss, evicted) = flood_run(&pcap, &dir.join("uncapped"), 2_000_000);
    assert_eq!(evicted, 0);
    let mib = |b: u64| b as f64 / 1_048_576.0;
    eprintln!(
        "peak RSS with 20k cap: {:.1} MiB; with 2M cap: {:.1} MiB",
        mib(capped_rss),
        mib(uncapped_rss)
    );
    assert!(capped_rss > 0);
    assert!(
        capped_rss < 64 * 1_048_576,
        "capped run used {:.1} MiB",
        mib(capped_rss)
    );
    assert!(uncapped_rss > capped_rss + 100 * 1_048_576);
}
