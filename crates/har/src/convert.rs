//! A reduced HAR entry → a [`HarRecord`], by the field rules of its writer (docs/har.md).

use crate::raw::{RawEntry, RawResponse, RawTimings};
use crate::{CacheSource, HarRecord, Variant};
use interloper_model::{ErrorKind, HttpVersion, Phase, Phases, RequestError, RequestRecord};
use std::net::{IpAddr, SocketAddr};
use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

/// Every entry of a file, converted; and the notes on what was tolerated.
pub(crate) fn records(entries: Vec<RawEntry>, variant: Variant) -> (Vec<HarRecord>, Vec<String>) {
    let starts: Vec<Option<i128>> = entries.iter().map(|e| epoch_ns(&e.started.0)).collect();
    let origin = starts.iter().flatten().copied().min();
    let mut notes = Vec::new();
    let (mut bad_dates, mut mismatches) = (0u64, 0u64);
    let mut out = Vec::with_capacity(entries.len());
    for (i, (e, start)) in entries.into_iter().zip(starts).enumerate() {
        let started_ms = match start {
            Some(s) => origin.map_or(0.0, |o| (s - o) as f64 / 1e6),
            _ => {
                bad_dates += 1;
                0.0
            }
        };
        let rec = entry(i as u64, e, started_ms, variant);
        mismatches += u64::from(rec.time_mismatch);
        out.push(rec);
    }
    let inferred = fill_addresses(&mut out);
    if inferred > 0 {
        notes.push(format!(
            "{inferred} requests without a server address (failed before one was recorded) \
             were given the one address their host had in this recording"
        ));
    }
    if bad_dates > 0 {
        notes.push(format!(
            "{bad_dates} entries have no readable startedDateTime: placed at the start"
        ));
    }
    if mismatches > 0 {
        notes.push(format!(
            "{mismatches} entries have an entry.time that differs from the sum of their timings: \
             their time is kept as written"
        ));
    }
    (out, notes)
}

/// A request that failed before the browser recorded an address (a reset, a refused
/// connection) gets its host's address when the recording shows exactly one for that host, so
/// the failure counts against the address (IL206) it happened on. Returns how many.
fn fill_addresses(records: &mut [HarRecord]) -> u64 {
    use std::collections::HashMap;
    let authority = |r: &HarRecord| {
        url::Url::parse(&r.record.url)
            .ok()
            .and_then(|u| Some((u.host_str()?.to_string(), u.port_or_known_default()?)))
    };
    let mut seen: HashMap<(String, u16), Option<SocketAddr>> = HashMap::new();
    for r in records.iter() {
        if let (Some(addr), Some(key)) = (r.record.remote_addr, authority(r)) {
            seen.entry(key)
                .and_modify(|a| {
                    if *a != Some(addr) {
                        *a = None; // several addresses: no guess
                    }
                })
                .or_insert(Some(addr));
        }
    }
    let mut filled = 0;
    for r in records.iter_mut() {
        if r.record.remote_addr.is_some() || r.from_cache.is_some() {
            continue;
        }
        if let Some(Some(addr)) = authority(r).and_then(|k| seen.get(&k).copied()) {
            r.record.remote_addr = Some(addr);
            r.record.addresses = vec![addr];
            filled += 1;
        }
    }
    filled
}

fn epoch_ns(s: &str) -> Option<i128> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(s.trim(), &Iso8601::DEFAULT))
        .ok()?;
    Some(t.unix_timestamp_nanos())
}

/// `"h2"`, `"HTTP/2.0"`, `"http/1.1"`, `"h3"`, … → the version; empty or unknown → `None`.
pub fn parse_http_version(s: &str) -> Option<HttpVersion> {
    match s.trim().to_ascii_lowercase().as_str() {
        "h2" | "http/2" | "http/2.0" | "h2c" => Some(HttpVersion::Http2),
        "h3" | "http/3" | "http/3.0" | "h3-29" => Some(HttpVersion::Http3),
        "http/1.1" => Some(HttpVersion::Http11),
        "http/1.0" => Some(HttpVersion::Http10),
        "http/0.9" => Some(HttpVersion::Http09),
        _ => None,
    }
}

