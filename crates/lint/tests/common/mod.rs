//! Fixtures the library tests share (the static tree and the mount table are testkit's): GET
//! against a real nginx, and findings read as the report's JSON spells them.

#![allow(dead_code)]

use interloper_findings::Finding;
use interloper_lint::{LintOutcome, LintPlan};
use interloper_testkit::{Nginx, NginxOptions};
use serde_json::Value;

/// nginx on loopback with `server_conf` in its server block; `nginx -t` must accept it.
pub fn start_nginx(server_conf: String, tweak: impl FnOnce(&mut NginxOptions)) -> Nginx {
    let mut opts = NginxOptions {
        extra_server_conf: server_conf,
        ..Default::default()
    };
    tweak(&mut opts);
    Nginx::start(opts).expect("nginx starts with the seeded configuration")
}

/// The status of `GET path` from nginx's plain HTTP port.
pub fn status_of(nginx: &Nginx, path: &str) -> u16 {
    nginx.get_plain(path).0
}

/// Runs lint, which must read every input it was given.
pub fn lint(plan: &LintPlan) -> LintOutcome {
    interloper_lint::run_lint(plan).unwrap_or_else(|e| panic!("lint failed: {e}"))
}

/// A finding as the report's JSON spells it (the names a user reads: `target`, `remedy`).
pub fn json(f: &Finding) -> Value {
    serde_json::to_value(f).expect("a finding serialises")
}

/// The findings with `code`, as JSON.
pub fn with_code(outcome: &LintOutcome, code: &str) -> Vec<Value> {
    outcome
        .analysis
        .findings
        .iter()
        .map(json)
        .filter(|f| f["code"] == code)
        .collect()
}

/// Every finding's code, in the report's order.
pub fn codes(outcome: &LintOutcome) -> Vec<String> {
    outcome
        .analysis
        .findings
        .iter()
        .map(|f| f.code.as_str().to_string())
        .collect()
}

/// A readable dump for assertion messages.
pub fn why(outcome: &LintOutcome) -> String {
    let all: Vec<Value> = outcome.analysis.findings.iter().map(json).collect();
    serde_json::to_string_pretty(&all).unwrap_or_default()
}

/// The configuration line a `file:line` target names.
pub fn line_at(target: &str) -> String {
    let (file, line) = target.rsplit_once(':').expect("file:line");
    let n: usize = line.parse().expect("line number");
    std::fs::read_to_string(file)
        .expect("config")
        .lines()
        .nth(n - 1)
        .unwrap_or_default()
        .to_string()
}

/// Whether this test runs as root with a `nobody` account and a `nogroup` group: nginx's
/// workers then really run as nobody, which is what permission tests need.
pub fn root_with_nobody() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .map(|uid| uid == "0")
        })
        .unwrap_or(false);
    let has = |file: &str, name: &str| {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with(&format!("{name}:")))
    };
    root && has("/etc/passwd", "nobody") && has("/etc/group", "nogroup")
}
