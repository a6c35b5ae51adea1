//! JSON log records: one object per line, or one element of an exported document's records.
//!
//! A record is read into typed fields — the few interloper uses — never into a generic
//! `serde_json::Value`: every other field is skipped as it is read, so a record costs its known
//! fields whatever else it carries. Reading is lenient: a field of an unexpected type is
//! remembered as such (and ignored, as a `Value` lookup would ignore it), so only malformed JSON
//! fails, never a record's shape.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::marker::PhantomData;
use std::sync::OnceLock;

use foldhash::fast::RandomState;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::entry::{Ending, Entry};
use crate::fields::{
    ending_for_status, last_address, parse_clf_time, parse_rfc3339, seconds_ms, split_request,
    zone_seconds,
};

macro_rules! keys {
    ($($key:ident = $name:literal),* $(,)?) => {
        /// The fields read from a JSON record (Avi's names and nginx's variable names).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Key { $($key),* }

        impl Key {
            const ALL: &'static [Key] = &[$(Key::$key),*];

            fn name(self) -> &'static str {
                match self { $(Key::$key => $name),* }
            }

            /// One hash lookup: a record has dozens of fields, and a `match` over every name
            /// compared them one by one.
            fn from_name(name: &str) -> Option<Key> {
                static BY_NAME: OnceLock<HashMap<&'static str, Key, RandomState>> = OnceLock::new();
                BY_NAME
                    .get_or_init(|| Key::ALL.iter().map(|k| (k.name(), *k)).collect())
                    .get(name)
                    .copied()
            }
        }
    };
}

keys! {
    UriPath = "uri_path",
    Method = "method",
    ResponseCode = "response_code",
    ResponseLength = "response_length",
    TotalTime = "total_time",
    ServerResponseTimeFirstByte = "server_response_time_first_byte",
    ServerResponseTimeLastByte = "server_response_time_last_byte",
    ServerName = "server_name",
    ServerIp = "server_ip",
    ServerDestPort = "server_dest_port",
    ClientIp = "client_ip",
    ReportTimestamp = "report_timestamp",
    AtTimestamp = "@timestamp",
    StartTimestamp = "start_timestamp",
    SignificantLog = "significant_log",
    RequestUri = "request_uri",
    Uri = "uri",
    Path = "path",
    RequestMethod = "request_method",
    Request = "request",
    Status = "status",
    StatusCode = "status_code",
    RemoteAddr = "remote_addr",
    Client = "client",
    BodyBytesSent = "body_bytes_sent",
    BytesSent = "bytes_sent",
    RequestTime = "request_time",
    UpstreamResponseTime = "upstream_response_time",
    UpstreamAddr = "upstream_addr",
    Upstream = "upstream",
    UpstreamStatus = "upstream_status",
    UpstreamConnectTime = "upstream_connect_time",
    UpstreamHeaderTime = "upstream_header_time",
    SslProtocol = "ssl_protocol",
    SslCipher = "ssl_cipher",
    TimeIso8601 = "time_iso8601",
    Time = "time",
    TimeLocal = "time_local",
}

const KEY_COUNT: usize = Key::ALL.len();

/// Words of `significant_log` kept to show in an example (all of them are evaluated).
const SIGNS_SHOWN: usize = 8;
/// A `significant_log` word longer than this is not one of Avi's and is not shown.
const SIGN_CHARS: usize = 64;

/// One field's value: what interloper reads, or that it was something else. A string without
/// escapes borrows from the line it was read from: a record costs no allocation.
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'a> {
    Str(Cow<'a, str>),
    UInt(u64),
    Int(i64),
    Float(f64),
    /// `null`, a boolean, a list or an object: present, but never read.
    Other,
}

impl Scalar<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::UInt(n) => Some(*n as f64),
            Scalar::Int(n) => Some(*n as f64),
            Scalar::Float(n) => Some(*n),
            _ => None,
        }
    }
}

struct ScalarVisitor<'a>(PhantomData<&'a ()>);

impl<'a> ScalarVisitor<'a> {
    fn new() -> ScalarVisitor<'a> {
        ScalarVisitor(PhantomData)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
    type Value = Scalar<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'a>, E> {
        Ok(Scalar::UInt(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Other)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar<'a>, D::Error> {
        d.deserialize_any(ScalarVisitor::new())
    }
}

