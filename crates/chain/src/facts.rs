//! Per-certificate facts for reports, read with x509-parser.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;

use crate::pins::{PinError, certs_from_pem, pin_of_spki};

/// Largest certificate we parse; anything bigger is reported unparsed (real ones are < 16 KiB).
pub(crate) const MAX_CERT_LEN: usize = 64 * 1024;

/// The OID of the embedded SCT list extension (RFC 6962 §3.3).
const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";

/// The public key of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyFacts {
    /// "RSA", "EC", "Ed25519", "Ed448", "DSA" or the algorithm OID.
    pub algorithm: String,
    /// Key size in bits when known.
    pub bits: Option<u32>,
    /// Named curve for EC keys ("P-256", …) when known.
    pub curve: Option<String>,
}

impl KeyFacts {
    /// Short form for messages: "EC P-256", "RSA 2048".
    pub fn describe(&self) -> String {
        match (&self.curve, self.bits) {
            (Some(c), _) => format!("{} {c}", self.algorithm),
            (None, Some(b)) => format!("{} {b}", self.algorithm),
            (None, None) => self.algorithm.clone(),
        }
    }
}

/// Facts about one certificate of the presented chain.
///
/// When the bytes do not parse as a certificate, `parsed` is false, `parse_error` says why and
/// only `index`, `der_len` and `sha256` are filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertFacts {
    /// Position in the presented chain (0 = leaf).
    pub index: usize,
    /// Whether the DER parsed as an X.509 certificate.
    pub parsed: bool,
    /// Why it did not parse.
    pub parse_error: Option<String>,
    /// Length of the DER.
    pub der_len: usize,
    /// SHA-256 of the DER, lower-case hex (the certificate fingerprint).
    pub sha256: String,
    /// `sha256//BASE64` of the SubjectPublicKeyInfo, as curl's `--pinnedpubkey`.
    pub spki_pin: Option<String>,
    /// Subject distinguished name (RFC 4514 style).
    pub subject: Option<String>,
    /// Issuer distinguished name.
    pub issuer: Option<String>,
    /// Subject common names.
    pub subject_cn: Vec<String>,
    /// Subject organisations.
    pub subject_o: Vec<String>,
    /// Issuer common names.
    pub issuer_cn: Vec<String>,
    /// Issuer organisations.
    pub issuer_o: Vec<String>,
    /// Serial number, colon-separated hex.
    pub serial: Option<String>,
    /// notBefore, RFC 3339.
    pub not_before: Option<String>,
    /// notAfter, RFC 3339.
    pub not_after: Option<String>,
    /// Public key.
    pub key: Option<KeyFacts>,
    /// Signature algorithm name (or OID).
    pub signature_algorithm: Option<String>,
    /// Subject alternative names: "DNS:…", "IP:…", "email:…", "URI:…".
    pub sans: Vec<String>,
    /// basicConstraints CA flag.
    pub is_ca: bool,
    /// Subject equals issuer.
    pub self_signed: bool,
    /// Whether the embedded SCT list extension is present.
    pub sct_list_present: bool,
    /// Number of SCTs in it (0 when absent or unreadable).
    pub sct_count: u32,
    #[serde(skip)]
    pub(crate) validity: Option<(OffsetDateTime, OffsetDateTime)>,
    /// Every attribute of the issuer name, for product rules (OU, L, serialNumber…).
    #[serde(skip)]
    pub(crate) issuer_attrs: NameAttrs,
    /// Every attribute of the subject name.
    #[serde(skip)]
    pub(crate) subject_attrs: NameAttrs,
}

/// The attributes of a distinguished name that product rules may test, each possibly repeated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NameAttrs {
    pub(crate) cn: Vec<String>,
    pub(crate) o: Vec<String>,
    pub(crate) ou: Vec<String>,
    pub(crate) l: Vec<String>,
    pub(crate) serial_number: Vec<String>,
}

