//! Helpers shared by the end-to-end tests: run the binary as a user would, read its JSON.
#![allow(dead_code)]

use std::process::Output;
use std::time::Duration;

use interloper_testkit::{DjangoServer, DjangoSite, Nginx, NginxOptions};
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
/// with TLS; everything stops on drop.
pub struct Origin {
    pub nginx: Nginx,
    _django: DjangoServer,
    _site: DjangoSite,
    _dir: tempfile::TempDir,
}

pub fn origin() -> Origin {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = DjangoSite::create(&dir.path().join("site")).expect("django site");
    let django = site.runserver().expect("runserver");
    let nginx = Nginx::start(NginxOptions {
        static_root: Some(site.static_root.clone()),
        proxy_to: Some(django.port),
        ..Default::default()
    })
    .expect("nginx");
    Origin {
        nginx,
        _django: django,
        _site: site,
        _dir: dir,
    }
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
