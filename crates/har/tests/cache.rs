//! Every form in which a browser writes "this response came from a cache" (docs/har.md, "Cache
//! hits"), one minimal entry each, in the shape its writer produces: each is set aside as
//! cached (or, for a 304, kept as a network request with no body to cut short), and none is
//! ever a stall, truncation, failure or trickle. The shapes of Playwright's and the
//! DevTools-style entries are those the recordings of crates/cli/tests/har_e2e.rs contain.

use interloper_findings::{ThresholdConfig, analyse_har};
use interloper_har::{CacheSource, Har, HarSummary, ReadOptions, evidence, from_slice};
use serde_json::{Value, json};

/// A HAR by `creator` holding `entries`.
fn har(creator: &str, entries: Vec<Value>) -> Har {
    let doc = json!({"log": {"version": "1.2", "creator": {"name": creator, "version": "1"},
                             "entries": entries}});
    from_slice(doc.to_string().as_bytes(), &ReadOptions::default()).expect("reads")
}

/// An entry at `ms` after the first, with `response` and `timings`, and `extra` entry keys.
fn entry(url: &str, ms: u64, response: Value, timings: Value, extra: Value) -> Value {
    let mut e = json!({
        "startedDateTime": format!("2026-12-07T10:00:{:02}.{:03}Z", ms / 1000, ms % 1000),
        "request": {"method": "GET", "url": url, "headers": []},
        "response": response,
        "timings": timings,
        "serverIPAddress": "127.0.0.1",
    });
    if let (Some(e), Some(extra)) = (e.as_object_mut(), extra.as_object()) {
        e.extend(extra.clone());
    }
    e
}

fn headers(length: u64) -> Value {
    json!([{"name": "content-type", "value": "text/css"},
           {"name": "content-length", "value": length.to_string()}])
}

/// Playwright's memory-cache hit as chromium 156 gives it: no byte on the wire
/// (`_transferSize` 0), `bodySize` the negative headers' size, no timings but a `receive`
/// measured from nowhere.
fn playwright_memory_hit(url: &str, ms: u64) -> Value {
    entry(
        url,
        ms,
        json!({"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
               "headers": headers(5000), "content": {"size": 5000, "compression": 5233},
               "headersSize": 233, "bodySize": -233, "_transferSize": 0}),
        json!({"dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": -1, "receive": 2400.5}),
        json!({"_serverPort": 8443}),
    )
}

/// A complete network response of `size` bytes, `wait` ms for the headers.
fn network(url: &str, ms: u64, size: u64, wait: f64) -> Value {
    entry(
        url,
        ms,
        json!({"status": 200, "httpVersion": "HTTP/1.1", "headers": headers(size),
               "content": {"size": size, "compression": 0}, "headersSize": 200,
               "bodySize": size + 200, "_transferSize": size + 200}),
        json!({"dns": -1, "connect": -1, "ssl": -1, "send": 0.1, "wait": wait, "receive": 1.0}),
        json!({"_serverPort": 8443}),
    )
}

fn sources(h: &Har) -> Vec<Option<CacheSource>> {
    h.records.iter().map(|r| r.from_cache).collect()
}

#[test]
fn playwright_memory_and_disk_hits_are_cached() {
    let mut disk = playwright_memory_hit("https://a.test/static/b.css", 10);
    disk["timings"]["wait"] = json!(1.5);
    let h = har(
        "Playwright",
        vec![
            playwright_memory_hit("https://a.test/static/a.css", 0),
            disk,
            network("https://a.test/static/c.css", 20, 5000, 3.0),
        ],
    );
    assert_eq!(
        sources(&h),
        [Some(CacheSource::Memory), Some(CacheSource::Disk), None]
    );
}

