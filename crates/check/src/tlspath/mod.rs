//! The TLS path: trust of the presented chain against public and local roots, interception
//! evidence, our own ClientHello's fingerprints, and the witness comparison.
//!
//! One step shared by `interloper check` (every target's first connection) and `interloper
//! tls` ([`examine`]): [`TlsPath::load`] reads the root sets, products and expectations once
//! (the only file I/O here: files the user named and the OS store), [`TlsPath::analyse`] judges
//! one session, and [`witness`] asks the witness what it saw.

mod examine;
pub mod witness;

pub use examine::{
    HelloShapeResult, ShapeOutcome, TLS_SCHEMA, TlsExamination, TlsNegotiated, TlsRequest, examine,
    reference_from_json,
};
pub use witness::{
    PassthroughView, WitnessSample, WitnessView, ask_passthrough, ask_witness, sample_witness,
};

use std::path::PathBuf;

use interloper_chain::{
    ChainInput, ChainReport, Negotiated, PathStatus, ProductDb, Reference, Roots, SignalKind,
    analyse, certs_from_pem,
};
use interloper_findings::{Confidence, TlsEvidence, TlsItem, TlsItemKind, TlsStatus};
use interloper_model::TlsInfo;
use interloper_wire::{ClientHello, Transport, ja3, ja4};
use serde::Serialize;

/// What the user told us about trust and expectations.
#[derive(Debug, Clone, Default)]
pub struct TlsPathOptions {
    /// `--public-roots FILE`: replaces Mozilla's list (tests need it: no public CA signs a
    /// loopback certificate).
    pub public_roots: Option<PathBuf>,
    /// `--cacert FILE`: extra anchors, counted as local.
    pub cacert: Vec<PathBuf>,
    /// Read the OS store (and SSL_CERT_FILE / SSL_CERT_DIR) as the local roots.
    pub use_os_roots: bool,
    /// `--expect-pin sha256//BASE64`.
    pub pins: Vec<interloper_chain::Pin>,
    /// `--expect-cert FILE` (PEM or DER leaf).
    pub expect_cert: Option<PathBuf>,
    /// `--products FILE`: a products file replacing the built-in one.
    pub products: Option<PathBuf>,
}

/// The root sets, loaded once.
#[derive(Debug)]
struct RootSets {
    /// Public web roots.
    pub public: Roots,
    /// The machine's store.
    pub local: Roots,
    /// `--cacert` anchors.
    pub extra: Roots,
    /// Problems reading any of them (kept going).
    pub warnings: Vec<String>,
}

