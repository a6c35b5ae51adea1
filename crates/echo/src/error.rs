//! Typed errors of the witness.

use std::net::SocketAddr;

/// What went wrong while setting up or running a witness.
#[derive(Debug, thiserror::Error)]
pub enum EchoError {
    /// A listening socket could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason (said in the message, so not also a `source`:
        /// `{:#}` prints it once).
        reason: std::io::Error,
    },
    /// The certificate or key could not be read, parsed or generated.
    #[error("certificate: {0}")]
    Cert(String),
    /// rustls rejected the configuration (e.g. key does not match certificate).
    #[error("TLS configuration: {0}")]
    Tls(rustls::Error),
    /// A configuration value is out of range.
    #[error("configuration: {0}")]
    Config(String),
    /// A ClientHello could not be parsed.
    #[error("ClientHello: {0}")]
    Hello(String),
    /// Any other I/O failure.
    #[error("I/O: {0}")]
    Io(std::io::Error),
}

// By hand rather than `#[from]`, which would also make the cause a `source`: the message
// already says it, and `{:#}` would print it twice.
impl From<rustls::Error> for EchoError {
    fn from(e: rustls::Error) -> Self {
        EchoError::Tls(e)
    }
}

impl From<std::io::Error> for EchoError {
    fn from(e: std::io::Error) -> Self {
        EchoError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error as `{:#}` prints it (anyhow's form: each cause after `: `).
    fn printed(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    #[test]
    fn each_error_prints_its_reason_once() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 443));
        let bind = EchoError::Bind {
            addr,
            reason: std::io::Error::other("address in use"),
        };
        assert_eq!(
            printed(&bind),
            "cannot listen on 127.0.0.1:443: address in use"
        );
        let io = EchoError::from(std::io::Error::other("broken pipe"));
        assert_eq!(printed(&io), "I/O: broken pipe");
        let tls = EchoError::from(rustls::Error::NoCertificatesPresented);
        assert_eq!(
            printed(&tls).matches("no certificates").count(),
            1,
            "{}",
            printed(&tls)
        );
    }
}
