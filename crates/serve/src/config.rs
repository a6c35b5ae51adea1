//! The exporter's configuration file (TOML): server limits and named modules, each the check
//! settings a scrape of `/probe?module=NAME` runs with. Unknown keys are refused with their
//! name, so a typo never silently means a default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use interloper_check::{CheckPlan, Samples};
use interloper_check::{ProxySetting, ResolveOverride};
use interloper_findings::Severity;
use serde::Deserialize;

/// Checks running at once when the file does not say.
pub const DEFAULT_MAX_CONCURRENT_CHECKS: usize = 4;
/// Most members an instance group may have: one scrape checks them all within one budget.
pub const MAX_GROUP_MEMBERS: usize = 16;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Server-wide limits.
    #[serde(default)]
    pub server: ServerConfig,
    /// Modules by name (`[module.NAME]`).
    #[serde(default, rename = "module")]
    pub modules: BTreeMap<String, Module>,
    /// Real users' beacons served as metrics at `/rum/metrics` (`[rum]`, docs/serve.md).
    #[serde(default)]
    pub rum: Option<crate::rum::RumConfig>,
}

/// Server-wide limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Checks running at once; a scrape beyond it is answered at once with HTTP 503.
    #[serde(default = "default_max_concurrent_checks")]
    pub max_concurrent_checks: usize,
    /// Append each finished check as one JSON line to this file (for Loki, Elastic…).
    #[serde(default)]
    pub results_log: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_concurrent_checks: DEFAULT_MAX_CONCURRENT_CHECKS,
            results_log: None,
        }
    }
}

fn default_max_concurrent_checks() -> usize {
    DEFAULT_MAX_CONCURRENT_CHECKS
}

/// What one scrape of a module runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// Requests per asset (a scrape is short: the default is 3).
    #[serde(default = "default_samples")]
    pub samples: u32,
    /// Most time a check may take (`10s`, `1500ms`); the scrape timeout lowers it.
    #[serde(default = "default_budget", deserialize_with = "de_duration")]
    pub budget: Duration,
    /// Limit for each phase of a request (DNS, handshake, headers, body silence).
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub timeout: Option<Duration>,
    /// Requests in flight per check.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Trust and expectations.
    #[serde(default)]
    pub trust: ModuleTrust,
    /// A witness (`interloper echo`) beside the target.
    #[serde(default)]
    pub witness: Option<url::Url>,
    /// Findings of these severities make `probe_success` 0 (default: error and critical).
    #[serde(default = "default_fail_on")]
    pub fail_on: Vec<Severity>,
    /// Hosts a target may name: exact names, or `*.example.com` for any name under it.
    /// Empty: any host.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Address blocks (`10.0.0.0/8`, `2001:db8::/32`) a target's addresses must lie in;
    /// checked before the check, and the vetted addresses pinned. Empty: any address.
    #[serde(default)]
    pub allowed_networks: Vec<String>,
    /// `host:port:address` overrides, as curl's `--resolve` (split horizon, tests).
    #[serde(default)]
    pub resolve: Vec<String>,
    /// The DNS server the module's names are looked up at (`127.0.0.53:5353`; port 53 when
    /// none): split horizon, a name only that server knows. None: the system's resolver.
    #[serde(default)]
    pub dns_server: Option<String>,
    /// Instance groups (`[module.NAME.groups.GROUP]`, member name = page URL): several
    /// instances of one app that `/probe?module=NAME&group=GROUP` checks in one scrape and
    /// compares, as `check URL URL…` does. Member names become the `member` label.
    #[serde(default)]
    pub groups: BTreeMap<String, BTreeMap<String, url::Url>>,
    /// ClientHello shapes sampled besides the classic one: `["pq", "large"]` by default (the
    /// browser-shaped hellos some inspection devices break on, 6 connections each per target),
    /// `[]` for the classic hello only.
    #[serde(default = "default_hello_shapes")]
    pub hello_shapes: Vec<String>,
    /// An explicit HTTP proxy the checks go through (CONNECT), as a corporate vantage point
    /// has: `http://user:password@proxy:3128`, user and password percent-encoded (`%40` for
    /// `@`), read by the probe's own proxy code. None: no proxy (never the environment's).
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// Hosts, domains (`.corp`) and address blocks (`10.0.0.0/8`) reached without
    /// `proxy_url`, NO_PROXY's rules.
    #[serde(default)]
    pub no_proxy: Vec<String>,
    /// Extra request headers (`Host`, `User-Agent`, …) on every request of the check; a
    /// `Host` applies to HTTP/1.1 (HTTP/2 carries the URL's authority).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Local address every connection is made from (compare two uplinks from one host).
    #[serde(default)]
    pub source_address: Option<std::net::IpAddr>,
    /// `ip4` or `ip6`: the address family to connect over (blackbox's `ip_protocol`).
    #[serde(default)]
    pub ip_protocol: Option<String>,
    /// With `ip_protocol`, whether the other family may be used too (blackbox's
    /// `ip_protocol_fallback`, true by default there and here).
    #[serde(default = "default_true")]
    pub ip_protocol_fallback: bool,
}

