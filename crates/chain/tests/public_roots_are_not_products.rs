//! No interception-product pattern may match a public root: a site under any CA in Mozilla's
//! root program must never be called intercepted because of a name.

use interloper_chain::{CertFacts, ProductDb};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

/// The DER of a whole Name from a trust anchor's subject (its contents, without the SEQUENCE).
fn name_der(contents: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let n = contents.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(contents);
    out
}

/// A self-signed CA certificate with these names, as the chain analysis sees it.
fn ca_facts(key: &KeyPair, cn: &[String], o: &[String]) -> CertFacts {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    for v in cn {
        params
            .distinguished_name
            .push(DnType::CommonName, v.as_str());
    }
    for v in o {
        params
            .distinguished_name
            .push(DnType::OrganizationName, v.as_str());
    }
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(key).expect("self-signed");
    CertFacts::from_der(0, cert.der())
}

#[test]
fn the_check_would_see_a_product_name() {
    // Guard against a test that passes because nothing ever matches.
    let key = KeyPair::generate().expect("key");
    let facts = ca_facts(&key, &["Avast Web/Mail Shield Root".into()], &[]);
    assert!(!ProductDb::builtin().match_chain(&[facts]).is_empty());
}

#[test]
fn no_product_pattern_matches_a_mozilla_root() {
    let db = ProductDb::builtin();
    let key = KeyPair::generate().expect("key");
    let mut checked = 0;
    let mut hits = Vec::new();
    for anchor in webpki_roots::TLS_SERVER_ROOTS {
        let der = name_der(anchor.subject.as_ref());
        let (_, name) = X509Name::from_der(&der).expect("a root's subject parses");
        let cn: Vec<String> = name
            .iter_common_name()
            .filter_map(|a| a.as_str().ok().map(str::to_string))
            .collect();
        let o: Vec<String> = name
            .iter_organization()
            .filter_map(|a| a.as_str().ok().map(str::to_string))
            .collect();
        // A self-signed CA with the root's names: its subject and issuer are both matched.
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        for v in &cn {
            params
                .distinguished_name
                .push(DnType::CommonName, v.as_str());
        }
        for v in &o {
            params
                .distinguished_name
                .push(DnType::OrganizationName, v.as_str());
        }
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("self-signed");
        let facts = CertFacts::from_der(0, cert.der());
        assert!(facts.is_ca, "{cn:?}");
        for m in db.match_chain(&[facts]) {
            hits.push(format!("{cn:?} {o:?} matched {} by {:?}", m.id, m.pattern));
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} roots read");
    assert!(
        hits.is_empty(),
        "public roots named as products:\n{}",
        hits.join("\n")
    );
}
