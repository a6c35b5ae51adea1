//! Bounded load test on loopback (ignored by default; see docs/echo.md):
//! `cargo test -p interloper-echo --test load -- --ignored --nocapture`.
//!
//! Thousands of idle connections from several loopback sources plus a burst of malformed
//! handshakes, while a good client from another source keeps asking for its hello.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use interloper_echo::{EchoHello, PATH_HELLO};
use tokio::io::AsyncWriteExt;

const IDLE: usize = 4000;
const IDLE_SOURCES: usize = 8;
const MALFORMED: usize = 2000;
const MALFORMED_CONCURRENCY: usize = 100;
const GOOD_REQUESTS: usize = 30;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run explicitly"]
async fn holds_idle_connections_and_a_malformed_burst_while_answering_a_good_client() {
    let limits = limits_with(|l| {
        l.max_connections = IDLE + 1000;
        l.max_connections_per_source = IDLE / IDLE_SOURCES + 10;
        // Long enough that the idle crowd is still there when the good client measures.
        l.handshake_timeout = Duration::from_secs(120);
        l.max_log_lines_per_second = 5;
    });
    let server = start_echo(limits).await;
    let rss_before = rss_kib();

    let t0 = Instant::now();
    let mut idle = Vec::with_capacity(IDLE);
    for i in 0..IDLE {
        let src: SocketAddr = format!("127.0.0.{}:0", 10 + i % IDLE_SOURCES)
            .parse()
            .unwrap();
        idle.push(tcp(server.addr, Some(src)).await);
    }
    let idle_open = t0.elapsed();
    // Let the server accept them all.
    for _ in 0..100 {
        if server.stats.accepted.load(Ordering::Relaxed) as usize >= IDLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_idle = rss_kib();

    // The malformed burst, in the background.
    let addr = server.addr;
    let burst = tokio::spawn(async move {
        let t = Instant::now();
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(MALFORMED_CONCURRENCY));
        let mut tasks = Vec::with_capacity(MALFORMED);
        for i in 0..MALFORMED {
            let permit = sem.clone().acquire_owned().await.unwrap();
            tasks.push(tokio::spawn(async move {
                let src: SocketAddr = format!("127.0.1.{}:0", 1 + i % 200).parse().unwrap();
                let mut s = tcp(addr, Some(src)).await;
                let junk: &[u8] = if i % 2 == 0 {
                    b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00"
                } else {
                    b"GET / HTTP/1.1\r\n\r\n"
                };
                let _ = s.write_all(junk).await;
                let (_, closed) = read_until_closed(&mut s, STEP).await;
                drop(permit);
                closed
            }));
        }
        let mut closed = 0;
        for t in tasks {
            if t.await.unwrap_or(false) {
                closed += 1;
            }
        }
        (closed, t.elapsed())
    });

    // The good client, from its own source, while the burst runs.
    let mut latencies = Vec::with_capacity(GOOD_REQUESTS);
    for _ in 0..GOOD_REQUESTS {
        let t = Instant::now();
        let client = connect(
            server.addr,
            ClientOpts {
                alpn: vec!["h2"],
                bind: Some("127.0.0.2:0".parse().unwrap()),
                ..Default::default()
            },
        )
        .await;
        let random = client.random();
        let got = get(client, "GET", PATH_HELLO).await;
        let doc: EchoHello = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(doc.client_hello.client_random, random);
        latencies.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (closed, burst_time) = burst.await.unwrap();
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    let max = *latencies.last().unwrap();
    let st = server.stats.snapshot();
    eprintln!(
        "echo load: {IDLE} idle connections from {IDLE_SOURCES} sources opened in {idle_open:?}; \
         {MALFORMED} malformed handshakes ({MALFORMED_CONCURRENCY} at a time) all closed: {closed} in {burst_time:?}; \
         good client hello p50 {p50:?} max {max:?} over {GOOD_REQUESTS}; \
         RSS (client+server process) {rss_before} KiB -> {rss_idle} KiB with the idle crowd; \
         stats {st:?}"
    );
    assert_eq!(closed, MALFORMED);
    assert_eq!(st.hello_timeouts, 0, "the idle crowd is still held");
    assert_eq!(st.refused_connection_limit, 0);
    assert!(
        max < Duration::from_secs(10),
        "good client answered in time"
    );
    drop(idle);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run explicitly"]
async fn payload_throughput_on_loopback() {
    let server = start_echo(test_limits()).await;
    let n: u64 = 64 * 1024 * 1024;
    let t = Instant::now();
    let _ = interloper_echo::payload_sha256(n, 1);
    let digest_time = t.elapsed();
    for alpn in ["h2", "http/1.1"] {
        let client = connect(
            server.addr,
            ClientOpts {
                alpn: vec![alpn],
                ..Default::default()
            },
        )
        .await;
        // Seed 7 is new to the server: the time includes its digest.
        let t = Instant::now();
        let got = get(
            client,
            "GET",
            &format!("/.well-known/interloper/payload?bytes={n}&seed=7"),
        )
        .await;
        let cold = t.elapsed();
        assert_eq!(got.body.len() as u64, n);
        let client = connect(
            server.addr,
            ClientOpts {
                alpn: vec![alpn],
                ..Default::default()
            },
        )
        .await;
        let t = Instant::now();
        let got = get(
            client,
            "GET",
            &format!("/.well-known/interloper/payload?bytes={n}&seed=7"),
        )
        .await;
        let warm = t.elapsed();
        assert_eq!(got.body.len() as u64, n);
        let mib_s = 64.0 / warm.as_secs_f64();
        eprintln!(
            "echo payload 64 MiB over {alpn}: first (with digest) {cold:?}, cached digest {warm:?} = {mib_s:.0} MiB/s; digest alone {digest_time:?}"
        );
    }
    server.stop().await;
}