impl NameAttrs {
    fn read(name: &X509Name<'_>) -> Self {
        let strings =
            |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
                it.filter_map(|a| a.as_str().ok().map(str::to_owned))
                    .collect::<Vec<_>>()
            };
        NameAttrs {
            cn: strings(&mut name.iter_common_name()),
            o: strings(&mut name.iter_organization()),
            ou: strings(&mut name.iter_organizational_unit()),
            l: strings(&mut name.iter_locality()),
            serial_number: strings(
                &mut name.iter_by_oid(&x509_parser::oid_registry::OID_X509_SERIALNUMBER),
            ),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lower-case hex SHA-256 of `der`.
pub fn sha256_hex(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

fn attrs(name: &X509Name<'_>, cn: bool) -> Vec<String> {
    let it: Vec<_> = if cn {
        name.iter_common_name().collect()
    } else {
        name.iter_organization().collect()
    };
    it.into_iter()
        .filter_map(|a| a.as_str().ok().map(str::to_owned))
        .collect()
}

/// Renders a DER `Name` (the full SEQUENCE) as a string; used for trust anchors.
pub(crate) fn name_to_string(der: &[u8]) -> Option<String> {
    X509Name::from_der(der).ok().map(|(_, n)| n.to_string())
}

impl CertFacts {
    fn unparsed(index: usize, der: &[u8], why: String) -> Self {
        CertFacts {
            index,
            parsed: false,
            parse_error: Some(why),
            der_len: der.len(),
            sha256: sha256_hex(der),
            spki_pin: None,
            subject: None,
            issuer: None,
            subject_cn: vec![],
            subject_o: vec![],
            issuer_cn: vec![],
            issuer_o: vec![],
            serial: None,
            not_before: None,
            not_after: None,
            key: None,
            signature_algorithm: None,
            sans: vec![],
            is_ca: false,
            self_signed: false,
            sct_list_present: false,
            sct_count: 0,
            validity: None,
            issuer_attrs: NameAttrs::default(),
            subject_attrs: NameAttrs::default(),
        }
    }

    /// Reads the facts of one certificate. Never fails: bytes that are not a certificate give
    /// `parsed: false`.
    pub fn from_der(index: usize, der: &[u8]) -> Self {
        if der.len() > MAX_CERT_LEN {
            return Self::unparsed(
                index,
                der,
                format!("certificate larger than {MAX_CERT_LEN} bytes"),
            );
        }
        let cert = match X509Certificate::from_der(der) {
            Ok((rest, _)) if !rest.is_empty() => {
                return Self::unparsed(
                    index,
                    der,
                    format!("{} trailing bytes after the certificate", rest.len()),
                );
            }
            Ok((_, cert)) => cert,
            Err(e) => {
                return Self::unparsed(index, der, format!("not a DER X.509 certificate: {e}"));
            }
        };
        let fmt = |t: OffsetDateTime| t.format(&Rfc3339).ok();
        let nb = cert.validity().not_before.to_datetime();
        let na = cert.validity().not_after.to_datetime();
        let (sct_list_present, sct_count) = sct_info(&cert);
        let reg = oid_registry();
        let sig_oid = &cert.signature_algorithm.algorithm;
        CertFacts {
            index,
            parsed: true,
            parse_error: None,
            der_len: der.len(),
            sha256: sha256_hex(der),
            spki_pin: Some(pin_of_spki(cert.public_key().raw)),
            subject: Some(cert.subject().to_string()),
            issuer: Some(cert.issuer().to_string()),
            subject_cn: attrs(cert.subject(), true),
            subject_o: attrs(cert.subject(), false),
            issuer_cn: attrs(cert.issuer(), true),
            issuer_o: attrs(cert.issuer(), false),
            serial: Some(cert.raw_serial_as_string()),
            not_before: fmt(nb),
            not_after: fmt(na),
            key: Some(key_facts(&cert)),
            signature_algorithm: Some(
                oid2sn(sig_oid, reg)
                    .map(str::to_owned)
                    .unwrap_or_else(|_| sig_oid.to_id_string()),
            ),
            sans: sans(&cert),
            is_ca: cert.is_ca(),
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            sct_list_present,
            sct_count,
            validity: Some((nb, na)),
            issuer_attrs: NameAttrs::read(cert.issuer()),
            subject_attrs: NameAttrs::read(cert.subject()),
        }
    }

    /// A short label for messages: the first subject CN, else the subject, else the index.
    pub fn label(&self) -> String {
        self.subject_cn
            .first()
            .cloned()
            .or_else(|| self.subject.clone())
            .unwrap_or_else(|| format!("certificate #{}", self.index))
    }

    /// The issuer for messages.
    pub fn issuer_label(&self) -> String {
        self.issuer_cn
            .first()
            .cloned()
            .or_else(|| self.issuer.clone())
            .unwrap_or_else(|| "unknown issuer".into())
    }
}

fn key_facts(cert: &X509Certificate<'_>) -> KeyFacts {
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    let (algorithm, curve) = match alg.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => ("RSA".to_owned(), None),
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| match o.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_owned(),
                    "1.3.132.0.34" => "P-384".to_owned(),
                    "1.3.132.0.35" => "P-521".to_owned(),
                    other => other.to_owned(),
                });
            ("EC".to_owned(), curve)
        }
        "1.3.101.112" => ("Ed25519".to_owned(), None),
        "1.3.101.113" => ("Ed448".to_owned(), None),
        "1.2.840.10040.4.1" => ("DSA".to_owned(), None),
        _ => (alg.clone(), None),
    };
    let bits = match spki.parsed() {
        Ok(PublicKey::RSA(k)) => u32::try_from(k.key_size()).ok(),
        Ok(PublicKey::EC(k)) => u32::try_from(k.key_size()).ok(),
        Ok(PublicKey::DSA(k)) => u32::try_from(k.len() * 8).ok(),
        _ if algorithm == "Ed25519" => Some(256),
        _ if algorithm == "Ed448" => Some(456),
        _ => None,
    };
    KeyFacts {
        algorithm,
        bits,
        curve,
    }
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return vec![];
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|g| match g {
            GeneralName::DNSName(s) => Some(format!("DNS:{s}")),
            GeneralName::RFC822Name(s) => Some(format!("email:{s}")),
            GeneralName::URI(s) => Some(format!("URI:{s}")),
            GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b)
                    .ok()
                    .map(|a| format!("IP:{}", std::net::Ipv4Addr::from(a))),
                16 => <[u8; 16]>::try_from(*b)
                    .ok()
                    .map(|a| format!("IP:{}", std::net::Ipv6Addr::from(a))),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Presence and count of the embedded SCT list. Counted from the raw TLS encoding so a list that
