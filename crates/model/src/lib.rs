//! The evidence model shared by probe, analysis, findings and reports.
//!
//! Everything here is plain data (serde), produced by the I/O crates and consumed by the pure
//! ones. Durations are milliseconds as `f64` so that JSON consumers can script on them directly;
//! a phase that did not happen is `None` (JSON `null`), never `0`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod input;
pub mod schema;
pub mod text;
pub mod units;
pub mod witness;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

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
    /// Response headers → first body byte (None for an empty body).
    #[serde(default)]
    pub first_byte_ms: Option<f64>,
    /// Response headers → last body byte.
    pub body_ms: Option<f64>,
    /// Start → end of the request, whatever happened.
    pub total_ms: Option<f64>,
}

/// The phase a request was in when it failed or stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Name resolution.
    Dns,
    /// TCP connect (and, through a proxy, the CONNECT tunnel).
    Connect,
    /// TLS handshake.
    Tls,
    /// Writing the request.
    Write,
    /// Waiting for the response headers.
    Ttfb,
    /// Receiving the body.
    Body,
}

impl Phase {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Write => "write",
            Phase::Ttfb => "ttfb",
            Phase::Body => "body",
        }
    }
}

/// Why a request failed. Stable, snake_case in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// The server answered our ClientHello with something that is not TLS (plain HTTP on an
    /// HTTPS port, another protocol).
    NotTls,
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
    /// The body was still arriving when the whole-request limit passed: it never ends, or
    /// comes too slowly to finish (a stall is [`ErrorKind::BodyTimeout`]).
    BodyEndless,
    /// The overall per-request deadline passed.
    Timeout,
    /// The caller's deadline (a check's budget) ended the request: not the network's doing,
    /// and not counted as a failure.
    Cancelled,
    /// Anything we could not classify (the message says more).
    Other,
}

impl ErrorKind {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Refused => "refused",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::TlsAlert => "tls_alert",
            ErrorKind::NotTls => "not_tls",
            ErrorKind::TlsCertificate => "tls_certificate",
            ErrorKind::TlsTimeout => "tls_timeout",
            ErrorKind::Proxy => "proxy",
            ErrorKind::HeadersTimeout => "headers_timeout",
            ErrorKind::BodyTimeout => "body_timeout",
            ErrorKind::ResetBeforeHeaders => "reset_before_headers",
            ErrorKind::ResetMidBody => "reset_mid_body",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Protocol => "protocol",
            ErrorKind::BodyTooLarge => "body_too_large",
            ErrorKind::BodyEndless => "body_endless",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Other => "other",
        }
    }
}

/// The HTTP version a response came in, written as on the status line (`"HTTP/1.1"`,
/// `"HTTP/2"`) in JSON and in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HttpVersion {
    /// HTTP/0.9.
    #[serde(rename = "HTTP/0.9")]
    Http09,
    /// HTTP/1.0.
    #[serde(rename = "HTTP/1.0")]
    Http10,
    /// HTTP/1.1.
    #[serde(rename = "HTTP/1.1")]
    Http11,
    /// HTTP/2.
    #[serde(rename = "HTTP/2")]
    Http2,
    /// HTTP/3.
    #[serde(rename = "HTTP/3")]
    Http3,
}

impl HttpVersion {
    /// The name used in JSON: `"HTTP/1.1"`, `"HTTP/2"`, …
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http09 => "HTTP/0.9",
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
            HttpVersion::Http3 => "HTTP/3",
        }
    }
}

impl fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which HTTP version to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpVersionPref {
    /// ALPN offers h2 and http/1.1 over TLS; plain HTTP uses HTTP/1.1.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only (ALPN h2 over TLS, prior knowledge over plain TCP).
    Http2,
}

impl HttpVersionPref {
    /// The name used in JSON and reports: `"auto"`, `"http1"`, `"http2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersionPref::Auto => "auto",
            HttpVersionPref::Http1 => "http1",
            HttpVersionPref::Http2 => "http2",
        }
    }
}

impl fmt::Display for HttpVersionPref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether requests share connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionPolicy {
    /// A new TCP (and TLS) connection for every request, so every request times every phase.
    #[default]
    Fresh,
    /// Keep the connection open and send the next request over it when it is still usable.
    Reuse,
}

impl ConnectionPolicy {
    /// The name used in JSON and reports: `"fresh"`, `"reuse"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionPolicy::Fresh => "fresh",
            ConnectionPolicy::Reuse => "reuse",
        }
    }
}

impl fmt::Display for ConnectionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which resolved addresses to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IpFamily {
    /// Try every address in resolver order until one connects.
    #[default]
    Any,
    /// IPv4 addresses only.
    V4,
    /// IPv6 addresses only.
    V6,
}

