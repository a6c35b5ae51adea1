//! The capture report (`interloper pcap`): schema `interloper.pcap/v1`, terminal, JSON and
//! HTML (one lane per connection).

use std::fmt::Write as _;
use std::io::{self, Write};

use interloper_findings::{Diagnosis, Finding, Verdict};
use interloper_flows::{Connection, EndKind, Flows, Side, Stats};
use interloper_model::schema;
use interloper_model::units::fmt_duration_ms;
use serde::{Deserialize, Serialize};

use crate::markup::{Html, Text};
use crate::terminal::{BOLD, DIM, Painter, RED, TerminalStyle};
use crate::text::clean;
use crate::{Header, ReportMeta};

/// One ClientHello, as `pcap --hellos-only --json` prints it: one JSON object per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloLine {
    /// Always [`schema::HELLO`].
    pub schema: String,
    /// When its last byte was captured (µs since the Unix epoch).
    pub time_us: u64,
    /// The sender of the hello (`address:port`).
    pub client: String,
    /// Its receiver.
    pub server: String,
    /// Server name indication.
    pub sni: Option<String>,
    /// ALPN offered, in order.
    pub alpn: Vec<String>,
    /// JA3 string.
    pub ja3: String,
    /// JA3 MD5.
    pub ja3_hash: String,
    /// JA4.
    pub ja4: String,
}

impl HelloLine {
    /// The line for a hello the scanner found.
    pub fn new(h: &interloper_flows::FoundHello) -> HelloLine {
        HelloLine {
            schema: schema::HELLO.to_string(),
            time_us: h.ts_us,
            client: h.client.to_string(),
            server: h.server.to_string(),
            sni: h.sni.clone(),
            alpn: h.hello.alpn(),
            ja3: h.ja3.clone(),
            ja3_hash: h.ja3_hash.clone(),
            ja4: h.ja4.clone(),
        }
    }
}

/// Connections drawn as lanes in the HTML and listed in the terminal; the JSON has them all.
const SHOWN: usize = 200;

/// A capture file read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcapSource {
    /// The path as given.
    pub name: String,
    /// Packets read from it.
    pub packets: u64,
}

/// The whole capture report: what `--json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcapReport {
    /// Schema (always [`schema::PCAP`]), tool, time and command line.
    #[serde(flatten)]
    pub header: Header,
    /// The one-sentence answer.
    pub verdict: Verdict,
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// The files read.
    pub sources: Vec<PcapSource>,
    /// Counters over all files.
    pub stats: Stats,
    /// Connections kept after the filters, in order of first packet.
    pub connections: Vec<Connection>,
    /// Connections the filters (`--server`, `--port`, `--sni`) left out.
    pub filtered_out: usize,
    /// Things worth knowing that are not findings (snap length, truncation, limits).
    pub notes: Vec<String>,
}

impl PcapReport {
    /// Joins the analysis and the flows it was made from.
    pub fn new(
        analysis: Diagnosis,
        flows: Flows,
        sources: Vec<PcapSource>,
        filtered_out: usize,
        meta: ReportMeta,
    ) -> PcapReport {
        PcapReport {
            header: Header::new(schema::PCAP, &meta),
            verdict: analysis.verdict,
            findings: analysis.findings,
            sources,
            stats: flows.stats,
            connections: flows.connections,
            filtered_out,
            notes: flows.notes,
        }
    }
}

/// Writes the capture report as pretty JSON, with a final newline.
pub fn render_pcap_json(report: &PcapReport, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), fmt_duration_ms)
}

/// One connection's end in words: "server RST at 2.1 s".
pub fn end_words(c: &Connection) -> String {
    let Some(e) = &c.end else {
        return "open at the end of the capture".to_string();
    };
    let kind = match e.kind {
        EndKind::Fin => "FIN",
        EndKind::Rst => "RST",
    };
    let mut s = format!(
        "{} {kind} first at {}",
        e.by.as_str(),
        fmt_duration_ms(e.at_ms)
    );
    if e.awaiting_response {
        s.push_str(", a request unanswered");
    } else if e.during_response {
        s.push_str(", during a response");
    }
    if e.by == Side::Server && e.close_notify == Some(false) && e.during_response {
        s.push_str(", no close_notify");
    }
    s
}