#[test]
fn devtools_from_cache_service_workers_and_zero_transfers_are_cached() {
    let hit = |url: &str, extra: Value, response_extra: Value| {
        let mut response = json!({"status": 200, "httpVersion": "http/1.1",
            "headers": headers(5000), "content": {"size": 5000}, "headersSize": -1,
            "bodySize": 0, "_transferSize": 0});
        if let (Some(r), Some(x)) = (response.as_object_mut(), response_extra.as_object()) {
            r.extend(x.clone());
        }
        entry(
            url,
            0,
            response,
            json!({"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": 0.3,
                   "receive": 0.1, "_blocked_queueing": -1}),
            extra,
        )
    };
    // DevTools also writes `_fromCache: "disk"` for a worker's answer from cache storage.
    let mut via_worker = hit(
        "https://a.test/static/d.css",
        json!({"_fromCache": "disk"}),
        json!({"_fetchedViaServiceWorker": true, "_serviceWorkerResponseSource": "cache-storage"}),
    );
    // A service worker's answer may have crossed the network behind it: its size is not 0.
    via_worker["response"]["_transferSize"] = json!(5300);
    let h = har(
        "WebInspector",
        vec![
            hit(
                "https://a.test/static/a.css",
                json!({"_fromCache": "memory"}),
                json!({}),
            ),
            hit(
                "https://a.test/static/b.css",
                json!({"_fromCache": "disk"}),
                json!({}),
            ),
            // An exporter that writes no `_fromCache` (older DevTools, chrome-har): no byte on
            // the wire is enough.
            hit("https://a.test/static/c.css", json!({}), json!({})),
            via_worker,
            hit(
                "https://a.test/static/e.css",
                json!({}),
                json!({"_fetchedViaServiceWorker": false, "_transferSize": 5300}),
            ),
        ],
    );
    assert_eq!(
        sources(&h),
        [
            Some(CacheSource::Memory),
            Some(CacheSource::Disk),
            Some(CacheSource::HttpCache),
            Some(CacheSource::ServiceWorker),
            None
        ]
    );
}

/// Firefox: a cache hit is a 200 with nothing transferred (`bodySize` 0) and its size in
/// `content`; older versions also fill `cache` (`afterRequest`, possibly `null`). A 304 fills
/// `cache.afterRequest` too: it is a revalidation, not a hit.
#[test]
fn firefox_cache_hits_are_cached_and_its_304s_revalidated() {
    let ff = |url: &str, status: u16, body: i64, size: u64, cache: Value| {
        entry(
            url,
            0,
            json!({"status": status, "statusText": "OK", "httpVersion": "HTTP/2",
                   "headers": headers(size), "content": {"size": size, "mimeType": "text/css"},
                   "headersSize": 0, "bodySize": body}),
            json!({"blocked": 0, "dns": 0, "connect": 0, "ssl": 0, "send": 0, "wait": 0,
                   "receive": 0}),
            json!({"cache": cache, "connection": "8443"}),
        )
    };
    let h = har(
        "Firefox",
        vec![
            ff("https://a.test/static/a.css", 200, 0, 5000, json!({})),
            ff(
                "https://a.test/static/b.css",
                200,
                -1,
                5000,
                json!({"afterRequest": null}),
            ),
            ff(
                "https://a.test/static/c.css",
                304,
                0,
                5000,
                json!({"afterRequest": {"expires": "", "fetchCount": "3"}}),
            ),
            // Network answers: bytes transferred, and an empty body.
            ff("https://a.test/static/d.css", 200, 5300, 5000, json!({})),
            ff("https://a.test/static/e.css", 200, 0, 0, json!({})),
        ],
    );
    assert_eq!(
        sources(&h),
        [
            Some(CacheSource::HttpCache),
            Some(CacheSource::HttpCache),
            None,
            None,
            None
        ]
    );
    assert!(h.records[2].revalidated);
    assert_eq!(h.records[2].record.content_length, None);
}

/// No byte on the wire says "cached" only of a complete answer: not of a failure, a 206 part
/// or a 304.
#[test]
fn zero_transfers_that_are_not_cache_hits() {
    let odd = |status: u16, error: Option<&str>| {
        entry(
            "https://a.test/static/a.css",
            0,
            json!({"status": status, "httpVersion": "HTTP/1.1", "headers": headers(5000),
                   "content": {"size": 0}, "headersSize": -1, "bodySize": -1,
                   "_transferSize": 0, "_failureText": error}),
            json!({"dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": 2.0, "receive": 1.0}),
            json!({}),
        )
    };
    let h = har(
        "Playwright",
        vec![
            odd(200, Some("net::ERR_CONNECTION_RESET")),
            odd(206, None),
            odd(304, None),
        ],
    );
    assert_eq!(sources(&h), [None, None, None]);
    assert!(h.records[2].revalidated);
}

