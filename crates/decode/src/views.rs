//! Checked views over header bytes. Each `parse` validates lengths once; accessors then only
//! read within the checked slice and cannot panic.

use crate::events::{DecodeEvent, Events};
use crate::{be16, be32, Fragment};
use std::net::IpAddr;
use vedette_types::ip_proto;

fn arr4(s: &[u8], at: usize) -> [u8; 4] {
    let mut a = [0u8; 4];
    if let Some(b) = s.get(at..at + 4) {
        a.copy_from_slice(b);
    }
    a
}

fn arr16(s: &[u8], at: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    if let Some(b) = s.get(at..at + 16) {
        a.copy_from_slice(b);
    }
    a
}

fn byte(s: &[u8], at: usize) -> u8 {
    s.get(at).copied().unwrap_or(0)
}

/// A checked IPv4 header plus the payload up to the total length (link padding cut off).
#[derive(Clone, Copy, Debug)]
pub struct Ipv4<'a> {
    header: &'a [u8],
    payload: &'a [u8],
}

impl<'a> Ipv4<'a> {
    /// Checks version, header length and total length against the captured bytes.
    pub fn parse(data: &'a [u8]) -> Result<Self, DecodeEvent> {
        if data.len() < 20 {
            return Err(DecodeEvent::Ipv4PktTooSmall);
        }
        let vihl = byte(data, 0);
        if vihl >> 4 != 4 {
            return Err(DecodeEvent::Ipv4WrongIpVersion);
        }
        let hlen = usize::from(vihl & 0x0f) * 4;
        if hlen < 20 {
            return Err(DecodeEvent::Ipv4HlenTooSmall);
        }
        let total = usize::from(be16(data, 2).unwrap_or(0));
        if total < hlen {
            return Err(DecodeEvent::Ipv4IplenSmallerThanHlen);
        }
        if total > data.len() {
            return Err(DecodeEvent::Ipv4TruncPkt);
        }
        let (header, rest) = data.split_at(hlen);
        let payload = rest.get(..total - hlen).unwrap_or(&[]);
        Ok(Ipv4 { header, payload })
    }

    /// The header including options.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }
    /// Bytes after the header, up to the total length.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// The whole datagram's length from the header.
    pub fn total_len(&self) -> u16 {
        be16(self.header, 2).unwrap_or(0)
    }
    /// Type of service / DSCP+ECN byte.
    pub fn tos(&self) -> u8 {
        byte(self.header, 1)
    }
    /// Identification.
    pub fn id(&self) -> u16 {
        be16(self.header, 4).unwrap_or(0)
    }
    /// Don't-fragment flag.
    pub fn dont_fragment(&self) -> bool {
        byte(self.header, 6) & 0x40 != 0
    }
    /// More-fragments flag.
    pub fn more_fragments(&self) -> bool {
        byte(self.header, 6) & 0x20 != 0
    }
    /// Fragment offset in bytes.
    pub fn fragment_offset(&self) -> u32 {
        u32::from(be16(self.header, 6).unwrap_or(0) & 0x1fff) * 8
    }
    /// Time to live.
    pub fn ttl(&self) -> u8 {
        byte(self.header, 8)
    }
    /// Protocol of the payload.
    pub fn proto(&self) -> u8 {
        byte(self.header, 9)
    }
    /// Source address.
    pub fn src(&self) -> [u8; 4] {
        arr4(self.header, 12)
    }
    /// Destination address.
    pub fn dst(&self) -> [u8; 4] {
        arr4(self.header, 16)
    }
    /// Option bytes.
    pub fn options(&self) -> &'a [u8] {
        self.header.get(20..).unwrap_or(&[])
    }

    /// Walks the options and records malformed, unknown or duplicated ones.
    pub fn check_options(&self, events: &mut Events) {
        let mut opts = self.options();
        let mut seen: u32 = 0;
        while let Some(&kind) = opts.first() {
            match kind {
                0 => break,
                1 => {
                    opts = opts.get(1..).unwrap_or(&[]);
                    continue;
                }
                _ => {}
            }
            let Some(&len) = opts.get(1) else {
                events.push(DecodeEvent::Ipv4OptMalformed);
                break;
            };
            let len = usize::from(len);
            if len < 2 {
                events.push(DecodeEvent::Ipv4OptInvalidLen);
                break;
            }
            if len > opts.len() {
                events.push(DecodeEvent::Ipv4OptMalformed);
                break;
            }
            // Known options: RR, TS, security, LSRR, CIPSO, SID, SSRR, router alert, QS, ext. security.
            let bit = match kind {
                7 => 0,
                68 => 1,
                130 => 2,
                131 => 3,
                134 => 4,
                136 => 5,
                137 => 6,
                148 => 7,
                25 => 8,
                133 => 9,
                _ => {
                    events.push(DecodeEvent::Ipv4OptUnknown);
                    31
                }
            };
            if bit != 31 {
                if seen & (1 << bit) != 0 {
                    events.push(DecodeEvent::Ipv4OptDuplicate);
                }
                seen |= 1 << bit;
            }
            opts = opts.get(len..).unwrap_or(&[]);
        }
    }
}

