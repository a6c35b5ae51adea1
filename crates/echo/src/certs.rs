//! The certificate the witness serves: loading, generating, describing it (with pins), and
//! swapping it on reload without a restart.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::error::EchoError;
use crate::stats::{Stats, bump};
use crate::witness::ServedCert;

/// Where the served certificate chain and key come from.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// A fresh self-signed certificate (rcgen) for these DNS names / IP addresses.
    SelfSigned {
        /// Subject alternative names; the first one is the subject.
        names: Vec<String>,
    },
    /// PEM files: the chain (leaf first) and the private key. Read at bind time and again
    /// on each reload (SIGHUP in `interloper echo`); between the two the server touches no
    /// file.
    PemFiles {
        /// Certificate chain file.
        cert: PathBuf,
        /// Private key file (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// PEM text already in memory.
    Pem {
        /// Certificate chain, leaf first.
        cert: Vec<u8>,
        /// Private key.
        key: Vec<u8>,
    },
}

/// The chain the witness serves, as the client side should see it when nothing intercepts.
#[derive(Debug, Clone)]
pub struct ServedChain {
    /// Leaf first.
    pub certs: Vec<ServedCert>,
}

pub(crate) struct Loaded {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

pub(crate) fn load(source: &CertSource) -> Result<Loaded, EchoError> {
    match source {
        CertSource::SelfSigned { names } => {
            if names.is_empty() {
                return Err(EchoError::Cert("--self-signed needs a name".into()));
            }
            let gen_err = |e: rcgen::Error| {
                EchoError::Cert(format!("generating self-signed certificate: {e}"))
            };
            let mut params = rcgen::CertificateParams::new(names.clone()).map_err(gen_err)?;
            // A recognisable subject, so nobody mistakes the witness's own certificate for a
            // middlebox's minted one.
            let mut dn = rcgen::DistinguishedName::new();
            dn.push(
                rcgen::DnType::CommonName,
                names.first().cloned().unwrap_or_default(),
            );
            dn.push(
                rcgen::DnType::OrganizationName,
                "interloper witness (self-signed)",
            );
            params.distinguished_name = dn;
            let signing_key = rcgen::KeyPair::generate().map_err(gen_err)?;
            let cert = params.self_signed(&signing_key).map_err(gen_err)?;
            let key = PrivateKeyDer::try_from(signing_key.serialize_der())
                .map_err(|e| EchoError::Cert(format!("generated key: {e}")))?;
            Ok(Loaded {
                chain: vec![cert.der().clone()],
                key,
            })
        }
        CertSource::PemFiles { cert, key } => {
            let cert_pem = std::fs::read(cert)
                .map_err(|e| EchoError::Cert(format!("reading {}: {e}", cert.display())))?;
            let key_pem = std::fs::read(key)
                .map_err(|e| EchoError::Cert(format!("reading {}: {e}", key.display())))?;
            from_pem(&cert_pem, &key_pem)
        }
        CertSource::Pem { cert, key } => from_pem(cert, key),
    }
}

fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Loaded, EchoError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EchoError::Cert(format!("certificate PEM: {e}")))?;
    if chain.is_empty() {
        return Err(EchoError::Cert("no CERTIFICATE block in the PEM".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| EchoError::Cert(format!("key PEM: {e}")))?;
    Ok(Loaded { chain, key })
}

/// The pair being served and its description, swapped whole on reload so a handshake sees
/// either the old pair or the new one, never half of each.
#[derive(Debug)]
pub(crate) struct Serving {
    pub key: Arc<CertifiedKey>,
    pub chain: Arc<ServedChain>,
}

/// The certificate resolver: the current pair, replaced by [`CertStore::reload`]. A pair that
/// does not load (unreadable, unparsable, a key that does not match the leaf) is refused and
/// the one served before stays, so a half-written renewal never takes the witness down.
#[derive(Debug)]
pub(crate) struct CertStore {
    source: CertSource,
    current: RwLock<Arc<Serving>>,
    stats: Arc<Stats>,
}

impl CertStore {
    /// Loads the pair once; an error here fails the bind.
    pub(crate) fn new(source: CertSource, stats: Arc<Stats>) -> Result<CertStore, EchoError> {
        let (serving, not_after) = serving(load(&source)?)?;
        let store = CertStore {
            source,
            current: RwLock::new(Arc::new(serving)),
            stats,
        };
        store.note_load(true, not_after);
        Ok(store)
    }

    /// The pair served now.
    pub(crate) fn current(&self) -> Arc<Serving> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Reads the source again and swaps the pair in; on error the old pair stays and the
    /// refusal is counted. A self-signed source keeps its certificate: a new one would only
    /// change the pin clients were told.
    pub(crate) fn reload(&self) -> Result<Arc<ServedChain>, EchoError> {
        if matches!(self.source, CertSource::SelfSigned { .. }) {
            return Ok(Arc::clone(&self.current().chain));
        }
        match load(&self.source).and_then(serving) {
            Ok((serving, not_after)) => {
                let chain = Arc::clone(&serving.chain);
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(serving);
                bump(&self.stats.cert_reloads);
                self.note_load(true, not_after);
                Ok(chain)
            }
            Err(e) => {
                bump(&self.stats.cert_reloads_refused);
                self.note_load(false, None);
                Err(e)
            }
        }
    }

    fn note_load(&self, ok: bool, not_after: Option<u64>) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.stats
            .cert_last_reload_successful
            .store(u64::from(ok), Ordering::Relaxed);
        self.stats
            .cert_last_reload_timestamp_seconds
            .store(now.max(1), Ordering::Relaxed);
        if let Some(t) = not_after {
            self.stats
                .cert_not_after_seconds
                .store(t, Ordering::Relaxed);
        }
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current().key))
    }
}