fn default_true() -> bool {
    true
}

/// A module's trust settings, as `check`'s flags of the same names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleTrust {
    /// Public roots instead of Mozilla's list (PEM).
    #[serde(default)]
    pub public_roots: Option<PathBuf>,
    /// Extra anchors counted as local roots (PEM files).
    #[serde(default)]
    pub cacert: Vec<PathBuf>,
    /// Roots the organisation runs (PEM files, `--private-root`): a chain ending in one is its
    /// own PKI, not an unknown local root.
    #[serde(default)]
    pub private_roots: Vec<PathBuf>,
    /// Do not read the OS trust store.
    #[serde(default)]
    pub no_os_roots: bool,
    /// Expected SPKI pins (`sha256/BASE64`).
    #[serde(default)]
    pub pins: Vec<String>,
}

fn default_samples() -> u32 {
    3
}
fn default_budget() -> Duration {
    Duration::from_secs(10)
}
fn default_concurrency() -> usize {
    4
}
fn default_hello_shapes() -> Vec<String> {
    vec!["pq".into(), "large".into()]
}
fn default_fail_on() -> Vec<Severity> {
    vec![Severity::Error, Severity::Critical]
}

fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

fn de_opt_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_duration(d).map(Some)
}

/// A duration as the command line writes it (`500ms`, `10s`, `2m`; a bare number is seconds),
/// more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match interloper_model::units::parse_duration(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(format!("{text:?}: a duration must be more than zero")),
        Err(e) => Err(e),
    }
}

/// Whether a configured name is safe as a label value: short, from a small alphabet.
fn is_label_value(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (said in the message, so not also a `source`: `{:#}` prints it once).
        reason: std::io::Error,
    },
    /// The TOML is wrong (an unknown key is named here).
    #[error("{0}")]
    Invalid(String),
}

impl ServeConfig {
    /// Parses and validates a configuration.
    pub fn from_toml(text: &str) -> Result<ServeConfig, ConfigError> {
        let cfg: ServeConfig = toml::from_str(text).map_err(|e| {
            // toml's message names the unknown key and lists the expected ones.
            ConfigError::Invalid(e.message().trim().to_string())
        })?;
        cfg.validate().map_err(ConfigError::Invalid)?;
        Ok(cfg)
    }

