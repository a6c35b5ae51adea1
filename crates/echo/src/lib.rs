//! The witness: a hardened TLS server that reports the ClientHello it *received*, and a
//! passthrough that records the hellos it forwards to the real server.
//!
//! Heuristics guess; a witness proves. A client that knows what it sent (its `client_random`,
//! its fingerprint) and what it saw (the certificate chain) compares that with what the witness
//! reports. If a middlebox terminated TLS on the way, the witness sees the middlebox's hello
//! (another `client_random`) and the client sees the middlebox's chain.
//!
//! Two servers live here:
//! - [`EchoServer`]: terminates TLS itself (rustls), reads the raw ClientHello *before* the
//!   handshake, and answers `GET /.well-known/interloper/hello` with an [`EchoHello`] JSON
//!   document, `…/payload?bytes=N&seed=S` with deterministic bytes, and `…/info`.
//! - [`PassthroughServer`]: forwards TCP to the real server untouched and records each
//!   ClientHello in a bounded ring, queryable by `client_random` on a separate plain-HTTP port.
//!
//! Both face the internet: every limit lives in [`Limits`] with conservative defaults
//! (connections, per-source connections and rates, handshake / header / idle timeouts, request
//! head size, payload cap), and each refusal is logged as one line saying what and why (through
//! the `log` facade: the binary decides the level kept and the format).
//!
//! ```no_run
//! # async fn demo() -> Result<(), interloper_echo::EchoError> {
//! use interloper_echo::{CertSource, EchoConfig, EchoServer};
//! let config = EchoConfig::new("127.0.0.1:0".parse().unwrap(),
//!                              CertSource::SelfSigned { names: vec!["localhost".into()] });
//! let server = EchoServer::bind(config).await?;
//! println!("witness on {}", server.local_addr());
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod certs;
mod config;
mod conn;
mod ctx;
mod error;
mod hello;
mod http;
mod limits;
mod passthrough;
mod payload;
// The witness documents live in the pure model, which the client side reads too.
use interloper_model::witness;
mod server;
mod stats;
mod stream;
mod visit;

pub use certs::{CertSource, ServedChain};
pub use config::{EchoConfig, Limits, PassthroughConfig};
pub use error::EchoError;
pub use interloper_model::witness::visit::PATH_VISIT;
pub use passthrough::{HelloLog, PassthroughServer};
pub use payload::{PayloadGenerator, payload_sha256};
pub use server::{EchoReloader, EchoServer};
pub use stats::{METRICS_CONTENT_TYPE, PATH_METRICS, Stats, StatsSnapshot};
pub use visit::{TEST_SIZES, VisitSettings};
pub use witness::{
    ClientHelloReport, EchoHello, EchoInfo, HelloRecord, HellosAnswer, Ja3Report, Ja4Report,
    Negotiated, PATH_HELLO, PATH_HELLOS, PATH_INFO, PATH_PAYLOAD, ServedCert, Stamp, Timestamps,
};

/// Parses a ClientHello handshake message (type byte, 24-bit length, body) into the report the
/// witness serves. Exposed so the client side can describe its own recorded hello with the very
/// same code and compare like with like.
pub fn describe_client_hello(handshake: &[u8]) -> Result<ClientHelloReport, EchoError> {
    hello::describe(handshake).map_err(EchoError::Hello)
}
