//! The web dashboard end to end: the JSON API against eve.json, the token and method rules,
//! and a real headless Chromium (driven over WebDriver by chromedriver) loading the demo's
//! dashboard and a capture full of script-injection payloads.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long anything in these tests may take to appear.
const DEADLINE: Duration = Duration::from_secs(60);
/// Pause between two polls of a condition.
const POLL: Duration = Duration::from_millis(100);

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// A child process killed (and reaped) when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `f` until it returns Some, or panics with `what` after [`DEADLINE`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(POLL);
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

/// GET with an optional token: (status, body).
fn http_get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(r) => {
            let status = r.status();
            (status, r.into_string().unwrap_or_default())
        }
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

fn get_json(url: &str) -> Value {
    let (status, body) = http_get(url, None);
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).expect("JSON body")
}

/// Waits until `base` answers.
fn wait_up(base: &str, child: &mut Child) {
    wait_for(&format!("the server at {base}"), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited early: {status}");
        }
        agent().get(base).call().ok().map(|_| ())
    });
}

/// `vedette serve --store STORE --listen 127.0.0.1:PORT`, waited for.
fn serve(store: &Path, extra: &[&str]) -> (Killed, String) {
    let port = free_port();
    let mut child = vedette()
        .args(["serve", "--store"])
        .arg(store)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vedette serve");
    let base = format!("http://127.0.0.1:{port}/");
    wait_up(&base, &mut child);
    (Killed(child), base)
}

/// Analyses the demo capture into `dir` (eve.json) and `dir/store`.
fn demo_store(name: &str) -> PathBuf {
    let dir = tmpdir(name);
    let o = run(vedette()
        .args(["demo", "--no-serve", "-q", "--output-dir"])
        .arg(&dir)
        .arg("--store")
        .arg(dir.join("store")));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir
}

