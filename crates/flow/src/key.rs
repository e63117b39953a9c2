//! Flow keys: a direction-independent key (both directions of a flow map to the same key).

use std::net::IpAddr;

/// Bytes of an address in a 16-byte array (IPv4 in the first four), plus its family.
pub(crate) fn addr_bytes(ip: IpAddr) -> ([u8; 16], bool) {
    match ip {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            (b, false)
        }
        IpAddr::V6(a) => (a.octets(), true),
    }
}

/// Direction-independent flow key: the lower (address, port) endpoint first, plus protocol and
/// VLAN ids. ICMP flows that are not errors use ports 0, so requests and replies share a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo_addr: [u8; 16],
    hi_addr: [u8; 16],
    lo_port: u16,
    hi_port: u16,
    proto: u8,
    v6: bool,
    vlan: [u16; 3],
}

impl FlowKey {
    /// Builds the key of a packet from `src:sport` to `dst:dport`.
    /// Returns the key and whether the packet's source is the key's "low" endpoint.
    pub fn new(
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        proto: u8,
        vlan: [u16; 3],
    ) -> (FlowKey, bool) {
        let (s, v6) = addr_bytes(src);
        let (d, _) = addr_bytes(dst);
        let src_is_lo = (s, sport) <= (d, dport);
        let key = if src_is_lo {
            FlowKey {
                lo_addr: s,
                hi_addr: d,
                lo_port: sport,
                hi_port: dport,
                proto,
                v6,
                vlan,
            }
        } else {
            FlowKey {
                lo_addr: d,
                hi_addr: s,
                lo_port: dport,
                hi_port: sport,
                proto,
                v6,
                vlan,
            }
        };
        (key, src_is_lo)
    }

    /// A 64-bit digest of the key (for flow ids and sharding).
    pub fn digest(&self) -> u64 {
        let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
        for chunk in self.lo_addr.chunks(8).chain(self.hi_addr.chunks(8)) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            h = vedette_decode::mix64(h ^ u64::from_le_bytes(w));
        }
        let tail = u64::from(self.lo_port)
            | u64::from(self.hi_port) << 16
            | u64::from(self.proto) << 32
            | u64::from(self.v6) << 40;
        let vl =
            u64::from(self.vlan[0]) | u64::from(self.vlan[1]) << 16 | u64::from(self.vlan[2]) << 32;
        vedette_decode::mix64(vedette_decode::mix64(h ^ tail) ^ vl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_give_one_key() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let (k1, lo1) = FlowKey::new(a, 1000, b, 80, 6, [0; 3]);
        let (k2, lo2) = FlowKey::new(b, 80, a, 1000, 6, [0; 3]);
        assert_eq!(k1, k2);
        assert_ne!(lo1, lo2);
        assert_eq!(k1.digest(), k2.digest());
        let (k3, _) = FlowKey::new(a, 1000, b, 80, 6, [5, 0, 0]);
        assert_ne!(k1, k3);
        // Same host pair, swapped ports, is another flow.
        let (k4, _) = FlowKey::new(a, 80, b, 1000, 6, [0; 3]);
        assert_ne!(k1, k4);
    }
}
