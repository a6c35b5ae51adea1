//! The lab: everything `interloper demo` (and tests) need on loopback, with nothing installed.
//!
//! - a lab "public" CA, whose PEM is written to a temporary file so `check --public-roots`
//!   treats it as public;
//! - N origin instances (HTTPS, HTTP/2 and HTTP/1.1) serving a small static site in Django's
//!   layout ([`site::Site::demo`]);
//! - optionally, in front of any instance, an intercepting middlebox: it terminates TLS with
//!   leaves minted on the fly by an inspection CA of a configurable name, opens its own TLS
//!   connection upstream, forwards the request, and injects seeded faults ([`Faults`]).
//!
//! Everything listens on 127.0.0.1 only; dropping the [`Lab`] stops every task.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::task::JoinSet;

mod middlebox;
mod origin;
pub mod pki;
pub mod rng;
pub mod scenario;
pub mod site;

pub use scenario::{SCENARIOS, Scenario};

/// Limit for a client's TLS handshake with a lab server.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Limit for the middlebox's whole upstream exchange.
pub(crate) const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// Faults a middlebox injects per request. Decisions are drawn from a PRNG seeded with the
/// lab's seed and the request's index, so a scenario injects the same faults each run.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Only requests whose path starts with this are touched (default `/static/`).
    pub only_prefix: String,
    /// Share of requests that stall before the response headers.
    pub stall_probability: f64,
    /// How long a stall lasts.
    pub stall: Duration,
    /// Stall after the first chunk of the body instead of before the headers.
    pub stall_mid_body: bool,
    /// Stall only responses of at least `large_from` bytes.
    pub stall_large_only: bool,
    /// What counts as a large response, in bytes.
    pub large_from: usize,
    /// Send bodies at this rate (bytes per second).
    pub trickle_bytes_per_sec: Option<u64>,
    /// Share of requests truncated at `truncate_at`.
    pub truncate_probability: f64,
    /// Byte offset at which a truncated body stops (then the connection closes).
    pub truncate_at: Option<usize>,
    /// Share of requests answered by dropping the connection.
    pub reset_probability: f64,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            only_prefix: "/static/".to_string(),
            stall_probability: 0.0,
            stall: Duration::from_secs(2),
            stall_mid_body: false,
            stall_large_only: false,
            large_from: 64 * 1024,
            trickle_bytes_per_sec: None,
            truncate_probability: 0.0,
            truncate_at: None,
            reset_probability: 0.0,
        }
    }
}

/// An intercepting middlebox in front of an instance.
#[derive(Debug, Clone, PartialEq)]
pub struct MiddleboxConfig {
    /// The inspection CA's subject common name, e.g. "FortiGate CA" or "Corp Gateway CA".
    pub ca_common_name: String,
    /// The inspection CA's subject organisation, e.g. "Fortinet".
    pub ca_organisation: String,
    /// Offer HTTP/1.1 only to clients (no h2 in ALPN).
    pub http1_only: bool,
    /// Speak TLS 1.2 only to clients.
    pub tls12_only: bool,
    /// Faults injected per request.
    pub faults: Faults,
}

impl MiddleboxConfig {
    /// An inspection box with this CA name and no faults.
    pub fn named(common_name: &str, organisation: &str) -> MiddleboxConfig {
        MiddleboxConfig {
            ca_common_name: common_name.to_string(),
            ca_organisation: organisation.to_string(),
            http1_only: false,
            tls12_only: false,
            faults: Faults::default(),
        }
    }
}

/// One origin instance, maybe behind a middlebox.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceConfig {
    /// The middlebox in front, if any.
    pub middlebox: Option<MiddleboxConfig>,
    /// The origin's certificate comes from a private CA of this (common name, organisation)
    /// instead of the lab public CA: a private PKI, no interception.
    pub private_ca: Option<(String, String)>,
}

/// What the lab starts.
#[derive(Debug, Clone, PartialEq)]
pub struct LabConfig {
    /// The instances, in order (numbered from 1 in output).
    pub instances: Vec<InstanceConfig>,
    /// Seed for every fault decision.
    pub seed: u64,
}

impl Default for LabConfig {
    fn default() -> LabConfig {
        LabConfig {
            instances: vec![InstanceConfig::default()],
            seed: 1,
        }
    }
}

/// A running instance.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Where the origin listens.
    pub origin: SocketAddr,
    /// Where the middlebox in front listens, if any.
    pub middlebox: Option<SocketAddr>,
    /// The inspection CA's PEM file, if a middlebox is in front.
    pub inspection_ca_pem_path: Option<PathBuf>,
    /// The origin's private CA PEM file, if it has one.
    pub private_ca_pem_path: Option<PathBuf>,
    /// Where clients connect: the middlebox if any, else the origin.
    pub addr: SocketAddr,
}

