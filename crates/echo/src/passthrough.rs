//! Passthrough mode: forward TCP to the real server untouched, recording each ClientHello on
//! the way, and answer "did a hello with this client_random arrive?" on a separate API port.
//!
//! No TLS is terminated here: the client's handshake reaches the real server byte for byte, so
//! the real certificate and keys stay where they are. If a client's random is not in the ring,
//! something between it and this port terminated TLS.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, timeout, timeout_at};

use crate::config::PassthroughConfig;
use crate::conn::{note_hello_error, note_hello_timeout};
use crate::error::EchoError;
use crate::hello::{self, ReadError};
use crate::http::{error, info, json};
use crate::limits::{Guards, SourceGuard};
use crate::server::{accept_loop, bind_listener, drain};
use crate::stats::{Stats, StatsSnapshot, bump};
use crate::stream::{Activity, Watched};
use crate::witness::{HelloRecord, HellosAnswer, PATH_HELLOS, PATH_INFO};

/// Connections the API port serves at once; it is an operator's port, not a public one.
const API_CONNECTIONS: usize = 64;

/// The bounded ring of recorded hellos.
pub struct HelloLog {
    capacity: usize,
    ring: Mutex<VecDeque<HelloRecord>>,
}

impl HelloLog {
    /// An empty log holding at most `capacity` records (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    /// Appends a record, dropping the oldest when full.
    pub fn push(&self, record: HelloRecord) {
        let mut r = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        while r.len() >= self.capacity {
            r.pop_front();
        }
        r.push_back(record);
    }

    /// Records whose `client_random` (lowercase hex) equals `random_hex`, oldest first. A
    /// linear scan: 10 000 records of 64-character strings take microseconds.
    pub fn find(&self, random_hex: &str) -> Vec<HelloRecord> {
        let r = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        r.iter()
            .filter(|h| h.client_hello.client_random == random_hex)
            .cloned()
            .collect()
    }

    /// Records held now.
    pub fn len(&self) -> usize {
        self.ring.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Most records held at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

struct Shared {
    guards: Arc<Guards>,
    log: Arc<HelloLog>,
    upstream: String,
    connect_timeout: Duration,
}

/// The recording passthrough. Bind it, read the addresses, then [`PassthroughServer::run`].
pub struct PassthroughServer {
    listener: TcpListener,
    api: TcpListener,
    shared: Arc<Shared>,
}

impl PassthroughServer {
    /// Binds the public and the API port.
    pub async fn bind(config: PassthroughConfig) -> Result<PassthroughServer, EchoError> {
        config.limits.validate()?;
        if config.upstream.is_empty() {
            return Err(EchoError::Config("upstream HOST:PORT is empty".into()));
        }
        let listener = bind_listener(config.listen).await?;
        let api = bind_listener(config.api).await?;
        Ok(PassthroughServer {
            listener,
            api,
            shared: Arc::new(Shared {
                guards: Guards::new(config.limits),
                log: Arc::new(HelloLog::new(config.ring_capacity)),
                upstream: config.upstream,
                connect_timeout: config.connect_timeout,
            }),
        })
    }

    /// The public (forwarding) address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The API address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The ring of recorded hellos.
    pub fn hello_log(&self) -> Arc<HelloLog> {
        Arc::clone(&self.shared.log)
    }

    /// Live counters.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.shared.guards.stats)
    }

    /// A snapshot of the counters now.
    pub fn stats_snapshot(&self) -> StatsSnapshot {
        self.shared.guards.stats.snapshot()
    }

    /// Forwards and answers queries until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let shared = self.shared;
        let limits = shared.guards.limits.clone();
        let max = limits.max_connections;
        let slots = Arc::new(Semaphore::new(max));
        let (stop_tx, stop_rx) = watch::channel(false);
        let api_task = tokio::spawn(serve_api(
            self.api,
            Arc::clone(&shared.log),
            limits.header_read_timeout,
            stop_rx.clone(),
        ));
        accept_loop(
            &self.listener,
            shutdown,
            &shared.guards,
            &slots,
            |tcp, peer, permit, source| {
                let shared = Arc::clone(&shared);
                let stop = stop_rx.clone();
                tokio::spawn(async move {
                    forward(tcp, peer, shared, stop, source).await;
                    drop(permit);
                });
            },
        )
        .await;
        let _ = stop_tx.send(true);
        drain(&slots, max, limits.drain_timeout).await;
        let _ = timeout(limits.drain_timeout, api_task).await;
    }
}

fn now_unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

