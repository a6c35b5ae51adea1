//! IL113 and IL621 on real nginx: a server whose `ssl_certificate` file holds the leaf alone
//! (its intermediate left out, as `cert.pem` instead of `fullchain.pem`) is found by `check`
//! and `tls`, and by `lint` reading the same configuration; with the full chain, none of them
//! says so. The test root stands in for a public one (`--public-roots`, as the other e2e tests
//! trust testkit's CA).

mod common;
use common::{codes, interloper, json};

use interloper_testkit::{Nginx, NginxOptions, TestPki, TieredPki};

/// nginx serving `pki` with a one-line HTML page at `/`.
fn nginx_serving(pki: TestPki) -> Nginx {
    let nginx = Nginx::start(NginxOptions {
        pki: Some(pki),
        ..NginxOptions::default()
    })
    .expect("nginx");
    std::fs::write(
        nginx.docroot().join("index.html"),
        "<html><body>ok</body></html>",
    )
    .expect("index.html");
    nginx
}

fn path_str(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn check(url: &str, root: &str) -> (Option<i32>, serde_json::Value) {
    let out = interloper(&[
        "check",
        url,
        "--public-roots",
        root,
        "--no-os-roots",
        "--no-proxy",
        "--samples",
        "2",
        "--budget",
        "20s",
        "--json",
    ]);
    (out.status.code(), json(&out))
}

fn tls(url: &str, root: &str) -> (Option<i32>, serde_json::Value) {
    let out = interloper(&[
        "tls",
        url,
        "--public-roots",
        root,
        "--no-os-roots",
        "--no-proxy",
        "--json",
    ]);
    (out.status.code(), json(&out))
}

/// The `tls` evidence of kind `incomplete-chain`.
fn incomplete_evidence(tls: &serde_json::Value) -> Vec<String> {
    tls["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter(|e| e["kind"] == "incomplete-chain")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn check_and_tls_find_a_leaf_sent_without_its_intermediate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TieredPki::generate(dir.path(), "Interloper Test Root", &[]).expect("pki");
    let root = path_str(&pki.full.ca_cert_pem);
    let nginx = nginx_serving(pki.leaf_only());
    let url = nginx.https_url("/");

    let (code, report) = check(&url, root);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["verdict"]["root_cause"], "IL113", "{report:#}");
    let il113 = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "IL113")
        .expect("IL113");
    let evidence = il113["evidence"].to_string();
    assert!(
        evidence.contains(&pki.intermediate_cn) && evidence.contains(&pki.ca_issuers_url),
        "the evidence names the missing issuer and where browsers fetch it: {il113:#}"
    );
    let remedy = il113["remedy"].as_str().unwrap_or_default();
    assert!(
        remedy.contains("curl") && remedy.contains("fullchain"),
        "{remedy}"
    );

    let (code, report) = tls(&url, root);
    assert_eq!(code, Some(1), "{report:#}");
    let messages = incomplete_evidence(&report);
    assert!(
        messages.iter().any(|m| m.contains(&pki.intermediate_cn)),
        "{report:#}"
    );
}

#[test]
fn the_full_chain_is_not_called_incomplete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TieredPki::generate(dir.path(), "Interloper Test Root", &[]).expect("pki");
    let root = path_str(&pki.full.ca_cert_pem);
    let nginx = nginx_serving(pki.full.clone());
    let url = nginx.https_url("/");

    let (code, report) = check(&url, root);
    assert!(!codes(&report).contains(&"IL113".to_string()), "{report:#}");
    assert_eq!(report["verdict"]["status"], "clean", "{report:#}");
    assert_eq!(code, Some(0), "{report:#}");

    let (code, report) = tls(&url, root);
    assert!(incomplete_evidence(&report).is_empty(), "{report:#}");
    assert_eq!(report["verdict"]["status"], "clean", "{report:#}");
    assert_eq!(code, Some(0), "{report:#}");
}
