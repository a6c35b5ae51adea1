//! The HAR reader over each writer's export (hand-written fixtures for the writers no browser
//! here produces, each citing the rule of docs/har.md it exercises), bad input, and memory.

use interloper_har::{CacheSource, HarError, ReadOptions, Variant, from_slice, read};
use interloper_model::{ErrorKind, HttpVersion, Phase};
use std::io::Read;
use std::path::Path;

fn fixture(name: &str) -> interloper_har::Har {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let f = std::fs::File::open(&path).expect("fixture");
    read(f, &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// docs/har.md, Chrome/Edge: `connect` includes `ssl`; `_blocked_queueing`; `_error`;
/// `_fromCache`; `connection` is a socket id; `bodySize` -1 on HTTP/2.
#[test]
fn chrome_devtools_fields() {
    let har = fixture("chrome-devtools.har");
    assert_eq!(har.variant, Variant::Chrome);
    assert_eq!(har.pages.len(), 1);
    let r = &har.records;
    assert_eq!(r.len(), 5);
    let page = &r[0].record;
    assert_eq!(page.http_version, Some(HttpVersion::Http2));
    assert_eq!(page.remote_addr, Some("192.0.2.10:443".parse().unwrap()));
    assert_eq!(page.connection_id, 101);
    assert_eq!(
        (page.phases.connect_ms, page.phases.tls_ms),
        (Some(20.0), Some(30.0))
    );
    // bodySize -1, no content-encoding: the decoded size is the body.
    assert_eq!(page.bytes_received, 1200);
    assert!(!page.reused);
    // Encoded over HTTP/2: the wire size less nothing known of the headers → the size less
    // the compression, else the wire size.
    let css = &r[1];
    assert_eq!(css.queued_ms, Some(2390.0));
    assert!(css.record.reused);
    assert_eq!(css.record.started_ms, 200.0);
    assert_eq!(css.transfer_size, Some(5100));
    let js = &r[2];
    assert!(!js.answered);
    let e = js.record.error.as_ref().expect("an error");
    assert_eq!(
        (e.kind, e.phase),
        (ErrorKind::ResetBeforeHeaders, Phase::Ttfb)
    );
    assert_eq!(e.message, "net::ERR_CONNECTION_RESET");
    // Reset before an address was recorded: its host's one address in this recording.
    assert_eq!(
        js.record.remote_addr,
        Some("192.0.2.10:443".parse().unwrap())
    );
    assert!(
        har.notes
            .iter()
            .any(|n| n.contains("given the one address")),
        "{:?}",
        har.notes
    );
    assert_eq!(r[3].from_cache, Some(CacheSource::Memory));
    // Cancelled by the page: no failure of the network, no response either.
    assert!(r[4].unanswered_without_reason());
    assert_eq!(r[4].failure.as_deref(), Some("net::ERR_ABORTED"));
    assert_eq!(r[4].record.phases.total_ms, Some(0.0));
}

/// docs/har.md, Firefox: `connection` is the remote port; `bodySize` is the transferred size;
/// a failure's reason is in `statusText`; `_securityState`.
#[test]
fn firefox_fields() {
    let har = fixture("firefox.har");
    assert_eq!(har.variant, Variant::Firefox);
    let css = &har.records[0];
    assert_eq!(
        css.record.remote_addr,
        Some("192.0.2.10:8443".parse().unwrap())
    );
    assert_eq!(css.record.connection_id, 0);
    assert_eq!(css.record.bytes_received, 5000);
    assert_eq!(css.record.phases.ttfb_ms, Some(3100.0));
    assert_eq!(css.security_state.as_deref(), Some("secure"));
    let js = &har.records[1];
    assert_eq!(
        js.record.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::ResetBeforeHeaders)
    );
    assert_eq!(js.record.started_ms, 50.0);
}

/// docs/har.md, Safari/WebKit: `_fetchType` says where a response came from.
#[test]
fn safari_fields() {
    let har = fixture("safari.har");
    assert_eq!(har.variant, Variant::Safari);
    assert_eq!(har.records[0].from_cache, None);
    assert_eq!(har.records[0].record.http_version, Some(HttpVersion::Http2));
    assert_eq!(har.records[1].from_cache, Some(CacheSource::Disk));
}

/// docs/har.md, proxies: a byte order mark (Fiddler), a failure in `comment` (Charles), no
/// `blocked` in the proxy's view, fewer bytes than Content-Length kept as such.
#[test]
fn proxy_exports() {
    let fiddler = fixture("fiddler.har");
    assert_eq!(fiddler.variant, Variant::Fiddler);
    let big = &fiddler.records[0].record;
    assert_eq!(
        (big.bytes_received, big.content_length),
        (50_000, Some(200_000))
    );
    assert_eq!(fiddler.records[0].queued_ms, None);
    let charles = fixture("charles.har");
    assert_eq!(charles.variant, Variant::Charles);
    let r = &charles.records[0];
    assert_eq!(r.queued_ms, None);
    assert_eq!(
        r.record.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::ResetBeforeHeaders)
    );
    let mitm = fixture("mitmproxy.har");
    assert_eq!(mitm.variant, Variant::Mitmproxy);
    let r = &mitm.records[0].record;
    assert_eq!(r.remote_addr, Some("192.0.2.10:8080".parse().unwrap()));
    assert_eq!((r.phases.dns_ms, r.phases.connect_ms), (None, Some(2.0)));
    assert!(mitm.notes.is_empty(), "{:?}", mitm.notes);
}

