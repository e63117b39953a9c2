//! Shared vocabulary of vedette: packet time, link types, IP protocol numbers, directions,
//! flow tuples, application protocols and severities.
//!
//! Owns: plain data types every other crate speaks. Must not: depend on any other vedette
//! crate, do I/O, read a clock, or contain logic beyond trivial conversions.
#![forbid(unsafe_code)]

use std::fmt;
use std::net::IpAddr;

/// Packet time: nanoseconds since the Unix epoch (UTC). All data-path time comes from packets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Nanoseconds in one second.
    pub const NANOS_PER_SEC: i64 = 1_000_000_000;

    /// Builds a timestamp from whole seconds and a nanosecond fraction (saturating).
    pub fn from_parts(secs: i64, nanos: u32) -> Self {
        Timestamp(
            secs.saturating_mul(Self::NANOS_PER_SEC)
                .saturating_add(i64::from(nanos)),
        )
    }

    /// Builds a timestamp from whole seconds.
    pub fn from_secs(secs: i64) -> Self {
        Self::from_parts(secs, 0)
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(Self::NANOS_PER_SEC)
    }

    /// Nanoseconds past the whole second.
    pub fn subsec_nanos(self) -> u32 {
        // rem_euclid of a positive divisor is in 0..1e9, which fits u32.
        self.0.rem_euclid(Self::NANOS_PER_SEC) as u32
    }

    /// Microseconds past the whole second.
    pub fn subsec_micros(self) -> u32 {
        self.subsec_nanos() / 1000
    }

    /// This time plus `nanos` nanoseconds (saturating).
    pub fn add_nanos(self, nanos: i64) -> Self {
        Timestamp(self.0.saturating_add(nanos))
    }

    /// This time plus `secs` seconds (saturating).
    pub fn add_secs(self, secs: i64) -> Self {
        self.add_nanos(secs.saturating_mul(Self::NANOS_PER_SEC))
    }

    /// Nanoseconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn nanos_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Data-link type of a captured frame, as numbered by tcpdump's LINKTYPE_ registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: 4-byte address family in host byte order.
    pub const NULL: LinkType = LinkType(0);
    /// IEEE 802.3 Ethernet.
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP (v4 or v6, from the version nibble); DLT 12/14 on some systems map here too.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// Legacy DLT_RAW values used by some BSDs for raw IP.
    pub const RAW_LEGACY_12: LinkType = LinkType(12);
    /// Legacy DLT_RAW value used by OpenBSD for raw IP.
    pub const RAW_LEGACY_14: LinkType = LinkType(14);
}

/// IP protocol numbers vedette understands.
pub mod ip_proto {
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// Transmission Control Protocol.
    pub const TCP: u8 = 6;
    /// User Datagram Protocol.
    pub const UDP: u8 = 17;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
    /// Stream Control Transmission Protocol.
    pub const SCTP: u8 = 132;
}

/// Suricata's name for an IP protocol number (`TCP`, `UDP`, `ICMP`, `IPv6-ICMP`, or the number).
pub fn ip_proto_name(proto: u8) -> Option<&'static str> {
    Some(match proto {
        ip_proto::ICMP => "ICMP",
        ip_proto::TCP => "TCP",
        ip_proto::UDP => "UDP",
        ip_proto::ICMPV6 => "IPv6-ICMP",
        ip_proto::SCTP => "SCTP",
        2 => "IGMP",
        4 => "IPIP",
        41 => "IPV6",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        _ => return None,
    })
}

/// Direction of a packet within its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the flow's client (the side that opened it) to its server.
    ToServer,
    /// From the server back to the client.
    ToClient,
}

impl Direction {
    /// 0 for to-server, 1 for to-client: an index into per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    /// The opposite direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// Addresses, ports and protocol of a flow as seen from its client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    /// Client address.
    pub src_ip: IpAddr,
    /// Server address.
    pub dst_ip: IpAddr,
    /// Client port (ICMP: type).
    pub src_port: u16,
    /// Server port (ICMP: code).
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
}

/// Application protocol of a flow, as detected by the app layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AppProto {
    /// Not (yet) known.
    #[default]
    Unknown,
    /// HTTP/1.x.
    Http,
    /// DNS over UDP or TCP.
    Dns,
    /// TLS.
    Tls,
    /// SSH.
    Ssh,
    /// Detection ran and found no known protocol.
    Failed,
}

impl AppProto {
    /// Suricata's EVE name (`http`, `dns`, `tls`, `ssh`, `failed`), or `None` when unknown.
    pub fn eve_name(self) -> Option<&'static str> {
        match self {
            AppProto::Unknown => None,
            AppProto::Http => Some("http"),
            AppProto::Dns => Some("dns"),
            AppProto::Tls => Some("tls"),
            AppProto::Ssh => Some("ssh"),
            AppProto::Failed => Some("failed"),
        }
    }
}

/// Alert severity: 1 is the most severe, as in Suricata's priorities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Severity(pub u8);

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_parts_round_trip_and_negative_times_floor() {
        let t = Timestamp::from_parts(1_700_000_000, 123_456_789);
        assert_eq!(t.secs(), 1_700_000_000);
        assert_eq!(t.subsec_nanos(), 123_456_789);
        assert_eq!(t.subsec_micros(), 123_456);
        let before_epoch = Timestamp(-1);
        assert_eq!(before_epoch.secs(), -1);
        assert_eq!(before_epoch.subsec_nanos(), 999_999_999);
        assert_eq!(t.add_secs(2).nanos_since(t), 2_000_000_000);
    }

    #[test]
    fn proto_names_follow_suricata() {
        assert_eq!(ip_proto_name(6), Some("TCP"));
        assert_eq!(ip_proto_name(58), Some("IPv6-ICMP"));
        assert_eq!(ip_proto_name(253), None);
    }
}
