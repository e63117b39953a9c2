//! End-to-end tests of alert notifications: `vedette analyze` of the shared capture with the
//! shared rules, notifiers pointed at receivers this test starts on loopback (HTTP for webhook
//! and Slack bodies, UDP and TCP syslog, an SMTP sink), compared with the run's own eve.json;
//! dead receivers; and `vedette live` on a veth pair from a namespace this test creates, for the
//! packet-to-notification latency.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vedette_notify::testkit::*;

const WAIT: Duration = Duration::from_secs(30);

fn inputs(shared: &Path) -> (PathBuf, PathBuf) {
    (
        shared.join("data/pcap/synthetic-small.pcap"),
        shared.join("data/rules/synthetic-small.rules"),
    )
}

/// Runs analyze with `notify_toml` as the config file; returns eve.json's records and stderr.
fn analyze_with(name: &str, notify_toml: &str) -> Option<(Vec<Value>, String, Duration)> {
    let shared = shared()?;
    let (pcap, rules) = inputs(&shared);
    let dir = tmpdir(name);
    let cfg = dir.join("notify.toml");
    std::fs::write(&cfg, notify_toml).unwrap();
    let out = dir.join("out");
    let t = Instant::now();
    let o = analyze(
        &[&pcap],
        &out,
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ],
    );
    let took = t.elapsed();
    Some((
        eve(&out.join("eve.json")),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        took,
    ))
}

/// Each record once per occurrence, as canonical JSON text.
fn multiset<'a>(records: impl IntoIterator<Item = &'a Value>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in records {
        *m.entry(r.to_string()).or_insert(0) += 1;
    }
    m
}

fn notifier<'a>(events: &'a [Value], name: &str) -> &'a Value {
    stats(events)["stats"]["notify"]["notifiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no notifier {name} in the stats event"))
}

fn bodies(r: &HttpReceiver, path: &str) -> Vec<Value> {
    r.received()
        .iter()
        .filter(|m| m.head.starts_with(&format!("POST {path} ")))
        .map(|m| serde_json::from_slice(&m.body).unwrap())
        .collect()
}

const OPEN: &str = "limits = { dedup_secs = 0, rate_per_minute = 0 }";

