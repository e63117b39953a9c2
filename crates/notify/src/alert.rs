//! An EVE `alert` record as the notifiers need it: the fields routing and dedup look at, plus
//! the whole record (forwarded as is in webhook bodies).

use serde_json::Value;

/// One parsed alert. Every string here came from the wire or a rule file: formatters escape it.
#[derive(Clone, Debug)]
pub struct Alert {
    /// The whole EVE record.
    pub record: Value,
    /// `timestamp` as written.
    pub timestamp: String,
    /// `timestamp` in ns since the epoch (0 when unparsable).
    pub ts_ns: i64,
    /// `alert.gid`.
    pub gid: u64,
    /// `alert.signature_id`.
    pub sid: u64,
    /// `alert.rev`.
    pub rev: u64,
    /// `alert.signature`.
    pub signature: String,
    /// `alert.category`.
    pub category: String,
    /// `alert.severity` (Suricata: 1 high .. 4 low; 3 when absent).
    pub severity: u64,
    /// `alert.metadata.classtype` or similar when present (lower case).
    pub classtype: String,
    /// `vedette.detector` (empty for signature alerts).
    pub detector: String,
    /// `src_ip`.
    pub src_ip: String,
    /// `src_port` (0 when absent).
    pub src_port: u64,
    /// `dest_ip`.
    pub dest_ip: String,
    /// `dest_port`.
    pub dest_port: u64,
    /// `proto`.
    pub proto: String,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Alert {
    /// Parses one EVE line; `None` unless it is an `alert` record with a signature id.
    pub fn parse(line: &[u8]) -> Option<Alert> {
        let record: Value = serde_json::from_slice(line).ok()?;
        if record.get("event_type")?.as_str()? != "alert" {
            return None;
        }
        let a = record.get("alert")?;
        let sid = a.get("signature_id")?.as_u64()?;
        let classtype = a
            .get("metadata")
            .and_then(|m| m.get("classtype"))
            .map(|c| match c {
                Value::Array(v) => v.first().map(s).unwrap_or_default(),
                other => s(other),
            })
            .unwrap_or_default()
            .to_ascii_lowercase();
        let timestamp = s(&record["timestamp"]);
        Some(Alert {
            ts_ns: parse_eve_timestamp(&timestamp).unwrap_or(0),
            timestamp,
            gid: a.get("gid").and_then(Value::as_u64).unwrap_or(1),
            sid,
            rev: a.get("rev").and_then(Value::as_u64).unwrap_or(0),
            signature: s(&a["signature"]),
            category: s(&a["category"]),
            severity: a.get("severity").and_then(Value::as_u64).unwrap_or(3),
            classtype,
            detector: s(&record["vedette"]["detector"]),
            src_ip: s(&record["src_ip"]),
            src_port: record["src_port"].as_u64().unwrap_or(0),
            dest_ip: s(&record["dest_ip"]),
            dest_port: record["dest_port"].as_u64().unwrap_or(0),
            proto: s(&record["proto"]),
            record,
        })
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses EVE's `2024-01-31T12:34:56.123456+0000` (offset `+hhmm`, `+hh:mm` or `Z`) to ns.
pub fn parse_eve_timestamp(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ns: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100_000_000;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            frac_ns += i64::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset_secs = match b.get(i) {
        None | Some(b'Z') => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest: String = t.get(i + 1..)?.chars().filter(|c| *c != ':').collect();
            if rest.len() != 4 || !rest.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let oh: i64 = rest.get(0..2)?.parse().ok()?;
            let om: i64 = rest.get(2..4)?.parse().ok()?;
            let o = oh * 3600 + om * 60;
            if sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_alert_records_and_ignores_the_rest() {
        let line = br#"{"timestamp":"2024-01-02T03:04:05.250000+0000","event_type":"alert","src_ip":"10.0.0.1","src_port":1234,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001,"rev":3,"signature":"ET <x>","category":"Attempted Information Leak","severity":2}}"#;
        let a = Alert::parse(line).expect("alert");
        assert_eq!((a.gid, a.sid, a.rev, a.severity), (1, 2001, 3, 2));
        assert_eq!(a.signature, "ET <x>");
        assert_eq!(a.src_port, 1234);
        assert_eq!(a.ts_ns, 1_704_164_645_250_000_000);
        assert!(Alert::parse(br#"{"event_type":"flow"}"#).is_none());
        assert!(Alert::parse(b"not json").is_none());
        assert!(Alert::parse(br#"{"event_type":"alert","alert":{}}"#).is_none());
    }

    #[test]
    fn timestamps_with_offsets() {
        assert_eq!(parse_eve_timestamp("1970-01-01T00:00:00+0000"), Some(0));
        assert_eq!(
            parse_eve_timestamp("1970-01-01T01:00:00.5+01:00"),
            Some(500_000_000)
        );
        assert_eq!(
            parse_eve_timestamp("1970-01-01T00:00:01Z"),
            Some(1_000_000_000)
        );
        assert_eq!(parse_eve_timestamp("garbage"), None);
        assert_eq!(parse_eve_timestamp("1970-13-01T00:00:00+0000"), None);
    }
}
