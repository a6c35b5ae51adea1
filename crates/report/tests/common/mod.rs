//! Hand-built evidence for the report tests: one page with a few asset types, stalls, a
//! failure, a 404, an intercepted TLS path, and hostile strings where servers control them.
#![allow(dead_code)]

use interloper_findings::{
    AssetCheck, AssetCheckKind, AssetEvidence, Confidence, TargetEvidence, ThresholdConfig,
    TlsEvidence, TlsItem, TlsItemKind, TlsStatus, analyse,
};
use interloper_model::{ErrorKind, Phase, Phases, RequestError, RequestRecord};
use interloper_report::{Report, ReportMeta};

pub const HOSTILE_URL: &str =
    "https://shop.example.test/static/<script>alert(1)</script>\"onmouseover=\"x.js";

pub fn rec(seq: u64, url: &str, started: f64, ttfb: f64, body: f64, size: u64) -> RequestRecord {
    // Built from JSON so the tests only name the fields the report reads.
    let mut r: RequestRecord = serde_json::from_value(serde_json::json!({
        "seq": seq, "url": url, "started_ms": started,
        "remote_addr": "192.0.2.10:443", "connection_id": seq, "reused": false,
        "http_version": "HTTP/2", "status": 200, "content_length": size,
        "bytes_received": size, "phases": {}, "tls": null,
        "headers": [["content-type", "application/octet-stream"]],
        "body_curve": [], "error": null
    }))
    .expect("record");
    r.phases = Phases {
        dns_ms: Some(0.4),
        connect_ms: Some(0.9),
        tls_ms: Some(3.1),
        write_ms: Some(0.05),
        ttfb_ms: Some(ttfb),
        body_ms: Some(body),
        total_ms: Some(4.45 + ttfb + body),
        ..Default::default()
    };
    r
}

/// `n` requests per asset; every `stall_every`-th one waits 2 s for its headers.
fn asset(url: &str, first_seq: u64, n: u64, size: u64, stall_every: u64) -> AssetEvidence {
    let records = (0..n)
        .map(|i| {
            let seq = first_seq + i;
            // Eight requests in flight at a time, like a browser's connection pool.
            let started = (seq / 8) as f64 * 25.0 + (seq % 8) as f64 * 0.7;
            let ttfb = if stall_every > 0 && i % stall_every == stall_every - 1 {
                2000.0 + i as f64
            } else {
                3.0 + (seq % 7) as f64 * 0.8
            };
            rec(seq, url, started, ttfb, 0.5 + size as f64 / 200_000.0, size)
        })
        .collect();
    AssetEvidence {
        url: url.to_string(),
        records,
        checks: vec![],
    }
}

