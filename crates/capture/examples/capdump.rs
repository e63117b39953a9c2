//! Prints one line per packet (`seconds.nanoseconds link_type caplen orig_len`) for the given
//! capture files or directories, read as one `CaptureSet`; with `--count`, prints only totals
//! and read throughput. A debugging and benchmarking aid:
//! `cargo run --release -p vedette-capture --example capdump -- --count file.pcap`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use vedette_capture::{CaptureLimits, CaptureSet, PacketSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut count_only = false;
    let mut paths = Vec::new();
    for arg in std::env::args_os().skip(1) {
        if arg == "--count" {
            count_only = true;
        } else {
            paths.push(PathBuf::from(arg));
        }
    }
    let start = Instant::now();
    let mut set = CaptureSet::open(&paths, CaptureLimits::default())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    while let Some(p) = set.next_packet()? {
        if !count_only {
            writeln!(
                out,
                "{}.{:09} {} {} {}",
                p.ts.secs(),
                p.ts.subsec_nanos(),
                p.link_type.0,
                p.data.len(),
                p.orig_len
            )?;
        }
    }
    out.flush()?;
    let secs = start.elapsed().as_secs_f64();
    let st = set.stats();
    eprintln!(
        "{} packets, {} captured bytes, {} file bytes in {secs:.3} s ({:.2} GB/s); {:?}",
        st.packets,
        st.bytes,
        set.bytes_read(),
        set.bytes_read() as f64 / secs / 1e9,
        st
    );
    for e in set.errors() {
        eprintln!("error: {e}");
    }
    Ok(())
}
