//! One request, timed step by step over our own connection (no pool hides a phase).

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use interloper_model::{
    ClosedUnderRequest, ConnectionPolicy, ErrorKind, HelloShape, HttpVersion, HttpVersionPref,
    IpFamily, Phase, RequestError, RequestRecord, TlsInfo, units::fmt_bytes,
};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use crate::config::{ProbeConfig, Target};
use crate::curve::Curve;
use crate::error::ProbeError;
use crate::lag::LagMonitor;
use crate::proxy::{Proxy, ProxyRules, connect_tunnel};
use crate::stream::{Conn, WriteClock};
use crate::tls::{HelloRecorder, VERIFY_SLOT, VerifyRecord, client_config};

/// Less lag than this is not recorded with a request.
const RECORDED_LAG: Duration = Duration::from_millis(50);
/// Addresses recorded (and tried) per request.
const MAX_ADDRESSES: usize = 16;
/// Longest header value kept in a record.
const MAX_HEADER_VALUE: usize = 1024;

/// A configured prober. Cheap to clone; share one per run so the TLS config is built once.
#[derive(Clone)]
pub struct Probe {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) cfg: ProbeConfig,
    tls: Arc<rustls::ClientConfig>,
    pub(crate) epoch: Instant,
    next_conn: AtomicU64,
    proxies: ProxyRules,
    /// Started with the first request, on its runtime.
    lag: std::sync::OnceLock<Arc<LagMonitor>>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("cfg", &self.inner.cfg)
            .finish()
    }
}