/// Errors the user must fix (a file they named is unusable).
#[derive(Debug, thiserror::Error)]
pub enum TlsPathError {
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (said in the message, so not also a `source`: `{:#}` prints it once).
        reason: std::io::Error,
    },
    /// A file holds no certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    /// The products file is malformed.
    #[error("products file {path}: {reason}")]
    Products {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn read(path: &PathBuf) -> Result<Vec<u8>, TlsPathError> {
    std::fs::read(path).map_err(|reason| TlsPathError::Read {
        path: path.clone(),
        reason,
    })
}

fn pem_certs(path: &PathBuf) -> Result<Vec<Vec<u8>>, TlsPathError> {
    let bytes = read(path)?;
    let certs = certs_from_pem(&bytes).unwrap_or_default();
    if certs.is_empty() {
        // A lone DER certificate is fine too.
        if bytes.first() == Some(&0x30) {
            return Ok(vec![bytes]);
        }
        return Err(TlsPathError::NoCertificate(path.clone()));
    }
    Ok(certs)
}

/// Load the public, local and extra root sets the options name.
fn load_roots(opts: &TlsPathOptions) -> Result<RootSets, TlsPathError> {
    let mut warnings = Vec::new();
    let public = match &opts.public_roots {
        Some(p) => {
            let (r, errs) = Roots::from_der(pem_certs(p)?);
            warnings.extend(errs.iter().map(|e| format!("{}: {e}", p.display())));
            r
        }
        None => Roots::webpki(),
    };
    let local = if opts.use_os_roots {
        let loaded = rustls_native_certs::load_native_certs();
        for e in &loaded.errors {
            warnings.push(format!("local trust store: {e}"));
        }
        let (r, errs) = Roots::from_der(loaded.certs.iter().map(|c| c.as_ref().to_vec()));
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
        extra_der.extend(pem_certs(p)?);
    }
    let (extra, errs) = Roots::from_der(extra_der);
    warnings.extend(errs.iter().map(|e| format!("--cacert: {e}")));
    Ok(RootSets {
        public,
        local,
        extra,
        warnings,
    })
}

/// Load the products database named by the options, or the built-in one.
fn load_products(opts: &TlsPathOptions) -> Result<ProductDb, TlsPathError> {
    match &opts.products {
        None => Ok(ProductDb::builtin()),
        Some(p) => {
            let text = String::from_utf8_lossy(&read(p)?).into_owned();
            ProductDb::from_toml_str(&text).map_err(|e| TlsPathError::Products {
                path: p.clone(),
                reason: e.to_string(),
            })
        }
    }
}

/// Fingerprints of the ClientHello we sent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HelloFingerprints {
    /// JA3 string.
    pub ja3: String,
    /// JA3 MD5.
    pub ja3_hash: String,
    /// JA4.
    pub ja4: String,
    /// JA4_r (raw, sorted).
    pub ja4_r: String,
    /// JA4_o (original order).
    pub ja4_o: String,
    /// JA4_ro.
    pub ja4_ro: String,
    /// The 32-byte client_random, hex: what the witness must have seen.
    pub client_random: String,
    /// SNI sent.
    pub sni: Option<String>,
    /// ALPN offered.
    pub alpn: Vec<String>,
}

/// Parse the ClientHello the probe recorded and fingerprint it.
pub fn fingerprints(tls: &TlsInfo) -> Option<HelloFingerprints> {
    let hello = ClientHello::parse(&tls.client_hello).ok()?;
    let j3 = ja3(&hello);
    let j4 = ja4(&hello, Transport::Tcp);
    Some(HelloFingerprints {
        ja3: j3.string,
        ja3_hash: j3.hash,
        ja4: j4.ja4,
        ja4_r: j4.ja4_r,
        ja4_o: j4.ja4_o,
        ja4_ro: j4.ja4_ro,
        client_random: hex::encode(hello.random),
        sni: hello.sni(),
        alpn: hello.alpn(),
    })
}

/// Everything the TLS path step judges a session against, loaded once.
#[derive(Debug)]
pub struct TlsPath {
    roots: RootSets,
    products: ProductDb,
    pins: Vec<interloper_chain::Pin>,
    expect_cert: Option<Vec<u8>>,
}

impl TlsPath {
    /// Read the root sets, the products file and the expected certificate the options name.
    pub fn load(opts: &TlsPathOptions) -> Result<TlsPath, TlsPathError> {
        let expect_cert = match &opts.expect_cert {
            Some(p) => pem_certs(p)?.into_iter().next(),
            None => None,
        };
        Ok(TlsPath {
            roots: load_roots(opts)?,
            products: load_products(opts)?,
            pins: opts.pins.clone(),
            expect_cert,
        })
    }

    /// Problems reading the root sets that did not stop the check (unusable anchors…).
    pub fn warnings(&self) -> &[String] {
        &self.roots.warnings
    }

    /// Judge one session's chain for `server_name`: trust, products, minted traits, pins,
    /// the witness's view of the same connection, and a reference chain from a clean path.
    pub fn analyse(
        &self,
        tls: &TlsInfo,
        server_name: &str,
        witness: Option<&WitnessView>,
        reference: Option<Reference>,
    ) -> ChainReport {
        analyse_session(self, tls, server_name, witness, reference)
    }
}

