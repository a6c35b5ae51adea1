//! `interloper visits FILE…`: the browser witness's visits log summarised — how many visitors
//! were intercepted, by hello stack, browser and client network, how many downloads stalled —
//! or one visit looked up by the code its visitor sent (`--code`). The flags become an
//! `interloper_findings::visits::VisitsPlan` over the files opened here;
//! `interloper_findings::visits::run_visits` reads (bounded) and summarises them.

use std::path::PathBuf;

use interloper_findings::visits::{VisitsPlan, run_visits};
use interloper_model::input::{Input, InputReader};
use interloper_report::VisitsReport;

use crate::args::ReportArgs;
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper visits`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.visits/v1, docs/visits.md)")))]
pub struct Args {
    /// Visits logs written by `interloper echo --visits-log FILE` (rotated files too).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Show this visit in full (the code the visitor sent; repeatable).
    #[arg(long = "code", value_name = "CODE")]
    pub codes: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Run `interloper visits`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    tokio::task::spawn_blocking(move || run_blocking(args, style)).await?
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let inputs = args
        .files
        .iter()
        .map(|path| {
            let path = path.clone();
            // A file, never stdin: the witness writes visits logs to disk.
            Input::new(path.display().to_string(), move || {
                Ok(Box::new(std::fs::File::open(&path)?) as InputReader)
            })
        })
        .collect();
    let outcome = run_visits(VisitsPlan {
        inputs,
        codes: args.codes.clone(),
    })?;
    let worst = outcome.analysis.diagnosis.worst();
    let report = VisitsReport::new(
        outcome.analysis,
        outcome.looked_up,
        outcome.notes,
        crate::out::report_meta(),
    );
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}
