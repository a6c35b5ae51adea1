//! Fault servers for probe tests: loopback servers that stall, truncate, reset or misbehave on
//! purpose, so the probe's timing and error classification can be checked against real sockets.
//! (Owned by the probe engineer.)
//!
//! Each server runs its own single-threaded tokio runtime on a background thread, listens on
//! `127.0.0.1:0`, answers every connection with the same [`Fault`], and stops on `Drop`.
//!
//! ```no_run
//! use std::time::Duration;
//! use interloper_testkit::faults::{Fault, FaultServer};
//! let server = FaultServer::plain(Fault::DelayHeaders(Duration::from_secs(2)))?;
//! println!("{}", server.url("/x"));
//! # anyhow::Ok(())
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Largest request head a fault server reads.
const MAX_HEAD: usize = 64 * 1024;
/// Upper bound on how long any fault keeps a connection busy, so a broken test cannot hang.
const MAX_LIFETIME: Duration = Duration::from_secs(60);

/// What the server does with each connection (after reading the request head, unless noted).
#[derive(Debug, Clone)]
pub enum Fault {
    /// A correct `200` with this body and `Content-Length`, then close.
    Ok(Vec<u8>),
    /// Wait this long before sending a correct response.
    DelayHeaders(Duration),
    /// Announce `len` bytes, send half of them, then close cleanly (FIN).
    HalfBodyThenClose {
        /// Announced Content-Length.
        len: usize,
    },
    /// Announce `len` bytes, send half of them, then reset (RST).
    HalfBodyThenReset {
        /// Announced Content-Length.
        len: usize,
    },
    /// Announce `chunk * count` bytes and send `chunk` bytes every `interval`.
    Drip {
        /// Bytes per write.
        chunk: usize,
        /// Pause between writes.
        interval: Duration,
        /// Number of writes.
        count: usize,
    },
    /// Accept, read the request, never answer (until the client leaves or the server drops).
    NeverAnswer,
    /// Reset the TCP connection as soon as it is accepted (before TLS, before reading). The
    /// RST can reach the client before its `connect()` returns: which phase sees it is a race.
    ResetOnAccept,
    /// Read the first bytes the client sends (its ClientHello, or its request), then reset the
    /// TCP connection, as a firewall that blocks on the SNI does. Unlike
    /// [`Fault::ResetOnAccept`], the client has always connected and written when the RST comes.
    ResetAfterFirstBytes,
    /// `200` without Content-Length, then bytes until the client goes away.
    EndlessBody,
    /// A response head with this many bytes of headers.
    HugeHeaders {
        /// Approximate size of the header block.
        bytes: usize,
    },
    /// Answer the TLS ClientHello with plain-text HTTP (only meaningful for [`FaultServer::tls`],
    /// where it skips the TLS handshake): the client sees garbage instead of a ServerHello.
    NotTls,
    /// Answer whatever arrives with bytes of no protocol at all (like [`Fault::NotTls`], the
    /// TLS server skips its handshake).
    Garbage,
    /// Answer the ClientHello with a fatal TLS alert (handshake_failure), as a server that
    /// shares no cipher or version with the client does.
    Alert,
    /// A `200` whose body is the request head as received (to see which headers were sent).
    EchoRequest,
    /// This response head, written as given (status line and headers, ending in a blank
    /// line), then this body: redirects, encodings and types of any shape.
    Raw {
        /// `HTTP/1.1 200 OK\r\n…\r\n\r\n`.
        head: String,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Keep the connection alive for `answered` requests (each a `200` with this body), then
    /// read the next request and end the connection without a complete answer — a server
    /// whose idle timeout fires just as that request arrives. `partial_head` bytes of a
    /// response head go out before the close (0: none, the race a client may retry).
    KeepAliveThenClose {
        /// The body of each answered request.
        body: Vec<u8>,
        /// Requests answered on each connection before the one it closes under.
        answered: usize,
        /// Bytes of `HTTP/1.1 200 OK…` written before closing.
        partial_head: usize,
    },
    /// A site: each request is answered by the fault of its path (exact match, query
    /// ignored), or a plain 404. Faults that act before the request is read
    /// ([`Fault::ResetOnAccept`], [`Fault::ResetAfterFirstBytes`], [`Fault::NotTls`],
    /// [`Fault::Garbage`]) and nested sites do
    /// nothing here.
    Site(Arc<Vec<(String, Fault)>>),
}

impl Fault {
    /// A site from `(path, fault)` pairs.
    pub fn site(routes: impl IntoIterator<Item = (&'static str, Fault)>) -> Fault {
        Fault::Site(Arc::new(
            routes
                .into_iter()
                .map(|(p, f)| (p.to_string(), f))
                .collect(),
        ))
    }

    /// A `200` with this Content-Type and body.
    pub fn typed(content_type: &str, body: impl Into<Vec<u8>>) -> Fault {
        let body = body.into();
        Fault::Raw {
            head: format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            ),
            body,
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Fault {
        Fault::Raw {
            head: format!(
                "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            ),
            body: Vec::new(),
        }
    }
}

/// The path of a request head's request line, without its query.
fn request_path(head: &[u8]) -> String {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let target = line.split(|b| *b == b' ').nth(1).unwrap_or_default();
    let path = String::from_utf8_lossy(target).into_owned();
    path.split('?').next().unwrap_or_default().to_string()
}

/// A running fault server.
#[derive(Debug)]
pub struct FaultServer {
    /// Where it listens (always 127.0.0.1).
    pub addr: SocketAddr,
    /// `https` for [`FaultServer::tls`], else `http`.
    pub scheme: &'static str,
    /// The CA that issued the server certificate (TLS servers only), DER.
    pub ca_der: Option<Vec<u8>>,
    /// The same CA, PEM.
    pub ca_pem: Option<String>,
    accepted: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    /// A plain-HTTP fault server.
    pub fn plain(fault: Fault) -> anyhow::Result<FaultServer> {
        FaultServer::start(fault, None)
    }

    /// A TLS fault server with a fresh CA and a leaf for `localhost` and `127.0.0.1`
    /// (ALPN http/1.1). The probe trusts it only when given [`FaultServer::ca_der`].
    pub fn tls(fault: Fault) -> anyhow::Result<FaultServer> {
        let (config, ca_der, ca_pem) = tls_config()?;
        FaultServer::start(fault, Some((config, ca_der, ca_pem)))
    }

    /// `scheme://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    fn start(
        fault: Fault,
        tls: Option<(Arc<rustls::ServerConfig>, Vec<u8>, String)>,
    ) -> anyhow::Result<FaultServer> {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let acceptor = tls
            .as_ref()
            .map(|(c, _, _)| tokio_rustls::TlsAcceptor::from(c.clone()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the fault server runtime")?;
        let thread = std::thread::Builder::new()
            .name(format!("fault-{addr}"))
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    let accept_loop = async {
                        while let Ok((tcp, _)) = listener.accept().await {
                            counter.fetch_add(1, Ordering::Relaxed);
                            let fault = fault.clone();
                            let acceptor = acceptor.clone();
                            tokio::spawn(async move {
                                let _ = tokio::time::timeout(
                                    MAX_LIFETIME,
                                    handle(tcp, fault, acceptor),
                                )
                                .await;
                            });
                        }
                    };
                    tokio::select! {
                        _ = accept_loop => {}
                        _ = stop_rx => {}
                    }
                });
                // Dropping the runtime here cancels every connection task.
            })
            .context("spawning the fault server thread")?;
        let (ca_der, ca_pem) = match tls {
            Some((_, der, pem)) => (Some(der), Some(pem)),
            None => (None, None),
        };
        Ok(FaultServer {
            addr,
            scheme: if ca_der.is_some() { "https" } else { "http" },
            ca_der,
            ca_pem,
            accepted,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn handle(tcp: TcpStream, fault: Fault, acceptor: Option<tokio_rustls::TlsAcceptor>) {
    let _ = tcp.set_nodelay(true);
    match fault {
        Fault::ResetOnAccept => {
            let _ = tcp.set_zero_linger();
            return;
        }
        Fault::ResetAfterFirstBytes => {
            // Readiness can be reported with nothing to read (tokio says so): resetting on
            // such a wake-up came before the client's hello, and under load before the
            // client had seen its own connect complete. Wait for a byte (or the end).
            let mut first = [0u8; 1];
            loop {
                if tcp.readable().await.is_err() {
                    break;
                }
                match tcp.try_read(&mut first) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                    _ => break,
                }
            }
            let _ = tcp.set_zero_linger();
            return;
        }
        Fault::HalfBodyThenReset { .. } => {
            // Takes effect at close: the close becomes an RST.
            let _ = tcp.set_zero_linger();
        }
        _ => {}
    }
    match (acceptor, &fault) {
        (Some(_), Fault::NotTls | Fault::Garbage | Fault::Alert) | (None, _) => {
            respond(tcp, fault).await;
        }
        (Some(acc), _) => {
            if let Ok(tls) = acc.accept(tcp).await {
                respond(tls, fault).await;
            }
        }
    }
}

async fn read_head_bytes<S: AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return Some(buf);
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

fn head(len: Option<usize>, extra: &str) -> String {
    let mut h = String::from("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n");
    if let Some(len) = len {
        h.push_str(&format!("Content-Length: {len}\r\n"));
    }
    h.push_str(extra);
    h.push_str("Connection: close\r\n\r\n");
    h
}

async fn respond<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, fault: Fault) {
    if let Fault::NotTls = fault {
        // Whatever arrived (a ClientHello), answer like a confused plain-HTTP server.
        let mut chunk = [0u8; 4096];
        let _ = s.read(&mut chunk).await;
        let _ = s
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        let _ = s.shutdown().await;
        return;
    }
    if let Fault::Garbage | Fault::Alert = fault {
        let mut chunk = [0u8; 4096];
        let _ = s.read(&mut chunk).await;
        let answer: &[u8] = match fault {
            // alert record: fatal (2), handshake_failure (40)
            Fault::Alert => &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28],
            _ => &[0x00, 0xff, 0x7f, 0x42, 0x99, 0x01, 0x02, 0x03],
        };
        let _ = s.write_all(answer).await;
        let _ = s.shutdown().await;
        return;
    }
    if let Fault::KeepAliveThenClose {
        body,
        answered,
        partial_head,
    } = fault
    {
        keep_alive_then_close(s, &body, answered, partial_head).await;
        return;
    }
    let Some(request) = read_head_bytes(&mut s).await else {
        return;
    };
    let fault = match fault {
        Fault::Site(routes) => {
            let path = request_path(&request);
            routes
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, f)| f.clone())
                .unwrap_or_else(|| Fault::Raw {
                    head: "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
                    body: Vec::new(),
                })
        }
        other => other,
    };
    if answer_request(&mut s, fault, &request).await {
        let _ = s.flush().await;
        let _ = s.shutdown().await;
    }
}

