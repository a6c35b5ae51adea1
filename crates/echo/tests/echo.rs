//! The witness against a real rustls client on loopback.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use interloper_echo::{EchoHello, PATH_HELLO, PATH_INFO, payload_sha256};
use interloper_model::schema;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

async fn hello_over(alpn: Vec<&'static str>, expect_version: http::Version) {
    let server = start_echo(test_limits()).await;
    let client = connect(
        server.addr,
        ClientOpts {
            alpn: alpn.clone(),
            ..Default::default()
        },
    )
    .await;
    let random = client.random();
    let chain = client.chain();
    let got = get(client, "GET", PATH_HELLO).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.version, expect_version);
    assert_eq!(got.headers["cache-control"], "no-store");
    let doc: EchoHello = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(doc.schema, schema::ECHO_HELLO);
    // The proof of a clean path: the witness saw the random this client sent…
    assert_eq!(doc.client_hello.client_random, random);
    // …and served the chain this client saw.
    let served: Vec<Vec<u8>> = doc
        .served_chain
        .iter()
        .map(|c| b64(&c.der_base64))
        .collect();
    assert_eq!(served, chain);
    assert_eq!(served, server.served);
    let leaf = &doc.served_chain[0];
    assert_eq!(leaf.sha256, hex::encode(Sha256::digest(&chain[0])));
    assert!(leaf.spki_pin.as_deref().unwrap().starts_with("sha256//"));
    assert_eq!(doc.negotiated.tls_version, "TLSv1.3");
    assert_eq!(doc.negotiated.sni.as_deref(), Some("localhost"));
    assert_eq!(doc.request_number, 1);
    // The raw hello is there and carries the same random at its fixed offset.
    let raw = b64(&doc.client_hello.handshake_base64);
    assert_eq!(raw[0], 1, "a ClientHello handshake message");
    assert_eq!(hex::encode(&raw[6..38]), random);
    // The parsed view of the same hello.
    let h = &doc.client_hello;
    assert_eq!(h.sni.as_deref(), Some("localhost"));
    assert_eq!(h.alpn, alpn);
    assert!(h.supported_versions.contains(&0x0304));
    assert!(!h.key_share_groups.is_empty());
    assert!(!h.signature_algorithms.is_empty());
    assert_eq!(h.cipher_suites.len(), h.cipher_suite_names.len());
    assert!(
        h.cipher_suite_names
            .iter()
            .any(|n| n.contains("AES_128_GCM"))
    );
    assert_eq!(h.ja3.hash.len(), 32);
    assert!(h.ja4.ja4.starts_with("t13d"), "{}", h.ja4.ja4);
    assert!(!h.ja4.ja4_ro.is_empty());
    assert_eq!(h.parse_error, None);
    assert_eq!(h.record_count, 1);
    // The client side can describe its own hello with the same code.
    let again = interloper_echo::describe_client_hello(&raw).unwrap();
    assert_eq!(again.ja4, h.ja4);
    let t = &doc.timestamps;
    assert!(t.accepted.since_accept_us <= t.hello_read.since_accept_us);
    assert!(t.hello_read.since_accept_us <= t.handshake_done.since_accept_us);
    assert!(t.handshake_done.since_accept_us <= t.request_received.since_accept_us);
    assert!(t.request_received.since_accept_us <= t.response_written.since_accept_us);
    assert!(t.accepted.unix_us > 1_600_000_000_000_000);
    assert_eq!(
        doc.peer,
        doc.peer
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .to_string()
    );
    server.stop().await;
}

#[tokio::test]
async fn hello_over_h2_reports_the_clients_random_and_chain() {
    hello_over(vec!["h2", "http/1.1"], http::Version::HTTP_2).await;
}

#[tokio::test]
async fn hello_over_http1_reports_the_clients_random_and_chain() {
    hello_over(vec!["http/1.1"], http::Version::HTTP_11).await;
}

#[tokio::test]
async fn hello_without_alpn_is_served_over_http1() {
    hello_over(vec![], http::Version::HTTP_11).await;
}

#[tokio::test]
async fn hello_split_over_many_records_is_reassembled() {
    let server = start_echo(test_limits()).await;
    // rustls fragments every record, the ClientHello included, to at most 64 bytes.
    let client = connect(
        server.addr,
        ClientOpts {
            alpn: vec!["h2"],
            max_fragment: Some(64),
            ..Default::default()
        },
    )
    .await;
    let random = client.random();
    let got = get(client, "GET", PATH_HELLO).await;
    let doc: EchoHello = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(doc.client_hello.client_random, random);
    assert!(
        doc.client_hello.record_count > 3,
        "hello spanned {} records",
        doc.client_hello.record_count
    );
    server.stop().await;
}

