//! No interception-product rule may match a public CA: a site under any CA in Mozilla's root
//! program, or under a well-known public intermediate, must never be called intercepted because
//! of a name. And every rule the data file calls confirmed matches the real name it was written
//! from.

use interloper_chain::{CertFacts, ProductDb, SeenName};
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};
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

/// A self-signed CA certificate with this name, as the chain analysis sees it: its subject and
/// issuer are both matched.
fn ca_facts(key: &KeyPair, name: DistinguishedName) -> CertFacts {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(key).expect("self-signed");
    let facts = CertFacts::from_der(0, cert.der());
    assert!(facts.is_ca);
    facts
}

const SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];

fn dn(attrs: &[(&str, &str)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for &(key, value) in attrs {
        let typ = match key {
            "CN" => DnType::CommonName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "L" => DnType::LocalityName,
            "C" => DnType::CountryName,
            "ST" => DnType::StateOrProvinceName,
            "serialNumber" => DnType::CustomDnType(SERIAL_NUMBER.to_vec()),
            other => panic!("unknown attribute {other}"),
        };
        name.push(typ, value);
    }
    name
}

fn seen_dn(seen: &SeenName) -> DistinguishedName {
    let attrs: Vec<(&str, &str)> = [
        ("CN", &seen.cn),
        ("O", &seen.o),
        ("OU", &seen.ou),
        ("L", &seen.l),
        ("serialNumber", &seen.serial_number),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    .collect();
    dn(&attrs)
}

#[test]
fn the_check_would_see_a_product_name() {
    // Guard against a test that passes because nothing ever matches.
    let key = KeyPair::generate().expect("key");
    let facts = ca_facts(&key, dn(&[("CN", "Avast Web/Mail Shield Root")]));
    assert!(!ProductDb::builtin().match_chain(&[facts]).is_empty());
}

#[test]
fn every_confirmed_rule_matches_the_name_it_was_seen_as() {
    let db = ProductDb::builtin();
    let key = KeyPair::generate().expect("key");
    let mut confirmed = 0;
    for product in db.products() {
        for rule in product.all_rules().iter().filter(|r| r.confirmed) {
            let seen = rule.seen.as_ref().expect("the loader requires `seen`");
            let matches = db.match_chain(&[ca_facts(&key, seen_dn(seen))]);
            assert!(
                matches.iter().any(|m| m.id == product.id && m.confirmed),
                "{}: {seen:?} gave {:?}",
                product.id,
                matches.iter().map(|m| &m.id).collect::<Vec<_>>()
            );
            // Only that product claims the name.
            assert!(
                matches.iter().all(|m| m.id == product.id),
                "{}: {seen:?} also named {:?}",
                product.id,
                matches.iter().map(|m| &m.id).collect::<Vec<_>>()
            );
            confirmed += 1;
        }
    }
    assert!(confirmed >= 15, "only {confirmed} confirmed rules");
}

#[test]
fn a_fortigate_is_named_by_its_serial_and_organisation_together() {
    let db = ProductDb::builtin();
    let key = KeyPair::generate().expect("key");
    let named = |attrs: &[(&str, &str)]| {
        db.match_chain(&[ca_facts(&key, dn(attrs))])
            .into_iter()
            .map(|m| (m.id, m.confirmed))
            .collect::<Vec<_>>()
    };
    let real = [
        ("C", "US"),
        ("ST", "California"),
        ("L", "Sunnyvale"),
        ("O", "Fortinet"),
        ("OU", "Certificate Authority"),
        ("CN", "FG6H0FTB22903890"),
    ];
    assert_eq!(named(&real), vec![("fortinet".to_owned(), true)]);
    // A serial-shaped CN alone names nothing.
    assert!(named(&[("CN", "FG6H0FTB22903890"), ("O", "Example Corp")]).is_empty());
}

#[test]
fn cloudflare_gateway_is_told_from_cloudflares_public_cas_by_its_ou() {
    let db = ProductDb::builtin();
    let key = KeyPair::generate().expect("key");
    let gateway = dn(&[
        ("C", "US"),
        ("ST", "California"),
        ("L", "San Francisco"),
        ("O", "Cloudflare, Inc."),
        ("OU", "Gateway Intermediate ECC Certificate Authority"),
    ]);
    let m = db.match_chain(&[ca_facts(&key, gateway)]);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].id, "cloudflare-gateway");
    assert!(m[0].describe().contains("OU \"Gateway Intermediate ECC"));
    let public = dn(&[
        ("C", "US"),
        ("O", "Cloudflare, Inc."),
        ("CN", "Cloudflare Inc ECC CA-3"),
    ]);
    assert!(db.match_chain(&[ca_facts(&key, public)]).is_empty());
}

