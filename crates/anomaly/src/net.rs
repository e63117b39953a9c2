//! Address blocks for allowlists and home networks.

use std::net::IpAddr;
use std::str::FromStr;

/// An address block (`10.0.0.0/8`, `fd00::/8`) or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

/// Why an address block did not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CidrError {
    /// The address part is not an IP address.
    #[error("not an IP address")]
    Address,
    /// The prefix length is not a number within the family's width.
    #[error("bad prefix length")]
    Prefix,
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Self, CidrError> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let net: IpAddr = a.parse().map_err(|_| CidrError::Address)?;
        let width = bits(net).1;
        let prefix = match p {
            Some(p) => p.parse::<u8>().map_err(|_| CidrError::Prefix)?,
            None => width,
        };
        if prefix > width {
            return Err(CidrError::Prefix);
        }
        Ok(Cidr { net, prefix })
    }
}

impl Cidr {
    /// Whether `ip` is inside the block (IPv4 never matches an IPv6 block and vice versa).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (n, w) = bits(self.net);
        let (x, xw) = bits(ip);
        if w != xw {
            return false;
        }
        let shift = u32::from(w - self.prefix);
        if shift >= 128 {
            return true;
        }
        (n >> shift) == (x >> shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_match_their_family_and_prefix() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.200.1.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::a00:1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        let one: Cidr = "fd00::1".parse().unwrap();
        assert!(one.contains("fd00::1".parse().unwrap()));
        assert!(!one.contains("fd00::2".parse().unwrap()));
        assert_eq!("1.2.3.4/33".parse::<Cidr>(), Err(CidrError::Prefix));
        assert_eq!("x/3".parse::<Cidr>(), Err(CidrError::Address));
    }
}
