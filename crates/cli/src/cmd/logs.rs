//! `interloper logs FILE…`: what the access logs users already have say about static files.
//!
//! The flags become an `interloper_logs::LogsPlan` whose inputs are the files opened here (gzip
//! recognised by its magic bytes, `-` for standard input, a progress bar over each);
//! `interloper_logs::run_logs` detects formats, gathers on several cores and judges; the report
//! is written and the exit code picked here.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::time::Duration;

use interloper_logs::{ForcedFormat, GatherOptions, LogsPlan, run_logs};
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

/// The first bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A file (or `-`, standard input), decompressed when it starts like gzip whatever its name:
/// rotated logs are often `access.log.1` compressed, or `.gz` files already unpacked.
fn open_log(path: &Path, show_progress: bool) -> io::Result<InputReader> {
    let (input, len) = crate::out::open_input(path)?;
    let mut input = io::BufReader::with_capacity(64 * 1024, input);
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

/// The plan these flags describe.
fn plan(args: &Args, show_progress: bool) -> LogsPlan {
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
            ..GatherOptions::default()
        },
        threads: LogsPlan::default_threads(),
    }
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let show_progress = style.color && !args.report.json;
    let outcome = run_logs(plan(&args, show_progress))?;
    let worst = outcome.diagnosis.worst();
    let report = LogReport::new(
        outcome.diagnosis,
        outcome.evidence,
        crate::out::report_meta(),
    );
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}
