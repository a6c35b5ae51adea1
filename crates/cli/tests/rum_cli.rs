//! `interloper rum` over beacon logs written as interloper-django's endpoint writes them
//! (generated here: the browser-driven founding story is `rum_e2e.rs`): the instance whose
//! files stall in TLS setup is named with its phase, a clean population says nothing at warning
//! or above, lines that are not beacons are counted, an unreadable file is exit 2.

mod common;

use std::fmt::Write as _;

/// A beacon log: `views` page views spread over four instances and five client networks, each
/// with three files; on `app4` every `stall_every`-th file holds its TLS setup 2 s.
fn beacons(views: usize, stall_every: Option<usize>) -> String {
    let mut out = String::new();
    let mut n = 0usize;
    for v in 0..views {
        let instance = format!("app{}", v % 4 + 1);
        let mut files = Vec::new();
        for (name, size) in [
            ("base.css", 4_000),
            ("app.js", 90_000),
            ("logo.png", 20_000),
        ] {
            n += 1;
            let stalled = instance == "app4" && stall_every.is_some_and(|e| n.is_multiple_of(e));
            let tls = if stalled {
                2_000.0
            } else {
                3.0 + (n % 7) as f64 * 0.5
            };
            files.push(format!(
                r#"{{"url":"https://app.test/static/{name}","instance":"{instance}","protocol":"http/1.1","dns":0.2,"connect":0.8,"tls":{tls},"first_byte":2.5,"download":1.0,"duration":{},"transfer":{},"encoded":{size},"decoded":{size}}}"#,
                tls + 4.5,
                size + 300
            ));
        }
        let _ = writeln!(
            out,
            r#"{{"schema":"interloper.rum.beacon/v1","received":"2026-12-07T19:{:02}:00Z","client":"198.51.{}.{}","page":"/","files":[{}]}}"#,
            v % 60,
            v % 5,
            v % 200 + 1,
            files.join(",")
        );
    }
    out
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write beacons");
    path.to_str().expect("utf-8").to_string()
}

#[test]
fn the_instance_stalling_in_tls_is_named_and_the_clean_twin_is_silent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(&dir, "bad.jsonl", &beacons(400, Some(7)));
    let html = dir.path().join("rum.html");
    let out = common::interloper(&[
        "rum",
        &bad,
        "--json",
        "--html",
        html.to_str().expect("utf-8"),
    ]);
    let v = common::json(&out);
    assert_eq!(out.status.code(), Some(1), "{:#}", v["verdict"]);
    assert_eq!(v["schema"], "interloper.rum/v1");
    assert_eq!(v["verdict"]["root_cause"], "IL710", "{:#}", v["verdict"]);
    assert_eq!(v["verdict"]["target"], "app4");
    let summary = v["verdict"]["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("TLS setup") && summary.contains("5 of 5 client networks"),
        "{summary}"
    );
    assert_eq!(v["aggregates"]["instances"][0]["key"], "app4");
    assert_eq!(v["beacons"]["beacons"], 400);
    assert_eq!(v["beacons"]["networks"], 5);
    let page = std::fs::read_to_string(&html).expect("HTML written");
    assert!(page.contains("IL710") && page.contains("interloper.rum/v1"));

    let text = common::interloper(&["rum", &bad]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("By instance") && text.contains("app4"),
        "{text}"
    );

    let clean = write(&dir, "clean.jsonl", &beacons(400, None));
    let out = common::interloper(&["rum", &clean, "--json"]);
    let v = common::json(&out);
    assert_eq!(out.status.code(), Some(0), "{:#}", v["findings"]);
    assert_eq!(v["verdict"]["status"], "clean");
}

