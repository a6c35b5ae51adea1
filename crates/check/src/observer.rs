//! What a running check tells its observer (the CLI's progress, a server's counters), and the
//! decisive TLS evidence it may tell early.

use interloper_chain::{ChainReport, PathStatus};

/// What a check reports while it runs. The CLI draws progress bars from it; a server counts
/// or ignores it. Called from the checking tasks, so it must be cheap and thread-safe.
pub trait CheckObserver: Send + Sync {
    /// Target `target` (an index into [`crate::CheckPlan::targets`]) starts a stage of work, with
    /// the number of steps when known.
    fn stage(&self, _target: usize, _url: &str, _what: &str, _steps: Option<u64>) {}
    /// One step of the current stage of `target` is done.
    fn step(&self, _target: usize) {}
    /// What the sequential test says so far of `target` ("3 stalls in 41 — deciding").
    fn deciding(&self, _target: usize, _state: &str) {}
    /// Decisive TLS evidence about `target`'s path (a chain from a known inspection product, a
    /// witness that saw another hello or chain), told the moment it is seen while the timing
    /// evidence is still being gathered; at most once per target. The report says it again.
    fn tls_decided(&self, _target: usize, _evidence: &DecisiveTls) {}
    /// Target `target` has been discovered and sampled.
    fn target_done(&self, _target: usize) {}
    /// Something the user should know that does not stop the check (an unreadable
    /// certificate in the trust store…).
    fn warning(&self, _message: &str) {}
}

/// An observer that ignores everything.
impl CheckObserver for () {}

/// What the TLS path proved about a target before its timing evidence is in: the chain
/// verdict's `intercepted` (docs/tls-verdicts.md rules 1–3), told once per target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisiveTls {
    /// The verdict rule that decided: `witness-differs`, `known-product` or
    /// `pin-mismatch-local`.
    pub rule: &'static str,
    /// The product named, vendor first ("Fortinet FortiGate").
    pub product: Option<String>,
    /// The verdict's sentence, as the report gives it.
    pub summary: String,
}

impl DecisiveTls {
    /// The decisive evidence in a report of the path, if it is there: only `intercepted`,
    /// whose rules need nothing the timing samples add.
    pub fn of(report: &ChainReport) -> Option<DecisiveTls> {
        (report.verdict.status == PathStatus::Intercepted).then(|| DecisiveTls {
            rule: report.verdict.rule,
            product: report
                .verdict
                .product
                .as_ref()
                .map(|p| format!("{} {}", p.vendor, p.name)),
            summary: report.verdict.summary.clone(),
        })
    }

    /// A few words for a progress line: "TLS inspection (Fortinet FortiGate)".
    pub fn headline(&self) -> String {
        match (&self.product, self.rule) {
            (Some(product), _) => format!("TLS inspection ({product})"),
            (None, "witness-differs") => "TLS inspection (proven by the witness)".to_string(),
            (None, _) => "TLS inspection (the pinned key was replaced)".to_string(),
        }
    }
}
