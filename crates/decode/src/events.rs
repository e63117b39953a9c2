//! Decoder events: what was wrong with a packet, named as Suricata names them so that users'
//! rules (`decode-event:`) and EVE consumers keep working.

/// One decoder anomaly. The EVE name is `decoder.<layer>.<event>` (see [`DecodeEvent::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DecodeEvent {
    /// Ethernet frame shorter than its header.
    EthernetPktTooSmall,
    /// Ethertype vedette does not decode.
    EthernetUnknownEthertype,
    /// VLAN tag cut short.
    VlanHeaderTooSmall,
    /// More stacked VLAN tags than supported.
    VlanTooManyLayers,
    /// Linux cooked header cut short.
    SllPktTooSmall,
    /// BSD null/loopback header cut short.
    NullPktTooSmall,
    /// BSD null/loopback address family not IPv4/IPv6.
    NullUnsupportedType,
    /// Raw-IP link with an unknown IP version.
    IpRawInvalidIpVersion,
    /// Link type vedette cannot decode.
    UnsupportedLinkType,
    /// IPv4 packet shorter than the minimal header.
    Ipv4PktTooSmall,
    /// IPv4 header length field under 20 bytes.
    Ipv4HlenTooSmall,
    /// IPv4 total length smaller than its header length.
    Ipv4IplenSmallerThanHlen,
    /// IPv4 total length beyond the captured bytes.
    Ipv4TruncPkt,
    /// IPv4 option with an invalid length.
    Ipv4OptInvalidLen,
    /// IPv4 option running past the header.
    Ipv4OptMalformed,
    /// IPv4 option type unknown.
    Ipv4OptUnknown,
    /// IPv4 option present twice.
    Ipv4OptDuplicate,
    /// IPv4 header with a version other than 4.
    Ipv4WrongIpVersion,
    /// IPv4 carrying ICMPv6.
    Ipv4WithIcmpv6,
    /// IPv4 fragment that would reassemble beyond 65535 bytes.
    Ipv4FragPktTooLarge,
    /// IPv4 fragments overlapping with different data.
    Ipv4FragOverlap,
    /// IPv6 packet shorter than its header.
    Ipv6PktTooSmall,
    /// IPv6 payload length beyond the captured bytes.
    Ipv6TruncPkt,
    /// IPv6 extension header cut short.
    Ipv6TruncExthdr,
    /// IPv6 header with a version other than 6.
    Ipv6WrongIpVersion,
    /// IPv6 with two fragment headers.
    Ipv6ExthdrDuplFh,
    /// IPv6 with two routing headers.
    Ipv6ExthdrDuplRh,
    /// IPv6 with two hop-by-hop headers.
    Ipv6ExthdrDuplHh,
    /// IPv6 type-0 routing header (deprecated, abused for amplification).
    Ipv6RhType0,
    /// IPv6 fragment header for an unfragmented packet.
    Ipv6ExthdrUselessFh,
    /// IPv6 carrying ICMPv4.
    Ipv6WithIcmpv4,
    /// IPv6 fragment reassembling beyond 65535 bytes.
    Ipv6FragPktTooLarge,
    /// IPv6 fragments overlapping with different data.
    Ipv6FragOverlap,
    /// IPv6 fragment whose length is not a multiple of 8 though more follow.
    Ipv6FragInvalidLength,
    /// Data after a "no next header" header.
    Ipv6DataAfterNoneHeader,
    /// TCP segment shorter than the minimal header.
    TcpPktTooSmall,
    /// TCP data offset under 5 words.
    TcpHlenTooSmall,
    /// TCP data offset beyond the segment.
    TcpInvalidOptlen,
    /// TCP option with an invalid length.
    TcpOptInvalidLen,
    /// TCP option present twice.
    TcpOptDuplicate,
    /// UDP datagram shorter than its header.
    UdpPktTooSmall,
    /// UDP length field under 8.
    UdpHlenTooSmall,
    /// UDP length field beyond the IP payload.
    UdpHlenInvalid,
    /// UDP length field shorter than the IP payload.
    UdpLenInvalid,
    /// ICMPv4 message shorter than its header.
    Icmpv4PktTooSmall,
    /// ICMPv4 type unknown.
    Icmpv4UnknownType,
    /// ICMPv4 code unknown for its type.
    Icmpv4UnknownCode,
    /// ICMPv4 error quoting a truncated IPv4 header.
    Icmpv4Ipv4TruncPkt,
    /// ICMPv4 error quoting a non-IPv4 header.
    Icmpv4Ipv4UnknownVer,
    /// ICMPv6 message shorter than its header.
    Icmpv6PktTooSmall,
    /// ICMPv6 type unknown.
    Icmpv6UnknownType,
    /// ICMPv6 code unknown for its type.
    Icmpv6UnknownCode,
    /// ICMPv6 error quoting a truncated IPv6 header.
    Icmpv6Ipv6TruncPkt,
    /// ICMPv6 error quoting a non-IPv6 header.
    Icmpv6Ipv6UnknownVersion,
    /// ICMPv6 type in the private experimentation range.
    Icmpv6ExperimentationType,
    /// Tunnel/encapsulation nesting deeper than supported.
    TooManyLayers,
}

