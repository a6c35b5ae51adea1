//! Each fault shows up in the phase where it happens, as the right error kind.
//! Servers are real sockets on 127.0.0.1 (interloper_testkit::faults).

use std::time::Duration;

use interloper_model::{ErrorKind, HttpVersion, Phase, RequestRecord};
use interloper_probe::{
    ConnectionPolicy, Probe, ProbeConfig, ProxySetting, ResolveOverride, RunOptions, Target,
};
use interloper_testkit::faults::{Fault, FaultServer};

fn config() -> ProbeConfig {
    let mut c = ProbeConfig::default();
    // Tests never leave loopback, whatever the environment says.
    c.proxy = ProxySetting::None;
    c.use_os_roots = false;
    c.phase_timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(2);
    c
}

fn trusting(server: &FaultServer) -> ProbeConfig {
    let mut c = config();
    c.extra_roots_der = server.ca_der.clone().into_iter().collect();
    c
}

async fn one(cfg: ProbeConfig, url: &str) -> RequestRecord {
    let probe = Probe::new(cfg).expect("probe");
    probe.request(&Target::parse(url).expect("url")).await
}

fn kind(r: &RequestRecord) -> Option<(ErrorKind, Phase)> {
    r.error.as_ref().map(|e| (e.kind, e.phase))
}

#[tokio::test]
async fn ok_plain_records_every_phase() {
    let s = FaultServer::plain(Fault::Ok(b"hello".to_vec())).unwrap();
    let r = one(config(), &s.url("/a")).await;
    assert!(r.ok(), "{:?}", r.error);
    assert_eq!(r.status, Some(200));
    assert_eq!(r.bytes_received, 5);
    assert_eq!(r.content_length, Some(5));
    assert_eq!(r.http_version, Some(HttpVersion::Http11));
    assert_eq!(r.phases.dns_ms, None, "IP literal: no DNS");
    assert!(r.phases.connect_ms.is_some());
    assert_eq!(r.phases.tls_ms, None);
    assert!(r.phases.ttfb_ms.is_some() && r.phases.body_ms.is_some());
    assert!(r.tls.is_none());
    assert_eq!(r.remote_addr, Some(s.addr));
}

#[tokio::test]
async fn delayed_headers_are_ttfb() {
    let s = FaultServer::plain(Fault::DelayHeaders(Duration::from_secs(2))).unwrap();
    let r = one(config(), &s.url("/slow")).await;
    assert!(r.ok(), "{:?}", r.error);
    let ttfb = r.phases.ttfb_ms.unwrap();
    assert!(ttfb > 1000.0, "ttfb {ttfb}");
    assert!(r.phases.body_ms.unwrap() < 1000.0);
    assert!(r.phases.connect_ms.unwrap() < 1000.0);
}

#[tokio::test]
async fn delayed_headers_past_timeout_is_headers_timeout() {
    let s = FaultServer::plain(Fault::DelayHeaders(Duration::from_secs(3))).unwrap();
    let mut c = config();
    c.phase_timeout = Duration::from_millis(500);
    let r = one(c, &s.url("/slow")).await;
    assert_eq!(kind(&r), Some((ErrorKind::HeadersTimeout, Phase::Ttfb)));
    assert!(r.phases.total_ms.unwrap() < 2500.0);
}

#[tokio::test]
async fn half_body_then_close_is_truncated() {
    let s = FaultServer::plain(Fault::HalfBodyThenClose { len: 10_000 }).unwrap();
    let r = one(config(), &s.url("/half")).await;
    assert_eq!(
        kind(&r),
        Some((ErrorKind::Truncated, Phase::Body)),
        "{:?}",
        r.error
    );
    assert_eq!(r.content_length, Some(10_000));
    assert_eq!(r.bytes_received, 5_000);
    assert_eq!(r.status, Some(200));
}

#[tokio::test]
async fn half_body_then_reset_is_reset_mid_body() {
    let s = FaultServer::plain(Fault::HalfBodyThenReset { len: 10_000 }).unwrap();
    let r = one(config(), &s.url("/half")).await;
    assert_eq!(
        kind(&r),
        Some((ErrorKind::ResetMidBody, Phase::Body)),
        "{:?}",
        r.error
    );
    assert_eq!(r.bytes_received, 5_000);
}

