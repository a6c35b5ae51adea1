//! Helpers shared by the end-to-end tests: run the binary as a user would, read its JSON.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use interloper_testkit::{DjangoOrigin, Spawned, TestPki, free_port};
use serde_json::Value;

/// Run `interloper ARGS…` without colour, bounded in time.
pub fn interloper(args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("interloper")
        .expect("binary")
        .args(args)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(240))
        .output()
        .expect("run interloper")
}

/// Stdout as JSON, or a panic that shows what came out instead.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Django's admin static set (collectstatic, ManifestStaticFilesStorage) behind real nginx
/// with TLS: testkit's origin; everything stops on drop.
pub fn origin() -> DjangoOrigin {
    DjangoOrigin::start().expect("django origin behind nginx")
}

/// `interloper ARGS…` in the background, as a long-running server is started (testkit's
/// guard: output kept, killed with whatever it started when dropped).
pub fn spawn_interloper(args: &[&str]) -> Spawned {
    Spawned::interloper(env!("CARGO_BIN_EXE_interloper"), args).expect("start interloper")
}

/// How long a server the tests start gets to listen.
pub const LISTEN_WITHIN: Duration = Duration::from_secs(20);

/// `interloper echo --self-signed localhost` (the witness) on a free loopback port, with `extra`
/// arguments, once it listens; and that port.
pub fn witness(extra: &[&str]) -> (Spawned, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["echo", "--listen", &listen, "--self-signed", "localhost"];
    args.extend_from_slice(extra);
    let mut witness = spawn_interloper(&args);
    witness
        .wait_for_ports(&[port], LISTEN_WITHIN)
        .expect("interloper echo listens");
    (witness, port)
}

/// The finding codes of a report, in order.
pub fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The lab's `clean` scenario, started on `runtime` (which must outlive it).
pub fn clean_lab(runtime: &tokio::runtime::Runtime) -> interloper_lab::Lab {
    let config = interloper_lab::Scenario::find("clean")
        .expect("the clean scenario")
        .config()
        .expect("its configuration");
    runtime
        .block_on(interloper_lab::Lab::start(config))
        .expect("the lab starts")
}

/// The `[module.NAME]` an operator would write for `interloper serve` to check a running lab:
/// the lab's roots, its names resolved to loopback, `samples` requests per asset.
pub fn serve_module(lab: &interloper_lab::Lab, name: &str, samples: u32) -> String {
    let plan = lab.check_plan(samples);
    let resolve: Vec<String> = plan
        .connection
        .resolve
        .iter()
        .map(|r| format!("\"{}:{}:{}\"", r.host, r.port, r.addr))
        .collect();
    let roots = plan
        .trust
        .public_roots
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!(
        "[module.{name}]\nsamples = {samples}\nbudget = \"8s\"\nresolve = [{}]\n\
         [module.{name}.trust]\nno_os_roots = true\npublic_roots = {roots:?}\n",
        resolve.join(", ")
    )
}

/// `interloper serve --config CONFIG` on a free loopback port, once it listens; and that port.
pub fn serve(config: &Path) -> (Spawned, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let config = config.to_str().expect("a UTF-8 path");
    let mut serve = spawn_interloper(&["serve", "--config", config, "--listen", &listen]);
    serve
        .wait_for_ports(&[port], LISTEN_WITHIN)
        .expect("interloper serve listens");
    (serve, port)
}

/// Debian's HAProxy with the configuration at `config` (its log lines on stdout, which
/// [`Spawned::stdout_path`] names), once it listens on `port`.
pub fn haproxy(config: &Path, port: u16) -> Spawned {
    let binary = ["/usr/sbin/haproxy", "/usr/bin/haproxy"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("haproxy not found: run scripts/test, which installs Debian haproxy");
    let mut cmd = std::process::Command::new(binary);
    cmd.args(["-db", "-f"]).arg(config);
    let mut haproxy = Spawned::start(cmd).expect("start haproxy");
    haproxy
        .wait_for_ports(&[port], Duration::from_secs(10))
        .expect("haproxy listens");
    haproxy
}

/// GET `path` on a loopback port as Prometheus scrapes (timeout header 10 s): (status, body).
/// HTTP/1.0, so a large answer (Prometheus's own API) comes whole rather than chunked.
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\nConnection: close\r\n\r\n"
    )
    .expect("write request");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read answer");
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

