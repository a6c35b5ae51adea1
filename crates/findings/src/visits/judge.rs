//! One visit judged: the hellos the witness received for it against the browser its requests
//! claimed to be, the browser's own timings against the witness's, and what a proxy added.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ua::{Claimed, StackFamily, claimed_browser};
use crate::Confidence;

/// `schema` of a visit record (one JSON line of the witness's visits log).
/// A download slower than this stalled (the same bar as `check`'s stall findings).
pub const STALL_MS: f64 = 2000.0;

/// A distinct ClientHello the witness received for a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloSeen {
    /// Its JA4.
    pub ja4: String,
    /// Its JA3 hash.
    pub ja3: String,
    /// The stack family its traits show.
    pub family: StackFamily,
    /// The traits that decided (GREASE, ALPS, …).
    pub traits: Vec<String>,
    /// The stack a knowledge file names for this exact JA4, when one does.
    pub stack: Option<String>,
    /// The hello's size in bytes.
    pub size: u32,
    /// Connections that began with it.
    pub connections: u32,
    /// Requests of this visit made on those connections.
    pub requests: u32,
    /// The hello itself (handshake message, base64), to re-fingerprint or add to a knowledge
    /// file later.
    #[serde(default)]
    pub raw_base64: String,
}

/// What a proxy on the way added to the requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxySigns {
    /// The `Via` header, cleaned (printable ASCII, at most 120 characters).
    pub via: Option<String>,
    /// Hops listed in `X-Forwarded-For` (the addresses themselves are not kept).
    pub forwarded_for_hops: u32,
    /// Whether a `Forwarded` header arrived.
    pub forwarded: bool,
}

impl ProxySigns {
    /// Whether any proxy header arrived.
    pub fn any(&self) -> bool {
        self.via.is_some() || self.forwarded_for_hops > 0 || self.forwarded
    }
}

/// What the witness recorded itself about a visit's requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WitnessSide {
    /// The visit code.
    pub visit: String,
    /// When the page was served, Unix milliseconds.
    pub started_unix_ms: u64,
    /// The client's network (`203.0.113.0/24`, `2001:db8:1::/48`), or `None` to keep none.
    pub client_network: Option<String>,
    /// The User-Agent header the requests carried.
    pub user_agent: String,
    /// Every distinct hello.
    pub hellos: Vec<HelloSeen>,
    /// Proxy headers.
    pub proxy: ProxySigns,
    /// The witness's own time for each test-file request, by seed, milliseconds (request
    /// head received → response head ready).
    pub server_ms_by_seed: BTreeMap<u64, f64>,
}

/// Where a download the page timed came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DownloadFrom {
    /// A test file from the witness itself.
    Witness,
    /// One of the site's own static URLs.
    Site,
}

/// One download as the visit page timed it in the visitor's browser (the witness fills it in
/// from the page's validated report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageDownload {
    /// Where it came from.
    pub from: DownloadFrom,
    /// The test file's seed (what the witness timed it by).
    pub seed: u64,
    /// Whether it completed.
    pub ok: bool,
    /// Whether the browser showed its phases (a cross-origin URL needs `Timing-Allow-Origin`).
    pub timing_allowed: bool,
    /// `h2`, `http/1.1`, or empty when hidden.
    pub protocol: String,
    /// How long it took in the browser (ms).
    pub duration_ms: f64,
}

/// How the downloads went.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Downloads {
    /// Test files from the witness.
    pub witness: u32,
    /// Of which failed.
    pub witness_failed: u32,
    /// The site's own URLs.
    pub site: u32,
    /// Of which failed.
    pub site_failed: u32,
    /// Site downloads whose phases the browser hid (cross-origin, no `Timing-Allow-Origin`).
    pub site_timing_hidden: u32,
    /// Downloads over [`STALL_MS`].
    pub stalled: u32,
    /// Stalled test files the witness answered at once: the time went on the path.
    pub stalled_on_path: u32,
    /// Stalled test files the witness itself was slow to answer.
    pub stalled_at_server: u32,
    /// Median download time, milliseconds.
    pub p50_ms: f64,
    /// 90th percentile, milliseconds.
    pub p90_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
    /// Downloads by protocol (`h2`, `http/1.1`, or `hidden`).
    pub protocols: BTreeMap<String, u32>,
}

/// The conclusion about a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// Whether something re-encrypts the visitor's connections.
    pub intercepted: bool,
    /// How sure, when intercepted.
    pub confidence: Option<Confidence>,
    /// Whether every hello is one the claimed browser sends; `None` when the User-Agent names
    /// no browser to compare with.
    pub hello_matches_user_agent: Option<bool>,
    /// Why, one sentence each.
    pub reasons: Vec<String>,
}

