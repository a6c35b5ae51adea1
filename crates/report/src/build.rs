//! From evidence to the report's per-target, per-group and per-asset numbers.
//!
//! Statistics here are exact (`interloper_model::units::phase_stats`: sorted values, nearest
//! rank, the same as the findings use): a check makes thousands of requests, not millions, and
//! a report should agree with anyone recomputing it from the rows.

use crate::{
    AssetKind, AssetReport, Bucket, Counts, GroupReport, HISTOGRAM_BOUNDS_MS,
    MAX_FLAGGED_PER_ASSET, PhaseTable, ReportMeta, RequestRow, TargetReport,
};
use interloper_findings::{
    AssetEvidence, Evidence, Finding, RequestOutcome, TargetEvidence, TargetOutcomes,
    TargetSummary, classify,
};
use interloper_model::units::{self, phase_stats};
use interloper_model::{PhaseStats, Phases, RequestRecord};
use std::collections::{BTreeMap, HashSet};

/// Each target's report. `summaries` and `outcomes` are the analysis' (matched by position,
/// then by label): a request is stalled in the report exactly when the findings classed it so.
pub(crate) fn targets(
    evidence: Vec<TargetEvidence>,
    mut summaries: Vec<TargetSummary>,
    mut outcomes: Vec<TargetOutcomes>,
    findings: &[Finding],
    meta: &ReportMeta,
) -> Vec<TargetReport> {
    // Requests a finding names are kept and flagged whatever the local rule says, so the
    // report always shows the evidence behind its findings.
    let named: HashSet<(&str, u64)> = findings
        .iter()
        .flat_map(|f| f.evidence.iter())
        .filter_map(|e| match e {
            Evidence::Request { url, seq, .. } => Some((url.as_str(), *seq)),
            _ => None,
        })
        .collect();
    let by_position = summaries.len() == evidence.len()
        && summaries
            .iter()
            .zip(&evidence)
            .all(|(s, t)| s.label == t.label);
    let outcomes_by_position = outcomes.len() == evidence.len()
        && outcomes
            .iter()
            .zip(&evidence)
            .all(|(o, t)| o.label == t.label);
    let mut out = Vec::with_capacity(evidence.len());
    for (i, t) in evidence.into_iter().enumerate() {
        // Evidence the analysis did not see is classified by the same rule.
        let outcome = if outcomes_by_position {
            std::mem::take(&mut outcomes[i])
        } else if let Some(j) = outcomes.iter().position(|o| o.label == t.label) {
            outcomes.remove(j)
        } else {
            classify(&t, &meta.thresholds)
        };
        let mut assets = Vec::with_capacity(t.assets.len());
        let mut pooled: BTreeMap<AssetKind, (usize, Counts, Vec<&RequestRecord>)> = BTreeMap::new();
        for (n, a) in t.assets.iter().enumerate() {
            let kind = asset_kind(a);
            let of_asset = outcome.assets.get(n).map_or(&[][..], Vec::as_slice);
            let report = asset(a, kind, of_asset, &named, meta.requests_per_asset);
            let g = pooled.entry(kind).or_default();
            g.0 += 1;
            add_counts(&mut g.1, &report.counts);
            g.2.extend(a.records.iter());
            assets.push(report);
        }
        let groups = pooled
            .into_iter()
            .map(|(kind, (n, counts, records))| GroupReport {
                kind,
                assets: n,
                counts,
                phases: phase_table(&records),
                histogram: histogram(&records),
            })
            .collect();
        let summary = if by_position {
            std::mem::replace(&mut summaries[i], fallback_summary(&t, &assets))
        } else if let Some(j) = summaries.iter().position(|s| s.label == t.label) {
            summaries.remove(j)
        } else {
            fallback_summary(&t, &assets)
        };
        let mut summary = summary;
        finite_stats(&mut summary.total);
        out.push(TargetReport {
            label: t.label,
            summary,
            tls: t.tls,
            witness: t.witness,
            static_version: t.static_version,
            groups,
            assets,
        });
    }
    out
}

