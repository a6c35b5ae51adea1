//! `interloper visits` as one library call: [`VisitsPlan`] (the visits logs, the codes looked
//! up) → [`run_visits`] → [`VisitsOutcome`] (the summary, the visits looked up, notes).
//!
//! The visits log is read here, beside the record it holds, and bounded: a line longer than
//! [`MAX_LINE`] is skipped with a note, visits beyond [`MAX_VISITS`] are counted, not kept.
//! The binary opens the files; this module reads the readers it is handed.

use std::fmt;
use std::io::{self, BufRead, BufReader};

use interloper_model::input::{Input, LineRead, read_line_within};

use interloper_model::schema;

use super::{VisitRecord, VisitsAnalysis, analyse_visits};

/// Longest line read as a visit record; a longer one is skipped with a note.
pub const MAX_LINE: usize = 1024 * 1024;
/// Visits kept in memory for the summary; beyond, the rest are counted in a note.
pub const MAX_VISITS: usize = 500_000;

/// Everything one `interloper visits` run reads.
#[derive(Debug)]
pub struct VisitsPlan {
    /// Visits logs written by the witness, read in this order.
    pub inputs: Vec<Input>,
    /// Codes of visits to show in full, as the visitors sent them (any case, spaces around).
    pub codes: Vec<String>,
}

/// What a run found.
#[derive(Debug)]
pub struct VisitsOutcome {
    /// The summary: findings, verdict and counts.
    pub analysis: VisitsAnalysis,
    /// The visits looked up by code, in the order asked.
    pub looked_up: Vec<VisitRecord>,
    /// Lines that were not visit records, visits not summarised, codes not found.
    pub notes: Vec<String>,
}

/// Why a run judged nothing.
#[derive(Debug)]
pub enum VisitsError {
    /// An input could not be opened or read.
    Read {
        /// The input.
        name: String,
        /// Why.
        reason: io::Error,
    },
    /// An input with lines, none of them a visit record.
    NoRecord {
        /// The input.
        name: String,
    },
    /// None of the codes asked for is in the inputs.
    NoSuchVisit {
        /// The codes, as given.
        codes: Vec<String>,
    },
}

impl fmt::Display for VisitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VisitsError::Read { name, reason } => write!(f, "{name}: {reason}"),
            VisitsError::NoRecord { name } => write!(
                f,
                "{name}: no line is a visit record ({}); write one with `interloper echo --visits-log FILE`",
                schema::VISIT
            ),
            VisitsError::NoSuchVisit { codes } => {
                write!(f, "no visit with code {} in these files", codes.join(", "))
            }
        }
    }
}

// The reason is said in the message, so it is not also a `source`: `{:#}` prints it once.
impl std::error::Error for VisitsError {}

/// Runs the plan: every log read, the visits summarised, the codes looked up.
pub fn run_visits(plan: VisitsPlan) -> Result<VisitsOutcome, VisitsError> {
    let (records, mut notes) = read_logs(plan.inputs)?;
    let analysis = analyse_visits(&records);
    let mut looked_up = Vec::new();
    for code in &plan.codes {
        let code = code.trim().to_ascii_uppercase();
        match records.iter().find(|r| r.visit == code) {
            Some(r) => looked_up.push(r.clone()),
            None => notes.push(format!("no visit with code {code} in these files")),
        }
    }
    if !plan.codes.is_empty() && looked_up.is_empty() {
        return Err(VisitsError::NoSuchVisit { codes: plan.codes });
    }
    Ok(VisitsOutcome {
        analysis,
        looked_up,
        notes,
    })
}

