//! The browser witness: the visit page a user opens in their own browser, the per-visit record
//! of every hello and request the witness received for it, and the judgement written to the
//! visits log when the page reports (issue 14; docs/visits.md).
//!
//! Internet-facing like the rest of the witness: visits in memory are bounded in number and
//! age, a report is read with a size cap and a deadline, parsed strictly (unknown fields
//! refused) and validated before anything is kept, each visit takes one report, and the log
//! rotates at a size.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use interloper_findings::visits::{
    HelloSeen, ProxySigns, VisitRecord, WitnessSide, clean_text, hello_family, hello_traits,
};
use interloper_model::witness::ClientHelloReport;
use interloper_model::witness::visit::{VISIT_CODE_ALPHABET, VISIT_CODE_LEN};
use sha2::{Digest, Sha256};

mod judge;

use judge::hello_codes;
pub(crate) use judge::{answer, judge};

const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");

/// Test-file sizes the page downloads each round: small, ~64 KiB, ~1 MiB.
pub const TEST_SIZES: [u64; 3] = [2048, 65_536, 1_048_576];

/// How the witness runs visits.
#[derive(Debug, Clone)]
pub struct VisitSettings {
    /// How long the page measures (default 15 s; a page may ask for 3–60 s with `?seconds=`).
    pub duration: Duration,
    /// The site's own static URLs the page also downloads (cross-origin).
    pub site_urls: Vec<url::Url>,
    /// Where each judged visit is appended as one JSON line; `None` keeps nothing.
    pub log: Option<PathBuf>,
    /// Size at which the log is renamed to `FILE.1` (replacing it) and started anew.
    pub log_max_bytes: u64,
    /// Keep each visit's client network and User-Agent; `false` keeps only what the
    /// aggregates need.
    pub keep_details: bool,
    /// Visits remembered in memory until their report (oldest dropped first).
    pub max_open_visits: usize,
    /// How long a visit waits for its report.
    pub visit_ttl: Duration,
}

impl Default for VisitSettings {
    fn default() -> Self {
        VisitSettings {
            duration: Duration::from_secs(15),
            site_urls: Vec::new(),
            log: None,
            log_max_bytes: 64 * 1024 * 1024,
            keep_details: true,
            max_open_visits: 10_000,
            visit_ttl: Duration::from_secs(600),
        }
    }
}

/// Most requests of one visit whose server time is kept.
const MAX_SEEDS: usize = 1024;
/// Most distinct hellos kept for one visit.
const MAX_HELLOS: usize = 16;

/// What the witness gathers for a visit until its report arrives.
struct OpenVisit {
    opened: Instant,
    started_unix_ms: u64,
    client_network: String,
    user_agent: String,
    proxy: ProxySigns,
    hellos: Vec<(HelloSeen, String)>,
    server_ms_by_seed: BTreeMap<u64, f64>,
}

/// Visits waiting for their report, and the log.
pub(crate) struct Visits {
    pub settings: VisitSettings,
    open: Mutex<(HashMap<String, OpenVisit>, VecDeque<String>)>,
    log: Mutex<Option<std::fs::File>>,
}

/// What one request of a visit brings to its record.
pub(crate) struct Sighting<'a> {
    pub hello: &'a ClientHelloReport,
    pub peer: IpAddr,
    pub user_agent: Option<&'a str>,
    pub via: Option<&'a str>,
    pub forwarded_for: Option<&'a str>,
    pub forwarded: bool,
}

impl Visits {
    pub(crate) fn new(settings: VisitSettings) -> std::io::Result<Visits> {
        let log = match &settings.log {
            None => None,
            Some(path) => Some(open_log(path)?),
        };
        Ok(Visits {
            settings,
            open: Mutex::new((HashMap::new(), VecDeque::new())),
            log: Mutex::new(log),
        })
    }

    /// Opens a visit for a page being served; its code.
    pub(crate) fn open(&self, first: &Sighting<'_>) -> String {
        let code = new_code();
        let visit = OpenVisit {
            opened: Instant::now(),
            started_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            client_network: network_of(first.peer),
            user_agent: String::new(),
            proxy: ProxySigns::default(),
            hellos: Vec::new(),
            server_ms_by_seed: BTreeMap::new(),
        };
        let mut guard = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        // Expired and excess visits go first: memory stays bounded however many pages load.
        while let Some(oldest) = order.front() {
            let expired = map
                .get(oldest)
                .is_none_or(|v| v.opened.elapsed() > self.settings.visit_ttl);
            if expired || map.len() >= self.settings.max_open_visits {
                let oldest = order.pop_front().unwrap_or_default();
                map.remove(&oldest);
            } else {
                break;
            }
        }
        map.insert(code.clone(), visit);
        order.push_back(code.clone());
        drop(guard);
        self.see(&code, first, None);
        code
    }

