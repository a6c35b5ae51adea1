//! A certificate renewal on a running witness: the files replaced, the reload that SIGHUP
//! triggers, and the next handshake shows the new leaf; a broken pair (a key that does not
//! fit, a file that is not PEM) is refused, the renewed pair stays served, and the metrics an
//! alert reads say so.

mod common;

use common::*;
use interloper_echo::{CertSource, EchoConfig, PATH_HELLO};
use interloper_testkit::TestPki;

/// Copies a pair's files to where the witness reads them, as certbot's deploy hook does.
fn install(cert_from: &std::path::Path, key_from: &std::path::Path, dir: &std::path::Path) {
    std::fs::copy(cert_from, dir.join("cert.pem")).unwrap();
    std::fs::copy(key_from, dir.join("key.pem")).unwrap();
}

async fn leaf_seen(addr: std::net::SocketAddr) -> Vec<u8> {
    let client = connect(addr, ClientOpts::default()).await;
    client.chain().into_iter().next().expect("a leaf")
}

fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn a_renewed_pair_is_served_after_reload_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let old = TestPki::generate(&dir.path().join("old"), "Old CA", "Renewals", &[]).unwrap();
    let new = TestPki::generate(&dir.path().join("new"), "New CA", "Renewals", &[]).unwrap();
    let live = dir.path().join("live");
    std::fs::create_dir(&live).unwrap();
    install(&old.leaf_cert_pem, &old.leaf_key_pem, &live);
    let cfg = EchoConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        CertSource::PemFiles {
            cert: live.join("cert.pem"),
            key: live.join("key.pem"),
        },
    );
    let w = start_echo_with(cfg).await;
    let reloader = w.reloader.clone().unwrap();
    let old_leaf = old.served_chain_der().unwrap().remove(0);
    let new_leaf = new.served_chain_der().unwrap().remove(0);
    assert_eq!(leaf_seen(w.addr).await, old_leaf);
    // A connection opened before the renewal keeps working after it.
    let before = connect(w.addr, ClientOpts::default()).await;

    install(&new.leaf_cert_pem, &new.leaf_key_pem, &live);
    let chain = reloader.reload_certificate().unwrap();
    assert_eq!(chain.certs.len(), 2);
    assert_eq!(leaf_seen(w.addr).await, new_leaf);
    // The witness's own document describes the pair it serves now.
    let doc = get(
        connect(w.addr, ClientOpts::default()).await,
        "GET",
        PATH_HELLO,
    )
    .await;
    let doc: serde_json::Value = serde_json::from_slice(&doc.body).unwrap();
    assert_eq!(
        doc["served_chain"][0]["sha256"].as_str(),
        Some(chain.certs[0].sha256.as_str()),
        "{doc:#}"
    );
    assert_eq!(get(before, "GET", PATH_HELLO).await.status, 200);

    // Half a renewal: the new certificate with the old key. Refused; the renewed pair stays.
    install(&new.leaf_cert_pem, &old.leaf_key_pem, &live);
    let refused = reloader.reload_certificate().unwrap_err().to_string();
    assert!(refused.contains("does not fit"), "{refused}");
    std::fs::write(live.join("cert.pem"), "not a certificate").unwrap();
    let refused = reloader.reload_certificate().unwrap_err().to_string();
    assert!(refused.contains("CERTIFICATE"), "{refused}");
    assert_eq!(leaf_seen(w.addr).await, new_leaf);

    let metrics = get(
        connect(w.addr, ClientOpts::default()).await,
        "GET",
        "/metrics",
    )
    .await;
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    assert_eq!(
        metric(&text, "interloper_echo_cert_reloads_total"),
        Some(1),
        "{text}"
    );
    assert_eq!(
        metric(&text, "interloper_echo_cert_reloads_refused_total"),
        Some(2),
        "{text}"
    );
    assert_eq!(
        metric(&text, "interloper_echo_cert_last_reload_successful"),
        Some(0),
        "{text}"
    );
    let not_after = metric(&text, "interloper_echo_cert_not_after_seconds").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // TestPki's leaf: 90 days from yesterday.
    assert!(
        not_after > now + 80 * 86_400 && not_after < now + 90 * 86_400,
        "{text}"
    );

    // The operator fixes the files: the next reload succeeds and the alert clears.
    install(&new.leaf_cert_pem, &new.leaf_key_pem, &live);
    reloader.reload_certificate().unwrap();
    assert_eq!(w.stats.snapshot().cert_last_reload_successful, 1);
    w.stop().await;
}
