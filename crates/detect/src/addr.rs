//! Address and port sets of rule headers: `AddrSpec`/`PortSpec` (with variables resolved) turned
//! into sorted, disjoint ranges, so matching a packet is a short binary search.

use std::net::IpAddr;

use hashbrown::HashMap;
use vedette_rules::ast::{AddrSpec, PortSpec};

use crate::CompileError;

/// Deepest variable nesting followed (`$A` → `[$B]` → ...); deeper is taken as a loop.
const MAX_VAR_DEPTH: usize = 16;

/// A set of IP addresses: IPv4 and IPv6 ranges kept apart, each sorted and disjoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    any: bool,
}

impl IpSet {
    /// Every address.
    pub fn any() -> Self {
        IpSet {
            v4: vec![(0, u32::MAX)],
            v6: vec![(0, u128::MAX)],
            any: true,
        }
    }

    /// True for the set of all addresses (checked first when matching).
    pub fn is_any(&self) -> bool {
        self.any
    }

    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if self.any {
            return true;
        }
        match ip {
            IpAddr::V4(a) => in_ranges(&self.v4, u32::from(a)),
            IpAddr::V6(a) => in_ranges(&self.v6, u128::from(a)),
        }
    }

    /// The addresses, when the set holds at most `max` of them (IP reputation lists).
    pub fn few(&self, max: usize) -> Option<Vec<IpAddr>> {
        if self.any {
            return None;
        }
        let mut n: u128 = 0;
        for (a, b) in &self.v4 {
            n += u128::from(b - a) + 1;
        }
        for (a, b) in &self.v6 {
            n = n.saturating_add((b - a).saturating_add(1));
        }
        if n > max as u128 {
            return None;
        }
        let v4 = self
            .v4
            .iter()
            .flat_map(|&(a, b)| (a..=b).map(|x| IpAddr::V4(x.into())));
        let v6 = self
            .v6
            .iter()
            .flat_map(|&(a, b)| (a..=b).map(|x| IpAddr::V6(x.into())));
        Some(v4.chain(v6).collect())
    }

    fn from_ranges(mut v4: Vec<(u32, u32)>, mut v6: Vec<(u128, u128)>) -> Self {
        normalise(&mut v4);
        normalise(&mut v6);
        let any = v4 == [(0, u32::MAX)] && v6 == [(0, u128::MAX)];
        IpSet { v4, v6, any }
    }

    fn union(&self, o: &IpSet) -> IpSet {
        let mut v4 = self.v4.clone();
        v4.extend_from_slice(&o.v4);
        let mut v6 = self.v6.clone();
        v6.extend_from_slice(&o.v6);
        IpSet::from_ranges(v4, v6)
    }

    fn complement(&self) -> IpSet {
        IpSet::from_ranges(
            complement(&self.v4, u32::MAX),
            complement(&self.v6, u128::MAX),
        )
    }

    fn minus(&self, o: &IpSet) -> IpSet {
        // a \ b = ¬(¬a ∪ b)
        self.complement().union(o).complement()
    }

    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// A set of ports as sorted, disjoint ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
    any: bool,
}

impl PortSet {
    /// Every port.
    pub fn any() -> Self {
        PortSet {
            ranges: vec![(0, u16::MAX)],
            any: true,
        }
    }

    /// True for all ports.
    pub fn is_any(&self) -> bool {
        self.any
    }

    /// Whether `p` is in the set.
    pub fn contains(&self, p: u16) -> bool {
        self.any || in_ranges(&self.ranges, p)
    }

    /// The ports, when there are at most `max` of them.
    pub fn few(&self, max: usize) -> Option<Vec<u16>> {
        let mut n = 0usize;
        for (a, b) in &self.ranges {
            n += usize::from(b - a) + 1;
            if n > max {
                return None;
            }
        }
        Some(self.ranges.iter().flat_map(|&(a, b)| a..=b).collect())
    }

    fn from_ranges(mut ranges: Vec<(u16, u16)>) -> Self {
        normalise(&mut ranges);
        let any = ranges == [(0, u16::MAX)];
        PortSet { ranges, any }
    }
}

fn in_ranges<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    let i = ranges.partition_point(|r| r.1 < x);
    ranges.get(i).is_some_and(|r| r.0 <= x)
}

/// Sorts and merges overlapping or adjacent ranges.
fn normalise<T: Ord + Copy + Bounded>(v: &mut Vec<(T, T)>) {
    v.retain(|r| r.0 <= r.1);
    v.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
    for &(a, b) in v.iter() {
        match out.last_mut() {
            Some(last) if a <= last.1 || last.1.succ() == Some(a) => {
                if b > last.1 {
                    last.1 = b;
                }
            }
            _ => out.push((a, b)),
        }
    }
    *v = out;
}

