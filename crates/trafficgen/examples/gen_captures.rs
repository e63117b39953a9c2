//! Writes the demo, benign and SYN-flood captures into a directory (default `/tmp`).
//!
//! `cargo run -p vedette-trafficgen --example gen_captures -- DIR [SEED]`

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "/tmp".into()));
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let demo = vedette_trafficgen::write_demo_capture(&dir.join("demo.pcap"), seed)?;
    println!("demo.pcap: {demo:#?}");
    let benign = vedette_trafficgen::write_benign_capture(&dir.join("benign.pcap"), seed)?;
    println!("benign.pcap: {benign:#?}");
    let n = vedette_trafficgen::write_syn_flood(&dir.join("synflood.pcap"), 10_000, seed)?;
    println!("synflood.pcap: {n} packets");
    Ok(())
}
