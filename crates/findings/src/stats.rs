//! Small statistics the diagnosis needs: how many samples see a rare event, how rare an unseen
//! event can still be, and how likely a clean group is by chance. Percentiles and
//! distributions are `interloper_model::units`'.

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

/// The highest failure rate still in keeping, at 95 %, with `k` bad of `n` (the exact
/// one-sided Clopper-Pearson bound, found by bisection on [`binomial_cdf`]).
pub(crate) fn rate_upper_bound(k: usize, n: usize) -> f64 {
    if n == 0 || k >= n {
        return 1.0;
    }
    let (mut low, mut high) = (k as f64 / n as f64, 1.0);
    for _ in 0..50 {
        let mid = (low + high) / 2.0;
        if binomial_cdf(k, n, mid) > 0.05 {
            low = mid;
        } else {
            high = mid;
        }
    }
    high
}

/// P(X ≤ k) for X ~ Binomial(n, p), summed in log space so large n stays finite.
pub(crate) fn binomial_cdf(k: usize, n: usize, p: f64) -> f64 {
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return if k >= n { 1.0 } else { 0.0 };
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let mut log_choose = 0.0_f64;
    let mut total = 0.0;
    for i in 0..=k.min(n) {
        if i > 0 {
            log_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total += (log_choose + i as f64 * lp + (n - i) as f64 * lq).exp();
    }
    total.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upper_bound_of_a_clean_run_matches_the_detection_bound() {
        let from_bisection = rate_upper_bound(0, 59);
        assert!((from_bisection - detection_bound(59, 0.95)).abs() < 1e-6);
        // 3 bad of 64 still allows a rate near 12 %.
        let bound = rate_upper_bound(3, 64);
        assert!(bound > 0.11 && bound < 0.13, "{bound}");
        assert_eq!(rate_upper_bound(5, 5), 1.0);
    }

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
    fn binomial_tail_is_exact_on_small_cases_and_finite_on_large_ones() {
        // P(X ≤ 0) for n = 10, p = 0.5 is 1/1024.
        assert!((binomial_cdf(0, 10, 0.5) - 1.0 / 1024.0).abs() < 1e-12);
        assert_eq!(binomial_cdf(10, 10, 0.5), 1.0);
        assert_eq!(binomial_cdf(3, 10, 0.0), 1.0);
        assert_eq!(binomial_cdf(3, 10, 1.0), 0.0);
        let big = binomial_cdf(5, 100_000, 0.01);
        assert!(big.is_finite() && big < 1e-100, "{big}");
    }
}
