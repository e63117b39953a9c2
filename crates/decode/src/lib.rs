//! Packet decoding: link layers (Ethernet, VLAN/QinQ, Linux SLL/SLL2, BSD null/loop, raw IP),
//! IPv4 (options), IPv6 (extension headers), TCP (options), UDP, ICMPv4 and ICMPv6.
//!
//! Owns: turning one captured frame into checked, zero-copy views plus the decoder events
//! (Suricata's names) that describe what was wrong with it. Every view checks its length once
//! when built, so no accessor can panic afterwards.
//! Must not: allocate, keep state between packets (IP reassembly lives in `vedette-flow`),
//! read a clock, do I/O, or panic on any input.
#![forbid(unsafe_code)]

pub mod checksum;
mod events;
mod views;

pub use events::{DecodeEvent, Events, MAX_EVENTS_PER_PACKET};
pub use views::{tcp_flags, Embedded, Icmp, Ipv4, Ipv6, Tcp, TcpOptions, Udp};

use std::net::IpAddr;
use vedette_types::{ip_proto, LinkType};

/// Decoder settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeConfig {
    /// Verify IPv4 header and TCP/UDP/ICMP checksums (`-k none` turns this off).
    pub validate_checksums: bool,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            validate_checksums: true,
        }
    }
}