impl Probe {
    /// Check the configuration and build the shared TLS client config (reads CA files).
    pub fn new(cfg: ProbeConfig) -> Result<Probe, ProbeError> {
        let tls = client_config(&cfg)?;
        let proxies = ProxyRules::new(&cfg.proxy, cfg.no_proxy.as_deref())?;
        Ok(Probe {
            inner: Arc::new(Inner {
                cfg,
                tls,
                epoch: Instant::now(),
                next_conn: AtomicU64::new(1),
                proxies,
                lag: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ProbeConfig {
        &self.inner.cfg
    }

    /// The proxy that would be used for this target (None: direct).
    pub fn proxy_for(&self, target: &Target) -> Option<String> {
        self.inner
            .proxies
            .for_target(target)
            .map(|p| p.shown().to_string())
    }

    /// A session: holds at most one open connection, reused across requests under
    /// [`ConnectionPolicy::Reuse`].
    pub fn session(&self, policy: ConnectionPolicy) -> Session {
        Session {
            probe: self.clone(),
            policy,
            conn: None,
            deadline: None,
        }
    }

    /// One request on a fresh connection.
    pub async fn request(&self, target: &Target) -> RequestRecord {
        self.session(ConnectionPolicy::Fresh)
            .request(target, 0)
            .await
    }

    /// Resolve a target's host to the addresses the probe would try (honours `--resolve`,
    /// the address family and a pinned address).
    pub async fn resolve(&self, target: &Target) -> Result<Vec<SocketAddr>, RequestError> {
        resolve(&self.inner.cfg, target).await
    }

    pub(crate) fn ms_since_epoch(&self, t: Instant) -> f64 {
        ms(t.saturating_duration_since(self.inner.epoch))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `850 ms`, `20.0 s`: for messages a person reads.
fn human_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn err(kind: ErrorKind, phase: Phase, message: impl Into<String>) -> RequestError {
    RequestError {
        kind,
        phase,
        message: message.into(),
    }
}

enum Sender {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

#[derive(PartialEq, Eq, Clone)]
struct ConnKey {
    https: bool,
    host: String,
    port: u16,
    pinned: Option<SocketAddr>,
}

struct OpenConn {
    key: ConnKey,
    id: u64,
    sender: Sender,
    remote: SocketAddr,
    addresses: Vec<SocketAddr>,
    proxy: Option<String>,
    tls: Option<TlsInfo>,
    last_write: Arc<AtomicU64>,
    /// Bytes read from the connection so far (after TLS).
    read: Arc<AtomicU64>,
    /// When its last response ended (or it opened): how long it has sat idle.
    idle_since: Instant,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OpenConn {
    fn drop(&mut self) {
        // Close now rather than when hyper notices the sender is gone.
        self.task.abort();
    }
}

/// A worker's connection state. Not shared between tasks.
pub struct Session {
    probe: Probe,
    policy: ConnectionPolicy,
    conn: Option<OpenConn>,
    /// The caller's deadline (a check's budget): no request runs past it.
    deadline: Option<Instant>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("policy", &self.policy)
            .field("open", &self.conn.is_some())
            .finish()
    }
}

impl Session {
    /// No request of this session runs past `deadline`: one still running then ends with
    /// [`ErrorKind::Cancelled`] (the caller's limit, not the network's failure), keeping what
    /// it measured so far.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Drop any open connection, so the next request opens a fresh one.
    pub fn close(&mut self) {
        self.conn = None;
    }

    /// Make one request and record everything about it. Never panics, never waits past the
    /// configured timeouts; failures are in `record.error`.
    pub async fn request(&mut self, target: &Target, seq: u64) -> RequestRecord {
        self.request_inner(target, seq, &mut BodyKeep::none()).await
    }

    /// Like [`Session::request`], and also keep the first `keep` bytes of the body as
    /// received (still in its Content-Encoding). Discovery and integrity checks need the
    /// bytes; sampling does not, so only this path buffers.
    pub async fn request_keeping_body(
        &mut self,
        target: &Target,
        seq: u64,
        keep: usize,
    ) -> (RequestRecord, Vec<u8>) {
        let mut kept = BodyKeep {
            bytes: Vec::new(),
            limit: keep,
        };
        let rec = self.request_inner(target, seq, &mut kept).await;
        (rec, kept.bytes)
    }

    async fn request_inner(
        &mut self,
        target: &Target,
        seq: u64,
        kept: &mut BodyKeep,
    ) -> RequestRecord {
        let probe = self.probe.clone();
        let cfg = &probe.inner.cfg;
        let start = Instant::now();
        let own_deadline = start + cfg.total_timeout;
        let deadline = self.deadline.map_or(own_deadline, |d| d.min(own_deadline));
        let lag = probe.inner.lag.get_or_init(LagMonitor::start).clone();
        let mut rec = self.request_until(target, seq, kept, start, deadline).await;
        let lagged = lag.lag_between(start, Instant::now());
        if lagged >= RECORDED_LAG {
            rec.client_lag_ms = Some(ms(lagged));
        }
        // A request the caller's deadline ended is the caller's doing: say so, whatever phase
        // it was in, so nobody reads it as the network's failure.
        if deadline < own_deadline
            && Instant::now() >= deadline
            && let Some(e) = rec.error.as_mut()
            && matches!(
                e.kind,
                ErrorKind::Timeout
                    | ErrorKind::BodyEndless
                    | ErrorKind::ConnectTimeout
                    | ErrorKind::TlsTimeout
                    | ErrorKind::HeadersTimeout
                    | ErrorKind::BodyTimeout
                    | ErrorKind::Dns
            )
        {
            e.kind = ErrorKind::Cancelled;
            e.message = format!(
                "ended at the caller's deadline during {} ({} body bytes received)",
                e.phase.as_str(),
                rec.bytes_received
            );
        }
        rec
    }

    /// One request, sent a second time on a fresh connection when a kept-alive connection
    /// closed under the first attempt before any byte of an answer — what browsers do for an
    /// idempotent request (RFC 9110 §9.2.2), so the record shows what a user would get. Once
    /// only: the second attempt is on a fresh connection, which is never retried.
    async fn request_until(
        &mut self,
        target: &Target,
        seq: u64,
        kept: &mut BodyKeep,
        start: Instant,
        deadline: Instant,
    ) -> RequestRecord {
        let (rec, closed) = self.attempt(target, seq, kept, start, deadline).await;
        let Some(closed) = closed else {
            return rec;
        };
        if !is_idempotent(&REQUEST_METHOD) || Instant::now() >= deadline {
            return rec;
        }
        let (mut retry, _) = self.attempt(target, seq, kept, start, deadline).await;
        retry.retried_after_close = Some(closed);
        retry
    }

    /// One attempt: over the open connection when the policy and its state allow, else over a
    /// new one. Also returns how a reused connection closed under the request, when it did so
    /// before any byte of an answer arrived (the attempt may then be repeated).
    async fn attempt(
        &mut self,
        target: &Target,
        seq: u64,
        kept: &mut BodyKeep,
        start: Instant,
        deadline: Instant,
    ) -> (RequestRecord, Option<ClosedUnderRequest>) {
        let probe = self.probe.clone();
        let mut rec = RequestRecord::new(seq, target.url.to_string(), probe.ms_since_epoch(start));
        if target.is_https() {
            rec.hello_shape = probe.inner.cfg.hello;
        }
        let key = ConnKey {
            https: target.is_https(),
            host: target.host().to_ascii_lowercase(),
            port: target.port(),
            pinned: target.pinned,
        };
        let reusable = self.policy == ConnectionPolicy::Reuse
            && match self.conn.as_mut() {
                Some(c) if c.key == key => ready(&mut c.sender).await,
                _ => false,
            };
        if reusable {
            rec.reused = true;
        } else {
            self.conn = None;
            match connect(&probe, target, key, &mut rec, deadline).await {
                Ok(c) => self.conn = Some(c),
                Err(e) => {
                    rec.error = Some(e);
                    rec.phases.total_ms = Some(ms(start.elapsed()));
                    return (rec, None);
                }
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            rec.error = Some(err(ErrorKind::Other, Phase::Connect, "no connection"));
            return (rec, None);
        };
        rec.connection_id = conn.id;
        rec.remote_addr = Some(conn.remote);
        rec.addresses.clone_from(&conn.addresses);
        rec.proxy.clone_from(&conn.proxy);
        rec.tls.clone_from(&conn.tls);
        let idle = conn.idle_since.elapsed();
        if rec.reused {
            rec.reuse_idle_ms = Some(ms(idle));
        }
        let read_before = conn.read.load(Ordering::Relaxed);
        let sent = Instant::now();

        let result = exchange(&probe, target, conn, &mut rec, deadline, kept).await;
        conn.idle_since = Instant::now();
        let mut closed = None;
        if let Err(e) = &result
            && rec.reused
            && closed_before_answer(e, conn, read_before)
        {
            closed = Some(ClosedUnderRequest {
                connection_id: conn.id,
                idle_ms: ms(idle),
                attempt_ms: ms(sent.elapsed()),
                error: e.clone(),
            });
        }
        let keep = result.is_ok() && self.policy == ConnectionPolicy::Reuse;
        if let Err(e) = result {
            rec.error = Some(e);
        }
        if !keep {
            self.conn = None;
        }
        rec.phases.total_ms = Some(ms(start.elapsed()));
        (rec, closed)
    }
}

/// The method every probe request uses: fetching a file.
const REQUEST_METHOD: http::Method = http::Method::GET;

/// Methods a client may send again after a connection failed under them (RFC 9110 §9.2.2):
/// the request means the same however many times it arrives.
fn is_idempotent(method: &http::Method) -> bool {
    matches!(
        *method,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::OPTIONS
            | http::Method::TRACE
            | http::Method::PUT
            | http::Method::DELETE
    )
}

/// Whether the connection ended under the request before any byte of an answer: closed or
/// reset before the response head, and (HTTP/1.1) not a byte read since the request went out.
/// HTTP/2 reads frames of its own (SETTINGS, PINGs) between answers, and its answer heads
/// arrive whole, so a failure before the head is enough there.
fn closed_before_answer(e: &RequestError, conn: &OpenConn, read_before: u64) -> bool {
    let nothing_read = match conn.sender {
        Sender::H1(_) => conn.read.load(Ordering::Relaxed) == read_before,
        Sender::H2(_) => true,
    };
    e.kind == ErrorKind::ResetBeforeHeaders && e.phase == Phase::Ttfb && nothing_read
}

/// The part of a body the caller asked to keep.
struct BodyKeep {
    bytes: Vec<u8>,
    limit: usize,
}

impl BodyKeep {
    fn none() -> BodyKeep {
        BodyKeep {
            bytes: Vec::new(),
            limit: 0,
        }
    }

    fn take(&mut self, data: &[u8]) {
        let room = self.limit.saturating_sub(self.bytes.len());
        if room > 0 {
            self.bytes
                .extend_from_slice(data.get(..room.min(data.len())).unwrap_or(data));
        }
    }
}

async fn ready(sender: &mut Sender) -> bool {
    // A closed or busy connection is not reused; we never wait on it.
    match sender {
        Sender::H1(s) => !s.is_closed() && s.is_ready(),
        Sender::H2(s) => !s.is_closed() && s.is_ready(),
    }
}

fn remaining(deadline: Instant, phase_limit: Duration) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .min(phase_limit)
}

/// Which error a timeout is: the phase's own limit, or the whole-request deadline.
fn timeout_kind(deadline: Instant, own: ErrorKind) -> ErrorKind {
    if Instant::now() >= deadline {
        ErrorKind::Timeout
    } else {
        own
    }
}

pub(crate) async fn resolve(
    cfg: &ProbeConfig,
    target: &Target,
) -> Result<Vec<SocketAddr>, RequestError> {
    if let Some(a) = target.pinned {
        return Ok(vec![a]);
    }
    let host = target.host().to_ascii_lowercase();
    let port = target.port();
    let fam = |a: &SocketAddr| match cfg.ip {
        IpFamily::Any => true,
        IpFamily::V4 => a.is_ipv4(),
        IpFamily::V6 => a.is_ipv6(),
    };
    // Every override for this host and port counts, so repeating --resolve gives a name
    // several addresses (as DNS does).
    let overridden: Vec<SocketAddr> = cfg
        .resolve
        .iter()
        .filter(|o| o.host == host && o.port == port)
        .map(|o| SocketAddr::new(o.addr, port))
        .collect();
    let mut addrs: Vec<SocketAddr> = if !overridden.is_empty() {
        overridden
    } else if let Ok(ip) = host.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        let lookup = crate::dns::lookup_host(
            &host,
            port,
            crate::dns::DnsSettings {
                server: cfg.dns_server,
                source: cfg.source_address,
                family: cfg.ip,
            },
        );
        match tokio::time::timeout(cfg.phase_timeout, lookup).await {
            Err(_) => {
                let server = cfg
                    .dns_server
                    .map(|s| format!(" (DNS server {s} did not answer)"))
                    .unwrap_or_default();
                return Err(err(
                    ErrorKind::Dns,
                    Phase::Dns,
                    format!("resolving {host}: timed out{server}"),
                ));
            }
            Ok(Err(e)) => {
                return Err(err(
                    ErrorKind::Dns,
                    Phase::Dns,
                    format!("resolving {host}: {e}"),
                ));
            }
            Ok(Ok(mut found)) => {
                found.truncate(MAX_ADDRESSES * 4);
                found
            }
        }
    };
    addrs.retain(fam);
    addrs.dedup();
    addrs.truncate(MAX_ADDRESSES);
    if addrs.is_empty() {
        let which = match cfg.ip {
            IpFamily::V4 => " IPv4",
            IpFamily::V6 => " IPv6",
            IpFamily::Any => "",
        };
        return Err(err(
            ErrorKind::Dns,
            Phase::Dns,
            format!("{host} has no{which} address"),
        ));
    }
    Ok(addrs)
}

fn connect_error(e: &io::Error, addr: SocketAddr) -> RequestError {
    let kind = match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::Refused,
        io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
        // Accepted, then reset before we could use it (seen from firewalls and overloaded
        // servers): the same symptom as a reset before headers.
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            ErrorKind::ResetBeforeHeaders
        }
        _ => ErrorKind::Connect,
    };
    err(kind, Phase::Connect, format!("connecting to {addr}: {e}"))
}

/// One TCP connection, from `source` when given (an uplink of a multi-homed host).
async fn open_tcp(addr: SocketAddr, source: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(source) = source else {
        return TcpStream::connect(addr).await;
    };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(addr).await
}

/// Try each address in order until one accepts; the phase covers all attempts.
async fn tcp_connect(
    addrs: &[SocketAddr],
    cfg: &ProbeConfig,
    deadline: Instant,
) -> Result<(TcpStream, SocketAddr), (RequestError, Option<SocketAddr>)> {
    let mut last = None;
    for &addr in addrs {
        let limit = remaining(deadline, cfg.connect_timeout);
        match tokio::time::timeout(limit, open_tcp(addr, cfg.source_address)).await {
            Ok(Ok(s)) => {
                // Small requests must not wait for Nagle; timing would include it.
                let _ = s.set_nodelay(true);
                return Ok((s, addr));
            }
            Ok(Err(e)) => last = Some((connect_error(&e, addr), Some(addr))),
            Err(_) => {
                last = Some((
                    err(
                        timeout_kind(deadline, ErrorKind::ConnectTimeout),
                        Phase::Connect,
                        format!("connecting to {addr}: no answer within {limit:?}"),
                    ),
                    Some(addr),
                ));
            }
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    Err(last.unwrap_or_else(|| (err(ErrorKind::Connect, Phase::Connect, "no address"), None)))
}

/// Opens a connection for `key`: DNS, TCP (through the proxy's tunnel when there is one),
/// TLS, then the HTTP handshake, each timed into `rec`.
async fn connect(
    probe: &Probe,
    target: &Target,
    key: ConnKey,
    rec: &mut RequestRecord,
    deadline: Instant,
) -> Result<OpenConn, RequestError> {
    let inner = &probe.inner;
    let cfg = &inner.cfg;
    let id = inner.next_conn.fetch_add(1, Ordering::Relaxed);
    rec.connection_id = id;
    let proxy = inner.proxies.for_target(target).cloned();
    let addrs = resolve_step(cfg, target, proxy.as_ref(), rec).await?;
    let (tcp, remote) = tcp_step(cfg, target, proxy.as_ref(), &addrs, rec, deadline).await?;
    let (conn, tls_info) = if target.is_https() {
        let (stream, info) = tls_step(probe, target, tcp, rec, deadline).await?;
        (Conn::Tls(Box::new(stream)), Some(info))
    } else {
        (Conn::Plain(tcp), None)
    };
    rec.tls.clone_from(&tls_info);
    let h2 = match &tls_info {
        Some(t) => t.alpn.as_deref() == Some("h2"),
        None => cfg.http == HttpVersionPref::Http2,
    };
    let last_write = Arc::new(AtomicU64::new(0));
    let read = Arc::new(AtomicU64::new(0));
    let io = TokioIo::new(WriteClock::new(
        conn,
        inner.epoch,
        last_write.clone(),
        read.clone(),
    ));
    let (sender, task) = http_handshake(io, h2).await?;
    Ok(OpenConn {
        key,
        id,
        sender,
        remote,
        addresses: rec.addresses.clone(),
        proxy: rec.proxy.clone(),
        tls: tls_info,
        last_write,
        read,
        idle_since: Instant::now(),
        task,
    })
}

/// DNS: of the proxy when there is one (the proxy resolves the target). Timed only when a
/// name was looked up (not an address, a pinned one or a `--resolve` override).
async fn resolve_step(
    cfg: &ProbeConfig,
    target: &Target,
    proxy: Option<&Proxy>,
    rec: &mut RequestRecord,
) -> Result<Vec<SocketAddr>, RequestError> {
    let t0 = Instant::now();
    let dns_target = match proxy {
        Some(p) => {
            rec.proxy = Some(p.shown().to_string());
            let s = format!("http://{}:{}/", p.host(), p.port());
            Target::parse(&s).map_err(|e| err(ErrorKind::Proxy, Phase::Dns, e.to_string()))?
        }
        None => target.clone(),
    };
    let needs_dns = dns_target.pinned.is_none()
        && dns_target.host().parse::<IpAddr>().is_err()
        && !cfg.resolve.iter().any(|o| {
            o.host == dns_target.host().to_ascii_lowercase() && o.port == dns_target.port()
        });
    let addrs = resolve(cfg, &dns_target).await;
    if needs_dns {
        rec.phases.dns_ms = Some(ms(t0.elapsed()));
    }
    let addrs = addrs?;
    rec.addresses.clone_from(&addrs);
    Ok(addrs)
}

/// TCP to the first address that accepts, then the proxy's CONNECT tunnel when there is
/// one; the connect phase covers both.
async fn tcp_step(
    cfg: &ProbeConfig,
    target: &Target,
    proxy: Option<&Proxy>,
    addrs: &[SocketAddr],
    rec: &mut RequestRecord,
    deadline: Instant,
) -> Result<(TcpStream, SocketAddr), RequestError> {
    let t1 = Instant::now();
    let (mut tcp, remote) = match tcp_connect(addrs, cfg, deadline).await {
        Ok(v) => v,
        Err((e, addr)) => {
            rec.phases.connect_ms = Some(ms(t1.elapsed()));
            rec.remote_addr = addr;
            return Err(e);
        }
    };
    rec.remote_addr = Some(remote);
    if let Some(p) = proxy {
        let limit = remaining(deadline, cfg.connect_timeout);
        let tunnel = connect_tunnel(&mut tcp, p, target.host(), target.port());
        let res = match tokio::time::timeout(limit, tunnel).await {
            Ok(r) => r,
            Err(_) => Err(format!("no CONNECT answer within {limit:?}")),
        };
        if let Err(m) = res {
            rec.phases.connect_ms = Some(ms(t1.elapsed()));
            return Err(err(ErrorKind::Proxy, Phase::Connect, m));
        }
    }
    rec.phases.connect_ms = Some(ms(t1.elapsed()));
    Ok((tcp, remote))
}

/// The TLS handshake over `tcp`, recording the presented chain (whatever the verdict), our
/// ClientHello and what was negotiated; on failure `rec.tls` still holds what was seen.
async fn tls_step(
    probe: &Probe,
    target: &Target,
    tcp: TcpStream,
    rec: &mut RequestRecord,
    deadline: Instant,
) -> Result<
    (
        tokio_rustls::client::TlsStream<HelloRecorder<TcpStream>>,
        TlsInfo,
    ),
    RequestError,
> {
    let cfg = &probe.inner.cfg;
    let t2 = Instant::now();
    let host = target.host().to_string();
    let server_name = ServerName::try_from(host.clone()).map_err(|e| {
        err(
            ErrorKind::Other,
            Phase::Tls,
            format!("server name {host:?}: {e}"),
        )
    })?;
    let mut info = TlsInfo {
        sni: matches!(server_name, ServerName::DnsName(_)).then(|| host.clone()),
        ..TlsInfo::default()
    };
    let connector = tokio_rustls::TlsConnector::from(probe.inner.tls.clone());
    let handshake = connector
        .connect(
            server_name,
            HelloRecorder::new(tcp).split_hello(
                (cfg.hello == HelloShape::Large).then_some(crate::tls::LARGE_HELLO_WRITE),
            ),
        )
        .into_fallible();
    let limit = remaining(deadline, cfg.phase_timeout);
    let scoped = VERIFY_SLOT.scope(RefCell::new(VerifyRecord::default()), async {
        let r = tokio::time::timeout(limit, handshake).await;
        (r, VERIFY_SLOT.with(|s| s.take()))
    });
    let (result, seen) = scoped.await;
    info.presented_chain = seen.chain;
    info.verify_error = seen.error;
    info.verified = seen.called && info.verify_error.is_none();
    rec.phases.tls_ms = Some(ms(t2.elapsed()));
    match result {
        Err(_) => {
            // The recorder went with the timed-out future; nothing more to keep.
            rec.tls = Some(info);
            Err(err(
                timeout_kind(deadline, ErrorKind::TlsTimeout),
                Phase::Tls,
                format!("TLS handshake did not finish within {limit:?}"),
            ))
        }
        Ok(Err((e, mut io))) => {
            info.client_hello = io.take_hello();
            let e = match crate::tls::not_tls(io.first_read()) {
                Some(what) => err(
                    ErrorKind::NotTls,
                    Phase::Tls,
                    format!("the server did not speak TLS (it answered {what})"),
                ),
                None => tls_error(&e, &info),
            };
            rec.tls = Some(info);
            Err(e)
        }
        Ok(Ok(mut stream)) => {
            let (io, session) = stream.get_mut();
            info.client_hello = io.take_hello();
            negotiated(session, &mut info);
            Ok((stream, info))
        }
    }
}

/// What the session agreed on: ALPN, version, group, cipher suite (and the chain, when the
/// verifier did not see it).
fn negotiated(session: &rustls::ClientConnection, info: &mut TlsInfo) {
    info.alpn = session
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    info.version = session.protocol_version().map(version_name);
    info.group = session
        .negotiated_key_exchange_group()
        .map(|g| group_name(g.name()));
    info.cipher = session
        .negotiated_cipher_suite()
        .and_then(|c| c.suite().as_str())
        .map(str::to_string);
    if info.presented_chain.is_empty()
        && let Some(certs) = session.peer_certificates()
    {
        info.presented_chain = certs.iter().map(|c| c.as_ref().to_vec()).collect();
    }
}

/// The HTTP handshake: instant for HTTP/1.1; for h2 it sends the preface and SETTINGS, which
/// count as part of writing the request. The connection's driver runs on its own task.
async fn http_handshake(
    io: TokioIo<WriteClock<Conn>>,
    h2: bool,
) -> Result<(Sender, tokio::task::JoinHandle<()>), RequestError> {
    if h2 {
        let hs = http2::Builder::new(TokioExecutor::new()).handshake::<_, Empty<Bytes>>(io);
        let (s, c) = hs.await.map_err(|e| {
            err(
                ErrorKind::Protocol,
                Phase::Write,
                format!("HTTP/2 handshake: {e}"),
            )
        })?;
        Ok((
            Sender::H2(s),
            tokio::spawn(async move {
                let _ = c.await;
            }),
        ))
    } else {
        let hs = http1::Builder::new().handshake::<_, Empty<Bytes>>(io);
        let (s, c) = hs.await.map_err(|e| {
            err(
                ErrorKind::Protocol,
                Phase::Write,
                format!("HTTP/1.1 handshake: {e}"),
            )
        })?;
        Ok((
            Sender::H1(s),
            tokio::spawn(async move {
                let _ = c.await;
            }),
        ))
    }
}

/// IANA name of a key-exchange group (`X25519MLKEM768`, `X25519`, `secp256r1`).
fn group_name(g: rustls::NamedGroup) -> String {
    match g {
        rustls::NamedGroup::Unknown(n) => format!("0x{n:04x}"),
        other => format!("{other:?}"),
    }
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

fn tls_error(e: &io::Error, info: &TlsInfo) -> RequestError {
    let rustls_err = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let kind = match rustls_err {
        Some(rustls::Error::InvalidCertificate(_)) => ErrorKind::TlsCertificate,
        Some(rustls::Error::General(_)) if info.verify_error.is_some() => ErrorKind::TlsCertificate,
        Some(_) => ErrorKind::TlsAlert,
        None if info.verify_error.is_some() && !info.presented_chain.is_empty() => {
            ErrorKind::TlsCertificate
        }
        None => match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe => ErrorKind::ResetBeforeHeaders,
            _ => ErrorKind::TlsAlert,
        },
    };
    let detail = match (&info.verify_error, kind) {
        (Some(v), ErrorKind::TlsCertificate) => v.clone(),
        _ => e.to_string(),
    };
    err(kind, Phase::Tls, format!("TLS handshake: {detail}"))
}

/// Walk a hyper error's sources for an io::Error kind.
fn io_kind(e: &hyper::Error) -> Option<io::ErrorKind> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
}

fn is_reset(k: Option<io::ErrorKind>) -> bool {
    matches!(
        k,
        Some(
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
        )
    )
}

fn one_line(e: &hyper::Error) -> String {
    let mut s = e.to_string();
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s.replace('\n', " ")
}

async fn exchange(
    probe: &Probe,
    target: &Target,
    conn: &mut OpenConn,
    rec: &mut RequestRecord,
    deadline: Instant,
    kept: &mut BodyKeep,
) -> Result<(), RequestError> {
    let cfg = &probe.inner.cfg;
    let h2 = matches!(conn.sender, Sender::H2(_));
    // Headers the user gave (cookies, tokens) go only over a chain that verified.
    let trusted = conn.tls.as_ref().is_none_or(|t| t.verified);
    let req = build_request(cfg, target, h2, trusted)?;
    let (resp, t_headers) = send_request(probe, conn, req, rec, deadline).await?;
    record_head(cfg, &resp, rec);
    read_body(cfg, resp.into_body(), t_headers, rec, deadline, kept).await
}

/// Sends the request and waits for the response head: the write and TTFB phases.
async fn send_request(
    probe: &Probe,
    conn: &mut OpenConn,
    req: http::Request<Empty<Bytes>>,
    rec: &mut RequestRecord,
    deadline: Instant,
) -> Result<(http::Response<hyper::body::Incoming>, Instant), RequestError> {
    let cfg = &probe.inner.cfg;
    conn.last_write.store(0, Ordering::Relaxed);
    let t_send = Instant::now();
    let send_ns = u64::try_from(
        t_send
            .saturating_duration_since(probe.inner.epoch)
            .as_nanos(),
    )
    .unwrap_or(u64::MAX);
    let limit = remaining(deadline, cfg.phase_timeout);
    let result = match &mut conn.sender {
        Sender::H1(s) => tokio::time::timeout(limit, s.send_request(req)).await,
        Sender::H2(s) => tokio::time::timeout(limit, s.send_request(req)).await,
    };
    let t_headers = Instant::now();
    // "Request written" is the first write hyper made after we handed it the request.
    let written = conn.last_write.load(Ordering::Relaxed);
    let t_written = if written >= send_ns {
        probe.inner.epoch + Duration::from_nanos(written)
    } else {
        t_send
    };
    let t_written = t_written.min(t_headers);
    rec.phases.write_ms = Some(ms(t_written.saturating_duration_since(t_send)));
    rec.phases.ttfb_ms = Some(ms(t_headers.saturating_duration_since(t_written)));
    let resp = match result {
        Err(_) => {
            return Err(err(
                timeout_kind(deadline, ErrorKind::HeadersTimeout),
                Phase::Ttfb,
                format!("no response headers within {limit:?}"),
            ));
        }
        Ok(Err(e)) => {
            let k = io_kind(&e);
            let kind = if e.is_parse() || e.is_parse_too_large() || e.is_parse_status() {
                ErrorKind::Protocol
            } else if e.is_incomplete_message()
                || e.is_canceled()
                || e.is_closed()
                || is_reset(k)
                || k == Some(io::ErrorKind::UnexpectedEof)
            {
                ErrorKind::ResetBeforeHeaders
            } else {
                ErrorKind::Protocol
            };
            return Err(err(kind, Phase::Ttfb, one_line(&e)));
        }
        Ok(Ok(r)) => r,
    };
    Ok((resp, t_headers))
}

/// Status, version, Content-Length and headers (bounded) of the response head.
fn record_head(
    cfg: &ProbeConfig,
    resp: &http::Response<hyper::body::Incoming>,
    rec: &mut RequestRecord,
) {
    rec.status = Some(resp.status().as_u16());
    rec.http_version = Some(match resp.version() {
        http::Version::HTTP_2 => HttpVersion::Http2,
        http::Version::HTTP_10 => HttpVersion::Http10,
        http::Version::HTTP_09 => HttpVersion::Http09,
        http::Version::HTTP_3 => HttpVersion::Http3,
        // `http::Version` is a struct of constants, not an enum: anything else is 1.1.
        _ => HttpVersion::Http11,
    });
    // A 204, a 304 or a 1xx has no body whatever its Content-Length says (RFC 9110 §8.6),
    // so a length there announces nothing that could be cut short.
    let bodiless = matches!(resp.status().as_u16(), 100..=199 | 204 | 304);
    rec.content_length = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .filter(|_| !bodiless);
    for (name, value) in resp.headers() {
        if rec.headers.len() >= cfg.max_headers_recorded {
            rec.headers_truncated = true;
            break;
        }
        let mut v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if v.len() > MAX_HEADER_VALUE {
            v.truncate(interloper_model::text::cut_bytes(&v, MAX_HEADER_VALUE).len());
            rec.headers_truncated = true;
        }
        rec.headers.push((name.as_str().to_string(), v));
    }
}

/// The body: streamed and counted, hashed, its arrival curve sampled; kept only up to the
/// caller's limit. Ends in an error when it stalls, never ends, is cut short or is too large.
async fn read_body(
    cfg: &ProbeConfig,
    mut body: hyper::body::Incoming,
    t_headers: Instant,
    rec: &mut RequestRecord,
    deadline: Instant,
    kept: &mut BodyKeep,
) -> Result<(), RequestError> {
    let mut curve = Curve::new(cfg.max_curve_samples);
    let mut digest = <sha2::Sha256 as sha2::Digest>::new();
    let mut bytes: u64 = 0;
    let mut last_data = t_headers;
    let out_of_time =
        |bytes: u64, last_data: Instant| out_of_time(cfg, t_headers, deadline, bytes, last_data);
    let outcome: Result<(), RequestError> = loop {
        // A body whose frames are always ready never lets the timeout below fire: the
        // deadline is checked here too.
        if Instant::now() >= deadline {
            break Err(out_of_time(bytes, last_data));
        }
        let limit = remaining(deadline, cfg.phase_timeout);
        match tokio::time::timeout(limit, body.frame()).await {
            Err(_) => break Err(out_of_time(bytes, last_data)),
            Ok(None) => break Ok(()),
            Ok(Some(Err(e))) => {
                let k = io_kind(&e);
                let kind = if is_reset(k) {
                    ErrorKind::ResetMidBody
                } else if e.is_incomplete_message()
                    || k == Some(io::ErrorKind::UnexpectedEof)
                    || rec.content_length.is_some_and(|cl| bytes < cl)
                {
                    ErrorKind::Truncated
                } else {
                    ErrorKind::ResetMidBody
                };
                break Err(err(
                    kind,
                    Phase::Body,
                    format!("after {bytes} body bytes: {}", one_line(&e)),
                ));
            }
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if data.is_empty() {
                        continue;
                    }
                    let now = Instant::now();
                    last_data = now;
                    if bytes == 0 {
                        rec.phases.first_byte_ms =
                            Some(ms(now.saturating_duration_since(t_headers)));
                    }
                    bytes = bytes.saturating_add(data.len() as u64);
                    kept.take(data);
                    sha2::Digest::update(&mut digest, data);
                    curve.push(ms(now.saturating_duration_since(t_headers)), bytes);
                    if cfg.max_body.is_some_and(|max| bytes > max) {
                        break Err(err(
                            ErrorKind::BodyTooLarge,
                            Phase::Body,
                            format!(
                                "body exceeded --max-body {} bytes; abandoned",
                                cfg.max_body.unwrap_or_default()
                            ),
                        ));
                    }
                }
            }
        }
    };
    let t_end = Instant::now();
    rec.bytes_received = bytes;
    rec.body_curve = curve.finish();
    rec.phases.body_ms = Some(ms(t_end.saturating_duration_since(t_headers)));
    outcome?;
    if let Some(cl) = rec.content_length
        && bytes < cl
    {
        return Err(err(
            ErrorKind::Truncated,
            Phase::Body,
            format!("received {bytes} of {cl} bytes announced by Content-Length"),
        ));
    }
    rec.body_sha256 = Some(hex::encode(sha2::Digest::finalize(digest)));
    Ok(())
}

/// Why the body ended when time, not the server, ended it: still arriving, or silent.
fn out_of_time(
    cfg: &ProbeConfig,
    t_headers: Instant,
    deadline: Instant,
    bytes: u64,
    last_data: Instant,
) -> RequestError {
    let now = Instant::now();
    let silence = now.saturating_duration_since(last_data);
    let elapsed = now.saturating_duration_since(t_headers);
    if now >= deadline && silence < cfg.phase_timeout {
        // Bytes were still coming: the body did not end, it did not stall.
        err(
            ErrorKind::BodyEndless,
            Phase::Body,
            format!(
                "body still arriving when the request's time ran out: {} in {} ({}/s), the \
                 last {} ago",
                fmt_bytes(bytes as f64),
                human_duration(elapsed),
                fmt_bytes(bytes as f64 / elapsed.as_secs_f64().max(1e-3)),
                human_duration(silence),
            ),
        )
    } else {
        err(
            timeout_kind(deadline, ErrorKind::BodyTimeout),
            Phase::Body,
            format!(
                "body stalled at {bytes} bytes: nothing for {}",
                human_duration(silence)
            ),
        )
    }
}

/// Request headers that carry credentials: never sent over a chain the user did not trust
/// (`--insecure-skip-verify` proceeds to record, not to authenticate).
const CREDENTIAL_HEADERS: &[http::HeaderName] = &[
    http::header::COOKIE,
    http::header::AUTHORIZATION,
    http::header::PROXY_AUTHORIZATION,
];

fn build_request(
    cfg: &ProbeConfig,
    target: &Target,
    h2: bool,
    trusted: bool,
) -> Result<http::Request<Empty<Bytes>>, RequestError> {
    let url = &target.url;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    // HTTP/2 carries scheme and authority as pseudo-headers, so it needs the absolute form.
    let uri = if h2 {
        format!("{}://{authority}{path}", url.scheme())
    } else {
        path
    };
    let mut b = http::Request::builder().method(REQUEST_METHOD).uri(uri);
    if !h2 {
        b = b.header(http::header::HOST, authority);
    }
    b = b.header(http::header::USER_AGENT, cfg.user_agent.as_str());
    b = b.header(http::header::ACCEPT, "*/*");
    let mut req = b.body(Empty::new()).map_err(|e| {
        err(
            ErrorKind::Other,
            Phase::Write,
            format!("building request: {e}"),
        )
    })?;
    for (k, v) in &cfg.headers {
        if !trusted && CREDENTIAL_HEADERS.contains(k) {
            continue;
        }
        req.headers_mut().insert(k.clone(), v.clone());
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::is_idempotent;

    #[test]
    fn only_idempotent_methods_may_be_sent_again() {
        assert!(is_idempotent(&super::REQUEST_METHOD));
        for m in [http::Method::GET, http::Method::HEAD, http::Method::PUT] {
            assert!(is_idempotent(&m), "{m}");
        }
        for m in [
            http::Method::POST,
            http::Method::PATCH,
            http::Method::CONNECT,
        ] {
            assert!(!is_idempotent(&m), "{m}");
        }
    }
}
