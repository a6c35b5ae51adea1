//! IL113: a chain that stops short of its root. The server (or an `ssl_certificate` file) holds
//! a certificate whose issuer it does not hold and no root set knows: desktop browsers fetch
//! the missing certificate from the address the certificate names (AIA caIssuers), curl,
//! Python, Java, Android and many middleboxes do not, so the site fails for some clients only.
//! Pure: the address is read from the certificate, never fetched.

use serde::Serialize;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::signal::{Signal, SignalKind, SignalStrength};
use crate::facts::{MAX_CERT_LEN, name_to_string};
use crate::trust::{MAX_CHAIN, Roots};

/// Most AIA addresses kept per certificate (real ones carry one or two).
const MAX_CA_ISSUERS: usize = 4;

/// Longest AIA address kept, in bytes.
const MAX_URL_LEN: usize = 512;

/// Where a chain stops: the certificate whose issuer is neither in the chain nor a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainGap {
    /// Position of that certificate in the chain (0 = leaf).
    pub certificate: usize,
    /// Its subject.
    pub subject: String,
    /// The issuer nobody sent: the certificate that is missing.
    pub missing_issuer: String,
    /// Where the certificate says its issuer can be downloaded (AIA caIssuers URLs), as
    /// written; never fetched.
    pub ca_issuers: Vec<String>,
}

impl ChainGap {
    /// Whether the certificate names where its issuer can be fetched: what publicly issued
    /// certificates do, and what lets browsers hide the gap (a certificate minted on the path
    /// names none).
    pub fn names_its_issuer(&self) -> bool {
        !self.ca_issuers.is_empty()
    }

    /// One sentence for the report: what was sent, what is missing, who fails.
    pub fn describe(&self) -> String {
        let where_from = match self.ca_issuers.first() {
            Some(url) => format!(
                "; the certificate names {url} as where to fetch it, which desktop browsers do \
                 and curl, Python, Java, Android and many middleboxes do not"
            ),
            None => String::new(),
        };
        let which = if self.certificate == 0 {
            "the leaf".to_string()
        } else {
            format!("certificate #{}", self.certificate)
        };
        format!(
            "incomplete chain: {which} ({}) is issued by {}, which the server did not send and no root set holds{where_from}",
            self.subject, self.missing_issuer
        )
    }
}

/// One certificate of the chain, reduced to what the walk needs.
struct Link {
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    subject: String,
    issuer: String,
    ca_issuers: Vec<String>,
}

impl Link {
    fn read(der: &[u8]) -> Option<Link> {
        if der.len() > MAX_CERT_LEN {
            return None;
        }
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let unreadable = || "(unreadable name)".to_string();
        Some(Link {
            subject_der: cert.subject().as_raw().to_vec(),
            issuer_der: cert.issuer().as_raw().to_vec(),
            subject: name_to_string(cert.subject().as_raw()).unwrap_or_else(unreadable),
            issuer: name_to_string(cert.issuer().as_raw()).unwrap_or_else(unreadable),
            ca_issuers: ca_issuers(&cert),
        })
    }
}

/// The AIA caIssuers URLs of a certificate, bounded.
fn ca_issuers(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for ext in cert.extensions() {
        let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() else {
            continue;
        };
        for desc in aia.iter() {
            if desc.access_method != OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS {
                continue;
            }
            if let GeneralName::URI(url) = desc.access_location
                && out.len() < MAX_CA_ISSUERS
            {
                out.push(printable_url(url));
            }
        }
    }
    out
}

/// A URL from a certificate, cut and made printable (it is shown in terminals and reports).
fn printable_url(url: &str) -> String {
    url.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(MAX_URL_LEN)
        .collect()
}

/// Walks the chain (leaf first, DER) from the leaf up by issuer name and returns where it
/// stops short: a certificate whose issuer is not in the chain, not itself (self-issued), and
/// not the subject of an anchor of any of `roots`. `None` when the walk reaches a root or a
/// self-issued certificate, or when the leaf does not parse (that is another finding).
pub fn chain_gap(chain: &[Vec<u8>], roots: &[&Roots]) -> Option<ChainGap> {
    let links: Vec<Option<Link>> = chain
        .iter()
        .take(MAX_CHAIN + 1)
        .map(|der| Link::read(der))
        .collect();
    let mut at = 0usize;
    let mut visited = vec![false; links.len()];
    loop {
        let link = links.get(at)?.as_ref()?;
        visited[at] = true;
        if link.issuer_der == link.subject_der
            || roots.iter().any(|r| r.holds_subject(&link.issuer_der))
        {
            return None;
        }
        let next = links.iter().enumerate().position(|(i, l)| {
            !visited[i] && l.as_ref().is_some_and(|l| l.subject_der == link.issuer_der)
        });
        match next {
            Some(i) => at = i,
            None => {
                return Some(ChainGap {
                    certificate: at,
                    subject: link.subject.clone(),
                    missing_issuer: link.issuer.clone(),
                    ca_issuers: link.ca_issuers.clone(),
                });
            }
        }
    }
}

