//! The lab: everything `interloper demo` (and tests) need on loopback, with nothing installed.
//!
//! - a lab "public" CA, whose PEM is written to a temporary file so `check --public-roots`
//!   treats it as public;
//! - N origin instances (`app-N.localhost`; HTTPS, HTTP/2 and HTTP/1.1) serving a small static
//!   site in Django's layout ([`site::Site::demo`]), with optional origin faults
//!   ([`OriginConfig`]);
//! - optionally, in front of any instance, an intercepting middlebox: it terminates TLS with
//!   leaves minted on the fly by an inspection CA of a configurable name, opens its own TLS
//!   connection upstream, forwards the request, and injects seeded faults ([`Faults`]);
//! - optionally a witness (`interloper echo`) beside an instance, behind the same middlebox,
//!   and a second address (127.0.0.2) through a relay that holds or resets connections.
//!
//! What to start is data ([`LabConfig`], from TOML: [`ScenarioFile`]); [`Lab::check_plan`]
//! says how a user would check it. Everything listens on 127.0.0.1 / 127.0.0.2 only;
//! dropping the [`Lab`] stops every task.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::task::JoinSet;

mod check_plan;
mod config;
mod middlebox;
mod origin;
pub mod pki;
mod relay;
pub mod rng;
pub mod scenario;
pub mod site;

pub use config::{
    AddressFaults, CaName, Faults, HelloAction, HelloFault, InstanceConfig, LabConfig,
    MiddleboxConfig, OriginConfig, Protocol, ScenarioFile, duration_text,
};
pub use scenario::{SCENARIOS, Scenario};

/// Limit for a client's TLS handshake with a lab server.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Limit for the middlebox's whole upstream exchange.
pub(crate) const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// A running instance.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its host name, `app-N.localhost` (N from 1): every name resolves to loopback, and
    /// distinct names let a witness speak for its own instance.
    pub host: String,
    /// Where the origin listens.
    pub origin: SocketAddr,
    /// Where the middlebox in front listens, if any.
    pub middlebox: Option<SocketAddr>,
    /// The inspection CA's PEM file, if a middlebox is in front.
    pub inspection_ca_pem_path: Option<PathBuf>,
    /// The origin's private CA PEM file, if it has one.
    pub private_ca_pem_path: Option<PathBuf>,
    /// The user declares that private CA their own (`--private-root`), not only installs it.
    pub private_ca_declared: bool,
    /// Where clients connect: the middlebox if any, else the origin.
    pub addr: SocketAddr,
    /// The second address (127.0.0.2, same port), through a faulty relay, if configured.
    pub second_addr: Option<SocketAddr>,
    /// Where clients reach the witness beside this instance (through the same middlebox).
    pub witness: Option<SocketAddr>,
    /// Where the witness itself listens (behind the middlebox, when there is one): the
    /// far end of the middlebox's own connection, as a capture sees it.
    pub witness_backend: Option<SocketAddr>,
}

impl Instance {
    /// The CA files a user of this instance has installed locally (`--cacert`): the inspection
    /// CA of a middlebox in front, the origin's private CA unless it is declared.
    pub fn local_roots(&self) -> impl Iterator<Item = &Path> {
        self.inspection_ca_pem_path
            .iter()
            .chain(
                self.private_ca_pem_path
                    .iter()
                    .filter(|_| !self.private_ca_declared),
            )
            .map(PathBuf::as_path)
    }

    /// The CA files the user declares their organisation's own (`--private-root`): the
    /// origin's private CA when the scenario says the user knows it.
    pub fn private_roots(&self) -> impl Iterator<Item = &Path> {
        self.private_ca_pem_path
            .iter()
            .filter(|_| self.private_ca_declared)
            .map(PathBuf::as_path)
    }

    /// The page URL clients use (`https://app-N.localhost:PORT/`; resolve it to 127.0.0.1).
    pub fn url(&self) -> String {
        format!("https://{}:{}/", self.host, self.addr.port())
    }

    /// The witness URL clients use, if a witness runs beside this instance.
    pub fn witness_url(&self) -> Option<String> {
        self.witness
            .map(|w| format!("https://{}:{}/", self.host, w.port()))
    }

