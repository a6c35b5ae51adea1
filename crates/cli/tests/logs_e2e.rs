//! `interloper logs` as a user runs it: on the access log of a real nginx load balancer with
//! four backends, one of which sits behind something that accepts connections and never
//! answers (a stuck inspection device), and on the other formats it reads.

mod common;
use common::{codes, interloper, json};

use std::io::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use interloper_testkit::{Nginx, NginxOptions, free_port, wait_for_lines};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Users' browsers: `count` requests to `url` that give up after a second.
fn browse(url: &str, count: u32) {
    let out = interloper(&[
        "probe",
        url,
        "--count",
        &count.to_string(),
        "--concurrency",
        "4",
        "--timeout",
        "1s",
        "--json",
    ]);
    assert!(
        !out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_backend_behind_a_stuck_device_is_named_from_a_real_nginx_log() {
    let site = tempfile::tempdir().expect("tempdir");
    write(
        &site.path().join("static/app.css"),
        &"body{color:red}\n".repeat(200),
    );
    write(
        &site.path().join("static/app.js"),
        &"console.log(1);\n".repeat(300),
    );
    // Accepts connections (the kernel completes the handshake) and never answers.
    let stuck = TcpListener::bind("127.0.0.1:0").expect("bind");
    let stuck_addr = format!("127.0.0.1:{}", stuck.local_addr().expect("addr").port());
    let healthy: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let root = site.path().display();
    let mut http = format!(
        "log_format lb '$remote_addr - $remote_user [$time_local] \"$request\" $status \
         $body_bytes_sent \"$http_referer\" \"$http_user_agent\" rt=$request_time \
         urt=\"$upstream_response_time\" ua=\"$upstream_addr\"';\n\
         upstream app {{ server {stuck_addr};"
    );
    for p in &healthy {
        http.push_str(&format!(" server 127.0.0.1:{p};"));
    }
    http.push_str(" }\n");
    for p in &healthy {
        http.push_str(&format!(
            "server {{ listen 127.0.0.1:{p}; root {root}; access_log off; }}\n"
        ));
    }
    let nginx = Nginx::start(NginxOptions {
        extra_http_conf: http,
        // No retry on another backend: the log must show which one failed.
        extra_server_conf: "location /static/ { proxy_pass http://app; \
             proxy_next_upstream off; proxy_read_timeout 3s; access_log lb.log lb; }"
            .into(),
        ..Default::default()
    })
    .expect("nginx");

    // Users' browsers: they give up after a second on the stuck backend's requests.
    for file in ["static/app.css", "static/app.js"] {
        browse(&nginx.http_url(file), 24);
    }
    // nginx writes a 499 line once it notices the client left.
    let log = nginx.dir.join("lb.log");
    wait_for_lines(&log, 48, Duration::from_secs(10));

    let out = interloper(&["logs", log.to_str().expect("path"), "--json"]);
    let report = json(&out);
    let why = serde_json::to_string_pretty(&report).unwrap_or_default();
    assert_eq!(out.status.code(), Some(1), "{why}");
    assert_eq!(report["schema"], "interloper.logs/v1");
    assert_eq!(report["grouped_by"], "backend", "{why}");
    assert_eq!(report["verdict"]["root_cause"], "IL504", "{why}");
    assert_eq!(report["verdict"]["target"], stuck_addr.as_str(), "{why}");
    assert_eq!(report["verdict"]["status"], "failing", "{why}");
    assert!(codes(&report).contains(&"IL501".to_string()), "{why}");
    let groups = report["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 4, "{why}");
    for g in groups {
        let bad: u64 = g["signs"]
            .as_array()
            .expect("signs")
            .iter()
            .map(|s| s[1].as_u64().unwrap_or(0))
            .sum();
        if g["name"] == stuck_addr.as_str() {
            assert!(bad >= 6, "the stuck backend's requests are all bad: {why}");
        } else {
            assert_eq!(bad, 0, "healthy backends are clean: {why}");
        }
    }

    // The terminal report says the same to a person.
    let out = interloper(&["logs", log.to_str().expect("path")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("FAILING"), "{text}");
    assert!(
        text.contains(&stuck_addr) && text.contains("IL504"),
        "{text}"
    );
    drop(stuck);
}

/// HAProxy `option httplog` lines (as in HAProxy's documentation, with a syslog prefix): the
/// server whose requests end `cD`/`sH` stands out; the others end `----`.
#[test]
fn haproxy_termination_states_name_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    for i in 0..120 {
        let srv = format!("srv{}", i % 4 + 1);
        let (timers, status, bytes, state) = if srv == "srv4" && i % 3 == 0 {
            ("10/0/1/-1/20001", "-1", "0", "CH--")
        } else if srv == "srv4" && i % 3 == 1 {
            ("10/0/1/-1/30001", "504", "194", "sH--")
        } else {
            ("0/0/0/2/3", "200", "2750", "----")
        };
        text.push_str(&format!(
            "Nov 24 07:{:02}:{:02} lb haproxy[14389]: 10.0.1.{}:{} [24/Nov/2026:07:{:02}:{:02}.655] \
             http-in static/{srv} {timers} {status} {bytes} - - {state} 1/1/1/1/0 0/0 \
             {{1wt.eu}} {{}} \"GET /static/css/site.css HTTP/1.1\"\n",
            i / 60,
            i % 60,
            i % 200,
            30000 + i,
            i / 60,
            i % 60
        ));
    }
    let path = dir.path().join("haproxy.log");
    write(&path, &text);
    let out = interloper(&["logs", path.to_str().expect("path"), "--json"]);
    let report = json(&out);
    let why = serde_json::to_string_pretty(&report).unwrap_or_default();
    assert_eq!(report["sources"][0]["format"], "haproxy", "{why}");
    assert_eq!(report["verdict"]["root_cause"], "IL504", "{why}");
    assert_eq!(report["verdict"]["target"], "static/srv4", "{why}");
    let c = codes(&report);
    assert!(
        c.contains(&"IL501".into()) && c.contains(&"IL505".into()),
        "{why}"
    );
}

/// An Avi (NSX ALB) export as the API returns it: a document with a `results` list; the
/// client-side aborts are read from `significant_log`.
#[test]
fn an_avi_export_document_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut results = Vec::new();
    for i in 0..60 {
        let server = format!("10.10.0.{}", i % 3 + 1);
        let bad = server.ends_with(".3") && i % 2 == 0;
        results.push(serde_json::json!({
            "uri_path": "/static/js/app.4f1c2a9b8e7d.js",
            "method": "GET",
            "response_code": 200,
            "response_length": if bad { 1200 } else { 48213 },
            "total_time": if bad { 18250 } else { 12 },
            "server_ip": server,
            "server_dest_port": 8443,
            "client_ip": "198.51.100.7",
            "significant_log": if bad { vec!["ADF_CLIENT_CONN_ABORTED"] } else { vec![] },
            "report_timestamp": format!("2026-11-24T07:{:02}:00.000000Z", i % 60),
        }));
    }
    let doc = serde_json::json!({ "count": results.len(), "results": results });
    let path = dir.path().join("avi.json");
    write(&path, &serde_json::to_string_pretty(&doc).expect("json"));
    let out = interloper(&["logs", path.to_str().expect("path"), "--json"]);
    let report = json(&out);
    let why = serde_json::to_string_pretty(&report).unwrap_or_default();
    assert_eq!(report["verdict"]["target"], "10.10.0.3:8443", "{why}");
    assert!(codes(&report).contains(&"IL501".into()), "{why}");
}

#[test]
fn gzip_and_apache_microseconds_are_read_and_a_clean_log_is_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    for i in 0..50 {
        // Apache vhost_combined with %D (microseconds) appended.
        text.push_str(&format!(
            "www.example.com:443 192.0.2.{} - - [24/Nov/2026:07:00:{:02} +0100] \"GET /static/img/logo.png HTTP/2.0\" 200 3100 \"-\" \"curl/8\" {}\n",
            i,
            i % 60,
            900 + i
        ));
    }
    // Rotated by logrotate with `compress` and no extension change: recognised by its bytes.
    let path = dir.path().join("access.log.1");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).expect("create"),
        flate2::Compression::fast(),
    );
    gz.write_all(text.as_bytes()).expect("gzip");
    gz.finish().expect("gzip");
    let out = interloper(&["logs", path.to_str().expect("path"), "--json"]);
    let report = json(&out);
    let why = serde_json::to_string_pretty(&report).unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{why}");
    assert_eq!(report["verdict"]["status"], "clean", "{why}");
    assert_eq!(report["sources"][0]["static_requests"], 50, "{why}");
    assert_eq!(report["groups"][0]["name"], "all", "{why}");
    // 0.9–0.95 ms: read as microseconds, not seconds.
    let p50 = report["groups"][0]["duration"]["p50"]
        .as_f64()
        .expect("p50");
    assert!(p50 < 2.0, "{why}");
    // And a `.gz` name on a file someone already unpacked is read as the text it is.
    let unpacked = dir.path().join("access.log.2.gz");
    write(&unpacked, &text);
    let page = dir.path().join("logs.html");
    let out = interloper(&[
        "logs",
        unpacked.to_str().expect("path"),
        "--json",
        "--html",
        page.to_str().expect("path"),
    ]);
    let report = json(&out);
    assert_eq!(report["sources"][0]["static_requests"], 50, "{report}");
    let html = std::fs::read_to_string(&page).expect("--html wrote the page");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("interloper.logs/v1"));
    assert!(html.contains("status-clean"), "{html}");
}