/// A checked IPv6 header, its extension headers walked, and the upper-layer payload.
#[derive(Clone, Copy, Debug)]
pub struct Ipv6<'a> {
    header: &'a [u8],
    upper_proto: u8,
    payload: &'a [u8],
}

impl<'a> Ipv6<'a> {
    /// Checks the base header and walks extension headers (bounded by the packet length).
    /// Returns the view and, for a fragment, where its data starts.
    pub fn parse(
        data: &'a [u8],
        events: &mut Events,
    ) -> Result<(Self, Option<Fragment>), DecodeEvent> {
        if data.len() < 40 {
            return Err(DecodeEvent::Ipv6PktTooSmall);
        }
        if byte(data, 0) >> 4 != 6 {
            return Err(DecodeEvent::Ipv6WrongIpVersion);
        }
        let plen = usize::from(be16(data, 4).unwrap_or(0));
        if 40 + plen > data.len() {
            return Err(DecodeEvent::Ipv6TruncPkt);
        }
        let header = data.get(..40).unwrap_or(&[]);
        let datagram = data.get(..40 + plen).unwrap_or(&[]);
        let mut next = byte(data, 6);
        let mut off = 40usize;
        let mut fragment = None;
        let (mut seen_hh, mut seen_rh, mut seen_fh) = (false, false, false);
        loop {
            match next {
                // hop-by-hop, routing, destination options, mobility
                0 | 43 | 60 | 135 => {
                    let (Some(&nh), Some(&len)) = (datagram.get(off), datagram.get(off + 1)) else {
                        return Err(DecodeEvent::Ipv6TruncExthdr);
                    };
                    let hlen = (usize::from(len) + 1) * 8;
                    if off + hlen > datagram.len() {
                        return Err(DecodeEvent::Ipv6TruncExthdr);
                    }
                    if next == 0 {
                        if seen_hh || off != 40 {
                            events.push(DecodeEvent::Ipv6ExthdrDuplHh);
                        }
                        seen_hh = true;
                    } else if next == 43 {
                        if seen_rh {
                            events.push(DecodeEvent::Ipv6ExthdrDuplRh);
                        }
                        seen_rh = true;
                        if byte(datagram, off + 2) == 0 {
                            events.push(DecodeEvent::Ipv6RhType0);
                        }
                    }
                    next = nh;
                    off += hlen;
                }
                44 => {
                    let Some(fh) = datagram.get(off..off + 8) else {
                        return Err(DecodeEvent::Ipv6TruncExthdr);
                    };
                    if seen_fh {
                        events.push(DecodeEvent::Ipv6ExthdrDuplFh);
                    }
                    seen_fh = true;
                    let nh = byte(fh, 0);
                    let offmf = be16(fh, 2).unwrap_or(0);
                    let frag_off = u32::from(offmf >> 3) * 8;
                    let more = offmf & 1 != 0;
                    let id = be32(fh, 4).unwrap_or(0);
                    let data_len = datagram.len() - (off + 8);
                    if frag_off == 0 && !more {
                        // An atomic fragment: nothing to reassemble, decode as is.
                        events.push(DecodeEvent::Ipv6ExthdrUselessFh);
                        next = nh;
                        off += 8;
                        continue;
                    }
                    if more && !data_len.is_multiple_of(8) {
                        events.push(DecodeEvent::Ipv6FragInvalidLength);
                    }
                    fragment = Some(Fragment {
                        id,
                        offset: frag_off,
                        more,
                        proto: nh,
                        unfragmentable_len: off,
                        data_offset: off + 8,
                    });
                    next = nh;
                    off += 8;
                    break;
                }
                // Authentication header: length in 4-byte units, plus 2.
                51 => {
                    let (Some(&nh), Some(&len)) = (datagram.get(off), datagram.get(off + 1)) else {
                        return Err(DecodeEvent::Ipv6TruncExthdr);
                    };
                    let hlen = (usize::from(len) + 2) * 4;
                    if off + hlen > datagram.len() {
                        return Err(DecodeEvent::Ipv6TruncExthdr);
                    }
                    next = nh;
                    off += hlen;
                }
                59 => {
                    if off < datagram.len() {
                        events.push(DecodeEvent::Ipv6DataAfterNoneHeader);
                    }
                    break;
                }
                _ => break,
            }
        }
        let payload = datagram.get(off..).unwrap_or(&[]);
        Ok((
            Ipv6 {
                header,
                upper_proto: next,
                payload,
            },
            fragment,
        ))
    }

