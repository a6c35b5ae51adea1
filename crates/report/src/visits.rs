//! The report of `interloper visits`: the browser witness's visits summarised (or one visit
//! looked up by its code), as JSON, for a terminal, or as one HTML page in the check report's
//! look. Everything a visit record holds came from the internet: every string is escaped in
//! HTML and cleaned for the terminal.

use std::fmt::Write as _;
use std::io::{self, Write};

use interloper_findings::visits::{VisitGroup, VisitRecord, VisitsAnalysis};
use interloper_findings::{Finding, Verdict};
use interloper_model::schema;
use serde::{Deserialize, Serialize};

use crate::markup::Html;
use crate::terminal::{BOLD, DIM, Painter, TerminalStyle};
use crate::text::{clean, esc};
use crate::{Header, ReportMeta};

/// What `interloper visits --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitsReport {
    /// Schema (always [`schema::VISITS`]), tool, time and command line.
    #[serde(flatten)]
    pub header: Header,
    /// The one-sentence answer.
    pub verdict: Verdict,
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// Counts and groups.
    pub summary: VisitsSummary,
    /// The visits asked for with `--code` (empty otherwise).
    pub visits: Vec<VisitRecord>,
    /// Lines that were not visit records, and the files read.
    pub notes: Vec<String>,
}

/// The counts of a visits report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitsSummary {
    /// Visits.
    pub visits: u32,
    /// Of which intercepted.
    pub intercepted: u32,
    /// Visits whose User-Agent named no browser.
    pub not_judged: u32,
    /// Downloads.
    pub downloads: u32,
    /// Of which stalled.
    pub stalled: u32,
    /// Stalled test files the witness answered at once.
    pub stalled_on_path: u32,
    /// By hello stack.
    pub by_stack: Vec<(String, VisitGroup)>,
    /// By client network.
    pub by_network: Vec<(String, VisitGroup)>,
    /// By claimed browser.
    pub by_browser: Vec<(String, VisitGroup)>,
}

impl VisitsReport {
    /// Joins the analysis, the visits looked up and the notes.
    pub fn new(
        analysis: VisitsAnalysis,
        looked_up: Vec<VisitRecord>,
        notes: Vec<String>,
        meta: ReportMeta,
    ) -> VisitsReport {
        let sorted = |m: std::collections::BTreeMap<String, VisitGroup>| {
            let mut v: Vec<(String, VisitGroup)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.visits.cmp(&a.1.visits).then(a.0.cmp(&b.0)));
            v
        };
        VisitsReport {
            header: Header::new(schema::VISITS, &meta),
            verdict: analysis.diagnosis.verdict,
            findings: analysis.diagnosis.findings,
            summary: VisitsSummary {
                visits: analysis.visits,
                intercepted: analysis.intercepted,
                not_judged: analysis.not_judged,
                downloads: analysis.downloads,
                stalled: analysis.stalled,
                stalled_on_path: analysis.stalled_on_path,
                by_stack: sorted(analysis.by_stack),
                by_network: sorted(analysis.by_network),
                by_browser: sorted(analysis.by_browser),
            },
            visits: looked_up,
            notes,
        }
    }
}

