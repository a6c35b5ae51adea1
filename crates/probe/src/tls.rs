//! TLS set-up: trust anchors, a verifier that records the presented chain whatever the outcome,
//! and a stream wrapper that keeps the exact ClientHello we send.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use interloper_model::{HelloShape, HttpVersionPref};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::config::ProbeConfig;
use crate::error::ProbeError;

/// Certificates kept from one presented chain; a real chain has 2–4.
const MAX_CHAIN: usize = 16;
/// Bound on the recorded ClientHello (a real one is well under 2 KiB; post-quantum ~1.5 KiB).
pub(crate) const MAX_HELLO: usize = 64 * 1024;

/// What the verifier saw during one handshake.
#[derive(Debug, Default)]
pub(crate) struct VerifyRecord {
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) error: Option<String>,
    pub(crate) called: bool,
}

tokio::task_local! {
    // The verifier is shared by every connection (one ClientConfig), but it runs synchronously
    // inside the handshake future we poll, so a task-local slot ties what it sees to our
    // connection without cloning the config per connection.
    pub(crate) static VERIFY_SLOT: RefCell<VerifyRecord>;
}

/// Wraps webpki verification: records the chain and the verdict, and in insecure mode lets the
/// handshake proceed (handshake signatures are still checked).
#[derive(Debug)]
struct RecordingVerifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    insecure: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match &self.inner {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::General(
                "no trust anchors (empty OS store and no --cacert)".into(),
            )),
        };
        let _ = VERIFY_SLOT.try_with(|slot| {
            let mut slot = slot.borrow_mut();
            slot.called = true;
            slot.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .take(MAX_CHAIN)
                .map(|c| c.as_ref().to_vec())
                .collect();
            slot.error = result.as_ref().err().map(|e| e.to_string());
        });
        match result {
            Ok(v) => Ok(v),
            Err(_) if self.insecure => Ok(ServerCertVerified::assertion()),
            Err(e) => Err(e),
        }
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

/// Largest write of a [`HelloShape::Large`] hello: about a third of a post-quantum hello, so it
/// leaves as three TCP segments (with TCP_NODELAY) whatever the path's MTU.
pub(crate) const LARGE_HELLO_WRITE: usize = 512;

/// The classic TLS offer every connection of ours makes unless a post-quantum hello shape is
/// asked for, client and server alike (probe, lab, exporter): aws-lc-rs, the one crypto library
/// in the binary, offering exactly what rustls's ring provider offered — the same cipher suites,
/// the groups X25519, P-256 and P-384 (no ML-KEM) and ring's signature algorithms — so the
/// classic hello (its JA3/JA4 in `data/hello-stacks.toml`), the certificates it accepts and the
/// lab's servers stay byte for byte what they were on ring.
pub fn classic_provider() -> CryptoProvider {
    use rustls::crypto::aws_lc_rs::{self, kx_group};
    CryptoProvider {
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        signature_verification_algorithms: RING_SIGNATURE_ALGORITHMS,
        ..aws_lc_rs::default_provider()
    }
}

/// rustls's ring provider's signature algorithms, as aws-lc-rs implements them: aws-lc's own list
/// adds ECDSA P-521, which would change the classic hello's signature_algorithms (and its JA4).
static RING_SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = {
    use webpki::aws_lc_rs as alg;
    WebPkiSupportedAlgorithms {
        all: &[
            alg::ECDSA_P256_SHA256,
            alg::ECDSA_P256_SHA384,
            alg::ECDSA_P384_SHA256,
            alg::ECDSA_P384_SHA384,
            alg::ED25519,
            alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            alg::RSA_PKCS1_2048_8192_SHA256,
            alg::RSA_PKCS1_2048_8192_SHA384,
            alg::RSA_PKCS1_2048_8192_SHA512,
            alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
            alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
            alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        ],
        // In ring's order: the order of the hello's signature_algorithms.
        mapping: &[
            (
                SignatureScheme::ECDSA_NISTP384_SHA384,
                &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
            ),
            (
                SignatureScheme::ECDSA_NISTP256_SHA256,
                &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
            ),
            (SignatureScheme::ED25519, &[alg::ED25519]),
            (
                SignatureScheme::RSA_PSS_SHA512,
                &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PSS_SHA384,
                &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PSS_SHA256,
                &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA512,
                &[alg::RSA_PKCS1_2048_8192_SHA512],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA384,
                &[alg::RSA_PKCS1_2048_8192_SHA384],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA256,
                &[alg::RSA_PKCS1_2048_8192_SHA256],
            ),
        ],
    }
};

