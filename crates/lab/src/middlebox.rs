//! The intercepting middlebox: terminates the client's TLS with a leaf minted by the inspection
//! CA, opens its own TLS connection to the origin (its own ClientHello), forwards the request
//! over HTTP/1.1 and injects seeded faults into the answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::{Body, Frame, SizeHint};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::rng::SplitMix;
use crate::{Faults, HelloAction, HelloFault, Protocol, UPSTREAM_TIMEOUT};

/// Largest request body the middlebox passes on.
const MAX_REQUEST_BODY: usize = 1024 * 1024;
/// Largest upstream body the middlebox buffers (the lab's site is far smaller).
const MAX_BODY: usize = 8 << 20;
/// Paths whose requests are counted apart (per protocol); beyond this, further paths share one
/// counter (still seeded, no longer independent of interleaving).
const MAX_COUNTED_PATHS: usize = 4096;

struct State {
    upstream: SocketAddr,
    client: tokio_rustls::TlsConnector,
    faults: Faults,
    seed: u64,
    /// Which plan each request gets.
    counts: Counts,
}

/// Requests seen per path and protocol: the k-th request for a path over either protocol
/// gets the path's k-th plan. Counted per protocol, because a client's HTTP/2 and HTTP/1.1
/// requests for a path arrive interleaved as its scheduler lets them: with one count, which
/// protocol's requests drew the faults changed from run to run (on a loaded machine, 9 of 11
/// truncations on HTTP/1.1: a protocol contrast, IL208, the box never meant). With one count
/// each over the same plans, both protocols draw the same faults whatever the interleaving.
#[derive(Default)]
struct Counts(Mutex<HashMap<(Protocol, String), u64>>);

impl Counts {
    /// The index of this request among those for `path` over `protocol`.
    fn next(&self, path: &str, protocol: Protocol) -> u64 {
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let counted =
            counts.len() < MAX_COUNTED_PATHS || counts.contains_key(&(protocol, path.to_string()));
        let key = if counted { path } else { "" };
        let n = counts.entry((protocol, key.to_string())).or_insert(0);
        let index = *n;
        *n += 1;
        index
    }
}

/// What happens to one answer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Plan {
    stall: Option<Duration>,
    stall_mid_body: Option<Duration>,
    reset: bool,
    truncate_at: Option<usize>,
    trickle: Option<u64>,
    /// Change the byte at this offset.
    tamper_at: Option<usize>,
}

/// The plan for the `n`-th request for `path` on a client connection that negotiated
/// `protocol`.
fn plan(
    faults: &Faults,
    seed: u64,
    n: u64,
    path: &str,
    protocol: Protocol,
    body_len: usize,
) -> Plan {
    if !path.starts_with(&faults.only_prefix) || faults.only_protocol.is_some_and(|p| p != protocol)
    {
        return Plan::default();
    }
    let large = body_len >= faults.large_from;
    let mut rng = SplitMix::for_request(SplitMix::seed_for_path(seed, path), n);
    // Draw every decision in a fixed order, so one fault's setting never shifts another's.
    let stall = rng.chance(faults.stall_probability) && (!faults.stall_large_only || large);
    let reset = rng.chance(faults.reset_probability) && (!faults.reset_large_only || large);
    let truncate = rng.chance(faults.truncate_probability);
    let tamper = rng.chance(faults.tamper_probability);
    let stall = stall.then_some(faults.stall);
    Plan {
        stall: stall.filter(|_| !faults.stall_mid_body),
        stall_mid_body: stall.filter(|_| faults.stall_mid_body),
        reset,
        truncate_at: faults.truncate_at.filter(|at| truncate && *at < body_len),
        trickle: faults.trickle_bytes_per_sec.filter(|r| *r > 0),
        tamper_at: (tamper && body_len > 0).then_some(body_len / 2),
    }
}

/// The body with the byte at `at` changed (a content-rewriting scanner, length kept).
fn tampered(body: Bytes, at: usize) -> Bytes {
    if at >= body.len() {
        return body;
    }
    let mut changed = body.to_vec();
    // A printable byte that differs from the original, so text stays text.
    changed[at] = if changed[at] == b'x' { b'y' } else { b'x' };
    Bytes::from(changed)
}

