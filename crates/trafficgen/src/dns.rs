//! DNS message encoder with RFC 1035 name compression.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Resource record type numbers.
pub mod rtype {
    /// IPv4 address.
    pub const A: u16 = 1;
    /// Authoritative name server.
    pub const NS: u16 = 2;
    /// Canonical name.
    pub const CNAME: u16 = 5;
    /// Start of authority.
    pub const SOA: u16 = 6;
    /// Mail exchange.
    pub const MX: u16 = 15;
    /// Text strings.
    pub const TXT: u16 = 16;
    /// IPv6 address.
    pub const AAAA: u16 = 28;
    /// EDNS(0) pseudo-record.
    pub const OPT: u16 = 41;
}

/// Header flags of a recursive query (RD).
pub const FLAGS_QUERY: u16 = 0x0100;
/// Header flags of a recursive resolver's answer (QR, RD, RA; RCODE 0).
pub const FLAGS_RESPONSE: u16 = 0x8180;
/// RCODE for a name that does not exist.
pub const RCODE_NXDOMAIN: u16 = 3;

/// Record data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Alias target.
    Cname(String),
    /// Name server.
    Ns(String),
    /// Mail exchanger with its preference.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// Mail host name.
        exchange: String,
    },
    /// Character strings (each at most 255 bytes; longer ones are split).
    Txt(Vec<Vec<u8>>),
    /// Start of authority.
    Soa {
        /// Primary name server.
        mname: String,
        /// Responsible mailbox.
        rname: String,
        /// Zone serial.
        serial: u32,
        /// Refresh interval.
        refresh: u32,
        /// Retry interval.
        retry: u32,
        /// Expiry.
        expire: u32,
        /// Negative-caching TTL.
        minimum: u32,
    },
}

impl RData {
    /// The record type of this data.
    pub fn rtype(&self) -> u16 {
        match self {
            RData::A(_) => rtype::A,
            RData::Aaaa(_) => rtype::AAAA,
            RData::Cname(_) => rtype::CNAME,
            RData::Ns(_) => rtype::NS,
            RData::Mx { .. } => rtype::MX,
            RData::Txt(_) => rtype::TXT,
            RData::Soa { .. } => rtype::SOA,
        }
    }
}

/// A resource record of class IN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name.
    pub name: String,
    /// Time to live in seconds.
    pub ttl: u32,
    /// Record data.
    pub data: RData,
}

impl DnsRecord {
    /// Bundles a record.
    pub fn new(name: &str, ttl: u32, data: RData) -> Self {
        DnsRecord {
            name: name.into(),
            ttl,
            data,
        }
    }
}

/// A question of class IN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuestion {
    /// Queried name.
    pub name: String,
    /// Queried type.
    pub qtype: u16,
}

/// A DNS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction id.
    pub id: u16,
    /// Header flags including opcode and RCODE.
    pub flags: u16,
    /// Question section.
    pub questions: Vec<DnsQuestion>,
    /// Answer section.
    pub answers: Vec<DnsRecord>,
    /// Authority section.
    pub authorities: Vec<DnsRecord>,
    /// Additional section (without the OPT record).
    pub additionals: Vec<DnsRecord>,
    /// When set, an EDNS(0) OPT record advertising this UDP payload size is appended.
    pub edns_udp_size: Option<u16>,
}

impl DnsMessage {
    /// A recursive query for one name and type.
    pub fn query(id: u16, name: &str, qtype: u16) -> Self {
        DnsMessage {
            id,
            flags: FLAGS_QUERY,
            questions: vec![DnsQuestion {
                name: name.into(),
                qtype,
            }],
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
            edns_udp_size: None,
        }
    }

    /// The same query with an EDNS(0) OPT record.
    pub fn with_edns(mut self, udp_size: u16) -> Self {
        self.edns_udp_size = Some(udp_size);
        self
    }

    /// A successful answer to this query carrying `answers`.
    pub fn answer(&self, answers: Vec<DnsRecord>) -> Self {
        DnsMessage {
            id: self.id,
            flags: FLAGS_RESPONSE,
            questions: self.questions.clone(),
            answers,
            authorities: Vec::new(),
            additionals: Vec::new(),
            edns_udp_size: self.edns_udp_size,
        }
    }

    /// A negative answer (NXDOMAIN) with the zone's SOA in the authority section.
    pub fn nxdomain(&self, soa: DnsRecord) -> Self {
        let mut r = self.answer(Vec::new());
        r.flags = FLAGS_RESPONSE | RCODE_NXDOMAIN;
        r.authorities.push(soa);
        r
    }

