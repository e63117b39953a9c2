//! Suricata 7's default ("version 2") `dns` EVE object: one event per question of a query,
//! one event per answer message.
//!
//! Query: `{"version":2,"type":"query","id","rrname","rrname_truncated"?,"rrtype","tx_id",
//! "z"?,"opcode"}`.
//! Answer: `{"version":2,"type":"answer","id","flags","qr"?,"aa"?,"tc"?,"rd"?,"ra"?,"z"?,
//! "opcode","rrname","rrtype","rcode","answers"?,"grouped"?,"authorities"?}` where `rrname` and
//! `rrtype` are the first question's, `flags` is the header's flags in lowercase hex without
//! padding, the booleans appear only when set, `answers`/`authorities` list
//! `{"rrname","rrtype","ttl", rdata}` and `grouped` maps each rrtype name to its rdata values.
//! Additional records are not logged (Suricata 7 does not).
//!
//! Value formats as Suricata prints them: rrtype and rcode names from its tables (unknown ones
//! as the decimal number), IPv6 addresses in full form (`2606:4700:0000:...:beb6`), names and
//! strings as UTF-8 when valid, otherwise with each byte >= 0x80 written as the text `\xNN`.

use super::wire::{Message, Name, RData, Record, Section};
use super::{Kind, Tx};
use std::borrow::Cow;
use vedette_eve::JsonWriter;

/// What the DNS writer needs from a JSON writer.
pub(crate) trait EveOut {
    /// Whether arrays of strings and objects can be written. Without them `answers`,
    /// `grouped` and `authorities` are left out.
    const ELEMENTS: bool;
    fn str(&mut self, k: &str, v: &str);
    fn u64(&mut self, k: &str, v: u64);
    fn bool(&mut self, k: &str, v: bool);
    fn object(&mut self, k: &str);
    fn close_object(&mut self);
    fn array(&mut self, k: &str);
    fn close_array(&mut self);
    /// A string as the next array element.
    fn elem_str(&mut self, v: &str);
    /// Opens an object as the next array element.
    fn elem_object(&mut self);
}

// The engine's writer; record lists use its `elem_str` and `elem_object`.
impl EveOut for JsonWriter<'_> {
    const ELEMENTS: bool = true;
    fn str(&mut self, k: &str, v: &str) {
        JsonWriter::str(self, k, v);
    }
    fn u64(&mut self, k: &str, v: u64) {
        JsonWriter::u64(self, k, v);
    }
    fn bool(&mut self, k: &str, v: bool) {
        JsonWriter::bool(self, k, v);
    }
    fn object(&mut self, k: &str) {
        JsonWriter::object(self, k);
    }
    fn close_object(&mut self) {
        JsonWriter::close_object(self);
    }
    fn array(&mut self, k: &str) {
        JsonWriter::array(self, k);
    }
    fn close_array(&mut self) {
        JsonWriter::close_array(self);
    }
    fn elem_str(&mut self, v: &str) {
        JsonWriter::elem_str(self, v);
    }
    fn elem_object(&mut self) {
        JsonWriter::elem_object(self);
    }
}

/// Writes `"dns":{...}` for the record `tx` stands for.
pub(crate) fn write<W: EveOut>(tx: &Tx, w: &mut W) {
    w.object("dns");
    w.u64("version", 2);
    match tx.kind {
        Kind::Query => write_query(tx, w),
        Kind::Answer => write_answer(&tx.msg, w),
    }
    w.close_object();
}

fn write_query<W: EveOut>(tx: &Tx, w: &mut W) {
    let m = &tx.msg;
    w.str("type", "query");
    w.u64("id", u64::from(m.header.id));
    if let Some(q) = m.questions.get(usize::from(tx.record_index)) {
        name_field(w, m, "rrname", q.name);
        w.str("rrtype", &rrtype_name(q.rrtype));
    }
    w.u64("tx_id", tx.tx_id);
    if m.header.flags & 0x0040 != 0 {
        w.bool("z", true);
    }
    w.u64("opcode", u64::from((m.header.flags >> 11) & 0xf));
}

