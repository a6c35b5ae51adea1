//! Split horizon as operators meet it: a name only one DNS server knows (real dnsmasq on
//! loopback, a non-53 port) pointing at real nginx. `check --dns-server` and a serve module with
//! `dns_server` reach the site through that server, which logs their queries (from the
//! module's `source_address`) and whose answer time is the DNS phase; a module without it
//! fails in the DNS phase, saying so.

mod common;

use common::{http_get, interloper, json, serve};
use interloper_testkit::{Dnsmasq, Nginx, NginxOptions, TestPki};
use serde_json::Value;

/// The name only the private DNS server knows.
const SPLIT_NAME: &str = "app.split.test";

/// nginx serving a small page with one stylesheet, under a certificate for `SPLIT_NAME`; and
/// the page's URL under that name.
fn split_site(dir: &std::path::Path) -> (Nginx, String) {
    let pki = TestPki::generate(&dir.join("pki"), "Split CA", "Split Horizon", &[SPLIT_NAME])
        .expect("test PKI");
    let static_root = dir.join("static");
    std::fs::create_dir_all(&static_root).unwrap();
    std::fs::write(static_root.join("app.css"), "body { color: #123; }\n").unwrap();
    let page = "<!doctype html><html><head><title>split</title>\
                <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body>split</body></html>";
    let nginx = Nginx::start(NginxOptions {
        static_root: Some(static_root),
        extra_server_conf: format!(
            "location = / {{ default_type text/html; return 200 '{page}'; }}"
        ),
        pki: Some(pki),
        ..NginxOptions::default()
    })
    .expect("nginx");
    let url = format!("https://{SPLIT_NAME}:{}/", nginx.https_port);
    (nginx, url)
}

/// Every request record of a check report.
fn requests(report: &Value) -> Vec<&Value> {
    report["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["assets"].as_array().into_iter().flatten())
        .flat_map(|a| a["requests"].as_array().into_iter().flatten())
        .collect()
}

/// The system's resolver must not know the name, or the negative half proves nothing.
fn assert_system_does_not_know(name: &str) {
    let known = std::net::ToSocketAddrs::to_socket_addrs(&(name, 443))
        .is_ok_and(|mut a| a.next().is_some());
    assert!(
        !known,
        "the system resolver knows {name}: pick another name"
    );
}

#[test]
fn check_resolves_a_split_horizon_name_at_the_given_dns_server() {
    assert_system_does_not_know(SPLIT_NAME);
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, url) = split_site(dir.path());
    let dns = Dnsmasq::start(&[(SPLIT_NAME, "127.0.0.1".parse().unwrap())]).expect("dnsmasq");
    let cacert = nginx_ca(dir.path());
    let server = dns.addr().to_string();
    let base = [
        "check",
        &url,
        "--json",
        "--no-os-roots",
        "--cacert",
        &cacert,
        "--samples",
        "3",
        "--budget",
        "30s",
        "--no-proxy",
    ];

    let with = interloper(&[&base[..], &["--dns-server", &server]].concat());
    let report = json(&with);
    let text = report.to_string();
    assert!(!text.contains("resolving app.split.test"), "{text}");
    let records = requests(&report);
    assert!(!records.is_empty(), "no request recorded: {text}");
    for r in &records {
        assert!(r["error"].is_null(), "{r}");
        assert!(
            r["remote_addr"]
                .as_str()
                .unwrap_or("")
                .starts_with("127.0.0.1:"),
            "{r}"
        );
    }
    // Fresh connections looked the name up at dnsmasq, and timed it.
    assert!(
        records
            .iter()
            .any(|r| r["phases"]["dns_ms"].as_f64().is_some()),
        "no DNS phase timed: {text}"
    );
    let queries = dns.queries();
    assert!(
        queries.iter().any(|q| q.contains(SPLIT_NAME)),
        "dnsmasq was not asked: {queries:?}"
    );

    // `probe` times the same lookup and says which server it asked.
    let css = format!("{url}static/app.css");
    let probed = json(&interloper(&[
        "probe",
        &css,
        "--json",
        "--no-os-roots",
        "--cacert",
        &cacert,
        "--no-proxy",
        "--dns-server",
        &server,
        "--count",
        "2",
    ]));
    assert_eq!(probed["settings"]["dns_server"], server.as_str());
    for r in probed["targets"][0]["records"].as_array().expect("records") {
        assert_eq!(r["status"], 200, "{r}");
        assert!(r["phases"]["dns_ms"].as_f64().is_some(), "{r}");
    }

    // The system's resolver does not know the name: the page fails in the DNS phase.
    let without = interloper(&base);
    assert_ne!(without.status.code(), Some(0));
    let text = String::from_utf8_lossy(&without.stdout).to_string()
        + &String::from_utf8_lossy(&without.stderr);
    assert!(text.contains("resolving app.split.test"), "{text}");
}

/// The PEM file of the CA the site's leaf chains to.
fn nginx_ca(dir: &std::path::Path) -> String {
    dir.join("pki/ca.pem").display().to_string()
}

#[test]
fn a_serve_module_with_dns_server_reaches_the_name_and_one_without_fails_in_dns() {
    assert_system_does_not_know(SPLIT_NAME);
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, url) = split_site(dir.path());
    let dns = Dnsmasq::start(&[(SPLIT_NAME, "127.0.0.1".parse().unwrap())]).expect("dnsmasq");
    let cacert = nginx_ca(dir.path());
    let config = dir.path().join("interloper.toml");
    let module = |name: &str, dns_line: &str| {
        format!(
            "[module.{name}]\nsamples = 2\nbudget = \"20s\"\n{dns_line}\
             [module.{name}.trust]\nno_os_roots = true\ncacert = [{cacert:?}]\n"
        )
    };
    std::fs::write(
        &config,
        // From a source address of its own, as a module comparing uplinks: its DNS queries
        // leave from there too.
        module(
            "split",
            &format!(
                "dns_server = \"{}\"\nsource_address = \"127.0.0.2\"\n",
                dns.addr()
            ),
        ) + &module("system", ""),
    )
    .unwrap();
    let (_serve, port) = serve(&config);
    let scrape = |module: &str, debug: bool| {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("target", &url)
            .append_pair("module", module)
            .append_pair("debug", if debug { "true" } else { "false" })
            .finish();
        http_get(port, &format!("/probe?{q}"))
    };

    let (status, metrics) = scrape("split", false);
    assert_eq!(status, 200, "{metrics}");
    let resolve = metrics
        .lines()
        .find(|l| l.starts_with("probe_http_duration_seconds{") && l.contains("phase=\"resolve\""))
        .unwrap_or_else(|| panic!("no resolve phase: {metrics}"));
    let seconds: f64 = resolve.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(seconds > 0.0, "{resolve}");
    let (_, body) = scrape("split", true);
    let report: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let records = requests(&report);
    assert!(!records.is_empty(), "{body}");
    assert!(records.iter().all(|r| r["error"].is_null()), "{body}");
    let queries = dns.queries();
    assert!(
        queries
            .iter()
            .any(|q| q.contains(SPLIT_NAME) && q.ends_with("from 127.0.0.2")),
        "{queries:?}"
    );

    let (status, metrics) = scrape("system", false);
    assert_eq!(status, 200, "{metrics}");
    assert!(metrics.contains("probe_success 0"), "{metrics}");
    let (_, body) = scrape("system", true);
    assert!(body.contains("resolving app.split.test"), "{body}");
}
