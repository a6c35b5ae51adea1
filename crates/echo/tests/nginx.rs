//! The passthrough in front of a real nginx (the deployment docs/echo.md describes), loopback.

mod common;

use std::net::SocketAddr;

use common::*;
use interloper_echo::{HellosAnswer, PATH_HELLOS};
use interloper_testkit::{Nginx, NginxOptions};

/// testkit's nginx answering every path itself, so what comes back through the passthrough is
/// plainly nginx's.
async fn start_nginx() -> Nginx {
    tokio::task::spawn_blocking(|| {
        Nginx::start(NginxOptions {
            extra_server_conf: "location / { return 200 \"nginx behind the passthrough\\n\"; }"
                .into(),
            ..Default::default()
        })
    })
    .await
    .expect("join")
    .expect("nginx starts")
}

#[tokio::test]
async fn passthrough_in_front_of_nginx_records_the_hello_and_stays_transparent() {
    let nginx = start_nginx().await;
    let served = nginx.pki.served_chain_der().expect("nginx's chain");
    let upstream = SocketAddr::from(([127, 0, 0, 1], nginx.https_port));
    let pass = start_passthrough(upstream, None).await;
    for alpn in [vec!["h2"], vec!["http/1.1"]] {
        let client = connect(
            pass.addr,
            ClientOpts {
                alpn,
                ..Default::default()
            },
        )
        .await;
        let random = client.random();
        // nginx's own certificate reaches the client: no termination in the passthrough.
        assert_eq!(client.chain(), served);
        let got = get(client, "GET", "/anything").await;
        assert_eq!(got.status, 200);
        assert_eq!(&got.body[..], b"nginx behind the passthrough\n");
        let answer = plain_get(
            pass.api.unwrap(),
            &format!("{PATH_HELLOS}?client_random={random}"),
        )
        .await;
        assert_eq!(answer.status, 200);
        let a: HellosAnswer = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(a.hellos[0].client_hello.sni.as_deref(), Some("localhost"));
    }
    pass.stop().await;
    drop(nginx);
}
