//! Message formats. Every alert string may be attacker-chosen (signatures and categories come
//! from rule files, addresses and payloads from packets), so each format escapes by its own
//! rules: JSON by serde_json, Slack `&`/`<`/`>` as entities, RFC 5424 structured data `"`/`\`/`]`
//! with a backslash, and control characters are never passed into line-based formats.

use crate::policy::{Kind, Notification};
use serde_json::{json, Value};

/// The webhook JSON body.
pub fn webhook_json(notifier: &str, n: &Notification) -> Vec<u8> {
    let v = json!({
        "notifier": notifier,
        "kind": n.kind.name(),
        "count": n.count,
        "first_seen": n.first_seen,
        "last_seen": n.last_seen,
        "rate_suppressed": n.rate_suppressed,
        "alert": n.alert.record,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Escapes text for Slack's message formatting (`&`, `<`, `>` as HTML entities; that is all
/// Slack asks, and it keeps `<!channel>`/`<url|x>` links from being forged).
pub fn slack_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One-line summary: `[gid:sid:rev] signature [Classification: c] [Priority: n] {PROTO} a:p -> b:q`
/// (fast.log style), not escaped.
pub fn summary_line(n: &Notification) -> String {
    let a = &n.alert;
    let ep = |ip: &str, port: u64| {
        if port == 0 {
            ip.to_owned()
        } else if ip.contains(':') {
            format!("[{ip}]:{port}")
        } else {
            format!("{ip}:{port}")
        }
    };
    let mut s = format!(
        "[{}:{}:{}] {} [Classification: {}] [Priority: {}] {{{}}} {} -> {}",
        a.gid,
        a.sid,
        a.rev,
        a.signature,
        a.category,
        a.severity,
        a.proto,
        ep(&a.src_ip, a.src_port),
        ep(&a.dest_ip, a.dest_port)
    );
    if !a.detector.is_empty() {
        s.push_str(&format!(" detector={}", a.detector));
    }
    if n.kind == Kind::Repeats {
        s.push_str(&format!(
            " (repeated {} more times from {} to {})",
            n.count, n.first_seen, n.last_seen
        ));
    }
    if n.rate_suppressed > 0 {
        s.push_str(&format!(
            " ({} notifications suppressed by the rate limit before this one)",
            n.rate_suppressed
        ));
    }
    s
}

/// A Slack incoming-webhook body: `text` (fallback and notification text) plus one section block.
pub fn slack_json(n: &Notification) -> Vec<u8> {
    let a = &n.alert;
    let title = match n.kind {
        Kind::First => format!("vedette alert: {}", slack_escape(&a.signature)),
        Kind::Repeats => format!(
            "vedette alert repeated {} times: {}",
            n.count,
            slack_escape(&a.signature)
        ),
    };
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Signature*\n{}:{}:{}", a.gid, a.sid, a.rev)}),
        json!({"type": "mrkdwn", "text": format!("*Severity*\n{}", a.severity)}),
        json!({"type": "mrkdwn", "text": format!("*Source*\n{}", slack_escape(&endpoint(&a.src_ip, a.src_port)))}),
        json!({"type": "mrkdwn", "text": format!("*Destination*\n{}", slack_escape(&endpoint(&a.dest_ip, a.dest_port)))}),
        json!({"type": "mrkdwn", "text": format!("*Category*\n{}", slack_escape(&a.category))}),
        json!({"type": "mrkdwn", "text": format!("*Count*\n{} ({} to {})", n.count, slack_escape(&n.first_seen), slack_escape(&n.last_seen))}),
    ];
    if !a.detector.is_empty() {
        fields.push(
            json!({"type": "mrkdwn", "text": format!("*Detector*\n{}", slack_escape(&a.detector))}),
        );
    }
    let text = format!("{title}\n{}", slack_escape(&summary_line(n)));
    let v: Value = json!({
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{title}*")}},
            {"type": "section", "fields": fields},
        ],
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

fn endpoint(ip: &str, port: u64) -> String {
    if port == 0 {
        ip.to_owned()
    } else {
        format!("{ip} port {port}")
    }
}

/// Escapes an RFC 5424 PARAM-VALUE: `"`, `\` and `]` get a backslash; control characters become
/// spaces (collectors split on them).
pub fn sd_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' | '\\' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Syslog severity for an alert severity: 1 → crit (2), 2 → err (3), 3 → warning (4), other →
/// notice (5).
pub fn syslog_severity(alert_severity: u64) -> u8 {
    match alert_severity {
        0 | 1 => 2,
        2 => 3,
        3 => 4,
        _ => 5,
    }
}

/// RFC 3339 form of an EVE timestamp (`+0000` → `+00:00`); `-` (NILVALUE) when it is not one.
fn rfc3339(eve_ts: &str) -> String {
    if crate::alert::parse_eve_timestamp(eve_ts).is_none()
        || !eve_ts.bytes().all(|b| (33..=126).contains(&b))
    {
        return "-".into();
    }
    let b = eve_ts.as_bytes();
    let n = b.len();
    if n >= 5 && matches!(b[n - 5], b'+' | b'-') && b[n - 4..].iter().all(u8::is_ascii_digit) {
        format!("{}:{}", &eve_ts[..n - 2], &eve_ts[n - 2..])
    } else {
        eve_ts.to_owned()
    }
}

/// Static fields of a syslog sender.
#[derive(Clone, Debug)]
pub struct SyslogHeader {
    /// Facility code 0..=23.
    pub facility: u8,
    /// HOSTNAME (validated printable ASCII).
    pub hostname: String,
    /// APP-NAME.
    pub app_name: String,
    /// PROCID.
    pub procid: String,
    /// SD-ID.
    pub sd_id: String,
}

/// One RFC 5424 message (no framing):
/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID k="v"...] BOM MSG`.
pub fn syslog_message(h: &SyslogHeader, n: &Notification) -> Vec<u8> {
    let a = &n.alert;
    let pri = u32::from(h.facility) * 8 + u32::from(syslog_severity(a.severity));
    let msgid = match n.kind {
        Kind::First => "alert",
        Kind::Repeats => "alert-repeats",
    };
    let mut s = format!(
        "<{pri}>1 {} {} {} {} {msgid} [{}",
        rfc3339(&a.timestamp),
        h.hostname,
        h.app_name,
        h.procid,
        h.sd_id
    );
    let mut param = |k: &str, v: &str| {
        s.push(' ');
        s.push_str(k);
        s.push_str("=\"");
        sd_escape(v, &mut s);
        s.push('"');
    };
    param("gid", &a.gid.to_string());
    param("sid", &a.sid.to_string());
    param("rev", &a.rev.to_string());
    param("severity", &a.severity.to_string());
    param("signature", &a.signature);
    param("category", &a.category);
    param("proto", &a.proto);
    param("src_ip", &a.src_ip);
    param("src_port", &a.src_port.to_string());
    param("dest_ip", &a.dest_ip);
    param("dest_port", &a.dest_port.to_string());
    if !a.detector.is_empty() {
        param("detector", &a.detector);
    }
    param("count", &n.count.to_string());
    param("first_seen", &n.first_seen);
    param("last_seen", &n.last_seen);
    if n.rate_suppressed > 0 {
        param("rate_suppressed", &n.rate_suppressed.to_string());
    }
    s.push_str("] \u{feff}");
    for c in summary_line(n).chars() {
        s.push(if c.is_control() { ' ' } else { c });
    }
    s.into_bytes()
}

/// RFC 6587 octet-counting frame: `LEN SP MSG`.
pub fn octet_counted(msg: &[u8]) -> Vec<u8> {
    let mut f = format!("{} ", msg.len()).into_bytes();
    f.extend_from_slice(msg);
    f
}

/// Subject and plain-text body of one mail for a batch of notifications.
pub fn email_text(prefix: &str, batch: &[Notification], max_listed: usize) -> (String, String) {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    let total: u64 = batch.iter().map(|n| n.count).sum();
    let subject = match batch {
        [one] => clean(&format!(
            "{prefix} {}{}",
            if one.kind == Kind::Repeats {
                format!("{} repeats: ", one.count)
            } else {
                String::new()
            },
            one.alert.signature
        )),
        _ => clean(&format!(
            "{prefix} {} notifications ({total} alerts), first: {}",
            batch.len(),
            batch.first().map_or("", |n| n.alert.signature.as_str())
        )),
    };
    let mut body = format!(
        "vedette: {} notification(s) standing for {total} alert(s).\n\n",
        batch.len()
    );
    for n in batch.iter().take(max_listed) {
        body.push_str(&clean(&format!("{}  {}", n.first_seen, summary_line(n))));
        body.push('\n');
    }
    if batch.len() > max_listed {
        body.push_str(&format!(
            "\n... and {} more notification(s) not listed.\n",
            batch.len() - max_listed
        ));
    }
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Alert;
    use std::sync::Arc;

    fn note(line: &str, kind: Kind, count: u64) -> Notification {
        let a = Arc::new(Alert::parse(line.as_bytes()).expect("alert"));
        Notification {
            first_seen: a.timestamp.clone(),
            last_seen: a.timestamp.clone(),
            alert: a,
            kind,
            count,
            rate_suppressed: 0,
            queued_at: std::time::Instant::now(),
        }
    }

    const HOSTILE: &str = r#"{"timestamp":"2024-01-02T03:04:05.123456+0000","event_type":"alert","src_ip":"10.0.0.1","src_port":1,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","alert":{"gid":1,"signature_id":5,"rev":2,"signature":"x\"] <!channel> & \\ \n<script>","category":"c]\"","severity":1}}"#;

    #[test]
    fn slack_escapes_ampersand_and_angle_brackets() {
        assert_eq!(slack_escape("<!here> a&b >"), "&lt;!here&gt; a&amp;b &gt;");
        let body = slack_json(&note(HOSTILE, Kind::First, 1));
        let v: Value = serde_json::from_slice(&body).expect("json");
        let text = v["text"].as_str().expect("text");
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert!(v["blocks"].as_array().is_some_and(|b| b.len() == 2));
    }

    #[test]
    fn syslog_is_rfc5424_with_escaped_structured_data() {
        let h = SyslogHeader {
            facility: 16,
            hostname: "sensor1".into(),
            app_name: "vedette".into(),
            procid: "42".into(),
            sd_id: "vedette@32473".into(),
        };
        let m = String::from_utf8(syslog_message(&h, &note(HOSTILE, Kind::Repeats, 7))).unwrap();
        // local0 (16) * 8 + crit (2) = 130
        assert!(
            m.starts_with("<130>1 2024-01-02T03:04:05.123456+00:00 sensor1 vedette 42 alert-repeats [vedette@32473 gid=\"1\" sid=\"5\""),
            "{m}"
        );
        assert!(
            m.contains(r#"signature="x\"\] <!channel> & \\  <script>""#),
            "{m}"
        );
        assert!(m.contains(r#"category="c\]\"""#), "{m}");
        assert!(m.contains(r#"count="7""#), "{m}");
        assert!(m.contains("] \u{feff}[1:5:2]"), "{m}");
        assert!(!m.contains('\n'));
        assert_eq!(octet_counted(b"abc"), b"3 abc");
        assert_eq!(syslog_severity(3), 4);
    }

    #[test]
    fn webhook_body_carries_the_record_and_count() {
        let v: Value =
            serde_json::from_slice(&webhook_json("soc", &note(HOSTILE, Kind::Repeats, 3))).unwrap();
        assert_eq!(v["kind"], "repeats");
        assert_eq!(v["count"], 3);
        assert_eq!(v["alert"]["alert"]["signature_id"], 5);
    }

    #[test]
    fn email_lists_at_most_the_cap() {
        let batch: Vec<_> = (0..3).map(|_| note(HOSTILE, Kind::First, 1)).collect();
        let (subject, body) = email_text("[v]", &batch, 2);
        assert!(
            subject.starts_with("[v] 3 notifications (3 alerts)"),
            "{subject}"
        );
        assert!(!subject.contains('\n'));
        assert_eq!(body.matches("[1:5:2]").count(), 2);
        assert!(body.contains("1 more"));
    }
}