    /// Records one request of a visit: its connection's hello, headers and — for a test
    /// file — the witness's own time for it. False when the visit is unknown or expired.
    pub(crate) fn see(&self, code: &str, s: &Sighting<'_>, seed_time: Option<(u64, f64)>) -> bool {
        let mut guard = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let Some(v) = guard.0.get_mut(code) else {
            return false;
        };
        if v.opened.elapsed() > self.settings.visit_ttl {
            return false;
        }
        if v.user_agent.is_empty()
            && let Some(ua) = s.user_agent
        {
            v.user_agent = clean_text(ua, 400);
        }
        if let Some(via) = s.via {
            v.proxy.via = Some(clean_text(via, 120));
        }
        if let Some(xff) = s.forwarded_for {
            let hops = xff.split(',').filter(|h| !h.trim().is_empty()).count();
            v.proxy.forwarded_for_hops = v
                .proxy
                .forwarded_for_hops
                .max(u32::try_from(hops).unwrap_or(u32::MAX));
        }
        v.proxy.forwarded |= s.forwarded;
        let random = &s.hello.client_random;
        let known = v.hellos.iter().position(|(h, _)| h.ja4 == s.hello.ja4.ja4);
        match known {
            Some(i) => {
                let (seen, last_random) = &mut v.hellos[i];
                seen.requests += 1;
                if last_random != random {
                    seen.connections += 1;
                    last_random.clone_from(random);
                }
            }
            None if v.hellos.len() < MAX_HELLOS => v.hellos.push((
                HelloSeen {
                    ja4: s.hello.ja4.ja4.clone(),
                    ja3: s.hello.ja3.hash.clone(),
                    family: hello_family(&hello_codes(s.hello)),
                    traits: hello_traits(&hello_codes(s.hello))
                        .iter()
                        .map(|t| t.to_string())
                        .collect(),
                    // An exact name when the knowledge file knows this JA4 (docs/tls-verdicts.md).
                    stack: interloper_wire::stacks::identify(&s.hello.ja4.ja4)
                        .map(|m| m.describe()),
                    size: hello_size(s.hello),
                    connections: 1,
                    requests: 1,
                    raw_base64: s.hello.handshake_base64.clone(),
                },
                random.clone(),
            )),
            None => {}
        }
        if let Some((seed, ms)) = seed_time
            && v.server_ms_by_seed.len() < MAX_SEEDS
        {
            v.server_ms_by_seed.insert(seed, ms);
        }
        true
    }

    /// Takes a visit out for judging (one report per visit).
    pub(crate) fn take(&self, code: &str) -> Option<WitnessSide> {
        let mut guard = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let v = guard.0.remove(code)?;
        if v.opened.elapsed() > self.settings.visit_ttl {
            return None;
        }
        Some(WitnessSide {
            visit: code.to_string(),
            started_unix_ms: v.started_unix_ms,
            client_network: Some(v.client_network),
            user_agent: v.user_agent,
            hellos: v.hellos.into_iter().map(|(h, _)| h).collect(),
            proxy: v.proxy,
            server_ms_by_seed: v.server_ms_by_seed,
        })
    }

    /// Appends a judged visit to the log, rotating it at its size limit. A failed write is
    /// one error log line; the visitor still gets their answer.
    pub(crate) fn append(&self, record: &VisitRecord) {
        let Some(path) = &self.settings.log else {
            return;
        };
        let mut line = serde_json::to_string(record).unwrap_or_default();
        line.push('\n');
        let mut guard = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let size = guard
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        if size + line.len() as u64 > self.settings.log_max_bytes && size > 0 {
            let mut rotated = path.clone().into_os_string();
            rotated.push(".1");
            let reopened = std::fs::rename(path, &rotated).and_then(|()| open_log(path));
            match reopened {
                Ok(f) => *guard = Some(f),
                Err(e) => {
                    log::error!(file:% = path.display(), err:% = e; "rotating the visits log failed");
                }
            }
        }
        if let Some(f) = guard.as_mut()
            && let Err(e) = f.write_all(line.as_bytes())
        {
            log::error!(file:% = path.display(), err:% = e; "writing the visits log failed");
        }
    }

    /// Opens the log's path anew (logrotate renamed it). Under the log's lock, so a line is
    /// wholly in the old file or wholly in the new one. Without a log, nothing to do.
    pub(crate) fn reopen_log(&self) -> std::io::Result<()> {
        let Some(path) = &self.settings.log else {
            return Ok(());
        };
        let mut guard = self.log.lock().unwrap_or_else(|p| p.into_inner());
        *guard = Some(open_log(path)?);
        Ok(())
    }

