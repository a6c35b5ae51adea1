//! Small statistics the diagnosis needs: how many samples see a rare event, and how rare an
//! unseen event can still be.

use interloper_model::PhaseStats;

/// Samples needed so that an event hitting `rate` of requests (0 < rate < 1) is seen at least
/// once with probability `confidence`: the smallest n with 1 − (1 − rate)ⁿ ≥ confidence.
///
/// A 5 % stall at 95 % confidence needs 59 requests.
pub fn samples_for(rate: f64, confidence: f64) -> u64 {
    if !(rate > 0.0 && rate < 1.0 && confidence > 0.0 && confidence < 1.0) {
        return 1;
    }
    ((1.0 - confidence).ln() / (1.0 - rate).ln())
        .ceil()
        .max(1.0) as u64
}

/// After `n` requests without the event, the largest rate it could still have with
/// `confidence`: 1 − (1 − confidence)^(1/n) (close to 3/n at 95 %, the "rule of three").
pub fn detection_bound(n: u64, confidence: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    1.0 - (1.0 - confidence).powf(1.0 / n as f64)
}

/// Distribution of a set of millisecond values (exact; sets here are small).
pub(crate) fn phase_stats(values: &mut [f64]) -> PhaseStats {
    // Non-finite values cannot come from a clock; count them as zero rather than letting
    // them poison every percentile.
    for v in values.iter_mut() {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
    if values.is_empty() {
        return PhaseStats::default();
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    let at = |q: f64| -> f64 {
        // Nearest-rank percentile: the value below which q of the samples fall.
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        values[rank - 1]
    };
    PhaseStats {
        count: n as u64,
        min: values[0],
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: values[n - 1],
        // Summed as a running mean so huge values cannot overflow to infinity.
        mean: values
            .iter()
            .enumerate()
            .fold(0.0, |m, (i, v)| m + (v - m) / (i as f64 + 1.0)),
    }
}

/// Median of a set (0 for an empty set).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    phase_stats(&mut v).p50
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_percent_at_95_needs_59() {
        assert_eq!(samples_for(0.05, 0.95), 59);
        assert_eq!(samples_for(0.10, 0.95), 29);
    }

    #[test]
    fn bound_after_59_clean_samples_is_about_five_percent() {
        let b = detection_bound(59, 0.95);
        assert!(b > 0.049 && b < 0.051, "{b}");
        assert_eq!(detection_bound(0, 0.95), 1.0);
    }

    #[test]
    fn percentiles_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = phase_stats(&mut v);
        assert_eq!(
            (s.min, s.p50, s.p90, s.p99, s.max),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(phase_stats(&mut []).count, 0);
    }
}
