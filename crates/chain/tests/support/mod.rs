//! Certificates built with rcgen for the chain tests. Shared by the integration tests (`mod
//! support;`) and the crate's unit tests (`#[path]` from src/lib.rs), so each test builds its
//! chains the same way.
// Each test binary uses a different subset of the helpers.
#![allow(dead_code)]

use interloper_chain::Roots;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// A CA: its self-signed certificate and the key that issues under it.
pub struct Ca {
    pub der: Vec<u8>,
    pub issuer: Issuer<'static, KeyPair>,
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn dn(cn: &str, o: Option<&str>) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    if let Some(o) = o {
        d.push(DnType::OrganizationName, o);
    }
    d
}

pub fn ca(cn: &str, o: Option<&str>) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = dn(cn, o);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = now() - Duration::days(400);
    p.not_after = now() + Duration::days(3000);
    let key = KeyPair::generate().unwrap();
    let der = p.self_signed(&key).unwrap().der().to_vec();
    Ca {
        der,
        issuer: Issuer::new(p, key),
    }
}

/// A plausible embedded SCT list with `n` SCTs: OCTET STRING { u16 len, (u16 len, SCT v1)* }.
pub fn sct_ext(n: usize) -> CustomExtension {
    let mut sct = vec![0u8]; // v1
    sct.extend([0x42; 32]); // log id
    sct.extend(1_700_000_000_000u64.to_be_bytes());
    sct.extend([0, 0]); // no extensions
    sct.extend([4, 3]); // sha256 / ecdsa
    sct.extend([0, 8]);
    sct.extend([0x30, 6, 2, 1, 1, 2, 1, 1]);
    let mut list = Vec::new();
    for _ in 0..n {
        list.extend((sct.len() as u16).to_be_bytes());
        list.extend(&sct);
    }
    let mut tls = (list.len() as u16).to_be_bytes().to_vec();
    tls.extend(list);
    // Minimal DER length, as webpki insists on.
    let mut content = if tls.len() < 0x80 {
        vec![0x04, tls.len() as u8]
    } else {
        vec![0x04, 0x81, tls.len() as u8]
    };
    content.extend(tls);
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2], content)
}

/// How a leaf differs from a plain publicly issued one.
pub struct LeafOpts {
    /// Embedded SCTs (0 = no SCT list).
    pub scts: usize,
    /// How long ago it was issued.
    pub age: Duration,
    /// notAfter - notBefore.
    pub life: Duration,
    /// Ed25519 key instead of P-256.
    pub ed25519: bool,
}

impl Default for LeafOpts {
    fn default() -> Self {
        LeafOpts {
            scts: 2,
            age: Duration::days(30),
            life: Duration::days(90),
            ed25519: false,
        }
    }
}

pub fn leaf(name: &str, by: &Ca, o: LeafOpts) -> Vec<u8> {
    let key = if o.ed25519 {
        KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap()
    } else {
        KeyPair::generate().unwrap()
    };
    leaf_params(name, &o)
        .signed_by(&key, &by.issuer)
        .unwrap()
        .der()
        .to_vec()
}

/// A leaf for `name` that carries `by`'s own public key, as mitmproxy and Squid mint theirs
/// (`o.ed25519` is ignored: the key is the CA's).
pub fn leaf_with_issuer_key(name: &str, by: &Ca, o: LeafOpts) -> Vec<u8> {
    leaf_params(name, &o)
        .signed_by(by.issuer.key(), &by.issuer)
        .unwrap()
        .der()
        .to_vec()
}

fn leaf_params(name: &str, o: &LeafOpts) -> CertificateParams {
    let mut p = CertificateParams::new(vec![name.to_owned()]).unwrap();
    p.distinguished_name = dn(name, None);
    p.not_before = now() - o.age;
    p.not_after = p.not_before + o.life;
    if o.scts > 0 {
        p.custom_extensions.push(sct_ext(o.scts));
    }
    p
}

pub fn roots(cas: &[&Ca]) -> Roots {
    let (r, errs) = Roots::from_der(cas.iter().map(|c| c.der.clone()));
    assert!(errs.is_empty());
    r
}
