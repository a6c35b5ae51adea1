//! Proving interception: mitmproxy (reverse mode) in front of the witness and of the
//! passthrough, against a direct path. Everything on loopback.

mod common;

use base64::Engine as _;
use common::*;
use interloper_echo::{EchoHello, HellosAnswer, PATH_HELLO, PATH_HELLOS};
use interloper_model::schema;
use interloper_testkit::Mitmproxy;

fn served_ders(doc: &EchoHello) -> Vec<Vec<u8>> {
    doc.served_chain
        .iter()
        .map(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(&c.der_base64)
                .unwrap()
        })
        .collect()
}

/// testkit's mitmdump in reverse mode in front of `upstream` (on 127.0.0.1); `None`, with a
/// line saying why, when the venv holding it is not set up.
async fn mitmproxy_in_front_of(upstream: std::net::SocketAddr) -> Option<Mitmproxy> {
    if let Err(why) = interloper_testkit::venv() {
        // scripts/test always sets INTERLOPER_VENV; a bare `cargo test` may not.
        eprintln!("SKIPPED: {why:#}");
        return None;
    }
    let port = upstream.port();
    let mitm = tokio::task::spawn_blocking(move || {
        Mitmproxy::reverse(port, "mitmproxy", "mitmproxy", None)
    })
    .await
    .expect("join");
    Some(mitm.expect("mitmproxy starts"))
}

#[tokio::test]
async fn through_mitmproxy_the_witness_sees_another_random_and_the_client_another_chain() {
    let echo = start_echo(test_limits()).await;
    let Some(mitm) = mitmproxy_in_front_of(echo.addr).await else {
        return;
    };
    let addr = format!("127.0.0.1:{}", mitm.port).parse().unwrap();
    let client = connect(
        addr,
        ClientOpts {
            alpn: vec!["h2", "http/1.1"],
            ..Default::default()
        },
    )
    .await;
    let random = client.random();
    let seen_chain = client.chain();
    let got = get(client, "GET", PATH_HELLO).await;
    assert_eq!(got.status, 200);
    let doc: EchoHello = serde_json::from_slice(&got.body).unwrap();
    // The witness got a hello, but not this client's: TLS was terminated on the way.
    assert_ne!(doc.client_hello.client_random, random);
    assert_eq!(doc.client_hello.client_random.len(), 64);
    // And the client was shown a chain the witness never served.
    assert_ne!(served_ders(&doc), seen_chain);
    assert_eq!(served_ders(&doc), echo.served);
    drop(mitm);
    echo.stop().await;
}

#[tokio::test]
async fn passthrough_finds_a_direct_clients_hello_by_its_random() {
    let echo = start_echo(test_limits()).await;
    let pass = start_passthrough(echo.addr, None).await;
    let api = pass.api.unwrap();
    let client = connect(
        pass.addr,
        ClientOpts {
            alpn: vec!["h2"],
            ..Default::default()
        },
    )
    .await;
    let random = client.random();
    let seen_chain = client.chain();
    // The passthrough is transparent: the server behind it sees the same hello and the
    // client the same chain.
    let got = get(client, "GET", PATH_HELLO).await;
    let doc: EchoHello = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(doc.client_hello.client_random, random);
    assert_eq!(served_ders(&doc), seen_chain);

    let answer = plain_get(api, &format!("{PATH_HELLOS}?client_random={random}")).await;
    assert_eq!(answer.status, 200);
    let a: HellosAnswer = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(a.schema, schema::ECHO_HELLOS);
    assert!(a.seen);
    assert_eq!(a.hellos.len(), 1);
    let rec = &a.hellos[0].client_hello;
    assert_eq!(rec.client_random, random);
    assert_eq!(rec.sni.as_deref(), Some("localhost"));
    assert_eq!(rec.ja4, doc.client_hello.ja4);

    // Uppercase hex is the same random; an unknown one is a 404 with seen=false.
    let up = plain_get(
        api,
        &format!("{PATH_HELLOS}?client_random={}", random.to_uppercase()),
    )
    .await;
    assert_eq!(up.status, 200);
    let other = "ab".repeat(32);
    let miss = plain_get(api, &format!("{PATH_HELLOS}?client_random={other}")).await;
    assert_eq!(miss.status, 404);
    let m: serde_json::Value = serde_json::from_slice(&miss.body).unwrap();
    assert_eq!(m["seen"], false);
    let bad = plain_get(api, &format!("{PATH_HELLOS}?client_random=xyz")).await;
    assert_eq!(bad.status, 400);
    pass.stop().await;
    echo.stop().await;
}

#[tokio::test]
async fn passthrough_behind_mitmproxy_never_sees_the_clients_hello() {
    let echo = start_echo(test_limits()).await;
    let pass = start_passthrough(echo.addr, None).await;
    let api = pass.api.unwrap();
    let Some(mitm) = mitmproxy_in_front_of(pass.addr).await else {
        return;
    };
    let addr = format!("127.0.0.1:{}", mitm.port).parse().unwrap();
    let client = connect(
        addr,
        ClientOpts {
            alpn: vec!["h2", "http/1.1"],
            ..Default::default()
        },
    )
    .await;
    let random = client.random();
    let got = get(client, "GET", PATH_HELLO).await;
    assert_eq!(got.status, 200);
    let doc: EchoHello = serde_json::from_slice(&got.body).unwrap();

    let miss = plain_get(api, &format!("{PATH_HELLOS}?client_random={random}")).await;
    assert_eq!(
        miss.status, 404,
        "the client's hello never reached the real port"
    );
    // What did arrive is the middlebox's own hello, the one the server behind saw.
    let hit = plain_get(
        api,
        &format!(
            "{PATH_HELLOS}?client_random={}",
            doc.client_hello.client_random
        ),
    )
    .await;
    assert_eq!(hit.status, 200);
    drop(mitm);
    pass.stop().await;
    echo.stop().await;
}

#[tokio::test]
async fn passthrough_forwards_non_tls_bytes_unrecorded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A plain TCP upstream that answers one line.
    let up = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_addr = up.local_addr().unwrap();
    let upstream = tokio::spawn(async move {
        let (mut s, _) = up.accept().await.unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.unwrap();
        s.write_all(&buf[..n]).await.unwrap();
    });
    let pass = start_passthrough(up_addr, None).await;
    let mut c = tcp(pass.addr, None).await;
    c.write_all(b"HELLO PLAIN\r\n").await.unwrap();
    let (echoed, _) = read_until_closed(&mut c, STEP).await;
    assert_eq!(echoed, b"HELLO PLAIN\r\n");
    let _ = tokio::time::timeout(STEP, upstream).await;
    assert_eq!(
        pass.stats
            .forwarded_unrecorded
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    pass.stop().await;
}
