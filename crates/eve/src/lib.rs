//! Suricata-compatible EVE JSON: a small streaming JSON writer over a reused buffer, the common
//! event header, Suricata's timestamp format, and event batches handed to outputs.
//!
//! Owns: the byte-level shape of every EVE line (field names, escaping, number and time formats).
//! Must not: know about packets or flows beyond the plain values it is given, or do I/O.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::net::IpAddr;
use vedette_types::{ip_proto_name, Timestamp};

/// EVE event types vedette emits (the `event_type` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EventType {
    /// A signature or detector alert.
    Alert,
    /// A finished flow.
    Flow,
    /// A decoder, stream or app-layer anomaly.
    Anomaly,
    /// Engine statistics.
    Stats,
    /// DNS transaction.
    Dns,
    /// HTTP transaction.
    Http,
    /// TLS handshake.
    Tls,
}

impl EventType {
    /// Number of event types.
    pub const COUNT: usize = 7;
    /// All event types, in index order.
    pub const ALL: [EventType; Self::COUNT] = [
        EventType::Alert,
        EventType::Flow,
        EventType::Anomaly,
        EventType::Stats,
        EventType::Dns,
        EventType::Http,
        EventType::Tls,
    ];
    /// The `event_type` string.
    pub fn name(self) -> &'static str {
        match self {
            EventType::Alert => "alert",
            EventType::Flow => "flow",
            EventType::Anomaly => "anomaly",
            EventType::Stats => "stats",
            EventType::Dns => "dns",
            EventType::Http => "http",
            EventType::Tls => "tls",
        }
    }
    /// Index into per-type counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Where one record sits in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordMeta {
    /// Byte offset of the record's first byte.
    pub start: u32,
    /// Length in bytes, without the trailing newline.
    pub len: u32,
    /// Its event type.
    pub event_type: EventType,
}

/// A batch of serialised EVE lines (each ending in `\n`) with an index, handed to outputs.
#[derive(Debug, Default)]
pub struct EventBatch {
    /// The lines, back to back.
    pub buf: Vec<u8>,
    /// One entry per record.
    pub records: Vec<RecordMeta>,
    /// Write IPv6 addresses compressed (`fe80::1`) instead of Suricata 7's full form.
    pub ipv6_compress: bool,
    /// Numeric rows attached to records (flow feature vectors for the CSV export, only when
    /// enabled): the record index of each row.
    pub feature_records: Vec<u32>,
    /// The rows' values back to back, all rows of one width.
    pub feature_values: Vec<f32>,
}

impl EventBatch {
    /// An empty batch with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        EventBatch {
            buf: Vec::with_capacity(bytes),
            records: Vec::with_capacity(bytes / 256),
            ipv6_compress: false,
            feature_records: Vec::new(),
            feature_values: Vec::new(),
        }
    }

    /// Starts a record of `event_type`; write its JSON with the returned writer, then call
    /// [`JsonWriter::finish`].
    pub fn begin(&mut self, event_type: EventType) -> JsonWriter<'_> {
        let start = self.buf.len();
        JsonWriter {
            batch: self,
            start,
            event_type,
            depth: 0,
            comma: [false; MAX_DEPTH],
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when no record was written.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// A copy of the records only (no attached feature rows), for outputs that hand batches
    /// to a thread of their own.
    pub fn copy_records(&self) -> EventBatch {
        EventBatch {
            buf: self.buf.clone(),
            records: self.records.clone(),
            ipv6_compress: self.ipv6_compress,
            ..EventBatch::default()
        }
    }

    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.records.clear();
        self.feature_records.clear();
        self.feature_values.clear();
    }

    /// Attaches a row of numbers to record `record` (rows of a batch share one width).
    pub fn attach_features(&mut self, record: usize, values: &[f32]) {
        self.feature_records.push(record as u32);
        self.feature_values.extend_from_slice(values);
    }

    /// The attached rows: (record index, values).
    pub fn feature_rows(&self) -> impl Iterator<Item = (usize, &[f32])> + '_ {
        let width = self
            .feature_values
            .len()
            .checked_div(self.feature_records.len())
            .unwrap_or(0)
            .max(1);
        self.feature_records
            .iter()
            .zip(self.feature_values.chunks(width))
            .map(|(r, v)| (*r as usize, v))
    }

    /// The bytes of record `i` (without newline).
    pub fn record(&self, i: usize) -> Option<&[u8]> {
        let m = self.records.get(i)?;
        self.buf
            .get(m.start as usize..m.start as usize + m.len as usize)
    }
}

