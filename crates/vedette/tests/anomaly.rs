//! End to end: the behavioural anomaly detectors over the labeled captures in
//! `$VEDETTE_SHARED/data/pcap/labeled`, the synthetic capture and a generated benign capture.
//! Each attack capture must raise its detector; the benign capture must raise nothing.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A labeled capture, or `None` after printing why (a failure in CI).
fn labeled(name: &str) -> Option<PathBuf> {
    let dir = shared()?;
    let p = dir.join("data/pcap/labeled").join(name);
    if p.is_file() {
        return Some(p);
    }
    if in_ci() {
        panic!("labeled capture {} missing", p.display());
    }
    eprintln!("SKIP: labeled capture {} missing", p.display());
    None
}

/// Anomaly alerts (gid 9000) of one run, after checking their shape.
fn anomaly_alerts(pcap: &Path, tag: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let out = tmpdir(&format!("anomaly-{tag}"));
    analyze(&[pcap], &out, extra);
    let events = eve(&out.join("eve.json"));
    let alerts: Vec<serde_json::Value> = of_type(&events, "alert")
        .into_iter()
        .filter(|a| a["alert"]["gid"] == 9000)
        .cloned()
        .collect();
    for a in &alerts {
        let det = a["vedette"]["detector"].as_str().unwrap();
        assert!(!a["vedette"]["explain"].as_str().unwrap().is_empty());
        let sid = a["alert"]["signature_id"].as_u64().unwrap();
        assert!((9_000_100..9_001_000).contains(&sid), "{a}");
        assert_eq!(a["alert"]["action"], "allowed");
        assert!(a["alert"]["severity"].as_u64().unwrap() >= 1);
        assert!(!a["alert"]["category"].as_str().unwrap().is_empty());
        assert!(a["src_ip"].is_string() && a["dest_ip"].is_string(), "{a}");
        assert!(a["timestamp"].is_string());
        assert!(
            [
                "port_scan",
                "host_sweep",
                "syn_flood",
                "udp_flood",
                "icmp_flood",
                "dns_tunnel",
                "beacon",
                "brute_force",
                "volume"
            ]
            .contains(&det),
            "{det}"
        );
    }
    // The stats record counts them.
    let st = stats(&events);
    assert_eq!(
        st["stats"]["anomaly"]["alerts"].as_u64(),
        Some(alerts.len() as u64),
        "{}",
        st["stats"]["anomaly"]
    );
    alerts
}

fn detectors(alerts: &[serde_json::Value]) -> BTreeSet<String> {
    alerts
        .iter()
        .map(|a| a["vedette"]["detector"].as_str().unwrap().to_owned())
        .collect()
}

fn of_detector<'a>(alerts: &'a [serde_json::Value], d: &str) -> Vec<&'a serde_json::Value> {
    alerts
        .iter()
        .filter(|a| a["vedette"]["detector"] == d)
        .collect()
}

#[test]
fn icmp_port_scan_capture_raises_a_sweep_or_scan() {
    let Some(p) = labeled("slips/test12-icmp-portscan.pcap") else {
        return;
    };
    let a = anomaly_alerts(&p, "icmp-scan", &[]);
    let d = detectors(&a);
    assert!(d.contains("host_sweep") || d.contains("port_scan"), "{a:?}");
    let s = of_detector(&a, "host_sweep");
    assert_eq!(s.len(), 1, "{a:?}");
    assert_eq!(s[0]["src_ip"], "192.168.1.109");
    assert!(s[0]["vedette"]["explain"]
        .as_str()
        .unwrap()
        .contains("ICMP echo"));
}

#[test]
fn ssh_brute_force_capture_raises_brute_force() {
    let Some(p) = labeled("slips/malicious-ssh-bruteforce.pcap") else {
        return;
    };
    let a = anomaly_alerts(&p, "ssh-brute", &[]);
    let b = of_detector(&a, "brute_force");
    assert_eq!(b.len(), 1, "{a:?}");
    assert_eq!(b[0]["src_ip"], "147.32.80.40");
    assert_eq!(b[0]["dest_ip"], "147.32.80.37");
    // Raising the threshold above what the capture holds silences it: the count is real.
    let quiet = anomaly_alerts(
        &p,
        "ssh-brute-quiet",
        &["--set", "anomaly.brute_force.min_attempts=500"],
    );
    assert!(of_detector(&quiet, "brute_force").is_empty(), "{quiet:?}");
}

