//! HTTP proxies: which one applies to a URL (curl's environment rules) and the CONNECT tunnel.

use std::net::IpAddr;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{ProxySetting, Target};
use crate::error::ProbeError;

/// Largest CONNECT response head we accept.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

#[derive(Debug, Clone, Default)]
pub(crate) struct ProxyRules {
    http: Option<url::Url>,
    https: Option<url::Url>,
    no_proxy: Vec<String>,
    no_proxy_all: bool,
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

fn parse_proxy(s: &str) -> Result<url::Url, ProbeError> {
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("http://{s}")
    };
    let bad = |reason: &str| ProbeError::InvalidProxy {
        url: s.to_string(),
        reason: reason.to_string(),
    };
    let u = url::Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
    if u.scheme() != "http" {
        return Err(bad("only http:// proxies (CONNECT) are supported"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    Ok(u)
}

impl ProxyRules {
    pub(crate) fn new(setting: &ProxySetting) -> Result<ProxyRules, ProbeError> {
        let no_proxy_raw = env(&["no_proxy", "NO_PROXY"]).unwrap_or_default();
        let mut rules = ProxyRules::default();
        for entry in no_proxy_raw
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "*" {
                rules.no_proxy_all = true;
            }
            rules
                .no_proxy
                .push(entry.trim_start_matches('.').to_ascii_lowercase());
        }
        match setting {
            ProxySetting::None => {}
            ProxySetting::Url(u) => {
                let u = parse_proxy(u.as_str())?;
                rules.http = Some(u.clone());
                rules.https = Some(u);
            }
            ProxySetting::FromEnv => {
                // As curl: `http_proxy` only in lower case (HTTP_PROXY can be set by CGI callers).
                let all = env(&["all_proxy", "ALL_PROXY"]);
                if let Some(p) = env(&["http_proxy"]).or_else(|| all.clone()) {
                    rules.http = Some(parse_proxy(&p)?);
                }
                if let Some(p) = env(&["https_proxy", "HTTPS_PROXY"]).or(all) {
                    rules.https = Some(parse_proxy(&p)?);
                }
            }
        }
        Ok(rules)
    }

    /// The proxy to use for this target, if any.
    pub(crate) fn for_target(&self, t: &Target) -> Option<&url::Url> {
        let p = if t.is_https() {
            self.https.as_ref()
        } else {
            self.http.as_ref()
        }?;
        if self.no_proxy_all || self.bypass(&t.host().to_ascii_lowercase()) {
            return None;
        }
        Some(p)
    }

    fn bypass(&self, host: &str) -> bool {
        let host_ip: Option<IpAddr> = host.parse().ok();
        self.no_proxy.iter().any(|e| {
            if let (Some(ip), Some((net, bits))) = (host_ip, e.split_once('/')) {
                return cidr_contains(net, bits, ip);
            }
            host == e
                || (host.len() > e.len()
                    && host.ends_with(e.as_str())
                    && host.as_bytes().get(host.len() - e.len() - 1) == Some(&b'.'))
        })
    }
}

fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// Open a CONNECT tunnel on an established proxy connection. The error string is one line.
pub(crate) async fn connect_tunnel(
    stream: &mut TcpStream,
    proxy: &url::Url,
    host: &str,
    port: u16,
) -> Result<(), String> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if !proxy.username().is_empty() {
        let user = percent_decode(proxy.username());
        let pass = percent_decode(proxy.password().unwrap_or(""));
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        head.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| format!("writing CONNECT: {e}"))?;
    // Read byte-wise-bounded chunks until the end of the head; the proxy sends nothing after it
    // until we speak, so no tunnel bytes are consumed here.
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading CONNECT response: {e}"))?;
        if n == 0 {
            return Err("proxy closed the connection during CONNECT".into());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if memchr_crlfcrlf(&buf) {
            break;
        }
        if buf.len() > MAX_CONNECT_HEAD {
            return Err("CONNECT response head too large".into());
        }
    }
    let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(s) if (200..300).contains(&s) => Ok(()),
        _ => Err(format!("proxy answered CONNECT with {:?}", line.trim())),
    }
}

fn memchr_crlfcrlf(b: &[u8]) -> bool {
    b.windows(4).any(|w| w == b"\r\n\r\n")
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(no: &[&str]) -> ProxyRules {
        ProxyRules {
            https: Some(parse_proxy("127.0.0.1:3128").unwrap()),
            http: None,
            no_proxy: no.iter().map(|s| s.to_string()).collect(),
            no_proxy_all: false,
        }
    }

    #[test]
    fn no_proxy_matches_like_curl() {
        let r = rules(&["example.com", "10.0.0.0/8"]);
        let t = |u: &str| Target::parse(u).unwrap();
        assert!(r.for_target(&t("https://example.com/")).is_none());
        assert!(r.for_target(&t("https://a.example.com/")).is_none());
        assert!(r.for_target(&t("https://badexample.com/")).is_some());
        assert!(r.for_target(&t("https://10.1.2.3/")).is_none());
        assert!(
            r.for_target(&t("http://other/")).is_none(),
            "no http proxy set"
        );
        assert_eq!(
            r.for_target(&t("https://other/"))
                .map(|u| u.port_or_known_default()),
            Some(Some(3128))
        );
    }

    #[test]
    fn proxy_urls_are_checked() {
        assert!(parse_proxy("socks5://x:1").is_err());
        assert!(parse_proxy("http://").is_err());
        assert!(parse_proxy("proxy:8080").is_ok());
    }
}
