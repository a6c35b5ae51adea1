//! The visit page's endpoints on a real witness: a page opens a visit with a strict CSP, test
//! files of the visit are tied to it, a report is judged once and logged; malformed, hostile,
//! oversized and replayed reports are refused, counted and never stored.

mod common;

use bytes::Bytes;
use common::*;
use interloper_echo::{CertSource, EchoConfig, VisitSettings};
use interloper_findings::visits::VisitRecord;
use interloper_model::witness::visit::{PATH_VISIT, PATH_VISIT_REPORT, VisitAnswer};

const CHROME_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async fn witness(log: &std::path::Path) -> Running {
    let mut cfg = EchoConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        CertSource::SelfSigned {
            names: vec!["localhost".into()],
        },
    );
    cfg.visits = VisitSettings {
        log: Some(log.to_path_buf()),
        log_max_bytes: 4096,
        ..VisitSettings::default()
    };
    start_echo_with(cfg).await
}

async fn h1(addr: std::net::SocketAddr) -> Client {
    connect(
        addr,
        ClientOpts {
            alpn: vec!["http/1.1"],
            ..Default::default()
        },
    )
    .await
}

/// Opens a visit as a browser claiming Chrome would; its code.
async fn open_visit(addr: std::net::SocketAddr) -> String {
    let page = send(
        h1(addr).await,
        "GET",
        &format!("{PATH_VISIT}?seconds=3"),
        &[("user-agent", CHROME_UA)],
        Bytes::new(),
    )
    .await;
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(page.headers.get("set-cookie").is_none());
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    let at = html.find("\"visit\":\"").unwrap() + 9;
    html[at..at + 8].to_string()
}

fn report(code: &str, entries: &str) -> String {
    format!(
        "{{\"schema\":\"interloper.visit-report/v1\",\"visit\":\"{code}\",\"elapsed_ms\":3000,\
         \"entries\":[{entries}]}}"
    )
}

fn entry(seed: u64, duration_ms: f64) -> String {
    format!(
        "{{\"kind\":\"witness\",\"index_or_bytes\":2048,\"seed\":{seed},\"ok\":true,\"error\":null,\
         \"start_ms\":1,\"duration_ms\":{duration_ms},\"connect_ms\":null,\"tls_ms\":null,\
         \"ttfb_ms\":1,\"body_ms\":1,\"protocol\":\"http/1.1\",\"transfer_size\":2100,\
         \"timing_allowed\":true}}"
    )
}

async fn post(addr: std::net::SocketAddr, code: &str, body: String) -> Got {
    send(
        h1(addr).await,
        "POST",
        &format!("{PATH_VISIT_REPORT}?visit={code}"),
        &[
            ("user-agent", CHROME_UA),
            ("content-type", "application/json"),
        ],
        Bytes::from(body),
    )
    .await
}

