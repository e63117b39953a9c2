//! Test helpers: an independent pcap reader and frame decoder with checksum verification.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::IpAddr;

/// One decoded frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub ts_us: u64,
    pub vlan: Option<u16>,
    pub ethertype: u16,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub proto: u8,
    /// IPv4 fragment: (id, offset in bytes, more fragments).
    pub frag: Option<(u16, usize, bool)>,
    /// Transport bytes (the whole L4 segment, or the fragment's bytes).
    pub l4: Vec<u8>,
    pub raw: Vec<u8>,
}

/// Reads a classic little-endian microsecond pcap, checking the header.
pub fn read_pcap(bytes: &[u8]) -> Vec<(u64, Vec<u8>)> {
    assert!(bytes.len() >= 24, "short file");
    assert_eq!(&bytes[0..4], &[0xd4, 0xc3, 0xb2, 0xa1], "magic");
    assert_eq!(
        u32::from_le_bytes(bytes[16..20].try_into().unwrap()),
        262_144
    );
    assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 1);
    let mut out = Vec::new();
    let mut off = 24;
    while off < bytes.len() {
        let h = &bytes[off..off + 16];
        let secs = u64::from(u32::from_le_bytes(h[0..4].try_into().unwrap()));
        let usec = u64::from(u32::from_le_bytes(h[4..8].try_into().unwrap()));
        assert!(usec < 1_000_000);
        let incl = u32::from_le_bytes(h[8..12].try_into().unwrap()) as usize;
        let orig = u32::from_le_bytes(h[12..16].try_into().unwrap()) as usize;
        assert_eq!(incl, orig);
        off += 16;
        out.push((secs * 1_000_000 + usec, bytes[off..off + incl].to_vec()));
        off += incl;
    }
    assert_eq!(off, bytes.len());
    out
}

pub fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// One's-complement sum verification: returns true when `data` plus `acc` folds to 0xffff.
pub fn sum_ok(acc: u64, data: &[u8]) -> bool {
    let mut s = acc;
    let mut i = 0;
    while i + 1 < data.len() {
        s += u64::from(be16(data, i));
        i += 2;
    }
    if i < data.len() {
        s += u64::from(data[i]) << 8;
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s == 0xffff
}

pub fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u64 {
    let mut acc = 0u64;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
        }
    };
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            add(&s.octets());
            add(&d.octets());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            add(&s.octets());
            add(&d.octets());
        }
        _ => panic!("mixed families"),
    }
    acc + u64::from(proto) + len as u64
}

/// Decodes a frame and verifies the IPv4 header checksum; panics on malformed frames.
pub fn decode(ts_us: u64, raw: &[u8]) -> Frame {
    assert!(raw.len() >= 60, "frame shorter than the Ethernet minimum");
    let mut off = 12;
    let mut ethertype = be16(raw, off);
    let mut vlan = None;
    if ethertype == 0x8100 {
        vlan = Some(be16(raw, 14) & 0x0fff);
        off += 4;
        ethertype = be16(raw, off);
    }
    off += 2;
    let mut f = Frame {
        ts_us,
        vlan,
        ethertype,
        src: None,
        dst: None,
        proto: 0,
        frag: None,
        l4: Vec::new(),
        raw: raw.to_vec(),
    };
    match ethertype {
        0x0800 => {
            let ip = &raw[off..];
            assert_eq!(ip[0], 0x45);
            let total = usize::from(be16(ip, 2));
            assert!(total <= ip.len());
            assert!(sum_ok(0, &ip[..20]), "bad IPv4 header checksum");
            f.src = Some(IpAddr::from(<[u8; 4]>::try_from(&ip[12..16]).unwrap()));
            f.dst = Some(IpAddr::from(<[u8; 4]>::try_from(&ip[16..20]).unwrap()));
            f.proto = ip[9];
            let ff = be16(ip, 6);
            let mf = ff & 0x2000 != 0;
            let fo = usize::from(ff & 0x1fff) * 8;
            if mf || fo > 0 {
                assert_eq!(ff & 0x4000, 0, "fragment with DF");
                f.frag = Some((be16(ip, 4), fo, mf));
            }
            f.l4 = ip[20..total].to_vec();
        }
        0x86dd => {
            let ip = &raw[off..];
            assert_eq!(ip[0] >> 4, 6);
            let plen = usize::from(be16(ip, 4));
            f.src = Some(IpAddr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap()));
            f.dst = Some(IpAddr::from(<[u8; 16]>::try_from(&ip[24..40]).unwrap()));
            f.proto = ip[6];
            f.l4 = ip[40..40 + plen].to_vec();
        }
        0x0806 => {}
        other => panic!("unexpected ethertype {other:#x}"),
    }
    f
}

/// Verifies the transport checksum of a complete (unfragmented or reassembled) L4 payload.
pub fn verify_l4(src: IpAddr, dst: IpAddr, proto: u8, l4: &[u8]) {
    match proto {
        6 => assert!(
            sum_ok(pseudo(src, dst, 6, l4.len()), l4),
            "bad TCP checksum"
        ),
        17 => {
            assert_ne!(be16(l4, 6), 0, "UDP checksum omitted");
            assert_eq!(usize::from(be16(l4, 4)), l4.len(), "UDP length");
            assert!(
                sum_ok(pseudo(src, dst, 17, l4.len()), l4),
                "bad UDP checksum"
            );
        }
        1 => assert!(sum_ok(0, l4), "bad ICMP checksum"),
        58 => assert!(
            sum_ok(pseudo(src, dst, 58, l4.len()), l4),
            "bad ICMPv6 checksum"
        ),
        other => panic!("unexpected protocol {other}"),
    }
}

/// One IPv4 fragment: offset in bytes, more-fragments flag, bytes.
type FragPart = (usize, bool, Vec<u8>);

/// Decodes every frame of a pcap, verifying all checksums (reassembling IPv4 fragments
/// for the transport checksum). Returns the frames and the number of reassembled datagrams.
pub fn decode_and_verify(bytes: &[u8]) -> (Vec<Frame>, usize) {
    let mut frames = Vec::new();
    let mut frags: BTreeMap<(IpAddr, IpAddr, u16), Vec<FragPart>> = BTreeMap::new();
    let mut reassembled = 0;
    let mut last_ts = 0;
    for (ts, raw) in read_pcap(bytes) {
        assert!(ts >= last_ts, "packets out of time order");
        last_ts = ts;
        let f = decode(ts, &raw);
        if let (Some(s), Some(d)) = (f.src, f.dst) {
            match f.frag {
                None => verify_l4(s, d, f.proto, &f.l4),
                Some((id, off, more)) => {
                    let parts = frags.entry((s, d, id)).or_default();
                    parts.push((off, more, f.l4.clone()));
                    if parts.iter().any(|p| !p.1) {
                        parts.sort_by_key(|p| p.0);
                        let mut whole = Vec::new();
                        for (o, _, b) in parts.iter() {
                            assert_eq!(*o, whole.len(), "fragment gap");
                            whole.extend_from_slice(b);
                        }
                        verify_l4(s, d, f.proto, &whole);
                        reassembled += 1;
                    }
                }
            }
        }
        frames.push(f);
    }
    (frames, reassembled)
}