/// Most stacked VLAN tags decoded (as Suricata); more raise `decoder.vlan.too_many_layers`.
pub const MAX_VLAN_LAYERS: usize = 3;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// Network layer of a decoded packet.
#[derive(Clone, Copy, Debug)]
pub enum Ip<'a> {
    /// No IP layer (non-IP frame or decoding stopped before it).
    None,
    /// IPv4.
    V4(Ipv4<'a>),
    /// IPv6.
    V6(Ipv6<'a>),
}

/// Transport layer of a decoded packet.
#[derive(Clone, Copy, Debug)]
pub enum L4<'a> {
    /// Not decoded (no IP, a non-first fragment, or an invalid header).
    None,
    /// TCP.
    Tcp(Tcp<'a>),
    /// UDP.
    Udp(Udp<'a>),
    /// ICMP for IPv4.
    Icmp4(Icmp<'a>),
    /// ICMP for IPv6.
    Icmp6(Icmp<'a>),
    /// Another IP protocol, by number.
    Other(u8),
}

/// Where an IP fragment belongs; the flow crate's defragmenter uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Identification field (IPv6: the fragment header's 32-bit id).
    pub id: u32,
    /// Byte offset of this fragment's data in the reassembled payload.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// Upper-layer protocol of the datagram.
    pub proto: u8,
    /// Bytes from the IP header's start to the fragmentable part (IPv4: header length;
    /// IPv6: base header plus extension headers before the fragment header).
    pub unfragmentable_len: usize,
    /// Bytes from the IP header's start to this fragment's data.
    pub data_offset: usize,
}

/// Checksum verdicts of a packet (false when not checked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChecksumErrors {
    /// IPv4 header checksum wrong.
    pub ipv4: bool,
    /// TCP, UDP, ICMP or ICMPv6 checksum wrong.
    pub l4: bool,
}

/// One decoded frame: zero-copy views into the captured bytes plus what was wrong with them.
#[derive(Clone, Copy, Debug)]
pub struct Decoded<'a> {
    /// Link type the frame was decoded as.
    pub link_type: LinkType,
    /// VLAN ids, outermost first; `vlan_count` of them are valid.
    pub vlan: [u16; MAX_VLAN_LAYERS],
    /// Number of VLAN tags.
    pub vlan_count: u8,
    /// Offset of the IP header within the frame.
    pub ip_offset: usize,
    /// Network layer.
    pub ip: Ip<'a>,
    /// Transport layer.
    pub l4: L4<'a>,
    /// Transport payload (empty when there is none or it was not decoded).
    pub payload: &'a [u8],
    /// Set when the IP datagram is a fragment (its L4 is decoded only after reassembly).
    pub fragment: Option<Fragment>,
    /// Decoder events raised.
    pub events: Events,
    /// Checksum verdicts.
    pub checksum_errors: ChecksumErrors,
    /// True when the packet is too broken to track (Suricata's "invalid" packets).
    pub invalid: bool,
}

impl<'a> Decoded<'a> {
    fn empty(link_type: LinkType) -> Self {
        Decoded {
            link_type,
            vlan: [0; MAX_VLAN_LAYERS],
            vlan_count: 0,
            ip_offset: 0,
            ip: Ip::None,
            l4: L4::None,
            payload: &[],
            fragment: None,
            events: Events::default(),
            checksum_errors: ChecksumErrors::default(),
            invalid: false,
        }
    }

    /// The VLAN ids present, outermost first.
    pub fn vlans(&self) -> &[u16] {
        self.vlan.get(..usize::from(self.vlan_count)).unwrap_or(&[])
    }

    /// Source and destination addresses, when there is an IP layer.
    pub fn addrs(&self) -> Option<(IpAddr, IpAddr)> {
        match self.ip {
            Ip::V4(v4) => Some((IpAddr::from(v4.src()), IpAddr::from(v4.dst()))),
            Ip::V6(v6) => Some((IpAddr::from(v6.src()), IpAddr::from(v6.dst()))),
            Ip::None => None,
        }
    }

    /// IP protocol number of the transport layer, when there is an IP layer.
    pub fn ip_proto(&self) -> Option<u8> {
        match self.ip {
            Ip::V4(v4) => Some(v4.proto()),
            Ip::V6(v6) => Some(v6.upper_proto()),
            Ip::None => None,
        }
    }

    /// Source and destination ports (TCP/UDP), or (type, code) for ICMP; zeros otherwise.
    pub fn ports(&self) -> (u16, u16) {
        match self.l4 {
            L4::Tcp(t) => (t.src_port(), t.dst_port()),
            L4::Udp(u) => (u.src_port(), u.dst_port()),
            L4::Icmp4(i) | L4::Icmp6(i) => (u16::from(i.icmp_type()), u16::from(i.code())),
            L4::Other(_) | L4::None => (0, 0),
        }
    }
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes one captured frame of link type `link`.
pub fn decode<'a>(link: LinkType, frame: &'a [u8], cfg: &DecodeConfig) -> Decoded<'a> {
    let mut d = Decoded::empty(link);
    match link {
        LinkType::ETHERNET => {
            if frame.len() < 14 {
                d.events.push(DecodeEvent::EthernetPktTooSmall);
                d.invalid = true;
                return d;
            }
            let ethertype = be16(frame, 12).unwrap_or(0);
            decode_ethertype(&mut d, ethertype, frame, 14, cfg);
        }
        LinkType::LINUX_SLL => match be16(frame, 14) {
            Some(proto) if frame.len() >= 16 => decode_ethertype(&mut d, proto, frame, 16, cfg),
            _ => {
                d.events.push(DecodeEvent::SllPktTooSmall);
                d.invalid = true;
            }
        },
        LinkType::LINUX_SLL2 => match be16(frame, 0) {
            Some(proto) if frame.len() >= 20 => decode_ethertype(&mut d, proto, frame, 20, cfg),
            _ => {
                d.events.push(DecodeEvent::SllPktTooSmall);
                d.invalid = true;
            }
        },
        LinkType::NULL | LinkType::LOOP => decode_null(&mut d, link, frame, cfg),
        LinkType::RAW | LinkType::RAW_LEGACY_12 | LinkType::RAW_LEGACY_14 => {
            match frame.first().map(|b| b >> 4) {
                Some(4) => decode_ipv4(&mut d, frame, 0, cfg),
                Some(6) => decode_ipv6(&mut d, frame, 0, cfg),
                _ => {
                    d.events.push(DecodeEvent::IpRawInvalidIpVersion);
                    d.invalid = true;
                }
            }
        }
        LinkType::IPV4 => decode_ipv4(&mut d, frame, 0, cfg),
        LinkType::IPV6 => decode_ipv6(&mut d, frame, 0, cfg),
        _ => {
            d.events.push(DecodeEvent::UnsupportedLinkType);
            d.invalid = true;
        }
    }
    d
}

/// Decodes a bare IP datagram (e.g. one rebuilt by the defragmenter), keeping link facts of `outer`.
pub fn decode_ip<'a>(datagram: &'a [u8], outer: &Decoded<'_>, cfg: &DecodeConfig) -> Decoded<'a> {
    let mut d = Decoded::empty(outer.link_type);
    d.vlan = outer.vlan;
    d.vlan_count = outer.vlan_count;
    match datagram.first().map(|b| b >> 4) {
        Some(4) => decode_ipv4(&mut d, datagram, 0, cfg),
        Some(6) => decode_ipv6(&mut d, datagram, 0, cfg),
        _ => d.invalid = true,
    }
    d
}

