//! Folding parsed lines into bounded per-backend evidence.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use foldhash::fast::RandomState;
use hdrhistogram::Histogram;
use interloper_findings::{LogBucket, LogEvidence, LogExample, LogGroup, LogSign, LogSource};
use interloper_model::PhaseStats;

use crate::entry::{Ending, Entry};
use crate::fields::TimeCache;
use crate::fields::seconds_ms;
use crate::format::{Format, json_line, line_time, parse_line_timed};
use crate::json::JsonRecord;
use crate::plan::FieldPlan;

/// What counts as static and as slow.
#[derive(Debug, Clone)]
pub struct GatherOptions {
    /// Path prefixes of static files (`/static/`). Empty: a `/static/` or `/media/` prefix
    /// or a static file extension.
    pub static_prefixes: Vec<String>,
    /// A static request slower than this (milliseconds) counts as slow.
    pub slow_ms: f64,
    /// Example lines kept per sign and backend.
    pub examples_per_sign: usize,
    /// Only lines at or after this time (seconds since the epoch, UTC) are read.
    pub since: Option<i64>,
    /// Only lines before this time (seconds since the epoch, UTC) are read.
    pub until: Option<i64>,
}

impl GatherOptions {
    /// Whether a time window is set: lines are then read only when their time is inside it.
    fn has_window(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether a line at `time` is inside the window (a line without a time is not).
    fn in_window(&self, time: Option<i64>) -> bool {
        time.is_some_and(|t| self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u))
    }
}

impl Default for GatherOptions {
    fn default() -> Self {
        GatherOptions {
            static_prefixes: Vec::new(),
            slow_ms: 1000.0,
            examples_per_sign: 3,
            since: None,
            until: None,
        }
    }
}

/// Extensions of files a page loads as static assets.
const STATIC_EXTENSIONS: &[&str] = &[
    "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "woff",
    "woff2", "ttf", "otf", "eot", "json", "txt", "mp4", "webm", "pdf",
];

/// Whether `path` is a static file: under one of `prefixes`, or (none given) under
/// `/static/` or `/media/`, or ending in a static file extension.
pub fn is_static_path(path: &str, prefixes: &[String]) -> bool {
    if !prefixes.is_empty() {
        return prefixes.iter().any(|p| path.starts_with(p.as_str()));
    }
    if path.starts_with("/static/") || path.starts_with("/media/") {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        STATIC_EXTENSIONS
            .iter()
            .any(|e| e.eq_ignore_ascii_case(ext))
    })
}

/// Backends tracked one by one; beyond this many, the rest are counted together.
const MAX_GROUPS: usize = 256;
/// Paths whose body sizes are tracked (to spot bodies sent partly).
const MAX_PATHS: usize = 50_000;
/// Distinct body sizes tracked per path: the largest ones (the file's full size and the cuts
/// closest to it). Keeping the largest, not the first seen, makes the table the same however
/// the lines were split between workers.
const MAX_SIZES: usize = 16;
/// A line kept as an example is cut to this many characters.
const EXAMPLE_CHARS: usize = 400;

const NO_BACKEND: &str = "(no backend logged)";
const OTHER_BACKENDS: &str = "(other backends)";

struct GroupAcc {
    requests: u64,
    static_requests: u64,
    signs: [u64; LogSign::ALL.len()],
    not_found: u64,
    forbidden: u64,
    network_trouble: u64,
    duration: Histogram<u64>,
    upstream: Histogram<u64>,
    examples: Vec<Kept>,
    tries: u64,
    failed_tries: u64,
    connect: Histogram<u64>,
    header: Histogram<u64>,
    tls_protocols: Vec<(String, u64)>,
    tls_ciphers: Vec<(String, u64)>,
    timeline: Timeline,
}

/// Time buckets per backend at most: beyond, the buckets widen.
const MAX_BUCKETS: usize = 480;
/// The narrowest bucket: a minute.
const BUCKET_SECONDS: i64 = 60;

/// How a static request went, for the timeline.
#[derive(Clone, Copy)]
enum Outcome {
    Ok = 0,
    Slow = 1,
    ClientAborted = 2,
    ServerError = 3,
}

