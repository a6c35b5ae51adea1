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
    /// Entries whose URL is not http(s) (`data:`, `blob:`, `chrome-extension:`), left out.
    pub not_http: u64,
}

/// The evidence of `har`, labelled `label` (the file name, as the user gave it).
pub fn evidence(har: &Har, label: &str) -> HarEvidence {
    let mut assets: Vec<AssetEvidence> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut browser = BrowserEvidence {
        label: label.to_string(),
        ..BrowserEvidence::default()
    };
    let mut cached: Vec<(CacheSource, u64)> = Vec::new();
    let mut not_http = 0;
    for h in &har.records {
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
        if let Some(q) = h.queued_ms {
            browser.queued.push(Queued {
                url: url.to_string(),
                seq: h.record.seq,
                queued_ms: q,
            });
        }
        if h.unanswered_without_reason() {
            browser.unanswered.push(Unanswered {
                record: h.record.clone(),
                reason: h.failure.clone(),
            });
            continue;
        }
        let i = *index.entry(url).or_insert_with(|| {
            assets.push(AssetEvidence {
                url: url.to_string(),
                records: Vec::new(),
                checks: Vec::new(),
            });
            assets.len() - 1
        });
        assets[i].records.push(h.record.clone());
    }
    HarEvidence {
        target: TargetEvidence {
            label: label.to_string(),
            assets,
            ..TargetEvidence::default()
        },
        browser,
        cached,
        not_http,
    }
}