fn complement<T: Ord + Copy + Bounded>(v: &[(T, T)], max: T) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let mut next = Some(T::ZERO);
    for &(a, b) in v {
        if let Some(n) = next {
            if a > n {
                if let Some(p) = a.pred() {
                    out.push((n, p));
                }
            }
        }
        next = b.succ();
    }
    if let Some(n) = next {
        if n <= max {
            out.push((n, max));
        }
    }
    out
}

/// Integer types used as range bounds.
trait Bounded: Sized {
    const ZERO: Self;
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
}

macro_rules! bounded {
    ($($t:ty),*) => {$(
        impl Bounded for $t {
            const ZERO: Self = 0;
            fn succ(self) -> Option<Self> { self.checked_add(1) }
            fn pred(self) -> Option<Self> { self.checked_sub(1) }
        }
    )*};
}
bounded!(u16, u32, u128);

/// Address and port variables (`HOME_NET`, `HTTP_PORTS`, ...), parsed.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    /// Address groups by name (without `$`).
    pub addrs: HashMap<String, AddrSpec>,
    /// Port groups by name.
    pub ports: HashMap<String, PortSpec>,
}

impl Vars {
    /// Suricata's default address and port groups.
    pub fn suricata_defaults() -> Self {
        let mut v = Vars::default();
        let addrs = [
            ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
            ("EXTERNAL_NET", "!$HOME_NET"),
            ("HTTP_SERVERS", "$HOME_NET"),
            ("SMTP_SERVERS", "$HOME_NET"),
            ("SQL_SERVERS", "$HOME_NET"),
            ("DNS_SERVERS", "$HOME_NET"),
            ("TELNET_SERVERS", "$HOME_NET"),
            ("AIM_SERVERS", "$EXTERNAL_NET"),
            ("DC_SERVERS", "$HOME_NET"),
            ("DNP3_SERVER", "$HOME_NET"),
            ("DNP3_CLIENT", "$HOME_NET"),
            ("MODBUS_CLIENT", "$HOME_NET"),
            ("MODBUS_SERVER", "$HOME_NET"),
            ("ENIP_CLIENT", "$HOME_NET"),
            ("ENIP_SERVER", "$HOME_NET"),
        ];
        let ports = [
            ("HTTP_PORTS", "80"),
            ("SHELLCODE_PORTS", "!80"),
            ("ORACLE_PORTS", "1521"),
            ("SSH_PORTS", "22"),
            ("DNP3_PORTS", "20000"),
            ("MODBUS_PORTS", "502"),
            ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
            ("FTP_PORTS", "21"),
            ("GENEVE_PORTS", "6081"),
            ("VXLAN_PORTS", "4789"),
            ("TEREDO_PORTS", "3544"),
        ];
        for (k, s) in addrs {
            if let Ok(a) = vedette_rules::parse_addr(s) {
                v.addrs.insert(k.to_string(), a);
            }
        }
        for (k, s) in ports {
            if let Ok(p) = vedette_rules::parse_ports(s) {
                v.ports.insert(k.to_string(), p);
            }
        }
        v
    }
}

/// Resolves an address expression into a set.
pub fn ip_set(spec: &AddrSpec, vars: &Vars) -> Result<IpSet, CompileError> {
    let s = ip_set_depth(spec, vars, 0)?;
    if s.is_empty() {
        return Err(CompileError::Header("address set is empty".into()));
    }
    Ok(s)
}

fn ip_set_depth(spec: &AddrSpec, vars: &Vars, depth: usize) -> Result<IpSet, CompileError> {
    if depth > MAX_VAR_DEPTH {
        return Err(CompileError::Header(
            "address variables nest too deep (a loop?)".into(),
        ));
    }
    Ok(match spec {
        AddrSpec::Any => IpSet::any(),
        AddrSpec::Var(name) => {
            let v = vars
                .addrs
                .get(name)
                .ok_or_else(|| CompileError::Header(format!("unknown address variable ${name}")))?;
            ip_set_depth(v, vars, depth + 1)?
        }
        AddrSpec::Cidr(ip, prefix) => match ip {
            IpAddr::V4(a) => {
                let bits = u32::from(*a);
                let p = u32::from((*prefix).min(32));
                let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                IpSet::from_ranges(vec![(bits & mask, bits | !mask)], Vec::new())
            }
            IpAddr::V6(a) => {
                let bits = u128::from(*a);
                let p = u32::from((*prefix).min(128));
                let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                IpSet::from_ranges(Vec::new(), vec![(bits & mask, bits | !mask)])
            }
        },
        AddrSpec::Range(a, b) => match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                IpSet::from_ranges(vec![(u32::from(*a), u32::from(*b))], Vec::new())
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                IpSet::from_ranges(Vec::new(), vec![(u128::from(*a), u128::from(*b))])
            }
            _ => {
                return Err(CompileError::Header(
                    "address range mixes IPv4 and IPv6".into(),
                ))
            }
        },
        AddrSpec::Not(inner) => ip_set_depth(inner, vars, depth + 1)?.complement(),
        AddrSpec::List(items) => {
            // As Suricata: the union of the positive items, minus every negated item; a list of
            // only negations means "anything but".
            let mut pos: Option<IpSet> = None;
            let mut neg = IpSet::default();
            for it in items {
                match it {
                    AddrSpec::Not(inner) => {
                        neg = neg.union(&ip_set_depth(inner, vars, depth + 1)?);
                    }
                    other => {
                        let s = ip_set_depth(other, vars, depth + 1)?;
                        pos = Some(match pos {
                            Some(p) => p.union(&s),
                            None => s,
                        });
                    }
                }
            }
            pos.unwrap_or_else(IpSet::any).minus(&neg)
        }
    })
}