/// Whether Debian's prometheus is installed. Without it a user's run skips the test, saying
/// so; under CI (scripts/test installs it) its absence is a failure, never a silent skip.
pub fn prometheus_installed() -> bool {
    if std::process::Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "prometheus is missing: scripts/test installs Debian's prometheus package"
    );
    eprintln!("skipping: prometheus is not installed (scripts/test installs it)");
    false
}

/// A real Prometheus reading `dir/prometheus.yml`, its data in `dir/data`, on a free loopback
/// port: returned once it listens.
pub fn prometheus(dir: &Path) -> (Spawned, u16) {
    let port = free_port();
    let mut cmd = std::process::Command::new("prometheus");
    cmd.arg(format!(
        "--config.file={}",
        dir.join("prometheus.yml").display()
    ))
    .arg(format!(
        "--storage.tsdb.path={}",
        dir.join("data").display()
    ))
    .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let mut prometheus = Spawned::start(cmd).expect("start prometheus");
    prometheus
        .wait_for_ports(&[port], Duration::from_secs(60))
        .expect("prometheus listens");
    (prometheus, port)
}

/// Prometheus' HTTP API answer to `path` as JSON; `None` while it is still starting (503).
pub fn prometheus_api(port: u16, path: &str) -> Option<Value> {
    let (status, body) = http_get(port, path);
    if status == 503 {
        return None;
    }
    assert_eq!(status, 200, "{path}: {body}");
    Some(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")))
}

/// An instant query's result vector (empty while Prometheus is still starting).
pub fn prometheus_query(port: u16, promql: &str) -> Vec<Value> {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("query", promql)
        .finish();
    prometheus_api(port, &format!("/api/v1/query?{q}"))
        .and_then(|v| v["data"]["result"].as_array().cloned())
        .unwrap_or_default()
}

/// Puts a certificate and key where a witness under test reads them (`live/cert.pem`,
/// `live/key.pem`), as a renewal would replace them.
pub fn install_cert(cert: &Path, key: &Path, live: &Path) {
    std::fs::copy(cert, live.join("cert.pem")).expect("copy the certificate");
    std::fs::copy(key, live.join("key.pem")).expect("copy the key");
}

/// A witness whose certificate gets renewed: two PKIs, the first installed in `live/`, and the
/// port the witness will listen on.
pub struct Renewal {
    /// The PKI served first.
    pub old: TestPki,
    /// The PKI a renewal installs.
    pub new: TestPki,
    /// Where the witness reads `cert.pem` and `key.pem`.
    pub live: std::path::PathBuf,
    /// The witness's port on loopback.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Renewal {
    /// Two PKIs of organisation `org`, the old one installed.
    pub fn new(org: &str) -> Renewal {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = TestPki::generate(&dir.path().join("old"), "Old CA", org, &[]).expect("pki");
        let new = TestPki::generate(&dir.path().join("new"), "New CA", org, &[]).expect("pki");
        let live = dir.path().join("live");
        std::fs::create_dir(&live).expect("live dir");
        install_cert(&old.leaf_cert_pem, &old.leaf_key_pem, &live);
        Renewal {
            old,
            new,
            live,
            port: free_port(),
            _dir: dir,
        }
    }

    /// `interloper echo` on the port with the live pair and `extra` arguments, listening.
    pub fn start_witness(&self, extra: &[&str]) -> Spawned {
        let listen = format!("127.0.0.1:{}", self.port);
        let cert = self.live.join("cert.pem").display().to_string();
        let key = self.live.join("key.pem").display().to_string();
        let mut args = vec!["echo", "--listen", &listen, "--cert", &cert, "--key", &key];
        args.extend_from_slice(extra);
        let mut witness = spawn_interloper(&args);
        witness
            .wait_for_ports(&[self.port], LISTEN_WITHIN)
            .expect("interloper echo listens");
        witness
    }

    /// Installs the new certificate with `key_of`'s key (the new one's, or the old one's to
    /// make a pair that does not fit).
    pub fn install_new_cert(&self, key_of: &TestPki) {
        install_cert(&self.new.leaf_cert_pem, &key_of.leaf_key_pem, &self.live);
    }
}
