//! `interloper tls` and `interloper check` against a lab middlebox that breaks on the hello
//! browsers send (post-quantum key share, over one segment): the real binary, the real lab on
//! loopback. `tls` names what the path did with each hello shape; `check` names IL107. A lab
//! without the fault accepts every shape and `check` says nothing of it.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use interloper_lab::{HelloAction, HelloFault, Lab, LabConfig, Scenario};
use interloper_testkit::{Spawned, chromium};
use serde_json::Value;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The `pq-reset` scenario with its hello fault replaced by `fault` (None: no fault).
fn lab_with(rt: &tokio::runtime::Runtime, fault: Option<HelloFault>) -> Lab {
    let mut cfg: LabConfig = Scenario::find("pq-reset")
        .expect("pq-reset is built in")
        .config()
        .expect("config");
    if let Some(mb) = cfg.instances[0].middlebox.as_mut() {
        mb.hello = fault;
    }
    rt.block_on(Lab::start(cfg)).expect("lab")
}

/// `interloper tls --json` (or the terminal output) of the lab's only instance.
fn tls(lab: &Lab, extra: &[&str]) -> (Option<i32>, String) {
    let inst = &lab.instances()[0];
    let mut args: Vec<String> = vec![
        "tls".into(),
        inst.url(),
        "--no-os-roots".into(),
        "--no-proxy".into(),
        "--timeout".into(),
        "8s".into(),
        "--public-roots".into(),
        lab.public_roots_pem_path().display().to_string(),
    ];
    for root in inst.local_roots() {
        args.push("--cacert".into());
        args.push(root.display().to_string());
    }
    for addr in inst.addresses() {
        args.push("--resolve".into());
        args.push(format!("{}:{}:{}", inst.host, addr.port(), addr.ip()));
    }
    args.extend(extra.iter().map(|s| (*s).to_string()));
    let out = assert_cmd::Command::cargo_bin("interloper")
        .expect("binary")
        .args(&args)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run interloper");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn shapes(json: &Value) -> Vec<(String, String)> {
    json["hello_shapes"]
        .as_array()
        .expect("hello_shapes")
        .iter()
        .map(|s| {
            (
                s["shape"].as_str().unwrap_or_default().to_string(),
                s["outcome"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pair(shape: &str, outcome: &str) -> (String, String) {
    (shape.to_string(), outcome.to_string())
}

#[test]
fn tls_names_what_the_path_does_with_each_hello_shape() {
    let rt = runtime();

    // Reset on the ML-KEM key share: the classic hello passes, both browser shapes are reset.
    let lab = lab_with(
        &rt,
        Some(HelloFault {
            key_share_group: Some("X25519MLKEM768".into()),
            ..HelloFault::default()
        }),
    );
    let (code, out) = tls(&lab, &["--json"]);
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        shapes(&json),
        vec![
            pair("classic", "accepted"),
            pair("pq", "reset"),
            pair("large", "reset")
        ],
        "{json:#}"
    );
    assert_eq!(json["hello_shapes"][0]["group"], "X25519", "{json:#}");
    assert!(
        json["hello_shapes"][1]["hello_bytes"].as_u64().unwrap_or(0) > 1400,
        "{json:#}"
    );
    assert_eq!(
        code,
        Some(1),
        "a path that refuses the browser hello is a problem"
    );
    let (_, text) = tls(&lab, &[]);
    assert!(text.contains("pq       RESET"), "{text}");
    assert!(text.contains("browser-shaped hello fails"), "{text}");
    // Only the classic hello asked for: nothing about shapes, as before.
    let (_, out) = tls(&lab, &["--hello-shapes", "classic", "--json"]);
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["hello_shapes"], serde_json::json!([]), "{json:#}");
    rt.block_on(lab.shutdown());

    // Held 2 s when over 1000 bytes: the browser shapes stall, and still complete.
    let lab = lab_with(
        &rt,
        Some(HelloFault {
            above_bytes: Some(1000),
            action: HelloAction::Stall,
            stall: Duration::from_secs(2),
            ..HelloFault::default()
        }),
    );
    let (_, out) = tls(&lab, &["--json"]);
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        shapes(&json),
        vec![
            pair("classic", "accepted"),
            pair("pq", "stalled"),
            pair("large", "stalled")
        ],
        "{json:#}"
    );
    assert!(
        json["hello_shapes"][1]["tls_ms"].as_f64().unwrap_or(0.0) > 1000.0,
        "{json:#}"
    );
    rt.block_on(lab.shutdown());

    // Refused with an alert.
    let lab = lab_with(
        &rt,
        Some(HelloFault {
            key_share_group: Some("0x11ec".into()),
            action: HelloAction::Alert,
            ..HelloFault::default()
        }),
    );
    let (_, out) = tls(&lab, &["--json"]);
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        shapes(&json)[1..],
        [pair("pq", "alert"), pair("large", "alert")],
        "{json:#}"
    );
    rt.block_on(lab.shutdown());

    // No fault: every shape accepted.
    let lab = lab_with(&rt, None);
    let (_, out) = tls(&lab, &["--json"]);
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        shapes(&json),
        vec![
            pair("classic", "accepted"),
            pair("pq", "accepted"),
            pair("large", "accepted")
        ],
        "{json:#}"
    );
    rt.block_on(lab.shutdown());
}

