//! One scrape's answer: a fresh registry filled from one check's outcome, and the exporter's
//! own counters. Labels take only values from small fixed sets (phases, outcomes, finding
//! codes, severities, verdicts, TLS versions, module names from the configuration): never a
//! URL or an address, so cardinality stays bounded whatever is scraped.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use interloper_check::CheckOutcome;
use interloper_findings::Severity;
use interloper_model::{
    ErrorKind, RequestRecord,
    units::{median, percentile},
};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

/// The OpenMetrics content type Prometheus asks for.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type FloatGauge = Gauge<f64, AtomicU64>;

/// Every status of `interloper_verdict`, in the report's spelling.
pub const VERDICT_STATES: &[&str] = &[
    "clean",
    "intercepted",
    "failing",
    "degraded",
    "notice",
    "incomplete",
    "unverified",
];

/// Every status of `interloper_tls_path` (the chain analysis' verdict); `none` for plain HTTP
/// or when no connection was made.
pub const TLS_PATH_STATES: &[&str] = &[
    "clean",
    "intercepted",
    "likely-intercepted",
    "private-pki-unknown",
    "untrusted",
    "none",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabel {
    phase: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseQuantileLabels {
    phase: String,
    quantile: String,
}

/// The quantiles `interloper_request_phase_seconds` gives per phase.
const QUANTILES: &[(f64, &str)] = &[(0.5, "0.5"), (0.9, "0.9"), (0.99, "0.99")];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    code: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

/// How a scrape ended, before or without a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Bad request (unknown module, bad target): HTTP 400.
    BadRequest,
    /// Too many checks running: HTTP 503.
    Busy,
    /// The check could not start (an unreadable trust file…).
    CheckError,
    /// The check overran its budget and was abandoned.
    TimedOut,
}

/// A registry with `probe_success 0` and why, for a scrape that produced no outcome.
pub fn failure_registry(failure: Failure) -> Registry {
    let mut registry = Registry::default();
    let success: Gauge = Gauge::default();
    registry.register("probe_success", "Whether the check passed", success);
    let reason: Family<StatusLabel, Gauge> = Family::default();
    let name = match failure {
        Failure::BadRequest => "bad-request",
        Failure::Busy => "busy",
        Failure::CheckError => "check-error",
        Failure::TimedOut => "timed-out",
    };
    reason
        .get_or_create(&StatusLabel {
            status: name.to_string(),
        })
        .set(1);
    registry.register(
        "interloper_probe_error",
        "Why no check result is given (bad-request, busy, check-error, timed-out)",
        reason,
    );
    registry
}

/// The request outcomes counted by `interloper_requests`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RequestCounts {
    /// Complete, without a stall.
    pub ok: u64,
    /// Complete or not, with a stall in some phase (the findings' judgement).
    pub stalled: u64,
    /// Failed (reset, timeout, refused…), truncation aside.
    pub failed: u64,
    /// Fewer body bytes than announced.
    pub truncated: u64,
}

/// Counts the outcome of every request of the check. Requests the budget cancelled are not
/// counted: they say nothing about the path.
pub fn request_counts(outcome: &CheckOutcome) -> RequestCounts {
    let stalled = outcome
        .report
        .targets
        .iter()
        .map(|t| t.summary.stalled)
        .sum();
    count_outcomes(records(outcome), stalled)
}

/// The outcomes of one target's requests (`index` in the plan's order).
fn target_request_counts(outcome: &CheckOutcome, index: usize) -> RequestCounts {
    let stalled = outcome
        .report
        .targets
        .get(index)
        .map_or(0, |t| t.summary.stalled);
    let records = outcome
        .evidence
        .get(index)
        .into_iter()
        .flat_map(|t| t.assets.iter())
        .flat_map(|a| a.records.iter());
    count_outcomes(records, stalled)
}

fn count_outcomes<'a>(
    records: impl Iterator<Item = &'a RequestRecord>,
    stalled: u64,
) -> RequestCounts {
    let mut c = RequestCounts::default();
    let mut counted = 0u64;
    for record in records {
        match record.error.as_ref().map(|e| e.kind) {
            Some(ErrorKind::Cancelled) => continue,
            Some(ErrorKind::Truncated) => c.truncated += 1,
            Some(_) => c.failed += 1,
            None => {}
        }
        counted += 1;
    }
    c.stalled = stalled;
    c.ok = counted.saturating_sub(c.failed + c.truncated + c.stalled);
    c
}

