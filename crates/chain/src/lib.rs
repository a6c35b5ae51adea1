//! Certificate chain analysis: trust against root sets, interception products, minted-certificate
//! traits, pins (pure, no I/O).
//!
//! One entry point, [`analyse`], turns the chain a server presented (leaf first, DER) plus what
//! the caller knows (root sets, pins, a reference run, a witness comparison) into a
//! [`ChainReport`]: per-certificate facts, the trust classification, the ordered evidence and a
//! [`Verdict`]. Every verdict rule is documented in `docs/tls-verdicts.md`.
//!
//! ```
//! use interloper_chain::{analyse, ChainInput, ProductDb, Roots, VerdictStatus};
//! let (public, local, db) = (Roots::webpki(), Roots::empty(), ProductDb::builtin());
//! let input = ChainInput::new(vec![b"not a certificate".to_vec()], "example.com",
//!     time::OffsetDateTime::UNIX_EPOCH, &public, &local, &db);
//! let report = analyse(&input);
//! assert_eq!(report.verdict.status, VerdictStatus::Untrusted);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod analysis;
mod facts;
mod pins;
mod products;
mod trust;

pub use analysis::{
    ChainInput, ChainReport, Confidence, Evidence, EvidenceKind, Negotiated, Reference, Strength,
    Verdict, VerdictProduct, VerdictStatus, WitnessComparison, analyse,
};
pub use facts::{CertFacts, KeyFacts, sha256_hex};
pub use pins::{PemPin, Pin, PinError, certs_from_pem, pin_of_spki, pins_from_pem};
pub use products::{MatchedField, Product, ProductDb, ProductDbError, ProductKind, ProductMatch};
/// The `time` crate, re-exported because [`ChainInput::now`] is a `time::OffsetDateTime`.
pub use time;
pub use trust::{
    AnchorFacts, PathCheck, RootError, Roots, TrustResult, TrustStatus, UntrustedReason, evaluate,
};
