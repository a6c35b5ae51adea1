//! Counters of what the witness did and refused: cheap atomics read by tests and the CLI, and
//! their OpenMetrics exposition (prometheus-client) for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

macro_rules! counters {
    (
        counters { $($(#[doc = $doc:literal])* $name:ident),* $(,)? }
        gauges { $($(#[doc = $gdoc:literal])* $gauge:ident),* $(,)? }
    ) => {
        /// Live counters and gauges (shared by all connections).
        #[derive(Debug, Default)]
        pub struct Stats {
            $($(#[doc = $doc])* pub $name: AtomicU64,)*
            $($(#[doc = $gdoc])* pub $gauge: AtomicU64,)*
        }

        /// A copy of [`Stats`] at one moment.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct StatsSnapshot {
            $($(#[doc = $doc])* pub $name: u64,)*
            $($(#[doc = $gdoc])* pub $gauge: u64,)*
        }

        impl Stats {
            /// Reads every counter and gauge.
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot {
                    $($name: self.$name.load(Ordering::Relaxed),)*
                    $($gauge: self.$gauge.load(Ordering::Relaxed),)*
                }
            }
        }

        impl StatsSnapshot {
            /// Every counter, `interloper_echo_NAME_total`, and every gauge,
            /// `interloper_echo_NAME`, with its help (the field's doc), in a registry; the
            /// refusals also as one family, `interloper_echo_refused_total{reason}`.
            pub fn registry(&self) -> Registry {
                let mut registry = Registry::default();
                $(
                    let counter: Counter = Counter::default();
                    counter.inc_by(self.$name);
                    registry.register(
                        concat!("interloper_echo_", stringify!($name)),
                        concat!($($doc),*).trim(),
                        counter,
                    );
                )*
                register_refusals(&mut registry, self);
                // The gauges describe the served certificate: a passthrough, which serves
                // none, never loaded one and shows none rather than a failed load.
                if self.cert_last_reload_timestamp_seconds != 0 {
                    $(
                        let gauge: Gauge = Gauge::default();
                        gauge.set(i64::try_from(self.$gauge).unwrap_or(i64::MAX));
                        registry.register(
                            concat!("interloper_echo_", stringify!($gauge)),
                            concat!($($gdoc),*).trim(),
                            gauge,
                        );
                    )*
                }
                registry
            }

            /// The registry in the OpenMetrics text format ([`METRICS_CONTENT_TYPE`]): what
            /// the witness answers on [`PATH_METRICS`].
            pub fn openmetrics_text(&self) -> String {
                let mut out = String::new();
                if prometheus_client::encoding::text::encode(&mut out, &self.registry()).is_err() {
                    // Encoding into a String cannot fail on I/O; keep the answer valid.
                    out = "# EOF\n".to_string();
                }
                out
            }
        }
    };
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

/// Every refusal by reason, one family an alert or a dashboard can sum.
fn register_refusals(registry: &mut Registry, s: &StatsSnapshot) {
    let refused: Family<ReasonLabel, Counter> = Family::default();
    let reasons = [
        ("connection_limit", s.refused_connection_limit),
        ("source_limit", s.refused_source_limit),
        ("source_table_full", s.refused_source_table_full),
        ("hello_timeout", s.hello_timeouts),
        ("malformed_hello", s.malformed_hellos),
        ("hello_eof", s.hello_eof),
        ("handshake_failure", s.handshake_failures),
        ("header_timeout", s.header_timeouts),
        ("rate_limited", s.rate_limited),
        ("bad_request", s.bad_requests),
        ("visit_report", s.visit_reports_refused),
    ];
    for (reason, count) in reasons {
        refused
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc_by(count);
    }
    registry.register(
        "interloper_echo_refused",
        "Connections and requests refused, by reason (each also has its own counter)",
        refused,
    );
}

counters! {
  counters {
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
    /// Certificate reloads that swapped in a new pair (SIGHUP, `EchoReloader::reload`).
    cert_reloads,
    /// Certificate reloads refused (unreadable files, a key that does not match the leaf):
    /// the pair served before stays.
    cert_reloads_refused,
    /// Log reopens (the visits log, after logrotate renamed it) that failed.
    log_reopen_failures,
  }
  gauges {
    /// 1 when the last certificate load (at start or on reload) succeeded, 0 when it was
    /// refused and an older pair is still served: what an alert reads.
    cert_last_reload_successful,
    /// When the last certificate load was attempted (Unix seconds).
    cert_last_reload_timestamp_seconds,
    /// The served leaf's notAfter (Unix seconds; 0 when it cannot be parsed).
    cert_not_after_seconds,
  }
}

/// Where the witness answers its counters (Prometheus text format).
pub const PATH_METRICS: &str = "/metrics";

/// The content type of [`StatsSnapshot::openmetrics_text`].
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
