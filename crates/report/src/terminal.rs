//! The terminal rendering: verdict first, then the findings with their evidence, then a
//! compact latency table per target, grouped by asset type so a page of 100 assets stays
//! readable. Plain ANSI colour codes, only when asked for.

use crate::text::{clean, file_name, phase_line, shorten, wrap};
use crate::{GroupReport, Report, TargetReport};
use interloper_findings::{Evidence, Finding, Severity, Verdict, VerdictStatus};
use interloper_model::units::fmt_duration_ms;
use std::fmt::Write as _;
use std::io::{self, Write};

/// How to draw on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalStyle {
    /// Emit ANSI colour codes (decided by the caller: TTY, `NO_COLOR`, `TERM=dumb`, `--color`).
    pub color: bool,
    /// Columns available; lines are wrapped or shortened to fit where possible (minimum 40).
    pub width: usize,
}

impl TerminalStyle {
    /// `text` in the ANSI style `code` (an SGR sequence such as [`BOLD`]) when colour is on.
    pub fn paint(&self, code: &str, text: &str) -> String {
        paint(self.color, code, text)
    }
    /// Bold.
    pub fn bold(&self, text: &str) -> String {
        self.paint(BOLD, text)
    }
    /// Dimmed: notes and asides.
    pub fn dim(&self, text: &str) -> String {
        self.paint(DIM, text)
    }
    /// Red: what is wrong.
    pub fn red(&self, text: &str) -> String {
        self.paint(RED, text)
    }
    /// Green: what is right.
    pub fn green(&self, text: &str) -> String {
        self.paint(GREEN, text)
    }
}

/// The one place an ANSI sequence is written around text.
fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

impl Default for TerminalStyle {
    fn default() -> Self {
        TerminalStyle {
            color: false,
            width: 100,
        }
    }
}

/// Evidence items shown per finding; the rest are counted (the JSON and HTML have them all).
const EVIDENCE_ITEMS: usize = 5;
/// Lines one evidence sentence may take before it is shortened.
const EVIDENCE_LINES: usize = 4;

/// Longest string shown from a single value, before shortening to the line width.
const MAX_FIELD: usize = 2000;

/// Writes the report for a terminal.
pub fn render_terminal(
    report: &Report,
    out: &mut impl Write,
    style: TerminalStyle,
) -> io::Result<()> {
    let mut s = String::new();
    let p = Painter {
        color: style.color,
        width: style.width.clamp(40, 1000),
    };
    p.verdict(&mut s, &report.verdict);
    p.findings(&mut s, &report.findings);
    for t in &report.targets {
        s.push('\n');
        p.target(&mut s, t);
    }
    out.write_all(s.as_bytes())
}

const RESET: &str = "\x1b[0m";
/// SGR bold.
pub const BOLD: &str = "\x1b[1m";
/// SGR faint.
pub const DIM: &str = "\x1b[2m";
/// SGR red foreground.
pub const RED: &str = "\x1b[31m";
/// SGR green foreground.
pub const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BLUE: &str = "\x1b[34m";
const BOLD_RED: &str = "\x1b[1;31m";

pub(crate) struct Painter {
    pub(crate) color: bool,
    pub(crate) width: usize,
}

impl Painter {
    pub(crate) fn paint(&self, code: &str, text: &str) -> String {
        paint(self.color, code, text)
    }

    /// Wrapped paragraph, every line indented by `indent` spaces.
    fn para(&self, s: &mut String, indent: usize, text: &str) {
        let text = clean(text, MAX_FIELD);
        for line in wrap(&text, self.width.saturating_sub(indent)) {
            let _ = writeln!(s, "{:indent$}{line}", "");
        }
    }

    /// `Label: paragraph` with continuation lines aligned under the paragraph.
    fn labelled(&self, s: &mut String, indent: usize, label: &str, text: &str) {
        let text = clean(text, MAX_FIELD);
        let lead = indent + label.chars().count() + 1;
        for (i, line) in wrap(&text, self.width.saturating_sub(lead))
            .into_iter()
            .enumerate()
        {
            if i == 0 {
                let _ = writeln!(s, "{:indent$}{} {line}", "", self.paint(DIM, label));
            } else {
                let _ = writeln!(s, "{:lead$}{line}", "");
            }
        }
    }