    /// Every address clients may use: the main one, then the second address.
    pub fn addresses(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        std::iter::once(self.addr).chain(self.second_addr)
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
    let builder =
        rustls::ServerConfig::builder_with_provider(Arc::new(interloper_probe::classic_provider()));
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
    let mut cfg =
        rustls::ClientConfig::builder_with_provider(Arc::new(interloper_probe::classic_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

impl Lab {
    /// Starts every server of `cfg` on 127.0.0.1.
    pub async fn start(cfg: LabConfig) -> anyhow::Result<Lab> {
        cfg.validate().map_err(|e| anyhow::anyhow!("lab: {e}"))?;
        let names = origin_names(cfg.instances.len());
        let dir = tempfile::Builder::new()
            .prefix("interloper-lab-")
            .tempdir()
            .context("creating the lab's temporary directory")?;
        let public = pki::Ca::new("interloper lab public root", "interloper lab")
            .context("making the lab public CA")?;
        let public_roots = dir.path().join("public-roots.pem");
        std::fs::write(&public_roots, &public.pem)?;
        let leaf = public
            .leaf(&names, false)
            .context("making the origin certificate")?;
        let origin_tls = server_config(Arc::new(Single(leaf)), false, false)?;
        let upstream = upstream_config(&public.der)?;

        let mut tasks = JoinSet::new();
        let mut instances = Vec::new();
        for (i, inst) in cfg.instances.iter().enumerate() {
            let (tls, private_pem, origin_upstream) = match &inst.private_ca {
                None => (origin_tls.clone(), None, upstream.clone()),
                Some(name) => {
                    let ca = pki::Ca::new(&name.common_name, &name.organisation)
                        .context("making a private CA")?;
                    let pem = dir.path().join(format!("private-ca-{}.pem", i + 1));
                    std::fs::write(&pem, &ca.pem)?;
                    let leaf = ca.leaf(&names, false)?;
                    (
                        server_config(Arc::new(Single(leaf)), false, false)?,
                        Some(pem),
                        upstream_config(&ca.der)?,
                    )
                }
            };
            let faulty = site::Site::build(inst.origin.site_version)?.with_faults(&inst.origin)?;
            let served = Arc::new(origin::Served {
                site: faulty.site,
                statuses: faulty.statuses,
                hostile: faulty.hostile,
            });
            let origin = origin::start(served, tls, &mut tasks).await?;
            let seed = cfg.seed ^ (i as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407);
            let witness_origin = if inst.witness {
                Some(start_witness(&public, &names, &mut tasks).await?)
            } else {
                None
            };
            let (middlebox, pem, witness) = match &inst.middlebox {
                None => (None, None, witness_origin),
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
                    let addr = middlebox::start(
                        origin,
                        tls.clone(),
                        mb.http1_only,
                        origin_upstream,
                        mb.faults.clone(),
                        mb.hello.clone(),
                        seed,
                        &mut tasks,
                    )
                    .await?;
                    // The box inspects (and stalls) everything bound for this host, the
                    // witness included.
                    let witness = match witness_origin {
                        None => None,
                        Some(w) => Some(
                            middlebox::start(
                                w,
                                tls,
                                mb.http1_only,
                                upstream.clone(),
                                Faults {
                                    only_prefix: "/".to_string(),
                                    ..mb.faults.clone()
                                },
                                mb.hello.clone(),
                                seed ^ 0x5749_544e,
                                &mut tasks,
                            )
                            .await?,
                        ),
                    };
                    (Some(addr), Some(pem), witness)
                }
            };
            let addr = middlebox.unwrap_or(origin);
            let second_addr = match &inst.second_address {
                None => None,
                Some(f) => Some(relay::start(addr, f.clone(), seed ^ 0x0002, &mut tasks).await?),
            };
            instances.push(Instance {
                host: instance_host(i),
                origin,
                middlebox,
                inspection_ca_pem_path: pem,
                private_ca_pem_path: private_pem,
                private_ca_declared: inst.private_ca.as_ref().is_some_and(|c| c.declared),
                addr,
                second_addr,
                witness,
                witness_backend: witness_origin,
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

/// The host name of instance `index` (from 0).
fn instance_host(index: usize) -> String {
    format!("app-{}.localhost", index + 1)
}

/// Names on every lab origin certificate: each instance's host, `localhost`, `127.0.0.1`.
fn origin_names(instances: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..instances).map(instance_host).collect();
    names.push("localhost".to_string());
    names.push("127.0.0.1".to_string());
    names
}

/// Starts a witness (`interloper echo`) on 127.0.0.1 with a lab-public leaf for `names`.
async fn start_witness(
    public: &pki::Ca,
    names: &[String],
    tasks: &mut JoinSet<()>,
) -> anyhow::Result<SocketAddr> {
    let (cert, key) = public
        .leaf_pem(names)
        .context("making the witness certificate")?;
    let config = interloper_echo::EchoConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        interloper_echo::CertSource::Pem {
            cert: cert.into_bytes(),
            key: key.into_bytes(),
        },
    );
    let server = interloper_echo::EchoServer::bind(config)
        .await
        .map_err(|e| anyhow::anyhow!("lab: starting the witness: {e}"))?;
    let addr = server.local_addr();
    tasks.spawn(server.run(std::future::pending::<()>()));
    Ok(addr)
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
