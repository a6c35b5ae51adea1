//! The scenario suite: every file in `tests/scenarios/` is a lab (or a real stack of nginx,
//! Django and mitmproxy) plus the diagnosis `interloper check` must give for it. Each file runs
//! the real binary as a subprocess against the setup and asserts the exit code, the verdict
//! and the finding codes — including that nothing else shows up at warning or above, so the
//! clean baselines guard against false positives. Format: `tests/scenarios/README.md`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use interloper_lab::{Lab, LabConfig, Scenario, ScenarioFile};
use serde::Deserialize;
use serde_json::Value;

/// A scenario file: what to start, how to check it, what the check must say.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    about: String,
    /// One of the built-in lab scenarios (`interloper demo --list`).
    builtin: Option<String>,
    /// A lab of its own (read by `interloper_lab::ScenarioFile`).
    lab: Option<toml::Value>,
    /// The real stack instead of the lab.
    real: Option<Real>,
    #[serde(default)]
    check: CheckSpec,
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckSpec {
    /// `--samples`.
    samples: Option<u32>,
    /// Extra `interloper check` arguments.
    #[serde(default)]
    args: Vec<String>,
    /// `public-root`: pass `--expect-pin` with the SPKI pin of the lab's public root.
    expect_pin_of: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    exit: i32,
    /// `verdict.status`.
    verdict: Option<String>,
    /// `verdict.root_cause`.
    root_cause: Option<String>,
    /// `verdict.target` is this instance's URL (numbered from 1).
    target: Option<usize>,
    /// Codes that must be present (any severity).
    codes: Vec<String>,
    /// Other codes tolerated at warning or above.
    #[serde(default)]
    allowed: Vec<String>,
    /// Codes that must be present at info severity.
    #[serde(default)]
    info: Vec<String>,
    /// Codes that must not appear at any severity.
    #[serde(default)]
    absent: Vec<String>,
    /// Phrases the verdict summary must contain.
    #[serde(default)]
    summary_contains: Vec<String>,
    /// Every target examined this many assets (the page and every file it loads): a fault
    /// must not silently hide a file from the check.
    assets: Option<u64>,
}

/// nginx serving Django's admin static files (collectstatic, ManifestStaticFilesStorage),
/// with Django behind it; optionally mitmproxy in reverse mode in front, with a fault addon.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Real {
    mitmproxy: Option<CaName>,
    addon: Option<Addon>,
    /// The page to check (default `admin/login/`).
    page: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaName {
    ca_common_name: String,
    ca_organisation: String,
    /// This machine has the CA installed (`--cacert`); false: an unmanaged laptop without it.
    #[serde(default = "installed_by_default")]
    installed: bool,
}

fn installed_by_default() -> bool {
    true
}

/// One seeded fault on `/static/` responses, in a mitmproxy addon.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Addon {
    /// Hold this share of responses for `stall` before sending them.
    stall_probability: Option<f64>,
    stall: Option<String>,
    /// Change one byte in the middle of this share of bodies (length kept).
    tamper_probability: Option<f64>,
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

fn load(name: &str) -> (Spec, String) {
    let path = scenarios_dir().join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec: Spec = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}.toml: {e}"));
    (spec, text)
}

fn lab_config(name: &str, spec: &Spec, text: &str) -> Option<LabConfig> {
    match (&spec.builtin, &spec.lab, &spec.real) {
        (Some(b), None, None) => Some(
            Scenario::find(b)
                .unwrap_or_else(|| panic!("{name}: no built-in scenario {b:?}"))
                .config()
                .expect("built-in scenario parses"),
        ),
        (None, Some(_), None) => Some(
            ScenarioFile::from_toml(text)
                .unwrap_or_else(|e| panic!("{name}.toml: {e}"))
                .lab,
        ),
        (None, None, Some(_)) => None,
        _ => panic!("{name}.toml: give exactly one of builtin, [lab] or [real]"),
    }
}

/// The `sha256//…` pin of the first certificate in a PEM file, as `interloper pin` prints it.
fn pin_of(pem: &Path) -> String {
    let out = common::interloper(&["pin", pem.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "interloper pin failed");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("sha256//"))
        .expect("a pin")
        .to_string()
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 3,
        "error" => 2,
        "warning" => 1,
        _ => 0,
    }
}

