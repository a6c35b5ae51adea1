//! One witness connection: read the hello, hand it to rustls, serve HTTP/1.1 or HTTP/2, and
//! cut it when it idles, ages or the server shuts down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::{Instant, timeout, timeout_at};

use crate::certs::CertStore;
use crate::ctx::{Clock, ConnCtx};
use crate::hello::{self, ReadError};
use crate::http::{HttpShared, handle};
use crate::limits::{Guards, SourceGuard};
use crate::stats::bump;
use crate::stream::{Activity, Prefixed, Watched};
use crate::witness::{Negotiated, Stamp, Timestamps};

/// Grace given to in-flight responses when a connection is cut.
const CUT_GRACE: Duration = Duration::from_secs(1);

/// Everything a witness connection task shares with the server.
pub(crate) struct EchoShared {
    pub guards: Arc<Guards>,
    pub http: Arc<HttpShared>,
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub certs: Arc<CertStore>,
}

/// Logs and counts a failed hello read; shared with the passthrough.
pub(crate) fn note_hello_error(guards: &Guards, peer: SocketAddr, err: &ReadError) {
    match err {
        ReadError::Eof { bytes } => {
            bump(&guards.stats.hello_eof);
            guards.log.refused(
                peer,
                "handshake",
                &format!("closed after {bytes} bytes, before a whole ClientHello"),
            );
        }
        ReadError::Malformed { reason, .. } => {
            bump(&guards.stats.malformed_hellos);
            guards
                .log
                .refused(peer, "handshake", &format!("not a ClientHello: {reason}"));
        }
        ReadError::Io(e) => {
            bump(&guards.stats.hello_eof);
            guards
                .log
                .refused(peer, "handshake", &format!("socket error: {e}"));
        }
    }
}

pub(crate) fn note_hello_timeout(guards: &Guards, peer: SocketAddr) {
    bump(&guards.stats.hello_timeouts);
    guards.log.refused(
        peer,
        "handshake",
        &format!(
            "no whole ClientHello within {:?}",
            guards.limits.handshake_timeout
        ),
    );
}

/// Serves one accepted TCP connection to the end. Holds the global permit and the source slot
/// for its whole life.
pub(crate) async fn serve(
    mut tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<EchoShared>,
    shutdown: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
    _source: SourceGuard,
) {
    let g = &shared.guards;
    let limits = &g.limits;
    let clock = Clock::start();
    let accepted = clock.stamp();
    let local = tcp.local_addr().unwrap_or(peer);
    let deadline = Instant::now() + limits.handshake_timeout;

    // Wait for the first byte before allocating read buffers: an idle crowd then costs a
    // socket and a sleeping task each, not kilobytes.
    let first = async {
        tcp.readable().await.map_err(ReadError::Io)?;
        hello::read_hello(&mut tcp, limits.max_hello_len).await
    };
    let captured = match timeout_at(deadline, first).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return note_hello_error(g, peer, &e),
        Err(_) => return note_hello_timeout(g, peer),
    };
    let hello_read = clock.stamp();
    // Everything after the hello lives in its own heap allocation: the TLS and HTTP state is
    // large, and an idle crowd that never sends a hello should not pay for it.
    let start = Start {
        peer,
        local,
        clock,
        accepted,
        hello_read,
        deadline,
    };
    Box::pin(after_hello(
        tcp,
        captured,
        start,
        Arc::clone(&shared),
        shutdown,
    ))
    .await;
}

/// What the hello phase learnt, handed to the rest of the connection.
struct Start {
    peer: SocketAddr,
    local: SocketAddr,
    clock: Clock,
    accepted: Stamp,
    hello_read: Stamp,
    deadline: Instant,
}

async fn after_hello(
    tcp: TcpStream,
    captured: hello::Captured,
    start: Start,
    shared: Arc<EchoShared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let Start {
        peer,
        local,
        clock,
        accepted,
        hello_read,
        deadline,
    } = start;
    let g = &shared.guards;
    let limits = &g.limits;
    let report = hello::report(&captured);
    if let Some(e) = &report.parse_error {
        g.log.problem(
            log::Level::Info,
            Some(peer),
            "ClientHello parser failed (serving anyway)",
            e,
        );
    }

    let stream = Prefixed::new(captured.raw.clone(), tcp);
    let tls = match timeout_at(deadline, shared.acceptor.accept(stream)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            bump(&g.stats.handshake_failures);
            g.log.refused(peer, "handshake", &format!("TLS: {e}"));
            return;
        }
        Err(_) => {
            bump(&g.stats.handshake_failures);
            g.log.refused(
                peer,
                "handshake",
                &format!("not done within {:?}", limits.handshake_timeout),
            );
            return;
        }
    };
    let handshake_done = clock.stamp();
    bump(&g.stats.handshakes);
    let negotiated = negotiated(tls.get_ref().1);
    log::debug!(
        peer:% = peer,
        sni = negotiated.sni.as_deref().unwrap_or(""),
        tls_version = negotiated.tls_version.as_str(),
        alpn = negotiated.alpn.as_deref().unwrap_or(""),
        ja4 = report.ja4.ja4.as_str();
        "connection"
    );

    let ctx = Arc::new(ConnCtx {
        peer,
        local,
        clock,
        hello: report,
        negotiated,
        // The pair served now: a reload during this very handshake is the one case where
        // it could differ from the one the client got.
        chain: Arc::clone(&shared.certs.current().chain),
        timestamps: Timestamps {
            accepted,
            hello_read,
            handshake_done,
            ..Timestamps::default()
        },
        requests: AtomicU64::new(0),
    });

    let activity = Activity::new();
    let io = TokioIo::new(Watched::new(tls, activity.clone()));
    let http = Arc::clone(&shared.http);
    let svc = service_fn(move |req| handle(req, Arc::clone(&ctx), Arc::clone(&http)));

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_request_head)
        .max_headers(100)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_h2_streams)
        .max_header_list_size(u32::try_from(limits.max_request_head).unwrap_or(u32::MAX))
        .max_pending_accept_reset_streams(Some(20))
        .max_local_error_reset_streams(Some(64));
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);

    let age = tokio::time::sleep(limits.max_connection_age);
    tokio::pin!(age);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                let timed_out = e
                    .downcast_ref::<hyper::Error>()
                    .is_some_and(hyper::Error::is_timeout);
                if timed_out {
                    bump(&g.stats.header_timeouts);
                    g.log.refused(peer, "request", &format!(
                        "request head not complete within {:?}", limits.header_read_timeout));
                }
            }
            return;
        }
        _ = activity.idle_for(limits.idle_timeout) => {
            bump(&g.stats.idle_cuts);
            g.log.refused(peer, "connection", &format!("idle for {:?}", limits.idle_timeout));
        }
        _ = &mut age => {
            bump(&g.stats.age_cuts);
            g.log.refused(peer, "connection", &format!("older than {:?}", limits.max_connection_age));
        }
        _ = shutdown.changed() => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = timeout(CUT_GRACE, conn.as_mut()).await;
}

fn negotiated(c: &rustls::ServerConnection) -> Negotiated {
    let version = c.protocol_version();
    let suite = c.negotiated_cipher_suite();
    Negotiated {
        tls_version: match version {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".into(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".into(),
            Some(v) => format!("{v:?}"),
            None => String::new(),
        },
        tls_version_id: version.map(u16::from).unwrap_or(0),
        cipher_suite: suite
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        cipher_suite_id: suite.map(|s| u16::from(s.suite())).unwrap_or(0),
        key_exchange_group: c
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
        alpn: c
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        http_version: String::new(),
        sni: c.server_name().map(str::to_string),
    }
}