/// One visit, as the witness's visits log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitRecord {
    /// Always [`interloper_model::schema::VISIT`].
    pub schema: String,
    /// The visit code the user sends to the operator.
    pub visit: String,
    /// When the page was served, Unix milliseconds.
    pub time_unix_ms: u64,
    /// The client's network prefix, unless the witness keeps none.
    pub client_network: Option<String>,
    /// The User-Agent header, unless the witness keeps none (cleaned, at most 200 characters).
    pub user_agent: Option<String>,
    /// What the User-Agent claims.
    pub claimed: Claimed,
    /// The hellos received.
    pub hellos: Vec<HelloSeen>,
    /// Proxy headers.
    pub proxy: ProxySigns,
    /// How the downloads went.
    pub downloads: Downloads,
    /// The conclusion.
    pub judgement: Judgement,
    /// What the visitor was shown.
    pub headline: String,
}

/// Keeps printable ASCII and at most `max` characters: what the operator's reports show.
pub fn clean_text(s: &str, max: usize) -> String {
    interloper_model::text::printable_ascii(s, max)
}

/// Judges a visit from the witness's side and the downloads the page reported. `keep_details`
/// false keeps only what aggregates need (no network prefix, no User-Agent string).
pub fn judge_visit(side: &WitnessSide, page: &[PageDownload], keep_details: bool) -> VisitRecord {
    let claimed = claimed_browser(&side.user_agent);
    let downloads = downloads(side, page);
    let judgement = judgement(side, &claimed);
    let headline = headline(&judgement, &downloads, side);
    VisitRecord {
        schema: interloper_model::schema::VISIT.into(),
        visit: side.visit.clone(),
        time_unix_ms: side.started_unix_ms,
        client_network: if keep_details {
            side.client_network.clone()
        } else {
            None
        },
        user_agent: keep_details.then(|| clean_text(&side.user_agent, 200)),
        claimed,
        hellos: side.hellos.clone(),
        proxy: side.proxy.clone(),
        downloads,
        judgement,
        headline,
    }
}