const MAX_DEPTH: usize = 16;

/// Streams one JSON object into a batch. Keys and values are escaped; nesting beyond 16 levels
/// is ignored rather than producing invalid JSON.
pub struct JsonWriter<'b> {
    batch: &'b mut EventBatch,
    start: usize,
    event_type: EventType,
    depth: usize,
    comma: [bool; MAX_DEPTH],
}

impl JsonWriter<'_> {
    fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.batch.buf
    }

    fn sep(&mut self) {
        if let Some(c) = self.comma.get_mut(self.depth) {
            if *c {
                self.batch.buf.push(b',');
            }
            *c = true;
        }
    }

    fn key(&mut self, k: &str) {
        self.sep();
        let b = self.buf();
        b.push(b'"');
        b.extend_from_slice(k.as_bytes());
        b.extend_from_slice(b"\":");
    }

    /// Opens the top-level object (done by [`EveBatch::begin`] callers through [`Self::open`]).
    pub fn open(&mut self) {
        self.batch.buf.push(b'{');
        self.comma[0] = false;
    }

    /// `"k":{` — opens a nested object.
    pub fn object(&mut self, k: &str) {
        self.key(k);
        self.batch.buf.push(b'{');
        self.push_level();
    }

    /// `"k":[` — opens an array.
    pub fn array(&mut self, k: &str) {
        self.key(k);
        self.batch.buf.push(b'[');
        self.push_level();
    }

    fn push_level(&mut self) {
        self.depth += 1;
        if let Some(c) = self.comma.get_mut(self.depth) {
            *c = false;
        }
    }

    /// Closes the innermost object.
    pub fn close_object(&mut self) {
        self.batch.buf.push(b'}');
        self.depth = self.depth.saturating_sub(1);
    }

    /// Closes the innermost array.
    pub fn close_array(&mut self) {
        self.batch.buf.push(b']');
        self.depth = self.depth.saturating_sub(1);
    }

    /// A string field, escaped.
    pub fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        let b = self.buf();
        b.push(b'"');
        escape_str(b, v);
        b.push(b'"');
    }

    /// A string field from raw (untrusted) bytes: valid UTF-8 is kept, other bytes become `\u00XX`.
    pub fn bytes_str(&mut self, k: &str, v: &[u8]) {
        self.key(k);
        escape_into(self.buf(), v);
    }

    /// An unsigned integer field.
    pub fn u64(&mut self, k: &str, v: u64) {
        self.key(k);
        let mut f = itoa::Buffer::new();
        self.batch.buf.extend_from_slice(f.format(v).as_bytes());
    }

    /// A signed integer field.
    pub fn i64(&mut self, k: &str, v: i64) {
        self.key(k);
        let mut f = itoa::Buffer::new();
        self.batch.buf.extend_from_slice(f.format(v).as_bytes());
    }

    /// A boolean field.
    pub fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.batch
            .buf
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// A floating-point field (finite values; others are written as 0).
    pub fn f64(&mut self, k: &str, v: f64) {
        self.key(k);
        let v = if v.is_finite() { v } else { 0.0 };
        let _ = write!(self.batch.buf, "{v}");
    }

    /// An unsigned integer array element.
    pub fn elem_u64(&mut self, v: u64) {
        self.sep();
        let mut f = itoa::Buffer::new();
        self.batch.buf.extend_from_slice(f.format(v).as_bytes());
    }

    /// An object array element: `{` (close with [`Self::close_object`]).
    pub fn elem_object(&mut self) {
        self.sep();
        self.batch.buf.push(b'{');
        self.push_level();
    }

    /// A string array element, escaped.
    pub fn elem_str(&mut self, v: &str) {
        self.sep();
        let b = self.buf();
        b.push(b'"');
        escape_str(b, v);
        b.push(b'"');
    }

    /// A timestamp field in Suricata's format.
    pub fn timestamp(&mut self, k: &str, ts: Timestamp) {
        self.key(k);
        self.batch.buf.push(b'"');
        format_timestamp(self.buf(), ts);
        self.batch.buf.push(b'"');
    }

    /// An IP address field. IPv6 is written in full (`fe80:0000:...`) as Suricata 7 does,
    /// or compressed when the batch asks for it.
    pub fn ip(&mut self, k: &str, ip: IpAddr) {
        self.key(k);
        match ip {
            IpAddr::V6(v6) if !self.batch.ipv6_compress => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = &mut self.batch.buf;
                b.push(b'"');
                for (i, seg) in v6.segments().iter().enumerate() {
                    if i > 0 {
                        b.push(b':');
                    }
                    for shift in [12u16, 8, 4, 0] {
                        b.push(HEX[usize::from((seg >> shift) & 0xf)]);
                    }
                }
                b.push(b'"');
            }
            IpAddr::V4(v4) => {
                // Dotted quad by hand: core::fmt showed up in profiles of flow-heavy captures.
                let b = &mut self.batch.buf;
                b.push(b'"');
                let mut f = itoa::Buffer::new();
                for (i, o) in v4.octets().iter().enumerate() {
                    if i > 0 {
                        b.push(b'.');
                    }
                    b.extend_from_slice(f.format(*o).as_bytes());
                }
                b.push(b'"');
            }
            IpAddr::V6(_) => {
                let _ = write!(self.batch.buf, "\"{ip}\"");
            }
        }
    }

    /// A base64 field (e.g. packet bytes).
    pub fn base64(&mut self, k: &str, data: &[u8]) {
        use base64::Engine as _;
        self.key(k);
        self.batch.buf.push(b'"');
        let start = self.batch.buf.len();
        let enc_len = data.len().div_ceil(3) * 4;
        self.batch.buf.resize(start + enc_len, 0);
        let out = self.batch.buf.get_mut(start..).unwrap_or(&mut []);
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(data, out)
            .unwrap_or(0);
        self.batch.buf.truncate(start + n);
        self.batch.buf.push(b'"');
    }

    /// Ends the record: closes any open levels and the top object, adds the newline and indexes it.
    pub fn finish(mut self) {
        while self.depth > 0 {
            self.close_object();
        }
        self.batch.buf.push(b'}');
        let len = self.batch.buf.len() - self.start;
        self.batch.buf.push(b'\n');
        self.batch.records.push(RecordMeta {
            start: self.start as u32,
            len: len as u32,
            event_type: self.event_type,
        });
    }

    /// Writes Suricata's common header: timestamp, flow_id, event_type, vlan, addresses, ports, proto.
    pub fn header(&mut self, h: &Header<'_>) {
        self.open();
        self.timestamp("timestamp", h.ts);
        if let Some(id) = h.flow_id {
            self.u64("flow_id", id);
        }
        if let Some(cnt) = h.pcap_cnt {
            self.u64("pcap_cnt", cnt);
        }
        let et = self.event_type.name();
        self.str("event_type", et);
        if !h.vlan.is_empty() {
            self.array("vlan");
            for v in h.vlan {
                self.elem_u64(u64::from(*v));
            }
            self.close_array();
        }
        if let Some(t) = &h.tuple {
            self.ip("src_ip", t.src_ip);
            if t.has_ports {
                self.u64("src_port", u64::from(t.src_port));
            }
            self.ip("dest_ip", t.dst_ip);
            if t.has_ports {
                self.u64("dest_port", u64::from(t.dst_port));
            }
            // IP version, as Suricata 8 logs it.
            self.u64("ip_v", if t.src_ip.is_ipv4() { 4 } else { 6 });
            match ip_proto_name(t.proto) {
                Some(n) => self.str("proto", n),
                None => {
                    let mut f = itoa::Buffer::new();
                    let s = f.format(t.proto).to_owned();
                    self.str("proto", &s);
                }
            }
        }
        // Suricata marks events raised by a packet with where the packet came from.
        if h.pcap_cnt.is_some() {
            self.str("pkt_src", "wire/pcap");
        }
    }
}

