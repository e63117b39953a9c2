//! Frame builders: Ethernet (optionally 802.1Q-tagged), IPv4/IPv6, TCP, UDP, ICMP and
//! ICMPv6, ARP, with every header and transport checksum computed as a real stack would.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vedette_types::ip_proto;

/// A 48-bit Ethernet MAC address.
pub type MacAddr = [u8; 6];

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType (TPID) of an 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;

/// Minimum Ethernet frame length without the FCS; shorter frames are zero-padded on the wire.
pub const ETH_MIN_FRAME: usize = 60;

/// TCP header flag bits.
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push buffered data to the application.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// The urgent pointer is significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;
}

/// Layer-2 addressing of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Link {
    /// Source MAC address.
    pub src_mac: MacAddr,
    /// Destination MAC address.
    pub dst_mac: MacAddr,
    /// 802.1Q VLAN id (12 bits) when the frame is tagged.
    pub vlan: Option<u16>,
    /// Zero-pad frames to the 60-byte Ethernet minimum, as seen on a mirror port.
    pub pad: bool,
}

impl Link {
    /// Untagged, unpadded link between two MACs.
    pub fn new(src_mac: MacAddr, dst_mac: MacAddr) -> Self {
        Link {
            src_mac,
            dst_mac,
            vlan: None,
            pad: false,
        }
    }

    /// The same link with an 802.1Q tag carrying `vid`.
    pub fn with_vlan(mut self, vid: u16) -> Self {
        self.vlan = Some(vid & 0x0fff);
        self
    }

    /// The same link with minimum-length padding switched on or off.
    pub fn with_padding(mut self, pad: bool) -> Self {
        self.pad = pad;
        self
    }

    /// The link of the opposite direction (MACs swapped, same tag and padding).
    pub fn reversed(self) -> Self {
        Link {
            src_mac: self.dst_mac,
            dst_mac: self.src_mac,
            ..self
        }
    }
}

/// Addresses and ports of a packet, seen from its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoints {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
}

impl Endpoints {
    /// Bundles addresses and ports.
    pub fn new(src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> Self {
        Endpoints {
            src,
            dst,
            sport,
            dport,
        }
    }

    /// The endpoints of the reply direction.
    pub fn reversed(&self) -> Self {
        Endpoints {
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
        }
    }
}

/// Per-packet IP header fields that a sender chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpParams {
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (ignored for IPv6).
    pub id: u16,
    /// IPv4 Don't Fragment flag (ignored for IPv6).
    pub dont_fragment: bool,
    /// IPv4 TOS / IPv6 traffic class.
    pub tos: u8,
    /// IPv6 flow label (20 bits; ignored for IPv4).
    pub flow_label: u32,
}

impl Default for IpParams {
    fn default() -> Self {
        IpParams {
            ttl: 64,
            id: 0,
            dont_fragment: true,
            tos: 0,
            flow_label: 0,
        }
    }
}

/// TCP header fields other than ports and checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpHeader<'a> {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (sent as zero unless ACK is set, as stacks do).
    pub ack: u32,
    /// Flag bits from [`tcp_flags`].
    pub flags: u8,
    /// Raw (unscaled) window field.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Encoded options; padded with EOL to a 4-byte multiple when needed.
    pub options: &'a [u8],
}

/// RFC 1071 one's-complement sum of `data` added to `acc` (not folded, not inverted).
pub fn checksum_add(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        // An odd trailing byte is padded with a zero on the right.
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    acc
}