/// x509-parser declines (unknown SCT version) still counts.
fn sct_info(cert: &X509Certificate<'_>) -> (bool, u32) {
    let Some(ext) = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == SCT_LIST_OID)
    else {
        return (false, 0);
    };
    (true, count_scts(ext.value).unwrap_or(0))
}

/// `value` is the extnValue contents: a DER OCTET STRING holding the TLS SignedCertificateTimestampList
/// (a u16 length, then u16-length-prefixed SCTs).
fn count_scts(value: &[u8]) -> Option<u32> {
    let (&tag, rest) = value.split_first()?;
    if tag != 0x04 {
        return None;
    }
    let (&l0, rest) = rest.split_first()?;
    let body = if l0 < 0x80 {
        rest.get(..usize::from(l0))?
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 2 {
            return None;
        }
        let len = rest
            .get(..n)?
            .iter()
            .fold(0usize, |a, &b| a << 8 | usize::from(b));
        rest.get(n..n + len)?
    };
    let list_len = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
    let mut list = body.get(2..2 + list_len)?;
    let mut n = 0u32;
    while list.len() >= 2 {
        let l = usize::from(u16::from_be_bytes([list[0], list[1]]));
        list = list.get(2 + l..)?;
        n += 1;
    }
    // A stray byte after the last SCT means the list is malformed.
    list.is_empty().then_some(n)
}

/// One certificate of a PEM bundle with its pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PemPin {
    /// Position in the bundle.
    pub index: usize,
    /// Subject, if the certificate parsed.
    pub subject: Option<String>,
    /// SHA-256 of the DER (hex).
    pub sha256: String,
    /// `sha256//BASE64` of the SPKI; None when the certificate did not parse.
    pub pin: Option<String>,
}

/// Lists the pins of every certificate in a PEM bundle or chain (other PEM blocks are skipped).
pub fn pins_from_pem(pem: &[u8]) -> Result<Vec<PemPin>, PinError> {
    let ders = certs_from_pem(pem)?;
    Ok(ders
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let f = CertFacts::from_der(i, der);
            PemPin {
                index: i,
                subject: f.subject,
                sha256: f.sha256,
                pin: f.spki_pin,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sct_counting_is_bounded_and_total() {
        assert_eq!(
            count_scts(&[0x04, 0x06, 0x00, 0x04, 0x00, 0x01, 0xaa, 0x00]),
            None
        );
        assert_eq!(
            count_scts(&[0x04, 0x07, 0x00, 0x05, 0x00, 0x01, 0xaa, 0x00, 0x00]),
            Some(2)
        );
        assert_eq!(count_scts(&[]), None);
        assert_eq!(count_scts(&[0x04, 0x85, 1, 1, 1, 1, 1]), None);
    }

    #[test]
    fn garbage_is_unparsed() {
        let f = CertFacts::from_der(3, b"\x30\x03\x02\x01\x01");
        assert!(!f.parsed);
        assert_eq!(f.index, 3);
        assert!(f.parse_error.is_some());
    }
}
