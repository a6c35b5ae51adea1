//! What happened to each request, as the detectors see it: fine, stalled in one phase,
//! trickled, truncated, failed, or answered with an error status. Classified once here; the
//! detectors, the verdict's counts and the report's per-request flags all read the same
//! [`RequestOutcome`], so the numbers a user reads cannot drift from the findings.

use crate::input::{AssetEvidence, TargetEvidence};
use crate::thresholds::ThresholdConfig;
use interloper_model::units::median;
use interloper_model::{ErrorKind, Phase, RequestRecord};
use std::collections::BTreeMap;

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Complete, in time, answered without an error status.
    Fine,
    /// Slow in this phase beyond the target's baseline.
    Stalled(Phase),
    /// The body arrived slowly but steadily.
    Trickled,
    /// Fewer bytes than announced.
    Truncated,
    /// Failed (reset, timeout, refused, …).
    Failed(ErrorKind),
    /// This client refused the certificate chain (IL112): the request never left the
    /// handshake, so it says nothing about resets, timeouts or which address or size fails.
    CertificateRefused,
    /// The body was still arriving when the request's time ran out: not a stall, not a
    /// failure of the path (IL209).
    Endless,
    /// HTTP error status (counted by the asset-status detectors, not as a path problem).
    Status(u16),
}

impl RequestOutcome {
    /// A stall in some phase or a trickling body: what a summary and a report count as
    /// stalled.
    pub fn counts_as_stalled(self) -> bool {
        matches!(self, RequestOutcome::Stalled(_) | RequestOutcome::Trickled)
    }

    /// A failed request, a refused chain or a body cut short: what a summary counts as
    /// failed.
    pub fn counts_as_failed(self) -> bool {
        matches!(
            self,
            RequestOutcome::Failed(_)
                | RequestOutcome::CertificateRefused
                | RequestOutcome::Truncated
        )
    }

    /// What the address and protocol contrasts count against a group. A refused certificate
    /// is not: it is IL112's, and says nothing about a route or a protocol.
    pub(crate) fn is_bad(self) -> bool {
        matches!(
            self,
            RequestOutcome::Stalled(_)
                | RequestOutcome::Trickled
                | RequestOutcome::Truncated
                | RequestOutcome::Failed(_)
                | RequestOutcome::Endless
        )
    }

    /// A stall or a failed request: what IL207 counts (a trickle is IL205's and a truncated
    /// body IL203's, whatever the size).
    pub(crate) fn is_stall_or_failure(self) -> bool {
        matches!(self, RequestOutcome::Stalled(_) | RequestOutcome::Failed(_))
    }

    pub(crate) fn is_stall(self) -> bool {
        matches!(self, RequestOutcome::Stalled(_))
    }

    pub(crate) fn is_failure(self) -> bool {
        matches!(self, RequestOutcome::Failed(_))
    }
}

/// Every request's outcome of one target, asset by asset in the evidence's order:
/// `assets[a][r]` is the outcome of the target's `assets[a].records[r]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetOutcomes {
    /// The target's label.
    pub label: String,
    /// Per asset, per record.
    pub assets: Vec<Vec<RequestOutcome>>,
}

/// Classifies every request of `t` by the detectors' rules (for evidence no analysis saw; an
/// [`crate::Analysis`] carries the outcomes of its own targets).
pub fn classify(t: &TargetEvidence, cfg: &ThresholdConfig) -> TargetOutcomes {
    classify_target(t, cfg).outcomes(t)
}

/// One request of a target with its asset and outcome.
pub(crate) type Row<'a> = (&'a AssetEvidence, &'a RequestRecord, RequestOutcome);

/// Every request of one target, classified.
pub(crate) struct Classified<'a> {
    /// (asset, record, outcome) for every request of the target, asset by asset.
    pub(crate) rows: Vec<Row<'a>>,
    /// Median per phase name, for the evidence text.
    pub(crate) medians: BTreeMap<&'static str, f64>,
}

impl<'a> Classified<'a> {
    /// The outcomes alone, asset by asset: the rows are `t`'s records in order.
    pub(crate) fn outcomes(&self, t: &TargetEvidence) -> TargetOutcomes {
        let mut rows = self.rows.iter().map(|r| r.2);
        TargetOutcomes {
            label: t.label.clone(),
            assets: t
                .assets
                .iter()
                .map(|a| rows.by_ref().take(a.records.len()).collect())
                .collect(),
        }
    }

