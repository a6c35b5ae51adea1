//! The witness protocol: the JSON documents `interloper echo` serves and the client side
//! (`interloper check --echo`, `interloper tls --echo`) reads. Both sides use these very
//! types — the witness serialises them, the client deserialises them — so field names here are
//! the contract; docs/echo.md documents them.
//!
//! Conventions: byte strings are lowercase hex (`client_random`, `session_id`, `sha256`) or
//! standard base64 with padding (`*_base64`, pins); TLS code points are plain numbers in the
//! order the peer sent them (GREASE included); times are unix-epoch microseconds plus an offset
//! from the TCP accept, both from the witness's clock.
//!
//! It sits in the model because the witness's documents are evidence like any other: the
//! client turns them into findings' inputs, and their `schema` names live with all the others
//! in [`crate::schema`].

use serde::{Deserialize, Serialize};

/// Path of the hello document.
pub const PATH_HELLO: &str = "/.well-known/interloper/hello";
/// Path of the deterministic payload.
pub const PATH_PAYLOAD: &str = "/.well-known/interloper/payload";
/// Path of the info document.
pub const PATH_INFO: &str = "/.well-known/interloper/info";
/// Path of the passthrough query (API port only).
pub const PATH_HELLOS: &str = "/.well-known/interloper/hellos";

/// `GET /.well-known/interloper/hello`: what the witness received and served on this
/// connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EchoHello {
    /// Always [`crate::schema::ECHO_HELLO`].
    pub schema: String,
    /// Version of the witness that answered.
    pub server_version: String,
    /// TCP peer as the witness saw it (`IP:PORT`); a proxy or NAT shows up here.
    pub peer: String,
    /// Local address the connection arrived on.
    pub local: String,
    /// The ClientHello exactly as it arrived.
    pub client_hello: ClientHelloReport,
    /// The chain the witness served, leaf first.
    pub served_chain: Vec<ServedCert>,
    /// What the handshake settled on.
    pub negotiated: Negotiated,
    /// The witness's clock at each step of this connection and request.
    pub timestamps: Timestamps,
    /// 1 for the first request on the connection, 2 for the next, …
    pub request_number: u64,
}

/// A ClientHello as received. Lists keep the peer's order and GREASE values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientHelloReport {
    /// The 32-byte random, hex. The proof: a middlebox that terminates TLS sends its own.
    pub client_random: String,
    /// Legacy session id, hex (empty string when absent).
    pub session_id: String,
    /// `legacy_version` of the hello (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// Version in the first record header (often 0x0301), when records were seen.
    pub record_version: Option<u16>,
    /// `supported_versions` extension.
    pub supported_versions: Vec<u16>,
    /// Cipher suites offered.
    pub cipher_suites: Vec<u16>,
    /// Names of `cipher_suites`, same order and length (`0x….` when unknown).
    pub cipher_suite_names: Vec<String>,
    /// Compression methods offered.
    pub compression_methods: Vec<u8>,
    /// Extension type ids, in order.
    pub extensions: Vec<u16>,
    /// `supported_groups`.
    pub supported_groups: Vec<u16>,
    /// Names of `supported_groups`, same order and length.
    pub supported_group_names: Vec<String>,
    /// Groups for which a key share was sent.
    pub key_share_groups: Vec<u16>,
    /// `signature_algorithms`.
    pub signature_algorithms: Vec<u16>,
    /// `ec_point_formats`.
    pub ec_point_formats: Vec<u8>,
    /// ALPN protocols offered, in order.
    pub alpn: Vec<String>,
    /// Server name indication, if sent.
    pub sni: Option<String>,
    /// JA3 fingerprint.
    pub ja3: Ja3Report,
    /// JA4 fingerprint family.
    pub ja4: Ja4Report,
    /// The handshake message (type, length, body) reassembled from the records, base64.
    pub handshake_base64: String,
    /// TLS records the hello spanned.
    pub record_count: u32,
    /// Socket reads it took to get the whole hello (more than one: split across segments).
    pub read_count: u32,
    /// Bytes read from the socket before the handshake started.
    pub bytes_read: u64,
    /// Set when the parser rejected the hello (then only `client_random`, `legacy_version`
    /// and `handshake_base64` are filled); rustls may still have accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
}

/// JA3: the string and its MD5.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ja3Report {
    /// `version,ciphers,extensions,groups,point_formats`.
    pub string: String,
    /// MD5 of `string`, hex.
    pub hash: String,
}

