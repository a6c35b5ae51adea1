//! HTTP proxies: which one applies to a URL (curl's environment rules) and the CONNECT tunnel.

use std::net::IpAddr;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::block::AddressBlock;
use crate::config::{ProxySetting, Target};
use crate::error::ProbeError;

/// Largest CONNECT response head we accept.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

#[derive(Debug, Clone, Default)]
pub(crate) struct ProxyRules {
    http: Option<Proxy>,
    https: Option<Proxy>,
    no_proxy: Vec<String>,
    no_proxy_all: bool,
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

/// An HTTP proxy as the probe uses it: where to connect, what to send in `Proxy-Authorization`
/// on CONNECT, and how to name it in records (never with its password).
#[derive(Debug, Clone)]
pub(crate) struct Proxy {
    url: url::Url,
    /// The port written in the proxy string, if any: the URL parser drops `:80` as the
    /// scheme's default, which must not turn into curl's 1080.
    written_port: Option<u16>,
    /// `Basic BASE64(user:password)`, decoded from the URL's userinfo; None without a user.
    authorization: Option<String>,
    /// The URL without its password, for records and reports.
    shown: String,
}

impl Proxy {
    /// The proxy's host as the URL writes it (an IPv6 address in brackets).
    pub(crate) fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// Its port: the URL's, else 1080 (curl's default for a proxy).
    pub(crate) fn port(&self) -> u16 {
        self.written_port.unwrap_or(1080)
    }

