//! The supported log formats, how to tell them apart, and how to read one line of each.

use std::borrow::Cow;

use crate::entry::{Ending, Entry};
use crate::fields::{
    TimeCache, bracketed_time, ending_for_status, last_address, parse_decimal, parse_u64,
    seconds_ms, split_request,
};
use crate::json::JsonRecord;
use crate::token::{MAX_TOKENS, Token, Tokens};

/// Lines longer than this are cut before parsing: no access log line is legitimately bigger,
/// and a hostile file must not cost quadratic time.
pub const MAX_LINE: usize = 64 * 1024;

/// An access-log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// nginx or Apache "combined" (or "common"), with or without a leading virtual host, and
    /// with timing fields appended: `rt=` / `urt=` / `ua=` pairs, or bare `$request_time
    /// $upstream_response_time` (seconds, with a decimal point) or Apache `%D` (microseconds).
    Combined,
    /// HAProxy's HTTP log (`option httplog`), with or without a syslog prefix.
    Haproxy,
    /// One JSON object per line: Avi / NSX ALB application logs (`uri_path`, `response_code`,
    /// `total_time`, `significant_log`, …) or an nginx `log_format … escape=json` with nginx's
    /// variable names.
    Json,
}

impl Format {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Combined => "combined",
            Format::Haproxy => "haproxy",
            Format::Json => "json",
        }
    }

    /// Parses a `--format` value.
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "combined" | "common" | "nginx" | "apache" => Some(Format::Combined),
            "haproxy" => Some(Format::Haproxy),
            "json" | "avi" | "nsx-alb" => Some(Format::Json),
            _ => None,
        }
    }

    /// Every format, in the order detection prefers on a tie.
    pub const ALL: [Format; 3] = [Format::Haproxy, Format::Json, Format::Combined];
}

/// The format most of `sample` (a file's first lines) parses as, if any parses at all.
pub fn detect<'a>(sample: impl IntoIterator<Item = &'a str>) -> Option<Format> {
    let mut wins = [0usize; 3];
    for line in sample.into_iter().filter(|l| !l.trim().is_empty()).take(50) {
        for (i, f) in Format::ALL.iter().enumerate() {
            if parse_line(*f, line).is_ok() {
                wins[i] += 1;
            }
        }
    }
    let (best, count) = wins
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))?;
    (*count > 0).then_some(Format::ALL[best])
}

/// Lines of a file's beginning that decide its format.
pub const DETECT_LINES: usize = 50;

/// At most this much of a file's beginning decides its format: room for [`DETECT_LINES`]
/// lines of [`MAX_LINE`] bytes.
pub const DETECT_BYTES: usize = DETECT_LINES * (MAX_LINE + 1);

/// How a file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One request per line, in this format ([`crate::Gatherer::line`]).
    Lines(Format),
    /// One JSON document holding the records in a list, as Avi's API exports them
    /// ([`crate::Gatherer::json_document`]).
    JsonDocument,
}

/// How to read a file, from its beginning: `prefix` is its first [`DETECT_LINES`] lines or
/// [`DETECT_BYTES`] bytes, whichever ends first (`complete` when that is the whole file), and
/// `forced` the format the user gave. A file starting with `{` or `[` whose lines are not whole
/// JSON values is a JSON document (pretty-printed, one record per line, or all on one line).
pub fn detect_layout(prefix: &[u8], complete: bool, forced: Option<Format>) -> Option<Layout> {
    let mut lines: Vec<Cow<'_, str>> = Vec::new();
    let mut rest = prefix;
    while !rest.is_empty() && lines.len() < DETECT_LINES {
        let (line, next, ended) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..], true),
            None => (rest, &rest[rest.len()..], complete),
        };
        // A line the prefix cuts is left out, unless it is cut for parsing anyway.
        if ended || line.len() >= MAX_LINE {
            lines.push(String::from_utf8_lossy(&line[..line.len().min(MAX_LINE)]));
        }
        rest = next;
    }
    let format = forced.or_else(|| detect(lines.iter().map(|l| l.as_ref())));
    let starts_json = prefix
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['));
    match format {
        None | Some(Format::Json) if starts_json && looks_like_a_document(&lines) => {
            Some(Layout::JsonDocument)
        }
        f => f.map(Layout::Lines),
    }
}

/// Whether lines starting with `{` or `[` are pieces of one document rather than JSON lines:
/// in JSON lines each line is a whole JSON value, in a document (pretty-printed, or one record
/// per line with commas between) almost none is. A single line is a document unless it is a
/// record: a compact export is one line.
fn looks_like_a_document(lines: &[Cow<'_, str>]) -> bool {
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [] => false,
        [only] => parse_line(Format::Json, only).is_err(),
        _ => {
            let whole = lines
                .iter()
                .filter(|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok())
                .count();
            whole * 2 < lines.len()
        }
    }
}