/// Public intermediates a site commonly chains to (names as the CAs publish them): no
/// product may claim them.
const PUBLIC_INTERMEDIATES: &[&[(&str, &str)]] = &[
    &[("C", "US"), ("O", "Let's Encrypt"), ("CN", "R10")],
    &[("C", "US"), ("O", "Let's Encrypt"), ("CN", "R11")],
    &[("C", "US"), ("O", "Let's Encrypt"), ("CN", "E5")],
    &[("C", "US"), ("O", "Let's Encrypt"), ("CN", "E6")],
    &[
        ("C", "US"),
        ("O", "Cloudflare, Inc."),
        ("CN", "Cloudflare Inc ECC CA-3"),
    ],
    &[
        ("C", "US"),
        ("O", "Cloudflare, Inc."),
        ("CN", "Cloudflare TLS Issuing ECC CA 1"),
    ],
    &[("C", "US"), ("O", "Google Trust Services"), ("CN", "WR2")],
    &[("C", "US"), ("O", "Google Trust Services"), ("CN", "WE1")],
    &[("C", "US"), ("O", "Amazon"), ("CN", "Amazon RSA 2048 M02")],
    &[
        ("C", "US"),
        ("O", "DigiCert Inc"),
        ("CN", "DigiCert Global G2 TLS RSA SHA256 2020 CA1"),
    ],
    &[
        ("C", "US"),
        ("O", "DigiCert Inc"),
        ("OU", "www.digicert.com"),
        ("CN", "GeoTrust TLS RSA CA G1"),
    ],
    &[
        ("C", "US"),
        ("O", "DigiCert, Inc."),
        ("CN", "Thawte TLS RSA CA G1"),
    ],
    &[
        ("C", "GB"),
        ("ST", "Greater Manchester"),
        ("L", "Salford"),
        ("O", "Sectigo Limited"),
        ("CN", "Sectigo RSA Domain Validation Secure Server CA"),
    ],
    &[
        ("C", "AT"),
        ("O", "ZeroSSL"),
        ("CN", "ZeroSSL RSA Domain Secure Site CA"),
    ],
    &[
        ("C", "BE"),
        ("O", "GlobalSign nv-sa"),
        ("CN", "GlobalSign GCC R6 AlphaSSL CA 2023"),
    ],
    &[
        ("C", "US"),
        ("O", "Microsoft Corporation"),
        ("CN", "Microsoft Azure RSA TLS Issuing CA 04"),
    ],
    &[
        ("C", "US"),
        ("ST", "Arizona"),
        ("L", "Scottsdale"),
        ("O", "GoDaddy.com, Inc."),
        ("OU", "http://certs.godaddy.com/repository/"),
        ("CN", "Go Daddy Secure Certificate Authority - G2"),
    ],
    &[
        ("C", "US"),
        ("O", "Entrust, Inc."),
        ("OU", "See www.entrust.net/legal-terms"),
        ("CN", "Entrust Certification Authority - L1K"),
    ],
    &[
        ("C", "US"),
        ("O", "SSL Corporation"),
        ("CN", "SSL.com RSA SSL subCA"),
    ],
    &[
        ("C", "US"),
        ("O", "Internet Security Research Group"),
        ("CN", "ISRG Root X1"),
    ],
];

#[test]
fn no_product_rule_matches_a_public_intermediate() {
    let db = ProductDb::builtin();
    let key = KeyPair::generate().expect("key");
    for attrs in PUBLIC_INTERMEDIATES {
        let hits = db.match_chain(&[ca_facts(&key, dn(attrs))]);
        assert!(hits.is_empty(), "{attrs:?} named {:?}", hits[0].id);
    }
}

#[test]
fn no_product_rule_matches_a_mozilla_root() {
    let db = ProductDb::builtin();
    let key = KeyPair::generate().expect("key");
    let mut checked = 0;
    let mut named = 0;
    let mut hits = Vec::new();
    for anchor in webpki_roots::TLS_SERVER_ROOTS {
        let der = name_der(anchor.subject.as_ref());
        let (_, name) = X509Name::from_der(&der).expect("a root's subject parses");
        // Every attribute of the root's name (CN, O, OU, L, serialNumber, …), so rules on any
        // of them are tried.
        let mut copy = DistinguishedName::new();
        for attr in name.iter_attributes() {
            let Ok(value) = attr.as_str() else { continue };
            let oid: Vec<u64> = attr
                .attr_type()
                .iter()
                .map(|arcs| arcs.collect())
                .unwrap_or_default();
            copy.push(DnType::CustomDnType(oid), value);
        }
        let facts = ca_facts(&key, copy);
        if !facts.subject_cn.is_empty() || !facts.subject_o.is_empty() {
            named += 1;
        }
        for m in db.match_chain(&[facts]) {
            hits.push(format!("{name} matched {} by {:?}", m.id, m.pattern));
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} roots read");
    assert!(named > 100, "only {named} roots' names were copied");
    assert!(
        hits.is_empty(),
        "public roots named as products:\n{}",
        hits.join("\n")
    );
}
