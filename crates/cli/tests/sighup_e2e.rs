//! SIGHUP as operators send it (certbot's deploy hook, logrotate's `postrotate`, systemd's
//! `ExecReload`): `interloper echo` serves a renewed certificate without a restart and keeps
//! the renewed one when a broken pair follows; `interloper serve` reopens its results log
//! after a rename under load, every finished check a whole line in one of the two files.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{LISTEN_WITHIN, http_get, interloper, json, serve};
use interloper_testkit::TestPki;
use sha2::{Digest, Sha256};

/// The leaf `interloper tls` is shown by the witness now (sha256, hex).
fn leaf_seen(port: u16) -> String {
    let url = format!("https://localhost:{port}/");
    let tls = json(&interloper(&["tls", &url, "--no-os-roots", "--json"]));
    tls["chain"][0]["sha256"]
        .as_str()
        .unwrap_or_else(|| panic!("no leaf: {tls:#}"))
        .to_string()
}

fn leaf_sha256(pki: &TestPki) -> String {
    hex::encode(Sha256::digest(&pki.served_chain_der().unwrap()[0]))
}

#[test]
fn the_witness_serves_a_renewed_certificate_after_sighup() {
    let r = common::Renewal::new("Renewals");
    let (old, new, port) = (&r.old, &r.new, r.port);
    let mut witness = r.start_witness(&[]);
    assert_eq!(leaf_seen(port), leaf_sha256(old));

    r.install_new_cert(new);
    witness.signal("HUP").expect("SIGHUP");
    let line = witness
        .wait_for_line("certificate reloaded", LISTEN_WITHIN)
        .expect("the reload is said");
    assert!(line.contains(&leaf_sha256(new)), "{line}");
    assert_eq!(leaf_seen(port), leaf_sha256(new));

    // A key that does not fit the new certificate: refused, the renewed pair still served.
    r.install_new_cert(old);
    witness.signal("HUP").expect("SIGHUP");
    let line = witness
        .wait_for_line("certificate reload refused", LISTEN_WITHIN)
        .expect("the refusal is said");
    assert!(line.contains("does not fit"), "{line}");
    assert_eq!(leaf_seen(port), leaf_sha256(new));
    assert!(witness.exit_status().is_none(), "{}", witness.stderr());
}

/// GET a scrape of `target` as Prometheus would: (status, body).
fn scrape(port: u16, target: &str) -> (u16, String) {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("target", target)
        .append_pair("module", "web")
        .finish();
    http_get(port, &format!("/probe?{q}"))
}

fn lines_in(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn serve_reopens_its_results_log_after_rename_then_sighup_under_load() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = common::clean_lab(&runtime);
    let target = lab.instances()[0].url();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("checks.jsonl");
    let rotated = dir.path().join("checks.jsonl.1");
    let config = dir.path().join("interloper.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nresults_log = {:?}\nmax_concurrent_checks = 8\n{}",
            log.display().to_string(),
            common::serve_module(&lab, "web", 1)
        ),
    )
    .unwrap();
    let (mut serve, port) = serve(&config);

    const WORKERS: usize = 3;
    const SCRAPES_EACH: usize = 6;
    // Scrapes that got a check's outcome (each logs exactly one line).
    let answered = Arc::new(AtomicUsize::new(0));
    // Workers keep scraping through the rotation but wait for it halfway, so the reopened
    // file is sure to get lines whatever the scheduling.
    let rotated_flag = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (answered, rotated_flag, target) = (
                Arc::clone(&answered),
                Arc::clone(&rotated_flag),
                target.clone(),
            );
            std::thread::spawn(move || {
                for i in 0..SCRAPES_EACH {
                    if i == SCRAPES_EACH / 2 {
                        let deadline = Instant::now() + Duration::from_secs(60);
                        while !rotated_flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                    let (status, body) = scrape(port, &target);
                    if status == 200 && !body.contains("interloper_probe_error") {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines_in(&log).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::rename(&log, &rotated).unwrap();
    serve.signal("HUP").expect("SIGHUP");
    // The handler reopens the log before it says "reloaded".
    serve
        .wait_for_line("reloaded", LISTEN_WITHIN)
        .expect("the reload is said");
    rotated_flag.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }

    let before = lines_in(&rotated);
    let after = lines_in(&log);
    for line in before.iter().chain(&after) {
        let v: serde_json::Value = serde_json::from_str(line).expect("a whole JSON line");
        assert_eq!(v["module"], "web");
    }
    assert!(before.len() >= 2, "rotated before any check: {before:?}");
    assert!(
        after.len() >= WORKERS * SCRAPES_EACH / 2,
        "the reopened log missed checks: {} lines",
        after.len()
    );
    assert_eq!(
        before.len() + after.len(),
        answered.load(Ordering::SeqCst),
        "{}",
        serve.stderr()
    );
}

#[test]
fn the_witness_unit_verifies() {
    if std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: systemd-analyze is not installed");
        return;
    }
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/systemd/interloper-echo.service"),
    )
    .unwrap();
    assert!(
        unit.contains("ExecReload=/bin/kill -HUP $MAINPID"),
        "{unit}"
    );
    let bin = assert_cmd::cargo::cargo_bin("interloper");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interloper-echo.service");
    // The unit names the installed path; verify it against the binary just built.
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/interloper", &bin.display().to_string()),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
}
