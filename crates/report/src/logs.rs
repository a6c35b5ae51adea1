//! The report of `interloper logs`: one document, printed as JSON or for a terminal.

use std::fmt::Write as _;
use std::io::{self, Write};

use interloper_findings::{Diagnosis, Finding, LogEvidence, LogGroup, LogSign, LogSource, Verdict};
use interloper_model::schema;
use serde::{Deserialize, Serialize};

use crate::markup::{Html, Text};
use crate::terminal::{BOLD, DIM, Painter, RED, TerminalStyle};
use crate::text::{clean, esc};
use crate::{Header, ReportMeta};
use interloper_model::units::fmt_duration_ms;

/// What `interloper logs --json` prints and the terminal renderer reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogReport {
    /// Schema (always [`schema::LOGS`]), tool, time and command line.
    #[serde(flatten)]
    pub header: Header,
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
    /// Width of the groups' timeline buckets, in seconds; 0 when no line had a time.
    #[serde(default)]
    pub timeline_seconds: u64,
}

impl LogReport {
    /// Join the analysis and the evidence it was made from.
    pub fn new(analysis: Diagnosis, evidence: LogEvidence, meta: ReportMeta) -> LogReport {
        LogReport {
            header: Header::new(schema::LOGS, &meta),
            verdict: analysis.verdict,
            findings: analysis.findings,
            sources: evidence.sources,
            grouped_by: evidence.grouped_by,
            slow_ms: evidence.slow_ms,
            groups: evidence.groups,
            timeline_seconds: evidence.timeline_seconds,
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
    groups(&mut s, report, &p);
    upstream_tries(&mut s, report, &p);
    client_tls(&mut s, report, &p);
    files(&mut s, report, &p);
    out.write_all(s.as_bytes())
}

/// The table of static requests per backend (or per group).
fn groups(s: &mut String, report: &LogReport, p: &Painter) {
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
            let name = short_name(&g.name, 28);
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
            if g.bad_requests() > 0 && report.verdict.subject.as_deref() == Some(g.name.as_str()) {
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
}

/// Upstream tries per backend, when the log records them.
fn upstream_tries(s: &mut String, report: &LogReport, p: &Painter) {
    if report.groups.iter().any(has_try_details) {
        let _ = writeln!(s, "\n{}", p.paint(BOLD, "Upstream tries per backend"));
        let _ = writeln!(
            s,
            "{}",
            p.paint(
                DIM,
                &format!(
                    "  {:<28} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9}",
                    "backend", "tries", "failed", "conn p50", "conn p99", "hdr p50", "hdr p99"
                )
            )
        );
        for g in report
            .groups
            .iter()
            .filter(|g| has_try_details(g))
            .take(TABLE_ROWS)
        {
            let line = format!(
                "  {:<28} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9}",
                short_name(&g.name, 28),
                g.tries,
                g.failed_tries,
                ms_or_dash(g.connect.as_ref().map(|c| c.p50)),
                ms_or_dash(g.connect.as_ref().map(|c| c.p99)),
                ms_or_dash(g.header.as_ref().map(|c| c.p50)),
                ms_or_dash(g.header.as_ref().map(|c| c.p99)),
            );
            if g.failed_tries > 0 {
                let _ = writeln!(s, "{}", p.paint(RED, &line));
            } else {
                let _ = writeln!(s, "{line}");
            }
        }
    }
}

/// Client TLS protocols and ciphers per backend.
fn client_tls(s: &mut String, report: &LogReport, p: &Painter) {
    if report.groups.iter().any(|g| !g.tls_protocols.is_empty()) {
        let _ = writeln!(s, "\n{}", p.paint(BOLD, "Client TLS per backend"));
        for g in report
            .groups
            .iter()
            .filter(|g| !g.tls_protocols.is_empty())
            .take(TABLE_ROWS)
        {
            let _ = writeln!(
                s,
                "  {:<28} {}; {}",
                short_name(&g.name, 28),
                clean(&shares(&g.tls_protocols), 200),
                clean(&shares(&g.tls_ciphers), 300)
            );
        }
    }
}

/// What each file was: format, lines, parsed, static, unread.
fn files(s: &mut String, report: &LogReport, p: &Painter) {
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
        if src.outside_window > 0 {
            let _ = write!(line, ", {} outside --since/--until", src.outside_window);
        }
        let _ = writeln!(s, "{line}");
    }
}

/// Backends drawn over time at most; the JSON has every timeline.
const TIMELINE_CHARTS: usize = 12;

/// "When the bad requests happened": one chart per backend on a shared time axis, the backend
/// the verdict names first, then those with the most bad requests.
fn timelines(s: &mut Html, report: &LogReport) {
    use crate::svg::{OUTCOME_COLOURS, log_timeline};
    let mut drawn: Vec<&LogGroup> = report
        .groups
        .iter()
        .filter(|g| !g.timeline.is_empty())
        .collect();
    let (Some(first), Some(last)) = (
        drawn
            .iter()
            .filter_map(|g| g.timeline.first())
            .map(|b| b.start)
            .min(),
        drawn
            .iter()
            .filter_map(|g| g.timeline.last())
            .map(|b| b.start)
            .max(),
    ) else {
        return;
    };
    let target = report.verdict.subject.as_deref();
    drawn.sort_by_key(|g| {
        (
            target != Some(g.name.as_str()),
            std::cmp::Reverse(g.bad_requests()),
            g.name.clone(),
        )
    });
    writeln!(
        s,
        "<h2>When the bad requests happened</h2>\n<p class=\"muted\">Static requests per \
         backend, in buckets of {} (UTC), on one time axis; each chart has its own height \
         (its busiest bucket, top left). Hover a bar for its counts.</p>\n<div class=\"legend\">",
        fmt_duration_ms(report.timeline_seconds.max(1) as f64 * 1000.0)
    );
    for (label, colour) in OUTCOME_COLOURS {
        write!(
            s,
            "<span><i style=\"background:{colour}\"></i>{label}</span>"
        );
    }
    s.raw("</div>\n");
    for g in drawn.iter().take(TIMELINE_CHARTS) {
        write!(
            s,
            "<figure class=\"chartbox\"><figcaption class=\"mono\">{}</figcaption>",
            Text(&g.name, 200)
        );
        log_timeline(
            s,
            &g.timeline,
            report.timeline_seconds,
            (first, last),
            &g.name,
        );
        s.raw("</figure>\n");
    }
    if drawn.len() > TIMELINE_CHARTS {
        writeln!(
            s,
            "<p class=\"muted\">… and {} more backends (their timelines are in the JSON report)</p>",
            drawn.len() - TIMELINE_CHARTS
        );
    }
}

/// Whether the log said more about a backend's upstream tries than that it answered.
fn has_try_details(g: &LogGroup) -> bool {
    g.failed_tries > 0 || g.connect.is_some() || g.header.is_some()
}

fn short_name(name: &str, width: usize) -> String {
    let name = clean(name, 200);
    if name.chars().count() > width {
        interloper_model::text::cut_chars_marked(&name, width.saturating_sub(1))
    } else {
        name
    }
}

fn ms_or_dash(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_string(), fmt_duration_ms)
}

/// `TLSv1.3 92%, TLSv1.2 8%`: the most used first, at most four, the rest summed.
fn shares(table: &[(String, u64)]) -> String {
    let total: u64 = table.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return "-".to_string();
    }
    let mut parts: Vec<String> = table
        .iter()
        .take(4)
        .map(|(name, n)| format!("{name} {:.0}%", 100.0 * *n as f64 / total as f64))
        .collect();
    if table.len() > 4 {
        parts.push(format!("{} more", table.len() - 4));
    }
    parts.join(", ")
}

