//! A read HAR → the evidence the findings read: its network requests as one target (assets by
//! URL, in first-seen order), and the browser-only signs beside it.

use crate::{CacheSource, Har};
use interloper_findings::{AssetEvidence, BrowserEvidence, Queued, TargetEvidence, Unanswered};
use std::collections::HashMap;

/// A HAR's evidence, and what was set aside on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct HarEvidence {
    /// The network requests, as a target labelled as asked.
    pub target: TargetEvidence,
    /// What only the browser knows (IL210, IL211).
    pub browser: BrowserEvidence,
    /// Responses served from a cache, by where from: they never touched the network, so
    /// they are left out of every timing.
    pub cached: Vec<(CacheSource, u64)>,
    /// Network requests answered `304 Not Modified` (in the target: timed, never truncated).
    pub revalidated: u64,
    /// Entries whose URL is not http(s) (`data:`, `blob:`, `chrome-extension:`), left out.
    pub not_http: u64,
    /// The browser's own request for `/favicon.ico` answered 404 or left without an answer
    /// (Chrome asks every site for one after the page has loaded, linked or not, and the next
    /// navigation cancels it; DevTools records it), left out: not a file of the page.
    pub favicon_not_found: u64,
}

/// The browser's own `/favicon.ico` request, answered 404 or cancelled (a failure of the
/// network stays a failure).
fn is_missing_favicon(h: &crate::HarRecord) -> bool {
    (h.record.status == Some(404) || h.unanswered_without_reason())
        && url::Url::parse(&h.record.url)
            .is_ok_and(|u| u.path() == "/favicon.ico" && u.query().is_none())
}

/// The evidence of `har`, labelled `label` (the file name, as the user gave it).
pub fn evidence(har: &Har, label: &str) -> HarEvidence {
    evidence_of(har.records.iter().cloned(), label)
}

/// [`evidence`], taking `har`'s records instead of copying them: a big HAR's records are then
/// held once, not twice, while its evidence is built.
pub(crate) fn take_evidence(har: &mut Har, label: &str) -> HarEvidence {
    evidence_of(std::mem::take(&mut har.records), label)
}

fn evidence_of(records: impl IntoIterator<Item = crate::HarRecord>, label: &str) -> HarEvidence {
    let mut assets: Vec<AssetEvidence> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut browser = BrowserEvidence {
        label: label.to_string(),
        ..BrowserEvidence::default()
    };
    let mut cached: Vec<(CacheSource, u64)> = Vec::new();
    let (mut not_http, mut revalidated, mut favicon_not_found) = (0, 0, 0);
    for h in records {
        let url = h.record.url.as_str();
        let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            not_http += 1;
            continue;
        }
        if let Some(source) = h.from_cache {
            match cached.iter_mut().find(|(s, _)| *s == source) {
                Some((_, n)) => *n += 1,
                None => cached.push((source, 1)),
            }
            continue;
        }
        if is_missing_favicon(&h) {
            favicon_not_found += 1;
            continue;
        }
        if let Some(q) = h.queued_ms {
            browser.queued.push(Queued {
                url: url.to_string(),
                seq: h.record.seq,
                queued_ms: q,
            });
        }
        if h.unanswered_without_reason() {
            browser.unanswered.push(Unanswered {
                record: h.record,
                reason: h.failure,
            });
            continue;
        }
        revalidated += u64::from(h.revalidated);
        let i = match index.get(url) {
            Some(i) => *i,
            None => {
                assets.push(AssetEvidence {
                    url: url.to_string(),
                    records: Vec::new(),
                    checks: Vec::new(),
                });
                index.insert(url.to_string(), assets.len() - 1);
                assets.len() - 1
            }
        };
        assets[i].records.push(h.record);
    }
    HarEvidence {
        target: TargetEvidence {
            label: label.to_string(),
            assets,
            ..TargetEvidence::default()
        },
        browser,
        cached,
        revalidated,
        not_http,
        favicon_not_found,
    }
}

/// What a report says about one HAR file: who wrote it and what was read from it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HarSummary {
    /// The label its requests carry in the report (the file name as given).
    pub label: String,
    /// Whose field rules were applied.
    pub variant: crate::Variant,
    /// `log.creator`, "name version".
    pub creator: Option<String>,
    /// `log.browser`, "name version".
    pub browser: Option<String>,
    /// `log.version` as written.
    pub version: String,
    /// Entries read (kept and omitted).
    pub entries: u64,
    /// Entries analysed as network requests.
    pub network_requests: u64,
    /// Responses from a cache, by source (`memory`, `disk`, `service-worker`, `http-cache`):
    /// not network requests.
    pub cached: Vec<(CacheSource, u64)>,
    /// Network requests answered `304 Not Modified`: the cached copy confirmed.
    #[serde(default)]
    pub revalidated: u64,
    /// Requests that never got a response (IL210).
    pub unanswered: u64,
    /// Entries that are not http(s).
    pub not_http: u64,
    /// Entries beyond the record cap, not analysed.
    pub omitted: u64,
    /// Page titles (at most 20).
    pub pages: Vec<String>,
    /// What the reader tolerated.
    pub notes: Vec<String>,
}

impl HarSummary {
    /// The summary of `har` read into `ev`.
    pub fn new(har: &Har, ev: &HarEvidence) -> HarSummary {
        let who = |s: &Option<crate::Software>| {
            s.as_ref()
                .map(|s| format!("{} {}", s.name, s.version).trim().to_string())
        };
        HarSummary {
            label: ev.target.label.clone(),
            variant: har.variant,
            creator: who(&har.creator),
            browser: who(&har.browser),
            version: har.version.clone(),
            entries: har.records.len() as u64 + har.records_omitted,
            network_requests: ev
                .target
                .assets
                .iter()
                .map(|a| a.records.len() as u64)
                .sum(),
            cached: ev.cached.clone(),
            revalidated: ev.revalidated,
            unanswered: ev.browser.unanswered.len() as u64,
            not_http: ev.not_http,
            omitted: har.records_omitted,
            pages: har.pages.iter().take(20).map(|p| p.title.clone()).collect(),
            notes: har
                .notes
                .iter()
                .cloned()
                .chain((ev.favicon_not_found > 0).then(|| {
                    format!(
                        "{} requests for /favicon.ico answered 404 or never answered left out: \
                         the browser asks every site for one, so it is not a file of the page",
                        ev.favicon_not_found
                    )
                }))
                .collect(),
        }
    }

    /// One sentence for reports.
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "{}: {} HAR{}, {} entries: {} network requests",
            self.label,
            self.variant.as_str(),
            self.creator
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            self.entries,
            self.network_requests
        );
        if self.revalidated > 0 {
            s.push_str(&format!(
                " ({} of them revalidated: 304, the cached copy confirmed)",
                self.revalidated
            ));
        }
        let cached: u64 = self.cached.iter().map(|(_, n)| n).sum();
        if cached > 0 {
            let by: Vec<String> = self
                .cached
                .iter()
                .map(|(c, n)| format!("{n} {}", c.as_str()))
                .collect();
            s.push_str(&format!(
                ", {cached} from the browser's cache ({}) left out of the timings",
                by.join(", ")
            ));
        }
        if self.unanswered > 0 {
            s.push_str(&format!(", {} never answered", self.unanswered));
        }
        if self.not_http > 0 {
            s.push_str(&format!(", {} not http(s)", self.not_http));
        }
        if self.omitted > 0 {
            s.push_str(&format!(", {} beyond the cap not analysed", self.omitted));
        }
        s
    }
}
