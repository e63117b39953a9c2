//! `xbits`: named bits kept per host or host pair across flows, each with an expiry in packet
//! time. One table per worker, capped (`detect.max_threshold_entries` keys); when full, expired
//! entries are purged and, if none were, the set is dropped and counted.

use hashbrown::HashMap;
use std::net::IpAddr;
use vedette_rules::ast::{XbitCmd, XbitTrack};
use vedette_types::Timestamp;

/// One compiled `xbits` option.
#[derive(Clone, Copy, Debug)]
pub(crate) struct XbitOp {
    pub cmd: XbitCmd,
    /// Interned bit name.
    pub id: u32,
    pub track: XbitTrack,
    /// Lifetime of a set bit, ns.
    pub expire_ns: i64,
}

impl XbitOp {
    /// Whether this option only reads bits (a condition of the rule).
    pub fn is_check(&self) -> bool {
        matches!(self.cmd, XbitCmd::IsSet | XbitCmd::IsNotSet)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Host(IpAddr),
    /// Both addresses, smaller first, so either direction finds the same bits.
    Pair(IpAddr, IpAddr),
}

fn key(track: XbitTrack, src: IpAddr, dst: IpAddr) -> Key {
    match track {
        XbitTrack::IpSrc => Key::Host(src),
        XbitTrack::IpDst => Key::Host(dst),
        XbitTrack::IpPair => Key::Pair(src.min(dst), src.max(dst)),
    }
}

/// The per-worker xbits table.
pub(crate) struct XbitTable {
    /// Per key: (bit id, expiry ns).
    map: HashMap<Key, Vec<(u32, i64)>>,
    cap: usize,
    /// Sets dropped because the table was full.
    pub full: u64,
}

impl XbitTable {
    /// An empty table holding at most `cap` keys.
    pub fn new(cap: usize) -> Self {
        XbitTable {
            map: HashMap::new(),
            cap,
            full: 0,
        }
    }

    /// Whether `op`'s condition holds for a packet from `src` to `dst` at `now`.
    pub fn check(&self, op: &XbitOp, src: IpAddr, dst: IpAddr, now: Timestamp) -> bool {
        let set = self
            .map
            .get(&key(op.track, src, dst))
            .is_some_and(|v| v.iter().any(|&(id, exp)| id == op.id && exp > now.0));
        match op.cmd {
            XbitCmd::IsSet => set,
            XbitCmd::IsNotSet => !set,
            _ => true,
        }
    }

    /// Applies a set/unset/toggle for a packet from `src` to `dst` at `now`.
    pub fn apply(&mut self, op: &XbitOp, src: IpAddr, dst: IpAddr, now: Timestamp) {
        let k = key(op.track, src, dst);
        let expires = now.0.saturating_add(op.expire_ns);
        let live = |v: &Vec<(u32, i64)>| v.iter().any(|&(id, exp)| id == op.id && exp > now.0);
        let set = match op.cmd {
            XbitCmd::Set => true,
            XbitCmd::Toggle => !self.map.get(&k).is_some_and(live),
            XbitCmd::Unset => false,
            XbitCmd::IsSet | XbitCmd::IsNotSet => return,
        };
        if !set {
            if let Some(v) = self.map.get_mut(&k) {
                v.retain(|&(id, _)| id != op.id);
                if v.is_empty() {
                    self.map.remove(&k);
                }
            }
            return;
        }
        if !self.map.contains_key(&k) && self.map.len() >= self.cap {
            // Make room from expired bits before giving up.
            self.map.retain(|_, v| {
                v.retain(|&(_, exp)| exp > now.0);
                !v.is_empty()
            });
            if self.map.len() >= self.cap {
                self.full += 1;
                return;
            }
        }
        let v = self.map.entry(k).or_default();
        match v.iter_mut().find(|(id, _)| *id == op.id) {
            Some(e) => e.1 = expires,
            None => v.push((op.id, expires)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(cmd: XbitCmd, track: XbitTrack) -> XbitOp {
        XbitOp {
            cmd,
            id: 3,
            track,
            expire_ns: 10_000_000_000,
        }
    }

    #[test]
    fn set_expires_and_tracks_the_right_host() {
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            "10.0.0.3".parse().unwrap(),
        );
        let t0 = Timestamp::from_secs(100);
        let mut t = XbitTable::new(16);
        t.apply(&op(XbitCmd::Set, XbitTrack::IpSrc), a, b, t0);
        let isset = op(XbitCmd::IsSet, XbitTrack::IpSrc);
        // Another flow from the same source to another server sees it...
        assert!(t.check(&isset, a, c, Timestamp::from_secs(105)));
        // ...not the server as source, and not after expiry.
        assert!(!t.check(&isset, b, a, Timestamp::from_secs(105)));
        assert!(!t.check(&isset, a, c, Timestamp::from_secs(111)));
        assert!(t.check(
            &op(XbitCmd::IsNotSet, XbitTrack::IpSrc),
            a,
            c,
            Timestamp::from_secs(111)
        ));
        // A pair is found from either side; unset and toggle.
        let pair = op(XbitCmd::Set, XbitTrack::IpPair);
        t.apply(&pair, a, b, t0);
        assert!(t.check(&op(XbitCmd::IsSet, XbitTrack::IpPair), b, a, t0));
        t.apply(&op(XbitCmd::Unset, XbitTrack::IpPair), b, a, t0);
        assert!(!t.check(&op(XbitCmd::IsSet, XbitTrack::IpPair), a, b, t0));
        t.apply(&op(XbitCmd::Toggle, XbitTrack::IpDst), c, b, t0);
        assert!(t.check(&op(XbitCmd::IsSet, XbitTrack::IpDst), a, b, t0));
        t.apply(&op(XbitCmd::Toggle, XbitTrack::IpDst), c, b, t0);
        assert!(!t.check(&op(XbitCmd::IsSet, XbitTrack::IpDst), a, b, t0));
    }

    #[test]
    fn full_table_purges_expired_then_counts() {
        let mut t = XbitTable::new(2);
        let set = op(XbitCmd::Set, XbitTrack::IpSrc);
        let ip = |i: u8| IpAddr::from([10, 0, 0, i]);
        let t0 = Timestamp::from_secs(0);
        t.apply(&set, ip(1), ip(9), t0);
        t.apply(&set, ip(2), ip(9), t0);
        t.apply(&set, ip(3), ip(9), t0);
        assert_eq!(t.full, 1);
        // Once the first two expired, a new host fits.
        t.apply(&set, ip(3), ip(9), Timestamp::from_secs(20));
        assert_eq!(t.full, 1);
        assert!(t.check(
            &op(XbitCmd::IsSet, XbitTrack::IpSrc),
            ip(3),
            ip(9),
            Timestamp::from_secs(21)
        ));
    }
}
