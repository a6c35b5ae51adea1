//! Values every log format carries in its own spelling: the request line, times and time
//! zones, seconds, upstream address lists, and what a status says about how a request ended.
//! Shared by the line formats (`format`) and the JSON records (`json`).

use crate::entry::Ending;

/// `METHOD target PROTOCOL` → (method, path without query). An absolute-form target keeps its
/// path only.
pub(crate) fn split_request(request: &str) -> (Option<&str>, &str) {
    let b = request.as_bytes();
    let Some(space) = memchr::memchr(b' ', b) else {
        return (None, "");
    };
    let method = &request[..space];
    let rest = &request[space + 1..];
    let target = memchr::memchr(b' ', rest.as_bytes()).map_or(rest, |end| &rest[..end]);
    // Origin form (`/path`), the usual case, needs no search for a scheme.
    let target = match target.starts_with('/') {
        true => target,
        false => match target.find("://") {
            Some(p) => {
                let rest = &target[p + 3..];
                rest.find('/').map_or("/", |s| &rest[s..])
            }
            None => target,
        },
    };
    let path = memchr::memchr2(b'?', b'#', target.as_bytes()).map_or(target, |i| &target[..i]);
    (Some(method), path)
}

pub(crate) fn ending_for_status(status: Option<u16>) -> Ending {
    match status {
        Some(499) => Ending::ClientClosed,
        Some(408) => Ending::ClientTimeout,
        Some(504) => Ending::ServerTimeout,
        Some(502) => Ending::ServerFailed,
        _ => Ending::Complete,
    }
}

/// Powers of ten a double holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A number as `str::parse::<f64>` reads it, the usual `digits.digits` without its general
/// machinery: when the digits fit 2^53 and the fraction is at most 22 digits, one division of
/// two exact doubles is correctly rounded (Clinger's fast path), so the value is the same.
/// Anything else (a sign, an exponent, many digits) is left to `str::parse`.
pub(crate) fn parse_decimal(s: &str) -> Option<f64> {
    let mut mantissa: u64 = 0;
    let (mut digits, mut fraction, mut dot) = (0u32, 0usize, false);
    for &c in s.as_bytes() {
        match c {
            b'0'..=b'9' if digits < 19 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                fraction += usize::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return s.parse().ok(),
        }
    }
    match EXACT_POWERS_OF_TEN.get(fraction) {
        Some(power) if digits > 0 && mantissa <= 1 << 53 => Some(mantissa as f64 / power),
        _ => s.parse().ok(),
    }
}

/// Seconds as logged by nginx (`0.123`) → milliseconds. Lists (`0.001, 0.002` after a retry)
/// give the last value, the attempt that answered.
pub(crate) fn seconds_ms(v: &str) -> Option<f64> {
    let last = match memchr::memrchr2(b',', b':', v.as_bytes()) {
        Some(i) => v[i + 1..].trim().trim_matches('"'),
        None => v.trim().trim_matches('"'),
    };
    let s = parse_decimal(last)?;
    (s.is_finite() && s >= 0.0).then_some(s * 1000.0)
}

/// The last address of an nginx `$upstream_addr` list (`a:80, b:80 : c:80`).
pub(crate) fn last_address(v: &str) -> Option<&str> {
    // One address, the usual case: nothing to trim or split.
    if v.bytes()
        .all(|c| c > b' ' && c < 0x80 && c != b'"' && c != b',')
    {
        return (!v.is_empty() && v != "-").then_some(v);
    }
    let v = v.trim_matches('"');
    let last = memchr::memrchr(b',', v.as_bytes())
        .map_or(v, |i| &v[i + 1..])
        .trim();
    let last = match memchr::memchr(b' ', last.as_bytes()) {
        Some(_) => last.rsplit(" : ").next()?.trim(),
        None => last,
    };
    (!last.is_empty() && last != "-").then_some(last)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn num(s: &str) -> Option<i64> {
    parse_u64(s).and_then(|v| i64::try_from(v).ok())
}

/// Decimal digits only (no sign, no space) → the number; `None` when empty, not all digits, or
/// too large.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

fn civil_seconds(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let ok = (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..=60).contains(&s)
        && (1970..=9999).contains(&y);
    ok.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// `10/Oct/2000:13:55:36` (and HAProxy's `…:36.655`) → seconds, as UTC.
pub(crate) fn parse_clf_time(s: &str) -> Option<i64> {
    let s = s.get(..20).filter(|s| s.is_ascii())?;
    let b = s.as_bytes();
    if b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mo = MONTHS.iter().position(|m| *m == &s[3..6])? as i64 + 1;
    civil_seconds(
        num(&s[7..11])?,
        mo,
        num(&s[0..2])?,
        num(&s[12..14])?,
        num(&s[15..17])?,
        num(&s[18..20])?,
    )
}

/// `-0700` → −25 200 seconds.
pub(crate) fn zone_seconds(z: &str) -> Option<i64> {
    let b = z.as_bytes();
    if b.len() != 5 || !z.is_ascii() || !matches!(b[0], b'+' | b'-') {
        return None;
    }
    let v = num(&z[1..3])? * 3600 + num(&z[3..5])? * 60;
    Some(if b[0] == b'-' { -v } else { v })
}

/// `2026-11-24T07:30:00(.123)(Z|+01:00)` → seconds since the epoch.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19
        || !s.is_char_boundary(19)
        || !s[..19].is_ascii()
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b' ')
    {
        return None;
    }
    let base = civil_seconds(
        num(&s[0..4])?,
        num(&s[5..7])?,
        num(&s[8..10])?,
        num(&s[11..13])?,
        num(&s[14..16])?,
        num(&s[17..19])?,
    )?;
    let rest = s[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "" | "Z" | "z" => 0,
        z if z.len() == 6 && z.is_ascii() && z.as_bytes()[3] == b':' => {
            zone_seconds(&format!("{}{}", &z[..3], &z[4..]))?
        }
        z => zone_seconds(z)?,
    };
    Some(base - offset)
}

