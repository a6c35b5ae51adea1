//! A user's own log format: an nginx `log_format` string or an HAProxy `log-format` string,
//! compiled once into a field plan (literal, field, literal, field, …) that reads each line by
//! finding the literals in turn, with no allocation per line.
//!
//! Variables the diagnosis does not use are skipped (their text is still stepped over by the
//! literal that follows them). A field's value ends where the literal after it starts; two
//! variables with nothing between them are split at the first space.

use std::borrow::Cow;
use std::fmt;

use memchr::memmem::Finder;

use crate::entry::{Ending, Entry};
use crate::fields::{
    TimeCache, ending_for_status, last_address, parse_rfc3339, parse_u64, seconds_ms, split_request,
};
use crate::format::MAX_LINE;
use crate::token::closing_quote;

/// Which product's format language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    /// nginx `log_format`: `$variable` or `${variable}`.
    Nginx,
    /// HAProxy `log-format`: `%ci`, `%{+Q}r`, `%[sample]`, `%%`.
    Haproxy,
}

/// Why a format string could not be compiled: one line for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}

/// What a field of the format is to the diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Skip,
    Client,
    /// `10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, HAProxy `%t`/`%tr`, with or
    /// without a zone or milliseconds).
    ClfTime,
    Iso8601,
    /// Seconds since the epoch, with milliseconds (nginx `$msec`).
    EpochSeconds,
    Request,
    Method,
    /// A request target; its query is dropped.
    Target,
    Status,
    Bytes,
    /// Seconds with a decimal point (nginx).
    Seconds,
    UpstreamAddr,
    UpstreamStatus,
    UpstreamConnect,
    UpstreamHeader,
    UpstreamSeconds,
    TlsProtocol,
    TlsCipher,
    // HAProxy.
    Backend,
    Server,
    /// Milliseconds, -1 when absent: `%Ta` (whole request), `%Tt` (whole session).
    TotalMs,
    SessionMs,
    /// `%Tr`: the server's response time.
    ServerMs,
    TerminationState,
}

fn nginx_field(name: &str) -> Field {
    match name {
        "remote_addr" => Field::Client,
        "time_local" => Field::ClfTime,
        "time_iso8601" => Field::Iso8601,
        "msec" => Field::EpochSeconds,
        "request" => Field::Request,
        "request_method" => Field::Method,
        "request_uri" | "uri" | "document_uri" => Field::Target,
        "status" => Field::Status,
        "body_bytes_sent" => Field::Bytes,
        "request_time" => Field::Seconds,
        "upstream_addr" => Field::UpstreamAddr,
        "upstream_status" => Field::UpstreamStatus,
        "upstream_connect_time" => Field::UpstreamConnect,
        "upstream_header_time" => Field::UpstreamHeader,
        "upstream_response_time" => Field::UpstreamSeconds,
        "ssl_protocol" => Field::TlsProtocol,
        "ssl_cipher" => Field::TlsCipher,
        _ => Field::Skip,
    }
}

fn haproxy_field(name: &str) -> Field {
    match name {
        "ci" => Field::Client,
        "t" | "tr" | "trg" => Field::ClfTime,
        "r" => Field::Request,
        "HM" => Field::Method,
        "HU" | "HP" | "HPO" => Field::Target,
        "ST" => Field::Status,
        "B" => Field::Bytes,
        "b" => Field::Backend,
        "s" => Field::Server,
        "Ta" => Field::TotalMs,
        "Tt" => Field::SessionMs,
        "Tr" => Field::ServerMs,
        "ts" | "tsc" => Field::TerminationState,
        "sslv" => Field::TlsProtocol,
        "sslc" => Field::TlsCipher,
        _ => Field::Skip,
    }
}

/// One step of a plan: a field and the literal text that follows it.
struct Step {
    field: Field,
    /// The literal after the field; empty at the end of the format, or between two fields.
    after: Finder<'static>,
}

/// A compiled user format. Cheap to share between workers (`Arc`).
pub struct FieldPlan {
    kind: PlanKind,
    text: String,
    leading: Vec<u8>,
    steps: Vec<Step>,
}

