//! Every report document interloper prints, and its renderings: one family.
//!
//! Each command's document — the check's [`Report`], [`HarReport`], [`LogReport`],
//! [`PcapReport`], [`LintReport`], [`VisitsReport`], [`RumReport`], the `tls` examination ([`tls`]) — carries
//! the same [`Header`] and a `findings::Diagnosis`, and implements [`Document`]: JSON (one
//! `schema` name each, from [`schema`]), the terminal (through the one painter,
//! [`TerminalStyle`]) and one self-contained HTML page (through the one HTML writer,
//! `markup::Html`). The renderers read only the document, so a saved JSON report can be
//! rendered again later.
//!
//! For a check, the command gathers evidence ([`TargetEvidence`]), the findings crate turns it
//! into an [`Analysis`], and [`Report::new`] joins the two into the document that `--json`
//! prints (documented in `docs/report-json.md`).
//!
//! Pure: no I/O besides the writer handed in, no clocks (the caller passes the generation
//! time), and no panics on odd input — empty reports, NaN timings, huge or hostile strings
//! (every string a server controls is escaped for the medium it is written to).
//!
//! ```
//! use interloper_findings::{analyse, ThresholdConfig, TargetEvidence};
//! use interloper_report::{render_terminal, Report, ReportMeta, TerminalStyle};
//!
//! let targets = vec![TargetEvidence { label: "https://example.test/".into(), ..Default::default() }];
//! let analysis = analyse(&targets, &ThresholdConfig::default());
//! let meta = ReportMeta::new("0.1.0", "2026-11-23T21:00:00Z", vec!["interloper".into(), "check".into()]);
//! let report = Report::new(analysis, targets, meta);
//! let mut out = Vec::new();
//! render_terminal(&report, &mut out, TerminalStyle { color: false, width: 80 }).unwrap();
//! assert!(String::from_utf8(out).unwrap().starts_with("CLEAN"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod build;
mod har;
mod html;
mod lint;
mod logs;
mod markup;
mod pcap;
mod probe;
mod rum;
mod svg;
mod terminal;
mod text;
pub mod tls;
mod visits;

pub use har::{HarReport, render_har_html, render_har_json, render_har_terminal};
pub use html::render_html;
pub use interloper_model::schema;
pub use lint::{LintInput, LintReport, render_lint_html, render_lint_json, render_lint_terminal};
pub use logs::{LogReport, render_logs_html, render_logs_json, render_logs_terminal};
pub use pcap::{
    HelloLine, PcapReport, PcapSource, end_words, render_pcap_html, render_pcap_json,
    render_pcap_terminal,
};
pub use probe::render_probe_terminal;
pub use rum::{RumReport, render_rum_html, render_rum_json, render_rum_terminal};
pub use terminal::{BOLD, DIM, GREEN, RED, TerminalStyle, render_terminal};
pub use tls::render_tls_terminal;
pub use visits::{
    VisitsReport, VisitsSummary, render_visits_html, render_visits_json, render_visits_terminal,
};

use interloper_findings::{
    Analysis, AssetCheck, Diagnosis, Finding, TargetEvidence, TargetSummary, ThresholdConfig,
    TlsEvidence, Verdict, WitnessEvidence,
};
use interloper_model::{ErrorKind, HttpVersion, PhaseStats, Phases, RequestError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::SocketAddr;

/// Requests kept per asset besides the failed and stalled ones (see [`ReportMeta`]).
pub const DEFAULT_REQUESTS_PER_ASSET: usize = 200;

/// Failed or stalled requests kept per asset at most, so a target that fails every one of
/// ten thousand requests still gives a report of bounded size.
pub const MAX_FLAGGED_PER_ASSET: usize = 1000;

/// Upper bounds (ms) of the latency histogram buckets; the last bucket is open-ended.
///
/// Roughly logarithmic (1-2-5), so a 3 ms median and a 2 s stall land in readable buckets.
pub const HISTOGRAM_BOUNDS_MS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
];

/// What the caller knows that the evidence does not: who made the report, when, how.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportMeta {
    /// Tool name (`interloper`).
    pub tool_name: String,
    /// Tool version.
    pub tool_version: String,
    /// Generation time, RFC 3339, as the caller formatted it (no clock is read here).
    pub generated_at: String,
    /// The command line, one argument per element.
    pub command: Vec<String>,
    /// Requests kept per asset besides the failed and stalled ones.
    pub requests_per_asset: usize,
    /// The thresholds the analysis used, so "stalled" means the same in the report.
    pub thresholds: ThresholdConfig,
}

impl ReportMeta {
    /// Metadata for `interloper` at `version`, with default limits and thresholds.
    pub fn new(version: &str, generated_at: &str, command: Vec<String>) -> ReportMeta {
        ReportMeta {
            tool_name: "interloper".to_string(),
            tool_version: version.to_string(),
            generated_at: generated_at.to_string(),
            command,
            requests_per_asset: DEFAULT_REQUESTS_PER_ASSET,
            thresholds: ThresholdConfig::default(),
        }
    }
}