/// Static requests per time bucket, by outcome. Buckets are a minute wide, doubled (and
/// merged) whenever there would be more than [`MAX_BUCKETS`]: the width is then the smallest
/// doubling that holds every request's bucket, whatever order the requests came in, so folds
/// merged give the same timeline as one pass.
struct Timeline {
    width: i64,
    buckets: BTreeMap<i64, [u64; 4]>,
}

impl Timeline {
    fn new() -> Timeline {
        Timeline {
            width: BUCKET_SECONDS,
            buckets: BTreeMap::new(),
        }
    }

    fn add(&mut self, time: i64, counts: [u64; 4]) {
        let slot = self
            .buckets
            .entry(time.div_euclid(self.width) * self.width)
            .or_default();
        for (a, b) in slot.iter_mut().zip(counts) {
            *a += b;
        }
        while self.buckets.len() > MAX_BUCKETS {
            self.widen_to(self.width.saturating_mul(2));
        }
    }

    fn widen_to(&mut self, width: i64) {
        if width <= self.width {
            return;
        }
        let old = std::mem::take(&mut self.buckets);
        self.width = width;
        for (start, counts) in old {
            let slot = self
                .buckets
                .entry(start.div_euclid(width) * width)
                .or_default();
            for (a, b) in slot.iter_mut().zip(counts) {
                *a += b;
            }
        }
    }

    fn merge(&mut self, other: Timeline) {
        self.widen_to(other.width);
        let width = self.width;
        for (start, counts) in other.buckets {
            self.add(start.div_euclid(width) * width, counts);
        }
    }
}

/// Distinct TLS versions or cipher suites counted one by one per backend; the rest together.
const MAX_TLS_NAMES: usize = 16;
const OTHER_TLS: &str = "(other)";
/// Upstream tries of one request looked at (nginx tries each server of an upstream at most
/// once; a list longer than this is not a real one).
const MAX_TRIES: usize = 32;

/// Count one more `name` in a bounded table.
fn count_name(table: &mut Vec<(String, u64)>, name: &str, n: u64) {
    if let Some(row) = table.iter_mut().find(|(k, _)| k == name) {
        row.1 += n;
        return;
    }
    let key = if table.len() >= MAX_TLS_NAMES {
        OTHER_TLS
    } else {
        name
    };
    match table.iter_mut().find(|(k, _)| k == key) {
        Some(row) => row.1 += n,
        None => table.push((key.to_string(), n)),
    }
}

/// The items of an nginx upstream list (`a, b : c`) in order, each with whether nginx moved on
/// to the next server of the same upstream after it (a `,` follows: that try failed). A ` : `
/// follows a try whose answer sent the request to another upstream (an internal redirect).
fn upstream_items(list: &str) -> impl Iterator<Item = (&str, bool)> {
    let parts = list.trim_matches('"').split(',');
    let count = list.bytes().filter(|b| *b == b',').count() + 1;
    parts.enumerate().flat_map(move |(i, part)| {
        let mut items = part.split(" : ").map(str::trim).peekable();
        std::iter::from_fn(move || {
            let item = items.next()?;
            let last_of_part = items.peek().is_none();
            Some((item, last_of_part && i + 1 < count))
        })
    })
}

fn record_ms(h: &mut Histogram<u64>, ms: f64) {
    let _ = h.record((ms * 1000.0).clamp(1.0, 3.6e9) as u64);
}

/// An example line, placed by where it was read so that examples gathered in parallel can be
/// put back in file order.
struct Kept {
    sign: LogSign,
    source: u32,
    at: u64,
    text: String,
}

/// Keep the first `per_sign` examples of each sign, in file order.
fn keep_first(examples: &mut Vec<Kept>, per_sign: usize) {
    examples.sort_by_key(|k| (k.source, k.at));
    let mut seen = [0usize; LogSign::ALL.len()];
    examples.retain(|k| {
        let n = &mut seen[sign_index(k.sign)];
        *n += 1;
        *n <= per_sign
    });
}

