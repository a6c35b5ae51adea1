//! The TLS path judgement: the root sets, products, pins and expected certificate a user named,
//! loaded once, and one session's presented chain judged against them.
//!
//! Shared by `interloper check` (each target's first connection), `interloper tls` and the
//! offline `interloper pcap` (chains seen in the clear). Pure: the files and the OS store are
//! read through the [`TrustFiles`] the caller hands in, and the caller gives the time.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::{
    ChainInput, ChainReport, Negotiated, Pin, ProductDb, Reference, Roots, SignalKind,
    WitnessComparison, analyse, certs_from_pem,
};

/// What the user told us about trust and expectations.
#[derive(Debug, Clone, Default)]
pub struct TlsPathOptions {
    /// `--public-roots FILE`: replaces Mozilla's list (tests need it: no public CA signs a
    /// loopback certificate).
    pub public_roots: Option<PathBuf>,
    /// `--cacert FILE`: extra anchors, counted as local.
    pub cacert: Vec<PathBuf>,
    /// `--private-root FILE`: roots the user declares their organisation's own; trusted, and a
    /// chain ending in one is their PKI, not an unknown local root.
    pub private_roots: Vec<PathBuf>,
    /// Read the OS store (and SSL_CERT_FILE / SSL_CERT_DIR) as the local roots.
    pub use_os_roots: bool,
    /// `--expect-pin sha256//BASE64`.
    pub pins: Vec<Pin>,
    /// `--expect-cert FILE` (PEM or DER leaf).
    pub expect_cert: Option<PathBuf>,
    /// `--products FILE`: a products file replacing the built-in one.
    pub products: Option<PathBuf>,
}

/// Where the files a [`TlsPathOptions`] names come from: the caller's file system and OS
/// trust store (the binary and the check engine read them; tests hand in bytes).
pub trait TrustFiles {
    /// The bytes of a file the user named.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// The OS trust store: its certificates (DER) and the problems met reading it.
    fn os_roots(&self) -> (Vec<Vec<u8>>, Vec<String>);
}

