//! One shape for every diagnosis: findings in one order and one verdict rule.
//!
//! Every source of evidence — a check, a HAR, access logs, a capture, a lint, visits — ends in a
//! [`Diagnosis`]. The root cause and the status are decided here, once ([`diagnose`]); what a
//! source may conclude (a log cannot prove interception, a lint is never "intercepted" or
//! "degraded", when slow becomes failing) is data of its [`Source`], and the sentences it
//! speaks are a [`Scope`] it passes in.

use serde::{Deserialize, Serialize};

use crate::{Finding, Severity, Verdict, VerdictStatus};

/// Findings, most important first, and the verdict that names the one explaining the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// The one-sentence answer.
    pub verdict: Verdict,
}

impl Diagnosis {
    /// The highest severity among the findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        worst(&self.findings)
    }

    /// Whether a problem reaches `threshold` (what `--fail-on` asks): a finding at or above
    /// it that is not only incompleteness ([`fails_at`]).
    pub fn fails_at(&self, threshold: Severity) -> bool {
        fails_at(&self.findings, threshold)
    }

    /// Whether part of what was asked could not be examined ([`is_incomplete`]).
    pub fn is_incomplete(&self) -> bool {
        is_incomplete(&self.findings)
    }
}

/// The highest severity among `findings`, if any: [`Diagnosis::worst`] for a document that
/// holds its findings without a [`Diagnosis`].
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

/// Whether a finding at or above `threshold` is a problem: a code that says only that the
/// check is incomplete (IL310, [`crate::Entry::is_incompleteness`]) is not one — a script
/// tells it apart by exit code 3, and problems found elsewhere still win.
pub fn fails_at(findings: &[Finding], threshold: Severity) -> bool {
    findings
        .iter()
        .any(|f| f.severity >= threshold && !f.code.entry().is_incompleteness())
}

/// Whether a finding says that part of what was asked could not be examined.
pub fn is_incomplete(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.code.entry().is_incompleteness())
}

/// Where a diagnosis' evidence came from; each source's row in [`Source::reading`] and
/// [`Source::failing_when`] is what it may conclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// `interloper check`: timed requests, asset checks, the TLS path, witnesses.
    Check,
    /// `interloper har`: a browser's recording, read as a check's requests.
    Har,
    /// `interloper logs`: access logs.
    Logs,
    /// `interloper pcap`: a packet capture.
    Pcap,
    /// `interloper lint`: the server's configuration, files and mounts.
    Lint,
    /// `interloper visits`: visitors' browsers, judged by the witness.
    Visits,
}

/// How a source's status is read from its root cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// The catalogue's verdict of the root cause, degraded turning failing when failing is
    /// shown.
    Catalogue,
    /// Failing when failing is shown, this status otherwise: the source sees only whether
    /// requests or the server went wrong, never the path (no interception).
    FailingOr(VerdictStatus),
}

/// What shows that requests fail rather than merely run slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailingWhen {
    /// Requests to the root cause's target failed outright.
    RootTargetFailed,
    /// A warning-or-worse finding's code is one that fails requests (its catalogue verdict).
    AnyFailingCode,
    /// A warning-or-worse finding is an error (configuration: what is broken, not what is slow).
    AnyError,
}

impl Source {
    /// Every source, for tables and tests.
    #[cfg(test)]
    pub(crate) const ALL: [Source; 6] = [
        Source::Check,
        Source::Har,
        Source::Logs,
        Source::Pcap,
        Source::Lint,
        Source::Visits,
    ];

    /// How the status is read. Logs see what requests went through, not what sat on the path:
    /// failing or degraded. A lint reads configuration: failing or a notice.
    pub(crate) fn reading(self) -> Reading {
        match self {
            Source::Check | Source::Har | Source::Pcap | Source::Visits => Reading::Catalogue,
            Source::Logs => Reading::FailingOr(VerdictStatus::Degraded),
            Source::Lint => Reading::FailingOr(VerdictStatus::Notice),
        }
    }

    /// What shows failing: a check knows each target's failed requests; logs, captures and
    /// visits know their findings' codes; a lint knows how bad each setting is.
    pub(crate) fn failing_when(self) -> FailingWhen {
        match self {
            Source::Check | Source::Har => FailingWhen::RootTargetFailed,
            Source::Logs | Source::Pcap | Source::Visits => FailingWhen::AnyFailingCode,
            Source::Lint => FailingWhen::AnyError,
        }
    }
}