impl DecodeEvent {
    /// Every event, in declaration order (for stats tables).
    pub const ALL: [DecodeEvent; 56] = {
        use DecodeEvent::*;
        [
            EthernetPktTooSmall,
            EthernetUnknownEthertype,
            VlanHeaderTooSmall,
            VlanTooManyLayers,
            SllPktTooSmall,
            NullPktTooSmall,
            NullUnsupportedType,
            IpRawInvalidIpVersion,
            UnsupportedLinkType,
            Ipv4PktTooSmall,
            Ipv4HlenTooSmall,
            Ipv4IplenSmallerThanHlen,
            Ipv4TruncPkt,
            Ipv4OptInvalidLen,
            Ipv4OptMalformed,
            Ipv4OptUnknown,
            Ipv4OptDuplicate,
            Ipv4WrongIpVersion,
            Ipv4WithIcmpv6,
            Ipv4FragPktTooLarge,
            Ipv4FragOverlap,
            Ipv6PktTooSmall,
            Ipv6TruncPkt,
            Ipv6TruncExthdr,
            Ipv6WrongIpVersion,
            Ipv6ExthdrDuplFh,
            Ipv6ExthdrDuplRh,
            Ipv6ExthdrDuplHh,
            Ipv6RhType0,
            Ipv6ExthdrUselessFh,
            Ipv6WithIcmpv4,
            Ipv6FragPktTooLarge,
            Ipv6FragOverlap,
            Ipv6FragInvalidLength,
            Ipv6DataAfterNoneHeader,
            TcpPktTooSmall,
            TcpHlenTooSmall,
            TcpInvalidOptlen,
            TcpOptInvalidLen,
            TcpOptDuplicate,
            UdpPktTooSmall,
            UdpHlenTooSmall,
            UdpHlenInvalid,
            UdpLenInvalid,
            Icmpv4PktTooSmall,
            Icmpv4UnknownType,
            Icmpv4UnknownCode,
            Icmpv4Ipv4TruncPkt,
            Icmpv4Ipv4UnknownVer,
            Icmpv6PktTooSmall,
            Icmpv6UnknownType,
            Icmpv6UnknownCode,
            Icmpv6Ipv6TruncPkt,
            Icmpv6Ipv6UnknownVersion,
            Icmpv6ExperimentationType,
            TooManyLayers,
        ]
    };