/// The connection in one line of facts.
fn facts(c: &Connection) -> Vec<String> {
    let mut lines = Vec::new();
    let mut tcp = format!(
        "SYN→SYN/ACK {}, SYN/ACK→ACK {}",
        opt_ms(c.syn_synack_ms),
        opt_ms(c.synack_ack_ms)
    );
    for side in [Side::Client, Side::Server] {
        let st = c.stats(side);
        if st.retransmissions + st.zero_windows + st.dup_acks > 0 {
            let _ = write!(
                tcp,
                "; {}: {} retransmitted, {} zero window, {} dup ACK",
                side.as_str(),
                st.retransmissions,
                st.zero_windows,
                st.dup_acks
            );
        }
    }
    lines.push(tcp);
    if let Some(t) = &c.tls {
        for h in &t.client_hellos {
            lines.push(format!(
                "ClientHello SNI {} JA4 {} JA3 {} ({} bytes, {} segment(s)){}",
                h.sni.as_deref().unwrap_or("-"),
                h.ja4,
                h.ja3_hash,
                h.size,
                h.segments,
                h.stack
                    .as_deref()
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default()
            ));
        }
        if let Some(sh) = &t.server_hello {
            lines.push(format!(
                "ServerHello {} {} JA3S {}{}; handshake {}",
                sh.version,
                sh.cipher,
                sh.ja3s_hash,
                if sh.retry { " (HelloRetryRequest)" } else { "" },
                opt_ms(t.handshake_ms)
            ));
        }
        if t.certificate_count > 0 {
            lines.push(format!(
                "{} certificate(s) in the clear",
                t.certificate_count
            ));
        }
        for a in &t.alerts {
            lines.push(format!(
                "alert from the {} at {}: {}",
                a.from.as_str(),
                fmt_duration_ms(a.at_ms),
                a.text
            ));
        }
    }
    for x in c.exchanges.iter().take(5) {
        let mut l = format!(
            "{}request {} B → first byte {} → {} B in {}",
            x.request_line
                .as_deref()
                .map_or_else(String::new, |r| format!("{} ", clean(r, 120))),
            x.request_bytes,
            opt_ms(x.wait_ms),
            x.response_bytes,
            opt_ms(x.response_ms)
        );
        for g in &x.gaps {
            let _ = write!(
                l,
                "; gap {} after {} B",
                fmt_duration_ms(g.duration_ms),
                g.after_bytes
            );
        }
        if let Some(st) = x.status {
            let _ = write!(l, "; status {st}");
        }
        lines.push(l);
    }
    if c.exchanges_total > 5 {
        lines.push(format!("… {} exchanges in all", c.exchanges_total));
    }
    lines.push(format!("end: {}", end_words(c)));
    lines.extend(c.notes.iter().map(|n| format!("note: {}", clean(n, 200))));
    lines
}

/// Writes the capture report for a terminal: verdict, findings, then each connection.
pub fn render_pcap_terminal(
    report: &PcapReport,
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
    let _ = writeln!(
        s,
        "\n{}",
        p.paint(BOLD, &format!("Connections ({})", report.connections.len()))
    );
    let flagged = |c: &Connection| {
        report.findings.iter().any(|f| {
            f.evidence.iter().any(|e| {
                matches!(e, interloper_findings::Evidence::Stat { label, .. }
                    if label.starts_with(&format!("#{} ", c.index)))
            })
        })
    };
    for c in report.connections.iter().take(SHOWN) {
        let title = format!(
            "#{} {} → {}{}  {}",
            c.index,
            c.client,
            c.server,
            c.sni()
                .map_or_else(String::new, |n| format!(" ({})", clean(n, 100))),
            fmt_duration_ms(c.duration_ms)
        );
        let colour = if flagged(c) { RED } else { BOLD };
        let _ = writeln!(s, "  {}", p.paint(colour, &title));
        for l in facts(c) {
            let _ = writeln!(s, "    {}", p.paint(DIM, &l));
        }
    }
    if report.connections.len() > SHOWN {
        let _ = writeln!(
            s,
            "  … and {} more connections (see --json)",
            report.connections.len() - SHOWN
        );
    }
    if report.filtered_out > 0 {
        let _ = writeln!(
            s,
            "  {} connection(s) left out by the filters",
            report.filtered_out
        );
    }
    for n in &report.notes {
        let _ = writeln!(s, "  note: {}", clean(n, 300));
    }
    let files: Vec<String> = report
        .sources
        .iter()
        .map(|f| format!("{} ({} packets)", clean(&f.name, 200), f.packets))
        .collect();
    let _ = writeln!(
        s,
        "\n{}",
        p.paint(DIM, &format!("Read: {}", files.join(", ")))
    );
    out.write_all(s.as_bytes())
}