/// Read one line. The error says, in a few words, why the line is not of this format.
pub fn parse_line(format: Format, line: &str) -> Result<Entry<'_>, &'static str> {
    parse_line_timed(format, line, &mut TimeCache::default())
}

/// [`parse_line`], with the time text of the previous line remembered in `clock`.
pub(crate) fn parse_line_timed<'a>(
    format: Format,
    line: &'a str,
    clock: &mut TimeCache,
) -> Result<Entry<'a>, &'static str> {
    let line = cut(line.trim_end_matches(['\r', '\n']));
    match format {
        Format::Combined => parse_combined(line, clock),
        Format::Haproxy => parse_haproxy(line, clock),
        Format::Json => parse_json(line),
    }
}

/// The time of a line of `format`, read without the rest of the line; `None` when this cannot
/// be done cheaply (JSON records) or the line has no time where expected.
pub(crate) fn line_time(format: Format, line: &str, clock: &mut TimeCache) -> Option<i64> {
    match format {
        Format::Combined | Format::Haproxy => bracketed_time(line, clock),
        Format::Json => None,
    }
}

fn cut(line: &str) -> &str {
    interloper_model::text::cut_bytes(line, MAX_LINE)
}

fn looks_like_address(s: &str) -> bool {
    s.starts_with("unix:")
        || (s.contains(':')
            && s.bytes().any(|b| b.is_ascii_digit())
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'[' | b']')))
}

/// Fields of a combined line looked at by position: `[vhost] client ident user [time]
/// "request" status bytes`.
const COMBINED_HEAD: usize = 8;

fn parse_combined<'a>(line: &'a str, clock: &mut TimeCache) -> Result<Entry<'a>, &'static str> {
    let mut tokens = Tokens::new(line);
    let mut t = [Token::Bare(""); COMBINED_HEAD];
    let mut n = 0;
    for (slot, token) in t.iter_mut().zip(tokens.by_ref()) {
        *slot = token;
        n += 1;
    }
    let t = &t[..n];
    // `client ident user [time]`, or with Apache's vhost_combined `vhost client ident user [time]`.
    let b = t
        .iter()
        .position(|x| matches!(x, Token::Bracket(_)))
        .filter(|b| *b == 3 || *b == 4)
        .ok_or("no [time] as the 4th or 5th field")?;
    let Some(Token::Quoted(request)) = t.get(b + 1) else {
        return Err("no quoted request after the time");
    };
    let status_text = t.get(b + 2).ok_or("no status")?.text();
    let status = match status_text {
        "-" => None,
        s => Some(
            parse_u64(s)
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (100..1000).contains(s))
                .ok_or("status is not a number")?,
        ),
    };
    let bytes = match t.get(b + 3).map(|x| x.text()) {
        Some("-") => Some(0),
        Some(s) => Some(parse_u64(s).ok_or("byte count is not a number")?),
        None => return Err("no byte count"),
    };
    let (method, path) = split_request(request);
    let mut e = Entry::new(Cow::Borrowed(path));
    e.client = Some(Cow::Borrowed(t[b - 3].text()));
    e.method = method.map(Cow::Borrowed);
    e.status = status;
    e.bytes = bytes;
    e.time = clock.clf(t[b].text());
    e.ending = ending_for_status(status);
    if e.ending != Ending::Complete {
        e.detail = Some(Cow::Borrowed(status_text));
    }
    // Referer and user agent (combined), then whatever timing the administrator appended.
    let extras = t[(b + 4).min(n)..]
        .iter()
        .copied()
        .chain(tokens.take(MAX_TOKENS.saturating_sub(n)))
        .skip_while(|x| matches!(x, Token::Quoted(_)));
    let mut bare_seconds = 0;
    for x in extras {
        let text = x.text();
        // Fields are short: a plain loop, not a vector search set up for each.
        if let Some(eq) = text.bytes().position(|c| c == b'=') {
            let (key, value) = (&text[..eq], &text[eq + 1..]);
            let value = value.trim_matches('"');
            let is = |names: &[&str]| names.iter().any(|n| key.eq_ignore_ascii_case(n));
            if is(&["rt", "request_time", "rtime", "time"]) {
                e.duration_ms = seconds_ms(value);
            } else if is(&["urt", "upstream_response_time", "upstream_time"]) {
                e.upstream_ms = seconds_ms(value);
                e.upstream_times = Some(Cow::Borrowed(value));
            } else if is(&["ua", "upstream_addr", "upstream", "backend"]) {
                e.upstream = last_address(value).map(Cow::Borrowed);
                e.upstream_tries = Some(Cow::Borrowed(value));
            } else if is(&["us", "upstream_status"]) {
                e.upstream_statuses = Some(Cow::Borrowed(value));
            } else if is(&["uct", "upstream_connect_time"]) {
                e.upstream_connect = Some(Cow::Borrowed(value));
            } else if is(&["uht", "upstream_header_time"]) {
                e.upstream_header = Some(Cow::Borrowed(value));
            } else if is(&["ssl_protocol", "tls_protocol", "ssl", "tls"]) {
                e.tls_protocol = (value != "-").then_some(Cow::Borrowed(value));
            } else if is(&["ssl_cipher", "tls_cipher", "cipher"]) {
                e.tls_cipher = (value != "-").then_some(Cow::Borrowed(value));
            }
        } else if let Some(seconds) = bare_seconds_value(text) {
            // Parsed once: what `seconds_ms` would give for a bare number.
            let ms = (seconds.is_finite() && seconds >= 0.0).then_some(seconds * 1000.0);
            if bare_seconds == 0 {
                e.duration_ms = ms;
            } else if bare_seconds == 1 {
                e.upstream_ms = ms;
            }
            bare_seconds += 1;
        } else if let Some(us) = parse_u64(text) {
            if e.duration_ms.is_none() {
                // Apache's %D: microseconds.
                e.duration_ms = Some(us as f64 / 1000.0);
            }
        } else if e.upstream.is_none() && looks_like_address(text.trim_end_matches(',')) {
            e.upstream = last_address(text).map(Cow::Borrowed);
        }
    }
    Ok(e)
}