/// Addresses of an event as logged (`src_*` / `dest_*`).
#[derive(Clone, Copy, Debug)]
pub struct HeaderTuple {
    /// Source address.
    pub src_ip: IpAddr,
    /// Destination address.
    pub dst_ip: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Whether ports are meaningful (TCP, UDP, SCTP).
    pub has_ports: bool,
}

/// The common fields every EVE event starts with.
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    /// Event time.
    pub ts: Timestamp,
    /// Flow id, when the event belongs to a flow.
    pub flow_id: Option<u64>,
    /// Packet number in the capture, for packet-triggered events.
    pub pcap_cnt: Option<u64>,
    /// VLAN ids.
    pub vlan: &'a [u16],
    /// Addresses and ports.
    pub tuple: Option<HeaderTuple>,
}

/// Appends `ts` as Suricata writes it: `2023-11-14T22:13:20.123456+0000` (UTC).
pub fn format_timestamp(out: &mut Vec<u8>, ts: Timestamp) {
    let secs = ts.secs();
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    let mut f = itoa::Buffer::new();
    let year = f.format(y);
    for _ in year.len()..4 {
        out.push(b'0');
    }
    out.extend_from_slice(year.as_bytes());
    out.push(b'-');
    push2(out, m);
    out.push(b'-');
    push2(out, d);
    out.push(b'T');
    push2(out, hh as u32);
    out.push(b':');
    push2(out, mm as u32);
    out.push(b':');
    push2(out, ss as u32);
    out.push(b'.');
    let us = ts.subsec_micros();
    let mut div = 100_000;
    while div > 0 {
        out.push(b'0' + ((us / div) % 10) as u8);
        div /= 10;
    }
    out.extend_from_slice(b"+0000");
}

