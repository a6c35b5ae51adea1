//! Certificate chain analysis: trust against root sets, interception products, minted-certificate
//! traits, pins (pure, no I/O).
//!
//! One entry point, [`analyse`], turns the chain a server presented (leaf first, DER) plus what
//! the caller knows (root sets, pins, a reference run, a witness comparison) into a
//! [`ChainReport`]: per-certificate facts, the trust classification, the ordered [`Signal`]s and a
//! [`PathVerdict`]. Every verdict rule is documented in `docs/tls-verdicts.md`.
//!
//! ```
//! use interloper_chain::{analyse, ChainInput, PathStatus, ProductDb, Roots};
//! let (public, local, db) = (Roots::webpki(), Roots::empty(), ProductDb::builtin());
//! let input = ChainInput::new(vec![b"not a certificate".to_vec()], "example.com",
//!     time::OffsetDateTime::UNIX_EPOCH, &public, &local, &db);
//! let report = analyse(&input);
//! assert_eq!(report.verdict.status, PathStatus::Untrusted);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod analysis;
mod evidence;
mod facts;
pub mod path;
mod pins;
mod products;
mod trust;

// The rcgen certificate helpers the integration tests use, shared so unit tests build chains the
// same way; `extern crate self` lets that file name this crate as the tests do.
#[cfg(test)]
extern crate self as interloper_chain;
#[cfg(test)]
#[path = "../tests/support/mod.rs"]
mod test_support;

pub use analysis::incomplete::{ChainGap, chain_gap};
pub use analysis::{
    ChainInput, ChainReport, NamedProduct, Negotiated, PathConfidence, PathStatus, PathVerdict,
    Reference, Signal, SignalKind, SignalStrength, WitnessComparison, analyse,
};
pub use evidence::tls_evidence;
pub use facts::{CertFacts, KeyFacts, PemPin, pins_from_pem, sha256_hex};
pub use path::{
    PresentedSession, TlsPath, TlsPathError, TlsPathOptions, TrustFiles, WitnessSide,
    witness_verdict,
};
pub use pins::{Pin, PinError, certs_from_pem, pin_of_spki};
pub use products::{
    MatchedAttribute, MatchedField, NameAttribute, Product, ProductDb, ProductDbError, ProductKind,
    ProductMatch, Rule, SeenName,
};
/// The `time` crate, re-exported because [`ChainInput::now`] is a `time::OffsetDateTime`.
pub use time;
pub use trust::{
    AnchorFacts, PathCheck, RootError, Roots, TrustResult, TrustStatus, UntrustedReason, evaluate,
};
