//! `interloper logs FILE…`: what the access logs users already have say about static files.
//!
//! Each file (gzip recognised by its magic bytes, `-` for standard input) has its format
//! detected from its first lines; its lines are then parsed on every core in blocks cut at
//! line ends, each worker folding into bounded per-backend evidence, and the folds merged;
//! the findings crate turns that into findings and a verdict. A JSON document (Avi's API
//! export) is read one record at a time the same way, never whole.

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use interloper_findings::analyse_logs;
use interloper_logs::{
    DETECT_BYTES, DETECT_LINES, Format, GatherOptions, Gatherer, Layout, detect_layout,
};
use interloper_report::LogReport;

use crate::args::{ReportArgs, parse};
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper logs`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.logs/v1, see docs/logs.md)")))]
pub struct Args {
    /// Access logs: nginx or Apache (combined), HAProxy (httplog), or JSON lines (Avi / NSX
    /// ALB application logs, nginx `escape=json`); gzip files are read as gzip whatever their name, `-` is stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The format of every file, instead of detecting it from each file's first lines:
    /// combined, haproxy, json, or your own: nginx:'<log_format string>' or
    /// haproxy:'<log-format string>' (as in the configuration; unknown variables skipped).
    #[arg(long, value_parser = parse::log_format, value_name = "FORMAT")]
    pub format: Option<parse::LogFormat>,
    /// Path prefix of static files (repeatable), e.g. /static/. Default: /static/, /media/ or
    /// a static file extension.
    #[arg(long, value_name = "PREFIX")]
    pub static_prefix: Vec<String>,
    /// A static request slower than this counts as slow.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse::duration)]
    pub slow: Duration,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Run `interloper logs`: problems when a finding is at or above `--fail-on`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    // Reading files is blocking work: keep it off the async workers.
    tokio::task::spawn_blocking(move || run_blocking(args, style)).await?
}

/// Workers parsing one file at most: parsing is past 1 GB/s on two, and each worker's tables
/// (up to tens of MiB on a log with 50 000 static paths) add to the peak memory.
const MAX_WORKERS: usize = 8;

/// The first bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A file (or `-`, standard input), decompressed when it starts like gzip whatever its name:
/// rotated logs are often `access.log.1` compressed, or `.gz` files already unpacked.
fn open_log(path: &Path) -> anyhow::Result<(Box<dyn Read + Send>, Option<u64>)> {
    let (input, len) = crate::out::open_input(path)?;
    let mut input = io::BufReader::with_capacity(64 * 1024, input);
    let head = io::BufRead::fill_buf(&mut input).with_context(|| format!("{}", path.display()))?;
    if head.starts_with(&GZIP_MAGIC) {
        // The decompressed size is unknown: the progress bar spins instead.
        return Ok((Box::new(flate2::read::MultiGzDecoder::new(input)), None));
    }
    Ok((Box::new(input), len))
}

fn read_file(
    gatherer: &mut Gatherer,
    path: &Path,
    forced: Option<&parse::LogFormat>,
    show_progress: bool,
) -> anyhow::Result<()> {
    let name = path.display().to_string();
    let (reader, len) = open_log(path)?;
    let bar = crate::out::byte_progress(len, &name, show_progress);
    let mut reader = BufReader::with_capacity(
        256 * 1024,
        crate::out::Counting {
            inner: reader,
            bar: bar.clone(),
        },
    );
    // The beginning decides how the file is read; it is then read again as part of it.
    let (prefix, complete) = read_prefix(&mut reader).with_context(|| name.clone())?;
    let (builtin, plan) = match forced {
        Some(parse::LogFormat::Builtin(f)) => (Some(*f), None),
        Some(parse::LogFormat::Plan(p)) => (None, Some(p)),
        None => (None, None),
    };
    let layout = match plan {
        // The user's format says how each line reads.
        Some(_) => Some(Layout::Lines(Format::Combined)),
        None => detect_layout(&prefix, complete, builtin),
    };
    let first_line = || {
        String::from_utf8_lossy(&prefix[..prefix.len().min(4096)])
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().chars().take(120).collect::<String>())
            .unwrap_or_else(|| "the file is empty".into())
    };
    let Some(layout) = layout else {
        bail!(
            "{name}: not an access log interloper reads (combined, haproxy or json); first line: {:?}",
            first_line()
        );
    };
    let whole = io::Cursor::new(prefix).chain(reader);
    match layout {
        Layout::JsonDocument => {
            // One record at a time: memory is the gatherer's bounds, not the document's size.
            let source = gatherer.begin_source(&name, Format::Json);
            gatherer
                .json_document(source, whole)
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        }
        Layout::Lines(format) => {
            let source = match plan {
                Some(p) => gatherer.begin_source_with_plan(&name, std::sync::Arc::clone(p)),
                None => gatherer.begin_source(&name, format),
            };
            // Parsed on every core; this thread reads (and decompresses gzip) meanwhile.
            // Each worker holds its own bounded tables: at most MAX_WORKERS of them.
            let threads = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_WORKERS);
            gatherer
                .read_lines(source, whole, threads)
                .with_context(|| name.clone())?;
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// The file's first [`DETECT_LINES`] lines or [`DETECT_BYTES`] bytes, whichever ends first, and
/// whether that is the whole file. Reads no further than it needs, so a pipe is read as it
/// comes.
fn read_prefix(reader: &mut impl BufRead) -> io::Result<(Vec<u8>, bool)> {
    let mut prefix = Vec::new();
    let mut newlines = 0;
    while newlines < DETECT_LINES && prefix.len() < DETECT_BYTES {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((prefix, true));
        }
        let room = DETECT_BYTES - prefix.len();
        let mut take = available.len().min(room);
        for i in memchr::memchr_iter(b'\n', &available[..take]) {
            newlines += 1;
            if newlines == DETECT_LINES {
                take = i + 1;
                break;
            }
        }
        prefix.extend_from_slice(&available[..take]);
        reader.consume(take);
    }
    Ok((prefix, false))
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let mut gatherer = Gatherer::new(GatherOptions {
        static_prefixes: args.static_prefix.clone(),
        slow_ms: args.slow.as_secs_f64() * 1000.0,
        ..GatherOptions::default()
    });
    let show_progress = style.color && !args.report.json;
    for path in &args.files {
        read_file(&mut gatherer, path, args.format.as_ref(), show_progress)?;
    }
    let evidence = gatherer.finish();
    for s in &evidence.sources {
        if s.parsed == 0 && s.lines > 0 {
            bail!(
                "{}: no line read as {} ({})",
                s.name,
                s.format,
                s.first_unparsed.as_deref().unwrap_or("-")
            );
        }
    }
    let analysis = analyse_logs(&evidence);
    let worst = analysis.worst();
    let report = LogReport::new(analysis, evidence, crate::out::report_meta());
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_stops_at_the_detection_lines_or_bytes() {
        let many = "a line\n".repeat(200);
        let mut r = io::Cursor::new(many.as_bytes());
        let (prefix, complete) = read_prefix(&mut r).expect("reads");
        assert_eq!(prefix.len(), 7 * DETECT_LINES);
        assert!(!complete);
        // What the prefix took is read again: nothing is lost.
        let mut whole = io::Cursor::new(prefix).chain(r);
        let mut again = String::new();
        whole.read_to_string(&mut again).expect("reads");
        assert_eq!(again, many);

        let one_line = vec![b'x'; DETECT_BYTES * 2];
        let (prefix, complete) =
            read_prefix(&mut BufReader::with_capacity(1000, &one_line[..])).expect("reads");
        assert_eq!((prefix.len(), complete), (DETECT_BYTES, false));

        let (prefix, complete) = read_prefix(&mut &b"short\nfile"[..]).expect("reads");
        assert_eq!((prefix.as_slice(), complete), (&b"short\nfile"[..], true));
    }
}