/// A bare field that is seconds with a decimal point (`0.012`): its value. An address
/// (`10.0.0.2:8000`) is told apart by its first bytes, without trying to read it as a number.
fn bare_seconds_value(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let dot = b.iter().position(|c| *c == b'.')?;
    // `0.012`, `12.5`, `-1.0`; an IPv4 address has a second dot or a colon after the first.
    if b[dot + 1..].iter().any(|c| matches!(c, b'.' | b':')) {
        return None;
    }
    parse_decimal(text)
}

/// Tokens of an HAProxy line kept on the stack (a syslog prefix, then the client, the date and
/// the httplog fields up to the termination state); the rest are walked up to the request.
const HAPROXY_TOKENS: usize = 20;

/// An optional `-` and decimal digits → the number (HAProxy's `-1` for "none").
fn parse_i64(s: &str) -> Option<i64> {
    match s.strip_prefix('-') {
        Some(digits) => parse_u64(digits)
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| -v),
        None => parse_u64(s).and_then(|v| i64::try_from(v).ok()),
    }
}

/// `TR/Tw/Tc/Tr/Ta`: exactly five fields split at `/`.
fn five_timers(text: &str) -> Option<[&str; 5]> {
    let mut timers = [""; 5];
    let mut rest = text;
    for (k, slot) in timers.iter_mut().enumerate() {
        match rest.bytes().position(|c| c == b'/') {
            Some(p) if k < 4 => {
                *slot = &rest[..p];
                rest = &rest[p + 1..];
            }
            None if k == 4 => *slot = rest,
            _ => return None,
        }
    }
    Some(timers)
}

