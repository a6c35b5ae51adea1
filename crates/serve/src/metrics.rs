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
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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

/// Each phase's median (`probe_http_duration_seconds`) and quantiles
/// (`interloper_request_phase_seconds`) over the requests that went through it.
fn register_phases(registry: &mut Registry, outcome: &CheckOutcome) {
    let phases: Family<PhaseLabel, FloatGauge> = Family::default();
    let quantiles: Family<PhaseQuantileLabels, FloatGauge> = Family::default();
    let processing = |r: &RequestRecord| match (r.phases.write_ms, r.phases.ttfb_ms) {
        (None, None) => None,
        (w, t) => Some(w.unwrap_or(0.0) + t.unwrap_or(0.0)),
    };
    let phase_fns: [(&str, &PhaseOf); 5] = [
        ("resolve", &|r| r.phases.dns_ms),
        ("connect", &|r| r.phases.connect_ms),
        ("tls", &|r| r.phases.tls_ms),
        ("processing", &processing),
        ("transfer", &|r| r.phases.body_ms),
    ];
    for (name, phase) in phase_fns {
        phases
            .get_or_create(&PhaseLabel {
                phase: name.to_string(),
            })
            .set(phase_median(outcome, phase));
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
        ExporterMetrics {
            registry,
            probes,
            in_flight,
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
