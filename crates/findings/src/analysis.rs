//! From evidence to findings and a verdict.
//!
//! Each detector reads the evidence of one target (or compares targets) and yields at most one
//! finding per code and target, with the requests, numbers and certificates behind it. The
//! verdict then picks the finding that best explains the rest: interception explains stalls,
//! stalls only on large bodies explain stalls, a missing file explains a 404.

use crate::catalogue::{Code, Confidence, Severity};
use crate::input::{
    AssetCheckKind, AssetEvidence, Evidence, TargetEvidence, TlsItemKind, TlsStatus,
};
use crate::stats::{detection_bound, median, phase_stats};
use crate::{Analysis, Finding, TargetSummary, Verdict, VerdictStatus};
use interloper_model::{ErrorKind, Phase, RequestRecord};
use std::collections::BTreeMap;

/// Thresholds of the detectors. The defaults are deliberately wide: a finding should survive a
/// loaded laptop and a noisy network, and tests inject faults far beyond them.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdConfig {
    /// A phase slower than this is never a stall, whatever the baseline (ms).
    pub stall_floor_ms: f64,
    /// A stall must also exceed `stall_factor ×` the phase's median…
    pub stall_factor: f64,
    /// …plus this much (ms), so a 1 ms median does not make 6 ms a stall.
    pub stall_margin_ms: f64,
    /// A body slower than this rate over at least `trickle_min_ms` is a trickle (bytes/s).
    pub trickle_rate: f64,
    /// Minimum body duration to call it a trickle (ms).
    pub trickle_min_ms: f64,
    /// Responses at least this large count as "large" for IL207 (bytes).
    pub large_body: u64,
    /// Responses at most this large count as "small" for IL207 (bytes).
    pub small_body: u64,
    /// Minimum samples in a group before groups are compared (IL206, IL208).
    pub min_group: usize,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        ThresholdConfig {
            stall_floor_ms: 750.0,
            stall_factor: 5.0,
            stall_margin_ms: 250.0,
            trickle_rate: 64.0 * 1024.0,
            trickle_min_ms: 1000.0,
            large_body: 64 * 1024,
            small_body: 16 * 1024,
            min_group: 3,
        }
    }
}

/// Analyse every target, compare them, and decide a verdict.
pub fn analyse(targets: &[TargetEvidence], cfg: &ThresholdConfig) -> Analysis {
    let mut findings = Vec::new();
    let mut summaries = Vec::new();
    let mut badness = Vec::new();
    for t in targets {
        let label = t.label.clone();
        let classified = classify_target(t, cfg);
        findings.extend(tls_findings(t));
        findings.extend(request_findings(t, &classified, cfg));
        findings.extend(check_findings(t));
        summaries.push(summarise(t, &classified));
        badness.push((label, classified.bad_rate()));
    }
    findings.extend(compare_instances(targets, &summaries));
    let mut findings = merge_duplicates(findings);
    for f in &mut findings {
        f.doc = f.code.doc_path();
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(priority(a.code).cmp(&priority(b.code)))
            .then(b.confidence.cmp(&a.confidence))
    });
    let verdict = verdict(targets, &findings, &summaries);
    Analysis {
        findings,
        verdict,
        targets: summaries,
    }
}

/// One finding per code, target and severity: a 404 seen both in the samples and in the
/// verification check is one finding with both pieces of evidence.
fn merge_duplicates(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in findings {
        match out
            .iter_mut()
            .find(|e| e.code == f.code && e.target == f.target && e.severity == f.severity)
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

/// How well a code explains the others: lower comes first in the verdict.
fn priority(code: Code) -> usize {
    const ORDER: &[Code] = &[
        Code::IL101,
        Code::IL103,
        Code::IL104,
        Code::IL204,
        Code::IL102,
        Code::IL105,
        Code::IL207,
        Code::IL206,
        Code::IL208,
        Code::IL203,
        Code::IL201,
        Code::IL205,
        Code::IL202,
        Code::IL301,
        Code::IL302,
        Code::IL306,
        Code::IL303,
        Code::IL304,
        Code::IL106,
        Code::IL401,
        Code::IL305,
    ];
    ORDER.iter().position(|c| *c == code).unwrap_or(ORDER.len())
}

pub(crate) fn finding(code: Code, target: Option<&str>, summary: String) -> Finding {
    let e = code.entry();
    Finding {
        code,
        severity: e.severity,
        confidence: Confidence::Medium,
        title: e.title.to_string(),
        summary,
        target: target.map(str::to_string),
        assets: Vec::new(),
        evidence: Vec::new(),
        remedy: e.remedy.to_string(),
        doc: code.doc_path(),
    }
}

/// What happened to one request, as the detectors see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Fine,
    /// Slow in this phase beyond the target's baseline.
    Stalled(Phase),
    /// The body arrived slowly but steadily.
    Trickled,
    /// Fewer bytes than announced.
    Truncated,
    /// Failed (reset, timeout, refused, …).
    Failed(ErrorKind),
    /// HTTP error status (counted by the asset-status detectors, not as a path problem).
    Status(u16),
}

impl Outcome {
    fn is_bad(self) -> bool {
        matches!(
            self,
            Outcome::Stalled(_) | Outcome::Trickled | Outcome::Truncated | Outcome::Failed(_)
        )
    }

    /// A stall or a failed request: what IL207 counts (a trickle is IL205's and a truncated
    /// body IL203's, whatever the size).
    fn is_stall_or_failure(self) -> bool {
        matches!(self, Outcome::Stalled(_) | Outcome::Failed(_))
    }
}

/// P(X ≤ k) for X ~ Binomial(n, p), summed in log space so large n stays finite.
pub(crate) fn binomial_cdf(k: usize, n: usize, p: f64) -> f64 {
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return if k >= n { 1.0 } else { 0.0 };
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let mut log_choose = 0.0_f64;
    let mut total = 0.0;
    for i in 0..=k.min(n) {
        if i > 0 {
            log_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total += (log_choose + i as f64 * lp + (n - i) as f64 * lq).exp();
    }
    total.min(1.0)
}

struct Classified<'a> {
    /// (asset, record, outcome) for every request of the target.
    rows: Vec<(&'a AssetEvidence, &'a RequestRecord, Outcome)>,
    /// Median per phase, for the evidence text.
    medians: BTreeMap<&'static str, f64>,
}

impl Classified<'_> {
    fn bad_rate(&self) -> f64 {
        if self.rows.is_empty() {
            return 0.0;
        }
        self.rows.iter().filter(|r| r.2.is_bad()).count() as f64 / self.rows.len() as f64
    }
}

