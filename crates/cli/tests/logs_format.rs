//! `interloper logs --format` as a user runs it: a real nginx and a real HAProxy configured
//! with their own log formats, real requests through them, and the log read back with the same
//! format string given on the command line.

mod common;
use common::{interloper, json};

use std::net::TcpListener;
use std::time::Duration;

use interloper_testkit::{Nginx, NginxOptions, free_port, wait_for_lines};

/// Requests to `url`: `count` of them, four at a time, each given `timeout`.
fn browse(url: &str, count: u32, timeout: &str, insecure: bool) {
    let count = count.to_string();
    let mut args = vec![
        "probe",
        url,
        "--count",
        &count,
        "--concurrency",
        "4",
        "--timeout",
        timeout,
        "--json",
    ];
    if insecure {
        args.push("-k");
    }
    let out = interloper(&args);
    assert!(
        !out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn group<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group {name}: {report:#}"))
}

/// Not combined: fields in another order, separated by `|`, with the upstream lists and TLS.
const NGINX_FORMAT: &str = "$time_iso8601|$remote_addr|$status|$body_bytes_sent|$request_time|\
$request_method $request_uri|$upstream_addr|$upstream_status|$upstream_connect_time|\
$upstream_header_time|$upstream_response_time|$ssl_protocol|$ssl_cipher|$http_user_agent";

#[test]
fn a_real_nginx_log_in_its_own_format_is_read_with_that_format() {
    let site = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(site.path().join("static")).expect("mkdir");
    std::fs::write(site.path().join("static/app.css"), "b{}\n".repeat(500)).expect("write");
    // Nothing listens there: nginx's try fails and it moves on to the next server
    // (`max_fails=0`: it keeps trying it, round robin, instead of resting it for 10 s).
    let refused = free_port();
    let healthy = free_port();
    let root = site.path().display();
    let nginx = Nginx::start(NginxOptions {
        extra_http_conf: format!(
            "log_format mine '{NGINX_FORMAT}';\n\
             upstream app {{ server 127.0.0.1:{refused} max_fails=0; server 127.0.0.1:{healthy}; }}\n\
             server {{ listen 127.0.0.1:{healthy}; root {root}; access_log off; }}\n"
        ),
        extra_server_conf: "location /static/ { proxy_pass http://app; access_log mine.log mine; }"
            .into(),
        ..Default::default()
    })
    .expect("nginx");
    browse(&nginx.http_url("static/app.css"), 20, "5s", false);
    browse(&nginx.https_url("static/app.css"), 20, "5s", true);
    let log = nginx.dir.join("mine.log");
    wait_for_lines(&log, 40, Duration::from_secs(15));
    let text = std::fs::read_to_string(&log).expect("log");

    let format = format!("nginx:{NGINX_FORMAT}");
    let out = interloper(&[
        "logs",
        log.to_str().expect("path"),
        "--format",
        &format,
        "--json",
    ]);
    let report = json(&out);
    let why = format!("{report:#}\nlog:\n{text}");
    let source = &report["sources"][0];
    assert_eq!(source["format"], "nginx log_format", "{why}");
    assert_eq!(source["unparsed"], 0, "{why}");
    assert_eq!(source["parsed"], source["lines"], "{why}");
    assert!(source["lines"].as_u64() >= Some(40), "{why}");
    assert!(source["first_time"].as_i64().is_some(), "{why}");
    // Every request was answered by the healthy server; the refused one failed its tries.
    let good = group(&report, &format!("127.0.0.1:{healthy}"));
    assert_eq!(good["static_requests"], source["lines"], "{why}");
    assert_eq!(good["failed_tries"], 0, "{why}");
    assert!(good["header"]["count"].as_u64() >= Some(40), "{why}");
    let bad = group(&report, &format!("127.0.0.1:{refused}"));
    assert_eq!(bad["static_requests"], 0, "{why}");
    assert!(bad["failed_tries"].as_u64() >= Some(10), "{why}");
    assert_eq!(bad["tries"], bad["failed_tries"], "{why}");
    // …and is named for it, though every request was answered (IL506).
    let il506 = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "IL506")
        .unwrap_or_else(|| panic!("IL506 in {why}"));
    assert_eq!(
        il506["target"],
        format!("127.0.0.1:{refused}").as_str(),
        "{why}"
    );
    // The HTTPS half carried its TLS version and cipher.
    let tls = good["tls_protocols"].as_array().expect("tls");
    let https: u64 = tls.iter().map(|t| t[1].as_u64().unwrap_or(0)).sum();
    assert_eq!(https, 20, "{why}");
    assert!(
        tls.iter()
            .all(|t| t[0].as_str().is_some_and(|v| v.starts_with("TLSv1."))),
        "{why}"
    );
    assert!(
        !good["tls_ciphers"].as_array().expect("ciphers").is_empty(),
        "{why}"
    );

    // The terminal report shows the tries and TLS tables; the HTML page too, and when the
    // requests happened.
    let page = nginx.dir.join("report.html");
    let page_arg = page.to_str().expect("path");
    let out = interloper(&[
        "logs",
        log.to_str().expect("path"),
        "--format",
        &format,
        "--html",
        page_arg,
    ]);
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(
        terminal.contains("Upstream tries per backend") && terminal.contains("Client TLS"),
        "{terminal}"
    );
    let html = std::fs::read_to_string(&page).expect("--html wrote the page");
    for part in [
        "Upstream tries per backend",
        "Client TLS per backend",
        "When the bad requests happened",
        "<svg class=\"chart logtimeline\"",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
}

#[test]
fn a_malformed_format_is_one_clear_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("a.log");
    std::fs::write(&log, "x\n").expect("write");
    for (format, says) in [
        ("nginx:$remote_addr $", "not followed by a variable name"),
        ("haproxy:%ci %{+Q r", "not closed"),
        ("nginx:$remote_addr $status", "no request"),
        ("apache:%h", "expected combined, haproxy, json"),
    ] {
        let out = interloper(&["logs", log.to_str().expect("path"), "--format", format]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{format}: {err}");
        assert!(err.contains(says), "{format}: {err}");
        assert!(
            err.lines().next().is_some_and(|l| l.contains(says)),
            "{format}: {err}"
        );
    }
}

/// The order of fields is not HAProxy's httplog: only the format string says how to read it.
const HAPROXY_FORMAT: &str = "%ST %B %Ta %b/%s %tsc %{+Q}r %ci:%cp [%tr] %TR/%Tw/%Tc/%Tr";

#[test]
fn a_real_haproxy_log_in_its_own_format_names_the_stuck_server() {
    let nginx = Nginx::start(NginxOptions::default()).expect("nginx");
    // Accepts connections and never answers.
    let stuck = TcpListener::bind("127.0.0.1:0").expect("bind");
    let stuck_port = stuck.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let cfg = dir.path().join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n  log stdout format raw local0\n\
             defaults\n  mode http\n  log global\n  log-format \"{HAPROXY_FORMAT}\"\n  \
             timeout connect 1s\n  timeout client 10s\n  timeout server 1s\n\
             frontend web\n  bind 127.0.0.1:{port}\n  default_backend static\n\
             backend static\n  balance roundrobin\n  server srv1 127.0.0.1:{n}\n  \
             server srv2 127.0.0.1:{n}\n  server srv3 127.0.0.1:{stuck_port}\n",
            n = nginx.http_port
        ),
    )
    .expect("config");
    let mut haproxy = common::haproxy(&cfg, port);
    let log = haproxy.stdout_path();
    // The client waits longer than HAProxy waits for the server: HAProxy logs a 504.
    browse(
        &format!("http://127.0.0.1:{port}/small.txt"),
        45,
        "5s",
        false,
    );
    wait_for_lines(&log, 45, Duration::from_secs(15));
    haproxy.stop();
    drop(stuck);
    let text = std::fs::read_to_string(&log).unwrap_or_default();

    let format = format!("haproxy:{HAPROXY_FORMAT}");
    let out = interloper(&[
        "logs",
        log.to_str().expect("path"),
        "--format",
        &format,
        "--json",
    ]);
    let report = json(&out);
    let why = format!("{report:#}\nlog:\n{text}");
    let source = &report["sources"][0];
    assert_eq!(source["format"], "haproxy log-format", "{why}");
    assert_eq!(source["unparsed"], 0, "{why}");
    assert!(source["parsed"].as_u64() >= Some(45), "{why}");
    let stuck = group(&report, "static/srv3");
    let timeouts = stuck["signs"]
        .as_array()
        .expect("signs")
        .iter()
        .find(|s| s[0] == "server-timeout")
        .and_then(|s| s[1].as_u64());
    assert!(timeouts >= Some(10), "{why}");
    assert_eq!(
        group(&report, "static/srv1")["signs"],
        serde_json::json!([]),
        "{why}"
    );
    assert_eq!(report["verdict"]["target"], "static/srv3", "{why}");
}