/// Avi's `significant_log`, evaluated word by word as it is read.
#[derive(Debug, Clone, Default, PartialEq)]
struct Signs {
    /// The first word that says how the request ended, and that ending.
    ending: Option<(Ending, String)>,
    /// A word about retransmissions or a stuck window.
    network_trouble: bool,
    /// The first few words, for an example.
    shown: Vec<String>,
}

/// How a `significant_log` word says the request ended, if it does.
fn sign_ending(word: &str) -> Option<Ending> {
    match word {
        "ADF_CLIENT_CONN_ABORTED"
        | "ADF_CLIENT_SENT_RESET"
        | "ADF_DOS_CLIENT_CLOSED_REQUEST"
        | "ADF_HTTP2_CLIENT_PREMATURELY_CLOSED_STREAM"
        | "ADF_HTTP2_CLIENT_PREMATURELY_CLOSED_CONNECTION" => Some(Ending::ClientClosed),
        "ADF_CLIENT_CONN_TIMEDOUT"
        | "ADF_CLIENT_REQUEST_TIMEOUT"
        | "ADF_HTTP_REQUEST_TIMEOUT_WAITING_FOR_CLIENT"
        | "ADF_HTTP2_CLIENT_TIMEDOUT" => Some(Ending::ClientTimeout),
        "ADF_SERVER_CONN_TIMEDOUT"
        | "ADF_SERVER_CONN_SETUP_TIMEDOUT"
        | "ADF_SERVER_UPSTREAM_TIMEOUT"
        | "ADF_SERVER_UNANSWERED_SYNS" => Some(Ending::ServerTimeout),
        "ADF_SERVER_SENT_RESET"
        | "ADF_SERVER_CONN_SETUP_REFUSED"
        | "ADF_SERVER_UPSTREAM_READ_ERROR"
        | "ADF_SERVER_SIDE_SSL_HANDSHAKE_FAILED" => Some(Ending::ServerFailed),
        _ => None,
    }
}

impl Signs {
    fn add(&mut self, word: String) {
        if self.ending.is_none()
            && let Some(ending) = sign_ending(&word)
        {
            self.ending = Some((ending, word.clone()));
        }
        if word.contains("RETRANSMITS")
            || word.contains("WINDOW_STUCK")
            || word.contains("ZERO_WINDOW")
        {
            self.network_trouble = true;
        }
        if self.shown.len() < SIGNS_SHOWN && word.len() <= SIGN_CHARS {
            self.shown.push(word);
        }
    }
}

struct SignsVisitor;

impl<'de> Visitor<'de> for SignsVisitor {
    type Value = Signs;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Signs, A::Error> {
        let mut signs = Signs::default();
        while let Some(v) = seq.next_element::<Scalar>()? {
            if let Scalar::Str(word) = v {
                signs.add(word.into_owned());
            }
        }
        Ok(signs)
    }