fn write_answer<W: EveOut>(m: &Message, w: &mut W) {
    let flags = m.header.flags;
    w.str("type", "answer");
    w.u64("id", u64::from(m.header.id));
    w.str("flags", &format!("{flags:x}"));
    for (bit, key) in [
        (0x8000, "qr"),
        (0x0400, "aa"),
        (0x0200, "tc"),
        (0x0100, "rd"),
        (0x0080, "ra"),
        (0x0040, "z"),
    ] {
        if flags & bit != 0 {
            w.bool(key, true);
        }
    }
    w.u64("opcode", u64::from((flags >> 11) & 0xf));
    if let Some(q) = m.questions.first() {
        name_field(w, m, "rrname", q.name);
        w.str("rrtype", &rrtype_name(q.rrtype));
    }
    w.str("rcode", &rcode_name(flags));
    if !W::ELEMENTS {
        return;
    }
    let answers = || m.records.iter().filter(|r| r.section == Section::Answer);
    if answers().next().is_some() {
        w.array("answers");
        for r in answers() {
            w.elem_object();
            record_detail(w, m, r);
            w.close_object();
        }
        w.close_array();
        write_grouped(w, m);
    }
    let authorities = || m.records.iter().filter(|r| r.section == Section::Authority);
    if authorities().next().is_some() {
        w.array("authorities");
        for r in authorities() {
            w.elem_object();
            record_detail(w, m, r);
            w.close_object();
        }
        w.close_array();
    }
}

/// `"grouped":{TYPE:[values...]}` over the answer section, types in order of first
/// appearance (Suricata's order is a hash map's), types without a grouped form left out.
fn write_grouped<W: EveOut>(w: &mut W, m: &Message) {
    w.object("grouped");
    let answers = || m.records.iter().filter(|r| r.section == Section::Answer);
    for (i, r) in answers().enumerate() {
        if !groupable(&r.data) || answers().take(i).any(|p| p.rrtype == r.rrtype) {
            continue;
        }
        w.array(&rrtype_name(r.rrtype));
        for same in answers().filter(|o| o.rrtype == r.rrtype) {
            grouped_value(w, m, &same.data);
        }
        w.close_array();
    }
    w.close_object();
}

fn groupable(d: &RData) -> bool {
    !matches!(d, RData::Other { .. })
}

fn grouped_value<W: EveOut>(w: &mut W, m: &Message, d: &RData) {
    match *d {
        RData::Addr(a) => {
            let mut buf = [0u8; 39];
            w.elem_str(addr_text(m.bytes(a), &mut buf));
        }
        RData::Name(n) | RData::Mx { exchange: n, .. } => w.elem_str(&suri_str(m.bytes(n.span))),
        RData::Txt(s) | RData::Null(s) => w.elem_str(&suri_str(m.bytes(s))),
        RData::Soa(_) | RData::Srv { .. } | RData::Sshfp { .. } => {
            w.elem_object();
            rdata_object_fields(w, m, d);
            w.close_object();
        }
        RData::Other { .. } => {}
    }
}

/// The fields of one answer or authority entry.
fn record_detail<W: EveOut>(w: &mut W, m: &Message, r: &Record) {
    name_field(w, m, "rrname", r.name);
    w.str("rrtype", &rrtype_name(r.rrtype));
    w.u64("ttl", u64::from(r.ttl));
    match r.data {
        RData::Addr(a) => {
            let mut buf = [0u8; 39];
            w.str("rdata", addr_text(m.bytes(a), &mut buf));
        }
        RData::Name(n) | RData::Mx { exchange: n, .. } => {
            w.str("rdata", &suri_str(m.bytes(n.span)));
            if n.truncated {
                w.bool("rdata_truncated", true);
            }
        }
        RData::Txt(s) | RData::Null(s) => w.str("rdata", &suri_str(m.bytes(s))),
        RData::Soa(_) => {
            w.object("soa");
            rdata_object_fields(w, m, &r.data);
            w.close_object();
        }
        RData::Srv { .. } => {
            w.object("srv");
            rdata_object_fields(w, m, &r.data);
            w.close_object();
        }
        RData::Sshfp { .. } => {
            w.object("sshfp");
            rdata_object_fields(w, m, &r.data);
            w.close_object();
        }
        RData::Other { .. } => {}
    }
}

