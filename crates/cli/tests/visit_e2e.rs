//! The browser witness with a real browser: Debian's chromium (driven by Playwright from the
//! test venv, never a downloaded browser) opens `interloper echo`'s visit page directly, and
//! through mitmproxy (a real intercepting middlebox, stalling a share of responses). The page
//! shows its result without console errors (a CSP violation is one); the witness judges the
//! direct visit clean and the intercepted one intercepted, naming the hello as not the
//! browser's and the stalls as on the path; `interloper visits` summarises the log and looks a
//! visit up by its code.
//!
//! Skipped, with a message, when the venv has no Playwright or chromium is absent and `CI` is
//! unset (scripts/test installs both).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use common::{interloper, json, witness};
use interloper_testkit::{Mitmproxy, Nginx, NginxOptions, stall_addon};

/// Opens a URL in headless chromium, waits for the page's result, prints it as JSON.
const DRIVER: &str = r##"
import json, sys
from playwright.sync_api import sync_playwright
url, shot = sys.argv[1], sys.argv[2]
# Optional: an explicit proxy, and the SPKI pin of a CA to trust instead of ignoring errors.
proxy, trust = sys.argv[3], sys.argv[4]
args = ["--no-sandbox", "--disable-gpu", "--disable-quic"]
if proxy:
    # Chromium never proxies loopback unless told to.
    args += ["--proxy-server=" + proxy, "--proxy-bypass-list=<-loopback>"]
if trust:
    args += ["--ignore-certificate-errors-spki-list=" + trust]
errors = []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    ctx = browser.new_context(ignore_https_errors=not trust, viewport={"width": 900, "height": 700})
    page = ctx.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-state]", timeout=120000)
    out = {
        "state": page.get_attribute("body", "data-state"),
        "headline": page.text_content("#headline"),
        "code": page.text_content("#code"),
        "details": page.eval_on_selector_all("#details li", "els => els.map(e => e.textContent)"),
        "errors": errors,
    }
    if shot:
        page.screenshot(path=shot, full_page=True)
    browser.close()
print(json.dumps(out))
"##;

fn python_with_playwright() -> Option<PathBuf> {
    let venv = std::env::var_os("INTERLOPER_VENV").map(PathBuf::from)?;
    let python = venv.join("bin/python");
    let ok = StdCommand::new(&python)
        .args(["-c", "import playwright.sync_api"])
        .output()
        .is_ok_and(|o| o.status.success());
    let chromium = Path::new("/usr/bin/chromium").exists();
    (ok && chromium).then_some(python)
}

fn visit(python: &Path, url: &str, shot: Option<&Path>) -> serde_json::Value {
    visit_with(python, url, shot, "", "")
}

