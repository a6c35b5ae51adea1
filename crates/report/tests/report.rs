//! The report document and its renderings, on hand-built evidence: what comes first, what is
//! escaped, what stays bounded, and that odd input (empty, NaN, huge, hostile) never panics.

mod common;

use common::*;
use interloper_findings::{AssetEvidence, TargetEvidence, ThresholdConfig, analyse};
use interloper_report::*;

fn terminal(r: &Report, color: bool, width: usize) -> String {
    let mut out = Vec::new();
    render_terminal(r, &mut out, TerminalStyle { color, width }).expect("render");
    String::from_utf8(out).expect("utf-8")
}

fn html(r: &Report) -> String {
    let mut out = Vec::new();
    render_html(r, &mut out).expect("render");
    String::from_utf8(out).expect("utf-8")
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// Opening and closing tags of the page's structure pair up.
fn assert_balanced(h: &str) {
    for tag in [
        "html", "head", "body", "main", "header", "footer", "section", "details", "summary",
        "table", "thead", "tbody", "tr", "svg", "figure", "dl", "ul", "li", "g", "p", "style",
        "title",
    ] {
        let open = count(h, &format!("<{tag}>")) + count(h, &format!("<{tag} "));
        let close = count(h, &format!("</{tag}>"));
        assert_eq!(
            open, close,
            "<{tag}> opened {open} times, closed {close} times"
        );
    }
    assert!(h.starts_with("<!DOCTYPE html>"));
    assert!(h.trim_end().ends_with("</html>"));
}

#[test]
fn json_has_the_schema_and_round_trips() {
    let r = sample_report(30);
    let mut out = Vec::new();
    render_json(&r, &mut out).expect("json");
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["schema"], "interloper.report/v1");
    assert_eq!(v["tool"]["name"], "interloper");
    assert_eq!(v["generated_at"], "2026-11-23T21:00:00Z");
    assert!(v["verdict"]["status"].is_string());
    assert!(v["findings"][0]["code"].is_string());
    assert!(v["targets"][0]["assets"][0]["phases"]["ttfb"]["p99"].is_number());
    let back: Report = serde_json::from_slice(&out).expect("parses back");
    // Floats may differ in the last bit through JSON; compare everything else.
    assert_eq!(back.verdict, r.verdict);
    assert_eq!(back.findings.len(), r.findings.len());
    let urls = |r: &Report| -> Vec<(String, Counts, usize)> {
        r.targets[0]
            .assets
            .iter()
            .map(|a| (a.url.clone(), a.counts.clone(), a.requests.len()))
            .collect()
    };
    assert_eq!(urls(&back), urls(&r));
}

#[test]
fn documented_example_parses_as_a_report() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/report-json.md"
    ))
    .expect("docs/report-json.md");
    let start = doc.find("```json\n").expect("a ```json block") + "```json\n".len();
    let end = start + doc[start..].find("\n```").expect("end of the block");
    let r: Report = serde_json::from_str(&doc[start..end]).expect("the example is a report");
    assert_eq!(r.header.schema, "interloper.report/v1");
    assert_eq!(r.header.schema, schema::REPORT);
    // And it renders.
    assert!(terminal(&r, false, 80).lines().count() > 5);
    assert_balanced(&html(&r));
}

#[test]
fn per_asset_stats_counts_and_bounded_rows() {
    let r = sample_report(300);
    let t = &r.targets[0];
    let vendor = t
        .assets
        .iter()
        .find(|a| a.url.ends_with("vendor.91ab03ff.js"))
        .unwrap();
    assert_eq!(vendor.kind, AssetKind::Js);
    assert_eq!(vendor.counts.requests, 300);
    assert_eq!(vendor.counts.stalled, 300 / 6, "every 6th request stalls");
    assert_eq!(vendor.size, Some(240_000));
    // 200 evenly spaced + every stalled one.
    assert_eq!(vendor.requests.len(), 200 + 300 / 6);
    assert_eq!(vendor.requests_omitted, 300 - vendor.requests.len() as u64);
    assert!(vendor.requests.iter().filter(|q| q.stalled).count() == 300 / 6);
    assert!(
        vendor
            .requests
            .windows(2)
            .all(|w| w[0].started_ms <= w[1].started_ms)
    );
    let ttfb = vendor.phases.ttfb.as_ref().unwrap();
    assert!(ttfb.p50 < 10.0 && ttfb.max >= 2000.0, "{ttfb:?}");
    let chart = t
        .assets
        .iter()
        .find(|a| a.url.ends_with("chart.3f4e.js"))
        .unwrap();
    assert_eq!(chart.counts.failed, 30);
    assert_eq!(chart.requests.iter().filter(|q| q.failed()).count(), 30);
    let kinds: Vec<AssetKind> = t.groups.iter().map(|g| g.kind).collect();
    assert_eq!(
        kinds,
        [
            AssetKind::Css,
            AssetKind::Js,
            AssetKind::Img,
            AssetKind::Font,
            AssetKind::Other
        ]
    );
    let js = t.groups.iter().find(|g| g.kind == AssetKind::Js).unwrap();
    assert_eq!(js.counts.requests, 4 * 300 + 3);
    let hist: u64 = js.histogram.iter().map(|b| b.count).sum();
    assert_eq!(hist, js.counts.requests - js.counts.failed);
    assert_eq!(t.summary.label, "https://shop.example.test/");
}