/// Everything a failure needs to explain itself.
fn explain(name: &str, about: &str, report: &Value, stderr: &str) -> String {
    let mut s = format!(
        "scenario {name}: {about}\nverdict: {} (root cause {}, target {})\n  {}\nfindings:\n",
        report["verdict"]["status"],
        report["verdict"]["root_cause"],
        report["verdict"]["target"],
        report["verdict"]["summary"].as_str().unwrap_or_default()
    );
    for f in report["findings"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "  {} {} {} {}: {}\n",
            f["code"].as_str().unwrap_or_default(),
            f["severity"].as_str().unwrap_or_default(),
            f["confidence"].as_str().unwrap_or_default(),
            f["target"].as_str().unwrap_or_default(),
            f["summary"].as_str().unwrap_or_default()
        ));
    }
    for t in report["targets"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "target {}: {} assets, {} requests\n",
            t["summary"]["label"].as_str().unwrap_or_default(),
            t["summary"]["assets"],
            t["summary"]["requests"]
        ));
        for a in t["assets"].as_array().into_iter().flatten() {
            s.push_str(&format!("  {}\n", a["url"].as_str().unwrap_or_default()));
        }
    }
    for n in report["notes"].as_array().into_iter().flatten() {
        s.push_str(&format!("note: {}\n", n.as_str().unwrap_or_default()));
    }
    if !stderr.trim().is_empty() {
        s.push_str(&format!("stderr:\n{stderr}\n"));
    }
    s
}

