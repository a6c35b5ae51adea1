//! Values every log format carries in its own spelling: the request line, times and time
//! zones, seconds, upstream address lists, and what a status says about how a request ended.
//! Shared by the line formats (`format`) and the JSON records (`json`).

use crate::entry::Ending;

/// `METHOD target PROTOCOL` → (method, path without query). An absolute-form target keeps its
/// path only.
pub(crate) fn split_request(request: &str) -> (Option<&str>, &str) {
    let mut parts = request.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return (None, "");
    };
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

/// Seconds as logged by nginx (`0.123`) → milliseconds. Lists (`0.001, 0.002` after a retry)
/// give the last value, the attempt that answered.
pub(crate) fn seconds_ms(v: &str) -> Option<f64> {
    let last = match memchr::memrchr2(b',', b':', v.as_bytes()) {
        Some(i) => v[i + 1..].trim().trim_matches('"'),
        None => v.trim().trim_matches('"'),
    };
    let s: f64 = last.parse().ok()?;
    (s.is_finite() && s >= 0.0).then_some(s * 1000.0)
}

/// The last address of an nginx `$upstream_addr` list (`a:80, b:80 : c:80`).
pub(crate) fn last_address(v: &str) -> Option<&str> {
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
