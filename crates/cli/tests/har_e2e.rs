//! `interloper har` over recordings made by a real browser: the system chromium, headless,
//! driven by Playwright (tests/har/record_har.py), records HARs of the lab's pages — direct,
//! through a middlebox that stalls, through one that resets, and of two instances one of
//! which is behind the stalling box — and the report must name the stalls, the failures and
//! the bad instance. With the browser's cache on, as users have it, twelve navigations of the
//! Django login page are recorded twice from one session — Playwright's HAR and a
//! DevTools-style HAR built from its CDP Network events (tests/har/devtools_har.py) — and the
//! cache hits in both must be counted as cached, never as truncation or stalls. Hand-written
//! HARs (crates/har/tests/fixtures) stand in only for the writers no browser here produces;
//! bad input is one line and exit 2.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use interloper_lab::{Lab, ScenarioFile};
use serde_json::Value;

/// The venv's python with Playwright; the suite (scripts/test) installs it.
fn python() -> PathBuf {
    let venv = interloper_testkit::venv().expect("the venv (scripts/test creates it)");
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import playwright"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} has no playwright: run scripts/test (it pip-installs playwright; the browser is \
         the system chromium, no `playwright install`)",
        python.display()
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: scripts/test installs it"
    );
    python
}

/// Records `visits` visits of each URL into `out` with headless chromium (bounded in time).
fn record(out: &Path, visits: u32, urls: &[String]) {
    record_with(out, visits, urls, &[]);
}

/// [`record`], with environment for the recorder (`HAR_LEAVE_AFTER_MS`, `HAR_HOST_RULES`).
fn record_with(out: &Path, visits: u32, urls: &[String], env: &[(&str, &str)]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/har/record_har.py");
    let status = Command::new("timeout")
        .envs(env.iter().copied())
        .arg("240")
        .arg(python())
        .arg(script)
        .arg(out)
        .arg(visits.to_string())
        .args(urls)
        .status()
        .expect("run the recorder");
    assert!(
        status.success(),
        "recording {} failed: {status}",
        out.display()
    );
    assert!(out.exists(), "no HAR written at {}", out.display());
}

fn start(toml: &str) -> (tokio::runtime::Runtime, Lab) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = ScenarioFile::from_toml(toml).expect("lab config").lab;
    let lab = rt.block_on(Lab::start(cfg)).expect("lab starts");
    (rt, lab)
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn finding<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {:#}", v["findings"]))
}

const TWO_INSTANCES: &str = r#"
about = "instance 1 direct; instance 2 behind a box that stalls a third of static responses 2 s"
[lab]
seed = 31
[[lab.instance]]
[[lab.instance]]
[lab.instance.middlebox]
ca_common_name = "Corp Gateway CA"
ca_organisation = "Example Corp IT"
[lab.instance.middlebox.faults]
stall_probability = 0.3
stall = "2s"
"#;

/// Direct: clean. Through the stalling box: IL201 in the header phase. Both: IL401 names the
/// recording of the instance behind the box. The HTML page has the waterfall.
#[test]
fn chromium_recordings_name_the_stalls_and_the_bad_instance() {
    let (_rt, lab) = start(TWO_INSTANCES);
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("direct.har");
    let bad = dir.path().join("stalling.har");
    record(&good, 6, &[lab.instances()[0].url()]);
    record(&bad, 8, &[lab.instances()[1].url()]);
    drop(lab);
    let (good, bad) = (good.to_str().expect("utf-8"), bad.to_str().expect("utf-8"));

    let out = common::interloper(&["har", good, "--json"]);
    let v = common::json(&out);
    assert_eq!(v["schema"], "interloper.har/v1");
    assert_eq!(out.status.code(), Some(0), "direct: {:#}", v["findings"]);
    assert_eq!(v["verdict"]["status"], "clean");
    assert_eq!(v["files"][0]["variant"], "playwright");
    assert!(v["files"][0]["network_requests"].as_u64().unwrap_or(0) >= 24);

    let html = dir.path().join("stalling.html");
    let out = common::interloper(&[
        "har",
        bad,
        "--json",
        "--html",
        html.to_str().expect("utf-8"),
    ]);
    let v = common::json(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["verdict"]["root_cause"], "IL201", "{:#}", v["verdict"]);
    let stalls = finding(&v, "IL201");
    let summary = stalls["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("waiting for response headers"),
        "{summary}"
    );
    let page = std::fs::read_to_string(&html).expect("HTML written");
    assert!(page.contains("<svg") && page.contains("interloper.har/v1"));
    assert!(page.contains("IL201"));

    let out = common::interloper(&["har", good, bad, "--json"]);
    let v = common::json(&out);
    assert_eq!(out.status.code(), Some(1));
    let odd = finding(&v, "IL401");
    assert_eq!(odd["target"], bad, "{odd:#}");
    assert_eq!(finding(&v, "IL201")["target"], bad);
    assert!(!codes(&v).is_empty());

    // The terminal report says the same in words.
    let out = common::interloper(&["har", good, bad]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("IL401") && text.contains("stalling.har"),
        "{text}"
    );
}

