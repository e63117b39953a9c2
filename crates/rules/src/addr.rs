//! Address and port expressions of rule headers and address/port variables.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ast::{AddrSpec, PortSpec};
use crate::lexer::{preview, split_top};
use crate::{RuleError, MAX_LIST_DEPTH};

fn addr_err(reason: impl Into<String>) -> RuleError {
    RuleError::invalid("address", reason)
}

fn port_err(reason: impl Into<String>) -> RuleError {
    RuleError::invalid("port", reason)
}

/// Parses an address expression: `any`, `$VAR`, `1.2.3.4`, `10.0.0.0/8`, `10.0.0.0/255.0.0.0`,
/// `1.2.3.4-1.2.3.9`, IPv6 forms, `!x` and `[x, y, ...]` lists (nested).
pub fn parse_addr(s: &str) -> Result<AddrSpec, RuleError> {
    addr(s, 0)
}

fn var_name(s: &str) -> Option<&str> {
    let name = s.strip_prefix('$')?;
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(name)
}

fn addr(s: &str, depth: usize) -> Result<AddrSpec, RuleError> {
    if depth > MAX_LIST_DEPTH {
        return Err(addr_err(format!(
            "lists nested deeper than {MAX_LIST_DEPTH}"
        )));
    }
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('!') {
        let inner = addr(rest, depth + 1)?;
        if inner == AddrSpec::Any {
            return Err(addr_err("`!any` matches nothing"));
        }
        return Ok(AddrSpec::Not(Box::new(inner)));
    }
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| addr_err(format!("unterminated list {}", preview(s))))?;
        let parts = split_top(inner, b',').map_err(addr_err)?;
        let mut items = Vec::with_capacity(parts.len());
        for p in parts {
            if p.trim().is_empty() {
                return Err(addr_err(format!("empty element in {}", preview(s))));
            }
            items.push(addr(p, depth + 1)?);
        }
        return Ok(AddrSpec::List(items));
    }
    if s.eq_ignore_ascii_case("any") {
        return Ok(AddrSpec::Any);
    }
    if s.starts_with('$') {
        return var_name(s)
            .map(|n| AddrSpec::Var(n.to_string()))
            .ok_or_else(|| addr_err(format!("bad variable name {}", preview(s))));
    }
    if let Some((a, b)) = s.split_once('-') {
        let a = ip(a.trim())?;
        let b = ip(b.trim())?;
        if a.is_ipv4() != b.is_ipv4() {
            return Err(addr_err(format!(
                "range mixes IPv4 and IPv6 in {}",
                preview(s)
            )));
        }
        if a > b {
            return Err(addr_err(format!(
                "range start above its end in {}",
                preview(s)
            )));
        }
        return Ok(AddrSpec::Range(a, b));
    }
    if let Some((a, m)) = s.split_once('/') {
        let a = ip(a.trim())?;
        let m = m.trim();
        let max = if a.is_ipv4() { 32 } else { 128 };
        let prefix = if let Ok(p) = m.parse::<u8>() {
            p
        } else if let (IpAddr::V4(_), Ok(mask)) = (a, m.parse::<Ipv4Addr>()) {
            // Netmask form: only contiguous masks describe a CIDR block.
            let bits = u32::from(mask);
            if bits.leading_ones() + bits.trailing_zeros() != 32 {
                return Err(addr_err(format!("non-contiguous netmask {}", preview(m))));
            }
            bits.leading_ones() as u8
        } else {
            return Err(addr_err(format!("bad prefix length {}", preview(m))));
        };
        if prefix > max {
            return Err(addr_err(format!("prefix /{prefix} longer than {max}")));
        }
        return Ok(AddrSpec::Cidr(network(a, prefix), prefix));
    }
    let a = ip(s)?;
    Ok(AddrSpec::Cidr(a, if a.is_ipv4() { 32 } else { 128 }))
}

fn ip(s: &str) -> Result<IpAddr, RuleError> {
    s.parse::<IpAddr>()
        .map_err(|_| addr_err(format!("not an address: {}", preview(s))))
}

/// The network address of `a/prefix` (host bits cleared, as Suricata stores it).
fn network(a: IpAddr, prefix: u8) -> IpAddr {
    match a {
        IpAddr::V4(v) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v) & mask))
        }
        IpAddr::V6(v) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v) & mask))
        }
    }
}

/// Parses a port expression: `any`, `$VAR`, `80`, `1024:`, `:1023`, `80:90`, `!x` and
/// `[x, y, ...]` lists (nested).
pub fn parse_ports(s: &str) -> Result<PortSpec, RuleError> {
    ports(s, 0)
}