    /// The same requests without those `excluded` marks (one flag per row): what a contrast
    /// says once another group's requests are set aside. Baselines stay the target's.
    pub(crate) fn without(&self, excluded: &[bool]) -> Classified<'a> {
        Classified {
            rows: self
                .rows
                .iter()
                .zip(excluded.iter().chain(std::iter::repeat(&false)))
                .filter(|(_, out)| !**out)
                .map(|(row, _)| *row)
                .collect(),
            medians: self.medians.clone(),
        }
    }

    /// The median of a phase over the target's successful requests (0 when unknown).
    pub(crate) fn phase_median(&self, p: Phase) -> f64 {
        PHASES
            .iter()
            .find(|(q, _)| *q == p)
            .and_then(|(_, name)| self.medians.get(name).copied())
            .unwrap_or(0.0)
    }
}

/// The phases a stall is looked for in, with their names in the medians.
pub(crate) const PHASES: &[(Phase, &str)] = &[
    (Phase::Dns, "dns"),
    (Phase::Connect, "connect"),
    (Phase::Tls, "tls"),
    (Phase::Ttfb, "ttfb"),
    (Phase::Body, "body"),
];

pub(crate) fn phase_value(r: &RequestRecord, p: Phase) -> Option<f64> {
    match p {
        Phase::Dns => r.phases.dns_ms,
        Phase::Connect => r.phases.connect_ms,
        Phase::Tls => r.phases.tls_ms,
        Phase::Write => r.phases.write_ms,
        Phase::Ttfb => r.phases.ttfb_ms,
        Phase::Body => r.phases.body_ms,
    }
}

pub(crate) fn phase_label(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "DNS",
        Phase::Connect => "TCP connect",
        Phase::Tls => "TLS handshake",
        Phase::Write => "request write",
        Phase::Ttfb => "waiting for response headers",
        Phase::Body => "body transfer",
    }
}

/// Median of the finite values, 0 for none.
fn median_or_zero(values: impl IntoIterator<Item = f64>) -> f64 {
    median(values).unwrap_or(0.0)
}

pub(crate) fn classify_target<'a>(t: &'a TargetEvidence, cfg: &ThresholdConfig) -> Classified<'a> {
    // Baselines: connection phases and TTFB per target (they do not depend on the file), the
    // body per asset (a 1 MB file legitimately takes longer than an icon).
    let ok: Vec<&RequestRecord> = t
        .assets
        .iter()
        .flat_map(|a| a.records.iter())
        .filter(|r| r.error.is_none())
        .collect();
    let medians: BTreeMap<&'static str, f64> = PHASES
        .iter()
        .map(|(p, name)| {
            let m = median_or_zero(ok.iter().filter_map(|r| phase_value(r, *p)));
            (*name, m)
        })
        .collect();
    let mut rows = Vec::new();
    for a in &t.assets {
        let body_median = median_or_zero(
            a.records
                .iter()
                .filter(|r| r.error.is_none() && !is_bodiless(r))
                .filter_map(|r| r.phases.body_ms),
        );
        for r in &a.records {
            rows.push((a, r, outcome(r, &medians, body_median, cfg)));
        }
    }
    Classified { rows, medians }
}

fn outcome(
    r: &RequestRecord,
    medians: &BTreeMap<&'static str, f64>,
    body_median: f64,
    cfg: &ThresholdConfig,
) -> RequestOutcome {
    let bodiless = is_bodiless(r);
    let short = !bodiless && r.content_length.is_some_and(|cl| r.bytes_received < cl);
    if let Some(e) = &r.error {
        return match e.kind {
            ErrorKind::Truncated => RequestOutcome::Truncated,
            ErrorKind::ResetMidBody if short => RequestOutcome::Truncated,
            ErrorKind::BodyEndless => RequestOutcome::Endless,
            ErrorKind::TlsCertificate => RequestOutcome::CertificateRefused,
            k => RequestOutcome::Failed(k),
        };
    }
    if short {
        return RequestOutcome::Truncated;
    }
    if !bodiless && is_trickle(r, cfg) {
        return RequestOutcome::Trickled;
    }
    match (
        stalled_phase(r, medians, body_median, cfg, bodiless),
        r.status,
    ) {
        (Some(p), _) => RequestOutcome::Stalled(p),
        (None, Some(s)) if s >= 400 => RequestOutcome::Status(s),
        _ => RequestOutcome::Fine,
    }
}

