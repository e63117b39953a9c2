//! IPv4 and IPv6 fragment reassembly with caps on trackers, bytes and time.
//!
//! Overlap policy: the first data received for a byte range wins (later overlapping bytes are
//! ignored); an overlap carrying different bytes raises `frag_overlap`. This differs from
//! Suricata's default BSD policy only for crafted overlapping fragments.

use hashbrown::HashMap;
use std::net::IpAddr;
use vedette_decode::{checksum, DecodeEvent, Decoded, Events, Fragment, Ip};
use vedette_types::Timestamp;

/// Reassembly limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefragConfig {
    /// Datagrams being reassembled at once.
    pub max_trackers: u32,
    /// Bytes held by all trackers together.
    pub max_bytes: usize,
    /// Seconds of packet time a datagram may take to complete.
    pub timeout_secs: u32,
    /// Fragments accepted for one datagram.
    pub max_fragments: u16,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            max_trackers: 65_535,
            max_bytes: 32 * 1024 * 1024,
            timeout_secs: 60,
            max_fragments: 256,
        }
    }
}

/// Reassembly counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// Datagrams dropped at timeout before completing.
    pub timeouts: u64,
    /// Fragments dropped because the tracker cap was reached.
    pub tracker_cap_hits: u64,
    /// Fragments dropped because the byte cap was reached.
    pub memcap_hits: u64,
    /// Datagrams dropped as too large or with too many fragments.
    pub too_large: u64,
    /// Overlaps with different data.
    pub overlaps: u64,
}

impl DefragStats {
    /// Adds another worker's counters.
    pub fn merge(&mut self, o: &DefragStats) {
        self.fragments += o.fragments;
        self.reassembled += o.reassembled;
        self.timeouts += o.timeouts;
        self.tracker_cap_hits += o.tracker_cap_hits;
        self.memcap_hits += o.memcap_hits;
        self.too_large += o.too_large;
        self.overlaps += o.overlaps;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
    vlan: [u16; 3],
}

struct Tracker {
    first_seen: Timestamp,
    /// The unfragmentable part (IP header, and for IPv6 the headers before the fragment header),
    /// taken from the fragment at offset 0.
    header: Vec<u8>,
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    have: Vec<(u32, u32)>,
    total: Option<u32>,
    fragments: u16,
    v6: bool,
}

impl Tracker {
    fn bytes(&self) -> usize {
        self.header.capacity() + self.data.capacity() + self.have.capacity() * 8
    }

