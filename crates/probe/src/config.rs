//! What a probe does: parsed, validated settings (no I/O here).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::ProbeError;
use interloper_model::{ConnectionPolicy, HelloShape, HttpVersionPref, IpFamily};

/// `--resolve HOST:PORT:ADDR`, as curl: connect to ADDR whenever HOST:PORT is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOverride {
    /// Host name, lower case.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Address to use instead of DNS.
    pub addr: IpAddr,
}

impl std::str::FromStr for ResolveOverride {
    type Err = ProbeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ProbeError::InvalidResolve(s.to_string());
        let (host, rest) = s.split_once(':').ok_or_else(bad)?;
        let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad());
        }
        Ok(ResolveOverride {
            host: host.to_ascii_lowercase(),
            port: port.parse().map_err(|_| bad())?,
            addr: addr.parse().map_err(|_| bad())?,
        })
    }
}

/// Where the proxy setting comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProxySetting {
    /// Read HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and lower-case forms) as curl does.
    #[default]
    FromEnv,
    /// Never use a proxy.
    None,
    /// Always use this HTTP proxy (CONNECT), except for NO_PROXY hosts.
    Url(url::Url),
}

/// Everything a [`crate::Probe`] needs. Build with `ProbeConfig::default()` and adjust.
#[derive(Debug, Clone)]
#[non_exhaustive] // built from Default and adjusted, so fields can be added
pub struct ProbeConfig {
    /// HTTP version preference.
    pub http: HttpVersionPref,
    /// Address family preference.
    pub ip: IpFamily,
    /// Static name overrides.
    pub resolve: Vec<ResolveOverride>,
    /// The DNS server names are looked up at, asked directly over UDP and TCP (split horizon:
    /// a server only one network sees), from `source_address` when set; None: the system's
    /// resolver.
    pub dns_server: Option<SocketAddr>,
    /// Proxy setting.
    pub proxy: ProxySetting,
    /// Local address every connection is made from (compare two uplinks of one host); None:
    /// the system's choice. An address of the other family cannot be reached from it.
    pub source_address: Option<std::net::IpAddr>,
    /// Hosts and address blocks reached without the proxy, in NO_PROXY's syntax
    /// (`example.com,.corp,10.0.0.0/8`); None: the environment's NO_PROXY.
    pub no_proxy: Option<String>,
    /// Trust the OS store (rustls-native-certs, honours SSL_CERT_FILE / SSL_CERT_DIR).
    pub use_os_roots: bool,
    /// Extra trust anchors, PEM files.
    pub cacert_files: Vec<PathBuf>,
    /// Extra trust anchors, DER (for callers that hold them in memory).
    pub extra_roots_der: Vec<Vec<u8>>,
    /// Proceed when the chain does not verify (the chain and the error are still recorded).
    pub insecure_skip_verify: bool,
    /// Limit for one TCP connect attempt (and the proxy CONNECT).
    pub connect_timeout: Duration,
    /// Limit for DNS, the TLS handshake, the response headers and any silence in the body.
    pub phase_timeout: Duration,
    /// Limit for a whole request, whatever its phases.
    pub total_timeout: Duration,
    /// Stop reading a body after this many bytes (recorded as `body_too_large`).
    pub max_body: Option<u64>,
    /// Extra request headers.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// Response headers kept per record.
    pub max_headers_recorded: usize,
    /// Points kept in each body arrival curve.
    pub max_curve_samples: usize,
    /// Slowest requests kept per target summary.
    pub slowest_kept: usize,
    /// Per-request records kept per target in the report (the summary always covers all).
    pub max_records_kept: usize,
    /// User-Agent header.
    pub user_agent: String,
    /// The shape of the ClientHello every HTTPS connection sends.
    pub hello: HelloShape,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            http: HttpVersionPref::Auto,
            ip: IpFamily::Any,
            resolve: Vec::new(),
            dns_server: None,
            proxy: ProxySetting::FromEnv,
            no_proxy: None,
            source_address: None,
            use_os_roots: true,
            cacert_files: Vec::new(),
            extra_roots_der: Vec::new(),
            insecure_skip_verify: false,
            connect_timeout: Duration::from_secs(10),
            phase_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(300),
            max_body: None,
            headers: Vec::new(),
            max_headers_recorded: 64,
            max_curve_samples: 64,
            slowest_kept: 5,
            max_records_kept: 0,
            user_agent: concat!("interloper/", env!("CARGO_PKG_VERSION")).to_string(),
            hello: HelloShape::Classic,
        }
    }
}

/// How many requests, how many in parallel, for how long.
#[derive(Debug, Clone)]
#[non_exhaustive] // built from Default and adjusted, so fields can be added
pub struct RunOptions {
    /// Requests per target. `None` with a duration: as many as fit.
    pub count: Option<u64>,
    /// Requests in flight per target (at least 1).
    pub concurrency: usize,
    /// Stop starting requests after this long (per target).
    pub duration: Option<Duration>,
    /// Fresh or reused connections.
    pub policy: ConnectionPolicy,
    /// Expand each URL into one target per resolved address.
    pub each_address: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            count: Some(1),
            concurrency: 1,
            duration: None,
            policy: ConnectionPolicy::Fresh,
            each_address: false,
        }
    }
}

/// One thing to probe: a URL, optionally pinned to one address (no DNS then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL (http or https).
    pub url: url::Url,
    /// Connect here instead of resolving the host.
    pub pinned: Option<SocketAddr>,
}

impl Target {
    /// Parse and check a URL: http or https, with a host.
    pub fn parse(s: &str) -> Result<Target, ProbeError> {
        let url = url::Url::parse(s).map_err(|e| ProbeError::InvalidUrl {
            url: s.to_string(),
            reason: e.to_string(),
        })?;
        Target::from_url(url)
    }

    /// Check an already parsed URL.
    pub fn from_url(url: url::Url) -> Result<Target, ProbeError> {
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(ProbeError::InvalidUrl {
                    url: url.to_string(),
                    reason: format!("scheme {other:?} is not http or https"),
                });
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ProbeError::InvalidUrl {
                url: url.to_string(),
                reason: "no host".into(),
            });
        }
        Ok(Target { url, pinned: None })
    }

    pub(crate) fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// Host as it goes into SNI / Host (brackets stripped from IPv6 literals).
    pub(crate) fn host(&self) -> &str {
        match self.url.host_str() {
            Some(h) => h.trim_start_matches('[').trim_end_matches(']'),
            None => "",
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(80)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_parses_v4_and_v6() {
        let r: ResolveOverride = "Example.com:443:127.0.0.1".parse().unwrap();
        assert_eq!(r.host, "example.com");
        assert_eq!(r.port, 443);
        let r: ResolveOverride = "example.com:443:[::1]".parse().unwrap();
        assert_eq!(r.addr, "::1".parse::<IpAddr>().unwrap());
        assert!("example.com:443".parse::<ResolveOverride>().is_err());
        assert!(
            "example.com:x:127.0.0.1"
                .parse::<ResolveOverride>()
                .is_err()
        );
    }

    #[test]
    fn targets_reject_bad_urls() {
        assert!(Target::parse("ftp://x/").is_err());
        assert!(Target::parse("not a url").is_err());
        assert!(Target::parse("https://localhost:1/x").is_ok());
        let t = Target::parse("https://[::1]:8443/").unwrap();
        assert_eq!(t.host(), "::1");
        assert_eq!(t.port(), 8443);
    }
}
