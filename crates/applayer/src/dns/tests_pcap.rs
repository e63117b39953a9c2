//! Every DNS payload (UDP/53, TCP/53) of the shared synthetic capture through the parser,
//! counting EVE records against Suricata 7.0.10's output on the same capture.

use super::*;
use std::collections::HashMap;
use std::net::IpAddr;

const CAPTURE: &str = "/work/shared/data/pcap/synthetic-small.pcap";

/// `dns` events Suricata 7.0.10 (default config, dns version 2) writes for CAPTURE: 1532
/// queries and 1491 answers, counted in its eve.json (`event_type == "dns"`).
const SURICATA_DNS_EVENTS: usize = 3023;

/// One transport-layer packet of interest.
struct Packet<'a> {
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    tcp: Option<(u32, u8)>, // (seq, flags)
    payload: &'a [u8],
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// Minimal decode: Ethernet (with VLAN tags) or raw IP, IPv4 (unfragmented) / IPv6 (no
/// extension headers), UDP / TCP.
fn decode(frame: &[u8], linktype: u32) -> Option<Packet<'_>> {
    let ip = match linktype {
        1 => {
            let mut off = 12;
            let mut ethertype = be16(frame, off)?;
            while ethertype == 0x8100 || ethertype == 0x88a8 {
                off += 4;
                ethertype = be16(frame, off)?;
            }
            if ethertype != 0x0800 && ethertype != 0x86dd {
                return None;
            }
            frame.get(off + 2..)?
        }
        101 | 12 | 228 | 229 => frame,
        _ => return None,
    };
    let version = ip.first()? >> 4;
    let (src, dst, proto, l4) = match version {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?);
            let frag = be16(ip, 6)?;
            if frag & 0x3fff != 0 {
                return None; // a fragment: not reassembled here
            }
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let end = total.min(ip.len());
            (
                IpAddr::from(src),
                IpAddr::from(dst),
                *ip.get(9)?,
                ip.get(ihl..end)?,
            )
        }
        6 => {
            let plen = usize::from(be16(ip, 4)?);
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let end = (40 + plen).min(ip.len());
            (
                IpAddr::from(src),
                IpAddr::from(dst),
                *ip.get(6)?,
                ip.get(40..end)?,
            )
        }
        _ => return None,
    };
    let sport = be16(l4, 0)?;
    let dport = be16(l4, 2)?;
    match proto {
        17 => {
            let len = usize::from(be16(l4, 4)?).clamp(8, l4.len());
            Some(Packet {
                src,
                dst,
                sport,
                dport,
                tcp: None,
                payload: l4.get(8..len)?,
            })
        }
        6 => {
            let doff = usize::from(l4.get(12)? >> 4) * 4;
            Some(Packet {
                src,
                dst,
                sport,
                dport,
                tcp: Some((be32(l4, 4)?, *l4.get(13)?)),
                payload: l4.get(doff..)?,
            })
        }
        _ => None,
    }
}

/// Iterates the frames of a classic pcap file: (linktype, frame).
fn frames(file: &[u8]) -> Option<(u32, Vec<&[u8]>)> {
    let magic = file.get(..4)?;
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return None,
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = file.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let linktype = u32_at(20)? & 0x0fff_ffff;
    let mut out = Vec::new();
    let mut off = 24;
    while let Some(incl) = u32_at(off + 8) {
        let start = off + 16;
        let end = start + incl as usize;
        let Some(frame) = file.get(start..end) else {
            break;
        };
        out.push(frame);
        off = end;
    }
    Some((linktype, out))
}

type Key = (IpAddr, u16, IpAddr, u16, bool);

struct FlowState {
    state: Option<State>, // None: not DNS
    next_seq: [Option<u32>; 2],
}

#[test]
fn synthetic_capture_dns_record_count_matches_suricata() {
    let file = match std::fs::read(CAPTURE) {
        Ok(f) => f,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{CAPTURE} is required in CI: {e}"
            );
            println!("skipping: {CAPTURE} not readable: {e}");
            return;
        }
    };
    let (linktype, frames) = frames(&file).expect("a classic pcap file");
    let limits = Limits::default();
    let mut flows: HashMap<Key, FlowState> = HashMap::new();
    let (mut queries, mut answers, mut packets) = (0usize, 0usize, 0usize);
    let mut events: HashMap<&'static str, usize> = HashMap::new();
    let mut ev = AppEvents::default();
    for frame in frames {
        let Some(p) = decode(frame, linktype) else {
            continue;
        };
        if p.sport != 53 && p.dport != 53 {
            continue;
        }
        let tcp = p.tcp.is_some();
        // The client is the side not on port 53 (or the sender, when both are).
        let (dir, key) = if p.dport == 53 {
            (Direction::ToServer, (p.src, p.sport, p.dst, p.dport, tcp))
        } else {
            (Direction::ToClient, (p.dst, p.dport, p.src, p.sport, tcp))
        };
        let flow = flows.entry(key).or_insert_with(|| FlowState {
            state: None,
            next_seq: [None; 2],
        });
        let di = usize::from(dir == Direction::ToClient);
        if let Some((seq, flags)) = p.tcp {
            const SYN: u8 = 0x02;
            if flags & SYN != 0 {
                flow.next_seq[di] = Some(seq.wrapping_add(1));
                continue;
            }
        }
        if p.payload.is_empty() {
            continue;
        }
        packets += 1;
        if flow.state.is_none() {
            let looks_dns = if tcp {
                probe_tcp(p.payload, dir) != Probe::No
            } else {
                probe(p.payload, dir) == Probe::Yes
            };
            if !looks_dns {
                continue;
            }
            flow.state = Some(if tcp {
                State::new_tcp(&limits)
            } else {
                State::new_udp(&limits)
            });
        }
        let Some(st) = flow.state.as_mut() else {
            continue;
        };
        match p.tcp {
            None => st.parse(dir, p.payload, &mut ev),
            Some((seq, _)) => {
                // In-order delivery only: skip what was seen, report what is missing.
                let next = *flow.next_seq[di].get_or_insert(seq);
                let ahead = seq.wrapping_sub(next) as i32;
                let data = if ahead > 0 {
                    st.gap(dir, ahead as u64, &mut ev);
                    p.payload
                } else {
                    p.payload
                        .get(ahead.unsigned_abs() as usize..)
                        .unwrap_or(&[])
                };
                if !data.is_empty() {
                    st.parse(dir, data, &mut ev);
                    flow.next_seq[di] = Some(seq.wrapping_add(p.payload.len() as u32));
                }
            }
        }
        for (_, name) in ev.iter() {
            *events.entry(name).or_default() += 1;
        }
        ev.clear();
        st.drain(false, &mut |tx| match tx.kind() {
            Kind::Query => queries += 1,
            Kind::Answer => answers += 1,
        });
    }
    let total = queries + answers;
    println!(
        "{packets} DNS-port payloads in {} flows: {queries} query + {answers} answer records \
         = {total} (Suricata: {SURICATA_DNS_EVENTS}); events {events:?}",
        flows.len()
    );
    let diff = total.abs_diff(SURICATA_DNS_EVENTS);
    assert!(
        diff * 50 <= SURICATA_DNS_EVENTS,
        "{total} records vs Suricata's {SURICATA_DNS_EVENTS}: off by more than 2%"
    );
}
