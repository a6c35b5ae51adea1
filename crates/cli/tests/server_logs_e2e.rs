//! The servers' log lines as operators read them: `interloper serve` and `interloper echo` run
//! as subprocesses with `--log.format=json`, reloaded by SIGHUP (a good reload, then a bad
//! one), a refused connection; every stderr line must parse as one JSON object with `ts`,
//! `level` and `msg`, and the failures carry their `err` / `reason`. `-q` keeps only warnings
//! and errors; `-v` adds the per-probe and per-connection debug lines.

mod common;

use std::io::Write as _;
use std::path::Path;

use common::{LISTEN_WITHIN, http_get, spawn_interloper};
use interloper_testkit::{Spawned, TestPki, free_port};
use serde_json::Value;

/// A configuration with one module that needs no network to load.
const GOOD_CONFIG: &str = "[module.web]\nsamples = 1\n";
/// A configuration that does not load (a module setting of the wrong type).
const BAD_CONFIG: &str = "[module.web]\nsamples = \"many\"\n";

/// Every stderr line as JSON, each with a `ts` (RFC 3339, UTC), a `level` and a `msg`.
fn json_lines(process: &Spawned) -> Vec<Value> {
    let stderr = process.stderr();
    stderr
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{stderr}"));
            let ts = v["ts"].as_str().unwrap_or_else(|| panic!("no ts: {line}"));
            assert!(
                ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
                "{line}"
            );
            assert!(
                matches!(
                    v["level"].as_str(),
                    Some("error" | "warn" | "info" | "debug" | "trace")
                ),
                "{line}"
            );
            assert!(v["msg"].as_str().is_some_and(|m| !m.is_empty()), "{line}");
            v
        })
        .collect()
}

fn find<'a>(lines: &'a [Value], msg: &str) -> &'a Value {
    lines
        .iter()
        .find(|v| v["msg"] == msg)
        .unwrap_or_else(|| panic!("no line {msg:?} in {lines:#?}"))
}

/// `interloper serve --config CONFIG` with `extra` flags, once it listens; and its port.
fn serve_with(config: &Path, extra: &[&str]) -> (Spawned, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let config = config.to_str().unwrap();
    let mut args = vec!["serve", "--config", config, "--listen", &listen];
    args.extend_from_slice(extra);
    let mut serve = spawn_interloper(&args);
    serve
        .wait_for_ports(&[port], LISTEN_WITHIN)
        .expect("interloper serve listens");
    (serve, port)
}

#[test]
fn serve_logs_json_lines_and_a_bad_reload_carries_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("interloper.toml");
    std::fs::write(&config, GOOD_CONFIG).unwrap();
    let (mut serve, port) = serve_with(&config, &["--log.format=json"]);

    serve.signal("HUP").expect("SIGHUP");
    serve
        .wait_for_line("configuration reloaded", LISTEN_WITHIN)
        .expect("reloaded");
    std::fs::write(&config, BAD_CONFIG).unwrap();
    serve.signal("HUP").expect("SIGHUP");
    serve
        .wait_for_line("configuration reload failed", LISTEN_WITHIN)
        .expect("refused");

    let lines = json_lines(&serve);
    let started = find(&lines, "interloper serve listening");
    assert_eq!(started["level"], "info");
    assert_eq!(started["address"], format!("127.0.0.1:{port}"));
    assert_eq!(started["modules"], "web");
    let reloaded = find(&lines, "configuration reloaded");
    assert_eq!(reloaded["level"], "info");
    assert_eq!(reloaded["file"], config.display().to_string());
    let failed = find(&lines, "configuration reload failed");
    assert_eq!(failed["level"], "error");
    let err = failed["err"].as_str().unwrap_or_default();
    assert!(
        err.contains("keeping the running configuration") && err.contains("\"many\""),
        "{failed}"
    );
    // No per-probe debug lines without -v.
    assert!(lines.iter().all(|v| v["level"] != "debug"), "{lines:#?}");
    assert!(serve.exit_status().is_none(), "{}", serve.stderr());
}

