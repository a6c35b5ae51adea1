//! What a capture shows, per TCP connection: the wire's own account of where the time went,
//! who ended the connection, and who spoke TLS.
//!
//! [`read_capture`] streams a pcap or pcapng file (any `Read`; the caller opens it) through an
//! [`Analyzer`], which keeps bounded state per connection ([`Limits`]) and returns [`Flows`]:
//! for each connection its timeline (SYN → SYN/ACK, TLS handshake, request → first response
//! byte, gaps inside responses, end and who sent it), loss signs (retransmissions, zero
//! windows, duplicate ACKs), the TLS hellos with their fingerprints, certificates when visible
//! (TLS ≤ 1.2), alerts, and HTTP/1.1 request and status lines when the traffic is plain.
//!
//! Pure: no clocks, no files; the same bytes always give the same flows. Framing comes from
//! `pcap-parser`, link-layer decoding (Ethernet, VLAN, Linux SLL/SLL2, loopback, raw IP) from
//! `etherparse`; hello parsing and fingerprints from `interloper-wire`.
//!
//! ```
//! use interloper_flows::{Options, read_capture};
//! # fn demo(file: std::fs::File) -> Result<(), interloper_flows::FlowsError> {
//! let flows = read_capture(file, &Options::default())?;
//! for c in &flows.connections {
//!     println!("{} → {}: {} exchanges", c.client, c.server, c.exchanges.len());
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod evidence;
mod hellos;
mod http;
mod link;
mod read;
mod run;
mod table;
mod tls;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub use evidence::capture_evidence;
pub use hellos::{FoundHello, HelloScanner};
pub use read::{PacketSink, read_capture, read_into};
pub use run::{
    CaptureFile, ConnectionFilter, PcapError, PcapOutcome, PcapPlan, run_pcap, scan_hellos,
};
pub use table::Analyzer;

/// Bounds on what is kept, so memory stays flat on multi-gigabyte and hostile captures
/// (docs/limits.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Connections tracked; packets of further connections are counted and skipped.
    pub max_connections: usize,
    /// Exchanges (request → response) kept per connection; every exchange with a wait or a
    /// gap over the threshold is kept up to twice this.
    pub max_exchanges: usize,
    /// Gaps kept per exchange.
    pub max_gaps: usize,
    /// Out-of-order bytes held per direction while waiting for a hole to fill; past it the
    /// hole is given up (the stream's TLS/HTTP parsing stops, the timeline goes on).
    pub max_pending_bytes: usize,
    /// Out-of-order bytes held over all connections.
    pub max_total_pending: usize,
    /// Largest TLS handshake message assembled (hellos, certificate chains).
    pub max_handshake_bytes: usize,
    /// Largest HTTP/1.1 head buffered.
    pub max_head_bytes: usize,
    /// ClientHellos, alerts and notes kept per connection.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 200_000,
            max_exchanges: 64,
            max_gaps: 8,
            max_pending_bytes: 256 * 1024,
            max_total_pending: 64 * 1024 * 1024,
            max_handshake_bytes: 64 * 1024,
            max_head_bytes: 16 * 1024,
            max_items: 8,
        }
    }
}

/// How a capture is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// A silence of at least this long inside a response is a gap (microseconds).
    pub gap_threshold_us: u64,
    /// Bounds.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            gap_threshold_us: 1_000_000,
            limits: Limits::default(),
        }
    }
}

/// Why a capture could not be read at all.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FlowsError {
    /// The bytes do not start like pcap or pcapng.
    #[error("not a pcap or pcapng capture ({0})")]
    NotACapture(String),
    /// Every packet was of a link type this reader does not decode.
    #[error(
        "link type {0} is not supported (read: Ethernet, VLAN, Linux cooked SLL/SLL2, loopback, raw IP)"
    )]
    UnsupportedLinktype(u32),
    /// The underlying reader failed.
    #[error("read error")]
    Read,
}

/// One side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side that opened the connection (sent the SYN, else the ClientHello or request).
    Client,
    /// The side that accepted it.
    Server,
}

impl Side {
    /// `client` or `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndKind {
    /// A FIN: an orderly close.
    Fin,
    /// A RST: an abort.
    Rst,
}