/// A 1xx, 204 or 304 has no body whatever its Content-Length says (a 304 repeats the cached
/// copy's): never short, never a trickle, no body phase to stall or to set a baseline.
fn is_bodiless(r: &RequestRecord) -> bool {
    matches!(r.status, Some(100..=199 | 204 | 304))
}

/// The phase that exceeds its stall threshold by the most, if any. A phase is counted less the
/// time the client itself was not running during the request (`client_lag_ms`): a loaded
/// machine that froze the probe for a second slowed every phase in flight, not the path.
fn stalled_phase(
    r: &RequestRecord,
    medians: &BTreeMap<&'static str, f64>,
    body_median: f64,
    cfg: &ThresholdConfig,
    bodiless: bool,
) -> Option<Phase> {
    let mut worst: Option<(Phase, f64)> = None;
    for (p, name) in PHASES {
        let Some(v) = phase_value(r, *p).filter(|_| !(bodiless && *p == Phase::Body)) else {
            continue;
        };
        let v = v - r.client_lag_ms.unwrap_or(0.0);
        let base = if *p == Phase::Body {
            body_median
        } else {
            medians.get(name).copied().unwrap_or(0.0)
        };
        let over = v - cfg.stall_threshold(base);
        if over > 0.0 && worst.is_none_or(|(_, w)| over > w) {
            worst = Some((*p, over));
        }
    }
    worst.map(|(p, _)| p)
}

