//! `interloper serve` as an operator runs it: the binary with a configuration file, scraped
//! over HTTP like Prometheus does, against the built-in lab on loopback; a configuration with
//! an unknown key refused at start with the key named; SIGHUP reloading the modules.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{http_get, serve};
use interloper_lab::{Lab, Scenario};
use interloper_testkit::free_port;

fn probe(port: u16, target: &str, module: &str) -> (u16, String) {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("target", target)
        .append_pair("module", module)
        .finish();
    http_get(port, &format!("/probe?{q}"))
}

/// A module checking the lab as its user would: lab roots, names resolved to loopback.
fn module(lab: &Lab, name: &str) -> String {
    common::serve_module(lab, name, 2)
}

#[test]
fn serve_scrapes_the_lab_and_reloads_on_sighup() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = common::clean_lab(&runtime);
    let target = lab.instances()[0].url();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("interloper.toml");
    std::fs::write(&config, module(&lab, "web")).unwrap();
    let (serve, port) = serve(&config);

    let (status, body) = probe(port, &target, "web");
    assert_eq!(status, 200, "{body}");
    assert!(body.lines().any(|l| l == "probe_success 1"), "{body}");
    assert!(
        body.lines()
            .any(|l| l == "interloper_tls_path{status=\"clean\"} 1"),
        "{body}"
    );

    let (status, body) = probe(port, &target, "later");
    assert_eq!(status, 400, "{body}");
    assert!(body.starts_with("# unknown module \"later\""), "{body}");

    // SIGHUP: the new module is served without a restart.
    std::fs::write(
        &config,
        format!("{}{}", module(&lab, "web"), module(&lab, "later")),
    )
    .unwrap();
    serve.signal("HUP").expect("SIGHUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = probe(port, &target, "later");
        if status == 200 {
            assert!(body.lines().any(|l| l == "probe_success 1"), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "not reloaded: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }

    let (status, body) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    assert!(
        body.contains("interloper_serve_probes_total{module=\"web\",result=\"success\"} 1"),
        "{body}"
    );
}

#[test]
fn a_config_with_an_unknown_key_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("interloper.toml");
    std::fs::write(&config, "[module.web]\nbudgett = \"5s\"\n").unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("interloper"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "an input error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("budgett"), "{stderr}");
}

/// The `instance` label of each result.
fn instances(results: &[serde_json::Value]) -> Vec<String> {
    let mut out: Vec<String> = results
        .iter()
        .filter_map(|r| r["metric"]["instance"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

#[test]
fn a_real_prometheus_sees_the_interception_of_the_bad_instance_only() {
    if !common::prometheus_installed() {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(Lab::start(
            Scenario::find("inspection").unwrap().config().unwrap(),
        ))
        .unwrap();
    let good = lab.instances()[0].url();
    let bad_instance = &lab.instances()[3];
    let bad = bad_instance.url();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("interloper.toml");
    let cacert: Vec<String> = bad_instance
        .local_roots()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    let boxed = module(&lab, "boxed").replacen(
        "[module.boxed.trust]\n",
        &format!(
            "witness = \"{}\"\n[module.boxed.trust]\ncacert = [{}]\n",
            bad_instance.witness_url().unwrap(),
            cacert.join(", ")
        ),
        1,
    );
    // The same three instances as one group of one module: the members are compared in
    // one scrape.
    let group = module(&lab, "group").replacen(
        "[module.group.trust]\n",
        &format!("[module.group.trust]\ncacert = [{}]\n", cacert.join(", ")),
        1,
    ) + &format!(
        "[module.group.groups.shop]\nnode1 = {good:?}\nnode2 = {:?}\nnode4 = {bad:?}\n",
        lab.instances()[1].url()
    );
    std::fs::write(&config, format!("{}{boxed}{group}", module(&lab, "clean"))).unwrap();
    let (_serve, serve_port) = serve(&config);

    let prom_dir = tempfile::tempdir().unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/prometheus/rules");
    std::fs::copy(
        rules.join("interloper.rules.yml"),
        prom_dir.path().join("interloper.rules.yml"),
    )
    .unwrap();
    // The deploy/ scrape pattern, on loopback, with short intervals for a test.
    let job = |module: &str, target: &str| {
        format!(
            "  - job_name: interloper-{module}\n    metrics_path: /probe\n    params:\n      module: [{module}]\n\
             \x20   scrape_interval: 5s\n    scrape_timeout: 5s\n    static_configs:\n      - targets: ['{target}']\n\
             \x20   relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n\
             \x20     - source_labels: [__param_target]\n        target_label: instance\n\
             \x20     - target_label: __address__\n        replacement: 127.0.0.1:{}\n",
            serve_port
        )
    };
    // An instance group: the target is the group's name, passed as `group=`.
    let group_job = job("group", "shop").replace("__param_target", "__param_group");
    std::fs::write(
        prom_dir.path().join("prometheus.yml"),
        format!(
            "global:\n  evaluation_interval: 2s\nrule_files: [interloper.rules.yml]\nscrape_configs:\n{}{}{group_job}",
            job("clean", &good),
            job("boxed", &bad)
        ),
    )
    .unwrap();
    let (_prometheus, prom_port) = common::prometheus(prom_dir.path());

    let deadline = Instant::now() + Duration::from_secs(90);
    let (intercepted, alerts) = loop {
        std::thread::sleep(Duration::from_secs(1));
        let intercepted = instances(&common::prometheus_query(
            prom_port,
            "interloper_tls_path{status=\"intercepted\",job!=\"interloper-group\"} == 1",
        ));
        let clean = instances(&common::prometheus_query(
            prom_port,
            "interloper_tls_path{status=\"clean\",job!=\"interloper-group\"} == 1",
        ));
        let alerts = common::prometheus_api(prom_port, "/api/v1/alerts")
            .and_then(|v| v["data"]["alerts"].as_array().cloned())
            .unwrap_or_default();
        let alerted = |name: &str| alerts.iter().any(|a| a["labels"]["alertname"] == name);
        if !intercepted.is_empty()
            && !clean.is_empty()
            && alerted("InterloperInterceptionAppeared")
            && alerted("InterloperGroupMemberDiffers")
        {
            assert_eq!(clean, vec![good.clone()]);
            break (intercepted, alerts);
        }
        assert!(
            Instant::now() < deadline,
            "no interception series in time: intercepted {intercepted:?} clean {clean:?} alerts {alerts:?}"
        );
    };
    assert_eq!(intercepted, vec![bad.clone()]);
    // The stall series is there for both (the count itself depends on the seeded stalls).
    assert_eq!(
        instances(&common::prometheus_query(
            prom_port,
            "interloper_requests{outcome=\"stalled\",job!=\"interloper-group\"}"
        )),
        {
            let mut both = vec![good.clone(), bad.clone()];
            both.sort();
            both
        }
    );
    assert_eq!(
        instances(&common::prometheus_query(
            prom_port,
            "probe_success{job!=\"interloper-group\"} == 1"
        )),
        vec![good.clone()]
    );
    // The group scrape names the member behind the middlebox, and only it.
    let odd: Vec<String> = common::prometheus_query(prom_port, "interloper_member_odd == 1")
        .iter()
        .map(|r| format!("{}/{}", r["metric"]["instance"], r["metric"]["member"]))
        .collect();
    assert_eq!(odd, vec!["\"shop\"/\"node4\"".to_string()]);
    let member_alerts: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| a["labels"]["alertname"] == "InterloperGroupMemberDiffers")
        .collect();
    assert_eq!(member_alerts.len(), 1, "{alerts:?}");
    assert_eq!(member_alerts[0]["labels"]["member"], "node4");
    // The interception alert is pending (for: 2m) or firing, for the bad instance only.
    let interception: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| a["labels"]["alertname"] == "InterloperInterceptionAppeared")
        .collect();
    assert_eq!(interception.len(), 1, "{alerts:?}");
    assert_eq!(interception[0]["labels"]["instance"], bad.as_str());
    assert!(
        matches!(
            interception[0]["state"].as_str(),
            Some("pending" | "firing")
        ),
        "{alerts:?}"
    );
}

#[test]
fn the_systemd_unit_verifies() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: systemd-analyze is not installed");
        return;
    }
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/systemd/interloper-serve.service"),
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("interloper");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interloper-serve.service");
    // The unit names the installed path; verify it against the binary just built.
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/interloper", &bin.display().to_string()),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
}