    pub(crate) fn verdict(&self, s: &mut String, v: &Verdict) {
        let badge_colour = match v.status {
            VerdictStatus::Clean => "\x1b[1;30;42m",
            VerdictStatus::Notice => "\x1b[1;97;44m",
            VerdictStatus::Degraded | VerdictStatus::Unverified => "\x1b[1;30;43m",
            // Not a problem found, but not clean either: what was not read was not checked.
            VerdictStatus::Incomplete => "\x1b[1;97;45m",
            VerdictStatus::Failing | VerdictStatus::Intercepted => "\x1b[1;97;41m",
        };
        let badge = v.status.as_str().to_ascii_uppercase();
        let first = if self.color {
            format!("{badge_colour} {badge} {RESET}")
        } else {
            badge.clone()
        };
        // The badge and the sentence share the first line, the sentence wrapping under itself.
        let lead = badge.chars().count() + if self.color { 3 } else { 1 };
        let summary = clean(&v.summary, MAX_FIELD);
        let lines = wrap(&summary, self.width.saturating_sub(lead));
        if lines.is_empty() {
            let _ = writeln!(s, "{first}");
        }
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(s, "{first} {}", self.paint(BOLD, line));
            } else {
                let _ = writeln!(s, "{:lead$}{}", "", self.paint(BOLD, line));
            }
        }
        if let Some(code) = v.root_cause {
            let on = v
                .subject
                .as_deref()
                .map(|t| format!(" on {}", clean(t, 200)))
                .unwrap_or_default();
            let title = code.entry().title;
            self.labelled(s, 0, "Root cause:", &format!("{code} {title}{on}"));
        }
        self.labelled(s, 0, "Sampling:", &v.basis);
    }

    /// The findings under a `Findings (n)` heading, nothing when there are none.
    pub(crate) fn findings(&self, s: &mut String, findings: &[Finding]) {
        if findings.is_empty() {
            return;
        }
        let _ = writeln!(
            s,
            "\n{}",
            self.paint(BOLD, &format!("Findings ({})", findings.len()))
        );
        for f in findings {
            s.push('\n');
            self.finding(s, f);
        }
    }

    pub(crate) fn finding(&self, s: &mut String, f: &Finding) {
        let sev_colour = match f.severity {
            Severity::Critical => BOLD_RED,
            Severity::Error => RED,
            Severity::Warning => YELLOW,
            Severity::Info => BLUE,
        };
        let sev = f.severity.as_str().to_ascii_uppercase();
        let head = format!(
            "{}  {}  {}",
            self.paint(BOLD, f.code.as_str()),
            self.paint(sev_colour, &format!("{sev:<8}")),
            self.paint(DIM, &format!("{} confidence", f.confidence)),
        );
        let _ = writeln!(s, "{head}");
        let indent = 7;
        let _ = writeln!(
            s,
            "{:indent$}{}",
            "",
            self.paint(
                BOLD,
                &shorten(&clean(&f.title, MAX_FIELD), self.width - indent)
            )
        );
        self.para(s, indent, &f.summary);
        if let Some(t) = &f.subject {
            self.labelled(s, indent, "Target:", t);
        }
        if !f.evidence.is_empty() {
            let _ = writeln!(s, "{:indent$}{}", "", self.paint(DIM, "Evidence:"));
            for e in f.evidence.iter().take(EVIDENCE_ITEMS) {
                self.evidence(s, indent + 2, e);
            }
            if f.evidence.len() > EVIDENCE_ITEMS {
                let _ = writeln!(
                    s,
                    "{:w$}{}",
                    "",
                    self.paint(
                        DIM,
                        &shorten(
                            &format!(
                                "… {} more (all in --json)",
                                f.evidence.len() - EVIDENCE_ITEMS
                            ),
                            self.width - indent - 2
                        )
                    ),
                    w = indent + 2
                );
            }
        }
        self.labelled(s, indent, "Remedy:", &f.remedy);
        self.labelled(s, indent, "Docs:", &f.doc);
    }

    fn evidence(&self, s: &mut String, indent: usize, e: &Evidence) {
        let room = self.width.saturating_sub(indent + 2);
        // Sentences wrap under their bullet (a few lines at most); only what is longer still is
        // shortened, so a message is never cut in its middle on a normal terminal.
        let bullet = |s: &mut String, text: &str| {
            let lines = wrap(&clean(text, MAX_FIELD), room);
            let shown = lines.len().min(EVIDENCE_LINES);
            for (i, line) in lines.iter().take(shown).enumerate() {
                let line = if i + 1 == shown && lines.len() > shown {
                    // Marked even when the line fits: more lines follow unshown.
                    let mut l =
                        interloper_model::text::cut_chars(line, room.saturating_sub(1)).to_string();
                    l.push('…');
                    l
                } else {
                    line.clone()
                };
                let mark = if i == 0 { "• " } else { "  " };
                let _ = writeln!(s, "{:indent$}{mark}{line}", "");
            }
        };
        let more = |s: &mut String, text: &str, colour: &str| {
            let line = shorten(&clean(text, MAX_FIELD), room);
            let _ = writeln!(s, "{:w$}{}", "", self.paint(colour, &line), w = indent + 2);
        };
        match e {
            Evidence::Request {
                url,
                seq,
                remote_addr,
                http_version,
                status,
                phases,
                error,
                bytes_received,
                content_length,
            } => {
                let mut head = format!("#{seq}");
                match status {
                    Some(st) => {
                        let _ = write!(head, " {st}");
                    }
                    None => head.push_str(" ---"),
                }
                if let Some(v) = http_version {
                    let _ = write!(head, " {v}");
                }
                if let Some(a) = remote_addr {
                    let _ = write!(head, " {a}");
                }
                if let Some(cl) = content_length.filter(|cl| *cl != *bytes_received) {
                    let _ = write!(head, " {bytes_received}/{cl} B");
                }
                let name = clean(file_name(url), MAX_FIELD);
                let room_for_name = room.saturating_sub(head.chars().count() + 1).max(12);
                let _ = write!(head, " {}", shorten(&name, room_for_name));
                bullet(s, &head);
                let phases = phase_line(phases);
                if !phases.is_empty() {
                    more(s, &phases, "");
                }
                if let Some(err) = error {
                    more(s, err, RED);
                }
            }
            Evidence::Stat { label, value } => bullet(s, &format!("{label}: {value}")),
            Evidence::Tls { message } | Evidence::Witness { message } => bullet(s, message),
            Evidence::Log { location, text } => {
                bullet(s, location);
                more(s, text, "");
            }
            Evidence::Check { url, check } => {
                bullet(s, &format!("{}: {}", file_name(url), check.detail));
                if check.expected.is_some() || check.actual.is_some() {
                    more(
                        s,
                        &format!(
                            "expected {} · got {}",
                            check.expected.as_deref().unwrap_or("-"),
                            check.actual.as_deref().unwrap_or("-")
                        ),
                        DIM,
                    );
                }
            }
        }
    }

    fn target(&self, s: &mut String, t: &TargetReport) {
        let sum = &t.summary;
        let _ = writeln!(
            s,
            "{}",
            self.paint(
                BOLD,
                &format!(
                    "Latency · {}",
                    shorten(&clean(&t.label, MAX_FIELD), self.width - 10)
                )
            )
        );
        let mut facts = format!(
            "{} assets · {} requests · {} failed · {} stalled",
            sum.assets, sum.requests, sum.failed, sum.stalled
        );
        if let Some(tls) = &t.tls {
            let _ = write!(facts, " · TLS {}", tls.status.as_str());
            if let Some(p) = &tls.product {
                let _ = write!(facts, " ({})", clean(p, 100));
            }
        }
        self.para(s, 2, &facts);
        if let Some(issuer) = &sum.leaf_issuer {
            self.labelled(s, 2, "Issuer:", issuer);
        }
        if let Some(w) = &t.witness {
            let said = |ok: bool| if ok { "matched" } else { "DIFFERS" };
            self.labelled(
                s,
                2,
                "Witness:",
                &format!(
                    "client random {} · chain {} ({})",
                    said(w.client_random_matched),
                    said(w.chain_matched),
                    w.url
                ),
            );
        }
        if let Some(v) = &t.static_version {
            self.labelled(s, 2, "Static build:", v);
        }
        if t.groups.is_empty() {
            let _ = writeln!(s, "  {}", self.paint(DIM, "no requests were made"));
            return;
        }
        self.table(s, &t.groups);
    }

    /// One row per (asset type, phase); columns dropped from the right of the priority list
    /// until the table fits the width.
    fn table(&self, s: &mut String, groups: &[GroupReport]) {
        // (header, width, droppable priority: higher is dropped first)
        let mut cols: Vec<(&str, usize, u8)> = vec![
            ("type", 10, 0),
            ("reqs", 6, 4),
            ("fail", 5, 3),
            ("stall", 5, 2),
            ("phase", 7, 0),
            ("p50", 8, 5),
            ("p90", 8, 1),
            ("p99", 8, 0),
            ("max", 8, 0),
        ];
        let total = |c: &[(&str, usize, u8)]| 2 + c.iter().map(|(_, w, _)| w + 1).sum::<usize>();
        for drop in 1..=5 {
            if total(&cols) <= self.width {
                break;
            }
            cols.retain(|(_, _, p)| *p != drop);
        }
        let has = |name: &str| cols.iter().any(|(h, _, _)| *h == name);
        let cell = |text: &str, w: usize, left: bool| {
            if left {
                format!("{text:<w$} ")
            } else {
                format!("{text:>w$} ")
            }
        };
        let mut head = String::from("  ");
        for (h, w, _) in &cols {
            head.push_str(&cell(h, *w, *h == "type" || *h == "phase"));
        }
        let _ = writeln!(s, "{}", self.paint(DIM, head.trim_end()));
        let floor = 750.0;
        for g in groups {
            let mut first = true;
            for (phase, st) in g.phases.rows() {
                let Some(st) = st else { continue };
                let mut line = String::from("  ");
                if first {
                    let kind = format!("{} ({})", g.kind.as_str(), g.assets);
                    line.push_str(&cell(&kind, 10, true));
                    if has("reqs") {
                        line.push_str(&cell(&g.counts.requests.to_string(), 6, false));
                    }
                    if has("fail") {
                        let f = cell(&g.counts.failed.to_string(), 5, false);
                        line.push_str(&if g.counts.failed > 0 {
                            self.paint(RED, &f)
                        } else {
                            f
                        });
                    }
                    if has("stall") {
                        let f = cell(&g.counts.stalled.to_string(), 5, false);
                        line.push_str(&if g.counts.stalled > 0 {
                            self.paint(YELLOW, &f)
                        } else {
                            f
                        });
                    }
                } else {
                    let blank: usize = cols
                        .iter()
                        .take_while(|(h, _, _)| *h != "phase")
                        .map(|(_, w, _)| w + 1)
                        .sum();
                    line.push_str(&" ".repeat(blank));
                }
                first = false;
                line.push_str(&cell(phase, 7, true));
                let mut values = Vec::with_capacity(4);
                if has("p50") {
                    values.push(st.p50);
                }
                if has("p90") {
                    values.push(st.p90);
                }
                values.extend([st.p99, st.max]);
                for v in values {
                    let c = cell(&fmt_duration_ms(v), 8, false);
                    // Slow enough to be a stall anywhere: make it stand out.
                    line.push_str(&if v >= floor {
                        self.paint(YELLOW, &c)
                    } else {
                        c
                    });
                }
                let _ = writeln!(s, "{}", line.trim_end());
            }
            if first {
                let kind = format!("{} ({})", g.kind.as_str(), g.assets);
                let _ = writeln!(
                    s,
                    "  {}{}",
                    cell(&kind, 10, true),
                    self.paint(
                        RED,
                        &format!("no successful request of {}", g.counts.requests)
                    )
                );
            }
        }
    }
}