impl GroupAcc {
    fn new() -> GroupAcc {
        GroupAcc {
            requests: 0,
            static_requests: 0,
            signs: [0; LogSign::ALL.len()],
            not_found: 0,
            forbidden: 0,
            network_trouble: 0,
            duration: histogram(),
            upstream: histogram(),
            examples: Vec::new(),
            tries: 0,
            failed_tries: 0,
            connect: histogram(),
            header: histogram(),
            tls_protocols: Vec::new(),
            tls_ciphers: Vec::new(),
            timeline: Timeline::new(),
        }
    }

    fn merge(&mut self, other: GroupAcc, per_sign: usize) {
        self.requests += other.requests;
        self.static_requests += other.static_requests;
        for (a, b) in self.signs.iter_mut().zip(other.signs) {
            *a += b;
        }
        self.not_found += other.not_found;
        self.forbidden += other.forbidden;
        self.network_trouble += other.network_trouble;
        // Same bounds on both sides: adding cannot fail.
        let _ = self.duration.add(&other.duration);
        let _ = self.upstream.add(&other.upstream);
        let _ = self.connect.add(&other.connect);
        let _ = self.header.add(&other.header);
        self.tries += other.tries;
        self.failed_tries += other.failed_tries;
        for (name, n) in other.tls_protocols {
            count_name(&mut self.tls_protocols, &name, n);
        }
        for (name, n) in other.tls_ciphers {
            count_name(&mut self.tls_ciphers, &name, n);
        }
        self.timeline.merge(other.timeline);
        self.examples.extend(other.examples);
        keep_first(&mut self.examples, per_sign);
    }
}

fn histogram() -> Histogram<u64> {
    // Microseconds up to an hour, 2 significant digits: a few KiB per backend.
    Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid histogram bounds")
}

