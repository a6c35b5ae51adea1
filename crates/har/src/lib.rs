//! HAR 1.2 as real tools write it, read into the evidence model `check` uses.
//!
//! [`read`] streams a HAR document: `log.entries` is visited one entry at a time
//! (a serde `DeserializeSeed` over the array), each entry reduced at once to what the
//! findings need ([`HarRecord`]: a [`RequestRecord`] plus the browser's own signs), so a 1 GB
//! HAR costs the records kept (at most [`ReadOptions::max_records`]) plus the largest single
//! string in it — response bodies are skipped, never held.
//!
//! Each writer's field rules (Chrome/Edge DevTools, Firefox, Safari/WebKit, Playwright and
//! Puppeteer, Charles, Fiddler, mitmproxy) are in `docs/har.md`; [`Variant`] names them.
//! Timings map to the model's phases: `dns` → DNS, `connect` minus `ssl` → TCP connect (HAR's
//! `connect` includes the TLS handshake), `ssl` → TLS, `send` → write, `wait` → headers,
//! `receive` → body; `-1` is absent. `blocked` (and Chrome's `_blocked_queueing`) is kept apart
//! as queueing. An `entry.time` that disagrees with its timings is tolerated and counted in
//! [`Har::notes`].
//!
//! Pure: no I/O besides the reader handed in, no clocks. Bad input is a [`HarError`], never a
//! panic.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod convert;
mod evidence;
mod raw;
mod run;
mod stream;

pub use convert::{classify_failure, parse_http_version};
pub use evidence::{HarEvidence, HarSummary, evidence};
pub use raw::{Page, Software};
pub use run::{HarInputError, HarOutcome, HarPlan, run_har};

use interloper_model::RequestRecord;
use serde::{Deserialize, Serialize};
use std::io;

/// Who wrote the HAR, as far as its field rules differ (from `log.creator.name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Chrome or Edge DevTools ("WebInspector"), and tools built on its format (chrome-har,
    /// used by Puppeteer exporters).
    Chrome,
    /// Firefox DevTools.
    Firefox,
    /// Safari / WebKit Web Inspector.
    Safari,
    /// Playwright's `record_har`.
    Playwright,
    /// Charles Proxy.
    Charles,
    /// Fiddler.
    Fiddler,
    /// mitmproxy's HAR export.
    Mitmproxy,
    /// Anything else: the HAR 1.2 rules alone.
    Other,
}

impl Variant {
    /// The variant a `log.creator.name` stands for.
    pub fn from_creator(name: &str) -> Variant {
        let n = name.to_ascii_lowercase();
        if n == "webinspector" || n.contains("chrome") || n.contains("puppeteer") {
            Variant::Chrome
        } else if n.contains("firefox") {
            Variant::Firefox
        } else if n.contains("webkit") || n.contains("safari") {
            Variant::Safari
        } else if n.contains("playwright") {
            Variant::Playwright
        } else if n.contains("charles") {
            Variant::Charles
        } else if n.contains("fiddler") {
            Variant::Fiddler
        } else if n.contains("mitmproxy") {
            Variant::Mitmproxy
        } else {
            Variant::Other
        }
    }

    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Chrome => "chrome",
            Variant::Firefox => "firefox",
            Variant::Safari => "safari",
            Variant::Playwright => "playwright",
            Variant::Charles => "charles",
            Variant::Fiddler => "fiddler",
            Variant::Mitmproxy => "mitmproxy",
            Variant::Other => "other",
        }
    }

    /// True for the proxies: they see the request from the middle, so their timings start at
    /// the proxy and `blocked` means nothing about the browser.
    pub fn is_proxy(self) -> bool {
        matches!(
            self,
            Variant::Charles | Variant::Fiddler | Variant::Mitmproxy
        )
    }
}

/// Where the browser served a response from instead of the network (docs/har.md, "Cache
/// hits": each writer's way of saying so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheSource {
    /// The memory cache.
    Memory,
    /// The disk cache.
    Disk,
    /// A service worker.
    ServiceWorker,
    /// The browser's HTTP cache, the writer not saying which (Firefox's cache hits, a
    /// response of no bytes on the wire without `_fromCache`).
    HttpCache,
}

impl CacheSource {
    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheSource::Memory => "memory",
            CacheSource::Disk => "disk",
            CacheSource::ServiceWorker => "service-worker",
            CacheSource::HttpCache => "http-cache",
        }
    }
}

