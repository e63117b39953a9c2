//! Reading the shared capture corpus (`$VEDETTE_SHARED`, default `../shared` next to the
//! workspace). Skipped with a message when the corpus is absent, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use vedette_capture::{CaptureLimits, CaptureSet, FileSource, PacketSource};
use vedette_types::Timestamp;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VEDETTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("data").is_dir() {
        return Some(dir);
    }
    let msg = format!("shared test data not found at {}", dir.display());
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg} (required when CI=true)");
    }
    eprintln!("skipping: {msg}; set VEDETTE_SHARED");
    None
}

/// Every record of a classic little-endian pcap, walked independently of the crate:
/// (seconds, microseconds, caplen).
fn walk_classic(bytes: &[u8]) -> Vec<(u32, u32, usize)> {
    let u32_at = |at: usize| {
        let mut a = [0u8; 4];
        a.copy_from_slice(&bytes[at..at + 4]);
        u32::from_le_bytes(a)
    };
    assert_eq!(
        u32_at(0),
        0xa1b2_c3d4,
        "test expects a little-endian µs pcap"
    );
    let mut at = 24;
    let mut out = Vec::new();
    while at < bytes.len() {
        let caplen = u32_at(at + 8) as usize;
        out.push((u32_at(at), u32_at(at + 4), caplen));
        at += 16 + caplen;
    }
    assert_eq!(at, bytes.len(), "file size == 24 + sum(16 + caplen)");
    out
}

#[test]
fn synthetic_small_matches_an_independent_record_walk() {
    let Some(shared) = shared_dir() else { return };
    let path = shared.join("data/pcap/synthetic-small.pcap");
    let bytes = std::fs::read(&path).expect("read synthetic-small.pcap");
    let expected = walk_classic(&bytes);
    assert!(!expected.is_empty());

    let mut src = FileSource::open(&path, CaptureLimits::default()).expect("opens");
    let mut n = 0;
    while let Some(p) = src.next_packet().expect("no error") {
        let (secs, usecs, caplen) = expected[n];
        assert_eq!(p.data.len(), caplen, "packet {n}");
        assert_eq!(
            p.ts,
            Timestamp::from_parts(i64::from(secs), usecs * 1000),
            "packet {n}"
        );
        assert!(p.orig_len as usize >= caplen);
        n += 1;
    }
    assert_eq!(n, expected.len());
    let st = src.stats();
    assert_eq!(st.packets as usize, expected.len());
    assert_eq!(
        st.bytes as usize,
        expected.iter().map(|r| r.2).sum::<usize>()
    );
    assert_eq!(st.files_truncated, 0);
    assert_eq!(src.offset(), bytes.len() as u64);
}

fn captures_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            captures_under(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng")
        ) {
            out.push(path);
        }
    }
}

/// Every capture in the corpus reads to the end without panicking; only problems are printed.
#[test]
fn every_shared_capture_reads_without_panic() {
    let Some(shared) = shared_dir() else { return };
    let mut files = Vec::new();
    captures_under(&shared.join("conformance/tests"), &mut files);
    captures_under(&shared.join("data/pcap/labeled"), &mut files);
    files.sort();
    assert!(!files.is_empty(), "corpus has captures");
    let mut total_packets = 0u64;
    let mut problems = 0;
    for path in &files {
        let mut src = match FileSource::open(path, CaptureLimits::default()) {
            Ok(src) => src,
            Err(e) => {
                // An empty file is not a capture; anything else is worth a look.
                println!("open: {e}");
                problems += 1;
                continue;
            }
        };
        loop {
            match src.next_packet() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    println!("read: {e}");
                    problems += 1;
                    break;
                }
            }
        }
        if src.stats().files_truncated > 0 {
            println!("truncated: {}", path.display());
        }
        total_packets += src.stats().packets;
    }
    println!(
        "{} files, {total_packets} packets, {problems} problems",
        files.len()
    );
    assert!(total_packets > 0);
}

/// A directory given to a set means every capture under it; the set yields as many packets as
/// the files read one by one, in non-decreasing order of each file's first packet.
#[test]
fn labeled_directory_as_a_set() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("data/pcap/labeled");
    let mut files = Vec::new();
    captures_under(&dir, &mut files);
    let mut expected = 0;
    for path in &files {
        if let Ok(mut src) = FileSource::open(path, CaptureLimits::default()) {
            while let Ok(Some(_)) = src.next_packet() {
                expected += 1;
            }
        }
    }
    let mut set = CaptureSet::open(&[dir], CaptureLimits::default()).expect("opens");
    let mut n = 0;
    let mut last_file: Option<PathBuf> = None;
    let mut last_first_ts = None;
    while let Some(p) = set.next_packet().expect("sets never fail") {
        let ts = p.ts;
        n += 1;
        let current = set.current_file().map(Path::to_path_buf);
        if current != last_file {
            // First packet of a new file: no earlier than the previous file's first packet.
            if let Some(prev) = last_first_ts {
                assert!(ts >= prev, "{current:?} starts before the previous file");
            }
            last_first_ts = Some(ts);
            last_file = current;
        }
    }
    assert_eq!(n, expected);
    assert_eq!(set.stats().packets, expected);
    assert_eq!(set.bytes_read(), set.total_bytes());
}

/// Differential test against Wireshark's `editcap` (skipped when it is not installed): the same
/// packets converted to pcapng and to nanosecond pcap read back identically.
#[test]
fn editcap_conversions_read_back_identically() {
    let Some(shared) = shared_dir() else { return };
    let src_path = shared.join("data/pcap/synthetic-small.pcap");
    let tmp = std::env::temp_dir().join(format!("vedette-capture-editcap-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut reference = Vec::new();
    let mut src = FileSource::open(&src_path, CaptureLimits::default()).expect("opens");
    while let Some(p) = src.next_packet().expect("reads") {
        reference.push((p.ts, p.data.to_vec(), p.orig_len, p.link_type));
    }
    for format in ["pcapng", "nsecpcap"] {
        let out = tmp.join(format!("converted.{format}"));
        let status = Command::new("editcap")
            .args(["-F", format])
            .arg(&src_path)
            .arg(&out)
            .status();
        match status {
            Ok(s) if s.success() => {}
            _ => {
                eprintln!("skipping: editcap not available");
                let _ = std::fs::remove_dir_all(&tmp);
                return;
            }
        }
        let mut conv = FileSource::open(&out, CaptureLimits::default()).expect("opens");
        let mut n = 0;
        while let Some(p) = conv.next_packet().expect("reads") {
            let (ts, data, orig_len, link_type) = &reference[n];
            assert_eq!(p.ts, *ts, "{format} packet {n}");
            assert_eq!(p.data, &data[..], "{format} packet {n}");
            assert_eq!(p.orig_len, *orig_len, "{format} packet {n}");
            assert_eq!(p.link_type, *link_type, "{format} packet {n}");
            n += 1;
        }
        assert_eq!(n, reference.len(), "{format}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
