//! The HTML report in a real browser: headless Debian `chromium` renders it without console
//! errors (a CSP violation, a blocked load or a script error would show up there) and takes a
//! screenshot.
//!
//! Skipped, with a message, when `chromium` is absent and `CI` is unset; in CI it must run
//! (`apt-get install -y chromium`). `UPDATE_SCREENSHOT=1` also copies the screenshot to
//! `docs/report-screenshot.png`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use interloper_testkit::{Spawned, chromium};

/// Runs chromium with a deadline so a wedged browser fails the test instead of hanging it;
/// testkit's guard kills it with every process it started (renderers, GPU) when it is done.
fn run(bin: &Path, args: &[String], deadline: Duration) -> (bool, String) {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    let mut chromium = Spawned::start(cmd).expect("start chromium");
    let ok = chromium
        .wait_for_exit(deadline)
        .is_ok_and(|status| status.success());
    (ok, chromium.stderr())
}

/// The sample check report with `per_asset` requests per asset, as HTML.
fn check_page(per_asset: u64) -> Vec<u8> {
    let mut out = Vec::new();
    interloper_report::render_html(&common::sample_report(per_asset), &mut out).expect("render");
    out
}

/// Writes `page` to `dir/name.html`, screenshots it and asserts the browser reported nothing
/// wrong about the page. Returns the arguments used.
fn render_and_check(bin: &Path, dir: &Path, name: &str, page: &[u8]) -> Vec<String> {
    let html = dir.join(format!("{name}.html"));
    let png = dir.join(format!("{name}.png"));
    let profile = dir.join(format!("profile-{name}"));
    std::fs::write(&html, page).expect("write html");

    let args: Vec<String> = vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", profile.display()),
        "--enable-logging=stderr".into(),
        "--v=0".into(),
        format!("--screenshot={}", png.display()),
        "--window-size=1280,2000".into(),
        format!("file://{}", html.display()),
    ];
    let (ok, stderr) = run(bin, &args, Duration::from_secs(120));
    assert!(ok, "chromium failed on {name}:\n{stderr}");
    let png_bytes = std::fs::read(&png).expect("screenshot written");
    assert!(
        png_bytes.len() > 10_000,
        "screenshot is only {} bytes",
        png_bytes.len()
    );
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");

    // Console messages and load/CSP failures about our page are errors here.
    let file = format!("{name}.html");
    let page_errors: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            let about_page = l.contains(&file) || l.contains("CONSOLE");
            let bad = l.contains("Uncaught")
                || l.contains("CONSOLE")
                || l.contains("Content Security Policy")
                || l.contains("Refused to")
                || l.contains("ERR_");
            about_page && bad
        })
        .collect();
    assert!(
        page_errors.is_empty(),
        "console errors about {name}:\n{}",
        page_errors.join("\n")
    );
    // Keep a copy for a human to look at.
    if let Some(keep) = std::env::var_os("REPORT_ARTIFACTS").map(PathBuf::from) {
        let _ = std::fs::create_dir_all(&keep);
        let _ = std::fs::copy(&png, keep.join(format!("{name}.png")));
        let _ = std::fs::copy(&html, keep.join(format!("{name}.html")));
    }
    args
}

#[test]
fn html_report_renders_in_headless_chromium_without_console_errors() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI: apt-get install -y chromium"
        );
        eprintln!("SKIPPED: chromium not found (apt-get install -y chromium); CI is not set");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // Six requests per asset: few enough rows for a labelled waterfall (the screenshot); then
    // the dense variant, downsampled.
    let args = render_and_check(&bin, dir.path(), "report", &check_page(6));
    render_and_check(&bin, dir.path(), "dense", &check_page(30));
    // The access-log report shares the look and the policy, with hostile strings from logs.
    let mut logs = Vec::new();
    interloper_report::render_logs_html(&common::hostile_logs_report(), &mut logs).expect("render");
    render_and_check(&bin, dir.path(), "logs", &logs);

    if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        // Taller than the check above, so the docs show the waterfall and timeline too.
        let dest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report-screenshot.png");
        let mut args = args.clone();
        for a in &mut args {
            if a.starts_with("--screenshot=") {
                *a = format!("--screenshot={}", dest.display());
            } else if a.starts_with("--window-size=") {
                *a = "--window-size=1280,3800".to_string();
            }
        }
        let (ok, stderr) = run(&bin, &args, Duration::from_secs(120));
        assert!(ok, "docs screenshot failed:\n{stderr}");
    }
}

#[test]
fn a_csp_violation_would_be_caught() {
    // Guard against a test that passes because chromium logs nothing at all: a page that
    // breaks our own policy must produce a line the filter above catches.
    let Some(bin) = chromium() else {
        eprintln!("SKIPPED: chromium not found");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("report.html");
    std::fs::write(
        &html,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head><body><script>console.error('boom')</script></body></html>",
    )
    .expect("write");
    let args: Vec<String> = vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        format!("--user-data-dir={}", dir.path().join("profile").display()),
        "--enable-logging=stderr".into(),
        "--v=0".into(),
        format!("--screenshot={}", dir.path().join("x.png").display()),
        "--window-size=400,300".into(),
        format!("file://{}", html.display()),
    ];
    let (_, stderr) = run(&bin, &args, Duration::from_secs(120));
    assert!(
        stderr.contains("Content Security Policy") || stderr.contains("Refused to"),
        "chromium did not report the CSP violation; the console check would be blind:\n{stderr}"
    );
}
