//! What the caller hands to [`analyse`](super::analyse).

use serde::Serialize;
use time::OffsetDateTime;

use crate::pins::Pin;
use crate::products::ProductDb;
use crate::trust::Roots;

/// Negotiated parameters of a connection, as the probe records them (`TlsInfo.version`/`alpn`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Negotiated {
    /// "TLSv1.3", "TLSv1.2", "TLS 1.3", "1.3" …
    pub tls_version: Option<String>,
    /// "h2", "http/1.1", or None when no ALPN was agreed.
    pub alpn: Option<String>,
}

/// A reference run to compare against (a clean path, a publicly anchored sibling instance, or
/// what the witness saw).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reference {
    /// The chain of the reference run, leaf first, DER (may be empty).
    pub chain: Vec<Vec<u8>>,
    /// The parameters the reference run negotiated.
    pub negotiated: Negotiated,
}

/// What the witness (a server we control, behind the same path) says it saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WitnessComparison {
    /// The ClientHello random the witness received equals the one we sent.
    pub client_random_equal: Option<bool>,
    /// The chain we received equals the chain the witness served.
    pub chain_equal: Option<bool>,
}

/// Everything [`analyse`](super::analyse) needs.
#[derive(Debug, Clone)]
pub struct ChainInput<'a> {
    /// The presented chain, leaf first, DER.
    pub presented: Vec<Vec<u8>>,
    /// The name we connected to (DNS name or IP literal).
    pub server_name: String,
    /// The time to validate at.
    pub now: OffsetDateTime,
    /// Public web roots ([`Roots::webpki`], or the `--public-roots` replacement).
    pub public_roots: &'a Roots,
    /// The local store (OS store, SSL_CERT_FILE / SSL_CERT_DIR).
    pub local_roots: &'a Roots,
    /// Extra anchors (`--cacert`), treated as local.
    pub extra_roots: Option<&'a Roots>,
    /// Roots the user declared their organisation's own (`--private-root`, marked with
    /// [`Roots::declared_private`]): trusted, and a chain ending in one is not an unknown
    /// local root.
    pub private_roots: Option<&'a Roots>,
    /// `--expect-pin` values; any certificate of the chain matching any pin passes (as curl).
    pub pins: Vec<Pin>,
    /// `--expect-cert`: the leaf must equal this DER.
    pub expect_cert: Option<Vec<u8>>,
    /// A reference run.
    pub reference: Option<Reference>,
    /// What this run negotiated.
    pub negotiated: Negotiated,
    /// The witness comparison, when an echo server was used.
    pub witness: Option<WitnessComparison>,
    /// Known interception products.
    pub products: &'a ProductDb,
}

impl<'a> ChainInput<'a> {
    /// An input with no pins, reference, witness, extra or private roots or negotiated
    /// parameters.
    pub fn new(
        presented: Vec<Vec<u8>>,
        server_name: &str,
        now: OffsetDateTime,
        public_roots: &'a Roots,
        local_roots: &'a Roots,
        products: &'a ProductDb,
    ) -> Self {
        ChainInput {
            presented,
            server_name: server_name.to_owned(),
            now,
            public_roots,
            local_roots,
            extra_roots: None,
            private_roots: None,
            pins: Vec::new(),
            expect_cert: None,
            reference: None,
            negotiated: Negotiated::default(),
            witness: None,
            products,
        }
    }
}
