//! The keep-alive race end to end: real nginx closing idle connections (`keepalive_timeout`)
//! behind a path with latency, a client reusing its connection after a longer idle time than
//! that. The close and the next request cross on the wire; the probe sends the request again on
//! a fresh connection and records it, and the findings name the short timeout (IL216). With a
//! timeout longer than the client's reuse interval nothing races and nothing is found.
//!
//! Timing, with a one-way delay d = 600 ms and nginx's `keepalive_timeout 2s` counted from its
//! last answer: a reuse after 50 ms reaches nginx after 1.25 s idle (answered, 0.75 s to
//! spare); a reuse after 1.4 s reaches it after 2.6 s (closed, 0.6 s to spare) and leaves
//! before nginx's close arrives at 2.6 s client time (0.6 s to spare).

use std::net::SocketAddr;
use std::time::Duration;

use interloper_findings::{
    AssetEvidence, Code, RequestOutcome, TargetEvidence, ThresholdConfig, analyse,
};
use interloper_model::{ErrorKind, RequestRecord};
use interloper_probe::{ConnectionPolicy, Probe, ProbeConfig, ProxySetting, Target};
use interloper_testkit::{Nginx, NginxOptions, SlowPath};

const ONE_WAY: Duration = Duration::from_millis(600);
const QUICK_REUSE: Duration = Duration::from_millis(50);
const SLOW_REUSE: Duration = Duration::from_millis(1400);
const ROUNDS: u64 = 4;

fn nginx(keepalive_timeout: &str) -> Nginx {
    Nginx::start(NginxOptions {
        extra_http_conf: format!("keepalive_timeout {keepalive_timeout};"),
        ..NginxOptions::default()
    })
    .expect("nginx")
}

/// One connection reused at once, then after a long pause, `ROUNDS` times, through a slow
/// path to `nginx`'s plain-HTTP port.
async fn requests_over_a_slow_path(nginx: &Nginx) -> (Vec<RequestRecord>, String) {
    let upstream = SocketAddr::from(([127, 0, 0, 1], nginx.http_port));
    let path = SlowPath::start(upstream, ONE_WAY).expect("slow path");
    let url = format!("http://{}/small.txt", path.addr);
    let mut cfg = ProbeConfig::default();
    cfg.proxy = ProxySetting::None;
    cfg.use_os_roots = false;
    let probe = Probe::new(cfg).expect("probe");
    let target = Target::parse(&url).expect("url");
    let mut session = probe.session(ConnectionPolicy::Reuse);
    let mut records = vec![session.request(&target, 0).await];
    for round in 0..ROUNDS {
        for (k, pause) in [QUICK_REUSE, SLOW_REUSE].into_iter().enumerate() {
            tokio::time::sleep(pause).await;
            records.push(session.request(&target, 1 + 2 * round + k as u64).await);
        }
    }
    (records, url)
}

fn evidence(url: &str, records: Vec<RequestRecord>) -> TargetEvidence {
    TargetEvidence {
        label: url.to_string(),
        assets: vec![AssetEvidence {
            url: url.to_string(),
            records,
            checks: Vec::new(),
        }],
        ..TargetEvidence::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn nginx_closing_idle_connections_sooner_than_the_client_reuses_them_is_il216() {
    let nginx = nginx("2s");
    let (records, url) = runtime().block_on(requests_over_a_slow_path(&nginx));
    for r in &records {
        assert!(r.ok(), "every request answered, retried or not: {r:?}");
        assert_eq!(r.status, Some(200));
    }
    let retried: Vec<&RequestRecord> = records
        .iter()
        .filter(|r| r.retried_after_close.is_some())
        .collect();
    assert_eq!(
        retried.len() as u64,
        ROUNDS,
        "every slow reuse met nginx's close and was sent again"
    );
    for r in &retried {
        let closed = r.retried_after_close.as_ref().expect("retried");
        assert_eq!(closed.error.kind, ErrorKind::ResetBeforeHeaders);
        assert!(closed.idle_ms > 1000.0, "idle {} ms", closed.idle_ms);
        assert!(!r.reused, "the answer came over a fresh connection");
        assert_ne!(r.connection_id, closed.connection_id);
    }
    assert!(
        records
            .iter()
            .filter(|r| r.reuse_idle_ms.is_some_and(|i| i < 1000.0))
            .all(|r| r.reused && r.retried_after_close.is_none()),
        "quick reuses were answered on their connection"
    );

    let analysis = analyse(&[evidence(&url, records)], &ThresholdConfig::default());
    let codes: Vec<Code> = analysis.diagnosis.findings.iter().map(|f| f.code).collect();
    assert_eq!(
        codes,
        vec![Code::IL216],
        "{:#?}",
        analysis.diagnosis.findings
    );
    let f = &analysis.diagnosis.findings[0];
    assert!(
        f.summary
            .starts_with(&format!("{ROUNDS} of {} requests", 2 * ROUNDS)),
        "{}",
        f.summary
    );
    assert!(
        f.remedy.contains("keepalive_timeout"),
        "the remedy names the setting"
    );
    assert!(
        analysis.outcomes[0].assets[0]
            .iter()
            .all(|o| *o == RequestOutcome::Fine),
        "a retried request counts by its retry, never as a failure"
    );
}

#[test]
fn a_keepalive_timeout_longer_than_the_reuse_interval_gives_nothing() {
    let nginx = nginx("60s");
    let (records, url) = runtime().block_on(requests_over_a_slow_path(&nginx));
    for r in &records[1..] {
        assert!(r.ok() && r.reused, "{r:?}");
        assert!(r.retried_after_close.is_none());
    }
    let analysis = analyse(&[evidence(&url, records)], &ThresholdConfig::default());
    assert!(
        analysis.diagnosis.findings.is_empty(),
        "{:#?}",
        analysis.diagnosis.findings
    );
}

#[test]
fn on_loopback_the_close_arrives_before_the_reuse_and_nothing_races() {
    // keepalive_timeout 1s, reuse after 1.5 s, no latency: the client has seen nginx's close
    // before it needs the connection again, so it opens a new one; nothing is sent twice.
    let nginx = nginx("1s");
    let records = runtime().block_on(async {
        let mut cfg = ProbeConfig::default();
        cfg.proxy = ProxySetting::None;
        cfg.use_os_roots = false;
        let probe = Probe::new(cfg).expect("probe");
        let target = Target::parse(&nginx.http_url("/small.txt")).expect("url");
        let mut session = probe.session(ConnectionPolicy::Reuse);
        let first = session.request(&target, 0).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let second = session.request(&target, 1).await;
        vec![first, second]
    });
    let second = &records[1];
    assert!(second.ok(), "{:?}", second.error);
    assert!(!second.reused, "the closed connection was not reused");
    assert_ne!(second.connection_id, records[0].connection_id);
    assert!(second.retried_after_close.is_none());
}
