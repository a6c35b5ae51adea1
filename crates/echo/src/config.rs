//! Configuration: where to listen, which certificate, and every limit.

use std::net::SocketAddr;
use std::time::Duration;

use crate::certs::CertSource;
use crate::error::EchoError;

/// Every limit the witness enforces. The defaults suit a small internet-facing host; all of
/// them can be changed (tests and the load test tighten or loosen them).
#[derive(Debug, Clone)]
#[non_exhaustive] // built from Default and adjusted, so fields can be added
pub struct Limits {
    /// Connections held at once (all sources); beyond it new connections get a TLS alert and
    /// are closed.
    pub max_connections: usize,
    /// Connections held at once from one source (an IPv4 address or an IPv6 /64).
    pub max_connections_per_source: usize,
    /// Sources tracked at once for the per-source limits; beyond it (after evicting idle
    /// entries) new sources are refused, so the table can never grow without bound.
    pub max_sources: usize,
    /// Time from accept until the ClientHello is read *and* the TLS handshake is done.
    pub handshake_timeout: Duration,
    /// Time allowed to send a request head once the first byte of it arrived (HTTP/1.1).
    pub header_read_timeout: Duration,
    /// A connection with no byte moving in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// A connection older than this is closed (gracefully: in-flight responses finish).
    pub max_connection_age: Duration,
    /// Largest ClientHello handshake message accepted (bytes).
    pub max_hello_len: usize,
    /// Largest HTTP/1.1 request head / HTTP/2 header list (bytes).
    pub max_request_head: usize,
    /// Concurrent HTTP/2 streams per connection.
    pub max_h2_streams: u32,
    /// Largest payload `bytes=N` served; larger requests get 400.
    pub max_payload_bytes: u64,
    /// Requests per second a source may sustain (token bucket refill rate).
    pub requests_per_second: f64,
    /// Requests a source may send in a burst (token bucket size).
    pub request_burst: f64,
    /// Payload bytes per second a source may sustain.
    pub payload_bytes_per_second: f64,
    /// Payload bytes a source may fetch in a burst (at least `max_payload_bytes`, so one
    /// maximal request is always possible from a fresh source).
    pub payload_burst_bytes: f64,
    /// Payload digests computed at once (each hashes up to `max_payload_bytes`).
    pub max_concurrent_digests: usize,
    /// Refusal log lines per second; beyond it lines are counted and summarised, so a flood
    /// cannot fill the disk through the log.
    pub max_log_lines_per_second: u32,
    /// On shutdown, how long to wait for open connections to finish.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_connections_per_source: 64,
            max_sources: 65_536,
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connection_age: Duration::from_secs(300),
            max_hello_len: 32 * 1024,
            max_request_head: 16 * 1024,
            max_h2_streams: 32,
            max_payload_bytes: 64 * 1024 * 1024,
            requests_per_second: 20.0,
            request_burst: 200.0,
            payload_bytes_per_second: 32.0 * 1024.0 * 1024.0,
            payload_burst_bytes: 256.0 * 1024.0 * 1024.0,
            max_concurrent_digests: 2,
            max_log_lines_per_second: 20,
            drain_timeout: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// Checks that the limits make sense together.
    pub fn validate(&self) -> Result<(), EchoError> {
        let bad = |what: &str| Err(EchoError::Config(what.to_string()));
        if self.max_connections == 0 || self.max_connections > (u32::MAX as usize) {
            return bad("max_connections must be between 1 and 2^32-1");
        }
        if self.max_connections_per_source == 0 || self.max_sources == 0 {
            return bad("per-source limits must be at least 1");
        }
        if self.handshake_timeout.is_zero()
            || self.header_read_timeout.is_zero()
            || self.idle_timeout.is_zero()
            || self.max_connection_age.is_zero()
        {
            return bad("timeouts must be positive");
        }
        if self.max_hello_len < 512 || self.max_hello_len > (1 << 24) {
            return bad("max_hello_len must be between 512 and 16 MiB");
        }
        // hyper refuses HTTP/1.1 read buffers under 8 KiB.
        if self.max_request_head < 8192 {
            return bad("max_request_head must be at least 8192");
        }
        if self.max_h2_streams == 0 || self.max_concurrent_digests == 0 {
            return bad("max_h2_streams and max_concurrent_digests must be at least 1");
        }
        let positive = [
            self.requests_per_second,
            self.request_burst,
            self.payload_bytes_per_second,
            self.payload_burst_bytes,
        ];
        if positive.iter().any(|v| !v.is_finite() || *v <= 0.0) {
            return bad("rates and bursts must be positive and finite");
        }
        if self.payload_burst_bytes < self.max_payload_bytes as f64 {
            return bad("payload_burst_bytes must be at least max_payload_bytes");
        }
        Ok(())
    }
}

/// Configuration of the TLS-terminating witness ([`crate::EchoServer`]).
#[derive(Debug, Clone)]
#[non_exhaustive] // built from Default and adjusted, so fields can be added
pub struct EchoConfig {
    /// Address to listen on (port 0 picks a free port; read it back with `local_addr`).
    pub listen: SocketAddr,
    /// The certificate (chain) and key to serve.
    pub cert: CertSource,
    /// Every limit.
    pub limits: Limits,
    /// The visit page and the visits log (the browser witness).
    pub visits: crate::visit::VisitSettings,
    /// Serve `/metrics` over plain HTTP on this address (a private interface) instead of on
    /// the internet-facing TLS port, which then answers 404 for it.
    pub metrics_listen: Option<SocketAddr>,
}

impl EchoConfig {
    /// A configuration with default limits.
    pub fn new(listen: SocketAddr, cert: CertSource) -> Self {
        Self {
            listen,
            cert,
            limits: Limits::default(),
            visits: crate::visit::VisitSettings::default(),
            metrics_listen: None,
        }
    }
}

/// Configuration of the recording passthrough ([`crate::PassthroughServer`]).
#[derive(Debug, Clone)]
#[non_exhaustive] // built from Default and adjusted, so fields can be added
pub struct PassthroughConfig {
    /// Address the clients connect to (typically the public :443).
    pub listen: SocketAddr,
    /// The real server, `HOST:PORT`, reached over plain TCP (no TLS termination here).
    pub upstream: String,
    /// Address of the plain-HTTP query API (keep it on loopback or a private interface).
    pub api: SocketAddr,
    /// Hellos remembered; the oldest is dropped first.
    pub ring_capacity: usize,
    /// Time allowed to connect to the upstream.
    pub connect_timeout: Duration,
    /// Every limit (payload and request limits do not apply; the API has its own small caps).
    pub limits: Limits,
}

impl PassthroughConfig {
    /// A configuration with a ring of 10 000 hellos and limits for a real site's port:
    /// connections carry the site's own traffic (keep-alive, long HTTP/2 sessions, offices
    /// behind one NAT address), so idle, age and per-source limits are looser than the
    /// witness's.
    pub fn new(listen: SocketAddr, upstream: impl Into<String>, api: SocketAddr) -> Self {
        let limits = Limits {
            max_connections_per_source: 256,
            idle_timeout: Duration::from_secs(300),
            max_connection_age: Duration::from_secs(3600),
            ..Limits::default()
        };
        Self {
            listen,
            upstream: upstream.into(),
            api,
            ring_capacity: 10_000,
            connect_timeout: Duration::from_secs(5),
            limits,
        }
    }
}