fn records(outcome: &CheckOutcome) -> impl Iterator<Item = &RequestRecord> {
    outcome
        .evidence
        .iter()
        .flat_map(|t| t.assets.iter())
        .flat_map(|a| a.records.iter())
}

/// One phase's duration of a request, in milliseconds, if it went through it.
type PhaseOf = dyn Fn(&RequestRecord) -> Option<f64>;

/// The median of one phase over the requests that went through it, in seconds.
fn phase_median(outcome: &CheckOutcome, phase: &PhaseOf) -> f64 {
    median(records(outcome).filter_map(phase)).unwrap_or(0.0) / 1000.0
}

/// Whether the outcome passes: no finding of a failing severity.
pub fn passed(outcome: &CheckOutcome, fail_on: &[Severity]) -> bool {
    !outcome
        .report
        .findings
        .iter()
        .any(|f| fail_on.contains(&f.severity))
}

/// Blackbox's spelling of a TLS version (`TLS 1.3`), from rustls's (`TLSv1.3`).
fn blackbox_tls_version(version: &str) -> String {
    version
        .strip_prefix("TLSv")
        .map_or_else(|| version.to_string(), |v| format!("TLS {v}"))
}

/// How a scrape was asked, for the registry it answers.
#[derive(Debug, Clone, Copy)]
pub struct ScrapeShape<'a> {
    /// Finding severities that make `probe_success` 0.
    pub fail_on: &'a [Severity],
    /// How long the check took.
    pub elapsed: Duration,
    /// The budget it had.
    pub budget: Duration,
    /// Whether the module names a witness.
    pub witness_configured: bool,
    /// An instance group's member names, in the order of the check's targets; empty when the
    /// scrape checked one target.
    pub members: &'a [String],
}

/// The registry a scrape answers after a check, one metric family after another (the order
/// is the exposition's).
pub fn outcome_registry(outcome: &CheckOutcome, shape: &ScrapeShape<'_>) -> Registry {
    let mut registry = Registry::default();
    register_result(&mut registry, outcome, shape);
    register_phases(&mut registry, outcome);
    register_phase_buckets(&mut registry, outcome);
    let chain = outcome.chains.first().and_then(Option::as_ref);
    register_tls(&mut registry, outcome, chain);
    register_verdicts(&mut registry, outcome, chain);
    if shape.witness_configured {
        register_witness(&mut registry, outcome);
    }
    register_findings(&mut registry, outcome);
    register_requests(&mut registry, outcome);
    register_budget(&mut registry, outcome, shape.budget);
    if !shape.members.is_empty() {
        register_members(&mut registry, outcome, shape.members);
    }
    registry
}

/// `probe_success` and `probe_duration_seconds`, as blackbox_exporter has them.
fn register_result(registry: &mut Registry, outcome: &CheckOutcome, shape: &ScrapeShape<'_>) {
    let success: Gauge = Gauge::default();
    success.set(i64::from(passed(outcome, shape.fail_on)));
    registry.register(
        "probe_success",
        "Whether the check passed: no finding of a severity the module fails on",
        success,
    );

    let duration: FloatGauge = Gauge::default();
    duration.set(shape.elapsed.as_secs_f64());
    registry.register(
        "probe_duration_seconds",
        "How long the whole check took",
        duration,
    );
}

/// A phase's duration in a record, if the request went through it (milliseconds).
type PhaseFn = fn(&RequestRecord) -> Option<f64>;

/// Each phase of a request as the series name it, and where the record says its duration.
const PHASES: [(&str, PhaseFn); 5] = [
    ("resolve", |r| r.phases.dns_ms),
    ("connect", |r| r.phases.connect_ms),
    ("tls", |r| r.phases.tls_ms),
    ("processing", |r| {
        match (r.phases.write_ms, r.phases.ttfb_ms) {
            (None, None) => None,
            (w, t) => Some(w.unwrap_or(0.0) + t.unwrap_or(0.0)),
        }
    }),
    ("transfer", |r| r.phases.body_ms),
];

/// Upper bounds (seconds) of the latency buckets: blackbox's and client libraries' defaults,
/// which stock dashboards expect.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseBucketLabels {
    phase: String,
    le: String,
}