/// What one source brings to the verdict besides its findings: what it is, what it saw, and
/// the sentences it speaks.
pub(crate) struct Scope<'a> {
    /// Where the evidence came from.
    pub(crate) source: Source,
    /// Targets with requests that failed outright (read when [`FailingWhen::RootTargetFailed`]).
    pub(crate) failed_targets: Vec<&'a str>,
    /// The sentence when nothing is warning or worse.
    pub(crate) clean: String,
    /// How much was examined (the verdict's `basis`).
    pub(crate) basis: String,
    /// The sentence naming the root cause (given the root and every finding, ordered).
    pub(crate) says: &'a dyn Fn(&Finding, &[Finding]) -> String,
}

impl<'a> Scope<'a> {
    /// A scope whose root-cause sentence is the catalogue title and the finding's summary.
    pub(crate) fn plain(source: Source, clean: impl Into<String>, basis: String) -> Self {
        Scope {
            source,
            failed_targets: Vec::new(),
            clean: clean.into(),
            basis,
            says: &title_and_summary,
        }
    }
}

/// `Title: summary`, the root-cause sentence of sources with nothing more to say.
pub(crate) fn title_and_summary(root: &Finding, _: &[Finding]) -> String {
    format!("{}: {}", root.title, root.summary)
}

/// Orders `findings` and decides the verdict: the one rule of every source.
pub(crate) fn diagnose(mut findings: Vec<Finding>, scope: &Scope<'_>) -> Diagnosis {
    order(&mut findings);
    let verdict = verdict(&findings, scope);
    Diagnosis { findings, verdict }
}

/// Most severe first; among equals, the code that explains more (lower rank), then the surer.
/// Stable, so equal findings keep the order their detectors gave.
pub(crate) fn order(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.rank().cmp(&b.code.rank()))
            .then(b.confidence.cmp(&a.confidence))
    });
}

/// What users feel: warning or worse. Only these can be a root cause.
fn serious(f: &Finding) -> bool {
    f.severity >= Severity::Warning
}

/// The serious finding of the lowest rank (the worse severity among equals, then the first):
/// the one that explains the rest — interception explains stalls, a mount explains missing
/// files.
pub(crate) fn root_cause(findings: &[Finding]) -> Option<&Finding> {
    findings
        .iter()
        .filter(|f| serious(f))
        .min_by_key(|f| (f.code.rank(), std::cmp::Reverse(f.severity)))
}

/// The verdict of `findings` (in any order) as `scope`'s source may conclude it.
pub(crate) fn verdict(findings: &[Finding], scope: &Scope<'_>) -> Verdict {
    let Some(root) = root_cause(findings) else {
        return Verdict {
            status: VerdictStatus::Clean,
            root_cause: None,
            subject: None,
            summary: scope.clean.clone(),
            basis: scope.basis.clone(),
        };
    };
    Verdict {
        status: status(root, findings, scope),
        root_cause: Some(root.code),
        subject: root.subject.clone(),
        summary: (scope.says)(root, findings),
        basis: scope.basis.clone(),
    }
}