pub fn sample_evidence(requests_per_asset: u64) -> Vec<TargetEvidence> {
    let base = "https://shop.example.test/static/";
    let specs: &[(&str, u64, u64)] = &[
        ("css/base.4f2a91c3.css", 18_000, 10),
        ("css/layout.77d0e1aa.css", 6_000, 0),
        ("css/print.0b1c2d3e.css", 1_200, 0),
        ("js/vendor.91ab03ff.js", 240_000, 6),
        ("js/app.5e6f7a8b.js", 88_000, 0),
        ("js/admin/RelatedObjectLookups.2c3d.js", 9_000, 0),
        ("img/logo.8c1d.svg", 3_000, 0),
        ("img/hero.1a2b3c4d.webp", 410_000, 0),
        ("img/icons/search.5d6e.svg", 900, 0),
        ("fonts/inter.var.9e8f.woff2", 310_000, 5),
        ("site.webmanifest", 500, 0),
    ];
    let mut assets = Vec::new();
    let mut seq = 0;
    for (path, size, stall) in specs {
        assets.push(asset(
            &format!("{base}{path}"),
            seq,
            requests_per_asset,
            *size,
            *stall,
        ));
        seq += requests_per_asset;
    }
    // One asset that fails now and then (reset before headers).
    let mut flaky = asset(
        &format!("{base}js/chart.3f4e.js"),
        seq,
        requests_per_asset,
        52_000,
        0,
    );
    for (i, r) in flaky.records.iter_mut().enumerate() {
        if i % 10 == 4 {
            r.status = None;
            r.bytes_received = 0;
            r.phases.ttfb_ms = None;
            r.phases.body_ms = None;
            r.phases.total_ms = Some(30_000.0);
            r.error = Some(RequestError {
                kind: ErrorKind::ResetBeforeHeaders,
                phase: Phase::Ttfb,
                message: "connection reset by peer\x1b[2J<b>".to_string(),
            });
        }
    }
    assets.push(flaky);
    seq += requests_per_asset;
    // A missing file, and a hostile URL.
    let mut missing = asset(&format!("{base}css/missing.0000.css"), seq, 3, 150, 0);
    for r in &mut missing.records {
        r.status = Some(404);
    }
    missing.checks.push(AssetCheck {
        kind: AssetCheckKind::NotFound,
        expected: Some("200".into()),
        actual: Some("404".into()),
        detail: "404 Not Found".into(),
    });
    assets.push(missing);
    seq += 3;
    assets.push(asset(HOSTILE_URL, seq, 3, 100, 0));
    vec![TargetEvidence {
        label: "https://shop.example.test/".into(),
        assets,
        tls: Some(TlsEvidence {
            status: TlsStatus::Intercepted,
            confidence: Confidence::High,
            product: Some("FortiGate SSL inspection".into()),
            leaf_subject: Some("CN=shop.example.test".into()),
            leaf_issuer: Some("CN=FortiGate CA <img src=x onerror=alert(2)>, O=Fortinet".into()),
            items: vec![
                TlsItem {
                    kind: TlsItemKind::ProductMatch,
                    message: "issuer matches FortiGate SSL inspection".into(),
                },
                TlsItem {
                    kind: TlsItemKind::LocalAnchorOnly,
                    message: "chain anchored only in a local root: FortiGate CA".into(),
                },
            ],
        }),
        witness: None,
        static_version: Some("manifest:5e6f7a8b".into()),
    }]
}

pub fn meta() -> ReportMeta {
    ReportMeta::new(
        "0.1.0",
        "2026-11-23T21:00:00Z",
        vec![
            "interloper".into(),
            "check".into(),
            "https://shop.example.test/".into(),
        ],
    )
}

pub fn sample_report(requests_per_asset: u64) -> Report {
    let ev = sample_evidence(requests_per_asset);
    let analysis = analyse(&ev, &ThresholdConfig::default());
    Report::new(analysis, ev, meta())
}

pub fn empty_report() -> Report {
    let analysis = analyse(&[], &ThresholdConfig::default());
    Report::new(analysis, vec![], meta())
}

/// A logs report whose every string comes from a hostile log.
pub fn hostile_logs_report() -> interloper_report::LogReport {
    use interloper_findings::{LogEvidence, LogGroup, LogSign, LogSource, analyse_logs};
    let bad = "<script>alert(1)</script>";
    let groups: Vec<LogGroup> = [bad, "10.0.0.2:8000", "10.0.0.3:8000"]
        .iter()
        .enumerate()
        .map(|(i, name)| LogGroup {
            name: (*name).to_string(),
            requests: 400,
            static_requests: 400,
            signs: if i == 0 {
                vec![(LogSign::ClientClosed, 60)]
            } else {
                Vec::new()
            },
            // Ten minutes; the first backend's aborts all in the seventh.
            timeline: (0..10)
                .map(|m| interloper_findings::LogBucket {
                    start: 1_796_076_000 + m * 60,
                    ok: if i == 0 && m == 6 { 0 } else { 40 },
                    client_aborted: if i == 0 && m == 6 { 60 } else { 0 },
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    let evidence = LogEvidence {
        sources: vec![LogSource {
            name: "<img src=x onerror=alert(2)>.log".to_string(),
            format: "combined".into(),
            lines: 1200,
            parsed: 1200,
            static_requests: 1200,
            unparsed: 1,
            first_unparsed: Some("</table><b>".into()),
            ..Default::default()
        }],
        groups,
        grouped_by: "backend".into(),
        slow_ms: 1000.0,
        timeline_seconds: 60,
    };
    let analysis = analyse_logs(&evidence);
    interloper_report::LogReport::new(
        analysis,
        evidence,
        interloper_report::ReportMeta::new(
            "0.1.0",
            "2026-11-30T20:00:00Z",
            vec!["interloper".into()],
        ),
    )
}
