//! Scale-out over NATS JetStream, end to end with real `nats-server` processes on loopback:
//! sensors (`analyze --export`) publish, hubs (`vedette hub`) consume into a store, and the
//! store must end up with exactly the events each sensor wrote to its eve.json (event ids
//! `<sensor>:<run>:<n>` with n the eve.json line number), once each, through a NATS node
//! failure, a hub killed with SIGKILL and a NATS that is down when the sensor starts.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ensure_tool, shared, tmpdir, vedette};
use std::collections::{BTreeMap, HashSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (SIGKILL) and reaped when dropped, so a failing test leaves nothing.
struct Proc {
    child: Option<Child>,
    name: String,
}

impl Proc {
    fn spawn(cmd: &mut Command, name: &str, log: &Path) -> Proc {
        let out = std::fs::File::create(log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            child: Some(child),
            name: name.into(),
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits (bounded) for the exit status.
    fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let c = self.child.as_mut().unwrap();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        self.wait(within)
    }

    /// Waits (bounded) for the process to exit on its own.
    fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            let c = self.child.as_mut().unwrap();
            if let Some(st) = c.try_wait().unwrap() {
                self.child = None;
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {within:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` every 100 ms until it is true; panics with `what` at the deadline.
fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One nats-server with JetStream, optionally in a cluster.
struct Node {
    port: u16,
    conf: PathBuf,
    log: PathBuf,
    proc: Option<Proc>,
}

impl Node {
    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        let mut cmd = Command::new("nats-server");
        cmd.arg("-c").arg(&self.conf);
        self.proc = Some(Proc::spawn(&mut cmd, "nats-server", &self.log));
        let port = self.port;
        wait_for("nats-server to listen", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }
}

/// `n` JetStream nodes; with n > 1 they form one cluster over loopback routes.
fn nats_nodes(dir: &Path, n: usize) -> Vec<Node> {
    let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
    let routes: Vec<String> = ports
        .iter()
        .map(|(_, c)| format!("\"nats-route://127.0.0.1:{c}\""))
        .collect();
    ports
        .iter()
        .enumerate()
        .map(|(i, (port, cport))| {
            let store = dir.join(format!("js{i}"));
            std::fs::create_dir_all(&store).unwrap();
            let mut conf = format!(
                "server_name: n{i}\nlisten: 127.0.0.1:{port}\n\
                 jetstream {{ store_dir: \"{}\", max_memory_store: 64MB, max_file_store: 1GB }}\n",
                store.display()
            );
            if n > 1 {
                conf.push_str(&format!(
                    "cluster {{ name: vedette-test, listen: 127.0.0.1:{cport}, routes: [{}] }}\n",
                    routes.join(", ")
                ));
            }
            let path = dir.join(format!("n{i}.conf"));
            std::fs::write(&path, conf).unwrap();
            Node {
                port: *port,
                conf: path,
                log: dir.join(format!("n{i}.log")),
                proc: None,
            }
        })
        .collect()
}

/// Prerequisites: nats-server and the shared captures.
fn setup() -> Option<PathBuf> {
    let data = shared()?;
    if !ensure_tool("nats-server") {
        return None;
    }
    Some(data.join("data/pcap"))
}

fn hub(store: &Path, urls: &str, extra: &[&str], log: &Path) -> Proc {
    let mut c = vedette();
    c.args(["hub", "--nats", urls, "--store"])
        .arg(store)
        .args(["--set", "hub.ack_wait=2", "--set", "hub.batch=500"])
        .args(extra);
    Proc::spawn(&mut c, "vedette hub", log)
}

fn sensor(pcap: &Path, out: &Path, name: &str, urls: &str, extra: &[&str]) -> Proc {
    std::fs::create_dir_all(out).unwrap();
    let mut c = vedette();
    c.arg("analyze")
        .arg(pcap)
        .arg("--output-dir")
        .arg(out)
        .args(["--no-store", "--export", urls, "--sensor", name])
        .args([
            "--set",
            "export.ack_timeout_ms=2000",
            "--set",
            "export.finish_timeout=90",
        ])
        .args(extra);
    Proc::spawn(&mut c, &format!("sensor {name}"), &out.join("sensor.log"))
}

/// Rows of `SELECT sensor, event_id, json FROM events` (empty while the store does not exist).
fn stored(store: &Path) -> Vec<(String, String, String)> {
    if !vedette_store_exists(store) {
        return Vec::new();
    }
    let o = vedette()
        .args([
            "query",
            "--format",
            "json",
            "--max-rows",
            "10000000",
            "--store",
        ])
        .arg(store)
        .arg("SELECT sensor, event_id, json FROM events")
        .output()
        .unwrap();
    if !o.status.success() {
        // The hub may hold the write lock for a moment; callers poll.
        return Vec::new();
    }
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap_or_default();
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("sensor"), s("event_id"), s("json"))
        })
        .collect()
}

fn stored_count(store: &Path) -> usize {
    if !vedette_store_exists(store) {
        return 0;
    }
    let o = vedette()
        .args(["query", "--format", "csv", "--store"])
        .arg(store)
        .arg("SELECT count(*) FROM events")
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

fn vedette_store_exists(store: &Path) -> bool {
    store.join("vedette.db").is_file()
}

/// Checks that the store holds each line of `eve` exactly once, under `sensor` with the id
/// `<sensor>:<run>:<line index>` (one run id), and nothing else from that sensor.
fn assert_sensor_complete(rows: &[(String, String, String)], sensor: &str, eve: &Path) {
    let lines: Vec<String> = std::fs::read_to_string(eve)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(
        lines.len() > 100,
        "{} has only {} events",
        eve.display(),
        lines.len()
    );
    let mine: Vec<&(String, String, String)> = rows.iter().filter(|r| r.0 == sensor).collect();
    let mut runs = HashSet::new();
    let mut seen = BTreeMap::new();
    for (_, id, json) in &mine {
        let mut parts = id.rsplitn(2, ':');
        let n: usize = parts.next().unwrap().parse().unwrap();
        let head = parts.next().unwrap();
        let run = head.strip_prefix(&format!("{sensor}:")).unwrap_or_else(|| {
            panic!("event id {id} does not start with {sensor}:");
        });
        runs.insert(run.to_owned());
        assert!(seen.insert(n, ()).is_none(), "event {id} stored twice");
        let line = lines
            .get(n)
            .unwrap_or_else(|| panic!("{id}: no eve.json line {n}"));
        let want: serde_json::Value = serde_json::from_str(line).unwrap();
        let got: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            got, want,
            "{id}: stored event differs from eve.json line {n}"
        );
    }
    assert_eq!(runs.len(), 1, "{sensor}: run ids {runs:?}");
    assert_eq!(
        mine.len(),
        lines.len(),
        "{sensor}: {} stored, {} in eve.json",
        mine.len(),
        lines.len()
    );
}

fn summary_counter(log: &Path, name: &str) -> u64 {
    let text = std::fs::read_to_string(log).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("export:"))
        .unwrap_or_else(|| panic!("no export summary in {}:\n{text}", log.display()));
    let words: Vec<&str> = line
        .split([' ', ',', '(', ')'])
        .filter(|w| !w.is_empty())
        .collect();
    let i = words.iter().position(|w| *w == name).unwrap();
    words[i - 1].parse().unwrap()
}

#[test]
fn two_sensors_through_a_three_node_cluster_survive_a_node_and_a_hub_dying() {
    let Some(pcaps) = setup() else { return };
    let dir = tmpdir("nats-cluster");
    let mut nodes = nats_nodes(&dir, 3);
    for n in &mut nodes {
        n.start();
    }
    let urls: Vec<String> = nodes.iter().map(Node::url).collect();
    let urls = urls.join(",");
    let store = dir.join("store");
    let r3 = ["--set", "export.replicas=3"];
    let mut hub1 = hub(&store, &urls, &r3, &dir.join("hub1.log"));
    // Paced so the runs last several seconds and the failures hit them mid-stream.
    let pace = [
        "--set",
        "export.replicas=3",
        "--set",
        "export.rate_limit=4000",
    ];
    let out_a = dir.join("a");
    let out_b = dir.join("b");
    let mut a = sensor(
        &pcaps.join("labeled/stopddos/pkt.TCP.synflood.spoofed.pcap"),
        &out_a,
        "sensor-a",
        &urls,
        &pace,
    );
    let mut b = sensor(
        &pcaps.join("synthetic-small.pcap"),
        &out_b,
        "sensor-b",
        &urls,
        &pace,
    );
    // Some events are in the store: one NATS node dies.
    wait_for("first events in the store", Duration::from_secs(60), || {
        stored_count(&store) > 1000
    });
    nodes[1].proc.as_mut().unwrap().kill();
    // More arrive through the two surviving nodes: the hub dies without acking.
    let before = stored_count(&store);
    wait_for(
        "events after the node died",
        Duration::from_secs(60),
        || stored_count(&store) > before + 2000,
    );
    hub1.kill();
    let mut hub2 = hub(&store, &urls, &r3, &dir.join("hub2.log"));
    for (s, name) in [(&mut a, "a"), (&mut b, "b")] {
        let st = s.wait(Duration::from_secs(180));
        let log = dir.join(name).join("sensor.log");
        assert!(
            st.success(),
            "sensor {name}: {st}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert_eq!(
            summary_counter(&log, "left"),
            0,
            "sensor {name}: events left in spool"
        );
        assert_eq!(summary_counter(&log, "dropped"), 0);
    }
    let expected = ["a", "b"]
        .iter()
        .map(|d| {
            std::fs::read_to_string(dir.join(d).join("eve.json"))
                .unwrap()
                .lines()
                .count()
        })
        .sum::<usize>();
    wait_for("every event in the store", Duration::from_secs(120), || {
        stored_count(&store) >= expected
    });
    let st = hub2.terminate(Duration::from_secs(30));
    assert!(st.success(), "hub: {st}");
    let rows = stored(&store);
    assert_sensor_complete(&rows, "sensor-a", &out_a.join("eve.json"));
    assert_sensor_complete(&rows, "sensor-b", &out_b.join("eve.json"));
    assert_eq!(rows.len(), expected, "events from unknown sensors");
    drop(nodes);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sensor_started_while_nats_is_down_spools_and_delivers_later() {
    let Some(pcaps) = setup() else { return };
    let dir = tmpdir("nats-spool");
    let mut nodes = nats_nodes(&dir, 1);
    let url = nodes[0].url();
    let out = dir.join("s");
    let mut s = sensor(
        &pcaps.join("labeled/slips/test-cc-capture-1.pcap"),
        &out,
        "spooler",
        &url,
        &[],
    );
    // Nothing listens: the events go to the spool.
    let spool = out.join("export.spool");
    wait_for("events in the spool", Duration::from_secs(60), || {
        std::fs::metadata(&spool).is_ok_and(|m| m.len() > 0)
            && out.join("eve.json").is_file()
            && std::fs::read_to_string(out.join("sensor.log")).is_ok()
    });
    nodes[0].start();
    let store = dir.join("store");
    let mut h = hub(&store, &url, &[], &dir.join("hub.log"));
    let st = s.wait(Duration::from_secs(120));
    let log = out.join("sensor.log");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(st.success(), "sensor: {st}\n{text}");
    let spooled = summary_counter(&log, "spooled");
    assert!(spooled > 0, "nothing was spooled:\n{text}");
    // Every spooled event came back (an ack timeout during replay spools an event again).
    assert!(summary_counter(&log, "replayed") >= 1, "{text}");
    assert_eq!(summary_counter(&log, "left"), 0, "{text}");
    let expected = std::fs::read_to_string(out.join("eve.json"))
        .unwrap()
        .lines()
        .count();
    wait_for("every event in the store", Duration::from_secs(60), || {
        stored_count(&store) >= expected
    });
    assert!(h.terminate(Duration::from_secs(30)).success());
    let rows = stored(&store);
    assert_sensor_complete(&rows, "spooler", &out.join("eve.json"));
    assert_eq!(
        std::fs::metadata(&spool).unwrap().len(),
        0,
        "spool not emptied"
    );
    drop(nodes);
    let _ = std::fs::remove_dir_all(&dir);
}
