//! `interloper visits FILE…`: the browser witness's visits log summarised — how many visitors
//! were intercepted, by hello stack, browser and client network, how many downloads stalled —
//! or one visit looked up by the code its visitor sent (`--code`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use interloper_findings::visits::{VisitRecord, analyse_visits};
use interloper_report::{VisitsReport, schema};

use crate::args::ReportArgs;
use crate::exit::Exit;
use crate::out::Style;

/// Longest line read as a visit record; a longer one is skipped with a note.
const MAX_LINE: usize = 1024 * 1024;
/// Visits kept in memory for the summary; beyond, the rest are counted in a note.
const MAX_VISITS: usize = 500_000;

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

/// Reads every record of the files; lines that are not visit records become notes.
fn read(files: &[PathBuf]) -> anyhow::Result<(Vec<VisitRecord>, Vec<String>)> {
    let mut records = Vec::new();
    let mut notes = Vec::new();
    let mut over = 0u64;
    for path in files {
        let f = File::open(path).with_context(|| format!("{}", path.display()))?;
        let mut reader = BufReader::new(f);
        let (mut lines, mut bad, mut first_bad) = (0u64, 0u64, None::<String>);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = Read::by_ref(&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("{}", path.display()))?;
            if n == 0 {
                break;
            }
            if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
                // Skip the rest of an overlong line.
                let mut rest = Vec::new();
                reader.read_until(b'\n', &mut rest)?;
            }
            lines += 1;
            let text = String::from_utf8_lossy(&buf);
            if text.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<VisitRecord>(text.trim()) {
                Ok(r) if r.schema == schema::VISIT => {
                    if records.len() < MAX_VISITS {
                        records.push(r);
                    } else {
                        over += 1;
                    }
                }
                Ok(_) | Err(_) => {
                    bad += 1;
                    first_bad.get_or_insert_with(|| format!("line {lines}"));
                }
            }
        }
        if lines > 0 && bad == lines {
            bail!(
                "{}: no line is a visit record ({}); write one with `interloper echo --visits-log FILE`",
                path.display(),
                schema::VISIT
            );
        }
        if bad > 0 {
            notes.push(format!(
                "{}: {bad} of {lines} lines are not visit records (first: {})",
                path.display(),
                first_bad.unwrap_or_default()
            ));
        }
    }
    if over > 0 {
        notes.push(format!(
            "{over} visits beyond the first {MAX_VISITS} were not summarised"
        ));
    }
    Ok((records, notes))
}

fn run_blocking(args: Args, style: Style) -> anyhow::Result<Exit> {
    let (records, mut notes) = read(&args.files)?;
    let analysis = analyse_visits(&records);
    let mut looked_up = Vec::new();
    for code in &args.codes {
        let code = code.trim().to_ascii_uppercase();
        match records.iter().find(|r| r.visit == code) {
            Some(r) => looked_up.push(r.clone()),
            None => notes.push(format!("no visit with code {code} in these files")),
        }
    }
    if !args.codes.is_empty() && looked_up.is_empty() {
        bail!(
            "no visit with code {} in these files",
            args.codes.join(", ")
        );
    }
    let worst = analysis.diagnosis.worst();
    let report = VisitsReport::new(analysis, looked_up, notes, crate::out::report_meta());
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}
