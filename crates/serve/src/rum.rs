//! Real users' beacons as metrics (`[rum]` in the configuration, `GET /rum/metrics`): the
//! exporter follows interloper-django's beacon log (`interloper.rum.beacon/v1`, docs/rum.md) as
//! `tail -f` would — from where it stopped, a bounded number of bytes per scrape, starting over
//! when the file is rotated or truncated — keeps the last `window_files` timed files, and
//! answers the same aggregates `interloper rum` computes over them (by instance, client network,
//! protocol and size class) with the findings at warning or above.
//!
//! Gauges over a window, not counters: a file is stalled by the check's stall rule, which is
//! relative to the population's medians, so what the window holds decides it — the numbers are
//! those `interloper rum` prints for the same lines. Memory is bounded by the window; label
//! values by [`MAX_KEYS`] per dimension (the worst first).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use interloper_findings::{RumGroup, Severity, ThresholdConfig, analyse_rum};
use interloper_model::input::{LineRead, read_line_within};
use interloper_rum::{BEACON_SCHEMA, Beacon, Collector, MAX_LINE, ReadOptions};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Deserialize;

/// Timed files the window keeps unless told.
pub const DEFAULT_WINDOW_FILES: usize = 100_000;
/// The largest window allowed (about the memory of `interloper rum --max-files`'s default).
pub const MAX_WINDOW_FILES: usize = 1_000_000;
/// Bytes read from the log in one scrape at most; the rest is read by the next ones.
pub const MAX_READ_PER_SCRAPE: u64 = 64 * 1024 * 1024;
/// Label values per dimension at most (the worst rates first).
pub const MAX_KEYS: usize = 50;

type FloatGauge = Gauge<f64, AtomicU64>;

/// `[rum]`: where the beacons are.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RumConfig {
    /// The beacon log interloper-django's endpoint appends to (`INTERLOPER_RUM_LOG`).
    pub beacons: PathBuf,
    /// Timed files kept: the newest ones, older beacons leave whole.
    #[serde(default = "default_window_files")]
    pub window_files: usize,
}

fn default_window_files() -> usize {
    DEFAULT_WINDOW_FILES
}

impl RumConfig {
    /// Why the section cannot be used, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.window_files == 0 || self.window_files > MAX_WINDOW_FILES {
            return Err(format!(
                "rum.window_files must be between 1 and {MAX_WINDOW_FILES}"
            ));
        }
        if self.beacons.as_os_str().is_empty() {
            return Err("rum.beacons must name the beacon log".into());
        }
        Ok(())
    }
}

/// The followed log and the window, behind one lock (a scrape at a time reads).
#[derive(Debug)]
pub struct RumSource {
    config: RumConfig,
    state: Mutex<Window>,
}

/// Where reading stopped and what is kept.
#[derive(Debug, Default)]
struct Window {
    /// Byte offset of the first line not yet read, and the file it belongs to.
    offset: u64,
    inode: Option<u64>,
    beacons: VecDeque<(Beacon, usize)>,
    files: usize,
    beacons_read: u64,
    rejected_lines: u64,
    /// The last reading error, cleared by a good read.
    error: Option<String>,
    /// The last answer, kept until something new is read: judging the window is the costly
    /// part (about 0.1 ms a file), and most scrapes of a quiet site find nothing new.
    exposition: Option<String>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabels {
    by: String,
    key: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    by: String,
    key: String,
    phase: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    code: String,
    severity: String,
    subject: String,
}

impl RumSource {
    /// A source for a validated `[rum]` section; nothing is read until the first scrape.
    pub fn new(config: RumConfig) -> RumSource {
        RumSource {
            config,
            state: Mutex::new(Window::default()),
        }
    }

