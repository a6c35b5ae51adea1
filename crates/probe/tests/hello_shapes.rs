//! The hello shapes against a real TLS server on loopback: the post-quantum shapes carry an
//! X25519MLKEM768 key share (read back with interloper-wire from the recorded hello), the
//! classic one does not, and all of them complete a handshake with a server that has no ML-KEM.

use std::time::Duration;

use interloper_model::HelloShape;
use interloper_probe::{Probe, ProbeConfig, ProxySetting, Target};
use interloper_testkit::faults::{Fault, FaultServer};
use interloper_wire::ClientHello;

const X25519MLKEM768: u16 = 0x11EC;
const X25519: u16 = 0x001D;

async fn hello_of(shape: HelloShape) -> interloper_model::RequestRecord {
    let s = FaultServer::tls(Fault::Ok(b"secure".to_vec())).unwrap();
    let mut c = ProbeConfig::default();
    c.proxy = ProxySetting::None;
    c.use_os_roots = false;
    c.phase_timeout = Duration::from_secs(5);
    c.extra_roots_der = s.ca_der.clone().into_iter().collect();
    c.hello = shape;
    let probe = Probe::new(c).unwrap();
    probe.request(&Target::parse(&s.url("/ok")).unwrap()).await
}

#[tokio::test]
async fn post_quantum_shapes_carry_an_ml_kem_share_and_still_connect() {
    for shape in [HelloShape::Pq, HelloShape::Large] {
        let r = hello_of(shape).await;
        assert!(r.ok(), "{shape}: {:?}", r.error);
        assert_eq!(r.hello_shape, shape);
        let tls = r.tls.as_ref().unwrap();
        let hello = ClientHello::parse(&tls.client_hello).unwrap();
        let shares = hello.key_shares();
        assert_eq!(
            shares.first(),
            Some(&(X25519MLKEM768, 1216)),
            "{shape}: {shares:?}"
        );
        assert!(hello.key_share_groups().contains(&X25519), "{shares:?}");
        assert_eq!(hello.supported_groups().first(), Some(&X25519MLKEM768));
        assert!(
            tls.client_hello.len() > 1400,
            "{shape}: a post-quantum hello is over a segment's worth: {}",
            tls.client_hello.len()
        );
        // The test server (the classic offer) has no ML-KEM: the handshake settles on X25519.
        assert_eq!(tls.group.as_deref(), Some("X25519"));
    }
}

#[tokio::test]
async fn the_classic_shape_has_no_ml_kem() {
    let r = hello_of(HelloShape::Classic).await;
    assert!(r.ok(), "{:?}", r.error);
    let tls = r.tls.as_ref().unwrap();
    let hello = ClientHello::parse(&tls.client_hello).unwrap();
    assert!(!hello.supported_groups().contains(&X25519MLKEM768));
    assert_eq!(hello.key_share_groups(), vec![X25519]);
    assert!(tls.client_hello.len() < 600, "{}", tls.client_hello.len());
    assert_eq!(tls.group.as_deref(), Some("X25519"));
    // Records from before hello shapes read back as classic.
    let json = serde_json::to_value(&r).unwrap();
    assert!(json.get("hello_shape").is_none());
}

/// The classic hello is still the one rustls sent on ring before aws-lc-rs became the binary's
/// only crypto library: data/hello-stacks.toml's entry for our own client (captured on ring)
/// names it exactly, cipher suites, extensions and signature algorithms alike.
#[tokio::test]
async fn the_classic_hello_is_still_rings() {
    let r = hello_of(HelloShape::Classic).await;
    assert!(r.ok(), "{:?}", r.error);
    let hello = ClientHello::parse(&r.tls.as_ref().unwrap().client_hello).unwrap();
    let ja4 = interloper_wire::ja4(&hello, interloper_wire::Transport::Tcp).ja4;
    let stack = interloper_wire::stacks::identify(&ja4);
    assert_eq!(
        stack.as_ref().map(|s| (s.id.as_str(), s.exact)),
        Some(("rustls-interloper", true)),
        "{ja4}: {stack:?}"
    );
}
