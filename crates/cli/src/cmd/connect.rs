//! Connection options shared by `tls` and `check` (and the same meaning as in `probe`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use interloper_probe::{IpFamily, ProbeConfig, ProxySetting, ResolveOverride};

use super::probe::{parse_duration, parse_header, parse_resolve};

/// How to reach the server: name overrides, proxy, trust, address family, time limits.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Use ADDR for HOST:PORT instead of DNS (as curl), e.g. example.com:443:127.0.0.1;
    /// repeat it to give a name several addresses.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<ResolveOverride>,
    /// HTTP proxy (CONNECT) [default: https_proxy / http_proxy / no_proxy as curl reads them].
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Ignore proxy environment variables.
    #[arg(long, conflicts_with = "proxy")]
    pub no_proxy: bool,
    /// Also trust the CA certificates in this PEM file (counted as a local root).
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
    /// IPv4 addresses only.
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 addresses only.
    #[arg(short = '6', long)]
    pub ipv6: bool,
    /// Limit for DNS, the TLS handshake, the response headers, and any silence in the body.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Limit for one TCP connect attempt.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// Extra request header, 'Name: value' (repeatable). Never sent over a chain that did not
    /// verify.
    #[arg(short = 'H', long = "header", value_name = "'K: V'", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
}

impl ConnectArgs {
    /// The probe configuration these options describe.
    pub fn probe_config(&self) -> anyhow::Result<ProbeConfig> {
        let mut cfg = ProbeConfig::default();
        cfg.ip = ip_family(self.ipv4, self.ipv6);
        cfg.resolve.clone_from(&self.resolve);
        cfg.proxy = proxy_setting(self.proxy.as_deref(), self.no_proxy)?;
        for f in &self.cacert {
            if !f.is_file() {
                anyhow::bail!("--cacert {}: no such file", f.display());
            }
        }
        cfg.cacert_files.clone_from(&self.cacert);
        cfg.phase_timeout = self.timeout;
        cfg.connect_timeout = self.connect_timeout;
        cfg.total_timeout = self.timeout.saturating_mul(4);
        for (k, v) in &self.headers {
            cfg.headers.push((
                http::HeaderName::from_bytes(k.as_bytes())?,
                http::HeaderValue::from_str(v)?,
            ));
        }
        Ok(cfg)
    }
}

/// `-4` / `-6` / neither.
pub fn ip_family(v4: bool, v6: bool) -> IpFamily {
    match (v4, v6) {
        (true, _) => IpFamily::V4,
        (_, true) => IpFamily::V6,
        _ => IpFamily::Any,
    }
}

/// `--proxy URL` (scheme optional, as curl), `--no-proxy`, or the environment.
pub fn proxy_setting(proxy: Option<&str>, no_proxy: bool) -> anyhow::Result<ProxySetting> {
    Ok(match (proxy, no_proxy) {
        (_, true) => ProxySetting::None,
        (Some(p), _) => {
            let with_scheme = if p.contains("://") {
                p.to_string()
            } else {
                format!("http://{p}")
            };
            ProxySetting::Url(
                url::Url::parse(&with_scheme).with_context(|| format!("invalid --proxy {p:?}"))?,
            )
        }
        (None, false) => ProxySetting::FromEnv,
    })
}
