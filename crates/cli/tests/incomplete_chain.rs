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

/// `interloper lint` of the running nginx's configuration, with `extra` flags.
fn lint(nginx: &Nginx, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let conf = nginx.dir.join("nginx.conf");
    let mut args = vec!["lint", "--nginx-config", path_str(&conf), "--json"];
    args.extend_from_slice(extra);
    let out = interloper(&args);
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

    // On the server: the file behind `ssl_certificate` lacks the intermediate, whether or not
    // the root is declared (the leaf names where its issuer is, as public ones do).
    for extra in [&[][..], &["--private-root", root][..]] {
        let (code, report) = lint(&nginx, extra);
        assert_eq!(code, Some(1), "{extra:?}: {report:#}");
        let il621 = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == "IL621")
            .unwrap_or_else(|| panic!("{extra:?}: no IL621: {report:#}"));
        assert!(
            il621["target"]
                .as_str()
                .is_some_and(|t| t.contains("nginx.conf:")),
            "{il621:#}"
        );
        let text = il621.to_string();
        assert!(
            text.contains("leaf-only.pem") && text.contains(&pki.intermediate_cn),
            "{il621:#}"
        );
    }
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

    // The full chain reaches the declared root; undeclared, its top names no download
    // address and is a private CA's: not judged either way.
    for extra in [&["--private-root", root][..], &[][..]] {
        let (_, report) = lint(&nginx, extra);
        assert!(
            !codes(&report).contains(&"IL621".to_string()),
            "{extra:?}: {report:#}"
        );
        let read = report.to_string();
        assert!(read.contains("ssl_certificate file(s) read"), "{report:#}");
    }
}

/// A declared root the file does not reach is IL621 even when nothing names the issuer's
/// address: the private CA's chain is checked once its root is given.
#[test]
fn a_declared_root_the_file_does_not_reach_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TieredPki::generate(dir.path(), "Interloper Test Root", &[]).expect("pki");
    let other = TestPki::generate(&dir.path().join("other"), "Other Root", "x", &[]).expect("pki");
    let nginx = nginx_serving(pki.full.clone());
    let (code, report) = lint(&nginx, &["--private-root", path_str(&other.ca_cert_pem)]);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(codes(&report).contains(&"IL621".to_string()), "{report:#}");
}