#[test]
fn lines_that_are_not_beacons_are_counted_and_a_missing_file_is_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mixed = format!(
        "not json\n{{\"schema\":\"other/v1\"}}\n{}\u{0}\u{1b}[31m\n",
        beacons(8, None)
    );
    let path = write(&dir, "mixed.jsonl", &mixed);
    let out = common::interloper(&["rum", &path, "--json"]);
    let v = common::json(&out);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["beacons"]["beacons"], 8);
    assert_eq!(v["beacons"]["not_beacons"], 3);
    assert_eq!(v["beacons"]["first_not_beacon"], format!("{path}:1"));

    let out = common::interloper(&["rum", "/nonexistent/beacons.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The `key` labels of a result vector, sorted.
fn keys(results: &[serde_json::Value]) -> Vec<String> {
    let mut out: Vec<String> = results
        .iter()
        .filter_map(|r| r["metric"]["key"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

#[test]
fn serve_follows_the_beacon_log_and_a_real_prometheus_sees_the_stalling_instance() {
    use std::io::Write as _;
    use std::time::{Duration, Instant};

    if !common::prometheus_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("beacons.jsonl");
    std::fs::write(&log, beacons(400, Some(7))).expect("write beacons");
    let config = dir.path().join("interloper.toml");
    // A RUM-only exporter: no [module.NAME] is needed.
    std::fs::write(
        &config,
        format!(
            "[rum]\nbeacons = {:?}\nwindow_files = 10000\n",
            log.display().to_string()
        ),
    )
    .expect("config");
    let (_serve, serve_port) = common::serve(&config);

    // Prometheus itself is the linter: promtool 2.42's `check metrics` reads the older text
    // format and calls an OpenMetrics counter's `_total` sample "no help text".
    let (status, exposition) = common::http_get(serve_port, "/rum/metrics");
    assert_eq!(status, 200, "{exposition}");
    assert!(exposition.ends_with("# EOF\n"), "{exposition}");

    let prom_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        prom_dir.path().join("prometheus.yml"),
        format!(
            "scrape_configs:\n  - job_name: interloper-rum\n    metrics_path: /rum/metrics\n\
             \x20   scrape_interval: 2s\n    static_configs:\n      - targets: ['127.0.0.1:{serve_port}']\n"
        ),
    )
    .expect("prometheus.yml");
    let (_prometheus, prom_port) = common::prometheus(prom_dir.path());

    // Lines appended after the exporter started are read by the next scrapes.
    let mut more = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("append");
    more.write_all(beacons(100, None).as_bytes())
        .expect("append beacons");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let read = common::prometheus_query(prom_port, "interloper_rum_beacons_read_total == 500");
        let finding =
            common::prometheus_query(prom_port, "interloper_rum_finding{code=\"IL710\"} == 1");
        if !read.is_empty() && !finding.is_empty() {
            assert_eq!(finding[0]["metric"]["subject"], "app4", "{finding:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus did not see 500 beacons and IL710 in time: {read:?} {finding:?}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // Only app4 has stalled files; every instance and client network has a series.
    let stalled =
        common::prometheus_query(prom_port, "interloper_rum_stalled{by=\"instance\"} > 0");
    assert_eq!(keys(&stalled), vec!["app4".to_string()]);
    let instances = common::prometheus_query(prom_port, "interloper_rum_requests{by=\"instance\"}");
    assert_eq!(keys(&instances), vec!["app1", "app2", "app3", "app4"]);
    let networks = common::prometheus_query(prom_port, "interloper_rum_requests{by=\"network\"}");
    assert_eq!(networks.len(), 5, "{networks:?}");
    let tls = common::prometheus_query(
        prom_port,
        "interloper_rum_stalled_phase_seconds{by=\"instance\",key=\"app4\",phase=\"tls\"} > 10",
    );
    assert_eq!(tls.len(), 1, "{tls:?}");
}

/// Drops the run's own header (`tool`, `command`, `time`, `generated_at`) wherever it is.
fn without_run_header(doc: &mut serde_json::Value) {
    match doc {
        serde_json::Value::Object(map) => {
            for key in ["tool", "command", "time", "generated_at"] {
                map.remove(key);
            }
            map.values_mut().for_each(without_run_header);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_run_header),
        _ => {}
    }
}

/// The golden document: `interloper rum --json` over a small fixed beacon log (three instances,
/// the third stalling in TLS setup from one client network, a failed file, a cached one, a
/// line that is not a beacon) is exactly the committed one, less the run's header. A change
/// that moves a key or a number of `interloper.rum/v1` shows here; when it is meant,
/// `INTERLOPER_BLESS=1` rewrites the golden file, and the diff is reviewed.
#[test]
fn the_json_of_a_fixed_beacon_log_is_the_golden_one() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rum");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_interloper"))
        .args(["rum", "beacons-golden.jsonl", "--json"])
        .current_dir(&dir)
        .output()
        .expect("run interloper rum");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let mut actual: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    without_run_header(&mut actual);
    let golden_path = dir.join("golden-rum.json");
    if std::env::var_os("INTERLOPER_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&actual).expect("serialise") + "\n";
        std::fs::write(&golden_path, text).expect("write the golden file");
    }
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&golden_path).expect("the golden file"))
            .expect("golden JSON");
    if actual != golden {
        let kept = std::env::temp_dir().join("interloper-golden-rum-actual.json");
        let _ = std::fs::write(
            &kept,
            serde_json::to_string_pretty(&actual).unwrap_or_default(),
        );
        panic!(
            "interloper rum --json differs from {}: diff it with {} (INTERLOPER_BLESS=1 rewrites it)",
            golden_path.display(),
            kept.display()
        );
    }
}