/// Backends shown in the HTML table; the JSON has them all.
const HTML_ROWS: usize = 500;

/// Writes the logs report as one self-contained HTML page in the look of the check report:
/// verdict banner, findings, a table per backend (the one the verdict names highlighted), and
/// the files read. Every string from a log (backend names, example lines) is escaped.
pub fn render_logs_html(report: &LogReport, out: &mut impl Write) -> io::Result<()> {
    use crate::html;
    let mut s = Html::with_capacity(32 * 1024);
    let subject = report
        .sources
        .first()
        .map(|src| src.name.as_str())
        .unwrap_or("access logs");
    html::head(&mut s, &report.verdict, subject);
    html::banner(&mut s, &report.verdict);
    html::findings(&mut s, &report.findings);
    backends_table(&mut s, report);
    timelines(&mut s, report);
    upstream_tries_table(&mut s, report);
    client_tls_table(&mut s, report);
    files_list(&mut s, report);
    html::footer(&mut s, &report.header);
    out.write_all(s.as_bytes())
}

/// One row per backend: how its static requests ended, and its latency.
fn backends_table(s: &mut Html, report: &LogReport) {
    if report.groups.is_empty() {
        return;
    }
    let what = if report.grouped_by == "backend" {
        "Static requests per backend"
    } else {
        "Static requests"
    };
    writeln!(
        s,
        "<h2>{what}</h2>\n<table><thead><tr><th>backend</th><th>static</th>\
         <th>ended by client</th><th>backend timeout/failure</th><th>partial</th>\
         <th>slow</th><th>404/403</th><th>p50</th><th>p99</th><th>max</th></tr></thead><tbody>"
    );
    for g in report.groups.iter().take(HTML_ROWS) {
        let client = g.count(LogSign::ClientClosed) + g.count(LogSign::ClientTimeout);
        let server = g.count(LogSign::ServerTimeout) + g.count(LogSign::ServerFailed);
        let slow = g.count(LogSign::Slow) + g.count(LogSign::SlowDelivery);
        let named =
            g.bad_requests() > 0 && report.verdict.subject.as_deref() == Some(g.name.as_str());
        writeln!(
            s,
            "<tr{}><td class=\"mono\">{}</td><td>{}</td><td>{client}</td><td>{server}</td>\
             <td>{}</td><td>{slow}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if named { " class=\"bad\"" } else { "" },
            Text(&g.name, 200),
            g.static_requests,
            g.count(LogSign::Partial),
            g.not_found + g.forbidden,
            fmt_duration_ms(g.duration.p50),
            fmt_duration_ms(g.duration.p99),
            fmt_duration_ms(g.duration.max),
        );
    }
    s.raw("</tbody></table>\n");
    if report.groups.len() > HTML_ROWS {
        writeln!(
            s,
            "<p class=\"muted\">… and {} more backends (see the JSON report)</p>",
            report.groups.len() - HTML_ROWS
        );
    }
}

