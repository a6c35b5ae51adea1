//! Public-key pins (`sha256//BASE64`, as curl's `--pinnedpubkey`) and the certificates of a
//! PEM bundle (the pins of a bundle, with each certificate's facts, are in `facts`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Most certificates read from one PEM bundle (a full OS bundle has ~150).
const MAX_PEM_CERTS: usize = 4_096;

/// A SHA-256 pin of a SubjectPublicKeyInfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pin([u8; 32]);

impl Serialize for Pin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl std::fmt::Display for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256//{}", STANDARD.encode(self.0))
    }
}

/// Why a pin or PEM input was rejected.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// The pin does not start with `sha256//`.
    #[error("pin {0:?} must start with sha256// (curl's --pinnedpubkey form)")]
    Prefix(String),
    /// The base64 part is not 32 bytes of standard base64.
    #[error("pin {0:?} is not the base64 of a 32-byte SHA-256")]
    Base64(String),
    /// The PEM could not be read.
    #[error("PEM: {0}")]
    Pem(String),
    /// No CERTIFICATE block in the PEM.
    #[error("no CERTIFICATE in the PEM input")]
    NoCertificate,
    /// More certificates than the bound.
    #[error("more than {MAX_PEM_CERTS} certificates in the PEM input")]
    TooMany,
}

impl Pin {
    /// Parses `sha256//BASE64`.
    pub fn parse(s: &str) -> Result<Self, PinError> {
        let s = s.trim();
        let b64 = s
            .strip_prefix("sha256//")
            .ok_or_else(|| PinError::Prefix(s.to_owned()))?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| PinError::Base64(s.to_owned()))?;
        <[u8; 32]>::try_from(bytes)
            .map(Pin)
            .map_err(|_| PinError::Base64(s.to_owned()))
    }

    /// Parses curl's list form: pins separated by `;`.
    pub fn parse_list(s: &str) -> Result<Vec<Self>, PinError> {
        s.split(';')
            .filter(|p| !p.trim().is_empty())
            .map(Self::parse)
            .collect()
    }

    /// The pin of a DER SubjectPublicKeyInfo.
    pub fn of_spki(spki_der: &[u8]) -> Self {
        Pin(Sha256::digest(spki_der).into())
    }
}

/// `sha256//BASE64` of a DER SubjectPublicKeyInfo.
pub fn pin_of_spki(spki_der: &[u8]) -> String {
    Pin::of_spki(spki_der).to_string()
}

/// The DER certificates of a PEM bundle, in order (for `--expect-cert`, `--public-roots`, `--cacert`).
pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, PinError> {
    let mut out = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem) {
        let cert = item.map_err(|e| PinError::Pem(e.to_string()))?;
        if out.len() == MAX_PEM_CERTS {
            return Err(PinError::TooMany);
        }
        out.push(cert.as_ref().to_vec());
    }
    if out.is_empty() {
        return Err(PinError::NoCertificate);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_round_trip_and_errors() {
        let p = Pin::of_spki(b"x");
        assert_eq!(Pin::parse(&p.to_string()).unwrap(), p);
        assert!(matches!(Pin::parse("sha1//abc"), Err(PinError::Prefix(_))));
        assert!(matches!(
            Pin::parse("sha256//abc"),
            Err(PinError::Base64(_))
        ));
        assert_eq!(Pin::parse_list(&format!("{p};{p}")).unwrap().len(), 2);
    }

    #[test]
    fn pem_without_certificates() {
        assert!(matches!(
            certs_from_pem(b"hello"),
            Err(PinError::NoCertificate)
        ));
    }
}