fn eve_counts(path: &Path) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for e in eve(path) {
        *m.entry(e["event_type"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
    }
    m
}

fn alert_signatures(eve_path: &Path) -> Vec<String> {
    let mut v: Vec<String> = eve(eve_path)
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| e["alert"]["signature"].as_str().unwrap_or("").to_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn api_answers_match_eve_json_of_the_demo() {
    let dir = demo_store("web-api");
    let counts = eve_counts(&dir.join("eve.json"));
    let (_server, base) = serve(&dir.join("store"), &[]);

    let alerts = get_json(&format!("{base}api/alerts?limit=500"));
    assert_eq!(alerts["total"], json!(counts["alert"]));
    let items = alerts["items"].as_array().expect("items");
    assert_eq!(items.len() as i64, counts["alert"]);
    let mut sigs: Vec<String> = items
        .iter()
        .map(|a| a["signature"].as_str().unwrap_or("").to_owned())
        .collect();
    sigs.sort();
    assert_eq!(sigs, alert_signatures(&dir.join("eve.json")));
    // Newest first, and flow ids are text (JavaScript numbers cannot hold them).
    let ts: Vec<i64> = items.iter().map(|a| a["ts"].as_i64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]));
    // (Detector alerts about many flows have none.)
    assert!(items
        .iter()
        .all(|a| a["flow_id"].is_string() || a["detector"].is_string()));
    assert!(items.iter().any(|a| a["flow_id"].is_string()));

    let flows = get_json(&format!("{base}api/flows?limit=1"));
    assert_eq!(flows["total"], json!(counts["flow"]));
    // Paging walks every flow once.
    let page1 = get_json(&format!("{base}api/flows?limit=200&offset=0"));
    let page2 = get_json(&format!("{base}api/flows?limit=200&offset=200"));
    let n = page1["items"].as_array().unwrap().len() + page2["items"].as_array().unwrap().len();
    assert_eq!(n as i64, counts["flow"]);

    // Filters: by protocol, by sid, by free text, by detector.
    let icmp = get_json(&format!("{base}api/alerts?proto=icmp"));
    let want_icmp = eve(&dir.join("eve.json"))
        .iter()
        .filter(|e| e["event_type"] == "alert" && e["proto"] == "ICMP")
        .count();
    assert_eq!(icmp["total"], json!(want_icmp));
    assert!(want_icmp > 0);
    let sid = items[0]["signature_id"].as_i64().unwrap();
    let by_sid = get_json(&format!("{base}api/alerts?sid={sid}"));
    assert!(by_sid["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["signature_id"] == json!(sid)));
    let text = get_json(&format!("{base}api/alerts?q=etc/passwd"));
    assert!(text["total"].as_i64().unwrap() >= 1);
    let det = get_json(&format!("{base}api/alerts?detector=any"));
    let want_det = eve(&dir.join("eve.json"))
        .iter()
        .filter(|e| e["event_type"] == "alert" && !e["vedette"]["detector"].is_null())
        .count();
    assert_eq!(det["total"], json!(want_det));
    let detectors = get_json(&format!("{base}api/detectors"));
    let sum: i64 = detectors["detectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["alerts"].as_i64().unwrap())
        .sum();
    assert_eq!(sum as usize, want_det);

    // A flow page holds its alert and its flow record.
    let fid = items
        .iter()
        .find_map(|a| a["flow_id"].as_str())
        .expect("an alert with a flow");
    let flow = get_json(&format!("{base}api/flows/{fid}"));
    let types: Vec<&str> = flow["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"alert"), "{types:?}");
    let (status, _) = http_get(&format!("{base}api/flows/123"), None);
    assert_eq!(status, 404);

    // Overview: totals and the series add up to the flow records.
    let ov = get_json(&format!("{base}api/overview"));
    assert_eq!(ov["totals"]["alerts"], json!(counts["alert"]));
    assert_eq!(ov["totals"]["flows"], json!(counts["flow"]));
    let w = ov["bucket_secs"].as_f64().unwrap();
    let flows_sum: f64 = ov["series"]["flows_per_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() * w)
        .sum();
    assert_eq!(flows_sum.round() as i64, counts["flow"]);
    let sev_sum: f64 = ["alerts_sev1", "alerts_sev2", "alerts_sev3", "alerts_other"]
        .iter()
        .flat_map(|k| ov["series"][k].as_array().unwrap().clone())
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert_eq!(sev_sum as i64, counts["alert"]);
    let top: i64 = ov["top_signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["alerts"].as_i64().unwrap())
        .sum();
    assert_eq!(top, counts["alert"]);
    // A time range narrows everything.
    let from = ov["range"]["min_ts"].as_i64().unwrap();
    let narrow = get_json(&format!("{base}api/overview?from={from}&to={}", from + 1));
    assert!(narrow["totals"]["alerts"].as_i64().unwrap() < counts["alert"]);

    let health = get_json(&format!("{base}api/health"));
    assert_eq!(health["available"], json!(true));
    let decoded = eve(&dir.join("eve.json"))
        .into_iter()
        .find(|e| e["event_type"] == "stats")
        .expect("a stats event")["stats"]["decoder"]["pkts"]
        .clone();
    assert_eq!(health["packets"], decoded);

    let (status, metrics) = http_get(&format!("{base}metrics"), None);
    assert_eq!(status, 200);
    assert!(
        metrics.contains(&format!("vedette_packets_total {decoded}")),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("vedette_store_alerts {}", counts["alert"])));

    // Limits: page size and long filters are refused, not clamped silently.
    assert_eq!(
        http_get(&format!("{base}api/alerts?limit=100000"), None).0,
        400
    );
    let long = "x".repeat(300);
    assert_eq!(http_get(&format!("{base}api/alerts?q={long}"), None).0, 400);
    assert_eq!(http_get(&format!("{base}api/alerts?bogus=1"), None).0, 400);
    let huge = "x".repeat(5000);
    assert_eq!(http_get(&format!("{base}api/alerts?q={huge}"), None).0, 414);
    // SQL in a filter is only ever a value.
    let inj = get_json(&format!("{base}api/alerts?ip=1'%20OR%20'1'='1"));
    assert_eq!(inj["total"], json!(0));
}

#[test]
fn live_stream_follows_alerts_another_process_writes() {
    use std::io::BufRead as _;
    let dir = demo_store("web-stream");
    let store = dir.join("store");
    let (_server, base) = serve(&store, &[]);
    let resp = agent()
        .get(&format!("{base}api/stream"))
        .call()
        .expect("open the stream");
    assert!(resp.content_type().starts_with("text/event-stream"));
    let mut lines = std::io::BufReader::new(resp.into_reader()).lines();
    // Another process (`vedette ingest`) stores a new alert while the stream is open.
    let mut alert = eve(&dir.join("eve.json"))
        .into_iter()
        .find(|e| e["event_type"] == "alert")
        .expect("an alert");
    alert["alert"]["signature"] = json!("LIVE STREAM TEST");
    let file = dir.join("new-alert.json");
    std::fs::write(&file, format!("{alert}\n")).expect("write EVE line");
    let o = run(vedette()
        .args(["ingest"])
        .arg(&file)
        .arg("--store")
        .arg(&store));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stored = Instant::now();
    let start = Instant::now();
    let mut event = String::new();
    loop {
        assert!(start.elapsed() < DEADLINE, "the new alert never arrived");
        let line = lines
            .next()
            .expect("the stream stays open")
            .expect("read the stream");
        if line.starts_with("event:") {
            event = line;
        } else if let Some(data) = line.strip_prefix("data:") {
            if data.contains("LIVE STREAM TEST") {
                assert_eq!(event.trim(), "event: alert");
                let v: Value = serde_json::from_str(data.trim()).expect("an EVE line");
                assert_eq!(v["event_type"], "alert");
                break;
            }
            // Only alerts stored after the stream opened are sent.
            panic!("unexpected event before the new alert: {data}");
        }
    }
    eprintln!(
        "the stored alert reached the stream {} ms after the writer committed it",
        stored.elapsed().as_millis()
    );
}

#[test]
fn ml_view_shows_the_score_distribution_of_scored_flows() {
    // The demo's records, the flows given ML scores as a scoring run writes them.
    let dir = demo_store("web-ml");
    let mut lines = String::new();
    let mut want_hist = BTreeMap::new();
    let mut scored = 0;
    for (i, mut e) in eve(&dir.join("eve.json")).into_iter().enumerate() {
        if e["event_type"] == "flow" {
            let score = (i % 10) as f64 / 10.0 + 0.05;
            let label = if score > 0.5 { "attack" } else { "benign" };
            e["vedette"]["ml"] = json!({ "score": score, "label": label, "model": "test" });
            *want_hist
                .entry(((score * 20.0) as i64, label.to_owned()))
                .or_insert(0) += 1;
            scored += 1;
        }
        lines.push_str(&format!("{e}\n"));
    }
    let file = dir.join("scored.json");
    std::fs::write(&file, lines).expect("write EVE");
    let store = dir.join("scored-store");
    let o = run(vedette()
        .arg("ingest")
        .arg(&file)
        .arg("--store")
        .arg(&store));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_server, base) = serve(&store, &[]);
    let ml = get_json(&format!("{base}api/ml"));
    assert_eq!(ml["available"], json!(true), "{ml}");
    assert_eq!(ml["scored_flows"], json!(scored));
    let mut got = BTreeMap::new();
    for h in ml["histogram"].as_array().unwrap() {
        got.insert(
            (
                h["bin"].as_i64().unwrap(),
                h["label"].as_str().unwrap().to_owned(),
            ),
            h["flows"].as_i64().unwrap(),
        );
    }
    assert_eq!(got, want_hist);
    let top = ml["top"].as_array().unwrap();
    assert!((top[0]["ml_score"].as_f64().unwrap() - 0.95).abs() < 1e-9);
    let flows = get_json(&format!("{base}api/flows?limit=1"));
    assert!(flows["items"][0]["ml_score"].is_number());
}

/// Paths of the OpenAPI file, in the router's `{param}` syntax.
fn openapi_paths(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    v.sort();
    v
}

#[test]
fn every_route_is_in_the_openapi_file_and_back() {
    let dir = demo_store("web-openapi");
    let (_server, base) = serve(&dir.join("store"), &[]);
    let doc = get_json(&format!("{base}api/openapi.json"));
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json"),
        )
        .expect("docs/openapi.json"),
    )
    .expect("valid JSON");
    assert_eq!(doc, file, "the served document is the repository's file");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut routes: Vec<String> = vedette_api::ROUTES.iter().map(|s| s.to_string()).collect();
    routes.sort();
    assert_eq!(openapi_paths(&doc), routes);
    // Every documented path is served (not the 404 fallback), every one only for GET/HEAD.
    let alerts = get_json(&format!("{base}api/alerts"));
    let fid = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|a| a["flow_id"].as_str())
        .expect("an alert with a flow")
        .to_owned();
    for path in &routes {
        let url = format!(
            "{base}{}",
            path.trim_start_matches('/')
                .replace("{file}", "app.js")
                .replace("{flow_id}", &fid)
        );
        if path == "/api/stream" {
            // An endless stream: only its head is read.
            let r = agent().get(&url).call().expect("stream");
            assert_eq!(r.status(), 200);
            assert!(r.content_type().starts_with("text/event-stream"));
            continue;
        }
        let (status, _) = http_get(&url, None);
        assert_eq!(status, 200, "{url}");
        let r = agent().request("POST", &url).call();
        assert!(
            matches!(r, Err(ureq::Error::Status(405, _))),
            "POST {url}: {r:?}"
        );
    }
}

#[test]
fn non_loopback_needs_a_token_and_requests_are_checked() {
    let dir = demo_store("web-token");
    let store = dir.join("store");
    // Without a token a non-loopback address is refused before anything is served.
    let port = free_port();
    let o = run(vedette()
        .args(["serve", "--store"])
        .arg(&store)
        .args(["--listen", &format!("0.0.0.0:{port}")])
        .env_remove("VEDETTE_TOKEN"));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("without a token"), "{err}");
    assert!(
        TcpListener::bind(("0.0.0.0", port)).is_ok(),
        "nothing listens"
    );

    // With one (here from the environment), the API checks it.
    let port = free_port();
    let mut child = vedette()
        .args(["serve", "--store"])
        .arg(&store)
        .args(["--listen", &format!("0.0.0.0:{port}")])
        .env("VEDETTE_TOKEN", "correct-horse-battery")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let base = format!("http://127.0.0.1:{port}/");
    wait_up(&base, &mut child);
    let _guard = Killed(child);
    let api = format!("{base}api/alerts");
    assert_eq!(http_get(&api, None).0, 401);
    assert_eq!(http_get(&api, Some("wrong")).0, 401);
    assert_eq!(http_get(&api, Some("correct-horse-batterx")).0, 401);
    assert_eq!(http_get(&api, Some("correct-horse-battery")).0, 200);
    assert_eq!(http_get(&format!("{base}metrics"), None).0, 401);
    let r = agent()
        .get(&api)
        .set("Authorization", "Basic correct-horse-battery")
        .call();
    assert!(matches!(r, Err(ureq::Error::Status(401, _))));
    // The page itself holds no data and loads without the token (the JS then sends it).
    let r = agent().get(&base).call().expect("index");
    assert_eq!(r.status(), 200);
    let csp = r.header("content-security-policy").expect("CSP").to_owned();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    // Read-only: other methods get 405, with or without the token.
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = agent()
            .request(method, &api)
            .set("Authorization", "Bearer correct-horse-battery")
            .call();
        assert!(
            matches!(r, Err(ureq::Error::Status(405, _))),
            "{method}: {r:?}"
        );
    }
    // A token given on loopback is enforced too.
    let (_s, base) = serve(&store, &["--token", "loopback-token"]);
    assert_eq!(http_get(&format!("{base}api/health"), None).0, 401);
    assert_eq!(
        http_get(&format!("{base}api/health"), Some("loopback-token")).0,
        200
    );
}

