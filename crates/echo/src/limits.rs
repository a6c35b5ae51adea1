//! Per-source accounting (connections, request and byte token buckets) in a bounded table, and
//! a rate-limited refusal log.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use log::Level;

use crate::config::Limits;
use crate::stats::{Stats, bump};

/// Sources are IPv4 addresses or IPv6 /64s: one host usually owns a whole /64, so counting
/// single v6 addresses would let it walk around every limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    V4(u32),
    /// The upper 64 bits of the address.
    V6(u64),
}

impl Source {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Source::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source::V4(u32::from(v4)),
                None => Source::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn full(rate: f64, burst: f64) -> Self {
        Self {
            tokens: burst,
            rate,
            burst,
        }
    }
    fn refill(&mut self, secs: f64) {
        self.tokens = (self.tokens + secs * self.rate).min(self.burst);
    }
    fn take(&mut self, n: f64) -> bool {
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
    fn seconds_until(&self, n: f64) -> f64 {
        ((n - self.tokens) / self.rate).max(0.0)
    }
    fn is_full(&self) -> bool {
        self.tokens >= self.burst
    }
}

struct Entry {
    connections: usize,
    requests: Bucket,
    bytes: Bucket,
    refilled: Instant,
}

impl Entry {
    fn refill(&mut self, now: Instant) {
        let secs = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.requests.refill(secs);
        self.bytes.refill(secs);
        self.refilled = now;
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    SourceLimit,
    TableFull,
}

/// The per-source table, bounded by `max_sources`.
pub(crate) struct Sources {
    limits: Limits,
    table: Mutex<HashMap<Source, Entry>>,
}

/// Holds one connection slot of a source; releases it on drop.
pub(crate) struct SourceGuard {
    sources: Arc<Sources>,
    source: Source,
}

impl Drop for SourceGuard {
    fn drop(&mut self) {
        if let Ok(mut t) = self.sources.table.lock()
            && let Some(e) = t.get_mut(&self.source)
        {
            e.connections = e.connections.saturating_sub(1);
        }
    }
}

impl Sources {
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            table: Mutex::new(HashMap::new()),
        })
    }

    /// Admits one more connection from `ip`, or says why not.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<SourceGuard, Refused> {
        let source = Source::of(ip);
        let now = Instant::now();
        // A poisoned lock only means another task panicked mid-update of plain counters;
        // the numbers are still usable.
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if !t.contains_key(&source) && t.len() >= self.limits.max_sources {
            // Forget sources with no connection and full buckets: they carry no state worth
            // keeping. Sweeping only when full keeps admission O(1) in the common case.
            t.retain(|_, e| {
                e.refill(now);
                e.connections > 0 || !e.requests.is_full() || !e.bytes.is_full()
            });
            if t.len() >= self.limits.max_sources {
                return Err(Refused::TableFull);
            }
        }
        let l = &self.limits;
        let e = t.entry(source).or_insert_with(|| Entry {
            connections: 0,
            requests: Bucket::full(l.requests_per_second, l.request_burst),
            bytes: Bucket::full(l.payload_bytes_per_second, l.payload_burst_bytes),
            refilled: now,
        });
        if e.connections >= l.max_connections_per_source {
            return Err(Refused::SourceLimit);
        }
        e.connections += 1;
        drop(t);
        Ok(SourceGuard {
            sources: Arc::clone(self),
            source,
        })
    }

    /// Charges one request and `bytes` payload bytes to the source. `Err(seconds)` says when
    /// to retry.
    pub(crate) fn charge(&self, ip: IpAddr, bytes: u64) -> Result<(), f64> {
        let source = Source::of(ip);
        let now = Instant::now();
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        // Admitted connections always have an entry; a missing one means the table was swept
        // under us, which cannot happen while the connection holds its guard.
        let Some(e) = t.get_mut(&source) else {
            return Err(1.0);
        };
        e.refill(now);
        let b = bytes as f64;
        if e.requests.tokens < 1.0 {
            return Err(e.requests.seconds_until(1.0));
        }
        if e.bytes.tokens < b {
            return Err(e.bytes.seconds_until(b));
        }
        let took = e.requests.take(1.0) && e.bytes.take(b);
        if took { Ok(()) } else { Err(1.0) }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.lock().map(|t| t.len()).unwrap_or(0)
    }
}

/// One log line per refusal or problem, at most `max_per_second` a second; the rest are
/// counted and reported in one summary line, so a flood cannot turn the log into the attack.
/// Lines the logger would drop (`-q`) are not counted against the limit.
pub(crate) struct RefusalLog {
    max_per_second: u32,
    state: Mutex<(Instant, u32, u64)>,
}

impl RefusalLog {
    pub(crate) fn new(max_per_second: u32) -> Self {
        Self {
            max_per_second,
            state: Mutex::new((Instant::now(), 0, 0)),
        }
    }

