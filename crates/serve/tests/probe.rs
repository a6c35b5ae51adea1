//! The exporter against the real lab on loopback: a clean instance passes, an instance behind
//! the lab's intercepting, stalling middlebox shows the interception and finding series, bad
//! requests are 400, and scrapes beyond the bound are 503 at once.

mod common;

use std::time::{Duration, Instant};

use common::{get, group_module_toml, module_toml, probe_path, start, value};
use interloper_lab::{Lab, Scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clean_instance_passes_and_an_intercepted_one_shows_why() {
    let lab = Lab::start(Scenario::find("inspection").unwrap().config().unwrap())
        .await
        .unwrap();
    let clean = &lab.instances()[0];
    let boxed = &lab.instances()[3];
    let log_dir = tempfile::tempdir().unwrap();
    let results_log = log_dir.path().join("checks.jsonl");
    let config = format!(
        "[server]\nresults_log = {:?}\n{}{}",
        results_log.display().to_string(),
        module_toml(&lab, clean, "clean", "8s"),
        module_toml(&lab, boxed, "boxed", "8s")
    );
    let addr = start(&config).await;

    let (status, body) = get(addr, &probe_path(&clean.url(), "clean"), Some("10")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    assert_eq!(
        value(&body, "interloper_tls_path{status=\"clean\"}"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "probe_tls_version_info{version=\"TLS 1.3\"}"),
        Some(1.0),
        "{body}"
    );
    assert!(
        value(&body, "probe_ssl_earliest_cert_expiry").unwrap() > 1.6e9,
        "{body}"
    );
    assert!(
        value(&body, "interloper_requests{outcome=\"ok\"}").unwrap() > 0.0,
        "{body}"
    );
    // Requests per probe: every request the check made, the page's included.
    assert!(
        value(&body, "interloper_probe_requests").unwrap()
            >= value(&body, "interloper_requests{outcome=\"ok\"}").unwrap(),
        "{body}"
    );
    assert!(
        value(&body, "interloper_decided_early_targets").is_some(),
        "{body}"
    );
    assert!(
        value(&body, "probe_http_duration_seconds{phase=\"connect\"}").is_some(),
        "{body}"
    );
    let p50 = value(
        &body,
        "interloper_request_phase_seconds{phase=\"transfer\",quantile=\"0.5\"}",
    );
    let p99 = value(
        &body,
        "interloper_request_phase_seconds{phase=\"transfer\",quantile=\"0.99\"}",
    );
    assert!(p50.is_some() && p50 <= p99, "{body}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(
        body.lines()
            .any(|l| l.starts_with("probe_ssl_last_chain_info{fingerprint_sha256=\"")),
        "{body}"
    );
    // Bounded cardinality: no URL and no address in any label (the leaf's subject names a
    // host, one series per scrape, as blackbox_exporter's).
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("probe_ssl_last_chain_info"))
    {
        assert!(
            !line.contains("localhost") && !line.contains("127.0.0"),
            "{line}"
        );
    }

    let (status, body) = get(addr, &probe_path(&boxed.url(), "boxed"), Some("10")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    assert_eq!(
        value(&body, "interloper_tls_path{status=\"intercepted\"}"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "interloper_verdict{status=\"intercepted\"}"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "interloper_witness_reachable"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "interloper_witness_agreement"),
        Some(0.0),
        "{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with("interloper_finding{code=\"IL1")
                && l.contains("severity=\"critical\"")),
        "{body}"
    );

    // debug=true: the whole report for a person.
    let (status, body) = get(
        addr,
        &format!("{}&debug=true", probe_path(&clean.url(), "clean")),
        Some("10"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"verdict\"") && body.contains("\"findings\""),
        "{body}"
    );

    // /probe/debug: the last results, newest first, with their findings; by target.
    let (status, body) = get(addr, "/probe/debug", None).await;
    assert_eq!(status, 200, "{body}");
    let recent: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(recent.as_array().unwrap().len(), 3, "{body}");
    assert_eq!(recent[0]["module"], "clean");
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("target", &boxed.url())
        .finish();
    let (_, body) = get(addr, &format!("/probe/debug?{q}"), None).await;
    let boxed_results: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(boxed_results.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(boxed_results[0]["probe_success"], false);
    assert!(
        boxed_results[0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"].as_str().is_some_and(|c| c.starts_with("IL1"))),
        "{body}"
    );

    // Each finished check is one JSON line.
    let lines: Vec<String> = std::fs::read_to_string(&results_log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with('{') && lines[0].contains("\"module\":\"clean\""),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("\"probe_success\":false"), "{}", lines[1]);

    let (status, body) = get(addr, "/metrics", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        value(
            &body,
            "interloper_serve_probes_total{module=\"clean\",result=\"success\"}"
        ),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        value(
            &body,
            "interloper_serve_probes_total{module=\"boxed\",result=\"failure\"}"
        ),
        Some(1.0),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_400_with_a_reason() {
    let addr = start("[module.web]\nallowed_hosts = [\"*.localhost\"]\n").await;
    for (path, says) in [
        (
            probe_path("https://app.localhost/", "nope"),
            "unknown module \"nope\"",
        ),
        (
            "/probe?target=https://app.localhost/".to_string(),
            "missing module",
        ),
        ("/probe?module=web".to_string(), "missing target"),
        (probe_path("not a url", "web"), "is not a URL"),
        (
            probe_path("ftp://app.localhost/", "web"),
            "only http and https",
        ),
        (
            probe_path("https://example.com/", "web"),
            "not in module web's allowed_hosts",
        ),
    ] {
        let (status, body) = get(addr, &path, None).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body.lines().next().unwrap().contains(says),
            "{path}: {body}"
        );
        assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    }
    let (status, _) = get(addr, "/nothing", None).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_target_is_bounded_and_excess_scrapes_are_refused_at_once() {
    // A server that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let addr = start(&format!(
        "[server]\nmax_concurrent_checks = 1\n[module.web]\nbudget = \"30s\"\n\
         resolve = [\"hang.localhost:{port}:127.0.0.1\"]\n[module.web.trust]\nno_os_roots = true\n"
    ))
    .await;
    let target = format!("http://hang.localhost:{port}/");
    let first = tokio::spawn({
        let path = probe_path(&target, "web");
        async move {
            let started = Instant::now();
            let answer = get(addr, &path, Some("3")).await;
            (answer, started.elapsed())
        }
    });
    // Wait until the first check holds the only slot.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, metrics) = get(addr, "/metrics", None).await;
        if value(&metrics, "interloper_serve_checks_in_flight") == Some(1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    let (status, body) = get(addr, &probe_path(&target, "web"), Some("3")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let ((status, body), took) = first.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    // Scrape timeout 3 s − 0.5 s margin, whatever the module's 30 s.
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_outside_the_allowed_networks_is_refused_before_any_request() {
    // Counts connections: a refused target must not get one.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn({
        let connections = std::sync::Arc::clone(&connections);
        async move {
            while let Ok((_s, _)) = listener.accept().await {
                connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let addr = start(&format!(
        "[module.lan]\nbudget = \"2s\"\nallowed_networks = [\"10.0.0.0/8\"]\n\
         resolve = [\"app.localhost:{port}:127.0.0.1\"]\n[module.lan.trust]\nno_os_roots = true\n\
         [module.loop]\nbudget = \"2s\"\nallowed_networks = [\"127.0.0.0/8\"]\n\
         resolve = [\"app.localhost:{port}:127.0.0.1\"]\n[module.loop.trust]\nno_os_roots = true\n"
    ))
    .await;
    let target = format!("http://app.localhost:{port}/");
    for t in [target.clone(), format!("http://127.0.0.1:{port}/")] {
        let (status, body) = get(addr, &probe_path(&t, "lan"), None).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body.starts_with(
                "# target host resolves to 127.0.0.1, outside module lan's allowed_networks"
            ),
            "{body}"
        );
    }
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
    // Inside the networks, the check runs (and connects).
    let (status, body) = get(addr, &probe_path(&target, "loop"), Some("3")).await;
    assert_eq!(status, 200, "{body}");
    assert!(connections.load(std::sync::atomic::Ordering::SeqCst) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_never_takes_a_confined_module_elsewhere() {
    use interloper_testkit::faults::{Fault, FaultServer};
    // The other host: same machine, reached by another name, counting connections.
    let elsewhere =
        FaultServer::plain(Fault::typed("text/html", "<html>elsewhere</html>")).expect("server");
    let away = format!("http://localhost:{}/", elsewhere.addr.port());
    let site = FaultServer::plain(Fault::redirect(302, &away)).expect("server");
    let addr = start(
        "[module.confined]\nbudget = \"3s\"\nallowed_networks = [\"127.0.0.0/8\"]\n\
         [module.confined.trust]\nno_os_roots = true\n",
    )
    .await;
    let (status, body) = get(addr, &probe_path(&site.url("/"), "confined"), Some("4")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        elsewhere.accepted(),
        0,
        "the redirect was not followed: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_group_is_compared_in_one_scrape_and_the_odd_member_named() {
    // The founding story in one scrape: three instances of one app, the third behind the
    // lab's intercepting, stalling middlebox.
    let lab = Lab::start(Scenario::find("inspection").unwrap().config().unwrap())
        .await
        .unwrap();
    let good = &lab.instances()[0];
    let bad = &lab.instances()[3];
    let config = group_module_toml(
        &lab,
        &[
            ("node1", good),
            ("node2", &lab.instances()[1]),
            ("node4", bad),
        ],
        "app",
        "shop",
        "9s",
    );
    let addr = start(&config).await;

    let (status, body) = get(addr, "/probe?module=app&group=shop", Some("11")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    assert_eq!(
        value(&body, "interloper_member_odd{member=\"node4\"}"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "interloper_member_odd{member=\"node1\"}"),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        value(
            &body,
            "interloper_member_tls_path{member=\"node1\",status=\"clean\"}"
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(
            &body,
            "interloper_member_tls_path{member=\"node4\",status=\"clean\"}"
        ),
        Some(0.0),
        "{body}"
    );
    assert!(
        value(
            &body,
            "interloper_member_requests{member=\"node1\",outcome=\"ok\"}"
        )
        .unwrap()
            > 0.0,
        "{body}"
    );
    // The findings about the bad member carry its name; none at error or worse names the good.
    assert!(
        body.lines()
            .any(|l| l.starts_with("interloper_member_finding{member=\"node4\",code=\"IL401\"")),
        "{body}"
    );
    assert!(
        !body.lines().any(
            |l| l.starts_with("interloper_member_finding{member=\"node1\"")
                && (l.contains("\"error\"") || l.contains("\"critical\""))
        ),
        "{body}"
    );
    // Bounded cardinality: member names, never the URLs or addresses.
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("probe_ssl_last_chain_info"))
    {
        assert!(
            !line.contains("localhost") && !line.contains("127.0.0"),
            "{line}"
        );
    }

    // The debug page and the results remember it as the group.
    let (_, body) = get(addr, "/probe/debug?group=shop", None).await;
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(shown[0]["target"], "group:shop");

    // Unknown group, and target with group: 400 with the reason.
    let (status, body) = get(addr, "/probe?module=app&group=nope", None).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("unknown group") && body.contains("shop"),
        "{body}"
    );
    let (status, body) = get(
        addr,
        &format!("{}&group=shop", probe_path(&good.url(), "app")),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("not both"), "{body}");
}