/// This check's requests counted into latency buckets per phase and for the whole request
/// (`phase="total"`), in the OpenMetrics GaugeHistogram shape (`_bucket{le}` cumulative,
/// `_gcount`, `_gsum`): counts of this scrape's requests, not running totals, so
/// `sum_over_time` adds scrapes up and `histogram_quantile` over the sum is a true quantile
/// across scrapes and instances, which the per-scrape quantile gauges cannot give. Typed
/// gauge: prometheus-client has no GaugeHistogram encoder, and Prometheus stores a
/// GaugeHistogram's samples as these same gauges.
fn register_phase_buckets(registry: &mut Registry, outcome: &CheckOutcome) {
    let buckets: Family<PhaseBucketLabels, Gauge> = Family::default();
    let counts: Family<PhaseLabel, Gauge> = Family::default();
    let sums: Family<PhaseLabel, FloatGauge> = Family::default();
    let total: PhaseFn = |r| r.phases.total_ms;
    for (name, phase) in PHASES.iter().copied().chain([("total", total)]) {
        let seconds: Vec<f64> = records(outcome)
            .filter_map(phase)
            .filter(|v| v.is_finite())
            .map(|ms| ms / 1000.0)
            .collect();
        for bound in BUCKETS {
            let within = seconds.iter().filter(|s| **s <= bound).count();
            buckets
                .get_or_create(&PhaseBucketLabels {
                    phase: name.to_string(),
                    le: bound.to_string(),
                })
                .set(i64::try_from(within).unwrap_or(i64::MAX));
        }
        let all = i64::try_from(seconds.len()).unwrap_or(i64::MAX);
        let label = PhaseLabel {
            phase: name.to_string(),
        };
        buckets
            .get_or_create(&PhaseBucketLabels {
                phase: name.to_string(),
                le: "+Inf".to_string(),
            })
            .set(all);
        counts.get_or_create(&label).set(all);
        sums.get_or_create(&label).set(seconds.iter().sum());
    }
    registry.register(
        "interloper_request_duration_seconds_bucket",
        "Requests of this check whose phase took at most le seconds (GaugeHistogram buckets, \
         cumulative)",
        buckets,
    );
    registry.register(
        "interloper_request_duration_seconds_gcount",
        "Requests of this check that went through the phase (GaugeHistogram count)",
        counts,
    );
    registry.register(
        "interloper_request_duration_seconds_gsum",
        "Seconds this check's requests spent in the phase (GaugeHistogram sum)",
        sums,
    );
}

/// Each phase's median (`probe_http_duration_seconds`) and quantiles
/// (`interloper_request_phase_seconds`) over the requests that went through it.
fn register_phases(registry: &mut Registry, outcome: &CheckOutcome) {
    let phases: Family<PhaseLabel, FloatGauge> = Family::default();
    let quantiles: Family<PhaseQuantileLabels, FloatGauge> = Family::default();
    for (name, phase) in PHASES {
        phases
            .get_or_create(&PhaseLabel {
                phase: name.to_string(),
            })
            .set(phase_median(outcome, &phase));
        let mut values: Vec<f64> = records(outcome)
            .filter_map(phase)
            .filter(|v| v.is_finite())
            .collect();
        values.sort_by(f64::total_cmp);
        for (q, label) in QUANTILES {
            if let Some(v) = percentile(&values, *q) {
                quantiles
                    .get_or_create(&PhaseQuantileLabels {
                        phase: name.to_string(),
                        quantile: (*label).to_string(),
                    })
                    .set(v / 1000.0);
            }
        }
    }
    registry.register(
        "interloper_request_phase_seconds",
        "Quantiles (nearest rank) of each phase over the check's requests that went through it",
        quantiles,
    );
    registry.register(
        "probe_http_duration_seconds",
        "Median duration of each phase over the check's requests that went through it",
        phases,
    );
}

