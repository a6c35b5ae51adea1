//! Against real nginx (TLS, HTTP/1.1 and HTTP/2) on loopback: phases, connection reuse, ALPN,
//! recorded chain and ClientHello, trust failures.

use std::time::Duration;

use interloper_model::{ErrorKind, HttpVersion, Phase, RequestRecord};
use interloper_probe::{
    ConnectionPolicy, HttpVersionPref, Probe, ProbeConfig, ProxySetting, RunOptions, Target,
};
use interloper_testkit::{Nginx, NginxOptions};

fn start() -> Nginx {
    Nginx::start(NginxOptions::default()).expect("nginx starts")
}

fn config(nginx: &Nginx, http: HttpVersionPref) -> ProbeConfig {
    let mut c = ProbeConfig::default();
    c.proxy = ProxySetting::None;
    c.use_os_roots = false;
    c.extra_roots_der = vec![nginx.pki.ca_der.clone()];
    c.http = http;
    c.phase_timeout = Duration::from_secs(10);
    // nginx listens on 127.0.0.1 only; ::1 would be a (correctly recorded) refusal.
    c.resolve = vec![
        format!("localhost:{}:127.0.0.1", nginx.https_port)
            .parse()
            .unwrap(),
        format!("localhost:{}:127.0.0.1", nginx.http_port)
            .parse()
            .unwrap(),
    ];
    c.max_records_kept = 100;
    c
}

async fn run(probe: &Probe, url: &str, n: u64, policy: ConnectionPolicy) -> Vec<RequestRecord> {
    let mut opts = RunOptions::default();
    opts.count = Some(n);
    opts.policy = policy;
    let mut report = probe
        .run(&[Target::parse(url).unwrap()], &opts, &mut ())
        .await;
    let mut recs = report.targets.remove(0).records;
    recs.sort_by_key(|r| r.seq);
    recs
}

async fn versions_and_reuse(http: HttpVersionPref, alpn: &str, version: HttpVersion) {
    let nginx = tokio::task::spawn_blocking(start).await.unwrap();
    let probe = Probe::new(config(&nginx, http)).unwrap();
    let url = nginx.https_url("/1m.bin");

    let fresh = run(&probe, &url, 3, ConnectionPolicy::Fresh).await;
    assert_eq!(fresh.len(), 3);
    let mut ids: Vec<u64> = fresh.iter().map(|r| r.connection_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "fresh: one connection per request");
    for r in &fresh {
        assert!(r.ok(), "{:?}", r.error);
        assert!(!r.reused);
        assert_eq!(r.status, Some(200));
        assert_eq!(r.bytes_received, 1024 * 1024);
        assert_eq!(r.http_version, Some(version));
        assert!(r.phases.tls_ms.is_some() && r.phases.connect_ms.is_some());
        let t = r.tls.as_ref().unwrap();
        assert_eq!(t.alpn.as_deref(), Some(alpn));
        assert!(t.verified);
        assert_eq!(t.sni.as_deref(), Some("localhost"));
        assert!(!t.presented_chain.is_empty());
        assert_eq!(t.client_hello.first(), Some(&1));
        assert!(!r.body_curve.is_empty());
    }

    let reused = run(&probe, &url, 3, ConnectionPolicy::Reuse).await;
    assert!(reused.iter().all(|r| r.ok()));
    assert!(!reused[0].reused);
    assert!(reused[1].reused && reused[2].reused);
    assert_eq!(reused[0].connection_id, reused[1].connection_id);
    assert_eq!(reused[1].connection_id, reused[2].connection_id);
    assert_eq!(
        reused[1].phases.tls_ms, None,
        "no handshake on a reused connection"
    );
    assert_eq!(reused[1].phases.connect_ms, None);
    assert!(reused[2].tls.as_ref().unwrap().alpn.as_deref() == Some(alpn));
}

#[tokio::test]
async fn nginx_http1_fresh_and_reused() {
    versions_and_reuse(HttpVersionPref::Http1, "http/1.1", HttpVersion::Http11).await;
}

#[tokio::test]
async fn nginx_http2_fresh_and_reused() {
    versions_and_reuse(HttpVersionPref::Http2, "h2", HttpVersion::Http2).await;
}

