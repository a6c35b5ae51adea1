//! Decisive TLS evidence is told the moment it is seen, while the timing evidence is still being
//! gathered: `interloper demo` on a lab whose middlebox mints with a CA named like FortiGate's
//! and stalls a third of the static responses 2 s. The progress on stderr goes to the same file
//! as the report on stdout, so the file's order is the order they were written: the product is
//! named with the timing still deciding, before the report, and the report is as it always was.

use std::process::Command;
use std::time::Duration;

use interloper_testkit::Spawned;

const FORTIGATE_STALLING: &str = r#"
about = "one instance behind inspection with a CA named like FortiGate's, stalling a third of static responses 2 s"
[lab]
seed = 7
[[lab.instance]]
[lab.instance.middlebox]
ca_common_name = "FortiGate CA"
ca_organisation = "Fortinet"
[lab.instance.middlebox.faults]
stall_probability = 0.3
stall = "2s"
"#;

/// Runs the demo on the scenario with `--progress MODE --json`: (progress text, the report).
fn demo(progress: &str) -> (String, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("fortigate-stalling.toml");
    std::fs::write(&config, FORTIGATE_STALLING).expect("write the scenario");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_interloper"));
    cmd.env("NO_COLOR", "1")
        .arg("demo")
        .arg("--config")
        .arg(&config)
        .args(["-n", "20", "--progress", progress, "--json"]);
    let mut run = Spawned::start_merged(cmd).expect("start the demo");
    run.wait_for_exit(Duration::from_secs(180))
        .expect("the demo ends");
    let out = run.stdout();
    // The report is the one pretty-printed JSON document; every progress line is one line.
    let at = out
        .find("{\n")
        .unwrap_or_else(|| panic!("no report in:\n{out}"));
    let report = serde_json::from_str(&out[at..])
        .unwrap_or_else(|e| panic!("{e}: the report does not parse:\n{out}"));
    (out[..at].to_string(), report)
}

/// The report names the product and the stalls, whatever the progress showed.
fn assert_report_unchanged(report: &serde_json::Value) {
    assert_eq!(report["verdict"]["status"], "intercepted", "{report:#}");
    assert_eq!(report["verdict"]["root_cause"], "IL103", "{report:#}");
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"IL201"), "{codes:?}");
    assert!(
        report["verdict"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("FortiGate")),
        "{report:#}"
    );
}

#[test]
fn progress_lines_name_the_product_while_the_timing_is_still_deciding() {
    let (progress, report) = demo("lines");
    let told = progress
        .lines()
        .find(|l| l.contains("TLS inspection (Fortinet FortiGate); timing: "))
        .unwrap_or_else(|| panic!("the product is never named in progress:\n{progress}"));
    assert!(told.starts_with("interloper: https://"), "{told}");
    // Told while the sequential test still had questions open, not after it.
    assert!(
        progress.lines().any(
            |l| l.contains("TLS inspection (Fortinet FortiGate); timing: ")
                && l.ends_with("— deciding")
        ),
        "{progress}"
    );
    assert_report_unchanged(&report);
}

#[test]
fn progress_json_has_a_tls_event_before_the_target_is_done() {
    let (progress, report) = demo("json");
    let events: Vec<serde_json::Value> = progress
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let position = |pred: &dyn Fn(&serde_json::Value) -> bool| events.iter().position(pred);
    let tls = position(&|e| e["event"] == "tls")
        .unwrap_or_else(|| panic!("no tls event in:\n{progress}"));
    let event = &events[tls];
    assert_eq!(event["target"], 0, "{event}");
    assert_eq!(event["status"], "intercepted", "{event}");
    assert_eq!(event["rule"], "known-product", "{event}");
    assert_eq!(event["product"], "Fortinet FortiGate", "{event}");
    let done = position(&|e| e["event"] == "done").expect("a done event");
    assert!(tls < done, "{progress}");
    // A timing state still open comes after the TLS event.
    assert!(
        events[tls..].iter().any(|e| e["event"] == "deciding"
            && e["state"]
                .as_str()
                .is_some_and(|s| s.ends_with("— deciding"))),
        "{progress}"
    );
    assert_report_unchanged(&report);
}
