//! Beacon logs streamed a line at a time into per-instance evidence: no line longer than
//! [`MAX_LINE`] is held, and at most [`ReadOptions::max_files`] timed files are kept (later
//! ones counted). A line that is not a beacon is counted, never an error.

use std::collections::HashMap;
use std::io::{self, BufRead};

use interloper_findings::{AssetEvidence, RumEvidence, TargetEvidence, UNKNOWN_INSTANCE};
use interloper_model::input::{LineRead, read_line_within};
use interloper_model::{ErrorKind, HttpVersion, Phase, Phases, RequestError, RequestRecord};
use serde::{Deserialize, Serialize};

use crate::beacon::{
    BEACON_SCHEMA, Beacon, BeaconFile, MAX_FILES_PER_BEACON, clean_instance, clean_url,
    client_network,
};

/// The longest line read (bytes); a longer one is skipped and counted.
pub const MAX_LINE: usize = 256 * 1024;

/// Limits of the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Timed files kept at most, over every input; later ones are counted in
    /// [`RumSummary::files_omitted`].
    pub max_files: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_files: 1_000_000,
        }
    }
}

/// What was read, and what was set aside.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RumSummary {
    /// Lines read.
    pub lines: u64,
    /// Beacons (page views) read.
    pub beacons: u64,
    /// Files timed over the network, kept.
    pub files: u64,
    /// Files served from the browser's cache (no bytes on the wire): left out of every timing.
    pub cached: u64,
    /// Files beyond the cap, not analysed.
    pub files_omitted: u64,
    /// Lines that are not beacons (not JSON, another schema, overlong).
    pub not_beacons: u64,
    /// The first such line, as `input:line`.
    pub first_not_beacon: Option<String>,
    /// Distinct client networks.
    pub networks: u64,
    /// Earliest and latest `received`, as written (RFC 3339 strings sort in time order).
    pub first_received: Option<String>,
    /// See `first_received`.
    pub last_received: Option<String>,
}

/// Per-instance evidence being gathered.
#[derive(Debug, Default)]
pub struct Collector {
    options: ReadOptions,
    instances: Vec<(TargetEvidence, RumEvidence)>,
    by_instance: HashMap<String, usize>,
    by_asset: Vec<HashMap<String, usize>>,
    networks: std::collections::BTreeSet<String>,
    summary: RumSummary,
}

impl Collector {
    /// An empty collector keeping at most what `options` allows.
    pub fn new(options: ReadOptions) -> Collector {
        Collector {
            options,
            ..Collector::default()
        }
    }