/// The cryptography behind a hello shape. The post-quantum shapes take aws-lc-rs's own offer
/// with the group order browsers use: X25519MLKEM768 first (rustls then also sends an X25519
/// share, as Chrome and Firefox do), the classic groups after.
fn provider_for(shape: HelloShape) -> CryptoProvider {
    match shape {
        HelloShape::Classic => classic_provider(),
        HelloShape::Pq | HelloShape::Large => {
            use rustls::crypto::aws_lc_rs::kx_group;
            CryptoProvider {
                kx_groups: vec![
                    kx_group::X25519MLKEM768,
                    kx_group::X25519,
                    kx_group::SECP256R1,
                    kx_group::SECP384R1,
                ],
                ..rustls::crypto::aws_lc_rs::default_provider()
            }
        }
    }
}

/// Build the one client config every connection of a probe shares.
pub(crate) fn client_config(cfg: &ProbeConfig) -> Result<Arc<rustls::ClientConfig>, ProbeError> {
    let provider = Arc::new(provider_for(cfg.hello));
    // aws-lc initialises itself on first use (a few hundred ms on a busy machine): pay that
    // here, not inside the first handshake, whose time is evidence.
    for group in &provider.kx_groups {
        let _ = group.start();
    }
    let mut roots = RootCertStore::empty();
    if cfg.use_os_roots {
        // Unreadable entries are skipped, as curl does; an empty store is caught below.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    for path in &cfg.cacert_files {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| ProbeError::CaFile {
                path: path.clone(),
                reason: e.to_string(),
            })?
            .collect::<Result<_, _>>()
            .map_err(|e| ProbeError::CaFile {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(ProbeError::CaFile {
                path: path.clone(),
                reason: "no usable certificate in it".into(),
            });
        }
    }
    for der in &cfg.extra_roots_der {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| ProbeError::Tls(e.to_string()))?;
    }
    // An empty store is not an error here: plain-HTTP probes need none, and an HTTPS request
    // then fails as a recorded certificate error (with the chain kept).
    let inner = if roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| ProbeError::Tls(e.to_string()))?,
        )
    };
    let verifier = Arc::new(RecordingVerifier {
        inner,
        insecure: cfg.insecure_skip_verify,
        provider: provider.clone(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = match cfg.http {
        HttpVersionPref::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        HttpVersionPref::Http1 => vec![b"http/1.1".to_vec()],
        HttpVersionPref::Http2 => vec![b"h2".to_vec()],
    };
    // Every fresh connection does a full handshake: resumed sessions would hide the chain and
    // make "TLS time" mean something else from one request to the next.
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// Passes bytes through and keeps a copy of the first TLS handshake message written (the
/// ClientHello), with record headers removed.
#[derive(Debug)]
pub(crate) struct HelloRecorder<S> {
    inner: S,
    /// Reassembles the hello from the records written (wire's, as the witness reads it).
    assembler: interloper_wire::HelloAssembler,
    done: bool,
    hello: Vec<u8>,
    /// The first bytes the server sent: when the handshake fails they tell whether it spoke
    /// TLS at all.
    first_read: Vec<u8>,
    /// Until the hello is written, no write is larger than this (the large hello shape).
    hello_write_limit: Option<usize>,
}

/// Bytes of the server's first answer kept to name what it spoke.
const FIRST_READ_KEPT: usize = 16;

impl<S> HelloRecorder<S> {
    pub(crate) fn new(inner: S) -> Self {
        HelloRecorder {
            inner,
            assembler: interloper_wire::HelloAssembler::new(MAX_HELLO),
            done: false,
            hello: Vec::new(),
            first_read: Vec::new(),
            hello_write_limit: None,
        }
    }

    /// Writes the hello in pieces of at most `limit` bytes (each its own TCP segment when the
    /// socket has TCP_NODELAY).
    pub(crate) fn split_hello(mut self, limit: Option<usize>) -> Self {
        self.hello_write_limit = limit.map(|l| l.max(1));
        self
    }

    /// The ClientHello written, with its 4-byte header; while it is incomplete, what the
    /// complete records carried so far.
    pub(crate) fn take_hello(&mut self) -> Vec<u8> {
        if self.hello.is_empty() {
            return self.assembler.gathered().to_vec();
        }
        std::mem::take(&mut self.hello)
    }

    /// The first bytes the server sent (at most 16).
    pub(crate) fn first_read(&self) -> &[u8] {
        &self.first_read
    }

    fn capture(&mut self, data: &[u8]) {
        match self.assembler.push(data) {
            Ok(None) => {}
            Ok(Some(hello)) => {
                self.hello = hello;
                self.done = true;
            }
            // Not a handshake record, or a hello over the bound: nothing more to record.
            Err(_) => self.done = true,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HelloRecorder<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.first_read.len() < FIRST_READ_KEPT {
            let room = FIRST_READ_KEPT - self.first_read.len();
            let new = buf.filled().get(before..).unwrap_or_default();
            let take = new.len().min(room);
            self.first_read
                .extend_from_slice(new.get(..take).unwrap_or_default());
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HelloRecorder<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let buf = match this.hello_write_limit.filter(|_| !this.done) {
            Some(limit) => buf.get(..buf.len().min(limit)).unwrap_or_default(),
            None => buf,
        };
        let res = Pin::new(&mut this.inner).poll_write(cx, buf);
        if !this.done {
            match &res {
                Poll::Ready(Ok(n)) => this.capture(buf.get(..*n).unwrap_or_default()),
                // A server that resets at once can fail the very write of our hello: it was
                // still what we offered, and the record says so whatever the race.
                Poll::Ready(Err(_)) => this.capture(buf),
                Poll::Pending => {}
            }
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.done {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        }
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, first)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reassembles_hello_across_records_and_strips_headers() {
        use tokio::io::AsyncWriteExt as _;
        // A handshake message of type 1, 6 bytes body, split over two records.
        let msg = [1u8, 0, 0, 6, 3, 3, 9, 9, 9, 9];
        let mut w = HelloRecorder::new(Writes::default());
        let mut first = vec![22, 3, 1, 0, 4];
        first.extend_from_slice(&msg[..4]);
        w.write_all(&first).await.unwrap();
        assert!(!w.done);
        assert_eq!(w.take_hello(), &msg[..4]);
        let mut rest = vec![22, 3, 1, 0, 6];
        rest.extend_from_slice(&msg[4..]);
        rest.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
        w.write_all(&rest).await.unwrap();
        assert!(w.done);
        assert_eq!(w.take_hello(), msg);
    }

    /// Records the size of every write, as the socket would see them.
    #[derive(Default)]
    struct Writes(Vec<usize>);

    impl AsyncWrite for Writes {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.push(buf.len());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_split_hello_leaves_in_pieces_and_later_writes_do_not() {
        use tokio::io::AsyncWriteExt as _;
        let body = vec![7u8; 1400];
        let mut record = vec![22, 3, 1, 0x05, 0x7c, 1, 0, 0x05, 0x78];
        record.extend_from_slice(&body);
        let mut w = HelloRecorder::new(Writes::default()).split_hello(Some(LARGE_HELLO_WRITE));
        w.write_all(&record).await.unwrap();
        w.write_all(&[23u8; 2000]).await.unwrap();
        assert_eq!(w.inner.0, vec![512, 512, 385, 2000]);
        assert_eq!(w.take_hello().len(), 1404);
    }

    #[tokio::test]
    async fn garbage_never_panics_and_records_no_hello() {
        use tokio::io::AsyncWriteExt as _;
        for raw in [
            &[][..],
            &[22],
            &[22, 3, 1, 255, 255, 1],
            &[23, 0, 0, 0, 0],
            &[22, 3, 1, 0, 0],
        ] {
            let mut w = HelloRecorder::new(Writes::default());
            w.write_all(raw).await.unwrap();
            assert!(w.take_hello().is_empty(), "{raw:?}");
        }
    }
}

/// What a server that failed our handshake sent instead of TLS, when it did not speak TLS at
/// all: `plain HTTP`, or `something that is not TLS` (bytes of another protocol). None when
/// its first byte could begin a TLS record, or nothing arrived.
pub(crate) fn not_tls(first: &[u8]) -> Option<&'static str> {
    let b = *first.first()?;
    // TLS records start with a content type of 20..=24 (change_cipher_spec … heartbeat).
    if (20..=24).contains(&b) {
        return None;
    }
    Some(if first.starts_with(b"HTTP/") {
        "plain HTTP"
    } else {
        "something that is not TLS"
    })
}

#[cfg(test)]
mod not_tls_tests {
    use super::not_tls;

    #[test]
    fn names_what_the_server_spoke() {
        assert_eq!(not_tls(b"HTTP/1.1 400 Bad Request"), Some("plain HTTP"));
        assert_eq!(
            not_tls(b"SSH-2.0-OpenSSH"),
            Some("something that is not TLS")
        );
        assert_eq!(not_tls(&[0x15, 0x03, 0x03, 0, 2, 2, 40]), None);
        assert_eq!(not_tls(&[0x16, 0x03, 0x03]), None);
        assert_eq!(not_tls(b""), None);
    }
}