/// The first FIN or RST of a connection, and the state it found the connection in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    /// FIN or RST.
    pub kind: EndKind,
    /// Who sent it.
    pub by: Side,
    /// When, from the connection's first packet (ms).
    pub at_ms: f64,
    /// A RST was sent by either side at some point (after the first FIN, or as the first end).
    pub reset_by: Vec<Side>,
    /// A request was waiting for its first response byte.
    pub awaiting_response: bool,
    /// How long that request had waited (ms).
    pub waited_ms: Option<f64>,
    /// A response had begun and (as far as HTTP shows) not finished, or the server side ended
    /// within a second of its last bytes while the client had not ended.
    pub during_response: bool,
    /// TLS: the sender's last record before the end looked like a close_notify alert.
    pub close_notify: Option<bool>,
    /// TLS: the sender's stream stopped in the middle of a record.
    pub mid_record: bool,
}

/// Per-direction counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectionStats {
    /// Packets sent.
    pub packets: u64,
    /// Payload bytes sent, retransmissions excluded.
    pub bytes: u64,
    /// Segments carrying bytes already sent.
    pub retransmissions: u64,
    /// Packets advertising a zero receive window.
    pub zero_windows: u64,
    /// Pure ACKs repeating the previous acknowledgement and window.
    pub dup_acks: u64,
}

/// A silence inside a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Response bytes seen before it.
    pub after_bytes: u64,
    /// When it began, from the connection's first packet (ms).
    pub at_ms: f64,
    /// How long (ms).
    pub duration_ms: f64,
}

/// One request and its response, as the bytes show them: a client burst of application data
/// then the server's answer until the client speaks again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// When the request's first byte was seen, from the connection's first packet (ms).
    pub request_at_ms: f64,
    /// Request bytes (TLS: application-data records, headers included).
    pub request_bytes: u64,
    /// Request → first response byte (ms); none when no answer came.
    pub wait_ms: Option<f64>,
    /// First → last response byte (ms).
    pub response_ms: Option<f64>,
    /// Response bytes.
    pub response_bytes: u64,
    /// Silences inside the response over the threshold.
    pub gaps: Vec<Gap>,
    /// Plain HTTP: the request line.
    pub request_line: Option<String>,
    /// Plain HTTP: the response status.
    pub status: Option<u16>,
    /// Plain HTTP: the announced Content-Length.
    pub content_length: Option<u64>,
    /// Plain HTTP: body bytes seen, when the length is known.
    pub body_bytes: Option<u64>,
}

impl Exchange {
    /// The longest silence on the server side: the wait for the first byte or a gap.
    pub fn longest_wait_ms(&self) -> f64 {
        let gaps = self.gaps.iter().map(|g| g.duration_ms);
        gaps.chain(self.wait_ms).fold(0.0, f64::max)
    }

    /// Plain HTTP: the body ended short of its Content-Length.
    pub fn truncated(&self) -> bool {
        matches!((self.content_length, self.body_bytes), (Some(want), Some(got)) if got < want)
    }
}

/// A ClientHello as seen on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloSeen {
    /// When it was complete, from the connection's first packet (ms).
    pub at_ms: f64,
    /// Server name indication.
    pub sni: Option<String>,
    /// ALPN offered.
    pub alpn: Vec<String>,
    /// JA3 string.
    pub ja3: String,
    /// JA3 MD5.
    pub ja3_hash: String,
    /// JA4.
    pub ja4: String,
    /// Handshake message size (bytes, header included).
    pub size: usize,
    /// TLS records it was carried in.
    pub records: u32,
    /// TCP segments that carried it.
    pub segments: u32,
    /// The TLS stack the JA4 knowledge file (data/hello-stacks.toml) names for it: who spoke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

/// A ServerHello as seen on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerHelloSeen {
    /// When it was complete, from the connection's first packet (ms).
    pub at_ms: f64,
    /// JA3S string.
    pub ja3s: String,
    /// JA3S MD5.
    pub ja3s_hash: String,
    /// Negotiated version (`TLS 1.3`).
    pub version: String,
    /// Negotiated cipher suite (IANA name or hex).
    pub cipher: String,
    /// A HelloRetryRequest rather than a ServerHello.
    pub retry: bool,
    /// ALPN selected.
    pub alpn: Option<String>,
}