/// A browser's or proxy's failure text → what kind of failure, and in which phase; `None` for
/// requests the page or the user cancelled (not the network's doing). `answered`: a status
/// had arrived, so a reset is mid-body.
pub fn classify_failure(text: &str, answered: bool) -> Option<(ErrorKind, Phase)> {
    let t = text.to_ascii_uppercase();
    let has = |needles: &[&str]| needles.iter().any(|n| t.contains(n));
    let late = if answered { Phase::Body } else { Phase::Ttfb };
    let reset = if answered {
        ErrorKind::ResetMidBody
    } else {
        ErrorKind::ResetBeforeHeaders
    };
    let found = if has(&[
        "ERR_ABORTED",
        "NS_BINDING_ABORTED",
        "CANCELED",
        "CANCELLED",
        "ERR_BLOCKED_BY_CLIENT",
    ]) {
        return None;
    } else if has(&[
        "ERR_NAME_NOT_RESOLVED",
        "ERR_NAME_RESOLUTION_FAILED",
        "NS_ERROR_UNKNOWN_HOST",
    ]) {
        (ErrorKind::Dns, Phase::Dns)
    } else if has(&[
        "ERR_CONNECTION_REFUSED",
        "NS_ERROR_CONNECTION_REFUSED",
        "ECONNREFUSED",
    ]) {
        (ErrorKind::Refused, Phase::Connect)
    } else if has(&["ERR_CONNECTION_TIMED_OUT"]) {
        (ErrorKind::ConnectTimeout, Phase::Connect)
    } else if has(&[
        "ERR_TUNNEL_CONNECTION_FAILED",
        "ERR_PROXY_",
        "NS_ERROR_PROXY_",
    ]) {
        (ErrorKind::Proxy, Phase::Connect)
    } else if has(&[
        "ERR_CERT_",
        "SEC_ERROR_",
        "SSL_ERROR_BAD_CERT",
        "MOZILLA_PKIX_ERROR",
    ]) {
        (ErrorKind::TlsCertificate, Phase::Tls)
    } else if has(&[
        "ERR_SSL_",
        "SSL_ERROR_",
        "NS_ERROR_NET_INADEQUATE_SECURITY",
        "TLS HANDSHAKE",
    ]) {
        (ErrorKind::TlsAlert, Phase::Tls)
    } else if has(&[
        "ERR_CONTENT_LENGTH_MISMATCH",
        "ERR_INCOMPLETE_CHUNKED_ENCODING",
        "NS_ERROR_NET_PARTIAL_TRANSFER",
    ]) {
        (ErrorKind::Truncated, Phase::Body)
    } else if has(&[
        "ERR_HTTP2_",
        "ERR_QUIC_PROTOCOL_ERROR",
        "ERR_INVALID_HTTP_RESPONSE",
        "ERR_INVALID_CHUNKED_ENCODING",
        "ERR_RESPONSE_HEADERS_",
        "ERR_CONTENT_DECODING_FAILED",
        "NS_ERROR_CORRUPTED_CONTENT",
    ]) {
        (ErrorKind::Protocol, late)
    } else if has(&["ERR_EMPTY_RESPONSE"]) {
        (ErrorKind::ResetBeforeHeaders, Phase::Ttfb)
    } else if has(&[
        "ERR_CONNECTION_FAILED",
        "ERR_ADDRESS_UNREACHABLE",
        "ERR_INTERNET_DISCONNECTED",
        "ERR_NETWORK_CHANGED",
        "ERR_ADDRESS_INVALID",
    ]) {
        (ErrorKind::Connect, Phase::Connect)
    } else if has(&[
        "ERR_CONNECTION_RESET",
        "ERR_CONNECTION_CLOSED",
        "ERR_CONNECTION_ABORTED",
        "NS_ERROR_NET_RESET",
        "NS_ERROR_NET_INTERRUPT",
        "ECONNRESET",
        "CONNECTION RESET",
        "CONNECTION CLOSED",
        "PEER CLOSED",
        "DISCONNECTED",
    ]) {
        (reset, late)
    } else if has(&[
        "ERR_TIMED_OUT",
        "NS_ERROR_NET_TIMEOUT",
        "TIMEOUT",
        "TIMED OUT",
    ]) {
        (
            if answered {
                ErrorKind::BodyTimeout
            } else {
                ErrorKind::HeadersTimeout
            },
            late,
        )
    } else {
        (ErrorKind::Other, late)
    };
    Some(found)
}

