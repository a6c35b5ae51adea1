//! `--web.config.file`: the Prometheus exporter-toolkit's web configuration, as every
//! Prometheus-world exporter reads it — TLS (certificate, key, optional client CA) and
//! basic-auth users with bcrypt hashes. Unknown keys are refused with their name.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: /etc/interloper/tls/cert.pem
//!   key_file: /etc/interloper/tls/key.pem
//!   client_ca_file: /etc/interloper/tls/clients.pem     # optional
//!   client_auth_type: RequireAndVerifyClientCert          # or VerifyClientCertIfGiven
//! basic_auth_users:
//!   prometheus: $2y$10$…                                  # htpasswd -nBC 10 "" | tr -d ':\n'
//! ```

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Credentials remembered after bcrypt accepted them, so a scrape every few seconds does not
/// pay bcrypt's deliberate cost each time (exporter-toolkit caches the same way).
const MAX_REMEMBERED: usize = 64;

/// The file, as exporter-toolkit writes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Serve HTTPS with this certificate and key.
    #[serde(default)]
    pub tls_server_config: Option<TlsServerConfig>,
    /// User name → bcrypt hash; none: no authentication.
    #[serde(default)]
    pub basic_auth_users: BTreeMap<String, String>,
}

/// `tls_server_config`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerConfig {
    /// Certificate chain (PEM, leaf first).
    pub cert_file: PathBuf,
    /// Its private key (PEM).
    pub key_file: PathBuf,
    /// CA certificates client certificates are verified against (PEM).
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// `NoClientCert` (default), `VerifyClientCertIfGiven` or `RequireAndVerifyClientCert`
    /// (the default when `client_ca_file` is given).
    #[serde(default)]
    pub client_auth_type: Option<String>,
    /// `TLS12` (default) or `TLS13`.
    #[serde(default)]
    pub min_version: Option<String>,
}

/// The web configuration made ready to serve: the TLS acceptor and the users.
pub struct WebGuard {
    /// None: plain HTTP.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    users: BTreeMap<String, String>,
    remembered: Mutex<HashSet<[u8; 32]>>,
}

impl std::fmt::Debug for WebGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebGuard")
            .field("tls", &self.tls.is_some())
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Whether a request may be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// No users configured, or good credentials.
    Allowed,
    /// Missing or wrong credentials: 401 with `WWW-Authenticate: Basic`.
    Refused,
}

impl WebConfig {
    /// Reads and validates the file: the YAML, every bcrypt hash, the TLS files.
    pub fn load(path: &Path) -> Result<WebGuard, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let config: WebConfig =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        config
            .ready()
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The guard for this configuration.
    pub fn ready(self) -> Result<WebGuard, String> {
        for (user, hash) in &self.basic_auth_users {
            if user.contains(':') {
                return Err(format!("basic_auth_users: {user:?} holds a ':'"));
            }
            check_hash(user, hash)?;
        }
        let tls = match &self.tls_server_config {
            None => None,
            Some(t) => Some(tokio_rustls::TlsAcceptor::from(t.server_config()?)),
        };
        Ok(WebGuard {
            tls,
            users: self.basic_auth_users,
            remembered: Mutex::new(HashSet::new()),
        })
    }
}

/// A bcrypt hash checked for shape without a password (bcrypt's own parser), so a typo is
/// refused at start rather than locking every scrape out.
fn check_hash(user: &str, hash: &str) -> Result<(), String> {
    hash.parse::<bcrypt::HashParts>()
        .map(|_| ())
        .map_err(|e| format!("basic_auth_users: {user}: not a bcrypt hash: {e}"))
}

