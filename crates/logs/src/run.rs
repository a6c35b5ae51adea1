//! `interloper logs` as one library call: [`LogsPlan`] (the inputs, the format when the user
//! forced one, what counts as static and slow) → [`run_logs`] → [`LogsOutcome`] (the evidence
//! and its [`Diagnosis`]).
//!
//! Each input has its format detected from its first lines (unless forced), then is folded into
//! one [`Gatherer`]: lines on several workers in blocks cut at line ends, a JSON document one
//! record at a time. The binary opens the inputs (files, stdin, gzip) and draws progress; this
//! module reads only the readers it is handed.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use interloper_findings::{Diagnosis, LogEvidence, analyse_logs};
use interloper_model::input::Input;

use crate::{
    DETECT_BYTES, DETECT_LINES, FieldPlan, Format, GatherOptions, Gatherer, JsonDocumentError,
    Layout, detect_layout,
};

/// Workers parsing one input at most: parsing is past 1 GB/s on two, and each worker's tables
/// (up to tens of MiB on a log with 50 000 static paths) add to the peak memory.
pub const MAX_WORKERS: usize = 8;

/// How every input is read when the user said so (`--format`), instead of detecting it.
#[derive(Debug, Clone)]
pub enum ForcedFormat {
    /// `combined`, `haproxy`, `json`.
    Builtin(Format),
    /// `nginx:'…'` or `haproxy:'…'`, compiled once.
    Plan(Arc<FieldPlan>),
}

/// Everything one `interloper logs` run reads and how.
#[derive(Debug)]
pub struct LogsPlan {
    /// The inputs, read in this order.
    pub inputs: Vec<Input>,
    /// The format of every input, or `None` to detect each from its first lines.
    pub format: Option<ForcedFormat>,
    /// What counts as a static request and as slow; the tables' bounds.
    pub gather: GatherOptions,
    /// Workers parsing lines (at least one); [`LogsPlan::default_threads`] when unsure.
    pub threads: usize,
}

impl LogsPlan {
    /// One worker per core, at most [`MAX_WORKERS`].
    pub fn default_threads() -> usize {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_WORKERS)
    }
}

/// What a run found: the evidence (for the report's tables) and the diagnosis.
#[derive(Debug)]
pub struct LogsOutcome {
    /// Findings and verdict.
    pub diagnosis: Diagnosis,
    /// Per source and per backend, as gathered.
    pub evidence: LogEvidence,
}

/// Why a run read nothing it could judge: each names the input, as the user gave it.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// The input could not be opened or read.
    #[error("{name}: {reason}")]
    Read {
        /// The input.
        name: String,
        /// Why (in the message, so not also a `source`: `{:#}` prints it once).
        reason: io::Error,
    },
    /// Its first lines are no format this crate reads.
    #[error(
        "{name}: not an access log interloper reads (combined, haproxy or json); first line: {first_line:?}"
    )]
    NotALog {
        /// The input.
        name: String,
        /// Its first non-empty line, cut.
        first_line: String,
    },
    /// A JSON document that could not be read.
    #[error("{name}: {reason}")]
    JsonDocument {
        /// The input.
        name: String,
        /// Why.
        reason: JsonDocumentError,
    },
    /// Lines were read, but none in the format chosen.
    #[error("{name}: no line read as {format} ({first_unparsed})")]
    NothingParsed {
        /// The input.
        name: String,
        /// The format its lines were read as.
        format: String,
        /// Its first line that did not parse, or `-`.
        first_unparsed: String,
    },
}

/// Runs the plan: every input gathered in order, then judged.
pub fn run_logs(plan: LogsPlan) -> Result<LogsOutcome, LogsError> {
    let mut gatherer = Gatherer::new(plan.gather);
    for input in plan.inputs {
        read_input(&mut gatherer, input, plan.format.as_ref(), plan.threads)?;
    }
    let evidence = gatherer.finish();
    if let Some(s) = evidence
        .sources
        .iter()
        // Lines left out by the time window were read; they are no sign of a wrong format.
        .find(|s| s.parsed == 0 && s.lines > s.outside_window)
    {
        return Err(LogsError::NothingParsed {
            name: s.name.clone(),
            format: s.format.clone(),
            first_unparsed: s.first_unparsed.clone().unwrap_or_else(|| "-".into()),
        });
    }
    let diagnosis = analyse_logs(&evidence);
    Ok(LogsOutcome {
        diagnosis,
        evidence,
    })
}

/// One input folded into the gatherer.
fn read_input(
    gatherer: &mut Gatherer,
    input: Input,
    forced: Option<&ForcedFormat>,
    threads: usize,
) -> Result<(), LogsError> {
    let name = input.name().to_string();
    let reader = input.open().map_err(|reason| LogsError::Read {
        name: name.clone(),
        reason,
    })?;
    let read_error = |reason| LogsError::Read {
        name: name.clone(),
        reason,
    };
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    // The beginning decides how the input is read; it is then read again as part of it.
    let (prefix, complete) = read_prefix(&mut reader).map_err(read_error)?;
    let (builtin, field_plan) = match forced {
        Some(ForcedFormat::Builtin(f)) => (Some(*f), None),
        Some(ForcedFormat::Plan(p)) => (None, Some(p)),
        None => (None, None),
    };
    let layout = match field_plan {
        // The user's format says how each line reads.
        Some(_) => Some(Layout::Lines(Format::Combined)),
        None => detect_layout(&prefix, complete, builtin),
    };
    let Some(layout) = layout else {
        return Err(LogsError::NotALog {
            first_line: first_line(&prefix),
            name,
        });
    };
    let whole = io::Cursor::new(prefix).chain(reader);
    match layout {
        Layout::JsonDocument => {
            // One record at a time: memory is the gatherer's bounds, not the document's size.
            let source = gatherer.begin_source(&name, Format::Json);
            gatherer
                .json_document(source, whole)
                .map_err(|reason| LogsError::JsonDocument {
                    name: name.clone(),
                    reason,
                })?;
        }
        Layout::Lines(format) => {
            let source = match field_plan {
                Some(p) => gatherer.begin_source_with_plan(&name, Arc::clone(p)),
                None => gatherer.begin_source(&name, format),
            };
            // Parsed on every worker; this thread reads (and decompresses gzip) meanwhile.
            gatherer
                .read_lines(source, whole, threads)
                .map_err(read_error)?;
        }
    }
    Ok(())
}

/// The first non-empty line of a prefix, cut for a message.
fn first_line(prefix: &[u8]) -> String {
    String::from_utf8_lossy(&prefix[..prefix.len().min(4096)])
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| interloper_model::text::cut_chars(l.trim(), 120).to_string())
        .unwrap_or_else(|| "the file is empty".into())
}

/// The input's first [`DETECT_LINES`] lines or [`DETECT_BYTES`] bytes, whichever ends first,
/// and whether that is the whole input. Reads no further than it needs, so a pipe is read as it
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