/// One HAR entry: the request record the detectors read, and what only a browser knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarRecord {
    /// The request as the evidence model has it (`seq` is the entry's index in the file;
    /// `started_ms` counts from the earliest entry).
    pub record: RequestRecord,
    /// `startedDateTime` as written.
    pub started: String,
    /// HTTP method.
    pub method: String,
    /// Time queued before the request could start (`_blocked_queueing`, else `blocked`), ms.
    pub queued_ms: Option<f64>,
    /// Served from a cache, not the network: left out of every timing.
    pub from_cache: Option<CacheSource>,
    /// A `304 Not Modified`: the browser's cached copy confirmed over the network. Timed like
    /// any request (the round trip was real), never judged for its body (it has none).
    #[serde(default)]
    pub revalidated: bool,
    /// True when a response (a status) arrived.
    pub answered: bool,
    /// The browser's or proxy's failure text (`net::ERR_CONNECTION_RESET`, `NS_ERROR_NET_RESET`,
    /// …), as written.
    pub failure: Option<String>,
    /// Bytes on the wire, headers included (Chrome's `_transferSize`).
    pub transfer_size: Option<u64>,
    /// The resource type the browser gave (`script`, `stylesheet`, …).
    pub resource_type: Option<String>,
    /// The page it belongs to (`pageref`).
    pub page: Option<String>,
    /// Firefox's `_securityState` (`secure`, `broken`, …).
    pub security_state: Option<String>,
    /// `entry.time` disagreed with the sum of the timings (kept as written).
    pub time_mismatch: bool,
}

impl HarRecord {
    /// The request reached the network and no response came: cancelled, still pending when
    /// the HAR was saved, or failed without a reason the browser wrote down.
    pub fn unanswered_without_reason(&self) -> bool {
        !self.answered && self.from_cache.is_none() && self.record.error.is_none()
    }
}

/// A HAR file, read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Har {
    /// `log.version` as written (`"1.2"`), or empty when absent.
    pub version: String,
    /// `log.creator`.
    pub creator: Option<Software>,
    /// `log.browser`.
    pub browser: Option<Software>,
    /// Whose field rules were applied.
    pub variant: Variant,
    /// `log.pages` (at most [`MAX_PAGES`] kept).
    pub pages: Vec<Page>,
    /// The entries, in file order (at most [`ReadOptions::max_records`]).
    pub records: Vec<HarRecord>,
    /// Entries read but not kept because of the cap.
    pub records_omitted: u64,
    /// What was tolerated (time mismatches, unparsable dates, skipped entries), one sentence
    /// each.
    pub notes: Vec<String>,
}

/// Pages kept from `log.pages`.
pub const MAX_PAGES: usize = 1000;

/// Limits of [`read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Entries kept at most; later ones are counted in [`Har::records_omitted`].
    pub max_records: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_records: 100_000,
        }
    }
}

/// Why a file is not a HAR we can read. Each displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum HarError {
    /// Not JSON at all.
    #[error("not JSON (line {line}, column {column}: {message})")]
    NotJson {
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's words.
        message: String,
    },
    /// The document stops in the middle (a truncated download or copy).
    #[error("the file ends in the middle of the HAR (truncated?) at line {line}, column {column}")]
    Truncated {
        /// Line where it ends.
        line: usize,
        /// Column where it ends.
        column: usize,
    },
    /// JSON, but not shaped like a HAR.
    #[error("JSON, but not a HAR: {0}")]
    NotHar(String),
    /// A `log.version` this reader does not know.
    #[error("HAR version {0:?} is not supported (1.1 and 1.2 are)")]
    UnsupportedVersion(String),
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads a HAR document from `reader`, streaming over its entries.
pub fn read<R: io::Read>(reader: R, opts: &ReadOptions) -> Result<Har, HarError> {
    stream::read(reader, opts)
}

/// Reads a HAR document held in memory (what the fuzz target calls).
pub fn from_slice(bytes: &[u8], opts: &ReadOptions) -> Result<Har, HarError> {
    stream::read(bytes, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error as `{:#}` prints it (anyhow's form: each cause after `: `).
    fn printed(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    #[test]
    fn an_io_error_prints_its_message_once() {
        let e = HarError::from(io::Error::other("disk on fire"));
        assert_eq!(printed(&e), "disk on fire");
    }

    #[test]
    fn creators_name_their_variant() {
        for (name, v) in [
            ("WebInspector", Variant::Chrome),
            ("Firefox", Variant::Firefox),
            ("WebKit Web Inspector", Variant::Safari),
            ("Playwright", Variant::Playwright),
            ("Charles Proxy", Variant::Charles),
            ("Fiddler", Variant::Fiddler),
            ("mitmproxy", Variant::Mitmproxy),
            ("chrome-har", Variant::Chrome),
            ("my tool", Variant::Other),
        ] {
            assert_eq!(Variant::from_creator(name), v, "{name}");
            assert_eq!(serde_json::to_value(v).expect("json"), v.as_str());
        }
    }
}