/// Every record of the inputs, at most [`MAX_VISITS`]; lines that are not visit records become
/// notes.
fn read_logs(inputs: Vec<Input>) -> Result<(Vec<VisitRecord>, Vec<String>), VisitsError> {
    let mut records = Vec::new();
    let mut notes = Vec::new();
    let mut over = 0u64;
    for input in inputs {
        let name = input.name().to_string();
        let read_error = |reason| VisitsError::Read {
            name: name.clone(),
            reason,
        };
        let reader = BufReader::new(input.open().map_err(read_error)?);
        let count = read_log(reader, |r| {
            if records.len() < MAX_VISITS {
                records.push(r);
            } else {
                over += 1;
            }
        })
        .map_err(read_error)?;
        if count.lines > 0 && count.not_records == count.lines {
            return Err(VisitsError::NoRecord { name });
        }
        if let Some(first) = count.first_not_record {
            notes.push(format!(
                "{name}: {} of {} lines are not visit records (first: line {first})",
                count.not_records, count.lines
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

/// What one log held besides its records.
#[derive(Debug, Default, PartialEq, Eq)]
struct LogCount {
    /// Lines read, blank ones included.
    lines: u64,
    /// Lines that are not visit records (overlong ones included).
    not_records: u64,
    /// The first of them (1-based).
    first_not_record: Option<u64>,
}

/// Hands every visit record of one log to `record`, a line at a time, none longer than
/// [`MAX_LINE`] held.
fn read_log(mut reader: impl BufRead, mut record: impl FnMut(VisitRecord)) -> io::Result<LogCount> {
    let mut count = LogCount::default();
    let mut buf = Vec::new();
    while read_line_within(&mut reader, &mut buf, MAX_LINE)? != LineRead::End {
        count.lines += 1;
        let text = String::from_utf8_lossy(&buf);
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<VisitRecord>(text.trim()) {
            Ok(r) if r.schema == schema::VISIT => record(r),
            Ok(_) | Err(_) => {
                count.not_records += 1;
                count.first_not_record.get_or_insert(count.lines);
            }
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visits::{Downloads, Judgement, ProxySigns, claimed_browser};
    use crate::{Code, Confidence, VerdictStatus};

    fn record(code: &str, intercepted: bool) -> VisitRecord {
        VisitRecord {
            schema: schema::VISIT.into(),
            visit: code.into(),
            time_unix_ms: 0,
            client_network: Some("198.51.100.0/24".into()),
            user_agent: None,
            claimed: claimed_browser(
                "Mozilla/5.0 (X11) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36",
            ),
            hellos: Vec::new(),
            proxy: ProxySigns::default(),
            downloads: Downloads {
                witness: 60,
                ..Downloads::default()
            },
            judgement: Judgement {
                intercepted,
                confidence: intercepted.then_some(Confidence::High),
                hello_matches_user_agent: Some(!intercepted),
                reasons: vec!["why".into()],
            },
            headline: String::new(),
        }
    }

    fn line(r: &VisitRecord) -> String {
        serde_json::to_string(r).expect("a record serialises") + "\n"
    }

    fn plan(logs: Vec<(&str, String)>, codes: &[&str]) -> VisitsPlan {
        VisitsPlan {
            inputs: logs
                .into_iter()
                .map(|(name, text)| Input::from_reader(name, io::Cursor::new(text.into_bytes())))
                .collect(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn malformed_and_overlong_lines_become_notes_and_the_rest_is_counted() {
        let overlong = format!(
            "{{\"schema\":\"{}\"{}}}\n",
            schema::VISIT,
            " ".repeat(MAX_LINE)
        );
        let log = [
            line(&record("AAAA1111", true)),
            "not json\n".to_string(),
            overlong,
            "\n".to_string(),
            line(&record("BBBB2222", false)),
        ]
        .concat();
        let outcome = run_visits(plan(vec![("visits.log", log)], &["bbbb2222 ", "ZZZZ9999"]))
            .expect("a log with records runs");
        assert_eq!(outcome.analysis.visits, 2);
        assert_eq!(outcome.analysis.intercepted, 1);
        assert_eq!(
            outcome.analysis.diagnosis.verdict.status,
            VerdictStatus::Intercepted
        );
        assert!(
            outcome
                .analysis
                .diagnosis
                .findings
                .iter()
                .any(|f| f.code == Code::IL701)
        );
        // The code is looked up as the visitor would type it; a missing one is a note.
        assert_eq!(
            outcome
                .looked_up
                .iter()
                .map(|r| r.visit.as_str())
                .collect::<Vec<_>>(),
            ["BBBB2222"]
        );
        assert_eq!(
            outcome.notes,
            [
                "visits.log: 2 of 5 lines are not visit records (first: line 2)",
                "no visit with code ZZZZ9999 in these files",
            ]
        );
    }

    #[test]
    fn a_file_of_no_records_and_an_unknown_code_are_errors() {
        let err = run_visits(plan(vec![("other.log", "a\nb\n".into())], &[]))
            .expect_err("no record at all");
        assert!(matches!(&err, VisitsError::NoRecord { name } if name == "other.log"));
        assert!(
            err.to_string()
                .starts_with("other.log: no line is a visit record")
        );

        let log = line(&record("AAAA1111", false));
        let err = run_visits(plan(vec![("v.log", log)], &["QQQQ0000"])).expect_err("unknown code");
        assert_eq!(
            err.to_string(),
            "no visit with code QQQQ0000 in these files"
        );

        let gone = Input::new("gone.log", || Err(io::Error::other("no such file")));
        let err = run_visits(VisitsPlan {
            inputs: vec![gone],
            codes: Vec::new(),
        })
        .expect_err("unopenable");
        assert_eq!(err.to_string(), "gone.log: no such file");
    }

    #[test]
    fn an_overlong_line_is_skipped_without_losing_the_next() {
        let text = format!(
            "{}\n{}",
            "x".repeat(MAX_LINE * 2 + 10),
            line(&record("CCCC3333", false))
        );
        let mut seen = Vec::new();
        let count = read_log(BufReader::with_capacity(4096, text.as_bytes()), |r| {
            seen.push(r.visit)
        })
        .expect("reads");
        assert_eq!(seen, ["CCCC3333"]);
        assert_eq!(
            count,
            LogCount {
                lines: 2,
                not_records: 1,
                first_not_record: Some(1)
            }
        );
    }
}
