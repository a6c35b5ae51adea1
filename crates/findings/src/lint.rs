//! The verdict of `interloper lint`: the findings come from the lint crate (which reads the
//! server); ordering them and naming the root cause is the same judgement as elsewhere.

use crate::{Finding, Severity, Verdict, VerdictStatus};

/// Findings of a lint run, most important first, and the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct LintAnalysis {
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// The verdict.
    pub verdict: Verdict,
}

/// Orders `findings` (severity, then rank) and names the warning-or-worse finding of the
/// lowest rank as the root cause. `read` says what was examined (the verdict's "sampling").
pub fn analyse_lint(mut findings: Vec<Finding>, read: String) -> LintAnalysis {
    findings.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.code.rank()));
    let serious = || findings.iter().filter(|f| f.severity >= Severity::Warning);
    let verdict = match serious().min_by_key(|f| f.code.rank()) {
        None => Verdict {
            status: VerdictStatus::Clean,
            root_cause: None,
            target: None,
            summary: "Nothing on this server explains failing static files: look at the path \
                      next (`interloper check` from a user's network)."
                .into(),
            sampling: read,
        },
        Some(root) => {
            let status = if serious().any(|f| f.severity >= Severity::Error) {
                VerdictStatus::Failing
            } else {
                VerdictStatus::Notice
            };
            Verdict {
                status,
                root_cause: Some(root.code),
                target: root.target.clone(),
                summary: format!("{}: {}", root.title, root.summary),
                sampling: read,
            }
        }
    };
    LintAnalysis { findings, verdict }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Code, Confidence};

    fn finding(code: Code, severity: Severity) -> Finding {
        let e = code.entry();
        Finding {
            code,
            severity,
            confidence: Confidence::High,
            title: e.title.into(),
            summary: "s".into(),
            target: None,
            assets: vec![],
            evidence: vec![],
            remedy: e.remedy.into(),
            doc: e.doc.into(),
        }
    }

    #[test]
    fn the_lowest_ranked_serious_finding_is_the_root_cause() {
        let a = analyse_lint(
            vec![
                finding(Code::IL608, Severity::Info),
                finding(Code::IL614, Severity::Error),
                finding(Code::IL618, Severity::Warning),
            ],
            "read".into(),
        );
        assert_eq!(a.verdict.status, VerdictStatus::Failing);
        // The mount explains the missing files.
        assert_eq!(a.verdict.root_cause, Some(Code::IL618));
        assert_eq!(a.findings[0].code, Code::IL614);
        let clean = analyse_lint(vec![finding(Code::IL608, Severity::Info)], "r".into());
        assert_eq!(clean.verdict.status, VerdictStatus::Clean);
    }
}