/// Where a response came from instead of the network, by every form the writers use
/// (docs/har.md, "Cache hits"); `None` for a response that crossed the network.
fn cache_source(
    e: &RawEntry,
    resp: &RawResponse,
    status: Option<u16>,
    variant: Variant,
) -> Option<CacheSource> {
    let named = e.from_cache.0.to_ascii_lowercase();
    let fetch = e.fetch_type.0.to_ascii_lowercase();
    // A service worker's answer first: DevTools also writes `_fromCache: "disk"` for one
    // taken from its cache storage.
    if fetch == "service worker" || resp.via_service_worker.0 {
        return Some(CacheSource::ServiceWorker);
    }
    if named == "memory" || fetch == "memory cache" {
        return Some(CacheSource::Memory);
    }
    if named == "disk" || fetch == "disk cache" {
        return Some(CacheSource::Disk);
    }
    // What follows is implied, not named: only for a complete answer without a failure (a 304
    // is a revalidation over the network; a 206 a part).
    let complete = status.is_some_and(|s| (200..300).contains(&s) && s != 206);
    let failed = resp.error.non_empty().is_some() || resp.failure_text.non_empty().is_some();
    if !complete || failed {
        return None;
    }
    let content = resp.content.0.size.present().unwrap_or(0.0);
    if variant == Variant::Firefox {
        // Firefox's exporter fills `cache` for a response its cache served (older versions)
        // and writes the bytes transferred, 0 for a cache hit, as `bodySize`.
        let keyed = e.cache.0.before_request.0 || e.cache.0.after_request.0;
        let nothing_moved = resp.body_size.0 == Some(0.0) && content > 0.0;
        return (keyed || nothing_moved).then_some(CacheSource::HttpCache);
    }
    // No byte on the wire, not even the headers': the response never crossed the network.
    if resp.transfer_size.0 != Some(0.0) {
        return None;
    }
    Some(match variant {
        // Playwright keeps Chrome's timings only for what went to the network or the disk
        // cache; a memory-cache hit (Network.requestServedFromCache) has none, so no wait.
        Variant::Playwright if e.timings.0.wait.present().is_none() => CacheSource::Memory,
        Variant::Playwright => CacheSource::Disk,
        _ => CacheSource::HttpCache,
    })
}

/// The HAR timings as the model's phases; `time_ms` is `entry.time`. Returns the phases and
/// whether `entry.time` disagreed with the timings.
fn phases(t: &RawTimings, time_ms: Option<f64>, variant: Variant) -> (Phases, bool) {
    let ssl = t.ssl.present();
    // HAR 1.2: `connect` includes `ssl`. mitmproxy writes TCP alone as `connect`; any other
    // writer whose `ssl` exceeds `connect` did not include it either.
    let (connect, tls) = match (t.connect.present(), ssl) {
        (Some(c), Some(s)) if s <= c && variant != Variant::Mitmproxy => (Some(c - s), Some(s)),
        (c, s) => (c, s),
    };
    let parts = [
        t.blocked.present(),
        t.dns.present(),
        connect,
        tls,
        t.send.present(),
        t.wait.present(),
        t.receive.present(),
    ];
    let sum: f64 = parts.iter().flatten().sum();
    let any = parts.iter().any(Option::is_some);
    let mismatch = match time_ms {
        Some(time) if any => (time - sum).abs() > 1.0 + 0.01 * time.max(sum),
        _ => false,
    };
    let total = time_ms.or(any.then_some(sum));
    (
        Phases {
            dns_ms: t.dns.present(),
            connect_ms: connect,
            tls_ms: tls,
            write_ms: t.send.present(),
            ttfb_ms: t.wait.present(),
            first_byte_ms: None,
            body_ms: t.receive.present(),
            total_ms: total,
        },
        mismatch,
    )
}

