//! End-to-end tests of `vedette analyze` and `vedette demo` driving the real binary.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Counts TCP and UDP conversations as tshark does (`-z conv,tcp -z conv,udp`).
fn tshark_conversations(pcap: &Path) -> (usize, usize) {
    let o = std::process::Command::new("tshark")
        .args(["-n", "-q", "-z", "conv,tcp", "-z", "conv,udp", "-r"])
        .arg(pcap)
        .output()
        .expect("run tshark");
    assert!(
        o.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let (mut tcp, mut udp, mut section) = (0, 0, "");
    for line in text.lines() {
        if line.starts_with("TCP Conversations") {
            section = "tcp";
        } else if line.starts_with("UDP Conversations") {
            section = "udp";
        } else if line.contains("<->") {
            match section {
                "tcp" => tcp += 1,
                "udp" => udp += 1,
                _ => {}
            }
        }
    }
    (tcp, udp)
}

#[test]
fn tcp_and_udp_flow_counts_are_within_2_percent_of_tshark() {
    let Some(shared) = shared() else { return };
    if !ensure_tool("tshark") {
        return;
    }
    let pcap = shared.join("data/pcap/synthetic-small.pcap");
    let out = tmpdir("tshark-compare");
    analyze(&[&pcap], &out, &["-k", "none"]);
    let events = eve(&out.join("eve.json"));
    let flows = of_type(&events, "flow");
    let tcp = flows.iter().filter(|f| f["proto"] == "TCP").count();
    let udp = flows.iter().filter(|f| f["proto"] == "UDP").count();
    let (t_tcp, t_udp) = tshark_conversations(&pcap);
    let ours = (tcp + udp) as f64;
    let theirs = (t_tcp + t_udp) as f64;
    eprintln!("vedette tcp {tcp} udp {udp}; tshark tcp {t_tcp} udp {t_udp}");
    assert!(
        theirs > 1000.0,
        "tshark found too few conversations: {theirs}"
    );
    assert!(
        (ours - theirs).abs() / theirs <= 0.02,
        "flow count {ours} not within 2% of tshark's {theirs}"
    );
}

/// Every non-stats event as a canonical line, counted (order across workers does not matter).
fn event_multiset(path: &Path) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in eve(path) {
        if e["event_type"] == "stats" {
            continue;
        }
        *m.entry(e.to_string()).or_insert(0) += 1;
    }
    m
}

#[test]
fn more_workers_give_the_same_events_as_one() {
    let Some(shared) = shared() else { return };
    let pcap = shared.join("data/pcap/synthetic-small.pcap");
    let one = tmpdir("workers-1");
    analyze(&[&pcap], &one, &["--workers", "1"]);
    let reference = event_multiset(&one.join("eve.json"));
    assert!(
        reference.len() > 7000,
        "too few events: {}",
        reference.len()
    );
    for n in ["2", "3"] {
        let out = tmpdir(&format!("workers-{n}"));
        analyze(&[&pcap], &out, &["--workers", n]);
        let got = event_multiset(&out.join("eve.json"));
        let missing: Vec<_> = reference
            .keys()
            .filter(|k| !got.contains_key(*k))
            .take(3)
            .collect();
        let extra: Vec<_> = got
            .keys()
            .filter(|k| !reference.contains_key(*k))
            .take(3)
            .collect();
        assert!(
            got == reference,
            "--workers {n} differs: missing {missing:?}, extra {extra:?}"
        );
        // The stats agree on what was seen.
        let s1 = stats(&eve(&one.join("eve.json")))["stats"]["decoder"].clone();
        let sn = stats(&eve(&out.join("eve.json")))["stats"]["decoder"].clone();
        assert_eq!(s1, sn);
    }
}

#[test]
fn demo_generates_a_capture_and_analyses_it() {
    let out = tmpdir("demo");
    let o = run(vedette()
        .args(["demo", "--no-serve"])
        .arg("--output-dir")
        .arg(&out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("packets") && err.contains("Gbps") && err.contains("flows:"),
        "{err}"
    );
    let events = eve(&out.join("eve.json"));
    let flows = of_type(&events, "flow");
    // Web, DNS, TLS, the scan and IPv6/VLAN traffic all show up as flows.
    assert!(flows
        .iter()
        .any(|f| f["dest_port"] == 80 && f["flow"]["state"] == "closed"));
    assert!(flows
        .iter()
        .any(|f| f["dest_port"] == 53 && f["proto"] == "UDP"));
    assert!(flows.iter().any(|f| f["dest_port"] == 443));
    assert!(flows.iter().any(|f| f["vlan"].is_array()));
    assert!(flows
        .iter()
        .any(|f| f["src_ip"].as_str().is_some_and(|s| s.contains(':'))));
    let scan_target_ports: std::collections::HashSet<_> = flows
        .iter()
        .filter(|f| f["flow"]["pkts_toserver"] == 1 && f["proto"] == "TCP")
        .map(|f| f["dest_port"].as_u64())
        .collect();
    assert!(scan_target_ports.len() > 100, "port scan flows missing");
    let s = stats(&events);
    assert_eq!(s["stats"]["decoder"]["invalid"], 0);
    assert!(s["stats"]["defrag"]["reassembled"].as_u64() >= Some(1));
    // Same seed, same capture: the demo is deterministic.
    let again = tmpdir("demo-again");
    let o = run(vedette()
        .args(["demo", "--no-serve"])
        .arg("--output-dir")
        .arg(&again)
        .arg("-q"));
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(out.join("demo.pcap")).unwrap(),
        std::fs::read(again.join("demo.pcap")).unwrap()
    );
}

