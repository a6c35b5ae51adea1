//! The verdict of `interloper lint`: the findings come from the lint crate (which reads the
//! server); ordering them and naming the root cause is the same judgement as elsewhere.

use crate::diagnosis::{Scope, Source, diagnose};
use crate::{Diagnosis, Finding};

/// Orders `findings` and names the root cause by the one rule (failing when a serious finding
/// is an error, a notice otherwise). `read` says what was examined (the verdict's "sampling").
pub fn analyse_lint(findings: Vec<Finding>, read: String) -> Diagnosis {
    let clean = "Nothing on this server explains failing static files: look at the path next \
                 (`interloper check` from a user's network).";
    diagnose(findings, &Scope::plain(Source::Lint, clean, read))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Code, Confidence, Severity, VerdictStatus};

    fn finding(code: Code, severity: Severity) -> Finding {
        let e = code.entry();
        Finding {
            code,
            severity,
            confidence: Confidence::High,
            title: e.title.into(),
            summary: "s".into(),
            subject: None,
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
