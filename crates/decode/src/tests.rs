use super::*;
use proptest::prelude::*;

/// Builds an Ethernet + IPv4 + TCP SYN frame with valid checksums.
fn eth_ipv4_tcp(vlans: &[u16], payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    for v in vlans {
        f.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let ip_at = f.len();
    let tcp_len = 24 + payload.len();
    let total = (20 + tcp_len) as u16;
    f.extend_from_slice(&[
        0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    f[ip_at + 2..ip_at + 4].copy_from_slice(&total.to_be_bytes());
    let c = checksum::compute(0, &f[ip_at..ip_at + 20]);
    f[ip_at + 10..ip_at + 12].copy_from_slice(&c.to_be_bytes());
    let tcp_at = f.len();
    f.extend_from_slice(&[
        0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    f.extend_from_slice(&[2, 4, 0x05, 0xb4]); // MSS 1460
    f.extend_from_slice(payload);
    let pseudo = checksum::pseudo_v4(&[10, 0, 0, 1], &[10, 0, 0, 2], 6, tcp_len);
    let c = checksum::compute(pseudo, &f[tcp_at..]);
    f[tcp_at + 16..tcp_at + 18].copy_from_slice(&c.to_be_bytes());
    f
}

#[test]
fn decodes_ethernet_ipv4_tcp_with_options_and_checksums() {
    let f = eth_ipv4_tcp(&[], b"hello");
    let d = decode(LinkType::ETHERNET, &f, &DecodeConfig::default());
    assert!(d.events.is_empty(), "{:?}", d.events);
    assert!(!d.invalid);
    assert_eq!(d.checksum_errors, ChecksumErrors::default());
    assert_eq!(d.ports(), (12345, 80));
    let L4::Tcp(t) = d.l4 else { panic!("not tcp") };
    assert_eq!(t.flags(), tcp_flags::SYN);
    assert_eq!(t.options().mss, Some(1460));
    assert_eq!(d.payload, b"hello");
    assert_eq!(
        d.addrs(),
        Some(("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()))
    );
}

#[test]
fn corrupted_checksum_is_reported_only_when_validating() {
    let mut f = eth_ipv4_tcp(&[], b"hello");
    let last = f.len() - 1;
    f[last] ^= 0xff;
    let d = decode(LinkType::ETHERNET, &f, &DecodeConfig::default());
    assert!(d.checksum_errors.l4);
    assert!(!d.checksum_errors.ipv4);
    let d = decode(
        LinkType::ETHERNET,
        &f,
        &DecodeConfig {
            validate_checksums: false,
        },
    );
    assert!(!d.checksum_errors.l4);
}

#[test]
fn qinq_vlans_are_recorded_outermost_first() {
    let f = eth_ipv4_tcp(&[1, 10], b"");
    let d = decode(LinkType::ETHERNET, &f, &DecodeConfig::default());
    assert_eq!(d.vlans(), &[1, 10]);
    assert!(matches!(d.l4, L4::Tcp(_)));
    let f = eth_ipv4_tcp(&[1, 2, 3, 4], b"");
    let d = decode(LinkType::ETHERNET, &f, &DecodeConfig::default());
    assert_eq!(d.events.as_slice(), &[DecodeEvent::VlanTooManyLayers]);
}

#[test]
fn truncated_ipv4_raises_trunc_pkt_and_is_invalid() {
    let f = eth_ipv4_tcp(&[], b"hello world");
    let cut = &f[..f.len() - 4];
    let d = decode(LinkType::ETHERNET, cut, &DecodeConfig::default());
    assert_eq!(d.events.as_slice(), &[DecodeEvent::Ipv4TruncPkt]);
    assert!(d.invalid);
}

#[test]
fn raw_null_and_sll_links_reach_the_ip_layer() {
    let f = eth_ipv4_tcp(&[], b"x");
    let ip = &f[14..];
    let d = decode(LinkType::RAW, ip, &DecodeConfig::default());
    assert!(matches!(d.l4, L4::Tcp(_)));
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(ip);
    assert!(matches!(
        decode(LinkType::NULL, &null, &DecodeConfig::default()).l4,
        L4::Tcp(_)
    ));
    let mut lo = 2u32.to_be_bytes().to_vec();
    lo.extend_from_slice(ip);
    assert!(matches!(
        decode(LinkType::LOOP, &lo, &DecodeConfig::default()).l4,
        L4::Tcp(_)
    ));
    let mut sll = vec![0u8; 14];
    sll.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    sll.extend_from_slice(ip);
    assert!(matches!(
        decode(LinkType::LINUX_SLL, &sll, &DecodeConfig::default()).l4,
        L4::Tcp(_)
    ));
    let mut sll2 = ETHERTYPE_IPV4.to_be_bytes().to_vec();
    sll2.extend_from_slice(&[0u8; 18]);
    sll2.extend_from_slice(ip);
    assert!(matches!(
        decode(LinkType::LINUX_SLL2, &sll2, &DecodeConfig::default()).l4,
        L4::Tcp(_)
    ));
    let d = decode(LinkType(9999), ip, &DecodeConfig::default());
    assert_eq!(d.events.as_slice(), &[DecodeEvent::UnsupportedLinkType]);
}

#[test]
fn ipv4_fragments_stop_before_l4() {
    let mut f = eth_ipv4_tcp(&[], b"0123456789");
    // Set MF, recompute the header checksum.
    f[14 + 6] = 0x20;
    f[14 + 10] = 0;
    f[14 + 11] = 0;
    let c = checksum::compute(0, &f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    let d = decode(LinkType::ETHERNET, &f, &DecodeConfig::default());
    let frag = d.fragment.expect("fragment");
    assert!(frag.more);
    assert_eq!(frag.offset, 0);
    assert_eq!(frag.proto, 6);
    assert!(matches!(d.l4, L4::None));
    assert!(!d.checksum_errors.ipv4);
}

#[test]
fn ipv6_with_extension_headers_and_fragment() {
    let mut p = vec![0x60, 0, 0, 0, 0, 0, 0 /* hop-by-hop */, 64];
    p.extend_from_slice(&[0xfd; 16]);
    p.extend_from_slice(&[0xfe; 16]);
    // hop-by-hop: next = fragment(44), len 0 (8 bytes), PadN
    p.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
    // fragment: next = UDP, offset 0, M=1, id 7
    p.extend_from_slice(&[17, 0, 0, 1, 0, 0, 0, 7]);
    p.extend_from_slice(&[0u8; 16]);
    let plen = (p.len() - 40) as u16;
    p[4..6].copy_from_slice(&plen.to_be_bytes());
    let d = decode(LinkType::IPV6, &p, &DecodeConfig::default());
    let frag = d.fragment.expect("fragment");
    assert_eq!(
        (frag.id, frag.offset, frag.more, frag.proto),
        (7, 0, true, 17)
    );
    assert_eq!(frag.unfragmentable_len, 48);
    assert_eq!(frag.data_offset, 56);
    assert!(d.events.is_empty(), "{:?}", d.events);
}

#[test]
fn icmp_unknown_type_and_code_events() {
    let mut p = vec![
        0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    p.extend_from_slice(&[42, 0, 0, 0, 0, 0, 0, 0]);
    let d = decode(
        LinkType::RAW,
        &p,
        &DecodeConfig {
            validate_checksums: false,
        },
    );
    assert_eq!(d.events.as_slice(), &[DecodeEvent::Icmpv4UnknownType]);
    p[20] = 8;
    p[21] = 5;
    let d = decode(
        LinkType::RAW,
        &p,
        &DecodeConfig {
            validate_checksums: false,
        },
    );
    assert_eq!(d.events.as_slice(), &[DecodeEvent::Icmpv4UnknownCode]);
}

#[test]
fn shard_hash_is_symmetric_and_ignores_ports() {
    let a = eth_ipv4_tcp(&[], b"");
    let mut b = a.clone();
    // swap addresses
    b[14 + 12..14 + 16].copy_from_slice(&[10, 0, 0, 2]);
    b[14 + 16..14 + 20].copy_from_slice(&[10, 0, 0, 1]);
    b[34] = 0x99;
    assert_eq!(
        shard_hash(LinkType::ETHERNET, &a),
        shard_hash(LinkType::ETHERNET, &b)
    );
    assert_ne!(shard_hash(LinkType::ETHERNET, &a), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(link in prop::sample::select(vec![0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]),
                                bytes in prop::collection::vec(any::<u8>(), 0..1600)) {
        let d = decode(LinkType(link), &bytes, &DecodeConfig::default());
        let _ = (d.addrs(), d.ports(), d.ip_proto(), d.vlans());
        let _ = shard_hash(LinkType(link), &bytes);
    }

    #[test]
    fn mutated_valid_frames_never_panic(idx in 0usize..80, val in any::<u8>(), cut in 0usize..90) {
        let mut f = eth_ipv4_tcp(&[7], b"some payload bytes");
        if let Some(b) = f.get_mut(idx) { *b = val; }
        f.truncate(f.len().saturating_sub(cut));
        let d = decode(LinkType::ETHERNET, &f, &DecodeConfig::default());
        let _ = (d.addrs(), d.ports(), d.payload.len());
    }
}
