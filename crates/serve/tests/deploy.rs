//! The fleet pieces under deploy/ checked by the real tools: the example configuration parses,
//! `promtool check config`, `promtool check rules` and `promtool test rules` pass (the rule unit
//! tests prove each alert fires on its series and stays silent on a clean instance).
//! scripts/test installs Debian's `prometheus` package, which provides promtool; without it
//! these tests skip, saying so, except under CI where its absence is a failure.

mod common;

use std::path::{Path, PathBuf};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn run(args: &[&str]) {
    common::promtool(&deploy().join("prometheus"), args);
}

#[test]
fn the_example_configuration_is_valid() {
    let text = std::fs::read_to_string(deploy().join("interloper.toml")).unwrap();
    let cfg = interloper_serve::ServeConfig::from_toml(&text).unwrap();
    assert!(cfg.modules.contains_key("static"));
}

#[test]
fn promtool_accepts_the_scrape_config() {
    run(&["check", "config", "prometheus.yml"]);
}

#[test]
fn promtool_accepts_the_rules() {
    run(&["check", "rules", "rules/interloper.rules.yml"]);
}

#[test]
fn the_alerts_fire_on_their_series_and_stay_silent_on_a_clean_instance() {
    run(&["test", "rules", "tests/interloper.test.yml"]);
}

/// Every series name the exporter answers, and the recording rule's.
const SERIES: &[&str] = &[
    "probe_success",
    "probe_duration_seconds",
    "probe_http_duration_seconds",
    "probe_ssl_earliest_cert_expiry",
    "probe_ssl_last_chain_info",
    "probe_tls_version_info",
    "interloper_verdict",
    "interloper_tls_path",
    "interloper_interception_product_info",
    "interloper_witness_reachable",
    "interloper_witness_agreement",
    "interloper_finding",
    "interloper_requests",
    "interloper_request_phase_seconds",
    "interloper_budget_seconds",
    "interloper_budget_exhausted",
    "interloper_probe_requests",
    "interloper_decided_early_targets",
    "interloper_probe_error",
    "interloper_member_requests",
    "interloper_member_finding",
    "interloper_member_tls_path",
    "interloper_member_odd",
    "interloper_serve_probes_total",
    "interloper_serve_checks_in_flight",
    "instance:interloper_stall_ratio:10m",
];

/// The series names a PromQL expression reads.
fn series_in(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|t| {
            t.starts_with("probe_") || t.starts_with("interloper_") || t.starts_with("instance:")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_dashboard_reads_only_series_that_exist_in_valid_promql() {
    let text = std::fs::read_to_string(deploy().join("grafana/interloper.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fleet = std::fs::read_to_string(deploy().join("../docs/fleet.md")).unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 8);
    for (i, panel) in panels.iter().enumerate() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let names = series_in(expr);
            assert!(!names.is_empty(), "{expr}");
            for name in names {
                assert!(SERIES.contains(&name.as_str()), "{name} in {expr}");
                assert!(
                    fleet.contains(name.trim_end_matches("_total")),
                    "{name} not in docs/fleet.md"
                );
            }
            // Grafana's variables as their "All" value, so promtool can parse the query.
            let expr = expr.replace("$instance", ".*").replace("$group", ".*");
            rules += &format!("      - record: dashboard:panel_{i}\n        expr: {expr:?}\n");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dashboard.rules.yml"), rules).unwrap();
    common::promtool(dir.path(), &["check", "rules", "dashboard.rules.yml"]);
}