// ------------------------------------------------------------------------------ browser

/// A W3C WebDriver session on a chromedriver this test started.
struct Browser {
    base: String,
    session: String,
    _driver: Killed,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium, or None (SKIP) when they are missing.
    fn start() -> Option<Browser> {
        if !ensure_tool("chromium") {
            return None;
        }
        let have_driver = Command::new("sh")
            .args(["-c", "command -v chromedriver"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !have_driver {
            assert!(
                !in_ci(),
                "chromedriver is required (scripts/install-test-deps.sh chromium)"
            );
            eprintln!("SKIP: chromedriver not available");
            return None;
        }
        let port = free_port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        wait_for("chromedriver", || {
            if let Ok(Some(s)) = child.try_wait() {
                panic!("chromedriver exited: {s}");
            }
            let r = agent().get(&format!("{base}/status")).call().ok()?;
            let v: Value = r.into_json().ok()?;
            v["value"]["ready"].as_bool().filter(|r| *r)
        });
        let driver = Killed(child);
        let profile = tmpdir(&format!("chromium-profile-{port}"));
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium_binary(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1100",
                         "--force-device-scale-factor=1",
                         format!("--user-data-dir={}", profile.display())],
            },
        }}});
        let r: Value = agent()
            .post(&format!("{base}/session"))
            .send_json(caps)
            .expect("new WebDriver session")
            .into_json()
            .expect("session JSON");
        let session = r["value"]["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned();
        Some(Browser {
            base,
            session,
            _driver: driver,
        })
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let req = agent().request(method, &url);
        let r = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match r {
            Ok(r) => r.into_json::<Value>().expect("WebDriver JSON")["value"].take(),
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "WebDriver {path}: {code} {}",
                    r.into_string().unwrap_or_default()
                )
            }
            Err(e) => panic!("WebDriver {path}: {e}"),
        }
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Polls `script` until it returns something other than null/false.
    fn wait_js(&self, what: &str, script: &str) -> Value {
        wait_for(what, || {
            let v = self.js(script);
            (!v.is_null() && v != json!(false)).then_some(v)
        })
    }

    /// Drags the mouse across the element matching `css`, from `from` to `to` (fractions of
    /// its width), at half its height: real pointer input through WebDriver actions.
    fn drag(&self, css: &str, from: f64, to: f64) {
        let found = self.cmd(
            "POST",
            "element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        let element = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("element reference")
            .to_owned();
        let rect = self.cmd("GET", &format!("element/{element}/rect"), None);
        let w = rect["width"].as_f64().expect("width");
        // Action offsets are from the element's centre.
        let x = |f: f64| ((f - 0.5) * w).round() as i64;
        let origin = json!({ "element-6066-11e4-a52e-4f735466cecf": element });
        self.cmd(
            "POST",
            "actions",
            Some(json!({ "actions": [{
                "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
                "actions": [
                    { "type": "pointerMove", "duration": 0, "origin": origin, "x": x(from), "y": 0 },
                    { "type": "pointerDown", "button": 0 },
                    { "type": "pointerMove", "duration": 100, "origin": origin, "x": x((from + to) / 2.0), "y": 0 },
                    { "type": "pointerMove", "duration": 100, "origin": origin, "x": x(to), "y": 0 },
                    { "type": "pointerUp", "button": 0 },
                ],
            }]})),
        );
    }

    fn screenshot(&self, path: &Path) -> Vec<u8> {
        use base64::Engine as _;
        let v = self.cmd("GET", "screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 screenshot"))
            .expect("decode screenshot");
        std::fs::write(path, &png).expect("save screenshot");
        png
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = agent()
            .delete(&format!("{}/session/{}", self.base, self.session))
            .call();
    }
}