#[tokio::test]
async fn slow_drip_shows_in_body_and_curve() {
    let s = FaultServer::plain(Fault::Drip {
        chunk: 20,
        interval: Duration::from_millis(100),
        count: 20,
    })
    .unwrap();
    let r = one(config(), &s.url("/drip")).await;
    assert!(r.ok(), "{:?}", r.error);
    assert_eq!(r.bytes_received, 400);
    assert!(r.phases.body_ms.unwrap() > 1000.0);
    assert!(r.phases.ttfb_ms.unwrap() < 1000.0);
    // The curve shows bytes arriving over seconds, not in one burst.
    assert!(r.body_curve.len() >= 10, "{:?}", r.body_curve);
    let last = r.body_curve.last().unwrap();
    assert_eq!(last.bytes, 400);
    assert!(last.at_ms > 1000.0);
    let mid = r.body_curve.iter().find(|p| p.at_ms > 500.0).unwrap();
    assert!(mid.bytes < 300, "{mid:?}");
}

#[tokio::test]
async fn drip_slower_than_phase_timeout_is_body_timeout() {
    let s = FaultServer::plain(Fault::Drip {
        chunk: 10,
        interval: Duration::from_secs(3),
        count: 3,
    })
    .unwrap();
    let mut c = config();
    c.phase_timeout = Duration::from_millis(500);
    let r = one(c, &s.url("/drip")).await;
    assert_eq!(kind(&r), Some((ErrorKind::BodyTimeout, Phase::Body)));
    assert_eq!(r.bytes_received, 10);
}

#[tokio::test]
async fn never_answer_is_headers_timeout_and_total_deadline_holds() {
    let s = FaultServer::plain(Fault::NeverAnswer).unwrap();
    let mut c = config();
    c.phase_timeout = Duration::from_secs(30);
    c.total_timeout = Duration::from_millis(800);
    let r = one(c, &s.url("/never")).await;
    assert_eq!(kind(&r), Some((ErrorKind::Timeout, Phase::Ttfb)));
    assert!(r.phases.total_ms.unwrap() < 5000.0);
}

#[tokio::test]
async fn never_answer_tls_is_tls_timeout() {
    // Plain server that never answers, addressed over https: the handshake stalls.
    let s = FaultServer::plain(Fault::NeverAnswer).unwrap();
    let mut c = config();
    c.phase_timeout = Duration::from_millis(500);
    let r = one(c, &format!("https://{}/x", s.addr)).await;
    assert_eq!(kind(&r), Some((ErrorKind::TlsTimeout, Phase::Tls)));
}

#[tokio::test]
async fn reset_on_accept_is_reset_before_headers() {
    let s = FaultServer::plain(Fault::ResetOnAccept).unwrap();
    let r = one(config(), &s.url("/rst")).await;
    let (k, p) = kind(&r).unwrap();
    assert_eq!(k, ErrorKind::ResetBeforeHeaders, "{:?}", r.error);
    // The RST can beat our connect() completion or arrive while we wait for headers.
    assert!(
        matches!(p, Phase::Ttfb | Phase::Connect | Phase::Write),
        "{p:?}"
    );
}

#[tokio::test]
async fn reset_after_the_hello_is_reset_in_tls_phase() {
    // As a firewall that blocks on the SNI: the connection is up, our hello went out, the
    // answer is an RST.
    let s = FaultServer::tls(Fault::ResetAfterFirstBytes).unwrap();
    let r = one(trusting(&s), &s.url("/rst")).await;
    assert_eq!(
        kind(&r),
        Some((ErrorKind::ResetBeforeHeaders, Phase::Tls)),
        "{:?}",
        r.error
    );
    assert!(r.phases.connect_ms.is_some());
    // We still know what we offered.
    let hello = &r.tls.as_ref().unwrap().client_hello;
    assert_eq!(hello.first(), Some(&1));
}

