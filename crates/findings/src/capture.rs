//! What a capture shows, as the findings read it: per TCP connection, the waits and gaps of its
//! exchanges, how it ended and who ended it, its loss signs and its TLS handshake.
//!
//! Findings-owned, like [`crate::LogEvidence`] and [`crate::BrowserEvidence`]: the crate that
//! reads captures (`interloper-flows`, `capture_evidence`) fills it in, so `findings` links no
//! capture parser and whatever judges evidence (the witness, the check) does not either.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// The evidence of one capture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureEvidence {
    /// Every TCP connection, in the order the capture opened them.
    pub connections: Vec<Connection>,
    /// Packet records read.
    pub packets: u64,
}

/// One side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    /// The side that opened the connection.
    Client,
    /// The side that accepted it.
    Server,
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndKind {
    /// A FIN: an orderly close.
    Fin,
    /// A RST: an abort.
    Rst,
}

/// One TCP connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// Its number in the capture (what evidence names it by).
    pub index: usize,
    /// The side that opened it.
    pub client: SocketAddr,
    /// The side that accepted it.
    pub server: SocketAddr,
    /// Its TLS handshake, when it spoke TLS.
    pub tls: Option<Tls>,
    /// Requests and their responses, in order (plain HTTP/1.1; empty under TLS).
    pub exchanges: Vec<Exchange>,
    /// Its first FIN or RST.
    pub end: Option<End>,
    /// Loss signs of what the client sent.
    pub client_loss: Loss,
    /// Loss signs of what the server sent.
    pub server_loss: Loss,
}

impl Connection {
    /// The loss signs of one side.
    pub fn loss(&self, side: Side) -> &Loss {
        match side {
            Side::Client => &self.client_loss,
            Side::Server => &self.server_loss,
        }
    }

    /// `#index client → server`: how evidence names the connection.
    pub fn label(&self) -> String {
        format!("#{} {} → {}", self.index, self.client, self.server)
    }
}

/// A TLS handshake as the capture saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tls {
    /// The first ClientHello.
    pub hello: Option<Hello>,
    /// Whether a ServerHello answered.
    pub server_hello: bool,
    /// ClientHello → the end of the handshake (ms), when it completed.
    pub handshake_ms: Option<f64>,
    /// Alerts in the clear, in order.
    pub alerts: Vec<Alert>,
}

/// A ClientHello.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The server name it asked for.
    pub sni: Option<String>,
    /// Its JA4.
    pub ja4: String,
    /// The stack the knowledge file names for it, when it does.
    pub stack: Option<String>,
    /// Its size in bytes.
    pub size: usize,
    /// TCP segments it arrived in.
    pub segments: u32,
}

/// A TLS alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Who sent it.
    pub from: Side,
    /// `fatal handshake_failure`, …
    pub text: String,
}

/// A request and its response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// The request line, when the traffic was plain.
    pub request_line: Option<String>,
    /// Request → the first response byte (ms).
    pub wait_ms: Option<f64>,
    /// Silences inside the response.
    pub gaps: Vec<Gap>,
    /// The Content-Length announced.
    pub content_length: Option<u64>,
    /// Body bytes seen.
    pub body_bytes: Option<u64>,
}

impl Exchange {
    /// The body ended short of its Content-Length.
    pub fn truncated(&self) -> bool {
        matches!((self.content_length, self.body_bytes), (Some(want), Some(got)) if got < want)
    }
}

/// A silence inside a response.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Response bytes before it.
    pub after_bytes: u64,
    /// How long (ms).
    pub duration_ms: f64,
}

/// The first FIN or RST and the state it found the connection in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    /// FIN or RST.
    pub kind: EndKind,
    /// Who sent it.
    pub by: Side,
    /// A request was waiting for its first response byte.
    pub awaiting_response: bool,
    /// How long that request had waited (ms).
    pub waited_ms: Option<f64>,
    /// A response was arriving.
    pub during_response: bool,
    /// TLS: the sender's last record looked like a close_notify alert.
    pub close_notify: Option<bool>,
    /// TLS: the sender's stream stopped in the middle of a record.
    pub mid_record: bool,
}

/// Loss signs of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loss {
    /// Packets sent.
    pub packets: u64,
    /// Of which retransmitted.
    pub retransmissions: u64,
    /// Zero-window advertisements.
    pub zero_windows: u64,
}
