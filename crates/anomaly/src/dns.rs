//! DNS tunnelling: a client using names under one domain as a data channel.
//!
//! Three signs, per (client, registered domain) and window, checked in this order:
//! 1. many distinct long, random-looking names (encoded data in the labels);
//! 2. many TXT or NULL queries (the usual downstream record types of tunnel tools);
//! 3. very many distinct names, whatever they look like.
//!
//! The registered domain is the last two labels, or three when the second-level label is a
//! common public suffix part (`co.uk`, `com.au`): a heuristic, not the public suffix list.

use crate::config::{DetectorLimits as _, DnsTunnelConfig};
use crate::window::{CappedSet, WindowState, Windows};
use crate::{span_secs, Detection, Detector, DnsRecord};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use vedette_types::Timestamp;

/// Second-level labels that are part of a public suffix under a two-letter country code.
const SECOND_LEVEL: [&str; 10] = [
    "co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go",
];

/// Splits a lower-case name into (subdomain part, registered domain).
pub(crate) fn split_registered(name: &str) -> (&str, &str) {
    let name = name.trim_end_matches('.');
    let labels: Vec<&str> = name.rsplitn(4, '.').collect();
    let keep = match labels.as_slice() {
        [tld, sld, _, ..] if tld.len() == 2 && SECOND_LEVEL.contains(sld) => 3,
        _ => 2,
    };
    // Byte offset where the registered domain starts.
    let mut dots = 0;
    for (i, b) in name.bytes().enumerate().rev() {
        if b == b'.' {
            dots += 1;
            if dots == keep {
                return (
                    name.get(..i).unwrap_or(""),
                    name.get(i + 1..).unwrap_or(name),
                );
            }
        }
    }
    ("", name)
}