/// The inside of the `soa`, `srv` and `sshfp` objects.
fn rdata_object_fields<W: EveOut>(w: &mut W, m: &Message, d: &RData) {
    match *d {
        RData::Soa(s) => {
            w.str("mname", &suri_str(m.bytes(s.mname.span)));
            if s.mname.truncated {
                w.bool("mname_truncated", true);
            }
            w.str("rname", &suri_str(m.bytes(s.rname.span)));
            if s.rname.truncated {
                w.bool("rname_truncated", true);
            }
            w.u64("serial", u64::from(s.serial));
            w.u64("refresh", u64::from(s.refresh));
            w.u64("retry", u64::from(s.retry));
            w.u64("expire", u64::from(s.expire));
            w.u64("minimum", u64::from(s.minimum));
        }
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            w.u64("priority", u64::from(priority));
            w.u64("weight", u64::from(weight));
            w.u64("port", u64::from(port));
            w.str("name", &suri_str(m.bytes(target.span)));
        }
        RData::Sshfp {
            algo,
            fp_type,
            fingerprint,
        } => {
            w.str("fingerprint", &hex_colon(m.bytes(fingerprint)));
            w.u64("algo", u64::from(algo));
            w.u64("type", u64::from(fp_type));
        }
        _ => {}
    }
}

fn name_field<W: EveOut>(w: &mut W, m: &Message, key: &str, n: Name) {
    w.str(key, &suri_str(m.bytes(n.span)));
    if n.truncated {
        let mut k = String::with_capacity(key.len() + 10);
        k.push_str(key);
        k.push_str("_truncated");
        w.bool(&k, true);
    }
}

/// Raw bytes as Suricata's `set_string_from_bytes` renders them: valid UTF-8 as is,
/// otherwise every byte >= 0x80 as the four characters `\xNN`.
pub(crate) fn suri_str(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut s = String::with_capacity(b.len() * 2);
            for &c in b {
                if c < 0x80 {
                    s.push(char::from(c));
                } else {
                    s.push_str("\\x");
                    s.push(char::from(HEX[usize::from(c >> 4)]));
                    s.push(char::from(HEX[usize::from(c & 0xf)]));
                }
            }
            Cow::Owned(s)
        }
    }
}

/// An A or AAAA rdata as Suricata prints it: dotted quad, or eight groups of four hex
/// digits (not compressed); "" for any other length.
pub(crate) fn addr_text<'b>(a: &[u8], buf: &'b mut [u8; 39]) -> &'b str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut n = 0usize;
    let mut put = |buf: &mut [u8; 39], c: u8| {
        if let Some(slot) = buf.get_mut(n) {
            *slot = c;
            n += 1;
        }
    };
    match a.len() {
        4 => {
            for (i, &o) in a.iter().enumerate() {
                if i > 0 {
                    put(buf, b'.');
                }
                if o >= 100 {
                    put(buf, b'0' + o / 100);
                }
                if o >= 10 {
                    put(buf, b'0' + (o / 10) % 10);
                }
                put(buf, b'0' + o % 10);
            }
        }
        16 => {
            for (i, &o) in a.iter().enumerate() {
                if i > 0 && i % 2 == 0 {
                    put(buf, b':');
                }
                put(buf, HEX[usize::from(o >> 4)]);
                put(buf, HEX[usize::from(o & 0xf)]);
            }
        }
        _ => {}
    }
    std::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or("")
}

fn hex_colon(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 3);
    for (i, &c) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(HEX[usize::from(c >> 4)]));
        s.push(char::from(HEX[usize::from(c & 0xf)]));
    }
    s
}

/// Suricata 7's name of a record type; unknown types as the decimal number. The odd names
/// ("ND" for MD, "NSAPPT", "CDSNKEY") are Suricata 7's own spellings, kept on purpose.
pub fn rrtype_name(t: u16) -> Cow<'static, str> {
    let s = match t {
        1 => "A",
        2 => "NS",
        3 => "ND",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAPPT",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        55 => "HIP",
        59 => "CDS",
        60 => "CDSNKEY",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        _ => return Cow::Owned(t.to_string()),
    };
    Cow::Borrowed(s)
}

/// Suricata 7's name of the rcode in the low 4 bits of `flags`; others as the number.
pub fn rcode_name(flags: u16) -> Cow<'static, str> {
    let s = match flags & 0x000f {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        n => return Cow::Owned(n.to_string()),
    };
    Cow::Borrowed(s)
}
