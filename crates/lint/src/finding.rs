//! Building a lint finding: the catalogue's title and remedy, this occurrence's place and fix.

use interloper_findings::{Code, Confidence, Evidence, Finding, Severity};

/// A finding about `at` (a `file:line` of the configuration or a path), with its exact fix.
pub(crate) struct LintFinding {
    code: Code,
    severity: Severity,
    summary: String,
    at: Option<String>,
    fix: Option<String>,
    evidence: Vec<Evidence>,
}

impl LintFinding {
    pub(crate) fn new(code: Code, summary: impl Into<String>) -> LintFinding {
        LintFinding {
            code,
            severity: code.entry().severity,
            summary: summary.into(),
            at: None,
            fix: None,
            evidence: Vec::new(),
        }
    }

    pub(crate) fn severity(mut self, severity: Severity) -> LintFinding {
        self.severity = severity;
        self
    }

    pub(crate) fn at(mut self, at: impl Into<String>) -> LintFinding {
        self.at = Some(at.into());
        self
    }

    /// The exact change, shown first in the remedy.
    pub(crate) fn fix(mut self, fix: impl Into<String>) -> LintFinding {
        self.fix = Some(fix.into());
        self
    }

    /// A configuration line as nginx read it.
    pub(crate) fn config_line(mut self, at: String, text: String) -> LintFinding {
        self.evidence.push(Evidence::Log { location: at, text });
        self
    }

    pub(crate) fn stat(
        mut self,
        label: impl Into<String>,
        value: impl Into<String>,
    ) -> LintFinding {
        self.evidence.push(Evidence::Stat {
            label: label.into(),
            value: value.into(),
        });
        self
    }

    pub(crate) fn build(self) -> Finding {
        let e = self.code.entry();
        // The exact change leads the remedy; the catalogue's explanation follows.
        let remedy = match &self.fix {
            Some(fix) => format!("Fix: {fix}. {}", e.remedy),
            None => e.remedy.to_string(),
        };
        Finding {
            code: self.code,
            severity: self.severity,
            confidence: Confidence::High,
            title: e.title.to_string(),
            summary: self.summary,
            subject: self.at,
            assets: Vec::new(),
            evidence: self.evidence,
            remedy,
            doc: e.doc.to_string(),
        }
    }
}
