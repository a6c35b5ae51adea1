//! The HTML report: one self-contained page (inline CSS and SVG, no script, no external
//! load of any kind). A Content-Security-Policy of `default-src 'none'` makes the browser
//! enforce that, so a string that slipped through escaping still could not load or run
//! anything.

use crate::markup::{Html, Text};
use crate::svg::{self, PHASE_COLOURS, kind_colour};
use crate::text::{esc, file_name, phase_line};
use crate::{AssetReport, GroupReport, Header, Report, TargetReport, TlsEvidence};
use interloper_findings::{Evidence, Finding, Verdict};
use interloper_model::units::{fmt_bytes, fmt_duration_ms};
use std::io::{self, Write};

/// Evidence items shown per finding in the page; the JSON has them all.
const EVIDENCE_ITEMS: usize = 50;
/// Asset URLs listed per finding.
const FINDING_ASSETS: usize = 20;
/// Longest string shown from a single value.
const MAX_FIELD: usize = 4000;
/// Notes shown at most (a report from hostile input stays readable).
const MAX_NOTES: usize = 50;

const CSS: &str = r#"
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif}
main,header .inner,footer{max-width:1160px;margin:0 auto;padding:0 20px}
header.banner{color:#fff;padding:22px 0 18px}
header.banner .inner{display:flex;flex-direction:column;gap:6px}
.status-clean{background:#15803d}.status-notice{background:#1d4ed8}.status-degraded{background:#b45309}
.status-failing{background:#b91c1c}.status-intercepted{background:#7f1d1d}.status-incomplete{background:#86198f}.status-unverified{background:#9a3412}
.badge{display:inline-block;align-self:flex-start;font-weight:700;letter-spacing:.08em;font-size:12px;padding:2px 10px;border-radius:999px;background:rgba(255,255,255,.18);border:1px solid rgba(255,255,255,.45)}
header h1{margin:2px 0 0;font-size:22px;line-height:1.3;font-weight:600;overflow-wrap:anywhere}
header p{margin:0;opacity:.92;overflow-wrap:anywhere}
header code{background:rgba(255,255,255,.16);padding:0 5px;border-radius:4px}
h2{font-size:18px;margin:28px 0 10px}
h3{font-size:15px;margin:22px 0 8px;color:#374151}
section.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:4px 20px 16px;margin:18px 0}
section.card>h2:first-child{margin-top:16px}
details.finding{background:var(--card);border:1px solid var(--line);border-left:5px solid #9ca3af;border-radius:8px;margin:10px 0;padding:0 16px}
details.finding[open]{padding-bottom:12px}
details.finding>summary{cursor:pointer;padding:10px 0;display:flex;flex-wrap:wrap;gap:10px;align-items:baseline;list-style-position:outside}
.sev-critical{border-left-color:#7f1d1d!important}.sev-error{border-left-color:#dc2626!important}
.sev-warning{border-left-color:#d97706!important}.sev-info{border-left-color:#2563eb!important}
.code{font:600 13px var(--mono)}
.pill{font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.05em;padding:1px 8px;border-radius:999px;color:#fff;background:#6b7280}
.pill.critical{background:#7f1d1d}.pill.error{background:#dc2626}.pill.warning{background:#d97706}.pill.info{background:#2563eb}
.conf{color:var(--muted);font-size:12px}
.ftitle{font-weight:600}
.fsum{flex-basis:100%;color:#374151;margin-top:-4px;overflow-wrap:anywhere}
.muted{color:var(--muted)}
p{margin:6px 0;overflow-wrap:anywhere}
code,.mono{font-family:var(--mono);font-size:12.5px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.url{font-family:var(--mono);font-size:12px;overflow-wrap:anywhere;max-width:520px}
td.slow{color:#b45309;font-weight:600}
td.bad,tr.bad td{color:#dc2626;font-weight:600}
table.groups td{padding:5px 8px;line-height:1.25}
table.groups small{font-size:11.5px}
.slowv{color:#b45309;font-weight:600}
i.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.remedy{background:#f0fdf4;border:1px solid #bbf7d0;border-radius:6px;padding:8px 12px;margin-top:10px}
.err{color:#b91c1c}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin:4px 0 6px}
.legend i{display:inline-block;width:12px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.chartbox{overflow-x:auto;border:1px solid var(--line);border-radius:8px;background:#fff;padding:6px}
.chart{display:block;max-width:100%;height:auto}
.chart text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,"DejaVu Sans",sans-serif;fill:#4b5563}
.chart .label{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:10.5px;fill:#374151}
.chart .grid{stroke:#eef0f3;stroke-width:1}
.chart .fail{fill:#dc2626;font-size:11px;font-weight:700}
.chart .count{font-size:10px;fill:#374151}
.chart .btick{font-size:9px;fill:#6b7280}
.chart .axis{font-size:10px;fill:#9ca3af}
.hgrid{display:grid;grid-template-columns:repeat(auto-fill,minmax(350px,1fr));gap:12px}
.hgrid figure{margin:0;border:1px solid var(--line);border-radius:8px;background:#fff;padding:8px}
.hgrid figcaption{font-size:12px;color:var(--muted);margin-bottom:2px}
.note{font-size:12px;color:var(--muted);font-style:italic}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
ul.items{margin:4px 0;padding-left:20px}
details.assets>summary{cursor:pointer;font-weight:600;margin:18px 0 8px}
footer{color:var(--muted);font-size:12px;padding:24px 20px 40px;overflow-wrap:anywhere}
"#;

/// Writes the report as one self-contained HTML page.
pub fn render_html(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let mut s = Html::with_capacity(64 * 1024);
    page(&mut s, report);
    out.write_all(s.as_bytes())
}

fn page(s: &mut Html, r: &Report) {
    let first_label = r.targets.first().map(|t| t.label.as_str()).unwrap_or("");
    head(s, &r.verdict, first_label);
    banner(s, &r.verdict);
    notes(s, &r.notes);
    findings(s, &r.findings);
    if r.targets.len() > 1 {
        instances(s, &r.targets);
    }
    for t in &r.targets {
        target(s, t);
    }
    footer(s, &r.header);
}

/// The document's head (strict CSP, no external load) and the start of its body.
pub(crate) fn head(s: &mut Html, verdict: &Verdict, subject: &str) {
    s.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.raw(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n",
    );
    s.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    s.raw("<meta name=\"referrer\" content=\"no-referrer\">\n");
    writeln!(
        s,
        "<title>interloper · {} · {}</title>",
        verdict.status.as_str(),
        Text(subject, 120)
    );
    writeln!(s, "<style>{CSS}</style>\n</head>\n<body>");
}

/// The verdict banner: status, the one-sentence answer, the root cause, the sampling.
pub(crate) fn banner(s: &mut Html, verdict: &Verdict) {
    // Each status has its own CSS class, `status-<name>`.
    let status = verdict.status.as_str();
    write!(
        s,
        "<header class=\"banner status-{status}\"><div class=\"inner\"><span class=\"badge\">{}</span><h1>{}</h1>",
        status.to_ascii_uppercase(),
        Text(&verdict.summary, MAX_FIELD)
    );
    if let Some(code) = verdict.root_cause {
        write!(
            s,
            "<p>Root cause: <code>{}</code> {}",
            code,
            esc(code.entry().title)
        );
        if let Some(t) = &verdict.subject {
            write!(s, " on <span class=\"mono\">{}</span>", Text(t, 300));
        }
        s.raw("</p>");
    }
    writeln!(
        s,
        "<p>{}</p></div></header>\n<main>",
        Text(&verdict.basis, MAX_FIELD)
    );
}

pub(crate) fn notes(s: &mut Html, notes: &[String]) {
    if !notes.is_empty() {
        s.raw("<ul class=\"muted\">");
        for n in notes.iter().take(MAX_NOTES) {
            write!(s, "<li>note: {}</li>", Text(n, MAX_FIELD));
        }
        s.raw("</ul>\n");
    }
}

/// Every finding, the root cause open and the rest one line each until clicked.
pub(crate) fn findings(s: &mut Html, findings: &[Finding]) {
    writeln!(s, "<h2>Findings ({})</h2>", findings.len());
    if findings.is_empty() {
        s.raw("<p class=\"muted\">Nothing to report at any severity.</p>\n");
    }
    for (i, f) in findings.iter().enumerate() {
        finding(s, f, i == 0);
    }
}

/// The end of `main`, who wrote the report and how, and the end of the document.
pub(crate) fn footer(s: &mut Html, h: &Header) {
    s.raw("</main>\n");
    writeln!(
        s,
        "<footer>Generated by {} {} at {} · schema <code>{}</code><br>Command: <code>{}</code></footer>",
        Text(&h.tool.name, 100),
        Text(&h.tool.version, 100),
        Text(&h.generated_at, 100),
        Text(&h.schema, 100),
        Text(&h.command.join(" "), MAX_FIELD),
    );
    s.raw("</body>\n</html>\n");
}

/// One finding: its one-line summary, what it is about, its evidence and the remedy.
fn finding(s: &mut Html, f: &Finding, open: bool) {
    let sev = f.severity.as_str();
    write!(
        s,
        "<details class=\"finding sev-{sev}\"{}><summary><span class=\"code\">{}</span><span class=\"pill {sev}\">{sev}</span><span class=\"ftitle\">{}</span><span class=\"conf\">{} confidence</span><span class=\"fsum\">{}</span></summary>",
        if open { " open" } else { "" },
        f.code,
        Text(&f.title, 300),
        f.confidence,
        Text(&f.summary, MAX_FIELD),
    );
    finding_subject(s, f);
    if !f.evidence.is_empty() {
        s.raw("<h3>Evidence</h3>");
        evidence_list(s, &f.evidence);
        evidence_requests(s, &f.evidence);
        evidence_left_out(s, &f.evidence);
    }
    writeln!(
        s,
        "<div class=\"remedy\"><strong>What to do.</strong> {}</div><p class=\"muted\">Documentation: <code>{}</code></p></details>",
        Text(&f.remedy, MAX_FIELD),
        Text(&f.doc, 300),
    );
}

/// What a finding is about: its target and the assets it names (the first few).
fn finding_subject(s: &mut Html, f: &Finding) {
    if f.subject.is_none() && f.assets.is_empty() {
        return;
    }
    s.open("dl", "facts");
    if let Some(t) = &f.subject {
        s.raw("<dt>Target</dt>");
        s.element("dd", "mono", t, 500);
    }
    if !f.assets.is_empty() {
        s.raw("<dt>Assets</dt><dd class=\"mono\">");
        for (i, a) in f.assets.iter().take(FINDING_ASSETS).enumerate() {
            if i > 0 {
                s.raw("<br>");
            }
            s.text(a, 500);
        }
        if f.assets.len() > FINDING_ASSETS {
            write!(s, "<br>… and {} more", f.assets.len() - FINDING_ASSETS);
        }
        s.close("dd");
    }
    s.close("dl");
}

fn is_request(e: &Evidence) -> bool {
    matches!(e, Evidence::Request { .. })
}

/// Every piece of evidence but requests, one bullet each (the first [`EVIDENCE_ITEMS`]).
fn evidence_list(s: &mut Html, evidence: &[Evidence]) {
    let others: Vec<&Evidence> = evidence
        .iter()
        .filter(|e| !is_request(e))
        .take(EVIDENCE_ITEMS)
        .collect();
    if others.is_empty() {
        return;
    }
    s.open("ul", "items");
    for e in others {
        s.open("li", "");
        evidence_item(s, e);
        s.close("li");
    }
    s.close("ul");
}

fn evidence_item(s: &mut Html, e: &Evidence) {
    match e {
        Evidence::Stat { label, value } => {
            write!(
                s,
                "<span class=\"muted\">{}:</span> {}",
                Text(label, 500),
                Text(value, MAX_FIELD)
            );
        }
        Evidence::Tls { message } | Evidence::Witness { message } => s.text(message, MAX_FIELD),
        Evidence::Log { location, text } => {
            write!(
                s,
                "<span class=\"muted\">{}:</span> <span class=\"mono\">{}</span>",
                Text(location, 500),
                Text(text, MAX_FIELD)
            );
        }
        Evidence::Check { url, check } => {
            write!(
                s,
                "<span class=\"mono\">{}</span>: {}",
                Text(url, 500),
                Text(&check.detail, MAX_FIELD)
            );
            if check.expected.is_some() || check.actual.is_some() {
                write!(
                    s,
                    " <span class=\"muted\">(expected <code>{}</code>, got <code>{}</code>)</span>",
                    Text(check.expected.as_deref().unwrap_or("-"), 300),
                    Text(check.actual.as_deref().unwrap_or("-"), 300)
                );
            }
        }
        Evidence::Request { .. } => {}
    }
}

/// The requests among the evidence, one table row each with its phase bar.
fn evidence_requests(s: &mut Html, evidence: &[Evidence]) {
    let mut requests = evidence
        .iter()
        .filter(|e| is_request(e))
        .take(EVIDENCE_ITEMS)
        .peekable();
    if requests.peek().is_none() {
        return;
    }
    s.raw("<table><thead><tr><th>#</th><th>Request</th><th>Status</th><th>Phases</th><th></th></tr></thead><tbody>");
    for e in requests {
        request_row(s, e);
    }
    s.raw("</tbody></table>");
}

fn request_row(s: &mut Html, e: &Evidence) {
    let Evidence::Request {
        url,
        seq,
        remote_addr,
        http_version,
        status,
        phases,
        error,
        bytes_received,
        content_length,
    } = e
    else {
        return;
    };
    write!(
        s,
        "<tr><td class=\"num\">{seq}</td><td class=\"url\">{}",
        Text(url, 500)
    );
    // Typed values: nothing a server controls, nothing to escape.
    let via: Vec<String> = [
        http_version.map(|v| v.as_str().to_string()),
        remote_addr.map(|a| a.to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !via.is_empty() {
        write!(s, "<br><span class=\"muted\">{}</span>", via.join(" · "));
    }
    s.raw("</td><td>");
    match status {
        Some(st) => write!(s, "{st}"),
        None => s.raw("—"),
    }
    if let Some(cl) = content_length.filter(|cl| cl != bytes_received) {
        write!(
            s,
            "<br><span class=\"err\">{} of {}</span>",
            fmt_bytes(*bytes_received as f64),
            fmt_bytes(cl as f64)
        );
    }
    write!(s, "</td><td>{}", esc(&phase_line(phases)));
    if let Some(err) = error {
        s.raw("<br>");
        s.element("span", "err", err, 600);
    }
    s.raw("</td><td>");
    svg::phase_bar(s, phases);
    s.raw("</td></tr>");
}

/// Says how many evidence items the page left out (each kind is cut at [`EVIDENCE_ITEMS`]).
fn evidence_left_out(s: &mut Html, evidence: &[Evidence]) {
    let requests = evidence.iter().filter(|e| is_request(e)).count();
    let shown = requests.min(EVIDENCE_ITEMS) + (evidence.len() - requests).min(EVIDENCE_ITEMS);
    if shown < evidence.len() {
        write!(
            s,
            "<p class=\"note\">{} more evidence items are in the JSON report.</p>",
            evidence.len() - shown
        );
    }
}

fn legend_phases(s: &mut Html) {
    s.raw("<div class=\"legend\">");
    for (name, c) in PHASE_COLOURS {
        write!(s, "<span><i style=\"background:{c}\"></i>{name}</span>");
    }
    s.raw("<span><i style=\"background:#dc2626;opacity:.45\"></i>waiting until it failed (✕)</span><span><i style=\"background:#f59e0b;opacity:.35\"></i>stalled row</span></div>");
}

/// One target: its summary line and facts, latency per asset type, charts and assets.
fn target(s: &mut Html, t: &TargetReport) {
    let sum = &t.summary;
    write!(
        s,
        "<section class=\"card target\"><h2><span class=\"mono\">{}</span></h2>",
        Text(&t.label, 500)
    );
    write!(
        s,
        "<p>{} assets · {} requests · <span class=\"{}\">{} failed</span> · <span class=\"{}\">{} stalled</span> · median total {}</p>",
        sum.assets,
        sum.requests,
        if sum.failed > 0 { "err" } else { "muted" },
        sum.failed,
        if sum.stalled > 0 { "err" } else { "muted" },
        sum.stalled,
        if sum.total.count > 0 {
            fmt_duration_ms(sum.total.p50)
        } else {
            "—".to_string()
        },
    );
    target_facts(s, t);

    if t.groups.is_empty() {
        s.raw("<p class=\"muted\">No requests were made to this target.</p></section>\n");
        return;
    }

    latency_table(s, &t.groups);
    charts(s, t);
    histograms(s, &t.groups);

    assets_table(s, &t.assets);
    s.raw("</section>\n");
}

/// What is known about a target beside its requests: the TLS path, the witness, the static
/// build.
fn target_facts(s: &mut Html, t: &TargetReport) {
    if t.tls.is_none() && t.witness.is_none() && t.static_version.is_none() {
        return;
    }
    s.raw("<dl class=\"facts\">");
    if let Some(tls) = &t.tls {
        tls_facts(s, tls);
    }
    if let Some(w) = &t.witness {
        write!(
            s,
            "<dt>Witness</dt><dd><span class=\"mono\">{}</span> · client random {} · chain {}{}</dd>",
            Text(&w.url, 500),
            if w.client_random_matched {
                "matched"
            } else {
                "<strong class=\"err\">differs</strong>"
            },
            if w.chain_matched {
                "matched"
            } else {
                "<strong class=\"err\">differs</strong>"
            },
            match (w.server_ms, w.client_ms) {
                (Some(a), Some(b)) => format!(
                    " · server {} vs client {}",
                    fmt_duration_ms(a),
                    fmt_duration_ms(b)
                ),
                _ => String::new(),
            }
        );
    }
    if let Some(v) = &t.static_version {
        write!(
            s,
            "<dt>Static build</dt><dd class=\"mono\">{}</dd>",
            Text(v, 300)
        );
    }
    s.raw("</dl>");
}

/// The TLS path judgement: status, product, leaf names and each signal.
fn tls_facts(s: &mut Html, tls: &TlsEvidence) {
    write!(
        s,
        "<dt>TLS path</dt><dd><strong>{}</strong> ({} confidence){}</dd>",
        tls.status.as_str(),
        tls.confidence,
        tls.product
            .as_ref()
            .map(|p| format!(" · product: <strong>{}</strong>", Text(p, 300)))
            .unwrap_or_default()
    );
    for (k, v) in [
        ("Leaf issuer", &tls.leaf_issuer),
        ("Leaf subject", &tls.leaf_subject),
    ] {
        if let Some(v) = v {
            write!(s, "<dt>{k}</dt><dd class=\"mono\">{}</dd>", Text(v, 1000));
        }
    }
    if !tls.items.is_empty() {
        s.raw("<dt>Signals</dt><dd><ul class=\"items\">");
        for i in tls.items.iter().take(EVIDENCE_ITEMS) {
            write!(s, "<li>{}</li>", Text(&i.message, 1000));
        }
        s.raw("</ul></dd>");
    }
}

/// One row per asset type, one column per phase.
fn latency_table(s: &mut Html, groups: &[GroupReport]) {
    // One row per asset type, one column per phase: p50 large, p99 under it, every
    // percentile in the tooltip. Six rows per type would push the charts off the first screen.
    s.raw("<h3>Latency by asset type</h3><p class=\"note\">Each cell: median, and p99 below it (hover for p90 and max). Successful requests only.</p><table class=\"groups\"><thead><tr><th>Type</th><th class=\"num\">Assets</th><th class=\"num\">Requests</th><th class=\"num\">Failed</th><th class=\"num\">Stalled</th>");
    for name in ["dns", "connect", "tls", "ttfb", "body", "total"] {
        write!(s, "<th class=\"num\">{name}</th>");
    }
    s.raw("<th class=\"num\">slowest</th></tr></thead><tbody>");
    for g in groups {
        write!(
            s,
            "<tr><td><i class=\"dot\" style=\"background:{}\"></i>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td><td class=\"num{}\">{}</td>",
            kind_colour(g.kind),
            g.kind.as_str(),
            g.assets,
            g.counts.requests,
            if g.counts.failed > 0 { " bad" } else { "" },
            g.counts.failed,
            if g.counts.stalled > 0 { " slow" } else { "" },
            g.counts.stalled,
        );
        for (name, st) in g.phases.rows() {
            match st {
                Some(st) => {
                    write!(
                        s,
                        "<td class=\"num\" title=\"{name}: p50 {} · p90 {} · p99 {} · max {} ({} requests)\"><span class=\"{}\">{}</span><br><small class=\"{}\">{}</small></td>",
                        fmt_duration_ms(st.p50),
                        fmt_duration_ms(st.p90),
                        fmt_duration_ms(st.p99),
                        fmt_duration_ms(st.max),
                        st.count,
                        if st.p50 >= 750.0 { "slowv" } else { "" },
                        fmt_duration_ms(st.p50),
                        if st.p99 >= 750.0 { "slowv" } else { "muted" },
                        fmt_duration_ms(st.p99),
                    );
                }
                None => s.raw("<td class=\"num muted\">—</td>"),
            }
        }
        match &g.phases.total {
            Some(st) => {
                write!(
                    s,
                    "<td class=\"num{}\">{}</td></tr>",
                    if st.max >= 750.0 { " slow" } else { "" },
                    fmt_duration_ms(st.max)
                );
            }
            None => s.raw("<td class=\"num muted\">—</td></tr>"),
        }
    }
    s.raw("</tbody></table>");
}

/// The request waterfall and the latency timeline, each with its legend and note.
fn charts(s: &mut Html, t: &TargetReport) {
    let rows = svg::rows(t);
    s.raw("<h3>Request waterfall</h3>");
    legend_phases(s);
    s.raw("<div class=\"chartbox\">");
    let note = svg::waterfall(s, &rows);
    s.raw("</div>");
    note_line(s, note, &rows, t);

    s.raw("<h3>Latency over time</h3><div class=\"legend\">");
    for g in &t.groups {
        write!(
            s,
            "<span><i style=\"background:{}\"></i>{}</span>",
            kind_colour(g.kind),
            g.kind.as_str()
        );
    }
    s.raw("<span><i style=\"background:#f59e0b\"></i>stalled (ring)</span><span><i style=\"background:#dc2626\"></i>failed (✕)</span></div><div class=\"chartbox\">");
    let note = svg::timeline(s, &rows);
    s.raw("</div>");
    note_line(s, note, &rows, t);
}

/// One latency histogram per asset type.
fn histograms(s: &mut Html, groups: &[GroupReport]) {
    s.raw("<h3>Latency distribution (total time of successful requests)</h3><div class=\"hgrid\">");
    for g in groups {
        write!(
            s,
            "<figure><figcaption>{} · {} requests · p50 {} · p99 {}</figcaption>",
            g.kind.as_str(),
            g.counts.requests,
            g.phases
                .total
                .as_ref()
                .map(|x| fmt_duration_ms(x.p50))
                .unwrap_or_else(|| "—".into()),
            g.phases
                .total
                .as_ref()
                .map(|x| fmt_duration_ms(x.p99))
                .unwrap_or_else(|| "—".into()),
        );
        svg::histogram(s, &g.histogram, g.counts.failed, kind_colour(g.kind));
        s.raw("</figure>");
    }
    s.raw("</div>");
}

/// Several instances of one app side by side, so the odd one out is visible at a glance.
fn instances(s: &mut Html, targets: &[TargetReport]) {
    write!(
        s,
        "<h2>Instances ({})</h2><table><thead><tr><th>Target</th><th class=\"num\">Requests</th><th class=\"num\">Failed</th><th class=\"num\">Stalled</th><th class=\"num\">p50</th><th class=\"num\">p99</th><th>TLS</th><th>Leaf issuer</th><th>Static build</th></tr></thead><tbody>",
        targets.len()
    );
    for t in targets {
        let x = &t.summary;
        let stat = |v: f64| {
            if x.total.count > 0 {
                fmt_duration_ms(v)
            } else {
                "—".to_string()
            }
        };
        write!(
            s,
            "<tr><td class=\"url\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td><td class=\"num{}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
            Text(&t.label, 300),
            x.requests,
            if x.failed > 0 { " bad" } else { "" },
            x.failed,
            if x.stalled > 0 { " slow" } else { "" },
            x.stalled,
            stat(x.total.p50),
            stat(x.total.p99),
            x.tls_status.map_or("—", |v| v.as_str()),
            Text(x.leaf_issuer.as_deref().unwrap_or("—"), 200),
            Text(t.static_version.as_deref().unwrap_or("—"), 100),
        );
    }
    s.raw("</tbody></table>");
}

fn note_line(s: &mut Html, note: Option<String>, rows: &[svg::Row<'_>], t: &TargetReport) {
    let omitted: u64 = t.assets.iter().map(|a| a.requests_omitted).sum();
    if let Some(n) = note {
        write!(s, "<p class=\"note\">{}</p>", esc(&n));
    } else if rows.is_empty() {
        s.raw("<p class=\"note\">No request was recorded.</p>");
    }
    if omitted > 0 {
        write!(
            s,
            "<p class=\"note\">The report keeps {} of {} requests (every failed and stalled one); the statistics above count them all.</p>",
            rows.len(),
            rows.len() as u64 + omitted
        );
    }
}

fn assets_table(s: &mut Html, assets: &[AssetReport]) {
    write!(
        s,
        "<details class=\"assets\"><summary>Assets ({})</summary><table><thead><tr><th>File</th><th>Type</th><th class=\"num\">Size</th><th class=\"num\">Requests</th><th class=\"num\">Failed</th><th class=\"num\">Stalled</th><th>Statuses</th><th class=\"num\">p50</th><th class=\"num\">p99</th><th class=\"num\">max</th></tr></thead><tbody>",
        assets.len()
    );
    for a in assets {
        let statuses: Vec<String> = a
            .counts
            .statuses
            .iter()
            .map(|(k, v)| format!("{k}×{v}"))
            .chain(
                a.counts
                    .failures
                    .iter()
                    .map(|(k, v)| format!("{}×{v}", k.as_str())),
            )
            .collect();
        let total = a.phases.total.as_ref();
        let cell = |v: Option<f64>| match v {
            Some(v) => format!(
                "<td class=\"num{}\">{}</td>",
                if v >= 750.0 { " slow" } else { "" },
                fmt_duration_ms(v)
            ),
            None => "<td class=\"num\">—</td>".to_string(),
        };
        write!(
            s,
            "<tr><td class=\"url\" title=\"{}\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td><td class=\"num{}\">{}</td><td>{}</td>{}{}{}</tr>",
            Text(&a.url, 2000),
            Text(file_name(&a.url), 120),
            a.kind.as_str(),
            a.size
                .map(|b| fmt_bytes(b as f64))
                .unwrap_or_else(|| "—".into()),
            a.counts.requests,
            if a.counts.failed > 0 { " bad" } else { "" },
            a.counts.failed,
            if a.counts.stalled > 0 { " slow" } else { "" },
            a.counts.stalled,
            esc(&statuses.join(" ")),
            cell(total.map(|x| x.p50)),
            cell(total.map(|x| x.p99)),
            cell(total.map(|x| x.max)),
        );
        for c in a.checks.iter().take(EVIDENCE_ITEMS) {
            write!(
                s,
                "<tr><td colspan=\"10\" class=\"err\">↳ {}</td></tr>",
                Text(&c.detail, 1000)
            );
        }
    }
    s.raw("</tbody></table></details>");
}