/// A visit through `proxy` (empty: none), trusting the CA whose SPKI pin is `trust` (empty:
/// every certificate error ignored).
fn visit_with(
    python: &Path,
    url: &str,
    shot: Option<&Path>,
    proxy: &str,
    trust: &str,
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("driver.py");
    std::fs::write(&script, DRIVER).unwrap();
    let mut cmd = StdCommand::new(python);
    cmd.arg(&script)
        .arg(url)
        .arg(shot.map(|s| s.display().to_string()).unwrap_or_default())
        .arg(proxy)
        .arg(trust);
    let out = cmd.output().expect("run the browser");
    assert!(
        out.status.success(),
        "browser driver failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    })
}

#[test]
fn chromium_visits_directly_and_through_an_intercepting_stalling_proxy() {
    let Some(python) = python_with_playwright() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Playwright or chromium missing: scripts/test installs them"
        );
        eprintln!("skipping: no Playwright in INTERLOPER_VENV or no chromium");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("visits.jsonl");
    // The site's own static files on real nginx (another origin): one answered with
    // Timing-Allow-Origin, one without, whose phases the browser must hide.
    let site = Nginx::start(NginxOptions {
        extra_server_conf: "location = /small.txt { add_header Timing-Allow-Origin \"*\"; }\n"
            .into(),
        ..Default::default()
    })
    .expect("nginx");
    let (_witness, witness_port) = witness(&[
        "--visits-log",
        &log.display().to_string(),
        "--visit-url",
        &site.https_url("/small.txt"),
        "--visit-url",
        &site.https_url("/1m.bin"),
    ]);

    // Directly: the hello is chromium's own.
    let shot = std::env::var_os("UPDATE_SCREENSHOT")
        .map(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/visit-page.png"));
    let direct = visit(
        &python,
        &format!(
            "https://localhost:{}/.well-known/interloper/visit?seconds=4",
            witness_port
        ),
        shot.as_deref(),
    );
    assert_eq!(direct["errors"], serde_json::json!([]), "{direct}");
    assert_eq!(direct["state"], "done", "{direct}");
    let headline = direct["headline"].as_str().unwrap();
    assert!(headline.starts_with("No interception seen"), "{direct}");

    // Through mitmproxy, which opens its own TLS connection to the witness and holds a share
    // of the test files 2.5 s.
    let mitm = Mitmproxy::reverse(
        witness_port,
        "Example Corp Outbound Gateway",
        "Example Corp",
        Some(&stall_addon(Some("/payload"), 0.3, 2.5)),
    )
    .expect("mitmproxy");
    let boxed = visit(
        &python,
        &mitm.url("/.well-known/interloper/visit?seconds=8"),
        None,
    );
    assert_eq!(boxed["errors"], serde_json::json!([]), "{boxed}");
    assert_eq!(boxed["state"], "intercepted", "{boxed}");
    let headline = boxed["headline"].as_str().unwrap();
    assert!(
        headline.starts_with("Your connection to this server is being decrypted"),
        "{boxed}"
    );
    assert!(headline.contains("stalled for more than 2 s"), "{boxed}");
    drop(mitm);

    // As the founding story's users: mitmproxy as the explicit proxy the browser is configured
    // with, its CA trusted by the browser (by its key, as an installed enterprise root is).
    let proxy = Mitmproxy::explicit("Example Corp Outbound Gateway", "Example Corp", None)
        .expect("mitmproxy");
    let ca_pem = std::fs::read(&proxy.pki.ca_cert_pem).unwrap();
    let ca_pin = interloper_chain::pins_from_pem(&ca_pem).unwrap()[0]
        .pin
        .clone()
        .unwrap();
    let spki = ca_pin.trim_start_matches("sha256//").to_string();
    let proxied = visit_with(
        &python,
        &format!(
            "https://localhost:{}/.well-known/interloper/visit?seconds=3",
            witness_port
        ),
        None,
        &format!("http://127.0.0.1:{}", proxy.port),
        &spki,
    );
    assert_eq!(proxied["errors"], serde_json::json!([]), "{proxied}");
    assert_eq!(proxied["state"], "intercepted", "{proxied}");
    drop(proxy);

    // The operator's side.
    let out = interloper(&["visits", &log.display().to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json(&out);
    assert_eq!(report["schema"], "interloper.visits/v1");
    assert_eq!(report["summary"]["visits"], 3, "{report}");
    assert_eq!(report["summary"]["intercepted"], 2, "{report}");
    assert!(
        report["summary"]["stalled_on_path"].as_u64().unwrap() >= 1,
        "{report}"
    );
    let codes = common::codes(&report);
    assert_eq!(
        codes.first().map(String::as_str),
        Some("IL701"),
        "{codes:?}"
    );
    assert!(codes.contains(&"IL702".to_string()), "{codes:?}");
    assert_eq!(report["verdict"]["status"], "intercepted");

    // The intercepted visit by the code its user was shown.
    let code = boxed["code"].as_str().unwrap();
    let out = interloper(&[
        "visits",
        &log.display().to_string(),
        "--code",
        code,
        "--json",
    ]);
    let one = json(&out);
    let v = &one["visits"][0];
    assert_eq!(v["visit"], code);
    assert_eq!(v["claimed"]["family"], "chromium", "{v}");
    assert_eq!(v["hellos"][0]["family"], "non-browser", "{v}");
    assert!(
        v["hellos"][0]["raw_base64"]
            .as_str()
            .is_some_and(|r| r.len() > 100),
        "{v}"
    );
    // The knowledge file names what re-originated the connection.
    assert!(
        v["hellos"][0]["stack"]
            .as_str()
            .is_some_and(|s| s.contains("mitmproxy")),
        "{v}"
    );
    assert_eq!(v["judgement"]["confidence"], "high", "{v}");
    // And the direct one: chromium's hello, with its traits.
    let direct_code = direct["code"].as_str().unwrap();
    let out = interloper(&[
        "visits",
        &log.display().to_string(),
        "--code",
        direct_code,
        "--json",
    ]);
    let v = &json(&out)["visits"][0];
    assert_eq!(v["hellos"][0]["family"], "chromium", "{v}");
    assert_eq!(v["judgement"]["hello_matches_user_agent"], true, "{v}");
    // Both site URLs were fetched each round, none failed, and only the one without
    // Timing-Allow-Origin hid its phases.
    let d = &v["downloads"];
    let site_n = d["site"].as_u64().unwrap();
    assert!(site_n >= 2 && site_n.is_multiple_of(2), "{d}");
    assert_eq!(d["site_failed"], 0, "{d}");
    assert_eq!(d["site_timing_hidden"].as_u64().unwrap(), site_n / 2, "{d}");

    // Terminal and HTML for a person.
    let html = dir.path().join("visits.html");
    let out = interloper(&[
        "visits",
        &log.display().to_string(),
        "--code",
        code,
        "--html",
        &html.display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INTERCEPTED")
            || text.contains("Intercepted")
            || text.contains("intercepted"),
        "{text}"
    );
    assert!(text.contains(code), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains(code) && page.contains("<table>"));

    // Bad input: not a visits log.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"not\": \"a visit\"}\nhello\n").unwrap();
    let out = interloper(&["visits", &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no line is a visit record"));
}

#[test]
fn chromium_behind_the_labs_inspecting_middlebox_sees_interception_and_stalls_on_the_path() {
    let Some(python) = python_with_playwright() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Playwright or chromium missing: scripts/test installs them"
        );
        eprintln!("skipping: no Playwright in INTERLOPER_VENV or no chromium");
        return;
    };
    // The founding story's middlebox: an admin-named CA, a third of the responses held 2.5 s,
    // the witness behind it on the same path.
    let config = interloper_lab::ScenarioFile::from_toml(
        "about = \"visit page behind inspection\"\n[lab]\nseed = 9\n[[lab.instance]]\n\
         witness = true\n[lab.instance.middlebox]\nca_common_name = \"Corp Gateway CA\"\n\
         ca_organisation = \"Example Corp IT\"\n[lab.instance.middlebox.faults]\n\
         stall_probability = 0.35\nstall = \"2500ms\"\n",
    )
    .unwrap()
    .lab;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = runtime
        .block_on(interloper_lab::Lab::start(config))
        .unwrap();
    let witness = lab.instances()[0].witness_url().unwrap();
    // *.localhost names resolve to loopback in chromium itself.
    let page = visit(
        &python,
        &format!("{witness}.well-known/interloper/visit?seconds=10"),
        None,
    );
    assert_eq!(page["errors"], serde_json::json!([]), "{page}");
    assert_eq!(page["state"], "intercepted", "{page}");
    let headline = page["headline"].as_str().unwrap();
    assert!(headline.contains("stalled for more than 2 s"), "{page}");
    let details: Vec<&str> = page["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d.as_str())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("the time went on the way")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("not Chromium's")),
        "{details:?}"
    );
}
