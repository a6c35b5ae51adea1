//! `interloper echo`: the witness (terminates TLS and reports the ClientHello it received) or,
//! with `--passthrough`, a TCP passthrough in front of the real server that records each
//! ClientHello it forwards. Everything is in `interloper_echo`; this only maps flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use interloper_echo::{
    CertSource, EchoConfig, EchoServer, Limits, PATH_HELLO, PATH_HELLOS, PATH_VISIT,
    PassthroughConfig, PassthroughServer,
};

use crate::args::parse;
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper echo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Certificate chain to serve (PEM, leaf first).
    #[arg(
        long,
        value_name = "FILE",
        requires = "key",
        conflicts_with = "self_signed"
    )]
    pub cert: Option<PathBuf>,
    /// Private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Serve a fresh self-signed certificate for NAME (testing).
    #[arg(long, value_name = "NAME")]
    pub self_signed: Option<String>,
    /// Forward TCP to --upstream untouched (no TLS termination), recording each ClientHello;
    /// query them on --api.
    #[arg(long, requires = "upstream", conflicts_with_all = ["cert", "self_signed"])]
    pub passthrough: bool,
    /// The real server behind the passthrough.
    #[arg(long, value_name = "HOST:PORT", requires = "passthrough")]
    pub upstream: Option<String>,
    /// Plain-HTTP query API of the passthrough (keep it on loopback or a private network: it
    /// lists recent clients' addresses and fingerprints).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9443")]
    pub api: SocketAddr,
    /// Hellos the passthrough remembers.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        requires = "passthrough"
    )]
    pub ring: usize,
    /// Serve /metrics over plain HTTP on this address (keep it private) instead of on the
    /// internet-facing TLS port, which then answers 404 for it.
    #[arg(long, value_name = "ADDR:PORT", conflicts_with = "passthrough")]
    pub metrics_listen: Option<SocketAddr>,
    /// Connections held at once (all sources).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Connections held at once per source (IPv4 address or IPv6 /64).
    #[arg(long, value_name = "N")]
    pub max_connections_per_source: Option<usize>,
    /// Time to read the ClientHello and finish the TLS handshake (e.g. 10s; a bare number is
    /// seconds).
    #[arg(long, value_name = "DURATION", value_parser = parse::positive_duration)]
    pub handshake_timeout: Option<Duration>,
    /// Time to send an HTTP/1.1 request head.
    #[arg(long, value_name = "DURATION", value_parser = parse::positive_duration)]
    pub header_timeout: Option<Duration>,
    /// Time without a byte either way before a connection is closed.
    #[arg(long, value_name = "DURATION", value_parser = parse::positive_duration)]
    pub idle_timeout: Option<Duration>,
    /// Largest payload (bytes=N) served (e.g. 10M).
    #[arg(long, value_name = "BYTES", value_parser = parse::bytes)]
    pub max_payload: Option<u64>,
    /// Append each judged visit of the visit page (/.well-known/interloper/visit) to FILE, one
    /// JSON line; read them with `interloper visits FILE`.
    #[arg(long, value_name = "FILE", help_heading = "Visit page")]
    pub visits_log: Option<PathBuf>,
    /// Rotate the visits log to FILE.1 at this size (e.g. 64M).
    #[arg(long, value_name = "BYTES", value_parser = parse::bytes, default_value = "64M", help_heading = "Visit page")]
    pub visits_log_max: u64,
    /// What a visit record keeps: `details` (client /24 or /48 network, User-Agent) or
    /// `aggregates` (neither: only what the summaries count).
    #[arg(long, value_name = "WHAT", default_value = "details", value_parser = ["details", "aggregates"], help_heading = "Visit page")]
    pub visits_keep: String,
    /// A static URL of your site the visit page also downloads (repeatable; cross-origin:
    /// without Timing-Allow-Origin the browser shows only its total time).
    #[arg(long = "visit-url", value_name = "URL", help_heading = "Visit page")]
    pub visit_urls: Vec<url::Url>,
    /// How long the visit page measures.
    #[arg(long, value_name = "DURATION", value_parser = parse::positive_duration, default_value = "15s", help_heading = "Visit page")]
    pub visit_duration: Duration,
    #[command(flatten)]
    pub log: crate::logging::LogArgs,
}