/// Writes the visits report as pretty JSON, with a final newline.
pub fn render_visits_json(report: &VisitsReport, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Groups shown per table.
const ROWS: usize = 30;

/// Writes the visits report for a terminal.
pub fn render_visits_terminal(
    report: &VisitsReport,
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
    let m = &report.summary;
    let _ = writeln!(
        s,
        "\n{} {} visits, {} intercepted, {} not judged; {} downloads, {} stalled ({} on the path)",
        p.paint(BOLD, "Visits:"),
        m.visits,
        m.intercepted,
        m.not_judged,
        m.downloads,
        m.stalled,
        m.stalled_on_path
    );
    for (title, rows) in [
        ("By hello stack", &m.by_stack),
        ("By browser claimed", &m.by_browser),
        ("By client network", &m.by_network),
    ] {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{}", p.paint(BOLD, title));
        let _ = writeln!(
            s,
            "{}",
            p.paint(
                DIM,
                &format!(
                    "  {:<36} {:>7} {:>12} {:>10} {:>8}",
                    "", "visits", "intercepted", "downloads", "stalled"
                )
            )
        );
        for (name, g) in rows.iter().take(ROWS) {
            let _ = writeln!(
                s,
                "  {:<36} {:>7} {:>12} {:>10} {:>8}",
                clean(name, 36),
                g.visits,
                g.intercepted,
                g.downloads,
                g.stalled
            );
        }
    }
    for v in &report.visits {
        visit_terminal(&mut s, &p, v);
    }
    for n in &report.notes {
        let _ = writeln!(s, "{}", p.paint(DIM, &format!("note: {}", clean(n, 300))));
    }
    out.write_all(s.as_bytes())
}

fn visit_terminal(s: &mut String, p: &Painter, v: &VisitRecord) {
    let _ = writeln!(
        s,
        "\n{} {}",
        p.paint(BOLD, "Visit"),
        p.paint(BOLD, &clean(&v.visit, 16))
    );
    let _ = writeln!(s, "  shown: {}", clean(&v.headline, 400));
    let _ = writeln!(
        s,
        "  browser claimed: {}{}",
        clean(&v.claimed.name, 60),
        v.user_agent
            .as_deref()
            .map(|ua| format!(" ({})", clean(ua, 200)))
            .unwrap_or_default()
    );
    if let Some(n) = &v.client_network {
        let _ = writeln!(s, "  client network: {}", clean(n, 60));
    }
    for h in &v.hellos {
        let _ = writeln!(
            s,
            "  hello {} ({}{}), {} bytes, {} requests on {} connections; traits: {}",
            clean(&h.ja4, 60),
            h.family.label(),
            h.stack
                .as_deref()
                .map(|x| format!(", {}", clean(x, 60)))
                .unwrap_or_default(),
            h.size,
            h.requests,
            h.connections,
            if h.traits.is_empty() {
                "none of a browser's".to_string()
            } else {
                clean(&h.traits.join(", "), 200)
            }
        );
    }
    for r in &v.judgement.reasons {
        let _ = writeln!(s, "  - {}", clean(r, 400));
    }
    let d = &v.downloads;
    let _ = writeln!(
        s,
        "  downloads: {} test files ({} failed), {} site URLs ({} failed, {} with hidden timing); \
         {} stalled ({} on the path, {} at the server); p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        d.witness,
        d.witness_failed,
        d.site,
        d.site_failed,
        d.site_timing_hidden,
        d.stalled,
        d.stalled_on_path,
        d.stalled_at_server,
        d.p50_ms,
        d.p90_ms,
        d.max_ms
    );
    if v.proxy.any() {
        let _ = writeln!(
            s,
            "  proxy: Via {}; X-Forwarded-For hops {}; Forwarded {}",
            clean(v.proxy.via.as_deref().unwrap_or("-"), 120),
            v.proxy.forwarded_for_hops,
            if v.proxy.forwarded { "yes" } else { "no" }
        );
    }
}

/// Writes the visits report as one self-contained HTML page in the check report's look.
pub fn render_visits_html(report: &VisitsReport, out: &mut impl Write) -> io::Result<()> {
    use crate::html;
    let mut s = Html::with_capacity(16 * 1024);
    html::head(&mut s, &report.verdict, "visits");
    html::banner(&mut s, &report.verdict);
    html::findings(&mut s, &report.findings);
    let m = &report.summary;
    writeln!(
        s,
        "<h2>Visits</h2>\n<p>{} visits, {} intercepted, {} not judged; {} downloads, {} stalled \
         ({} on the path).</p>",
        m.visits, m.intercepted, m.not_judged, m.downloads, m.stalled, m.stalled_on_path
    );
    for (title, rows) in [
        ("By hello stack", &m.by_stack),
        ("By browser claimed", &m.by_browser),
        ("By client network", &m.by_network),
    ] {
        if rows.is_empty() {
            continue;
        }
        writeln!(
            s,
            "<h2>{title}</h2>\n<table><thead><tr><th></th><th>visits</th><th>intercepted</th>\
             <th>downloads</th><th>stalled</th></tr></thead><tbody>"
        );
        for (name, g) in rows.iter().take(500) {
            writeln!(
                s,
                "<tr{}><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if g.intercepted > 0 {
                    " class=\"bad\""
                } else {
                    ""
                },
                esc(name),
                g.visits,
                g.intercepted,
                g.downloads,
                g.stalled
            );
        }
        s.raw("</tbody></table>\n");
    }
    for v in &report.visits {
        writeln!(
            s,
            "<h2>Visit <span class=\"mono\">{}</span></h2>\n<p>{}</p>\n<ul>",
            esc(&v.visit),
            esc(&v.headline)
        );
        writeln!(
            s,
            "<li>browser claimed: {}{}</li>",
            esc(&v.claimed.name),
            v.user_agent
                .as_deref()
                .map(|ua| format!(" (<span class=\"mono\">{}</span>)", esc(ua)))
                .unwrap_or_default()
        );
        for h in &v.hellos {
            writeln!(
                s,
                "<li>hello <span class=\"mono\">{}</span>: {}, {} requests; traits: {}</li>",
                esc(&h.ja4),
                esc(h.stack.as_deref().unwrap_or(h.family.label())),
                h.requests,
                esc(&h.traits.join(", "))
            );
        }
        for r in &v.judgement.reasons {
            writeln!(s, "<li>{}</li>", esc(r));
        }
        s.raw("</ul>\n");
    }
    html::notes(&mut s, &report.notes);
    html::footer(&mut s, &report.header);
    out.write_all(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use interloper_findings::visits::{
        Claimed, Downloads, HelloSeen, Judgement, ProxySigns, StackFamily, analyse_visits,
    };

    /// Everything in a record that a visitor (or something on their path) controls.
    fn hostile() -> VisitRecord {
        let x = "<script>alert(1)</script>";
        VisitRecord {
            schema: schema::VISIT.into(),
            visit: "ABCD2345".into(),
            time_unix_ms: 0,
            client_network: Some(x.into()),
            user_agent: Some(format!("Mozilla/5.0 {x}")),
            claimed: Claimed {
                family: Some(StackFamily::Chromium),
                name: x.into(),
            },
            hellos: vec![HelloSeen {
                ja4: x.into(),
                ja3: x.into(),
                family: StackFamily::NonBrowser,
                traits: vec![x.into()],
                stack: Some(x.into()),
                size: 1,
                connections: 1,
                requests: 1,
                raw_base64: x.into(),
            }],
            proxy: ProxySigns {
                via: Some(x.into()),
                forwarded_for_hops: 1,
                forwarded: true,
            },
            downloads: Downloads::default(),
            judgement: Judgement {
                intercepted: true,
                confidence: None,
                hello_matches_user_agent: Some(false),
                reasons: vec![x.into()],
            },
            headline: x.into(),
        }
    }

    #[test]
    fn nothing_a_visitor_sends_becomes_markup_or_a_terminal_escape() {
        let r = hostile();
        let report = VisitsReport::new(
            analyse_visits(std::slice::from_ref(&r)),
            vec![r],
            vec!["<b>note</b>".into()],
            ReportMeta::new("0", "2026-11-30T00:00:00Z", vec!["interloper".into()]),
        );
        let mut html = Vec::new();
        render_visits_html(&report, &mut html).unwrap();
        let html = String::from_utf8(html).unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<b>note"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let mut text = Vec::new();
        render_visits_terminal(
            &report,
            &mut text,
            TerminalStyle {
                color: false,
                width: 100,
            },
        )
        .unwrap();
        assert!(!text.contains(&0x1b), "no escape sequence without colour");
    }
}