#[test]
fn spoofed_syn_floods_raise_syn_flood() {
    for name in [
        "stopddos/pkt.TCP.synflood.spoofed.pcap",
        "stopddos/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng",
    ] {
        let Some(p) = labeled(name) else {
            return;
        };
        let a = anomaly_alerts(&p, &name.replace('/', "-"), &[]);
        let s = of_detector(&a, "syn_flood");
        assert_eq!(s.len(), 1, "{name}: {a:?}");
        assert_eq!(s[0]["dest_ip"], "10.10.10.10", "{name}");
    }
}

#[test]
fn udp_amplification_captures_raise_udp_flood() {
    for (name, victim) in [
        ("stopddos/amp.UDP.snmp.src161.pcapng", "10.10.10.10"),
        ("stopddos/amp.UDP.isakmp.pcap", "10.10.10.10"),
        ("stopddos/amp.UDP.bacnet.IOT.37810.pcapng", "10.10.10.1"),
    ] {
        let Some(p) = labeled(name) else {
            return;
        };
        let a = anomaly_alerts(&p, &name.replace('/', "-"), &[]);
        let u = of_detector(&a, "udp_flood");
        assert_eq!(u.len(), 1, "{name}: {a:?}");
        assert_eq!(u[0]["dest_ip"], victim, "{name}");
    }
}

#[test]
fn command_and_control_captures_raise_beacon() {
    for (name, server) in [
        ("slips/test-cc-capture-1.pcap", "141.193.213.21"),
        ("slips/test-cc-capture-2.pcap", "141.193.213.20"),
    ] {
        let Some(p) = labeled(name) else {
            return;
        };
        let a = anomaly_alerts(&p, &name.replace('/', "-"), &[]);
        let b = of_detector(&a, "beacon");
        assert_eq!(b.len(), 1, "{name}: {a:?}");
        assert_eq!(b[0]["src_ip"], "147.32.80.37");
        assert_eq!(b[0]["dest_ip"], server);
        assert_eq!(b[0]["dest_port"], 443);
    }
}

#[test]
fn synthetic_capture_scan_and_flood_are_found_whatever_the_worker_count() {
    let Some(dir) = shared() else {
        return;
    };
    let p = dir.join("data/pcap/synthetic-small.pcap");
    let one = anomaly_alerts(&p, "synthetic-1", &["--workers", "1"]);
    let scan = of_detector(&one, "port_scan");
    assert_eq!(scan.len(), 1, "{one:?}");
    assert_eq!(scan[0]["src_ip"], "203.0.113.66");
    assert_eq!(scan[0]["dest_ip"], "10.1.0.10");
    let flood = of_detector(&one, "syn_flood");
    assert_eq!(flood.len(), 1, "{one:?}");
    assert_eq!(flood[0]["dest_ip"], "10.1.0.80");
    assert_eq!(flood[0]["dest_port"], 80);
    // Workers hand events on in a different order; detections do not depend on it.
    let two = anomaly_alerts(&p, "synthetic-2", &["--workers", "2"]);
    let key = |a: &[serde_json::Value]| -> BTreeSet<String> {
        a.iter()
            .map(|x| {
                format!(
                    "{} {} {} {} {}",
                    x["timestamp"],
                    x["alert"]["signature_id"],
                    x["src_ip"],
                    x["dest_ip"],
                    x["vedette"]["explain"]
                )
            })
            .collect()
    };
    assert_eq!(key(&one), key(&two));
}

#[test]
fn benign_captures_raise_nothing() {
    let dir = tmpdir("anomaly-benign-gen");
    for seed in [1u64, 2, 3] {
        let p = dir.join(format!("benign-{seed}.pcap"));
        vedette_trafficgen::write_benign_capture(&p, seed).unwrap();
        let a = anomaly_alerts(&p, &format!("benign-{seed}"), &[]);
        assert!(a.is_empty(), "seed {seed}: {a:?}");
    }
}

#[test]
fn disabled_detectors_write_nothing() {
    let Some(p) = labeled("slips/malicious-ssh-bruteforce.pcap") else {
        return;
    };
    let out = tmpdir("anomaly-off");
    analyze(&[&p], &out, &["--set", "anomaly.enabled=false"]);
    let events = eve(&out.join("eve.json"));
    assert!(of_type(&events, "alert").is_empty());
    assert!(stats(&events)["stats"].get("anomaly").is_none());
}