#[tokio::test]
async fn reset_on_accept_tls_is_reset_before_headers() {
    let s = FaultServer::tls(Fault::ResetOnAccept).unwrap();
    let r = one(trusting(&s), &s.url("/rst")).await;
    let (k, p) = kind(&r).unwrap();
    assert_eq!(k, ErrorKind::ResetBeforeHeaders, "{:?}", r.error);
    // The RST can beat our connect() completion (on loopback, under load) or meet our hello.
    assert!(matches!(p, Phase::Connect | Phase::Tls), "{p:?}");
    if p == Phase::Tls {
        let hello = &r.tls.as_ref().unwrap().client_hello;
        assert_eq!(hello.first(), Some(&1), "what we offered is recorded");
    }
}

#[tokio::test]
async fn endless_body_is_capped_by_max_body() {
    let s = FaultServer::plain(Fault::EndlessBody).unwrap();
    let mut c = config();
    c.max_body = Some(5 * 1024 * 1024);
    let r = one(c, &s.url("/endless")).await;
    assert_eq!(kind(&r), Some((ErrorKind::BodyTooLarge, Phase::Body)));
    assert!(r.bytes_received > 5 * 1024 * 1024);
    assert!(r.bytes_received < 6 * 1024 * 1024);
    assert!(r.body_curve.len() <= 65);
}

#[tokio::test]
async fn huge_headers_are_a_protocol_error() {
    let s = FaultServer::plain(Fault::HugeHeaders { bytes: 1024 * 1024 }).unwrap();
    let r = one(config(), &s.url("/huge")).await;
    assert_eq!(
        kind(&r),
        Some((ErrorKind::Protocol, Phase::Ttfb)),
        "{:?}",
        r.error
    );
}

#[tokio::test]
async fn refused_port_is_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = one(config(), &format!("http://127.0.0.1:{port}/")).await;
    assert_eq!(kind(&r), Some((ErrorKind::Refused, Phase::Connect)));
    assert!(r.phases.connect_ms.is_some());
    assert_eq!(r.phases.ttfb_ms, None);
}

#[tokio::test]
async fn unresolvable_host_is_dns() {
    // .invalid never resolves (RFC 6761); the resolver answers locally.
    let r = one(config(), "http://no-such-host.invalid/").await;
    assert_eq!(kind(&r), Some((ErrorKind::Dns, Phase::Dns)));
    assert!(r.phases.dns_ms.is_some());
    assert_eq!(r.phases.connect_ms, None);
}

#[tokio::test]
async fn resolve_override_pins_address() {
    let s = FaultServer::plain(Fault::Ok(b"x".to_vec())).unwrap();
    let mut c = config();
    c.resolve = vec![ResolveOverride::from_str_checked(&format!(
        "example.test:{}:127.0.0.1",
        s.addr.port()
    ))];
    let r = one(c, &format!("http://example.test:{}/", s.addr.port())).await;
    assert!(r.ok(), "{:?}", r.error);
    assert_eq!(r.phases.dns_ms, None);
}

trait FromStrChecked {
    fn from_str_checked(s: &str) -> Self;
}
impl FromStrChecked for ResolveOverride {
    fn from_str_checked(s: &str) -> Self {
        s.parse().expect("valid override")
    }
}

