//! Certificates: the lab's "public" CA and origin leaves, and the inspection CA that mints
//! leaves on the fly for whatever name a client asks for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate authority: its certificate (DER and PEM) and the issuer that signs with it.
pub struct Ca {
    /// The CA certificate, DER.
    pub der: CertificateDer<'static>,
    /// The CA certificate, PEM.
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

impl Ca {
    /// A self-signed root with this common name and organisation.
    pub fn new(common_name: &str, organisation: &str) -> anyhow::Result<Ca> {
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name.push(DnType::CommonName, common_name);
        p.distinguished_name
            .push(DnType::OrganizationName, organisation);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = p.self_signed(&key)?;
        Ok(Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(p, key),
        })
    }

    /// A long-lived leaf for `names` as PEM text: (chain, leaf then CA; PKCS#8 key), for
    /// servers configured from PEM (the witness).
    pub fn leaf_pem(&self, names: &[String]) -> anyhow::Result<(String, String)> {
        let p = leaf_params(names)?;
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &self.issuer)?;
        Ok((format!("{}{}", cert.pem(), self.pem), key.serialize_pem()))
    }

    /// A leaf for `names` (DNS names or IP addresses), signed by this CA; the chain sent is
    /// leaf then CA, as servers usually send it. A `minted` leaf is fresh and short-lived, as
    /// inspection products make them; otherwise it is long-lived, as an origin's.
    pub fn leaf(&self, names: &[String], minted: bool) -> anyhow::Result<Arc<CertifiedKey>> {
        let mut p = leaf_params(names)?;
        if minted {
            // As inspection products do: valid from a moment ago, for a few days.
            let now = time::OffsetDateTime::now_utc();
            p.not_before = now - time::Duration::minutes(1);
            p.not_after = now + time::Duration::days(7);
        }
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &self.issuer)?;
        let provider = interloper_probe::classic_provider();
        let signing = provider
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(key.serialize_der().into()))
            .map_err(|e| anyhow::anyhow!("loading a minted key: {e}"))?;
        Ok(Arc::new(CertifiedKey::new(
            vec![cert.der().clone(), self.der.clone()],
            signing,
        )))
    }
}

/// A server leaf's parameters: the names as SANs, the first as the subject.
fn leaf_params(names: &[String]) -> anyhow::Result<CertificateParams> {
    let mut p = CertificateParams::new(names.to_vec())?;
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().map_or("localhost", String::as_str),
    );
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(p)
}

/// Mints a leaf per server name the first time a client asks for it (as inspection products
/// do), and keeps it; at most `MAX_NAMES` names are kept.
#[derive(Debug)]
pub struct Minter {
    ca: Ca,
    cache: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

const MAX_NAMES: usize = 64;

impl Minter {
    /// A minter signing with `ca`.
    pub fn new(ca: Ca) -> Minter {
        Minter {
            ca,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl ResolvesServerCert for Minter {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // No SNI (an IP address was dialled): mint for the loopback address.
        let name = hello
            .server_name()
            .unwrap_or("127.0.0.1")
            .to_ascii_lowercase();
        let mut cache = self.cache.lock().ok()?;
        if let Some(k) = cache.get(&name) {
            return Some(k.clone());
        }
        let key = self.ca.leaf(std::slice::from_ref(&name), true).ok()?;
        if cache.len() < MAX_NAMES {
            cache.insert(name, key.clone());
        }
        Some(key)
    }
}