/// Non-finite statistics (a mean that overflowed) become 0: JSON would carry them as `null`,
/// which no reader of a `PhaseStats` accepts.
fn finite_stats(s: &mut PhaseStats) {
    for v in [
        &mut s.min,
        &mut s.p50,
        &mut s.p90,
        &mut s.p99,
        &mut s.max,
        &mut s.mean,
    ] {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
}

/// Used only when the analysis has no summary for a target (it was made from other evidence).
fn fallback_summary(t: &TargetEvidence, assets: &[AssetReport]) -> TargetSummary {
    let all: Vec<&RequestRecord> = t.assets.iter().flat_map(|a| a.records.iter()).collect();
    let totals = all
        .iter()
        .filter(|r| r.error.is_none())
        .filter_map(|r| r.phases.total_ms);
    TargetSummary {
        label: t.label.clone(),
        assets: t.assets.len(),
        requests: all.len() as u64,
        failed: assets.iter().map(|a| a.counts.failed).sum(),
        stalled: assets.iter().map(|a| a.counts.stalled).sum(),
        total: phase_stats(totals).unwrap_or_default(),
        leaf_issuer: t.tls.as_ref().and_then(|x| x.leaf_issuer.clone()),
        tls_status: t.tls.as_ref().map(|x| x.status),
        browser_hellos: all
            .iter()
            .filter(|r| r.hello_shape != interloper_model::HelloShape::Classic)
            .count() as u64,
    }
}

fn add_counts(into: &mut Counts, c: &Counts) {
    into.requests += c.requests;
    into.failed += c.failed;
    into.stalled += c.stalled;
    for (k, v) in &c.statuses {
        *into.statuses.entry(*k).or_default() += v;
    }
    for (k, v) in &c.failures {
        *into.failures.entry(*k).or_default() += v;
    }
}

/// One asset's report; `outcomes` are its records' outcomes, in order.
fn asset(
    a: &AssetEvidence,
    kind: AssetKind,
    outcomes: &[RequestOutcome],
    named: &HashSet<(&str, u64)>,
    keep: usize,
) -> AssetReport {
    let ok: Vec<&RequestRecord> = a.records.iter().filter(|r| r.error.is_none()).collect();
    let mut counts = Counts::default();
    let mut rows: Vec<(bool, RequestRow)> = Vec::with_capacity(a.records.len());
    for (i, r) in a.records.iter().enumerate() {
        let stalled = outcomes.get(i).is_some_and(|o| o.counts_as_stalled());
        counts.requests += 1;
        if let Some(e) = &r.error {
            counts.failed += 1;
            *counts.failures.entry(e.kind).or_default() += 1;
        }
        if stalled {
            counts.stalled += 1;
        }
        if let Some(s) = r.status {
            *counts.statuses.entry(s).or_default() += 1;
        }
        let flagged = stalled || r.error.is_some() || named.contains(&(r.url.as_str(), r.seq));
        rows.push((flagged, row(r, stalled)));
    }
    let total = rows.len();
    let requests = select(rows, keep);
    let sizes = ok
        .iter()
        .filter(|r| r.status.is_none_or(|s| (200..300).contains(&s)))
        .map(|r| r.bytes_received as f64);
    AssetReport {
        url: a.url.clone(),
        kind,
        size: units::median(sizes).map(|m| m as u64),
        counts,
        phases: phase_table(&a.records.iter().collect::<Vec<_>>()),
        checks: a.checks.clone(),
        requests_omitted: (total - requests.len()) as u64,
        requests,
    }
}

/// Keeps every flagged row (bounded) and `keep` others evenly spaced, then sorts by start.
fn select(rows: Vec<(bool, RequestRow)>, keep: usize) -> Vec<RequestRow> {
    let (flagged, plain): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(f, _)| *f);
    let mut out: Vec<RequestRow> = flagged
        .into_iter()
        .take(MAX_FLAGGED_PER_ASSET)
        .map(|(_, r)| r)
        .collect();
    out.extend(
        spaced(plain.len(), keep)
            .into_iter()
            .zip(plain)
            .filter(|(take, _)| *take)
            .map(|(_, (_, r))| r),
    );
    out.sort_by(|a, b| {
        a.started_ms
            .total_cmp(&b.started_ms)
            .then(a.seq.cmp(&b.seq))
    });
    out
}