    /// The URL without its password: what a record or report may show.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }
}

fn parse_proxy(s: &str) -> Result<Proxy, ProbeError> {
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("http://{s}")
    };
    let u = url::Url::parse(&with_scheme).map_err(|e| ProbeError::InvalidProxy {
        // The input itself may hold a password: name it without the userinfo.
        url: without_userinfo(&with_scheme),
        reason: e.to_string(),
    })?;
    let shown = without_password(&u);
    let bad = |reason: &str| ProbeError::InvalidProxy {
        url: shown.clone(),
        reason: reason.to_string(),
    };
    if u.scheme() != "http" {
        return Err(bad("only http:// proxies (CONNECT) are supported"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    let authorization = if u.username().is_empty() {
        None
    } else {
        let user = percent_decode(u.username()).map_err(|e| bad(&format!("user name: {e}")))?;
        let password = percent_decode(u.password().unwrap_or(""))
            .map_err(|e| bad(&format!("password: {e}")))?;
        let mut pair = user;
        pair.push(b':');
        pair.extend_from_slice(&password);
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    };
    Ok(Proxy {
        written_port: u.port().or_else(|| written_port(&with_scheme)),
        url: u,
        authorization,
        shown: shown.trim_end_matches('/').to_string(),
    })
}

/// Reads a proxy URL exactly as the probe will (http:// only, a host, user and password
/// percent-decoded for `Proxy-Authorization: Basic`): for a configuration checked at load
/// rather than at its first request. The error never repeats the password.
pub fn validate_proxy_url(s: &str) -> Result<(), ProbeError> {
    parse_proxy(s).map(|_| ())
}

/// A proxy URL with its password removed (the user name stays: it says which account was
/// used): what a record, a report or a printed command line may show.
pub fn without_password(u: &url::Url) -> String {
    let mut shown = u.clone();
    // Only fails for URLs that cannot have credentials, which then have no password either.
    let _ = shown.set_password(None);
    shown.to_string()
}

/// The port a proxy string writes after its host (`…@host:PORT/…`), read from the text.
fn written_port(s: &str) -> Option<u16> {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // An IPv6 address's own colons sit inside its brackets.
    let after_host = host_port.rsplit_once(']').map_or(host_port, |(_, p)| p);
    after_host.rsplit_once(':')?.1.parse().ok()
}

/// A proxy string that did not parse, with everything before the last `@` of its authority
/// left out, so an error message never repeats a password.
fn without_userinfo(s: &str) -> String {
    let (scheme, rest) = s.split_once("://").unwrap_or(("", s));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://…@{}{path}", &authority[at + 1..]),
        None => s.to_string(),
    }
}

impl ProxyRules {
    /// The rules for `setting`; `no_proxy` (NO_PROXY's syntax) replaces the environment's
    /// NO_PROXY when given.
    pub(crate) fn new(
        setting: &ProxySetting,
        no_proxy: Option<&str>,
    ) -> Result<ProxyRules, ProbeError> {
        let no_proxy_raw = match no_proxy {
            Some(list) => list.to_string(),
            None => env(&["no_proxy", "NO_PROXY"]).unwrap_or_default(),
        };
        let mut rules = ProxyRules::default();
        (rules.no_proxy, rules.no_proxy_all) = no_proxy_entries(&no_proxy_raw);
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
    pub(crate) fn for_target(&self, t: &Target) -> Option<&Proxy> {
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
        let unbracketed = host.trim_start_matches('[').trim_end_matches(']');
        let host_ip: Option<IpAddr> = unbracketed.parse().ok();
        self.no_proxy.iter().any(|e| {
            if let Some(ip) = host_ip {
                if e.contains('/') {
                    return e.parse::<AddressBlock>().is_ok_and(|b| b.contains(ip));
                }
                // An address entry matches the same address however it is written.
                if let Ok(entry) = e.parse::<IpAddr>() {
                    return entry.to_canonical() == ip.to_canonical();
                }
            }
            host == e
                || (host.len() > e.len()
                    && host.ends_with(e.as_str())
                    && host.as_bytes().get(host.len() - e.len() - 1) == Some(&b'.'))
        })
    }
}

/// NO_PROXY's entries as curl reads them: comma-separated, a leading dot meaning the same
/// domain, an IPv6 address with or without brackets, `*` for every host (the `bool`).
fn no_proxy_entries(raw: &str) -> (Vec<String>, bool) {
    let mut all = false;
    let entries = raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|entry| {
            all |= entry == "*";
            let entry = entry.trim_start_matches('.');
            let unbracketed = entry
                .strip_prefix('[')
                .and_then(|e| e.split_once(']'))
                .map(|(address, rest)| format!("{address}{rest}"));
            unbracketed
                .unwrap_or_else(|| entry.to_string())
                .to_ascii_lowercase()
        })
        .collect();
    (entries, all)
}

/// Open a CONNECT tunnel on an established proxy connection. The proxy's credentials go in
/// this CONNECT only, never into the tunnel. The error string is one line.
pub(crate) async fn connect_tunnel(
    stream: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), String> {
    let head = connect_head(proxy, host, port);
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
        Some(407) => Err(format!(
            "proxy authentication failed: the proxy answered CONNECT with {:?} ({})",
            line.trim(),
            if proxy.authorization.is_some() {
                "it refused the user and password of the proxy URL"
            } else {
                "it wants a user and password: http://USER:PASSWORD@HOST:PORT, percent-encoded"
            }
        )),
        _ => Err(format!("proxy answered CONNECT with {:?}", line.trim())),
    }
}

/// The CONNECT request head for `host:port`, with `Proxy-Authorization` when the proxy URL
/// holds a user.
fn connect_head(proxy: &Proxy, host: &str, port: u16) -> String {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = &proxy.authorization {
        head.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    head.push_str("\r\n");
    head
}

fn memchr_crlfcrlf(b: &[u8]) -> bool {
    b.windows(4).any(|w| w == b"\r\n\r\n")
}

/// RFC 3986 percent-decoding of a URL's user or password: `%XX` is the byte 0xXX and every
/// other character stands for itself — `+` is a plus, not a space as in a form.
fn percent_decode(s: &str) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        let Some(byte) = hex else {
            return Err(format!(
                "'%' at character {} is not followed by two hex digits (write a literal % as %25)",
                s[..i].chars().count() + 1
            ));
        };
        out.push(byte);
        i += 3;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Proxy-Authorization` value a proxy URL gives, decoded back to `user:password`.
    fn credentials(url: &str) -> String {
        let proxy = parse_proxy(url).unwrap();
        let value = proxy.authorization.expect("a user in the URL");
        let token = value.strip_prefix("Basic ").expect("Basic");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(token)
            .unwrap();
        String::from_utf8(raw).unwrap()
    }

    #[test]
    fn a_written_port_is_kept_even_the_schemes_default_and_none_is_1080() {
        for (url, port) in [
            ("http://proxy.corp:80", 80),
            ("proxy.corp:80", 80),
            ("http://alice:p%3A80@proxy.corp:80/", 80),
            ("http://[::1]:80", 80),
            ("http://proxy.corp:3128", 3128),
            ("http://proxy.corp", 1080),
            ("http://[::1]", 1080),
            ("http://alice:p%3A80@proxy.corp", 1080),
        ] {
            assert_eq!(parse_proxy(url).unwrap().port(), port, "{url}");
        }
    }

    #[test]
    fn each_reserved_character_of_a_password_survives_percent_encoded() {
        for (encoded, plain) in [
            ("p%2Bss", "p+ss"),
            ("p+ss", "p+ss"),
            ("p%26ss", "p&ss"),
            ("p&ss", "p&ss"),
            ("p%25ss", "p%ss"),
            ("p%40ss", "p@ss"),
            ("p%3Ass", "p:ss"),
            ("p%3ass", "p:ss"),
            ("p%20ss", "p ss"),
            ("p%2Ba%26s%25s%40w%3Ard", "p+a&s%s@w:rd"),
        ] {
            assert_eq!(
                credentials(&format!("http://alice:{encoded}@127.0.0.1:3128")),
                format!("alice:{plain}"),
                "{encoded}"
            );
        }
    }

    #[test]
    fn unencoded_at_and_colon_in_a_password_are_read_as_a_url_parser_reads_them() {
        // The last `@` ends the userinfo and the first `:` ends the user: what is between is
        // the password, whatever it holds.
        assert_eq!(
            credentials("http://alice:p@ss:w@127.0.0.1:3128"),
            "alice:p@ss:w"
        );
        assert_eq!(credentials("http://al%40ice@proxy:3128"), "al@ice:");
    }

    #[test]
    fn a_non_utf8_password_is_sent_as_its_bytes() {
        let proxy = parse_proxy("http://u:%FF%00@proxy:1").unwrap();
        let token = proxy.authorization.unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(token.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(raw, b"u:\xff\x00");
    }

    #[test]
    fn malformed_percent_encoding_is_one_honest_line_without_the_password() {
        for bad in [
            "http://u:p%s@proxy:1",
            "http://u:p%2@proxy:1",
            "http://u:p%+1@proxy:1",
        ] {
            let e = parse_proxy(bad).unwrap_err().to_string();
            assert!(e.contains("password"), "{e}");
            assert!(e.contains("write a literal % as %25"), "{e}");
            assert!(!e.contains('\n'), "{e}");
            assert!(!e.contains("p%"), "the password is not repeated: {e}");
        }
        let e = parse_proxy("http://u%zz:p@proxy:1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("user name"), "{e}");
    }

    #[test]
    fn records_name_the_proxy_without_its_password() {
        let p = parse_proxy("http://alice:s%40cret@127.0.0.1:3128").unwrap();
        assert_eq!(p.shown(), "http://alice@127.0.0.1:3128");
        assert_eq!(
            parse_proxy("proxy:8080").unwrap().shown(),
            "http://proxy:8080"
        );
        let e = parse_proxy("http://alice:secret@[::1")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
        let e = parse_proxy("https://alice:secret@proxy")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn credentials_go_in_the_connect_head_only_when_the_url_has_a_user() {
        let with = connect_head(
            &parse_proxy("http://alice:p%2Bw@proxy:3128").unwrap(),
            "::1",
            443,
        );
        assert_eq!(
            with,
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nProxy-Authorization: Basic YWxpY2U6cCt3\r\n\r\n"
        );
        let without = connect_head(&parse_proxy("proxy:3128").unwrap(), "example.com", 443);
        assert_eq!(
            without,
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        );
    }

    #[test]
    fn an_ipv6_proxy_is_reached_at_its_address() {
        let p = parse_proxy("http://[::1]:3128").unwrap();
        assert_eq!((p.host(), p.port()), ("[::1]", 3128));
        assert_eq!(parse_proxy("proxy").unwrap().port(), 1080);
    }

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
        // The same address written as IPv4-mapped IPv6 goes where 10.1.2.3 goes.
        assert!(r.for_target(&t("https://[::ffff:10.1.2.3]/")).is_none());
        assert!(r.for_target(&t("https://[::ffff:11.1.2.3]/")).is_some());
        assert!(
            r.for_target(&t("http://other/")).is_none(),
            "no http proxy set"
        );
        assert_eq!(
            r.for_target(&t("https://other/")).map(Proxy::port),
            Some(3128)
        );
    }

    #[test]
    fn no_proxy_entries_are_read_like_curl() {
        let (entries, all) = no_proxy_entries(" .Example.COM, [::1],[fd00::]/8 ,, 10.0.0.0/8");
        assert_eq!(entries, ["example.com", "::1", "fd00::/8", "10.0.0.0/8"]);
        assert!(!all);
        let r = ProxyRules {
            no_proxy: entries,
            ..rules(&[])
        };
        let t = |u: &str| Target::parse(u).unwrap();
        assert!(r.for_target(&t("https://[::1]:8443/")).is_none());
        assert!(r.for_target(&t("https://[fd12::1]/")).is_none());
        assert!(r.for_target(&t("https://[fe80::1]/")).is_some());
        assert!(r.for_target(&t("https://WWW.example.com/")).is_none());
        assert!(no_proxy_entries("a, *").1);
    }

    #[test]
    fn proxy_urls_are_checked() {
        assert!(parse_proxy("socks5://x:1").is_err());
        assert!(parse_proxy("http://").is_err());
        assert!(parse_proxy("proxy:8080").is_ok());
    }
}
