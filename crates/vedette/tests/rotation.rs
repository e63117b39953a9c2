//! EVE file rotation by size: no event lost or split, older files pruned to `rotate_keep`.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use std::path::Path;

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn eve_rotation_by_size_keeps_every_event_whole() {
    let Some(shared) = shared() else { return };
    let pcap = shared.join("data/pcap/synthetic-small.pcap");
    let plain = tmpdir("rotation-plain");
    analyze(&[&pcap], &plain, &["-k", "none", "--no-store"]);
    let mut want = lines(&plain.join("eve.json"));
    let out = tmpdir("rotation-size");
    let limit = 1_000_000u64;
    analyze(
        &[&pcap],
        &out,
        &[
            "-k",
            "none",
            "--no-store",
            "--set",
            &format!("outputs.eve.rotate_bytes={limit}"),
        ],
    );
    let mut got = Vec::new();
    let mut n = 1;
    while out.join(format!("eve.json.{n}")).is_file() {
        let p = out.join(format!("eve.json.{n}"));
        // A file is rotated between batches (at most 512 KiB each) once it reaches the limit.
        let size = std::fs::metadata(&p).unwrap().len();
        assert!(
            size >= limit && size <= limit + 1024 * 1024,
            "{}: {size}",
            p.display()
        );
        got.extend(lines(&p));
        n += 1;
    }
    assert!(n > 3, "expected several rotated files, got {}", n - 1);
    got.extend(lines(&out.join("eve.json")));
    for l in &got {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    // The stats event carries run times; compare everything else.
    let strip = |v: &mut Vec<String>| v.retain(|l| !l.contains("\"event_type\":\"stats\""));
    strip(&mut want);
    strip(&mut got);
    assert_eq!(got.len(), want.len());
    want.sort();
    got.sort();
    assert!(got == want, "rotated files differ from the unrotated run");

    let kept = tmpdir("rotation-keep");
    analyze(
        &[&pcap],
        &kept,
        &[
            "-k",
            "none",
            "--no-store",
            "--set",
            &format!("outputs.eve.rotate_bytes={limit}"),
            "--set",
            "outputs.eve.rotate_keep=2",
        ],
    );
    let mut names: Vec<String> = std::fs::read_dir(&kept)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("eve.json."))
        .collect();
    names.sort();
    let last = n - 1;
    assert_eq!(
        names,
        vec![format!("eve.json.{}", last - 1), format!("eve.json.{last}")],
        "only the two newest rotated files are kept"
    );
}