/// Answers one request as `fault` says; `false` when the connection must be left as it is
/// (a reset on drop, a client that left, an answer that never ends) rather than closed.
async fn answer_request<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    fault: Fault,
    request: &[u8],
) -> bool {
    let reset = matches!(fault, Fault::HalfBodyThenReset { .. });
    match fault {
        Fault::EchoRequest => {
            let _ = s.write_all(head(Some(request.len()), "").as_bytes()).await;
            let _ = s.write_all(request).await;
        }
        Fault::Ok(body) => {
            let _ = s.write_all(head(Some(body.len()), "").as_bytes()).await;
            let _ = s.write_all(&body).await;
        }
        Fault::DelayHeaders(d) => {
            tokio::time::sleep(d).await;
            let _ = s.write_all(head(Some(5), "").as_bytes()).await;
            let _ = s.write_all(b"late\n").await;
        }
        Fault::HalfBodyThenClose { len } | Fault::HalfBodyThenReset { len } => {
            let _ = s.write_all(head(Some(len), "").as_bytes()).await;
            let _ = s.write_all(&vec![b'h'; len / 2]).await;
            let _ = s.flush().await;
            // Give the client time to read the half so the close lands mid-body.
            tokio::time::sleep(Duration::from_millis(100)).await;
            if reset {
                // No shutdown (that would send FIN first): dropping with zero linger sends RST.
                return false;
            }
        }
        Fault::Drip {
            chunk,
            interval,
            count,
        } => {
            let _ = s
                .write_all(head(Some(chunk.saturating_mul(count)), "").as_bytes())
                .await;
            let piece = vec![b'd'; chunk];
            for _ in 0..count {
                if s.write_all(&piece).await.is_err() || s.flush().await.is_err() {
                    return false;
                }
                tokio::time::sleep(interval).await;
            }
        }
        Fault::NeverAnswer => {
            // Hold the connection open, reading (and discarding) until the client leaves.
            let mut sink = [0u8; 1024];
            while let Ok(n) = s.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
            return false;
        }
        Fault::EndlessBody => {
            let _ = s.write_all(head(None, "").as_bytes()).await;
            let piece = vec![b'e'; 64 * 1024];
            while s.write_all(&piece).await.is_ok() {}
            return false;
        }
        Fault::HugeHeaders { bytes } => {
            let mut extra = String::with_capacity(bytes + 64);
            let mut i = 0usize;
            while extra.len() < bytes {
                extra.push_str(&format!("X-Filler-{i}: {}\r\n", "f".repeat(100)));
                i += 1;
            }
            let _ = s.write_all(head(Some(2), &extra).as_bytes()).await;
            let _ = s.write_all(b"ok").await;
        }
        Fault::Raw { head, body } => {
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        }
        Fault::ResetOnAccept
        | Fault::ResetAfterFirstBytes
        | Fault::NotTls
        | Fault::Garbage
        | Fault::Alert
        | Fault::Site(_)
        | Fault::KeepAliveThenClose { .. } => {}
    }
    true
}