fn decode_null<'a>(d: &mut Decoded<'a>, link: LinkType, frame: &'a [u8], cfg: &DecodeConfig) {
    let Some(raw) = frame.get(..4) else {
        d.events.push(DecodeEvent::NullPktTooSmall);
        d.invalid = true;
        return;
    };
    let raw = [raw[0], raw[1], raw[2], raw[3]];
    // NULL stores the family in the capturing host's byte order, LOOP in network order;
    // accept either order for NULL since captures travel between machines.
    let family = if link == LinkType::LOOP {
        u32::from_be_bytes(raw)
    } else {
        let le = u32::from_le_bytes(raw);
        if le < 256 {
            le
        } else {
            u32::from_be_bytes(raw)
        }
    };
    match family {
        2 => decode_ipv4(d, frame, 4, cfg),
        // AF_INET6 differs per OS: Linux 10, FreeBSD 28, OpenBSD/NetBSD 24, macOS 30.
        10 | 24 | 28 | 30 => decode_ipv6(d, frame, 4, cfg),
        _ => {
            d.events.push(DecodeEvent::NullUnsupportedType);
            d.invalid = true;
        }
    }
}

fn decode_ethertype<'a>(
    d: &mut Decoded<'a>,
    mut ethertype: u16,
    frame: &'a [u8],
    mut offset: usize,
    cfg: &DecodeConfig,
) {
    loop {
        match ethertype {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                let (Some(tci), Some(next)) = (be16(frame, offset), be16(frame, offset + 2)) else {
                    d.events.push(DecodeEvent::VlanHeaderTooSmall);
                    d.invalid = true;
                    return;
                };
                match d.vlan.get_mut(usize::from(d.vlan_count)) {
                    Some(slot) => {
                        *slot = tci & 0x0fff;
                        d.vlan_count += 1;
                    }
                    None => {
                        d.events.push(DecodeEvent::VlanTooManyLayers);
                        d.invalid = true;
                        return;
                    }
                }
                ethertype = next;
                offset += 4;
            }
            ETHERTYPE_IPV4 => return decode_ipv4(d, frame, offset, cfg),
            ETHERTYPE_IPV6 => return decode_ipv6(d, frame, offset, cfg),
            // Common non-IP ethertypes are legitimate traffic, not anomalies:
            // ARP, LLDP, 802.1X, LACP/slow protocols, PPPoE discovery, MPLS and 802.3 length fields.
            ETHERTYPE_ARP | 0x88cc | 0x888e | 0x8809 | 0x8863 | 0x8864 | 0x8847 | 0x8848 => return,
            t if t < 0x0600 => return,
            _ => {
                d.events.push(DecodeEvent::EthernetUnknownEthertype);
                return;
            }
        }
    }
}

fn decode_ipv4<'a>(d: &mut Decoded<'a>, frame: &'a [u8], offset: usize, cfg: &DecodeConfig) {
    d.ip_offset = offset;
    let data = frame.get(offset..).unwrap_or(&[]);
    let v4 = match Ipv4::parse(data) {
        Ok(v4) => v4,
        Err(ev) => {
            d.events.push(ev);
            d.invalid = true;
            return;
        }
    };
    v4.check_options(&mut d.events);
    if cfg.validate_checksums && !checksum::ipv4_header_ok(v4.header()) {
        d.checksum_errors.ipv4 = true;
    }
    d.ip = Ip::V4(v4);
    let proto = v4.proto();
    if proto == ip_proto::ICMPV6 {
        d.events.push(DecodeEvent::Ipv4WithIcmpv6);
    }
    if v4.more_fragments() || v4.fragment_offset() != 0 {
        d.fragment = Some(Fragment {
            id: u32::from(v4.id()),
            offset: v4.fragment_offset(),
            more: v4.more_fragments(),
            proto,
            unfragmentable_len: v4.header().len(),
            data_offset: v4.header().len(),
        });
        return;
    }
    let pseudo = || checksum::pseudo_v4(&v4.src(), &v4.dst(), proto, v4.payload().len());
    decode_l4(d, proto, v4.payload(), cfg, pseudo, false);
}

