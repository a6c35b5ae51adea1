//! Durations, sizes and percentiles for humans: the one rendering every report and finding
//! uses, so a stall reads the same in a finding's sentence and in a latency table.
//!
//! Pure functions of their arguments; none panics, whatever the value (NaN, infinities,
//! negative, huge).
//!
//! Durations ([`fmt_duration_ms`]), chosen by the value *after* rounding so `999.96 ms` reads
//! `1.0 s`, not `1000 ms`:
//!
//! | value | reads |
//! |---|---|
//! | exactly 0 | `0 ms` |
//! | below 0.05 ms | `<0.1 ms` |
//! | below 10 ms | `3.1 ms` (one decimal) |
//! | below 1 s | `42 ms` (whole milliseconds) |
//! | below 1 min | `12.3 s` (one decimal) |
//! | below 1 h | `2.5 min` |
//! | below 2 days | `5.0 h` |
//! | longer | `3.0 d` |
//! | NaN, ±∞ | `-` |
//!
//! Sizes ([`fmt_bytes`]) use binary units: `512 B`, `64 KiB` (whole KiB), `1.5 MiB`, `2.0 GiB`,
//! `3.0 TiB`. Percentiles are nearest-rank ([`percentile`], [`phase_stats`]): always a value
//! that was measured, so a reader recomputing them from the rows finds the same numbers.

use crate::PhaseStats;

/// Milliseconds for humans, by the rule in the [module docs](self): `0.3 ms`, `42 ms`,
/// `12.3 s`, `2.5 min`; `-` for NaN or an infinity. A negative value (a clock stepping back)
/// keeps its sign: `-3.0 ms`.
pub fn fmt_duration_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "-".to_string();
    }
    if ms < 0.0 {
        return format!("-{}", fmt_duration_ms(-ms));
    }
    if ms == 0.0 {
        return "0 ms".to_string();
    }
    if ms < 0.05 {
        return "<0.1 ms".to_string();
    }
    // Each unit is kept while the value, rounded as it will be printed, stays below the
    // next unit's threshold.
    if printed(ms, 1) < 10.0 {
        return format!("{ms:.1} ms");
    }
    if printed(ms, 0) < 1000.0 {
        return format!("{ms:.0} ms");
    }
    let s = ms / 1000.0;
    if printed(s, 1) < 60.0 {
        return format!("{s:.1} s");
    }
    let min = s / 60.0;
    if printed(min, 1) < 60.0 {
        return format!("{min:.1} min");
    }
    let h = min / 60.0;
    if printed(h, 1) < 48.0 {
        return format!("{h:.1} h");
    }
    let d = h / 24.0;
    if d < 1e6 {
        format!("{d:.1} d")
    } else {
        // Millions of days come only from corrupt input; keep the text short.
        format!("{d:.1e} d")
    }
}

/// Bytes for humans in binary units: `512 B`, `64 KiB`, `1.5 MiB`, `2.0 GiB`, `3.0 TiB`;
/// `-` for NaN, an infinity or a negative count. Also used for rates (`64 KiB` + `/s`).
pub fn fmt_bytes(bytes: f64) -> String {
    const KIB: f64 = 1024.0;
    if !bytes.is_finite() || bytes < 0.0 {
        return "-".to_string();
    }
    if printed(bytes, 0) < KIB {
        return format!("{bytes:.0} B");
    }
    let kib = bytes / KIB;
    if printed(kib, 0) < KIB {
        return format!("{kib:.0} KiB");
    }
    let mut value = kib / KIB;
    for unit in ["MiB", "GiB"] {
        if printed(value, 1) < KIB {
            return format!("{value:.1} {unit}");
        }
        value /= KIB;
    }
    format!("{value:.1} TiB")
}

/// `v` as it reads with `decimals` decimals, so the unit is chosen by the printed number
/// (`59.95 s` prints `60.0` and so belongs to the minutes).
fn printed(v: f64, decimals: usize) -> f64 {
    format!("{v:.decimals$}").parse().unwrap_or(v)
}

/// The nearest-rank `q` percentile (`0 ≤ q ≤ 1`) of values sorted ascending: the smallest
/// value with at least `q` of the samples at or below it. `None` for an empty slice; `q`
/// outside `[0, 1]` (or NaN) is clamped to the minimum or maximum.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // A NaN q casts to 0 and lands on the minimum, like any q ≤ 0.
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

/// The exact distribution of a set of milliseconds: count, min, nearest-rank p50 / p90 / p99,
/// max and mean. Non-finite values are dropped (no clock produces them, and one NaN must not
/// poison every percentile); `None` when nothing is left.
pub fn phase_stats(values: impl IntoIterator<Item = f64>) -> Option<PhaseStats> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| percentile(&v, q).unwrap_or(0.0);
    Some(PhaseStats {
        count: v.len() as u64,
        min: v[0],
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: v[v.len() - 1],
        // A running mean: a plain sum of huge values would overflow to infinity, which JSON
        // cannot carry.
        mean: v
            .iter()
            .enumerate()
            .fold(0.0, |m, (i, x)| m + (x - m) / (i + 1) as f64),
    })
}

/// The nearest-rank median of the finite values, `None` when there are none.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