/// A fresh CA and a leaf for localhost / 127.0.0.1 / ::1, as a rustls server config.
fn tls_config() -> anyhow::Result<(Arc<rustls::ServerConfig>, Vec<u8>, String)> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "interloper fault CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);
    let mut leaf = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
    let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(
        leaf_key.serialize_der(),
    ));
    let provider = Arc::new(crate::classic_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), ca_cert.der().to_vec(), ca_cert.pem()))
}

/// [`Fault::KeepAliveThenClose`]: `answered` keep-alive answers, then a close under the next
/// request (after `partial_head` bytes of an answer).
async fn keep_alive_then_close<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    body: &[u8],
    answered: usize,
    partial_head: usize,
) {
    let keep_alive = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         Connection: keep-alive\r\n\r\n",
        body.len()
    );
    for _ in 0..answered {
        // One request at a time: the probe never pipelines.
        if read_head_bytes(&mut s).await.is_none() {
            return;
        }
        if s.write_all(keep_alive.as_bytes()).await.is_err()
            || s.write_all(body).await.is_err()
            || s.flush().await.is_err()
        {
            return;
        }
    }
    if read_head_bytes(&mut s).await.is_none() {
        return;
    }
    let partial = keep_alive.as_bytes();
    let _ = s
        .write_all(
            partial
                .get(..partial_head.min(partial.len()))
                .unwrap_or_default(),
        )
        .await;
    let _ = s.flush().await;
    let _ = s.shutdown().await;
}