/// The whole report: what `--json` prints and what the renderers read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Schema (always [`schema::REPORT`](interloper_model::schema::REPORT)), tool, time and command line.
    #[serde(flatten)]
    pub header: Header,
    /// The one-sentence answer.
    pub verdict: Verdict,
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// What was measured, per target (instance of the app).
    pub targets: Vec<TargetReport>,
    /// Things the run noticed that are not findings (a witness that spoke for no target, a
    /// budget that cut sampling short…), one sentence each.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A report document in the three forms a command prints it in; the CLI writes any of them
/// the same way.
pub trait Document {
    /// The versioned JSON document.
    fn write_json(&self, out: &mut dyn Write) -> io::Result<()>;
    /// For a terminal.
    fn write_terminal(&self, out: &mut dyn Write, style: TerminalStyle) -> io::Result<()>;
    /// The self-contained HTML page.
    fn write_html(&self, out: &mut dyn Write) -> io::Result<()>;
}

macro_rules! document {
    ($($t:ty => $json:path, $terminal:path, $html:path;)*) => {$(
        impl Document for $t {
            fn write_json(&self, mut out: &mut dyn Write) -> io::Result<()> {
                $json(self, &mut out)
            }
            fn write_terminal(&self, mut out: &mut dyn Write, style: TerminalStyle) -> io::Result<()> {
                $terminal(self, &mut out, style)
            }
            fn write_html(&self, mut out: &mut dyn Write) -> io::Result<()> {
                $html(self, &mut out)
            }
        }
    )*};
}

/// The check report (`interloper check`, `demo`): the terminal rendering ends with the run's
/// notes, dimmed.
impl Document for Report {
    fn write_json(&self, mut out: &mut dyn Write) -> io::Result<()> {
        render_json(self, &mut out)
    }
    fn write_terminal(&self, mut out: &mut dyn Write, style: TerminalStyle) -> io::Result<()> {
        render_terminal(self, &mut out, style)?;
        for n in &self.notes {
            writeln!(out, "{}", style.dim(&format!("note: {n}")))?;
        }
        Ok(())
    }
    fn write_html(&self, mut out: &mut dyn Write) -> io::Result<()> {
        render_html(self, &mut out)
    }
}

document! {
    HarReport => render_har_json, render_har_terminal, render_har_html;
    RumReport => render_rum_json, render_rum_terminal, render_rum_html;
    LogReport => render_logs_json, render_logs_terminal, render_logs_html;
    LintReport => render_lint_json, render_lint_terminal, render_lint_html;
    PcapReport => render_pcap_json, render_pcap_terminal, render_pcap_html;
    VisitsReport => render_visits_json, render_visits_terminal, render_visits_html;
}

/// The fields every report document begins with (flattened into it: the JSON is unchanged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The document's schema, e.g. [`schema::REPORT`](interloper_model::schema::REPORT).
    pub schema: String,
    /// The tool that wrote it.
    pub tool: Tool,
    /// When, RFC 3339 (given by the caller).
    pub generated_at: String,
    /// The command line that produced it.
    pub command: Vec<String>,
}

impl Header {
    /// The header of a `schema` document made as `meta` says.
    pub fn new(schema: &str, meta: &ReportMeta) -> Header {
        Header {
            schema: schema.to_string(),
            tool: Tool {
                name: meta.tool_name.clone(),
                version: meta.tool_version.clone(),
            },
            generated_at: meta.generated_at.clone(),
            command: meta.command.clone(),
        }
    }
}

/// Name and version of the tool that wrote a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// `interloper`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Everything measured about one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    /// Label (usually the page URL).
    pub label: String,
    /// The analysis' summary of this target.
    pub summary: TargetSummary,
    /// TLS path analysis, when HTTPS.
    pub tls: Option<TlsEvidence>,
    /// What the witness saw, when one was used.
    pub witness: Option<WitnessEvidence>,
    /// Identity of the static build served.
    pub static_version: Option<String>,
    /// Latency per asset type, over every request (not only the kept ones).
    pub groups: Vec<GroupReport>,
    /// Every asset, in the order probed.
    pub assets: Vec<AssetReport>,
}

/// Kind of asset, for grouping ("100 assets" must stay readable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    /// The page itself, or any HTML.
    Html,
    /// Stylesheets.
    Css,
    /// Scripts.
    Js,
    /// Images.
    Img,
    /// Web fonts.
    Font,
    /// Anything else.
    Other,
}

impl AssetKind {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Html => "html",
            AssetKind::Css => "css",
            AssetKind::Js => "js",
            AssetKind::Img => "img",
            AssetKind::Font => "font",
            AssetKind::Other => "other",
        }
    }
}