#[tokio::test]
async fn payload_is_deterministic_with_matching_digest_and_length() {
    let server = start_echo(test_limits()).await;
    for alpn in [vec!["h2"], vec!["http/1.1"]] {
        let client = connect(
            server.addr,
            ClientOpts {
                alpn,
                ..Default::default()
            },
        )
        .await;
        let n = 1_000_003u64;
        let got = get(
            client,
            "GET",
            &format!("/.well-known/interloper/payload?bytes={n}&seed=42"),
        )
        .await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body.len() as u64, n);
        assert_eq!(got.headers["content-length"], n.to_string());
        let digest = Sha256::digest(&got.body);
        assert_eq!(got.headers["x-interloper-sha256"], hex::encode(digest));
        let repr = got.headers["repr-digest"].to_str().unwrap();
        let b = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(repr, format!("sha-256=:{b}:"));
        assert_eq!(<[u8; 32]>::from(digest), payload_sha256(n, 42));
        let timing = got.headers["server-timing"].to_str().unwrap();
        assert!(timing.starts_with("witness;dur="), "{timing}");
        assert_eq!(got.headers["cache-control"], "no-store");
    }
    server.stop().await;
}

#[tokio::test]
async fn payload_beyond_the_cap_and_bad_requests_are_refused() {
    let server = start_echo(test_limits()).await;
    let cases = [
        ("GET", "/.well-known/interloper/payload?bytes=67108865", 400),
        ("GET", "/.well-known/interloper/payload?bytes=abc", 400),
        ("GET", "/.well-known/interloper/payload", 400),
        ("POST", PATH_HELLO, 405),
        ("GET", "/etc/passwd", 404),
        ("GET", "/../../etc/passwd", 404),
    ];
    for (method, path, status) in cases {
        let client = connect(server.addr, ClientOpts::default()).await;
        let got = get(client, method, path).await;
        assert_eq!(got.status, status, "{method} {path}");
        assert!(got.body.len() < 200, "small error bodies");
    }
    assert!(server.stats.bad_requests.load(Ordering::Relaxed) >= 4);
    server.stop().await;
}

#[tokio::test]
async fn head_payload_has_length_and_digest_but_no_body_and_info_answers() {
    let server = start_echo(test_limits()).await;
    let client = connect(server.addr, ClientOpts::default()).await;
    let got = get(
        client,
        "HEAD",
        "/.well-known/interloper/payload?bytes=5000&seed=1",
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["content-length"], "5000");
    assert_eq!(
        got.headers["x-interloper-sha256"],
        hex::encode(payload_sha256(5000, 1))
    );
    assert!(got.body.is_empty());
    let client = connect(
        server.addr,
        ClientOpts {
            alpn: vec!["h2"],
            ..Default::default()
        },
    )
    .await;
    let got = get(client, "GET", PATH_INFO).await;
    let info: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(info["schema"], "interloper.echo.info/v1");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    server.stop().await;
}

#[tokio::test]
async fn metrics_count_handshakes_and_requests() {
    let server = start_echo(test_limits()).await;
    let client = connect(server.addr, ClientOpts::default()).await;
    let _ = get(client, "GET", PATH_INFO).await;
    let client = connect(server.addr, ClientOpts::default()).await;
    let got = get(client, "GET", interloper_echo::PATH_METRICS).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.headers["content-type"],
        interloper_echo::METRICS_CONTENT_TYPE
    );
    let text = String::from_utf8_lossy(&got.body).to_string();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse::<u64>().ok())
    };
    assert!(
        value("interloper_echo_handshakes_total") >= Some(2),
        "{text}"
    );
    assert!(value("interloper_echo_requests_total") >= Some(2), "{text}");
    assert_eq!(
        value("interloper_echo_rate_limited_total"),
        Some(0),
        "{text}"
    );
    assert!(
        text.contains("# TYPE interloper_echo_accepted counter"),
        "{text}"
    );
    assert!(
        text.contains("# HELP interloper_echo_accepted TCP connections accepted"),
        "{text}"
    );
    assert_eq!(
        value("interloper_echo_refused_total{reason=\"rate_limited\"}"),
        Some(0),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    server.stop().await;
}

