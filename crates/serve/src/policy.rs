//! Where a module's checks may connect: `allowed_networks`. A target's addresses are resolved
//! once, before the check, refused if any lies outside the networks, and pinned into the plan,
//! so the check connects to exactly the addresses vetted (a name that re-resolves elsewhere
//! between the two — DNS rebinding — is not followed).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use interloper_check::{DnsSettings, ResolveOverride};

/// Most addresses of one name that are vetted and pinned.
const MAX_ADDRESSES: usize = 16;

/// An address block, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a block of one. The
/// probe's, which NO_PROXY matching uses too: one CIDR matcher for both.
pub type Network = interloper_check::AddressBlock;

/// The addresses the check would connect to for `url`: the module's `resolve` overrides,
/// an address literal, or DNS — the module's `dns_server` when it has one, as the check's
/// own lookups — bounded by `limit`.
pub async fn addresses(
    url: &url::Url,
    overrides: &[ResolveOverride],
    dns: DnsSettings,
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
    let lookup = interloper_check::lookup_host(&host, port, dns);
    match tokio::time::timeout(limit, lookup).await {
        Err(_) => Err(format!("resolving {host}: timed out")),
        Ok(Err(e)) => Err(format!("resolving {host}: {e}")),
        Ok(Ok(found)) => {
            let mut ips: Vec<IpAddr> = found.iter().map(SocketAddr::ip).collect();
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

    #[test]
    fn allowed_networks_use_the_probe_matcher() {
        let net: Network = "127.0.0.0/8".parse().unwrap();
        assert!(net.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Network>().is_err());
    }
}