/// The IL113 signal for a presented chain that did not verify: the server left out a
/// certificate that the stopping one names a download address for. Context, not a sign of
/// interception (a certificate minted on the path names no such address).
pub(super) fn incomplete_chain_signal(chain: &[Vec<u8>], roots: &[&Roots]) -> Option<Signal> {
    let gap = chain_gap(chain, roots).filter(ChainGap::names_its_issuer)?;
    Some(Signal::new(
        SignalKind::IncompleteChain,
        SignalStrength::Info,
        gap.describe(),
        Some(gap.certificate),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Ca, ca, dn, now};
    use rcgen::{
        BasicConstraints, CertificateParams, CustomExtension, IsCa, Issuer, KeyPair,
        KeyUsagePurpose,
    };

    /// AIA with one caIssuers URI: SEQUENCE { SEQUENCE { OID caIssuers, [6] URI } }.
    fn aia(url: &str) -> CustomExtension {
        let oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
        let mut desc = oid.to_vec();
        desc.push(0x86);
        desc.push(url.len() as u8);
        desc.extend(url.as_bytes());
        let mut inner = vec![0x30, desc.len() as u8];
        inner.extend(desc);
        let mut outer = vec![0x30, inner.len() as u8];
        outer.extend(inner);
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], outer)
    }

    fn intermediate(cn: &str, by: &Ca) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = dn(cn, None);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p.not_before = now() - time::Duration::days(10);
        p.not_after = now() + time::Duration::days(100);
        let key = KeyPair::generate().unwrap();
        let der = p.signed_by(&key, &by.issuer).unwrap().der().to_vec();
        Ca {
            der,
            issuer: Issuer::new(p, key),
        }
    }

    fn leaf_with(by: &Ca, aia_url: Option<&str>) -> Vec<u8> {
        let mut p = CertificateParams::new(vec!["www.example.com".to_owned()]).unwrap();
        p.distinguished_name = dn("www.example.com", None);
        if let Some(u) = aia_url {
            p.custom_extensions.push(aia(u));
        }
        let key = KeyPair::generate().unwrap();
        p.signed_by(&key, &by.issuer).unwrap().der().to_vec()
    }

    fn roots_of(cas: &[&Ca]) -> Roots {
        crate::test_support::roots(cas)
    }

    #[test]
    fn a_leaf_without_its_intermediate_is_a_gap_naming_the_missing_issuer() {
        let root = ca("Example Root", None);
        let mid = intermediate("Example Issuing CA", &root);
        let url = "http://ca.example.test/issuing.crt";
        let leaf = leaf_with(&mid, Some(url));
        let roots = roots_of(&[&root]);
        let gap = chain_gap(std::slice::from_ref(&leaf), &[&roots]).expect("a gap");
        assert_eq!(gap.certificate, 0);
        assert!(gap.missing_issuer.contains("Example Issuing CA"), "{gap:?}");
        assert_eq!(gap.ca_issuers, [url]);
        let signal = incomplete_chain_signal(&[leaf], &[&roots]).expect("signal");
        assert!(signal.message.contains("curl, Python, Java, Android"));
        assert!(signal.message.contains(url));
    }

    #[test]
    fn a_full_chain_or_a_leaf_issued_by_a_root_has_no_gap() {
        let root = ca("Example Root", None);
        let mid = intermediate("Example Issuing CA", &root);
        let leaf = leaf_with(&mid, Some("http://ca.example.test/i.crt"));
        let roots = roots_of(&[&root]);
        assert_eq!(chain_gap(&[leaf.clone(), mid.der.clone()], &[&roots]), None);
        // Out of order, as some servers send it.
        assert_eq!(chain_gap(&[leaf, mid.der.clone()], &[&roots]), None);
        let direct = leaf_with(&root, None);
        assert_eq!(chain_gap(&[direct], &[&Roots::empty(), &roots]), None);
        // The root itself as the only certificate: self-issued.
        assert_eq!(chain_gap(std::slice::from_ref(&root.der), &[]), None);
    }

    #[test]
    fn the_gap_is_found_above_a_sent_intermediate_too() {
        let root = ca("Example Root", None);
        let upper = intermediate("Upper CA", &root);
        let lower = intermediate("Lower CA", &upper);
        let leaf = leaf_with(&lower, None);
        let gap = chain_gap(&[leaf, lower.der.clone()], &[&roots_of(&[&root])]).expect("gap");
        assert_eq!(gap.certificate, 1);
        assert!(gap.missing_issuer.contains("Upper CA"));
    }

    #[test]
    fn a_minted_leaf_naming_no_issuer_address_is_no_signal() {
        // An inspection CA the machine does not trust: the gap is real, but nothing says the
        // server left a certificate out (IL113 needs the caIssuers address).
        let corp = ca("Corp Inspection CA", None);
        let leaf = leaf_with(&corp, None);
        assert!(chain_gap(std::slice::from_ref(&leaf), &[]).is_some());
        assert_eq!(incomplete_chain_signal(&[leaf], &[]), None);
    }

    #[test]
    fn garbage_and_loops_end() {
        assert_eq!(chain_gap(&[b"junk".to_vec()], &[]), None);
        assert_eq!(chain_gap(&[], &[]), None);
        let root = ca("Example Root", None);
        let mid = intermediate("Example Issuing CA", &root);
        // The same intermediate sent many times: each is visited once.
        let leaf = leaf_with(&mid, None);
        let mut chain = vec![leaf];
        chain.extend(std::iter::repeat_n(mid.der.clone(), 40));
        let gap = chain_gap(&chain, &[]).expect("gap above the intermediate");
        assert!(gap.missing_issuer.contains("Example Root"));
    }
}