    /// `refused WHAT`, with the peer and the `reason` (info: a client's doing).
    pub(crate) fn refused(&self, peer: SocketAddr, what: &str, why: &str) {
        self.refused_at(Level::Info, peer, what, why);
    }

    /// `refused WHAT` because a bound of ours is reached (warn: the operator's to size).
    pub(crate) fn refused_over_limit(&self, peer: SocketAddr, what: &str, why: &str) {
        self.refused_at(Level::Warn, peer, what, why);
    }

    fn refused_at(&self, level: Level, peer: SocketAddr, what: &str, why: &str) {
        if self.admit(level) {
            log::log!(level, peer:% = peer, reason = why; "refused {what}");
        }
    }

    /// Any other notable event: `msg`, the peer when there is one, and the error.
    pub(crate) fn problem(&self, level: Level, peer: Option<SocketAddr>, msg: &str, err: &str) {
        if !self.admit(level) {
            return;
        }
        match peer {
            Some(peer) => log::log!(level, peer:% = peer, err; "{msg}"),
            None => log::log!(level, err; "{msg}"),
        }
    }

    /// Whether a line at `level` may be written now.
    fn admit(&self, level: Level) -> bool {
        if !log::log_enabled!(level) {
            return false;
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if now.saturating_duration_since(s.0).as_secs() >= 1 {
            if s.2 > 0 {
                log::warn!(suppressed = s.2; "log lines suppressed (rate limit)");
            }
            *s = (now, 0, 0);
        }
        if s.1 < self.max_per_second {
            s.1 += 1;
            true
        } else {
            s.2 += 1;
            false
        }
    }
}

/// Shared state for the refusal paths of both servers.
pub(crate) struct Guards {
    pub limits: Limits,
    pub sources: Arc<Sources>,
    pub log: RefusalLog,
    pub stats: Arc<Stats>,
}

impl Guards {
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            sources: Sources::new(limits.clone()),
            log: RefusalLog::new(limits.max_log_lines_per_second),
            stats: Arc::new(Stats::default()),
            limits,
        })
    }

    /// Admits a connection from `peer` or logs and counts why not.
    pub(crate) fn admit(&self, peer: SocketAddr) -> Option<SourceGuard> {
        match self.sources.admit(peer.ip()) {
            Ok(g) => Some(g),
            Err(Refused::SourceLimit) => {
                bump(&self.stats.refused_source_limit);
                self.log.refused_over_limit(
                    peer,
                    "connection",
                    &format!(
                        "source already holds {} connections",
                        self.limits.max_connections_per_source
                    ),
                );
                None
            }
            Err(Refused::TableFull) => {
                bump(&self.stats.refused_source_table_full);
                self.log.refused_over_limit(
                    peer,
                    "connection",
                    &format!("tracking {} sources already", self.limits.max_sources),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_connections_per_source: 2,
            max_sources: 2,
            requests_per_second: 1.0,
            request_burst: 2.0,
            payload_bytes_per_second: 10.0,
            payload_burst_bytes: 100.0,
            ..Limits::default()
        }
    }

    #[test]
    fn per_source_connections_are_capped_and_released() {
        let s = Sources::new(limits());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let a = s.admit(ip).unwrap();
        let _b = s.admit(ip).unwrap();
        assert_eq!(s.admit(ip).err(), Some(Refused::SourceLimit));
        drop(a);
        assert!(s.admit(ip).is_ok());
    }

    #[test]
    fn table_is_bounded_and_sweeps_idle_sources() {
        let s = Sources::new(limits());
        let g1 = s.admit("10.0.0.1".parse().unwrap()).unwrap();
        let _g2 = s.admit("10.0.0.2".parse().unwrap()).unwrap();
        assert_eq!(
            s.admit("10.0.0.3".parse().unwrap()).err(),
            Some(Refused::TableFull)
        );
        drop(g1);
        assert!(s.admit("10.0.0.3".parse().unwrap()).is_ok());
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn ipv6_sources_group_by_slash_64() {
        let a = Source::of("2001:db8::1".parse().unwrap());
        let b = Source::of("2001:db8::ffff:1".parse().unwrap());
        let c = Source::of("2001:db8:0:1::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            Source::of("::ffff:127.0.0.1".parse().unwrap()),
            Source::of("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn buckets_refuse_beyond_burst() {
        let s = Sources::new(limits());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let _g = s.admit(ip).unwrap();
        assert!(s.charge(ip, 60).is_ok());
        assert!(s.charge(ip, 60).is_err(), "bytes bucket holds 40");
        assert!(s.charge(ip, 0).is_ok());
        let wait = s.charge(ip, 0).unwrap_err();
        assert!(wait > 0.0 && wait <= 1.0);
    }
}