    /// Reads every line of `reader` (named `name` in notes).
    pub fn read(&mut self, name: &str, mut reader: impl BufRead) -> io::Result<()> {
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            let overlong = match read_line_within(&mut reader, &mut buf, MAX_LINE)? {
                LineRead::End => return Ok(()),
                LineRead::Whole => false,
                LineRead::Overlong => true,
            };
            line_no += 1;
            self.summary.lines += 1;
            let parsed = if overlong { None } else { self.line(&buf) };
            if parsed == Some(false) {
                self.summary.not_beacons += 1;
                if self.summary.first_not_beacon.is_none() {
                    self.summary.first_not_beacon = Some(format!("{name}:{line_no}"));
                }
            } else if overlong {
                self.summary.not_beacons += 1;
                self.summary
                    .first_not_beacon
                    .get_or_insert_with(|| format!("{name}:{line_no}"));
            }
        }
    }

    /// One line: Some(true) a beacon, Some(false) not one, None blank.
    fn line(&mut self, bytes: &[u8]) -> Option<bool> {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        match serde_json::from_str::<Beacon>(text) {
            Ok(b) if b.schema == BEACON_SCHEMA => {
                self.beacon(b);
                Some(true)
            }
            _ => Some(false),
        }
    }

    /// Adds one beacon's files.
    pub fn beacon(&mut self, b: Beacon) {
        self.summary.beacons += 1;
        let network = b
            .client
            .as_deref()
            .and_then(client_network)
            .unwrap_or_default();
        if !network.is_empty() && !self.networks.contains(&network) {
            self.networks.insert(network.clone());
        }
        if let Some(r) = b.received.as_deref().map(clean_url) {
            let s = &mut self.summary;
            if s.first_received.as_ref().is_none_or(|f| r < *f) {
                s.first_received = Some(r.clone());
            }
            if s.last_received.as_ref().is_none_or(|l| r > *l) {
                s.last_received = Some(r);
            }
        }
        for file in b.files.iter().take(MAX_FILES_PER_BEACON) {
            if file.url.trim().is_empty() {
                continue;
            }
            if is_cached(file) {
                self.summary.cached += 1;
                continue;
            }
            if self.summary.files >= self.options.max_files as u64 {
                self.summary.files_omitted += 1;
                continue;
            }
            self.file(file, &network);
        }
    }

    fn file(&mut self, file: &BeaconFile, network: &str) {
        let label =
            clean_instance(file.instance.as_deref()).unwrap_or_else(|| UNKNOWN_INSTANCE.into());
        let t = match self.by_instance.get(&label) {
            Some(t) => *t,
            None => {
                self.instances.push((
                    TargetEvidence {
                        label: label.clone(),
                        ..TargetEvidence::default()
                    },
                    RumEvidence {
                        label: label.clone(),
                        networks: Vec::new(),
                        queued: Vec::new(),
                    },
                ));
                self.by_asset.push(HashMap::new());
                self.by_instance.insert(label, self.instances.len() - 1);
                self.instances.len() - 1
            }
        };
        let url = clean_url(&file.url);
        let (target, rum) = &mut self.instances[t];
        let a = *self.by_asset[t].entry(url.clone()).or_insert_with(|| {
            target.assets.push(AssetEvidence {
                url: url.clone(),
                records: Vec::new(),
                checks: Vec::new(),
            });
            rum.networks.push(Vec::new());
            rum.queued.push(Vec::new());
            target.assets.len() - 1
        });
        let seq = self.summary.files;
        target.assets[a].records.push(record(seq, url, file));
        rum.networks[a].push(network.to_string());
        rum.queued[a].push(file.queued);
        self.summary.files += 1;
    }

    /// The evidence gathered, one target per instance in first-seen order, and the summary.
    pub fn finish(mut self) -> (Vec<TargetEvidence>, Vec<RumEvidence>, RumSummary) {
        self.summary.networks = self.networks.len() as u64;
        let (targets, rum) = self.instances.into_iter().unzip();
        (targets, rum, self.summary)
    }
}

/// Served from the browser's cache: no bytes on the wire, yet a body.
fn is_cached(f: &BeaconFile) -> bool {
    f.failed.is_none() && f.transfer == Some(0) && f.encoded.is_some_and(|n| n > 0)
}

/// The record the detectors read: the browser's phases as the probe's.
fn record(seq: u64, url: String, f: &BeaconFile) -> RequestRecord {
    let mut r = RequestRecord::new(seq, url, f.start.unwrap_or(0.0));
    // A connection the browser reused has no DNS, connect or TLS time.
    let setup = f.dns.unwrap_or(0.0) + f.connect.unwrap_or(0.0) + f.tls.unwrap_or(0.0);
    r.reused = setup == 0.0 && f.first_byte.is_some();
    r.phases = Phases {
        dns_ms: f.dns.filter(|_| !r.reused),
        connect_ms: f.connect.filter(|_| !r.reused),
        tls_ms: f.tls.filter(|v| !r.reused && *v > 0.0),
        write_ms: None,
        ttfb_ms: f.first_byte,
        first_byte_ms: None,
        body_ms: f.download,
        total_ms: f.duration,
    };
    r.http_version = f.protocol.as_deref().and_then(protocol);
    r.status = f.status;
    r.content_length = f.encoded;
    r.bytes_received = f.encoded.unwrap_or(0);
    if let Some(why) = f.failed.as_deref() {
        r.error = Some(failure(why, f));
    }
    r
}

/// `nextHopProtocol` as the model's version.
fn protocol(p: &str) -> Option<HttpVersion> {
    match p.to_ascii_lowercase().as_str() {
        "h2" | "h2c" => Some(HttpVersion::Http2),
        "h3" => Some(HttpVersion::Http3),
        "http/1.1" => Some(HttpVersion::Http11),
        "http/1.0" => Some(HttpVersion::Http10),
        _ => None,
    }
}