impl Instance {
    /// The CA files a user of this instance has installed locally (`--cacert`): the inspection
    /// CA of a middlebox in front, the origin's private CA.
    pub fn local_roots(&self) -> impl Iterator<Item = &Path> {
        self.inspection_ca_pem_path
            .iter()
            .chain(self.private_ca_pem_path.iter())
            .map(PathBuf::as_path)
    }

    /// The page URL clients use (`https://localhost:PORT/`; resolve localhost to 127.0.0.1).
    pub fn url(&self) -> String {
        format!("https://localhost:{}/", self.addr.port())
    }
}

/// A running lab; dropping it (or [`Lab::shutdown`]) stops every server.
#[derive(Debug)]
pub struct Lab {
    instances: Vec<Instance>,
    dir: tempfile::TempDir,
    public_roots: PathBuf,
    tasks: JoinSet<()>,
}

fn server_config(
    resolver: Arc<dyn rustls::server::ResolvesServerCert>,
    http1_only: bool,
    tls12_only: bool,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let builder = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ));
    let builder = if tls12_only {
        builder.with_protocol_versions(&[&rustls::version::TLS12])?
    } else {
        builder.with_safe_default_protocol_versions()?
    };
    let mut cfg = builder.with_no_client_auth().with_cert_resolver(resolver);
    // HTTP/1.1 only: negotiate no ALPN at all, as boxes that strip it do (a client that asked
    // for h2 alone gets no protocol and must speak HTTP/1.1).
    cfg.alpn_protocols = if http1_only {
        Vec::new()
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    Ok(Arc::new(cfg))
}

/// The middlebox's client side: trusts `root` only, speaks HTTP/1.1.
fn upstream_config(
    root: &rustls_pki_types::CertificateDer<'static>,
) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone())?;
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

impl Lab {
    /// Starts every server of `cfg` on 127.0.0.1.
    pub async fn start(cfg: LabConfig) -> anyhow::Result<Lab> {
        let dir = tempfile::Builder::new()
            .prefix("interloper-lab-")
            .tempdir()
            .context("creating the lab's temporary directory")?;
        let public = pki::Ca::new("interloper lab public root", "interloper lab")
            .context("making the lab public CA")?;
        let public_roots = dir.path().join("public-roots.pem");
        std::fs::write(&public_roots, &public.pem)?;
        let leaf = public
            .leaf(&["localhost".to_string(), "127.0.0.1".to_string()], false)
            .context("making the origin certificate")?;
        let origin_tls = server_config(Arc::new(Single(leaf)), false, false)?;
        let upstream = upstream_config(&public.der)?;

        let site = Arc::new(site::Site::demo()?);
        let mut tasks = JoinSet::new();
        let mut instances = Vec::new();
        for (i, inst) in cfg.instances.iter().enumerate() {
            let (tls, private_pem, upstream) = match &inst.private_ca {
                None => (origin_tls.clone(), None, upstream.clone()),
                Some((cn, org)) => {
                    let ca = pki::Ca::new(cn, org).context("making a private CA")?;
                    let pem = dir.path().join(format!("private-ca-{}.pem", i + 1));
                    std::fs::write(&pem, &ca.pem)?;
                    let leaf =
                        ca.leaf(&["localhost".to_string(), "127.0.0.1".to_string()], false)?;
                    (
                        server_config(Arc::new(Single(leaf)), false, false)?,
                        Some(pem),
                        upstream_config(&ca.der)?,
                    )
                }
            };
            let origin = origin::start(site.clone(), tls, &mut tasks).await?;
            let (middlebox, pem) = match &inst.middlebox {
                None => (None, None),
                Some(mb) => {
                    let ca = pki::Ca::new(&mb.ca_common_name, &mb.ca_organisation)
                        .context("making the inspection CA")?;
                    let pem = dir.path().join(format!("inspection-ca-{}.pem", i + 1));
                    std::fs::write(&pem, &ca.pem)?;
                    let tls = server_config(
                        Arc::new(pki::Minter::new(ca)),
                        mb.http1_only,
                        mb.tls12_only,
                    )?;
                    let seed = cfg.seed ^ (i as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407);
                    let addr = middlebox::start(
                        origin,
                        tls,
                        mb.http1_only,
                        upstream,
                        mb.faults.clone(),
                        seed,
                        &mut tasks,
                    )
                    .await?;
                    (Some(addr), Some(pem))
                }
            };
            instances.push(Instance {
                origin,
                middlebox,
                inspection_ca_pem_path: pem,
                private_ca_pem_path: private_pem,
                addr: middlebox.unwrap_or(origin),
            });
        }
        Ok(Lab {
            instances,
            dir,
            public_roots,
            tasks,
        })
    }

    /// The running instances, in configuration order.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The lab public CA (PEM), to pass as `--public-roots`.
    pub fn public_roots_pem_path(&self) -> &Path {
        &self.public_roots
    }

    /// The lab's temporary directory (removed when the lab is dropped).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops every server now.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

/// Always the same certificate.
#[derive(Debug)]
struct Single(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Single {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}
