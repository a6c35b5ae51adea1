//! The certificate the witness serves: loading, generating, and describing it (with pins).

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::error::EchoError;
use crate::witness::ServedCert;

/// Where the served certificate chain and key come from.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// A fresh self-signed certificate (rcgen) for these DNS names / IP addresses.
    SelfSigned {
        /// Subject alternative names; the first one is the subject.
        names: Vec<String>,
    },
    /// PEM files: the chain (leaf first) and the private key. Read once at bind time; the
    /// running server touches no file.
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

/// Builds the rustls server configuration: TLS 1.2 and 1.3, ALPN h2 then http/1.1.
pub(crate) fn server_config(loaded: Loaded) -> Result<Arc<rustls::ServerConfig>, EchoError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(loaded.chain, loaded.key)?;
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
