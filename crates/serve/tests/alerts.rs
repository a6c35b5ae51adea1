//! The alerts as operators receive them: every alert has a `promtool test rules` case
//! (deploy/prometheus/tests, run by deploy.rs), every operational alert a `runbook_url` to a
//! page that exists under docs/runbooks/; the prometheus-operator examples hold the same rules
//! (`promtool check rules` on the extracted spec) and a Probe for a module that exists.

mod common;

use std::path::{Path, PathBuf};

use serde_yaml::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every rule of the rules file: (group name, rule).
fn rules() -> Vec<(String, Value)> {
    let file = yaml("deploy/prometheus/rules/interloper.rules.yml");
    let mut out = Vec::new();
    for group in file["groups"].as_sequence().unwrap() {
        let name = group["name"].as_str().unwrap().to_string();
        for rule in group["rules"].as_sequence().unwrap() {
            out.push((name.clone(), rule.clone()));
        }
    }
    out
}

#[test]
fn every_alert_has_a_test_case_and_every_operational_alert_a_runbook() {
    let tests = std::fs::read_to_string(root().join("deploy/prometheus/tests/interloper.test.yml"))
        .unwrap();
    let mut operational = 0;
    for (group, rule) in rules() {
        let Some(alert) = rule["alert"].as_str() else {
            continue;
        };
        assert!(
            tests.contains(&format!("alertname: {alert}\n")),
            "{alert} has no promtool test case"
        );
        let runbook = rule["annotations"]["runbook_url"].as_str();
        if group == "interloper-operations" {
            operational += 1;
            assert!(runbook.is_some(), "{alert} has no runbook_url");
        }
        if let Some(url) = runbook {
            let page = url
                .split_once("/blob/main/")
                .map(|(_, p)| p)
                .unwrap_or_else(|| panic!("{alert}: {url} is not a docs link"));
            assert!(
                root().join(page).is_file(),
                "{alert}: {page} does not exist"
            );
        }
    }
    assert!(operational >= 4, "{operational} operational alerts");
}

#[test]
fn the_prometheus_operator_examples_hold_the_same_rules_and_a_real_module() {
    let rule = yaml("deploy/kubernetes/prometheusrule.yaml");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(rule["kind"], "PrometheusRule");
    assert_eq!(
        rule["spec"],
        yaml("deploy/prometheus/rules/interloper.rules.yml"),
        "deploy/kubernetes/prometheusrule.yaml's spec differs from the rules file"
    );

    let probe = yaml("deploy/kubernetes/probe.yaml");
    assert_eq!(probe["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(probe["kind"], "Probe");
    assert_eq!(probe["spec"]["prober"]["path"], "/probe");
    assert!(probe["spec"]["prober"]["url"].as_str().is_some());
    assert!(
        !probe["spec"]["targets"]["staticConfig"]["static"]
            .as_sequence()
            .unwrap()
            .is_empty()
    );
    let module = probe["spec"]["module"].as_str().unwrap();
    let config =
        interloper_serve::ServeConfig::load(&root().join("deploy/interloper.toml")).unwrap();
    assert!(config.modules.contains_key(module), "no module {module}");

    // The extracted spec is a rules file promtool accepts.
    let dir = tempfile::tempdir().unwrap();
    let extracted = dir.path().join("extracted.rules.yml");
    std::fs::write(&extracted, serde_yaml::to_string(&rule["spec"]).unwrap()).unwrap();
    common::promtool(dir.path(), &["check", "rules", "extracted.rules.yml"]);
}

#[test]
fn the_example_web_configuration_parses_and_its_hash_is_bcrypt() {
    let text = std::fs::read_to_string(root().join("deploy/web-config.yml")).unwrap();
    let config: interloper_serve::web::WebConfig = serde_yaml::from_str(&text).unwrap();
    let tls = config.tls_server_config.as_ref().unwrap();
    assert_eq!(tls.cert_file, Path::new("/etc/interloper/tls/cert.pem"));
    let hash = &config.basic_auth_users["prometheus"];
    assert!(bcrypt::verify("change-me", hash).unwrap());
}