/// The presented chain (earliest expiry, the leaf) and the TLS version negotiated.
fn register_tls(
    registry: &mut Registry,
    outcome: &CheckOutcome,
    chain: Option<&interloper_check::ChainReport>,
) {
    if let Some(expiry) = chain.and_then(earliest_expiry) {
        let g: FloatGauge = Gauge::default();
        g.set(expiry);
        registry.register(
            "probe_ssl_earliest_cert_expiry",
            "Earliest notAfter of the presented chain, Unix seconds",
            g,
        );
    }
    register_leaf_validity(registry, chain);
    if let Some(leaf) = chain.and_then(|c| c.certificates.first()) {
        // One series per scrape: the leaf as presented. A change of fingerprint is a new
        // series, which is what the chain-changed alert looks for.
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        struct ChainLabels {
            fingerprint_sha256: String,
            subject: String,
            issuer: String,
        }
        let f: Family<ChainLabels, Gauge> = Family::default();
        f.get_or_create(&ChainLabels {
            fingerprint_sha256: leaf.sha256.clone(),
            subject: leaf.subject.clone().unwrap_or_default(),
            issuer: leaf.issuer.clone().unwrap_or_default(),
        })
        .set(1);
        registry.register(
            "probe_ssl_last_chain_info",
            "The leaf certificate presented: SHA-256 of its DER, subject and issuer",
            f,
        );
    }
    let tls_version = records(outcome).find_map(|r| r.tls.as_ref().and_then(|t| t.version.clone()));
    if let Some(v) = tls_version {
        let versions: Family<VersionLabel, Gauge> = Family::default();
        versions
            .get_or_create(&VersionLabel {
                version: blackbox_tls_version(&v),
            })
            .set(1);
        registry.register(
            "probe_tls_version_info",
            "The TLS version negotiated",
            versions,
        );
    }
}

/// The check's verdict and the TLS path's, as state sets, and the interception product named.
fn register_verdicts(
    registry: &mut Registry,
    outcome: &CheckOutcome,
    chain: Option<&interloper_check::ChainReport>,
) {
    let verdict_status = serde_status(&outcome.report.verdict.status);
    registry.register(
        "interloper_verdict",
        "The check's verdict, a state set: the series of the current status is 1",
        state_set(VERDICT_STATES, &verdict_status),
    );
    let tls_status = chain.map_or_else(|| "none".to_string(), |c| serde_status(&c.verdict.status));
    registry.register(
        "interloper_tls_path",
        "The TLS path verdict (interception), a state set: the series of the current status is 1",
        state_set(TLS_PATH_STATES, &tls_status),
    );
    if let Some(product) = chain.and_then(|c| c.verdict.product.as_ref()) {
        // A product name comes from the built-in (or configured) product list: a small set.
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        struct ProductLabel {
            product: String,
        }
        let f: Family<ProductLabel, Gauge> = Family::default();
        f.get_or_create(&ProductLabel {
            product: product.name.clone(),
        })
        .set(1);
        registry.register(
            "interloper_interception_product_info",
            "The interception product named from the chain",
            f,
        );
    }
}

/// Whether the module's witness answered, and whether it agreed with what we saw.
fn register_witness(registry: &mut Registry, outcome: &CheckOutcome) {
    let witness = outcome.evidence.first().and_then(|t| t.witness.as_ref());
    let reachable: Gauge = Gauge::default();
    reachable.set(i64::from(witness.is_some()));
    registry.register(
        "interloper_witness_reachable",
        "Whether the module's witness answered",
        reachable,
    );
    if let Some(w) = witness {
        let agree: Gauge = Gauge::default();
        agree.set(i64::from(w.client_random_matched && w.chain_matched));
        registry.register(
            "interloper_witness_agreement",
            "Whether the witness saw our hello and presented the chain we received",
            agree,
        );
    }
}

