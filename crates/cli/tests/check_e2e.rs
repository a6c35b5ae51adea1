//! `interloper check` and `interloper tls` as a user runs them, on the real stack: Django's
//! admin static files behind real nginx with TLS, and mitmproxy in reverse mode as the
//! HTTPS-inspecting middlebox (its CA named like a known product), with fault addons.

mod common;
use common::{codes, interloper, json, origin};

use std::path::Path;

use interloper_testkit::Mitmproxy;

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn clean_origin_is_clean_and_exit_zero() {
    let o = origin();
    let ca = path_str(&o.nginx.pki.ca_cert_pem);
    let url = o.nginx.https_url("admin/login/");
    let out = interloper(&[
        "check",
        &url,
        "--public-roots",
        ca,
        "--no-os-roots",
        "--samples",
        "3",
        "--json",
        "--fail-on",
        "warning",
    ]);
    let report = json(&out);
    assert_eq!(report["schema"], "interloper.report/v1");
    assert_eq!(
        report["verdict"]["status"], "clean",
        "{:#}",
        report["verdict"]
    );
    for f in report["findings"].as_array().expect("findings") {
        assert_eq!(f["severity"], "info", "{f:#}");
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = interloper(&["tls", &url, "--public-roots", ca, "--no-os-roots", "--json"]);
    let tls = json(&out);
    assert_eq!(tls["schema"], "interloper.tls/v1");
    assert_eq!(tls["verdict"]["status"], "clean", "{tls:#}");
    assert!(
        tls["client_hello"]["ja4"]
            .as_str()
            .is_some_and(|j| j.starts_with("t13d")),
        "{tls:#}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_private_ca_alone_is_not_called_interception() {
    let o = origin();
    let ca = path_str(&o.nginx.pki.ca_cert_pem);
    let url = o.nginx.https_url("admin/login/");
    // Mozilla's roots do not know the test CA; it is trusted only locally (--cacert).
    let out = interloper(&["tls", &url, "--cacert", ca, "--no-os-roots", "--json"]);
    let tls = json(&out);
    assert_eq!(tls["verdict"]["status"], "private-pki-unknown", "{tls:#}");
    let out = interloper(&[
        "check",
        &url,
        "--cacert",
        ca,
        "--no-os-roots",
        "--samples",
        "2",
        "--json",
    ]);
    let report = json(&out);
    assert_ne!(
        report["verdict"]["status"], "intercepted",
        "{:#}",
        report["verdict"]
    );
    assert!(!codes(&report).contains(&"IL103".to_string()));
}

#[test]
fn mitmproxy_in_front_is_named_first_in_the_verdict() {
    let o = origin();
    let mitm =
        Mitmproxy::reverse(o.nginx.https_port, "mitmproxy", "mitmproxy", None).expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let inspection_ca = path_str(&mitm.pki.ca_cert_pem);
    let url = mitm.url("admin/login/");
    let out = interloper(&[
        "check",
        &url,
        "--public-roots",
        public,
        "--cacert",
        inspection_ca,
        "--no-os-roots",
        "--samples",
        "2",
        "--json",
    ]);
    let report = json(&out);
    let c = codes(&report);
    assert!(
        c.contains(&"IL103".into()) && c.contains(&"IL102".into()),
        "{c:?}"
    );
    assert_eq!(c[0], "IL103", "{c:?}");
    assert_eq!(report["verdict"]["status"], "intercepted");
    assert_eq!(report["verdict"]["root_cause"], "IL103");
    let summary = report["verdict"]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("mitmproxy"), "{summary}");
    assert_eq!(out.status.code(), Some(1));

    let out = interloper(&[
        "tls",
        &url,
        "--public-roots",
        public,
        "--cacert",
        inspection_ca,
        "--no-os-roots",
        "--json",
    ]);
    let tls = json(&out);
    assert_eq!(tls["verdict"]["status"], "intercepted", "{tls:#}");
    assert!(
        tls["verdict"]["product"]["name"]
            .as_str()
            .is_some_and(|p| p.to_lowercase().contains("mitmproxy")),
        "{tls:#}"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// mitmproxy holding a seeded 10 % of static responses for 2 s.
fn stall_addon() -> String {
    interloper_testkit::stall_addon(Some("/static/"), 0.10, 2.0)
}

#[test]
fn stalls_on_the_path_are_il201() {
    let o = origin();
    let mitm = Mitmproxy::reverse(
        o.nginx.https_port,
        "Corp Gateway CA",
        "Example Corp",
        Some(&stall_addon()),
    )
    .expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let inspection_ca = path_str(&mitm.pki.ca_cert_pem);
    let url = mitm.url("admin/login/");
    let out = interloper(&[
        "check",
        &url,
        "--public-roots",
        public,
        "--cacert",
        inspection_ca,
        "--no-os-roots",
        "--samples",
        "12",
        "--concurrency",
        "6",
        "--json",
    ]);
    let report = json(&out);
    let c = codes(&report);
    assert!(
        c.contains(&"IL201".into()),
        "{c:?}\n{:#}",
        report["verdict"]
    );
    let il201 = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "IL201")
        .expect("IL201");
    assert!(
        il201["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("waiting for response headers"),
        "{il201:#}"
    );
    // An administrator-named CA: local-only anchor with stalls, never named as a product.
    assert!(!c.contains(&"IL103".into()), "{c:?}");
}

const TAMPER_ADDON: &str = r#"
class Tamper:
    def response(self, flow):
        if "/static/admin/css/base." in flow.request.path and flow.response.content:
            body = bytearray(flow.response.content)
            body[20] ^= 0x20
            flow.response.content = bytes(body)
addons = [Tamper()]
"#;

#[test]
fn a_byte_changed_by_the_middlebox_is_il204_naming_the_file() {
    let o = origin();
    let mitm = Mitmproxy::reverse(
        o.nginx.https_port,
        "mitmproxy",
        "mitmproxy",
        Some(TAMPER_ADDON),
    )
    .expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let inspection_ca = path_str(&mitm.pki.ca_cert_pem);
    let url = mitm.url("admin/login/");
    let out = interloper(&[
        "check",
        &url,
        "--public-roots",
        public,
        "--cacert",
        inspection_ca,
        "--no-os-roots",
        "--samples",
        "2",
        "--json",
    ]);
    let report = json(&out);
    let f = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "IL204")
        .unwrap_or_else(|| panic!("no IL204 in {:?}", codes(&report)));
    assert!(
        f["summary"].as_str().unwrap_or_default().contains("base."),
        "{f:#}"
    );
}

#[test]
fn bad_input_is_a_one_line_error_and_exit_two() {
    for args in [
        vec!["check", "not a url"],
        vec!["check", "ftp://x/"],
        vec!["check", "https://localhost:1/", "--samples", "zero"],
        vec!["check", "https://localhost:1/", "--fail-on", "sometimes"],
        vec!["tls", "https://localhost:1/", "--expect-pin", "md5//abc"],
        vec![
            "tls",
            "https://localhost:1/",
            "--public-roots",
            "/nonexistent.pem",
        ],
        vec!["pin", "/nonexistent.pem"],
    ] {
        let out = interloper(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_refused_port_is_a_finding_not_a_crash() {
    let port = interloper_testkit::free_port();
    let url = format!("https://127.0.0.1:{port}/");
    let out = interloper(&["check", &url, "--samples", "2", "--json", "--no-os-roots"]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        codes(&report).contains(&"IL202".into()),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn the_instance_behind_inspection_is_the_outlier_and_html_is_self_contained() {
    let o = origin();
    let mitm = Mitmproxy::reverse(
        o.nginx.https_port,
        "Corp Gateway CA",
        "Example Corp",
        Some(&stall_addon()),
    )
    .expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let inspection_ca = path_str(&mitm.pki.ca_cert_pem);
    // Three "instances": the origin by name, by address, and the one behind inspection.
    let a = o.nginx.https_url("admin/login/");
    let b = a.replace("localhost", "127.0.0.1");
    let c = mitm.url("admin/login/");
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("report.html");
    let out = interloper(&[
        "check",
        &a,
        &b,
        &c,
        "--public-roots",
        public,
        "--cacert",
        inspection_ca,
        "--no-os-roots",
        "--samples",
        "8",
        "--concurrency",
        "6",
        "--json",
        "--html",
        path_str(&html),
    ]);
    let report = json(&out);
    let findings = report["findings"].as_array().expect("findings");
    let il401 = findings
        .iter()
        .find(|f| f["code"] == "IL401")
        .unwrap_or_else(|| panic!("no IL401 in {:?}", codes(&report)));
    assert_eq!(il401["target"], c.as_str(), "{il401:#}");
    assert_eq!(
        report["verdict"]["target"],
        c.as_str(),
        "{:#}",
        report["verdict"]
    );
    // Its siblings present a public chain: judged against theirs, its local-only chain with
    // another issuer is inspection, not a private PKI.
    assert_eq!(
        report["verdict"]["status"], "intercepted",
        "{:#}",
        report["verdict"]
    );
    assert_eq!(report["targets"].as_array().map(Vec::len), Some(3));
    let page = std::fs::read_to_string(&html).expect("html report written");
    assert!(
        page.contains("IL401") && page.contains("<svg"),
        "html lacks findings or charts"
    );
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "html loads something external"
    );
}

#[test]
fn pin_prints_the_spki_pins_of_a_bundle_and_of_a_server() {
    let o = origin();
    let out = interloper(&["pin", path_str(&o.nginx.pki.leaf_cert_pem)]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(text.matches("sha256//").count(), 2, "{text}");
    let first = text.split_whitespace().next().expect("pin").to_string();
    let out = interloper(&["pin", &o.nginx.https_url("")]);
    let served = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(served.starts_with(&first), "{served} vs {text}");
    // And that pin is what --expect-pin accepts.
    let out = interloper(&[
        "tls",
        &o.nginx.https_url(""),
        "--public-roots",
        path_str(&o.nginx.pki.ca_cert_pem),
        "--no-os-roots",
        "--expect-pin",
        &first,
        "--json",
    ]);
    assert_eq!(json(&out)["verdict"]["status"], "clean");
}

/// Not a test: prints the terminal report of a stalled, inspected path for a human to read
/// (`cargo test -p interloper --test check_e2e show_ -- --ignored --nocapture`).
#[test]
#[ignore]
fn show_terminal_report() {
    let o = origin();
    let mitm = Mitmproxy::reverse(
        o.nginx.https_port,
        "FortiGate CA",
        "Fortinet",
        Some(&stall_addon()),
    )
    .expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let inspection_ca = path_str(&mitm.pki.ca_cert_pem);
    let out = interloper(&[
        "check",
        &o.nginx.https_url("admin/login/"),
        &mitm.url("admin/login/"),
        "--public-roots",
        public,
        "--cacert",
        inspection_ca,
        "--no-os-roots",
        "--samples",
        "8",
        "--concurrency",
        "6",
    ]);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    println!("{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_reference_run_from_a_clean_path_exposes_the_minted_leaf() {
    let o = origin();
    let mitm = Mitmproxy::reverse(o.nginx.https_port, "Corp Gateway CA", "Example Corp", None)
        .expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let inspection_ca = path_str(&mitm.pki.ca_cert_pem);
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = dir.path().join("clean.json");
    // Inside the server's network: the direct path.
    let out = interloper(&[
        "tls",
        &o.nginx.https_url(""),
        "--public-roots",
        public,
        "--no-os-roots",
        "--json",
    ]);
    std::fs::write(&reference, &out.stdout).expect("write reference");
    // From the user's network: through the middlebox, with the clean run as the reference.
    let out = interloper(&[
        "tls",
        &mitm.url(""),
        "--public-roots",
        public,
        "--cacert",
        inspection_ca,
        "--no-os-roots",
        "--reference",
        path_str(&reference),
        "--json",
    ]);
    let tls = json(&out);
    let kinds: Vec<&str> = tls["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"issuer-differs"), "{kinds:?}");
    assert_eq!(tls["verdict"]["status"], "likely-intercepted", "{tls:#}");
    let out = interloper(&["tls", &mitm.url(""), "--reference", "/nonexistent.json"]);
    assert_eq!(out.status.code(), Some(2));
}
