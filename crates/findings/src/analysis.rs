//! From evidence to findings and a verdict.
//!
//! Each target's requests are classified once ([`crate::classify`]); the detectors
//! ([`crate::detect`]) each read that and yield at most one finding of their code per target;
//! findings are merged, ranked by severity and catalogue rank, and the verdict
//! ([`crate::verdict`]) picks the one that best explains the rest: interception explains
//! stalls, stalls only on large bodies explain stalls, a missing file explains a 404.

use crate::classify::{Classified, RequestOutcome, classify_target};
use crate::detect::{checks, groups, instances, keepalive, requests, tls};
use crate::diagnosis::Source;
use crate::input::TargetEvidence;
use crate::thresholds::ThresholdConfig;
use crate::verdict::diagnose_targets;
use crate::{Analysis, Finding, TargetSummary};
use interloper_model::units::phase_stats;

/// Analyse every target, compare them, and decide a verdict.
pub fn analyse(targets: &[TargetEvidence], cfg: &ThresholdConfig) -> Analysis {
    analyse_with(Source::Check, targets, cfg, Vec::new())
}

/// [`analyse`], with findings that other evidence gave (a HAR's browser-only signs) ranked
/// and weighed in the verdict together with the rest.
pub(crate) fn analyse_with(
    source: Source,
    targets: &[TargetEvidence],
    cfg: &ThresholdConfig,
    extra: Vec<Finding>,
) -> Analysis {
    analyse_weighing(source, targets, cfg, extra, |_| {})
}

/// [`analyse_with`], every finding first weighed by `weigh` before the verdict reads it (real
/// users' page views make a lone slow request a note, not a warning).
pub(crate) fn analyse_weighing(
    source: Source,
    targets: &[TargetEvidence],
    cfg: &ThresholdConfig,
    extra: Vec<Finding>,
    weigh: impl Fn(&mut Finding),
) -> Analysis {
    let mut findings = extra;
    let mut summaries = Vec::new();
    let mut outcomes = Vec::new();
    for t in targets {
        let classified = classify_target(t, cfg);
        outcomes.push(classified.outcomes(t));
        findings.extend(tls_findings(t));
        findings.extend(tls::untrusted_chain(t, &classified));
        let requests = request_findings(t, &classified, cfg);
        findings.extend(tls::likely_inspection(t, &requests));
        findings.extend(requests);
        findings.extend(check_findings(t));
        summaries.push(summarise(t, &classified));
    }
    if targets.len() >= 2 {
        findings.extend(instances::different_builds(targets));
        findings.extend(instances::odd_instance(&summaries));
    }
    let mut findings = merge_duplicates(findings);
    findings.iter_mut().for_each(weigh);
    let diagnosis = diagnose_targets(source, targets, findings, &summaries);
    Analysis {
        diagnosis,
        targets: summaries,
        outcomes,
    }
}

/// IL101 first, then the chain's signals in the order they explain most.
fn tls_findings(t: &TargetEvidence) -> impl Iterator<Item = Finding> {
    [
        tls::witness_proof(t),
        tls::product_match(t),
        tls::local_anchor(t),
        tls::pin_mismatch(t),
        tls::minted_traits(t),
        tls::downgrade(t),
        tls::incomplete_chain(t),
    ]
    .into_iter()
    .flatten()
}

/// The request detectors, with IL201 / IL202 folded into a group finding that holds all of
/// their requests.
fn request_findings(t: &TargetEvidence, c: &Classified<'_>, cfg: &ThresholdConfig) -> Vec<Finding> {
    let count = |pred: fn(RequestOutcome) -> bool| c.rows.iter().filter(|r| pred(r.2)).count();
    let detectors: [groups::GroupDetector; 4] = [
        groups::hello_shape,
        groups::address,
        groups::large_bodies,
        groups::protocol,
    ];
    let found = detectors
        .into_iter()
        .filter_map(|d| d(t, c, cfg).map(|g| (d, g)))
        .collect();
    let (mut group_findings, group_notes) = groups::without_shadows(t, c, cfg, found);
    let (stalls, failures) = groups::fold_into_groups(
        requests::stalls(t, c, cfg),
        count(RequestOutcome::is_stall),
        requests::failures(t, c),
        count(RequestOutcome::is_failure),
        &mut group_findings,
    );
    let mut out: Vec<Finding> = [
        stalls,
        failures,
        requests::truncation(t, c),
        requests::trickles(t, c),
        requests::endless(t, c),
        keepalive::closed_under_requests(t),
    ]
    .into_iter()
    .flatten()
    .collect();
    out.extend(group_findings.into_iter().map(|g| g.finding));
    out.extend(group_notes);
    out.extend(
        [
            requests::not_found(t),
            requests::forbidden(t),
            requests::server_error(t),
        ]
        .into_iter()
        .flatten(),
    );
    out
}

