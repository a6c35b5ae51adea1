//! The report of `interloper rum`: the check report's document and renderers (the same
//! findings and per-instance summaries), under its own schema name, with the rates by
//! instance, client network, file, size class and protocol, and what was read.

use std::io::{self, Write};

use interloper_findings::{RumAggregates, RumAnalysis, RumGroup, TargetEvidence};
use interloper_model::schema;
use interloper_model::units::fmt_duration_ms;
use interloper_rum::RumSummary;
use serde::{Deserialize, Serialize};

use crate::{Report, ReportMeta, TerminalStyle, render_html, render_terminal};

/// Rows shown per table in the terminal and the page (the JSON keeps every group).
const ROWS_SHOWN: usize = 10;

/// What `interloper rum --json` prints: an `interloper.report/v1` document (each instance a
/// target) with `schema` set to [`schema::RUM`], the aggregates and what was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RumReport {
    /// The report, as `check` writes it.
    #[serde(flatten)]
    pub report: Report,
    /// Rates by instance, client network, file, size class and protocol.
    pub aggregates: RumAggregates,
    /// What the beacon logs held.
    pub beacons: RumSummary,
}

impl RumReport {
    /// Joins the analysis, the evidence it was made from (one target per instance) and what
    /// was read.
    pub fn new(
        analysis: RumAnalysis,
        targets: Vec<TargetEvidence>,
        summary: RumSummary,
        meta: ReportMeta,
    ) -> RumReport {
        let mut report = Report::new(analysis.analysis, targets, meta);
        report.header.schema = schema::RUM.to_string();
        report.notes.push(read_sentence(&summary));
        for (title, groups) in tables(&analysis.aggregates) {
            let worst: Vec<String> = groups
                .iter()
                .take(ROWS_SHOWN)
                .map(|g| format!("{} {}", g.key, rate_words(g)))
                .collect();
            report
                .notes
                .push(format!("by {title}: {}", worst.join("; ")));
        }
        RumReport {
            report,
            aggregates: analysis.aggregates,
            beacons: summary,
        }
    }
}

/// The tables in the order they are shown.
fn tables(a: &RumAggregates) -> [(&'static str, &[RumGroup]); 5] {
    [
        ("instance", &a.instances),
        ("client network", &a.networks),
        ("size class", &a.sizes),
        ("protocol", &a.protocols),
        ("file", &a.assets),
    ]
}

/// `3 of 120 stalled, 1 failed (3.3 %)`.
fn rate_words(g: &RumGroup) -> String {
    format!(
        "{} of {} stalled, {} failed ({:.1} %)",
        g.stalled,
        g.requests,
        g.failed,
        100.0 * g.bad_rate()
    )
}

/// One sentence on what the logs held.
fn read_sentence(s: &RumSummary) -> String {
    let mut out = format!(
        "{} beacons ({} lines): {} static files timed over the network from {} client networks, \
         {} from the browser's cache left out",
        s.beacons, s.lines, s.files, s.networks, s.cached
    );
    if let (Some(a), Some(b)) = (&s.first_received, &s.last_received) {
        out.push_str(&format!(", received {a} – {b}"));
    }
    if s.not_beacons > 0 {
        out.push_str(&format!(
            "; {} lines not beacons (first: {})",
            s.not_beacons,
            s.first_not_beacon.as_deref().unwrap_or("?")
        ));
    }
    if s.files_omitted > 0 {
        out.push_str(&format!(
            "; {} files beyond the cap not analysed",
            s.files_omitted
        ));
    }
    out
}

/// Writes the report as pretty JSON, with a final newline.
pub fn render_rum_json(report: &RumReport, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Writes the report for a terminal: the check report's layout, then the rate tables.
pub fn render_rum_terminal(
    report: &RumReport,
    out: &mut impl Write,
    style: TerminalStyle,
) -> io::Result<()> {
    render_terminal(&report.report, out, style)?;
    for (title, groups) in tables(&report.aggregates) {
        if groups.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{}", style.bold(&format!("By {title}")))?;
        writeln!(
            out,
            "  {:<40} {:>8} {:>8} {:>7} {:>7} {:>7}  where the stalled time went",
            "", "timed", "stalled", "failed", "rate", "waited"
        )?;
        for g in groups.iter().take(ROWS_SHOWN) {
            let key = crate::text::clean(&g.key, 40);
            let line = format!(
                "  {key:<40} {:>8} {:>8} {:>7} {:>6.1}% {:>7}  {}",
                g.requests,
                g.stalled,
                g.failed,
                100.0 * g.bad_rate(),
                g.waited,
                phase_words(g)
            );
            if g.bad() > 0 {
                writeln!(out, "{}", style.red(&line))?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
        if groups.len() > ROWS_SHOWN {
            writeln!(
                out,
                "{}",
                style.dim(&format!("  … {} more in --json", groups.len() - ROWS_SHOWN))
            )?;
        }
    }
    writeln!(out)?;
    for n in report.report.notes.iter().take(1) {
        writeln!(out, "note: {}", crate::text::clean(n, 2000))?;
    }
    Ok(())
}

/// `TLS 94 % (41.2 s)`, or nothing when no request stalled.
fn phase_words(g: &RumGroup) -> String {
    match g.stalled_time.dominant() {
        Some((p, share)) => {
            let t = &g.stalled_time;
            let total = t.dns_ms + t.connect_ms + t.tls_ms + t.first_byte_ms + t.download_ms;
            format!(
                "{} {:.0} % of {}",
                p.as_str(),
                100.0 * share,
                fmt_duration_ms(total)
            )
        }
        None => String::new(),
    }
}

/// Writes the report as one self-contained HTML page (the check report's page; the rates are
/// in its notes).
pub fn render_rum_html(report: &RumReport, out: &mut impl Write) -> io::Result<()> {
    render_html(&report.report, out)
}