/// Which of `n` items to take so that `keep` of them are evenly spread (all when n ≤ keep).
pub(crate) fn spaced(n: usize, keep: usize) -> Vec<bool> {
    if n <= keep {
        return vec![true; n];
    }
    let mut take = vec![false; n];
    for i in 0..keep {
        // i·n/keep is strictly increasing and < n, so exactly `keep` distinct picks.
        take[i * n / keep] = true;
    }
    take
}

fn row(r: &RequestRecord, stalled: bool) -> RequestRow {
    RequestRow {
        seq: r.seq,
        // NaN would become JSON null, which a reader of the report could not parse back.
        started_ms: if r.started_ms.is_finite() {
            r.started_ms
        } else {
            0.0
        },
        connection_id: r.connection_id,
        reused: r.reused,
        remote_addr: r.remote_addr,
        http_version: r.http_version,
        status: r.status,
        content_length: r.content_length,
        bytes_received: r.bytes_received,
        phases: r.phases.clone(),
        error: r.error.clone(),
        stalled,
    }
}

fn phase_table(records: &[&RequestRecord]) -> PhaseTable {
    let ok: Vec<&Phases> = records
        .iter()
        .filter(|r| r.error.is_none())
        .map(|r| &r.phases)
        .collect();
    let of = |f: fn(&Phases) -> Option<f64>| phase_stats(ok.iter().filter_map(|p| f(p)));
    PhaseTable {
        dns: of(|p| p.dns_ms),
        connect: of(|p| p.connect_ms),
        tls: of(|p| p.tls_ms),
        ttfb: of(|p| p.ttfb_ms),
        body: of(|p| p.body_ms),
        total: of(|p| p.total_ms),
    }
}

fn histogram(records: &[&RequestRecord]) -> Vec<Bucket> {
    let mut buckets: Vec<Bucket> = HISTOGRAM_BOUNDS_MS
        .iter()
        .map(|b| Bucket {
            le_ms: Some(*b),
            count: 0,
        })
        .chain(std::iter::once(Bucket {
            le_ms: None,
            count: 0,
        }))
        .collect();
    for r in records.iter().filter(|r| r.error.is_none()) {
        let Some(v) = r.phases.total_ms.filter(|v| v.is_finite()) else {
            continue;
        };
        let i = HISTOGRAM_BOUNDS_MS
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(HISTOGRAM_BOUNDS_MS.len());
        buckets[i].count += 1;
    }
    buckets
}

