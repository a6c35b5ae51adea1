//! What access logs say, gathered: the input of [`crate::analyse_logs`].

use interloper_model::PhaseStats;
use serde::{Deserialize, Serialize};

/// Everything gathered from one or more access logs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogEvidence {
    /// Each file read.
    pub sources: Vec<LogSource>,
    /// Static requests per backend (one group `all` when the log names no backend).
    pub groups: Vec<LogGroup>,
    /// What the groups are: `backend` (the log names the upstream that answered) or `log`.
    pub grouped_by: String,
    /// A static request slower than this (milliseconds) counts as slow.
    pub slow_ms: f64,
    /// Width of the groups' timeline buckets, in seconds (60, or a doubling of it when the logs
    /// span too long for per-minute buckets); 0 when no line had a time.
    #[serde(default)]
    pub timeline_seconds: u64,
}

/// One file read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogSource {
    /// File name as given.
    pub name: String,
    /// Format read (`combined`, `haproxy`, `json`).
    pub format: String,
    /// Lines read.
    pub lines: u64,
    /// Lines that parsed.
    pub parsed: u64,
    /// Lines that did not, with the first reason and line number.
    pub unparsed: u64,
    /// Why the first unparsed line was not read, with its number.
    pub first_unparsed: Option<String>,
    /// Requests for static files among the parsed lines.
    pub static_requests: u64,
    /// Earliest and latest request time seen, seconds since the epoch (UTC).
    pub first_time: Option<i64>,
    /// Latest request time seen.
    pub last_time: Option<i64>,
    /// Lines left out because their time is outside `--since` / `--until` (or, with a window
    /// given, has no time): counted in `lines`, not in `parsed`.
    #[serde(default)]
    pub outside_window: u64,
}

/// How a static request went wrong, as the log shows it (one sign per request, the most
/// telling first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogSign {
    /// The proxy gave up waiting for the backend.
    ServerTimeout,
    /// The backend failed or reset.
    ServerFailed,
    /// The proxy gave up waiting for the client.
    ClientTimeout,
    /// The client closed the connection before the response was done.
    ClientClosed,
    /// Fewer body bytes were logged than the file has.
    Partial,
    /// Slow, and the backend answered quickly: the time went into delivering to the client.
    SlowDelivery,
    /// Slow, with the backend slow too (or its time not logged).
    Slow,
}

impl LogSign {
    /// Every sign, most telling first.
    pub const ALL: [LogSign; 7] = [
        LogSign::ServerTimeout,
        LogSign::ServerFailed,
        LogSign::ClientTimeout,
        LogSign::ClientClosed,
        LogSign::Partial,
        LogSign::SlowDelivery,
        LogSign::Slow,
    ];

    /// Words for reports.
    pub fn describe(self) -> &'static str {
        match self {
            LogSign::ServerTimeout => "timed out waiting for the backend",
            LogSign::ServerFailed => "failed at the backend",
            LogSign::ClientTimeout => "timed out waiting for the client",
            LogSign::ClientClosed => "ended by the client",
            LogSign::Partial => "sent partly",
            LogSign::SlowDelivery => "slow to deliver though the backend was fast",
            LogSign::Slow => "slow",
        }
    }
}

/// Static requests through one backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    /// The backend (`10.0.0.4:8000`, `static/srv4`) or `all`.
    pub name: String,
    /// Every request through it, static or not.
    pub requests: u64,
    /// Static requests through it.
    pub static_requests: u64,
    /// Static requests per sign (`sign → count`), signs absent when zero.
    pub signs: Vec<(LogSign, u64)>,
    /// Static requests answered 404.
    pub not_found: u64,
    /// Static requests answered 403.
    pub forbidden: u64,
    /// Static requests on connections the proxy saw retransmit heavily (Avi).
    pub network_trouble: u64,
    /// Duration of static requests, in milliseconds.
    pub duration: PhaseStats,
    /// Backend time of static requests, when logged.
    pub upstream: Option<PhaseStats>,
    /// A few lines behind the signs, first seen first.
    pub examples: Vec<LogExample>,
    /// Upstream tries sent to this backend, as nginx's `$upstream_addr` lists them (0 when
    /// the log has no such list). A request nginx passed on to the next server counts a try
    /// for each server it tried.
    #[serde(default)]
    pub tries: u64,
    /// Tries after which nginx moved on to another server: this backend failed them (the
    /// request itself may have succeeded elsewhere, later).
    #[serde(default)]
    pub failed_tries: u64,
    /// Time to connect to this backend (`$upstream_connect_time`), per try, in milliseconds.
    #[serde(default)]
    pub connect: Option<PhaseStats>,
    /// Time to this backend's response header (`$upstream_header_time`), per try, in
    /// milliseconds.
    #[serde(default)]
    pub header: Option<PhaseStats>,
    /// Client TLS versions of its static requests (`$ssl_protocol`), most used first.
    #[serde(default)]
    pub tls_protocols: Vec<(String, u64)>,
    /// Client TLS cipher suites of its static requests (`$ssl_cipher`), most used first.
    #[serde(default)]
    pub tls_ciphers: Vec<(String, u64)>,
    /// When its static requests happened and how they went: one bucket per
    /// [`LogEvidence::timeline_seconds`], buckets without requests left out, oldest first.
    #[serde(default)]
    pub timeline: Vec<LogBucket>,
}

/// Static requests of one backend in one time bucket, by how they went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBucket {
    /// Bucket start, seconds since the epoch (UTC).
    pub start: i64,
    /// Answered, in time, without a server error.
    pub ok: u64,
    /// Answered, but slower than the slow threshold.
    pub slow: u64,
    /// Ended on the client side (closed or timed out).
    pub client_aborted: u64,
    /// Ended by a server error: a 5xx, or the backend timed out or failed.
    pub server_errors: u64,
}

impl LogGroup {
    /// Requests with `sign`.
    pub fn count(&self, sign: LogSign) -> u64 {
        self.signs
            .iter()
            .find(|(s, _)| *s == sign)
            .map_or(0, |(_, n)| *n)
    }

    /// Requests with any sign.
    pub fn bad_requests(&self) -> u64 {
        self.signs.iter().map(|(_, n)| n).sum()
    }
}

/// One log line behind a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogExample {
    /// What it shows.
    pub sign: LogSign,
    /// `file:line`.
    pub location: String,
    /// The line (cut to a few hundred characters) or, when it was not kept, its fields.
    pub text: String,
}