impl fmt::Debug for FieldPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldPlan")
            .field("kind", &self.kind)
            .field("text", &self.text)
            .finish_non_exhaustive()
    }
}

/// A format longer than this is not a log format.
const MAX_FORMAT: usize = 16 * 1024;

/// A config's quoting, undone: `'$a - ' '"$b"'` (nginx segments) or `"%ci:%cp\ [%tr]"`
/// (HAProxy, spaces escaped). A plain string is kept as it is.
fn unquote(format: &str, kind: PlanKind) -> String {
    let t = format.trim();
    let quoted = |c: char| t.starts_with(c) && t.ends_with(c) && t.len() >= 2;
    let mut out = String::with_capacity(t.len());
    if kind == PlanKind::Nginx && (quoted('\'') || quoted('"')) {
        // Segments in quotes, separated by blanks, are concatenated (nginx's own rule).
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' || c == '"' {
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                    out.push(d);
                }
            } else if !c.is_whitespace() {
                return t.to_string();
            }
        }
        return out;
    }
    let t = if kind == PlanKind::Haproxy && quoted('"') {
        &t[1..t.len() - 1]
    } else {
        t
    };
    if kind == PlanKind::Haproxy {
        return t.replace("\\ ", " ");
    }
    t.to_string()
}

impl FieldPlan {
    /// Compile `nginx:FORMAT` or `haproxy:FORMAT`.
    pub fn from_arg(arg: &str) -> Option<Result<FieldPlan, PlanError>> {
        let (kind, format) = arg.split_once(':')?;
        match kind.to_ascii_lowercase().as_str() {
            "nginx" => Some(FieldPlan::compile(PlanKind::Nginx, format)),
            "haproxy" => Some(FieldPlan::compile(PlanKind::Haproxy, format)),
            _ => None,
        }
    }

    /// Compile a format string of `kind`.
    pub fn compile(kind: PlanKind, format: &str) -> Result<FieldPlan, PlanError> {
        if format.len() > MAX_FORMAT {
            return Err(PlanError(format!(
                "the log format is longer than {} KiB",
                MAX_FORMAT / 1024
            )));
        }
        let text = unquote(format, kind);
        if text.trim().is_empty() {
            return Err(PlanError("the log format is empty".into()));
        }
        let (leading, steps) = split_format(kind, &text)?;
        let names = match kind {
            PlanKind::Nginx => "$request, $request_uri or $uri",
            PlanKind::Haproxy => "%r, %HU or %HP",
        };
        if !steps
            .iter()
            .any(|(f, _)| matches!(f, Field::Request | Field::Target))
        {
            return Err(PlanError(format!(
                "the log format has no request ({names}): nothing says which file was asked for"
            )));
        }
        Ok(FieldPlan {
            kind,
            text,
            leading,
            steps: steps
                .into_iter()
                .map(|(field, after)| Step {
                    field,
                    after: Finder::new(&after).into_owned(),
                })
                .collect(),
        })
    }