#[test]
fn terminal_starts_with_the_verdict_then_findings_then_the_table() {
    let r = sample_report(30);
    let out = terminal(&r, false, 100);
    let status = serde_json::to_value(r.verdict.status).unwrap();
    let badge = status.as_str().unwrap().to_ascii_uppercase();
    assert!(out.starts_with(&badge), "verdict first:\n{out}");
    assert!(out.lines().nth(1).is_some());
    assert!(out.contains("Sampling:"));
    let findings_at = out.find("Findings (").expect("findings header");
    for f in &r.findings {
        let at = out
            .find(f.code.as_str())
            .unwrap_or_else(|| panic!("{} missing", f.code));
        assert!(at < out.find("Latency ·").unwrap());
        assert!(out[findings_at..].contains(f.code.as_str()));
    }
    assert!(out.contains("IL201") && out.contains("IL103"), "{out}");
    assert!(out.contains("Remedy:") && out.contains("Docs: docs/findings/"));
    // A compact phase breakdown in the evidence.
    assert!(
        out.contains("dns 0.4 ms · connect 0.9 ms · tls 3.1 ms · ttfb 2.0 s"),
        "{out}"
    );
    // The latency table, grouped by type.
    let table = &out[out.find("Latency ·").unwrap()..];
    assert!(table.contains("p50") && table.contains("p99") && table.contains("max"));
    for g in ["css (4)", "js (5)", "img (3)", "font (1)", "other (1)"] {
        assert!(table.contains(g), "{g} row missing:\n{table}");
    }
    assert!(!out.contains('\x1b'), "no colour codes when colour is off");
    for line in out.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line:?}");
    }
}

#[test]
fn terminal_fits_narrow_widths_and_colours_only_when_asked() {
    let r = sample_report(30);
    for width in [40, 60, 80] {
        let out = terminal(&r, false, width);
        for line in out.lines() {
            assert!(line.chars().count() <= width, "width {width}: {line:?}");
        }
    }
    let colour = terminal(&r, true, 100);
    assert!(colour.contains("\x1b[1m") && colour.contains("\x1b[0m"));
    // Colour codes come only from us: the ESC in the server's error message is gone.
    assert!(!colour.contains("\x1b[2J"));
}

#[test]
fn terminal_neutralises_control_characters_from_servers() {
    let r = sample_report(30);
    let out = terminal(&r, false, 120);
    assert!(
        out.contains("connection reset by peer\u{fffd}[2J<b>"),
        "{out}"
    );
}

#[test]
fn html_is_self_contained_and_balanced() {
    let h = html(&sample_report(30));
    assert_balanced(&h);
    assert!(h.contains("Content-Security-Policy"));
    assert!(h.contains("default-src 'none'"));
    assert!(!h.contains("<script"), "no script at all");
    assert!(!h.contains("<link"), "no external stylesheet");
    for attr in ["src=\"", "src='", "href=\"", "href='", "@import", "url("] {
        assert!(
            !h.contains(attr),
            "{attr} found: the page must load nothing"
        );
    }
    // Every http(s) URL in the page is text or a tooltip, never an attribute that loads.
    for (i, _) in h.match_indices("http") {
        let before = &h[i.saturating_sub(6)..i];
        assert!(
            !before.ends_with("src=") && !before.ends_with("href="),
            "{before}"
        );
    }
    for part in [
        "Request waterfall",
        "Latency over time",
        "Latency distribution",
        "IL201",
    ] {
        assert!(h.contains(part), "{part} missing");
    }
}