/// `10/Oct/2000:13:55:36 -0700` (a zone after a space, or none) → seconds, as UTC.
pub(crate) fn parse_clf_time_zone(s: &str) -> Option<i64> {
    match s.split_once(' ') {
        Some((d, z)) => parse_clf_time(d).map(|t| t - zone_seconds(z).unwrap_or(0)),
        None => parse_clf_time(s),
    }
}

/// Longest zone text remembered (`-0700` and some room).
const CACHED_ZONE: usize = 16;

/// The day and zone of the last time text read, and what they meant. A log's lines come in
/// time order, so most lines carry the previous line's day and zone: those are compared, not
/// parsed again, and only the time of day (`hh:mm:ss`) is read for each line.
#[derive(Debug, Clone)]
pub(crate) struct TimeCache {
    /// `dd/Mon/yyyy`, the first 11 bytes.
    day: [u8; 11],
    /// What follows the first space after the seconds (the zone), and its length; `usize::MAX`
    /// before anything is remembered, so nothing matches.
    zone: [u8; CACHED_ZONE],
    zone_len: usize,
    /// Seconds since the epoch at 00:00:00 of that day in that zone (`None`: not a day).
    midnight: Option<i64>,
}

impl Default for TimeCache {
    fn default() -> Self {
        TimeCache {
            day: [0; 11],
            zone: [0; CACHED_ZONE],
            zone_len: usize::MAX,
            midnight: None,
        }
    }
}

/// A two-digit number (`07`).
fn two_digits(b: &[u8]) -> Option<i64> {
    let (h, l) = (b[0].wrapping_sub(b'0'), b[1].wrapping_sub(b'0'));
    (h <= 9 && l <= 9).then(|| i64::from(h) * 10 + i64::from(l))
}

impl TimeCache {
    /// [`parse_clf_time_zone`], with the day and zone remembered from the previous call.
    pub(crate) fn clf(&mut self, s: &str) -> Option<i64> {
        let b = s.as_bytes();
        // The shape every fast answer needs: 20 ASCII bytes with no space, so the zone (if
        // any) is what follows the first space after them, as parse_clf_time_zone reads it.
        let Some(head) = b
            .get(..20)
            .filter(|h| h.iter().all(|c| c.is_ascii() && *c != b' '))
        else {
            return parse_clf_time_zone(s);
        };
        // No space, or nothing after it: no zone, as an unreadable one.
        let zone = memchr::memchr(b' ', &b[20..]).map_or("", |i| &s[20 + i + 1..]);
        if zone.len() > CACHED_ZONE {
            return parse_clf_time_zone(s);
        }
        // Compared as a fixed-size array and a short loop: a few loads, not calls to memcmp.
        let day: [u8; 11] = std::array::from_fn(|k| head[k]);
        let same_day = zone.len() == self.zone_len
            && day == self.day
            && zone.bytes().zip(self.zone).all(|(a, b)| a == b);
        if !same_day {
            // A new day or zone: its midnight, read as parse_clf_time_zone reads a time.
            let mut midnight = [0u8; 20];
            midnight[..11].copy_from_slice(&head[..11]);
            midnight[11..].copy_from_slice(b":00:00:00");
            self.midnight = std::str::from_utf8(&midnight)
                .ok()
                .and_then(parse_clf_time)
                .map(|t| t - zone_seconds(zone).unwrap_or(0));
            self.day.copy_from_slice(&head[..11]);
            self.zone[..zone.len()].copy_from_slice(zone.as_bytes());
            self.zone_len = zone.len();
        }
        if head[11] != b':' {
            return None;
        }
        let (h, m, sec) = (
            two_digits(&head[12..14])?,
            two_digits(&head[15..17])?,
            two_digits(&head[18..20])?,
        );
        let in_range = h < 24 && m < 60 && sec <= 60;
        self.midnight
            .filter(|_| in_range)
            .map(|t| t + h * 3600 + m * 60 + sec)
    }
}