    /// Reads what was appended since the last scrape and answers the window's metrics as
    /// OpenMetrics text. Blocking file I/O: call it off the async workers.
    pub fn scrape(&self) -> String {
        let mut window = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let before = window.read_state();
        match window.follow(&self.config.beacons, self.config.window_files) {
            Ok(()) => window.error = None,
            Err(e) => window.error = Some(format!("{}: {e}", self.config.beacons.display())),
        }
        if window.read_state() != before || window.exposition.is_none() {
            window.exposition = Some(crate::metrics::encode(&window.registry()));
        }
        window.exposition.clone().unwrap_or_default()
    }
}

/// `GET /rum/metrics`: the window's metrics, read off the async workers; 404 without `[rum]`.
pub(crate) async fn answer(source: Option<std::sync::Arc<RumSource>>) -> crate::Answer {
    let Some(source) = source else {
        return crate::text(
            http::StatusCode::NOT_FOUND,
            "no [rum] section in the configuration: no beacon log is followed\n".into(),
        );
    };
    match tokio::task::spawn_blocking(move || source.scrape()).await {
        Ok(body) => crate::openmetrics(http::StatusCode::OK, body),
        Err(_) => crate::text(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "reading the beacon log ended abnormally\n".into(),
        ),
    }
}

impl Window {
    /// What a scrape's answer depends on besides the window: if it is unchanged, so is the
    /// answer.
    fn read_state(&self) -> (u64, u64, bool) {
        (self.beacons_read, self.rejected_lines, self.error.is_some())
    }

    /// Reads the new complete lines (at most [`MAX_READ_PER_SCRAPE`] bytes); a line still
    /// being written (no `\n` yet) waits for the next scrape.
    fn follow(&mut self, path: &Path, window_files: usize) -> std::io::Result<()> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        let inode = inode_of(&meta);
        // Rotated (another file under the name) or truncated (copytruncate): start over.
        if inode != self.inode || meta.len() < self.offset {
            self.offset = 0;
            self.inode = inode;
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut reader = BufReader::new(file);
        let mut buf = Vec::new();
        let limit = self.offset.saturating_add(MAX_READ_PER_SCRAPE);
        while self.offset < limit {
            match read_line_within(&mut reader, &mut buf, MAX_LINE)? {
                LineRead::End => break,
                LineRead::Whole if !buf.ends_with(b"\n") => break,
                LineRead::Whole => {
                    self.offset += buf.len() as u64;
                    self.line(&buf, window_files);
                }
                LineRead::Overlong => {
                    self.offset = reader.stream_position()?;
                    self.rejected_lines += 1;
                }
            }
        }
        Ok(())
    }

    fn line(&mut self, bytes: &[u8], window_files: usize) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match serde_json::from_slice::<Beacon>(bytes) {
            Ok(b) if b.schema == BEACON_SCHEMA => {
                self.beacons_read += 1;
                let files = b.files.len();
                self.beacons.push_back((b, files));
                self.files += files;
                while self.files > window_files {
                    match self.beacons.pop_front() {
                        Some((_, n)) => self.files -= n,
                        None => break,
                    }
                }
            }
            _ => self.rejected_lines += 1,
        }
    }

    /// The window judged as `interloper rum` judges it, as a registry.
    fn registry(&self) -> Registry {
        let mut collector = Collector::new(ReadOptions {
            max_files: MAX_WINDOW_FILES,
        });
        for (beacon, _) in &self.beacons {
            collector.beacon(beacon.clone());
        }
        let (targets, rum, _summary) = collector.finish();
        let analysis = analyse_rum(&targets, &rum, &ThresholdConfig::default());
        let aggregates = &analysis.aggregates;
        let mut registry = Registry::default();
        register_source(&mut registry, self);
        register_groups(
            &mut registry,
            &[
                ("instance", &aggregates.instances),
                ("network", &aggregates.networks),
                ("protocol", &aggregates.protocols),
                ("size", &aggregates.sizes),
            ],
        );
        let findings: Family<FindingLabels, Gauge> = Family::default();
        for f in analysis
            .analysis
            .diagnosis
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .take(MAX_KEYS)
        {
            findings
                .get_or_create(&FindingLabels {
                    code: f.code.to_string(),
                    severity: f.severity.to_string(),
                    subject: f.subject.clone().unwrap_or_default(),
                })
                .set(1);
        }
        registry.register(
            "interloper_rum_finding",
            "A finding at warning or above over the window (1), by code and what it names",
            findings,
        );
        registry
    }
}