    /// Index into [`DecodeEvent::ALL`], for per-event counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Suricata's event name, e.g. `decoder.ipv4.trunc_pkt`.
    pub fn name(self) -> &'static str {
        use DecodeEvent::*;
        match self {
            EthernetPktTooSmall => "decoder.ethernet.pkt_too_small",
            EthernetUnknownEthertype => "decoder.ethernet.unknown_ethertype",
            VlanHeaderTooSmall => "decoder.vlan.header_too_small",
            VlanTooManyLayers => "decoder.vlan.too_many_layers",
            SllPktTooSmall => "decoder.sll.pkt_too_small",
            NullPktTooSmall => "decoder.null.pkt_too_small",
            NullUnsupportedType => "decoder.null.unsupported_type",
            IpRawInvalidIpVersion => "decoder.ipraw.invalid_ip_version",
            UnsupportedLinkType => "decoder.unsupported_linktype",
            Ipv4PktTooSmall => "decoder.ipv4.pkt_too_small",
            Ipv4HlenTooSmall => "decoder.ipv4.hlen_too_small",
            Ipv4IplenSmallerThanHlen => "decoder.ipv4.iplen_smaller_than_hlen",
            Ipv4TruncPkt => "decoder.ipv4.trunc_pkt",
            Ipv4OptInvalidLen => "decoder.ipv4.opt_invalid_len",
            Ipv4OptMalformed => "decoder.ipv4.opt_malformed",
            Ipv4OptUnknown => "decoder.ipv4.opt_unknown",
            Ipv4OptDuplicate => "decoder.ipv4.opt_duplicate",
            Ipv4WrongIpVersion => "decoder.ipv4.wrong_ip_version",
            Ipv4WithIcmpv6 => "decoder.ipv4.icmpv6",
            Ipv4FragPktTooLarge => "decoder.ipv4.frag_pkt_too_large",
            Ipv4FragOverlap => "decoder.ipv4.frag_overlap",
            Ipv6PktTooSmall => "decoder.ipv6.pkt_too_small",
            Ipv6TruncPkt => "decoder.ipv6.trunc_pkt",
            Ipv6TruncExthdr => "decoder.ipv6.trunc_exthdr",
            Ipv6WrongIpVersion => "decoder.ipv6.wrong_ip_version",
            Ipv6ExthdrDuplFh => "decoder.ipv6.exthdr_dupl_fh",
            Ipv6ExthdrDuplRh => "decoder.ipv6.exthdr_dupl_rh",
            Ipv6ExthdrDuplHh => "decoder.ipv6.exthdr_dupl_hh",
            Ipv6RhType0 => "decoder.ipv6.rh_type_0",
            Ipv6ExthdrUselessFh => "decoder.ipv6.exthdr_useless_fh",
            Ipv6WithIcmpv4 => "decoder.ipv6.icmpv4",
            Ipv6FragPktTooLarge => "decoder.ipv6.frag_pkt_too_large",
            Ipv6FragOverlap => "decoder.ipv6.frag_overlap",
            Ipv6FragInvalidLength => "decoder.ipv6.frag_invalid_length",
            Ipv6DataAfterNoneHeader => "decoder.ipv6.data_after_none_header",
            TcpPktTooSmall => "decoder.tcp.pkt_too_small",
            TcpHlenTooSmall => "decoder.tcp.hlen_too_small",
            TcpInvalidOptlen => "decoder.tcp.invalid_optlen",
            TcpOptInvalidLen => "decoder.tcp.opt_invalid_len",
            TcpOptDuplicate => "decoder.tcp.opt_duplicate",
            UdpPktTooSmall => "decoder.udp.pkt_too_small",
            UdpHlenTooSmall => "decoder.udp.hlen_too_small",
            UdpHlenInvalid => "decoder.udp.hlen_invalid",
            UdpLenInvalid => "decoder.udp.len_invalid",
            Icmpv4PktTooSmall => "decoder.icmpv4.pkt_too_small",
            Icmpv4UnknownType => "decoder.icmpv4.unknown_type",
            Icmpv4UnknownCode => "decoder.icmpv4.unknown_code",
            Icmpv4Ipv4TruncPkt => "decoder.icmpv4.ipv4_trunc_pkt",
            Icmpv4Ipv4UnknownVer => "decoder.icmpv4.ipv4_unknown_ver",
            Icmpv6PktTooSmall => "decoder.icmpv6.pkt_too_small",
            Icmpv6UnknownType => "decoder.icmpv6.unknown_type",
            Icmpv6UnknownCode => "decoder.icmpv6.unknown_code",
            Icmpv6Ipv6TruncPkt => "decoder.icmpv6.ipv6_trunc_pkt",
            Icmpv6Ipv6UnknownVersion => "decoder.icmpv6.ipv6_unknown_version",
            Icmpv6ExperimentationType => "decoder.icmpv6.experimentation_type",
            TooManyLayers => "decoder.too_many_layers",
        }
    }
}

/// Most events one packet records; further ones are counted in `dropped` only.
pub const MAX_EVENTS_PER_PACKET: usize = 8;

/// The decoder events of one packet, in a fixed-size inline list (no allocation).
#[derive(Clone, Copy, Debug)]
pub struct Events {
    list: [DecodeEvent; MAX_EVENTS_PER_PACKET],
    len: u8,
    /// Events beyond the inline capacity.
    pub dropped: u8,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            list: [DecodeEvent::TooManyLayers; MAX_EVENTS_PER_PACKET],
            len: 0,
            dropped: 0,
        }
    }
}

impl Events {
    /// Records an event (duplicates within one packet are kept once).
    pub fn push(&mut self, ev: DecodeEvent) {
        if self.as_slice().contains(&ev) {
            return;
        }
        match self.list.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = ev;
                self.len += 1;
            }
            None => self.dropped = self.dropped.saturating_add(1),
        }
    }

    /// The recorded events.
    pub fn as_slice(&self) -> &[DecodeEvent] {
        self.list.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// True when no event was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_index_order_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for (i, ev) in DecodeEvent::ALL.iter().enumerate() {
            assert_eq!(ev.index(), i);
            assert!(names.insert(ev.name()), "duplicate name {}", ev.name());
            assert!(ev.name().starts_with("decoder."));
        }
    }

    #[test]
    fn events_list_dedups_and_caps() {
        let mut e = Events::default();
        e.push(DecodeEvent::Ipv4TruncPkt);
        e.push(DecodeEvent::Ipv4TruncPkt);
        assert_eq!(e.as_slice(), &[DecodeEvent::Ipv4TruncPkt]);
        for ev in DecodeEvent::ALL.iter().take(20) {
            e.push(*ev);
        }
        assert_eq!(e.as_slice().len(), MAX_EVENTS_PER_PACKET);
        assert!(e.dropped > 0);
    }
}