    /// The format's product, for reports (`nginx log_format`, `haproxy log-format`).
    pub fn name(&self) -> &'static str {
        match self.kind {
            PlanKind::Nginx => "nginx log_format",
            PlanKind::Haproxy => "haproxy log-format",
        }
    }

    /// The format as compiled (quoting undone).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Read one line by the plan.
    pub fn parse<'a>(&self, line: &'a str) -> Result<Entry<'a>, &'static str> {
        self.parse_timed(line, &mut TimeCache::default())
    }

    /// [`FieldPlan::parse`], with the day and zone of the previous line's time remembered in
    /// `clock`.
    pub(crate) fn parse_timed<'a>(
        &self,
        line: &'a str,
        clock: &mut TimeCache,
    ) -> Result<Entry<'a>, &'static str> {
        let line = interloper_model::text::cut_bytes(line.trim_end_matches(['\r', '\n']), MAX_LINE);
        match self.read(line, clock) {
            Ok(e) => Ok(e),
            // HAProxy through syslog: a `<134>Nov 30 23:00:00 haproxy[7]: ` prefix first.
            Err(why) if self.kind == PlanKind::Haproxy => match line.find("]: ") {
                Some(p) => self.read(&line[p + 3..], clock).map_err(|_| why),
                None => Err(why),
            },
            Err(why) => Err(why),
        }
    }

    fn read<'a>(&self, line: &'a str, clock: &mut TimeCache) -> Result<Entry<'a>, &'static str> {
        let b = line.as_bytes();
        if !b.starts_with(&self.leading) {
            return Err("the line does not start as the format does");
        }
        let mut at = self.leading.len();
        let mut e = Entry::new(Cow::Borrowed(""));
        let mut pending = Pending::default();
        let last = self.steps.len().saturating_sub(1);
        for (k, step) in self.steps.iter().enumerate() {
            let end = field_end(b, at, step, k == last)?;
            let value = line.get(at..end).ok_or("a field ends inside a character")?;
            let span = (at, end);
            at = end + step.after.needle().len();
            if value == "-" && !matches!(step.field, Field::Request) {
                continue;
            }
            store(step.field, value, span, &mut e, &mut pending, clock)?;
        }
        if !pending.has_request {
            return Err("no request in the line");
        }
        self.settle(line, &mut e, &pending);
        Ok(e)
    }

    /// What is decided once every field is read: HAProxy's duration and `backend/server`,
    /// and how the request ended (HAProxy's termination state, else the status).
    #[inline]
    fn settle<'a>(&self, line: &'a str, e: &mut Entry<'a>, pending: &Pending<'a>) {
        if self.kind == PlanKind::Haproxy {
            e.duration_ms = pending.total.or(pending.session);
            e.upstream = haproxy_upstream(line, pending.backend, pending.server);
        }
        let state = pending.state;
        e.ending = match state.and_then(|s| s.bytes().next()) {
            Some(b'C') => Ending::ClientClosed,
            Some(b'c') => Ending::ClientTimeout,
            Some(b'S') => Ending::ServerFailed,
            Some(b's') => Ending::ServerTimeout,
            _ => ending_for_status(e.status),
        };
        if let Some(s) = state.filter(|s| !s.starts_with('-')) {
            e.detail = Some(Cow::Borrowed(s));
        } else if e.ending != Ending::Complete {
            e.detail = e.status.map(|s| Cow::Owned(s.to_string()));
        }
    }
}

/// A format's text cut into the literal before the first field and each field with the
/// literal after it.
type Split = (Vec<u8>, Vec<(Field, Vec<u8>)>);

/// One piece of a format: a literal byte or a variable.
enum Token {
    Literal(u8),
    Variable(Field),
}

/// Cuts `text` into its leading literal and (field, literal after it) steps.
fn split_format(kind: PlanKind, text: &str) -> Result<Split, PlanError> {
    let mut leading = Vec::new();
    let mut steps: Vec<(Field, Vec<u8>)> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let (token, next) = match (kind, b[i]) {
            (PlanKind::Nginx, b'$') => nginx_variable(text, i)?,
            (PlanKind::Haproxy, b'%') => haproxy_variable(text, i)?,
            (_, c) => (Token::Literal(c), i + 1),
        };
        match token {
            Token::Variable(field) => steps.push((field, Vec::new())),
            Token::Literal(c) => match steps.last_mut() {
                Some((_, after)) => after.push(c),
                None => leading.push(c),
            },
        }
        i = next;
    }
    Ok((leading, steps))
}

/// The nginx variable whose `$` is at byte `i` (`$name` or `${name}`), and where the text
/// after it starts.
fn nginx_variable(text: &str, i: usize) -> Result<(Token, usize), PlanError> {
    let b = text.as_bytes();
    let (name, next) = if b.get(i + 1) == Some(&b'{') {
        let Some(end) = text[i + 2..].find('}') else {
            return Err(PlanError(format!(
                "`${{` at byte {} of the log format is not closed",
                i + 1
            )));
        };
        (&text[i + 2..i + 2 + end], i + 3 + end)
    } else {
        let len = b[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        (&text[i + 1..i + 1 + len], i + 1 + len)
    };
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err(PlanError(format!(
            "`$` at byte {} of the log format is not followed by a variable name",
            i + 1
        )));
    }
    Ok((Token::Variable(nginx_field(name)), next))
}