/// Errors the user must fix (a file they named is unusable).
#[derive(Debug, thiserror::Error)]
pub enum TlsPathError {
    /// A file could not be read.
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (said in the message, so not also a `source`: `{:#}` prints it once).
        reason: std::io::Error,
    },
    /// A file holds no certificate.
    #[error("{} holds no PEM certificate", .0.display())]
    NoCertificate(PathBuf),
    /// The products file is malformed.
    #[error("products file {}: {reason}", path.display())]
    Products {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The root sets, loaded once.
#[derive(Debug)]
struct RootSets {
    /// Public web roots.
    public: Roots,
    /// The machine's store.
    local: Roots,
    /// `--cacert` anchors.
    extra: Roots,
    /// `--private-root` anchors, marked declared.
    private: Roots,
    /// Problems reading any of them (kept going).
    warnings: Vec<String>,
}

fn read(files: &dyn TrustFiles, path: &Path) -> Result<Vec<u8>, TlsPathError> {
    files.read(path).map_err(|reason| TlsPathError::Read {
        path: path.to_path_buf(),
        reason,
    })
}

fn pem_certs(files: &dyn TrustFiles, path: &Path) -> Result<Vec<Vec<u8>>, TlsPathError> {
    let bytes = read(files, path)?;
    let certs = certs_from_pem(&bytes).unwrap_or_default();
    if certs.is_empty() {
        // A lone DER certificate is fine too.
        if bytes.first() == Some(&0x30) {
            return Ok(vec![bytes]);
        }
        return Err(TlsPathError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

/// Load the public, local, extra and declared private root sets the options name.
fn load_roots(opts: &TlsPathOptions, files: &dyn TrustFiles) -> Result<RootSets, TlsPathError> {
    let mut warnings = Vec::new();
    let public = match &opts.public_roots {
        Some(p) => {
            let (r, errs) = Roots::from_der(pem_certs(files, p)?);
            warnings.extend(errs.iter().map(|e| format!("{}: {e}", p.display())));
            r
        }
        None => Roots::webpki(),
    };
    let local = if opts.use_os_roots {
        let (certs, errors) = files.os_roots();
        for e in &errors {
            warnings.push(format!("local trust store: {e}"));
        }
        let (r, errs) = Roots::from_der(certs);
        if !errs.is_empty() {
            warnings.push(format!(
                "local trust store: {} certificate(s) unusable as anchors",
                errs.len()
            ));
        }
        r
    } else {
        Roots::empty()
    };
    let mut extra_der = Vec::new();
    for p in &opts.cacert {
        extra_der.extend(pem_certs(files, p)?);
    }
    let (extra, errs) = Roots::from_der(extra_der);
    warnings.extend(errs.iter().map(|e| format!("--cacert: {e}")));
    let mut private_der = Vec::new();
    for p in &opts.private_roots {
        private_der.extend(pem_certs(files, p)?);
    }
    let (private, errs) = Roots::from_der(private_der);
    warnings.extend(errs.iter().map(|e| format!("--private-root: {e}")));
    Ok(RootSets {
        public,
        local,
        extra,
        private: private.declared_private(),
        warnings,
    })
}

/// Load the products database named by the options, or the built-in one.
fn load_products(opts: &TlsPathOptions, files: &dyn TrustFiles) -> Result<ProductDb, TlsPathError> {
    match &opts.products {
        None => Ok(ProductDb::builtin()),
        Some(p) => {
            let text = String::from_utf8_lossy(&read(files, p)?).into_owned();
            ProductDb::from_toml_str(&text).map_err(|e| TlsPathError::Products {
                path: p.clone(),
                reason: e.to_string(),
            })
        }
    }
}

/// One TLS session as the judgement reads it: the chain exactly as presented and what was
/// negotiated.
#[derive(Debug, Clone, Copy)]
pub struct PresentedSession<'a> {
    /// The presented chain, leaf first, DER.
    pub chain: &'a [Vec<u8>],
    /// ALPN and TLS version negotiated.
    pub negotiated: &'a Negotiated,
}

/// What a witness beside the server saw of the same connection.
#[derive(Debug, Clone, Default)]
pub struct WitnessSide {
    /// Whether it received our hello and served the chain we received.
    pub comparison: Option<WitnessComparison>,
    /// What it negotiated with whoever reached it.
    pub negotiated: Negotiated,
}

/// Everything the TLS path step judges a session against, loaded once.
#[derive(Debug)]
pub struct TlsPath {
    roots: RootSets,
    products: ProductDb,
    pins: Vec<Pin>,
    expect_cert: Option<Vec<u8>>,
}

impl TlsPath {
    /// Read the root sets, the products file and the expected certificate the options name.
    pub fn load(opts: &TlsPathOptions, files: &dyn TrustFiles) -> Result<TlsPath, TlsPathError> {
        let expect_cert = match &opts.expect_cert {
            Some(p) => pem_certs(files, p)?.into_iter().next(),
            None => None,
        };
        Ok(TlsPath {
            roots: load_roots(opts, files)?,
            products: load_products(opts, files)?,
            pins: opts.pins.clone(),
            expect_cert,
        })
    }

    /// Problems reading the root sets that did not stop the check (unusable anchors…).
    pub fn warnings(&self) -> &[String] {
        &self.roots.warnings
    }

    /// Judge one session's chain for `server_name` at `now`: trust, products, minted traits,
    /// pins, the witness's view of the same connection, and a reference chain from a clean
    /// path.
    pub fn analyse(
        &self,
        session: PresentedSession<'_>,
        server_name: &str,
        witness: Option<&WitnessSide>,
        reference: Option<Reference>,
        now: OffsetDateTime,
    ) -> ChainReport {
        let roots = &self.roots;
        let mut input = ChainInput::new(
            session.chain.to_vec(),
            server_name,
            now,
            &roots.public,
            &roots.local,
            &self.products,
        );
        input.extra_roots = Some(&roots.extra);
        input.private_roots = Some(&roots.private);
        input.pins.clone_from(&self.pins);
        input.expect_cert.clone_from(&self.expect_cert);
        input.negotiated = session.negotiated.clone();
        input.reference = reference;
        if let Some(w) = witness {
            input.witness = w.comparison;
            // What the witness negotiated with whoever reached it is the reference for ours.
            let n = &w.negotiated;
            if input.reference.is_none() && (n.alpn.is_some() || n.tls_version.is_some()) {
                input.reference = Some(Reference {
                    chain: Vec::new(),
                    negotiated: n.clone(),
                });
            }
        }
        analyse(&input)
    }
}

/// What the chain analysis concluded from the witness: whether the witness received our
/// ClientHello and served the chain we received (`(hello_matched, chain_matched)`). The
/// comparison is made once, by the chain analysis; the findings read this, never recompute it.
pub fn witness_verdict(report: &ChainReport) -> (bool, bool) {
    let differs = |kind: SignalKind| report.evidence.iter().any(|s| s.kind == kind);
    (
        !differs(SignalKind::WitnessClientRandomDiffers),
        !differs(SignalKind::WitnessChainDiffers),
    )
}
