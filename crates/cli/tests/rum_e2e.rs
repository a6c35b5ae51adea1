//! The founding story, with real users' browsers as the vantage point: a Django site with
//! interloper-django (python/interloper-django) whose static files come from other origins,
//! `s1…s6.static.app.test` (one file each), served by four nginx instances (each naming itself in `Server-Timing`,
//! the nginx snippet of docs/rum.md) behind a real load balancer spreading connections round
//! robin (HAProxy in TCP mode, so each TLS handshake is with an instance); the fourth behind an
//! HTTPS-inspecting middlebox (mitmproxy) that holds a seeded 20 % of TLS handshakes 2 s.
//! Playwright drives the system chromium through a bounded number of page views, each in a
//! fresh context with the cache off, from two client networks at once: loopback, and a network
//! namespace of the test's own (`testkit::NetNs`); the page's script sends its beacon to
//! Django's endpoint. `interloper rum` must name app4 and the TLS phase on both networks, with
//! no network singled out; the all-clean twin (the fourth instance direct) must say nothing at
//! warning or above.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use interloper_testkit::{Mitmproxy, NetNs, Nginx, NginxOptions, Spawned, free_port};
use serde_json::Value;

/// Page views per client network of the inspected rig: six files each, a quarter of them on
/// app4, 20 % of whose handshakes stall. Chromium hides some of those stalls (a request held
/// for a stalled handshake goes out on another connection: docs/rum.md), so each network needs
/// enough of them for app4's to show on it; bounded in time (about 2.5 s a view, three open at
/// once).
const VIEWS_PER_NETWORK: usize = 120;
/// Page views of the all-clean twin.
const CLEAN_VIEWS: usize = 60;
/// Page views open at once in one browser (separate contexts share no connection).
const PARALLEL: usize = 3;

/// One browser rig at a time: two would share two cores with the rest of the suite.
static RIG: Mutex<()> = Mutex::new(());

/// The package's directory in the repository.
fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../python/interloper-django")
        .canonicalize()
        .expect("python/interloper-django")
}

fn python() -> PathBuf {
    interloper_testkit::venv()
        .expect("the venv (scripts/test creates it)")
        .join("bin/python")
}

/// The story page's files, in sizes from a GIF pixel to 200 KB (valid content: an error event
/// would be a failure).
fn write_story_files(dir: &Path) {
    let story = dir.join("story");
    std::fs::create_dir_all(&story).expect("story dir");
    let pad = |n: usize| "x".repeat(n);
    let files: [(&str, Vec<u8>); 5] = [
        ("small.css", format!("/* {} */ h1 {{ color: #123; }}\n", pad(2_000)).into_bytes()),
        ("medium.js", format!("/* {} */ window.medium = 1;\n", pad(30_000)).into_bytes()),
        ("large.js", format!("/* {} */ window.large = 1;\n", pad(200_000)).into_bytes()),
        (
            "pixel.gif",
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec(),
        ),
        (
            "icon.svg",
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\"><!-- {} --><rect width=\"8\" height=\"8\"/></svg>\n",
                pad(5_000)
            )
            .into_bytes(),
        ),
    ];
    for (name, bytes) in files {
        std::fs::write(story.join(name), bytes).expect("story file");
    }
}

/// Everything the rig runs; dropped in reverse order of start.
struct Rig {
    _django: Spawned,
    _haproxy: Spawned,
    _middlebox: Option<Mitmproxy>,
    _nginx: Vec<Nginx>,
    page: String,
    /// The page as the namespace's browser reaches it, with the host's address there.
    ns_page: Option<(String, String)>,
    log: PathBuf,
    _tmp: tempfile::TempDir,
}

/// A mitmproxy addon holding a seeded `share` of TLS handshakes `seconds` when the client's
/// hello arrives: an inspecting box whose handshakes sometimes stall.
fn handshake_stall_addon(share: f64, seconds: f64) -> String {
    format!(
        "import asyncio, random\n\
         rng = random.Random(29)\n\
         class StallHandshake:\n\
         \x20   async def tls_clienthello(self, data):\n\
         \x20       if rng.random() < {share}:\n\
         \x20           await asyncio.sleep({seconds})\n\
         addons = [StallHandshake()]\n"
    )
}