/// A recorded failure: what, where, and the one-line message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The phase the request was in when it failed.
    pub phase: Phase,
    /// One line, for humans.
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
    /// The key-exchange group the handshake settled on (`X25519MLKEM768`, `X25519`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// The shape of the ClientHello a connection sends.
///
/// Browsers have sent a post-quantum key share (X25519MLKEM768, about 1.2 KB) since 2024, which
/// makes their hello span more than one TCP segment; some inspection devices and servers
/// break on it while a classic hello (curl's, ours by default) goes through.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum HelloShape {
    /// X25519 / P-256 / P-384 key shares: what curl and most tools send.
    #[default]
    Classic,
    /// What Chrome, Edge and Firefox send: X25519MLKEM768 first plus an X25519 key share.
    Pq,
    /// The post-quantum hello written in small pieces, so it crosses the network as several
    /// TCP segments even where one segment could hold it (loopback, jumbo frames).
    Large,
}

impl HelloShape {
    /// Every shape, classic first.
    pub const ALL: [HelloShape; 3] = [HelloShape::Classic, HelloShape::Pq, HelloShape::Large];

    /// The name used in JSON and on the command line (`classic`, `pq`, `large`).
    pub fn as_str(self) -> &'static str {
        match self {
            HelloShape::Classic => "classic",
            HelloShape::Pq => "pq",
            HelloShape::Large => "large",
        }
    }

    /// Parses `classic`, `pq` (or `post-quantum`), `large`.
    pub fn parse(s: &str) -> Option<HelloShape> {
        match s.trim().to_ascii_lowercase().as_str() {
            "classic" => Some(HelloShape::Classic),
            "pq" | "post-quantum" | "postquantum" => Some(HelloShape::Pq),
            "large" => Some(HelloShape::Large),
            _ => None,
        }
    }

    /// Words for a report: `post-quantum hello (X25519MLKEM768)`.
    pub fn describe(self) -> &'static str {
        match self {
            HelloShape::Classic => "classic hello (X25519)",
            HelloShape::Pq => "post-quantum hello (X25519MLKEM768)",
            HelloShape::Large => "post-quantum hello split over several TCP segments",
        }
    }

    /// True for the classic shape (left out of JSON records, which predate shapes).
    pub fn is_classic(&self) -> bool {
        *self == HelloShape::Classic
    }
}

impl fmt::Display for HelloShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// The URL requested.
    pub url: String,
    /// Milliseconds since the probe run started, at request start.
    pub started_ms: f64,
    /// Every address the name resolved to (bounded), in resolver order.
    #[serde(default)]
    pub addresses: Vec<SocketAddr>,
    /// The address we were connected to (the proxy's when one was used).
    pub remote_addr: Option<SocketAddr>,
    /// The proxy the request went through (CONNECT), if any.
    #[serde(default)]
    pub proxy: Option<String>,
    /// Connection identity within this run; equal ids mean the same TCP connection.
    pub connection_id: u64,
    /// True when the request went over an already open connection.
    pub reused: bool,
    /// The version the response came in (None when no response arrived).
    pub http_version: Option<HttpVersion>,
    /// HTTP status code, when headers arrived.
    pub status: Option<u16>,
    /// The Content-Length the server announced, if any.
    pub content_length: Option<u64>,
    /// Body bytes actually received (after transfer decoding, before content decoding).
    pub bytes_received: u64,
    /// Time per phase.
    pub phases: Phases,
    /// TLS session facts (None for plain HTTP; on a reused connection, the session's).
    pub tls: Option<TlsInfo>,
    /// Response headers as received (lower-case names, in order).
    pub headers: Vec<(String, String)>,
    /// True when more headers arrived than were kept.
    #[serde(default)]
    pub headers_truncated: bool,
    /// Body bytes over time, sampled (bounded length).
    pub body_curve: Vec<BodySample>,
    /// SHA-256 (hex) of the body as received (still in its Content-Encoding), when the body
    /// arrived complete: repeated requests for an immutable file must agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_sha256: Option<String>,
    /// Why the request failed, if it did.
    pub error: Option<RequestError>,
    /// The shape of the ClientHello this request's connection sent (HTTPS).
    #[serde(default, skip_serializing_if = "HelloShape::is_classic")]
    pub hello_shape: HelloShape,
    /// How long the probe itself was not running during the request (its runtime woke this
    /// much later than it asked to: a loaded machine), when at least 50 ms. A phase that was
    /// slow by no more than this says nothing about the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_lag_ms: Option<f64>,
    /// On a reused connection: how long it had sat idle since its previous response ended (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse_idle_ms: Option<f64>,
    /// The request was first sent over a kept-alive connection that closed under it before any
    /// byte of a response, and was then sent once more on a fresh connection, as browsers do
    /// for an idempotent request (RFC 9110 §9.2.2). The record describes that second attempt;
    /// this is the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried_after_close: Option<ClosedUnderRequest>,
}

