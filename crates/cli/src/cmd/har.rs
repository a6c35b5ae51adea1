//! `interloper har FILE…`: what a browser's (or a proxy's) HAR recording says about the
//! page's files. The flags become an `interloper_har::HarPlan` over the files opened here (a
//! progress bar over each); `interloper_har::run_har` reads, labels and judges them; the report
//! is the check's, under the schema `interloper.har/v1`.

use std::path::PathBuf;

use interloper_findings::ThresholdConfig;
use interloper_har::{HarPlan, ReadOptions, run_har};
use interloper_report::HarReport;

use crate::args::ReportArgs;
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper har`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.har/v1, see docs/har.md)")))]
pub struct Args {
    /// HAR files (Chrome/Edge, Firefox, Safari, Playwright, Charles, Fiddler, mitmproxy), `-`
    /// for standard input. Several files (users, or before/after) are compared like instances.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Entries analysed per file at most; later ones are counted, not kept.
    #[arg(long, value_name = "N", default_value_t = ReadOptions::default().max_records)]
    pub max_entries: usize,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Run `interloper har`: problems when a finding is at or above `--fail-on`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    // Reading files is blocking work: keep it off the async workers.
    tokio::task::spawn_blocking(move || run_blocking(args, style)).await?
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let show_progress = style.color && !args.report.json;
    let plan = HarPlan {
        inputs: args
            .files
            .iter()
            .map(|path| crate::out::input(path, show_progress))
            .collect(),
        read: ReadOptions {
            max_records: args.max_entries,
        },
        thresholds: ThresholdConfig::default(),
    };
    let outcome = run_har(plan)?;
    let worst = outcome.analysis.diagnosis.worst();
    let report = HarReport::new(
        outcome.analysis,
        outcome.targets,
        outcome.files,
        crate::out::report_meta(),
    );
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}
