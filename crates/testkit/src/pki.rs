//! A throwaway CA and a server leaf it issued, written as PEM files.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

const ONE_DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

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
        TestPki::generate_issued_ago(dir, ca_cn, ca_org, names, ONE_DAY)
    }

    /// [`TestPki::generate`] with a leaf issued `leaf_age` ago (and valid 90 days from then):
    /// a site whose certificate is not new, so that a leaf a middlebox copies the dates of
    /// does not look freshly minted.
    pub fn generate_issued_ago(
        dir: &Path,
        ca_cn: &str,
        ca_org: &str,
        names: &[&str],
        leaf_age: std::time::Duration,
    ) -> anyhow::Result<Self> {
        let leaf_age = Duration::try_from(leaf_age).context("leaf age")?;
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

        let mut leaf = leaf_params(names, now)?;
        leaf.not_before = now - leaf_age;
        leaf.not_after = leaf.not_before + Duration::days(90);
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

/// A root, an intermediate it signed, and a leaf the intermediate signed that names the
/// intermediate's download address (AIA caIssuers) as publicly issued leaves do: the setting of
/// an incomplete chain (IL113, IL621).
#[derive(Debug, Clone)]
pub struct TieredPki {
    /// The root as `ca_cert_pem` / `ca_der`, and the full chain (leaf, then intermediate) as
    /// `leaf_cert_pem`: what a correctly configured server sends.
    pub full: TestPki,
    /// The leaf alone (PEM), as `cert.pem` instead of `fullchain.pem` in `ssl_certificate`.
    pub leaf_only_pem: PathBuf,
    /// The intermediate's common name (the missing issuer when only the leaf is sent).
    pub intermediate_cn: String,
    /// The caIssuers URL the leaf names (never served: nothing fetches it).
    pub ca_issuers_url: String,
}

impl TieredPki {
    /// Generates the three certificates into `dir`: `ca.pem` / `ca.key` (root),
    /// `intermediate.pem`, `leaf.pem` (leaf and intermediate), `leaf-only.pem`, `leaf.key`.
    pub fn generate(dir: &Path, root_cn: &str, names: &[&str]) -> anyhow::Result<TieredPki> {
        crate::mkdir(dir)?;
        let now = OffsetDateTime::now_utc();
        let root_key = KeyPair::generate().context("generating the root key")?;
        let root_params = ca_params(root_cn, now)?;
        let root = root_params
            .self_signed(&root_key)
            .context("self-signing the root")?;
        let root_issuer = Issuer::new(root_params, &root_key);

        let intermediate_cn = format!("{root_cn} Issuing CA 1");
        let mid_key = KeyPair::generate().context("generating the intermediate key")?;
        let mut mid_params = ca_params(&intermediate_cn, now)?;
        mid_params.use_authority_key_identifier_extension = true;
        let mid = mid_params
            .signed_by(&mid_key, &root_issuer)
            .context("signing the intermediate")?;
        let mid_issuer = Issuer::new(mid_params, &mid_key);

        // Port 9 (discard) on loopback: a real-looking address that nothing serves.
        let ca_issuers_url = "http://127.0.0.1:9/issuing-ca-1.crt".to_string();
        let mut leaf = leaf_params(names, now)?;
        leaf.custom_extensions
            .push(ca_issuers_extension(&ca_issuers_url));
        let leaf_key = KeyPair::generate().context("generating the leaf key")?;
        let leaf_cert = leaf
            .signed_by(&leaf_key, &mid_issuer)
            .context("signing the leaf")?;

        let full = TestPki {
            dir: dir.to_path_buf(),
            ca_cert_pem: dir.join("ca.pem"),
            ca_key_pem: dir.join("ca.key"),
            ca_der: root.der().to_vec(),
            leaf_cert_pem: dir.join("leaf.pem"),
            leaf_key_pem: dir.join("leaf.key"),
        };
        let leaf_only_pem = dir.join("leaf-only.pem");
        write(&full.ca_cert_pem, &root.pem())?;
        write(&full.ca_key_pem, &root_key.serialize_pem())?;
        write(&dir.join("intermediate.pem"), &mid.pem())?;
        write(
            &full.leaf_cert_pem,
            &format!("{}{}", leaf_cert.pem(), mid.pem()),
        )?;
        write(&leaf_only_pem, &leaf_cert.pem())?;
        write(&full.leaf_key_pem, &leaf_key.serialize_pem())?;
        Ok(TieredPki {
            full,
            leaf_only_pem,
            intermediate_cn,
            ca_issuers_url,
        })
    }

    /// The same PKI with the leaf alone as the served file: an incomplete chain.
    pub fn leaf_only(&self) -> TestPki {
        TestPki {
            leaf_cert_pem: self.leaf_only_pem.clone(),
            ..self.full.clone()
        }
    }
}

/// A CA's parameters (`CN=cn`), valid from a day ago for ten years.
fn ca_params(cn: &str, now: OffsetDateTime) -> anyhow::Result<CertificateParams> {
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(DnType::CommonName, cn);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = now - Duration::days(1);
    ca.not_after = now + Duration::days(3650);
    Ok(ca)
}

/// A server leaf's parameters for `names` plus `localhost`, `127.0.0.1` and `::1`, valid from
/// a day ago for 90 days.
fn leaf_params(names: &[&str], now: OffsetDateTime) -> anyhow::Result<CertificateParams> {
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
    leaf.not_before = now - Duration::days(1);
    leaf.not_after = now + Duration::days(90);
    Ok(leaf)
}

/// Authority Information Access with one caIssuers URI (RFC 5280 4.2.2.1):
/// SEQUENCE { SEQUENCE { OID 1.3.6.1.5.5.7.48.2, [6] IA5String } }. Short URLs only (one-byte
/// DER lengths), which is all the tests use.
fn ca_issuers_extension(url: &str) -> CustomExtension {
    let mut desc = vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    desc.push(0x86);
    desc.push(url.len() as u8);
    desc.extend(url.as_bytes());
    let mut access = vec![0x30, desc.len() as u8];
    access.extend(desc);
    let mut aia = vec![0x30, access.len() as u8];
    aia.extend(access);
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], aia)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