/// Resolves a port expression into a set.
pub fn port_set(spec: &PortSpec, vars: &Vars) -> Result<PortSet, CompileError> {
    let s = port_set_depth(spec, vars, 0)?;
    if s.ranges.is_empty() {
        return Err(CompileError::Header("port set is empty".into()));
    }
    Ok(s)
}

fn port_set_depth(spec: &PortSpec, vars: &Vars, depth: usize) -> Result<PortSet, CompileError> {
    if depth > MAX_VAR_DEPTH {
        return Err(CompileError::Header(
            "port variables nest too deep (a loop?)".into(),
        ));
    }
    Ok(match spec {
        PortSpec::Any => PortSet::any(),
        PortSpec::Var(name) => {
            let v = vars
                .ports
                .get(name)
                .ok_or_else(|| CompileError::Header(format!("unknown port variable ${name}")))?;
            port_set_depth(v, vars, depth + 1)?
        }
        PortSpec::Range(a, b) => PortSet::from_ranges(vec![(*a, *b)]),
        PortSpec::Not(inner) => PortSet::from_ranges(complement(
            &port_set_depth(inner, vars, depth + 1)?.ranges,
            u16::MAX,
        )),
        PortSpec::List(items) => {
            let mut pos: Option<Vec<(u16, u16)>> = None;
            let mut neg = Vec::new();
            for it in items {
                match it {
                    PortSpec::Not(inner) => {
                        neg.extend(port_set_depth(inner, vars, depth + 1)?.ranges);
                    }
                    other => {
                        let s = port_set_depth(other, vars, depth + 1)?;
                        pos.get_or_insert_with(Vec::new).extend(s.ranges);
                    }
                }
            }
            let pos = PortSet::from_ranges(pos.unwrap_or_else(|| vec![(0, u16::MAX)]));
            let neg = PortSet::from_ranges(neg);
            // pos \ neg
            let mut not_pos = complement(&pos.ranges, u16::MAX);
            not_pos.extend(neg.ranges);
            let mut u = not_pos;
            normalise(&mut u);
            PortSet::from_ranges(complement(&u, u16::MAX))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_rules::{parse_addr, parse_ports};

    fn ips(s: &str) -> IpSet {
        ip_set(&parse_addr(s).unwrap(), &Vars::suricata_defaults()).unwrap()
    }

    fn ports(s: &str) -> PortSet {
        port_set(&parse_ports(s).unwrap(), &Vars::suricata_defaults()).unwrap()
    }

    #[test]
    fn home_and_external_net() {
        let home = ips("$HOME_NET");
        let ext = ips("$EXTERNAL_NET");
        for a in ["192.168.1.1", "10.9.8.7", "172.16.0.1", "172.31.255.255"] {
            let ip: IpAddr = a.parse().unwrap();
            assert!(home.contains(ip) && !ext.contains(ip), "{a}");
        }
        for a in ["8.8.8.8", "172.32.0.1", "2001:db8::1"] {
            let ip: IpAddr = a.parse().unwrap();
            assert!(!home.contains(ip) && ext.contains(ip), "{a}");
        }
    }

    #[test]
    fn lists_with_negation() {
        let s = ips("[10.0.0.0/8,!10.1.0.0/16]");
        assert!(s.contains("10.2.3.4".parse().unwrap()));
        assert!(!s.contains("10.1.3.4".parse().unwrap()));
        assert!(!s.contains("11.0.0.1".parse().unwrap()));
        let only_neg = ips("[!1.2.3.4]");
        assert!(only_neg.contains("1.2.3.5".parse().unwrap()));
        assert!(!only_neg.contains("1.2.3.4".parse().unwrap()));
        assert!(ips("any").is_any());
    }

    #[test]
    fn port_sets() {
        let p = ports("[1024:,!8080]");
        assert!(p.contains(1024) && p.contains(65535) && !p.contains(8080) && !p.contains(80));
        assert!(ports("!80").contains(81) && !ports("!80").contains(80));
        assert!(ports("$FILE_DATA_PORTS").contains(143));
        assert!(ports("any").is_any());
    }

    #[test]
    fn unknown_variable_is_an_error() {
        let e = ip_set(&AddrSpec::Var("NOPE".into()), &Vars::default());
        assert!(e.is_err());
    }
}