    /// The page for a new visit and its Content-Security-Policy.
    pub(crate) fn page(&self, code: &str, seconds: u64) -> (String, String) {
        let rounds = 20u64;
        let config = serde_json::json!({
            "visit": code,
            "seconds": seconds,
            "sizes": TEST_SIZES,
            "site": self.settings.site_urls.iter().map(url::Url::as_str).collect::<Vec<_>>(),
            "payload": crate::witness::PATH_PAYLOAD,
            "report": interloper_model::witness::visit::PATH_VISIT_REPORT,
            "round_ms": seconds * 1000 / rounds,
            "max_downloads": 400,
        });
        // `</` cannot end the data block early, whatever a configured URL holds.
        let config = config.to_string().replace("</", "<\\/");
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <meta name=\"referrer\" content=\"no-referrer\">\
             <title>Connection check</title><style>{STYLE}</style></head>\n<body>\n<main>\n\
             <h1>Connection check</h1>\n\
             <p>This page measures how files reach your browser from this server and whether \
             something on your network opens your encrypted connections. It takes about \
             <span id=\"secs\"></span> seconds; keep this tab open. Nothing about you is sent \
             anywhere but this server.</p>\n\
             <progress id=\"bar\" max=\"100\" value=\"0\"></progress>\n\
             <p id=\"status\" role=\"status\">Starting…</p>\n\
             <section id=\"result\" hidden>\n<h2 id=\"headline\"></h2>\n<ul id=\"details\"></ul>\n\
             <p>Your visit code: <strong id=\"code\"></strong> — send it to the person who asked \
             you to open this page.</p>\n</section>\n\
             <noscript>This check needs JavaScript.</noscript>\n</main>\n\
             <script type=\"application/json\" id=\"config\">{config}</script>\n\
             <script>{SCRIPT}</script>\n</body></html>\n"
        );
        let origins: Vec<String> = self
            .settings
            .site_urls
            .iter()
            .map(|u| u.origin().ascii_serialization())
            .collect();
        let csp = format!(
            "default-src 'none'; script-src '{}'; style-src '{}'; connect-src 'self'{}{}; \
             img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            csp_hash(SCRIPT),
            csp_hash(STYLE),
            if origins.is_empty() { "" } else { " " },
            origins.join(" ")
        );
        (page, csp)
    }
}

fn open_log(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// `sha256-BASE64` of an inline block, as CSP names it.
fn csp_hash(text: &str) -> String {
    format!("sha256-{}", B64.encode(Sha256::digest(text.as_bytes())))
}

/// A fresh visit code from the operating system's random source.
fn new_code() -> String {
    let mut bytes = [0u8; VISIT_CODE_LEN];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No OS randomness: fall back to the clock; codes stay unique, only less secret.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes.copy_from_slice(&nanos.to_le_bytes()[..VISIT_CODE_LEN]);
    }
    bytes
        .iter()
        .map(|b| char::from(VISIT_CODE_ALPHABET[usize::from(*b) % VISIT_CODE_ALPHABET.len()]))
        .collect()
}

/// The client's network: /24 for IPv4, /48 for IPv6 — enough to group visitors by site, not
/// enough to name one.
fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return network_of(IpAddr::V4(v4));
            }
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// The hello's size: its handshake message, from the base64 the report carries.
fn hello_size(h: &ClientHelloReport) -> u32 {
    // 4 base64 characters carry 3 bytes.
    u32::try_from(h.handshake_base64.len() / 4 * 3).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_networks() {
        let a = new_code();
        assert!(interloper_model::witness::visit::is_visit_code(&a), "{a}");
        assert_ne!(a, new_code());
        assert_eq!(
            network_of("203.0.113.77".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            network_of("2001:db8:1:2::5".parse().unwrap()),
            "2001:db8:1::/48"
        );
        assert_eq!(
            network_of("::ffff:192.0.2.9".parse().unwrap()),
            "192.0.2.0/24"
        );
    }

    #[test]
    fn the_page_pins_its_own_script_and_style() {
        let v = Visits::new(VisitSettings {
            site_urls: vec![
                "https://static.example.com/app.css?</script>"
                    .parse()
                    .unwrap(),
            ],
            ..VisitSettings::default()
        })
        .unwrap();
        let (page, csp) = v.page("ABCD2345", 15);
        assert!(csp.contains(&csp_hash(SCRIPT)) && csp.contains(&csp_hash(STYLE)));
        assert!(csp.contains("connect-src 'self' https://static.example.com"));
        assert!(!csp.contains("unsafe"));
        // The configured URL cannot close the data block (url percent-encodes `<` anyway).
        assert_eq!(page.matches("</script>").count(), 2, "{page}");
    }
}
