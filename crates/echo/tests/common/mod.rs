//! Helpers shared by the witness tests: a real rustls client that remembers the random it sent
//! and the chain it saw (testkit's recording client configuration), HTTP over it, and servers on
//! loopback port 0.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use interloper_echo::{
    CertSource, EchoConfig, EchoServer, Limits, PassthroughConfig, PassthroughServer, Stats,
};
use interloper_testkit::{Recording, recording_client_config};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Every network step of a test is bounded by this.
pub const STEP: Duration = Duration::from_secs(20);

/// Client options.
#[derive(Clone, Default)]
pub struct ClientOpts {
    pub alpn: Vec<&'static str>,
    pub max_fragment: Option<usize>,
    pub bind: Option<SocketAddr>,
}

/// A TLS connection plus what it sent and saw.
pub struct Client {
    pub tls: tokio_rustls::client::TlsStream<TcpStream>,
    pub recording: Recording,
}

impl Client {
    /// The client_random it sent, hex.
    pub fn random(&self) -> String {
        hex::encode(self.recording.seen().client_random.unwrap())
    }
    /// The chain it was shown, DER, leaf first.
    pub fn chain(&self) -> Vec<Vec<u8>> {
        self.recording.seen().chain
    }
    pub fn alpn(&self) -> Option<String> {
        self.tls
            .get_ref()
            .1
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }
}

pub async fn tcp(addr: SocketAddr, bind: Option<SocketAddr>) -> TcpStream {
    let s = tcp_raw(addr, bind).await;
    // As browsers do; otherwise Nagle and delayed ACKs add 40 ms to small h2 writes.
    s.set_nodelay(true).unwrap();
    s
}

async fn tcp_raw(addr: SocketAddr, bind: Option<SocketAddr>) -> TcpStream {
    match bind {
        None => TcpStream::connect(addr).await.unwrap(),
        Some(local) => {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            s.bind(local).unwrap();
            s.connect(addr).await.unwrap()
        }
    }
}

/// Connects with rustls, SNI `localhost`.
pub async fn connect(addr: SocketAddr, opts: ClientOpts) -> Client {
    let (mut cfg, recording) = recording_client_config().unwrap();
    cfg.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    cfg.max_fragment_size = opts.max_fragment;
    let tcp = tcp(addr, opts.bind).await;
    let tls = tokio::time::timeout(
        STEP,
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(ServerName::try_from("localhost").unwrap(), tcp),
    )
    .await
    .expect("handshake in time")
    .expect("handshake");
    Client { tls, recording }
}

/// A response: status, headers, body.
pub struct Got {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub version: http::Version,
}

/// One request over the connection, with HTTP/2 when ALPN chose it, else HTTP/1.1.
pub async fn get(client: Client, method: &str, path: &str) -> Got {
    send(client, method, path, &[], Bytes::new()).await
}

/// One request with extra headers and a body, over HTTP/2 when ALPN chose it, else HTTP/1.1.
pub async fn send(
    client: Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Got {
    let h2 = client.alpn().as_deref() == Some("h2");
    let io = TokioIo::new(client.tls);
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body)).unwrap();
    let work = async move {
        let resp = if h2 {
            let (mut send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
            tokio::spawn(conn);
            let req = {
                let (mut parts, body) = req.into_parts();
                parts.uri = format!("https://localhost{path}").parse().unwrap();
                // HTTP/2 carries the authority in the URI; nginx refuses a duplicate Host.
                parts.headers.remove("host");
                http::Request::from_parts(parts, body)
            };
            send.send_request(req).await.unwrap()
        } else {
            let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            send.send_request(req).await.unwrap()
        };
        let status = resp.status().as_u16();
        let version = resp.version();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Got {
            status,
            headers,
            body,
            version,
        }
    };
    tokio::time::timeout(STEP, work)
        .await
        .expect("response in time")
}

/// A running server and the means to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub api: Option<SocketAddr>,
    pub stats: Arc<Stats>,
    pub served: Vec<Vec<u8>>,
    /// The witness's reload handle (what SIGHUP calls); none for a passthrough.
    pub reloader: Option<interloper_echo::EchoReloader>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(STEP, t).await;
        }
    }
}

pub fn test_limits() -> Limits {
    Limits::default()
}

/// Default limits with some changed (`Limits` is non-exhaustive, so no struct literal).
pub fn limits_with(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

/// A witness on 127.0.0.1:0 with a self-signed certificate for `localhost`.
pub async fn start_echo(limits: Limits) -> Running {
    let mut cfg = EchoConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        CertSource::SelfSigned {
            names: vec!["localhost".into()],
        },
    );
    cfg.limits = limits;
    start_echo_with(cfg).await
}

/// A witness from a configuration (its address and certificate as the caller set them).
pub async fn start_echo_with(cfg: EchoConfig) -> Running {
    let server = EchoServer::bind(cfg).await.unwrap();
    let addr = server.local_addr();
    let stats = server.stats();
    let reloader = Some(server.reloader());
    let served = server
        .served_chain()
        .certs
        .iter()
        .map(|c| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(&c.der_base64)
                .unwrap()
        })
        .collect();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        api: None,
        stats,
        served,
        reloader,
        stop: Some(tx),
        task: Some(task),
    }
}

/// A passthrough on 127.0.0.1:0 in front of `upstream`.
pub async fn start_passthrough(upstream: SocketAddr, limits: Option<Limits>) -> Running {
    let mut cfg = PassthroughConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        upstream.to_string(),
        "127.0.0.1:0".parse().unwrap(),
    );
    if let Some(l) = limits {
        cfg.limits = l;
    }
    cfg.ring_capacity = 100;
    let server = PassthroughServer::bind(cfg).await.unwrap();
    let addr = server.local_addr();
    let api = server.api_addr();
    let stats = server.stats();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        api: Some(api),
        stats,
        served: Vec::new(),
        reloader: None,
        stop: Some(tx),
        task: Some(task),
    }
}

/// Plain HTTP/1.1 GET on loopback (the passthrough's API).
pub async fn plain_get(addr: SocketAddr, path_and_query: &str) -> Got {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::builder()
        .uri(path_and_query)
        .header("host", "127.0.0.1")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let work = async move {
        let resp = send.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let version = resp.version();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Got {
            status,
            headers,
            body,
            version,
        }
    };
    tokio::time::timeout(STEP, work)
        .await
        .expect("API answer in time")
}

/// Reads until EOF or error; returns (bytes read, whether it ended within `limit`).
pub async fn read_until_closed<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
    limit: Duration,
) -> (Vec<u8>, bool) {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let res = tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    (out, res.is_ok())
}
