//! Name lookup: the system's resolver (getaddrinfo, the default), or one DNS server asked
//! directly over UDP and TCP (`dns_server`: split horizon, a server only one network sees),
//! with no system configuration read — no resolv.conf, no hosts file, no search domains — so
//! the timed DNS phase measures that server and nothing else.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use interloper_model::IpFamily;

/// The DNS port a server address without one means.
const DNS_PORT: u16 = 53;

/// Parses a DNS server address: `127.0.0.53`, `127.0.0.53:5353`, `::1` or `[::1]:5353` (port
/// 53 when none is given).
pub fn parse_dns_server(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .map_err(|_| format!("{text:?} is not a DNS server address (ADDR or ADDR:PORT)"))
}

/// Which DNS server a lookup asks, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DnsSettings {
    /// The server asked directly; None: the system's resolver.
    pub server: Option<SocketAddr>,
    /// Local address the queries leave from (a module's `source_address`: the uplink
    /// compared); None: the system's choice. The system's resolver ignores it.
    pub source: Option<IpAddr>,
    /// Address family asked for (A, AAAA or both) of the server.
    pub family: IpFamily,
}

/// The addresses of `host`, with `port`: from `dns.server` when given, else from the
/// system's resolver. The error says what failed, without the host's name (callers add it).
pub async fn lookup_host(
    host: &str,
    port: u16,
    dns: DnsSettings,
) -> Result<Vec<SocketAddr>, String> {
    let DnsSettings {
        server,
        source,
        family,
    } = dns;
    let Some(server) = server else {
        // IP family filtering stays with the caller, as for the system's answer.
        return tokio::net::lookup_host((host, port))
            .await
            .map(Iterator::collect)
            .map_err(|e| e.to_string());
    };
    // Built per lookup, on the caller's runtime: nothing is cached (each lookup asks the
    // server, as getaddrinfo does) and no background task outlives the lookup.
    let resolver =
        resolver_for(server, source, family).map_err(|e| format!("DNS server {server}: {e}"))?;
    // A trailing dot: the name as given, never with a search domain appended.
    let absolute = format!("{}.", host.trim_end_matches('.'));
    match resolver.lookup_ip(absolute.as_str()).await {
        Ok(found) => Ok(found.iter().map(|ip| SocketAddr::new(ip, port)).collect()),
        Err(e) if e.is_nx_domain() => Err(format!("DNS server {server}: no such name (NXDOMAIN)")),
        Err(e) if e.is_no_records_found() => Err(format!("DNS server {server}: no address record")),
        Err(e) => Err(format!("DNS server {server}: {e}")),
    }
}

fn resolver_for(
    server: SocketAddr,
    source: Option<IpAddr>,
    family: IpFamily,
) -> Result<Resolver<TokioRuntimeProvider>, hickory_resolver::net::NetError> {
    let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
    for connection in &mut name_server.connections {
        connection.port = server.port();
        connection.bind_addr = source.map(|ip| SocketAddr::new(ip, 0));
    }
    let mut config = ResolverConfig::default();
    config.name_servers.push(name_server);
    let mut options = ResolverOpts::default();
    options.cache_size = 0;
    options.use_hosts_file = ResolveHosts::Never;
    options.ip_strategy = match family {
        IpFamily::Any => LookupIpStrategy::Ipv4AndIpv6,
        IpFamily::V4 => LookupIpStrategy::Ipv4Only,
        IpFamily::V6 => LookupIpStrategy::Ipv6Only,
    };
    Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_servers_parse_with_or_without_a_port() {
        assert_eq!(
            parse_dns_server("127.0.0.53").unwrap(),
            "127.0.0.53:53".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("127.0.0.53:5353").unwrap(),
            "127.0.0.53:5353".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("::1").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("[::1]:5353").unwrap(),
            "[::1]:5353".parse().unwrap()
        );
        assert!(parse_dns_server("dns.example").is_err());
        assert!(parse_dns_server("127.0.0.1:99999").is_err());
    }
}