/// The source's own state: is the log readable, what the window holds, what was read.
fn register_source(registry: &mut Registry, window: &Window) {
    let up: Gauge = Gauge::default();
    up.set(i64::from(window.error.is_none()));
    registry.register(
        "interloper_rum_source_up",
        "Whether the beacon log could be read at the last scrape",
        up,
    );
    for (name, help, value) in [
        (
            "interloper_rum_window_beacons",
            "Beacons (page views) in the window",
            window.beacons.len(),
        ),
        (
            "interloper_rum_window_files",
            "Files in the window's beacons",
            window.files,
        ),
    ] {
        let g: Gauge = Gauge::default();
        g.set(i64::try_from(value).unwrap_or(i64::MAX));
        registry.register(name, help, g);
    }
    registry.register(
        "interloper_rum_beacons_read",
        "Beacons read since the exporter started",
        ConstCounter::new(window.beacons_read),
    );
    registry.register(
        "interloper_rum_lines_rejected",
        "Lines that were not beacons (not JSON, another schema, overlong) since the start",
        ConstCounter::new(window.rejected_lines),
    );
}

/// Requests, stalled, failed, networks affected and the stalled time per phase, per group.
fn register_groups(registry: &mut Registry, dimensions: &[(&str, &Vec<RumGroup>)]) {
    let requests: Family<GroupLabels, Gauge> = Family::default();
    let stalled: Family<GroupLabels, Gauge> = Family::default();
    let failed: Family<GroupLabels, Gauge> = Family::default();
    let affected: Family<GroupLabels, Gauge> = Family::default();
    let waited: Family<GroupLabels, Gauge> = Family::default();
    let phases: Family<PhaseLabels, FloatGauge> = Family::default();
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    for (by, groups) in dimensions {
        // The aggregates come worst rate first: the bound keeps the ones that matter.
        for g in groups.iter().take(MAX_KEYS) {
            let labels = GroupLabels {
                by: (*by).to_string(),
                key: g.key.clone(),
            };
            requests.get_or_create(&labels).set(count(g.requests));
            stalled.get_or_create(&labels).set(count(g.stalled));
            failed.get_or_create(&labels).set(count(g.failed));
            waited.get_or_create(&labels).set(count(g.waited));
            affected
                .get_or_create(&labels)
                .set(count(g.networks_affected));
            let t = &g.stalled_time;
            for (phase, ms) in [
                ("dns", t.dns_ms),
                ("connect", t.connect_ms),
                ("tls", t.tls_ms),
                ("first_byte", t.first_byte_ms),
                ("download", t.download_ms),
            ] {
                phases
                    .get_or_create(&PhaseLabels {
                        by: (*by).to_string(),
                        key: g.key.clone(),
                        phase: phase.to_string(),
                    })
                    .set(ms / 1000.0);
            }
        }
    }
    registry.register(
        "interloper_rum_requests",
        "Static files timed by browsers in the window, by instance, client network, protocol or size class",
        requests,
    );
    registry.register(
        "interloper_rum_stalled",
        "Of those, stalled in a phase or trickled (the check's stall rule)",
        stalled,
    );
    registry.register(
        "interloper_rum_failed",
        "Of those, failed or cut short",
        failed,
    );
    registry.register(
        "interloper_rum_waited",
        "Of those, neither stalled nor failed but held back for a connection beyond the stall rule",
        waited,
    );
    registry.register(
        "interloper_rum_networks_affected",
        "Client networks (/24, /48) with a stalled or failed file in the group",
        affected,
    );
    registry.register(
        "interloper_rum_stalled_phase_seconds",
        "Time per phase summed over the group's stalled files",
        phases,
    );
}

#[cfg(unix)]
fn inode_of(meta: &std::fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt as _;
    Some(meta.ino())
}

