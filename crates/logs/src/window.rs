//! `--since` / `--until`: a time given as an RFC 3339 instant or as a span before now (`2h`,
//! `30m`, `1h30m`). Pure: the caller says what time it is.

use crate::fields::parse_rfc3339;

/// One end of a time window, as the user wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// This instant, seconds since the epoch (UTC).
    At(i64),
    /// This many seconds before now.
    Ago(u64),
}

impl TimeBound {
    /// Reads `2026-11-24T07:30:00Z` (any RFC 3339 offset, `T` or a space) or a span of
    /// whole numbers with units `d`, `h`, `m`, `s` (`2h`, `30m`, `1h30m`, `90s`).
    pub fn parse(text: &str) -> Result<TimeBound, String> {
        let s = text.trim();
        if let Some(t) = parse_rfc3339(s) {
            return Ok(TimeBound::At(t));
        }
        span_seconds(s).map(TimeBound::Ago).ok_or_else(|| {
            format!(
                "{text:?} is neither an RFC 3339 time (2026-11-24T07:30:00Z) nor a span before now (2h, 30m, 1h30m)"
            )
        })
    }

    /// The instant, seconds since the epoch, given `now` (seconds since the epoch).
    pub fn resolve(self, now: i64) -> i64 {
        match self {
            TimeBound::At(t) => t,
            TimeBound::Ago(s) => now.saturating_sub(i64::try_from(s).unwrap_or(i64::MAX)),
        }
    }
}

/// `1h30m` → 5400; `None` unless every part is digits and a unit, each unit at most once in
/// the order d, h, m, s.
fn span_seconds(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = s;
    let mut last_rank = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (number, after) = rest.split_at(digits);
        let n: u64 = number.parse().ok()?;
        let unit = after.bytes().next()?;
        let (rank, seconds) = match unit {
            b'd' => (1, 86_400),
            b'h' => (2, 3600),
            b'm' => (3, 60),
            b's' => (4, 1),
            _ => return None,
        };
        if rank <= last_rank {
            return None;
        }
        last_rank = rank;
        total = total.checked_add(n.checked_mul(seconds)?)?;
        rest = &after[1..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_read_as_instants_or_spans_before_now() {
        assert_eq!(
            TimeBound::parse("2000-10-10T20:55:36Z"),
            Ok(TimeBound::At(971_211_336))
        );
        assert_eq!(
            TimeBound::parse("2000-10-10T22:55:36+02:00"),
            Ok(TimeBound::At(971_211_336))
        );
        assert_eq!(TimeBound::parse("2h"), Ok(TimeBound::Ago(7200)));
        assert_eq!(TimeBound::parse("30m"), Ok(TimeBound::Ago(1800)));
        assert_eq!(TimeBound::parse("1h30m"), Ok(TimeBound::Ago(5400)));
        assert_eq!(TimeBound::parse("1d2h3m4s"), Ok(TimeBound::Ago(93_784)));
        assert_eq!(TimeBound::Ago(7200).resolve(10_000), 2800);
        for bad in [
            "",
            "h",
            "2",
            "2x",
            "30m1h",
            "1h1h",
            "-2h",
            "yesterday",
            "99999999999999999999d",
        ] {
            assert!(TimeBound::parse(bad).is_err(), "{bad:?}");
        }
    }
}