#[tokio::test]
async fn tls_trusted_records_session_chain_and_hello() {
    let s = FaultServer::tls(Fault::Ok(b"secure".to_vec())).unwrap();
    let r = one(trusting(&s), &s.url("/ok")).await;
    assert!(r.ok(), "{:?}", r.error);
    let t = r.tls.as_ref().unwrap();
    assert!(t.verified);
    assert_eq!(t.verify_error, None);
    assert_eq!(t.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(t.version.as_deref(), Some("TLSv1.3"));
    assert!(t.cipher.is_some());
    assert_eq!(t.presented_chain.len(), 2);
    assert_eq!(
        t.client_hello.first(),
        Some(&1),
        "handshake type ClientHello"
    );
    let declared = ((t.client_hello[1] as usize) << 16)
        | ((t.client_hello[2] as usize) << 8)
        | t.client_hello[3] as usize;
    assert_eq!(declared + 4, t.client_hello.len());
    assert_eq!(t.sni, None, "IP literal: no SNI");
    assert!(r.phases.tls_ms.is_some());
}

#[tokio::test]
async fn tls_untrusted_is_certificate_error_with_chain() {
    let s = FaultServer::tls(Fault::Ok(b"secure".to_vec())).unwrap();
    let mut c = config();
    let other = FaultServer::tls(Fault::NeverAnswer).unwrap();
    c.extra_roots_der = other.ca_der.clone().into_iter().collect();
    let r = one(c.clone(), &s.url("/ok")).await;
    assert_eq!(
        kind(&r),
        Some((ErrorKind::TlsCertificate, Phase::Tls)),
        "{:?}",
        r.error
    );
    let t = r.tls.as_ref().unwrap();
    assert!(!t.verified);
    assert!(t.verify_error.is_some());
    assert_eq!(t.presented_chain.len(), 2);
    assert_eq!(t.client_hello.first(), Some(&1));

    c.insecure_skip_verify = true;
    let r = one(c, &s.url("/ok")).await;
    assert!(r.ok(), "{:?}", r.error);
    let t = r.tls.as_ref().unwrap();
    assert!(!t.verified);
    assert!(t.verify_error.is_some());
    assert_eq!(t.presented_chain.len(), 2);
    assert_eq!(r.bytes_received, 6);
}

#[tokio::test]
async fn plain_http_on_a_tls_port_is_named_as_such() {
    let s = FaultServer::tls(Fault::NotTls).unwrap();
    let r = one(trusting(&s), &s.url("/x")).await;
    assert_eq!(
        kind(&r),
        Some((ErrorKind::NotTls, Phase::Tls)),
        "{:?}",
        r.error
    );
    let message = &r.error.as_ref().unwrap().message;
    assert!(
        message.contains("did not speak TLS (it answered plain HTTP)"),
        "{message}"
    );
}

#[tokio::test]
async fn random_bytes_on_a_tls_port_are_not_tls() {
    let s = FaultServer::tls(Fault::Garbage).unwrap();
    let r = one(trusting(&s), &s.url("/x")).await;
    assert_eq!(
        kind(&r),
        Some((ErrorKind::NotTls, Phase::Tls)),
        "{:?}",
        r.error
    );
    let message = &r.error.as_ref().unwrap().message;
    assert!(message.contains("something that is not TLS"), "{message}");
}

#[tokio::test]
async fn an_endless_body_is_endless_not_a_stall() {
    let s = FaultServer::plain(Fault::EndlessBody).unwrap();
    let mut c = config();
    c.total_timeout = Duration::from_secs(2);
    let started = std::time::Instant::now();
    let r = one(c, &s.url("/endless")).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        kind(&r),
        Some((ErrorKind::BodyEndless, Phase::Body)),
        "{:?}",
        r.error
    );
    let message = &r.error.as_ref().unwrap().message;
    assert!(message.contains("still arriving"), "{message}");
    assert!(!message.contains("0ns"), "{message}");
    assert!(r.bytes_received > 0);
}

#[tokio::test]
async fn a_silent_body_says_how_long_it_was_silent() {
    let s = FaultServer::plain(Fault::Drip {
        chunk: 10,
        interval: Duration::from_secs(3),
        count: 3,
    })
    .unwrap();
    let mut c = config();
    c.phase_timeout = Duration::from_millis(600);
    let r = one(c, &s.url("/drip")).await;
    let message = &r.error.as_ref().unwrap().message;
    // "nothing for 600 ms" (or a little more): the silence, never the time left.
    assert!(message.contains("nothing for 6"), "{message}");
}

#[tokio::test]
async fn the_callers_deadline_ends_a_request_as_cancelled() {
    let s = FaultServer::plain(Fault::NeverAnswer).unwrap();
    let probe = Probe::new(config()).expect("probe");
    let mut session = probe.session(ConnectionPolicy::Fresh);
    let started = std::time::Instant::now();
    session.set_deadline(Some(started + Duration::from_millis(700)));
    let r = session
        .request(&Target::parse(&s.url("/never")).expect("url"), 0)
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        kind(&r),
        Some((ErrorKind::Cancelled, Phase::Ttfb)),
        "{:?}",
        r.error
    );
}