    /// The 40-byte base header.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }
    /// Protocol after the extension headers.
    pub fn upper_proto(&self) -> u8 {
        self.upper_proto
    }
    /// Upper-layer bytes (after extension headers, up to the payload length).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        byte(self.header, 7)
    }
    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        (be16(self.header, 0).unwrap_or(0) >> 4) as u8
    }
    /// Flow label.
    pub fn flow_label(&self) -> u32 {
        be32(self.header, 0).unwrap_or(0) & 0x000f_ffff
    }
    /// Source address.
    pub fn src(&self) -> [u8; 16] {
        arr16(self.header, 8)
    }
    /// Destination address.
    pub fn dst(&self) -> [u8; 16] {
        arr16(self.header, 24)
    }
}

/// TCP options that flow tracking and rules care about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift.
    pub window_scale: Option<u8>,
    /// SACK permitted.
    pub sack_permitted: bool,
    /// A SACK block list is present.
    pub sack: bool,
    /// Timestamp value and echo reply.
    pub timestamp: Option<(u32, u32)>,
    /// TCP Fast Open option present.
    pub fast_open: bool,
}

/// TCP flag bits.
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;
}

/// A checked TCP header with its parsed options.
#[derive(Clone, Copy, Debug)]
pub struct Tcp<'a> {
    header: &'a [u8],
    payload: &'a [u8],
    options: TcpOptions,
}

impl<'a> Tcp<'a> {
    /// Checks the header length and parses options (malformed ones raise events).
    pub fn parse(data: &'a [u8], events: &mut Events) -> Result<Self, DecodeEvent> {
        if data.len() < 20 {
            return Err(DecodeEvent::TcpPktTooSmall);
        }
        let hlen = usize::from(byte(data, 12) >> 4) * 4;
        // Suricata's names: a data offset under 5 words gives an impossible option length;
        // a header longer than the segment is "hlen too small" (the packet is too small for it).
        if hlen < 20 {
            return Err(DecodeEvent::TcpInvalidOptlen);
        }
        if hlen > data.len() {
            return Err(DecodeEvent::TcpHlenTooSmall);
        }
        let (header, payload) = data.split_at(hlen);
        let options = parse_tcp_options(header.get(20..).unwrap_or(&[]), events);
        Ok(Tcp {
            header,
            payload,
            options,
        })
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.header, 0).unwrap_or(0)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.header, 2).unwrap_or(0)
    }
    /// Sequence number.
    pub fn seq(&self) -> u32 {
        be32(self.header, 4).unwrap_or(0)
    }
    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        be32(self.header, 8).unwrap_or(0)
    }
    /// Flag byte (see [`tcp_flags`]).
    pub fn flags(&self) -> u8 {
        byte(self.header, 13)
    }
    /// Receive window (unscaled).
    pub fn window(&self) -> u16 {
        be16(self.header, 14).unwrap_or(0)
    }
    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        be16(self.header, 18).unwrap_or(0)
    }
    /// Header bytes including options.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }
    /// Segment data.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// Parsed options.
    pub fn options(&self) -> TcpOptions {
        self.options
    }
}

