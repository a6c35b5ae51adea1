//! The report of `interloper har`: the check report's document and renderers (the same
//! findings, targets, waterfall), under its own schema name, with what each HAR file was.

use std::io::{self, Write};

use interloper_findings::{Analysis, TargetEvidence};
use interloper_har::HarSummary;
use interloper_model::schema;
use serde::{Deserialize, Serialize};

use crate::{Report, ReportMeta, TerminalStyle, render_html, render_terminal};

/// What `interloper har --json` prints: an `interloper.report/v1` document (each HAR file a
/// target) with `schema` set to [`schema::HAR`] and the files described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarReport {
    /// The report, as `check` writes it.
    #[serde(flatten)]
    pub report: Report,
    /// Each HAR file read, in the order given.
    pub files: Vec<HarSummary>,
}

impl HarReport {
    /// Joins the analysis, the evidence it was made from (one target per file) and the
    /// files' summaries.
    pub fn new(
        analysis: Analysis,
        targets: Vec<TargetEvidence>,
        files: Vec<HarSummary>,
        meta: ReportMeta,
    ) -> HarReport {
        let mut report = Report::new(analysis, targets, meta);
        report.header.schema = schema::HAR.to_string();
        for f in &files {
            report.notes.push(f.sentence());
            for n in &f.notes {
                report.notes.push(format!("{}: {n}", f.label));
            }
        }
        HarReport { report, files }
    }
}

/// Writes the HAR report as pretty JSON, with a final newline.
pub fn render_har_json(report: &HarReport, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Writes the HAR report for a terminal: the check report's layout, then what each file was.
pub fn render_har_terminal(
    report: &HarReport,
    out: &mut impl Write,
    style: TerminalStyle,
) -> io::Result<()> {
    render_terminal(&report.report, out, style)?;
    writeln!(out)?;
    for n in &report.report.notes {
        writeln!(out, "note: {}", crate::text::clean(n, 2000))?;
    }
    Ok(())
}

/// Writes the HAR report as one self-contained HTML page (the check report's page; the files
/// are in its notes).
pub fn render_har_html(report: &HarReport, out: &mut impl Write) -> io::Result<()> {
    render_html(&report.report, out)
}
