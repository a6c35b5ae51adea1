//! Errors that stop a probe before any request is sent. Failures of requests themselves are
//! data ([`interloper_model::RequestError`]), not Rust errors.

use std::path::PathBuf;

/// Set-up errors: bad input or unusable trust material.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL did not parse or is not http(s).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// As given.
        url: String,
        /// Why.
        reason: String,
    },
    /// `--resolve` was not HOST:PORT:ADDR.
    #[error("invalid --resolve {0:?}: expected HOST:PORT:ADDR, e.g. example.com:443:127.0.0.1")]
    InvalidResolve(String),
    /// The proxy URL is unusable.
    #[error("invalid proxy {url:?}: {reason}")]
    InvalidProxy {
        /// As given.
        url: String,
        /// Why.
        reason: String,
    },
    /// A `--cacert` file could not be read or held no certificate.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls rejected the configuration.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// No trust anchors at all (and verification is on).
    #[error("no trust anchors: the OS store is empty and no --cacert was given")]
    NoTrustAnchors,
}