/// Shannon entropy in bits per character of `s` without dots.
pub(crate) fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes().filter(|&b| b != b'.') {
        if let Some(c) = counts.get_mut(usize::from(b)) {
            *c += 1;
        }
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn name_hash(s: &str) -> u64 {
    // Fixed keys: the same capture gives the same counts; a crafted collision only undercounts.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

#[derive(Default)]
pub(crate) struct Lookups {
    queries: u64,
    encoded: CappedSet<u64>,
    names: CappedSet<u64>,
    txt_null: u64,
    longest: usize,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    resolver: Option<IpAddr>,
}

impl WindowState for Lookups {
    fn is_empty(&self) -> bool {
        self.queries == 0
    }
}

type Key = (IpAddr, String);

struct Limits {
    encoded: usize,
    txt: u64,
    names: usize,
    sub_len: usize,
    entropy: f64,
    window_s: u64,
}

pub(crate) struct DnsTunnels {
    on: bool,
    lim: Limits,
    allow: Vec<String>,
    w: Windows<Key, Lookups>,
}

impl DnsTunnels {
    pub(crate) fn new(c: &DnsTunnelConfig) -> Self {
        DnsTunnels {
            on: c.enabled,
            lim: Limits {
                encoded: c.min_encoded_names as usize,
                txt: u64::from(c.min_txt_null),
                names: c.min_distinct_names as usize,
                sub_len: c.min_subdomain_len as usize,
                entropy: c.min_entropy,
                window_s: c.window_secs,
            },
            allow: c
                .allow_domains
                .iter()
                .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                .collect(),
            w: Windows::new(c.window_secs, c.max_tracked()),
        }
    }

    pub(crate) fn cap_hits(&self) -> u64 {
        self.w.cap_hits
    }

    pub(crate) fn suppressed(&self) -> u64 {
        self.w.suppressed
    }

    fn allowed(&self, name: &str) -> bool {
        self.allow.iter().any(|d| {
            name == d
                || (name.len() > d.len()
                    && name.ends_with(d.as_str())
                    && name.as_bytes().get(name.len() - d.len() - 1) == Some(&b'.'))
        })
    }

    fn judge(l: &Limits) -> impl FnMut(&Key, Timestamp, &Lookups) -> Option<Detection> + '_ {
        move |(client, domain), start, s| {
            let span = match (s.first, s.last) {
                (Some(a), Some(b)) => span_secs(a, b),
                _ => 0.0,
            };
            let w = l.window_s;
            let (variant, explain) = if s.encoded.len() >= l.encoded {
                (
                    0,
                    format!(
                        "{} distinct names under {domain} with a part of >= {} chars and entropy >= {:.1} bits/char (longest {}) in {span:.1} s >= {} in {w} s",
                        s.encoded.count_text(),
                        l.sub_len,
                        l.entropy,
                        s.longest,
                        l.encoded
                    ),
                )
            } else if s.txt_null >= l.txt {
                (
                    1,
                    format!(
                        "{} TXT/NULL queries under {domain} in {span:.1} s >= {} in {w} s",
                        s.txt_null, l.txt
                    ),
                )
            } else if s.names.len() >= l.names {
                (
                    2,
                    format!(
                        "{} distinct names under {domain} ({} queries) in {span:.1} s >= {} in {w} s",
                        s.names.count_text(),
                        s.queries,
                        l.names
                    ),
                )
            } else {
                return None;
            };
            Some(Detection {
                detector: Detector::DnsTunnel,
                variant,
                ts: start,
                src_ip: *client,
                dst_ip: s.resolver.unwrap_or(*client),
                src_port: 0,
                dst_port: 53,
                proto: vedette_types::ip_proto::UDP,
                signature: format!("VEDETTE ANOMALY possible DNS tunnel via {domain}"),
                explain,
            })
        }
    }

    pub(crate) fn on_query(&mut self, q: &DnsRecord, sup: i64, out: &mut Vec<Detection>) {
        if !self.on {
            return;
        }
        let name = q.rrname.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() || self.allowed(&name) {
            return;
        }
        let (sub, domain) = split_registered(&name);
        let encoded = sub.len() >= self.lim.sub_len && entropy(sub) >= self.lim.entropy;
        let txt = matches!(q.rrtype.as_str(), "TXT" | "NULL" | "16" | "10");
        let cap_e = self.lim.encoded.saturating_mul(4);
        let cap_n = self.lim.names.saturating_mul(4);
        let h = name_hash(&name);
        let sub_len = sub.len();
        self.w.observe(
            (q.src_ip, domain.to_owned()),
            q.ts,
            sup,
            |s| {
                s.queries += 1;
                if encoded {
                    s.encoded.insert(h, cap_e);
                }
                if txt {
                    s.txt_null += 1;
                }
                s.names.insert(h, cap_n);
                s.longest = s.longest.max(sub_len);
                s.first = Some(s.first.map_or(q.ts, |t| t.min(q.ts)));
                s.last = Some(s.last.map_or(q.ts, |t| t.max(q.ts)));
                s.resolver.get_or_insert(q.dst_ip);
            },
            Self::judge(&self.lim),
            out,
        );
    }

    pub(crate) fn sweep(&mut self, cutoff: Timestamp, sup: i64, out: &mut Vec<Detection>) {
        self.w.sweep(cutoff, sup, Self::judge(&self.lim), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use crate::*;

    #[test]
    fn registered_domain_and_entropy() {
        assert_eq!(split_registered("a.b.example.com"), ("a.b", "example.com"));
        assert_eq!(split_registered("example.com."), ("", "example.com"));
        assert_eq!(split_registered("x.bbc.co.uk"), ("x", "bbc.co.uk"));
        assert_eq!(split_registered("localhost"), ("", "localhost"));
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }

    fn encoded(i: u32) -> String {
        // 32 base32-looking characters that differ per query.
        let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
        let mut x = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let s: String = (0..32)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % 32) as usize] as char
            })
            .collect();
        format!("{s}.t.evil-tunnel.com")
    }

    #[test]
    fn encoded_names_fire_at_threshold() {
        for (n, expect) in [(19u32, 0usize), (20, 1)] {
            let mut e = engine();
            for i in 0..n {
                e.on_dns(&query("10.0.0.5", &encoded(i), "A", i64::from(i) * 100));
            }
            e.finish();
            let d = of(&e.drain(), Detector::DnsTunnel);
            assert_eq!(d.len(), expect, "{n}");
            if let Some(d) = d.first() {
                assert_eq!(d.sid(), 9_000_600);
                assert!(d.explain.contains("under evil-tunnel.com"), "{}", d.explain);
            }
        }
    }

    #[test]
    fn txt_volume_and_name_volume() {
        let mut e = engine();
        for i in 0..50i64 {
            e.on_dns(&query("10.0.0.6", "cmd.example.net", "TXT", i * 100));
        }
        for i in 0..300i64 {
            e.on_dns(&query(
                "10.0.0.7",
                &format!("host{i}.example.org"),
                "A",
                i * 100,
            ));
        }
        // Reverse lookups are allowlisted by default.
        for i in 0..400i64 {
            e.on_dns(&query(
                "10.0.0.8",
                &format!("{i}.1.168.192.in-addr.arpa"),
                "PTR",
                i * 10,
            ));
        }
        e.finish();
        let d = of(&e.drain(), Detector::DnsTunnel);
        let sids: Vec<u32> = d.iter().map(|d| d.sid()).collect();
        assert_eq!(sids.len(), 2, "{d:?}");
        assert!(sids.contains(&9_000_601) && sids.contains(&9_000_602));
    }

    #[test]
    fn ordinary_lookups_do_not_fire() {
        let mut e = engine();
        for i in 0..200i64 {
            let name = ["www.example.com", "api.example.com", "cdn.example.com"][(i % 3) as usize];
            e.on_dns(&query("10.0.0.5", name, "A", i * 100));
        }
        e.finish();
        assert!(e.drain().is_empty());
    }
}