fn parse_haproxy<'a>(line: &'a str, clock: &mut TimeCache) -> Result<Entry<'a>, &'static str> {
    let mut tokens = Tokens::new(line);
    let mut t = [Token::Bare(""); HAPROXY_TOKENS];
    let mut n = 0;
    for (slot, token) in t.iter_mut().zip(tokens.by_ref()) {
        *slot = token;
        n += 1;
    }
    let t = &t[..n];
    // The client `ip:port` followed by `[accept date]`, after an optional syslog prefix.
    let i = (0..t.len().saturating_sub(1).min(10))
        .find(|&i| {
            matches!(t[i], Token::Bare(s) if s.contains(':'))
                && matches!(t[i + 1], Token::Bracket(d) if d.len() >= 20 && d.as_bytes()[2] == b'/')
        })
        .ok_or("no client address followed by [accept date]")?;
    let field = |k: usize| t.get(i + k).copied().ok_or("line ends early");
    let server = field(3)?.text();
    if !server.contains('/') {
        return Err("no backend/server field");
    }
    let timers =
        five_timers(field(4)?.text()).ok_or("no TR/Tw/Tc/Tr/Ta timers (not an HTTP log line?)")?;
    let timer = |s: &str| -> Result<Option<f64>, &'static str> {
        let v = parse_i64(s.trim_start_matches('+')).ok_or("a timer is not a number")?;
        Ok((v >= 0).then_some(v as f64))
    };
    let tr = timer(timers[3])?;
    let total = timer(timers[4])?;
    let status_text = field(5)?.text();
    let status = parse_i64(status_text.strip_prefix('+').unwrap_or(status_text))
        .filter(|s| i32::try_from(*s).is_ok())
        .ok_or("status is not a number")?;
    let bytes =
        parse_u64(field(6)?.text().trim_start_matches('+')).ok_or("byte count is not a number")?;
    let state = field(9)?.text();
    if state.len() < 2 || !state.is_ascii() {
        return Err("no termination state");
    }
    // The first quoted field after the state, among the line's first MAX_TOKENS fields.
    let quoted = |x: Token<'a>| match x {
        Token::Quoted(r) => Some(r),
        _ => None,
    };
    // The state was read, so i + 10 <= n: the fields after it are the rest of `t`, then the
    // tokens not yet taken.
    let request = t[(i + 10).min(n)..]
        .iter()
        .copied()
        .chain(tokens.take(MAX_TOKENS.saturating_sub(n)))
        .find_map(quoted)
        .ok_or("no quoted request (a TCP log line?)")?;
    let (method, path) = split_request(request);
    let mut e = Entry::new(Cow::Borrowed(path));
    e.client = Some(Cow::Borrowed(
        t[i].text().rsplit_once(':').map_or(t[i].text(), |(a, _)| a),
    ));
    e.method = method.map(Cow::Borrowed);
    e.time = clock.clf(t[i + 1].text());
    e.status = u16::try_from(status)
        .ok()
        .filter(|s| (100..1000).contains(s));
    e.bytes = Some(bytes);
    e.duration_ms = total;
    e.upstream_ms = tr;
    e.upstream = Some(Cow::Borrowed(server));
    e.ending = match state.as_bytes()[0] {
        b'C' => Ending::ClientClosed,
        b'c' => Ending::ClientTimeout,
        b'S' => Ending::ServerFailed,
        b's' => Ending::ServerTimeout,
        _ => ending_for_status(e.status),
    };
    if state.as_bytes()[0] != b'-' || e.ending != Ending::Complete {
        e.detail = Some(Cow::Borrowed(state));
    }
    Ok(e)
}

fn parse_json(line: &str) -> Result<Entry<'static>, &'static str> {
    json_line(line)?.entry().map(Entry::into_owned)
}

/// A JSON line's record, its strings borrowed from the line.
pub(crate) fn json_line(line: &str) -> Result<JsonRecord<'_>, &'static str> {
    let line = cut(line.trim_end_matches(['\r', '\n'])).trim();
    if !line.starts_with('{') {
        return Err("not a JSON object");
    }
    serde_json::from_str(line).map_err(|_| "not a JSON object")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{parse_clf_time, parse_rfc3339};

    #[test]
    fn times() {
        assert_eq!(parse_clf_time("01/Jan/1970:00:00:00"), Some(0));
        assert_eq!(
            parse_line(
                Format::Combined,
                r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326"#
            )
            .unwrap()
            .time,
            Some(971_211_336)
        );
        assert_eq!(parse_rfc3339("2000-10-10T20:55:36Z"), Some(971_211_336));
        assert_eq!(
            parse_rfc3339("2000-10-10T22:55:36.5+02:00"),
            Some(971_211_336)
        );
        assert_eq!(parse_clf_time("99/Foo/2000:13:55:36"), None);
        assert_eq!(parse_rfc3339("2000-13-10T20:55:36Z"), None);
    }

    #[test]
    fn an_haproxy_request_after_many_captures_is_found() {
        let captures = "{h} ".repeat(30);
        let line = format!(
            "<134>Nov 24 07:30:00 lb haproxy[712]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {captures}\"GET /static/a.css HTTP/1.1\""
        );
        let e = parse_line(Format::Haproxy, &line).expect("parses");
        assert_eq!((e.path.as_ref(), e.status), ("/static/a.css", Some(200)));
        // Beyond the first 64 fields there is no request to find.
        let captures = "{h} ".repeat(60);
        let line = format!(
            "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {captures}\"GET /static/a.css HTTP/1.1\""
        );
        assert!(parse_line(Format::Haproxy, &line).is_err());
        for timers in ["10/0/30/69", "10/0/30/69/109/1", "10/0/30//109", "/////"] {
            let line = format!(
                "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 {timers} 200 2750 - - ---- 1/1/1/1/0 0/0 \"GET /a HTTP/1.1\""
            );
            assert!(parse_line(Format::Haproxy, &line).is_err(), "{timers}");
        }
    }

    #[test]
    fn request_targets() {
        assert_eq!(
            split_request("GET /static/a.css?v=1 HTTP/1.1"),
            (Some("GET"), "/static/a.css")
        );
        assert_eq!(
            split_request("GET http://h/static/x.js HTTP/1.1"),
            (Some("GET"), "/static/x.js")
        );
        assert_eq!(split_request("-"), (None, ""));
    }
}