/// The socket a request went over: Chrome's `_connectionId` (current DevTools, whose
/// `connection` is the port), else `connection` (older DevTools, Playwright); Firefox's
/// `connection` is the port, never an identity. 0 is unknown.
fn connection_id(e: &RawEntry, variant: Variant) -> u64 {
    let id = |t: &str| t.trim().parse().unwrap_or(0);
    match e.connection_id.non_empty() {
        Some(t) => id(t),
        None if variant == Variant::Firefox => 0,
        None => id(&e.connection.0),
    }
}

fn remote_addr(e: &RawEntry, url: Option<&url::Url>, variant: Variant) -> Option<SocketAddr> {
    let ip_text = e
        .server_ip
        .0
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let ip: IpAddr = ip_text.parse().ok()?;
    let port = e
        .server_port
        .bytes()
        .filter(|p| (1..=65535).contains(p))
        .map(|p| p as u16)
        .or_else(|| {
            // Firefox, and Chrome when it writes `_connectionId`, write the port as `connection`.
            (variant == Variant::Firefox || e.connection_id.non_empty().is_some())
                .then(|| e.connection.0.trim().parse::<u16>().ok())
                .flatten()
                .filter(|p| *p > 0)
        })
        .or_else(|| url.and_then(url::Url::port_or_known_default))?;
    Some(SocketAddr::new(ip, port))
}

/// Body bytes as received (after transfer decoding, before content decoding).
fn body_bytes(r: &RawResponse, encoded: bool, variant: Variant) -> u64 {
    let wire = wire_body_bytes(r, encoded, variant);
    // Chromium counts on the wire only what its network stack carried: a body its HTTP cache
    // supplied after a 304 on the wire (shown as a 200), or a service worker's script, counts
    // 0 there though the browser holds all of it. Unencoded, `content.size` is the body held.
    match (variant, encoded, r.content.0.size.bytes()) {
        (Variant::Chrome | Variant::Playwright, false, Some(held)) => wire.max(held),
        _ => wire,
    }
}

/// The body's bytes by the writer's wire counters.
fn wire_body_bytes(r: &RawResponse, encoded: bool, variant: Variant) -> u64 {
    let size = r.content.0.size.bytes();
    // Playwright writes bodySize = _transferSize (the headers' bytes on the wire included,
    // headersSize 0) and the body as `size - compression`.
    if variant == Variant::Playwright
        && let (Some(s), Some(c)) = (size, r.content.0.compression.bytes())
    {
        return s.saturating_sub(c);
    }
    if let Some(b) = r.body_size.bytes() {
        return b;
    }
    // Chrome writes bodySize -1 over HTTP/2: the decoded size is exact for an unencoded body;
    // otherwise the wire size less the headers, or the size less the compression saved.
    if let (false, Some(s)) = (encoded, size) {
        return s;
    }
    match (r.transfer_size.bytes(), r.headers_size.bytes()) {
        (Some(t), Some(h)) if t >= h => t - h,
        _ => match (size, r.content.0.compression.bytes()) {
            (Some(s), Some(c)) => s.saturating_sub(c),
            (Some(s), None) => s,
            _ => 0,
        },
    }
}