#[tokio::test]
async fn run_summarises_and_bounds_records() {
    let s = FaultServer::plain(Fault::Ok(vec![b'z'; 1000])).unwrap();
    let mut c = config();
    c.max_records_kept = 5;
    c.slowest_kept = 3;
    let probe = Probe::new(c).unwrap();
    let mut opts = RunOptions::default();
    opts.count = Some(40);
    opts.concurrency = 4;
    opts.policy = ConnectionPolicy::Fresh;
    let report = probe
        .run(&[Target::parse(&s.url("/r")).unwrap()], &opts, &mut ())
        .await;
    assert_eq!(report.schema, "interloper.probe/v1");
    let t = &report.targets[0];
    assert_eq!(t.summary.count, 40);
    assert_eq!(t.summary.ok, 40);
    assert_eq!(t.summary.connections, 40);
    assert_eq!(t.summary.bytes_received, 40_000);
    assert_eq!(t.records.len(), 5);
    assert_eq!(t.records_omitted, 35);
    assert_eq!(t.summary.slowest.len(), 3);
    let total = t.summary.phases.total.as_ref().unwrap();
    assert_eq!(total.count, 40);
    assert!(total.min <= total.p50 && total.p50 <= total.p99 && total.p99 <= total.max);
    assert!(t.summary.phases.tls.is_none());
    // Slowest first.
    let s0 = t.summary.slowest[0].phases.total_ms.unwrap();
    let s2 = t.summary.slowest[2].phases.total_ms.unwrap();
    assert!(s0 >= s2);
    assert!(report.all_ok());
}

#[tokio::test]
async fn run_counts_failures_by_kind() {
    let s = FaultServer::plain(Fault::ResetOnAccept).unwrap();
    let probe = Probe::new(config()).unwrap();
    let mut opts = RunOptions::default();
    opts.count = Some(3);
    let report = probe
        .run(&[Target::parse(&s.url("/r")).unwrap()], &opts, &mut ())
        .await;
    let sum = &report.targets[0].summary;
    assert_eq!(sum.failed, 3);
    assert_eq!(sum.failures.get(&ErrorKind::ResetBeforeHeaders), Some(&3));
    assert!(!report.all_ok());
}

#[tokio::test]
async fn proxy_that_resets_is_a_proxy_error_in_connect() {
    let proxy = FaultServer::plain(Fault::ResetOnAccept).unwrap();
    let origin = FaultServer::plain(Fault::Ok(b"x".to_vec())).unwrap();
    let mut c = config();
    c.proxy = ProxySetting::Url(format!("http://{}", proxy.addr).parse().unwrap());
    let r = one(c, &origin.url("/via")).await;
    let e = r.error.as_ref().unwrap();
    assert!(
        matches!(e.kind, ErrorKind::Proxy | ErrorKind::ResetBeforeHeaders),
        "{e:?}"
    );
    assert_eq!(e.phase, Phase::Connect);
    assert_eq!(
        r.proxy.as_deref(),
        Some(format!("http://{}", proxy.addr).as_str())
    );
    assert_eq!(origin.accepted(), 0, "nothing went direct");
}

/// A minimal CONNECT proxy for one test: loopback targets only.
async fn connect_proxy() -> std::net::SocketAddr {
    connect_proxy_recording().await.0
}

/// [`connect_proxy`], keeping each CONNECT request head it received.
async fn connect_proxy_recording() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") && n < buf.len() {
                    match c.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                kept.lock().unwrap().push(head.clone());
                let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let sa: std::net::SocketAddr = match target.parse() {
                    Ok(sa) => sa,
                    Err(_) => return,
                };
                assert!(sa.ip().is_loopback());
                let Ok(mut up) = tokio::net::TcpStream::connect(sa).await else {
                    return;
                };
                let _ = c
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut c, &mut up).await;
            });
        }
    });
    (addr, heads)
}