#[test]
fn the_same_detectors_run_on_an_eve_file() {
    // A remote sensor's eve.json (here our own) replayed through the library gives the alerts
    // the live pipeline wrote.
    let Some(p) = labeled("slips/test-cc-capture-1.pcap") else {
        return;
    };
    let out = tmpdir("anomaly-eve-replay");
    analyze(&[&p], &out, &[]);
    let text = std::fs::read_to_string(out.join("eve.json")).unwrap();
    let mut engine = vedette_anomaly::AnomalyEngine::new(vedette_anomaly::AnomalyConfig::default());
    for line in text.lines() {
        match vedette_anomaly::eve_in::parse_line(line.as_bytes()) {
            Some(vedette_anomaly::eve_in::Record::Flow(f)) => engine.on_flow(&f),
            Some(vedette_anomaly::eve_in::Record::Dns(q)) => engine.on_dns(&q),
            Some(vedette_anomaly::eve_in::Record::Http(h)) => engine.on_http(&h),
            None => {}
        }
    }
    engine.finish();
    let replayed: BTreeSet<(String, String)> = engine
        .drain()
        .iter()
        .map(|d| (d.detector.name().to_owned(), d.explain.clone()))
        .collect();
    let written: BTreeSet<(String, String)> = of_type(&eve(&out.join("eve.json")), "alert")
        .iter()
        .map(|a| {
            (
                a["vedette"]["detector"].as_str().unwrap().to_owned(),
                a["vedette"]["explain"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(!written.is_empty());
    assert_eq!(replayed, written);
}

/// Writes `n` DNS queries per client: `tunnel` sends encoded names (or TXT queries) under one
/// domain, `normal` looks up a few ordinary names; one query per second, each from a fresh port.
fn dns_capture(path: &Path, n: u32, txt: bool) {
    use vedette_trafficgen::dns::{rtype, DnsMessage};
    use vedette_trafficgen::{Endpoints, IpParams, Link, PcapWriter};
    let f = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::new(std::io::BufWriter::new(f)).unwrap();
    let link = Link::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let resolver = "10.0.0.53".parse().unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..n {
        let ts = vedette_types::Timestamp::from_secs(1_700_000_000 + i64::from(i));
        let name = if txt {
            "cmd.exfil-test.net".to_owned()
        } else {
            let label: String = (0..40)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"abcdefghijklmnopqrstuvwxyz234567"[(x % 32) as usize] as char
                })
                .collect();
            format!("{label}.t.exfil-test.net")
        };
        let qtype = if txt { rtype::TXT } else { rtype::A };
        let q = DnsMessage::query(i as u16, &name, qtype).encode();
        let ep = Endpoints::new("10.0.0.5".parse().unwrap(), 20_000 + i as u16, resolver, 53);
        w.write_packet(
            ts,
            &vedette_trafficgen::udp_frame(&link, &IpParams::default(), &ep, &q),
        )
        .unwrap();
        let normal = ["www.example.com", "mail.example.com", "cdn.example.net"][(i % 3) as usize];
        let q = DnsMessage::query(i as u16, normal, rtype::A).encode();
        let ep = Endpoints::new("10.0.0.6".parse().unwrap(), 30_000 + i as u16, resolver, 53);
        w.write_packet(
            ts.add_nanos(1000),
            &vedette_trafficgen::udp_frame(&link, &IpParams::default(), &ep, &q),
        )
        .unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn dns_tunnel_is_found_in_generated_traffic() {
    let dir = tmpdir("anomaly-dns-gen");
    for (txt, sid) in [(false, 9_000_600u64), (true, 9_000_601)] {
        let p = dir.join(format!("dns-{txt}.pcap"));
        dns_capture(&p, 55, txt);
        let a = anomaly_alerts(&p, &format!("dns-{txt}"), &[]);
        let t = of_detector(&a, "dns_tunnel");
        assert_eq!(t.len(), 1, "txt={txt}: {a:?}");
        assert_eq!(t[0]["src_ip"], "10.0.0.5");
        assert_eq!(t[0]["alert"]["signature_id"], sid);
        assert!(t[0]["vedette"]["explain"]
            .as_str()
            .unwrap()
            .contains("exfil-test.net"));
    }
}