/// The failure the page noted, in the phase the timing reached.
fn failure(why: &str, f: &BeaconFile) -> RequestError {
    let phase = if f.first_byte.is_some() {
        Phase::Body
    } else if f.tls.is_some() {
        Phase::Ttfb
    } else {
        Phase::Connect
    };
    let message = match why {
        "error" => "the page saw the file's error event: the browser could not load it",
        "missing" => "the browser recorded no timing for the file: it never finished loading",
        "empty" => "the browser timed the file with no bytes",
        _ => "the page counted the file as failed",
    };
    RequestError {
        kind: ErrorKind::Other,
        phase,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"schema":"interloper.rum.beacon/v1","received":"2026-12-07T19:00:00Z","client":"198.51.100.7","page":"/","files":[{"url":"https://a.test/static/a.css","instance":"app1","protocol":"h2","dns":1,"connect":2,"tls":3,"first_byte":4,"download":5,"duration":15,"transfer":900,"encoded":600},{"url":"https://a.test/static/b.js","instance":"app2","transfer":0,"encoded":600},{"url":"https://a.test/static/c.png","failed":"error"}]}"#;

    fn collect(
        text: &str,
        max_files: usize,
    ) -> (Vec<TargetEvidence>, Vec<RumEvidence>, RumSummary) {
        let mut c = Collector::new(ReadOptions { max_files });
        c.read("t.jsonl", text.as_bytes()).expect("reads");
        c.finish()
    }

    #[test]
    fn a_beacon_becomes_records_per_instance() {
        let (targets, rum, s) = collect(&format!("{LINE}\nnot json\n\n{LINE}\n"), 100);
        assert_eq!((s.lines, s.beacons, s.files, s.cached), (4, 2, 4, 2));
        assert_eq!(s.not_beacons, 1);
        assert_eq!(s.first_not_beacon.as_deref(), Some("t.jsonl:2"));
        let labels: Vec<&str> = targets.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["app1", UNKNOWN_INSTANCE]);
        let r = &targets[0].assets[0].records[0];
        assert_eq!(r.phases.tls_ms, Some(3.0));
        assert_eq!(r.http_version, Some(HttpVersion::Http2));
        assert!(targets[1].assets[0].records[0].error.is_some());
        assert_eq!(rum[0].networks[0], ["198.51.100.0/24", "198.51.100.0/24"]);
        assert_eq!(s.networks, 1);
    }

    #[test]
    fn the_cap_counts_what_it_drops() {
        let (_, _, s) = collect(&format!("{LINE}\n{LINE}\n"), 3);
        assert_eq!((s.files, s.files_omitted), (3, 1));
    }

    /// Thousands of damaged copies of a real line (bytes flipped, cut, repeated): counted or
    /// read, then judged, never a panic. A deterministic stand-in for the fuzz target's run.
    #[test]
    fn damaged_lines_never_panic() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut text = String::new();
        for _ in 0..3000 {
            let mut bytes = LINE.as_bytes().to_vec();
            for _ in 0..(next() % 6) {
                let at = (next() as usize) % bytes.len();
                match next() % 4 {
                    0 => bytes[at] = next() as u8,
                    1 => bytes.truncate(at.max(1)),
                    2 => bytes.insert(at, b"{[\"-1e999,"[(next() % 9) as usize]),
                    _ => bytes
                        .splice(at..at, b"\"tls\":1e308,".iter().copied())
                        .for_each(drop),
                }
            }
            text.push_str(&String::from_utf8_lossy(&bytes));
            text.push('\n');
        }
        let (targets, rum, s) = collect(&text, 100_000);
        // A flipped byte may be a newline: at least the lines written.
        assert!(s.lines >= 3000, "{s:?}");
        assert!(s.beacons > 0 && s.not_beacons > 0, "{s:?}");
        let _ = interloper_findings::analyse_rum(
            &targets,
            &rum,
            &interloper_findings::ThresholdConfig::default(),
        );
    }

    #[test]
    fn overlong_lines_are_skipped_and_the_next_is_read() {
        let long = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_LINE * 2));
        let (_, _, s) = collect(&format!("{long}\n{LINE}\n"), 100);
        assert_eq!((s.lines, s.beacons, s.not_beacons), (2, 1, 1));
    }
}