fn sign_index(s: LogSign) -> usize {
    LogSign::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// One body size seen for a path, with where it was first seen.
struct SizeSeen {
    bytes: u64,
    count: u32,
    source: u32,
    at: u64,
    group: u32,
    sign: Option<LogSign>,
}

/// One file being read.
struct SourceAcc {
    info: LogSource,
    format: Format,
    /// The user's own format, read instead of `format`.
    plan: Option<Arc<FieldPlan>>,
    /// Where the first line that did not parse was, and why.
    first_unparsed: Option<(u64, &'static str)>,
    /// `line` or `record`, for the first unparsed one.
    unit: &'static str,
    /// Lines in each block when the file was read in blocks ([`Gatherer::read_lines`]): a
    /// position is then `block << 32 | line in the block`, made a line number at the end.
    blocks: Option<Vec<u64>>,
}

impl SourceAcc {
    fn new(name: &str, format: Format) -> SourceAcc {
        SourceAcc {
            info: LogSource {
                name: name.to_string(),
                format: format.as_str().to_string(),
                ..LogSource::default()
            },
            format,
            plan: None,
            first_unparsed: None,
            unit: "line",
            blocks: None,
        }
    }

    fn unparsed(&mut self, at: u64, why: &'static str) {
        self.info.unparsed += 1;
        if self.first_unparsed.is_none_or(|(first, _)| at < first) {
            self.first_unparsed = Some((at, why));
        }
    }
}

/// Turns positions into line numbers, once every block's line count is known.
struct LineNumbers {
    /// Per source: the number of lines before each block.
    before_block: Vec<Option<Vec<u64>>>,
}

impl LineNumbers {
    fn new(sources: &[SourceAcc]) -> LineNumbers {
        LineNumbers {
            before_block: sources
                .iter()
                .map(|s| {
                    s.blocks.as_ref().map(|counts| {
                        let mut total = 0;
                        counts
                            .iter()
                            .map(|n| {
                                let before = total;
                                total += n;
                                before
                            })
                            .collect()
                    })
                })
                .collect(),
        }
    }

    fn line(&self, source: u32, at: u64) -> u64 {
        match self.before_block.get(source as usize) {
            Some(Some(before)) => {
                let block = (at >> 32) as usize;
                before.get(block).copied().unwrap_or(0) + (at & 0xffff_ffff)
            }
            _ => at,
        }
    }
}

/// Reads lines into evidence: bounded memory whatever the size of the logs.
///
/// Gatherers fold independently and merge ([`Gatherer::read_lines`] gives each worker one):
/// counters add, histograms merge, and the examples kept are the first in file order, so the
/// evidence is the same as from one sequential pass. Only the bounded tables can differ when a
/// log overflows them (beyond 256 backends, 50 000 static paths or 16 body sizes per path, what
/// is tracked one by one depends on which lines each worker saw first).
pub struct Gatherer {
    opts: GatherOptions,
    sources: Vec<SourceAcc>,
    groups: Vec<(Option<String>, GroupAcc)>,
    group_index: HashMap<String, usize, RandomState>,
    /// The group of lines that name no backend.
    no_backend: Option<usize>,
    sizes: HashMap<String, Vec<SizeSeen>, RandomState>,
    /// The previous line's time, so that each second of the log is parsed once.
    clock: TimeCache,
}

impl Gatherer {
    /// A gatherer with `opts`.
    pub fn new(opts: GatherOptions) -> Gatherer {
        Gatherer {
            opts,
            sources: Vec::new(),
            groups: Vec::new(),
            group_index: HashMap::default(),
            no_backend: None,
            sizes: HashMap::default(),
            clock: TimeCache::default(),
        }
    }

    /// Start a file; its lines are then given with the returned index.
    pub fn begin_source(&mut self, name: &str, format: Format) -> usize {
        self.sources.push(SourceAcc::new(name, format));
        self.sources.len() - 1
    }

    /// Start a file in a user's own format ([`FieldPlan`]); its lines are then given with the
    /// returned index.
    pub fn begin_source_with_plan(&mut self, name: &str, plan: Arc<FieldPlan>) -> usize {
        let mut source = SourceAcc::new(name, Format::Combined);
        source.info.format = plan.name().to_string();
        source.plan = Some(plan);
        self.sources.push(source);
        self.sources.len() - 1
    }

    /// Read line `line_no` (1-based) of source `source`.
    pub fn line(&mut self, source: usize, line_no: u64, line: &str) {
        self.line_at(source, line_no, line);
    }

    /// Read a line at position `at` (a line number, or a block position when the source is
    /// read in blocks).
    pub(crate) fn line_at(&mut self, source: usize, at: u64, line: &str) {
        let Some(src) = self.sources.get_mut(source) else {
            return;
        };
        src.info.lines += 1;
        if line.trim().is_empty() {
            return;
        }
        let window = self.opts.has_window();
        if window
            && src.plan.is_none()
            && let Some(t) = line_time(src.format, line, &mut self.clock)
            && !self.opts.in_window(Some(t))
        {
            // Outside the window: read no further than the time.
            src.info.outside_window += 1;
            return;
        }
        let parsed = match &src.plan {
            Some(plan) => plan.parse_timed(line, &mut self.clock),
            None if src.format == Format::Json => {
                // The record borrows the line's strings; its entry borrows the record.
                return match json_line(line) {
                    Ok(record) => self.fold_parsed(source, at, record.entry(), line),
                    Err(why) => self.fold_parsed(source, at, Err(why), line),
                };
            }
            None => parse_line_timed(src.format, line, &mut self.clock),
        };
        self.fold_parsed(source, at, parsed, line);
    }

    /// Count a parsed line (or why it did not parse) and fold its entry in.
    fn fold_parsed(
        &mut self,
        source: usize,
        at: u64,
        parsed: Result<Entry<'_>, &'static str>,
        line: &str,
    ) {
        let window = self.opts.has_window();
        let Some(src) = self.sources.get_mut(source) else {
            return;
        };
        match parsed {
            Ok(e) if window && !self.opts.in_window(e.time) => src.info.outside_window += 1,
            Ok(e) => {
                src.info.parsed += 1;
                self.entry(source, at, &e, || cut(line.trim_end(), EXAMPLE_CHARS));
            }
            Err(why) => src.unparsed(at, why),
        }
    }

    /// A gatherer with the same options and sources, nothing gathered: a worker's.
    pub(crate) fn fork(&self) -> Gatherer {
        let mut g = Gatherer::new(self.opts.clone());
        for s in &self.sources {
            let mut fresh = SourceAcc::new(&s.info.name, s.format);
            fresh.info.format = s.info.format.clone();
            fresh.plan = s.plan.clone();
            fresh.unit = s.unit;
            fresh.blocks = s.blocks.as_ref().map(|_| Vec::new());
            g.sources.push(fresh);
        }
        g
    }

    /// Mark source `source` as read in blocks; `lines` is the line count of each block read so
    /// far, by block index.
    pub(crate) fn set_blocks(&mut self, source: usize, lines: Vec<u64>) {
        if let Some(s) = self.sources.get_mut(source) {
            s.blocks = Some(lines);
        }
    }

    /// Fold in what `other` (a [`Gatherer::fork`] of this one) gathered.
    pub(crate) fn merge(&mut self, other: Gatherer) {
        for (mine, theirs) in self.sources.iter_mut().zip(other.sources) {
            let (a, b) = (&mut mine.info, theirs.info);
            a.lines += b.lines;
            a.parsed += b.parsed;
            a.static_requests += b.static_requests;
            a.first_time = a.first_time.into_iter().chain(b.first_time).min();
            a.last_time = a.last_time.into_iter().chain(b.last_time).max();
            a.unparsed += b.unparsed;
            a.outside_window += b.outside_window;
            if let Some((at, why)) = theirs.first_unparsed
                && mine.first_unparsed.is_none_or(|(first, _)| at < first)
            {
                mine.first_unparsed = Some((at, why));
            }
        }
        let per_sign = self.opts.examples_per_sign;
        let mut remap = Vec::with_capacity(other.groups.len());
        for (key, acc) in other.groups {
            let i = self.group(key.as_deref());
            self.groups[i].1.merge(acc, per_sign);
            remap.push(i as u32);
        }
        for (path, theirs) in other.sizes {
            let theirs = theirs.into_iter().map(|mut s| {
                s.group = remap.get(s.group as usize).copied().unwrap_or(0);
                s
            });
            let known = self.sizes.len();
            match self.sizes.get_mut(&path) {
                Some(mine) => {
                    for t in theirs {
                        match mine.iter_mut().find(|m| m.bytes == t.bytes) {
                            Some(m) => {
                                m.count = m.count.saturating_add(t.count);
                                if (t.source, t.at) < (m.source, m.at) {
                                    (m.source, m.at, m.group, m.sign) =
                                        (t.source, t.at, t.group, t.sign);
                                }
                            }
                            None => mine.push(t),
                        }
                    }
                    mine.sort_by_key(|m| std::cmp::Reverse(m.bytes));
                    mine.truncate(MAX_SIZES);
                }
                None if known < MAX_PATHS => {
                    self.sizes.insert(path, theirs.collect());
                }
                None => {}
            }
        }
    }

    /// Read record `number` (1-based) of a JSON document given as source `source`: counted
    /// and gathered as a line would be, shown in examples by the fields read.
    pub(crate) fn json_record(&mut self, source: usize, number: u64, record: &JsonRecord<'_>) {
        let Some(src) = self.sources.get_mut(source) else {
            return;
        };
        src.unit = "record";
        src.info.lines += 1;
        match record.entry() {
            Ok(e) if self.opts.has_window() && !self.opts.in_window(e.time) => {
                src.info.outside_window += 1;
            }
            Ok(e) => {
                src.info.parsed += 1;
                self.entry(source, number, &e, || {
                    cut(&record.example_text(), EXAMPLE_CHARS)
                });
            }
            Err(why) => src.unparsed(number, why),
        }
    }

    fn group(&mut self, upstream: Option<&str>) -> usize {
        // Looked up by reference: most lines name a backend already seen.
        let found = match upstream {
            Some(u) => self.group_index.get(u).copied(),
            None => self.no_backend,
        };
        if let Some(i) = found {
            return i;
        }
        let key = match upstream {
            Some(_) if self.groups.len() >= MAX_GROUPS => Some(OTHER_BACKENDS),
            other => other,
        };
        if let Some(k) = key
            && let Some(i) = self.group_index.get(k)
        {
            return *i;
        }
        let i = self.groups.len();
        self.groups.push((key.map(str::to_string), GroupAcc::new()));
        match key {
            Some(k) => {
                self.group_index.insert(k.to_string(), i);
            }
            None => self.no_backend = Some(i),
        }
        i
    }

    /// Fold one entry in; `example` gives its text when it is kept as an example.
    fn entry(&mut self, source: usize, at: u64, e: &Entry<'_>, example: impl FnOnce() -> String) {
        let src = &mut self.sources[source].info;
        if let Some(t) = e.time {
            src.first_time = Some(src.first_time.map_or(t, |f| f.min(t)));
            src.last_time = Some(src.last_time.map_or(t, |l| l.max(t)));
        }
        let gi = self.group(e.upstream.as_deref());
        let g = &mut self.groups[gi].1;
        g.requests += 1;
        let method_ok = e
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case("GET") || m.eq_ignore_ascii_case("HEAD"));
        if !method_ok || !is_static_path(&e.path, &self.opts.static_prefixes) {
            return;
        }
        self.sources[source].info.static_requests += 1;
        g.static_requests += 1;
        match e.status {
            Some(404) => g.not_found += 1,
            Some(403) => g.forbidden += 1,
            _ => {}
        }
        g.network_trouble += u64::from(e.network_trouble);
        if let Some(p) = e.tls_protocol.as_deref() {
            count_name(&mut g.tls_protocols, p, 1);
        }
        if let Some(c) = e.tls_cipher.as_deref() {
            count_name(&mut g.tls_ciphers, c, 1);
        }
        if let Some(d) = e.duration_ms {
            let _ = g.duration.record((d * 1000.0).clamp(1.0, 3.6e9) as u64);
        }
        if let Some(u) = e.upstream_ms {
            let _ = g.upstream.record((u * 1000.0).clamp(1.0, 3.6e9) as u64);
        }
        let sign = match e.ending {
            Ending::ServerTimeout => Some(LogSign::ServerTimeout),
            Ending::ServerFailed => Some(LogSign::ServerFailed),
            Ending::ClientTimeout => Some(LogSign::ClientTimeout),
            Ending::ClientClosed => Some(LogSign::ClientClosed),
            Ending::Complete => match e.duration_ms {
                Some(d) if d >= self.opts.slow_ms => {
                    let backend_fast = e.upstream_ms.is_some_and(|u| u <= (d / 10.0).max(100.0));
                    Some(if backend_fast {
                        LogSign::SlowDelivery
                    } else {
                        LogSign::Slow
                    })
                }
                _ => None,
            },
        };
        if let Some(t) = e.time {
            let outcome = match sign {
                Some(LogSign::ServerTimeout | LogSign::ServerFailed) => Outcome::ServerError,
                _ if e.status.is_some_and(|s| s >= 500) => Outcome::ServerError,
                Some(LogSign::ClientClosed | LogSign::ClientTimeout) => Outcome::ClientAborted,
                Some(LogSign::Slow | LogSign::SlowDelivery) => Outcome::Slow,
                _ => Outcome::Ok,
            };
            let mut counts = [0; 4];
            counts[outcome as usize] = 1;
            g.timeline.add(t, counts);
        }
        if let Some(s) = sign {
            g.signs[sign_index(s)] += 1;
            if g.examples.iter().filter(|x| x.sign == s).count() < self.opts.examples_per_sign {
                g.examples.push(Kept {
                    sign: s,
                    source: source as u32,
                    at,
                    text: example(),
                });
            }
        }
        self.fold_tries(gi, e);
        // Complete 200s (and 200s the client ended mid-body) feed the size picture.
        if e.status == Some(200)
            && let Some(bytes) = e.bytes
            && matches!(e.ending, Ending::Complete | Ending::ClientClosed)
        {
            let first = SizeSeen {
                bytes,
                count: 1,
                source: source as u32,
                at,
                group: gi as u32,
                sign,
            };
            let known = self.sizes.len();
            if let Some(v) = self.sizes.get_mut(e.path.as_ref()) {
                if let Some(s) = v.iter_mut().find(|s| s.bytes == bytes) {
                    s.count = s.count.saturating_add(1);
                } else if v.len() < MAX_SIZES {
                    v.push(first);
                } else if let Some(smallest) = v.iter_mut().min_by_key(|s| s.bytes)
                    && smallest.bytes < bytes
                {
                    // A size dropped here never comes back: the sixteen kept only grow.
                    *smallest = first;
                }
            } else if known < MAX_PATHS {
                self.sizes.insert(e.path.to_string(), vec![first]);
            }
        }
    }

    /// Each upstream try of `e` (nginx lists) to its backend: counted, failed when nginx moved
    /// on to the next server after it, with its connect and header times. `answered` is the
    /// group of the backend that answered.
    fn fold_tries(&mut self, answered: usize, e: &Entry<'_>) {
        let Some(list) = e.upstream_tries.as_deref() else {
            return;
        };
        let retried = list.contains(',') || list.contains(" : ");
        if !retried && e.upstream_connect.is_none() && e.upstream_header.is_none() {
            // One try, the answer: nothing more to attribute.
            if e.upstream.is_some() {
                self.groups[answered].1.tries += 1;
            }
            return;
        }
        fn values(v: Option<&str>) -> Option<impl Iterator<Item = &str>> {
            v.map(|v| upstream_items(v).map(|(item, _)| item))
        }
        let mut connect = values(e.upstream_connect.as_deref());
        let mut header = values(e.upstream_header.as_deref());
        for (address, failed) in upstream_items(list).take(MAX_TRIES) {
            let connect_ms = connect
                .as_mut()
                .and_then(Iterator::next)
                .and_then(seconds_ms);
            let header_ms = header
                .as_mut()
                .and_then(Iterator::next)
                .and_then(seconds_ms);
            if address.is_empty() || address == "-" {
                continue;
            }
            let gi = if !failed && e.upstream.as_deref() == Some(address) {
                answered
            } else {
                self.group(Some(address))
            };
            let g = &mut self.groups[gi].1;
            g.tries += 1;
            g.failed_tries += u64::from(failed);
            if let Some(ms) = connect_ms {
                record_ms(&mut g.connect, ms);
            }
            if let Some(ms) = header_ms {
                record_ms(&mut g.header, ms);
            }
        }
    }

    /// The evidence gathered.
    pub fn finish(mut self) -> LogEvidence {
        let numbers = LineNumbers::new(&self.sources);
        let partial_examples = self.mark_partial_bodies(&numbers);
        let named = self.groups.iter().any(|(k, _)| k.is_some());
        let width = self.align_timelines();
        let sources = &self.sources;
        let per_sign = self.opts.examples_per_sign;
        let mut groups: Vec<LogGroup> = self
            .groups
            .into_iter()
            .zip(partial_examples)
            .filter(|((_, g), _)| g.static_requests > 0 || g.tries > 0)
            .map(|((k, g), partial)| {
                let name = match k {
                    Some(k) => k,
                    None if named => NO_BACKEND.to_string(),
                    None => "all".to_string(),
                };
                log_group(name, g, partial, sources, &numbers, per_sign)
            })
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        LogEvidence {
            sources: self
                .sources
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut info = s.info;
                    info.first_unparsed = s.first_unparsed.map(|(at, why)| {
                        format!("{} {}: {why}", s.unit, numbers.line(i as u32, at))
                    });
                    info
                })
                .collect(),
            groups,
            grouped_by: if named { "backend" } else { "log" }.to_string(),
            slow_ms: self.opts.slow_ms,
            timeline_seconds: width.map_or(0, |w| w.unsigned_abs()),
        }
    }

    /// A body logged once at a size below the size seen again and again for the same path
    /// was sent partly (a size seen repeatedly is another encoding, not a cut): such lines
    /// count as partial instead of their sign, and the first of them per group are returned
    /// as examples.
    fn mark_partial_bodies(&mut self, numbers: &LineNumbers) -> Vec<Vec<LogExample>> {
        let mut partial_examples: Vec<Vec<LogExample>> =
            self.groups.iter().map(|_| Vec::new()).collect();
        let mut paths: Vec<(&String, &Vec<SizeSeen>)> = self.sizes.iter().collect();
        paths.sort_by(|a, b| a.0.cmp(b.0));
        for (path, seen) in paths {
            let Some(full) = seen.iter().max_by_key(|s| (s.count, s.bytes)) else {
                continue;
            };
            if full.count < 3 {
                continue;
            }
            let mut cut: Vec<&SizeSeen> = seen
                .iter()
                .filter(|s| s.count == 1 && s.bytes < full.bytes)
                .collect();
            cut.sort_by_key(|s| (s.source, s.at));
            for s in cut {
                let g = &mut self.groups[s.group as usize].1;
                if matches!(
                    s.sign,
                    Some(LogSign::ServerTimeout)
                        | Some(LogSign::ServerFailed)
                        | Some(LogSign::ClientTimeout)
                        | Some(LogSign::ClientClosed)
                ) {
                    continue;
                }
                if let Some(old) = s.sign {
                    g.signs[sign_index(old)] = g.signs[sign_index(old)].saturating_sub(1);
                }
                g.signs[sign_index(LogSign::Partial)] += 1;
                let kept = &mut partial_examples[s.group as usize];
                if kept.len() < self.opts.examples_per_sign {
                    kept.push(LogExample {
                        sign: LogSign::Partial,
                        location: format!(
                            "{}:{}",
                            self.sources[s.source as usize].info.name,
                            numbers.line(s.source, s.at)
                        ),
                        text: format!(
                            "{path}: 200 with {} of the {} bytes logged {} times for it",
                            s.bytes, full.bytes, full.count
                        ),
                    });
                }
            }
        }
        partial_examples
    }

    /// One width for every backend's timeline, so they line up; the width, when any group
    /// has a timeline.
    fn align_timelines(&mut self) -> Option<i64> {
        let width = self
            .groups
            .iter()
            .filter(|(_, g)| !g.timeline.buckets.is_empty())
            .map(|(_, g)| g.timeline.width)
            .max();
        if let Some(w) = width {
            for (_, g) in &mut self.groups {
                g.timeline.widen_to(w);
            }
        }
        width
    }
}