/// The HAProxy token whose `%` is at byte `i` (`%%`, `%name`, `%{flags}name`, `%[sample]`),
/// and where the text after it starts.
fn haproxy_variable(text: &str, i: usize) -> Result<(Token, usize), PlanError> {
    let b = text.as_bytes();
    if b.get(i + 1) == Some(&b'%') {
        return Ok((Token::Literal(b'%'), i + 2));
    }
    let mut j = i + 1;
    // `%{+Q,+X}name`: flags first.
    if b.get(j) == Some(&b'{') {
        let Some(end) = text[j..].find('}') else {
            return Err(PlanError(format!(
                "`%{{` at byte {} of the log format is not closed",
                i + 1
            )));
        };
        j += end + 1;
    }
    if b.get(j) == Some(&b'[') {
        // A sample expression: its value is skipped.
        let Some(end) = text[j..].find(']') else {
            return Err(PlanError(format!(
                "`%[` at byte {} of the log format is not closed",
                i + 1
            )));
        };
        return Ok((Token::Variable(Field::Skip), j + end + 1));
    }
    let len = b[j..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    if len == 0 {
        return Err(PlanError(format!(
            "`%` at byte {} of the log format is not followed by a variable name",
            i + 1
        )));
    }
    Ok((Token::Variable(haproxy_field(&text[j..j + len])), j + len))
}

/// What a line holds that is settled only after its last field: whether a request was
/// read, HAProxy's backend and server spans, its timers and termination state.
#[derive(Default)]
struct Pending<'a> {
    has_request: bool,
    backend: Option<(usize, usize)>,
    server: Option<(usize, usize)>,
    total: Option<f64>,
    session: Option<f64>,
    state: Option<&'a str>,
}

/// Where the value that starts at `at` ends: at the literal after it, at the next space
/// when two fields touch, or at the end of the line for the last field.
#[inline]
fn field_end(b: &[u8], at: usize, step: &Step, is_last: bool) -> Result<usize, &'static str> {
    let lit = step.after.needle();
    // A value in quotes the format did not write (HAProxy's `%{+Q}r`) may hold the
    // literal that follows it: look for the literal after the closing quote.
    let from = if b.get(at) == Some(&b'"') && !lit.starts_with(b"\"") {
        (closing_quote(b, at + 1) + 1).min(b.len())
    } else {
        at
    };
    if lit.is_empty() {
        Ok(if is_last {
            b.len()
        } else {
            memchr::memchr(b' ', &b[from..]).map_or(b.len(), |p| from + p)
        })
    } else {
        step.after
            .find(&b[from..])
            .map(|p| from + p)
            .ok_or("a literal of the format is missing from the line")
    }
}