/// Folds a one's-complement accumulator to 16 bits and inverts it.
pub fn checksum_finish(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The Internet checksum of `data`.
pub fn internet_checksum(data: &[u8]) -> u16 {
    checksum_finish(checksum_add(0, data))
}

/// An address pair of one family.
#[derive(Clone, Copy)]
enum Pair {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

/// Gives both addresses the same family: when they differ, the IPv4 one is mapped into
/// IPv6 (`::ffff:a.b.c.d`), so a mixed pair never panics and still yields a valid packet.
fn pair(src: IpAddr, dst: IpAddr) -> Pair {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Pair::V4(s, d),
        (IpAddr::V6(s), IpAddr::V6(d)) => Pair::V6(s, d),
        (IpAddr::V4(s), IpAddr::V6(d)) => Pair::V6(s.to_ipv6_mapped(), d),
        (IpAddr::V6(s), IpAddr::V4(d)) => Pair::V6(s, d.to_ipv6_mapped()),
    }
}

/// Sum of the TCP/UDP/ICMPv6 pseudo-header for `len` bytes of protocol `proto`.
/// Mixed-family pairs are treated as IPv6 with the IPv4 address mapped.
pub fn pseudo_header_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u64 {
    match pair(src, dst) {
        Pair::V4(s, d) => {
            let mut acc = checksum_add(0, &s.octets());
            acc = checksum_add(acc, &d.octets());
            acc + u64::from(proto) + (len as u64 & 0xffff)
        }
        Pair::V6(s, d) => {
            let mut acc = checksum_add(0, &s.octets());
            acc = checksum_add(acc, &d.octets());
            // The IPv6 pseudo-header carries a 32-bit length.
            acc + u64::from(proto) + (len as u64 & 0xffff) + ((len as u64 >> 16) & 0xffff)
        }
    }
}

/// Encoded TCP segment (header, options, payload) with its checksum filled in.
pub fn tcp_segment(ep: &Endpoints, hdr: &TcpHeader<'_>, payload: &[u8]) -> Vec<u8> {
    let opt_len = hdr.options.len().div_ceil(4) * 4;
    // The data offset field is 4 bits of 32-bit words: options beyond 40 bytes cannot be
    // expressed, so they are cut there rather than producing a corrupt header.
    let opt_len = opt_len.min(40);
    let hlen = 20 + opt_len;
    let mut seg = Vec::with_capacity(hlen + payload.len());
    seg.extend_from_slice(&ep.sport.to_be_bytes());
    seg.extend_from_slice(&ep.dport.to_be_bytes());
    seg.extend_from_slice(&hdr.seq.to_be_bytes());
    let ack = if hdr.flags & tcp_flags::ACK != 0 {
        hdr.ack
    } else {
        0
    };
    seg.extend_from_slice(&ack.to_be_bytes());
    seg.push(((hlen / 4) as u8) << 4);
    seg.push(hdr.flags);
    seg.extend_from_slice(&hdr.window.to_be_bytes());
    seg.extend_from_slice(&[0, 0]);
    seg.extend_from_slice(&hdr.urgent.to_be_bytes());
    let opts = &hdr.options[..hdr.options.len().min(40)];
    seg.extend_from_slice(opts);
    seg.resize(hlen, 0); // EOL padding
    seg.extend_from_slice(payload);
    let sum = checksum_add(
        pseudo_header_sum(ep.src, ep.dst, ip_proto::TCP, seg.len()),
        &seg,
    );
    let csum = checksum_finish(sum);
    seg[16..18].copy_from_slice(&csum.to_be_bytes());
    seg
}

/// Encoded UDP datagram (header and payload) with its checksum filled in.
pub fn udp_datagram(ep: &Endpoints, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut d = Vec::with_capacity(len);
    d.extend_from_slice(&ep.sport.to_be_bytes());
    d.extend_from_slice(&ep.dport.to_be_bytes());
    // Lengths above 65535 cannot be expressed; callers keep datagrams small.
    d.extend_from_slice(&(len.min(0xffff) as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    let sum = checksum_add(pseudo_header_sum(ep.src, ep.dst, ip_proto::UDP, len), &d);
    let mut csum = checksum_finish(sum);
    if csum == 0 {
        // Zero means "no checksum" in UDP, so a computed zero is sent as all ones.
        csum = 0xffff;
    }
    d[6..8].copy_from_slice(&csum.to_be_bytes());
    d
}

/// Encoded ICMP (IPv4) or ICMPv6 echo message with its checksum filled in.
pub fn icmp_echo_message(
    src: IpAddr,
    dst: IpAddr,
    reply: bool,
    ident: u16,
    seq: u16,
    payload: &[u8],
) -> (u8, Vec<u8>) {
    let v6 = matches!(pair(src, dst), Pair::V6(..));
    let icmp_type = match (v6, reply) {
        (false, false) => 8,
        (false, true) => 0,
        (true, false) => 128,
        (true, true) => 129,
    };
    let mut m = Vec::with_capacity(8 + payload.len());
    m.push(icmp_type);
    m.push(0);
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(payload);
    let (proto, acc) = if v6 {
        // ICMPv6, unlike ICMP, covers a pseudo-header.
        (
            ip_proto::ICMPV6,
            pseudo_header_sum(src, dst, ip_proto::ICMPV6, m.len()),
        )
    } else {
        (ip_proto::ICMP, 0)
    };
    let csum = checksum_finish(checksum_add(acc, &m));
    m[2..4].copy_from_slice(&csum.to_be_bytes());
    (proto, m)
}

/// Appends an Ethernet header (with the 802.1Q tag, when the link has one).
fn push_ethernet(buf: &mut Vec<u8>, link: &Link, ethertype: u16) {
    buf.extend_from_slice(&link.dst_mac);
    buf.extend_from_slice(&link.src_mac);
    if let Some(vid) = link.vlan {
        buf.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
        buf.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
    }
    buf.extend_from_slice(&ethertype.to_be_bytes());
}

fn finish_frame(mut buf: Vec<u8>, link: &Link) -> Vec<u8> {
    if link.pad && buf.len() < ETH_MIN_FRAME {
        buf.resize(ETH_MIN_FRAME, 0);
    }
    buf
}

/// A complete Ethernet frame carrying `payload` with the given EtherType.
pub fn ethernet_frame(link: &Link, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(18 + payload.len());
    push_ethernet(&mut buf, link, ethertype);
    buf.extend_from_slice(payload);
    finish_frame(buf, link)
}

/// An IPv4 header (20 bytes, no options) with its checksum.
/// `frag_offset` is in bytes and must be a multiple of 8.
pub fn ipv4_header(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ip: &IpParams,
    payload_len: usize,
    more_fragments: bool,
    frag_offset: usize,
) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[1] = ip.tos;
    let total = (20 + payload_len).min(0xffff) as u16;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&ip.id.to_be_bytes());
    let mut ff = ((frag_offset / 8) as u16) & 0x1fff;
    if ip.dont_fragment {
        ff |= 0x4000;
    }
    if more_fragments {
        ff |= 0x2000;
    }
    h[6..8].copy_from_slice(&ff.to_be_bytes());
    h[8] = ip.ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let csum = internet_checksum(&h);
    h[10..12].copy_from_slice(&csum.to_be_bytes());
    h
}

/// An IPv6 fixed header (40 bytes).
pub fn ipv6_header(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    ip: &IpParams,
    payload_len: usize,
) -> [u8; 40] {
    let mut h = [0u8; 40];
    let first = (6u32 << 28) | (u32::from(ip.tos) << 20) | (ip.flow_label & 0x000f_ffff);
    h[0..4].copy_from_slice(&first.to_be_bytes());
    h[4..6].copy_from_slice(&(payload_len.min(0xffff) as u16).to_be_bytes());
    h[6] = next_header;
    h[7] = ip.ttl;
    h[8..24].copy_from_slice(&src.octets());
    h[24..40].copy_from_slice(&dst.octets());
    h
}

/// A complete Ethernet frame carrying an unfragmented IP packet with transport bytes `l4`.
pub fn ip_frame(
    link: &Link,
    ip: &IpParams,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    l4: &[u8],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(18 + 40 + l4.len());
    match pair(src, dst) {
        Pair::V4(s, d) => {
            push_ethernet(&mut buf, link, ETHERTYPE_IPV4);
            buf.extend_from_slice(&ipv4_header(s, d, proto, ip, l4.len(), false, 0));
        }
        Pair::V6(s, d) => {
            push_ethernet(&mut buf, link, ETHERTYPE_IPV6);
            buf.extend_from_slice(&ipv6_header(s, d, proto, ip, l4.len()));
        }
    }
    buf.extend_from_slice(l4);
    finish_frame(buf, link)
}

/// A complete TCP frame.
pub fn tcp_frame(
    link: &Link,
    ip: &IpParams,
    ep: &Endpoints,
    tcp: &TcpHeader<'_>,
    payload: &[u8],
) -> Vec<u8> {
    let seg = tcp_segment(ep, tcp, payload);
    ip_frame(link, ip, ep.src, ep.dst, ip_proto::TCP, &seg)
}

/// A complete UDP frame (unfragmented).
pub fn udp_frame(link: &Link, ip: &IpParams, ep: &Endpoints, payload: &[u8]) -> Vec<u8> {
    let d = udp_datagram(ep, payload);
    ip_frame(link, ip, ep.src, ep.dst, ip_proto::UDP, &d)
}

/// A complete ICMP echo request/reply frame (ICMPv6 echo when the addresses are IPv6).
#[allow(clippy::too_many_arguments)]
pub fn icmp_echo(
    link: &Link,
    ip: &IpParams,
    src: IpAddr,
    dst: IpAddr,
    reply: bool,
    ident: u16,
    seq: u16,
    payload: &[u8],
) -> Vec<u8> {
    let (proto, m) = icmp_echo_message(src, dst, reply, ident, seq, payload);
    ip_frame(link, ip, src, dst, proto, &m)
}

/// Splits one IPv4 packet carrying `l4` into fragments that fit `mtu` (IP header included),
/// each a complete Ethernet frame. The DF flag of `ip` is ignored: fragments never carry it.
pub fn ipv4_fragments(
    link: &Link,
    ip: &IpParams,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    l4: &[u8],
    mtu: usize,
) -> Vec<Vec<u8>> {
    let ip = IpParams {
        dont_fragment: false,
        ..*ip
    };
    // Every fragment but the last must carry a multiple of 8 bytes.
    let per_frag = (mtu.saturating_sub(20) / 8 * 8).max(8);
    let mut frames = Vec::new();
    let mut offset = 0;
    loop {
        let end = (offset + per_frag).min(l4.len());
        let more = end < l4.len();
        let chunk = &l4[offset..end];
        let mut buf = Vec::with_capacity(18 + 20 + chunk.len());
        push_ethernet(&mut buf, link, ETHERTYPE_IPV4);
        buf.extend_from_slice(&ipv4_header(
            src,
            dst,
            proto,
            &ip,
            chunk.len(),
            more,
            offset,
        ));
        buf.extend_from_slice(chunk);
        frames.push(finish_frame(buf, link));
        if !more {
            break;
        }
        offset = end;
    }
    frames
}

/// A complete ARP frame for Ethernet/IPv4 (`op` 1 = request, 2 = reply).
pub fn arp_frame(
    link: &Link,
    op: u16,
    sender_mac: MacAddr,
    sender_ip: Ipv4Addr,
    target_mac: MacAddr,
    target_ip: Ipv4Addr,
) -> Vec<u8> {
    let mut a = Vec::with_capacity(28);
    a.extend_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    a.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    a.push(6);
    a.push(4);
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&sender_mac);
    a.extend_from_slice(&sender_ip.octets());
    a.extend_from_slice(&target_mac);
    a.extend_from_slice(&target_ip.octets());
    ethernet_frame(link, ETHERTYPE_ARP, &a)
}

