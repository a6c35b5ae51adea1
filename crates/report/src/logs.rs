//! The report of `interloper logs`: one document, printed as JSON or for a terminal.

use std::fmt::Write as _;
use std::io::{self, Write};

use interloper_findings::{
    Finding, LogAnalysis, LogEvidence, LogGroup, LogSign, LogSource, Verdict,
};
use serde::{Deserialize, Serialize};

use crate::terminal::{BOLD, DIM, Painter, RED, TerminalStyle};
use crate::text::clean;
use crate::{ReportMeta, Tool};
use interloper_model::units::fmt_duration_ms;

/// The JSON schema name of a logs report.
pub const LOGS_SCHEMA: &str = "interloper.logs/v1";

/// What `interloper logs --json` prints and the terminal renderer reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogReport {
    /// Always [`LOGS_SCHEMA`].
    pub schema: String,
    /// The tool that wrote it.
    pub tool: Tool,
    /// When, RFC 3339 (given by the caller).
    pub generated_at: String,
    /// The command line that produced it.
    pub command: Vec<String>,
    /// The one-sentence answer.
    pub verdict: Verdict,
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// Each file read.
    pub sources: Vec<LogSource>,
    /// `backend` when the logs name the upstream that answered, else `log`.
    pub grouped_by: String,
    /// A static request slower than this (ms) counted as slow.
    pub slow_ms: f64,
    /// Static requests per backend.
    pub groups: Vec<LogGroup>,
}

impl LogReport {
    /// Join the analysis and the evidence it was made from.
    pub fn new(analysis: LogAnalysis, evidence: LogEvidence, meta: ReportMeta) -> LogReport {
        LogReport {
            schema: LOGS_SCHEMA.to_string(),
            tool: Tool {
                name: meta.tool_name,
                version: meta.tool_version,
            },
            generated_at: meta.generated_at,
            command: meta.command,
            verdict: analysis.verdict,
            findings: analysis.findings,
            sources: evidence.sources,
            grouped_by: evidence.grouped_by,
            slow_ms: evidence.slow_ms,
            groups: evidence.groups,
        }
    }
}