#[tokio::test]
async fn nginx_auto_prefers_h2_and_plain_http_works() {
    let nginx = tokio::task::spawn_blocking(start).await.unwrap();
    let probe = Probe::new(config(&nginx, HttpVersionPref::Auto)).unwrap();
    let r = probe
        .request(&Target::parse(&nginx.https_url("/small.txt")).unwrap())
        .await;
    assert!(r.ok(), "{:?}", r.error);
    assert_eq!(r.http_version, Some(HttpVersion::Http2));
    let r = probe
        .request(&Target::parse(&nginx.http_url("/small.txt")).unwrap())
        .await;
    assert!(r.ok(), "{:?}", r.error);
    assert!(r.tls.is_none());
    assert_eq!(r.http_version, Some(HttpVersion::Http11));
    let r = probe
        .request(&Target::parse(&nginx.http_url("/missing")).unwrap())
        .await;
    assert_eq!(r.status, Some(404));
}

#[tokio::test]
async fn nginx_untrusted_then_insecure() {
    let nginx = tokio::task::spawn_blocking(start).await.unwrap();
    let mut c = config(&nginx, HttpVersionPref::Auto);
    c.extra_roots_der = Vec::new();
    let url = nginx.https_url("/small.txt");
    let r = Probe::new(c.clone())
        .unwrap()
        .request(&Target::parse(&url).unwrap())
        .await;
    let e = r.error.as_ref().unwrap();
    assert_eq!((e.kind, e.phase), (ErrorKind::TlsCertificate, Phase::Tls));
    let t = r.tls.as_ref().unwrap();
    assert!(!t.presented_chain.is_empty());
    assert!(t.verify_error.is_some());

    c.insecure_skip_verify = true;
    let r = Probe::new(c)
        .unwrap()
        .request(&Target::parse(&url).unwrap())
        .await;
    assert!(r.ok(), "{:?}", r.error);
    let t = r.tls.as_ref().unwrap();
    assert!(!t.verified && t.verify_error.is_some() && !t.presented_chain.is_empty());
    assert_eq!(r.status, Some(200));
}

/// nginx (OpenSSL 3.0 here, no ML-KEM) takes both browser-shaped hellos, HTTP/2 included, and
/// settles on the X25519 share they also carry; where OpenSSL has ML-KEM (3.5+) the group is
/// X25519MLKEM768.
#[tokio::test]
async fn nginx_takes_the_post_quantum_and_split_hellos() {
    let nginx = tokio::task::spawn_blocking(start).await.unwrap();
    for shape in [
        interloper_model::HelloShape::Pq,
        interloper_model::HelloShape::Large,
    ] {
        let mut c = config(&nginx, HttpVersionPref::Auto);
        c.hello = shape;
        let probe = Probe::new(c).unwrap();
        let recs = run(
            &probe,
            &nginx.https_url("/small.txt"),
            2,
            ConnectionPolicy::Fresh,
        )
        .await;
        for r in &recs {
            assert!(r.ok(), "{shape}: {:?}", r.error);
            assert_eq!(r.hello_shape, shape);
            assert_eq!(r.http_version, Some(HttpVersion::Http2));
            let t = r.tls.as_ref().unwrap();
            assert!(t.client_hello.len() > 1400, "{}", t.client_hello.len());
            assert!(
                matches!(t.group.as_deref(), Some("X25519" | "X25519MLKEM768")),
                "{:?}",
                t.group
            );
        }
    }
}

/// Two uplinks of one host, compared: every connection leaves from the configured source
/// address, as nginx's own log of the peer shows.
#[tokio::test]
async fn connections_leave_from_the_source_address() {
    let nginx = tokio::task::spawn_blocking(start).await.unwrap();
    let mut cfg = config(&nginx, HttpVersionPref::Auto);
    cfg.source_address = Some("127.0.0.7".parse().unwrap());
    let probe = Probe::new(cfg).unwrap();
    let recs = run(
        &probe,
        &nginx.https_url("/small.txt"),
        2,
        ConnectionPolicy::Fresh,
    )
    .await;
    assert!(recs.iter().all(|r| r.ok()), "{recs:?}");
    let log = nginx.access_log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("small.txt")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines.iter().all(|l| l.starts_with("127.0.0.7 ")), "{log}");
}
