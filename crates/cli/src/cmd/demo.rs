//! `interloper demo`: a local HTTPS server with a few static files (one of which stalls 2 s on
//! a seeded share of requests), probed with that server's CA as the trust anchor.
//! Temporary form until the lab crate provides the full origin + middlebox demo.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use interloper_probe::{ConnectionPolicy, Probe, ProbeConfig, ProxySetting, RunOptions, Target};

use crate::out::Style;

/// Arguments of `interloper demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Requests per file.
    #[arg(short = 'n', long, default_value_t = 12)]
    pub count: u64,
    /// Requests in flight per file.
    #[arg(short = 'c', long, default_value_t = 4)]
    pub concurrency: usize,
    /// Seed for which requests of /app.js stall.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

const STALL: Duration = Duration::from_secs(2);

/// Does request `n` stall? About one in five, decided by a seeded mix so runs repeat.
fn stalls(seed: u64, n: u64) -> bool {
    let mut x = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x % 5 == 0
}

struct Site {
    seed: u64,
    js_hits: AtomicU64,
    logo: Bytes,
}

async fn serve(
    site: Arc<Site>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (ctype, body): (&str, Bytes) = match req.uri().path() {
        "/" | "/index.html" => (
            "text/html",
            Bytes::from_static(b"<!doctype html><link rel=stylesheet href=/app.css><script src=/app.js></script><img src=/logo.png>\n"),
        ),
        "/app.css" => ("text/css", Bytes::from_static(b"body { font: 16px sans-serif }\n")),
        "/app.js" => {
            let n = site.js_hits.fetch_add(1, Ordering::Relaxed);
            if stalls(site.seed, n) {
                tokio::time::sleep(STALL).await;
            }
            ("text/javascript", Bytes::from_static(b"console.log('hello from the demo');\n"))
        }
        "/logo.png" => ("image/png", site.logo.clone()),
        _ => {
            let mut r = Response::new(Full::new(Bytes::from_static(b"not found\n")));
            *r.status_mut() = StatusCode::NOT_FOUND;
            return Ok(r);
        }
    };
    let mut r = Response::new(Full::new(body));
    if let Ok(v) = http::HeaderValue::from_str(ctype) {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    Ok(r)
}

/// A CA and a localhost leaf; returns the server config and the CA (DER).
fn pki() -> anyhow::Result<(Arc<rustls::ServerConfig>, Vec<u8>)> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "interloper demo CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "interloper");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(vec![leaf_cert.der().clone(), ca_cert.der().clone()], key)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(cfg), ca_cert.der().to_vec()))
}

/// Start the server on 127.0.0.1:0; it lives until the runtime stops.
async fn start(seed: u64) -> anyhow::Result<(SocketAddr, Vec<u8>)> {
    let (tls, ca) = pki().context("generating the demo certificates")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let site = Arc::new(Site {
        seed,
        js_hits: AtomicU64::new(0),
        logo: Bytes::from(
            (0..64 * 1024u32)
                .map(|i| (i % 251) as u8)
                .collect::<Vec<u8>>(),
        ),
    });
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let site = site.clone();
            // Without it, delayed ACKs add ~40 ms to small responses and the demo lies.
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req| serve(site.clone(), req));
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    Ok((addr, ca))
}

/// `interloper demo`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<u8> {
    let (addr, ca) = start(args.seed).await?;
    let mut cfg = ProbeConfig::default();
    cfg.proxy = ProxySetting::None;
    cfg.extra_roots_der = vec![ca];
    cfg.resolve = vec![format!("localhost:{}:127.0.0.1", addr.port()).parse()?];
    cfg.phase_timeout = Duration::from_secs(10);
    cfg.max_records_kept = if args.json { 1000 } else { 0 };
    let probe = Probe::new(cfg)?;
    let targets = ["/index.html", "/app.css", "/app.js", "/logo.png"]
        .iter()
        .map(|p| Target::parse(&format!("https://localhost:{}{p}", addr.port())))
        .collect::<Result<Vec<_>, _>>()?;
    let mut opts = RunOptions::default();
    opts.count = Some(args.count.max(1));
    opts.concurrency = args.concurrency.max(1);
    opts.policy = ConnectionPolicy::Fresh;
    if !args.json {
        use std::io::Write as _;
        writeln!(
            std::io::stdout(),
            "demo: HTTPS server on {addr} (own CA; /app.js stalls {} s on ~1 in 5 requests)\n",
            STALL.as_secs()
        )?;
    }
    super::probe::execute(&probe, &targets, &opts, args.json, style).await
}