/// `metrics_listen`: the counters on a private plain-HTTP address, and no longer on the
/// internet-facing TLS port.
#[tokio::test]
async fn metrics_can_move_off_the_internet_facing_port() {
    let mut cfg = interloper_echo::EchoConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        interloper_echo::CertSource::SelfSigned {
            names: vec!["localhost".into()],
        },
    );
    cfg.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let server = interloper_echo::EchoServer::bind(cfg).await.unwrap();
    let metrics = server.metrics_addr().unwrap();
    let addr = server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    let client = connect(addr, ClientOpts::default()).await;
    let got = get(client, "GET", interloper_echo::PATH_METRICS).await;
    assert_eq!(got.status, 404);
    let got = plain_get(metrics, interloper_echo::PATH_METRICS).await;
    assert_eq!(got.status, 200);
    let text = String::from_utf8_lossy(&got.body).to_string();
    assert!(
        text.contains("interloper_echo_handshakes_total 1"),
        "{text}"
    );
    assert!(
        text.contains("interloper_echo_cert_last_reload_successful 1"),
        "{text}"
    );
    assert_eq!(plain_get(metrics, "/").await.status, 404);
    let _ = tx.send(());
    let _ = tokio::time::timeout(STEP, task).await;
}

#[tokio::test]
async fn requests_beyond_the_source_rate_get_429() {
    let limits = limits_with(|l| {
        l.requests_per_second = 0.5;
        l.request_burst = 2.0;
    });
    let server = start_echo(limits).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let client = connect(server.addr, ClientOpts::default()).await;
        let got = get(client, "GET", PATH_INFO).await;
        if got.status == 429 {
            assert!(got.headers.contains_key("retry-after"));
        }
        statuses.push(got.status);
    }
    assert_eq!(&statuses[..2], &[200, 200]);
    assert!(statuses[2..].contains(&429), "{statuses:?}");
    server.stop().await;
}

#[tokio::test]
async fn silent_connection_is_cut_after_the_handshake_timeout() {
    let limits = limits_with(|l| {
        l.handshake_timeout = Duration::from_secs(1);
    });
    let server = start_echo(limits).await;
    let mut idle = tcp(server.addr, None).await;
    let (_, closed) = read_until_closed(&mut idle, STEP).await;
    assert!(closed, "the server closed the silent connection");
    assert_eq!(server.stats.hello_timeouts.load(Ordering::Relaxed), 1);
    server.stop().await;
}

#[tokio::test]
async fn headers_sent_a_byte_at_a_time_are_cut_after_the_header_timeout() {
    let limits = limits_with(|l| {
        l.header_read_timeout = Duration::from_secs(1);
    });
    let server = start_echo(limits).await;
    let client = connect(
        server.addr,
        ClientOpts {
            alpn: vec!["http/1.1"],
            ..Default::default()
        },
    )
    .await;
    let mut tls = client.tls;
    let head = b"GET /.well-known/interloper/hello HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut sent = 0;
    // A byte every 200 ms: the idle timer never fires, only the header timer can end this.
    for b in head.iter() {
        if tls.write_all(&[*b]).await.is_err() || tls.flush().await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
        if server.stats.header_timeouts.load(Ordering::Relaxed) > 0 {
            break;
        }
    }
    assert!(
        sent < head.len(),
        "cut before the head was complete ({sent} bytes sent)"
    );
    assert_eq!(server.stats.header_timeouts.load(Ordering::Relaxed), 1);
    let (_, closed) = read_until_closed(&mut tls, STEP).await;
    assert!(closed);
    server.stop().await;
}

#[tokio::test]
async fn idle_connection_after_the_handshake_is_cut() {
    let limits = limits_with(|l| {
        l.idle_timeout = Duration::from_secs(1);
    });
    let server = start_echo(limits).await;
    let client = connect(
        server.addr,
        ClientOpts {
            alpn: vec!["h2"],
            ..Default::default()
        },
    )
    .await;
    let mut tls = client.tls;
    let (_, closed) = read_until_closed(&mut tls, STEP).await;
    assert!(closed, "idle TLS connection was closed");
    assert_eq!(server.stats.idle_cuts.load(Ordering::Relaxed), 1);
    server.stop().await;
}