async fn forward(
    mut client: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    _source: SourceGuard,
) {
    let g = &shared.guards;
    let limits = &g.limits;
    let deadline = Instant::now() + limits.handshake_timeout;
    // As in the witness: no read buffer until the first byte arrives.
    let first = async {
        client.readable().await.map_err(ReadError::Io)?;
        hello::read_hello(&mut client, limits.max_hello_len).await
    };
    let prefix = match timeout_at(deadline, first).await {
        Ok(Ok(captured)) => {
            let report = hello::report(&captured);
            log::debug!(
                peer:% = peer,
                sni = report.sni.as_deref().unwrap_or(""),
                ja4 = report.ja4.ja4.as_str();
                "connection, hello recorded"
            );
            shared.log.push(HelloRecord {
                seen_at_unix_us: now_unix_us(),
                peer: peer.to_string(),
                client_hello: report,
            });
            bump(&g.stats.hellos_recorded);
            captured.raw
        }
        // Not TLS (or a hello too odd for the framer): stay transparent and forward it anyway;
        // the real server decides. It is simply not recorded.
        Ok(Err(ReadError::Malformed { reason, raw })) => {
            bump(&g.stats.forwarded_unrecorded);
            g.log.problem(
                log::Level::Info,
                Some(peer),
                "forwarding without a recorded hello",
                &reason.to_string(),
            );
            raw
        }
        Ok(Err(e)) => return note_hello_error(g, peer, &e),
        Err(_) => return note_hello_timeout(g, peer),
    };

    let upstream = match timeout(shared.connect_timeout, TcpStream::connect(&shared.upstream)).await
    {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => {
            bump(&g.stats.upstream_failures);
            g.log.problem(
                log::Level::Warn,
                Some(peer),
                &format!("upstream {} unreachable", shared.upstream),
                &e.to_string(),
            );
            return;
        }
        Err(_) => {
            bump(&g.stats.upstream_failures);
            g.log.problem(
                log::Level::Warn,
                Some(peer),
                &format!("upstream {} unreachable", shared.upstream),
                "connect timed out",
            );
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    let mut upstream = upstream;
    // The captured bytes go first, exactly as they arrived; then both directions stream.
    if upstream.write_all(&prefix).await.is_err() {
        bump(&g.stats.upstream_failures);
        return;
    }
    let activity = Activity::new();
    let mut client = Watched::new(client, activity.clone());
    let age = tokio::time::sleep(limits.max_connection_age);
    tokio::pin!(age);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
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
}

/// The plain-HTTP query API (HTTP/1.1 only; small and bounded).
async fn serve_api(
    listener: TcpListener,
    log: Arc<HelloLog>,
    header_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(API_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            a = listener.accept() => a,
        };
        let Ok((tcp, _peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            drop(tcp);
            continue;
        };
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let log = Arc::clone(&log);
                async move { Ok::<_, std::convert::Infallible>(api(req, &log)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(8192)
                .serve_connection(TokioIo::new(tcp), svc);
            // The API answers in microseconds; a minute bounds any stuck client.
            let _ = timeout(Duration::from_secs(60), conn).await;
            drop(permit);
        });
    }
}

fn api(
    req: http::Request<hyper::body::Incoming>,
    log: &HelloLog,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    use http::{Method, StatusCode};
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return error(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
    }
    match req.uri().path() {
        PATH_HELLOS => {}
        PATH_INFO => return info("passthrough"),
        _ => return error(StatusCode::NOT_FOUND, "not found"),
    }
    let query = req.uri().query().unwrap_or("");
    let random = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "client_random")
        .map(|(_, v)| v.to_ascii_lowercase());
    let Some(random) = random else {
        return error(StatusCode::BAD_REQUEST, "client_random=HEX is required");
    };
    if random.len() != 64 || !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return error(
            StatusCode::BAD_REQUEST,
            "client_random must be 64 hex digits",
        );
    }
    let hellos = log.find(&random);
    let seen = !hellos.is_empty();
    let answer = HellosAnswer {
        schema: interloper_model::schema::ECHO_HELLOS.into(),
        seen,
        client_random: random,
        hellos,
        ring_len: log.len(),
        ring_capacity: log.capacity(),
    };
    let status = if seen {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    json(
        status,
        serde_json::to_vec_pretty(&answer).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::witness::ClientHelloReport;

    fn record(random: &str) -> HelloRecord {
        HelloRecord {
            seen_at_unix_us: 1,
            peer: "127.0.0.1:1".into(),
            client_hello: ClientHelloReport {
                client_random: random.into(),
                ..ClientHelloReport::default()
            },
        }
    }

    #[test]
    fn ring_is_bounded_and_drops_the_oldest() {
        let log = HelloLog::new(3);
        for r in ["a", "b", "c", "d"] {
            log.push(record(r));
        }
        assert_eq!(log.len(), 3);
        assert!(log.find("a").is_empty());
        assert_eq!(log.find("d").len(), 1);
        log.push(record("d"));
        assert_eq!(log.find("d").len(), 2);
        assert_eq!(HelloLog::new(0).capacity(), 1);
    }
}
