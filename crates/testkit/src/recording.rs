//! A rustls client configuration for tests that compare both ends of a TLS connection: it
//! accepts any certificate chain but records it, and records the client_random it sent, so a
//! test can hold them against what a server (the witness, a passthrough) says it saw.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// What a client sent and was shown on its connection.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The client_random rustls sent (from its key log).
    pub client_random: Option<Vec<u8>>,
    /// The chain the server presented, DER, leaf first.
    pub chain: Vec<Vec<u8>>,
}

/// Where a [`recording_client_config`] writes what its connection sent and saw; one per
/// configuration, so one configuration per connection.
#[derive(Debug, Clone, Default)]
pub struct Recording(Arc<Mutex<Seen>>);

impl Recording {
    /// What was recorded so far.
    pub fn seen(&self) -> Seen {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The TLS offer of the test clients and servers here: aws-lc-rs (the binary's one crypto
/// library) with the classic groups only, as when they ran on ring: a post-quantum hello to a
/// test server settles on its X25519 share.
pub fn classic_provider() -> CryptoProvider {
    use rustls::crypto::aws_lc_rs::{self, kx_group};
    CryptoProvider {
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        ..aws_lc_rs::default_provider()
    }
}

/// A client configuration ([`classic_provider`], safe default versions, no ALPN) that accepts any chain while
/// checking handshake signatures, and records the chain and the client_random in the returned
/// [`Recording`]. Callers set ALPN, fragment size and the like on it.
pub fn recording_client_config() -> anyhow::Result<(ClientConfig, Recording)> {
    let recording = Recording::default();
    let provider = Arc::new(classic_provider());
    let mut config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier {
            recording: recording.clone(),
            provider,
        }))
        .with_no_client_auth();
    config.key_log = Arc::new(RandomLog(recording.clone()));
    Ok((config, recording))
}

/// rustls hands every secret to the key log together with the client_random of the
/// connection: an honest way to learn the random the client really sent.
#[derive(Debug)]
struct RandomLog(Recording);

impl rustls::KeyLog for RandomLog {
    fn log(&self, _label: &str, client_random: &[u8], _secret: &[u8]) {
        self.0
            .update(|seen| seen.client_random = Some(client_random.to_vec()));
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

/// Accepts any chain but records it: the tests compare it with what the server says it served,
/// which is exactly the check a witness's client makes.
#[derive(Debug)]
struct RecordingVerifier {
    recording: Recording,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.recording.update(|seen| {
            seen.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect();
        });
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
