//! `interloper demo`: the lab on loopback, checked end to end by the real `check` code path.

use std::time::Duration;

use assert_cmd::Command;

fn demo(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = Command::cargo_bin("interloper")
        .unwrap()
        .env("NO_COLOR", "1")
        .arg("demo")
        .args(args)
        .arg("--json")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

fn labels(v: &serde_json::Value) -> Vec<String> {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap().to_string())
        .collect()
}

fn at_least_warning(v: &serde_json::Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            matches!(
                f["severity"].as_str(),
                Some("warning" | "error" | "critical")
            )
        })
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn default_scenario_points_at_instance_four_and_inspection() {
    // Exactly the README's first command (defaults), which must finish well under a minute.
    let started = std::time::Instant::now();
    let (code, v) = demo(&[]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(60), "the demo took {took:?}");
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(
        v["verdict"]["root_cause"], "IL101",
        "proven by the witness: {v:#}"
    );
    let targets = labels(&v);
    assert_eq!(targets.len(), 4, "{v:#}");
    let fourth = &targets[3];
    assert_eq!(v["verdict"]["status"], "intercepted", "{v:#}");
    assert_eq!(v["verdict"]["target"].as_str(), Some(fourth.as_str()));
    let summary = v["verdict"]["summary"].as_str().unwrap();
    assert!(summary.contains("inspection"), "{summary}");
    let serious = at_least_warning(&v);
    assert!(
        serious.iter().any(|(c, _)| c == "IL201"),
        "stalls: {serious:?}"
    );
    assert!(
        serious.iter().all(|(_, t)| t == fourth),
        "only instance 4 is at fault: {serious:?}"
    );
}

#[test]
fn clean_scenario_has_no_warnings() {
    let (code, v) = demo(&["--scenario", "clean", "-n", "10"]);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(labels(&v).len(), 4);
    assert_eq!(at_least_warning(&v), Vec::new(), "{v:#}");
    assert_eq!(v["verdict"]["status"], "clean", "{v:#}");
}

#[test]
fn named_product_and_truncation() {
    let (_, v) = demo(&["--scenario", "fortigate", "-n", "5"]);
    let codes = at_least_warning(&v);
    assert!(codes.iter().any(|(c, _)| c == "IL103"), "{v:#}");
    assert!(
        v["verdict"]["summary"]
            .as_str()
            .unwrap()
            .contains("FortiGate"),
        "{v:#}"
    );
    let (code, v) = demo(&["--scenario", "truncate", "-n", "20"]);
    assert_eq!(code, Some(1));
    assert!(
        at_least_warning(&v).iter().any(|(c, _)| c == "IL203"),
        "{v:#}"
    );
}

#[test]
fn list_names_every_scenario() {
    let out = Command::cargo_bin("interloper")
        .unwrap()
        .args(["demo", "--list"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for s in interloper_lab::SCENARIOS {
        assert!(text.contains(s.name) && text.contains(&s.about()), "{text}");
    }
    let out = Command::cargo_bin("interloper")
        .unwrap()
        .args(["demo", "--scenario", "nope"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn lab_from_a_file_prints_its_witness_and_second_address() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lab.toml");
    std::fs::write(
        &config,
        "about = \"one instance, a witness, a second address\"\n[lab]\n[[lab.instance]]\nwitness = true\n[lab.instance.second_address]\nreset_probability = 0.5\n",
    )
    .unwrap();
    let out = Command::cargo_bin("interloper")
        .unwrap()
        .args(["lab", "--config", config.to_str().unwrap(), "--for", "1s"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("lab (lab): one instance, a witness, a second address")
            && text.contains("second address: 127.0.0.2:")
            && text.contains("witness: https://app-1.localhost:")
            && text.contains("--each-address")
            && text.contains("--echo https://app-1.localhost:"),
        "{text}"
    );
}

#[test]
fn lab_runs_for_a_while_and_prints_the_check() {
    let out = Command::cargo_bin("interloper")
        .unwrap()
        .args(["lab", "--scenario", "fortigate", "--for", "1s"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("instance 1: https://app-1.localhost:")
            && text.contains("inspection CA")
            && text.contains("interloper check --no-os-roots"),
        "{text}"
    );
}

#[test]
fn a_private_ca_without_a_middlebox_is_not_interception() {
    let (code, v) = demo(&["--scenario", "private", "-n", "5"]);
    assert_eq!(code, Some(0), "{v:#}");
    assert_ne!(v["verdict"]["status"], "intercepted", "{v:#}");
    assert_eq!(at_least_warning(&v), Vec::new(), "{v:#}");
}

#[test]
fn resets_and_large_only_mid_body_stalls() {
    let (code, v) = demo(&["--scenario", "reset", "-n", "20"]);
    assert_eq!(code, Some(1));
    assert!(
        at_least_warning(&v).iter().any(|(c, _)| c == "IL202"),
        "{v:#}"
    );
    let (code, v) = demo(&["--scenario", "midbody", "-n", "20"]);
    assert_eq!(code, Some(1));
    assert!(
        at_least_warning(&v).iter().any(|(c, _)| c == "IL207"),
        "{v:#}"
    );
}

#[test]
fn a_lab_from_a_file_and_an_html_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vendor.toml");
    std::fs::write(
        &config,
        r#"about = "one instance behind a box whose CA is named like FortiGate's"
[lab]
seed = 11
[[lab.instance]]
[lab.instance.middlebox]
ca_common_name = "FortiGate CA"
ca_organisation = "Fortinet"
"#,
    )
    .unwrap();
    let html = dir.path().join("report.html");
    let (code, v) = demo(&[
        "--config",
        config.to_str().unwrap(),
        "-n",
        "3",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{v:#}");
    assert!(
        at_least_warning(&v).iter().any(|(c, _)| c == "IL103"),
        "{v:#}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("FortiGate") && page.contains("IL103"));

    // A misspelt key is refused in one line, exit 2.
    std::fs::write(
        &config,
        "about = \"x\"\n[lab]\n[[lab.instance]]\nwitnes = true\n",
    )
    .unwrap();
    let out = Command::cargo_bin("interloper")
        .unwrap()
        .args(["demo", "--config", config.to_str().unwrap()])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("witnes") && err.trim().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn a_broken_origin_points_to_lint_on_the_server() {
    let out = Command::cargo_bin("interloper")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["demo", "--scenario", "origin", "-n", "3"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // The check's remedy for the 404 and the wrong type, and the demo's closing line.
    assert!(text.contains("IL301") && text.contains("IL303"), "{text}");
    assert!(
        text.contains(
            "interloper lint --nginx-t --manage /srv/app/manage.py --python /srv/app/.venv/bin/python"
        ),
        "{text}"
    );
    assert!(text.contains("checks the usual causes"), "{text}");
    // A path fault is not the server's: no lint line there.
    let out = Command::cargo_bin("interloper")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["demo", "--scenario", "truncate", "-n", "3"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("interloper lint"));
}
