//! `interloper har` as one library call: [`HarPlan`] (the recordings, how many entries each may
//! keep, the stall thresholds) → [`run_har`] → [`HarOutcome`] (each file's evidence and
//! summary, and the check's analysis over them).
//!
//! Each input is streamed ([`crate::read`]), made one target's evidence under a distinct label
//! ([`crate::evidence`]), and the check's detectors run over all of them, the files compared
//! like instances (`findings::analyse_har`). The binary opens the inputs and draws progress.

use interloper_findings::{Analysis, TargetEvidence, ThresholdConfig, analyse_har};
use interloper_model::input::Input;

use crate::{HarError, HarSummary, ReadOptions};

/// Everything one `interloper har` run reads and how.
#[derive(Debug)]
pub struct HarPlan {
    /// The recordings, compared like instances, labelled in this order.
    pub inputs: Vec<Input>,
    /// What each recording may keep.
    pub read: ReadOptions,
    /// The check's thresholds (stalls, slowness).
    pub thresholds: ThresholdConfig,
}

/// What a run found: what the report needs besides the analysis.
#[derive(Debug)]
pub struct HarOutcome {
    /// Findings, verdict and per-target summaries.
    pub analysis: Analysis,
    /// Each recording as one target, labelled as the report shows it.
    pub targets: Vec<TargetEvidence>,
    /// Each recording's summary (writer, pages, entries set aside).
    pub files: Vec<HarSummary>,
}

/// An input that is not a HAR this crate reads, named as the user gave it.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct HarInputError {
    /// The input.
    pub name: String,
    /// Why (in the message, so not also a `source`: `{:#}` prints it once).
    pub reason: HarError,
}

/// Runs the plan: every recording read in order, then all judged together.
pub fn run_har(plan: HarPlan) -> Result<HarOutcome, HarInputError> {
    let (mut targets, mut browsers, mut files) = (Vec::new(), Vec::new(), Vec::new());
    let mut labels: Vec<String> = Vec::new();
    for input in plan.inputs {
        let name = input.name().to_string();
        let mut har = input
            .open()
            .map_err(HarError::Io)
            .and_then(|reader| crate::read(reader, &plan.read))
            .map_err(|reason| HarInputError {
                name: name.clone(),
                reason,
            })?;
        let label = label(&name, &labels);
        labels.push(label.clone());
        let kept = har.records.len() as u64;
        let ev = crate::evidence::take_evidence(&mut har, &label);
        let mut summary = HarSummary::new(&har, &ev);
        // The records moved into the evidence: count them as read.
        summary.entries = kept + har.records_omitted;
        files.push(summary);
        targets.push(ev.target);
        browsers.push(ev.browser);
    }
    let analysis = analyse_har(&targets, &browsers, &plan.thresholds);
    Ok(HarOutcome {
        analysis,
        targets,
        files,
    })
}

/// A distinct label per file: its name as given, numbered when two are the same.
fn label(name: &str, taken: &[String]) -> String {
    let mut label = name.to_string();
    let mut n = 2;
    while taken.contains(&label) {
        label = format!("{name} #{n}");
        n += 1;
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct() {
        let taken = vec!["a.har".to_string(), "a.har #2".to_string()];
        assert_eq!(label("b.har", &taken), "b.har");
        assert_eq!(label("a.har", &taken), "a.har #3");
    }
}