fn assert_expected(
    name: &str,
    spec: &Spec,
    code: Option<i32>,
    report: &Value,
    targets: &[String],
    stderr: &str,
) {
    let why = explain(name, &spec.about, report, stderr);
    if std::env::var_os("INTERLOPER_SCENARIO_SHOW").is_some() {
        eprintln!("{why}");
    }
    let e = &spec.expect;
    let findings: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(code, Some(e.exit), "exit code\n{why}");
    if let Some(v) = &e.verdict {
        assert_eq!(report["verdict"]["status"], v.as_str(), "verdict\n{why}");
    }
    if let Some(r) = &e.root_cause {
        assert_eq!(
            report["verdict"]["root_cause"],
            r.as_str(),
            "root cause\n{why}"
        );
    }
    if let Some(n) = e.target {
        let url = targets
            .get(n - 1)
            .unwrap_or_else(|| panic!("{name}: no instance {n}"));
        assert_eq!(report["verdict"]["target"], url.as_str(), "target\n{why}");
    }
    let present: BTreeSet<&str> = findings.iter().map(|(c, _)| c.as_str()).collect();
    for c in &e.codes {
        assert!(present.contains(c.as_str()), "{c} missing\n{why}");
    }
    for c in &e.info {
        assert!(
            findings.iter().any(|(fc, s)| fc == c && s == "info"),
            "{c} missing at info\n{why}"
        );
    }
    for c in &e.absent {
        assert!(!present.contains(c.as_str()), "{c} must not appear\n{why}");
    }
    for (c, s) in &findings {
        if severity_rank(s) >= 1 {
            assert!(
                e.codes.contains(c) || e.allowed.contains(c),
                "unexpected {c} at {s}\n{why}"
            );
        }
    }
    if let Some(n) = e.assets {
        let targets = report["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "no targets\n{why}");
        for t in targets {
            assert_eq!(
                t["summary"]["assets"].as_u64(),
                Some(n),
                "assets examined for {}\n{why}",
                t["summary"]["label"]
            );
        }
    }
    let summary = report["verdict"]["summary"].as_str().unwrap_or_default();
    for phrase in &e.summary_contains {
        assert!(
            summary.contains(phrase.as_str()),
            "summary lacks {phrase:?}\n{why}"
        );
    }
}

fn run_check(name: &str, argv: &[String]) -> (Option<i32>, Value, String) {
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = assert_cmd::Command::cargo_bin("interloper")
        .expect("binary")
        .args(&args)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(180))
        .output()
        .expect("run interloper");
    // Every request of a run, to find why a scenario failed once (scripts/stress-scenarios).
    if let Some(dir) = std::env::var_os("INTERLOPER_SCENARIO_JSON_DIR") {
        let path = Path::new(&dir).join(format!("{name}.json"));
        std::fs::write(&path, &out.stdout)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    let report = common::json(&out);
    (
        out.status.code(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_lab(name: &str, spec: &Spec, cfg: LabConfig) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let lab = rt
        .block_on(Lab::start(cfg))
        .unwrap_or_else(|e| panic!("{name}: starting the lab: {e:#}"));
    let mut argv = vec!["check".to_string()];
    argv.extend(
        lab.check_plan(spec.check.samples.unwrap_or(10))
            .to_check_args(),
    );
    match spec.check.expect_pin_of.as_deref() {
        None => {}
        Some("public-root") => {
            argv.push("--expect-pin".into());
            argv.push(pin_of(lab.public_roots_pem_path()));
        }
        Some(other) => panic!("{name}: expect_pin_of = {other:?}: only public-root"),
    }
    argv.extend(spec.check.args.iter().cloned());
    argv.push("--json".into());
    let targets: Vec<String> = lab.instances().iter().map(|i| i.url()).collect();
    let (code, report, stderr) = run_check(name, &argv);
    rt.block_on(lab.shutdown());
    assert_expected(name, spec, code, &report, &targets, &stderr);
}

/// The mitmproxy addon for one fault, seeded like testkit's stall addon.
fn addon_source(name: &str, a: &Addon) -> String {
    match (a.stall_probability, &a.stall, a.tamper_probability) {
        (Some(share), Some(stall), None) => {
            let secs = interloper_lab::duration_text::parse(stall)
                .expect("addon stall duration")
                .as_secs_f64();
            interloper_testkit::stall_addon(Some("/static/"), share, secs)
        }
        (None, None, Some(share)) => tamper_addon(share),
        _ => panic!(
            "{name}: an addon has one fault: stall_probability with stall, or tamper_probability"
        ),
    }
}

/// A mitmproxy addon that flips a bit of one byte in a seeded share of successful static
/// bodies (mitmproxy re-encodes and fixes Content-Length), as a scanner rewriting content would.
fn tamper_addon(share: f64) -> String {
    format!(
        "import random\n\
         rng = random.Random(7)\n\
         class Tamper:\n\
         \x20   def response(self, flow):\n\
         \x20       if \"/static/\" in flow.request.path and flow.response.status_code == 200 \
         and flow.response.content and rng.random() < {share}:\n\
         \x20           body = bytearray(flow.response.content)\n\
         \x20           body[len(body) // 2] ^= 0x20\n\
         \x20           flow.response.content = bytes(body)\n\
         addons = [Tamper()]\n"
    )
}

fn run_real(name: &str, spec: &Spec, real: &Real) {
    let origin = common::origin();
    let page = real.page.as_deref().unwrap_or("admin/login/");
    let addon = real.addon.as_ref().map(|a| addon_source(name, a));
    let mitm = real.mitmproxy.as_ref().map(|ca| {
        interloper_testkit::Mitmproxy::reverse(
            origin.nginx.https_port,
            &ca.ca_common_name,
            &ca.ca_organisation,
            addon.as_deref(),
        )
        .expect("mitmproxy")
    });
    assert!(
        mitm.is_some() || addon.is_none(),
        "{name}: an addon needs mitmproxy"
    );
    let public = origin.nginx.pki.ca_cert_pem.display().to_string();
    let mut argv: Vec<String> = [
        "check",
        "--public-roots",
        &public,
        "--no-os-roots",
        "--no-proxy",
        "--budget",
        "60s",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    argv.push("--samples".into());
    argv.push(spec.check.samples.unwrap_or(10).to_string());
    let installed = real.mitmproxy.as_ref().is_some_and(|ca| ca.installed);
    let url = match &mitm {
        Some(m) => {
            if installed {
                argv.push("--cacert".into());
                argv.push(m.pki.ca_cert_pem.display().to_string());
            }
            m.url(page)
        }
        None => origin.nginx.https_url(page),
    };
    argv.extend(spec.check.args.iter().cloned());
    argv.push("--json".into());
    argv.push(url.clone());
    let (code, report, stderr) = run_check(name, &argv);
    assert_expected(name, spec, code, &report, &[url], &stderr);
}

fn scenario(name: &str) {
    let (spec, text) = load(name);
    match lab_config(name, &spec, &text) {
        Some(cfg) => run_lab(name, &spec, cfg),
        None => run_real(name, &spec, spec.real.as_ref().expect("real")),
    }
}

macro_rules! scenarios {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                scenario($file);
            }
        )*

        /// Every file has a test, and every test a file.
        const NAMES: &[&str] = &[$($file),*];
    };
}

scenarios! {
    inspection => "inspection",
    clean => "clean",
    fortigate => "fortigate",
    private => "private",
    truncate => "truncate",
    reset => "reset",
    midbody => "midbody",
    drop_large => "drop-large",
    trickle => "trickle",
    tamper => "tamper",
    downgrade => "downgrade",
    address => "address",
    origin => "origin",
    pin_mismatch => "pin-mismatch",
    pin_match => "pin-match",
    http2_only => "http2-only",
    forbidden => "forbidden",
    server_error => "server-error",
    short_cache => "short-cache",
    versions => "versions",
    witness_direct => "witness-direct",
    witness_proof => "witness-proof",
    real_clean => "real-clean",
    real_mitmproxy => "real-mitmproxy",
    real_stall => "real-stall",
    real_tamper => "real-tamper",
    real_untrusted => "real-untrusted",
    stall => "stall",
    single_vantage => "single-vantage",
    private_stable => "private-stable",
    hostile_origin => "hostile-origin",
    pq_reset => "pq-reset",
    pq_stall => "pq-stall",
}

#[test]
fn every_file_has_a_test_and_every_test_a_file() {
    let mut on_disk: Vec<String> = std::fs::read_dir(scenarios_dir())
        .expect("tests/scenarios")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = NAMES.iter().map(|s| (*s).to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn the_suite_covers_every_finding_code() {
    let mut expected = BTreeSet::new();
    for name in NAMES {
        let (spec, _) = load(name);
        expected.extend(spec.expect.codes.iter().cloned());
        expected.extend(spec.expect.info.iter().cloned());
    }
    // IL5xx come from access logs, not from a check against a lab: tests/logs_e2e.rs and the
    // logs crate's tests cover them. IL6xx come from reading a server (`interloper lint`):
    // tests/lint.rs and the lint crate's tests cover them.
    let missing: Vec<&str> = interloper_findings::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !c.starts_with("IL5"))
        // IL6xx come from `interloper lint` on a server: tests/lint.rs covers them.
        .filter(|c| !c.starts_with("IL6"))
        // Only a browser's recording shows these: tests/har_e2e.rs records them.
        .filter(|c| !matches!(*c, "IL210" | "IL211"))
        // IL7xx come from the witness's visits log: tests/visit_e2e.rs makes them with a real
        // browser.
        .filter(|c| !c.starts_with("IL7"))
        // These come from captures (`interloper pcap`): tests/pcap_e2e.rs covers them.
        .filter(|c| !["IL110", "IL111", "IL212", "IL213", "IL214", "IL215"].contains(c))
        // A server sending its leaf without the intermediate needs a three-level PKI the lab
        // does not build: tests/incomplete_chain.rs serves one from real nginx.
        .filter(|c| *c != "IL113")
        // A keep-alive close crossing a request needs a path with latency, which the lab's
        // loopback has not: crates/check/tests/keepalive_race.rs makes it with nginx.
        .filter(|c| *c != "IL216")
        .filter(|c| !expected.contains(*c))
        .collect();
    assert!(missing.is_empty(), "no scenario expects {missing:?}");
}

#[test]
fn every_scenario_file_is_well_formed() {
    for name in NAMES {
        let (spec, text) = load(name);
        let _ = lab_config(name, &spec, &text);
        assert!(!spec.about.is_empty(), "{name}");
    }
}