fn ports(s: &str, depth: usize) -> Result<PortSpec, RuleError> {
    if depth > MAX_LIST_DEPTH {
        return Err(port_err(format!(
            "lists nested deeper than {MAX_LIST_DEPTH}"
        )));
    }
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('!') {
        let inner = ports(rest, depth + 1)?;
        if inner == PortSpec::Any {
            return Err(port_err("`!any` matches nothing"));
        }
        return Ok(PortSpec::Not(Box::new(inner)));
    }
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| port_err(format!("unterminated list {}", preview(s))))?;
        let parts = split_top(inner, b',').map_err(port_err)?;
        let mut items = Vec::with_capacity(parts.len());
        for p in parts {
            if p.trim().is_empty() {
                return Err(port_err(format!("empty element in {}", preview(s))));
            }
            items.push(ports(p, depth + 1)?);
        }
        return Ok(PortSpec::List(items));
    }
    if s.eq_ignore_ascii_case("any") {
        return Ok(PortSpec::Any);
    }
    if s.starts_with('$') {
        return var_name(s)
            .map(|n| PortSpec::Var(n.to_string()))
            .ok_or_else(|| port_err(format!("bad variable name {}", preview(s))));
    }
    if let Some((a, b)) = s.split_once(':') {
        let lo = if a.trim().is_empty() { 0 } else { port(a)? };
        let hi = if b.trim().is_empty() {
            u16::MAX
        } else {
            port(b)?
        };
        if lo > hi {
            return Err(port_err(format!(
                "range start above its end in {}",
                preview(s)
            )));
        }
        return Ok(PortSpec::Range(lo, hi));
    }
    let p = port(s)?;
    Ok(PortSpec::Range(p, p))
}

fn port(s: &str) -> Result<u16, RuleError> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(port_err(format!("not a port: {}", preview(s))));
    }
    s.parse::<u16>()
        .map_err(|_| port_err(format!("port out of range: {}", preview(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_addr("any").unwrap(), AddrSpec::Any);
        assert_eq!(
            parse_addr("$HOME_NET").unwrap(),
            AddrSpec::Var("HOME_NET".into())
        );
        assert_eq!(
            parse_addr("10.1.2.3/8").unwrap(),
            AddrSpec::Cidr(v4("10.0.0.0"), 8)
        );
        assert_eq!(
            parse_addr("10.1.2.3/255.255.0.0").unwrap(),
            AddrSpec::Cidr(v4("10.1.0.0"), 16)
        );
        assert_eq!(
            parse_addr("1.2.3.4").unwrap(),
            AddrSpec::Cidr(v4("1.2.3.4"), 32)
        );
        assert_eq!(parse_addr("::1").unwrap(), AddrSpec::Cidr(v4("::1"), 128));
        assert_eq!(
            parse_addr("2001:db8::1/32").unwrap(),
            AddrSpec::Cidr(v4("2001:db8::"), 32)
        );
        assert_eq!(
            parse_addr("0.0.0.0/0").unwrap(),
            AddrSpec::Cidr(v4("0.0.0.0"), 0)
        );
        assert_eq!(
            parse_addr("1.2.3.4-1.2.3.9").unwrap(),
            AddrSpec::Range(v4("1.2.3.4"), v4("1.2.3.9"))
        );
        assert_eq!(
            parse_addr("[10.0.0.0/8, !10.1.0.0/16]").unwrap(),
            AddrSpec::List(vec![
                AddrSpec::Cidr(v4("10.0.0.0"), 8),
                AddrSpec::Not(Box::new(AddrSpec::Cidr(v4("10.1.0.0"), 16)))
            ])
        );
        assert_eq!(
            parse_addr("!$HOME_NET").unwrap(),
            AddrSpec::Not(Box::new(AddrSpec::Var("HOME_NET".into())))
        );
        assert_eq!(
            parse_addr("[$A,[1.1.1.1]]").unwrap(),
            AddrSpec::List(vec![
                AddrSpec::Var("A".into()),
                AddrSpec::List(vec![AddrSpec::Cidr(v4("1.1.1.1"), 32)])
            ])
        );
        for bad in [
            "",
            "!any",
            "1.2.3",
            "1.2.3.4/33",
            "::/129",
            "[1.1.1.1",
            "[1.1.1.1,]",
            "$",
            "1.2.3.9-1.2.3.4",
            "1.1.1.1/255.0.255.0",
            "[]",
            "1.1.1.1-::1",
            "$A B",
        ] {
            assert!(parse_addr(bad).is_err(), "{bad}");
        }
        let deep = format!("{}1.1.1.1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_addr(&deep).is_err());
    }

    #[test]
    fn port_specs() {
        assert_eq!(parse_ports("80").unwrap(), PortSpec::Range(80, 80));
        assert_eq!(parse_ports("1024:").unwrap(), PortSpec::Range(1024, 65535));
        assert_eq!(parse_ports(":1023").unwrap(), PortSpec::Range(0, 1023));
        assert_eq!(
            parse_ports("!80").unwrap(),
            PortSpec::Not(Box::new(PortSpec::Range(80, 80)))
        );
        assert_eq!(
            parse_ports("$HTTP_PORTS").unwrap(),
            PortSpec::Var("HTTP_PORTS".into())
        );
        assert_eq!(
            parse_ports("[80,8080]").unwrap(),
            PortSpec::List(vec![PortSpec::Range(80, 80), PortSpec::Range(8080, 8080)])
        );
        assert_eq!(
            parse_ports("[1:80,![2,4]]").unwrap(),
            PortSpec::List(vec![
                PortSpec::Range(1, 80),
                PortSpec::Not(Box::new(PortSpec::List(vec![
                    PortSpec::Range(2, 2),
                    PortSpec::Range(4, 4)
                ])))
            ])
        );
        for bad in [
            "", "65536", "-1", "80:70", "!any", "[80", "a", "[80,,81]", "1:2:3",
        ] {
            assert!(parse_ports(bad).is_err(), "{bad}");
        }
    }
}
