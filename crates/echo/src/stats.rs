//! Counters of what the witness did and refused; cheap atomics read by tests and the CLI.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Live counters (shared by all connections).
        #[derive(Debug, Default)]
        pub struct Stats {
            $($(#[$doc])* pub $name: AtomicU64,)*
        }

        /// A copy of [`Stats`] at one moment.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct StatsSnapshot {
            $($(#[$doc])* pub $name: u64,)*
        }

        impl Stats {
            /// Reads every counter.
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }

        impl StatsSnapshot {
            /// Every counter in Prometheus's text format, `interloper_echo_NAME_total`: what
            /// the witness answers on [`PATH_METRICS`].
            pub fn prometheus_text(&self) -> String {
                let mut out = String::new();
                $(
                    out.push_str(&format!(
                        "# TYPE interloper_echo_{0}_total counter\ninterloper_echo_{0}_total {1}\n",
                        stringify!($name),
                        self.$name
                    ));
                )*
                out
            }
        }
    };
}

counters! {
    /// TCP connections accepted (including those refused right after).
    accepted,
    /// Refused: the global connection limit was reached.
    refused_connection_limit,
    /// Refused: the source's connection limit was reached.
    refused_source_limit,
    /// Refused: the source table was full.
    refused_source_table_full,
    /// No whole ClientHello within the handshake timeout.
    hello_timeouts,
    /// Bytes that were not a ClientHello (or too large).
    malformed_hellos,
    /// Peer closed before a whole hello.
    hello_eof,
    /// rustls refused the handshake, or it timed out.
    handshake_failures,
    /// Handshakes completed.
    handshakes,
    /// Connections closed for idleness (no byte moved for `idle_timeout`).
    idle_cuts,
    /// Connections closed for age.
    age_cuts,
    /// HTTP/1.1 request heads not complete within `header_read_timeout`.
    header_timeouts,
    /// Requests served (any status).
    requests,
    /// Requests refused by the per-source rate limit (429).
    rate_limited,
    /// Requests refused for method, size or parameters (4xx other than 404/429).
    bad_requests,
    /// Payload bytes promised in Content-Length.
    payload_bytes,
    /// Passthrough: hellos recorded.
    hellos_recorded,
    /// Passthrough: connections forwarded without a recorded hello (not TLS).
    forwarded_unrecorded,
    /// Passthrough: upstream connect failures.
    upstream_failures,
    /// Visit pages served (a visit opened).
    visits_opened,
    /// Visit reports judged.
    visit_reports,
    /// Visit reports refused (malformed, too large, unknown or expired visit).
    visit_reports_refused,
}

/// Where the witness answers its counters (Prometheus text format).
pub const PATH_METRICS: &str = "/metrics";

/// The content type of [`StatsSnapshot::prometheus_text`].
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