/// The rig; with `ns`, its balancer and Django also listen where the namespace's clients reach
/// the host.
fn start_rig(inspected: bool, ns: Option<&NetNs>) -> Rig {
    let tmp = tempfile::tempdir().expect("tempdir");
    let extra = tmp.path().join("extra-static");
    write_story_files(&extra);
    let root = tmp.path().join("static-root");
    let log = tmp.path().join("beacons.jsonl");
    let (lb_port, django_port) = (free_port(), free_port());
    let env: Vec<(&str, String)> = vec![
        ("PYTHONPATH", format!("{0}/src:{0}", package().display())),
        ("INTERLOPER_TEST_STATIC_ROOT", root.display().to_string()),
        ("INTERLOPER_TEST_EXTRA_STATIC", extra.display().to_string()),
        (
            "INTERLOPER_TEST_STATIC_URL",
            format!("https://static.app.test:{lb_port}/static/"),
        ),
        // Each file from its own host (s1…s6.static.app.test, all through the balancer): one
        // request per host is one connection per file, so no file rides a connection another
        // file's handshake won, as several requests for one host would race.
        (
            "INTERLOPER_TEST_SHARDS",
            (1..=6)
                .map(|n| format!("https://s{n}.static.app.test:{lb_port}/static/"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("INTERLOPER_RUM_LOG", log.display().to_string()),
        ("INTERLOPER_RUM_SAMPLE", "1".into()),
        ("INTERLOPER_RUM_DELAY_MS", "300".into()),
        ("INTERLOPER_INSTANCE", "django".into()),
    ];
    let collected = Command::new(python())
        .args(["tests/manage.py", "collectstatic", "--noinput"])
        .current_dir(package())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("collectstatic");
    assert!(collected.status.success(), "{collected:?}");

    let mut nginx = Vec::new();
    for n in 1..=4 {
        nginx.push(
            Nginx::start(NginxOptions {
                static_root: Some(root.clone()),
                // docs/rum.md's snippet; another origin's page needs Timing-Allow-Origin too.
                extra_server_conf: format!(
                    "add_header Server-Timing 'inst;desc=\"app{n}\"' always;\n\
                     add_header Timing-Allow-Origin \"*\" always;\n"
                ),
                ..NginxOptions::default()
            })
            .expect("nginx"),
        );
    }
    let middlebox = inspected.then(|| {
        Mitmproxy::reverse(
            nginx[3].https_port,
            "Corp Gateway CA",
            "Example Corp IT",
            Some(&handshake_stall_addon(0.2, 2.0)),
        )
        .expect("mitmproxy")
    });
    let fourth = middlebox.as_ref().map_or(nginx[3].https_port, |m| m.port);
    let ports = [
        nginx[0].https_port,
        nginx[1].https_port,
        nginx[2].https_port,
        fourth,
    ];
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  server app{} 127.0.0.1:{p}\n", i + 1))
        .collect();
    let ns_bind = ns.map_or(String::new(), |ns| {
        format!("  bind {}:{lb_port}\n", ns.host_address())
    });
    let config = tmp.path().join("haproxy.cfg");
    std::fs::write(
        &config,
        format!(
            "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n\
             frontend lb\n  bind 127.0.0.1:{lb_port}\n{ns_bind}  default_backend apps\n\
             backend apps\n  balance roundrobin\n{servers}"
        ),
    )
    .expect("haproxy config");
    let haproxy = common::haproxy(&config, lb_port);

    let mut cmd = Command::new(python());
    // runserver listens on one address: every address of the host when the namespace's
    // browser needs it too (its clients reach only the host's veth end; nothing else is routed).
    let listen = if ns.is_some() { "0.0.0.0" } else { "127.0.0.1" };
    cmd.args(["tests/manage.py", "runserver", "--noreload"])
        .arg(format!("{listen}:{django_port}"))
        .current_dir(package())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let mut django = Spawned::start(cmd).expect("django runserver");
    django
        .wait_for_ports(&[django_port], Duration::from_secs(30))
        .expect("django listens");
    Rig {
        _django: django,
        _haproxy: haproxy,
        _middlebox: middlebox,
        _nginx: nginx,
        // 127.0.0.1 over plain HTTP is a secure context: serverTiming is readable.
        page: format!("http://127.0.0.1:{django_port}/story/"),
        ns_page: ns.map(|ns| {
            let origin = format!("http://{}:{django_port}", ns.host_address());
            (format!("{origin}/story/"), origin)
        }),
        log,
        _tmp: tmp,
    }
}

/// Drives chromium through `views` page views, from loopback or from inside `ns`; returns how
/// many beacons were answered.
fn drive(rig: &Rig, ns: Option<&NetNs>, views: usize) -> usize {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rum/drive.py");
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "scripts/test installs chromium"
    );
    let (page, host) = match (ns, &rig.ns_page) {
        (Some(ns), Some((page, _))) => (page.as_str(), ns.host_address().to_string()),
        _ => (rig.page.as_str(), "127.0.0.1".to_string()),
    };
    let mut cmd = match ns {
        Some(ns) => ns.command("timeout"),
        None => Command::new("timeout"),
    };
    cmd.arg("600")
        .arg(python())
        .arg(script)
        .args([page.to_string(), views.to_string(), PARALLEL.to_string()])
        .env("RUM_HOST_RULES", format!("MAP *.static.app.test {host}"));
    if let (Some(_), Some((_, origin))) = (ns, &rig.ns_page) {
        cmd.env("RUM_SECURE_ORIGIN", origin);
    }
    let out = cmd.output().expect("run the driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "driver failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn rum(log: &Path) -> (Option<i32>, Value) {
    // Kept for a failure's post-mortem (the rig's directory goes with it).
    let _ = std::fs::copy(
        log,
        std::env::temp_dir().join("interloper-rum-e2e-last.jsonl"),
    );
    let out = common::interloper(&["rum", log.to_str().expect("utf-8"), "--json"]);
    (out.status.code(), common::json(&out))
}

#[test]
fn real_browsers_name_the_inspected_instance_and_the_tls_phase_on_both_networks() {
    let _one = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let ns = NetNs::create().expect("a network namespace (the suite runs as root)");
    let rig = start_rig(true, Some(&ns));
    // Both client networks at once, as users are.
    let (here, there) = std::thread::scope(|s| {
        let there = s.spawn(|| drive(&rig, Some(&ns), VIEWS_PER_NETWORK));
        let here = drive(&rig, None, VIEWS_PER_NETWORK);
        (here, there.join().expect("the namespace's driver"))
    });
    for answered in [here, there] {
        assert!(
            answered >= VIEWS_PER_NETWORK * 9 / 10,
            "only {answered} beacons answered (loopback {here}, namespace {there})"
        );
    }
    let (code, v) = rum(&rig.log);
    assert_eq!(code, Some(1), "{:#}", v["findings"]);
    assert_eq!(v["verdict"]["root_cause"], "IL710", "{:#}", v["verdict"]);
    assert_eq!(
        v["verdict"]["target"], "app4",
        "{:#}",
        v["aggregates"]["instances"]
    );
    let summary = v["verdict"]["summary"].as_str().unwrap_or("");
    assert!(summary.contains("in TLS setup"), "{summary}");
    // The path to app4 is bad from wherever users are: both networks, none singled out.
    assert!(summary.contains("on 2 of 2 client networks"), "{summary}");
    let findings = v["findings"].as_array().expect("findings");
    assert!(
        !findings.iter().any(|f| f["code"] == "IL712"),
        "{findings:#?}"
    );
    let networks: Vec<&str> = v["aggregates"]["networks"]
        .as_array()
        .expect("networks")
        .iter()
        .filter_map(|g| g["key"].as_str())
        .collect();
    assert!(networks.contains(&"127.0.0.0/24"), "{networks:?}");
    assert!(networks.contains(&ns.network().as_str()), "{networks:?}");
    // Every instance was reached, and no sibling is named or comes near app4: files held back
    // for a handshake in progress (another connection's) are counted apart, never as a
    // sibling's stalls. (A sibling may still show a stall of its own: a machine busy enough
    // freezes the browser for a second, and the browser's timing has no correction for that.)
    let instances = v["aggregates"]["instances"].as_array().expect("instances");
    let names: Vec<&str> = instances.iter().filter_map(|g| g["key"].as_str()).collect();
    for name in ["app1", "app2", "app3", "app4"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let rate = |g: &Value| {
        let n = |k: &str| g[k].as_f64().unwrap_or(0.0);
        (n("stalled") + n("failed")) / n("requests").max(1.0)
    };
    let app4 = instances
        .iter()
        .find(|g| g["key"] == "app4")
        .map(rate)
        .expect("app4");
    for g in instances.iter().filter(|g| g["key"] != "app4") {
        assert!(rate(g) * 5.0 < app4, "app4 {app4}: {g:#}");
    }
    for f in findings {
        let subject = f["target"].as_str().unwrap_or("");
        assert!(
            f["severity"] == "info" || !["app1", "app2", "app3"].contains(&subject),
            "{f:#}"
        );
    }
}

#[test]
fn the_all_clean_twin_says_nothing_at_warning_or_above() {
    let _one = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let rig = start_rig(false, None);
    let answered = drive(&rig, None, CLEAN_VIEWS);
    assert!(
        answered >= CLEAN_VIEWS * 9 / 10,
        "only {answered} beacons answered"
    );
    let (code, v) = rum(&rig.log);
    let serious: Vec<&Value> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");
    assert_eq!(code, Some(0));
    assert_eq!(
        v["aggregates"]["instances"].as_array().map(Vec::len),
        Some(4)
    );
}