#[test]
fn every_alert_arrives_once_in_every_format() {
    let http = HttpReceiver::start();
    let udp = SyslogUdpReceiver::start();
    let tcp = SyslogTcpReceiver::start();
    let smtp = SmtpSink::start();
    let toml = format!(
        r#"
[notify]
notifier_queue = 8192
queue_alerts = 8192
[[notify.webhook]]
name = "json"
url = "{json}"
{OPEN}
[[notify.webhook]]
name = "slack"
url = "{slack}"
format = "slack"
{OPEN}
[[notify.syslog]]
name = "tcp"
address = "{tcp}"
transport = "tcp"
{OPEN}
# UDP may lose datagrams under a burst, so this one takes the high-severity alerts only.
[[notify.syslog]]
name = "udp"
address = "{udp}"
route = {{ min_severity = 1 }}
{OPEN}
[[notify.email]]
name = "mail"
smtp_host = "127.0.0.1"
smtp_port = {smtp}
from = "vedette@example.org"
to = ["soc@example.org"]
batch_secs = 3600
max_alerts_per_mail = 10000
{OPEN}
"#,
        json = http.url("/json"),
        slack = http.url("/slack"),
        tcp = tcp.addr,
        udp = udp.addr,
        smtp = smtp.addr.port(),
    );
    let Some((events, _, _)) = analyze_with("notify-formats", &toml) else {
        return;
    };
    let alerts = of_type(&events, "alert");
    assert!(alerts.len() > 1000, "the capture raises many alerts");
    // Webhook: each alert record exactly once (the whole EVE record is carried).
    let json = bodies(&http, "/json");
    assert!(json.iter().all(|b| b["count"] == 1 && b["kind"] == "alert"));
    assert_eq!(
        multiset(json.iter().map(|b| &b["alert"])),
        multiset(alerts.iter().copied()),
        "webhook notifications differ from eve.json's alerts"
    );
    let slack = bodies(&http, "/slack");
    assert_eq!(slack.len(), alerts.len());
    assert!(slack
        .iter()
        .all(|b| b["text"].as_str().is_some_and(|t| !t.contains('<'))));
    // Syslog TCP: one framed RFC 5424 message per alert, with its sid.
    // Written to the socket is not yet read by the listener's thread: poll.
    assert!(tcp.wait_for(alerts.len(), WAIT));
    let mut by_sid: BTreeMap<String, usize> = BTreeMap::new();
    for m in tcp.received() {
        let p = parse_rfc5424(&m.body).unwrap();
        assert_eq!(p.app_name, "vedette");
        *by_sid
            .entry(p.param("sid").unwrap().to_owned())
            .or_insert(0) += 1;
    }
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for a in &alerts {
        *want
            .entry(a["alert"]["signature_id"].to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(by_sid, want);
    // Syslog UDP: the route took severity 1 only.
    let high = alerts
        .iter()
        .filter(|a| a["alert"]["severity"] == 1)
        .count();
    assert!(high > 0);
    assert_eq!(notifier(&events, "udp")["matched"], high);
    assert!(udp.wait_for(high, WAIT));
    for m in udp.received() {
        let p = parse_rfc5424(&m.body).unwrap();
        assert_eq!(p.param("severity"), Some("1"));
        assert_eq!(p.pri, 16 * 8 + 2, "local0.crit");
    }
    // Email: one mail listing every alert.
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    let body = String::from_utf8_lossy(&mails[0].body);
    assert!(
        body.contains(&format!("{n} notifications ({n} alerts)", n = alerts.len())),
        "{}",
        &body[..body.len().min(2000)]
    );
    for name in ["json", "slack", "tcp", "mail"] {
        let n = notifier(&events, name);
        assert_eq!(n["sent"], alerts.len(), "{name}: {n}");
        assert_eq!(n["failed"], 0, "{name}: {n}");
        assert_eq!(n["dropped"], 0, "{name}: {n}");
    }
}

#[test]
fn routing_dedup_and_rate_limits_hold() {
    let http = HttpReceiver::start();
    let toml = format!(
        r#"
[notify]
notifier_queue = 8192
queue_alerts = 8192
[[notify.webhook]]
name = "anomaly"
url = "{u}/anomaly"
route = {{ gids = [9000] }}
{OPEN}
[[notify.webhook]]
name = "scan"
url = "{u}/scan"
route = {{ detectors = ["port_scan"] }}
{OPEN}
[[notify.webhook]]
name = "signatures-high"
url = "{u}/sigs"
route = {{ detectors = ["signature"], min_severity = 1 }}
{OPEN}
[[notify.webhook]]
name = "dedup"
url = "{u}/dedup"
limits = {{ dedup_secs = 86400, rate_per_minute = 0 }}
[[notify.webhook]]
name = "rate"
url = "{u}/rate"
limits = {{ dedup_secs = 0, rate_per_minute = 1, burst = 5 }}
"#,
        u = http.url(""),
    );
    let Some((events, _, _)) = analyze_with("notify-routing", &toml) else {
        return;
    };
    let alerts = of_type(&events, "alert");
    let set = |f: &dyn Fn(&Value) -> bool| multiset(alerts.iter().copied().filter(|a| f(a)));
    let got = |path: &str| multiset(bodies(&http, path).iter().map(|b| &b["alert"]));
    let anomaly = set(&|a| a["alert"]["gid"] == 9000);
    assert!(!anomaly.is_empty());
    assert_eq!(got("/anomaly"), anomaly);
    let scan = set(&|a| a["vedette"]["detector"] == "port_scan");
    assert!(!scan.is_empty());
    assert_eq!(got("/scan"), scan);
    let high = set(&|a| a["vedette"]["detector"].is_null() && a["alert"]["severity"] == 1);
    assert!(!high.is_empty());
    assert_eq!(got("/sigs"), high);

    // Dedup: per (gid, sid, src_ip), one first notification and, for keys seen again, one
    // summary whose count is the number of repeats.
    let mut per_key: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for a in &alerts {
        let k = (
            a["alert"]["gid"].to_string(),
            a["alert"]["signature_id"].to_string(),
            a["src_ip"].as_str().unwrap_or("").to_owned(),
        );
        *per_key.entry(k).or_insert(0) += 1;
    }
    let mut firsts: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut repeats: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for b in bodies(&http, "/dedup") {
        let a = &b["alert"];
        let k = (
            a["alert"]["gid"].to_string(),
            a["alert"]["signature_id"].to_string(),
            a["src_ip"].as_str().unwrap_or("").to_owned(),
        );
        let m = if b["kind"] == "alert" {
            &mut firsts
        } else {
            &mut repeats
        };
        *m.entry(k).or_insert(0) += b["count"].as_u64().unwrap();
    }
    assert_eq!(firsts.len(), per_key.len());
    assert!(firsts.values().all(|c| *c == 1));
    let want_repeats: BTreeMap<_, _> = per_key
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, n)| (k.clone(), n - 1))
        .collect();
    assert!(!want_repeats.is_empty());
    assert_eq!(repeats, want_repeats);
    let d = notifier(&events, "dedup");
    assert_eq!(d["deduplicated"], alerts.len() - per_key.len());
    assert_eq!(d["sent"], per_key.len() + want_repeats.len());

    // Rate: a burst of 5, then one a minute of capture time.
    let r = notifier(&events, "rate");
    let sent = r["sent"].as_u64().unwrap();
    assert_eq!(
        sent + r["rate_limited"].as_u64().unwrap(),
        alerts.len() as u64
    );
    let ts = |a: &Value| {
        vedette_notify::alert::parse_eve_timestamp(a["timestamp"].as_str().unwrap()).unwrap()
    };
    let span_min = (alerts.iter().map(|a| ts(a)).max().unwrap()
        - alerts.iter().map(|a| ts(a)).min().unwrap())
        / 60_000_000_000;
    assert!(sent >= 5 && sent <= 5 + span_min as u64 + 1, "{r}");
    assert_eq!(bodies(&http, "/rate").len() as u64, sent);
    let rate_bodies = bodies(&http, "/rate");
    let carried: u64 = rate_bodies
        .iter()
        .map(|b| b["rate_suppressed"].as_u64().unwrap())
        .sum();
    // Every notification after the burst reports how many were held back before it.
    assert!(carried <= r["rate_limited"].as_u64().unwrap());
    assert_eq!(carried > 0, sent > 5, "{r}");
}

