//! The detectors: each reads the evidence of one target (or compares targets) and yields at
//! most one finding of its code per target, with the requests, numbers and certificates behind
//! it. A detector is silent on clean evidence.
//!
//! - [`requests`]: stalls (IL201), failures (IL202), truncation (IL203), trickles (IL205) and
//!   error statuses seen in the samples (IL301, IL302, IL306);
//! - [`groups`]: one address or IP family (IL206), large bodies only (IL207), one HTTP version
//!   (IL208), and the folding of IL201 / IL202 into them when they hold every stall or failure;
//! - [`keepalive`]: kept-alive connections closed under requests after idling (IL216);
//! - [`checks`]: the asset checks (IL204, IL203, IL303, IL305, IL301, IL302, IL306);
//! - [`tls`]: the witness's proof (IL101) and the chain signals (IL102 … IL106);
//! - [`instances`]: different builds (IL304) and the odd instance out (IL401).

pub(crate) mod checks;
pub(crate) mod groups;
pub(crate) mod instances;
pub(crate) mod keepalive;
pub(crate) mod requests;
pub(crate) mod tls;

use crate::input::{AssetEvidence, Evidence};
use crate::{Code, Confidence, Finding};
use interloper_model::{ErrorKind, RequestRecord};

/// A finding of `code` with the catalogue's title, severity and remedy, medium confidence and
/// no evidence yet.
pub(crate) fn finding(code: Code, subject: Option<&str>, summary: String) -> Finding {
    let e = code.entry();
    Finding {
        code,
        severity: e.severity,
        confidence: Confidence::Medium,
        title: e.title.to_string(),
        summary,
        subject: subject.map(str::to_string),
        assets: Vec::new(),
        evidence: Vec::new(),
        remedy: e.remedy.to_string(),
        doc: e.doc.to_string(),
    }
}

/// Adds the five worst requests (largest `how_bad` first) and their assets to a finding.
pub(crate) fn add_worst_requests<'a>(
    f: &mut Finding,
    rows: impl Iterator<Item = (&'a AssetEvidence, &'a RequestRecord, Option<f64>)>,
) {
    let mut rows: Vec<_> = rows.collect();
    rows.sort_by(|a, b| b.2.unwrap_or(0.0).total_cmp(&a.2.unwrap_or(0.0)));
    for (a, r, _) in rows.iter().take(5) {
        if !f.assets.contains(&a.url) {
            f.assets.push(a.url.clone());
        }
        f.evidence.push(Evidence::request(r));
    }
}

/// `reset before headers` for `reset_before_headers`.
pub(crate) fn kind_name(k: ErrorKind) -> String {
    k.as_str().replace('_', " ")
}

/// File names of up to three URLs, then how many more: `a.css, b.js, c.png and 2 more`.
pub(crate) fn short_list(urls: &[String]) -> String {
    let names: Vec<&str> = urls
        .iter()
        .map(|u| u.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or(u))
        .collect();
    if names.len() <= 3 {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..3].join(", "), names.len() - 3)
    }
}

/// What happened to a group's bad requests, in words: "stalled", "failed", or both with counts.
pub(crate) fn stalled_or_failed(stalls: usize, failures: usize) -> String {
    match (stalls, failures) {
        (_, 0) => "stalled".into(),
        (0, _) => "failed".into(),
        (s, f) => format!("stalled or failed ({s} stalled, {f} failed)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_word_their_input() {
        assert_eq!(kind_name(ErrorKind::ResetMidBody), "reset mid body");
        let urls: Vec<String> = (0..5).map(|i| format!("https://a/s/f{i}.css")).collect();
        assert_eq!(short_list(&urls[..2]), "f0.css, f1.css");
        assert_eq!(short_list(&urls), "f0.css, f1.css, f2.css and 2 more");
        assert_eq!(stalled_or_failed(2, 0), "stalled");
        assert_eq!(stalled_or_failed(0, 1), "failed");
        assert_eq!(
            stalled_or_failed(2, 1),
            "stalled or failed (2 stalled, 1 failed)"
        );
    }

    #[test]
    fn a_new_finding_carries_the_catalogue_entry() {
        let f = finding(Code::IL203, Some("t"), "s".into());
        assert_eq!(f.title, Code::IL203.entry().title);
        assert_eq!(f.doc, "docs/findings/IL203.md");
        assert_eq!(f.confidence, Confidence::Medium);
    }
}
