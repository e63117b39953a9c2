//! Notifiers against local receivers started here: what arrives, how often, in which format,
//! and that a dead endpoint neither stalls the others nor the end of the run.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with its location

use std::time::{Duration, Instant};
use vedette_notify::config::{
    EmailConfig, Limits, Route, SyslogConfig, SyslogTransport, WebhookConfig, WebhookFormat,
};
use vedette_notify::testkit::*;
use vedette_notify::{Clock, Notifier, NotifyConfig, NotifyStats};

const WAIT: Duration = Duration::from_secs(20);

fn alert_line(sid: u64, src: &str, second: u32, signature: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "timestamp": format!("2024-05-01T10:00:{second:02}.000000+0000"),
        "event_type": "alert",
        "src_ip": src, "src_port": 40000 + sid, "dest_ip": "10.0.0.2", "dest_port": 80,
        "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                  "signature": signature, "category": "Misc activity", "severity": 2}
    });
    serde_json::to_vec(&v).unwrap()
}

fn no_limits() -> Limits {
    Limits {
        dedup_secs: 0,
        rate_per_minute: 0,
        ..Limits::default()
    }
}

fn webhook(name: &str, url: String, format: WebhookFormat) -> WebhookConfig {
    WebhookConfig {
        name: name.into(),
        url,
        format,
        headers: [("X-Token".to_owned(), "s3cret".to_owned())].into(),
        timeout_ms: 2000,
        retries: 2,
        backoff_ms: 20,
        max_backoff_ms: 100,
        route: Route::default(),
        limits: no_limits(),
    }
}

fn syslog(name: &str, addr: std::net::SocketAddr, transport: SyslogTransport) -> SyslogConfig {
    SyslogConfig {
        name: name.into(),
        address: addr.to_string(),
        transport,
        facility: "local3".into(),
        app_name: "vedette-test".into(),
        hostname: "sensor-a".into(),
        sd_id: "vedette@32473".into(),
        timeout_ms: 1000,
        retries: 1,
        backoff_ms: 20,
        max_backoff_ms: 100,
        route: Route::default(),
        limits: no_limits(),
    }
}

fn start(mut cfg: NotifyConfig) -> Notifier {
    cfg.prepare().unwrap();
    Notifier::start(&cfg, Clock::Event).unwrap().unwrap()
}

fn by_name<'a>(s: &'a NotifyStats, name: &str) -> &'a vedette_notify::NotifierStats {
    s.notifiers.iter().find(|n| n.name == name).unwrap()
}

#[test]
fn webhook_and_slack_get_each_alert_once_with_headers_and_retries() {
    let json = HttpReceiver::start_failing(2);
    let slack = HttpReceiver::start();
    let n = start(NotifyConfig {
        webhook: vec![
            webhook("j", json.url("/hook"), WebhookFormat::Json),
            webhook("s", slack.url("/slack"), WebhookFormat::Slack),
        ],
        ..NotifyConfig::default()
    });
    for sid in 1..=5 {
        n.submit(&alert_line(sid, "10.0.0.1", sid as u32, "<b>&bold</b>"));
    }
    let s = n.finish();
    assert_eq!(json.received().len(), 5);
    assert_eq!(slack.received().len(), 5);
    let mut sids: Vec<u64> = json
        .received()
        .iter()
        .map(|r| {
            assert!(r.head.starts_with("POST /hook HTTP/1.1"), "{}", r.head);
            assert!(r.head.to_ascii_lowercase().contains("x-token: s3cret"));
            assert!(r
                .head
                .to_ascii_lowercase()
                .contains("content-type: application/json"));
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(v["count"], 1);
            assert_eq!(v["kind"], "alert");
            assert_eq!(v["notifier"], "j");
            v["alert"]["alert"]["signature_id"].as_u64().unwrap()
        })
        .collect();
    sids.sort_unstable();
    assert_eq!(sids, [1, 2, 3, 4, 5]);
    for r in slack.received() {
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let text = v["text"].as_str().unwrap();
        assert!(text.contains("&lt;b&gt;&amp;bold&lt;/b&gt;"), "{text}");
        assert!(!text.contains("<b>"));
    }
    let j = by_name(&s, "j");
    assert_eq!((j.sent, j.failed, j.retried), (5, 0, 2));
    assert_eq!(json.failing_left(), 0);
    assert_eq!(by_name(&s, "s").sent, 5);
    assert_eq!(s.alerts, 5);
}

