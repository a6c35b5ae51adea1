//! `interloper logs FILE…`: what the access logs users already have say about static files.
//!
//! The flags become an `interloper_logs::LogsPlan` whose inputs are the files opened here (gzip
//! and zstd recognised by their magic bytes, `-` for standard input, a progress bar over each);
//! `interloper_logs::run_logs` detects formats, gathers on several cores and judges; the report
//! is written and the exit code picked here.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::time::Duration;

use interloper_logs::{ForcedFormat, GatherOptions, LogsPlan, TimeBound, run_logs};
use interloper_model::input::{Input, InputReader};
use interloper_report::LogReport;

use crate::args::{ReportArgs, parse};
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper logs`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.logs/v1, see docs/logs.md)")))]
pub struct Args {
    /// Access logs: nginx or Apache (combined), HAProxy (httplog), or JSON lines (Avi / NSX
    /// ALB application logs, nginx `escape=json`); gzip and zstd files are read as such whatever their name, `-` is stdin.
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
    /// Read only lines at or after this time: RFC 3339 (2026-11-24T07:30:00Z, or with an
    /// offset) or a span before now (2h, 30m, 1h30m, 1d). Lines outside are skipped after
    /// reading their time only.
    #[arg(long, value_name = "TIME", value_parser = TimeBound::parse)]
    pub since: Option<TimeBound>,
    /// Read only lines before this time (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = TimeBound::parse)]
    pub until: Option<TimeBound>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Run `interloper logs`: problems when a finding is at or above `--fail-on`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    // Reading files is blocking work: keep it off the async workers.
    tokio::task::spawn_blocking(move || run_blocking(args, style)).await?
}

/// The first bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The first bytes of every zstd frame (RFC 8878), little-endian 0xFD2FB528.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// A file (or `-`, standard input), decompressed when it starts like gzip or zstd whatever its
/// name: rotated logs are often `access.log.1` compressed, or `.gz` files already unpacked.
fn open_log(path: &Path, show_progress: bool) -> io::Result<InputReader> {
    let (input, len) = crate::out::open_input(path)?;
    let mut input = io::BufReader::with_capacity(64 * 1024, input);
    if input.fill_buf()?.starts_with(&ZSTD_MAGIC) {
        // Every frame in turn, as `zstd -d` does with concatenated files.
        let decoded = zstd::stream::read::Decoder::with_buffer(input)?;
        return Ok(Box::new(crate::out::counting(
            decoded,
            None,
            path,
            show_progress,
        )));
    }
    if input.fill_buf()?.starts_with(&GZIP_MAGIC) {
        // The decompressed size is unknown: the progress bar spins instead.
        let decoded = flate2::read::MultiGzDecoder::new(input);
        return Ok(Box::new(crate::out::counting(
            decoded,
            None,
            path,
            show_progress,
        )));
    }
    Ok(Box::new(crate::out::counting(
        input,
        len,
        path,
        show_progress,
    )))
}

/// The plan these flags describe; `now` (seconds since the epoch) places `--since 2h`.
fn plan(args: &Args, show_progress: bool, now: i64) -> LogsPlan {
    let inputs = args
        .files
        .iter()
        .map(|path| {
            let path = path.clone();
            Input::new(path.display().to_string(), move || {
                open_log(&path, show_progress)
            })
        })
        .collect();
    LogsPlan {
        inputs,
        format: args.format.as_ref().map(|f| match f {
            parse::LogFormat::Builtin(f) => ForcedFormat::Builtin(*f),
            parse::LogFormat::Plan(p) => ForcedFormat::Plan(std::sync::Arc::clone(p)),
        }),
        gather: GatherOptions {
            static_prefixes: args.static_prefix.clone(),
            slow_ms: args.slow.as_secs_f64() * 1000.0,
            since: args.since.map(|b| b.resolve(now)),
            until: args.until.map(|b| b.resolve(now)),
            ..GatherOptions::default()
        },
        threads: LogsPlan::default_threads(),
    }
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let show_progress = style.color && !args.report.json;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let outcome = run_logs(plan(&args, show_progress, now))?;
    let worst = outcome.diagnosis.worst();
    let report = LogReport::new(
        outcome.diagnosis,
        outcome.evidence,
        crate::out::report_meta(),
    );
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}