/// A kept-alive connection that closed under a request before any byte of a response: the
/// server's (or a load balancer's) idle timeout crossing the request on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedUnderRequest {
    /// The connection that closed (its id in this run).
    pub connection_id: u64,
    /// How long the connection had sat idle when the request was sent over it (ms).
    pub idle_ms: f64,
    /// From sending the request to seeing the connection end (ms).
    pub attempt_ms: f64,
    /// How it ended, as the client saw it.
    pub error: RequestError,
}

impl RequestRecord {
    /// The record of request `seq` to `url`, started `started_ms` into the run, before anything
    /// happened: no address, no phase, no answer. The probe fills it in as the request goes.
    pub fn new(seq: u64, url: String, started_ms: f64) -> RequestRecord {
        RequestRecord {
            seq,
            url,
            started_ms,
            addresses: Vec::new(),
            remote_addr: None,
            proxy: None,
            connection_id: 0,
            reused: false,
            http_version: None,
            status: None,
            content_length: None,
            bytes_received: 0,
            phases: Phases::default(),
            tls: None,
            headers: Vec::new(),
            headers_truncated: false,
            body_curve: Vec::new(),
            body_sha256: None,
            error: None,
            hello_shape: HelloShape::Classic,
            client_lag_ms: None,
            reuse_idle_ms: None,
            retried_after_close: None,
        }
    }

    /// True when the request completed without a recorded error.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Distribution of one phase over many requests (milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseStats {
    /// Number of requests in which the phase happened.
    pub count: u64,
    /// Fastest.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// Distribution of every phase over the requests of one target (`None`: phase never happened).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseSummary {
    /// Name resolution.
    pub dns: Option<PhaseStats>,
    /// TCP connect.
    pub connect: Option<PhaseStats>,
    /// TLS handshake.
    pub tls: Option<PhaseStats>,
    /// Writing the request.
    pub write: Option<PhaseStats>,
    /// Request written → headers.
    pub ttfb: Option<PhaseStats>,
    /// Headers → last body byte.
    pub body: Option<PhaseStats>,
    /// Whole request.
    pub total: Option<PhaseStats>,
}

/// Aggregate over all requests sent to one target. Its size does not grow with the count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeTargetSummary {
    /// Requests made.
    pub count: u64,
    /// Requests without error.
    pub ok: u64,
    /// Requests with an error.
    pub failed: u64,
    /// Failures by kind.
    pub failures: BTreeMap<ErrorKind, u64>,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Distinct connections opened.
    pub connections: u64,
    /// Body bytes received, all requests.
    pub bytes_received: u64,
    /// Wall time from first request start to last request end.
    pub elapsed_ms: f64,
    /// Requests per second over `elapsed_ms`.
    pub requests_per_sec: f64,
    /// Per-phase distributions (microsecond resolution, reported in ms).
    pub phases: PhaseSummary,
    /// The slowest requests by `total_ms`, slowest first (bounded).
    pub slowest: Vec<RequestRecord>,
}

/// Everything learned about one target (a URL, or a URL pinned to one address).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeTargetReport {
    /// The URL probed.
    pub url: String,
    /// Set when the target was pinned to one address (`--each-address`, `--resolve`).
    pub address: Option<SocketAddr>,
    /// The aggregate.
    pub summary: ProbeTargetSummary,
    /// Per-request records, in completion order, up to the configured cap.
    pub records: Vec<RequestRecord>,
    /// Records not kept because of the cap.
    pub records_omitted: u64,
}

/// The output of one `interloper probe` run (`--json` prints exactly this).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// Always [`schema::PROBE`].
    pub schema: String,
    /// Wall-clock start, seconds since the Unix epoch.
    pub started_unix: f64,
    /// What was asked for, as given.
    pub settings: RunSettings,
    /// One entry per target, in the order given.
    pub targets: Vec<ProbeTargetReport>,
}

impl ProbeReport {
    /// True when no request of any target failed.
    pub fn all_ok(&self) -> bool {
        self.targets.iter().all(|t| t.summary.failed == 0)
    }
}