const PHASES: &[(Phase, &str)] = &[
    (Phase::Dns, "dns"),
    (Phase::Connect, "connect"),
    (Phase::Tls, "tls"),
    (Phase::Ttfb, "ttfb"),
    (Phase::Body, "body"),
];

fn phase_value(r: &RequestRecord, p: Phase) -> Option<f64> {
    match p {
        Phase::Dns => r.phases.dns_ms,
        Phase::Connect => r.phases.connect_ms,
        Phase::Tls => r.phases.tls_ms,
        Phase::Write => r.phases.write_ms,
        Phase::Ttfb => r.phases.ttfb_ms,
        Phase::Body => r.phases.body_ms,
    }
}

fn phase_label(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "DNS",
        Phase::Connect => "TCP connect",
        Phase::Tls => "TLS handshake",
        Phase::Write => "request write",
        Phase::Ttfb => "waiting for response headers",
        Phase::Body => "body transfer",
    }
}

fn classify_target<'a>(t: &'a TargetEvidence, cfg: &ThresholdConfig) -> Classified<'a> {
    // Baselines: connection phases and TTFB per target (they do not depend on the file), the
    // body per asset (a 1 MB file legitimately takes longer than an icon).
    let all: Vec<&RequestRecord> = t.assets.iter().flat_map(|a| a.records.iter()).collect();
    let mut medians = BTreeMap::new();
    for (p, name) in PHASES {
        let vals: Vec<f64> = all
            .iter()
            .filter(|r| r.error.is_none())
            .filter_map(|r| phase_value(r, *p))
            .collect();
        medians.insert(*name, median(&vals));
    }
    let threshold = |median: f64| -> f64 {
        (median * cfg.stall_factor + cfg.stall_margin_ms).max(cfg.stall_floor_ms)
    };
    let mut rows = Vec::new();
    for a in &t.assets {
        let body_vals: Vec<f64> = a
            .records
            .iter()
            .filter(|r| r.error.is_none())
            .filter_map(|r| r.phases.body_ms)
            .collect();
        let body_median = median(&body_vals);
        for r in &a.records {
            let outcome = if let Some(e) = &r.error {
                match e.kind {
                    ErrorKind::Truncated => Outcome::Truncated,
                    ErrorKind::ResetMidBody
                        if r.content_length.is_some_and(|cl| r.bytes_received < cl) =>
                    {
                        Outcome::Truncated
                    }
                    k => Outcome::Failed(k),
                }
            } else if r.content_length.is_some_and(|cl| r.bytes_received < cl) {
                Outcome::Truncated
            } else if is_trickle(r, cfg) {
                Outcome::Trickled
            } else {
                let mut worst: Option<(Phase, f64)> = None;
                for (p, name) in PHASES {
                    let Some(v) = phase_value(r, *p) else {
                        continue;
                    };
                    let base = if *p == Phase::Body {
                        body_median
                    } else {
                        medians.get(name).copied().unwrap_or(0.0)
                    };
                    let over = v - threshold(base);
                    if over > 0.0 && worst.is_none_or(|(_, w)| over > w) {
                        worst = Some((*p, over));
                    }
                }
                match (worst, r.status) {
                    (Some((p, _)), _) => Outcome::Stalled(p),
                    (None, Some(s)) if s >= 400 => Outcome::Status(s),
                    _ => Outcome::Fine,
                }
            };
            rows.push((a, r, outcome));
        }
    }
    Classified { rows, medians }
}

