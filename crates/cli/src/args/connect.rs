//! How to reach a server: the flags of every command that connects (`check`, `tls`, `probe`,
//! `pin`), declared once with one default each.

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use interloper_probe::{IpFamily, ProbeConfig, ProxySetting, ResolveOverride};

use super::parse;

/// `--timeout`'s default: the probe library's own phase limit, so the flag and a
/// `ProbeConfig::default()` never disagree (a unit test holds them together).
const TIMEOUT: &str = "30s";
/// `--connect-timeout`'s default, also the probe library's.
const CONNECT_TIMEOUT: &str = "10s";
/// Without `--max-time`, a whole request may take this many `--timeout`s.
const MAX_TIME_IN_TIMEOUTS: u32 = 4;

/// Name overrides, proxy, address family, time limits and extra request headers.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// Use ADDR for HOST:PORT instead of DNS (as curl), e.g. example.com:443:127.0.0.1;
    /// repeat it to give a name several addresses.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse::resolve)]
    pub resolve: Vec<ResolveOverride>,
    /// Look names up at this DNS server (UDP and TCP, e.g. 127.0.0.53:5353; port 53 when
    /// none) instead of the system's resolver: split horizon, the answer only one network
    /// gets. The timed DNS phase is then that server's.
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = interloper_probe::parse_dns_server)]
    pub dns_server: Option<std::net::SocketAddr>,
    /// HTTP proxy (CONNECT); without a scheme, http:// [default: https_proxy / http_proxy /
    /// no_proxy as curl reads them].
    #[arg(long, value_name = "URL", value_parser = parse::proxy)]
    pub proxy: Option<url::Url>,
    /// Ignore proxy environment variables.
    #[arg(long, conflicts_with = "proxy")]
    pub no_proxy: bool,
    /// IPv4 addresses only.
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 addresses only.
    #[arg(short = '6', long)]
    pub ipv6: bool,
    /// Limit for DNS, the TLS handshake, the response headers, and any silence in the body
    /// (e.g. 500ms, 10s, 2m).
    #[arg(long, value_name = "DURATION", default_value = TIMEOUT, value_parser = parse::positive_duration)]
    pub timeout: Duration,
    /// Limit for one TCP connect attempt (and a proxy's CONNECT).
    #[arg(long, value_name = "DURATION", default_value = CONNECT_TIMEOUT, value_parser = parse::positive_duration)]
    pub connect_timeout: Duration,
    /// Limit for a whole request [default: 4 × --timeout].
    #[arg(long, value_name = "DURATION", value_parser = parse::positive_duration)]
    pub max_time: Option<Duration>,
    /// Extra request header, 'Name: value' (repeatable). Never sent over a chain that did not
    /// verify, so `tls` and `pin`, which examine any chain, never send it.
    #[arg(short = 'H', long = "header", value_name = "'K: V'", value_parser = parse::header)]
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ConnectArgs {
    /// A probe configuration with these settings and the library's defaults for the rest
    /// (trust: see [`super::Roots::apply`]).
    pub fn probe_config(&self) -> ProbeConfig {
        let mut cfg = ProbeConfig::default();
        cfg.ip = match (self.ipv4, self.ipv6) {
            (true, _) => IpFamily::V4,
            (_, true) => IpFamily::V6,
            _ => IpFamily::Any,
        };
        cfg.resolve.clone_from(&self.resolve);
        cfg.dns_server = self.dns_server;
        cfg.proxy = match (&self.proxy, self.no_proxy) {
            (_, true) => ProxySetting::None,
            (Some(url), false) => ProxySetting::Url(url.clone()),
            (None, false) => ProxySetting::FromEnv,
        };
        cfg.phase_timeout = self.timeout;
        cfg.connect_timeout = self.connect_timeout;
        cfg.total_timeout = self
            .max_time
            .unwrap_or_else(|| self.timeout.saturating_mul(MAX_TIME_IN_TIMEOUTS));
        cfg.headers.clone_from(&self.headers);
        cfg
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        connect: ConnectArgs,
    }

    fn parse(args: &[&str]) -> Result<ConnectArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied())).map(|c| c.connect)
    }

    #[test]
    fn defaults_are_the_probe_library_defaults() {
        let library = ProbeConfig::default();
        let cfg = parse(&[]).unwrap().probe_config();
        assert_eq!(cfg.phase_timeout, library.phase_timeout);
        assert_eq!(cfg.connect_timeout, library.connect_timeout);
        assert_eq!(cfg.total_timeout, library.phase_timeout * 4);
        assert_eq!(cfg.proxy, ProxySetting::FromEnv);
        assert!(cfg.headers.is_empty() && cfg.resolve.is_empty());
    }

    #[test]
    fn flags_become_settings() {
        let cfg = parse(&[
            "-4",
            "--timeout",
            "2s",
            "--connect-timeout",
            "500ms",
            "--proxy",
            "127.0.0.1:3128",
            "--resolve",
            "a.test:443:127.0.0.1",
            "-H",
            "X-A: 1",
            "--dns-server",
            "127.0.0.53:5353",
        ])
        .unwrap()
        .probe_config();
        assert_eq!(cfg.ip, IpFamily::V4);
        assert_eq!(cfg.phase_timeout, Duration::from_secs(2));
        assert_eq!(cfg.total_timeout, Duration::from_secs(8));
        assert_eq!(cfg.connect_timeout, Duration::from_millis(500));
        assert!(
            matches!(&cfg.proxy, ProxySetting::Url(u) if u.as_str() == "http://127.0.0.1:3128/")
        );
        assert_eq!(cfg.resolve.len(), 1);
        assert_eq!(cfg.headers[0].0, "x-a");
        assert_eq!(cfg.dns_server, Some("127.0.0.53:5353".parse().unwrap()));
        let cfg = parse(&["--max-time", "1m", "--no-proxy"])
            .unwrap()
            .probe_config();
        assert_eq!(cfg.total_timeout, Duration::from_secs(60));
        assert_eq!(cfg.proxy, ProxySetting::None);
    }

    #[test]
    fn bad_values_are_usage_errors_naming_the_flag() {
        for (args, flag) in [
            (&["--timeout", "soon"][..], "--timeout"),
            (&["--timeout", "0"][..], "--timeout"),
            (&["--max-time", "5y"][..], "--max-time"),
            (&["--resolve", "bad"][..], "--resolve"),
            (&["-H", "nocolon"][..], "--header"),
            (&["--proxy", "http://"][..], "--proxy"),
            (&["--proxy", "p:1", "--no-proxy"][..], "--no-proxy"),
            (&["-4", "-6"][..], "--ipv6"),
            (&["--dns-server", "ns.corp"][..], "--dns-server"),
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
            let text = e.to_string();
            assert!(text.contains(flag), "{args:?}: {text}");
        }
    }
}