/// The run parameters, echoed into the report so a JSON file is self-describing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Requests per target (None: until `duration_ms`).
    pub count: Option<u64>,
    /// Requests in flight per target.
    pub concurrency: u64,
    /// Time budget per target.
    pub duration_ms: Option<f64>,
    /// Fresh or reused connections.
    pub connections: ConnectionPolicy,
    /// The HTTP version asked for.
    pub http: HttpVersionPref,
    /// Whether certificate verification failures were allowed to proceed.
    pub insecure_skip_verify: bool,
    /// Proxy in use (None: direct).
    pub proxy: Option<String>,
    /// The DNS server names were looked up at (`--dns-server`); None (and absent from the
    /// JSON, which stays what it was): the system's resolver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_server: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The JSON text of every version is the one the status line uses, and reads back.
    #[test]
    fn http_versions_serialise_to_their_status_line_names() {
        for (v, text) in [
            (HttpVersion::Http09, "HTTP/0.9"),
            (HttpVersion::Http10, "HTTP/1.0"),
            (HttpVersion::Http11, "HTTP/1.1"),
            (HttpVersion::Http2, "HTTP/2"),
            (HttpVersion::Http3, "HTTP/3"),
        ] {
            assert_eq!(v.as_str(), text);
            assert_eq!(v.to_string(), text);
            assert_eq!(serde_json::to_value(v).unwrap(), json!(text));
            assert_eq!(
                serde_json::from_value::<HttpVersion>(json!(text)).unwrap(),
                v
            );
        }
        // Sorting by value sorts by name, as sorting the strings did.
        let mut by_value = [HttpVersion::Http2, HttpVersion::Http11, HttpVersion::Http10];
        by_value.sort();
        assert_eq!(
            by_value.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
            ["HTTP/1.0", "HTTP/1.1", "HTTP/2"]
        );
        assert!(serde_json::from_value::<HttpVersion>(json!("HTTP/2.0")).is_err());
    }

    #[test]
    fn policies_serialise_to_their_names() {
        for p in [ConnectionPolicy::Fresh, ConnectionPolicy::Reuse] {
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.as_str()));
            assert_eq!(
                serde_json::from_value::<ConnectionPolicy>(json!(p.as_str())).unwrap(),
                p
            );
        }
        for p in [
            HttpVersionPref::Auto,
            HttpVersionPref::Http1,
            HttpVersionPref::Http2,
        ] {
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.as_str()));
            assert_eq!(
                serde_json::from_value::<HttpVersionPref>(json!(p.as_str())).unwrap(),
                p
            );
        }
        assert_eq!(
            [
                ConnectionPolicy::Fresh.as_str(),
                ConnectionPolicy::Reuse.as_str()
            ],
            ["fresh", "reuse"]
        );
        assert_eq!(
            [
                HttpVersionPref::Auto,
                HttpVersionPref::Http1,
                HttpVersionPref::Http2
            ]
            .map(|p| p.as_str()),
            ["auto", "http1", "http2"]
        );
    }

    /// A record written before addresses and versions were typed reads back, and writes the
    /// same text again: `"IP:PORT"`, IPv6 in brackets.
    #[test]
    fn a_record_keeps_its_json_text() {
        let text = json!({
            "seq": 0, "url": "https://a.test/x.css", "started_ms": 1.5,
            "addresses": ["127.0.0.1:443", "[::1]:443"],
            "remote_addr": "[::1]:443", "proxy": null, "connection_id": 1, "reused": false,
            "http_version": "HTTP/2", "status": 200, "content_length": 5, "bytes_received": 5,
            "phases": {"dns_ms": null, "connect_ms": 1.0, "tls_ms": null, "write_ms": 0.1,
                       "ttfb_ms": 2.0, "first_byte_ms": 0.5, "body_ms": 0.5, "total_ms": 4.0},
            "tls": null, "headers": [], "headers_truncated": false, "body_curve": [],
            "error": null
        });
        let rec: RequestRecord = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(rec.remote_addr, Some("[::1]:443".parse().unwrap()));
        assert_eq!(rec.addresses[0], "127.0.0.1:443".parse().unwrap());
        assert_eq!(rec.http_version, Some(HttpVersion::Http2));
        assert_eq!(serde_json::to_value(&rec).unwrap(), text);
        let mut bad = text;
        bad["remote_addr"] = json!("not an address");
        assert!(serde_json::from_value::<RequestRecord>(bad).is_err());
    }

    #[test]
    fn run_settings_keep_their_json_text() {
        let text = json!({
            "count": 20, "concurrency": 4, "duration_ms": null, "connections": "reuse",
            "http": "http2", "insecure_skip_verify": false, "proxy": null
        });
        let s: RunSettings = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(
            (s.connections, s.http),
            (ConnectionPolicy::Reuse, HttpVersionPref::Http2)
        );
        assert_eq!(serde_json::to_value(&s).unwrap(), text);
        let mut with_dns = text;
        with_dns["dns_server"] = json!("127.0.0.53:5353");
        let s: RunSettings = serde_json::from_value(with_dns.clone()).unwrap();
        assert_eq!(s.dns_server.as_deref(), Some("127.0.0.53:5353"));
        assert_eq!(serde_json::to_value(&s).unwrap(), with_dns);
    }
}
