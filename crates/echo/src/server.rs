//! The witness server: bind, accept with admission control, drain on shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::certs::{self, CertStore, ServedChain};
use crate::config::EchoConfig;
use crate::conn::{self, EchoShared};
use crate::error::EchoError;
use crate::http::HttpShared;
use crate::limits::Guards;
use crate::stats::{Stats, StatsSnapshot, bump};

/// A fatal `internal_error` alert (TLS record, plaintext as before any handshake): the polite
/// way to say "not now" to a TLS client we will not serve.
const ALERT_REFUSED: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50];

/// Pause after an accept error (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The TLS-terminating witness. Bind it, read [`EchoServer::local_addr`], then
/// [`EchoServer::run`] it.
pub struct EchoServer {
    listener: TcpListener,
    /// `metrics_listen`'s plain-HTTP listener, when asked for.
    metrics: Option<TcpListener>,
    shared: Arc<EchoShared>,
}

impl EchoServer {
    /// Loads or generates the certificate, builds the TLS configuration and binds the port.
    pub async fn bind(config: EchoConfig) -> Result<EchoServer, EchoError> {
        config.limits.validate()?;
        let guards = Guards::new(config.limits);
        let store = Arc::new(CertStore::new(config.cert, Arc::clone(&guards.stats))?);
        let tls = certs::server_config(Arc::clone(&store))?;
        let listener = bind_listener(config.listen).await?;
        let metrics = match config.metrics_listen {
            Some(addr) => Some(bind_listener(addr).await?),
            None => None,
        };
        let visits = crate::visit::Visits::new(config.visits).map_err(EchoError::Io)?;
        let shared = Arc::new(EchoShared {
            http: HttpShared::new(Arc::clone(&guards), visits, metrics.is_none()),
            guards,
            acceptor: tokio_rustls::TlsAcceptor::from(tls),
            certs: store,
        });
        Ok(EchoServer {
            listener,
            metrics,
            shared,
        })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Where `/metrics` is served over plain HTTP, when `metrics_listen` was given.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The chain this witness serves now (what a client should see when nothing intercepts).
    pub fn served_chain(&self) -> Arc<ServedChain> {
        Arc::clone(&self.shared.certs.current().chain)
    }

    /// A handle that reloads the certificate and reopens the visits log while the server
    /// runs (take it before `run` consumes the server).
    pub fn reloader(&self) -> EchoReloader {
        EchoReloader {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Live counters (share the `Arc` before `run` consumes the server).
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.shared.guards.stats)
    }

    /// A snapshot of the counters now.
    pub fn stats_snapshot(&self) -> StatsSnapshot {
        self.shared.guards.stats.snapshot()
    }

    /// Serves until `shutdown` resolves, then stops accepting and gives open connections
    /// `drain_timeout` to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let shared = self.shared;
        let limits = shared.guards.limits.clone();
        let max = limits.max_connections;
        let slots = Arc::new(Semaphore::new(max));
        let (stop_tx, stop_rx) = watch::channel(false);
        if let Some(metrics) = self.metrics {
            tokio::spawn(serve_metrics(
                metrics,
                Arc::clone(&shared.guards),
                stop_rx.clone(),
            ));
        }
        accept_loop(
            &self.listener,
            shutdown,
            &shared.guards,
            &slots,
            |tcp, peer, permit, source| {
                let task = conn::serve(
                    tcp,
                    peer,
                    Arc::clone(&shared),
                    stop_rx.clone(),
                    permit,
                    source,
                );
                tokio::spawn(task);
            },
        )
        .await;
        let _ = stop_tx.send(true);
        drain(&slots, max, limits.drain_timeout).await;
    }
}

/// Reloads a running witness: what `interloper echo` does on SIGHUP (certbot's deploy hook,
/// logrotate's `postrotate`).
#[derive(Clone)]
pub struct EchoReloader {
    shared: Arc<EchoShared>,
}