/// Writes the capture report as one self-contained HTML page: verdict, findings, and one lane
/// per connection on a shared time axis (handshake, waits, responses, gaps, the end).
pub fn render_pcap_html(report: &PcapReport, out: &mut impl Write) -> io::Result<()> {
    use crate::html;
    use crate::text::esc;
    let mut s = Html::with_capacity(64 * 1024);
    let subject = report
        .sources
        .first()
        .map_or("capture", |f| f.name.as_str());
    html::head(&mut s, &report.verdict, subject);
    html::banner(&mut s, &report.verdict);
    html::findings(&mut s, &report.findings);
    html::notes(&mut s, &report.notes);
    lanes(&mut s, report);
    s.raw("<h2>Connections</h2>\n");
    for c in report.connections.iter().take(SHOWN) {
        write!(
            s,
            "<details id=\"c{}\"><summary class=\"mono\">#{} {} → {}{}</summary><ul>",
            c.index,
            c.index,
            esc(&c.client.to_string()),
            esc(&c.server.to_string()),
            c.sni()
                .map_or_else(String::new, |n| format!(" ({})", Text(n, 100)))
        );
        for l in facts(c) {
            write!(s, "<li class=\"mono\">{}</li>", esc(&l));
        }
        s.raw("</ul></details>\n");
    }
    s.raw("<h2>Files</h2>\n<ul>");
    for f in &report.sources {
        write!(
            s,
            "<li><span class=\"mono\">{}</span>: {} packets</li>",
            Text(&f.name, 300),
            f.packets
        );
    }
    s.raw("</ul>\n");
    html::footer(&mut s, &report.header);
    out.write_all(s.as_bytes())
}

/// The lanes: an SVG with one row per connection, x = time since the first connection began.
fn lanes(s: &mut Html, report: &PcapReport) {
    use crate::text::esc;
    let shown: Vec<&Connection> = report.connections.iter().take(SHOWN).collect();
    let Some(t0) = shown.iter().map(|c| c.start_us).min() else {
        return;
    };
    let span_ms = shown
        .iter()
        .map(|c| (c.start_us - t0) as f64 / 1000.0 + c.duration_ms)
        .fold(1.0, f64::max);
    const LABEL: f64 = 260.0;
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 18.0;
    let plot = WIDTH - LABEL - 10.0;
    let x = |ms: f64| LABEL + (ms / span_ms).clamp(0.0, 1.0) * plot;
    let height = ROW * shown.len() as f64 + 24.0;
    write!(
        s,
        "<h2>Connections on one time axis</h2>\n<p class=\"muted\">0 – {}: grey the connection, \
         blue the TLS handshake, amber the wait for the first response byte, green the \
         response, red a gap or a reset, a dark tick the first FIN.</p>\n\
         <svg role=\"img\" aria-label=\"connection lanes\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" style=\"font:11px monospace\">",
        fmt_duration_ms(span_ms)
    );
    for (i, c) in shown.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let off = (c.start_us - t0) as f64 / 1000.0;
        let label = format!("#{} {}→:{}", c.index, c.client.port(), c.server.port());
        write!(
            s,
            "<a href=\"#c{}\"><text x=\"2\" y=\"{:.1}\">{}</text></a>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"4\" fill=\"#ccc\"/>",
            c.index,
            y + 11.0,
            esc(&label),
            x(off),
            y + 6.0,
            (x(off + c.duration_ms) - x(off)).max(1.0)
        );
        let bar = |s: &mut Html, from: f64, len: f64, colour: &str, title: &str| {
            write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" fill=\"{colour}\"><title>{}</title></rect>",
                x(off + from),
                y + 2.0,
                (x(off + from + len) - x(off + from)).max(1.5),
                esc(title)
            );
        };
        if let Some(t) = &c.tls
            && let (Some(h), Some(d)) = (t.client_hellos.first(), t.handshake_ms)
        {
            bar(
                s,
                h.at_ms,
                d,
                "#4a78c2",
                &format!("TLS handshake {}", fmt_duration_ms(d)),
            );
        }
        for ex in &c.exchanges {
            if let Some(w) = ex.wait_ms {
                bar(
                    s,
                    ex.request_at_ms,
                    w,
                    "#e0a030",
                    &format!("wait for the first byte {}", fmt_duration_ms(w)),
                );
                if let Some(r) = ex.response_ms {
                    bar(
                        s,
                        ex.request_at_ms + w,
                        r,
                        "#3c9a5f",
                        &format!("response {} B in {}", ex.response_bytes, fmt_duration_ms(r)),
                    );
                }
            }
            for g in &ex.gaps {
                bar(
                    s,
                    g.at_ms,
                    g.duration_ms,
                    "#c0392b",
                    &format!(
                        "gap {} after {} B",
                        fmt_duration_ms(g.duration_ms),
                        g.after_bytes
                    ),
                );
            }
        }
        if let Some(e) = &c.end {
            let colour = if e.kind == EndKind::Rst {
                "#c0392b"
            } else {
                "#333"
            };
            bar(s, e.at_ms, 0.0, colour, &end_words(c));
        }
    }
    s.raw("</svg>\n");
}
