//! Squid (Debian squid-openssl, ssl-bump: peek at step 1, then bump) as the explicit proxy of a
//! user's machine, in front of real nginx, run by the tests themselves: proxy credentials that
//! hold every character a form decoder breaks, checked by Squid's basic_ncsa_auth; the managed
//! laptop (Squid's CA trusted by the machine, no witness), where the inspection is inferred;
//! the unmanaged one (Squid's CA not trusted), where the untrusted chain is named as such;
//! and the witness beside the origin, where it is proven and Squid's own hello is named.

mod common;
use common::{LISTEN_WITHIN, codes, json, spawn_interloper};

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use interloper_testkit::{Nginx, NginxOptions, Spawned, Squid, TestPki, free_port};
use serde_json::Value;

const USER: &str = "alice";
/// `+` (a space to a form decoder), `&` (a field separator to it), `%`, `@` and `:` (the URL's
/// own delimiters).
const PASSWORD: &str = "p+a&s%s@w:rd";

/// Proxy and trust settings a developer's shell may hold: every run starts without them.
const AMBIENT: &[&str] = &[
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// `interloper ARGS…` with exactly the environment `env` adds to a clean one, bounded in time.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("interloper").expect("binary");
    for var in AMBIENT {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .args(args)
        .timeout(Duration::from_secs(240))
        .output()
        .expect("run interloper")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Squid in front of `origin_ca`'s servers, minting with its administrator-named CA.
fn squid(origin_ca: &Path, auth: bool) -> Squid {
    let builder = Squid::builder().upstream_ca(origin_ca);
    let builder = if auth {
        builder.basic_auth(USER, PASSWORD)
    } else {
        builder
    };
    builder.start().expect("squid")
}

#[test]
fn proxy_credentials_with_reserved_characters_pass_squids_basic_auth() {
    let nginx = Nginx::start(NginxOptions::default()).expect("nginx");
    let squid = squid(&nginx.pki.ca_cert_pem, true);
    let url = nginx.https_url("small.txt");
    let squid_ca = path_str(&squid.pki.ca_cert_pem);
    let proxy_url = squid.proxy_url();
    assert!(proxy_url.contains("p%2Ba%26s%25s%40w%3Ard"), "{proxy_url}");
    let probe = [
        "probe",
        &url,
        "-n",
        "2",
        "--cacert",
        squid_ca,
        "--no-os-roots",
        "--json",
    ];
    let mut runs = Vec::new();
    for var in ["HTTPS_PROXY", "https_proxy"] {
        runs.push((var, run(&probe, &[(var, proxy_url.as_str())])));
    }
    let mut with_flag = probe.to_vec();
    with_flag.extend(["--proxy", &proxy_url]);
    runs.push(("--proxy", run(&with_flag, &[])));
    for (how, out) in runs {
        assert_eq!(out.status.code(), Some(0), "{how}: {}", stderr(&out));
        let report = json(&out);
        let records = report["targets"][0]["records"].as_array().expect("records");
        assert_eq!(records.len(), 2, "{how}");
        for rec in records {
            assert_eq!(rec["status"], 200, "{how}: {rec:#}");
            // Records name the proxy and its user, never the password.
            assert_eq!(
                rec["proxy"],
                format!("http://{USER}@127.0.0.1:{}", squid.port),
                "{how}"
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("p%2Ba") && !text.contains("w:rd"),
            "{how}: {text}"
        );
    }
    // Squid checked the password and logged each tunnel under the user.
    let log = squid.access_log();
    let connect = format!("CONNECT localhost:{} {USER} ", nginx.https_port);
    let tunnels = log.lines().filter(|l| l.contains(&connect)).count();
    assert!(tunnels >= 3, "{log}");

    // NO_PROXY names the origin: it is reached directly, Squid sees nothing more.
    let origin_ca = path_str(&nginx.pki.ca_cert_pem);
    let direct = run(
        &[
            "probe",
            &url,
            "--cacert",
            origin_ca,
            "--no-os-roots",
            "--json",
        ],
        &[
            ("HTTPS_PROXY", proxy_url.as_str()),
            ("NO_PROXY", "localhost"),
        ],
    );
    assert_eq!(direct.status.code(), Some(0), "{}", stderr(&direct));
    assert!(json(&direct)["targets"][0]["records"][0]["proxy"].is_null());
    let log = squid.access_log();
    assert_eq!(
        log.lines().filter(|l| l.contains(&connect)).count(),
        tunnels,
        "{log}"
    );
}

#[test]
fn a_wrong_proxy_password_is_named_as_proxy_authentication() {
    let nginx = Nginx::start(NginxOptions::default()).expect("nginx");
    let squid = squid(&nginx.pki.ca_cert_pem, true);
    let url = nginx.https_url("small.txt");
    let squid_ca = path_str(&squid.pki.ca_cert_pem);
    let wrong = squid.proxy_url_as(USER, "p+a&s%s@w:rD");
    let env = [("HTTPS_PROXY", wrong.as_str())];

    let out = run(
        &[
            "probe",
            &url,
            "--cacert",
            squid_ca,
            "--no-os-roots",
            "--json",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = &json(&out)["targets"][0]["records"][0]["error"];
    assert_eq!(error["kind"], "proxy", "{error:#}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("proxy authentication") && message.contains("407"),
        "{message}"
    );

    for command in ["tls", "check"] {
        let out = run(
            &[
                command,
                &url,
                "--cacert",
                squid_ca,
                "--no-os-roots",
                "--color",
                "never",
            ],
            &env,
        );
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{command}: {text}");
        assert!(!text.contains("panicked"), "{command}: {text}");
        assert!(
            text.contains("proxy authentication") && text.contains("407"),
            "{command}: {text}"
        );
        assert!(
            !text.contains("w:rD") && !text.contains("w%3ArD"),
            "{command} repeats the password: {text}"
        );
    }
    // The failed requests are not blamed on the server or the network behind the proxy.
    let out = run(
        &[
            "check",
            &url,
            "--cacert",
            squid_ca,
            "--no-os-roots",
            "--json",
        ],
        &env,
    );
    let report = json(&out);
    let il202 = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "IL202")
        .unwrap_or_else(|| panic!("no IL202: {report:#}"));
    let remedy = il202["remedy"].as_str().unwrap_or_default();
    assert!(
        remedy.contains("proxy") && remedy.contains("A 407 means"),
        "{remedy}"
    );
}

/// An origin whose certificate was issued a month ago, as most sites' are: Squid copies the
/// dates of the certificate it imitates, so its minted leaf does not look new either.
fn month_old_origin() -> (Nginx, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate_issued_ago(
        dir.path(),
        "interloper test CA",
        "interloper tests",
        &[],
        Duration::from_secs(30 * 24 * 3600),
    )
    .expect("pki");
    // A page with one stylesheet, for `check` to discover and sample.
    let page = "location = /page.html { default_type text/html; return 200 \
         '<!doctype html><title>app</title><link rel=\"stylesheet\" href=\"/app.css\">'; }\n\
         location = /app.css { default_type text/css; return 200 'body { margin: 0 }'; }\n";
    let nginx = Nginx::start(NginxOptions {
        pki: Some(pki),
        extra_server_conf: page.to_string(),
        ..Default::default()
    })
    .expect("nginx");
    (nginx, dir)
}

/// The `kind`s of a tls document's evidence, with their strength.
fn evidence(tls: &Value) -> Vec<(String, String)> {
    tls["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (field("kind"), field("strength"))
        })
        .collect()
}

/// Every evidence message of a report's findings, one per line.
fn finding_messages(report: &Value) -> String {
    let mut all = String::new();
    for f in report["findings"].as_array().expect("findings") {
        all.push_str(f["summary"].as_str().unwrap_or_default());
        all.push('\n');
        for e in f["evidence"].as_array().into_iter().flatten() {
            all.push_str(e["message"].as_str().unwrap_or_default());
            all.push('\n');
        }
    }
    all
}

/// A managed laptop: Squid's CA is in the machine's store (SSL_CERT_FILE), the proxy comes
/// from HTTPS_PROXY, one vantage point, no witness. The CA's name (administrator-chosen) names
/// no product; the leaf Squid minted carries the CA's own key, which is what gives it away.
#[test]
fn managed_laptop_infers_squids_inspection() {
    let (origin, _pki_dir) = month_old_origin();
    let squid = squid(&origin.pki.ca_cert_pem, false);
    let public = path_str(&origin.pki.ca_cert_pem);
    let machine_roots = path_str(&squid.pki.ca_cert_pem);
    let proxy_url = squid.proxy_url();
    // The origin's CA plays a public root.
    let env = [
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("SSL_CERT_FILE", machine_roots),
    ];
    let url = origin.https_url("page.html");

    let out = run(&["tls", &url, "--public-roots", public, "--json"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let tls = json(&out);
    assert_eq!(tls["trust"]["status"], "anchored-local-only", "{tls:#}");
    assert_eq!(
        tls["trust"]["anchor"]["subject"],
        "CN=Example Web Gateway, O=Example Corp"
    );
    let verdict = &tls["verdict"];
    assert_eq!(verdict["status"], "likely-intercepted", "{tls:#}");
    assert_eq!(verdict["rule"], "local-only-minted", "{tls:#}");
    assert_eq!(verdict["confidence"], "medium", "{tls:#}");
    let signs = evidence(&tls);
    assert!(
        signs.contains(&("leaf-key-is-issuer-key".into(), "strong".into())),
        "{signs:?}"
    );
    // The verdict does not lean on the test origin's dates: the leaf is a month old.
    assert!(
        !signs.iter().any(|(kind, _)| kind == "freshly-issued"),
        "{signs:?}"
    );

    let out = run(
        &[
            "check",
            &url,
            "--public-roots",
            public,
            "--samples",
            "3",
            "--json",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let summary = report["verdict"]["summary"].as_str().unwrap_or_default();
    assert_eq!(report["verdict"]["status"], "intercepted", "{summary}");
    assert!(
        summary.contains("HTTPS inspection") && summary.contains("inferred"),
        "{summary}"
    );
    let found = codes(&report);
    assert!(found.contains(&"IL105".to_string()), "{found:?}");
    // The page and its stylesheet were examined: nothing else is in the way.
    assert!(!found.contains(&"IL310".to_string()), "{found:?}");
    assert!(!found.contains(&"IL101".to_string()), "{found:?}");
    let messages = finding_messages(&report);
    assert!(messages.contains("CN=Example Web Gateway"), "{messages}");
    assert!(
        messages.contains("the public key of its own root, a root only this machine trusts"),
        "{messages}"
    );
}

/// An unmanaged laptop or server: the same Squid, but its CA is not among this machine's roots
/// (only the origin's CA, playing a public root, is). Every request stops at the certificate;
/// the diagnosis is the untrusted chain and who issued it (IL112), never failed requests
/// (IL202) with a remedy about resets and the load balancer's logs, and `tls` says the same.
#[test]
fn unmanaged_laptop_names_squids_untrusted_chain_not_failed_requests() {
    let (origin, _pki_dir) = month_old_origin();
    let squid = squid(&origin.pki.ca_cert_pem, false);
    let public = path_str(&origin.pki.ca_cert_pem);
    let proxy_url = squid.proxy_url();
    // The machine's store holds the "public" root only: Squid's CA is unknown here.
    let env = [
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("SSL_CERT_FILE", public),
    ];
    let url = origin.https_url("page.html");

    let out = run(
        &[
            "check",
            &url,
            "--public-roots",
            public,
            "--samples",
            "2",
            "-H",
            "Cookie: sessionid=s3cret",
            "--json",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let verdict = &report["verdict"];
    let summary = verdict["summary"].as_str().unwrap_or_default();
    assert_eq!(verdict["root_cause"], "IL112", "{verdict:#}");
    for words in [
        "Example Web Gateway",
        "neither a public CA nor the server's own",
        "intercepting middlebox",
    ] {
        assert!(summary.contains(words), "{words:?} not in {summary}");
    }
    let found = codes(&report);
    for wrong in [
        "IL201", "IL202", "IL206", "IL207", "IL208", "IL212", "IL213",
    ] {
        assert!(!found.contains(&wrong.to_string()), "{wrong} in {found:?}");
    }
    // Nothing went over the refused chain: Squid logged the tunnels, never a bumped request.
    let log = squid.access_log();
    assert!(log.contains("CONNECT"), "{log}");
    assert!(!log.contains("/page.html"), "{log}");

    let out = run(&["tls", &url, "--public-roots", public, "--json"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let tls = json(&out);
    assert_eq!(tls["verdict"]["status"], "untrusted", "{tls:#}");
    let said = tls["verdict"]["summary"].as_str().unwrap_or_default();
    assert!(
        said.contains("Example Web Gateway") && said.contains("intercepting middlebox"),
        "{said}"
    );
}

/// `interloper echo` beside the origin, serving the origin's own certificate, once it listens.
fn witness_beside(origin: &Nginx) -> (Spawned, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut witness = spawn_interloper(&[
        "echo",
        "--listen",
        &listen,
        "--cert",
        path_str(&origin.pki.leaf_cert_pem),
        "--key",
        path_str(&origin.pki.leaf_key_pem),
    ]);
    witness
        .wait_for_ports(&[port], LISTEN_WITHIN)
        .expect("interloper echo listens");
    (witness, port)
}

/// The same laptop with the witness beside the origin: the interception is proven, and the
/// hello Squid sent upstream is named as its OpenSSL client.
#[test]
fn the_witness_proves_squids_inspection_and_names_its_openssl_client() {
    let (origin, _pki_dir) = month_old_origin();
    let (_witness, witness_port) = witness_beside(&origin);
    let squid = squid(&origin.pki.ca_cert_pem, false);
    let public = path_str(&origin.pki.ca_cert_pem);
    let machine_roots = path_str(&squid.pki.ca_cert_pem);
    let proxy_url = squid.proxy_url();
    let env = [
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("SSL_CERT_FILE", machine_roots),
    ];
    let echo = format!("https://localhost:{witness_port}/");
    let url = origin.https_url("page.html");

    let out = run(
        &[
            "tls",
            &url,
            "--echo",
            &echo,
            "--public-roots",
            public,
            "--json",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let tls = json(&out);
    assert_eq!(tls["verdict"]["status"], "intercepted", "{tls:#}");
    assert_eq!(tls["verdict"]["confidence"], "high", "{tls:#}");
    assert_eq!(tls["verdict"]["rule"], "witness-differs", "{tls:#}");
    let witness = &tls["witness"];
    assert!(witness["error"].is_null(), "{witness:#}");
    assert_ne!(witness["client_random"], witness["client"]["client_random"]);
    let stack = &witness["upstream_stack"];
    assert_eq!(stack["id"], "squid-5.7-openssl-3.0", "{witness:#}");
    assert_eq!(stack["exact"], true, "{witness:#}");
    assert!(
        stack["family"]
            .as_str()
            .unwrap_or_default()
            .contains("OpenSSL"),
        "{witness:#}"
    );

    let out = run(
        &[
            "check",
            &url,
            "--echo",
            &echo,
            "--public-roots",
            public,
            "--samples",
            "3",
            "--json",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        report["verdict"]["root_cause"], "IL101",
        "{:#}",
        report["verdict"]
    );
    let il101 = &report["findings"][0];
    assert_eq!(il101["code"], "IL101", "{il101:#}");
    assert!(
        il101["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("upstream hello is Squid 5.7 ssl-bump (OpenSSL 3.0)'s"),
        "{il101:#}"
    );
}