/// Bytes of a line's beginning searched for its `[time]` by [`line_time`].
const TIME_SEARCH: usize = 512;

/// The time of a `combined` or HAProxy line read from its first `[bracketed]` field that is a
/// time (a syslog prefix's `haproxy[123]` is not), without reading the rest of the line.
pub(crate) fn bracketed_time(line: &str, cache: &mut TimeCache) -> Option<i64> {
    let b = line.as_bytes();
    let head = &b[..b.len().min(TIME_SEARCH)];
    for open in memchr::memchr_iter(b'[', head).take(3) {
        let start = open + 1;
        let len = memchr::memchr(b']', &b[start..])?;
        if let Some(t) = line.get(start..start + len).and_then(|s| cache.clf(s)) {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_as_str_parse_reads_them() {
        let mut samples: Vec<String> = [
            "0",
            "0.0",
            "0.012",
            "12.5",
            "60.000",
            "1.",
            ".5",
            ".",
            "",
            "-1.0",
            "+1.5",
            "1e3",
            "1.2.3",
            "0.1",
            "0.3",
            "9007199254740993",
            "900719925474099.3",
            "0.30000000000000004",
            "123456789012345678901.5",
            "0.0000000000000000000000001",
            "1_0",
            "inf",
            "NaN",
            "٣.1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for i in 0..20_000u64 {
            samples.push(format!("{}.{:03}", i / 1000, i % 1000));
            samples.push(format!("{}", i as f64 * 0.0137));
        }
        for s in &samples {
            assert_eq!(
                parse_decimal(s).map(f64::to_bits),
                s.parse::<f64>().ok().map(f64::to_bits),
                "{s:?}"
            );
        }
    }

    #[test]
    fn the_time_cache_gives_what_parsing_gives() {
        let mut cache = TimeCache::default();
        for s in [
            "10/Oct/2000:13:55:36 -0700",
            "10/Oct/2000:13:55:36 -0700",
            "10/Oct/2000:13:55:36 +0000",
            "10/Oct/2000:13:55:37",
            "10/Oct/2000:13:55:37",
            "not a time",
            "",
            "10/Oct/2000:13:55:36.655",
            "10/Oct/2000:13:55:36.9",
            "10/Oct/2000:13:55:37.1",
            "10/Oct/2000:13:55:37.",
            "10/Oct/2000:13:55:37.x",
            "10/Oct/2000:13:55:37 x",
            // Day, zone and time of day each changing alone, and each one invalid.
            "10/Oct/2000:13:55:37 -0700",
            "10/Oct/2000:25:55:37 -0700",
            "10/Oct/2000:23:59:60 -0700",
            "10/Oct/2000:23:60:00 -0700",
            "10/Oct/2000:2x:00:00 -0700",
            "10/Oct/2000x23:00:00 -0700",
            "10/Oct/2000:23?00?00 -0700",
            "11/Oct/2000:00:00:00 -0700",
            "11/Oct/2000:00:00:00 +0130",
            "11/Oct/2000:00:00:00 +01:30",
            "11/Oct/2000:00:00:00  +0130",
            "11/Oct/2000:00:00:00 ",
            "11/Oct/2000:00:00:00",
            "32/Oct/2000:00:00:00",
            "32/Oct/2000:00:00:01",
            "11/Foo/2000:00:00:00",
            "11/Oct/1969:00:00:00",
            "11/Oct/2000:00:00:00xyz -0100",
            "11/Oct/2000:00:00:00.123 -0100",
            "11 Oct/2000:00:00:00 -0100",
            "11/Oct/2000:00:00:0é -0100",
            "11/Oct/2000:00:00:00 -0100 and a very long zone text",
            "11/Oct/2000:00:00:00 -0100 and a very long zone text",
            "29/Feb/2024:12:00:00 +0000",
            "29/Feb/2024:12:00:01 +0000",
        ] {
            assert_eq!(cache.clf(s), parse_clf_time_zone(s), "{s:?}");
        }
        let long = "x".repeat(CACHED_ZONE + 30);
        assert_eq!(cache.clf(&long), None);
        assert_eq!(cache.clf("10/Oct/2000:13:55:36 -0700"), Some(971_211_336));
    }

    #[test]
    fn the_bracketed_time_skips_a_syslog_pid() {
        let mut cache = TimeCache::default();
        assert_eq!(
            bracketed_time(
                "<134>Nov 24 07:30:00 lb haproxy[712]: 192.0.2.1:5000 [10/Oct/2000:20:55:36.123] fe be/s1",
                &mut cache
            ),
            Some(971_211_336)
        );
        assert_eq!(bracketed_time("no time [here", &mut cache), None);
        assert_eq!(
            bracketed_time("[a] [b] [c] [10/Oct/2000:20:55:36]", &mut cache),
            None
        );
    }
}