/// A response body fed by a task: it may pause, trickle, or be cut short (an error from the
/// task) as a truncating middlebox does — over HTTP/1.1 the connection closes, over HTTP/2 the
/// stream ends before its Content-Length.
///
/// The bytes before a cut always reach the client, whatever the scheduling: the cut is held
/// back until the server has found the body empty once after the last data (hyper writes what
/// it buffered out then), and HTTP/2 ends the stream rather than resetting it (a reset drops
/// the DATA frames still queued). Before, the cut followed the data by a 20 ms sleep, and on a
/// loaded machine both could be read in one poll: the connection closed with nothing written.
struct ChanBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>,
    len: u64,
    protocol: Protocol,
    /// The body was found empty since its last data frame went out.
    drained: bool,
    /// A cut received before the data ahead of it was drained.
    held_cut: Option<std::io::Error>,
}

impl ChanBody {
    fn cut(&self, e: std::io::Error) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.protocol {
            Protocol::Http1 => Poll::Ready(Some(Err(e))),
            Protocol::Http2 => Poll::Ready(None),
        }
    }
}

impl Body for ChanBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(e) = self.held_cut.take() {
            return self.cut(e);
        }
        match self.rx.poll_recv(cx) {
            Poll::Pending => {
                self.drained = true;
                Poll::Pending
            }
            Poll::Ready(Some(Ok(frame))) => {
                self.drained = false;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) if self.drained => self.cut(e),
            Poll::Ready(Some(Err(e))) => {
                // Empty once, so the server writes out the data; then the cut.
                self.held_cut = Some(e);
                self.drained = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(None) => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

fn body_task(body: Bytes, plan: Plan, protocol: Protocol) -> ChanBody {
    let (tx, rx) = mpsc::channel(2);
    let len = body.len() as u64;
    tokio::spawn(async move {
        let end = plan.truncate_at.unwrap_or(body.len()).min(body.len());
        let chunk = match plan.trickle {
            // Ten chunks a second at the given rate.
            Some(rate) => usize::try_from((rate / 10).max(1)).unwrap_or(1),
            None => 16 * 1024,
        };
        let mut pos = 0;
        while pos < end {
            let next = (pos + chunk).min(end);
            if tx
                .send(Ok(Frame::data(body.slice(pos..next))))
                .await
                .is_err()
            {
                return;
            }
            if pos == 0
                && let Some(d) = plan.stall_mid_body.filter(|_| next < end)
            {
                tokio::time::sleep(d).await;
            }
            pos = next;
            if plan.trickle.is_some() && pos < end {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        if end < body.len() {
            let _ = tx
                .send(Err(std::io::Error::other("truncated by the middlebox")))
                .await;
        }
    });
    ChanBody {
        rx,
        len,
        protocol,
        drained: true,
        held_cut: None,
    }
}

type Answer = Response<http_body_util::Either<ChanBody, http_body_util::Full<Bytes>>>;

fn bad_gateway(why: &str) -> Answer {
    let mut r = Response::new(http_body_util::Either::Right(http_body_util::Full::new(
        Bytes::from(format!("middlebox: {why}\n")),
    )));
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r
}

/// Forwards one request upstream over a fresh TLS connection; the answer fully buffered.
async fn forward(
    st: &State,
    req: Request<hyper::body::Incoming>,
) -> anyhow::Result<(http::response::Parts, Bytes)> {
    let tcp = TcpStream::connect(st.upstream).await?;
    let _ = tcp.set_nodelay(true);
    let tls = st
        .client
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    let driver = tokio::spawn(conn);
    let (parts, body) = req.into_parts();
    // A request body (a form, the visit page's report) is passed on whole, as a proxy would.
    let request_body = http_body_util::Limited::new(body, MAX_REQUEST_BODY)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("request body: {e}"))?
        .to_bytes();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str)
        .to_string();
    let mut up = Request::builder()
        .method(parts.method)
        .uri(path)
        .header(http::header::HOST, "localhost");
    for (k, v) in &parts.headers {
        if k == http::header::HOST || k == http::header::CONNECTION || k == "te" {
            continue;
        }
        up = up.header(k, v);
    }
    let up = up.body(http_body_util::Full::new(request_body))?;
    let resp = sender.send_request(up).await?;
    let (parts, body) = resp.into_parts();
    let body = http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("upstream body: {e}"))?
        .to_bytes();
    driver.abort();
    Ok((parts, body))
}

async fn handle(
    st: Arc<State>,
    protocol: Protocol,
    req: Request<hyper::body::Incoming>,
) -> Result<Answer, std::io::Error> {
    let path = req.uri().path().to_string();
    let n = st.counts.next(&path, protocol);
    let (parts, body) = match tokio::time::timeout(UPSTREAM_TIMEOUT, forward(&st, req)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Ok(bad_gateway(&e.to_string())),
        Err(_) => return Ok(bad_gateway("upstream timed out")),
    };
    let plan = plan(&st.faults, st.seed, n, &path, protocol, body.len());
    let body = match plan.tamper_at {
        Some(at) => tampered(body, at),
        None => body,
    };
    if let Some(d) = plan.stall {
        tokio::time::sleep(d).await;
    }
    if plan.reset {
        // An error from the service makes hyper drop the connection without an answer.
        return Err(std::io::Error::other("reset by the middlebox"));
    }
    let mut resp = Response::from_parts(
        parts,
        http_body_util::Either::Left(body_task(body, plan, protocol)),
    );
    let h = resp.headers_mut();
    for k in [http::header::CONNECTION, http::header::TRANSFER_ENCODING] {
        h.remove(k);
    }
    h.remove("keep-alive");
    Ok(resp)
}

/// Largest hello the box reads before deciding (a real one is under 2 KiB).
const MAX_SCREENED_HELLO: usize = 16 * 1024;

/// A hello fault with its group resolved.
#[derive(Debug, Clone)]
struct HelloScreen {
    fault: HelloFault,
    group: Option<u16>,
}

impl HelloScreen {
    /// Whether this hello (the handshake message) is one the box breaks on.
    fn hits(&self, hello: &[u8]) -> bool {
        let big = self.fault.above_bytes.is_some_and(|n| hello.len() > n);
        let group = self.group.is_some_and(|g| {
            interloper_wire::ClientHello::parse(hello)
                .is_ok_and(|h| h.key_share_groups().contains(&g))
        });
        big || group
    }
}

/// Bytes read ahead of the TLS acceptor, handed to it first.
struct Replay {
    head: Bytes,
    inner: TcpStream,
}

impl tokio::io::AsyncRead for Replay {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.head.is_empty() {
            let n = self.head.len().min(buf.remaining());
            let head = self.head.split_to(n);
            buf.put_slice(&head);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Replay {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Reads the client's hello, and resets, holds or refuses it when the screen hits it. Returns
/// the connection (with what was read, to replay) when the box goes on with it.
async fn screen_hello(mut tcp: TcpStream, screen: &HelloScreen) -> Option<Replay> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut assembler = interloper_wire::HelloAssembler::new(MAX_SCREENED_HELLO);
    let mut read = Vec::new();
    let mut buf = vec![0u8; 4096];
    let hello = loop {
        let n = match tokio::time::timeout(crate::HANDSHAKE_TIMEOUT, tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return None,
        };
        let chunk = buf.get(..n).unwrap_or_default();
        read.extend_from_slice(chunk);
        match assembler.push(chunk) {
            Ok(Some(hello)) => break Some(hello),
            Ok(None) if read.len() <= MAX_SCREENED_HELLO => {}
            // Not a hello the screen can read: the TLS acceptor will say what it is.
            _ => break None,
        }
    };
    if hello.as_deref().is_some_and(|h| screen.hits(h)) {
        match screen.fault.action {
            HelloAction::Reset => {
                let _ = socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO));
                return None;
            }
            HelloAction::Alert => {
                // A fatal handshake_failure (40) alert record, TLS 1.2 framing.
                let _ = tcp.write_all(&[21, 3, 3, 0, 2, 2, 40]).await;
                let _ = tcp.shutdown().await;
                return None;
            }
            HelloAction::Stall => tokio::time::sleep(screen.fault.stall).await,
        }
    }
    Some(Replay {
        head: Bytes::from(read),
        inner: tcp,
    })
}

/// Starts a middlebox on 127.0.0.1:0 in front of `upstream`.
#[allow(clippy::too_many_arguments)] // one call site each, every argument a distinct setting
pub(crate) async fn start(
    upstream: SocketAddr,
    server_tls: Arc<rustls::ServerConfig>,
    http1_only: bool,
    client_tls: Arc<rustls::ClientConfig>,
    faults: Faults,
    hello: Option<HelloFault>,
    seed: u64,
    tasks: &mut JoinSet<()>,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(server_tls);
    let screen = match hello {
        Some(fault) => Some(Arc::new(HelloScreen {
            group: fault.group_code().map_err(|e| anyhow::anyhow!(e))?,
            fault,
        })),
        None => None,
    };
    let st = Arc::new(State {
        upstream,
        client: tokio_rustls::TlsConnector::from(client_tls),
        faults,
        seed,
        counts: Counts::default(),
    });
    tasks.spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            while conns.try_join_next().is_some() {}
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let st = st.clone();
            let screen = screen.clone();
            conns.spawn(async move {
                let tcp = match &screen {
                    Some(screen) => match screen_hello(tcp, screen).await {
                        Some(replay) => replay,
                        None => return,
                    },
                    None => Replay {
                        head: Bytes::new(),
                        inner: tcp,
                    },
                };
                let Ok(Ok(tls)) =
                    tokio::time::timeout(crate::HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                else {
                    return;
                };
                let protocol = match tls.get_ref().1.alpn_protocol() {
                    Some(b"h2") => Protocol::Http2,
                    _ => Protocol::Http1,
                };
                let svc = hyper::service::service_fn(move |req| handle(st.clone(), protocol, req));
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                if http1_only {
                    builder = builder.http1_only();
                }
                let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
            });
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::{Counts, HelloScreen, Plan, plan, tampered};

    #[test]
    fn the_screen_hits_big_hellos_and_the_named_group_only() {
        // A hello with one key share for X25519MLKEM768 (0x11ec), 1216 bytes of key.
        let mut shares = vec![0x11, 0xec, 0x04, 0xc0];
        shares.extend(std::iter::repeat_n(0u8, 1216));
        let mut ext = vec![0x00, 0x33];
        ext.extend_from_slice(&u16::try_from(shares.len() + 2).unwrap().to_be_bytes());
        ext.extend_from_slice(&u16::try_from(shares.len()).unwrap().to_be_bytes());
        ext.extend_from_slice(&shares);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0u8; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        body.extend_from_slice(&u16::try_from(ext.len()).unwrap().to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hello = vec![1, 0];
        hello.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
        hello.extend_from_slice(&body);
        let by_group = HelloScreen {
            fault: crate::HelloFault::default(),
            group: Some(0x11ec),
        };
        assert!(by_group.hits(&hello));
        assert!(
            !by_group.hits(&hello[..40]),
            "a hello it cannot read is let through"
        );
        let other_group = HelloScreen {
            group: Some(0x001d),
            ..by_group.clone()
        };
        assert!(!other_group.hits(&hello));
        let by_size = HelloScreen {
            fault: crate::HelloFault {
                above_bytes: Some(1000),
                ..Default::default()
            },
            group: None,
        };
        assert!(by_size.hits(&hello));
        assert!(!by_size.hits(&hello[..900]));
    }
    use crate::{Faults, Protocol};

    const H2: Protocol = Protocol::Http2;

    #[test]
    fn plans_repeat_per_path_and_respect_the_prefix() {
        let f = Faults {
            stall_probability: 0.5,
            ..Faults::default()
        };
        let a: Vec<Plan> = (0..50)
            .map(|n| plan(&f, 3, n, "/static/x.js", H2, 100))
            .collect();
        let b: Vec<Plan> = (0..50)
            .map(|n| plan(&f, 3, n, "/static/x.js", H2, 100))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|p| p.stall.is_some()));
        // Another path draws its own sequence.
        let c: Vec<Plan> = (0..50)
            .map(|n| plan(&f, 3, n, "/static/y.css", H2, 100))
            .collect();
        assert_ne!(a, c);
        assert!((0..50).all(|n| plan(&f, 3, n, "/", H2, 100) == Plan::default()));
    }

    #[test]
    fn both_protocols_draw_the_same_plans_however_they_interleave() {
        let f = Faults {
            stall_probability: 0.3,
            ..Faults::default()
        };
        let draws = |order: &[Protocol]| {
            let counts = Counts::default();
            let mut by_protocol: Vec<(Protocol, Plan)> = order
                .iter()
                .map(|p| {
                    (
                        *p,
                        plan(
                            &f,
                            3,
                            counts.next("/static/a.js", *p),
                            "/static/a.js",
                            *p,
                            10,
                        ),
                    )
                })
                .collect();
            by_protocol.sort_by_key(|(p, _)| *p == Protocol::Http1);
            by_protocol
        };
        let h1 = Protocol::Http1;
        let alternating: Vec<Protocol> =
            (0..40).map(|i| if i % 2 == 0 { H2 } else { h1 }).collect();
        let bunched: Vec<Protocol> = (0..40).map(|i| if i < 20 { h1 } else { H2 }).collect();
        let a = draws(&alternating);
        assert_eq!(a, draws(&bunched), "the interleaving changes nothing");
        let stalls = |p: Protocol| {
            a.iter()
                .filter(|(q, x)| *q == p && x.stall.is_some())
                .count()
        };
        assert_eq!(
            stalls(H2),
            stalls(h1),
            "each protocol draws the same faults"
        );
        assert!(stalls(H2) > 0);
    }

    #[test]
    fn large_only_stalls_spare_small_answers() {
        let f = Faults {
            stall_probability: 1.0,
            stall_large_only: true,
            large_from: 1000,
            ..Faults::default()
        };
        assert!(plan(&f, 1, 0, "/static/a", H2, 10).stall.is_none());
        assert!(plan(&f, 1, 0, "/static/a", H2, 5000).stall.is_some());
    }

    #[test]
    fn large_only_drops_spare_small_answers() {
        let f = Faults {
            reset_probability: 1.0,
            reset_large_only: true,
            large_from: 1000,
            ..Faults::default()
        };
        assert!(!plan(&f, 1, 0, "/static/a", H2, 10).reset);
        assert!(plan(&f, 1, 0, "/static/a", H2, 5000).reset);
    }

    #[test]
    fn faults_for_one_protocol_spare_the_other() {
        let f = Faults {
            stall_probability: 1.0,
            only_protocol: Some(Protocol::Http2),
            ..Faults::default()
        };
        assert!(
            plan(&f, 1, 0, "/static/a", Protocol::Http2, 10)
                .stall
                .is_some()
        );
        assert_eq!(
            plan(&f, 1, 0, "/static/a", Protocol::Http1, 10),
            Plan::default()
        );
    }

    #[test]
    fn tampering_changes_one_byte_and_keeps_the_length() {
        let f = Faults {
            tamper_probability: 1.0,
            ..Faults::default()
        };
        let p = plan(&f, 1, 0, "/static/a.css", H2, 11);
        assert_eq!(p.tamper_at, Some(5));
        let body = Bytes::from_static(b"hello world");
        let t = tampered(body.clone(), 5);
        assert_eq!(t.len(), body.len());
        let differing = body.iter().zip(t.iter()).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 1);
        assert_eq!(tampered(body.clone(), 99), body);
        assert_eq!(plan(&f, 1, 0, "/static/empty", H2, 0).tamper_at, None);
    }
}