fn judgement(side: &WitnessSide, claimed: &Claimed) -> Judgement {
    let Some(expected) = claimed.family else {
        return Judgement {
            intercepted: false,
            confidence: None,
            hello_matches_user_agent: None,
            reasons: vec![format!(
                "the User-Agent ({}) names no browser, so its hello cannot be compared",
                claimed.name
            )],
        };
    };
    let foreign: Vec<&HelloSeen> = side
        .hellos
        .iter()
        .filter(|h| h.family != expected)
        .collect();
    if foreign.is_empty() {
        return Judgement {
            intercepted: false,
            confidence: None,
            hello_matches_user_agent: Some(!side.hellos.is_empty()),
            reasons: if side.hellos.is_empty() {
                vec!["no TLS hello was recorded for this visit".into()]
            } else {
                vec![format!(
                    "every hello received is {}'s, as {} sends",
                    expected.label(),
                    claimed.name
                )]
            },
        };
    }
    // The page's script ran and reported, so a browser made these requests. A hello with no
    // browser's traits on them was re-originated by something on the way; a hello of another
    // browser family is weaker evidence (a User-Agent switcher does the same).
    let non_browser = foreign.iter().any(|h| h.family == StackFamily::NonBrowser);
    let confidence = if non_browser {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let reasons = foreign
        .iter()
        .map(|h| {
            let what = h
                .stack
                .clone()
                .unwrap_or_else(|| h.family.label().to_string());
            format!(
                "the hello that reached the server is {what}'s (JA4 {}), not {}'s: {} claims {} \
                 but {} of its requests arrived on connections begun with this hello",
                h.ja4,
                expected.label(),
                claimed.name,
                expected.label(),
                h.requests
            )
        })
        .chain(std::iter::once(
            "a User-Agent that is spoofed or unusual (a switcher extension, an embedded browser) \
             can cause this too; a hello with no browser's traits at all cannot"
                .to_string(),
        ))
        .collect();
    Judgement {
        intercepted: true,
        confidence: Some(confidence),
        hello_matches_user_agent: Some(false),
        reasons,
    }
}

fn downloads(side: &WitnessSide, page: &[PageDownload]) -> Downloads {
    let mut d = Downloads::default();
    let mut times: Vec<f64> = Vec::with_capacity(page.len());
    for e in page {
        match e.from {
            DownloadFrom::Witness => {
                d.witness += 1;
                d.witness_failed += u32::from(!e.ok);
            }
            DownloadFrom::Site => {
                d.site += 1;
                d.site_failed += u32::from(!e.ok);
                d.site_timing_hidden += u32::from(!e.timing_allowed);
            }
        }
        let protocol = if e.protocol.is_empty() {
            "hidden"
        } else {
            e.protocol.as_str()
        };
        *d.protocols.entry(protocol.to_string()).or_default() += 1;
        times.push(e.duration_ms);
        if e.duration_ms > STALL_MS {
            d.stalled += 1;
            if e.from == DownloadFrom::Witness
                && let Some(server) = side.server_ms_by_seed.get(&e.seed)
            {
                if *server * 2.0 < e.duration_ms {
                    d.stalled_on_path += 1;
                } else {
                    d.stalled_at_server += 1;
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    d.p50_ms = interloper_model::units::percentile(&times, 0.5).unwrap_or(0.0);
    d.p90_ms = interloper_model::units::percentile(&times, 0.9).unwrap_or(0.0);
    d.max_ms = times.last().copied().unwrap_or(0.0);
    d
}

fn headline(j: &Judgement, d: &Downloads, side: &WitnessSide) -> String {
    let total = d.witness + d.site;
    let stalls = if d.stalled == 0 {
        format!("all {total} downloads finished without a stall")
    } else {
        format!(
            "{} of {total} downloads stalled for more than {} s",
            d.stalled,
            STALL_MS / 1000.0
        )
    };
    if j.intercepted {
        let by = side
            .hellos
            .iter()
            .find_map(|h| h.stack.clone())
            .map(|s| format!(" (it speaks TLS as {s})"))
            .unwrap_or_default();
        format!(
            "Your connection to this server is being decrypted and re-encrypted by something on \
             your network{by}; {stalls}."
        )
    } else if j.hello_matches_user_agent.is_none() {
        format!("Interception could not be judged for this browser; {stalls}.")
    } else {
        format!("No interception seen; {stalls}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    fn hello(family: StackFamily) -> HelloSeen {
        HelloSeen {
            ja4: format!("{family:?}"),
            ja3: String::new(),
            family,
            traits: Vec::new(),
            stack: None,
            size: 500,
            connections: 1,
            requests: 10,
            raw_base64: String::new(),
        }
    }

    fn side(ua: &str, hellos: Vec<HelloSeen>) -> WitnessSide {
        WitnessSide {
            visit: "ABCD2345".into(),
            started_unix_ms: 1,
            client_network: Some("192.0.2.0/24".into()),
            user_agent: ua.into(),
            hellos,
            proxy: ProxySigns::default(),
            server_ms_by_seed: [(1, 3.0), (2, 2900.0)].into_iter().collect(),
        }
    }

    fn entry(seed: u64, ms: f64) -> PageDownload {
        PageDownload {
            from: DownloadFrom::Witness,
            seed,
            ok: true,
            timing_allowed: true,
            protocol: "h2".into(),
            duration_ms: ms,
        }
    }

    #[test]
    fn the_browsers_own_hello_is_clean_and_a_foreign_one_is_interception() {
        let r = vec![entry(1, 20.0), entry(3, 30.0)];
        let clean = judge_visit(&side(CHROME, vec![hello(StackFamily::Chromium)]), &r, true);
        assert!(!clean.judgement.intercepted);
        assert_eq!(clean.judgement.hello_matches_user_agent, Some(true));
        assert!(
            clean
                .headline
                .starts_with("No interception seen; all 2 downloads")
        );

        let boxed = judge_visit(
            &side(
                CHROME,
                vec![hello(StackFamily::Chromium), hello(StackFamily::NonBrowser)],
            ),
            &r,
            true,
        );
        assert!(boxed.judgement.intercepted);
        assert_eq!(boxed.judgement.confidence, Some(Confidence::High));
        assert!(boxed.judgement.reasons[0].contains("not Chromium's"));

        // Another browser family's hello: a User-Agent switcher could do that.
        let other = judge_visit(&side(CHROME, vec![hello(StackFamily::Firefox)]), &r, true);
        assert_eq!(other.judgement.confidence, Some(Confidence::Medium));

        // No browser named: nothing to compare with.
        let curl = judge_visit(
            &side("curl/8.5.0", vec![hello(StackFamily::NonBrowser)]),
            &r,
            true,
        );
        assert!(!curl.judgement.intercepted);
        assert_eq!(curl.judgement.hello_matches_user_agent, None);
    }

    #[test]
    fn stalls_are_placed_by_the_witnesss_own_time_and_details_can_be_dropped() {
        // Seed 1: the witness answered in 3 ms, the browser waited 2.5 s: the path.
        // Seed 2: the witness itself took 2.9 s: the server.
        let r = vec![entry(1, 2500.0), entry(2, 3000.0), entry(3, 10.0)];
        let v = judge_visit(&side(CHROME, vec![hello(StackFamily::Chromium)]), &r, false);
        assert_eq!(
            (
                v.downloads.stalled,
                v.downloads.stalled_on_path,
                v.downloads.stalled_at_server
            ),
            (2, 1, 1)
        );
        assert!(
            v.headline
                .contains("2 of 3 downloads stalled for more than 2 s")
        );
        assert_eq!((v.client_network, v.user_agent), (None, None));
        assert_eq!(v.claimed.name, "Chrome 131");
    }
}