impl EchoReloader {
    /// Reads the certificate and key files again and serves the new pair from the next
    /// handshake on; connections already open keep theirs. A pair that does not load or
    /// whose key does not fit the leaf is refused: the old pair stays, the error says why,
    /// and `interloper_echo_cert_last_reload_successful` drops to 0.
    pub fn reload_certificate(&self) -> Result<Arc<ServedChain>, EchoError> {
        self.shared.certs.reload()
    }

    /// Reopens the visits log at its path (after logrotate renamed it): every line written
    /// before is in the renamed file, every line after in the new one.
    pub fn reopen_logs(&self) -> Result<(), EchoError> {
        let reopened = self.shared.http.visits.reopen_log();
        if reopened.is_err() {
            bump(&self.shared.guards.stats.log_reopen_failures);
        }
        reopened.map_err(EchoError::Io)
    }
}

/// Most metrics connections served at once: a scraper needs one.
const MAX_METRICS_CONNECTIONS: usize = 16;

/// `metrics_listen`: `GET /metrics` over plain HTTP/1.1 until the server stops; anything else
/// is 404. Few connections at once, each with a header timeout: it is meant for a private
/// network, but costs little to bound.
async fn serve_metrics(
    listener: TcpListener,
    guards: Arc<Guards>,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_METRICS_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => return,
            a = listener.accept() => a,
        };
        let Ok((tcp, _)) = accepted else {
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            continue;
        };
        let guards = Arc::clone(&guards);
        tokio::spawn(async move {
            let _permit = permit;
            let service =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let answer = if req.uri().path() == crate::stats::PATH_METRICS {
                        crate::http::metrics_answer(&guards)
                    } else {
                        let mut r = http::Response::new(http_body_util::Full::new(
                            bytes::Bytes::from_static(b"not found: try /metrics\n"),
                        ));
                        *r.status_mut() = http::StatusCode::NOT_FOUND;
                        r
                    };
                    async move { Ok::<_, std::convert::Infallible>(answer) }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
            let _ = tokio::time::timeout(Duration::from_secs(60), conn).await;
        });
    }
}

pub(crate) async fn bind_listener(addr: SocketAddr) -> Result<TcpListener, EchoError> {
    TcpListener::bind(addr)
        .await
        .map_err(|reason| EchoError::Bind { addr, reason })
}

/// Waits until every connection released its slot, or `limit` passes.
pub(crate) async fn drain(slots: &Arc<Semaphore>, max: usize, limit: Duration) {
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(limit, slots.acquire_many(all)).await;
}

/// Accepts until `shutdown`, admitting each connection against the global and per-source
/// limits; refused ones get a TLS alert and are closed at once.
pub(crate) async fn accept_loop<F>(
    listener: &TcpListener,
    shutdown: impl Future<Output = ()>,
    guards: &Arc<Guards>,
    slots: &Arc<Semaphore>,
    mut spawn: F,
) where
    F: FnMut(TcpStream, SocketAddr, tokio::sync::OwnedSemaphorePermit, crate::limits::SourceGuard),
{
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            a = listener.accept() => a,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                guards.log.problem(
                    log::Level::Error,
                    None,
                    "accept failed (backing off)",
                    &e.to_string(),
                );
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        bump(&guards.stats.accepted);
        let Ok(permit) = Arc::clone(slots).try_acquire_owned() else {
            bump(&guards.stats.refused_connection_limit);
            guards.log.refused_over_limit(
                peer,
                "connection",
                &format!("{} connections open already", guards.limits.max_connections),
            );
            refuse(tcp);
            continue;
        };
        let Some(source) = guards.admit(peer) else {
            refuse(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        spawn(tcp, peer, permit, source);
    }
}

/// Best effort, never waits: a full send buffer just means no alert.
fn refuse(tcp: TcpStream) {
    let _ = tcp.try_write(&ALERT_REFUSED);
    drop(tcp);
}