fn parse_tcp_options(mut opts: &[u8], events: &mut Events) -> TcpOptions {
    let mut o = TcpOptions::default();
    let mut seen: u16 = 0;
    while let Some(&kind) = opts.first() {
        match kind {
            0 => break,
            1 => {
                opts = opts.get(1..).unwrap_or(&[]);
                continue;
            }
            _ => {}
        }
        let len = usize::from(byte(opts, 1));
        if len < 2 || len > opts.len() {
            events.push(DecodeEvent::TcpOptInvalidLen);
            break;
        }
        let body = opts.get(2..len).unwrap_or(&[]);
        let valid = match kind {
            2 => len == 4,
            3 => len == 3,
            4 => len == 2,
            5 => len >= 10 && (len - 2) % 8 == 0,
            8 => len == 10,
            _ => true,
        };
        if !valid {
            events.push(DecodeEvent::TcpOptInvalidLen);
            break;
        }
        if kind < 16 {
            if seen & (1 << kind) != 0 {
                events.push(DecodeEvent::TcpOptDuplicate);
            }
            seen |= 1 << kind;
        }
        match kind {
            2 => o.mss = be16(body, 0),
            3 => o.window_scale = body.first().copied(),
            4 => o.sack_permitted = true,
            5 => o.sack = true,
            8 => o.timestamp = Some((be32(body, 0).unwrap_or(0), be32(body, 4).unwrap_or(0))),
            34 => o.fast_open = true,
            _ => {}
        }
        opts = opts.get(len..).unwrap_or(&[]);
    }
    o
}

/// A checked UDP header; the payload is cut to the UDP length field.
#[derive(Clone, Copy, Debug)]
pub struct Udp<'a> {
    datagram: &'a [u8],
}

impl<'a> Udp<'a> {
    /// Checks the header and the length field against the IP payload.
    pub fn parse(data: &'a [u8], events: &mut Events) -> Result<Self, DecodeEvent> {
        // Suricata's names: under 8 bytes is "hlen too small"; a length field beyond the data
        // is "pkt too small"; a length field under 8 is "len invalid".
        if data.len() < 8 {
            return Err(DecodeEvent::UdpHlenTooSmall);
        }
        let len = usize::from(be16(data, 4).unwrap_or(0));
        if len > data.len() {
            return Err(DecodeEvent::UdpPktTooSmall);
        }
        if len < 8 {
            return Err(DecodeEvent::UdpLenInvalid);
        }
        if len < data.len() {
            events.push(DecodeEvent::UdpHlenInvalid);
        }
        Ok(Udp {
            datagram: data.get(..len).unwrap_or(&[]),
        })
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.datagram, 0).unwrap_or(0)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.datagram, 2).unwrap_or(0)
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.datagram, 6).unwrap_or(0)
    }
    /// Header plus payload, as covered by the checksum.
    pub fn datagram(&self) -> &'a [u8] {
        self.datagram
    }
    /// Payload.
    pub fn payload(&self) -> &'a [u8] {
        self.datagram.get(8..).unwrap_or(&[])
    }
}

/// The flow an ICMP error message quotes (from its embedded IP header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Embedded {
    /// Source of the quoted packet.
    pub src: IpAddr,
    /// Destination of the quoted packet.
    pub dst: IpAddr,
    /// Protocol of the quoted packet.
    pub proto: u8,
    /// Source port of the quoted packet (0 when not TCP/UDP).
    pub src_port: u16,
    /// Destination port of the quoted packet.
    pub dst_port: u16,
}

/// A checked ICMP or ICMPv6 header.
#[derive(Clone, Copy, Debug)]
pub struct Icmp<'a> {
    data: &'a [u8],
    embedded: Option<Embedded>,
}