/// The recording, reduced: 12 navigations of a page and three files, the files taken
/// from the memory cache after the first (with Content-Length and a long `receive`, as
/// Playwright writes them), some revalidated with a 304 that repeats the Content-Length. No
/// finding, and the report counts what came from the cache.
#[test]
fn twelve_navigations_with_cache_hits_are_clean() {
    let files = [
        "https://a.test/static/a.css",
        "https://a.test/static/b.css",
        "https://a.test/static/c.js",
    ];
    let mut entries = Vec::new();
    for visit in 0..12u64 {
        let at = visit * 500;
        entries.push(network(
            "https://a.test/admin/login/",
            at,
            2000,
            8.0 + visit as f64,
        ));
        for (i, url) in files.iter().enumerate() {
            let at = at + 50 + i as u64;
            entries.push(match (visit, i) {
                (0, _) => network(url, at, 5000, 3.0),
                (_, 2) if visit % 4 == 0 => entry(
                    url,
                    at,
                    json!({"status": 304, "httpVersion": "HTTP/1.1", "headers": headers(5000),
                           "content": {"size": -1}, "headersSize": 180, "bodySize": 0,
                           "_transferSize": 180}),
                    json!({"dns": -1, "connect": -1, "ssl": -1, "send": 0.1, "wait": 3.0,
                           "receive": 0.2}),
                    json!({"_serverPort": 8443}),
                ),
                _ => playwright_memory_hit(url, at),
            });
        }
    }
    let h = har("Playwright", entries);
    let ev = evidence(&h, "cached.har");
    assert_eq!(ev.cached, vec![(CacheSource::Memory, 31)]);
    assert_eq!(ev.revalidated, 2);
    let summary = HarSummary::new(&h, &ev);
    assert_eq!(summary.network_requests, 12 + 3 + 2);
    let sentence = summary.sentence();
    assert!(
        sentence.contains("31 from the browser's cache (31 memory)")
            && sentence.contains("2 of them revalidated"),
        "{sentence}"
    );
    let a = analyse_har(&[ev.target], &[ev.browser], &ThresholdConfig::default());
    assert!(
        a.diagnosis.findings.is_empty(),
        "{:#?}",
        a.diagnosis.findings
    );
}

/// Chrome asks every site for /favicon.ico, linked or not, and DevTools records it: a 404 there
/// is left out with a note, not IL301 against a clean page. Any other 404 stays a finding.
#[test]
fn the_browsers_own_favicon_request_is_not_a_file_of_the_page() {
    let not_found = |url: &str| {
        let mut e = network(url, 0, 14, 1.0);
        e["response"]["status"] = json!(404);
        e
    };
    // Cancelled by the next navigation before its answer came.
    let mut cancelled = network("https://a.test/favicon.ico", 10, 0, 1.0);
    cancelled["response"] = json!({"status": 0, "_error": "net::ERR_ABORTED"});
    let h = har(
        "WebInspector",
        vec![
            network("https://a.test/", 0, 2000, 5.0),
            not_found("https://a.test/favicon.ico"),
            cancelled,
        ],
    );
    let ev = evidence(&h, "page.har");
    assert_eq!(ev.favicon_not_found, 2);
    let summary = HarSummary::new(&h, &ev);
    assert_eq!(summary.network_requests, 1);
    assert!(summary.notes.iter().any(|n| n.contains("/favicon.ico")));
    let a = analyse_har(&[ev.target], &[ev.browser], &ThresholdConfig::default());
    assert!(
        a.diagnosis.findings.is_empty(),
        "{:#?}",
        a.diagnosis.findings
    );

    let h = har(
        "WebInspector",
        vec![not_found("https://a.test/static/favicon.ico")],
    );
    let ev = evidence(&h, "page.har");
    let a = analyse_har(&[ev.target], &[ev.browser], &ThresholdConfig::default());
    assert!(!a.diagnosis.findings.is_empty());
}

/// Chromium counts on the wire only what its network stack carried: a service worker's script
/// (Playwright: the headers' 192 bytes, no wait) and a body its HTTP cache supplied after a 304
/// on the wire (shown as a 200 of the headers' 104 bytes) are whole in `content.size`. They
/// went to the network, so they are not cached, and not truncated either.
#[test]
fn bodies_the_network_stack_did_not_count_are_not_truncated() {
    let held = |creator: &str, url: &str, transfer: u64, wait: f64| {
        let h = har(
            creator,
            vec![entry(
                url,
                0,
                json!({"status": 200, "httpVersion": "http/1.1", "headers": headers(321),
                       "content": {"size": 321, "compression": 321}, "headersSize": transfer,
                       "bodySize": 0, "_transferSize": transfer}),
                json!({"dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": wait,
                       "receive": 30.0}),
                json!({}),
            )],
        );
        let r = &h.records[0];
        assert_eq!(r.from_cache, None, "{creator}");
        assert_eq!(r.record.bytes_received, 321, "{creator}");
        let ev = evidence(&h, "held.har");
        let a = analyse_har(&[ev.target], &[ev.browser], &ThresholdConfig::default());
        assert!(
            a.diagnosis.findings.is_empty(),
            "{:#?}",
            a.diagnosis.findings
        );
    };
    held("Playwright", "https://a.test/sw.js", 192, -1.0);
    held("WebInspector", "https://a.test/index.html", 104, 35.0);
}