#[test]
fn html_escapes_hostile_urls_and_issuers() {
    let h = html(&sample_report(30));
    assert!(!h.contains("<script>alert(1)"));
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;x.js"));
    assert!(!h.contains("<img src=x"));
    assert!(h.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(!h.contains("<b>"));
    // Control characters never reach the page.
    assert!(!h.contains('\x1b'));
}

#[test]
fn empty_report_renders_everywhere() {
    let r = empty_report();
    let out = terminal(&r, false, 80);
    assert!(!out.is_empty());
    let h = html(&r);
    assert_balanced(&h);
    let mut j = Vec::new();
    render_json(&r, &mut j).unwrap();
    let back: Report = serde_json::from_slice(&j).unwrap();
    assert_eq!(back.targets.len(), 0);
    // A target with no assets at all.
    let ev = vec![TargetEvidence {
        label: "https://nothing.test/".into(),
        ..Default::default()
    }];
    let r = Report::new(analyse(&ev, &ThresholdConfig::default()), ev, meta());
    assert!(terminal(&r, false, 80).contains("no requests were made"));
    assert_balanced(&html(&r));
}

#[test]
fn nan_and_infinite_timings_never_panic_or_leak() {
    let mut r0 = rec(0, "https://a.test/x.css", 0.0, f64::NAN, f64::INFINITY, 10);
    r0.started_ms = f64::NAN;
    r0.phases.total_ms = Some(f64::NAN);
    let mut r1 = rec(1, "https://a.test/x.css", 0.0, 3.0, 1.0, 10);
    r1.started_ms = f64::INFINITY;
    let r2 = rec(2, "https://a.test/x.css", -5.0, -1.0, f64::NEG_INFINITY, 10);
    let mut r3 = rec(3, "https://a.test/x.css", f64::MAX, f64::MAX, f64::MAX, 10);
    r3.phases.total_ms = Some(f64::MAX);
    r3.phases.dns_ms = Some(f64::MAX);
    let mut r4 = r3.clone();
    r4.seq = 4;
    let ev = vec![TargetEvidence {
        label: "https://a.test/".into(),
        assets: vec![AssetEvidence {
            url: "https://a.test/x.css".into(),
            records: vec![r0, r1, r2, r3, r4],
            checks: vec![],
        }],
        ..Default::default()
    }];
    let r = Report::new(analyse(&ev, &ThresholdConfig::default()), ev, meta());
    let h = html(&r);
    assert_balanced(&h);
    for bad in ["NaN", "inf\"", "inf<", "inf "] {
        assert!(
            !h.contains(bad),
            "non-finite or exponent numbers leaked: {bad}"
        );
    }
    let _ = terminal(&r, true, 80);
    // NaN cannot be JSON; the document must still be writable.
    let mut j = Vec::new();
    render_json(&r, &mut j).expect("json with NaN timings");
    let _: Report = serde_json::from_slice(&j).expect("and it parses back");
}

#[test]
fn big_pages_stay_bounded() {
    // 100 assets × 60 requests, with stalls and failures throughout.
    let mut assets = Vec::new();
    for a in 0..100u64 {
        let url = format!(
            "https://big.test/static/f{a}.{}",
            ["css", "js", "png", "woff2"][a as usize % 4]
        );
        let records = (0..60u64)
            .map(|i| {
                let seq = a * 60 + i;
                let ttfb = if i % 20 == 7 {
                    1800.0
                } else {
                    4.0 + (i % 5) as f64
                };
                rec(seq, &url, seq as f64 * 3.0, ttfb, 1.0, 5_000)
            })
            .collect();
        assets.push(AssetEvidence {
            url,
            records,
            checks: vec![],
        });
    }
    let ev = vec![TargetEvidence {
        label: "https://big.test/".into(),
        assets,
        ..Default::default()
    }];
    let r = Report::new(analyse(&ev, &ThresholdConfig::default()), ev, meta());
    let h = html(&r);
    assert_balanced(&h);
    assert!(h.len() < 3_000_000, "html is {} bytes", h.len());
    assert!(count(&h, "<rect") < 12_000, "{} rects", count(&h, "<rect"));
    assert!(h.contains("Showing 300 of 6000 recorded requests"));
    let out = terminal(&r, false, 80);
    assert!(out.lines().count() < 200, "{} lines", out.lines().count());
}

#[test]
fn huge_strings_are_cut_not_carried_whole() {
    let long = format!("https://a.test/{}.css", "x".repeat(1_000_000));
    let ev = vec![TargetEvidence {
        label: long.clone(),
        assets: vec![AssetEvidence {
            url: long.clone(),
            records: vec![rec(0, &long, 0.0, 3.0, 1.0, 10)],
            checks: vec![],
        }],
        ..Default::default()
    }];
    let r = Report::new(analyse(&ev, &ThresholdConfig::default()), ev, meta());
    let out = terminal(&r, false, 80);
    assert!(out.len() < 20_000 && out.lines().all(|l| l.chars().count() <= 80));
    let h = html(&r);
    assert!(h.len() < 100_000, "html is {} bytes", h.len());
    assert_balanced(&h);
}

#[test]
fn several_instances_get_one_section_each() {
    let mut ev = sample_evidence(12);
    let mut second = ev[0].clone();
    second.label = "https://shop-2.example.test/".into();
    second.static_version = Some("manifest:00000000".into());
    ev.push(second);
    let r = Report::new(analyse(&ev, &ThresholdConfig::default()), ev, meta());
    assert_eq!(r.targets.len(), 2);
    assert_eq!(r.targets[1].summary.label, "https://shop-2.example.test/");
    let out = terminal(&r, false, 100);
    assert_eq!(count(&out, "Latency · "), 2);
    assert!(out.contains("Static build: manifest:00000000"));
    assert!(
        out.contains("IL304"),
        "different static builds are a finding"
    );
    let h = html(&r);
    assert_balanced(&h);
    assert_eq!(count(&h, "<section class=\"card target\">"), 2);
    assert!(h.contains("<h2>Instances (2)</h2>"));
}

#[test]
fn notes_reach_json_and_html_escaped() {
    let mut r = sample_report(5);
    r.notes = vec!["witness <b>w</b> spoke for no target".to_string()];
    let mut out = Vec::new();
    render_json(&r, &mut out).expect("json");
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["notes"][0], "witness <b>w</b> spoke for no target");
    let h = html(&r);
    assert!(h.contains("note: witness &lt;b&gt;w&lt;/b&gt; spoke for no target"));
    assert!(!h.contains("<b>w"));
    // A report written before notes existed still parses.
    let mut old = v.clone();
    old.as_object_mut().unwrap().remove("notes");
    let back: Report = serde_json::from_value(old).expect("parses without notes");
    assert!(back.notes.is_empty());
}

