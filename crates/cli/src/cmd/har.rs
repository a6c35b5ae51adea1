//! `interloper har FILE…`: what a browser's (or a proxy's) HAR recording says about the
//! page's files. Each file is streamed (`interloper_har::read`), turned into one target's
//! evidence, and the check's detectors run over all of them, the files compared like
//! instances; the report is the check's, under the schema `interloper.har/v1`.

use std::path::{Path, PathBuf};

use interloper_findings::{ThresholdConfig, analyse_har};
use interloper_har::{HarSummary, ReadOptions};
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

/// The file (or `-`, standard input) and its length when known.
/// A distinct label per file: its name as given, numbered when two are the same.
fn label(path: &Path, taken: &[String]) -> String {
    let base = path.display().to_string();
    let mut label = base.clone();
    let mut n = 2;
    while taken.contains(&label) {
        label = format!("{base} #{n}");
        n += 1;
    }
    label
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let opts = ReadOptions {
        max_records: args.max_entries,
    };
    let (mut targets, mut browsers, mut files) = (Vec::new(), Vec::new(), Vec::new());
    let mut labels: Vec<String> = Vec::new();
    let show_progress = style.color && !args.report.json;
    for path in &args.files {
        let (input, len) = crate::out::open_input(path)?;
        let bar = crate::out::byte_progress(len, &path.display().to_string(), show_progress);
        let input = crate::out::Counting {
            inner: input,
            bar: bar.clone(),
        };
        let read = interloper_har::read(input, &opts);
        // Cleared before an error is printed, so the one line stands alone.
        bar.finish_and_clear();
        let har = read.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let label = label(path, &labels);
        labels.push(label.clone());
        let ev = interloper_har::evidence(&har, &label);
        files.push(HarSummary::new(&har, &ev));
        targets.push(ev.target);
        browsers.push(ev.browser);
    }
    let analysis = analyse_har(&targets, &browsers, &ThresholdConfig::default());
    let worst = analysis.diagnosis.worst();
    let report = HarReport::new(analysis, targets, files, crate::out::report_meta());
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct() {
        let taken = vec!["a.har".to_string(), "a.har #2".to_string()];
        assert_eq!(label(Path::new("b.har"), &taken), "b.har");
        assert_eq!(label(Path::new("a.har"), &taken), "a.har #3");
    }
}