#[test]
fn syslog_udp_and_tcp_messages_are_rfc5424_and_tcp_is_octet_counted() {
    let udp = SyslogUdpReceiver::start();
    let tcp = SyslogTcpReceiver::start();
    let n = start(NotifyConfig {
        syslog: vec![
            syslog("u", udp.addr, SyslogTransport::Udp),
            syslog("t", tcp.addr, SyslogTransport::Tcp),
        ],
        ..NotifyConfig::default()
    });
    let hostile = "evil\"] \\ \n<x>";
    for sid in 1..=3 {
        n.submit(&alert_line(sid, "10.0.0.1", 7, hostile));
    }
    let s = n.finish();
    assert!(udp.wait_for(3, WAIT), "udp got {:?}", udp.received());
    // Written to the socket is not yet read by the listener's thread: poll.
    assert!(tcp.wait_for(3, WAIT), "tcp got {:?}", tcp.received());
    assert_eq!(tcp.received().len(), 3);
    for r in udp.received().iter().chain(tcp.received().iter()) {
        assert_ne!(
            r.head,
            "BAD FRAME",
            "{:?}",
            String::from_utf8_lossy(&r.body)
        );
        let m = parse_rfc5424(&r.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&r.body));
        });
        // local3 (19) * 8 + err (3) for alert severity 2.
        assert_eq!(m.pri, 19 * 8 + 3);
        assert_eq!(m.timestamp, "2024-05-01T10:00:07.000000+00:00");
        assert_eq!(
            (m.hostname.as_str(), m.app_name.as_str(), m.msgid.as_str()),
            ("sensor-a", "vedette-test", "alert")
        );
        assert_eq!(m.procid, std::process::id().to_string());
        assert_eq!(m.sd_id, "vedette@32473");
        assert_eq!(m.param("signature"), Some("evil\"] \\  <x>"));
        assert_eq!(m.param("src_ip"), Some("10.0.0.1"));
        assert_eq!(m.param("count"), Some("1"));
        assert!(m.msg.starts_with("[1:"), "{}", m.msg);
    }
    assert_eq!(by_name(&s, "t").sent, 3);
    assert_eq!(by_name(&s, "u").sent, 3);
}

#[test]
fn email_batches_a_window_of_alerts_into_one_mail() {
    let smtp = SmtpSink::start();
    let n = start(NotifyConfig {
        email: vec![EmailConfig {
            name: "mail".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: smtp.addr.port(),
            require_tls: false,
            username: String::new(),
            password: String::new(),
            from: "vedette <vedette@example.org>".into(),
            to: vec!["soc@example.org".into(), "oncall@example.org".into()],
            subject_prefix: "[vedette]".into(),
            batch_secs: 3600,
            max_alerts_per_mail: 100,
            timeout_ms: 2000,
            retries: 1,
            backoff_ms: 20,
            max_backoff_ms: 100,
            route: Route::default(),
            limits: no_limits(),
        }],
        ..NotifyConfig::default()
    });
    for sid in 1..=6 {
        n.submit(&alert_line(sid, "10.0.0.1", sid as u32, "ET TEST mail"));
    }
    // The window is an hour: the end of the run sends what was collected, in one mail.
    let s = n.finish();
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert!(
        m.head.contains("MAIL FROM:<vedette@example.org>"),
        "{}",
        m.head
    );
    assert_eq!(m.head.matches("RCPT TO:").count(), 2);
    let body = String::from_utf8_lossy(&m.body);
    assert!(
        body.contains("Subject: [vedette] 6 notifications (6 alerts)"),
        "{body}"
    );
    for sid in 1..=6 {
        assert!(
            body.contains(&format!("[1:{sid}:1] ET TEST mail")),
            "{body}"
        );
    }
    assert_eq!(by_name(&s, "mail").sent, 6);
}

#[test]
fn require_tls_refuses_a_server_without_starttls_and_counts_the_failure() {
    let smtp = SmtpSink::start();
    let n = start(NotifyConfig {
        email: vec![EmailConfig {
            name: "mail".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: smtp.addr.port(),
            require_tls: true,
            username: String::new(),
            password: String::new(),
            from: "vedette@example.org".into(),
            to: vec!["soc@example.org".into()],
            subject_prefix: "[vedette]".into(),
            batch_secs: 0,
            max_alerts_per_mail: 100,
            timeout_ms: 2000,
            retries: 0,
            backoff_ms: 20,
            max_backoff_ms: 100,
            route: Route::default(),
            limits: no_limits(),
        }],
        ..NotifyConfig::default()
    });
    n.submit(&alert_line(1, "10.0.0.1", 1, "x"));
    let s = n.finish();
    assert!(smtp.received().is_empty());
    assert_eq!(by_name(&s, "mail").failed, 1);
}