/// A body that kept arriving, slowly, for a long time — not a stall followed by a burst.
fn is_trickle(r: &RequestRecord, cfg: &ThresholdConfig) -> bool {
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

fn request_findings(t: &TargetEvidence, c: &Classified<'_>, cfg: &ThresholdConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    // The findings that single out one group, and what they account for.
    let mut explained: Vec<Explained> = Vec::new();
    let label = t.label.as_str();
    let n = c.rows.len();
    if n == 0 {
        return out;
    }

    // IL201 — stalls, by phase.
    let stalled: Vec<_> = c
        .rows
        .iter()
        .filter_map(|(a, r, o)| match o {
            Outcome::Stalled(p) => Some((*a, *r, *p)),
            _ => None,
        })
        .collect();
    let stalled_count = stalled.len();
    if !stalled.is_empty() {
        let mut by_phase: BTreeMap<&'static str, usize> = BTreeMap::new();
        for (_, _, p) in &stalled {
            *by_phase.entry(phase_label(*p)).or_default() += 1;
        }
        let (main_phase, _) = by_phase
            .iter()
            .max_by_key(|(_, k)| **k)
            .map(|(p, k)| (*p, *k))
            .unwrap_or(("unknown", 0));
        let durations: Vec<f64> = stalled
            .iter()
            .filter_map(|(_, r, p)| phase_value(r, *p))
            .collect();
        let lo = durations.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = durations.iter().copied().fold(0.0, f64::max);
        let main_median = stalled
            .first()
            .map(|(_, _, p)| phase_median_label(c, *p))
            .unwrap_or(0.0);
        let mut f = finding(
            Code::IL201,
            Some(label),
            format!(
                "{} of {} requests ({:.1}%) stalled, mostly {} ({} against a median of {})",
                stalled.len(),
                n,
                100.0 * stalled.len() as f64 / n as f64,
                main_phase,
                if fmt_ms(lo) == fmt_ms(hi) {
                    fmt_ms(hi)
                } else {
                    format!("{}–{}", fmt_ms(lo), fmt_ms(hi))
                },
                fmt_ms(main_median),
            ),
        );
        f.confidence = match stalled.len() {
            1 => Confidence::Low,
            2 => Confidence::Medium,
            _ => Confidence::High,
        };
        if stalled.len() == 1 {
            f.severity = Severity::Warning;
        }
        for (phase, count) in &by_phase {
            f.evidence.push(Evidence::Stat {
                label: format!("stalls {phase}"),
                value: count.to_string(),
            });
        }
        if let Some(w) = &t.witness {
            // The witness answers in about a millisecond: a slow answer from it was slow on
            // the path.
            let threshold = cfg.stall_floor_ms;
            let slow: Vec<(f64, f64)> = w
                .samples
                .iter()
                .filter_map(|(c, s)| Some(((*c)?, s.unwrap_or(0.0))))
                .filter(|(c, s)| *c > threshold && *c > 10.0 * s.max(1.0))
                .collect();
            if !slow.is_empty() {
                let worst = slow.iter().map(|(c, _)| *c).fold(0.0, f64::max);
                let server = slow.iter().map(|(_, s)| *s).fold(0.0, f64::max);
                f.evidence.push(Evidence::Witness {
                    message: format!(
                        "{} of {} requests to the witness stalled too (up to {}) while it answered each within {}: the delay is on the path, not on the server",
                        slow.len(),
                        w.samples.len(),
                        fmt_ms(worst),
                        fmt_ms(server.max(0.1))
                    ),
                });
                f.confidence = Confidence::High;
            }
        }
        if let Some(w) = &t.witness
            && let (Some(server), Some(client)) = (w.server_ms, w.client_ms)
            && client > 10.0 * server.max(1.0)
            && client > cfg.stall_floor_ms
        {
            f.evidence.push(Evidence::Witness {
                message: format!(
                    "the witness wrote its response in {} while the client waited {}: the delay is on the path, not on the server",
                    fmt_ms(server),
                    fmt_ms(client)
                ),
            });
        }
        add_worst_requests(
            &mut f,
            stalled.iter().map(|(a, r, p)| (*a, *r, phase_value(r, *p))),
        );
        out.push(f);
    }

    // IL202 — failures other than truncation.
    let failed: Vec<_> = c
        .rows
        .iter()
        .filter_map(|(a, r, o)| match o {
            Outcome::Failed(k) => Some((*a, *r, *k)),
            _ => None,
        })
        .collect();
    let failed_count = failed.len();
    if !failed.is_empty() {
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        for (_, _, k) in &failed {
            *by_kind.entry(kind_name(*k)).or_default() += 1;
        }
        let kinds = by_kind
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut f = finding(
            Code::IL202,
            Some(label),
            format!("{} of {} requests failed: {}", failed.len(), n, kinds),
        );
        f.confidence = if failed.len() >= 2 {
            Confidence::High
        } else {
            Confidence::Medium
        };
        add_worst_requests(
            &mut f,
            failed.iter().map(|(a, r, _)| (*a, *r, r.phases.total_ms)),
        );
        out.push(f);
    }

    // IL203 — truncated bodies.
    let truncated: Vec<_> = c
        .rows
        .iter()
        .filter(|(_, _, o)| *o == Outcome::Truncated)
        .collect();
    if !truncated.is_empty() {
        let mut f = finding(
            Code::IL203,
            Some(label),
            format!(
                "{} of {} responses ended before Content-Length was reached",
                truncated.len(),
                n
            ),
        );
        f.confidence = Confidence::High;
        add_worst_requests(
            &mut f,
            truncated
                .iter()
                .map(|(a, r, _)| (*a, *r, r.phases.total_ms)),
        );
        out.push(f);
    }

    // IL205 — trickled bodies.
    let trickled: Vec<_> = c
        .rows
        .iter()
        .filter(|(_, _, o)| *o == Outcome::Trickled)
        .collect();
    if !trickled.is_empty() {
        let rates: Vec<f64> = trickled
            .iter()
            .filter_map(|(_, r, _)| {
                r.phases
                    .body_ms
                    .map(|ms| r.bytes_received as f64 / (ms / 1000.0))
            })
            .collect();
        let mut f = finding(
            Code::IL205,
            Some(label),
            format!(
                "{} of {} bodies trickled in at about {}/s",
                trickled.len(),
                n,
                fmt_bytes(median(&rates))
            ),
        );
        f.confidence = if trickled.len() >= 2 {
            Confidence::High
        } else {
            Confidence::Medium
        };
        add_worst_requests(
            &mut f,
            trickled.iter().map(|(a, r, _)| (*a, *r, r.phases.body_ms)),
        );
        out.push(f);
    }

    // IL206 — one address or family misbehaves.
    if let Some((f, stalls, failures)) = contrast(
        Code::IL206,
        label,
        c,
        cfg,
        |r| r.remote_addr.as_deref().map(ip_of).map(str::to_string),
        "address",
    ) {
        explained.push(Explained {
            index: out.len(),
            stalls,
            failures,
        });
        out.push(f);
    } else if let Some((f, stalls, failures)) = contrast(
        Code::IL206,
        label,
        c,
        cfg,
        |r| {
            r.remote_addr.as_deref().map(|a| {
                if ip_of(a).contains(':') {
                    "IPv6"
                } else {
                    "IPv4"
                }
                .to_string()
            })
        },
        "IP family",
    ) {
        explained.push(Explained {
            index: out.len(),
            stalls,
            failures,
        });
        out.push(f);
    }

    // IL207 — only large bodies stall or fail.
    let size_of = |a: &AssetEvidence| -> Option<u64> {
        a.records
            .iter()
            .filter_map(|r| {
                r.content_length
                    .or(Some(r.bytes_received))
                    .filter(|v| *v > 0)
            })
            .max()
    };
    let (mut large_n, mut large_bad, mut small_n, mut small_bad) = (0usize, 0usize, 0usize, 0usize);
    let mut large_rows = Vec::new();
    let (mut large_stalls, mut large_failures) = (0usize, 0usize);
    for (a, r, o) in &c.rows {
        match size_of(a) {
            Some(s) if s >= cfg.large_body => {
                large_n += 1;
                if o.is_stall_or_failure() {
                    large_bad += 1;
                    large_stalls += usize::from(matches!(o, Outcome::Stalled(_)));
                    large_failures += usize::from(matches!(o, Outcome::Failed(_)));
                    large_rows.push((*a, *r, r.phases.total_ms));
                }
            }
            Some(s) if s <= cfg.small_body => {
                small_n += 1;
                small_bad += usize::from(o.is_stall_or_failure());
            }
            _ => {}
        }
    }
    if large_bad >= 2 && small_bad == 0 && small_n >= 2 * cfg.min_group {
        let mut f = finding(
            Code::IL207,
            Some(label),
            format!(
                "{large_bad} of {large_n} requests for responses ≥ {} {}; none of {small_n} for responses ≤ {}",
                fmt_bytes(cfg.large_body as f64),
                stalled_or_failed(large_stalls, large_failures),
                fmt_bytes(cfg.small_body as f64)
            ),
        );
        f.confidence = if large_bad >= 3 {
            Confidence::High
        } else {
            Confidence::Medium
        };
        add_worst_requests(&mut f, large_rows.into_iter());
        explained.push(Explained {
            index: out.len(),
            stalls: large_stalls,
            failures: large_failures,
        });
        out.push(f);
    }

    // IL208 — only one HTTP version misbehaves.
    if let Some((f, stalls, failures)) = contrast(
        Code::IL208,
        label,
        c,
        cfg,
        |r| r.http_version.clone(),
        "HTTP version",
    ) {
        explained.push(Explained {
            index: out.len(),
            stalls,
            failures,
        });
        out.push(f);
    }

    // When one group (large bodies, one address, one protocol) holds every stall, or every
    // failure, that finding is the diagnosis: IL201 or IL202 would only repeat it less
    // precisely. Folded in, their summary and severity stay visible.
    let mut folded = Vec::new();
    for (general_code, total, held) in [
        (
            Code::IL201,
            stalled_count,
            (|e: &Explained| e.stalls) as fn(&Explained) -> usize,
        ),
        (Code::IL202, failed_count, |e: &Explained| e.failures),
    ] {
        if total == 0 {
            continue;
        }
        if let Some(general) = out.iter().position(|f| f.code == general_code)
            && let Some(specific) = explained.iter().find(|e| held(e) == total)
        {
            let general_finding = out[general].clone();
            let f = &mut out[specific.index];
            f.severity = f.severity.max(general_finding.severity);
            let joint = if folded.is_empty() { "; overall" } else { ";" };
            f.summary = format!("{}{joint} {}", f.summary, general_finding.summary);
            folded.push(general);
        }
    }
    folded.sort_unstable();
    for general in folded.into_iter().rev() {
        out.remove(general);
    }

    // IL301 / IL302 / IL306 — statuses.
    for (code, pred, what) in [
        (Code::IL301, (|s: u16| s == 404) as fn(u16) -> bool, "404"),
        (Code::IL302, |s: u16| s == 403, "403"),
        (Code::IL306, |s: u16| s >= 500, "5xx"),
    ] {
        let mut urls: Vec<String> = Vec::new();
        let mut f = finding(code, Some(label), String::new());
        for a in &t.assets {
            if let Some(r) = a.records.iter().find(|r| r.status.is_some_and(pred)) {
                urls.push(a.url.clone());
                f.evidence.push(Evidence::request(r));
            }
        }
        if !urls.is_empty() {
            f.summary = format!(
                "{} asset(s) answered {what}: {}",
                urls.len(),
                short_list(&urls)
            );
            f.confidence = Confidence::High;
            f.assets = urls;
            out.push(f);
        }
    }
    out
}

/// What happened to a group's bad requests, in words: "stalled", "failed", or both with counts.
fn stalled_or_failed(stalls: usize, failures: usize) -> String {
    match (stalls, failures) {
        (_, 0) => "stalled".into(),
        (0, _) => "failed".into(),
        (s, f) => format!("stalled or failed ({s} stalled, {f} failed)"),
    }
}

/// What a finding that singles out one group (an address, large bodies, a protocol) accounts
/// for: when it holds every stall or every failure, the general finding only repeats it.
struct Explained {
    index: usize,
    stalls: usize,
    failures: usize,
}

fn phase_median_label(c: &Classified<'_>, p: Phase) -> f64 {
    PHASES
        .iter()
        .find(|(q, _)| *q == p)
        .and_then(|(_, name)| c.medians.get(name).copied())
        .unwrap_or(0.0)
}

/// Compare groups of requests (by address, family, protocol): one group bad, the others fine.
fn contrast(
    code: Code,
    label: &str,
    c: &Classified<'_>,
    cfg: &ThresholdConfig,
    key: impl Fn(&RequestRecord) -> Option<String>,
    what: &str,
) -> Option<(Finding, usize, usize)> {
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    // (stalls, failures) per group.
    let mut held: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (_, r, o) in &c.rows {
        let Some(k) = key(r) else { continue };
        let h = held.entry(k.clone()).or_default();
        h.0 += usize::from(matches!(o, Outcome::Stalled(_)));
        h.1 += usize::from(matches!(o, Outcome::Failed(_)));
        let e = groups.entry(k).or_default();
        e.0 += 1;
        e.1 += usize::from(o.is_bad());
    }
    if groups.len() < 2 || groups.values().any(|(n, _)| *n < cfg.min_group) {
        return None;
    }
    let rate = |(n, b): &(usize, usize)| *b as f64 / *n as f64;
    let (bad_key, bad) = groups
        .iter()
        .max_by(|a, b| rate(a.1).total_cmp(&rate(b.1)))?;
    let others: (usize, usize) = groups
        .iter()
        .filter(|(k, _)| *k != bad_key)
        .fold((0, 0), |acc, (_, v)| (acc.0 + v.0, acc.1 + v.1));
    let others_worst = groups
        .iter()
        .filter(|(k, _)| *k != bad_key)
        .map(|(_, v)| rate(v))
        .fold(0.0, f64::max);
    // One group is worse when the others, had they suffered the same rate, would almost
    // never have come out as clean as they did (binomial tail < 1 %), and by a wide margin.
    let same_rate_chance = binomial_cdf(others.1, others.0, rate(bad));
    if bad.1 < 3 || same_rate_chance >= 0.01 || others_worst > rate(bad) / 4.0 {
        return None;
    }
    let (bad_stalls, bad_failures) = held.get(bad_key).copied().unwrap_or_default();
    let mut f = finding(
        code,
        Some(label),
        format!(
            "{what} {bad_key}: {} of {} requests {}; at most {:.0}% elsewhere",
            bad.1,
            bad.0,
            if bad_stalls + bad_failures == bad.1 {
                stalled_or_failed(bad_stalls, bad_failures)
            } else {
                // Truncated or trickled bodies count as bad here too.
                "went wrong".into()
            },
            100.0 * others_worst
        ),
    );
    for (k, (n, b)) in &groups {
        f.evidence.push(Evidence::Stat {
            label: format!("{what} {k}"),
            value: format!("{b} bad of {n}"),
        });
    }
    f.evidence.push(Evidence::Stat {
        label: "chance the others were this clean at the same rate".into(),
        value: format!("{same_rate_chance:.1e}"),
    });
    f.confidence = if same_rate_chance < 0.001 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    Some((f, bad_stalls, bad_failures))
}

fn check_findings(t: &TargetEvidence) -> Vec<Finding> {
    let label = t.label.as_str();
    let mut out = Vec::new();
    let groups: &[(Code, &[AssetCheckKind], Severity)] = &[
        (
            Code::IL204,
            &[
                AssetCheckKind::HashedNameMismatch,
                AssetCheckKind::SriMismatch,
                AssetCheckKind::EncodingBroken,
                AssetCheckKind::ContentChanged,
            ],
            Severity::Critical,
        ),
        (
            Code::IL203,
            &[AssetCheckKind::LengthMismatch],
            Severity::Error,
        ),
        (
            Code::IL303,
            &[AssetCheckKind::WrongTypeNosniff],
            Severity::Error,
        ),
        (Code::IL303, &[AssetCheckKind::WrongType], Severity::Warning),
        (Code::IL305, &[AssetCheckKind::ShortCache], Severity::Info),
        (Code::IL301, &[AssetCheckKind::NotFound], Severity::Error),
        (Code::IL302, &[AssetCheckKind::Forbidden], Severity::Error),
        (Code::IL306, &[AssetCheckKind::ServerError], Severity::Error),
    ];
    for (code, kinds, severity) in groups {
        let mut f = finding(*code, Some(label), String::new());
        f.severity = *severity;
        f.confidence = Confidence::High;
        for a in &t.assets {
            for chk in a.checks.iter().filter(|c| kinds.contains(&c.kind)) {
                if !f.assets.contains(&a.url) {
                    f.assets.push(a.url.clone());
                }
                f.evidence.push(Evidence::Check {
                    url: a.url.clone(),
                    check: chk.clone(),
                });
            }
        }
        if f.assets.is_empty() {
            continue;
        }
        f.summary = match code {
            Code::IL204 => format!(
                "{} file(s) arrived with different content than their name or integrity promises: {}",
                f.assets.len(),
                short_list(&f.assets)
            ),
            Code::IL203 => format!(
                "{} file(s) arrived short: {}",
                f.assets.len(),
                short_list(&f.assets)
            ),
            Code::IL303 if *severity == Severity::Error => format!(
                "{} file(s) with a wrong Content-Type under nosniff (browsers refuse them): {}",
                f.assets.len(),
                short_list(&f.assets)
            ),
            Code::IL303 => format!(
                "{} file(s) with a Content-Type that does not fit their extension: {}",
                f.assets.len(),
                short_list(&f.assets)
            ),
            Code::IL305 => format!(
                "{} hashed file(s) without long-lived caching: {}",
                f.assets.len(),
                short_list(&f.assets)
            ),
            _ => format!("{} file(s): {}", f.assets.len(), short_list(&f.assets)),
        };
        // A status already reported from the requests themselves is not reported twice.
        if let Some(existing) = out
            .iter_mut()
            .find(|e: &&mut Finding| e.code == *code && e.severity == *severity)
        {
            existing.evidence.extend(f.evidence);
            continue;
        }
        out.push(f);
    }
    out
}

fn tls_findings(t: &TargetEvidence) -> Vec<Finding> {
    let label = t.label.as_str();
    let mut out = Vec::new();
    if let Some(w) = &t.witness
        && (!w.client_random_matched || !w.chain_matched)
    {
        let product = t.tls.as_ref().and_then(|x| x.product.clone());
        let mut what = Vec::new();
        if !w.client_random_matched {
            what.push(
                "the witness received a different ClientHello (client_random) than the client sent",
            );
        }
        if !w.chain_matched {
            what.push("the client received a different certificate chain than the witness served");
        }
        let mut f = finding(
            Code::IL101,
            Some(label),
            match &product {
                Some(p) => format!("TLS is terminated on the path by {p}: {}", what.join("; ")),
                None => format!("TLS is terminated on the path: {}", what.join("; ")),
            },
        );
        f.confidence = Confidence::High;
        for m in what {
            f.evidence.push(Evidence::Witness {
                message: m.to_string(),
            });
        }
        if let (Some(a), Some(b)) = (&w.client_ja4, &w.witness_ja4) {
            f.evidence.push(Evidence::Witness {
                message: format!("JA4 sent {a}, JA4 received {b}"),
            });
        }
        out.push(f);
    }
    let Some(tls) = &t.tls else {
        return out;
    };
    let suspicious = matches!(
        tls.status,
        TlsStatus::Intercepted | TlsStatus::LikelyIntercepted
    );
    for (kind, code) in [
        (TlsItemKind::ProductMatch, Code::IL103),
        (TlsItemKind::LocalAnchorOnly, Code::IL102),
        (TlsItemKind::PinMismatch, Code::IL104),
        (TlsItemKind::MintedTraits, Code::IL105),
        (TlsItemKind::Downgrade, Code::IL106),
    ] {
        let items: Vec<_> = tls.items.iter().filter(|i| i.kind == kind).collect();
        if items.is_empty() {
            continue;
        }
        if tls.status == TlsStatus::Clean && matches!(code, Code::IL105 | Code::IL106) {
            // A publicly anchored chain with nothing else odd: its age or key type is not news.
            continue;
        }
        let summary = match code {
            Code::IL103 => match &tls.product {
                Some(p) => format!(
                    "the certificate was issued by {p} ({})",
                    tls.leaf_issuer.as_deref().unwrap_or("issuer unknown")
                ),
                None => items[0].message.clone(),
            },
            _ => items
                .iter()
                .map(|i| i.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        };
        let mut f = finding(code, Some(label), summary);
        f.confidence = match code {
            Code::IL103 | Code::IL104 => Confidence::High,
            Code::IL102 => {
                if suspicious {
                    tls.confidence
                } else {
                    Confidence::Medium
                }
            }
            _ => tls.confidence.min(Confidence::Medium),
        };
        if matches!(code, Code::IL105 | Code::IL106) && !suspicious {
            // Traits alone (a freshly issued certificate, a different protocol) are common on
            // healthy servers; without a suspicious anchor or product they are notes.
            f.severity = Severity::Info;
            f.confidence = Confidence::Low;
        }
        if code == Code::IL102 && !suspicious {
            // An internal CA and nothing else may well be a private PKI: say so, quietly.
            f.severity = Severity::Info;
            f.summary = format!(
                "{} — with no other sign of interception this may be a private PKI",
                f.summary
            );
        }
        for i in &items {
            f.evidence.push(Evidence::Tls {
                message: i.message.clone(),
            });
        }
        out.push(f);
    }
    out
}

fn summarise(t: &TargetEvidence, c: &Classified<'_>) -> TargetSummary {
    let mut totals: Vec<f64> = c
        .rows
        .iter()
        .filter(|(_, r, _)| r.error.is_none())
        .filter_map(|(_, r, _)| r.phases.total_ms)
        .collect();
    TargetSummary {
        label: t.label.clone(),
        assets: t.assets.len(),
        requests: c.rows.len() as u64,
        failed: c
            .rows
            .iter()
            .filter(|(_, _, o)| matches!(o, Outcome::Failed(_) | Outcome::Truncated))
            .count() as u64,
        stalled: c
            .rows
            .iter()
            .filter(|(_, _, o)| matches!(o, Outcome::Stalled(_) | Outcome::Trickled))
            .count() as u64,
        total: phase_stats(&mut totals),
        leaf_issuer: t.tls.as_ref().and_then(|x| x.leaf_issuer.clone()),
        tls_status: t.tls.as_ref().map(|x| x.status),
    }
}

/// Several instances of one app: point at the one that differs.
fn compare_instances(targets: &[TargetEvidence], s: &[TargetSummary]) -> Vec<Finding> {
    let mut out = Vec::new();
    if targets.len() < 2 {
        return out;
    }
    // IL304 — different static builds.
    let versions: Vec<(&str, &str)> = targets
        .iter()
        .filter_map(|t| t.static_version.as_deref().map(|v| (t.label.as_str(), v)))
        .collect();
    if versions.len() >= 2 && versions.iter().any(|(_, v)| *v != versions[0].1) {
        let mut f = finding(
            Code::IL304,
            None,
            format!(
                "{} instances serve {} different static builds",
                versions.len(),
                {
                    let mut v: Vec<&str> = versions.iter().map(|(_, v)| *v).collect();
                    v.sort();
                    v.dedup();
                    v.len()
                }
            ),
        );
        f.confidence = Confidence::High;
        for (label, v) in &versions {
            f.evidence.push(Evidence::Stat {
                label: (*label).to_string(),
                value: (*v).to_string(),
            });
        }
        out.push(f);
    }
    // IL401 — the odd one out, by what it presents or how it behaves.
    let mut reasons: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let odd_one = |values: Vec<Option<String>>| -> Option<usize> {
        // Exactly one target differs from all the others, which agree among themselves.
        if values.len() < 3 {
            return None;
        }
        (0..values.len()).find(|&i| {
            let others: Vec<&Option<String>> = values
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| v)
                .collect();
            others.iter().all(|v| **v == *others[0]) && values[i] != *others[0]
        })
    };
    if let Some(i) = odd_one(s.iter().map(|x| x.leaf_issuer.clone()).collect()) {
        reasons.entry(i).or_default().push(format!(
            "its certificate is issued by {} while the others' is issued by {}",
            s[i].leaf_issuer.as_deref().unwrap_or("nobody (plain HTTP)"),
            s[(i + 1) % s.len()]
                .leaf_issuer
                .as_deref()
                .unwrap_or("nobody")
        ));
    }
    let bad = |x: &TargetSummary| {
        if x.requests == 0 {
            0.0
        } else {
            (x.failed + x.stalled) as f64 / x.requests as f64
        }
    };
    if let Some((i, worst)) = s
        .iter()
        .enumerate()
        .map(|(i, x)| (i, bad(x)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    {
        let others = s
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, x)| bad(x))
            .fold(0.0, f64::max);
        if worst >= 0.02 && s[i].failed + s[i].stalled >= 2 && others <= worst / 4.0 {
            reasons.entry(i).or_default().push(format!(
                "{:.1}% of its requests stalled or failed, at most {:.1}% on the others",
                100.0 * worst,
                100.0 * others
            ));
        }
    }
    if let Some((i, why)) = reasons.into_iter().next() {
        let mut f = finding(
            Code::IL401,
            Some(&s[i].label),
            format!(
                "{} differs from its {} siblings: {}",
                s[i].label,
                s.len() - 1,
                why.join("; ")
            ),
        );
        f.confidence = if why.len() >= 2 {
            Confidence::High
        } else {
            Confidence::Medium
        };
        for x in s {
            f.evidence.push(Evidence::Stat {
                label: x.label.clone(),
                value: format!(
                    "{} requests, {} failed, {} stalled, p50 {}, issuer {}",
                    x.requests,
                    x.failed,
                    x.stalled,
                    fmt_ms(x.total.p50),
                    x.leaf_issuer.as_deref().unwrap_or("-")
                ),
            });
        }
        out.push(f);
    }
    out
}

fn verdict(targets: &[TargetEvidence], findings: &[Finding], s: &[TargetSummary]) -> Verdict {
    let requests: u64 = s.iter().map(|x| x.requests).sum();
    let assets: usize = s.iter().map(|x| x.assets).sum();
    let stalled: u64 = s.iter().map(|x| x.stalled).sum();
    let sampling = if stalled == 0 && requests > 0 {
        format!(
            "{requests} requests to {assets} assets on {} target(s); no stall seen: a problem hitting more than {:.1}% of requests would have shown up (95% confidence)",
            targets.len(),
            100.0 * detection_bound(requests, 0.95)
        )
    } else {
        format!(
            "{requests} requests to {assets} assets on {} target(s)",
            targets.len()
        )
    };
    let serious: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    let Some(root) = serious
        .iter()
        .min_by_key(|f| (priority(f.code), std::cmp::Reverse(f.severity)))
    else {
        let summary = if findings.is_empty() {
            "No problems found: every asset loaded completely, quickly and with the right content."
                .to_string()
        } else {
            "No problems that affect users; see the notes below.".to_string()
        };
        return Verdict {
            status: VerdictStatus::Clean,
            root_cause: None,
            target: None,
            summary,
            sampling,
        };
    };
    let interception = matches!(
        root.code,
        Code::IL101 | Code::IL103 | Code::IL104 | Code::IL102 | Code::IL105
    );
    let status = match root.code {
        _ if interception => VerdictStatus::Intercepted,
        Code::IL204
        | Code::IL203
        | Code::IL202
        | Code::IL301
        | Code::IL302
        | Code::IL306
        | Code::IL303 => VerdictStatus::Failing,
        // Slow is degraded; once requests fail outright on that path, it is failing.
        Code::IL201 | Code::IL205 | Code::IL206 | Code::IL207 | Code::IL208 => {
            let failed = s
                .iter()
                .filter(|x| Some(&x.label) == root.target.as_ref())
                .any(|x| x.failed > 0);
            if failed {
                VerdictStatus::Failing
            } else {
                VerdictStatus::Degraded
            }
        }
        _ => VerdictStatus::Notice,
    };
    let target = root.target.clone();
    // Statuses, types, caching and builds are the server's doing; the rest happens on the way.
    let server_side = matches!(
        root.code,
        Code::IL301 | Code::IL302 | Code::IL303 | Code::IL304 | Code::IL305 | Code::IL306
    );
    let on = target
        .as_deref()
        .map(|t| {
            if server_side {
                format!(" at {t}")
            } else {
                format!(" on the path to {t}")
            }
        })
        .unwrap_or_default();
    let symptoms: Vec<&str> = findings
        .iter()
        .filter(|f| f.target == target && f.severity >= Severity::Warning)
        .filter_map(|f| match f.code {
            Code::IL201 => Some("stalls"),
            Code::IL202 => Some("failed requests"),
            Code::IL203 => Some("truncated files"),
            Code::IL205 => Some("trickled bodies"),
            Code::IL206 if root.code != Code::IL206 => Some("one address misbehaving"),
            Code::IL207 if root.code != Code::IL207 => Some("large files stalling or failing"),
            Code::IL208 if root.code != Code::IL208 => Some("one HTTP version misbehaving"),
            Code::IL204 if root.code != Code::IL204 => Some("altered content"),
            _ => None,
        })
        .collect();
    let and_symptoms = if symptoms.is_empty() {
        String::new()
    } else {
        format!(", with {}", symptoms.join(", "))
    };
    let product = targets
        .iter()
        .find(|t| Some(t.label.as_str()) == target.as_deref())
        .and_then(|t| t.tls.as_ref())
        .and_then(|t| t.product.clone());
    let summary = if interception {
        let by = product
            .map(|p| format!("HTTPS inspection by {p}"))
            .unwrap_or_else(|| "HTTPS inspection".to_string());
        let proven = if root.code == Code::IL101 {
            " (proven by the witness)"
        } else {
            ""
        };
        format!(
            "{by}{on}{proven}{and_symptoms}: ask your network team to bypass inspection for this server."
        )
    } else {
        format!("{}{on}: {}", root.title, root.summary)
    };
    Verdict {
        status,
        root_cause: Some(root.code),
        target,
        summary,
        sampling,
    }
}

fn add_worst_requests<'a>(
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

fn kind_name(k: ErrorKind) -> String {
    k.as_str().replace('_', " ")
}

fn ip_of(addr: &str) -> &str {
    // "1.2.3.4:443" or "[::1]:443" → the address part.
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match addr.rsplit_once(':') {
        Some((ip, port)) if !ip.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => ip,
        _ => addr,
    }
}

fn short_list(urls: &[String]) -> String {
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

/// Milliseconds for humans: `3 ms`, `2.1 s`.
pub(crate) fn fmt_ms(ms: f64) -> String {
    if !ms.is_finite() {
        "-".to_string()
    } else if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn fmt_bytes(b: f64) -> String {
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.0} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}