#[test]
fn check_names_il107_and_tls_schema_stays_additive() {
    let rt = runtime();
    let lab = lab_with(
        &rt,
        Some(HelloFault {
            key_share_group: Some("X25519MLKEM768".into()),
            ..HelloFault::default()
        }),
    );
    let mut argv = vec!["check".to_string()];
    argv.extend(lab.check_plan(10).to_check_args());
    argv.push("--json".into());
    let out = assert_cmd::Command::cargo_bin("interloper")
        .expect("binary")
        .args(&argv)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(180))
        .output()
        .expect("run interloper");
    let report = common::json(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["verdict"]["root_cause"], "IL107", "{report:#}");
    // Without the extra shapes the same path looks clean: the classic hello is never hit.
    argv.insert(1, "--hello-shapes".into());
    argv.insert(2, "classic".into());
    let out = assert_cmd::Command::cargo_bin("interloper")
        .expect("binary")
        .args(&argv)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(180))
        .output()
        .expect("run interloper");
    let report = common::json(&out);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["code"].as_str()).collect())
        .unwrap_or_default();
    assert!(!codes.contains(&"IL107"), "{report:#}");
    // Nothing fails: all that is left is the lab box's root, only installed on this machine,
    // which is never clean (docs/findings/IL102.md).
    assert_eq!(report["verdict"]["status"], "unverified", "{report:#}");
    assert_eq!(report["verdict"]["root_cause"], "IL102", "{report:#}");
    rt.block_on(lab.shutdown());
}

/// What headless Chromium makes of the lab's page: its DOM (an error page when the load
/// failed), within a deadline so a wedged browser fails the test instead of hanging it.
fn chromium_dom(bin: &PathBuf, lab: &Lab) -> String {
    let inst = &lab.instances()[0];
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        // The lab's CAs are not installed in this throwaway profile; the hello is what
        // this test is about, and it is sent before any certificate is seen.
        "--ignore-certificate-errors",
        &format!("--host-resolver-rules=MAP {} 127.0.0.1", inst.host),
        &format!("--user-data-dir={}", profile.path().display()),
        "--dump-dom",
        &inst.url(),
    ]);
    // testkit's guard: a wedged browser is killed with its renderers when the test ends.
    let mut chromium = Spawned::start(cmd).expect("start chromium");
    if let Err(e) = chromium.wait_for_exit(Duration::from_secs(60)) {
        panic!("chromium did not finish within 60 s: {e:#}");
    }
    chromium.stdout()
}

/// The founding story of the fault, with a real browser: Chromium's own ClientHello (it sends
/// X25519MLKEM768 by default) is reset by the lab's box exactly as interloper's `pq` shape is,
/// while the classic hello goes through; without the fault Chromium loads the page.
#[test]
fn a_real_browser_fails_where_the_pq_shape_fails() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (apt-get install -y chromium)"
        );
        println!("skipped: no chromium on PATH");
        return;
    };
    let rt = runtime();
    let lab = lab_with(
        &rt,
        Some(HelloFault {
            key_share_group: Some("X25519MLKEM768".into()),
            ..HelloFault::default()
        }),
    );
    let dom = chromium_dom(&bin, &lab);
    assert!(!dom.contains("<title>interloper lab</title>"), "{dom}");
    let (_, out) = tls(&lab, &["--json"]);
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        shapes(&json)[..2],
        [pair("classic", "accepted"), pair("pq", "reset")],
        "{json:#}"
    );
    rt.block_on(lab.shutdown());

    let lab = lab_with(&rt, None);
    let dom = chromium_dom(&bin, &lab);
    assert!(dom.contains("<title>interloper lab</title>"), "{dom}");
    rt.block_on(lab.shutdown());
}