/// The proxy's user and password (every character a form decoder gets wrong, percent-encoded in
/// the URL) go in the CONNECT's Proxy-Authorization, decoded as RFC 3986 says, and never
/// through the tunnel to the origin.
#[tokio::test]
async fn proxy_credentials_go_to_the_proxy_only() {
    use base64::Engine as _;
    let (proxy, heads) = connect_proxy_recording().await;
    let origin = FaultServer::tls(Fault::EchoRequest).unwrap();
    let mut c = trusting(&origin);
    c.proxy = ProxySetting::Url(
        format!("http://alice:p%2Ba%26s%25s%40w%3Ard@{proxy}")
            .parse()
            .unwrap(),
    );
    let probe = Probe::new(c).unwrap();
    let target = Target::parse(&origin.url("/echo")).unwrap();
    let (rec, body) = probe
        .session(interloper_probe::ConnectionPolicy::Fresh)
        .request_keeping_body(&target, 0, 64 * 1024)
        .await;
    assert!(rec.error.is_none(), "{:?}", rec.error);
    let token = base64::engine::general_purpose::STANDARD.encode("alice:p+a&s%s@w:rd");
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].contains(&format!("\r\nProxy-Authorization: Basic {token}\r\n")),
        "{heads:?}"
    );
    let seen = String::from_utf8_lossy(&body).to_ascii_lowercase();
    assert!(seen.starts_with("get /echo"), "{seen}");
    assert!(
        !seen.contains("proxy-authorization") && !seen.contains(&token.to_ascii_lowercase()),
        "{seen}"
    );
    // What the record shows names the proxy, not its password.
    assert_eq!(
        rec.proxy.as_deref(),
        Some(format!("http://alice@{proxy}").as_str())
    );
}

#[tokio::test]
async fn tls_through_connect_proxy() {
    let proxy = connect_proxy().await;
    let origin = FaultServer::tls(Fault::Ok(b"tunnel".to_vec())).unwrap();
    let mut c = trusting(&origin);
    c.proxy = ProxySetting::Url(format!("http://{proxy}").parse().unwrap());
    let r = one(c, &origin.url("/via")).await;
    assert!(r.ok(), "{:?}", r.error);
    assert_eq!(r.remote_addr, Some(proxy));
    assert_eq!(r.bytes_received, 6);
    assert!(r.tls.as_ref().unwrap().verified);
}

/// Cookies and tokens the user gives go only over a chain that verified; `-k` proceeds to
/// record the chain, never to authenticate over it.
#[tokio::test]
async fn credentials_are_never_sent_over_an_untrusted_chain() {
    let server = FaultServer::tls(Fault::EchoRequest).expect("server");
    let url = server.url("/echo");
    let with_headers = |mut cfg: ProbeConfig| {
        for (k, v) in [
            ("cookie", "sessionid=secret"),
            ("authorization", "Bearer t0ken"),
            ("x-trace", "visible"),
        ] {
            cfg.headers.push((
                http::HeaderName::from_static(k),
                http::HeaderValue::from_static(v),
            ));
        }
        cfg
    };
    let mut insecure = with_headers(config());
    insecure.insecure_skip_verify = true;
    let probe = Probe::new(insecure).expect("probe");
    let target = interloper_probe::Target::parse(&url).expect("url");
    let (rec, body) = probe
        .session(interloper_probe::ConnectionPolicy::Fresh)
        .request_keeping_body(&target, 0, 64 * 1024)
        .await;
    assert!(rec.error.is_none(), "{:?}", rec.error);
    assert!(!rec.tls.as_ref().expect("tls").verified);
    let seen = String::from_utf8_lossy(&body).to_ascii_lowercase();
    assert!(seen.contains("x-trace: visible"), "{seen}");
    assert!(
        !seen.contains("secret") && !seen.contains("t0ken"),
        "{seen}"
    );

    let probe = Probe::new(with_headers(trusting(&server))).expect("probe");
    let (rec, body) = probe
        .session(interloper_probe::ConnectionPolicy::Fresh)
        .request_keeping_body(&target, 0, 64 * 1024)
        .await;
    assert!(rec.tls.as_ref().expect("tls").verified, "{:?}", rec.error);
    let seen = String::from_utf8_lossy(&body).to_ascii_lowercase();
    assert!(
        seen.contains("sessionid=secret") && seen.contains("bearer t0ken"),
        "{seen}"
    );
}
