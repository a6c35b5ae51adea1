//! Where a module's checks may connect: `allowed_networks`. A target's addresses are resolved
//! once, before the check, refused if any lies outside the networks, and pinned into the plan,
//! so the check connects to exactly the addresses vetted (a name that re-resolves elsewhere
//! between the two — DNS rebinding — is not followed).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use interloper_check::ResolveOverride;

/// Most addresses of one name that are vetted and pinned.
const MAX_ADDRESSES: usize = 16;

/// An address block, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Network, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an address block (try 10.0.0.0/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Network { addr, prefix })
    }
}

impl Network {
    /// Whether `ip` lies in the block (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The addresses the check would connect to for `url`: the module's `resolve` overrides,
/// an address literal, or DNS (bounded by `limit`).
pub async fn addresses(
    url: &url::Url,
    overrides: &[ResolveOverride],
    limit: Duration,
) -> Result<Vec<IpAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(443);
    let host = match url.host() {
        Some(url::Host::Ipv4(a)) => return Ok(vec![IpAddr::V4(a)]),
        Some(url::Host::Ipv6(a)) => return Ok(vec![IpAddr::V6(a)]),
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        None => return Err("the target has no host".into()),
    };
    let overridden: Vec<IpAddr> = overrides
        .iter()
        .filter(|o| o.host == host && o.port == port)
        .map(|o| o.addr)
        .collect();
    if !overridden.is_empty() {
        return Ok(overridden);
    }
    let lookup = tokio::net::lookup_host((host.as_str(), port));
    match tokio::time::timeout(limit, lookup).await {
        Err(_) => Err(format!("resolving {host}: timed out")),
        Ok(Err(e)) => Err(format!("resolving {host}: {e}")),
        Ok(Ok(found)) => {
            let mut ips: Vec<IpAddr> = found.map(|a: SocketAddr| a.ip()).collect();
            ips.dedup();
            ips.truncate(MAX_ADDRESSES);
            if ips.is_empty() {
                Err(format!("{host} has no address"))
            } else {
                Ok(ips)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Network {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        assert!(net("127.0.0.0/8").contains("127.1.2.3".parse().unwrap()));
        assert!(!net("127.0.0.0/8").contains("128.0.0.1".parse().unwrap()));
        assert!(net("0.0.0.0/0").contains("8.8.8.8".parse().unwrap()));
        assert!(net("10.0.0.1").contains("10.0.0.1".parse().unwrap()));
        assert!(!net("10.0.0.1").contains("10.0.0.2".parse().unwrap()));
        assert!(net("::1/128").contains("::1".parse().unwrap()));
        assert!(net("2001:db8::/32").contains("2001:db8:1::5".parse().unwrap()));
        assert!(!net("2001:db8::/32").contains("127.0.0.1".parse().unwrap()));
        assert!(net("127.0.0.0/8").contains("::ffff:127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_blocks_are_refused() {
        for bad in ["", "10.0.0.0/33", "::/129", "host/8", "10.0.0.0/x"] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }
}