/// Puts one field's value (`span` is where it sits in the line) into the entry, or into
/// `pending` when it is settled after the last field.
#[inline]
fn store<'a>(
    field: Field,
    value: &'a str,
    span: (usize, usize),
    e: &mut Entry<'a>,
    pending: &mut Pending<'a>,
    clock: &mut TimeCache,
) -> Result<(), &'static str> {
    match field {
        Field::Skip => {}
        Field::Client => e.client = Some(Cow::Borrowed(value)),
        // As parse_clf_time_zone reads it, the day and zone parsed once.
        Field::ClfTime => e.time = clock.clf(value),
        Field::Iso8601 => e.time = parse_rfc3339(value),
        Field::EpochSeconds => {
            e.time = value
                .split('.')
                .next()
                .and_then(parse_u64)
                .and_then(|s| i64::try_from(s).ok())
        }
        Field::Request => {
            let (method, path) = split_request(value.trim_matches('"'));
            e.method = method.map(Cow::Borrowed);
            e.path = Cow::Borrowed(path);
            pending.has_request = true;
        }
        Field::Method => e.method = Some(Cow::Borrowed(value)),
        Field::Target => {
            if !pending.has_request {
                let t = value.trim_matches('"');
                e.path =
                    Cow::Borrowed(memchr::memchr2(b'?', b'#', t.as_bytes()).map_or(t, |i| &t[..i]));
                pending.has_request = true;
            }
        }
        Field::Status => {
            let v = value.trim_start_matches('+');
            if v != "-1" {
                e.status = Some(
                    parse_u64(v)
                        .and_then(|s| u16::try_from(s).ok())
                        .filter(|s| (100..1000).contains(s))
                        .ok_or("status is not a number")?,
                );
            }
        }
        Field::Bytes => {
            e.bytes =
                Some(parse_u64(value.trim_start_matches('+')).ok_or("byte count is not a number")?)
        }
        Field::Seconds => e.duration_ms = seconds_ms(value),
        Field::UpstreamAddr => {
            e.upstream = last_address(value).map(Cow::Borrowed);
            e.upstream_tries = Some(Cow::Borrowed(value));
        }
        Field::UpstreamStatus => e.upstream_statuses = Some(Cow::Borrowed(value)),
        Field::UpstreamConnect => e.upstream_connect = Some(Cow::Borrowed(value)),
        Field::UpstreamHeader => e.upstream_header = Some(Cow::Borrowed(value)),
        Field::UpstreamSeconds => {
            e.upstream_ms = seconds_ms(value);
            e.upstream_times = Some(Cow::Borrowed(value));
        }
        Field::TlsProtocol => e.tls_protocol = Some(Cow::Borrowed(value)),
        Field::TlsCipher => e.tls_cipher = Some(Cow::Borrowed(value)),
        Field::Backend => pending.backend = Some(span),
        Field::Server => pending.server = Some(span),
        Field::TotalMs => pending.total = haproxy_ms(value)?,
        Field::SessionMs => pending.session = haproxy_ms(value)?,
        Field::ServerMs => e.upstream_ms = haproxy_ms(value)?,
        Field::TerminationState => pending.state = Some(value),
    }
    Ok(())
}

/// `backend/server` as HAProxy's own httplog writes it: one slice of the line when the two
/// are adjacent, else joined.
#[inline]
fn haproxy_upstream<'a>(
    line: &'a str,
    backend: Option<(usize, usize)>,
    server: Option<(usize, usize)>,
) -> Option<Cow<'a, str>> {
    match (backend, server) {
        (Some((b0, b1)), Some((s0, s1))) if line.get(b1..s0) == Some("/") => {
            Some(Cow::Borrowed(&line[b0..s1]))
        }
        (Some((b0, b1)), Some((s0, s1))) => {
            Some(Cow::Owned(format!("{}/{}", &line[b0..b1], &line[s0..s1])))
        }
        (Some((b0, b1)), None) => Some(Cow::Borrowed(&line[b0..b1])),
        (None, Some((s0, s1))) => Some(Cow::Borrowed(&line[s0..s1])),
        (None, None) => None,
    }
}

