//! `interloper rum` as one library call: [`RumPlan`] (the beacon logs, how many files may be
//! kept, the stall thresholds) → [`run_rum`] → [`RumOutcome`] (the analysis, the aggregates,
//! the evidence and what was read). The binary opens the inputs.

use std::io::BufReader;

use interloper_findings::{RumAnalysis, TargetEvidence, ThresholdConfig, analyse_rum};
use interloper_model::input::Input;

use crate::{Collector, ReadOptions, RumSummary};

/// Everything one `interloper rum` run reads and how.
#[derive(Debug)]
pub struct RumPlan {
    /// The beacon logs, read as one population in this order.
    pub inputs: Vec<Input>,
    /// What may be kept.
    pub read: ReadOptions,
    /// The check's thresholds (stalls, size classes).
    pub thresholds: ThresholdConfig,
}

/// What a run found.
#[derive(Debug)]
pub struct RumOutcome {
    /// Findings, verdict, per-instance summaries and the aggregates.
    pub analysis: RumAnalysis,
    /// One target per instance.
    pub targets: Vec<TargetEvidence>,
    /// What was read.
    pub summary: RumSummary,
}

/// An input that could not be read, named as the user gave it.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct RumInputError {
    /// The input.
    pub name: String,
    /// Why.
    pub reason: std::io::Error,
}

/// Runs the plan: every log read in order, then all judged together.
pub fn run_rum(plan: RumPlan) -> Result<RumOutcome, RumInputError> {
    let mut collector = Collector::new(plan.read);
    for input in plan.inputs {
        let name = input.name().to_string();
        input
            .open()
            .and_then(|reader| collector.read(&name, BufReader::new(reader)))
            .map_err(|reason| RumInputError {
                name: name.clone(),
                reason,
            })?;
    }
    let (targets, rum, summary) = collector.finish();
    let analysis = analyse_rum(&targets, &rum, &plan.thresholds);
    Ok(RumOutcome {
        analysis,
        targets,
        summary,
    })
}
