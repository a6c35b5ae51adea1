//! A module at a corporate vantage point: the checks go through Squid (Debian squid-openssl,
//! ssl-bump, basic authentication checked by `basic_ncsa_auth`, a password holding `+ & % @ :`)
//! in front of real nginx, and the exporter's series name the inspection; a twin module whose
//! `no_proxy` names the origin reaches it directly and sees a clean path.

mod common;

use std::time::Duration;

use common::{get, probe_path, start, value};
use interloper_testkit::{Nginx, NginxOptions, Squid, TestPki};

const USER: &str = "alice";
/// `+` (a space to a form decoder), `&` (a field separator to it), `%`, `@` and `:` (the URL's
/// own delimiters).
const PASSWORD: &str = "p+a&s%s@w:rd";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_through_squid_names_the_inspection_and_no_proxy_goes_around_it() {
    // An origin whose certificate is a month old, as most sites' are: Squid copies the dates
    // of the certificate it imitates, so its minted leaf does not look new either.
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate_issued_ago(
        dir.path(),
        "interloper test CA",
        "interloper tests",
        &[],
        Duration::from_secs(30 * 24 * 3600),
    )
    .unwrap();
    let page = "location = /page.html { default_type text/html; return 200 \
         '<!doctype html><title>app</title><link rel=\"stylesheet\" href=\"/app.css\">'; }\n\
         location = /app.css { default_type text/css; return 200 'body { margin: 0 }'; }\n";
    let origin = Nginx::start(NginxOptions {
        pki: Some(pki),
        extra_server_conf: page.to_string(),
        ..Default::default()
    })
    .unwrap();
    let squid = Squid::builder()
        .upstream_ca(&origin.pki.ca_cert_pem)
        .basic_auth(USER, PASSWORD)
        .start()
        .unwrap();
    let proxy_url = squid.proxy_url();
    assert!(proxy_url.contains("p%2Ba%26s%25s%40w%3Ard"), "{proxy_url}");
    // The machine trusts Squid's CA (a managed laptop); the origin's CA plays a public root.
    let module = |name: &str, extra: &str| {
        format!(
            "[module.{name}]\nsamples = 2\nbudget = \"20s\"\nhello_shapes = []\n\
             proxy_url = {proxy_url:?}\n{extra}\
             headers = {{ User-Agent = \"corp-vantage/1\" }}\n\
             [module.{name}.trust]\nno_os_roots = true\npublic_roots = {:?}\ncacert = [{:?}]\n",
            origin.pki.ca_cert_pem.display().to_string(),
            squid.pki.ca_cert_pem.display().to_string(),
        )
    };
    let config = format!(
        "{}{}",
        module("corp", ""),
        module("direct", "no_proxy = [\"localhost\"]\n")
    );
    let addr = start(&config).await;
    let target = origin.https_url("page.html");

    let (status, body) = get(addr, &probe_path(&target, "corp"), Some("30")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        value(&body, "interloper_tls_path{status=\"likely-intercepted\"}"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "interloper_verdict{status=\"intercepted\"}"),
        Some(1.0),
        "{body}"
    );
    // Squid checked the password and logged each tunnel under the user.
    let log = squid.access_log();
    let connect = format!("CONNECT localhost:{} {USER} ", origin.https_port);
    let tunnels = log.lines().filter(|l| l.contains(&connect)).count();
    assert!(tunnels >= 1, "{log}");
    assert!(!body.contains("w:rd") && !body.contains("p%2Ba"), "{body}");

    let (status, body) = get(addr, &probe_path(&target, "direct"), Some("30")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        value(&body, "interloper_tls_path{status=\"clean\"}"),
        Some(1.0),
        "{body}"
    );
    let log = squid.access_log();
    assert_eq!(
        log.lines().filter(|l| l.contains(&connect)).count(),
        tunnels,
        "no_proxy went through Squid: {log}"
    );
    // The origin's leaf as issued: a month old, valid 90 days.
    assert_eq!(
        value(&body, "interloper_cert_lifetime_seconds"),
        Some(90.0 * 86_400.0),
        "{body}"
    );
    let issued = value(&body, "interloper_cert_not_before_seconds").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - issued - 30.0 * 86_400.0).abs() < 3600.0, "{body}");
    // Latency buckets of this scrape's requests: cumulative, the last one every request.
    let bucket = |le: &str| {
        value(
            &body,
            &format!("interloper_request_duration_seconds_bucket{{phase=\"total\",le=\"{le}\"}}"),
        )
        .unwrap_or_else(|| panic!("no bucket {le}: {body}"))
    };
    let requests = value(
        &body,
        "interloper_request_duration_seconds_gcount{phase=\"total\"}",
    );
    assert!(requests.unwrap_or(0.0) > 0.0, "{body}");
    assert_eq!(Some(bucket("+Inf")), requests, "{body}");
    assert!(
        bucket("0.005") <= bucket("0.1") && bucket("0.1") <= bucket("10"),
        "{body}"
    );
}