#[test]
fn serve_quiet_prints_nothing_on_a_clean_start_and_verbose_adds_probe_lines() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("interloper.toml");
    std::fs::write(&config, GOOD_CONFIG).unwrap();

    let (mut quiet, port) = serve_with(&config, &["-q"]);
    // A clean start and a scrape say nothing under -q; the bad reload that follows is an
    // error, and the only line.
    let (status, _) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    std::fs::write(&config, BAD_CONFIG).unwrap();
    quiet.signal("HUP").expect("SIGHUP");
    let line = quiet
        .wait_for_line("configuration reload failed", LISTEN_WITHIN)
        .expect("the error is kept under -q");
    assert!(
        line.starts_with("ts=") && line.contains(" level=error "),
        "{line}"
    );
    assert_eq!(quiet.stderr().lines().count(), 1, "{}", quiet.stderr());

    std::fs::write(&config, GOOD_CONFIG).unwrap();
    let (mut verbose, port) = serve_with(&config, &["-v", "--log.format=json"]);
    let (status, _) = http_get(port, "/probe?module=nope&target=https://127.0.0.1:1/");
    assert_eq!(status, 400);
    verbose
        .wait_for_line("probe refused", LISTEN_WITHIN)
        .expect("a debug line per probe");
    let lines = json_lines(&verbose);
    let refused = find(&lines, "probe refused");
    assert_eq!(refused["level"], "debug");
    assert_eq!(refused["outcome"], "bad-request");
    assert!(
        refused["reason"]
            .as_str()
            .is_some_and(|r| r.contains("nope")),
        "{refused}"
    );
}

#[test]
fn echo_logs_json_lines_for_reloads_and_refusals() {
    let r = common::Renewal::new("Logs");
    let port = r.port;
    let mut witness = r.start_witness(&["--log.format", "json", "-v"]);

    // Not a ClientHello: refused, with the peer and the reason.
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    witness
        .wait_for_line("not a ClientHello", LISTEN_WITHIN)
        .expect("the refusal");
    drop(client);

    // A real TLS client: a per-connection debug line under -v.
    let url = format!("https://localhost:{port}/");
    let _ = common::interloper(&["tls", &url, "--no-os-roots", "--json"]);
    witness
        .wait_for_line("\"msg\":\"connection\"", LISTEN_WITHIN)
        .expect("a debug line");

    r.install_new_cert(&r.new);
    witness.signal("HUP").expect("SIGHUP");
    witness
        .wait_for_line("certificate reloaded", LISTEN_WITHIN)
        .expect("reloaded");
    r.install_new_cert(&r.old);
    witness.signal("HUP").expect("SIGHUP");
    witness
        .wait_for_line("certificate reload refused", LISTEN_WITHIN)
        .expect("refused");

    let lines = json_lines(&witness);
    let started = find(&lines, "interloper echo witness listening");
    assert_eq!(started["address"], format!("127.0.0.1:{port}"));
    assert!(
        started["leaf_sha256"]
            .as_str()
            .is_some_and(|s| s.len() == 64),
        "{started}"
    );
    // (The readiness probe's empty connection is refused too: "closed after 0 bytes".)
    let refused = lines
        .iter()
        .find(|v| {
            v["msg"] == "refused handshake"
                && v["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("not a ClientHello"))
        })
        .unwrap_or_else(|| panic!("no refused hello in {lines:#?}"));
    assert_eq!(refused["level"], "info");
    assert!(
        refused["peer"]
            .as_str()
            .is_some_and(|p| p.starts_with("127.0.0.1:")),
        "{refused}"
    );
    assert!(
        refused["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not a ClientHello")),
        "{refused}"
    );
    let connection = find(&lines, "connection");
    assert_eq!(connection["level"], "debug");
    assert_eq!(connection["sni"], "localhost");
    assert!(
        connection["ja4"]
            .as_str()
            .is_some_and(|j| j.starts_with('t')),
        "{connection}"
    );
    let reloaded = find(&lines, "certificate reloaded");
    assert_eq!(reloaded["level"], "info");
    assert_eq!(reloaded["leaf_sha256"].as_str().map(str::len), Some(64));
    let failed = find(
        &lines,
        "certificate reload refused, still serving the previous one",
    );
    assert_eq!(failed["level"], "error");
    assert!(
        failed["err"]
            .as_str()
            .is_some_and(|e| e.contains("does not fit")),
        "{failed}"
    );
}

#[test]
fn echo_quiet_prints_nothing_on_a_clean_start() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(&dir.path().join("pki"), "Quiet CA", "Logs", &[]).unwrap();
    let live = dir.path().join("live");
    std::fs::create_dir(&live).unwrap();
    common::install_cert(&pki.leaf_cert_pem, &pki.leaf_key_pem, &live);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let cert = live.join("cert.pem").display().to_string();
    let key = live.join("key.pem").display().to_string();
    let mut witness = spawn_interloper(&[
        "echo", "--listen", &listen, "--cert", &cert, "--key", &key, "-q",
    ]);
    witness
        .wait_for_ports(&[port], LISTEN_WITHIN)
        .expect("interloper echo listens");
    // A bad pair is an error, kept under -q, written after anything the start would have said.
    std::fs::write(live.join("key.pem"), "not a key\n").unwrap();
    witness.signal("HUP").expect("SIGHUP");
    let line = witness
        .wait_for_line("certificate reload refused", LISTEN_WITHIN)
        .expect("the error is kept under -q");
    assert!(line.contains(" level=error "), "{line}");
    assert_eq!(witness.stderr().lines().count(), 1, "{}", witness.stderr());
}