#[tokio::test]
async fn malformed_handshakes_are_closed_without_disturbing_a_good_client() {
    let server = start_echo(test_limits()).await;
    let garbage: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        &[0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00],
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff],
        &[0x17, 0x03, 0x03, 0x00, 0x01, 0x00],
        // A well-framed hello whose body is nonsense: rustls must refuse it.
        &[
            0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0x00, 0x00,
        ],
    ];
    for g in garbage {
        let mut s = tcp(server.addr, None).await;
        s.write_all(g).await.unwrap();
        let (_, closed) = read_until_closed(&mut s, STEP).await;
        assert!(closed, "closed after {g:?}");
    }
    let st = &server.stats;
    assert!(
        st.malformed_hellos.load(Ordering::Relaxed) + st.handshake_failures.load(Ordering::Relaxed)
            >= 4
    );
    let client = connect(
        server.addr,
        ClientOpts {
            alpn: vec!["h2"],
            ..Default::default()
        },
    )
    .await;
    let random = client.random();
    let got = get(client, "GET", PATH_HELLO).await;
    let doc: EchoHello = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(doc.client_hello.client_random, random);
    server.stop().await;
}

#[tokio::test]
async fn connection_limits_hold_globally_and_per_source() {
    let limits = limits_with(|l| {
        l.max_connections = 4;
        l.max_connections_per_source = 2;
    });
    let server = start_echo(limits).await;
    // Two idle connections from 127.0.0.1 fill that source's share…
    let _a = tcp(server.addr, None).await;
    let _b = tcp(server.addr, None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = tcp(server.addr, None).await;
    let (bytes, closed) = read_until_closed(&mut c, STEP).await;
    assert!(closed);
    assert_eq!(bytes.first(), Some(&0x15), "a TLS alert says no");
    assert_eq!(server.stats.refused_source_limit.load(Ordering::Relaxed), 1);
    // …other sources still get in, up to the global limit.
    let _d = tcp(server.addr, Some("127.0.0.2:0".parse().unwrap())).await;
    let _e = tcp(server.addr, Some("127.0.0.3:0".parse().unwrap())).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut f = tcp(server.addr, Some("127.0.0.4:0".parse().unwrap())).await;
    let (_, closed) = read_until_closed(&mut f, STEP).await;
    assert!(closed);
    assert_eq!(
        server
            .stats
            .refused_connection_limit
            .load(Ordering::Relaxed),
        1
    );
    // Once a slot frees, a good client is served again.
    drop(_a);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = connect(server.addr, ClientOpts::default()).await;
    let got = get(client, "GET", PATH_INFO).await;
    assert_eq!(got.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn pem_files_are_served_as_given_and_bad_ones_are_named() {
    use interloper_echo::{CertSource, EchoConfig, EchoError, EchoServer};
    let ck = rcgen::generate_simple_self_signed(vec!["witness.test".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let cfg = EchoConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        CertSource::PemFiles {
            cert: cert.clone(),
            key: key.clone(),
        },
    );
    let server = EchoServer::bind(cfg).await.unwrap();
    let leaf = &server.served_chain().certs[0];
    assert_eq!(b64(&leaf.der_base64), ck.cert.der().to_vec());
    // A key file that holds a certificate is refused with a message naming the problem.
    let cfg = EchoConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        CertSource::PemFiles {
            cert: cert.clone(),
            key: cert,
        },
    );
    match EchoServer::bind(cfg).await {
        Err(EchoError::Cert(msg)) => assert!(msg.contains("key"), "{msg}"),
        other => panic!("expected a certificate error, got {:?}", other.err()),
    }
}

#[tokio::test]
async fn payload_bytes_beyond_the_source_budget_get_429() {
    let limits = limits_with(|l| {
        l.max_payload_bytes = 1000;
        l.payload_burst_bytes = 1500.0;
        l.payload_bytes_per_second = 1.0;
    });
    let server = start_echo(limits).await;
    let path = "/.well-known/interloper/payload?bytes=1000&seed=3";
    let first = get(
        connect(server.addr, ClientOpts::default()).await,
        "GET",
        path,
    )
    .await;
    assert_eq!(first.status, 200);
    let second = get(
        connect(server.addr, ClientOpts::default()).await,
        "GET",
        path,
    )
    .await;
    assert_eq!(second.status, 429);
    assert!(second.headers.contains_key("retry-after"));
    // Small documents still pass: the request bucket is separate.
    let info = get(
        connect(server.addr, ClientOpts::default()).await,
        "GET",
        PATH_INFO,
    )
    .await;
    assert_eq!(info.status, 200);
    assert_eq!(server.stats.rate_limited.load(Ordering::Relaxed), 1);
    server.stop().await;
}