fn err(text: &str) -> HarError {
    from_slice(text.as_bytes(), &ReadOptions::default()).expect_err(text)
}

#[test]
fn bad_input_is_one_clear_error() {
    assert!(matches!(err("hello"), HarError::NotJson { line: 1, .. }));
    assert!(matches!(err(""), HarError::Truncated { .. }));
    assert!(matches!(
        err(r#"{"log": {"version": "1.2", "entries": [{"request": {"url": "#),
        HarError::Truncated { .. }
    ));
    assert!(
        matches!(err(r#"{"log": {"version": "2.0", "entries": []}}"#), HarError::UnsupportedVersion(v) if v == "2.0")
    );
    assert!(matches!(err(r#"{"nolog": 1}"#), HarError::NotHar(_)));
    assert!(matches!(
        err(r#"{"log": {"version": "1.2"}}"#),
        HarError::NotHar(_)
    ));
    assert!(matches!(
        err(r#"{"log": {"entries": 5}}"#),
        HarError::NotHar(_)
    ));
    assert!(matches!(err("[1, 2]"), HarError::NotHar(_)));
    assert!(matches!(
        err(r#"{"log": {"entries": []}} trailing"#),
        HarError::NotJson { .. }
    ));
    // Deep nesting is refused by serde_json's recursion limit, inside an entry or skipped.
    for field in ["request", "_unknown"] {
        let deep = format!(
            r#"{{"log": {{"entries": [{{"{field}": {}{}}}]}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let _ = from_slice(deep.as_bytes(), &ReadOptions::default());
    }
    for e in [err("hello"), err(""), err(r#"{"log": {"version": "9"}}"#)] {
        assert!(!e.to_string().contains('\n'), "{e}");
    }
    // Odd values inside entries are tolerated, not fatal.
    let har = from_slice(
        br#"{"log": {"entries": [null, {"time": "x", "request": 5, "response": {"status": "200"},
            "timings": {"wait": null}, "startedDateTime": 12}]}}"#,
        &ReadOptions::default(),
    )
    .expect("tolerated");
    assert_eq!(har.records.len(), 1);
    assert_eq!(har.records[0].record.status, Some(200));
    assert!(
        har.notes
            .iter()
            .any(|n| n.contains("log.version is missing"))
    );
    assert!(har.notes.iter().any(|n| n.contains("startedDateTime")));
}

/// A HAR of many entries with large bodies: memory is the kept records, not the file.
struct Generated {
    entries: usize,
    body: usize,
    next: usize,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if self.next == 0 {
                self.buf.extend_from_slice(br#"{"log": {"version": "1.2", "creator": {"name": "WebInspector"}, "entries": ["#);
            }
            if self.next < self.entries {
                if self.next > 0 {
                    self.buf.push(b',');
                }
                self.buf.extend_from_slice(format!(
                    r#"{{"startedDateTime": "2026-11-30T10:00:00.000Z", "time": 10, "request": {{"method": "GET", "url": "https://a.test/s/{}.js"}},
                    "response": {{"status": 200, "httpVersion": "h2", "headers": [], "bodySize": {}, "content": {{"size": {}, "text": ""#,
                    self.next, self.body, self.body).as_bytes());
                self.buf.resize(self.buf.len() + self.body, b'A');
                self.buf
                    .extend_from_slice(br#""}}, "timings": {"send": 1, "wait": 8, "receive": 1}}"#);
            } else if self.next == self.entries {
                self.buf.extend_from_slice(b"]}}");
            } else {
                return Ok(0);
            }
            self.next += 1;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_large_har_is_read_in_bounded_memory() {
    let (entries, body) = (400, 1024 * 1024);
    let before = interloper_testkit::peak_rss_kib();
    let har = read(
        Generated {
            entries,
            body,
            next: 0,
            buf: Vec::new(),
            pos: 0,
        },
        &ReadOptions { max_records: 100 },
    )
    .expect("reads");
    let grown_mib = (interloper_testkit::peak_rss_kib() - before) / 1024;
    assert_eq!(har.records.len(), 100);
    assert_eq!(har.records_omitted, 300);
    assert_eq!(har.records[99].record.bytes_received, body as u64);
    // 400 MiB went through; what stays is the records and one body-sized scratch buffer.
    eprintln!("peak RSS grew by {grown_mib} MiB");
    assert!(grown_mib < 48, "peak RSS grew by {grown_mib} MiB");
}

/// The Chrome fixture as evidence: cached and cancelled requests set aside, the reset one a
/// failure, the long-queued one a browser sign.
#[test]
fn a_har_becomes_evidence_and_findings() {
    use interloper_findings::{Code, ThresholdConfig, analyse_har};
    let har = fixture("chrome-devtools.har");
    let ev = interloper_har::evidence(&har, "user.har");
    assert_eq!(ev.target.assets.len(), 3);
    assert_eq!(ev.cached, vec![(CacheSource::Memory, 1)]);
    assert_eq!(ev.browser.unanswered.len(), 1);
    assert_eq!(ev.browser.queued.len(), 3);
    let a = analyse_har(&[ev.target], &[ev.browser], &ThresholdConfig::default());
    let codes: Vec<Code> = a.diagnosis.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains(&Code::IL202), "{codes:?}");
    assert!(codes.contains(&Code::IL210), "{codes:?}");
    assert!(codes.contains(&Code::IL211), "{codes:?}");
}

/// Every prefix of every fixture, and each with bytes overwritten here and there, reads as a
/// HAR or as an error — never a panic (the fuzz target does this at scale).
#[test]
fn cut_and_damaged_fixtures_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let opts = ReadOptions { max_records: 3 };
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        for end in (0..bytes.len()).step_by(5) {
            let _ = from_slice(&bytes[..end], &opts);
        }
        for (i, b) in [b'"', b'{', b']', b'-', b'9', 0xff, b'\\', b',']
            .iter()
            .enumerate()
        {
            for at in (i * 13..bytes.len()).step_by(97) {
                let mut damaged = bytes.clone();
                damaged[at] = *b;
                if let Err(e) = from_slice(&damaged, &opts) {
                    assert!(!e.to_string().contains('\n'));
                }
            }
        }
    }
}

/// docs/har.md, Chrome/Edge: current DevTools writes the socket id as `_connectionId` and the
/// server's port as `connection`; older exports (no `_connectionId`) the socket id as
/// `connection`.
#[test]
fn chrome_connection_id_and_port() {
    let doc = |extra: &str| {
        format!(
            r#"{{"log": {{"version": "1.2", "creator": {{"name": "WebInspector"}}, "entries": [
            {{"startedDateTime": "2026-12-07T10:00:00Z", {extra}
              "request": {{"method": "GET", "url": "https://a.test/x.css"}},
              "response": {{"status": 200, "httpVersion": "h2", "content": {{"size": 10}},
                            "bodySize": -1, "_transferSize": 300}},
              "serverIPAddress": "192.0.2.1", "timings": {{"wait": 2}}}}]}}}}"#
        )
    };
    let read =
        |extra: &str| from_slice(doc(extra).as_bytes(), &ReadOptions::default()).expect("reads");
    let current = read(r#""_connectionId": "110", "connection": "8443","#);
    let r = &current.records[0].record;
    assert_eq!(r.connection_id, 110);
    assert_eq!(r.remote_addr, Some("192.0.2.1:8443".parse().unwrap()));
    let older = read(r#""connection": "8443","#);
    let r = &older.records[0].record;
    assert_eq!(r.connection_id, 8443);
    assert_eq!(r.remote_addr, Some("192.0.2.1:443".parse().unwrap()));
}
