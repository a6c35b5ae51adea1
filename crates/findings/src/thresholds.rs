//! What counts as a stall, a trickle, a large body or a group worth comparing.

/// Thresholds of the detectors. The defaults are deliberately wide: a finding should survive a
/// loaded laptop and a noisy network, and tests inject faults far beyond them.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdConfig {
    /// A phase slower than this is never a stall, whatever the baseline (ms).
    pub stall_floor_ms: f64,
    /// A stall must also exceed `stall_factor ×` the phase's median…
    pub stall_factor: f64,
    /// …plus this much (ms), so a 1 ms median does not make 6 ms a stall.
    pub stall_margin_ms: f64,
    /// A body slower than this rate over at least `trickle_min_ms` is a trickle (bytes/s).
    pub trickle_rate: f64,
    /// Minimum body duration to call it a trickle (ms).
    pub trickle_min_ms: f64,
    /// Responses at least this large count as "large" for IL207 (bytes).
    pub large_body: u64,
    /// Responses at most this large count as "small" for IL207 (bytes).
    pub small_body: u64,
    /// Minimum samples in a group before groups are compared (IL206, IL208).
    pub min_group: usize,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        ThresholdConfig {
            stall_floor_ms: 750.0,
            stall_factor: 5.0,
            stall_margin_ms: 250.0,
            trickle_rate: 64.0 * 1024.0,
            trickle_min_ms: 1000.0,
            large_body: 64 * 1024,
            small_body: 16 * 1024,
            min_group: 3,
        }
    }
}

impl ThresholdConfig {
    /// The stall rule, once: a value is a stall above `stall_factor ×` its baseline (median)
    /// plus `stall_margin_ms`, and never below `stall_floor_ms`. Request phases, a HAR's queueing
    /// and the report's flags all use it.
    pub fn stall_threshold(&self, median: f64) -> f64 {
        (median * self.stall_factor + self.stall_margin_ms).max(self.stall_floor_ms)
    }
}