fn decode_ipv6<'a>(d: &mut Decoded<'a>, frame: &'a [u8], offset: usize, cfg: &DecodeConfig) {
    d.ip_offset = offset;
    let data = frame.get(offset..).unwrap_or(&[]);
    let (v6, frag) = match Ipv6::parse(data, &mut d.events) {
        Ok(v) => v,
        Err(ev) => {
            d.events.push(ev);
            d.invalid = true;
            return;
        }
    };
    d.ip = Ip::V6(v6);
    let proto = v6.upper_proto();
    if proto == ip_proto::ICMP {
        d.events.push(DecodeEvent::Ipv6WithIcmpv4);
    }
    if let Some(f) = frag {
        d.fragment = Some(f);
        return;
    }
    let pseudo = || checksum::pseudo_v6(&v6.src(), &v6.dst(), proto, v6.payload().len());
    decode_l4(d, proto, v6.payload(), cfg, pseudo, true);
}

fn decode_l4<'a>(
    d: &mut Decoded<'a>,
    proto: u8,
    data: &'a [u8],
    cfg: &DecodeConfig,
    pseudo: impl Fn() -> u64,
    v6: bool,
) {
    match proto {
        ip_proto::TCP => match Tcp::parse(data, &mut d.events) {
            Ok(t) => {
                if cfg.validate_checksums && !checksum::l4_ok(pseudo(), data) {
                    d.checksum_errors.l4 = true;
                }
                d.payload = t.payload();
                d.l4 = L4::Tcp(t);
            }
            Err(ev) => {
                d.events.push(ev);
                d.invalid = true;
            }
        },
        ip_proto::UDP => match Udp::parse(data, &mut d.events) {
            Ok(u) => {
                // A zero UDP checksum over IPv4 means "not computed".
                if cfg.validate_checksums
                    && (v6 || u.checksum() != 0)
                    && !checksum::l4_ok(pseudo(), u.datagram())
                {
                    d.checksum_errors.l4 = true;
                }
                d.payload = u.payload();
                d.l4 = L4::Udp(u);
            }
            Err(ev) => {
                d.events.push(ev);
                d.invalid = true;
            }
        },
        ip_proto::ICMP if !v6 => match Icmp::parse_v4(data, &mut d.events) {
            Ok(i) => {
                if cfg.validate_checksums && !checksum::l4_ok(0, data) {
                    d.checksum_errors.l4 = true;
                }
                d.payload = i.payload();
                d.l4 = L4::Icmp4(i);
            }
            Err(ev) => {
                d.events.push(ev);
                d.invalid = true;
            }
        },
        ip_proto::ICMPV6 if v6 => match Icmp::parse_v6(data, &mut d.events) {
            Ok(i) => {
                if cfg.validate_checksums && !checksum::l4_ok(pseudo(), data) {
                    d.checksum_errors.l4 = true;
                }
                d.payload = i.payload();
                d.l4 = L4::Icmp6(i);
            }
            Err(ev) => {
                d.events.push(ev);
                d.invalid = true;
            }
        },
        other => {
            d.payload = data;
            d.l4 = L4::Other(other);
        }
    }
}

/// A symmetric hash of a frame's IP address pair (both directions give the same value), used to
/// shard packets between workers. It ignores ports so that IP fragments, which carry no ports,
/// reach the same worker as the rest of their flow. Non-IP frames hash to 0.
pub fn shard_hash(link: LinkType, frame: &[u8]) -> u64 {
    let d = decode_addresses_only(link, frame);
    match d {
        Some((a, b)) => {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            mix64(lo ^ mix64(hi))
        }
        None => 0,
    }
}

fn addr_words(ip: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for chunk in ip.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = mix64(h ^ u64::from_le_bytes(w));
    }
    h
}

/// A 64-bit finaliser (splitmix64's), good enough to spread address pairs over workers.
pub fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn decode_addresses_only(link: LinkType, frame: &[u8]) -> Option<(u64, u64)> {
    let ip_at = match link {
        LinkType::ETHERNET => {
            let mut off = 12;
            let mut et = be16(frame, off)?;
            let mut layers = 0;
            while matches!(et, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) && layers < 4 {
                off += 4;
                et = be16(frame, off)?;
                layers += 1;
            }
            off + 2
        }
        LinkType::LINUX_SLL => 16,
        LinkType::LINUX_SLL2 => 20,
        LinkType::NULL | LinkType::LOOP => 4,
        _ => 0,
    };
    let ip = frame.get(ip_at..)?;
    match ip.first()? >> 4 {
        4 => Some((addr_words(ip.get(12..16)?), addr_words(ip.get(16..20)?))),
        6 => Some((addr_words(ip.get(8..24)?), addr_words(ip.get(24..40)?))),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