fn chromium_binary() -> String {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).exists() {
            return p.to_owned();
        }
    }
    "chromium".to_owned()
}

/// Texts of one column of the table `#id`.
fn column_texts(b: &Browser, table_id: &str, col: usize) -> Vec<String> {
    let v = b.js(&format!(
        "return [...document.querySelectorAll('#{table_id} tbody tr')]\
         .map(tr => tr.children[{col}] ? tr.children[{col}].textContent : '');"
    ));
    v.as_array()
        .expect("an array of cell texts")
        .iter()
        .map(|s| s.as_str().unwrap_or("").to_owned())
        .collect()
}

/// Counts non-white pixels and distinct colours of the screenshot inside the rectangle.
fn ink_in(png_bytes: &[u8], rect: &Value) -> (usize, usize) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    let f = |k: &str| rect[k].as_f64().expect("a rectangle").max(0.0) as usize;
    let (x0, y0) = (f("x"), f("y"));
    let (x1, y1) = (
        (x0 + f("width")).min(info.width as usize),
        (y0 + f("height")).min(info.height as usize),
    );
    let mut ink = 0;
    let mut colours = std::collections::HashSet::new();
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * info.width as usize + x) * channels;
            let px = &buf[i..i + 3];
            if px != [255, 255, 255] {
                ink += 1;
            }
            colours.insert([px[0], px[1], px[2]]);
        }
    }
    (ink, colours.len())
}

