//! Typed errors of the witness.

use std::net::SocketAddr;

/// What went wrong while setting up or running a witness.
#[derive(Debug, thiserror::Error)]
pub enum EchoError {
    /// A listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The certificate or key could not be read, parsed or generated.
    #[error("certificate: {0}")]
    Cert(String),
    /// rustls rejected the configuration (e.g. key does not match certificate).
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// A configuration value is out of range.
    #[error("configuration: {0}")]
    Config(String),
    /// A ClientHello could not be parsed.
    #[error("ClientHello: {0}")]
    Hello(String),
    /// Any other I/O failure.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}