impl TlsServerConfig {
    fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
        let chain = CertificateDer::pem_slice_iter(&read(&self.cert_file)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("cert_file: {e}"))?;
        if chain.is_empty() {
            return Err("cert_file: no CERTIFICATE block".into());
        }
        let key = PrivateKeyDer::from_pem_slice(&read(&self.key_file)?)
            .map_err(|e| format!("key_file: {e}"))?;
        let provider = Arc::new(interloper_probe::classic_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = match self.min_version.as_deref() {
            None | Some("TLS12") => &[&rustls::version::TLS13, &rustls::version::TLS12],
            Some("TLS13") => &[&rustls::version::TLS13],
            Some(other) => return Err(format!("min_version {other:?}: use TLS12 or TLS13")),
        };
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .map_err(|e| e.to_string())?;
        let auth = self
            .client_auth_type
            .as_deref()
            .unwrap_or(match self.client_ca_file {
                Some(_) => "RequireAndVerifyClientCert",
                None => "NoClientCert",
            });
        let builder = match (auth, &self.client_ca_file) {
            ("NoClientCert", _) => builder.with_no_client_auth(),
            ("RequireAndVerifyClientCert" | "VerifyClientCertIfGiven", Some(ca)) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&read(ca)?) {
                    roots
                        .add(cert.map_err(|e| format!("client_ca_file: {e}"))?)
                        .map_err(|e| format!("client_ca_file: {e}"))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                );
                let verifier = if auth == "VerifyClientCertIfGiven" {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                builder.with_client_cert_verifier(verifier.build().map_err(|e| e.to_string())?)
            }
            ("RequireAndVerifyClientCert" | "VerifyClientCertIfGiven", None) => {
                return Err(format!("client_auth_type {auth} needs client_ca_file"));
            }
            (other, _) => {
                return Err(format!(
                    "client_auth_type {other:?}: use NoClientCert, VerifyClientCertIfGiven or \
                     RequireAndVerifyClientCert"
                ));
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| format!("cert_file and key_file: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl WebGuard {
    /// Plain HTTP, no users: what runs without `--web.config.file`.
    pub fn open() -> WebGuard {
        WebGuard {
            tls: None,
            users: BTreeMap::new(),
            remembered: Mutex::new(HashSet::new()),
        }
    }

    /// Checks a request's `Authorization` header against the users (bcrypt off the async
    /// threads, good credentials remembered).
    pub async fn admit(&self, authorization: Option<&http::HeaderValue>) -> Admission {
        if self.users.is_empty() {
            return Admission::Allowed;
        }
        let Some((user, password)) = authorization.and_then(basic_credentials) else {
            return Admission::Refused;
        };
        let Some(hash) = self.users.get(&user).cloned() else {
            return Admission::Refused;
        };
        let key: [u8; 32] = Sha256::digest(format!("{user}:{password}:{hash}")).into();
        if self
            .remembered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
            return Admission::Allowed;
        }
        let verified =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        if !verified {
            return Admission::Refused;
        }
        let mut remembered = self.remembered.lock().unwrap_or_else(|p| p.into_inner());
        if remembered.len() >= MAX_REMEMBERED {
            remembered.clear();
        }
        remembered.insert(key);
        Admission::Allowed
    }
}

/// `Basic BASE64(user:password)` → the pair.
fn basic_credentials(value: &http::HeaderValue) -> Option<(String, String)> {
    let encoded = value.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> http::HeaderValue {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}").parse().unwrap()
    }

    #[tokio::test]
    async fn users_need_their_bcrypt_password() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let guard = serde_yaml::from_str::<WebConfig>(&format!(
            "basic_auth_users:\n  prometheus: {hash}\n"
        ))
        .unwrap()
        .ready()
        .unwrap();
        assert_eq!(guard.admit(None).await, Admission::Refused);
        let good = basic("prometheus", "s3cret");
        assert_eq!(guard.admit(Some(&good)).await, Admission::Allowed);
        // Remembered: the same answer without bcrypt.
        assert_eq!(guard.admit(Some(&good)).await, Admission::Allowed);
        let wrong = basic("prometheus", "s3cretx");
        assert_eq!(guard.admit(Some(&wrong)).await, Admission::Refused);
        let stranger = basic("mallory", "s3cret");
        assert_eq!(guard.admit(Some(&stranger)).await, Admission::Refused);
        let garbage: http::HeaderValue = "Basic !!!".parse().unwrap();
        assert_eq!(guard.admit(Some(&garbage)).await, Admission::Refused);
        assert_eq!(WebGuard::open().admit(None).await, Admission::Allowed);
    }

    #[test]
    fn bad_files_are_refused_by_name() {
        let err = serde_yaml::from_str::<WebConfig>("basic_auth_user: {}\n").unwrap_err();
        assert!(err.to_string().contains("basic_auth_user"), "{err}");
        let err = serde_yaml::from_str::<WebConfig>("basic_auth_users:\n  a: plain\n")
            .unwrap()
            .ready()
            .unwrap_err();
        assert!(err.contains("bcrypt"), "{err}");
        let err = serde_yaml::from_str::<WebConfig>(
            "tls_server_config:\n  cert_file: /nonexistent/c.pem\n  key_file: /nonexistent/k.pem\n",
        )
        .unwrap()
        .ready()
        .unwrap_err();
        assert!(err.contains("/nonexistent/c.pem"), "{err}");
    }
}
