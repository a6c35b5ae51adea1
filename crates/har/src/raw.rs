//! The parts of a HAR entry the findings need, as the writers spell them. Everything else
//! (bodies, cookies, request headers, query strings) is skipped by serde without being kept.
//!
//! Numbers are read leniently ([`Num`]): writers put `-1`, `null`, floats where integers
//! belong, and occasionally strings; none of that is fatal.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use std::fmt;

/// Longest URL kept (bytes); longer ones are cut at a character boundary.
pub(crate) const MAX_URL: usize = 8 * 1024;
/// Longest header value or free-text field kept (bytes).
pub(crate) const MAX_TEXT: usize = 1024;
/// Response headers looked at per entry (the rest skipped, `truncated`).
pub(crate) const MAX_HEADERS: usize = 64;

/// A number that may be absent, `null`, `-1`, a float, or a numeric string.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Num(pub(crate) Option<f64>);

impl Num {
    /// The value when it is finite and not negative (HAR's `-1` means "absent").
    pub(crate) fn present(self) -> Option<f64> {
        self.0.filter(|v| v.is_finite() && *v >= 0.0)
    }

    /// As a byte count.
    pub(crate) fn bytes(self) -> Option<u64> {
        self.present().map(|v| v.min(u64::MAX as f64) as u64)
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(Some(v as f64)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Some(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num(Some(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Num, E> {
                Ok(Num(v.trim().parse().ok()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_unit<E>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_none<E>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Num, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Num, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Num(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Num, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Num(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value read as `T` when it is an object, and as `T::default()` when it is anything else
/// (`null`, a number, a list): one odd field never costs the rest of the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Lenient<T>(pub(crate) T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Lenient<T>, D::Error> {
        Obj::<T>::deserialize(d).map(|o| Lenient(o.0.unwrap_or_default()))
    }
}

/// `Some(T)` when the value is an object, `None` when it is anything else.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Obj<T>(pub(crate) Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj<T>, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, a: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(a)).map(|v| Obj(Some(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Obj<T>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Obj(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_unit<E>(self) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_none<E>(self) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Obj<T>, D::Error> {
                d.deserialize_any(V(std::marker::PhantomData))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Text cut to `N` bytes; a non-string value (a number, `null`, an object) reads as empty or
/// as its number, never as an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Text<const N: usize>(pub(crate) String);

impl<const N: usize> Text<N> {
    pub(crate) fn non_empty(&self) -> Option<&str> {
        let t = self.0.trim();
        (!t.is_empty()).then_some(t)
    }
}

pub(crate) fn cut(s: &str, max: usize) -> String {
    interloper_model::text::cut_bytes(s, max).to_string()
}

impl<'de, const N: usize> Deserialize<'de> for Text<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text<N>, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = Text<N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<N>, E> {
                Ok(Text(cut(v, N)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Text<N>, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Text<N>, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Text<N>, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Text<N>, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Text<N>, E> {
                Ok(Text(String::new()))
            }
            fn visit_none<E>(self) -> Result<Text<N>, E> {
                Ok(Text(String::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text<N>, D::Error> {
                d.deserialize_any(V::<N>)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Text<N>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(String::new()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Text<N>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(String::new()))
            }
        }
        d.deserialize_any(V::<N>)
    }
}

/// A flag that may be `true`, `"true"`, `1`, or anything else (false).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Flag(pub(crate) bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flag, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a flag")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Flag, E> {
                Ok(Flag(v != 0.0))
            }
            fn visit_str<E>(self, v: &str) -> Result<Flag, E> {
                Ok(Flag(v.trim().eq_ignore_ascii_case("true")))
            }
            fn visit_unit<E>(self) -> Result<Flag, E> {
                Ok(Flag(false))
            }
            fn visit_none<E>(self) -> Result<Flag, E> {
                Ok(Flag(false))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Flag, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Flag, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Flag(false))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Flag, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Flag(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether a key was written at all, whatever its value (`null` included): Firefox writes
/// `cache.afterRequest: null` for a cache hit it has no entry details of.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Present(pub(crate) bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Present, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// Response headers kept (names lower-cased): those the analysis reads, the asset's type (the
/// report classes assets by it), its length and its encoding. The others are read past, so a
/// big HAR's entries stay small in memory.
pub(crate) const HEADERS_KEPT: [&str; 3] = ["content-type", "content-length", "content-encoding"];

/// A header list: of its first [`MAX_HEADERS`], those in [`HEADERS_KEPT`] (names lower-cased);
/// `truncated` when the list had more.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Headers {
    pub(crate) kept: Vec<(String, String)>,
    pub(crate) truncated: bool,
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    name: Text<MAX_TEXT>,
    #[serde(default)]
    value: Text<MAX_TEXT>,
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Headers, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of headers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Headers, A::Error> {
                let mut h = Headers::default();
                let mut seen = 0usize;
                while let Some(x) = a.next_element::<Option<Header>>()? {
                    let Some(x) = x else { continue };
                    seen += 1;
                    if seen > MAX_HEADERS {
                        h.truncated = true;
                        continue;
                    }
                    // Compared in place: no lower-cased copy of a name that is not kept.
                    if let Some(name) = HEADERS_KEPT
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(&x.name.0))
                    {
                        h.kept.push((name.to_string(), x.value.0));
                    }
                }
                Ok(h)
            }
            fn visit_unit<E>(self) -> Result<Headers, E> {
                Ok(Headers::default())
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Headers, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Headers::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// One `log.entries[]` item, reduced.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawEntry {
    #[serde(rename = "startedDateTime")]
    pub(crate) started: Text<64>,
    pub(crate) time: Num,
    pub(crate) request: Lenient<RawRequest>,
    pub(crate) response: Option<Lenient<RawResponse>>,
    pub(crate) timings: Lenient<RawTimings>,
    #[serde(rename = "serverIPAddress")]
    pub(crate) server_ip: Text<64>,
    pub(crate) connection: Text<64>,
    /// Chrome/Edge DevTools since 2023: the socket id (`connection` is then the port).
    #[serde(rename = "_connectionId")]
    pub(crate) connection_id: Text<64>,
    /// HAR 1.2's cache object: Firefox fills it for a response its cache served.
    pub(crate) cache: Lenient<RawCache>,
    pub(crate) pageref: Text<256>,
    /// Chrome/Edge: `"memory"` or `"disk"`.
    #[serde(rename = "_fromCache")]
    pub(crate) from_cache: Text<32>,
    /// Safari/WebKit: `"Network Load"`, `"Memory Cache"`, `"Disk Cache"`, `"Service Worker"`.
    #[serde(rename = "_fetchType")]
    pub(crate) fetch_type: Text<32>,
    /// Chrome/Edge, Playwright: `"script"`, `"stylesheet"`, …
    #[serde(rename = "_resourceType")]
    pub(crate) resource_type: Text<32>,
    /// Playwright: the server's port.
    #[serde(rename = "_serverPort")]
    pub(crate) server_port: Num,
    /// Firefox: `"secure"`, `"insecure"`, `"broken"`, `"weak"`.
    #[serde(rename = "_securityState")]
    pub(crate) security_state: Text<32>,
    /// Charles and Fiddler put a failure here on some versions.
    pub(crate) comment: Text<MAX_TEXT>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawRequest {
    pub(crate) method: Text<16>,
    pub(crate) url: Text<MAX_URL>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawResponse {
    pub(crate) status: Num,
    #[serde(rename = "statusText")]
    pub(crate) status_text: Text<MAX_TEXT>,
    #[serde(rename = "httpVersion")]
    pub(crate) http_version: Text<32>,
    pub(crate) headers: Headers,
    pub(crate) content: Lenient<RawContent>,
    #[serde(rename = "headersSize")]
    pub(crate) headers_size: Num,
    #[serde(rename = "bodySize")]
    pub(crate) body_size: Num,
    /// Chrome/Edge: bytes on the wire, headers included.
    #[serde(rename = "_transferSize")]
    pub(crate) transfer_size: Num,
    /// Chrome/Edge: `net::ERR_…`.
    #[serde(rename = "_error")]
    pub(crate) error: Text<MAX_TEXT>,
    /// Playwright: the failure text of a failed request.
    #[serde(rename = "_failureText")]
    pub(crate) failure_text: Text<MAX_TEXT>,
    /// Chrome/Edge DevTools: a service worker answered.
    #[serde(rename = "_fetchedViaServiceWorker")]
    pub(crate) via_service_worker: Flag,
}

/// `entry.cache`: which of its keys were written.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawCache {
    #[serde(rename = "beforeRequest")]
    pub(crate) before_request: Present,
    #[serde(rename = "afterRequest")]
    pub(crate) after_request: Present,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawContent {
    pub(crate) size: Num,
    pub(crate) compression: Num,
    #[serde(rename = "mimeType")]
    pub(crate) mime_type: Text<128>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawTimings {
    pub(crate) blocked: Num,
    pub(crate) dns: Num,
    pub(crate) connect: Num,
    pub(crate) ssl: Num,
    pub(crate) send: Num,
    pub(crate) wait: Num,
    pub(crate) receive: Num,
    /// Chrome/Edge: the part of `blocked` spent queued behind other requests.
    #[serde(rename = "_blocked_queueing")]
    pub(crate) blocked_queueing: Num,
}

/// `log.creator` and `log.browser`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(default)]
pub struct Software {
    /// Name as written (`"WebInspector"`, `"Firefox"`, `"Playwright"`, …).
    #[serde(deserialize_with = "text_256")]
    pub name: String,
    /// Version as written.
    #[serde(deserialize_with = "text_256")]
    pub version: String,
}

fn text_256<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::<256>::deserialize(d).map(|t| t.0)
}

/// `log.pages[]`, reduced.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(default)]
pub struct Page {
    /// Page id, as entries' `pageref` name it.
    #[serde(deserialize_with = "text_256")]
    pub id: String,
    /// Title (often the URL).
    #[serde(deserialize_with = "text_url")]
    pub title: String,
    /// `startedDateTime` as written.
    #[serde(rename = "startedDateTime", deserialize_with = "text_256")]
    pub started: String,
}

fn text_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::<MAX_URL>::deserialize(d).map(|t| t.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text_are_read_leniently() {
        let n: Vec<Num> =
            serde_json::from_str(r#"[1, -1, 2.5, null, "7", "x", true, [], {}]"#).expect("reads");
        let present: Vec<Option<f64>> = n.iter().map(|n| n.present()).collect();
        assert_eq!(
            present,
            [
                Some(1.0),
                None,
                Some(2.5),
                None,
                Some(7.0),
                None,
                None,
                None,
                None
            ]
        );
        let t: Vec<Text<4>> =
            serde_json::from_str(r#"["abcdef", 12, null, {"a":1}, "é€"]"#).expect("reads");
        let texts: Vec<&str> = t.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(texts, ["abcd", "12", "", "", "é"]);
    }

    #[test]
    fn headers_are_bounded_and_lower_cased() {
        let many: Vec<String> = (0..100)
            .map(|i| match i {
                5 => r#"{"name":"Content-Type","value":"text/css"}"#.to_string(),
                80 => r#"{"name":"Content-Length","value":"9"}"#.to_string(),
                _ => format!(r#"{{"name":"X-H{i}","value":"{i}"}}"#),
            })
            .collect();
        let h: Headers =
            serde_json::from_str(&format!("[{}, null]", many.join(","))).expect("reads");
        // Only the headers the analysis reads, among the first MAX_HEADERS.
        assert_eq!(
            h.kept,
            [("content-type".to_string(), "text/css".to_string())]
        );
        assert!(h.truncated);
    }
}
