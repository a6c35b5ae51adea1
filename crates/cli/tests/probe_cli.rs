//! The binary: exit codes 0/1/2, JSON schema, demo.

use assert_cmd::Command;
use interloper_testkit::faults::{Fault, FaultServer};

fn cmd() -> Command {
    let mut c = Command::cargo_bin("interloper").unwrap();
    for v in [
        "http_proxy",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        c.env_remove(v);
    }
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn ok_exits_0_and_json_has_schema_and_phases() {
    let s = FaultServer::plain(Fault::Ok(b"hello".to_vec())).unwrap();
    let out = cmd()
        .args(["probe", "--json", "-n", "3", "-c", "2", &s.url("/x")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "interloper.probe/v1");
    let t = &v["targets"][0];
    assert_eq!(t["summary"]["count"], 3);
    assert_eq!(t["summary"]["ok"], 3);
    let rec = &t["records"][0];
    for k in [
        "dns_ms",
        "connect_ms",
        "tls_ms",
        "ttfb_ms",
        "body_ms",
        "total_ms",
    ] {
        assert!(rec["phases"].get(k).is_some(), "phases.{k} present");
    }
    assert!(rec["phases"]["dns_ms"].is_null());
    assert!(rec["phases"]["tls_ms"].is_null());
    assert!(rec["phases"]["ttfb_ms"].is_f64());
    assert_eq!(rec["status"], 200);
}

#[test]
fn failure_exits_1_and_terminal_names_the_kind() {
    let s = FaultServer::plain(Fault::HalfBodyThenClose { len: 1000 }).unwrap();
    let out = cmd().args(["probe", &s.url("/half")]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("truncated"), "{text}");
    assert!(!text.contains("\x1b["), "no colour when piped");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for args in [
        vec!["probe", "not a url"],
        vec!["probe", "ftp://x/"],
        vec!["probe", "--timeout", "soon", "http://127.0.0.1:1/"],
        vec!["probe", "--resolve", "bad", "http://127.0.0.1:1/"],
        vec![
            "probe",
            "--cacert",
            "/nonexistent.pem",
            "https://127.0.0.1:1/",
        ],
        vec!["probe"],
    ] {
        let out = cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    let out = cmd().args(["probe", "not a url"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1
    );
}

#[test]
fn refused_exits_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = cmd()
        .args(["probe", "--json", &format!("http://127.0.0.1:{port}/")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["targets"][0]["records"][0]["error"]["kind"], "refused");
}

#[test]
fn demo_runs_and_reports() {
    let out = cmd()
        .args(["demo", "--scenario", "clean", "-n", "5"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CLEAN") && text.contains("instance 4: https://app-4.localhost:"),
        "{text}"
    );
}

/// The shared trust and connection flags mean the same in `probe` and `pin`: the test CA
/// trusted alone (`--cacert` with `--no-os-roots`), a name given its address with `--resolve`.
#[test]
fn shared_trust_and_connection_flags_reach_probe_and_pin() {
    let nginx = interloper_testkit::Nginx::start(Default::default()).expect("nginx");
    let ca = nginx
        .pki
        .ca_cert_pem
        .to_str()
        .expect("UTF-8 path")
        .to_string();
    let url = nginx.https_url("/small.txt");
    let trusted = cmd()
        .args(["probe", "--cacert", &ca, "--no-os-roots", &url])
        .output()
        .unwrap();
    assert_eq!(
        trusted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&trusted.stdout)
    );
    // Without the CA nothing anchors the chain: the request fails, a problem (1), not an error.
    let untrusted = cmd()
        .args(["probe", "--no-os-roots", "--json", &url])
        .output()
        .unwrap();
    assert_eq!(untrusted.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&untrusted.stdout).unwrap();
    assert_eq!(
        v["targets"][0]["records"][0]["error"]["kind"],
        "tls_certificate"
    );
    // A name that exists only through --resolve (no DNS query leaves the machine).
    let port = nginx.https_port;
    let pins = cmd()
        .args([
            "pin",
            "--resolve",
            &format!("pinned.test:{port}:127.0.0.1"),
            "--timeout",
            "5s",
            &format!("https://pinned.test:{port}/"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        pins.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&pins.stderr)
    );
    let text = String::from_utf8_lossy(&pins.stdout);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("sha256//")),
        "{text}"
    );
}
