//! The witness server: bind, accept with admission control, drain on shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::certs::{self, ServedChain};
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
    shared: Arc<EchoShared>,
}

impl EchoServer {
    /// Loads or generates the certificate, builds the TLS configuration and binds the port.
    pub async fn bind(config: EchoConfig) -> Result<EchoServer, EchoError> {
        config.limits.validate()?;
        let loaded = certs::load(&config.cert)?;
        let chain = Arc::new(certs::describe_chain(&loaded.chain));
        let tls = certs::server_config(loaded)?;
        let listener = bind_listener(config.listen).await?;
        let guards = Guards::new(config.limits);
        let visits = crate::visit::Visits::new(config.visits).map_err(EchoError::Io)?;
        let shared = Arc::new(EchoShared {
            http: HttpShared::new(Arc::clone(&guards), visits),
            guards,
            acceptor: tokio_rustls::TlsAcceptor::from(tls),
            chain,
        });
        Ok(EchoServer { listener, shared })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The chain this witness serves (what a client should see when nothing intercepts).
    pub fn served_chain(&self) -> &ServedChain {
        &self.shared.chain
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
                guards
                    .log
                    .line(format_args!("accept failed: {e} (backing off)"));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        bump(&guards.stats.accepted);
        let Ok(permit) = Arc::clone(slots).try_acquire_owned() else {
            bump(&guards.stats.refused_connection_limit);
            guards.log.refused(
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