/// Per backend, the upstream tries nginx logged and how long they took.
fn upstream_tries_table(s: &mut Html, report: &LogReport) {
    if !report.groups.iter().any(has_try_details) {
        return;
    }
    s.raw(
        "<h2>Upstream tries per backend</h2>\n<p class=\"muted\">Each server nginx tried, \
         from its <span class=\"mono\">$upstream_addr</span> lists: a failed try is one \
         after which nginx moved on to the next server.</p>\n<table><thead><tr>\
         <th>backend</th><th>tries</th><th>failed</th><th>connect p50</th>\
         <th>connect p99</th><th>header p50</th><th>header p99</th></tr></thead><tbody>\n",
    );
    for g in report
        .groups
        .iter()
        .filter(|g| has_try_details(g))
        .take(HTML_ROWS)
    {
        writeln!(
            s,
            "<tr{}><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            if g.failed_tries > 0 {
                " class=\"bad\""
            } else {
                ""
            },
            Text(&g.name, 200),
            g.tries,
            g.failed_tries,
            ms_or_dash(g.connect.as_ref().map(|c| c.p50)),
            ms_or_dash(g.connect.as_ref().map(|c| c.p99)),
            ms_or_dash(g.header.as_ref().map(|c| c.p50)),
            ms_or_dash(g.header.as_ref().map(|c| c.p99)),
        );
    }
    s.raw("</tbody></table>\n");
}

/// Per backend, the TLS versions and cipher suites its clients used.
fn client_tls_table(s: &mut Html, report: &LogReport) {
    if !report.groups.iter().any(|g| !g.tls_protocols.is_empty()) {
        return;
    }
    s.raw(
        "<h2>Client TLS per backend</h2>\n<table><thead><tr><th>backend</th>\
         <th>TLS versions</th><th>cipher suites</th></tr></thead><tbody>\n",
    );
    for g in report
        .groups
        .iter()
        .filter(|g| !g.tls_protocols.is_empty())
        .take(HTML_ROWS)
    {
        writeln!(
            s,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td>\
             <td class=\"mono\">{}</td></tr>",
            Text(&g.name, 200),
            Text(&shares(&g.tls_protocols), 300),
            Text(&shares(&g.tls_ciphers), 500),
        );
    }
    s.raw("</tbody></table>\n");
}

/// The files read, with how many lines each held and how many could not be read.
fn files_list(s: &mut Html, report: &LogReport) {
    s.raw("<h2>Files</h2>\n<ul>");
    for src in &report.sources {
        write!(
            s,
            "<li><span class=\"mono\">{}</span>: {}, {} lines, {} parsed, {} static",
            Text(&src.name, 300),
            esc(&src.format),
            src.lines,
            src.parsed,
            src.static_requests
        );
        if src.unparsed > 0 {
            write!(
                s,
                ", {} not read (<span class=\"mono\">{}</span>)",
                src.unparsed,
                Text(src.first_unparsed.as_deref().unwrap_or("-"), 200)
            );
        }
        if src.outside_window > 0 {
            write!(s, ", {} outside --since/--until", src.outside_window);
        }
        s.raw("</li>");
    }
    s.raw("</ul>\n");
}