fn analyse_session(
    path: &TlsPath,
    tls: &TlsInfo,
    server_name: &str,
    witness: Option<&WitnessView>,
    reference: Option<Reference>,
) -> ChainReport {
    let roots = &path.roots;
    let mut input = ChainInput::new(
        tls.presented_chain.clone(),
        server_name,
        interloper_chain::time::OffsetDateTime::now_utc(),
        &roots.public,
        &roots.local,
        &path.products,
    );
    input.extra_roots = Some(&roots.extra);
    input.pins.clone_from(&path.pins);
    input.expect_cert.clone_from(&path.expect_cert);
    input.negotiated = Negotiated {
        alpn: tls.alpn.clone(),
        tls_version: tls.version.clone(),
    };
    input.reference = reference;
    if let Some(w) = witness {
        input.witness = w.comparison();
        // What the witness negotiated with whoever reached it is the reference for ours.
        if input.reference.is_none() && (w.alpn.is_some() || w.tls_version.is_some()) {
            input.reference = Some(Reference {
                chain: Vec::new(),
                negotiated: Negotiated {
                    alpn: w.alpn.clone(),
                    tls_version: w.tls_version.clone(),
                },
            });
        }
    }
    analyse(&input)
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

/// Reduce a chain report to the evidence the findings read.
pub fn to_findings_evidence(report: &ChainReport) -> TlsEvidence {
    let status = match report.verdict.status {
        PathStatus::Clean => TlsStatus::Clean,
        PathStatus::Intercepted => TlsStatus::Intercepted,
        PathStatus::LikelyIntercepted => TlsStatus::LikelyIntercepted,
        PathStatus::PrivatePkiUnknown => TlsStatus::PrivatePkiUnknown,
        PathStatus::Untrusted => TlsStatus::Untrusted,
    };
    let confidence = match report.verdict.confidence {
        interloper_chain::PathConfidence::High => Confidence::High,
        interloper_chain::PathConfidence::Medium => Confidence::Medium,
        interloper_chain::PathConfidence::Low => Confidence::Low,
    };
    let items = report
        .evidence
        .iter()
        .filter_map(|e| {
            let kind = match e.kind {
                SignalKind::KnownProduct => TlsItemKind::ProductMatch,
                SignalKind::AnchoredLocalOnly => TlsItemKind::LocalAnchorOnly,
                SignalKind::NoEmbeddedSct
                | SignalKind::FreshlyIssued
                | SignalKind::ShortLived
                | SignalKind::KeyTypeDiffers
                | SignalKind::LeafKeyIsIssuerKey
                | SignalKind::IssuerDiffers => TlsItemKind::MintedTraits,
                SignalKind::PinMismatch | SignalKind::ExpectedCertMismatch => {
                    TlsItemKind::PinMismatch
                }
                SignalKind::AlpnDowngrade | SignalKind::TlsVersionDowngrade => {
                    TlsItemKind::Downgrade
                }
                SignalKind::Untrusted => TlsItemKind::Untrusted,
                SignalKind::ProductNotNameable => TlsItemKind::Other,
                // The witness's verdict travels in the witness evidence (see
                // `witness_verdict`); the rest are facts, not signals of interception.
                SignalKind::WitnessClientRandomDiffers
                | SignalKind::WitnessChainDiffers
                | SignalKind::WitnessMatches
                | SignalKind::UnparsedCertificate
                | SignalKind::ChainTruncated
                | SignalKind::AnchoredPublic
                | SignalKind::SctPresent
                | SignalKind::MatchesReference
                | SignalKind::PinMatch
                | SignalKind::ExpectedCertMatch => return None,
            };
            Some(TlsItem {
                kind,
                message: e.message.clone(),
            })
        })
        .collect();
    let leaf = report.certificates.first();
    TlsEvidence {
        status,
        confidence,
        product: report.verdict.product.as_ref().map(|p| p.name.clone()),
        leaf_subject: leaf.and_then(|c| c.subject.clone()),
        leaf_issuer: leaf.and_then(|c| c.issuer.clone()),
        items,
    }
}
