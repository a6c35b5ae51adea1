//! What only a browser's recording (a HAR) shows: requests that never got a response (IL210)
//! and requests held in the browser's own queue (IL211). The requests that did go over the
//! network are ordinary [`TargetEvidence`] and meet the same detectors as a check's.

use crate::analysis::analyse_with;
use crate::detect::{finding, short_list};
use crate::diagnosis::Source;
use crate::input::{Evidence, TargetEvidence};
use crate::thresholds::ThresholdConfig;
use crate::{Analysis, Code, Confidence, Finding};
use interloper_model::RequestRecord;
use interloper_model::units::{fmt_duration_ms, median};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The browser-only signs of one target (one HAR), labelled as its [`TargetEvidence`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BrowserEvidence {
    /// The label of the target it belongs to.
    pub label: String,
    /// Requests that reached for the network and got no response, with no failure the
    /// detectors could class (cancelled, pending at save time).
    pub unanswered: Vec<Unanswered>,
    /// Every network request's time in the browser's queue.
    pub queued: Vec<Queued>,
}

/// A request that never got a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unanswered {
    /// The request as recorded.
    pub record: RequestRecord,
    /// What the browser wrote about it (`net::ERR_ABORTED`), if anything.
    pub reason: Option<String>,
}

/// Time one request spent queued in the browser before it was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    /// The URL.
    pub url: String,
    /// Its sequence number in the recording.
    pub seq: u64,
    /// Milliseconds queued.
    pub queued_ms: f64,
}

/// [`crate::analyse`] over the network requests of each target, with the browser-only signs
/// of `browser` (matched by label) ranked and weighed together with the rest.
pub fn analyse_har(
    targets: &[TargetEvidence],
    browser: &[BrowserEvidence],
    cfg: &ThresholdConfig,
) -> Analysis {
    let extra = browser
        .iter()
        .flat_map(|b| [unanswered(b), long_queueing(b, cfg)])
        .flatten()
        .collect();
    analyse_with(Source::Har, targets, cfg, extra)
}

/// IL210 — requests that never got a response, grouped by what the browser said.
fn unanswered(b: &BrowserEvidence) -> Option<Finding> {
    if b.unanswered.is_empty() {
        return None;
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for u in &b.unanswered {
        *reasons
            .entry(u.reason.as_deref().unwrap_or("no reason recorded"))
            .or_default() += 1;
    }
    let why: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} × {r}")).collect();
    let mut urls: Vec<String> = Vec::new();
    for u in &b.unanswered {
        if !urls.contains(&u.record.url) {
            urls.push(u.record.url.clone());
        }
    }
    let mut f = finding(
        Code::IL210,
        Some(&b.label),
        format!(
            "{} request(s) never got a response ({}): {}",
            b.unanswered.len(),
            why.join(", "),
            short_list(&urls)
        ),
    );
    f.confidence = Confidence::High;
    f.assets = urls.into_iter().take(20).collect();
    for u in b.unanswered.iter().take(5) {
        f.evidence.push(Evidence::request(&u.record));
    }
    Some(f)
}

/// IL211 — requests queued in the browser far longer than the others, by the stall rule.
fn long_queueing(b: &BrowserEvidence, cfg: &ThresholdConfig) -> Option<Finding> {
    let base = median(b.queued.iter().map(|q| q.queued_ms)).unwrap_or(0.0);
    let threshold = cfg.stall_threshold(base);
    let mut long: Vec<&Queued> = b
        .queued
        .iter()
        .filter(|q| q.queued_ms.is_finite() && q.queued_ms > threshold)
        .collect();
    if long.is_empty() {
        return None;
    }
    long.sort_by(|a, b| b.queued_ms.total_cmp(&a.queued_ms));
    let mut urls: Vec<String> = Vec::new();
    for q in &long {
        if !urls.contains(&q.url) {
            urls.push(q.url.clone());
        }
    }
    let mut f = finding(
        Code::IL211,
        Some(&b.label),
        format!(
            "{} of {} requests waited in the browser's queue for up to {} before being sent \
             (median {}): {}",
            long.len(),
            b.queued.len(),
            fmt_duration_ms(long[0].queued_ms),
            fmt_duration_ms(base),
            short_list(&urls)
        ),
    );
    f.confidence = if long.len() >= 3 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    f.assets = urls.into_iter().take(20).collect();
    for q in long.iter().take(5) {
        f.evidence.push(Evidence::Stat {
            label: format!("{} (#{})", q.url, q.seq),
            value: format!("queued {}", fmt_duration_ms(q.queued_ms)),
        });
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{clean_asset, target};

    fn queued(ms: &[f64]) -> Vec<Queued> {
        ms.iter()
            .enumerate()
            .map(|(i, &q)| Queued {
                url: format!("https://a.test/s/f{i}.js"),
                seq: i as u64,
                queued_ms: q,
            })
            .collect()
    }

    #[test]
    fn long_queueing_and_unanswered_requests_are_findings() {
        let t = target(vec![clean_asset("https://a.test/s/a.css", 10, 1000)]);
        let mut record = RequestRecord::new(3, "https://a.test/s/f.woff2".into(), 10.0);
        record.phases.total_ms = Some(0.0);
        let b = BrowserEvidence {
            label: t.label.clone(),
            unanswered: vec![
                Unanswered {
                    record: record.clone(),
                    reason: Some("net::ERR_ABORTED".into()),
                },
                Unanswered {
                    record,
                    reason: None,
                },
            ],
            queued: queued(&[1.0, 2.0, 1.5, 2500.0, 3000.0, 0.5, 2800.0]),
        };
        let a = analyse_har(&[t], &[b], &ThresholdConfig::default());
        let codes: Vec<Code> = a.diagnosis.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec![Code::IL210, Code::IL211]);
        assert!(
            a.diagnosis.findings[0]
                .summary
                .contains("1 × net::ERR_ABORTED")
        );
        assert!(
            a.diagnosis.findings[0]
                .summary
                .contains("1 × no reason recorded")
        );
        assert!(
            a.diagnosis.findings[1]
                .summary
                .starts_with("3 of 7 requests"),
            "{}",
            a.diagnosis.findings[1].summary
        );
        assert_eq!(a.diagnosis.findings[1].confidence, Confidence::High);
        assert_eq!(a.diagnosis.verdict.root_cause, Some(Code::IL210));
    }

    #[test]
    fn short_queues_and_answered_requests_are_silent() {
        let t = target(vec![clean_asset("https://a.test/s/a.css", 10, 1000)]);
        let b = BrowserEvidence {
            label: t.label.clone(),
            unanswered: vec![],
            // Everything queued a while (a busy page), nothing far beyond the rest.
            queued: queued(&[300.0, 400.0, 350.0, 500.0, 700.0]),
        };
        let a = analyse_har(&[t], &[b], &ThresholdConfig::default());
        assert!(
            a.diagnosis.findings.is_empty(),
            "{:?}",
            a.diagnosis.findings
        );
    }
}