/// Through a box that drops a share of connections: the browser's net::ERR_… failures are
/// IL202 (or requests left without a response, IL210), never a clean verdict.
#[test]
fn a_chromium_recording_through_a_resetting_box_shows_the_failures() {
    let (_rt, lab) = start(
        r#"
about = "a box that drops a third of static requests"
[lab]
seed = 7
[[lab.instance]]
[lab.instance.middlebox]
ca_common_name = "Corp Gateway CA"
ca_organisation = "Example Corp IT"
[lab.instance.middlebox.faults]
reset_probability = 0.3
"#,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let har = dir.path().join("reset.har");
    record(&har, 8, &[lab.instances()[0].url()]);
    drop(lab);
    let out = common::interloper(&["har", har.to_str().expect("utf-8"), "--json"]);
    let v = common::json(&out);
    assert_eq!(out.status.code(), Some(1), "{:#}", v["findings"]);
    let failed = finding(&v, "IL202");
    let summary = failed["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("reset") || summary.contains("protocol"),
        "{summary}"
    );
    assert_eq!(v["verdict"]["status"], "failing");
}

/// One instance, two addresses: 127.0.0.1 direct and 127.0.0.2 through a relay that holds
/// handshakes and resets connections. One recording visits both (by two names, each visit in a
/// fresh browser context so each opens its own connection): IL206 names 127.0.0.2.
#[test]
fn a_chromium_recording_names_the_bad_address() {
    let (_rt, lab) = start(
        r#"
about = "a second address that holds most handshakes 2 s and resets some connections"
[lab]
seed = 12
[[lab.instance]]
[lab.instance.second_address]
stall_probability = 0.8
stall = "2s"
reset_probability = 0.1
"#,
    );
    let port = lab.instances()[0].addr.port();
    let dir = tempfile::tempdir().expect("tempdir");
    let har = dir.path().join("two-addresses.har");
    record_with(
        &har,
        10,
        &[
            format!("https://app-1.localhost:{port}/"),
            format!("https://alt-1.localhost:{port}/"),
        ],
        &[
            (
                "HAR_HOST_RULES",
                "MAP app-1.localhost 127.0.0.1, MAP alt-1.localhost 127.0.0.2",
            ),
            ("HAR_CONTEXT_PER_VISIT", "1"),
        ],
    );
    drop(lab);
    let out = common::interloper(&["har", har.to_str().expect("utf-8"), "--json"]);
    let v = common::json(&out);
    assert_eq!(out.status.code(), Some(1), "{:#}", v["findings"]);
    let address = finding(&v, "IL206");
    let summary = address["summary"].as_str().unwrap_or("");
    assert!(summary.contains("127.0.0.2"), "{summary}");
    assert!(!summary.contains("127.0.0.1"), "{summary}");
}

/// mitmproxy's own HAR export (`hardump`) of chromium's visits through it to the real stack
/// (nginx, Django) behind a second mitmproxy that stalls a share of static responses: the
/// recording mitmproxy sees the upstream wait, and the report names the stalls from its
/// export too.
#[test]
fn a_mitmproxy_recording_names_the_stalls_upstream() {
    let origin = common::origin();
    let stalling = interloper_testkit::Mitmproxy::reverse(
        origin.nginx.https_port,
        "Corp Gateway CA",
        "Example Corp IT",
        Some(&interloper_testkit::stall_addon(Some("/static/"), 0.3, 2.0)),
    )
    .expect("the stalling mitmdump starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let har = dir.path().join("mitmproxy.har");
    // mitmproxy keeps flows for its HAR only while `hardump` is set, and writes it on exit.
    let addon = format!(
        "from mitmproxy import ctx\n\n\nclass Dump:\n    def running(self):\n        \
         ctx.options.update(hardump={:?})\n\n\naddons = [Dump()]\n",
        har.display().to_string()
    );
    let recording = interloper_testkit::Mitmproxy::reverse(
        stalling.port,
        "mitmproxy",
        "mitmproxy",
        Some(&addon),
    )
    .expect("the recording mitmdump starts");
    record_with(
        &dir.path().join("chromium.har"),
        8,
        &[recording.url("/admin/login/")],
        &[("HAR_HOST_RULES", "MAP localhost 127.0.0.1")],
    );
    drop(recording);
    let out = common::interloper(&["har", har.to_str().expect("utf-8"), "--json"]);
    let v = common::json(&out);
    assert_eq!(v["files"][0]["variant"], "mitmproxy", "{:#}", v["files"]);
    assert!(
        v["files"][0]["network_requests"].as_u64().unwrap_or(0) >= 16,
        "{:#}",
        v["files"]
    );
    assert_eq!(out.status.code(), Some(1), "{:#}", v["findings"]);
    let stalls = finding(&v, "IL201");
    let summary = stalls["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("waiting for response headers"),
        "{summary}"
    );
}

/// A user who saves the HAR while the page still waits on stalled files: chromium writes those
/// requests without a response (status -1, no failure text), which is IL210 naming the files,
/// not a failure of the path.
#[test]
fn a_recording_saved_while_files_are_pending_shows_requests_never_answered() {
    let (_rt, lab) = start(
        r#"
about = "a box that holds every static response 20 s"
[lab]
seed = 3
[[lab.instance]]
[lab.instance.middlebox]
ca_common_name = "Corp Gateway CA"
ca_organisation = "Example Corp IT"
[lab.instance.middlebox.faults]
stall_probability = 1.0
stall = "20s"
"#,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let har = dir.path().join("pending.har");
    record_with(
        &har,
        1,
        &[lab.instances()[0].url()],
        &[("HAR_LEAVE_AFTER_MS", "2000")],
    );
    drop(lab);
    let out = common::interloper(&["har", har.to_str().expect("utf-8"), "--json"]);
    let v = common::json(&out);
    assert_eq!(out.status.code(), Some(1), "{:#}", v["findings"]);
    let never = finding(&v, "IL210");
    let summary = never["summary"].as_str().unwrap_or("");
    assert!(summary.contains("no reason recorded"), "{summary}");
    assert!(
        never["assets"].as_array().is_some_and(|a| a
            .iter()
            .any(|u| u.as_str().unwrap_or("").contains("/static/"))),
        "{never:#}"
    );
    assert!(
        !codes(&v).contains(&"IL202".to_string()),
        "{:#}",
        v["findings"]
    );
    assert!(
        v["files"][0]["unanswered"].as_u64().unwrap_or(0) >= 2,
        "{:#}",
        v["files"]
    );
}

/// Records `visits` visits of `url` with the browser's cache on, as users have it, into
/// `playwright.har` (Playwright's own recording) and `devtools.har` (the DevTools-style HAR
/// built from the same session's CDP Network events) in `dir`; returns both paths.
fn record_cached(dir: &Path, visits: u32, url: String) -> [String; 2] {
    let playwright = dir.join("playwright.har");
    let devtools = dir.join("devtools.har");
    record_with(
        &playwright,
        visits,
        &[url],
        &[
            ("HAR_HOST_RULES", "MAP localhost 127.0.0.1"),
            ("HAR_KEEP_CACHE", "1"),
            ("HAR_DEVTOOLS_OUT", devtools.to_str().expect("utf-8")),
        ],
    );
    assert!(devtools.exists(), "no DevTools-style HAR written");
    [playwright, devtools].map(|p| p.to_str().expect("utf-8").to_string())
}

/// Entries the report counts as served from a cache, all sources together.
fn cached(file: &Value) -> u64 {
    file["cached"]
        .as_array()
        .map(|sources| sources.iter().filter_map(|s| s[1].as_u64()).sum())
        .unwrap_or(0)
}

/// The Django origin as deployments configure it: the hashed static files cacheable for a
/// year (`immutable`), so from the second navigation on chromium takes them from its memory
/// cache; the login page itself stays `no-cache` (Django's never_cache).
fn origin_caching_static() -> interloper_testkit::DjangoOrigin {
    interloper_testkit::DjangoOrigin::start_with(|_| {
        "set $static_cache \"\";\n\
         if ($uri ~ \"^/static/\") { set $static_cache \"public, max-age=31536000, immutable\"; }\n\
         add_header Cache-Control $static_cache;\n"
            .to_string()
    })
    .expect("django origin behind nginx")
}

/// `interloper har HAR --json`, checked to be clean (nothing at warning or above, no IL203)
/// and read by `variant`'s rules; its `files[0]`.
fn clean_report(har: &str, variant: &str) -> Value {
    let out = common::interloper(&["har", har, "--json"]);
    let v = common::json(&out);
    let file = &v["files"][0];
    assert_eq!(file["variant"], variant, "{file:#}");
    assert_eq!(out.status.code(), Some(0), "{har}: {:#}", v["findings"]);
    assert_eq!(v["verdict"]["status"], "clean", "{har}: {:#}", v["verdict"]);
    assert!(
        codes(&v).iter().all(|c| c != "IL203"),
        "{:#}",
        v["findings"]
    );
    // The report says what the cache answered: files served from memory, files revalidated
    // (304), or both. Which of the two chromium chooses for files without caching headers
    // depends on their age: their heuristic freshness is a tenth of it, and collectstatic
    // wrote them seconds ago, so on a loaded machine every one may be revalidated.
    let words = common::interloper(&["har", har]);
    let text = String::from_utf8_lossy(&words.stdout);
    let revalidated = file["revalidated"].as_u64().unwrap_or(0);
    assert!(cached(file) + revalidated > 0, "{file:#}");
    if cached(file) > 0 {
        assert!(text.contains("from the browser's cache"), "{text}");
    }
    if revalidated > 0 {
        assert!(text.contains("revalidated: 304"), "{text}");
    }
    file.clone()
}

/// Twelve navigations of the real Django login page (nginx, collectstatic) with the cache on,
/// recorded by Playwright and, from the same session, DevTools-style. Static files cacheable
/// for a year: after the first page every file comes from chromium's memory cache (Playwright:
/// `_transferSize` 0, negative `bodySize`, no wait; DevTools: `_fromCache`). Without caching
/// headers chromium revalidates some (304) and takes others from memory, a split that varies
/// from run to run (all revalidated on a slow run); every one of them is cached or
/// revalidated, none truncated. Both
/// recordings clean, both counting what the cache served.
#[test]
fn cached_navigations_of_a_clean_page_are_clean_in_both_recordings() {
    let origin = origin_caching_static();
    let dir = tempfile::tempdir().expect("tempdir");
    let hars = record_cached(dir.path(), 12, origin.nginx.https_url("/admin/login/"));
    drop(origin);
    for (har, variant) in hars.iter().zip(["playwright", "chrome"]) {
        let file = clean_report(har, variant);
        // 12 pages with (at least) three of the admin's files each: the pages over the
        // network, the files from the memory cache from the second page on.
        assert!(cached(&file) >= 11 * 3, "{har}: {file:#}");
        assert!(file["network_requests"].as_u64() >= Some(12), "{file:#}");
    }

    let origin = common::origin();
    let dir = tempfile::tempdir().expect("tempdir");
    let hars = record_cached(dir.path(), 12, origin.nginx.https_url("/admin/login/"));
    drop(origin);
    for (har, variant) in hars.iter().zip(["playwright", "chrome"]) {
        let file = clean_report(har, variant);
        let revalidated = file["revalidated"].as_u64().unwrap_or(0);
        assert!(cached(&file) + revalidated >= 11 * 3, "{har}: {file:#}");
    }
}

/// A page whose service worker answers from its cache storage (the stylesheet) or fetches
/// through the HTTP cache (the page), served by nginx over http://localhost (a secure context,
/// as service workers need).
const SW_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>sw</title>\n\
    <link rel=\"stylesheet\" href=\"app.css\"></head><body><h1>served by a worker</h1>\n\
    <script>navigator.serviceWorker.register('sw.js');</script></body></html>\n";
const SW_SCRIPT: &str = "self.addEventListener('install', e => {\n\
    e.waitUntil(caches.open('v1').then(c => c.addAll(['app.css']))); self.skipWaiting(); });\n\
    self.addEventListener('activate', e => e.waitUntil(self.clients.claim()));\n\
    self.addEventListener('fetch', e => e.respondWith(\n\
    caches.match(e.request).then(r => r || fetch(e.request))));\n";

/// Twelve navigations of a page a service worker controls from the second on: chromium's
/// responses from the worker (DevTools: `_fetchedViaServiceWorker`; Playwright: no byte on the
/// wire) are cached, the worker's script and the revalidations of its fetches (bodies the
/// network stack never counted) are not truncated; both recordings clean.
#[test]
fn service_worker_navigations_are_cached_and_clean_in_both_recordings() {
    let site = tempfile::tempdir().expect("tempdir");
    let css = format!("body {{ color: #234; }}\n/* {} */\n", "x".repeat(5000));
    for (name, body) in [
        ("index.html", SW_PAGE),
        ("sw.js", SW_SCRIPT),
        ("app.css", &css),
    ] {
        std::fs::write(site.path().join(name), body).expect("write the site");
    }
    let nginx = interloper_testkit::Nginx::start(interloper_testkit::NginxOptions {
        static_root: Some(site.path().to_path_buf()),
        ..Default::default()
    })
    .expect("nginx starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let playwright = dir.path().join("playwright.har");
    let devtools = dir.path().join("devtools.har");
    record_with(
        &playwright,
        12,
        &[nginx.http_url("/static/index.html")],
        &[
            ("HAR_HOST_RULES", "MAP localhost 127.0.0.1"),
            ("HAR_KEEP_CACHE", "1"),
            ("HAR_AWAIT_JS", "navigator.serviceWorker.ready"),
            ("HAR_DEVTOOLS_OUT", devtools.to_str().expect("utf-8")),
        ],
    );
    drop(nginx);
    let file = clean_report(playwright.to_str().expect("utf-8"), "playwright");
    // Pages and stylesheets of visits 2–12 came from the worker.
    assert!(cached(&file) >= 11 * 2, "{file:#}");
    let file = clean_report(devtools.to_str().expect("utf-8"), "chrome");
    let by_worker = file["cached"]
        .as_array()
        .and_then(|c| c.iter().find(|s| s[0] == "service-worker"))
        .and_then(|s| s[1].as_u64());
    assert!(by_worker >= Some(11 * 2), "{file:#}");
}

/// The same navigations through a middlebox (mitmproxy in front of nginx) that holds a third
/// of the responses 2 s: the cached files never reach it, the pages and first loads do; both
/// recordings name the stall in the header phase and still count the cache hits apart.
#[test]
fn cached_navigations_through_a_stalling_box_name_the_stall_in_both_recordings() {
    let origin = origin_caching_static();
    let stalling = interloper_testkit::Mitmproxy::reverse(
        origin.nginx.https_port,
        "Corp Gateway CA",
        "Example Corp IT",
        Some(&interloper_testkit::stall_addon(None, 0.3, 2.0)),
    )
    .expect("the stalling mitmdump starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let hars = record_cached(dir.path(), 12, stalling.url("/admin/login/"));
    drop(stalling);
    drop(origin);
    for har in &hars {
        let out = common::interloper(&["har", har, "--json"]);
        let v = common::json(&out);
        assert_eq!(out.status.code(), Some(1), "{har}: {:#}", v["findings"]);
        assert_eq!(
            v["verdict"]["root_cause"], "IL201",
            "{har}: {:#}",
            v["verdict"]
        );
        let summary = finding(&v, "IL201")["summary"].as_str().unwrap_or("");
        assert!(
            summary.contains("waiting for response headers"),
            "{har}: {summary}"
        );
        assert!(
            codes(&v).iter().all(|c| c != "IL203"),
            "{:#}",
            v["findings"]
        );
        assert!(cached(&v["files"][0]) >= 11 * 3, "{har}: {:#}", v["files"]);
    }
}

/// Every hand-written variant is read; not JSON, a wrong version and a truncated file are one
/// line on stderr and exit 2.
#[test]
fn fixtures_are_read_and_bad_input_is_one_line_and_exit_2() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../har/tests/fixtures");
    let mut files: Vec<String> = std::fs::read_dir(&fixtures)
        .expect("fixtures")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    files.sort();
    let mut args = vec!["har", "--json"];
    args.extend(files.iter().map(String::as_str));
    let out = common::interloper(&args);
    let v = common::json(&out);
    assert_eq!(v["files"].as_array().map(Vec::len), Some(files.len()));
    for code in ["IL202", "IL203", "IL210", "IL211"] {
        finding(&v, code);
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let full = std::fs::read_to_string(fixtures.join("firefox.har")).expect("fixture");
    for (name, text, words) in [
        ("not-json.har", "hello".to_string(), "not JSON"),
        (
            "v2.har",
            r#"{"log": {"version": "2.0", "entries": []}}"#.to_string(),
            "version \"2.0\"",
        ),
        ("cut.har", full[..full.len() / 2].to_string(), "truncated"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let out = common::interloper(&["har", path.to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(err.contains(words) && err.contains(name), "{name}: {err}");
    }
}
