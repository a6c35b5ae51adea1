//! The witness (`interloper echo`) proving interception, as a user runs it: directly (a clean
//! path), behind mitmproxy in reverse mode (proof, product named), and during a `check` whose
//! path stalls (the stall placed on the path, not on the server).

mod common;
use common::{LISTEN_WITHIN, interloper, json, origin, spawn_interloper, witness};

use interloper_testkit::{Mitmproxy, Nginx, NginxOptions, Spawned, free_port};

#[test]
fn direct_path_to_the_witness_is_the_same_hello_and_chain() {
    let (_witness, port) = witness(&[]);
    let url = format!("https://localhost:{port}/");
    let tls = json(&interloper(&[
        "tls",
        &url,
        "--echo",
        &url,
        "--no-os-roots",
        "--json",
    ]));
    let wv = &tls["witness"];
    assert!(wv["error"].is_null(), "{wv:#}");
    assert_eq!(wv["client_random"], wv["client"]["client_random"], "{wv:#}");
    assert_eq!(
        wv["served_chain_sha256"][0], wv["received_chain_sha256"][0],
        "{wv:#}"
    );
    assert_ne!(tls["verdict"]["status"], "intercepted", "{tls:#}");
}

#[test]
fn mitmproxy_in_front_of_the_witness_is_proven() {
    let (_witness, port) = witness(&[]);
    let mitm = Mitmproxy::reverse(port, "mitmproxy", "mitmproxy", None).expect("mitmproxy");
    let url = mitm.url("");
    let ca = mitm.pki.ca_cert_pem.to_str().expect("path").to_string();
    let out = interloper(&[
        "tls",
        &url,
        "--echo",
        &url,
        "--cacert",
        &ca,
        "--no-os-roots",
        "--json",
    ]);
    let tls = json(&out);
    let wv = &tls["witness"];
    assert!(wv["error"].is_null(), "{wv:#}");
    assert_ne!(wv["client_random"], wv["client"]["client_random"], "{wv:#}");
    assert_ne!(
        wv["served_chain_sha256"][0], wv["received_chain_sha256"][0],
        "{wv:#}"
    );
    assert_eq!(tls["verdict"]["status"], "intercepted", "{tls:#}");
    assert_eq!(tls["verdict"]["confidence"], "high", "{tls:#}");
    assert_eq!(out.status.code(), Some(1));
    // mitmproxy is Python on OpenSSL: the hello it sent upstream is named from its JA4.
    assert_eq!(wv["upstream_stack"]["family"], "mitmproxy", "{wv:#}");
    let text = interloper(&[
        "tls",
        &url,
        "--echo",
        &url,
        "--cacert",
        &ca,
        "--no-os-roots",
        "--color",
        "never",
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("the hello that reached the witness is mitmproxy 11"),
        "{text}"
    );
}

/// The same "firewall" in front of the site and of the witness: it stalls a seeded 10 % of
/// responses by 2 s.
fn stall_everything() -> String {
    interloper_testkit::stall_addon(None, 0.10, 2.0)
}

/// The same stalls on the site's static files only.
fn stall_static() -> String {
    interloper_testkit::stall_addon(Some("/static/"), 0.10, 2.0)
}

#[test]
fn check_with_the_witness_proves_interception_and_places_the_stall_on_the_path() {
    let o = origin();
    let (_witness, witness_port) = witness(&[]);
    let site_mitm = Mitmproxy::reverse(
        o.nginx.https_port,
        "Corp Gateway CA",
        "Example Corp",
        Some(&stall_static()),
    )
    .expect("mitmproxy (site)");
    let witness_mitm = Mitmproxy::reverse(
        witness_port,
        "Corp Gateway CA",
        "Example Corp",
        Some(&stall_everything()),
    )
    .expect("mitmproxy (witness)");
    let public = o.nginx.pki.ca_cert_pem.to_str().expect("path").to_string();
    let ca1 = site_mitm
        .pki
        .ca_cert_pem
        .to_str()
        .expect("path")
        .to_string();
    let ca2 = witness_mitm
        .pki
        .ca_cert_pem
        .to_str()
        .expect("path")
        .to_string();
    let url = site_mitm.url("admin/login/");
    let echo = witness_mitm.url("");
    let out = interloper(&[
        "check",
        &url,
        "--echo",
        &echo,
        "--public-roots",
        &public,
        "--cacert",
        &ca1,
        "--cacert",
        &ca2,
        "--no-os-roots",
        "--samples",
        "12",
        "--concurrency",
        "6",
        "--json",
    ]);
    let report = json(&out);
    let findings = report["findings"].as_array().expect("findings");
    let codes: Vec<&str> = findings.iter().filter_map(|f| f["code"].as_str()).collect();
    assert_eq!(codes.first(), Some(&"IL101"), "{codes:?}");
    assert_eq!(report["verdict"]["root_cause"], "IL101");
    // The CA is administrator-named ("Corp Gateway CA"): only the hello the box sent upstream
    // names what it is.
    let il101 = &findings[0];
    assert!(
        il101["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("upstream hello is mitmproxy"),
        "{il101:#}"
    );
    assert!(
        report["verdict"]["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("proven by the witness")
    );
    let il201 = findings
        .iter()
        .find(|f| f["code"] == "IL201")
        .unwrap_or_else(|| panic!("no IL201 in {codes:?}"));
    let on_path = il201["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .any(|e| {
            e["type"] == "witness"
                && e["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("on the path")
        });
    assert!(on_path, "{il201:#}");
}

/// `interloper echo --passthrough` in front of the real port, `--api` on its own port, once
/// both listen: the guard, the port and the API's port.
fn passthrough(upstream: u16) -> (Spawned, u16, u16) {
    let (port, api) = (free_port(), free_port());
    let (listen, upstream, api_listen) = (
        format!("127.0.0.1:{port}"),
        format!("127.0.0.1:{upstream}"),
        format!("127.0.0.1:{api}"),
    );
    let mut passthrough = spawn_interloper(&[
        "echo",
        "--passthrough",
        "--listen",
        &listen,
        "--upstream",
        &upstream,
        "--api",
        &api_listen,
    ]);
    passthrough
        .wait_for_ports(&[port, api], LISTEN_WITHIN)
        .expect("interloper echo --passthrough listens");
    (passthrough, port, api)
}

#[test]
fn passthrough_sees_a_direct_hello_and_not_one_that_was_intercepted() {
    let nginx = Nginx::start(NginxOptions::default()).expect("nginx");
    let (_passthrough, pt_port, api) = passthrough(nginx.https_port);
    let api_url = format!("http://127.0.0.1:{api}");
    let ca = nginx.pki.ca_cert_pem.to_str().expect("path").to_string();
    let direct = format!("https://localhost:{}/small.txt", pt_port);
    let tls = json(&interloper(&[
        "tls",
        &direct,
        "--echo-api",
        &api_url,
        "--public-roots",
        &ca,
        "--no-os-roots",
        "--json",
    ]));
    assert_eq!(tls["passthrough"]["seen"], true, "{tls:#}");
    assert_eq!(tls["verdict"]["status"], "clean", "{tls:#}");

    let mitm = Mitmproxy::reverse(pt_port, "mitmproxy", "mitmproxy", None).expect("mitmproxy");
    let mitm_ca = mitm.pki.ca_cert_pem.to_str().expect("path").to_string();
    let out = interloper(&[
        "tls",
        &mitm.url("small.txt"),
        "--echo-api",
        &api_url,
        "--public-roots",
        &ca,
        "--cacert",
        &mitm_ca,
        "--no-os-roots",
        "--json",
    ]);
    let tls = json(&out);
    assert_eq!(tls["passthrough"]["seen"], false, "{tls:#}");
    assert_eq!(tls["verdict"]["status"], "intercepted", "{tls:#}");
    assert_eq!(tls["verdict"]["confidence"], "high", "{tls:#}");
}
