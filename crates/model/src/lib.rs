//! The evidence model shared by probe, analysis, findings and reports.
//!
//! Everything here is plain data (serde), produced by the I/O crates and consumed by the pure
//! ones. Durations are milliseconds as `f64` so that JSON consumers can script on them directly;
//! a phase that did not happen is `None` (JSON `null`), never `0`.
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

/// Time spent in each phase of one request, in milliseconds.
///
/// `ttfb_ms` runs from "request written" to "response headers received", so it measures the
/// server and the path, not our own connection setup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// Name resolution (None when an address was given or the connection was reused).
    pub dns_ms: Option<f64>,
    /// TCP connect to the chosen address (None when reused).
    pub connect_ms: Option<f64>,
    /// TLS handshake (None for plain HTTP or a reused connection).
    pub tls_ms: Option<f64>,
    /// Time to write the request head.
    pub write_ms: Option<f64>,
    /// Request written → response headers.
    pub ttfb_ms: Option<f64>,
    /// Response headers → last body byte.
    pub body_ms: Option<f64>,
    /// Start → end of the request, whatever happened.
    pub total_ms: Option<f64>,
}

/// The phase a request was in when it failed or stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Dns,
    Connect,
    Tls,
    Write,
    Ttfb,
    Body,
}

/// Why a request failed. Stable, snake_case in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The host name did not resolve.
    Dns,
    /// The connection was refused (RST to SYN).
    Refused,
    /// TCP connect did not finish in time.
    ConnectTimeout,
    /// Other connect failure (unreachable network, …).
    Connect,
    /// The peer sent a TLS alert or the handshake failed for a protocol reason.
    TlsAlert,
    /// The certificate chain was not trusted (the presented chain is still recorded).
    TlsCertificate,
    /// The TLS handshake did not finish in time.
    TlsTimeout,
    /// The HTTP proxy refused or failed the CONNECT.
    Proxy,
    /// No response headers before the timeout.
    HeadersTimeout,
    /// The body stopped arriving before the timeout.
    BodyTimeout,
    /// The connection was reset or closed before the response headers.
    ResetBeforeHeaders,
    /// The connection was reset or closed in the middle of the body.
    ResetMidBody,
    /// Fewer body bytes than Content-Length, then a clean close.
    Truncated,
    /// The response violated HTTP (bad headers, oversize head, …).
    Protocol,
    /// The body exceeded the configured maximum and was abandoned.
    BodyTooLarge,
    /// The overall per-request deadline passed.
    Timeout,
    /// Anything we could not classify (the message says more).
    Other,
}

/// A recorded failure: what, where, and the one-line message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestError {
    pub kind: ErrorKind,
    /// The phase the request was in when it failed.
    pub phase: Phase,
    pub message: String,
}

/// The negotiated TLS session as the client saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// "TLSv1.3", "TLSv1.2", …
    pub version: Option<String>,
    /// IANA cipher suite name.
    pub cipher: Option<String>,
    /// Negotiated ALPN protocol ("h2", "http/1.1") if any.
    pub alpn: Option<String>,
    /// SNI we sent (None for an IP literal).
    pub sni: Option<String>,
    /// Whether the chain verified against the trust store in use.
    pub verified: bool,
    /// The verification error if it did not verify.
    pub verify_error: Option<String>,
    /// The chain exactly as presented, leaf first, DER, base64 in JSON.
    #[serde(with = "b64_list")]
    pub presented_chain: Vec<Vec<u8>>,
    /// The exact ClientHello handshake message bytes we sent (record framing removed).
    #[serde(with = "b64")]
    pub client_hello: Vec<u8>,
}

/// One point of the body arrival curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BodySample {
    /// Milliseconds since the response headers arrived.
    pub at_ms: f64,
    /// Body bytes received so far.
    pub bytes: u64,
}

/// Everything recorded about one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Index of the request within its target (0-based).
    pub seq: u64,
    pub url: String,
    /// Milliseconds since the probe run started, at request start.
    pub started_ms: f64,
    pub remote_addr: Option<String>,
    /// Connection identity within this run; equal ids mean the same TCP connection.
    pub connection_id: u64,
    pub reused: bool,
    /// "HTTP/1.1" or "HTTP/2".
    pub http_version: Option<String>,
    pub status: Option<u16>,
    pub content_length: Option<u64>,
    pub bytes_received: u64,
    pub phases: Phases,
    pub tls: Option<TlsInfo>,
    /// Response headers as received (lower-case names, in order).
    pub headers: Vec<(String, String)>,
    /// Body bytes over time, sampled (bounded length).
    pub body_curve: Vec<BodySample>,
    pub error: Option<RequestError>,
}

impl RequestRecord {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Distribution of one phase over many requests (milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseStats {
    pub count: u64,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

mod b64_list {
    use base64::Engine as _;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for der in v {
            seq.serialize_element(&base64::engine::general_purpose::STANDARD.encode(der))?;
        }
        seq.end()
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.as_bytes())
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}