/// The Ethernet multicast MAC of an IPv4 multicast group (01:00:5e + low 23 bits).
pub fn ipv4_multicast_mac(group: Ipv4Addr) -> MacAddr {
    let o = group.octets();
    [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // Example from RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        let h = ipv4_header(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            6,
            &IpParams::default(),
            20,
            false,
            0,
        );
        assert_eq!(internet_checksum(&h), 0);
    }

    #[test]
    fn udp_checksum_verifies_v4_and_v6() {
        for (s, d) in [
            (
                IpAddr::from([192, 0, 2, 1]),
                IpAddr::from([198, 51, 100, 2]),
            ),
            (
                IpAddr::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                IpAddr::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
            ),
        ] {
            let ep = Endpoints::new(s, 5353, d, 53);
            let dg = udp_datagram(&ep, b"hello, odd length");
            let acc = checksum_add(pseudo_header_sum(s, d, 17, dg.len()), &dg);
            assert_eq!(checksum_finish(acc), 0);
        }
    }

    #[test]
    fn padding_and_vlan() {
        let link = Link::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .with_vlan(42)
            .with_padding(true);
        let f = ethernet_frame(&link, ETHERTYPE_ARP, &[0; 4]);
        assert_eq!(f.len(), ETH_MIN_FRAME);
        assert_eq!(&f[12..16], &[0x81, 0x00, 0x00, 42]);
        assert_eq!(&f[16..18], &[0x08, 0x06]);
    }
}
