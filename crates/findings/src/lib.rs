//! Findings: what the evidence means.
//!
//! The check command gathers evidence per target (an instance of the app): every timed request
//! per asset, the result of each asset's integrity checks, the TLS path analysis and, when a
//! witness was used, what the server side saw. [`analyse`] turns that into ranked [`Finding`]s
//! with their evidence and a [`Verdict`] that names the most likely root cause first.
//!
//! Pure: no I/O, no clocks. The same evidence always gives the same findings.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod analysis;
mod browser;
pub mod capture;
mod catalogue;
mod classify;
mod detect;
mod diagnosis;
mod input;
mod lint;
mod logs;
mod logs_input;
mod pcap;
mod rum;
pub mod sequential;
mod stats;
#[cfg(test)]
mod testing;
mod thresholds;
mod verdict;
pub mod visits;

pub use analysis::analyse;
pub use browser::{BrowserEvidence, Queued, Unanswered, analyse_har};
pub use capture::CaptureEvidence;
pub use catalogue::{Code, Confidence, Entry, Family, Place, Severity};
pub use classify::{RequestOutcome, TargetOutcomes, classify};
pub use diagnosis::{Diagnosis, fails_at, is_incomplete, worst};
pub use input::{
    AssetCheck, AssetCheckKind, AssetEvidence, Evidence, TargetEvidence, TlsEvidence, TlsItem,
    TlsItemKind, TlsStatus, WitnessEvidence,
};
pub use lint::analyse_lint;
pub use logs::analyse_logs;
pub use logs_input::{LogBucket, LogEvidence, LogExample, LogGroup, LogSign, LogSource};
pub use pcap::{PcapThresholds, analyse_pcap};
pub use rum::{
    PhaseTimes, RumAggregates, RumAnalysis, RumEvidence, RumGroup, UNKNOWN_INSTANCE, analyse_rum,
};
pub use stats::{detection_bound, samples_for};
pub use thresholds::ThresholdConfig;

use interloper_model::PhaseStats;
use serde::{Deserialize, Serialize};

/// One finding: a code, how bad, how sure, why, and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code (`IL201`).
    pub code: Code,
    /// How bad.
    pub severity: Severity,
    /// How sure.
    pub confidence: Confidence,
    /// The catalogue title.
    pub title: String,
    /// One sentence about this occurrence (numbers, names).
    pub summary: String,
    /// What it concerns, by label: a target (instance), a backend, a `file:line` or a
    /// connection. JSON keeps the older name `target`.
    #[serde(rename = "target")]
    pub subject: Option<String>,
    /// Asset URLs concerned (empty when it is about the whole target).
    pub assets: Vec<String>,
    /// What was seen: requests, timings, certificates, checks.
    pub evidence: Vec<Evidence>,
    /// What to do about it.
    pub remedy: String,
    /// Where the code is documented.
    pub doc: String,
}

/// The overall answer, in one sentence a web developer understands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// `clean`, `intercepted`, `failing`, `degraded`, `notice` or `incomplete`.
    pub status: VerdictStatus,
    /// The code of the most likely root cause, if any.
    pub root_cause: Option<Code>,
    /// What the root cause concerns (its finding's [`Finding::subject`]), if one stands out.
    /// JSON keeps the older name `target`.
    #[serde(rename = "target")]
    pub subject: Option<String>,
    /// The sentence.
    pub summary: String,
    /// What the verdict rests on: how much was sampled, and what could have gone unseen.
    /// JSON keeps the older name `sampling`.
    #[serde(rename = "sampling")]
    pub basis: String,
}

/// Verdict categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictStatus {
    /// Nothing at warning or above.
    Clean,
    /// Something terminates TLS on the path.
    Intercepted,
    /// Assets fail, are missing or arrive wrong.
    Failing,
    /// Assets arrive, but slowly or intermittently.
    Degraded,
    /// Only warnings of configuration (caching, …).
    Notice,
    /// Nothing else wrong, but part of what was asked could not be examined (the page or a
    /// stylesheet did not decode, was an error page, not HTML, …): not clean, since what
    /// was not read was not checked.
    Incomplete,
    /// Nothing fails, but the path is trusted only by this machine: a root absent from the
    /// public roots and not declared private, which is the organisation's own PKI or HTTPS
    /// inspection, and one vantage point cannot tell which.
    Unverified,
}

impl VerdictStatus {
    /// The kebab-case name used in JSON and in reports: `clean`, `intercepted`, …
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictStatus::Clean => "clean",
            VerdictStatus::Intercepted => "intercepted",
            VerdictStatus::Failing => "failing",
            VerdictStatus::Degraded => "degraded",
            VerdictStatus::Notice => "notice",
            VerdictStatus::Incomplete => "incomplete",
            VerdictStatus::Unverified => "unverified",
        }
    }
}

impl std::fmt::Display for VerdictStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-target summary for reports and the instance comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSummary {
    /// Label (usually the page URL).
    pub label: String,
    /// Number of assets probed.
    pub assets: usize,
    /// Requests made.
    pub requests: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Requests with a stall in any phase.
    pub stalled: u64,
    /// Total time distribution over successful requests.
    pub total: PhaseStats,
    /// Issuer of the leaf the client saw, if TLS.
    pub leaf_issuer: Option<String>,
    /// TLS verdict status, if TLS was analysed.
    pub tls_status: Option<TlsStatus>,
    /// Requests made on connections opened with a browser-shaped ClientHello (post-quantum or
    /// multi-segment), counted in `requests`.
    #[serde(default)]
    pub browser_hellos: u64,
}

/// Result of [`analyse`]: the diagnosis and what the report shows per target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Findings and verdict (flattened: the JSON keeps `findings` and `verdict` at the top).
    #[serde(flatten)]
    pub diagnosis: Diagnosis,
    /// One summary per target, in input order.
    pub targets: Vec<TargetSummary>,
    /// Each request's outcome per target, in input order: what the report counts and flags
    /// (not part of any JSON document).
    #[serde(skip)]
    pub outcomes: Vec<TargetOutcomes>,
}

#[cfg(test)]
mod tests {
    use super::VerdictStatus;

    #[test]
    fn verdict_names_are_the_json_names() {
        for s in [
            VerdictStatus::Clean,
            VerdictStatus::Intercepted,
            VerdictStatus::Failing,
            VerdictStatus::Degraded,
            VerdictStatus::Notice,
            VerdictStatus::Incomplete,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            let back: VerdictStatus = serde_json::from_value(s.as_str().into()).unwrap();
            assert_eq!(back, s);
        }
    }
}