    /// Wire bytes (as carried in UDP).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        e.u16(self.id);
        e.u16(self.flags);
        let arcount = self.additionals.len() + usize::from(self.edns_udp_size.is_some());
        for n in [
            self.questions.len(),
            self.answers.len(),
            self.authorities.len(),
            arcount,
        ] {
            e.u16(n.min(0xffff) as u16);
        }
        for q in &self.questions {
            e.name(&q.name);
            e.u16(q.qtype);
            e.u16(1);
        }
        for r in self
            .answers
            .iter()
            .chain(&self.authorities)
            .chain(&self.additionals)
        {
            e.record(r);
        }
        if let Some(size) = self.edns_udp_size {
            e.buf.push(0); // root name
            e.u16(rtype::OPT);
            e.u16(size); // the class field carries the UDP payload size
            e.u32(0); // extended RCODE, version 0, no DO bit
            e.u16(0); // no options
        }
        e.buf
    }

    /// Wire bytes for DNS over TCP: the message behind a 2-byte length prefix.
    pub fn encode_tcp(&self) -> Vec<u8> {
        let msg = self.encode();
        let mut out = Vec::with_capacity(msg.len() + 2);
        out.extend_from_slice(&(msg.len().min(0xffff) as u16).to_be_bytes());
        out.extend_from_slice(&msg);
        out
    }
}

/// Message writer that remembers where each name suffix was written, so later names can
/// point back to it (RFC 1035 section 4.1.4).
#[derive(Default)]
struct Encoder {
    buf: Vec<u8>,
    /// Lower-cased suffix and its offset from the start of the message.
    suffixes: Vec<(String, u16)>,
}

impl Encoder {
    fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn name(&mut self, name: &str) {
        let name = name.trim_end_matches('.');
        let labels: Vec<&str> = if name.is_empty() {
            Vec::new()
        } else {
            name.split('.').collect()
        };
        for i in 0..labels.len() {
            let suffix = labels[i..].join(".").to_ascii_lowercase();
            if let Some(&(_, off)) = self.suffixes.iter().find(|(s, _)| *s == suffix) {
                self.u16(0xc000 | off);
                return;
            }
            // Pointers have 14 bits; suffixes written later than that cannot be targets.
            if self.buf.len() < 0x4000 {
                self.suffixes.push((suffix, self.buf.len() as u16));
            }
            let label = labels[i].as_bytes();
            let label = &label[..label.len().min(63)];
            self.buf.push(label.len() as u8);
            self.buf.extend_from_slice(label);
        }
        self.buf.push(0);
    }

    fn record(&mut self, r: &DnsRecord) {
        self.name(&r.name);
        self.u16(r.data.rtype());
        self.u16(1);
        self.u32(r.ttl);
        let len_at = self.buf.len();
        self.u16(0);
        match &r.data {
            RData::A(a) => self.buf.extend_from_slice(&a.octets()),
            RData::Aaaa(a) => self.buf.extend_from_slice(&a.octets()),
            // Compression inside RDATA is allowed for the RFC 1035 types only.
            RData::Cname(n) | RData::Ns(n) => self.name(n),
            RData::Mx {
                preference,
                exchange,
            } => {
                self.u16(*preference);
                self.name(exchange);
            }
            RData::Txt(strings) => {
                for s in strings {
                    for part in s.chunks(255) {
                        self.buf.push(part.len() as u8);
                        self.buf.extend_from_slice(part);
                    }
                    if s.is_empty() {
                        self.buf.push(0);
                    }
                }
            }
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => {
                self.name(mname);
                self.name(rname);
                for v in [*serial, *refresh, *retry, *expire, *minimum] {
                    self.u32(v);
                }
            }
        }
        let rdlen = (self.buf.len() - len_at - 2).min(0xffff) as u16;
        self.buf[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_points_at_earlier_names() {
        let q = DnsMessage::query(0x1234, "www.example.com", rtype::A);
        let r = q.answer(vec![
            DnsRecord::new(
                "www.example.com",
                300,
                RData::Cname("edge.example.com".into()),
            ),
            DnsRecord::new(
                "edge.example.com",
                60,
                RData::A(Ipv4Addr::new(192, 0, 2, 7)),
            ),
        ]);
        let w = r.encode();
        // Question name at offset 12; the answer's owner is a pointer to it.
        let q_end = 12 + 17 + 4;
        assert_eq!(&w[q_end..q_end + 2], &[0xc0, 12]);
        // CNAME target: label "edge" then a pointer to "example.com" at 12 + 4.
        let rdata = q_end + 2 + 10;
        assert_eq!(&w[rdata..rdata + 5], b"\x04edge");
        assert_eq!(&w[rdata + 5..rdata + 7], &[0xc0, 16]);
        // Second owner points at the CNAME target.
        assert_eq!(&w[rdata + 7..rdata + 9], &[0xc0, rdata as u8]);
    }
}
