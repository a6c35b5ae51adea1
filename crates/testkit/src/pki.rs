//! A throwaway CA and a server leaf it issued, written as PEM files.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// A CA (subject `CN=ca_cn, O=ca_org`) and a server leaf signed by it, on disk.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// Directory holding the files below.
    pub dir: PathBuf,
    /// CA certificate (PEM).
    pub ca_cert_pem: PathBuf,
    /// CA private key (PKCS#8 PEM).
    pub ca_key_pem: PathBuf,
    /// CA certificate (DER), for building trust stores in tests.
    pub ca_der: Vec<u8>,
    /// Leaf certificate followed by the CA certificate (PEM), as servers send it.
    pub leaf_cert_pem: PathBuf,
    /// Leaf private key (PKCS#8 PEM).
    pub leaf_key_pem: PathBuf,
}

impl TestPki {
    /// Generates the CA and a leaf for `names` plus `localhost`, `127.0.0.1` and `::1`, and
    /// writes `ca.pem`, `ca.key`, `leaf.pem` and `leaf.key` into `dir` (created if missing).
    ///
    /// Validity looks like the real thing: the CA for ten years, the leaf for 90 days, both
    /// starting a day ago so clock skew between processes does not matter.
    pub fn generate(dir: &Path, ca_cn: &str, ca_org: &str, names: &[&str]) -> anyhow::Result<Self> {
        crate::mkdir(dir)?;
        let now = OffsetDateTime::now_utc();
        let yesterday = now - Duration::days(1);

        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name.push(DnType::CommonName, ca_cn);
        ca.distinguished_name.push(DnType::OrganizationName, ca_org);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.not_before = yesterday;
        ca.not_after = now + Duration::days(3650);
        let ca_key = KeyPair::generate().context("generating the CA key")?;
        let ca_cert = ca.self_signed(&ca_key).context("self-signing the CA")?;
        let issuer = Issuer::new(ca, &ca_key);

        let mut sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        for extra in ["localhost", "127.0.0.1", "::1"] {
            if !sans.iter().any(|s| s == extra) {
                sans.push(extra.to_string());
            }
        }
        let mut leaf =
            CertificateParams::new(sans.clone()).with_context(|| format!("leaf names {sans:?}"))?;
        leaf.distinguished_name
            .push(DnType::CommonName, sans[0].as_str());
        // basicConstraints CA:FALSE as real CAs encode it: an empty SEQUENCE. rcgen's
        // `IsCa::ExplicitNoCa` writes the DEFAULT `cA FALSE` explicitly, which is not DER and
        // which Python's `cryptography` (hence mitmproxy) refuses to parse.
        leaf.is_ca = IsCa::NoCa;
        let mut no_ca = CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
        no_ca.set_criticality(true);
        leaf.custom_extensions.push(no_ca);
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = yesterday;
        leaf.not_after = now + Duration::days(90);
        let leaf_key = KeyPair::generate().context("generating the leaf key")?;
        let leaf_cert = leaf
            .signed_by(&leaf_key, &issuer)
            .context("signing the leaf")?;

        let pki = TestPki {
            dir: dir.to_path_buf(),
            ca_cert_pem: dir.join("ca.pem"),
            ca_key_pem: dir.join("ca.key"),
            ca_der: ca_cert.der().to_vec(),
            leaf_cert_pem: dir.join("leaf.pem"),
            leaf_key_pem: dir.join("leaf.key"),
        };
        write(&pki.ca_cert_pem, &ca_cert.pem())?;
        write(&pki.ca_key_pem, &ca_key.serialize_pem())?;
        write(
            &pki.leaf_cert_pem,
            &format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
        )?;
        write(&pki.leaf_key_pem, &leaf_key.serialize_pem())?;
        Ok(pki)
    }

    /// The chain a server using this PKI presents (leaf, then CA), DER: what a client that
    /// reached the server without interception was shown.
    pub fn served_chain_der(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject as _;
        CertificateDer::pem_file_iter(&self.leaf_cert_pem)
            .with_context(|| format!("reading {}", self.leaf_cert_pem.display()))?
            .map(|cert| Ok(cert?.as_ref().to_vec()))
            .collect::<Result<_, rustls_pki_types::pem::Error>>()
            .with_context(|| format!("parsing {}", self.leaf_cert_pem.display()))
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