#[test]
fn flow_events_carry_suricata_fields_and_community_id() {
    let out = tmpdir("fields");
    let o = run(vedette()
        .args(["demo", "--no-serve"])
        .arg("--output-dir")
        .arg(&out)
        .arg("-q"));
    assert!(o.status.success());
    let events = eve(&out.join("eve.json"));
    let f = of_type(&events, "flow")
        .into_iter()
        .find(|f| f["proto"] == "TCP" && f["flow"]["state"] == "closed")
        .expect("a closed TCP flow");
    for k in [
        "timestamp",
        "flow_id",
        "src_ip",
        "src_port",
        "dest_ip",
        "dest_port",
        "proto",
        "community_id",
    ] {
        assert!(!f[k].is_null(), "missing {k} in {f}");
    }
    for k in [
        "pkts_toserver",
        "pkts_toclient",
        "bytes_toserver",
        "bytes_toclient",
        "start",
        "end",
        "age",
        "state",
        "reason",
        "alerted",
    ] {
        assert!(!f["flow"][k].is_null(), "missing flow.{k} in {f}");
    }
    assert_eq!(f["tcp"]["state"], "closed");
    assert!(f["community_id"].as_str().unwrap().starts_with("1:"));
    // A disabled key removes the field.
    let out2 = tmpdir("fields-nocid");
    let o = run(vedette()
        .args(["demo", "--no-serve"])
        .arg("--output-dir")
        .arg(&out2)
        .args(["-q", "--set", "outputs.eve.community_id=false"]));
    assert!(o.status.success());
    assert!(of_type(&eve(&out2.join("eve.json")), "flow")
        .iter()
        .all(|f| f["community_id"].is_null()));
}

#[test]
fn midstream_setting_changes_tcp_tracking() {
    // A conformance capture that starts mid-session: without midstream no TCP session is
    // tracked; with it, the flow is established.
    let Some(shared) = shared() else { return };
    let pcap = shared.join("conformance/tests/alert-testmyids-midstream/input.pcap");
    if !pcap.is_file() {
        panic!("missing {}", pcap.display());
    }
    let off = tmpdir("mid-off");
    analyze(&[&pcap], &off, &[]);
    let on = tmpdir("mid-on");
    analyze(&[&pcap], &on, &["--set", "stream.midstream=true"]);
    let tcp_states = |dir: &Path| -> Vec<String> {
        of_type(&eve(&dir.join("eve.json")), "flow")
            .iter()
            .filter(|f| f["proto"] == "TCP")
            .map(|f| f["flow"]["state"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert!(tcp_states(&off).iter().all(|s| s == "new"));
    assert!(tcp_states(&on)
        .iter()
        .any(|s| s == "established" || s == "closed"));
}

#[test]
fn alerts_carry_the_packet_payload_when_asked() {
    use base64::Engine as _;
    let out = tmpdir("demo-payload");
    let o = run(vedette()
        .args(["demo", "--no-serve"])
        .arg("--output-dir")
        .arg(&out)
        .args([
            "-q",
            "--no-store",
            "--set",
            "outputs.eve.alert_payload=true",
        ]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let events = eve(&out.join("eve.json"));
    let sig_alerts: Vec<_> = of_type(&events, "alert")
        .into_iter()
        .filter(|a| a["alert"]["gid"] == 1)
        .collect();
    assert!(!sig_alerts.is_empty());
    for a in &sig_alerts {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(a["payload"].as_str().expect("payload"))
            .expect("base64 payload");
        let printable: String = raw
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        assert_eq!(a["payload_printable"], printable.as_str());
        assert_eq!(a["stream"], 0);
    }
    // The packet that completed the request carries what the rule matched.
    let log4shell = sig_alerts
        .iter()
        .find(|a| a["alert"]["signature_id"] == 9000003)
        .expect("Log4Shell alert");
    assert!(log4shell["payload_printable"]
        .as_str()
        .is_some_and(|p| p.contains("${jndi:")));
    // Off by default.
    let plain = tmpdir("demo-payload-off");
    let rules = out.join("demo.rules");
    analyze(
        &[&out.join("demo.pcap")],
        &plain,
        &["--rules", rules.to_str().unwrap()],
    );
    let alerts = of_type(&eve(&plain.join("eve.json")), "alert")
        .into_iter()
        .filter(|a| a["alert"]["gid"] == 1)
        .count();
    assert_eq!(alerts, sig_alerts.len());
    assert!(of_type(&eve(&plain.join("eve.json")), "alert")
        .iter()
        .all(|a| a.get("payload").is_none()));
}