/// Asset type from the URL's extension, else from the first Content-Type seen.
pub(crate) fn asset_kind(a: &AssetEvidence) -> AssetKind {
    let path = a.url.split(['?', '#']).next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    let ext = last
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let by_ext = match ext.as_str() {
        "css" => Some(AssetKind::Css),
        "js" | "mjs" | "cjs" => Some(AssetKind::Js),
        "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp" | "avif" | "ico" | "bmp" => {
            Some(AssetKind::Img)
        }
        "woff" | "woff2" | "ttf" | "otf" | "eot" => Some(AssetKind::Font),
        "html" | "htm" => Some(AssetKind::Html),
        _ => None,
    };
    if let Some(k) = by_ext {
        return k;
    }
    let ctype = a
        .records
        .iter()
        .flat_map(|r| r.headers.iter())
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    if ctype.starts_with("text/css") {
        AssetKind::Css
    } else if ctype.contains("javascript") || ctype.contains("ecmascript") {
        AssetKind::Js
    } else if ctype.starts_with("image/") {
        AssetKind::Img
    } else if ctype.starts_with("font/") || ctype.contains("font-woff") {
        AssetKind::Font
    } else if ctype.starts_with("text/html") || ext.is_empty() && last.is_empty() {
        AssetKind::Html
    } else {
        AssetKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Report, ReportMeta};
    use interloper_findings::{ThresholdConfig, analyse};
    use interloper_model::{BodySample, Phases};

    /// A quick, complete request of `size` bytes (a few ms per phase).
    fn record(seq: u64, url: &str, size: u64) -> RequestRecord {
        RequestRecord {
            status: Some(200),
            content_length: Some(size),
            bytes_received: size,
            phases: Phases {
                dns_ms: Some(0.2),
                connect_ms: Some(0.3),
                tls_ms: Some(2.0),
                write_ms: Some(0.05),
                ttfb_ms: Some(3.0),
                first_byte_ms: Some(0.1),
                body_ms: Some(1.0),
                total_ms: Some(6.6),
            },
            ..RequestRecord::new(seq, url.to_string(), seq as f64 * 10.0)
        }
    }

    #[test]
    fn the_reports_stalled_counts_are_the_findings() {
        let url = "https://a.test/s/app.js";
        let mut records: Vec<RequestRecord> = (0..20).map(|i| record(i, url, 40_000)).collect();
        // A stalled header wait: stalled for both.
        records[3].phases.ttfb_ms = Some(3000.0);
        // A slow request write: not a phase the findings look for stalls in.
        records[5].phases.write_ms = Some(5000.0);
        // A slow body cut short: truncated, not stalled.
        records[7].bytes_received = 100;
        records[7].phases.body_ms = Some(4000.0);
        // A body trickling in for 4 s: a trickle, counted as stalled.
        records[9].phases.body_ms = Some(4000.0);
        records[9].body_curve = (1..=8)
            .map(|k| BodySample {
                at_ms: 500.0 * k as f64,
                bytes: 5000 * k,
            })
            .collect();
        let evidence = vec![TargetEvidence {
            label: "https://a.test/".into(),
            assets: vec![AssetEvidence {
                url: url.into(),
                records,
                checks: vec![],
            }],
            ..Default::default()
        }];
        let analysis = analyse(&evidence, &ThresholdConfig::default());
        let from_findings = analysis.targets[0].stalled;
        let classed: Vec<u64> = analysis.outcomes[0].assets[0]
            .iter()
            .zip(&evidence[0].assets[0].records)
            .filter(|(o, _)| o.counts_as_stalled())
            .map(|(_, r)| r.seq)
            .collect();
        assert_eq!(classed, vec![3, 9]);
        let report = Report::new(analysis, evidence, ReportMeta::new("0", "t", vec![]));
        let t = &report.targets[0];
        let counted: u64 = t.assets.iter().map(|a| a.counts.stalled).sum();
        let grouped: u64 = t.groups.iter().map(|g| g.counts.stalled).sum();
        assert_eq!((counted, grouped, t.summary.stalled), (2, 2, from_findings));
        let flagged: Vec<u64> = t.assets[0]
            .requests
            .iter()
            .filter(|r| r.stalled)
            .map(|r| r.seq)
            .collect();
        assert_eq!(flagged, classed);
    }

    #[test]
    fn spaced_takes_exactly_keep_evenly() {
        let t = spaced(1000, 200);
        assert_eq!(t.iter().filter(|x| **x).count(), 200);
        assert!(t[0] && t[5] && !t[1]);
        assert_eq!(spaced(3, 200), vec![true; 3]);
        assert!(spaced(5, 0).iter().all(|x| !x));
    }

    #[test]
    fn kinds_from_extension_then_content_type() {
        let a = |url: &str| AssetEvidence {
            url: url.to_string(),
            ..Default::default()
        };
        assert_eq!(
            asset_kind(&a("https://a/s/app.4f2a.CSS?v=1")),
            AssetKind::Css
        );
        assert_eq!(asset_kind(&a("https://a/s/x.woff2#f")), AssetKind::Font);
        assert_eq!(asset_kind(&a("https://a/")), AssetKind::Html);
        assert_eq!(asset_kind(&a("https://a/s/blob")), AssetKind::Other);
    }
}