/// JA4 (TCP) with its raw and original-order variants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ja4Report {
    /// `ja4`.
    pub ja4: String,
    /// `ja4_r` (raw, sorted).
    pub ja4_r: String,
    /// `ja4_o` (hashed, original order).
    pub ja4_o: String,
    /// `ja4_ro` (raw, original order).
    pub ja4_ro: String,
}

/// One served certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServedCert {
    /// DER, base64.
    pub der_base64: String,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
    /// HPKP-style pin of the SubjectPublicKeyInfo: `sha256//BASE64`.
    pub spki_pin: Option<String>,
    /// Subject distinguished name (RFC 4514 style), when the certificate parses.
    pub subject: Option<String>,
    /// Issuer distinguished name.
    pub issuer: Option<String>,
}

/// The parameters the handshake settled on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Negotiated {
    /// `TLSv1.3` / `TLSv1.2`.
    pub tls_version: String,
    /// Protocol version code point (0x0304, 0x0303).
    pub tls_version_id: u16,
    /// Cipher suite name as rustls names it (IANA style).
    pub cipher_suite: String,
    /// Cipher suite code point.
    pub cipher_suite_id: u16,
    /// Group of the key exchange, when known.
    pub key_exchange_group: Option<String>,
    /// ALPN protocol selected (`h2`, `http/1.1`) or none.
    pub alpn: Option<String>,
    /// HTTP version of this request (`HTTP/2.0`, `HTTP/1.1`).
    pub http_version: String,
    /// SNI as rustls accepted it.
    pub sni: Option<String>,
}

/// One instant on the witness's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Microseconds since the unix epoch.
    pub unix_us: u64,
    /// Microseconds since the TCP connection was accepted (monotonic clock).
    pub since_accept_us: u64,
}

/// The witness's timeline for this connection and request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timestamps {
    /// TCP accept.
    pub accepted: Stamp,
    /// Last byte of the ClientHello read.
    pub hello_read: Stamp,
    /// TLS handshake complete.
    pub handshake_done: Stamp,
    /// This request's head parsed.
    pub request_received: Stamp,
    /// This response's body produced and handed to the HTTP layer (headers and body leave the
    /// process right after; the document cannot carry its own last-byte time).
    pub response_written: Stamp,
}

/// `GET /.well-known/interloper/info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EchoInfo {
    /// Always [`crate::schema::ECHO_INFO`].
    pub schema: String,
    /// Crate version.
    pub version: String,
    /// `echo` or `passthrough`.
    pub mode: String,
    /// One line saying what this is.
    pub description: String,
}

/// One hello the passthrough forwarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloRecord {
    /// When the last byte of the hello arrived.
    pub seen_at_unix_us: u64,
    /// TCP peer.
    pub peer: String,
    /// The ClientHello as forwarded.
    pub client_hello: ClientHelloReport,
}

/// `GET /.well-known/interloper/hellos?client_random=HEX` on the passthrough's API port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HellosAnswer {
    /// Always [`crate::schema::ECHO_HELLOS`].
    pub schema: String,
    /// Whether any hello with this random passed through (404 when false).
    pub seen: bool,
    /// The random asked for, lowercase hex.
    pub client_random: String,
    /// Matching records, oldest first.
    pub hellos: Vec<HelloRecord>,
    /// Hellos the ring holds now.
    pub ring_len: usize,
    /// Hellos the ring can hold.
    pub ring_capacity: usize,
}

impl EchoHello {
    /// The witness's own time from receiving the request to writing the response, in
    /// milliseconds: what the server side spent, whatever the path added.
    pub fn server_ms(&self) -> f64 {
        let t = &self.timestamps;
        t.response_written
            .since_accept_us
            .saturating_sub(t.request_received.since_accept_us) as f64
            / 1000.0
    }

    /// SHA-256 (hex) of each certificate the witness served, leaf first.
    pub fn served_chain_sha256(&self) -> Vec<String> {
        self.served_chain.iter().map(|c| c.sha256.clone()).collect()
    }
}

impl HellosAnswer {
    /// JA4 of each recorded hello, oldest first.
    pub fn ja4s(&self) -> Vec<String> {
        self.hellos
            .iter()
            .map(|h| h.client_hello.ja4.ja4.clone())
            .collect()
    }
}

pub mod visit;
