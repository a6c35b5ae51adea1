//! `interloper serve` under load (issue 13, section 4): 50 scrapes at once, many thousands in
//! all, against lab instances on loopback. Scrape latency; the exporter's memory and file
//! descriptors must stay flat. Ignored by default (minutes of CPU); run it with
//! `cargo test --release -p interloper --test serve_load -- --ignored --nocapture` (SCRAPES=N to change
//! the total, default 10 000). Figures: docs/benchmarks.md.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONCURRENT: usize = 50;

/// (status, probe_success) of one scrape.
fn scrape(port: u16, path: &str) -> (u16, bool) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, false);
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\nConnection: close\r\n\r\n"
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out.lines().any(|l| l == "probe_success 1"))
}

/// (VmRSS in KiB, open descriptors) of a process.
fn usage(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss, fds)
}

#[test]
#[ignore = "load test: minutes of CPU; run with --ignored"]
fn fifty_concurrent_scrapes_keep_memory_and_descriptors_flat() {
    let total: usize = std::env::var("SCRAPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lab = common::clean_lab(&runtime);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("interloper.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nmax_concurrent_checks = {CONCURRENT}\n{}",
            common::serve_module(&lab, "web", 1)
        ),
    )
    .unwrap();
    let (serve, port) = common::serve(&config);
    let pid = serve.pid();
    // The four lab instances, in turn.
    let paths: Vec<String> = lab
        .instances()
        .iter()
        .map(|i| {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("target", &i.url())
                .append_pair("module", "web")
                .finish();
            format!("/probe?{q}")
        })
        .collect();
    let paths = Arc::new(paths);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let failures = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let (paths, next, latencies, failures, busy, samples) = (
                Arc::clone(&paths),
                Arc::clone(&next),
                Arc::clone(&latencies),
                Arc::clone(&failures),
                Arc::clone(&busy),
                Arc::clone(&samples),
            );
            std::thread::spawn(move || {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    if n % 1000 == 0 {
                        samples.lock().unwrap().push((n, usage(pid)));
                    }
                    let t = Instant::now();
                    let (status, ok) = scrape(port, &paths[n % paths.len()]);
                    latencies
                        .lock()
                        .unwrap()
                        .push(t.elapsed().as_secs_f64() * 1000.0);
                    match status {
                        200 if ok => {}
                        503 => {
                            busy.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let end = usage(pid);
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    let pct = |q: f64| lat[((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1];
    let samples = samples.lock().unwrap().clone();
    println!(
        "{total} scrapes, {CONCURRENT} at once, in {:.1} s ({:.0}/s): latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} busy (503), {} failed",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        lat[lat.len() - 1],
        busy.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed)
    );
    for (n, (rss, fds)) in &samples {
        println!(
            "after {n:>6} scrapes: RSS {:>6} KiB, {fds} descriptors",
            rss
        );
    }
    println!(
        "at the end:          RSS {:>6} KiB, {} descriptors",
        end.0, end.1
    );
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    // Flat: after the first thousand (pools, allocator arenas warmed), memory may not climb by
    // more than 32 MiB and descriptors not at all beyond a few in flight.
    if let Some((_, (warm_rss, warm_fds))) = samples.iter().find(|(n, _)| *n >= 1000) {
        assert!(
            end.0 <= warm_rss + 32 * 1024,
            "RSS grew: {warm_rss} → {} KiB",
            end.0
        );
        assert!(
            end.1 <= warm_fds + 8,
            "descriptors grew: {warm_fds} → {}",
            end.1
        );
    }
}