/// The asset-check detectors, in catalogue-rank order within each severity.
fn check_findings(t: &TargetEvidence) -> impl Iterator<Item = Finding> {
    [
        checks::content_mismatch(t),
        checks::short_files(t),
        checks::wrong_type_nosniff(t),
        checks::wrong_type(t),
        checks::short_cache(t),
        checks::not_found(t),
        checks::forbidden(t),
        checks::server_error(t),
        checks::decompression_bomb(t),
        checks::redirect_loop(t),
        checks::redirect_not_followed(t),
        checks::not_examined(t),
    ]
    .into_iter()
    .flatten()
}

/// One finding per code, target and severity: a 404 seen both in the samples and in the
/// verification check is one finding with both pieces of evidence.
fn merge_duplicates(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in findings {
        match out
            .iter_mut()
            .find(|e| e.code == f.code && e.subject == f.subject && e.severity == f.severity)
        {
            Some(e) => {
                for a in f.assets {
                    if !e.assets.contains(&a) {
                        e.assets.push(a);
                    }
                }
                e.evidence.extend(f.evidence);
                e.confidence = e.confidence.max(f.confidence);
            }
            None => out.push(f),
        }
    }
    out
}

fn summarise(t: &TargetEvidence, c: &Classified<'_>) -> TargetSummary {
    let count =
        |pred: fn(RequestOutcome) -> bool| c.rows.iter().filter(|r| pred(r.2)).count() as u64;
    // A non-finite total (no clock gives one) counts as 0 rather than vanishing, so the
    // count matches the successful requests.
    let totals = c
        .rows
        .iter()
        .filter(|(_, r, _)| r.error.is_none())
        .filter_map(|(_, r, _)| r.phases.total_ms)
        .map(|v| if v.is_finite() { v } else { 0.0 });
    TargetSummary {
        label: t.label.clone(),
        assets: t.assets.len(),
        requests: c.rows.len() as u64,
        failed: count(RequestOutcome::counts_as_failed),
        stalled: count(RequestOutcome::counts_as_stalled),
        total: phase_stats(totals).unwrap_or_default(),
        leaf_issuer: t.tls.as_ref().and_then(|x| x.leaf_issuer.clone()),
        tls_status: t.tls.as_ref().map(|x| x.status),
        browser_hellos: c
            .rows
            .iter()
            .filter(|(_, r, _)| r.hello_shape != interloper_model::HelloShape::Classic)
            .count() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{asset, clean_asset, target};
    use crate::{Code, Severity};

    #[test]
    fn a_status_seen_in_samples_and_checks_is_one_finding_with_both() {
        let mut t = target(vec![asset(
            "https://a.test/s/gone.css",
            3,
            100,
            |_, mut r| {
                r.status = Some(404);
                r
            },
        )]);
        t.assets[0].checks = vec![crate::AssetCheck {
            kind: crate::AssetCheckKind::NotFound,
            expected: None,
            actual: Some("404".into()),
            detail: "not found".into(),
        }];
        let a = analyse(&[t], &ThresholdConfig::default());
        assert_eq!(a.diagnosis.findings.len(), 1);
        assert_eq!(a.diagnosis.findings[0].code, Code::IL301);
        assert_eq!(a.diagnosis.findings[0].evidence.len(), 2);
        assert_eq!(a.diagnosis.findings[0].assets.len(), 1);
    }

    #[test]
    fn findings_are_ordered_by_severity_then_rank() {
        let mut t = target(vec![clean_asset(
            "https://a.test/s/a.0123456789ab.css",
            3,
            100,
        )]);
        let check = |kind| crate::AssetCheck {
            kind,
            expected: None,
            actual: None,
            detail: String::new(),
        };
        t.assets[0].checks = vec![
            check(crate::AssetCheckKind::ShortCache),
            check(crate::AssetCheckKind::WrongType),
            check(crate::AssetCheckKind::Forbidden),
            check(crate::AssetCheckKind::NotFound),
        ];
        let a = analyse(&[t], &ThresholdConfig::default());
        let order: Vec<(Code, Severity)> = a
            .diagnosis
            .findings
            .iter()
            .map(|f| (f.code, f.severity))
            .collect();
        assert_eq!(
            order,
            vec![
                (Code::IL301, Severity::Error),
                (Code::IL302, Severity::Error),
                (Code::IL303, Severity::Warning),
                (Code::IL305, Severity::Info),
            ]
        );
    }

    #[test]
    fn the_summary_counts_failures_and_stalls() {
        let t = target(vec![asset(
            "https://a.test/s/x.css",
            10,
            1000,
            |i, mut r| {
                match i {
                    1 => r.bytes_received = 10,
                    2 => r.phases.ttfb_ms = Some(3000.0),
                    3 => r.phases.total_ms = Some(f64::NAN),
                    _ => {}
                }
                r
            },
        )]);
        let c = classify_target(&t, &ThresholdConfig::default());
        let s = summarise(&t, &c);
        assert_eq!((s.requests, s.failed, s.stalled), (10, 1, 1));
        assert_eq!(s.total.count, 10);
        assert_eq!(s.total.min, 0.0);
    }
}