    fn complete(&self) -> bool {
        match (self.total, self.have.first()) {
            (Some(t), Some(&(0, end))) => {
                self.have.len() == 1 && end == t && !self.header.is_empty()
            }
            _ => false,
        }
    }
}

/// Largest reassembled IP payload.
const MAX_PAYLOAD: u32 = 65_535;

/// Per-worker fragment reassembler.
pub struct Defragmenter {
    cfg: DefragConfig,
    trackers: HashMap<Key, Tracker>,
    bytes: usize,
    out: Vec<u8>,
    stats: DefragStats,
}

impl Defragmenter {
    /// A reassembler with the given limits.
    pub fn new(cfg: DefragConfig) -> Self {
        Defragmenter {
            cfg,
            trackers: HashMap::new(),
            bytes: 0,
            out: Vec::with_capacity(65_536 + 128),
            stats: DefragStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &DefragStats {
        &self.stats
    }

    /// Datagrams being reassembled.
    pub fn pending(&self) -> usize {
        self.trackers.len()
    }

    /// Drops datagrams older than the timeout at `now`.
    pub fn expire(&mut self, now: Timestamp) {
        let limit = i64::from(self.cfg.timeout_secs) * Timestamp::NANOS_PER_SEC;
        let mut freed = 0usize;
        let mut dropped = 0u64;
        self.trackers.retain(|_, t| {
            let keep = now.nanos_since(t.first_seen) <= limit;
            if !keep {
                freed += t.bytes();
                dropped += 1;
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
        self.stats.timeouts += dropped;
    }

    /// Adds one fragment (`d` decoded from `frame`). When it completes its datagram, returns the
    /// rebuilt IP datagram (valid until the next call); events for bad fragments go to `events`.
    pub fn insert(
        &mut self,
        now: Timestamp,
        d: &Decoded<'_>,
        frame: &[u8],
        events: &mut Events,
    ) -> Option<&[u8]> {
        let frag = d.fragment?;
        let (src, dst) = d.addrs()?;
        let v6 = matches!(d.ip, Ip::V6(_));
        let datagram = match d.ip {
            Ip::V4(v4) => {
                let len = v4.total_len() as usize;
                frame.get(d.ip_offset..d.ip_offset + len)?
            }
            Ip::V6(v6v) => {
                let len = 40
                    + usize::from(u16::from_be_bytes([
                        *v6v.header().get(4)?,
                        *v6v.header().get(5)?,
                    ]));
                frame.get(d.ip_offset..d.ip_offset + len)?
            }
            Ip::None => return None,
        };
        self.stats.fragments += 1;
        let payload = datagram.get(frag.data_offset..)?;
        let start = frag.offset;
        let end = start.saturating_add(payload.len() as u32);
        let (too_large_ev, overlap_ev) = if v6 {
            (
                DecodeEvent::Ipv6FragPktTooLarge,
                DecodeEvent::Ipv6FragOverlap,
            )
        } else {
            (
                DecodeEvent::Ipv4FragPktTooLarge,
                DecodeEvent::Ipv4FragOverlap,
            )
        };
        let key = Key {
            src,
            dst,
            id: frag.id,
            proto: frag.proto,
            vlan: d.vlan,
        };
        if end > MAX_PAYLOAD {
            events.push(too_large_ev);
            self.drop_tracker(&key);
            self.stats.too_large += 1;
            return None;
        }
        if !self.trackers.contains_key(&key) {
            if self.trackers.len() >= self.cfg.max_trackers as usize {
                self.stats.tracker_cap_hits += 1;
                return None;
            }
            self.trackers.insert(
                key,
                Tracker {
                    first_seen: now,
                    header: Vec::new(),
                    data: Vec::new(),
                    have: Vec::new(),
                    total: None,
                    fragments: 0,
                    v6,
                },
            );
        }
        let max_bytes = self.cfg.max_bytes;
        let max_frags = self.cfg.max_fragments;
        let t = self.trackers.get_mut(&key)?;
        let before = t.bytes();
        let grow = (end as usize).saturating_sub(t.data.len())
            + if start == 0 {
                frag.unfragmentable_len
            } else {
                0
            };
        if self.bytes + grow > max_bytes {
            self.stats.memcap_hits += 1;
            return None;
        }
        t.fragments += 1;
        if t.fragments > max_frags {
            self.stats.too_large += 1;
            self.drop_tracker(&key);
            return None;
        }
        if !frag.more {
            t.total = Some(end);
        }
        if start == 0 && t.header.is_empty() {
            t.header
                .extend_from_slice(datagram.get(..frag.unfragmentable_len).unwrap_or(&[]));
        }
        if t.data.len() < end as usize {
            t.data.resize(end as usize, 0);
        }
        // First data wins: copy only the gaps; compare overlapping bytes.
        let mut pos = start;
        let mut overlap_differs = false;
        for &(hs, he) in &t.have {
            if he <= pos || hs >= end {
                continue;
            }
            if hs > pos {
                copy_range(&mut t.data, payload, start, pos, hs);
            }
            let (os, oe) = (hs.max(pos), he.min(end));
            let old = t.data.get(os as usize..oe as usize).unwrap_or(&[]);
            let new = payload
                .get((os - start) as usize..(oe - start) as usize)
                .unwrap_or(&[]);
            if old != new {
                overlap_differs = true;
            }
            pos = pos.max(he);
        }
        if pos < end {
            copy_range(&mut t.data, payload, start, pos, end);
        }
        insert_range(&mut t.have, start, end);
        if overlap_differs {
            events.push(overlap_ev);
            self.stats.overlaps += 1;
        }
        let after = t.bytes();
        self.bytes = self.bytes + after - before.min(after);
        if !t.complete() {
            return None;
        }
        let t = self.trackers.remove(&key)?;
        self.bytes = self.bytes.saturating_sub(t.bytes());
        self.stats.reassembled += 1;
        self.out.clear();
        self.out.extend_from_slice(&t.header);
        self.out.extend_from_slice(&t.data);
        if t.v6 {
            rebuild_v6(&mut self.out, t.header.len(), frag.proto, t.data.len());
        } else {
            rebuild_v4(&mut self.out, t.header.len());
        }
        Some(&self.out)
    }

    fn drop_tracker(&mut self, key: &Key) {
        if let Some(t) = self.trackers.remove(key) {
            self.bytes = self.bytes.saturating_sub(t.bytes());
        }
    }
}

fn copy_range(data: &mut [u8], payload: &[u8], start: u32, from: u32, to: u32) {
    let src = payload.get((from - start) as usize..(to - start) as usize);
    let dst = data.get_mut(from as usize..to as usize);
    if let (Some(s), Some(d)) = (src, dst) {
        d.copy_from_slice(s);
    }
}

fn insert_range(have: &mut Vec<(u32, u32)>, start: u32, end: u32) {
    have.push((start, end));
    have.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(have.len());
    for &(s, e) in have.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *have = merged;
}

fn rebuild_v4(out: &mut [u8], hlen: usize) {
    let total = out.len().min(65_535) as u16;
    if let Some(b) = out.get_mut(2..4) {
        b.copy_from_slice(&total.to_be_bytes());
    }
    // Clear MF and the offset, keep DF.
    if let Some(b) = out.get_mut(6) {
        *b &= 0x40;
    }
    if let Some(b) = out.get_mut(7) {
        *b = 0;
    }
    if let Some(b) = out.get_mut(10..12) {
        b.copy_from_slice(&[0, 0]);
    }
    let c = checksum::compute(0, out.get(..hlen).unwrap_or(&[]));
    if let Some(b) = out.get_mut(10..12) {
        b.copy_from_slice(&c.to_be_bytes());
    }
}

fn rebuild_v6(out: &mut [u8], unfrag_len: usize, proto: u8, data_len: usize) {
    let plen = (unfrag_len - 40 + data_len).min(65_535) as u16;
    if let Some(b) = out.get_mut(4..6) {
        b.copy_from_slice(&plen.to_be_bytes());
    }
    // The header before the fragment header named it (44) as next; point it at the payload.
    let mut nh_at = 6usize;
    let mut off = 40usize;
    while off < unfrag_len {
        let Some(&len) = out.get(off + 1) else { break };
        let next = out.get(nh_at).copied().unwrap_or(0);
        let hlen = if next == 51 {
            (usize::from(len) + 2) * 4
        } else {
            (usize::from(len) + 1) * 8
        };
        nh_at = off;
        off += hlen;
    }
    if let Some(b) = out.get_mut(nh_at) {
        *b = proto;
    }
}

/// The fragment facts of a decoded packet, re-exported for callers.
pub type FragmentInfo = Fragment;

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_decode::{decode, decode_ip, DecodeConfig, L4};
    use vedette_types::LinkType;

    fn v4_fragment(id: u16, offset: u16, more: bool, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p[4..6].copy_from_slice(&id.to_be_bytes());
        let fo = (offset / 8) | if more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&fo.to_be_bytes());
        let c = checksum::compute(0, &p);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    fn udp_datagram(body: &[u8]) -> Vec<u8> {
        let len = (8 + body.len()) as u16;
        let mut u = vec![0x04, 0xd2, 0, 53, 0, 0, 0, 0];
        u[4..6].copy_from_slice(&len.to_be_bytes());
        u.extend_from_slice(body);
        let pseudo = checksum::pseudo_v4(&[10, 0, 0, 1], &[10, 0, 0, 2], 17, u.len());
        let c = checksum::compute(pseudo, &u);
        u[6..8].copy_from_slice(&c.to_be_bytes());
        u
    }

    #[test]
    fn out_of_order_fragments_reassemble_to_a_checked_udp_datagram() {
        let udp = udp_datagram(&[7u8; 40]);
        let (a, b) = udp.split_at(24);
        let f1 = v4_fragment(9, 0, true, a);
        let f2 = v4_fragment(9, 24, false, b);
        let cfg = DecodeConfig::default();
        let mut df = Defragmenter::new(DefragConfig::default());
        let mut ev = Events::default();
        let d2 = decode(LinkType::RAW, &f2, &cfg);
        assert!(df.insert(Timestamp(0), &d2, &f2, &mut ev).is_none());
        let d1 = decode(LinkType::RAW, &f1, &cfg);
        let out = df
            .insert(Timestamp(1), &d1, &f1, &mut ev)
            .expect("complete")
            .to_vec();
        let r = decode_ip(&out, &d1, &cfg);
        assert!(r.fragment.is_none());
        assert!(matches!(r.l4, L4::Udp(_)));
        assert_eq!(r.ports(), (1234, 53));
        assert_eq!(r.payload, &[7u8; 40]);
        assert!(!r.checksum_errors.ipv4 && !r.checksum_errors.l4);
        assert!(ev.is_empty());
        assert_eq!(df.pending(), 0);
        assert_eq!(df.stats().reassembled, 1);
    }

    /// An IPv6 fragment with a hop-by-hop header before the fragment header.
    fn v6_fragment(id: u32, offset: u16, more: bool, data: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0, 0, 0, 0 /* hop-by-hop */, 64];
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
        let offmf = (offset / 8) << 3 | u16::from(more);
        p.extend_from_slice(&[17, 0]);
        p.extend_from_slice(&offmf.to_be_bytes());
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(data);
        let plen = (p.len() - 40) as u16;
        p[4..6].copy_from_slice(&plen.to_be_bytes());
        p
    }

    #[test]
    fn ipv6_fragments_reassemble_behind_extension_headers() {
        let body = [9u8; 30];
        let mut udp = vec![0x13, 0x88, 0, 53, 0, 38, 0, 0];
        udp.extend_from_slice(&body);
        let src = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let dst = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let c = checksum::compute(checksum::pseudo_v6(&src, &dst, 17, udp.len()), &udp);
        udp[6..8].copy_from_slice(&c.to_be_bytes());
        let (a, b) = udp.split_at(16);
        let f1 = v6_fragment(77, 0, true, a);
        let f2 = v6_fragment(77, 16, false, b);
        let cfg = DecodeConfig::default();
        let mut df = Defragmenter::new(DefragConfig::default());
        let mut ev = Events::default();
        let d1 = decode(LinkType::IPV6, &f1, &cfg);
        assert!(df.insert(Timestamp(0), &d1, &f1, &mut ev).is_none());
        let d2 = decode(LinkType::IPV6, &f2, &cfg);
        let out = df
            .insert(Timestamp(0), &d2, &f2, &mut ev)
            .expect("complete")
            .to_vec();
        let r = decode_ip(&out, &d2, &cfg);
        assert!(r.fragment.is_none());
        assert_eq!(r.ports(), (5000, 53));
        assert_eq!(r.payload, &body);
        assert!(
            !r.checksum_errors.l4,
            "checksum over the reassembled datagram must verify"
        );
        assert!(ev.is_empty(), "{ev:?}");
    }

    #[test]
    fn overlap_with_different_data_is_reported_and_first_wins() {
        let cfg = DecodeConfig::default();
        let mut df = Defragmenter::new(DefragConfig::default());
        let mut ev = Events::default();
        let f1 = v4_fragment(1, 0, true, &[1u8; 16]);
        let f2 = v4_fragment(1, 8, false, &[2u8; 16]);
        let d1 = decode(LinkType::RAW, &f1, &cfg);
        df.insert(Timestamp(0), &d1, &f1, &mut ev);
        let d2 = decode(LinkType::RAW, &f2, &cfg);
        let out = df
            .insert(Timestamp(0), &d2, &f2, &mut ev)
            .expect("complete")
            .to_vec();
        assert_eq!(&out[20..36], &[1u8; 16]);
        assert_eq!(&out[36..44], &[2u8; 8]);
        assert_eq!(ev.as_slice(), &[DecodeEvent::Ipv4FragOverlap]);
    }

    #[test]
    fn caps_and_timeouts_bound_memory() {
        let cfg = DecodeConfig::default();
        let mut df = Defragmenter::new(DefragConfig {
            max_trackers: 10,
            ..DefragConfig::default()
        });
        let mut ev = Events::default();
        for id in 0..100u16 {
            let f = v4_fragment(id, 0, true, &[0u8; 64]);
            let d = decode(LinkType::RAW, &f, &cfg);
            df.insert(Timestamp(0), &d, &f, &mut ev);
        }
        assert_eq!(df.pending(), 10);
        assert_eq!(df.stats().tracker_cap_hits, 90);
        df.expire(Timestamp::from_secs(61));
        assert_eq!(df.pending(), 0);
        assert_eq!(df.stats().timeouts, 10);
        assert_eq!(df.bytes, 0);
        // A fragment claiming data past 64 KiB is refused.
        let f = v4_fragment(7, 65_528, false, &[0u8; 16]);
        let d = decode(LinkType::RAW, &f, &cfg);
        assert!(df.insert(Timestamp(0), &d, &f, &mut ev).is_none());
        assert_eq!(ev.as_slice(), &[DecodeEvent::Ipv4FragPktTooLarge]);
    }
}