#[test]
fn what_is_not_a_log_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.txt");
    write(&path, "dear diary\nnothing to see\n");
    let out = interloper(&["logs", path.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not an access log"), "{err}");
    let out = interloper(&["logs", "/nonexistent/access.log"]);
    assert_eq!(out.status.code(), Some(2));
    // Random bytes: an error or a report, never a panic.
    let junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("junk.log"), junk).expect("write");
    let out = interloper(&["logs", dir.path().join("junk.log").to_str().expect("path")]);
    assert!(matches!(out.status.code(), Some(0..=2)), "{out:?}");
}

/// Real HAProxy (Debian) in front of three healthy servers (real nginx) and one that accepts
/// and never answers: its own httplog lines, read back, name the stuck server.
#[test]
fn a_real_haproxy_log_names_the_stuck_server() {
    let nginx = Nginx::start(NginxOptions::default()).expect("nginx");
    let stuck = TcpListener::bind("127.0.0.1:0").expect("bind");
    let stuck_port = stuck.local_addr().expect("addr").port();
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("haproxy.cfg");
    // `option dontlognull`, as production configurations have it: the harness's readiness
    // probe (a connection that sends nothing) would otherwise be logged as a `<BADREQ>` line,
    // and waiting for 40 lines could then stop one request line short — leaving the stuck
    // server below the minimum group size, so the outlier (IL504) went unseen now and then.
    write(
        &cfg,
        &format!(
            "global\n  log stdout format raw local0\n\
             defaults\n  mode http\n  log global\n  option httplog\n  option dontlognull\n  \
             timeout connect 1s\n  \
             timeout client 10s\n  timeout server 3s\n\
             frontend web\n  bind 127.0.0.1:{port}\n  default_backend static\n\
             backend static\n  balance roundrobin\n  server srv1 127.0.0.1:{n}\n  \
             server srv2 127.0.0.1:{n}\n  server srv3 127.0.0.1:{n}\n  \
             server srv4 127.0.0.1:{stuck_port}\n",
            n = nginx.http_port
        ),
    );
    let mut haproxy = common::haproxy(&cfg, port);
    let log = haproxy.stdout_path();
    browse(&format!("http://127.0.0.1:{port}/small.txt"), 40);
    wait_for_lines(&log, 40, Duration::from_secs(10));
    haproxy.stop();

    let out = interloper(&["logs", log.to_str().expect("path"), "--json"]);
    let report = json(&out);
    let why = format!(
        "{}\nlog:\n{}",
        serde_json::to_string_pretty(&report).unwrap_or_default(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(report["sources"][0]["format"], "haproxy", "{why}");
    assert_eq!(report["verdict"]["root_cause"], "IL504", "{why}");
    assert_eq!(report["verdict"]["target"], "static/srv4", "{why}");
    // Without `option abortonclose`, HAProxy keeps waiting for the server after the client
    // left and logs the server time-out (`sH--`, 504): the backend-side sign.
    assert!(codes(&report).contains(&"IL505".to_string()), "{why}");
    drop(stuck);
}

#[test]
fn zstd_frames_and_a_time_window_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two hours, a line a minute per backend; backend 4 has its client aborts in the first
    // hour only (07:00–07:59 UTC; the log is written at +0100).
    let mut halves = [String::new(), String::new()];
    for minute in 0..120u32 {
        for backend in 1..=4 {
            let status = if backend == 4 && minute < 60 {
                499
            } else {
                200
            };
            let rt = if status == 499 { "9.000" } else { "0.004" };
            halves[(minute / 60) as usize].push_str(&format!(
                "192.0.2.7 - - [24/Nov/2026:{:02}:{:02}:30 +0100] \"GET /static/app.js HTTP/1.1\" {status} 1200 \"-\" \"UA\" {rt} {rt} 10.0.0.{backend}:8000\n",
                8 + minute / 60,
                minute % 60
            ));
        }
    }
    // Two zstd frames one after the other, as `cat a.zst b.zst` makes; no telling name.
    let path = dir.path().join("access.log.1");
    let mut bytes = zstd::encode_all(halves[0].as_bytes(), 3).expect("zstd");
    bytes.extend(zstd::encode_all(halves[1].as_bytes(), 3).expect("zstd"));
    assert_eq!(bytes[..4], [0x28, 0xb5, 0x2f, 0xfd]);
    std::fs::write(&path, bytes).expect("write");
    let file = path.to_str().expect("path");

    let whole = json(&interloper(&["logs", file, "--json"]));
    let why = serde_json::to_string_pretty(&whole).unwrap_or_default();
    assert_eq!(whole["sources"][0]["parsed"], 480, "{why}");
    assert_eq!(whole["sources"][0]["outside_window"], 0, "{why}");
    assert!(codes(&whole).contains(&"IL501".into()), "{why}");

    // The second hour: backend 4 is as clean as its siblings there.
    let out = interloper(&[
        "logs",
        file,
        "--json",
        "--since",
        "2026-11-24T08:00:00Z",
        "--until",
        "2026-11-24T09:00:00+01:00",
    ]);
    let late = json(&out);
    let why = serde_json::to_string_pretty(&late).unwrap_or_default();
    let source = &late["sources"][0];
    assert_eq!(source["parsed"], 0, "{why}");
    let out = interloper(&[
        "logs",
        file,
        "--json",
        "--since",
        "2026-11-24T08:00:00Z",
        "--until",
        "2026-11-24T10:00:00+01:00",
    ]);
    let late = json(&out);
    let why = serde_json::to_string_pretty(&late).unwrap_or_default();
    let source = &late["sources"][0];
    assert_eq!(source["parsed"], 240, "{why}");
    assert_eq!(source["outside_window"], 240, "{why}");
    assert_eq!(source["first_time"], 1_795_507_230_i64, "{why}");
    assert_eq!(late["verdict"]["status"], "clean", "{why}");
    assert_eq!(out.status.code(), Some(0), "{why}");

    // A relative window on last year's log keeps nothing, and says so without an error.
    let out = interloper(&["logs", file, "--since", "2h"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("480 outside --since/--until"), "{text}");

    // A bound that is neither form is refused with one line naming both forms.
    let out = interloper(&["logs", file, "--since", "yesterday"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("RFC 3339") && err.contains("1h30m"), "{err}");
}
