//! Address blocks (`10.0.0.0/8`, `2001:db8::/32`, a bare address): the one CIDR matcher, for
//! NO_PROXY here and the exporter's `allowed_networks`, on the `ipnet` crate.

use std::net::IpAddr;

use ipnet::IpNet;

/// An address block; a bare address is a block of one. An IPv4-mapped IPv6 address
/// (`::ffff:10.1.2.3`) is matched as the IPv4 address it carries, whichever way the block
/// is written, because that is where a connection to it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressBlock(IpNet);

impl std::str::FromStr for AddressBlock {
    type Err = String;

    fn from_str(s: &str) -> Result<AddressBlock, String> {
        let text = s.trim();
        let net = match text.split_once('/') {
            Some((address, prefix)) => {
                let address: IpAddr = address
                    .trim()
                    .parse()
                    .map_err(|_| format!("{s:?} is not an address block (try 10.0.0.0/8)"))?;
                let max = if address.is_ipv4() { 32 } else { 128 };
                let prefix = prefix
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?;
                IpNet::new(address, prefix)
                    .map_err(|_| format!("{s:?}: the prefix length must be 0 to {max}"))?
            }
            None => IpNet::from(
                text.parse::<IpAddr>()
                    .map_err(|_| format!("{s:?} is not an address block (try 10.0.0.0/8)"))?,
            ),
        };
        Ok(AddressBlock(net))
    }
}

impl std::fmt::Display for AddressBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl AddressBlock {
    /// Whether `ip` lies in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.0, ip.to_canonical()) {
            (IpNet::V6(net), IpAddr::V4(v4)) => net.contains(&v4.to_ipv6_mapped()),
            (net, ip) => net.contains(&ip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(s: &str) -> AddressBlock {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        assert!(block("127.0.0.0/8").contains(ip("127.1.2.3")));
        assert!(!block("127.0.0.0/8").contains(ip("128.0.0.1")));
        assert!(block("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(block("10.0.0.1").contains(ip("10.0.0.1")));
        assert!(!block("10.0.0.1").contains(ip("10.0.0.2")));
        assert!(block("10.1.2.3/8").contains(ip("10.200.0.1")));
        assert!(block("::1/128").contains(ip("::1")));
        assert!(block("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!block("2001:db8::/32").contains(ip("127.0.0.1")));
    }

    #[test]
    fn a_mapped_address_is_its_ipv4_one() {
        assert!(block("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
        assert!(block("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
        assert!(block("::ffff:10.0.0.0/104").contains(ip("10.1.2.3")));
        assert!(!block("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
    }

    #[test]
    fn bad_blocks_are_refused() {
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "host/8",
            "10.0.0.0/x",
            "10.0.0.0/-1",
        ] {
            assert!(bad.parse::<AddressBlock>().is_err(), "{bad}");
        }
    }
}