/// A group's counters as evidence: statistics of its histograms, its most used TLS
/// parameters, its timeline, and its examples in file order (then the partial bodies').
fn log_group(
    name: String,
    mut g: GroupAcc,
    partial: Vec<LogExample>,
    sources: &[SourceAcc],
    numbers: &LineNumbers,
    per_sign: usize,
) -> LogGroup {
    LogGroup {
        name,
        requests: g.requests,
        static_requests: g.static_requests,
        signs: LogSign::ALL
            .iter()
            .zip(g.signs)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| (*s, n))
            .collect(),
        not_found: g.not_found,
        forbidden: g.forbidden,
        network_trouble: g.network_trouble,
        duration: stats(&g.duration),
        upstream: (!g.upstream.is_empty()).then(|| stats(&g.upstream)),
        tries: g.tries,
        failed_tries: g.failed_tries,
        connect: (!g.connect.is_empty()).then(|| stats(&g.connect)),
        header: (!g.header.is_empty()).then(|| stats(&g.header)),
        tls_protocols: most_used(std::mem::take(&mut g.tls_protocols)),
        tls_ciphers: most_used(std::mem::take(&mut g.tls_ciphers)),
        timeline: std::mem::take(&mut g.timeline.buckets)
            .into_iter()
            .map(|(start, c)| LogBucket {
                start,
                ok: c[Outcome::Ok as usize],
                slow: c[Outcome::Slow as usize],
                client_aborted: c[Outcome::ClientAborted as usize],
                server_errors: c[Outcome::ServerError as usize],
            })
            .collect(),
        examples: {
            keep_first(&mut g.examples, per_sign);
            g.examples
                .drain(..)
                .map(|k| LogExample {
                    sign: k.sign,
                    location: format!(
                        "{}:{}",
                        sources[k.source as usize].info.name,
                        numbers.line(k.source, k.at)
                    ),
                    text: k.text,
                })
                .chain(partial)
                .collect()
        },
    }
}

fn stats(h: &Histogram<u64>) -> PhaseStats {
    if h.is_empty() {
        return PhaseStats::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    PhaseStats {
        count: h.len(),
        min: ms(h.min()),
        p50: ms(h.value_at_quantile(0.5)),
        p90: ms(h.value_at_quantile(0.9)),
        p99: ms(h.value_at_quantile(0.99)),
        max: ms(h.max()),
        mean: h.mean() / 1000.0,
    }
}

fn most_used(mut table: Vec<(String, u64)>) -> Vec<(String, u64)> {
    table.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    table
}

fn cut(s: &str, max: usize) -> String {
    interloper_model::text::cut_chars_marked(s, max)
}