fn limits(args: &Args, mut l: Limits) -> Limits {
    if let Some(n) = args.max_connections {
        l.max_connections = n;
    }
    if let Some(n) = args.max_connections_per_source {
        l.max_connections_per_source = n;
    }
    if let Some(d) = args.handshake_timeout {
        l.handshake_timeout = d;
    }
    if let Some(d) = args.header_timeout {
        l.header_read_timeout = d;
    }
    if let Some(d) = args.idle_timeout {
        l.idle_timeout = d;
    }
    if let Some(n) = args.max_payload {
        l.max_payload_bytes = n;
        l.payload_burst_bytes = l.payload_burst_bytes.max(n as f64);
    }
    l
}

/// Runs the witness or the passthrough until stopped (clean); a setup error is an input error.
pub async fn run(args: Args, _style: Style) -> anyhow::Result<Exit> {
    crate::logging::install(&args.log);
    if args.passthrough {
        let Some(upstream) = args.upstream.clone() else {
            bail!("--passthrough needs --upstream HOST:PORT");
        };
        if !args.api.ip().is_loopback() {
            log::warn!(
                api:% = args.api;
                "--api is not loopback; it lists recent clients' addresses and fingerprints"
            );
        }
        let mut cfg = PassthroughConfig::new(args.listen, upstream, args.api);
        cfg.ring_capacity = args.ring;
        cfg.limits = limits(&args, cfg.limits.clone());
        let server = PassthroughServer::bind(cfg).await?;
        log::info!(
            address:% = server.local_addr(),
            upstream = args.upstream.as_deref().unwrap_or_default(),
            hellos = format!("http://{}{PATH_HELLOS}?client_random=HEX", server.api_addr());
            "interloper echo passthrough listening"
        );
        server.run(crate::out::stop_signal()).await;
        return Ok(Exit::Clean);
    }
    let cert = match (&args.cert, &args.key, &args.self_signed) {
        (Some(cert), Some(key), None) => CertSource::PemFiles {
            cert: cert.clone(),
            key: key.clone(),
        },
        (None, None, Some(name)) => CertSource::SelfSigned {
            names: vec![name.clone()],
        },
        _ => bail!("echo needs --cert FILE --key FILE, or --self-signed NAME"),
    };
    let mut cfg = EchoConfig::new(args.listen, cert);
    cfg.limits = limits(&args, cfg.limits.clone());
    cfg.metrics_listen = args.metrics_listen;
    if let Some(u) = args
        .visit_urls
        .iter()
        .find(|u| !matches!(u.scheme(), "http" | "https"))
    {
        bail!("--visit-url {u}: not an http(s) URL");
    }
    cfg.visits.site_urls.clone_from(&args.visit_urls);
    cfg.visits.log.clone_from(&args.visits_log);
    cfg.visits.log_max_bytes = args.visits_log_max;
    cfg.visits.keep_details = args.visits_keep == "details";
    cfg.visits.duration = args
        .visit_duration
        .clamp(Duration::from_secs(3), Duration::from_secs(60));
    let server = EchoServer::bind(cfg).await?;
    if let Some(metrics) = server.metrics_addr() {
        log::info!(metrics = format!("http://{metrics}/metrics"); "metrics listening");
    }
    if let Some(leaf) = server.served_chain().certs.first() {
        log::info!(
            address:% = server.local_addr(),
            witness = format!("https://{}{PATH_HELLO}", server.local_addr()),
            visit_page = format!("https://{}{PATH_VISIT}", server.local_addr()),
            leaf_sha256 = leaf.sha256.as_str(),
            pin = leaf.spki_pin.as_deref().unwrap_or("-");
            "interloper echo witness listening"
        );
    }
    tokio::spawn(reload_on_hangup(server.reloader()));
    server.run(crate::out::stop_signal()).await;
    Ok(Exit::Clean)
}

/// On each SIGHUP: the certificate and key read again (a bad pair keeps the running one, with
/// a warning and `interloper_echo_cert_last_reload_successful 0`) and the visits log reopened
/// (logrotate's `postrotate`).
async fn reload_on_hangup(reloader: interloper_echo::EchoReloader) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            log::debug!(signal = "SIGHUP"; "reloading");
            match reloader.reload_certificate() {
                Ok(chain) => log::info!(
                    leaf_sha256 = chain.certs.first().map_or("-", |c| c.sha256.as_str());
                    "certificate reloaded"
                ),
                Err(e) => log::error!(
                    err:% = e;
                    "certificate reload refused, still serving the previous one"
                ),
            }
            if let Err(e) = reloader.reopen_logs() {
                log::error!(err:% = e; "reopening the visits log failed");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = reloader;
}
