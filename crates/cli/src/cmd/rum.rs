//! `interloper rum FILE…`: what real users' browsers timed (interloper-django's beacons). The
//! flags become an `interloper_rum::RumPlan` over the files opened here;
//! `interloper_rum::run_rum` reads and judges them; the report is the check's, under the schema
//! `interloper.rum/v1`, with the rates by instance, network, file, size class and protocol.

use std::path::PathBuf;

use interloper_findings::ThresholdConfig;
use interloper_report::RumReport;
use interloper_rum::{ReadOptions, RumPlan, run_rum};

use crate::args::ReportArgs;
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper rum`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.rum/v1, see docs/rum.md)")))]
pub struct Args {
    /// Beacon logs (JSON lines, interloper.rum.beacon/v1, as interloper-django's endpoint
    /// appends them; `.gz` read as gzip), `-` for standard input. Read as one population.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Timed files analysed at most over all inputs; later ones are counted, not kept.
    #[arg(long, value_name = "N", default_value_t = ReadOptions::default().max_files)]
    pub max_files: usize,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Run `interloper rum`: problems when a finding is at or above `--fail-on`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    // Reading files is blocking work: keep it off the async workers.
    tokio::task::spawn_blocking(move || run_blocking(args, style)).await?
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let show_progress = style.color && !args.report.json;
    let plan = RumPlan {
        inputs: args
            .files
            .iter()
            .map(|path| crate::out::input(path, show_progress))
            .collect(),
        read: ReadOptions {
            max_files: args.max_files,
        },
        thresholds: ThresholdConfig::default(),
    };
    let outcome = run_rum(plan)?;
    let worst = outcome.analysis.analysis.diagnosis.worst();
    let report = RumReport::new(
        outcome.analysis,
        outcome.targets,
        outcome.summary,
        crate::out::report_meta(),
    );
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}
