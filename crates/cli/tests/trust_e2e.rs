//! What `check` and `tls` say about trust, as a user meets it on the real stack: Django's admin
//! behind real nginx with TLS, and mitmproxy in reverse mode in front of it with a CA named
//! like no product (an administrator-named inspection CA).
//!
//! - The machine lacks the inspection CA: the chain is not trusted, and that is what the
//!   diagnosis says (IL112, the issuer, a middlebox or the server), never a failed request.
//! - The machine trusts the inspection CA and its leaves look ordinary: a root absent from the
//!   public roots is what inspection looks like from inside, so the verdict is not clean — unless
//!   the user declared that root their own (`--private-root`).

mod common;
use common::{codes, interloper, json, origin};

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use interloper_testkit::{Mitmproxy, TestPki};
use serde_json::Value;

/// The inspection CA's name: an administrator-chosen one that no product rule matches.
const CA_CN: &str = "Corp Gateway CA";
const CA_ORG: &str = "Example Corp";

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `interloper ARGS…` on a machine whose only trusted root (besides the public ones given with
/// --public-roots) is `machine_root`: rustls-native-certs reads SSL_CERT_FILE in place of the
/// OS store, as an enterprise-installed root would be read.
fn interloper_trusting(machine_root: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("interloper")
        .expect("binary")
        .args(args)
        .env("NO_COLOR", "1")
        .env("SSL_CERT_FILE", machine_root)
        .env_remove("SSL_CERT_DIR")
        .timeout(Duration::from_secs(240))
        .output()
        .expect("run interloper")
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {:#}", report["findings"]))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Logs, for every request that reaches mitmproxy, its path and which credential headers came
/// with it: what the middlebox (and anything behind it) would have read.
const CREDENTIAL_SPY: &str = r#"
def request(flow):
    seen = [h for h in ("cookie", "authorization") if h in flow.request.headers]
    print("REQUEST-SEEN", flow.request.path, "CREDENTIALS:", ",".join(seen) or "none", flush=True)
"#;

#[test]
fn an_untrusted_inspection_chain_is_diagnosed_as_such_not_as_failed_requests() {
    let o = origin();
    let mitm = Mitmproxy::reverse(o.nginx.https_port, CA_CN, CA_ORG, Some(CREDENTIAL_SPY))
        .expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let url = mitm.url("admin/login/");
    // An unmanaged laptop: the public roots, and not the inspection CA.
    let out = interloper(&[
        "check",
        &url,
        "--public-roots",
        public,
        "--no-os-roots",
        "--samples",
        "2",
        "-H",
        "Cookie: sessionid=s3cret",
        "-H",
        "Authorization: Bearer t0ken",
        "--json",
    ]);
    let report = json(&out);
    let verdict = &report["verdict"];
    assert_eq!(verdict["root_cause"], "IL112", "{verdict:#}");
    assert_eq!(verdict["status"], "failing", "{verdict:#}");
    let summary = text(&verdict["summary"]);
    for words in [
        CA_CN,
        "neither a public CA nor the server's own",
        "intercepting middlebox",
    ] {
        assert!(summary.contains(words), "{words:?} not in {summary}");
    }
    let c = codes(&report);
    for wrong in ["IL201", "IL202", "IL206", "IL207", "IL208", "IL103"] {
        assert!(!c.contains(&wrong.to_string()), "{wrong} in {c:?}");
    }
    let il112 = finding(&report, "IL112");
    assert_eq!(il112["severity"], "error");
    let remedy = text(&il112["remedy"]);
    assert!(
        remedy.contains("inspection CA") && remedy.contains("full chain"),
        "{remedy}"
    );
    assert!(!remedy.contains("load balancer's"), "{remedy}");
    assert_eq!(out.status.code(), Some(1));
    // Nothing reached the middlebox: the handshake stopped at the certificate.
    assert!(!mitm.log().contains("REQUEST-SEEN"), "{}", mitm.log());

    // `tls` says the same: not trusted, and by whom that is most likely.
    let out = interloper(&[
        "tls",
        &url,
        "--public-roots",
        public,
        "--no-os-roots",
        "--json",
    ]);
    let tls = json(&out);
    assert_eq!(tls["verdict"]["status"], "untrusted", "{tls:#}");
    let said = text(&tls["verdict"]["summary"]);
    assert!(
        said.contains(CA_CN) && said.contains("intercepting middlebox"),
        "{said}"
    );
    assert_eq!(out.status.code(), Some(1));

    // With -k the check goes on over that chain, but no cookie or token goes with it.
    let seen_before = mitm.log().matches("REQUEST-SEEN").count();
    let out = interloper(&[
        "check",
        &url,
        "--public-roots",
        public,
        "--no-os-roots",
        "--samples",
        "1",
        "-k",
        "-H",
        "Cookie: sessionid=s3cret",
        "-H",
        "Authorization: Bearer t0ken",
        "--json",
    ]);
    let report = json(&out);
    assert_eq!(report["verdict"]["root_cause"], "IL112", "{report:#}");
    let log = mitm.log();
    assert!(
        log.matches("REQUEST-SEEN").count() > seen_before,
        "the check's requests reached mitmproxy: {log}"
    );
    assert!(!log.contains("CREDENTIALS: cookie"), "{log}");
    assert!(!log.contains("authorization"), "{log}");
}

#[test]
fn a_root_only_this_machine_trusts_is_never_a_bare_clean() {
    let o = origin();
    // Inspection whose leaves look ordinary: right names, 90 days, a key of their own.
    let mitm = Mitmproxy::reverse_with_ordinary_leaf(o.nginx.https_port, CA_CN, CA_ORG, None)
        .expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let machine_root = &mitm.pki.ca_cert_pem;
    let url = mitm.url("admin/login/");
    let check = |extra: &[&str]| {
        let mut args = vec!["check", &url, "--public-roots", public, "--samples", "2"];
        args.extend_from_slice(extra);
        args.push("--json");
        let out = interloper_trusting(machine_root, &args);
        (json(&out), out.status.code())
    };

    let (report, exit) = check(&[]);
    let verdict = &report["verdict"];
    assert_eq!(verdict["status"], "unverified", "{verdict:#}");
    assert_eq!(verdict["root_cause"], "IL102", "{verdict:#}");
    let summary = text(&verdict["summary"]);
    for words in [
        "trusted only by this machine",
        "your organisation's own PKI or TLS inspection",
        "`interloper echo`",
        "from a machine outside",
        "--private-root",
    ] {
        assert!(summary.contains(words), "{words:?} not in {summary}");
    }
    assert_eq!(finding(&report, "IL102")["severity"], "warning");
    assert_eq!(exit, Some(1));
    let out = interloper_trusting(
        machine_root,
        &["tls", &url, "--public-roots", public, "--json"],
    );
    let tls = json(&out);
    assert_eq!(tls["verdict"]["status"], "private-pki-unknown", "{tls:#}");
    assert!(
        text(&tls["verdict"]["summary"]).contains("trusted only by this machine"),
        "{tls:#}"
    );

    // The user knows that root as their organisation's own: clean.
    let declared = path_str(machine_root);
    let (report, exit) = check(&["--private-root", declared]);
    assert_eq!(report["verdict"]["status"], "clean", "{report:#}");
    assert!(!codes(&report).contains(&"IL102".to_string()));
    assert_eq!(exit, Some(0));
    let out = interloper_trusting(
        machine_root,
        &[
            "tls",
            &url,
            "--public-roots",
            public,
            "--private-root",
            declared,
            "--json",
        ],
    );
    let tls = json(&out);
    assert_eq!(tls["verdict"]["status"], "clean", "{tls:#}");
    assert_eq!(tls["verdict"]["rule"], "private-root", "{tls:#}");
    assert_eq!(tls["trust"]["status"], "anchored-private", "{tls:#}");
    assert_eq!(out.status.code(), Some(0));

    // Another root declared: the one this chain ends in is still unknown.
    let dir = tempfile::tempdir().expect("tempdir");
    let other = TestPki::generate(
        dir.path(),
        "Example Corp Internal Root",
        "Example Corp",
        &[],
    )
    .expect("another private CA");
    let (report, _) = check(&["--private-root", path_str(&other.ca_cert_pem)]);
    assert_eq!(report["verdict"]["status"], "unverified", "{report:#}");

    // A declared root that is not a file is the user's mistake.
    let out = interloper_trusting(
        machine_root,
        &["check", &url, "--private-root", "/nonexistent/root.pem"],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A box whose CA names a known product, on a machine without that CA: the product is named
/// (IL103 leads) and the refused chain is still IL112, never failed requests.
#[test]
fn an_untrusted_chain_from_a_known_product_names_it() {
    let o = origin();
    let mitm =
        Mitmproxy::reverse(o.nginx.https_port, "mitmproxy", "mitmproxy", None).expect("mitmproxy");
    let public = path_str(&o.nginx.pki.ca_cert_pem);
    let out = interloper(&[
        "check",
        &mitm.url("admin/login/"),
        "--public-roots",
        public,
        "--no-os-roots",
        "--samples",
        "1",
        "--json",
    ]);
    let report = json(&out);
    assert_eq!(report["verdict"]["root_cause"], "IL103", "{report:#}");
    assert_eq!(report["verdict"]["status"], "intercepted", "{report:#}");
    let il112 = finding(&report, "IL112");
    assert_eq!(il112["confidence"], "high", "{il112:#}");
    assert!(
        text(&il112["summary"]).contains("its issuer names mitmproxy"),
        "{il112:#}"
    );
    assert!(!codes(&report).contains(&"IL202".to_string()));
    assert_eq!(out.status.code(), Some(1));
}