    // Anything but a list carries no words (as a `Value` lookup would find none).
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Signs, A::Error> {
        ScalarVisitor::new()
            .visit_map(map)
            .map(|_| Signs::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Signs, E> {
        Ok(Signs::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Signs, E> {
        Ok(Signs::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Signs, E> {
        Ok(Signs::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Signs, E> {
        Ok(Signs::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Signs, E> {
        Ok(Signs::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Signs, E> {
        Ok(Signs::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Signs, E> {
        Ok(Signs::default())
    }
}

impl<'de> Deserialize<'de> for Signs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Signs, D::Error> {
        d.deserialize_any(SignsVisitor)
    }
}

/// An object key: one of [`Key`], or a field to skip. Read without allocating.
struct FieldName(Option<Key>);

struct FieldNameVisitor;

impl Visitor<'_> for FieldNameVisitor {
    type Value = FieldName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldName, E> {
        Ok(FieldName(Key::from_name(v)))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<FieldName, E> {
        Ok(FieldName(
            std::str::from_utf8(v).ok().and_then(Key::from_name),
        ))
    }
}

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FieldName, D::Error> {
        d.deserialize_identifier(FieldNameVisitor)
    }
}

/// One JSON log record, typed: the fields interloper reads, nothing else.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonRecord<'a> {
    /// Whether the record was an object at all.
    object: bool,
    /// Each known field present, by [`Key`] (a later duplicate replaces an earlier one, as in
    /// a `Value` map). `significant_log` is in `signs` instead.
    fields: [Option<Scalar<'a>>; KEY_COUNT],
    /// `significant_log`, when present (whatever its type).
    signs: Option<Signs>,
}

impl Default for JsonRecord<'_> {
    fn default() -> Self {
        JsonRecord {
            object: false,
            fields: std::array::from_fn(|_| None),
            signs: None,
        }
    }
}

struct RecordVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for RecordVisitor<'a> {
    type Value = JsonRecord<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a log record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonRecord<'a>, A::Error> {
        let mut r = JsonRecord {
            object: true,
            ..JsonRecord::default()
        };
        while let Some(FieldName(key)) = map.next_key()? {
            match key {
                Some(Key::SignificantLog) => r.signs = Some(map.next_value()?),
                Some(k) => r.fields[k as usize] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }

    // Not an object: read past it and say so when asked for an entry.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<JsonRecord<'a>, A::Error> {
        ScalarVisitor::new()
            .visit_seq(seq)
            .map(|_| JsonRecord::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<JsonRecord<'a>, E> {
        Ok(JsonRecord::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<JsonRecord<'a>, E> {
        Ok(JsonRecord::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<JsonRecord<'a>, E> {
        Ok(JsonRecord::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<JsonRecord<'a>, E> {
        Ok(JsonRecord::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<JsonRecord<'a>, E> {
        Ok(JsonRecord::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<JsonRecord<'a>, E> {
        Ok(JsonRecord::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<JsonRecord<'a>, E> {
        Ok(JsonRecord::default())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonRecord<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonRecord<'a>, D::Error> {
        d.deserialize_any(RecordVisitor(PhantomData))
    }
}

impl JsonRecord<'_> {
    fn get(&self, key: Key) -> Option<&Scalar<'_>> {
        self.fields[key as usize].as_ref()
    }

    /// The first of `keys` holding a string, unless that string is empty or `-`.
    fn str_of(&self, keys: &[Key]) -> Option<&str> {
        keys.iter()
            .find_map(|k| self.get(*k).and_then(Scalar::as_str))
            .filter(|s| !s.is_empty() && *s != "-")
    }

    /// The first of `keys` holding a number, or a string holding one (nginx's JSON logs quote
    /// everything).
    fn f64_of(&self, keys: &[Key]) -> Option<f64> {
        keys.iter().find_map(|k| match self.get(*k)? {
            Scalar::Str(s) => s.trim().parse().ok(),
            v => v.as_f64(),
        })
    }

    /// An address as Avi logs it: a string, or an IPv4 address as a number.
    fn address(&self, key: Key) -> Option<Cow<'_, str>> {
        match self.get(key)? {
            Scalar::Str(s) if !s.is_empty() => Some(Cow::Borrowed(s)),
            Scalar::UInt(n) => u32::try_from(*n)
                .ok()
                .map(|n| Cow::Owned(std::net::Ipv4Addr::from(n).to_string())),
            _ => None,
        }
    }

    /// The request this record logs. The error says, in a few words, why it is not one.
    pub(crate) fn entry(&self) -> Result<Entry<'_>, &'static str> {
        if !self.object {
            return Err("not a JSON object");
        }
        if self.get(Key::UriPath).is_some() || self.signs.is_some() {
            self.avi_entry()
        } else {
            self.nginx_entry()
        }
    }

    fn avi_entry(&self) -> Result<Entry<'_>, &'static str> {
        let path = self.str_of(&[Key::UriPath]).ok_or("no uri_path")?;
        let mut e = Entry::new(Cow::Borrowed(path));
        e.client = self.address(Key::ClientIp);
        e.method = self.str_of(&[Key::Method]).map(Cow::Borrowed);
        e.status = self
            .f64_of(&[Key::ResponseCode])
            .and_then(|s| u16::try_from(s as i64).ok())
            .filter(|s| (100..1000).contains(s));
        e.bytes = self
            .f64_of(&[Key::ResponseLength])
            .map(|b| b.max(0.0) as u64);
        e.duration_ms = self.f64_of(&[Key::TotalTime]).filter(|v| *v >= 0.0);
        e.upstream_ms = self
            .f64_of(&[
                Key::ServerResponseTimeLastByte,
                Key::ServerResponseTimeFirstByte,
            ])
            .filter(|v| *v >= 0.0);
        let server = self
            .str_of(&[Key::ServerName])
            .map(Cow::Borrowed)
            .or_else(|| self.address(Key::ServerIp));
        e.upstream = server.map(|s| match self.f64_of(&[Key::ServerDestPort]) {
            Some(p) if !s.contains(':') => Cow::Owned(format!("{s}:{}", p as u64)),
            _ => s,
        });
        e.time = self
            .str_of(&[Key::ReportTimestamp, Key::AtTimestamp, Key::StartTimestamp])
            .and_then(parse_rfc3339);
        e.ending = ending_for_status(e.status);
        if let Some(signs) = &self.signs {
            // The status's own ending stands; a word only explains a complete-looking one.
            if let Some((ending, word)) = &signs.ending
                && e.ending == Ending::Complete
            {
                e.ending = *ending;
                e.detail = Some(Cow::Borrowed(word));
            }
            e.network_trouble = signs.network_trouble;
        }
        if e.ending != Ending::Complete && e.detail.is_none() {
            e.detail = e.status.map(|s| Cow::Owned(s.to_string()));
        }
        Ok(e)
    }

    fn nginx_entry(&self) -> Result<Entry<'_>, &'static str> {
        let (method, path) = if let Some(uri) = self.str_of(&[Key::RequestUri, Key::Uri, Key::Path])
        {
            (
                self.str_of(&[Key::RequestMethod, Key::Method]),
                uri.split(['?', '#']).next().unwrap_or(uri),
            )
        } else if let Some(r) = self.str_of(&[Key::Request]) {
            split_request(r)
        } else {
            return Err("no request_uri, uri or request");
        };
        let status = self
            .f64_of(&[Key::Status, Key::ResponseCode, Key::StatusCode])
            .and_then(|s| u16::try_from(s as i64).ok())
            .filter(|s| (100..1000).contains(s))
            .ok_or("no status")?;
        let mut e = Entry::new(Cow::Borrowed(path));
        e.method = method.map(Cow::Borrowed);
        e.status = Some(status);
        e.client = self
            .str_of(&[Key::RemoteAddr, Key::ClientIp, Key::Client])
            .map(Cow::Borrowed);
        e.bytes = self
            .f64_of(&[Key::BodyBytesSent, Key::BytesSent])
            .map(|b| b.max(0.0) as u64);
        e.duration_ms = self.seconds(Key::RequestTime);
        e.upstream_ms = self.seconds(Key::UpstreamResponseTime);
        e.upstream = self
            .str_of(&[Key::UpstreamAddr, Key::Upstream])
            .and_then(last_address)
            .map(Cow::Borrowed);
        // The per-try lists, as nginx writes them into a string.
        let listed = |key: Key| {
            self.str_of(&[key])
                .filter(|v| !v.is_empty() && *v != "-")
                .map(Cow::Borrowed)
        };
        e.upstream_tries = listed(Key::UpstreamAddr);
        e.upstream_statuses = listed(Key::UpstreamStatus);
        e.upstream_connect = listed(Key::UpstreamConnectTime);
        e.upstream_header = listed(Key::UpstreamHeaderTime);
        e.upstream_times = listed(Key::UpstreamResponseTime);
        e.tls_protocol = listed(Key::SslProtocol);
        e.tls_cipher = listed(Key::SslCipher);
        e.time = self
            .str_of(&[Key::TimeIso8601, Key::AtTimestamp, Key::Time])
            .and_then(parse_rfc3339)
            .or_else(|| {
                self.str_of(&[Key::TimeLocal])
                    .and_then(|t| match t.split_once(' ') {
                        Some((d, z)) => parse_clf_time(d).map(|s| s - zone_seconds(z).unwrap_or(0)),
                        None => parse_clf_time(t),
                    })
            });
        e.ending = ending_for_status(e.status);
        if e.ending != Ending::Complete {
            e.detail = Some(Cow::Owned(status.to_string()));
        }
        Ok(e)
    }

    /// nginx seconds (`"0.123"`, a retry list, or a bare number) → milliseconds.
    fn seconds(&self, key: Key) -> Option<f64> {
        self.str_of(&[key])
            .and_then(seconds_ms)
            .or_else(|| self.f64_of(&[key]).map(|s| s * 1000.0))
    }

    /// The fields read, as one compact JSON object: what an example shows of a record that
    /// has no line of its own.
    pub(crate) fn example_text(&self) -> String {
        let mut out = String::from("{");
        let field = |out: &mut String, name: &str| {
            if out.len() > 1 {
                out.push(',');
            }
            push_json_str(out, name);
            out.push(':');
        };
        for k in Key::ALL {
            let Some(v) = self.get(*k) else { continue };
            match v {
                Scalar::Str(s) => {
                    field(&mut out, k.name());
                    push_json_str(&mut out, s);
                }
                Scalar::UInt(n) => {
                    field(&mut out, k.name());
                    let _ = write!(out, "{n}");
                }
                Scalar::Int(n) => {
                    field(&mut out, k.name());
                    let _ = write!(out, "{n}");
                }
                Scalar::Float(n) => {
                    field(&mut out, k.name());
                    let _ = write!(out, "{n}");
                }
                Scalar::Other => {}
            }
        }
        if let Some(signs) = &self.signs {
            field(&mut out, Key::SignificantLog.name());
            out.push('[');
            for (i, w) in signs.shown.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_str(&mut out, w);
            }
            out.push(']');
        }
        out.push('}');
        out
    }
}

fn push_json_str(out: &mut String, s: &str) {
    // Serialising a str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str) -> JsonRecord<'_> {
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn fields_of_any_type_are_read_leniently() {
        let r = record(
            r#"{"uri_path":"/static/a.css","response_code":"200","total_time":{"x":[1,2]},"server_ip":167772163,"server_dest_port":80,"other":[[[]]],"significant_log":"ADF_CLIENT_CONN_ABORTED"}"#,
        );
        let e = r.entry().expect("an Avi record");
        assert_eq!(e.status, Some(200));
        assert_eq!(e.duration_ms, None);
        assert_eq!(e.upstream.as_deref(), Some("10.0.0.3:80"));
        // A significant_log that is not a list says nothing.
        assert_eq!(e.ending, Ending::Complete);
        assert_eq!(record("[1, {\"a\": 2}]").entry(), Err("not a JSON object"));
        assert_eq!(record("\"x\"").entry(), Err("not a JSON object"));
    }

    #[test]
    fn a_later_duplicate_replaces_an_earlier_field() {
        let r = record(r#"{"uri_path":"/a.css","uri_path":"/b.css"}"#);
        assert_eq!(r.entry().expect("parses").path, "/b.css");
    }

    #[test]
    fn the_first_ending_word_explains_a_complete_status_only() {
        let words = r#"["ADF_CLIENT_HIGH_TIMEOUT_RETRANSMITS","ADF_SERVER_SENT_RESET","ADF_CLIENT_CONN_ABORTED"]"#;
        let text =
            format!(r#"{{"uri_path":"/a.js","response_code":200,"significant_log":{words}}}"#);
        let r = record(&text);
        let e = r.entry().expect("parses");
        assert_eq!(e.ending, Ending::ServerFailed);
        assert_eq!(e.detail.as_deref(), Some("ADF_SERVER_SENT_RESET"));
        assert!(e.network_trouble);
        let text =
            format!(r#"{{"uri_path":"/a.js","response_code":504,"significant_log":{words}}}"#);
        let r = record(&text);
        let e = r.entry().expect("parses");
        assert_eq!(e.ending, Ending::ServerTimeout);
        assert_eq!(e.detail.as_deref(), Some("504"));
    }

    #[test]
    fn an_example_shows_the_fields_read() {
        let r = record(
            r#"{"uri_path":"/a \"b\".js","x":1,"response_code":499,"total_time":12.5,"significant_log":["A",1,"B"],"client_ip":null}"#,
        );
        assert_eq!(
            r.example_text(),
            r#"{"uri_path":"/a \"b\".js","response_code":499,"total_time":12.5,"significant_log":["A","B"]}"#
        );
    }
}
