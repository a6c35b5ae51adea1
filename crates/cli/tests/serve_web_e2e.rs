//! `interloper serve --web.config.file` as a Prometheus operator runs it at a corporate vantage
//! point: the exporter-toolkit file (TLS certificate and key, a bcrypt basic-auth user), a
//! module whose checks go through Squid (ssl-bump, basic auth, a password holding `+ & % @ :`)
//! and its twin that goes around it (`no_proxy`), and a real Prometheus (Debian) with
//! deploy/'s rules scraping over TLS with basic authentication: the interception alert is
//! raised for the module through Squid only, and a job without credentials is refused
//! (401, `up` 0).

mod common;

use std::time::{Duration, Instant};

use common::{LISTEN_WITHIN, http_get, spawn_interloper};
use interloper_testkit::{Nginx, NginxOptions, Squid, TestPki, free_port};

/// The targets Prometheus scrapes: (job, health, last error).
fn targets(port: u16) -> Vec<(String, String, String)> {
    let (status, body) = http_get(port, "/api/v1/targets");
    if status != 200 {
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    v["data"]["activeTargets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let field = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            (field("scrapePool"), field("health"), field("lastError"))
        })
        .collect()
}

/// The jobs an alert is raised (pending or firing) for.
fn alerted_jobs(port: u16, alert: &str) -> Vec<String> {
    let (status, body) = http_get(port, "/api/v1/alerts");
    if status != 200 {
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let mut jobs: Vec<String> = v["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["labels"]["alertname"] == alert)
        .filter_map(|a| a["labels"]["job"].as_str().map(str::to_string))
        .collect();
    jobs.sort();
    jobs
}

/// An origin whose certificate is a month old, as most sites' are (Squid copies the dates of
/// the certificate it imitates, so its minted leaf does not look new either).
fn origin(dir: &std::path::Path) -> Nginx {
    let pki = TestPki::generate_issued_ago(
        dir,
        "interloper test CA",
        "interloper tests",
        &[],
        Duration::from_secs(30 * 24 * 3600),
    )
    .unwrap();
    let page = "location = /page.html { default_type text/html; return 200 \
         '<!doctype html><title>app</title><link rel=\"stylesheet\" href=\"/app.css\">'; }\n\
         location = /app.css { default_type text/css; return 200 'body { margin: 0 }'; }\n";
    Nginx::start(NginxOptions {
        pki: Some(pki),
        extra_server_conf: page.to_string(),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn prometheus_scrapes_over_tls_with_basic_auth_and_anonymous_scrapes_are_refused() {
    if !common::prometheus_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let origin = origin(&dir.path().join("origin"));
    let squid = Squid::builder()
        .upstream_ca(&origin.pki.ca_cert_pem)
        .basic_auth("alice", "p+a&s%s@w:rd")
        .start()
        .unwrap();
    let target = origin.https_url("page.html");
    let pki = TestPki::generate(&dir.path().join("tls"), "Exporter CA", "Monitoring", &[]).unwrap();
    let password = "scrape+me&now";
    let hash = bcrypt::hash(password, 6).unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  prometheus: {hash}\n",
            pki.leaf_cert_pem.display(),
            pki.leaf_key_pem.display()
        ),
    )
    .unwrap();
    // The vantage point trusts Squid's CA (a managed network); the origin's CA plays a
    // public root.
    let module = |name: &str, extra: &str| {
        format!(
            "[module.{name}]\nsamples = 1\nbudget = \"1m30s\"\nhello_shapes = []\n\
             proxy_url = {:?}\n{extra}\
             [module.{name}.trust]\nno_os_roots = true\npublic_roots = {:?}\ncacert = [{:?}]\n",
            squid.proxy_url(),
            origin.pki.ca_cert_pem.display().to_string(),
            squid.pki.ca_cert_pem.display().to_string(),
        )
    };
    let config = dir.path().join("interloper.toml");
    std::fs::write(
        &config,
        format!(
            "{}{}",
            module("corp", ""),
            module("direct", "no_proxy = [\"localhost\"]\n")
        ),
    )
    .unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut serve = spawn_interloper(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        &listen,
        "--web.config.file",
        web.to_str().unwrap(),
    ]);
    serve
        .wait_for_ports(&[port], LISTEN_WITHIN)
        .expect("interloper serve listens");
    let line = serve
        .wait_for_line("interloper serve listening", LISTEN_WITHIN)
        .unwrap();
    assert!(line.contains("metrics=https://"), "{line}");

    let prom_dir = tempfile::tempdir().unwrap();
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/prometheus/rules/interloper.rules.yml");
    std::fs::copy(&rules, prom_dir.path().join("interloper.rules.yml")).unwrap();
    let job = |name: &str, module: &str, auth: &str| {
        format!(
            "  - job_name: {name}\n    scheme: https\n    metrics_path: /probe\n    params:\n      module: [{module}]\n\
             \x20   scrape_interval: 2s\n    scrape_timeout: 2s\n\
             \x20   tls_config:\n      ca_file: {}\n      server_name: localhost\n{auth}\
             \x20   static_configs:\n      - targets: ['{target}']\n\
             \x20   relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n\
             \x20     - source_labels: [__param_target]\n        target_label: instance\n\
             \x20     - target_label: __address__\n        replacement: 127.0.0.1:{port}\n",
            pki.ca_cert_pem.display()
        )
    };
    let auth =
        format!("    basic_auth:\n      username: prometheus\n      password: '{password}'\n");
    std::fs::write(
        prom_dir.path().join("prometheus.yml"),
        format!(
            "global:\n  evaluation_interval: 1s\nrule_files: [interloper.rules.yml]\n\
             scrape_configs:\n{}{}{}",
            job("interloper-corp", "corp", &auth),
            job("interloper-direct", "direct", &auth),
            job("anonymous", "direct", "")
        ),
    )
    .unwrap();
    let (prometheus, prom_port) = common::prometheus(prom_dir.path());

    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let seen = targets(prom_port);
        let health = |job: &str| seen.iter().find(|t| t.0 == job).cloned();
        let alerted = alerted_jobs(prom_port, "InterloperInterceptionAppeared");
        if let (Some(corp), Some(direct), Some(anonymous)) = (
            health("interloper-corp"),
            health("interloper-direct"),
            health("anonymous"),
        ) && corp.1 == "up"
            && direct.1 == "up"
            && anonymous.1 == "down"
            && !alerted.is_empty()
        {
            assert!(anonymous.2.contains("401"), "{anonymous:?}");
            // Raised for the path through Squid only; the twin that goes around it is clean.
            assert_eq!(alerted, vec!["interloper-corp".to_string()]);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not scraped as expected in time: {seen:?} {alerted:?}\n{}\n{}",
            serve.stderr(),
            prometheus.stderr()
        );
    }
}