fn entry(seq: u64, mut e: RawEntry, started_ms: f64, variant: Variant) -> HarRecord {
    let url_text = e.request.0.url.0.clone();
    let url = url::Url::parse(&url_text).ok();
    let mut rec = RequestRecord::new(seq, url_text, started_ms);
    rec.remote_addr = remote_addr(&e, url.as_ref(), variant);
    rec.addresses = rec.remote_addr.into_iter().collect();
    rec.connection_id = connection_id(&e, variant);
    let (phases, time_mismatch) = phases(&e.timings.0, e.time.present(), variant);
    rec.phases = phases;
    let resp = e.response.take().map(|r| r.0).unwrap_or_default();
    let status = resp
        .status
        .present()
        .filter(|s| (100.0..1000.0).contains(s));
    let answered = status.is_some();
    rec.status = status.map(|s| s as u16);
    let from_cache = cache_source(&e, &resp, rec.status, variant);
    let revalidated = rec.status == Some(304);
    // No DNS and no connect: the request went over a connection already open.
    rec.reused = answered && rec.phases.dns_ms.is_none() && rec.phases.connect_ms.is_none();
    rec.http_version = if answered {
        parse_http_version(&resp.http_version.0)
    } else {
        None
    };
    let header = |name: &str| {
        resp.headers
            .kept
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    };
    // A 304 has no body whatever its Content-Length says (the cached copy's length).
    rec.content_length = header("content-length")
        .and_then(|v| v.parse().ok())
        .filter(|_| !revalidated);
    let encoded = header("content-encoding").is_some_and(|v| !v.eq_ignore_ascii_case("identity"));
    if answered {
        rec.bytes_received = body_bytes(&resp, encoded, variant);
    }
    let failure = [&resp.error, &resp.failure_text]
        .into_iter()
        .find_map(|t| t.non_empty())
        .or_else(|| {
            // Firefox writes the reason of a failed request in statusText; the proxies in
            // the entry's comment.
            (!answered)
                .then(|| {
                    resp.status_text
                        .non_empty()
                        .filter(|t| t.starts_with("NS_") || t.contains("ERR_"))
                        .or_else(|| variant.is_proxy().then(|| e.comment.non_empty()).flatten())
                })
                .flatten()
        })
        .map(str::to_string);
    rec.error = failure.as_ref().and_then(|text| {
        classify_failure(text, answered).map(|(kind, phase)| RequestError {
            kind,
            phase,
            message: text.clone(),
        })
    });
    rec.headers = resp.headers.kept;
    rec.headers_truncated = resp.headers.truncated;
    let queued_ms = if variant.is_proxy() {
        None
    } else {
        e.timings
            .0
            .blocked_queueing
            .present()
            .or(e.timings.0.blocked.present())
    };
    HarRecord {
        record: rec,
        started: e.started.0,
        method: e.request.0.method.0,
        queued_ms,
        from_cache,
        revalidated,
        answered,
        failure,
        transfer_size: resp.transfer_size.bytes(),
        resource_type: e.resource_type.non_empty().map(str::to_string),
        page: e.pageref.non_empty().map(str::to_string),
        security_state: e.security_state.non_empty().map(str::to_string),
        time_mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_texts_map_to_kinds_and_phases() {
        let cases = [
            (
                "net::ERR_CONNECTION_RESET",
                false,
                Some((ErrorKind::ResetBeforeHeaders, Phase::Ttfb)),
            ),
            (
                "net::ERR_CONNECTION_RESET",
                true,
                Some((ErrorKind::ResetMidBody, Phase::Body)),
            ),
            (
                "net::ERR_SSL_PROTOCOL_ERROR",
                false,
                Some((ErrorKind::TlsAlert, Phase::Tls)),
            ),
            (
                "net::ERR_HTTP2_PROTOCOL_ERROR",
                true,
                Some((ErrorKind::Protocol, Phase::Body)),
            ),
            (
                "net::ERR_CONTENT_LENGTH_MISMATCH",
                true,
                Some((ErrorKind::Truncated, Phase::Body)),
            ),
            (
                "net::ERR_NAME_NOT_RESOLVED",
                false,
                Some((ErrorKind::Dns, Phase::Dns)),
            ),
            (
                "net::ERR_CERT_AUTHORITY_INVALID",
                false,
                Some((ErrorKind::TlsCertificate, Phase::Tls)),
            ),
            (
                "NS_ERROR_NET_RESET",
                false,
                Some((ErrorKind::ResetBeforeHeaders, Phase::Ttfb)),
            ),
            ("net::ERR_ABORTED", false, None),
            ("NS_BINDING_ABORTED", false, None),
            (
                "something odd",
                false,
                Some((ErrorKind::Other, Phase::Ttfb)),
            ),
        ];
        for (text, answered, want) in cases {
            assert_eq!(classify_failure(text, answered), want, "{text}");
        }
    }

    #[test]
    fn versions_are_read_as_every_writer_spells_them() {
        for (s, v) in [
            ("h2", Some(HttpVersion::Http2)),
            ("HTTP/2.0", Some(HttpVersion::Http2)),
            ("http/1.1", Some(HttpVersion::Http11)),
            ("HTTP/1.1", Some(HttpVersion::Http11)),
            ("h3", Some(HttpVersion::Http3)),
            ("", None),
            ("spdy/3", None),
        ] {
            assert_eq!(parse_http_version(s), v, "{s}");
        }
    }

    fn timings(v: [f64; 7]) -> RawTimings {
        use crate::raw::Num;
        RawTimings {
            blocked: Num(Some(v[0])),
            dns: Num(Some(v[1])),
            connect: Num(Some(v[2])),
            ssl: Num(Some(v[3])),
            send: Num(Some(v[4])),
            wait: Num(Some(v[5])),
            receive: Num(Some(v[6])),
            blocked_queueing: Num(None),
        }
    }

    /// HAR 1.2: connect includes ssl; -1 is absent; a time that disagrees is noted, not fatal.
    #[test]
    fn timings_map_to_phases() {
        let (p, mismatch) = phases(
            &timings([1.0, 2.0, 30.0, 20.0, 0.5, 100.0, 5.0]),
            Some(138.5),
            Variant::Chrome,
        );
        assert_eq!(p.dns_ms, Some(2.0));
        assert_eq!(p.connect_ms, Some(10.0));
        assert_eq!(p.tls_ms, Some(20.0));
        assert_eq!(
            (p.write_ms, p.ttfb_ms, p.body_ms),
            (Some(0.5), Some(100.0), Some(5.0))
        );
        assert_eq!(p.total_ms, Some(138.5));
        assert!(!mismatch);
        let (p, mismatch) = phases(
            &timings([-1.0, -1.0, -1.0, -1.0, 0.5, 100.0, 5.0]),
            Some(900.0),
            Variant::Other,
        );
        assert_eq!((p.dns_ms, p.connect_ms, p.tls_ms), (None, None, None));
        assert_eq!(p.total_ms, Some(900.0));
        assert!(mismatch);
        // A writer that keeps ssl out of connect.
        let (p, _) = phases(
            &timings([0.0, 0.0, 5.0, 20.0, 0.0, 1.0, 1.0]),
            None,
            Variant::Other,
        );
        assert_eq!((p.connect_ms, p.tls_ms), (Some(5.0), Some(20.0)));
        assert_eq!(p.total_ms, Some(27.0));
        // mitmproxy: connect is TCP alone, whatever the numbers.
        let (p, _) = phases(
            &timings([0.0, 0.0, 30.0, 20.0, 0.0, 1.0, 1.0]),
            None,
            Variant::Mitmproxy,
        );
        assert_eq!((p.connect_ms, p.tls_ms), (Some(30.0), Some(20.0)));
    }
}