#[test]
fn dedup_and_rate_limit_carry_their_counts() {
    let http = HttpReceiver::start();
    let mut w = webhook("d", http.url("/"), WebhookFormat::Json);
    w.limits = Limits {
        dedup_secs: 30,
        rate_per_minute: 0,
        ..Limits::default()
    };
    let mut r = webhook("r", http.url("/rate"), WebhookFormat::Json);
    r.limits = Limits {
        dedup_secs: 0,
        rate_per_minute: 1,
        burst: 2,
        ..Limits::default()
    };
    let n = start(NotifyConfig {
        webhook: vec![w, r],
        ..NotifyConfig::default()
    });
    // sid 1 from one source 10 times within 10 s, sid 2 once.
    for i in 0..10 {
        n.submit(&alert_line(1, "10.0.0.1", i, "repeated"));
    }
    n.submit(&alert_line(2, "10.0.0.1", 10, "once"));
    let s = n.finish();
    let got: Vec<serde_json::Value> = http
        .received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let dedup: Vec<_> = got.iter().filter(|v| v["notifier"] == "d").collect();
    let firsts: Vec<_> = dedup.iter().filter(|v| v["kind"] == "alert").collect();
    let repeats: Vec<_> = dedup.iter().filter(|v| v["kind"] == "repeats").collect();
    assert_eq!(firsts.len(), 2, "{dedup:?}");
    assert_eq!(repeats.len(), 1, "{dedup:?}");
    assert_eq!(repeats[0]["count"], 9);
    assert_eq!(repeats[0]["first_seen"], "2024-05-01T10:00:00.000000+0000");
    assert_eq!(repeats[0]["last_seen"], "2024-05-01T10:00:09.000000+0000");
    let d = by_name(&s, "d");
    assert_eq!((d.matched, d.deduplicated, d.sent), (11, 9, 3));
    // Rate: 11 alerts within 10 s of event time at 1/min with a burst of 2.
    let rate: Vec<_> = got.iter().filter(|v| v["notifier"] == "r").collect();
    assert_eq!(rate.len(), 2);
    let rs = by_name(&s, "r");
    assert_eq!((rs.sent, rs.rate_limited), (2, 9));
}

#[test]
fn dead_endpoints_do_not_stall_the_others_and_their_failures_are_counted() {
    let good = HttpReceiver::start();
    let hanging = Hanging::start();
    let closed = closed_port();
    let mut dead_http = webhook(
        "hang",
        format!("http://{}/", hanging.addr),
        WebhookFormat::Json,
    );
    dead_http.timeout_ms = 300;
    dead_http.retries = 1;
    let mut dead_tcp = syslog("hang-tcp", hanging.addr, SyslogTransport::Tcp);
    dead_tcp.timeout_ms = 300;
    let refused = syslog("closed", closed, SyslogTransport::Tcp);
    let refused_http = webhook(
        "closed-http",
        format!("http://{closed}/"),
        WebhookFormat::Json,
    );
    let mut cfg = NotifyConfig {
        webhook: vec![
            dead_http,
            refused_http,
            webhook("good", good.url("/"), WebhookFormat::Json),
        ],
        syslog: vec![dead_tcp, refused],
        notifier_queue: 64,
        shutdown_timeout_ms: 1500,
        ..NotifyConfig::default()
    };
    cfg.prepare().unwrap();
    let n = Notifier::start(&cfg, Clock::Event).unwrap().unwrap();
    let t = Instant::now();
    for sid in 1..=40 {
        n.submit(&alert_line(sid, "10.0.0.1", 0, "x"));
    }
    // The good endpoint gets everything while the others are stuck.
    assert!(
        good.wait_for(40, WAIT),
        "good got {}",
        good.received().len()
    );
    let s = n.finish();
    let took = t.elapsed();
    assert!(
        took < Duration::from_millis(1500 + 1500),
        "finish took {took:?} with a 1.5 s shutdown timeout"
    );
    assert_eq!(by_name(&s, "good").sent, 40);
    for name in ["hang", "closed-http", "closed"] {
        let d = by_name(&s, name);
        assert_eq!(d.sent, 0, "{name}: {d:?}");
        assert!(d.failed > 0, "{name}: {d:?}");
        assert_eq!(
            d.failed + d.dropped + d.unsent,
            40,
            "{name}: every notification accounted for: {d:?}"
        );
    }
    let closed_http = by_name(&s, "closed-http");
    assert!(closed_http.retried > 0, "{closed_http:?}");
    assert!(hanging.accepted.load(std::sync::atomic::Ordering::Relaxed) > 0);
    let h = by_name(&s, "hang-tcp");
    assert_eq!(h.sent + h.failed + h.dropped + h.unsent, 40, "{h:?}");
}

#[test]
fn config_errors_name_their_key() {
    let mut c = NotifyConfig {
        webhook: vec![webhook("a", "ftp://x".into(), WebhookFormat::Json)],
        ..NotifyConfig::default()
    };
    let e = c.prepare().unwrap_err();
    assert_eq!(e.key, "webhook[0].url");
    let mut s = syslog("s", "127.0.0.1:514".parse().unwrap(), SyslogTransport::Udp);
    s.facility = "local9".into();
    let mut c = NotifyConfig {
        syslog: vec![s],
        ..NotifyConfig::default()
    };
    assert_eq!(c.prepare().unwrap_err().key, "syslog[0].facility");
    let mut w = webhook("a", "http://x/".into(), WebhookFormat::Json);
    w.route.sids = vec![vedette_notify::config::SidSpec::Range("9-1".into())];
    let mut c = NotifyConfig {
        webhook: vec![w],
        ..NotifyConfig::default()
    };
    assert_eq!(c.prepare().unwrap_err().key, "webhook[0].route.sids");
}