/// Every finding present, by code and severity.
fn register_findings(registry: &mut Registry, outcome: &CheckOutcome) {
    let findings: Family<FindingLabels, Gauge> = Family::default();
    let present: BTreeSet<(String, &'static str)> = outcome
        .report
        .findings
        .iter()
        .map(|f| (f.code.as_str().to_string(), f.severity.as_str()))
        .collect();
    for (code, severity) in present {
        findings
            .get_or_create(&FindingLabels {
                code,
                severity: severity.to_string(),
            })
            .set(1);
    }
    registry.register(
        "interloper_finding",
        "A finding present in this check (1), by code and severity",
        findings,
    );
}

/// The check's requests by outcome.
fn register_requests(registry: &mut Registry, outcome: &CheckOutcome) {
    let counts = request_counts(outcome);
    let requests: Family<OutcomeLabel, Gauge> = Family::default();
    for (name, n) in [
        ("ok", counts.ok),
        ("stalled", counts.stalled),
        ("failed", counts.failed),
        ("truncated", counts.truncated),
    ] {
        requests
            .get_or_create(&OutcomeLabel {
                outcome: name.to_string(),
            })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    registry.register(
        "interloper_requests",
        "Requests of this check by outcome",
        requests,
    );
}

/// The budget the check had, and whether it cut sampling short.
fn register_budget(registry: &mut Registry, outcome: &CheckOutcome, budget: Duration) {
    let budget_g: FloatGauge = Gauge::default();
    budget_g.set(budget.as_secs_f64());
    registry.register(
        "interloper_budget_seconds",
        "The time budget this check had (module budget, lowered by the scrape timeout)",
        budget_g,
    );
    let exhausted: Gauge = Gauge::default();
    exhausted.set(i64::from(outcome.budget_exhausted));
    registry.register(
        "interloper_budget_exhausted",
        "Whether the budget cut sampling short",
        exhausted,
    );
    // Requests per probe: a probe whose evidence is decisive returns early (sequential test).
    let sampled: Gauge = Gauge::default();
    sampled.set(i64::try_from(records(outcome).count()).unwrap_or(i64::MAX));
    registry.register(
        "interloper_probe_requests",
        "Requests this probe made (discovery, verification and samples); fewer when the evidence decided early",
        sampled,
    );
    let early: Gauge = Gauge::default();
    early.set(i64::try_from(outcome.decided_early).unwrap_or(i64::MAX));
    registry.register(
        "interloper_decided_early_targets",
        "Targets whose sampling stopped before the planned count because every question was decided",
        early,
    );
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MemberLabel {
    member: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MemberOutcomeLabels {
    member: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MemberFindingLabels {
    member: String,
    code: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MemberStatusLabels {
    member: String,
    status: String,
}

/// Per-member series of an instance-group scrape. The `member` label takes the names the
/// configuration gives (bounded, never a URL): requests by outcome, findings that concern the
/// member, its TLS path verdict, and whether the comparison found it the odd one (IL401).
fn register_members(registry: &mut Registry, outcome: &CheckOutcome, members: &[String]) {
    let requests: Family<MemberOutcomeLabels, Gauge> = Family::default();
    let findings: Family<MemberFindingLabels, Gauge> = Family::default();
    let tls_path: Family<MemberStatusLabels, Gauge> = Family::default();
    let odd: Family<MemberLabel, Gauge> = Family::default();
    for (index, member) in members.iter().enumerate() {
        let counts = target_request_counts(outcome, index);
        for (name, n) in [
            ("ok", counts.ok),
            ("stalled", counts.stalled),
            ("failed", counts.failed),
            ("truncated", counts.truncated),
        ] {
            requests
                .get_or_create(&MemberOutcomeLabels {
                    member: member.clone(),
                    outcome: name.to_string(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let label = outcome.evidence.get(index).map(|t| t.label.as_str());
        let concerning: BTreeSet<(&'static str, &'static str)> = outcome
            .report
            .findings
            .iter()
            .filter(|f| label.is_some() && f.subject.as_deref() == label)
            .map(|f| (f.code.as_str(), f.severity.as_str()))
            .collect();
        for (code, severity) in &concerning {
            findings
                .get_or_create(&MemberFindingLabels {
                    member: member.clone(),
                    code: (*code).to_string(),
                    severity: (*severity).to_string(),
                })
                .set(1);
        }
        odd.get_or_create(&MemberLabel {
            member: member.clone(),
        })
        .set(i64::from(
            concerning.iter().any(|(code, _)| *code == "IL401"),
        ));
        let chain = outcome.chains.get(index).and_then(Option::as_ref);
        let status = chain.map_or_else(|| "none".to_string(), |c| serde_status(&c.verdict.status));
        for s in TLS_PATH_STATES {
            tls_path
                .get_or_create(&MemberStatusLabels {
                    member: member.clone(),
                    status: (*s).to_string(),
                })
                .set(i64::from(*s == status));
        }
    }
    registry.register(
        "interloper_member_requests",
        "Requests to each member of the instance group, by outcome",
        requests,
    );
    registry.register(
        "interloper_member_finding",
        "A finding that concerns one member of the instance group (1), by code and severity",
        findings,
    );
    registry.register(
        "interloper_member_tls_path",
        "Each member's TLS path verdict, a state set",
        tls_path,
    );
    registry.register(
        "interloper_member_odd",
        "Whether the comparison found this member differing from its siblings (IL401)",
        odd,
    );
}

/// A state set: one series per state, the current one 1.
fn state_set(states: &[&str], current: &str) -> Family<StatusLabel, Gauge> {
    let family: Family<StatusLabel, Gauge> = Family::default();
    for s in states {
        family
            .get_or_create(&StatusLabel {
                status: (*s).to_string(),
            })
            .set(i64::from(*s == current));
    }
    family
}

/// An enum's name as serde writes it (the report's spelling).
fn serde_status<T: serde::Serialize>(status: &T) -> String {
    toml::Value::try_from(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The presented leaf's notBefore and lifetime: a leaf minted on the path is often issued
/// minutes ago, or for a lifetime no public CA gives, which an alert can read without our
/// verdict logic (`time() - interloper_cert_not_before_seconds < 3600`).
fn register_leaf_validity(registry: &mut Registry, chain: Option<&interloper_check::ChainReport>) {
    use time::{OffsetDateTime, format_description::well_known::Rfc3339};
    let Some(leaf) = chain.and_then(|c| c.certificates.first()) else {
        return;
    };
    let at = |t: Option<&str>| {
        t.and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .map(|t| t.unix_timestamp() as f64)
    };
    let (Some(not_before), Some(not_after)) = (
        at(leaf.not_before.as_deref()),
        at(leaf.not_after.as_deref()),
    ) else {
        return;
    };
    let start: FloatGauge = Gauge::default();
    start.set(not_before);
    registry.register(
        "interloper_cert_not_before_seconds",
        "The presented leaf's notBefore, Unix seconds",
        start,
    );
    let lifetime: FloatGauge = Gauge::default();
    lifetime.set(not_after - not_before);
    registry.register(
        "interloper_cert_lifetime_seconds",
        "The presented leaf's validity, notAfter minus notBefore, in seconds",
        lifetime,
    );
}

/// The earliest notAfter of the chain, Unix seconds.
fn earliest_expiry(chain: &interloper_check::ChainReport) -> Option<f64> {
    use time::{OffsetDateTime, format_description::well_known::Rfc3339};
    chain
        .certificates
        .iter()
        .filter_map(|c| c.not_after.as_deref())
        .filter_map(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(|t| t.unix_timestamp() as f64)
        .reduce(f64::min)
}

/// The exporter's own metrics (`/metrics`).
#[derive(Debug)]
pub struct ExporterMetrics {
    registry: Registry,
    probes: Family<ProbeLabels, Counter>,
    in_flight: Gauge,
    reload: ReloadGauges,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProbeLabels {
    module: String,
    result: String,
}

impl Default for ExporterMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let probes: Family<ProbeLabels, Counter> = Family::default();
        let in_flight: Gauge = Gauge::default();
        registry.register(
            "interloper_serve_probes",
            "Scrapes of /probe by module (empty when unknown) and result (success, failure, \
             bad-request, busy, check-error, timed-out)",
            probes.clone(),
        );
        registry.register(
            "interloper_serve_checks_in_flight",
            "Checks running now",
            in_flight.clone(),
        );
        let reload = register_identity(&mut registry);
        ExporterMetrics {
            registry,
            probes,
            in_flight,
            reload,
        }
    }
}

impl ExporterMetrics {
    /// Counts one scrape of `/probe`.
    pub fn probe(&self, module: &str, result: &str) {
        self.probes
            .get_or_create(&ProbeLabels {
                module: module.to_string(),
                result: result.to_string(),
            })
            .inc();
    }

    /// The gauge of checks running.
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// The configuration reload gauges.
    pub fn reload(&self) -> &ReloadGauges {
        &self.reload
    }

    /// The registry to encode.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// Encodes a registry as OpenMetrics text.
pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, registry).is_err() {
        // Encoding into a String cannot fail on I/O; keep the scrape valid anyway.
        out = "# EOF\n".to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_versions_in_blackbox_spelling() {
        assert_eq!(blackbox_tls_version("TLSv1.3"), "TLS 1.3");
        assert_eq!(blackbox_tls_version("odd"), "odd");
    }

    #[test]
    fn a_failure_answers_probe_success_zero() {
        let text = encode(&failure_registry(Failure::Busy));
        assert!(text.contains("probe_success 0"), "{text}");
        assert!(
            text.contains("interloper_probe_error{status=\"busy\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn a_state_set_has_one_current_state() {
        let mut registry = Registry::default();
        registry.register("v", "v", state_set(VERDICT_STATES, "degraded"));
        let text = encode(&registry);
        assert!(text.contains("v{status=\"degraded\"} 1"), "{text}");
        assert!(text.contains("v{status=\"clean\"} 0"), "{text}");
    }
}

/// The `process_*` series every Prometheus client library exports, read from `/proc/self` at
/// each scrape of `/metrics` (Linux; elsewhere only the start time).
#[derive(Debug)]
struct ProcessCollector {
    /// When the exporter started (Unix seconds): taken at start, which is within a moment of
    /// the process's own start.
    start_time: f64,
}

/// Clock ticks per second of `/proc/self/stat`'s times: 100 on every Linux architecture
/// Prometheus's own collector supports (USER_HZ).
const TICKS_PER_SECOND: f64 = 100.0;

impl ProcessCollector {
    fn samples(&self) -> Vec<(&'static str, &'static str, MetricType, f64)> {
        let mut out = vec![(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds.",
            MetricType::Gauge,
            self.start_time,
        )];
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .map(|v| v * 1024.0)
        };
        if let Some(rss) = kib("VmRSS:") {
            out.push((
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                MetricType::Gauge,
                rss,
            ));
        }
        if let Some(vm) = kib("VmSize:") {
            out.push((
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                MetricType::Gauge,
                vm,
            ));
        }
        // utime and stime, fields 14 and 15; the name in field 2 may hold spaces, so count
        // from the closing parenthesis.
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
        if let (Some(user), Some(system)) = (ticks(11), ticks(12)) {
            out.push((
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                MetricType::Counter,
                (user + system) / TICKS_PER_SECOND,
            ));
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            out.push((
                "process_open_fds",
                "Number of open file descriptors.",
                MetricType::Gauge,
                fds.count() as f64,
            ));
        }
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        if let Some(max) = limits
            .lines()
            .find_map(|l| l.strip_prefix("Max open files"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        {
            out.push((
                "process_max_fds",
                "Maximum number of open file descriptors.",
                MetricType::Gauge,
                max,
            ));
        }
        out
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (name, help, kind, value) in self.samples() {
            let metric = encoder.encode_descriptor(name, help, None, kind)?;
            match kind {
                MetricType::Counter => ConstCounter::new(value).encode(metric)?,
                _ => ConstGauge::new(value).encode(metric)?,
            }
        }
        Ok(())
    }
}

/// Unix seconds now.
fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    revision: String,
}

/// The exporter's identity and its configuration's state: `interloper_build_info`, the
/// `process_*` series, and the last reload's outcome (as Prometheus's own
/// `prometheus_config_last_reload_*`), registered beside the scrape counters.
fn register_identity(registry: &mut Registry) -> ReloadGauges {
    let build: Family<BuildLabels, Gauge> = Family::default();
    build
        .get_or_create(&BuildLabels {
            version: env!("CARGO_PKG_VERSION").to_string(),
            // Set by a release build's environment; a developer's build says so.
            revision: option_env!("INTERLOPER_REVISION")
                .unwrap_or("unknown")
                .to_string(),
        })
        .set(1);
    registry.register(
        "interloper_build_info",
        "The exporter's version and revision (always 1)",
        build,
    );
    registry.register_collector(Box::new(ProcessCollector {
        start_time: unix_now(),
    }));
    let gauges = ReloadGauges::default();
    gauges.successful.set(1);
    gauges.success_timestamp.set(unix_now());
    registry.register(
        "interloper_serve_config_last_reload_successful",
        "Whether the last configuration (re)load succeeded (0: a refused file, the previous \
         configuration still runs)",
        gauges.successful.clone(),
    );
    registry.register(
        "interloper_serve_config_last_reload_success_timestamp_seconds",
        "When the configuration was last loaded successfully, Unix seconds",
        gauges.success_timestamp.clone(),
    );
    gauges
}

/// The reload outcome gauges.
#[derive(Debug, Default, Clone)]
pub struct ReloadGauges {
    successful: Gauge,
    success_timestamp: Gauge<f64, AtomicU64>,
}

impl ReloadGauges {
    /// Records a reload's outcome.
    pub fn record(&self, ok: bool) {
        self.successful.set(i64::from(ok));
        if ok {
            self.success_timestamp.set(unix_now());
        }
    }
}