#[test]
fn a_stall_reads_the_same_in_the_finding_and_the_table() {
    // One asset, one 12.34 s header stall: the finding's range and the table's max agree.
    let url = "https://shop.example.test/static/app.css";
    let records = (0..20)
        .map(|i| {
            let ttfb = if i == 7 { 12_340.0 } else { 3.0 };
            rec(i, url, i as f64 * 10.0, ttfb, 0.5, 2000)
        })
        .collect();
    let evidence = vec![TargetEvidence {
        label: "https://shop.example.test/".into(),
        assets: vec![AssetEvidence {
            url: url.into(),
            records,
            checks: vec![],
        }],
        ..Default::default()
    }];
    let analysis = analyse(&evidence, &ThresholdConfig::default());
    let meta = interloper_report::ReportMeta::new("0.1.0", "2026-11-23T21:00:00Z", vec![]);
    let r = Report::new(analysis, evidence, meta);
    let stall = &r.findings[0];
    assert!(
        stall
            .summary
            .contains("(12.3 s against a median of 3.0 ms)"),
        "{}",
        stall.summary
    );
    let out = terminal(&r, false, 100);
    let table = &out[out.find("Latency ·").expect("table")..];
    let ttfb_row = table
        .lines()
        .find(|l| l.trim_start().starts_with("ttfb"))
        .expect("ttfb row");
    assert!(ttfb_row.trim_end().ends_with("12.3 s"), "{ttfb_row}");
    assert!(html(&r).contains("12.3 s"));
}

#[test]
fn the_logs_html_report_is_one_balanced_page_that_escapes_what_logs_say() {
    let report = hostile_logs_report();
    let mut out = Vec::new();
    interloper_report::render_logs_html(&report, &mut out).expect("render");
    let h = String::from_utf8(out).expect("utf-8");
    assert_balanced(&h);
    assert!(!h.contains("<script>"), "a backend name is escaped");
    assert!(!h.contains("<img"), "a file name is escaped");
    assert!(!h.contains("</table><b>"), "an unparsed line is escaped");
    assert!(h.contains("&lt;script&gt;"));
    // The backend the verdict names stands out in the table, and the banner leads with it.
    assert_eq!(report.verdict.root_cause.map(|c| c.as_str()), Some("IL504"));
    assert!(
        h.contains("<tr class=\"bad\"><td class=\"mono\">&lt;script&gt;"),
        "{h}"
    );
    assert!(h.contains("status-failing"));
    assert!(
        h.contains("default-src 'none'"),
        "the same strict CSP as the check report"
    );
    // When the bad requests happened: one chart per backend, the named one first, on one
    // time axis; its seventh minute is the aborts.
    assert!(h.contains("When the bad requests happened"));
    assert_eq!(h.matches("<svg class=\"chart logtimeline\"").count(), 3);
    let first = h.find("class=\"chart logtimeline\"").expect("a timeline");
    assert!(
        h[first..first + 400].contains("through &lt;script&gt;"),
        "{}",
        &h[first..first + 400]
    );
    assert!(h.contains("2026-11-30 22:06 UTC, 1.0 min: 0 ok, 0 slow, 60 ended by the client"));
    assert!(h.contains("2026-11-30 22:00") && h.contains("2026-11-30 22:10 UTC"));
}
