//! Helpers shared by the exporter's tests: a module for a lab instance, a running exporter,
//! a plain HTTP/1.1 GET, reading one series, running promtool.
#![allow(dead_code)]

use std::net::SocketAddr;

use interloper_lab::{Instance, Lab};
use interloper_serve::{ServeConfig, Server};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A module for one lab instance: the lab's trust files, its names resolved to loopback, its
/// witness if it has one.
pub fn module_toml(lab: &Lab, inst: &Instance, name: &str, budget: &str) -> String {
    let plan = lab.check_plan(2);
    let mut t = format!("[module.{name}]\nsamples = 2\nbudget = \"{budget}\"\ntimeout = \"5s\"\n");
    let resolve: Vec<String> = plan
        .connection
        .resolve
        .iter()
        .map(|r| format!("\"{}:{}:{}\"", r.host, r.port, r.addr))
        .collect();
    t += &format!("resolve = [{}]\n", resolve.join(", "));
    t += "allowed_hosts = [\"*.localhost\"]\n";
    if let Some(w) = inst.witness_url() {
        t += &format!("witness = \"{w}\"\n");
    }
    t += &format!("[module.{name}.trust]\nno_os_roots = true\n");
    t += &format!(
        "public_roots = {:?}\n",
        plan.trust
            .public_roots
            .as_ref()
            .unwrap()
            .display()
            .to_string()
    );
    let cacert: Vec<String> = inst
        .local_roots()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    t += &format!("cacert = [{}]\n", cacert.join(", "));
    t
}

pub async fn start(config: &str) -> SocketAddr {
    let cfg = ServeConfig::from_toml(config).unwrap_or_else(|e| panic!("{e}\n{config}"));
    let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)), cfg)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    addr
}

/// GET `path` with an optional scrape timeout; (status, body).
pub async fn get(addr: SocketAddr, path: &str, scrape_timeout: Option<&str>) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = scrape_timeout {
        req += &format!("X-Prometheus-Scrape-Timeout-Seconds: {t}\r\n");
    }
    req += "\r\n";
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

pub fn probe_path(target: &str, module: &str) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("target", target)
        .append_pair("module", module)
        .finish();
    format!("/probe?{q}")
}

/// The value of the series written exactly as `series` (name and labels), if present.
pub fn value(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|l| {
        let (name, v) = l.rsplit_once(' ')?;
        (name == series).then(|| v.parse().ok())?
    })
}

/// A module whose one instance group holds the given lab instances (by member name): the
/// lab's names resolved to loopback, every member's local roots trusted, no witness, failing
/// on warnings.
pub fn group_module_toml(
    lab: &Lab,
    members: &[(&str, &Instance)],
    name: &str,
    group: &str,
    budget: &str,
) -> String {
    let plan = lab.check_plan(2);
    let mut t = format!("[module.{name}]\nsamples = 3\nbudget = \"{budget}\"\ntimeout = \"5s\"\n");
    t += "fail_on = [\"warning\", \"error\", \"critical\"]\n";
    let resolve: Vec<String> = plan
        .connection
        .resolve
        .iter()
        .map(|r| format!("\"{}:{}:{}\"", r.host, r.port, r.addr))
        .collect();
    t += &format!("resolve = [{}]\n", resolve.join(", "));
    t += "allowed_hosts = [\"*.localhost\"]\n";
    t += &format!("[module.{name}.trust]\nno_os_roots = true\n");
    t += &format!(
        "public_roots = {:?}\n",
        plan.trust
            .public_roots
            .as_ref()
            .unwrap()
            .display()
            .to_string()
    );
    let cacert: Vec<String> = members
        .iter()
        .flat_map(|(_, inst)| inst.local_roots())
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    t += &format!("cacert = [{}]\n", cacert.join(", "));
    t += &format!("[module.{name}.groups.{group}]\n");
    for (member, inst) in members {
        t += &format!("{member} = {:?}\n", inst.url());
    }
    t
}

/// `promtool ARGS…` in `dir`, asserted to succeed. Returns false (the caller skips, said on
/// stderr) when promtool is not installed outside CI; under CI its absence is a failure.
/// scripts/test installs it (Debian's prometheus package).
pub fn promtool(dir: &std::path::Path, args: &[&str]) -> bool {
    if std::process::Command::new("promtool")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is missing: scripts/test installs Debian's prometheus package"
        );
        eprintln!("skipping: promtool is not installed (scripts/test installs it)");
        return false;
    }
    let out = std::process::Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}