/// A TLS alert record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Who sent it.
    pub from: Side,
    /// When, from the connection's first packet (ms).
    pub at_ms: f64,
    /// Level and description when in the clear (`fatal handshake_failure`); `encrypted` after
    /// the keys changed (usually a close_notify).
    pub text: String,
    /// The description code when in the clear.
    pub description: Option<u8>,
}

/// What TLS showed on a connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsSeen {
    /// ClientHellos in stream order (a second one follows a HelloRetryRequest).
    pub client_hellos: Vec<HelloSeen>,
    /// The first ServerHello (or HelloRetryRequest).
    pub server_hello: Option<ServerHelloSeen>,
    /// ClientHello → handshake complete (TLS 1.3: the client's Finished; TLS 1.2: both
    /// ChangeCipherSpecs) (ms).
    pub handshake_ms: Option<f64>,
    /// The certificate chain as presented (DER), when visible (TLS ≤ 1.2).
    #[serde(skip)]
    pub certificates: Vec<Vec<u8>>,
    /// Number of certificates presented in the clear.
    pub certificate_count: usize,
    /// Alerts.
    pub alerts: Vec<Alert>,
}

/// What the connection carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Payload {
    /// No payload seen.
    None,
    /// TLS records.
    Tls,
    /// Plain HTTP/1.x.
    Http,
    /// Something else.
    Other,
}

/// One TCP connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// Order of its first packet in the capture (0-based).
    pub index: usize,
    /// Client address.
    pub client: SocketAddr,
    /// Server address.
    pub server: SocketAddr,
    /// Time of its first packet (µs since the Unix epoch, as the capture recorded it).
    pub start_us: u64,
    /// First → last packet (ms).
    pub duration_ms: f64,
    /// The handshake was seen (a SYN).
    pub syn_seen: bool,
    /// SYN → SYN/ACK (ms): the path's round trip when captured on the client side, about 0
    /// when captured on the server.
    pub syn_synack_ms: Option<f64>,
    /// SYN/ACK → the client's ACK (ms): the round trip when captured on the server side.
    pub synack_ack_ms: Option<f64>,
    /// What it carried.
    pub payload: Payload,
    /// TLS, when it carried TLS.
    pub tls: Option<TlsSeen>,
    /// Exchanges kept (see [`Limits::max_exchanges`]).
    pub exchanges: Vec<Exchange>,
    /// Exchanges seen.
    pub exchanges_total: u64,
    /// Server bytes that came before any request (protocol prefaces, session tickets).
    pub unsolicited_bytes: u64,
    /// The end, if the capture saw one.
    pub end: Option<End>,
    /// Client → server counters.
    pub client_stats: DirectionStats,
    /// Server → client counters.
    pub server_stats: DirectionStats,
    /// What could not be followed (holes, oversized messages, limits).
    pub notes: Vec<String>,
}

impl Connection {
    /// The first ClientHello's SNI.
    pub fn sni(&self) -> Option<&str> {
        self.tls
            .as_ref()
            .and_then(|t| t.client_hellos.first())
            .and_then(|h| h.sni.as_deref())
    }

    /// Counters of one side.
    pub fn stats(&self, side: Side) -> &DirectionStats {
        match side {
            Side::Client => &self.client_stats,
            Side::Server => &self.server_stats,
        }
    }
}

/// Counters describing what was read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Packet records read.
    pub packets: u64,
    /// Packets carrying TCP over IPv4 or IPv6.
    pub tcp_packets: u64,
    /// Packets skipped: not TCP, fragments, undecodable headers, unsupported link types.
    pub skipped_packets: u64,
    /// Packets cut by the capture's snap length (captured length < wire length).
    pub snaplen_truncated: u64,
    /// Link types met that are not decoded.
    pub unsupported_linktypes: Vec<u32>,
    /// The file ended inside a record or a block could not be parsed; what came before was
    /// used.
    pub truncated_file: bool,
    /// Connections not tracked because of [`Limits::max_connections`].
    pub untracked_connections: u64,
    /// Time of the first and last packet (µs since the Unix epoch).
    pub first_us: Option<u64>,
    /// See `first_us`.
    pub last_us: Option<u64>,
}

/// Everything read from one or more captures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flows {
    /// Connections in order of first appearance.
    pub connections: Vec<Connection>,
    /// Counters.
    pub stats: Stats,
    /// Notes about the capture as a whole (snap length, truncation, limits).
    pub notes: Vec<String>,
}

pub(crate) fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}
