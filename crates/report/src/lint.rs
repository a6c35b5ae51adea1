//! The report of `interloper lint`: one document, printed as JSON or for a terminal.

use std::fmt::Write as _;
use std::io::{self, Write};

use interloper_findings::{Diagnosis, Finding, Verdict};
use interloper_model::schema;
use serde::{Deserialize, Serialize};

use crate::markup::{Html, Text};
use crate::terminal::{BOLD, Painter, TerminalStyle};
use crate::text::clean;
use crate::{Header, ReportMeta};

/// One thing lint read, in words: `nginx` → `3 file(s): …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintInput {
    /// What (`nginx`, `static root`, `django`, `web server user`, …).
    pub name: String,
    /// What was found there.
    pub value: String,
}

/// What `interloper lint --json` prints and the terminal renderer reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LintReport {
    /// Schema (always [`schema::LINT`]), tool, time and command line.
    #[serde(flatten)]
    pub header: Header,
    /// The one-sentence answer.
    pub verdict: Verdict,
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// What was read.
    pub inputs: Vec<LintInput>,
    /// Django's settings as the project's Python printed them, when read.
    pub django: Option<serde_json::Value>,
}

impl LintReport {
    /// Join the analysis and what was read.
    pub fn new(
        analysis: Diagnosis,
        inputs: Vec<LintInput>,
        django: Option<serde_json::Value>,
        meta: ReportMeta,
    ) -> LintReport {
        LintReport {
            header: Header::new(schema::LINT, &meta),
            verdict: analysis.verdict,
            findings: analysis.findings,
            inputs,
            django,
        }
    }
}

/// Writes the lint report as pretty JSON, with a final newline.
pub fn render_lint_json(report: &LintReport, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Writes the lint report for a terminal: verdict, findings, and what was read.
pub fn render_lint_terminal(
    report: &LintReport,
    out: &mut impl Write,
    style: TerminalStyle,
) -> io::Result<()> {
    let p = Painter {
        color: style.color,
        width: style.width.clamp(40, 1000),
    };
    let mut s = String::new();
    p.verdict(&mut s, &report.verdict);
    p.findings(&mut s, &report.findings);
    if !report.inputs.is_empty() {
        let _ = writeln!(s, "\n{}", p.paint(BOLD, "Read"));
        for i in &report.inputs {
            let _ = writeln!(s, "  {}: {}", clean(&i.name, 100), clean(&i.value, 2000));
        }
    }
    out.write_all(s.as_bytes())
}

/// Writes the lint report as one self-contained HTML page in the look of the check report:
/// verdict banner, findings, and what was read. Every string is escaped.
pub fn render_lint_html(report: &LintReport, out: &mut impl Write) -> io::Result<()> {
    use crate::html;
    let mut s = Html::with_capacity(32 * 1024);
    html::head(&mut s, &report.verdict, "interloper lint");
    html::banner(&mut s, &report.verdict);
    html::findings(&mut s, &report.findings);
    if !report.inputs.is_empty() {
        s.raw("<h2>Read</h2>\n<ul>");
        for i in &report.inputs {
            write!(
                s,
                "<li>{}: <span class=\"mono\">{}</span></li>",
                Text(&i.name, 100),
                Text(&i.value, 2000)
            );
        }
        s.raw("</ul>\n");
    }
    html::footer(&mut s, &report.header);
    out.write_all(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use interloper_findings::analyse_lint;

    #[test]
    fn an_empty_lint_report_is_clean_in_both_forms() {
        let report = LintReport::new(
            analyse_lint(Vec::new(), "read nothing".into()),
            vec![LintInput {
                name: "static url".into(),
                value: "/static/".into(),
            }],
            None,
            ReportMeta::new("0.1.0", "2026-11-30T23:00:00Z", vec!["interloper".into()]),
        );
        let mut text = Vec::new();
        render_lint_terminal(
            &report,
            &mut text,
            TerminalStyle {
                color: false,
                width: 80,
            },
        )
        .expect("renders");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(text.starts_with("CLEAN"), "{text}");
        assert!(text.contains("static url: /static/"));
        let mut json = Vec::new();
        render_lint_json(&report, &mut json).expect("renders");
        let mut page = Vec::new();
        render_lint_html(&report, &mut page).expect("renders");
        let page = String::from_utf8(page).expect("utf-8");
        assert!(page.contains("<h2>Read</h2>") && page.contains("/static/"));
        let v: serde_json::Value = serde_json::from_slice(&json).expect("json");
        assert_eq!(v["schema"], schema::LINT);
        assert_eq!(v["verdict"]["status"], "clean");
    }
}