const CANVAS_INK: &str = "const c = document.querySelector('#chart-throughput canvas'); \
    if (!c || !document.querySelector('#chart-throughput[data-drawn]')) return null; \
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
    let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++; \
    return n > 500 ? n : null;";

#[test]
fn browser_shows_the_demo_dashboard_charts_and_alerts() {
    let Some(browser) = Browser::start() else {
        return;
    };
    // `demo --serve`: analyse the bundled capture, then serve it.
    let dir = tmpdir("web-browser-demo");
    let port = free_port();
    let mut child = vedette()
        .current_dir(&dir)
        .args(["demo", "-q", "--output-dir", "out", "--store", "store"])
        .args(["--serve", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start demo");
    let base = format!("http://127.0.0.1:{port}/");
    wait_up(&base, &mut child);
    let mut stdout = child.stdout.take().expect("stdout");
    let demo = Killed(child);
    let eve_path = dir.join("out/eve.json");
    let want = alert_signatures(&eve_path);
    assert!(want.len() >= 10, "the demo raises alerts: {want:?}");

    browser.goto(&base);
    let ink = browser.wait_js("the throughput chart to be drawn", CANVAS_INK);
    assert!(ink.as_u64().unwrap() > 500);
    for id in ["chart-packets", "chart-alerts"] {
        browser.wait_js(
            &format!("#{id} to be drawn"),
            &format!("return document.querySelector('#{id}[data-drawn] canvas') !== null;"),
        );
    }
    // Top signatures: every signature of eve.json, with its count.
    let mut distinct = want.clone();
    distinct.dedup();
    let listed = browser.wait_js(
        "the top signatures table",
        &format!(
            "const r = document.querySelectorAll('#top-signatures tbody tr'); \
             return r.length === {} ? r.length : null;",
            distinct.len()
        ),
    );
    assert_eq!(listed.as_u64().unwrap() as usize, distinct.len());
    let mut top = column_texts(&browser, "top-signatures", 2);
    top.sort();
    assert_eq!(top, distinct);

    let shot = dir.join("dashboard-overview.png");
    let png = browser.screenshot(&shot);
    let rect = browser.js(
        "const r = document.getElementById('chart-throughput').getBoundingClientRect(); \
         return { x: r.x, y: r.y, width: r.width, height: r.height };",
    );
    let (ink, colours) = ink_in(&png, &rect);
    assert!(
        ink > 2000 && colours > 3,
        "chart area of {} is blank: {ink} inked pixels, {colours} colours",
        shot.display()
    );
    let target_shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-overview.png");
    std::fs::copy(&shot, &target_shot).expect("copy screenshot");

    // The alert list holds exactly the run's alerts.
    browser.goto(&format!("{base}#/alerts"));
    browser.wait_js(
        "the alert list",
        &format!(
            "return document.querySelectorAll('#alerts-table tbody tr').length === {};",
            want.len()
        ),
    );
    let mut shown = column_texts(&browser, "alerts-table", 3);
    shown.sort();
    assert_eq!(shown, want);

    // Dragging across a chart narrows the page to that time range.
    browser.goto(&format!("{base}#/overview"));
    browser.wait_js("the chart again", CANVAS_INK);
    browser.drag("#chart-throughput .u-over", 0.01, 0.2);
    browser.wait_js(
        "the time range to be set",
        "return document.getElementById('range').textContent.includes('→');",
    );
    let kpi_alerts = browser.wait_js(
        "the narrowed overview",
        "const k = document.querySelector('#kpis .kpi .v'); \
         return k && document.querySelector('#chart-throughput[data-drawn]') ? k.textContent : null;",
    );
    let narrowed: f64 = kpi_alerts.as_str().unwrap().trim().parse().unwrap_or(-1.0);
    assert!(
        narrowed >= 0.0 && (narrowed as usize) < want.len(),
        "a fifth of the time holds fewer alerts: {kpi_alerts}"
    );

    // The live page lists the stored alerts and follows the store.
    browser.goto(&format!("{base}#/live"));
    browser.wait_js(
        "the live feed",
        &format!(
            "return document.querySelectorAll('#live-table tbody tr').length === {} && \
             document.getElementById('live-state').textContent === 'connected';",
            want.len()
        ),
    );
    drop(demo);
    let mut printed = String::new();
    let _ = stdout.read_to_string(&mut printed);
    assert!(
        printed.contains(&format!("dashboard: http://127.0.0.1:{port}/")),
        "{printed}"
    );
}

/// A capture of one HTTP request whose URI and User-Agent carry script payloads.
fn xss_capture(path: &Path) {
    use vedette_trafficgen::{Endpoints, PcapWriter, Rng, Side, TcpSession, TcpSessionConfig};
    use vedette_types::Timestamp;
    let ep = Endpoints::new(
        IpAddr::from([10, 9, 0, 5]),
        41000,
        IpAddr::from([10, 9, 0, 80]),
        80,
    );
    let start = Timestamp(1_767_225_600_000_000_000);
    let cfg = TcpSessionConfig::new(ep, [2, 0, 0, 0, 0, 5], [2, 0, 0, 0, 0, 80], start);
    let mut s = TcpSession::new(cfg, &mut Rng::new(7));
    s.handshake();
    s.client_send(
        b"GET /<script>window.__pwned=1;document.title='pwned'</script>?q=<img/src=x/onerror=window.__pwned=2> HTTP/1.1\r\n\
Host: victim.example\r\n\
User-Agent: <script>window.__pwned=3</script><img src=x onerror=window.__pwned=4>\r\n\
Accept: */*\r\n\r\n",
    );
    s.server_send(
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found",
    );
    s.close(Side::Client);
    let f = std::fs::File::create(path).expect("create pcap");
    let mut w = PcapWriter::new(std::io::BufWriter::new(f)).expect("pcap header");
    for p in s.into_packets() {
        w.write_packet(p.ts, &p.frame).expect("write packet");
    }
    w.flush().expect("flush pcap");
}

#[test]
fn browser_renders_script_payloads_as_text_and_runs_none() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tmpdir("web-xss");
    let pcap = dir.join("xss.pcap");
    xss_capture(&pcap);
    let rules = dir.join("xss.rules");
    std::fs::write(
        &rules,
        "alert http any any -> any any (msg:\"XSS test <b>uri</b>\"; http.uri; content:\"<script>\"; sid:7100001; rev:1;)\n\
         alert http any any -> any any (msg:\"XSS test user agent\"; http.user_agent; content:\"onerror=\"; sid:7100002; rev:1;)\n",
    )
    .expect("rules");
    let store = dir.join("store");
    analyze(
        &[&pcap],
        &dir.join("out"),
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ],
    );
    let sigs = alert_signatures(&dir.join("out/eve.json"));
    assert_eq!(sigs, ["XSS test <b>uri</b>", "XSS test user agent"]);
    let (_server, base) = serve(&store, &["--token", "xss-test-token"]);

    browser.goto(&format!("{base}#token=xss-test-token"));
    browser.goto(&format!("{base}#/alerts"));
    browser.wait_js(
        "the two alerts",
        "return document.querySelectorAll('#alerts-table tbody tr').length === 2;",
    );
    let table = browser
        .js("return document.getElementById('alerts-table').textContent;")
        .as_str()
        .unwrap()
        .to_owned();
    for needle in [
        "/<script>window.__pwned=1;document.title='pwned'</script>?q=<img/src=x/onerror=window.__pwned=2>",
        "<script>window.__pwned=3</script><img src=x onerror=window.__pwned=4>",
        "XSS test <b>uri</b>",
    ] {
        assert!(table.contains(needle), "{needle} shown as text in {table}");
    }
    // The flow page's HTTP table shows them as text too.
    browser.js(
        "document.querySelector('#alerts-table tbody tr td:last-child a').click(); return true;",
    );
    let http = browser.wait_js(
        "the flow page",
        "const h = document.getElementById('flow-http'); return h ? h.textContent : null;",
    );
    let http = http.as_str().unwrap();
    assert!(http.contains("<script>window.__pwned=3</script>"), "{http}");
    assert!(
        http.contains("<img/src=x/onerror=window.__pwned=2>"),
        "{http}"
    );
    // Nothing ran and no element came from the payloads.
    let verdict = browser.js(
        "return { pwned: window.__pwned === undefined ? null : window.__pwned, \
                  title: document.title, \
                  imgs: document.querySelectorAll('img').length, \
                  bold: document.querySelectorAll('main b').length, \
                  scripts: [...document.scripts].map(s => s.src) };",
    );
    assert_eq!(verdict["pwned"], Value::Null, "{verdict}");
    assert_eq!(verdict["title"], "vedette", "{verdict}");
    assert_eq!(verdict["imgs"], 0, "{verdict}");
    assert_eq!(verdict["bold"], 0, "{verdict}");
    assert_eq!(verdict["scripts"].as_array().unwrap().len(), 1, "{verdict}");
    // The token never stays in the address (so it cannot leak through history or Referer).
    let url = browser.cmd("GET", "url", None);
    assert!(!url.as_str().unwrap().contains("xss-test-token"), "{url}");
    browser.screenshot(&dir.join("xss-flow.png"));
}