/// Writes the logs report as pretty JSON, with a final newline.
pub fn render_logs_json(report: &LogReport, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Backends shown in the terminal table; the JSON has them all.
const TABLE_ROWS: usize = 40;

/// Writes the logs report for a terminal: verdict, findings, a table per backend, the files.
pub fn render_logs_terminal(
    report: &LogReport,
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
    if !report.groups.is_empty() {
        let what = if report.grouped_by == "backend" {
            "Static requests per backend"
        } else {
            "Static requests"
        };
        let _ = writeln!(s, "\n{}", p.paint(BOLD, what));
        let _ = writeln!(
            s,
            "{}",
            p.paint(
                DIM,
                &format!(
                    "  {:<28} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9} {:>9}",
                    "backend",
                    "static",
                    "client",
                    "server",
                    "partial",
                    "slow",
                    "404/403",
                    "p50",
                    "p99",
                    "max"
                )
            )
        );
        for g in report.groups.iter().take(TABLE_ROWS) {
            let client = g.count(LogSign::ClientClosed) + g.count(LogSign::ClientTimeout);
            let server = g.count(LogSign::ServerTimeout) + g.count(LogSign::ServerFailed);
            let slow = g.count(LogSign::Slow) + g.count(LogSign::SlowDelivery);
            let mut name = clean(&g.name, 200);
            if name.chars().count() > 28 {
                name = format!("{}…", name.chars().take(27).collect::<String>());
            }
            let line = format!(
                "  {:<28} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9} {:>9}",
                name,
                g.static_requests,
                client,
                server,
                g.count(LogSign::Partial),
                slow,
                g.not_found + g.forbidden,
                fmt_duration_ms(g.duration.p50),
                fmt_duration_ms(g.duration.p99),
                fmt_duration_ms(g.duration.max),
            );
            if g.bad() > 0 && report.verdict.target.as_deref() == Some(g.name.as_str()) {
                let _ = writeln!(s, "{}", p.paint(RED, &line));
            } else {
                let _ = writeln!(s, "{line}");
            }
        }
        if report.groups.len() > TABLE_ROWS {
            let _ = writeln!(
                s,
                "  … and {} more (see --json)",
                report.groups.len() - TABLE_ROWS
            );
        }
    }
    let _ = writeln!(s, "\n{}", p.paint(BOLD, "Files"));
    for src in &report.sources {
        let mut line = format!(
            "  {}: {}, {} lines, {} parsed, {} static",
            clean(&src.name, 300),
            src.format,
            src.lines,
            src.parsed,
            src.static_requests
        );
        if src.unparsed > 0 {
            let _ = write!(
                line,
                ", {} not read ({})",
                src.unparsed,
                clean(src.first_unparsed.as_deref().unwrap_or("-"), 200)
            );
        }
        let _ = writeln!(s, "{line}");
    }
    out.write_all(s.as_bytes())
}

/// Backends shown in the HTML table; the JSON has them all.
const HTML_ROWS: usize = 500;

/// Writes the logs report as one self-contained HTML page in the look of the check report:
/// verdict banner, findings, a table per backend (the one the verdict names highlighted), and
/// the files read. Every string from a log (backend names, example lines) is escaped.
pub fn render_logs_html(report: &LogReport, out: &mut impl Write) -> io::Result<()> {
    use crate::html;
    use crate::text::{esc, shorten};
    let mut s = String::with_capacity(32 * 1024);
    let subject = report
        .sources
        .first()
        .map(|src| src.name.as_str())
        .unwrap_or("access logs");
    html::head(&mut s, &report.verdict, subject);
    html::banner(&mut s, &report.verdict);
    html::findings(&mut s, &report.findings);
    if !report.groups.is_empty() {
        let what = if report.grouped_by == "backend" {
            "Static requests per backend"
        } else {
            "Static requests"
        };
        let _ = writeln!(
            s,
            "<h2>{what}</h2>\n<table><thead><tr><th>backend</th><th>static</th>\
             <th>ended by client</th><th>backend timeout/failure</th><th>partial</th>\
             <th>slow</th><th>404/403</th><th>p50</th><th>p99</th><th>max</th></tr></thead><tbody>"
        );
        for g in report.groups.iter().take(HTML_ROWS) {
            let client = g.count(LogSign::ClientClosed) + g.count(LogSign::ClientTimeout);
            let server = g.count(LogSign::ServerTimeout) + g.count(LogSign::ServerFailed);
            let slow = g.count(LogSign::Slow) + g.count(LogSign::SlowDelivery);
            let named = g.bad() > 0 && report.verdict.target.as_deref() == Some(g.name.as_str());
            let _ = writeln!(
                s,
                "<tr{}><td class=\"mono\">{}</td><td>{}</td><td>{client}</td><td>{server}</td>\
                 <td>{}</td><td>{slow}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if named { " class=\"bad\"" } else { "" },
                esc(&shorten(&g.name, 200)),
                g.static_requests,
                g.count(LogSign::Partial),
                g.not_found + g.forbidden,
                fmt_duration_ms(g.duration.p50),
                fmt_duration_ms(g.duration.p99),
                fmt_duration_ms(g.duration.max),
            );
        }
        s.push_str("</tbody></table>\n");
        if report.groups.len() > HTML_ROWS {
            let _ = writeln!(
                s,
                "<p class=\"muted\">… and {} more backends (see the JSON report)</p>",
                report.groups.len() - HTML_ROWS
            );
        }
    }
    s.push_str("<h2>Files</h2>\n<ul>");
    for src in &report.sources {
        let _ = write!(
            s,
            "<li><span class=\"mono\">{}</span>: {}, {} lines, {} parsed, {} static",
            esc(&shorten(&src.name, 300)),
            esc(&src.format),
            src.lines,
            src.parsed,
            src.static_requests
        );
        if src.unparsed > 0 {
            let _ = write!(
                s,
                ", {} not read (<span class=\"mono\">{}</span>)",
                src.unparsed,
                esc(&shorten(src.first_unparsed.as_deref().unwrap_or("-"), 200))
            );
        }
        s.push_str("</li>");
    }
    s.push_str("</ul>\n");
    html::footer(
        &mut s,
        &report.tool,
        &report.generated_at,
        &report.schema,
        &report.command,
    );
    out.write_all(s.as_bytes())
}