#[tokio::test]
async fn a_visit_is_judged_once_and_hostile_reports_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("visits.jsonl");
    let w = witness(&log).await;
    let code = open_visit(w.addr).await;

    // A test file of this visit, fetched by our own client (rustls: not Chrome's hello).
    let got = send(
        h1(w.addr).await,
        "GET",
        &format!("/.well-known/interloper/payload?bytes=2048&seed=1&visit={code}"),
        &[("user-agent", CHROME_UA), ("via", "1.1 corp-proxy")],
        Bytes::new(),
    )
    .await;
    assert_eq!(got.status, 200);

    // Hostile and malformed reports: refused with 4xx, nothing logged.
    let bad = [
        ("not json".to_string(), 400),
        (
            report(&code, "").replace("\"entries\"", "\"html\":\"<b>\",\"entries\""),
            400,
        ),
        (
            report(&code, &entry(1, 10.0).replace("http/1.1", "<script>")),
            400,
        ),
        (
            report(
                &code,
                &entry(1, 10.0).replace("null,\"start", "\"<img>\",\"start"),
            ),
            400,
        ),
        (report("ABCDEFGH", &entry(1, 10.0)), 400),
        (format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024)), 413),
    ];
    for (body, status) in bad {
        let got = post(w.addr, &code, body).await;
        assert_eq!(got.status, status, "{}", String::from_utf8_lossy(&got.body));
    }
    assert!(!log.exists() || std::fs::read_to_string(&log).unwrap().is_empty());
    assert_eq!(w.stats.snapshot().visit_reports_refused, 6);

    // The real report: one stalled download the witness answered at once.
    let got = post(
        w.addr,
        &code,
        report(&code, &[entry(1, 2600.0), entry(2, 20.0)].join(",")),
    )
    .await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    let answer: VisitAnswer = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(answer.visit, code);
    // Our rustls client claimed Chrome: its hello has no browser traits.
    assert!(answer.intercepted, "{answer:?}");
    assert!(
        answer
            .headline
            .starts_with("Your connection to this server is being decrypted")
    );
    assert_eq!((answer.stalled, answer.downloads), (1, 2));

    let text = std::fs::read_to_string(&log).unwrap();
    let records: Vec<VisitRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.client_network.as_deref(), Some("127.0.0.0/24"));
    assert_eq!(r.claimed.name, "Chrome 131");
    assert_eq!(r.downloads.stalled_on_path, 1);
    assert_eq!(r.proxy.via.as_deref(), Some("1.1 corp-proxy"));
    assert!(r.hellos.iter().all(|h| h.traits.is_empty()), "{r:?}");

    // A replayed report finds no open visit.
    let got = post(w.addr, &code, report(&code, &entry(1, 10.0))).await;
    assert_eq!(got.status, 404);

    // The log rotates at its size: old lines move to FILE.1.
    for _ in 0..6 {
        let code = open_visit(w.addr).await;
        let got = post(w.addr, &code, report(&code, &entry(1, 10.0))).await;
        assert_eq!(got.status, 200);
    }
    assert!(dir.path().join("visits.jsonl.1").exists());
    assert!(std::fs::metadata(&log).unwrap().len() <= 4096 + 2048);
    let m = w.stats.snapshot();
    assert_eq!((m.visits_opened, m.visit_reports), (7, 7));
    w.stop().await;
}

/// logrotate's way under load: the log renamed while visits are being judged, then the
/// reopen SIGHUP triggers. Every judged visit is one whole line, in the renamed file or in
/// the new one; none is lost or torn.
#[tokio::test]
async fn a_rotation_under_load_loses_no_visit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("visits.jsonl");
    let rotated = dir.path().join("visits.jsonl.1");
    let mut cfg = EchoConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        CertSource::SelfSigned {
            names: vec!["localhost".into()],
        },
    );
    cfg.visits = VisitSettings {
        log: Some(log.clone()),
        ..VisitSettings::default()
    };
    let w = start_echo_with(cfg).await;
    let reloader = w.reloader.clone().unwrap();
    const WORKERS: usize = 4;
    const VISITS_EACH: usize = 12;
    let addr = w.addr;
    // Workers go on during the rotation but wait for it halfway, so the reopened log is
    // sure to get lines whatever the scheduling.
    let (rotated_tx, rotated_rx) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let mut rotated_rx = rotated_rx.clone();
            tokio::spawn(async move {
                for i in 0..VISITS_EACH {
                    if i == VISITS_EACH / 2 {
                        rotated_rx.wait_for(|done| *done).await.unwrap();
                    }
                    let code = open_visit(addr).await;
                    let got = post(addr, &code, report(&code, &entry(1, 10.0))).await;
                    assert_eq!(got.status, 200);
                }
            })
        })
        .collect();
    // Rotate once some visits are in, while the others are still arriving.
    let lines = |p: &std::path::Path| std::fs::read_to_string(p).map_or(0, |t| t.lines().count());
    let mut waited = 0;
    while lines(&log) < WORKERS && waited < 2000 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    std::fs::rename(&log, &rotated).unwrap();
    reloader.reopen_logs().unwrap();
    rotated_tx.send(true).unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let mut total = 0;
    for file in [&rotated, &log] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.ends_with('\n'), "{} ends mid-line", file.display());
        for line in text.lines() {
            let _: VisitRecord = serde_json::from_str(line).unwrap();
            total += 1;
        }
    }
    assert_eq!(total, WORKERS * VISITS_EACH);
    assert!(lines(&rotated) >= WORKERS, "rotated before any visit");
    assert!(
        lines(&log) >= WORKERS * VISITS_EACH / 2,
        "the reopened log missed visits"
    );
    assert_eq!(w.stats.snapshot().log_reopen_failures, 0);
    w.stop().await;
}
