//! A kept-alive connection that closes under a request before any byte of an answer (a server's
//! idle timeout crossing the request): the probe sends the request once more on a fresh
//! connection, as browsers do, and records it; never twice, never after bytes of an answer.
//! Servers are real sockets on 127.0.0.1 (interloper_testkit::faults).

use std::time::Duration;

use interloper_model::{ErrorKind, Phase};
use interloper_probe::{ConnectionPolicy, Probe, ProbeConfig, ProxySetting, Target};
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

fn closing_after(answered: usize, partial_head: usize) -> FaultServer {
    FaultServer::plain(Fault::KeepAliveThenClose {
        body: b"file".to_vec(),
        answered,
        partial_head,
    })
    .expect("fault server")
}

#[tokio::test]
async fn a_reused_connection_closed_under_a_get_is_retried_once_on_a_fresh_one() {
    let server = closing_after(1, 0);
    let target = Target::parse(&server.url("/app.css")).expect("url");
    let probe = Probe::new(config()).expect("probe");
    let mut session = probe.session(ConnectionPolicy::Reuse);

    let first = session.request(&target, 0).await;
    assert!(first.ok(), "{:?}", first.error);
    assert!(!first.reused);
    assert!(first.retried_after_close.is_none());

    let second = session.request(&target, 1).await;
    assert!(second.ok(), "the retry answers: {:?}", second.error);
    assert_eq!(second.status, Some(200));
    assert_eq!(second.bytes_received, 4);
    assert!(!second.reused, "the answer came over a fresh connection");
    assert_ne!(second.connection_id, first.connection_id);
    assert!(
        second.phases.connect_ms.is_some(),
        "the fresh connection is timed"
    );
    let closed = second
        .retried_after_close
        .as_ref()
        .expect("the close under the first attempt is recorded");
    assert_eq!(closed.connection_id, first.connection_id);
    assert_eq!(closed.error.kind, ErrorKind::ResetBeforeHeaders);
    assert_eq!(closed.error.phase, Phase::Ttfb);
    assert!(closed.idle_ms >= 0.0 && closed.attempt_ms >= 0.0);
    assert!(
        second.phases.total_ms.unwrap_or_default() >= closed.attempt_ms,
        "the request's time holds both attempts"
    );
    assert_eq!(server.accepted(), 2, "one retry, one new connection");
}

#[tokio::test]
async fn the_idle_time_before_a_reuse_is_recorded() {
    let server = closing_after(3, 0);
    let target = Target::parse(&server.url("/a")).expect("url");
    let probe = Probe::new(config()).expect("probe");
    let mut session = probe.session(ConnectionPolicy::Reuse);
    let first = session.request(&target, 0).await;
    assert!(first.ok() && first.reuse_idle_ms.is_none());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = session.request(&target, 1).await;
    assert!(second.ok() && second.reused, "{:?}", second.error);
    let idle = second.reuse_idle_ms.expect("idle time of a reuse");
    assert!(idle > 250.0, "idle {idle} ms after a 300 ms pause");
}

#[tokio::test]
async fn a_fresh_connection_closed_under_its_request_is_a_failure_not_retried() {
    let server = closing_after(0, 0);
    let target = Target::parse(&server.url("/a")).expect("url");
    let probe = Probe::new(config()).expect("probe");
    let mut session = probe.session(ConnectionPolicy::Reuse);
    let r = session.request(&target, 0).await;
    let e = r.error.as_ref().expect("no answer came");
    assert_eq!(e.kind, ErrorKind::ResetBeforeHeaders);
    assert!(r.retried_after_close.is_none());
    assert_eq!(server.accepted(), 1, "no second attempt");
}

#[tokio::test]
async fn bytes_of_an_answer_before_the_close_mean_no_retry() {
    let server = closing_after(1, 8);
    let target = Target::parse(&server.url("/a")).expect("url");
    let probe = Probe::new(config()).expect("probe");
    let mut session = probe.session(ConnectionPolicy::Reuse);
    assert!(session.request(&target, 0).await.ok());
    let r = session.request(&target, 1).await;
    assert!(r.reused);
    assert!(r.error.is_some(), "HTTP/1.1 then nothing: a failure");
    assert!(r.retried_after_close.is_none());
    assert_eq!(server.accepted(), 1, "no second attempt");
}