/// An HAProxy timer: milliseconds, `-1` when the step was not reached.
fn haproxy_ms(v: &str) -> Result<Option<f64>, &'static str> {
    let v = v.trim_start_matches('+');
    if v.starts_with('-') {
        return Ok(None);
    }
    parse_u64(v)
        .map(|ms| Some(ms as f64))
        .ok_or("a timer is not a number")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nginx(f: &str) -> FieldPlan {
        FieldPlan::compile(PlanKind::Nginx, f).expect("compiles")
    }

    #[test]
    fn an_nginx_format_with_upstream_lists_and_tls() {
        let plan = nginx(
            r#"'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
               '"$http_referer" "$http_user_agent" $request_time $ssl_protocol/$ssl_cipher '
               'up=[$upstream_addr] ust=[$upstream_status] uct=$upstream_connect_time urt=$upstream_response_time'"#,
        );
        let line = r#"192.0.2.7 - - [30/Nov/2026:23:00:00 +0100] "GET /static/a.js?v=1 HTTP/2.0" 200 512 "-" "Mozilla/5.0 (X11) Firefox/1" 1.500 TLSv1.3/TLS_AES_256_GCM_SHA384 up=[10.0.0.2:80, 10.0.0.1:80] ust=[502, 200] uct=0.003, 0.001 urt=1.000, 0.400"#;
        let e = plan.parse(line).expect("parses");
        assert_eq!(e.path, "/static/a.js");
        assert_eq!(e.method.as_deref(), Some("GET"));
        assert_eq!(e.status, Some(200));
        assert_eq!(e.bytes, Some(512));
        assert_eq!(e.duration_ms, Some(1500.0));
        assert_eq!(e.upstream.as_deref(), Some("10.0.0.1:80"));
        assert_eq!(e.upstream_ms, Some(400.0));
        assert_eq!(
            e.upstream_tries.as_deref(),
            Some("10.0.0.2:80, 10.0.0.1:80")
        );
        assert_eq!(e.upstream_connect.as_deref(), Some("0.003, 0.001"));
        assert_eq!(e.tls_protocol.as_deref(), Some("TLSv1.3"));
        assert_eq!(e.tls_cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
        assert_eq!(e.time, Some(1_796_076_000));
        assert!(plan.parse("something else").is_err());
    }

    #[test]
    fn an_haproxy_format_reads_the_httplog_fields() {
        let plan = FieldPlan::compile(
            PlanKind::Haproxy,
            r#""%ci:%cp\ [%tr]\ %ft\ %b/%s\ %TR/%Tw/%Tc/%Tr/%Ta\ %ST\ %B\ %tsc\ %{+Q}r""#,
        )
        .expect("compiles");
        let line = r#"<134>Nov 30 23:00:00 haproxy[7]: 127.0.0.1:5000 [30/Nov/2026:23:00:00.123] web static/srv4 0/0/1/-1/3001 504 194 sH-- "GET /static/x.css HTTP/1.1""#;
        let e = plan.parse(line).expect("parses");
        assert_eq!(e.upstream.as_deref(), Some("static/srv4"));
        assert_eq!(e.ending, Ending::ServerTimeout);
        assert_eq!(e.detail.as_deref(), Some("sH--"));
        assert_eq!(e.duration_ms, Some(3001.0));
        assert_eq!(e.upstream_ms, None);
        assert_eq!(e.path, "/static/x.css");
        assert_eq!(e.status, Some(504));

        let plan = FieldPlan::compile(PlanKind::Haproxy, "%ST %{+Q}r %ci").expect("compiles");
        let e = plan
            .parse(r#"200 "GET /a b.css HTTP/1.1" 192.0.2.1"#)
            .expect("parses");
        assert_eq!(
            (e.path.as_ref(), e.client.as_deref()),
            ("/a", Some("192.0.2.1"))
        );
    }

    #[test]
    fn malformed_formats_are_one_clear_line() {
        for (kind, f, says) in [
            (PlanKind::Nginx, "", "empty"),
            (
                PlanKind::Nginx,
                "$remote_addr $",
                "not followed by a variable name",
            ),
            (PlanKind::Nginx, "${request", "not closed"),
            (PlanKind::Nginx, "$remote_addr $status", "no request"),
            (
                PlanKind::Haproxy,
                "%ci %",
                "not followed by a variable name",
            ),
            (PlanKind::Haproxy, "%{+Q r", "not closed"),
        ] {
            let e = FieldPlan::compile(kind, f).expect_err(f).to_string();
            assert!(e.contains(says) && !e.contains('\n'), "{f}: {e}");
        }
        assert!(FieldPlan::from_arg("combined").is_none());
        assert!(FieldPlan::from_arg("nginx:$request").is_some_and(|p| p.is_ok()));
    }

    #[test]
    fn unknown_variables_are_stepped_over() {
        let plan = nginx("$host $remote_addr $request_id \"$request\" $status $whatever");
        let e = plan
            .parse(r#"a.example 192.0.2.1 abc "GET /x.css HTTP/1.1" 200 anything at all"#)
            .expect("parses");
        assert_eq!((e.path.as_ref(), e.status), ("/x.css", Some(200)));
    }
}