/// The status of a root cause, by its source's reading.
fn status(root: &Finding, findings: &[Finding], scope: &Scope<'_>) -> VerdictStatus {
    let mut serious_ones = findings.iter().filter(|f| serious(f));
    let failing = match scope.source.failing_when() {
        FailingWhen::RootTargetFailed => root
            .subject
            .as_deref()
            .is_some_and(|t| scope.failed_targets.contains(&t)),
        FailingWhen::AnyFailingCode => {
            serious_ones.any(|f| f.code.entry().verdict == VerdictStatus::Failing)
        }
        FailingWhen::AnyError => serious_ones.any(|f| f.severity >= Severity::Error),
    };
    match scope.source.reading() {
        Reading::Catalogue => match root.code.entry().verdict {
            VerdictStatus::Degraded if failing => VerdictStatus::Failing,
            v => v,
        },
        Reading::FailingOr(_) if failing => VerdictStatus::Failing,
        Reading::FailingOr(otherwise) => otherwise,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;
    use crate::detect::finding;

    const T: &str = "https://a.test/";

    fn at(code: Code, severity: Severity) -> Finding {
        let mut f = finding(code, Some(T), "s".into());
        f.severity = severity;
        f
    }

    fn scope(source: Source, failed: bool) -> Scope<'static> {
        let mut s = Scope::plain(source, "clean", "sampled".into());
        if failed {
            s.failed_targets = vec![T];
        }
        s
    }

    fn status_of(source: Source, findings: Vec<Finding>, failed: bool) -> VerdictStatus {
        diagnose(findings, &scope(source, failed)).verdict.status
    }

    /// Every source × every status: the findings that lead there, or `None` where the source
    /// may not conclude it.
    #[test]
    fn every_source_reaches_exactly_the_statuses_it_may_conclude() {
        use Severity::{Critical, Error, Info, Warning};
        use VerdictStatus::{
            Clean, Degraded, Failing, Incomplete, Intercepted, Notice, Unverified,
        };
        type Case = Option<(Vec<Finding>, bool)>;
        let table: [(Source, [(VerdictStatus, Case); 7]); 6] = [
            (
                Source::Check,
                [
                    (Clean, Some((vec![at(Code::IL305, Info)], false))),
                    (Intercepted, Some((vec![at(Code::IL101, Critical)], false))),
                    // A degraded root turns failing once requests to its target failed.
                    (Failing, Some((vec![at(Code::IL201, Error)], true))),
                    (Degraded, Some((vec![at(Code::IL201, Error)], false))),
                    (Notice, Some((vec![at(Code::IL106, Warning)], false))),
                    // Only a page that could not be read: incomplete, even with failed
                    // requests to it.
                    (Incomplete, Some((vec![at(Code::IL310, Warning)], true))),
                    // A root only this machine trusts, nothing failing: never clean.
                    (Unverified, Some((vec![at(Code::IL102, Warning)], false))),
                ],
            ),
            (
                Source::Har,
                [
                    (Clean, Some((vec![], false))),
                    (Intercepted, Some((vec![at(Code::IL103, Critical)], false))),
                    (Failing, Some((vec![at(Code::IL301, Error)], false))),
                    (Degraded, Some((vec![at(Code::IL211, Warning)], false))),
                    (Notice, Some((vec![at(Code::IL401, Warning)], false))),
                    (Incomplete, Some((vec![at(Code::IL310, Warning)], false))),
                    (Unverified, Some((vec![at(Code::IL102, Warning)], false))),
                ],
            ),
            (
                Source::Logs,
                [
                    (Clean, Some((vec![at(Code::IL503, Info)], false))),
                    (Intercepted, None),
                    // Slow through one backend, failing through another: failing.
                    (
                        Failing,
                        Some((
                            vec![at(Code::IL506, Warning), at(Code::IL501, Warning)],
                            false,
                        )),
                    ),
                    (Degraded, Some((vec![at(Code::IL503, Warning)], false))),
                    (Notice, None),
                    (Incomplete, None),
                    (Unverified, None),
                ],
            ),
            (
                Source::Pcap,
                [
                    (Clean, Some((vec![], false))),
                    (Intercepted, Some((vec![at(Code::IL103, Warning)], false))),
                    (
                        Failing,
                        Some((vec![at(Code::IL201, Error), at(Code::IL212, Error)], false)),
                    ),
                    (Degraded, Some((vec![at(Code::IL201, Error)], false))),
                    (Notice, Some((vec![at(Code::IL111, Warning)], false))),
                    (Incomplete, Some((vec![at(Code::IL310, Warning)], false))),
                    (Unverified, Some((vec![at(Code::IL102, Warning)], false))),
                ],
            ),
            (
                Source::Lint,
                [
                    (Clean, Some((vec![at(Code::IL608, Info)], false))),
                    (Intercepted, None),
                    // A mount (a notice) explains the missing files (an error): failing.
                    (
                        Failing,
                        Some((
                            vec![at(Code::IL618, Warning), at(Code::IL614, Error)],
                            false,
                        )),
                    ),
                    (Degraded, None),
                    // A failing code at warning only is a notice for a lint.
                    (Notice, Some((vec![at(Code::IL602, Warning)], false))),
                    (Incomplete, None),
                    (Unverified, None),
                ],
            ),
            (
                Source::Visits,
                [
                    (Clean, Some((vec![at(Code::IL703, Info)], false))),
                    (
                        Intercepted,
                        Some((
                            vec![at(Code::IL701, Critical), at(Code::IL702, Error)],
                            false,
                        )),
                    ),
                    (Failing, None),
                    (Degraded, Some((vec![at(Code::IL702, Warning)], false))),
                    (Notice, Some((vec![at(Code::IL703, Warning)], false))),
                    (Incomplete, None),
                    (Unverified, None),
                ],
            ),
        ];
        for (source, row) in table {
            for (want, case) in row {
                match case {
                    Some((findings, failed)) => {
                        assert_eq!(
                            status_of(source, findings, failed),
                            want,
                            "{source:?} should reach {want}"
                        );
                    }
                    None => {
                        // No code of the source's family, at any severity, with or without
                        // failed requests, may lead there.
                        for code in Code::ALL.iter().filter(|c| family_of(source, **c)) {
                            for sev in [Info, Warning, Error, Critical] {
                                for failed in [false, true] {
                                    let got = status_of(source, vec![at(*code, sev)], failed);
                                    assert_ne!(got, want, "{source:?}: {code:?} at {sev}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The codes a source emits: what the unreachable cells of the table are checked against.
    fn family_of(source: Source, code: Code) -> bool {
        use crate::Family;
        let family = code.entry().family;
        match source {
            Source::Logs => family == Family::Logs,
            Source::Lint => family == Family::Lint,
            Source::Visits => family == Family::Visits,
            Source::Check | Source::Har | Source::Pcap => {
                !matches!(family, Family::Logs | Family::Lint | Family::Visits)
            }
        }
    }

    #[test]
    fn every_source_picks_the_lowest_rank_whatever_its_severity() {
        use Severity::{Error, Warning};
        // IL105 (rank 55) explains IL201 (rank 110) even at a lower severity.
        for source in Source::ALL {
            let d = diagnose(
                vec![at(Code::IL201, Error), at(Code::IL105, Warning)],
                &scope(source, false),
            );
            assert_eq!(d.verdict.root_cause, Some(Code::IL105), "{source:?}");
            // The list still shows the most severe first.
            assert_eq!(d.findings[0].code, Code::IL201, "{source:?}");
            assert_eq!(d.verdict.subject.as_deref(), Some(T));
            assert_eq!(
                d.verdict.summary,
                format!("{}: s", Code::IL105.entry().title)
            );
        }
        let clean = diagnose(vec![], &scope(Source::Lint, false));
        assert_eq!(
            (clean.verdict.summary.as_str(), clean.worst()),
            ("clean", None)
        );
    }

    #[test]
    fn worst_and_fails_at_read_the_highest_severity() {
        use Severity::{Info, Warning};
        let d = diagnose(
            vec![at(Code::IL305, Info), at(Code::IL303, Warning)],
            &scope(Source::Check, false),
        );
        assert_eq!(d.worst(), Some(Severity::Warning));
        assert!(d.fails_at(Severity::Warning) && !d.fails_at(Severity::Error));
    }

    /// A real problem wins over incompleteness: it is the root cause and what `--fail-on`
    /// reads; incompleteness alone is the verdict and never a problem.
    #[test]
    fn problems_win_over_incompleteness() {
        use Severity::{Error, Warning};
        let both = diagnose(
            vec![at(Code::IL310, Warning), at(Code::IL301, Error)],
            &scope(Source::Check, false),
        );
        assert_eq!(both.verdict.root_cause, Some(Code::IL301));
        assert_eq!(both.verdict.status, VerdictStatus::Failing);
        assert!(both.fails_at(Warning) && both.is_incomplete());
        let alone = diagnose(vec![at(Code::IL310, Warning)], &scope(Source::Check, false));
        assert_eq!(alone.verdict.status, VerdictStatus::Incomplete);
        assert!(!alone.fails_at(Severity::Info) && alone.is_incomplete());
        let clean = diagnose(vec![], &scope(Source::Check, false));
        assert!(!clean.is_incomplete());
    }
}
