//! The beacon line (`interloper.rum.beacon/v1`, docs/rum.md): what the endpoint appends for one
//! sampled page view, parsed leniently (unknown fields ignored, a bad value dropped, never the
//! whole line) and bounded (strings cut, files per beacon capped).

use interloper_model::text::{cut_chars, printable_ascii};
use serde::Deserialize;
use std::net::IpAddr;

/// The `schema` of a beacon line.
pub const BEACON_SCHEMA: &str = interloper_model::schema::RUM_BEACON;
/// Files kept per beacon (the endpoint accepts fewer; a hand-made line may hold more).
pub const MAX_FILES_PER_BEACON: usize = 500;
/// Characters kept of a URL.
pub const MAX_URL: usize = 2048;
/// Characters kept of an instance name.
pub const MAX_INSTANCE: usize = 64;
/// A timing above this (one hour, ms) is not a timing: dropped.
const MAX_MS: f64 = 3_600_000.0;

/// One beacon as written by the endpoint.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Beacon {
    /// [`BEACON_SCHEMA`].
    #[serde(default)]
    pub schema: String,
    /// When the endpoint received it (RFC 3339, UTC), as written.
    #[serde(default)]
    pub received: Option<String>,
    /// The client's network (`203.0.113.0/24`, `2001:db8:1::/48`), as the endpoint truncated it.
    #[serde(default)]
    pub client: Option<String>,
    /// The page's path.
    #[serde(default)]
    pub page: Option<String>,
    /// The instance that served the page itself (its `Server-Timing`).
    #[serde(default)]
    pub instance: Option<String>,
    /// The files timed.
    #[serde(default)]
    pub files: Vec<BeaconFile>,
}

/// One static file of the page, as the browser timed it. Times in ms.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct BeaconFile {
    /// The file's URL.
    #[serde(default)]
    pub url: String,
    /// The instance named in its `Server-Timing` (`inst;desc=app4`).
    #[serde(default)]
    pub instance: Option<String>,
    /// `nextHopProtocol` (`h2`, `http/1.1`, `h3`).
    #[serde(default)]
    pub protocol: Option<String>,
    /// `startTime`: since the navigation began.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub start: Option<f64>,
    /// Waiting for a connection: `requestStart − fetchStart` less the file's own DNS and
    /// connect (TLS included) time — the browser held the request for a connection that another
    /// request was setting up, or for a free one.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub queued: Option<f64>,
    /// `domainLookupEnd − domainLookupStart`.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub dns: Option<f64>,
    /// TCP connect: `secureConnectionStart − connectStart` over TLS, else `connectEnd −
    /// connectStart`.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub connect: Option<f64>,
    /// TLS setup: `connectEnd − secureConnectionStart`.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub tls: Option<f64>,
    /// `responseStart − requestStart`.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub first_byte: Option<f64>,
    /// `responseEnd − responseStart`.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub download: Option<f64>,
    /// `duration`.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub duration: Option<f64>,
    /// `transferSize` (headers included; 0 from a cache).
    #[serde(default, deserialize_with = "lenient_size")]
    pub transfer: Option<u64>,
    /// `encodedBodySize`.
    #[serde(default, deserialize_with = "lenient_size")]
    pub encoded: Option<u64>,
    /// `decodedBodySize`.
    #[serde(default, deserialize_with = "lenient_size")]
    pub decoded: Option<u64>,
    /// `responseStatus` where the browser has it.
    #[serde(default, deserialize_with = "lenient_status")]
    pub status: Option<u16>,
    /// Why the page counted it failed: `error` (an error event), `missing` (no timing entry),
    /// `empty` (timed with no bytes).
    #[serde(default)]
    pub failed: Option<String>,
}

/// A number that is a timing, or nothing: a string, a negative, NaN or an hour and more is
/// dropped, never an error for the whole line.
fn lenient_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_f64()
        .filter(|x| x.is_finite() && (0.0..MAX_MS).contains(x)))
}

fn lenient_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_u64().filter(|n| *n < (1 << 40)))
}

fn lenient_status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_u64()
        .filter(|n| (100..600).contains(n))
        .and_then(|n| u16::try_from(n).ok()))
}

/// An instance name as kept: printable ASCII, bounded; None when nothing is left.
pub fn clean_instance(name: Option<&str>) -> Option<String> {
    let name = printable_ascii(name?.trim(), MAX_INSTANCE);
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// A URL as kept: bounded, printable.
pub fn clean_url(url: &str) -> String {
    printable_ascii(cut_chars(url.trim(), MAX_URL), MAX_URL)
}

/// The client network a beacon's `client` names, re-truncated here whatever the endpoint did:
/// `/24` for IPv4, `/48` for IPv6. None for anything else.
pub fn client_network(client: &str) -> Option<String> {
    let addr = client.split('/').next()?.trim();
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Some(format!("{a}.{b}.{c}.0/24"))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return client_network(&v4.to_string());
            }
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            Some(format!("{net}/48"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_truncated_whatever_was_written() {
        assert_eq!(
            client_network("203.0.113.77").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            client_network("203.0.113.0/24").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            client_network("2001:db8:1:2:3::9").as_deref(),
            Some("2001:db8:1::/48")
        );
        assert_eq!(
            client_network("::ffff:10.1.2.3").as_deref(),
            Some("10.1.2.0/24")
        );
        assert_eq!(client_network("example.com"), None);
        assert_eq!(client_network(""), None);
    }

    #[test]
    fn bad_values_are_dropped_not_fatal() {
        let b: Beacon = serde_json::from_str(
            r#"{"schema":"interloper.rum.beacon/v1","files":[{"url":"/s/a.css","tls":-1,
            "dns":"x","connect":1e300,"first_byte":12.5,"status":70000,"encoded":-3}]}"#,
        )
        .expect("parses");
        let f = &b.files[0];
        assert_eq!((f.tls, f.dns, f.connect), (None, None, None));
        assert_eq!(f.first_byte, Some(12.5));
        assert_eq!((f.status, f.encoded), (None, None));
    }

    #[test]
    fn instance_names_are_printable_and_bounded() {
        assert_eq!(clean_instance(Some(" app4 ")).as_deref(), Some("app4"));
        assert_eq!(clean_instance(Some("\u{1b}[31m")).as_deref(), Some("[31m"));
        assert_eq!(clean_instance(Some("")), None);
        assert_eq!(
            clean_instance(Some(&"x".repeat(1000))).map(|s| s.len()),
            Some(64)
        );
    }
}