fn push2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + ((v / 10) % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Appends `v` as a JSON string literal. Valid UTF-8 is copied; control characters and bytes
/// that are not valid UTF-8 are escaped as `\u00XX`, so hostile bytes cannot break the line.
pub fn escape_into(out: &mut Vec<u8>, v: &[u8]) {
    out.push(b'"');
    let mut rest = v;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                escape_str(out, s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                escape_str(out, std::str::from_utf8(good).unwrap_or(""));
                let n = e.error_len().unwrap_or(bad.len()).max(1);
                for b in bad.iter().take(n) {
                    push_u00(out, *b);
                }
                rest = bad.get(n..).unwrap_or(&[]);
            }
        }
    }
    out.push(b'"');
}

fn escape_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(from..i).unwrap_or(&[]));
        if esc.is_empty() {
            push_u00(out, b);
        } else {
            out.extend_from_slice(esc);
        }
        from = i + 1;
    }
    out.extend_from_slice(bytes.get(from..).unwrap_or(&[]));
}

fn push_u00(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u00");
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0x0f)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_suricata_format() {
        let mut out = Vec::new();
        format_timestamp(&mut out, Timestamp::from_parts(1_700_000_000, 123_456_789));
        assert_eq!(out, b"2023-11-14T22:13:20.123456+0000");
        out.clear();
        format_timestamp(&mut out, Timestamp::from_parts(951_782_400, 0)); // leap day 2000-02-29
        assert_eq!(out, b"2000-02-29T00:00:00.000000+0000");
        out.clear();
        format_timestamp(&mut out, Timestamp::from_parts(-1, 0));
        assert_eq!(out, b"1969-12-31T23:59:59.000000+0000");
    }

    #[test]
    fn records_are_valid_json_even_with_hostile_strings() {
        let mut b = EventBatch::with_capacity(1024);
        let mut w = b.begin(EventType::Flow);
        w.header(&Header {
            ts: Timestamp::from_secs(1),
            flow_id: Some(42),
            pcap_cnt: None,
            vlan: &[1, 10],
            tuple: Some(HeaderTuple {
                src_ip: "fe80::1".parse().unwrap(),
                dst_ip: "10.0.0.1".parse().unwrap(),
                src_port: 1,
                dst_port: 2,
                proto: 6,
                has_ports: true,
            }),
        });
        w.array("arr");
        w.elem_object();
        w.u64("a", 1);
        w.close_object();
        w.elem_str("b\"");
        w.close_array();
        w.object("x");
        w.bytes_str("s", b"a\"b\\c\n\x00\xff\xfe ok \xe2\x82\xac");
        w.f64("nan", f64::NAN);
        w.base64("pkt", b"hello");
        w.finish();
        let line = b.record(0).unwrap();
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert_eq!(v["event_type"], "flow");
        assert_eq!(v["vlan"], serde_json::json!([1, 10]));
        assert_eq!(v["src_ip"], "fe80:0000:0000:0000:0000:0000:0000:0001");
        assert_eq!(v["proto"], "TCP");
        assert_eq!(v["arr"], serde_json::json!([{"a": 1}, "b\""]));
        assert_eq!(v["x"]["s"], "a\"b\\c\n\u{0}\u{ff}\u{fe} ok \u{20ac}");
        assert_eq!(v["x"]["pkt"], "aGVsbG8=");
        assert_eq!(b.buf.last(), Some(&b'\n'));
        assert_eq!(b.records[0].event_type, EventType::Flow);
    }
}