#[cfg(not(unix))]
fn inode_of(_meta: &std::fs::Metadata) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn beacon(instance: &str, tls_ms: f64) -> String {
        format!(
            "{{\"schema\":\"{BEACON_SCHEMA}\",\"client\":\"192.0.2.0/24\",\"files\":[{{\"url\":\"https://a.test/static/x.css\",\"instance\":\"{instance}\",\"protocol\":\"h2\",\"dns\":0.1,\"connect\":1,\"tls\":{tls_ms},\"first_byte\":3,\"download\":1,\"duration\":{d},\"transfer\":900,\"encoded\":800,\"decoded\":800,\"status\":200}}]}}\n",
            d = tls_ms + 5.1
        )
    }

    fn source(path: &Path, window_files: usize) -> RumSource {
        RumSource::new(RumConfig {
            beacons: path.to_path_buf(),
            window_files,
        })
    }

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
    }

    #[test]
    fn appended_lines_are_read_once_and_a_partial_line_waits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("beacons.jsonl");
        std::fs::write(&path, beacon("app1", 2.0)).expect("write");
        let src = source(&path, 100);
        let first = src.scrape();
        assert_eq!(
            value(&first, "interloper_rum_beacons_read_total"),
            Some(1.0)
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        let line = beacon("app2", 2.0);
        let (head, tail) = line.split_at(40);
        f.write_all(head.as_bytes()).expect("append");
        let partial = src.scrape();
        assert_eq!(
            value(&partial, "interloper_rum_beacons_read_total"),
            Some(1.0)
        );
        assert_eq!(
            value(&partial, "interloper_rum_lines_rejected_total"),
            Some(0.0)
        );
        f.write_all(tail.as_bytes()).expect("append");
        f.write_all(b"not json\n").expect("append");
        let second = src.scrape();
        assert_eq!(
            value(&second, "interloper_rum_beacons_read_total"),
            Some(2.0)
        );
        assert_eq!(
            value(&second, "interloper_rum_lines_rejected_total"),
            Some(1.0)
        );
        assert!(
            second.contains("interloper_rum_requests{by=\"instance\",key=\"app2\"} 1"),
            "{second}"
        );
    }

    #[test]
    fn the_window_keeps_the_newest_files_and_a_truncated_log_starts_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("beacons.jsonl");
        let lines: String = (0..5).map(|_| beacon("app1", 2.0)).collect();
        std::fs::write(&path, lines).expect("write");
        let src = source(&path, 3);
        let text = src.scrape();
        assert_eq!(value(&text, "interloper_rum_window_files"), Some(3.0));
        assert_eq!(value(&text, "interloper_rum_source_up"), Some(1.0));
        // copytruncate: the file is shorter than where reading stopped.
        std::fs::write(&path, beacon("app9", 2.0)).expect("truncate");
        let text = src.scrape();
        assert_eq!(value(&text, "interloper_rum_beacons_read_total"), Some(6.0));
        assert!(text.contains("key=\"app9\""), "{text}");
    }

    #[test]
    fn a_missing_log_is_said_not_an_error_page() {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = source(&dir.path().join("absent.jsonl"), 10);
        let text = src.scrape();
        assert_eq!(value(&text, "interloper_rum_source_up"), Some(0.0));
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn a_rum_only_configuration_loads_and_a_typo_is_named() {
        let cfg = crate::ServeConfig::from_toml("[rum]\nbeacons = \"/var/log/b.jsonl\"\n")
            .expect("a [rum] section alone is a configuration");
        let rum = cfg.rum.expect("[rum]");
        assert_eq!(rum.window_files, DEFAULT_WINDOW_FILES);
        let err =
            crate::ServeConfig::from_toml("[rum]\nbeacon = \"/x\"\n").expect_err("unknown key");
        assert!(err.to_string().contains("beacon"), "{err}");
        let err = crate::ServeConfig::from_toml("").expect_err("nothing configured");
        assert!(err.to_string().contains("[rum]"), "{err}");
    }

    #[test]
    fn bad_window_sizes_are_refused() {
        for n in [0, MAX_WINDOW_FILES + 1] {
            let c = RumConfig {
                beacons: "/x".into(),
                window_files: n,
            };
            assert!(c.validate().is_err(), "{n}");
        }
    }
}
