//! What every request on a witness connection knows about it: the connection's clock, its
//! peer, the hello it began with and what the handshake settled on. Shared by the connection
//! task (which fills it) and the HTTP handlers (which read it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::certs::ServedChain;
use crate::witness::{ClientHelloReport, Negotiated, Stamp, Timestamps};

/// The witness's clock for one connection: wall time at accept plus monotonic offsets, so the
/// stamps of one connection are consistent even if the wall clock steps.
#[derive(Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
    start_unix_us: u64,
}

impl Clock {
    pub(crate) fn start() -> Self {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self {
            start: Instant::now(),
            start_unix_us: unix,
        }
    }

    pub(crate) fn stamp(&self) -> Stamp {
        let since = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        Stamp {
            unix_us: self.start_unix_us.saturating_add(since),
            since_accept_us: since,
        }
    }
}

/// What every request on a connection needs to know about it.
pub(crate) struct ConnCtx {
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub clock: Clock,
    pub hello: ClientHelloReport,
    pub negotiated: Negotiated,
    pub chain: Arc<ServedChain>,
    pub timestamps: Timestamps,
    pub requests: AtomicU64,
}
