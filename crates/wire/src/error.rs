//! Typed errors for everything the crate parses.

/// Why bytes could not be read as the TLS structure asked for.
///
/// Every parser in this crate returns this instead of panicking, whatever the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ended before the named field was complete.
    #[error("truncated {what}: needed {needed} more byte(s)")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// How many bytes were missing.
        needed: usize,
    },
    /// A length-prefixed structure had bytes left over after its last field.
    #[error("{count} trailing byte(s) after {what}")]
    TrailingBytes {
        /// The structure that should have ended.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// The handshake message was not of the expected type.
    #[error("handshake message type {found}, expected {expected}")]
    UnexpectedHandshakeType {
        /// The type wanted (1 = ClientHello, 2 = ServerHello).
        expected: u8,
        /// The type found.
        found: u8,
    },
    /// A TLS record that is not a handshake record appeared before the hello was complete.
    #[error("TLS record content type {0}, expected handshake (22)")]
    NotHandshakeRecord(u8),
    /// A record header's content type is none TLS defines (20–24): the stream is not TLS.
    #[error("TLS record content type {0} is not one TLS defines")]
    UnknownContentType(u8),
    /// The record header's version is not a TLS/SSL 3.x version.
    #[error("TLS record version {0:#06x} is not 0x03xx")]
    BadRecordVersion(u16),
    /// A record announced a length beyond what TLS allows.
    #[error("TLS record length {0} exceeds the protocol limit")]
    RecordTooLong(usize),
    /// A record of length zero, which a handshake record may not be.
    #[error("empty TLS handshake record")]
    EmptyRecord,
    /// The handshake message is larger than the caller's limit.
    #[error("handshake message of {len} bytes exceeds the limit of {max}")]
    MessageTooLong {
        /// Announced message length (incl. its 4-byte header).
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// A field holds a value that the structure does not allow.
    #[error("malformed {0}")]
    Malformed(&'static str),
}