    /// Reads, parses and validates a configuration file.
    pub fn load(path: &Path) -> Result<ServeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
            path: path.to_path_buf(),
            reason,
        })?;
        ServeConfig::from_toml(&text).map_err(|e| match e {
            ConfigError::Invalid(m) => ConfigError::Invalid(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    fn validate(&self) -> Result<(), String> {
        if self.modules.is_empty() && self.rum.is_none() {
            return Err(
                "no module: add at least one [module.NAME] table (or a [rum] section)".into(),
            );
        }
        if let Some(rum) = &self.rum {
            rum.validate()?;
        }
        if self.server.max_concurrent_checks == 0 {
            return Err("server.max_concurrent_checks must be at least 1".into());
        }
        for (name, m) in &self.modules {
            m.validate().map_err(|e| format!("module {name}: {e}"))?;
        }
        Ok(())
    }
}

impl Module {
    fn validate(&self) -> Result<(), String> {
        if self.samples == 0 || self.samples > 1000 {
            return Err(format!("samples = {}: use 1 to 1000", self.samples));
        }
        if self.concurrency == 0 || self.concurrency > 64 {
            return Err(format!("concurrency = {}: use 1 to 64", self.concurrency));
        }
        for pin in &self.trust.pins {
            interloper_check::Pin::parse(pin).map_err(|e| format!("pin {pin:?}: {e}"))?;
        }
        for n in &self.allowed_networks {
            n.parse::<crate::policy::Network>()?;
        }
        for r in &self.resolve {
            r.parse::<ResolveOverride>()
                .map_err(|e| format!("resolve {r:?}: {e}"))?;
        }
        if let Some(w) = &self.witness
            && !matches!(w.scheme(), "http" | "https")
        {
            return Err(format!("witness {w}: not an http(s) URL"));
        }
        if let Some(proxy) = &self.proxy_url {
            interloper_check::validate_proxy_url(proxy).map_err(|e| format!("proxy_url: {e}"))?;
        }
        for (name, value) in &self.headers {
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("headers: {name:?} is not a header name"))?;
            http::HeaderValue::from_str(value)
                .map_err(|_| format!("headers: the value of {name} is not a header value"))?;
        }
        if let Some(server) = &self.dns_server {
            interloper_check::parse_dns_server(server).map_err(|e| format!("dns_server: {e}"))?;
        }
        if let Some(p) = &self.ip_protocol
            && !matches!(p.as_str(), "ip4" | "ip6")
        {
            return Err(format!("ip_protocol = {p:?}: use \"ip4\" or \"ip6\""));
        }
        for shape in &self.hello_shapes {
            match interloper_model::HelloShape::parse(shape) {
                Some(interloper_model::HelloShape::Classic) | None => {
                    return Err(format!(
                        "hello_shapes: {shape:?} is not an extra hello shape (pq, large)"
                    ));
                }
                Some(_) => {}
            }
        }
        for (group, members) in &self.groups {
            self.validate_group(group, members)
                .map_err(|e| format!("group {group}: {e}"))?;
        }
        Ok(())
    }

    fn validate_group(
        &self,
        group: &str,
        members: &BTreeMap<String, url::Url>,
    ) -> Result<(), String> {
        if !is_label_value(group) {
            return Err("a group name is 1 to 64 letters, digits, '_', '-' or '.'".into());
        }
        if members.len() < 2 || members.len() > MAX_GROUP_MEMBERS {
            return Err(format!(
                "{} members: a group compares 2 to {MAX_GROUP_MEMBERS} instances",
                members.len()
            ));
        }
        for (member, url) in members {
            if !is_label_value(member) {
                return Err(format!(
                    "member {member:?}: a member name is 1 to 64 letters, digits, '_', '-' or '.'"
                ));
            }
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("member {member}: {url} is not an http(s) URL"));
            }
            match url.host_str() {
                None => return Err(format!("member {member}: {url} has no host")),
                Some(host) if !self.allows_host(host) => {
                    return Err(format!(
                        "member {member}: host {host:?} is not in allowed_hosts"
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Whether `host` (lower case, as in a parsed URL) is one a target may name.
    pub fn allows_host(&self, host: &str) -> bool {
        self.allowed_hosts.is_empty()
            || self.allowed_hosts.iter().any(|pattern| {
                let pattern = pattern.to_ascii_lowercase();
                match pattern.strip_prefix("*.") {
                    Some(suffix) => host
                        .strip_suffix(suffix)
                        .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
                    None => host == pattern,
                }
            })
    }

    /// The parsed `allowed_networks` (validated at load).
    pub fn networks(&self) -> Vec<crate::policy::Network> {
        self.allowed_networks
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect()
    }

    /// The module's path to its targets: its proxy (never the environment's: that would be
    /// a different path than the one the module describes), headers, source address, DNS
    /// server and address family.
    fn connection_settings(&self, c: &mut interloper_check::ProbeConfig) {
        c.proxy = match self.proxy_url.as_deref().map(url::Url::parse) {
            Some(Ok(u)) => ProxySetting::Url(u),
            // Validated at load; an unparsable one cannot reach here.
            _ => ProxySetting::None,
        };
        c.no_proxy = Some(self.no_proxy.join(","));
        for (name, value) in &self.headers {
            let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) else {
                continue;
            };
            if name == http::header::USER_AGENT {
                c.user_agent = value.to_str().unwrap_or_default().to_string();
            } else {
                c.headers.push((name, value));
            }
        }
        c.source_address = self.source_address;
        // Validated at load; an unparsable one cannot reach here.
        c.dns_server = self
            .dns_server
            .as_deref()
            .and_then(|s| interloper_check::parse_dns_server(s).ok());
        c.ip = match (self.ip_protocol.as_deref(), self.ip_protocol_fallback) {
            (Some("ip4"), false) => interloper_check::IpFamily::V4,
            (Some("ip6"), false) => interloper_check::IpFamily::V6,
            _ => interloper_check::IpFamily::Any,
        };
    }

    /// The check this module runs against `target` within `budget`.
    pub fn plan(&self, target: url::Url, budget: Duration) -> CheckPlan {
        self.plan_for(vec![target], budget)
    }

    /// The check this module runs against several instances of one app within `budget`.
    pub fn plan_for(&self, targets: Vec<url::Url>, budget: Duration) -> CheckPlan {
        let mut plan = CheckPlan::new(targets);
        plan.budget = budget;
        if let Some(t) = self.timeout {
            plan.set_timeout(t);
        }
        plan.sampling.samples = Samples::PerAsset(self.samples);
        plan.sampling.concurrency = self.concurrency;
        let shapes: Vec<interloper_model::HelloShape> = self
            .hello_shapes
            .iter()
            .filter_map(|s| interloper_model::HelloShape::parse(s))
            .collect();
        plan.sampling.hello_shapes = interloper_check::HelloShapes::from_list(&shapes);
        plan.trust.public_roots.clone_from(&self.trust.public_roots);
        plan.trust.cacert.clone_from(&self.trust.cacert);
        plan.trust
            .private_roots
            .clone_from(&self.trust.private_roots);
        plan.trust.use_os_roots = !self.trust.no_os_roots;
        plan.trust.pins = self
            .trust
            .pins
            .iter()
            .filter_map(|p| interloper_check::Pin::parse(p).ok())
            .collect();
        plan.witnesses.extend(self.witness.iter().cloned());
        plan.connection.resolve = self.resolve.iter().filter_map(|r| r.parse().ok()).collect();
        self.connection_settings(&mut plan.connection);
        plan.command = vec!["interloper".into(), "serve".into()];
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error as `{:#}` prints it (anyhow's form: each cause after `: `).
    fn printed(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    #[test]
    fn an_unreadable_file_prints_its_reason_once() {
        let e = ServeConfig::load(std::path::Path::new("/nonexistent/interloper.toml"))
            .err()
            .map(|e| printed(&e))
            .unwrap_or_default();
        assert!(
            e.starts_with("reading /nonexistent/interloper.toml: "),
            "{e}"
        );
        assert_eq!(e.matches("No such file").count(), 1, "{e}");
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let err = ServeConfig::from_toml("[module.web]\nsampels = 3\n").unwrap_err();
        assert!(err.to_string().contains("sampels"), "{err}");
        let err = ServeConfig::from_toml("[module.web.trust]\npin = []\n").unwrap_err();
        assert!(err.to_string().contains("pin"), "{err}");
    }

    #[test]
    fn defaults_and_durations() {
        let cfg = ServeConfig::from_toml("[module.web]\nbudget = \"1500ms\"\n").unwrap();
        let m = &cfg.modules["web"];
        assert_eq!(m.budget, Duration::from_millis(1500));
        assert_eq!(m.samples, 3);
        assert_eq!(m.fail_on, vec![Severity::Error, Severity::Critical]);
        assert_eq!(
            cfg.server.max_concurrent_checks,
            DEFAULT_MAX_CONCURRENT_CHECKS
        );
        assert!(ServeConfig::from_toml("[module.web]\nbudget = \"0s\"\n").is_err());
        assert!(ServeConfig::from_toml("[module.web]\nbudget = \"soon\"\n").is_err());
    }

    #[test]
    fn declared_private_roots_reach_the_check() {
        let cfg = ServeConfig::from_toml(
            "[module.web.trust]\ncacert = [\"/etc/ssl/gateway.pem\"]\n\
             private_roots = [\"/etc/ssl/corp-root.pem\"]\n",
        )
        .unwrap();
        let plan = cfg.modules["web"].plan_for(vec![], Duration::from_secs(5));
        assert_eq!(
            plan.trust.private_roots,
            [std::path::PathBuf::from("/etc/ssl/corp-root.pem")]
        );
        assert_eq!(
            plan.trust.cacert,
            [std::path::PathBuf::from("/etc/ssl/gateway.pem")]
        );
        assert!(
            plan.to_check_args()
                .windows(2)
                .any(|w| w == ["--private-root", "/etc/ssl/corp-root.pem"])
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(ServeConfig::from_toml("").is_err());
        assert!(ServeConfig::from_toml("[module.web.trust]\npins = [\"x\"]\n").is_err());
        assert!(ServeConfig::from_toml("[module.web]\nresolve = [\"a\"]\n").is_err());
        assert!(ServeConfig::from_toml("[module.web]\nallowed_networks = [\"10/8\"]\n").is_err());
        assert!(ServeConfig::from_toml("[module.web]\nfail_on = [\"fatal\"]\n").is_err());
        assert!(
            ServeConfig::from_toml("[server]\nmax_concurrent_checks = 0\n[module.web]\n").is_err()
        );
    }

    #[test]
    fn groups_are_validated() {
        let ok = "[module.web.groups.shop]\nnode1 = \"https://a.example.com/\"\n\
                  node2 = \"https://b.example.com/\"\n";
        let cfg = ServeConfig::from_toml(ok).unwrap();
        let group = &cfg.modules["web"].groups["shop"];
        assert_eq!(group.len(), 2);
        assert_eq!(group["node2"].as_str(), "https://b.example.com/");
        let err = ServeConfig::from_toml(
            "[module.web.groups.shop]\nnode1 = \"https://a.example.com/\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("2 to 16"), "{err}");
        let err = ServeConfig::from_toml(
            "[module.web.groups.shop]\n\"no de\" = \"https://a.example.com/\"\n\
             n2 = \"https://b.example.com/\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("member"), "{err}");
        let err = ServeConfig::from_toml(
            "[module.web]\nallowed_hosts = [\"a.example.com\"]\n\
             [module.web.groups.shop]\nn1 = \"https://a.example.com/\"\n\
             n2 = \"https://evil.example.net/\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("evil.example.net"), "{err}");
        let err = ServeConfig::from_toml(
            "[module.web.groups.shop]\nn1 = \"ftp://a.example.com/\"\nn2 = \"https://b/\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("http(s)"), "{err}");
    }

    #[test]
    fn hello_shapes_default_to_the_browser_shapes_and_can_be_turned_off() {
        let cfg = ServeConfig::from_toml("[module.web]\n").unwrap();
        let plan = cfg.modules["web"].plan(
            "https://a.example/".parse().unwrap(),
            Duration::from_secs(5),
        );
        assert_eq!(plan.sampling.hello_shapes.to_list(), "classic,pq,large");
        let cfg = ServeConfig::from_toml("[module.web]\nhello_shapes = []\n").unwrap();
        let plan = cfg.modules["web"].plan(
            "https://a.example/".parse().unwrap(),
            Duration::from_secs(5),
        );
        assert_eq!(plan.sampling.hello_shapes.to_list(), "classic");
        assert!(ServeConfig::from_toml("[module.web]\nhello_shapes = [\"huge\"]\n").is_err());
    }

    #[test]
    fn a_module_reaches_its_targets_the_way_it_says() {
        let cfg = ServeConfig::from_toml(
            "[module.corp]\nbudget = \"1m30s\"\n\
             proxy_url = \"http://alice:p%2Ba%26s%25s%40w%3Ard@proxy.corp:3128\"\n\
             no_proxy = [\"intranet.corp\", \"10.0.0.0/8\"]\n\
             headers = { Host = \"www.example.com\", User-Agent = \"corp-vantage/1\" }\n\
             source_address = \"192.0.2.7\"\nip_protocol = \"ip6\"\n\
             ip_protocol_fallback = false\ndns_server = \"127.0.0.53:5353\"\n",
        )
        .unwrap();
        let m = &cfg.modules["corp"];
        assert_eq!(m.budget, Duration::from_secs(90));
        let plan = m.plan("https://a.example/".parse().unwrap(), m.budget);
        let c = &plan.connection;
        assert!(matches!(&c.proxy, ProxySetting::Url(u) if u.host_str() == Some("proxy.corp")));
        assert_eq!(c.no_proxy.as_deref(), Some("intranet.corp,10.0.0.0/8"));
        assert_eq!(c.user_agent, "corp-vantage/1");
        assert_eq!(c.headers.len(), 1);
        assert_eq!(c.headers[0].0, http::header::HOST);
        assert_eq!(c.source_address, Some("192.0.2.7".parse().unwrap()));
        assert_eq!(c.ip, interloper_check::IpFamily::V6);
        assert_eq!(c.dns_server, Some("127.0.0.53:5353".parse().unwrap()));
        // blackbox's default: the other family may be used too.
        let cfg = ServeConfig::from_toml("[module.web]\nip_protocol = \"ip4\"\n").unwrap();
        let plan = cfg.modules["web"].plan("https://a.example/".parse().unwrap(), m.budget);
        assert_eq!(plan.connection.ip, interloper_check::IpFamily::Any);
        assert_eq!(plan.connection.proxy, ProxySetting::None);
    }

    #[test]
    fn bad_connection_settings_are_refused_without_repeating_a_password() {
        let err = ServeConfig::from_toml(
            "[module.web]\nproxy_url = \"https://alice:s3cret@proxy:3128\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("proxy_url") && !err.contains("s3cret"),
            "{err}"
        );
        let err = ServeConfig::from_toml("[module.web]\nproxy_url = \"http://a:100%@p:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("proxy_url") && !err.contains("100%"), "{err}");
        assert!(ServeConfig::from_toml("[module.web]\nip_protocol = \"ipx\"\n").is_err());
        assert!(
            ServeConfig::from_toml("[module.web]\nheaders = { \"Bad Name\" = \"x\" }\n").is_err()
        );
        assert!(ServeConfig::from_toml("[module.web]\nsource_address = \"here\"\n").is_err());
        let err = ServeConfig::from_toml("[module.web]\ndns_server = \"ns.corp\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("dns_server"), "{err}");
    }

    #[test]
    fn host_patterns() {
        let cfg = ServeConfig::from_toml(
            "[module.web]\nallowed_hosts = [\"example.com\", \"*.example.org\"]\n",
        )
        .unwrap();
        let m = &cfg.modules["web"];
        assert!(m.allows_host("example.com"));
        assert!(!m.allows_host("www.example.com"));
        assert!(m.allows_host("www.example.org"));
        assert!(!m.allows_host("example.org"));
        assert!(!m.allows_host("evilexample.org"));
    }
}