/// A body that kept arriving, slowly, for a long time — not a stall followed by a burst.
pub(crate) fn is_trickle(r: &RequestRecord, cfg: &ThresholdConfig) -> bool {
    let Some(body_ms) = r.phases.body_ms else {
        return false;
    };
    if body_ms < cfg.trickle_min_ms || r.bytes_received == 0 {
        return false;
    }
    let rate = r.bytes_received as f64 / (body_ms / 1000.0);
    if rate >= cfg.trickle_rate {
        return false;
    }
    // Progressive arrival: several samples, and no single gap covering most of the time.
    let curve = &r.body_curve;
    if curve.len() < 4 {
        return false;
    }
    let mut prev = 0.0;
    let mut largest_gap: f64 = 0.0;
    for s in curve {
        largest_gap = largest_gap.max(s.at_ms - prev);
        prev = s.at_ms;
    }
    largest_gap < 0.5 * body_ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{asset, rec, target, trickle};

    #[test]
    fn a_slow_header_is_a_ttfb_stall_and_the_rest_are_fine() {
        let t = target(vec![asset("https://a/s/x.css", 20, 1000, |i, mut r| {
            if i == 7 {
                r.phases.ttfb_ms = Some(2000.0);
            }
            r
        })]);
        let c = classify_target(&t, &ThresholdConfig::default());
        let stalled: Vec<u64> = c
            .rows
            .iter()
            .filter(|(_, _, o)| *o == RequestOutcome::Stalled(Phase::Ttfb))
            .map(|(_, r, _)| r.seq)
            .collect();
        assert_eq!(stalled, vec![7]);
        assert!(
            c.rows
                .iter()
                .all(|(_, r, o)| r.seq == 7 || *o == RequestOutcome::Fine)
        );
        assert_eq!(c.phase_median(Phase::Tls), 2.0);
    }

    #[test]
    fn a_phase_slow_only_while_the_client_itself_was_frozen_is_no_stall() {
        let t = target(vec![asset("https://a/s/x.css", 20, 1000, |i, mut r| {
            match i {
                // Connect took 1.1 s while the probe was not running for 1.08 s of it.
                3 => {
                    r.phases.connect_ms = Some(1100.0);
                    r.client_lag_ms = Some(1080.0);
                }
                // A 2 s stall during which the probe lagged 300 ms: still a stall.
                7 => {
                    r.phases.ttfb_ms = Some(2000.0);
                    r.client_lag_ms = Some(300.0);
                }
                _ => {}
            }
            r
        })]);
        let c = classify_target(&t, &ThresholdConfig::default());
        let outcome = |seq: u64| c.rows.iter().find(|r| r.1.seq == seq).map(|r| r.2);
        assert_eq!(outcome(3), Some(RequestOutcome::Fine));
        assert_eq!(outcome(7), Some(RequestOutcome::Stalled(Phase::Ttfb)));
    }

    #[test]
    fn short_bodies_trickles_failures_and_statuses_are_told_apart() {
        let mut short = rec(0, "https://a/x", 3.0, 1.0, 1000);
        short.bytes_received = 10;
        let mut failed = rec(1, "https://a/x", 3.0, 1.0, 1000);
        failed.error = Some(interloper_model::RequestError {
            kind: ErrorKind::Refused,
            phase: Phase::Connect,
            message: "refused".into(),
        });
        let mut gone = rec(2, "https://a/x", 3.0, 1.0, 1000);
        gone.status = Some(404);
        let slow = trickle(rec(3, "https://a/x", 3.0, 1.0, 40_000), 4000.0);
        let t = target(vec![AssetEvidence {
            url: "https://a/x".into(),
            records: vec![short, failed, gone, slow],
            checks: vec![],
        }]);
        let c = classify_target(&t, &ThresholdConfig::default());
        let outcomes: Vec<RequestOutcome> = c.rows.iter().map(|r| r.2).collect();
        assert_eq!(
            outcomes,
            vec![
                RequestOutcome::Truncated,
                RequestOutcome::Failed(ErrorKind::Refused),
                RequestOutcome::Status(404),
                RequestOutcome::Trickled
            ]
        );
    }

    /// A 304 repeating the cached copy's Content-Length, with no body, is a complete answer:
    /// not truncated, and a body phase it does not have is not a stall. Its header wait is
    /// still judged: the round trip was real.
    #[test]
    fn a_revalidation_has_no_body_to_cut_short() {
        let not_modified = |seq: u64, ttfb: f64| {
            let mut r = rec(seq, "https://a/x", ttfb, 1.0, 40_000);
            r.status = Some(304);
            r.bytes_received = 0;
            r
        };
        let mut slow_body = not_modified(0, 3.0);
        slow_body.phases.body_ms = Some(4000.0);
        let mut records = vec![slow_body];
        records.extend((1..10).map(|i| not_modified(i, 3.0)));
        records.push(not_modified(10, 2500.0));
        let t = target(vec![AssetEvidence {
            url: "https://a/x".into(),
            records,
            checks: vec![],
        }]);
        let c = classify_target(&t, &ThresholdConfig::default());
        let outcomes: Vec<RequestOutcome> = c.rows.iter().map(|r| r.2).collect();
        assert_eq!(outcomes[10], RequestOutcome::Stalled(Phase::Ttfb));
        assert!(
            outcomes[..10].iter().all(|o| *o == RequestOutcome::Fine),
            "{outcomes:?}"
        );
    }

    /// A certificate this client refused is its own outcome: counted as failed in a summary,
    /// never as a failure or a bad request of the path.
    #[test]
    fn a_refused_certificate_is_not_a_failure_of_the_path() {
        let t = target(vec![asset("https://a/x", 1, 100, |_, r| {
            crate::testing::fail(r, ErrorKind::TlsCertificate, Phase::Tls)
        })]);
        let c = classify_target(&t, &ThresholdConfig::default());
        let o = c.rows[0].2;
        assert_eq!(o, RequestOutcome::CertificateRefused);
        assert!(o.counts_as_failed());
        assert!(!o.is_failure() && !o.is_stall_or_failure() && !o.is_bad());
    }

    #[test]
    fn one_late_burst_is_not_a_trickle() {
        let mut r = rec(0, "https://a/x", 3.0, 3000.0, 40_000);
        r.body_curve = vec![interloper_model::BodySample {
            at_ms: 2900.0,
            bytes: 40_000,
        }];
        assert!(!is_trickle(&r, &ThresholdConfig::default()));
        assert!(is_trickle(&trickle(r, 3000.0), &ThresholdConfig::default()));
    }
}