/// A loaded pair made ready to serve: the signing key checked against the leaf, the chain
/// described, the leaf's notAfter read.
fn serving(loaded: Loaded) -> Result<(Serving, Option<u64>), EchoError> {
    let provider = classic_provider();
    let chain = Arc::new(describe_chain(&loaded.chain));
    let not_after = loaded.chain.first().and_then(|leaf| {
        let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
        u64::try_from(cert.validity().not_after.timestamp()).ok()
    });
    let key = CertifiedKey::from_der(loaded.chain, loaded.key, &provider)
        .map_err(|e| EchoError::Cert(format!("the key does not fit the certificate: {e}")))?;
    let key = Arc::new(key);
    Ok((Serving { key, chain }, not_after))
}

/// The witness's TLS offer: aws-lc-rs (the binary's one crypto library) with the classic groups
/// only, as when it ran on ring: a post-quantum hello settles on its X25519 share.
fn classic_provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::aws_lc_rs::{self, kx_group};
    rustls::crypto::CryptoProvider {
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        ..aws_lc_rs::default_provider()
    }
}

/// Builds the rustls server configuration: TLS 1.2 and 1.3, ALPN h2 then http/1.1, the
/// certificate from the reloadable store.
pub(crate) fn server_config(store: Arc<CertStore>) -> Result<Arc<rustls::ServerConfig>, EchoError> {
    let provider = Arc::new(classic_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Each connection is a fresh witness; resumption would only blur what was seen.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// Describes one certificate: DER, fingerprint, SPKI pin, names.
pub fn describe_cert(der: &[u8]) -> ServedCert {
    let sha256 = hex::encode(Sha256::digest(der));
    let (spki_pin, subject, issuer) = match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => (
            Some(format!(
                "sha256//{}",
                B64.encode(Sha256::digest(cert.tbs_certificate.subject_pki.raw))
            )),
            Some(cert.subject().to_string()),
            Some(cert.issuer().to_string()),
        ),
        Err(_) => (None, None, None),
    };
    ServedCert {
        der_base64: B64.encode(der),
        sha256,
        spki_pin,
        subject,
        issuer,
    }
}

pub(crate) fn describe_chain(chain: &[CertificateDer<'_>]) -> ServedChain {
    ServedChain {
        certs: chain.iter().map(|c| describe_cert(c.as_ref())).collect(),
    }
}