/// Per-phase latency distributions (ms) over the successful requests of an asset or group.
/// `None`: the phase never happened (reused connections, plain HTTP, no request succeeded).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseTable {
    /// Name resolution.
    pub dns: Option<PhaseStats>,
    /// TCP connect.
    pub connect: Option<PhaseStats>,
    /// TLS handshake.
    pub tls: Option<PhaseStats>,
    /// Request written → response headers.
    pub ttfb: Option<PhaseStats>,
    /// Headers → last body byte.
    pub body: Option<PhaseStats>,
    /// The whole request.
    pub total: Option<PhaseStats>,
}

impl PhaseTable {
    /// `(name, stats)` for each phase, in request order.
    pub fn rows(&self) -> [(&'static str, Option<&PhaseStats>); 6] {
        [
            ("dns", self.dns.as_ref()),
            ("connect", self.connect.as_ref()),
            ("tls", self.tls.as_ref()),
            ("ttfb", self.ttfb.as_ref()),
            ("body", self.body.as_ref()),
            ("total", self.total.as_ref()),
        ]
    }
}

/// Counts of requests by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Requests made.
    pub requests: u64,
    /// Requests that failed (an error was recorded).
    pub failed: u64,
    /// Requests that completed but stalled in some phase (same rule as the analysis).
    pub stalled: u64,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Failures by kind.
    pub failures: BTreeMap<ErrorKind, u64>,
}

/// One histogram bucket of total request time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Upper bound (ms), inclusive; `None` for the open-ended last bucket.
    pub le_ms: Option<f64>,
    /// Successful requests in the bucket.
    pub count: u64,
}

/// Latency of one asset type on one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// The asset type.
    pub kind: AssetKind,
    /// Assets of that type.
    pub assets: usize,
    /// Outcome counts over all their requests.
    pub counts: Counts,
    /// Phase distributions over their successful requests.
    pub phases: PhaseTable,
    /// Total time of their successful requests, bucketed by [`HISTOGRAM_BOUNDS_MS`].
    pub histogram: Vec<Bucket>,
}

/// One asset and its measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetReport {
    /// Absolute URL (as the page referenced it; attacker-controlled text).
    pub url: String,
    /// Type, from the file extension or else the Content-Type.
    pub kind: AssetKind,
    /// Median body size of successful responses (bytes), if any succeeded.
    pub size: Option<u64>,
    /// Outcome counts over all its requests.
    pub counts: Counts,
    /// Phase distributions over its successful requests.
    pub phases: PhaseTable,
    /// Failed integrity and header checks.
    pub checks: Vec<AssetCheck>,
    /// A bounded selection of its requests, in start order: every failed or stalled one (up to
    /// [`MAX_FLAGGED_PER_ASSET`]) and up to [`ReportMeta::requests_per_asset`] others, evenly
    /// spaced over the run.
    pub requests: Vec<RequestRow>,
    /// Requests measured but not listed in `requests`.
    pub requests_omitted: u64,
}

/// One request, reduced to what a report shows (no headers, no certificates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    /// Sequence number, as in the evidence.
    pub seq: u64,
    /// Start, ms since the run started.
    pub started_ms: f64,
    /// Connection identity; equal ids mean the same TCP connection.
    pub connection_id: u64,
    /// Whether the connection was reused.
    pub reused: bool,
    /// Address connected to.
    pub remote_addr: Option<SocketAddr>,
    /// HTTP version.
    pub http_version: Option<HttpVersion>,
    /// Status, if headers arrived.
    pub status: Option<u16>,
    /// Content-Length announced.
    pub content_length: Option<u64>,
    /// Body bytes received.
    pub bytes_received: u64,
    /// Phase timings.
    pub phases: Phases,
    /// The failure, if any.
    pub error: Option<RequestError>,
    /// Completed, but slow in some phase (same rule as the analysis).
    pub stalled: bool,
}

impl RequestRow {
    /// True when the request failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// True when it failed or the server answered with an error status (4xx, 5xx).
    pub fn failed_or_error_status(&self) -> bool {
        self.failed() || self.status.is_some_and(|s| s >= 400)
    }
}

impl Report {
    /// Joins the analysis and the evidence it was made from into a report.
    ///
    /// `targets` should be the evidence passed to `analyse`, in the same order; summaries are
    /// matched by position, then by label, and recomputed roughly when missing.
    pub fn new(analysis: Analysis, targets: Vec<TargetEvidence>, meta: ReportMeta) -> Report {
        let Analysis {
            diagnosis: Diagnosis { findings, verdict },
            targets: summaries,
            outcomes,
        } = analysis;
        let targets = build::targets(targets, summaries, outcomes, &findings, &meta);
        Report {
            header: Header::new(interloper_model::schema::REPORT, &meta),
            verdict,
            findings,
            targets,
            notes: Vec::new(),
        }
    }

    /// Requests made over every target.
    pub fn requests(&self) -> u64 {
        self.targets.iter().map(|t| t.summary.requests).sum()
    }
}

/// Writes the report as pretty JSON (what `--json` prints), with a final newline.
pub fn render_json(report: &Report, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
