//! Community ID flow hashing, version 1 (the `community_id` EVE field shared with Zeek and others).

use crate::key::addr_bytes;
use base64::Engine as _;
use sha1::{Digest, Sha1};
use std::net::IpAddr;
use vedette_types::ip_proto;

/// ICMP type pairs that form two-way exchanges (request, reply), per the Community ID spec.
fn icmp4_counterpart(t: u8) -> Option<u8> {
    Some(match t {
        8 => 0,
        0 => 8,
        13 => 14,
        14 => 13,
        15 => 16,
        16 => 15,
        10 => 9,
        9 => 10,
        17 => 18,
        18 => 17,
        _ => return None,
    })
}

fn icmp6_counterpart(t: u8) -> Option<u8> {
    Some(match t {
        128 => 129,
        129 => 128,
        133 => 134,
        134 => 133,
        135 => 136,
        136 => 135,
        130 => 131,
        131 => 130,
        144 => 145,
        145 => 144,
        139 => 140,
        140 => 139,
        _ => return None,
    })
}

/// Computes `1:<base64 sha1>` for a flow seen from `src` to `dst`. For ICMP, `sport`/`dport`
/// carry the type and code of the first packet.
pub fn community_id_v1(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
) -> String {
    let (mut sport, mut dport) = (sport, dport);
    let mut one_way = false;
    if proto == ip_proto::ICMP || proto == ip_proto::ICMPV6 {
        let t = sport as u8;
        let counterpart = if proto == ip_proto::ICMP {
            icmp4_counterpart(t)
        } else {
            icmp6_counterpart(t)
        };
        match counterpart {
            Some(c) => dport = u16::from(c),
            None => one_way = true,
        }
        sport = u16::from(t);
    }
    let (s, v6) = addr_bytes(src);
    let (d, _) = addr_bytes(dst);
    let alen = if v6 { 16 } else { 4 };
    let (sa, da) = (&s[..alen], &d[..alen]);
    let ordered = one_way || (sa, sport) < (da, dport);
    let (a1, p1, a2, p2) = if ordered {
        (sa, sport, da, dport)
    } else {
        (da, dport, sa, sport)
    };
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(a1);
    h.update(a2);
    h.update([proto, 0]);
    h.update(p1.to_be_bytes());
    h.update(p2.to_be_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(30);
    out.push_str("1:");
    base64::engine::general_purpose::STANDARD.encode_string(digest, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_suricata_verify_community_id_ipv4() {
        // From the public suricata-verify test community-id-ipv4 (its config sets seed 7).
        let id = community_id_v1(
            7,
            "172.26.0.39".parse().unwrap(),
            "172.217.14.206".parse().unwrap(),
            35958,
            443,
            6,
        );
        assert_eq!(id, "1:IwiTNfuO7aCaamMijl+7/X9uLx0=");
        // Direction does not matter.
        let rev = community_id_v1(
            7,
            "172.217.14.206".parse().unwrap(),
            "172.26.0.39".parse().unwrap(),
            443,
            35958,
            6,
        );
        assert_eq!(id, rev);
    }

    #[test]
    fn icmp_echo_request_and_reply_share_an_id() {
        let a: IpAddr = "192.168.0.89".parse().unwrap();
        let b: IpAddr = "192.168.0.1".parse().unwrap();
        let req = community_id_v1(0, a, b, 8, 0, 1);
        let rep = community_id_v1(0, b, a, 0, 0, 1);
        assert_eq!(req, rep);
        // Spec test vector (icmp echo 192.168.0.89 -> 192.168.0.1).
        assert_eq!(req, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    }
}