#[test]
fn dead_receivers_do_not_stall_the_others_and_are_counted() {
    let good = HttpReceiver::start();
    let hanging = Hanging::start();
    let closed = closed_port();
    let toml = format!(
        r#"
[notify]
notifier_queue = 8192
queue_alerts = 8192
shutdown_timeout_ms = 2000
[[notify.webhook]]
name = "hanging-http"
url = "http://{hang}/"
timeout_ms = 500
retries = 2
backoff_ms = 100
{OPEN}
[[notify.webhook]]
name = "closed-http"
url = "http://{closed}/"
retries = 2
backoff_ms = 100
{OPEN}
[[notify.syslog]]
name = "closed-tcp"
address = "{closed}"
transport = "tcp"
{OPEN}
[[notify.syslog]]
name = "hanging-tcp"
address = "{hang}"
transport = "tcp"
timeout_ms = 500
{OPEN}
[[notify.webhook]]
name = "good"
url = "{good}"
{OPEN}
"#,
        hang = hanging.addr,
        good = good.url("/"),
    );
    let Some((events, stderr, took)) = analyze_with("notify-dead", &toml) else {
        return;
    };
    let alerts = of_type(&events, "alert");
    // A pipeline that waited on the dead endpoints would take minutes (0.5 s per alert).
    assert!(took < Duration::from_secs(60), "analyze took {took:?}");
    assert_eq!(
        multiset(bodies(&good, "/").iter().map(|b| &b["alert"])),
        multiset(alerts.iter().copied())
    );
    assert_eq!(notifier(&events, "good")["sent"], alerts.len());
    for name in ["hanging-http", "closed-http", "closed-tcp"] {
        let n = notifier(&events, name);
        assert_eq!(n["sent"], 0, "{name}: {n}");
        assert!(n["failed"].as_u64().unwrap() > 0, "{name}: {n}");
        let accounted = ["failed", "dropped", "unsent"]
            .iter()
            .map(|k| n[*k].as_u64().unwrap())
            .sum::<u64>();
        // The hanging endpoint's last try may still be running when the counters are read.
        assert!(
            accounted.abs_diff(alerts.len() as u64) <= 1,
            "{name}: every notification is accounted for: {n}"
        );
    }
    assert!(
        notifier(&events, "closed-http")["retried"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(stderr.contains("notifier closed-http"), "{stderr}");
}

// ---- live latency --------------------------------------------------------------------------

/// A namespace holding `va`, whose veth peer `vb` stays in this namespace (where vedette runs
/// and reaches the loopback receiver); both removed on drop.
struct Veth {
    ns: String,
    vb: String,
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.vb]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

fn sh(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn veth() -> Option<Veth> {
    let skip = |why: &str| {
        if in_ci() {
            panic!("the live notification test needs {why}");
        }
        eprintln!("SKIP: the live notification test needs {why}");
        None
    };
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return skip("root (network namespaces and AF_PACKET)");
    }
    if !ensure_tool("tcpreplay") {
        return None;
    }
    let id = std::process::id() % 100_000;
    let v = Veth {
        ns: format!("vedette-notify-{id}"),
        vb: format!("vnb{id}"),
    };
    if !sh(&["ip", "netns", "add", &v.ns]) {
        return skip("`ip netns add` to work");
    }
    let ok = sh(&[
        "ip", "link", "add", &v.vb, "type", "veth", "peer", "name", "va", "netns", &v.ns,
    ]) && sh(&["ip", "link", "set", &v.vb, "up"])
        && sh(&[
            "ip", "netns", "exec", &v.ns, "ip", "link", "set", "va", "up",
        ]);
    assert!(ok, "cannot set up the veth pair");
    let _ = sh(&[
        "sysctl",
        "-qw",
        &format!("net.ipv6.conf.{}.disable_ipv6=1", v.vb),
    ]);
    Some(v)
}

/// One Ethernet/IPv4/UDP frame to port 9999 from `sport`, as a one-packet pcap file.
fn probe_pcap(path: &Path, sport: u16) {
    let payload = b"VEDETTE-PING";
    let udp_len = 8 + payload.len() as u16;
    let ip_len = 20 + udp_len;
    let mut f = Vec::new();
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let mut ip = vec![
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        1,
        0,
        0,
        64,
        17,
        0,
        0,
        10,
        99,
        0,
        1,
        10,
        99,
        0,
        2,
    ];
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(c[1]))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let csum = !(sum as u16);
    ip[10] = (csum >> 8) as u8;
    ip[11] = csum as u8;
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&9999u16.to_be_bytes());
    f.extend_from_slice(&udp_len.to_be_bytes());
    f.extend_from_slice(&[0, 0]); // no UDP checksum (allowed for IPv4)
    f.extend_from_slice(payload);
    let mut pcap = Vec::new();
    pcap.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    pcap.extend_from_slice(&2u16.to_le_bytes());
    pcap.extend_from_slice(&4u16.to_le_bytes());
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&65535u32.to_le_bytes());
    pcap.extend_from_slice(&1u32.to_le_bytes());
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&(f.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&(f.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&f);
    std::fs::write(path, pcap).unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[test]
fn live_packet_to_webhook_latency() {
    let Some(v) = veth() else { return };
    let http = HttpReceiver::start();
    let dir = tmpdir("notify-live");
    let rules = dir.join("probe.rules");
    std::fs::write(
        &rules,
        "alert udp any any -> any 9999 (msg:\"notify latency probe\"; content:\"VEDETTE-PING\"; sid:9100001; rev:1;)\n",
    )
    .unwrap();
    let cfg = dir.join("notify.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[notify.webhook]]\nname = \"hook\"\nurl = \"{}\"\n{OPEN}\n",
            http.url("/live")
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let mut live = vedette()
        .args(["live", "--no-store", "-k", "none", "-i", &v.vb, "--rules"])
        .arg(&rules)
        .arg("--config")
        .arg(&cfg)
        .arg("--output-dir")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = live.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for l in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(l);
        }
    });
    let mut log = String::new();
    let start = Instant::now();
    while !log.contains("capturing on") {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => {
                log.push_str(&l);
                log.push('\n');
            }
            Err(_) => assert!(start.elapsed() < WAIT, "vedette live did not start: {log}"),
        }
    }
    const PROBES: u16 = 40;
    let mut sent_at = BTreeMap::new();
    for i in 0..PROBES {
        let sport = 40000 + i;
        let p = dir.join(format!("probe{i}.pcap"));
        probe_pcap(&p, sport);
        // The send time is taken before tcpreplay starts, so its start-up counts as latency.
        sent_at.insert(u64::from(sport), Instant::now());
        let ok = Command::new("ip")
            .args(["netns", "exec", &v.ns, "tcpreplay", "-q", "-i", "va"])
            .arg(&p)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "tcpreplay failed");
        // Spread the probes over time so each meets the pipeline idle or mid-interval.
        let jitter = Duration::from_millis(50 + u64::from(i % 7) * 37);
        std::thread::sleep(jitter);
    }
    let arrived = http.wait_for(PROBES as usize, WAIT);
    assert!(sh(&["kill", "-INT", &live.id().to_string()]));
    let status = live.wait().unwrap();
    assert!(status.success(), "vedette live failed");
    let got = http.received();
    assert!(
        arrived,
        "only {} of {PROBES} notifications arrived",
        got.len()
    );
    let mut lat: Vec<Duration> = Vec::new();
    for r in &got {
        let b: Value = serde_json::from_slice(&r.body).unwrap();
        let sport = b["alert"]["src_port"].as_u64().unwrap();
        let t = sent_at.get(&sport).expect("a probe we sent");
        lat.push(r.at.duration_since(*t));
    }
    assert_eq!(lat.len(), PROBES as usize, "each probe notified once");
    lat.sort();
    let (p50, p99, max) = (
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat[lat.len() - 1],
    );
    eprintln!(
        "packet -> webhook latency over {PROBES} probes: p50 {} ms, p99 {} ms, max {} ms",
        p50.as_millis(),
        p99.as_millis(),
        max.as_millis()
    );
    // Only a broken pipeline (a missed flush, a blocked queue) takes seconds; the p99 < 1 s
    // target is reported above rather than asserted, since a loaded CI box can stall a process.
    assert!(max < Duration::from_secs(5), "a notification took {max:?}");
}