/// A duration as people write it on a command line or in a config file: a number with an
/// optional unit — `ms`, `s` (also the meaning of a bare number), `m`/`min`, `h`, `d` or `w` —
/// fractions allowed (`1.5s`), or several such parts as Go and Prometheus write them
/// (`1m30s`, `1h5m`; each part with its unit), as operators copy them from Prometheus
/// configurations. The one reading every flag, config file and scenario uses.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let hint = || format!("{text:?} is not a duration (try 500ms, 10s, 2m, 1m30s)");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(hint());
    }
    let mut secs = 0.0;
    let mut parts = 0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let n: f64 = number.parse().map_err(|_| hint())?;
        let after = after.trim_start();
        let unit_end = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let scale = match unit {
            "" if parts == 0 && after.trim().is_empty() => 1.0,
            "" => return Err(hint()),
            "s" => 1.0,
            "ms" => 0.001,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            other => {
                return Err(format!(
                    "unknown unit {other:?} in {text:?} (use ms, s, m, h, d or w)"
                ));
            }
        };
        secs += n * scale;
        parts += 1;
        rest = after.trim_start();
    }
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{text:?} is too long a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_the_unit_after_rounding() {
        let cases = [
            (0.0, "0 ms"),
            (0.01, "<0.1 ms"),
            (0.05, "0.1 ms"),
            (0.3, "0.3 ms"),
            (9.94, "9.9 ms"),
            (9.96, "10 ms"),
            (42.4, "42 ms"),
            (999.4, "999 ms"),
            (999.9, "1.0 s"),
            (1000.0, "1.0 s"),
            (12_345.0, "12.3 s"),
            (59_940.0, "59.9 s"),
            (59_950.0, "1.0 min"),
            (90_000.0, "1.5 min"),
            (3_598_000.0, "1.0 h"),
            (5.0 * 3_600_000.0, "5.0 h"),
            (72.0 * 3_600_000.0, "3.0 d"),
        ];
        for (ms, want) in cases {
            assert_eq!(fmt_duration_ms(ms), want, "{ms} ms");
        }
    }

    #[test]
    fn odd_durations_never_panic_and_stay_short() {
        assert_eq!(fmt_duration_ms(f64::NAN), "-");
        assert_eq!(fmt_duration_ms(f64::INFINITY), "-");
        assert_eq!(fmt_duration_ms(f64::NEG_INFINITY), "-");
        assert_eq!(fmt_duration_ms(-3.0), "-3.0 ms");
        assert_eq!(fmt_duration_ms(-0.0), "0 ms");
        let huge = fmt_duration_ms(f64::MAX);
        assert!(huge.ends_with(" d") && huge.len() < 16, "{huge}");
        assert_eq!(fmt_duration_ms(f64::MIN_POSITIVE), "<0.1 ms");
    }

    #[test]
    fn sizes_use_binary_units() {
        let cases = [
            (0.0, "0 B"),
            (1023.0, "1023 B"),
            (1023.6, "1 KiB"),
            (1024.0, "1 KiB"),
            (65_536.0, "64 KiB"),
            (1_048_000.0, "1023 KiB"),
            (1_048_100.0, "1.0 MiB"),
            (1_572_864.0, "1.5 MiB"),
            (2.0 * 1024.0 * 1024.0 * 1024.0, "2.0 GiB"),
            (3.0 * 1024f64.powi(4), "3.0 TiB"),
        ];
        for (b, want) in cases {
            assert_eq!(fmt_bytes(b), want, "{b} B");
        }
        assert_eq!(fmt_bytes(f64::NAN), "-");
        assert_eq!(fmt_bytes(-1.0), "-");
        assert_eq!(fmt_bytes(f64::INFINITY), "-");
        assert!(fmt_bytes(u64::MAX as f64).ends_with(" TiB"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(50.0));
        assert_eq!(percentile(&v, 0.9), Some(90.0));
        assert_eq!(percentile(&v, 0.99), Some(99.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 1.0), Some(100.0));
        assert_eq!(percentile(&v, 7.0), Some(100.0));
        assert_eq!(percentile(&v, f64::NAN), Some(1.0));
        assert_eq!(percentile(&[], 0.5), None);
        // Two values: the median is the lower one (a measured value, never an average).
        assert_eq!(percentile(&[1.0, 3.0], 0.5), Some(1.0));
    }

    #[test]
    fn stats_drop_non_finite_values() {
        let s = phase_stats((1..=100).map(f64::from).chain([
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]))
        .expect("stats");
        assert_eq!(
            (s.count, s.min, s.p50, s.p90, s.p99, s.max, s.mean),
            (100, 1.0, 50.0, 90.0, 99.0, 100.0, 50.5)
        );
        assert_eq!(phase_stats([f64::NAN]), None);
        assert_eq!(phase_stats(std::iter::empty()), None);
        let big = phase_stats([f64::MAX, f64::MAX]).expect("stats");
        assert!(big.mean.is_finite());
        assert_eq!(median([3.0, f64::NAN, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        use std::time::Duration;
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration(" 2m "), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10 parsecs").is_err());
        // Go and Prometheus compound durations.
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h5m"), Ok(Duration::from_secs(3900)));
        assert_eq!(parse_duration("2s500ms"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("1m30").is_err(), "a bare number only alone");
        assert!(parse_duration("").is_err());
        assert!(parse_duration("1m-30s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("1e400s").is_err());
    }
}