impl<'a> Icmp<'a> {
    /// Parses ICMPv4, validating type and code as Suricata does and decoding a quoted header.
    pub fn parse_v4(data: &'a [u8], events: &mut Events) -> Result<Self, DecodeEvent> {
        if data.len() < 8 {
            return Err(DecodeEvent::Icmpv4PktTooSmall);
        }
        let (t, c) = (byte(data, 0), byte(data, 1));
        let code_ok = match t {
            0 | 4 | 8 | 13 | 14 | 15 | 16 | 17 | 18 => c == 0,
            3 => c <= 15,
            5 => c <= 3,
            9 => c == 0 || c == 16,
            10 => c == 0,
            11 => c <= 1,
            12 => c <= 2,
            _ => {
                events.push(DecodeEvent::Icmpv4UnknownType);
                true
            }
        };
        if !code_ok {
            events.push(DecodeEvent::Icmpv4UnknownCode);
        }
        let mut embedded = None;
        // As Suricata: the quoted header is examined only when the code is valid and the
        // message quotes something at all.
        let quoted = data.get(8..).unwrap_or(&[]);
        if matches!(t, 3 | 4 | 5 | 11 | 12) && code_ok && !quoted.is_empty() {
            if quoted.len() < 20 {
                events.push(DecodeEvent::Icmpv4Ipv4TruncPkt);
            } else if byte(quoted, 0) >> 4 != 4 {
                events.push(DecodeEvent::Icmpv4Ipv4UnknownVer);
            } else {
                let hlen = usize::from(byte(quoted, 0) & 0x0f) * 4;
                let proto = byte(quoted, 9);
                let (sp, dp) = quoted_ports(quoted, hlen, proto);
                embedded = Some(Embedded {
                    src: IpAddr::from(arr4(quoted, 12)),
                    dst: IpAddr::from(arr4(quoted, 16)),
                    proto,
                    src_port: sp,
                    dst_port: dp,
                });
            }
        }
        Ok(Icmp { data, embedded })
    }

    /// Parses ICMPv6, validating type and code and decoding a quoted IPv6 header.
    pub fn parse_v6(data: &'a [u8], events: &mut Events) -> Result<Self, DecodeEvent> {
        if data.len() < 8 {
            return Err(DecodeEvent::Icmpv6PktTooSmall);
        }
        let (t, c) = (byte(data, 0), byte(data, 1));
        let code_ok = match t {
            1 => c <= 7,
            2 => c == 0,
            3 => c <= 1,
            4 => c <= 3,
            128 | 129 | 133..=137 => c == 0,
            130..=132 | 138..=160 => true,
            100 | 101 | 200 | 201 => {
                events.push(DecodeEvent::Icmpv6ExperimentationType);
                true
            }
            _ => {
                events.push(DecodeEvent::Icmpv6UnknownType);
                true
            }
        };
        if !code_ok {
            events.push(DecodeEvent::Icmpv6UnknownCode);
        }
        let mut embedded = None;
        let quoted = data.get(8..).unwrap_or(&[]);
        if (1..=4).contains(&t) && code_ok && !quoted.is_empty() {
            if quoted.len() < 40 {
                events.push(DecodeEvent::Icmpv6Ipv6TruncPkt);
            } else if byte(quoted, 0) >> 4 != 6 {
                events.push(DecodeEvent::Icmpv6Ipv6UnknownVersion);
            } else {
                let proto = byte(quoted, 6);
                let (sp, dp) = quoted_ports(quoted, 40, proto);
                embedded = Some(Embedded {
                    src: IpAddr::from(arr16(quoted, 8)),
                    dst: IpAddr::from(arr16(quoted, 24)),
                    proto,
                    src_port: sp,
                    dst_port: dp,
                });
            }
        }
        Ok(Icmp { data, embedded })
    }

    /// Message type.
    pub fn icmp_type(&self) -> u8 {
        byte(self.data, 0)
    }
    /// Message code.
    pub fn code(&self) -> u8 {
        byte(self.data, 1)
    }
    /// Identifier (echo messages).
    pub fn id(&self) -> u16 {
        be16(self.data, 4).unwrap_or(0)
    }
    /// Sequence number (echo messages).
    pub fn seq(&self) -> u16 {
        be16(self.data, 6).unwrap_or(0)
    }
    /// Bytes after the 8-byte header.
    pub fn payload(&self) -> &'a [u8] {
        self.data.get(8..).unwrap_or(&[])
    }
    /// The quoted flow of an error message.
    pub fn embedded(&self) -> Option<Embedded> {
        self.embedded
    }
}

fn quoted_ports(quoted: &[u8], hlen: usize, proto: u8) -> (u16, u16) {
    if proto == ip_proto::TCP || proto == ip_proto::UDP {
        (
            be16(quoted, hlen).unwrap_or(0),
            be16(quoted, hlen + 2).unwrap_or(0),
        )
    } else {
        (0, 0)
    }
}
