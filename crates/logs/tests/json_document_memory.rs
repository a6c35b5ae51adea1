//! A JSON-document export (Avi's API answers `{"count": …, "results": [...]}`) is read one
//! record at a time: a 64 MiB document costs the gatherer's bounds, not the document's size,
//! and says exactly what the same records say as JSON lines.
//!
//! Alone in its test binary: it measures the peak resident memory of this process
//! (`VmHWM`), which another test running alongside would disturb.

use std::io::{self, Read};

use interloper_findings::{LogEvidence, analyse_logs};
use interloper_logs::{Format, GatherOptions, Gatherer};
use serde_json::{Value, json};

const DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Growth of the peak resident memory allowed while reading the document: the gatherer keeps
/// a few KiB per backend and path, the reader 64 KiB buffers and one record. Reading the file
/// whole would take at least the document's 64 MiB; a `Value` of it, several times that.
const GROWTH_LIMIT_KIB: u64 = 32 * 1024;

/// Record `i` of an export, the same every time: static and other requests through four
/// servers, the fourth with client aborts, upstream time-outs and bodies cut short.
fn record(i: u64) -> Value {
    // A small LCG per record: deterministic, no dependency.
    let mut state = i.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let files = [
        ("/static/css/site.3f2a1b9c8d7e.css", 18_211),
        ("/static/js/app.9b8c7d6e5f4a.js", 92_113),
        ("/static/fonts/inter.0a1b2c3d4e5f.woff2", 48_212),
        ("/accounts/login/", 4032),
    ];
    let (path, mut size) = files[next(files.len() as u64) as usize];
    let server = next(4) + 1;
    let (mut code, mut total, mut signs) = (200, 2 + next(40), vec![]);
    if server == 4 && path.starts_with("/static/") && next(10) == 0 {
        match next(3) {
            0 => (signs, total) = (vec!["ADF_CLIENT_CONN_ABORTED"], 5000 + next(15_000)),
            1 => (signs, total, code) = (vec!["ADF_SERVER_UPSTREAM_TIMEOUT"], 60_000, 504),
            _ => (size, total) = (1 + next(size - 1), 3000 + next(17_000)),
        }
    }
    json!({
        "adf": false,
        "virtualservice": "virtualservice-6f1c0c3e-2d4b-4a41-9c1e-3b8d0e1f2a3b",
        "client_ip": format!("198.51.100.{}", next(254)),
        "client_src_port": 1024 + next(60_000),
        "client_rtt": next(40),
        "method": "GET",
        "uri_path": path,
        "uri_query": "",
        "host": "app.example",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        "response_code": code,
        "response_length": size,
        "total_time": total,
        "server_response_time_first_byte": (total * 9 / 10).max(1),
        "server_response_time_last_byte": (total * 9 / 10).max(1),
        "server_ip": format!("10.10.0.{server}"),
        "server_dest_port": 8443,
        "significant_log": signs,
        "report_timestamp": format!("2026-11-24T{:02}:{:02}:{:02}.000000Z", i / 3600 % 24, i / 60 % 60, i % 60),
        "request_headers": {"host": "app.example", "accept": "*/*"},
        "log_id": i,
    })
}

/// The export, pretty-printed as `curl … | jq .` leaves it, produced as it is read.
struct Export {
    next_record: u64,
    written: u64,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

impl Export {
    fn new() -> Export {
        Export {
            next_record: 0,
            written: 0,
            chunk: b"{\n  \"count\": 0,\n  \"next\": null,\n  \"results\": [\n".to_vec(),
            at: 0,
            done: false,
        }
    }

    fn refill(&mut self) {
        self.chunk.clear();
        self.at = 0;
        if self.done {
            return;
        }
        if self.written >= DOCUMENT_BYTES {
            self.chunk.extend_from_slice(b"\n  ]\n}\n");
            self.done = true;
            return;
        }
        if self.next_record > 0 {
            self.chunk.extend_from_slice(b",\n");
        }
        let text = serde_json::to_string_pretty(&record(self.next_record)).expect("json");
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                self.chunk.push(b'\n');
            }
            self.chunk.extend_from_slice(b"    ");
            self.chunk.extend_from_slice(line.as_bytes());
        }
        self.next_record += 1;
    }
}

impl Read for Export {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.chunk.len() {
            self.refill();
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        self.written += n as u64;
        Ok(n)
    }
}

/// The evidence without example texts (a record's example shows the fields read, a line's is
/// the line).
fn without_example_texts(mut ev: LogEvidence) -> LogEvidence {
    for g in &mut ev.groups {
        for x in &mut g.examples {
            x.text.clear();
        }
    }
    ev
}

#[test]
fn a_64_mib_export_is_read_in_bounded_memory_and_says_what_its_lines_say() {
    let before = interloper_testkit::peak_rss_kib();
    let mut documents = Gatherer::new(GatherOptions::default());
    let src = documents.begin_source("avi", Format::Json);
    let mut export = Export::new();
    let records = documents
        .json_document(src, &mut export)
        .expect("the export reads");
    let growth = interloper_testkit::peak_rss_kib().saturating_sub(before);
    assert!(export.written >= DOCUMENT_BYTES && export.done);
    assert!(
        growth < GROWTH_LIMIT_KIB,
        "reading a {} MiB export raised the peak resident memory by {growth} KiB",
        export.written >> 20
    );
    eprintln!(
        "{} MiB export, {records} records: peak RSS +{growth} KiB",
        export.written >> 20
    );

    let mut lines = Gatherer::new(GatherOptions::default());
    let src = lines.begin_source("avi", Format::Json);
    for i in 0..records {
        let line = serde_json::to_string(&record(i)).expect("json");
        lines.line(src, i + 1, &line);
    }

    let from_document = documents.finish();
    let from_lines = lines.finish();
    assert_eq!(from_document.sources[0].parsed, records);
    assert_eq!(
        without_example_texts(from_document.clone()),
        without_example_texts(from_lines.clone())
    );
    let (a, b) = (analyse_logs(&from_document), analyse_logs(&from_lines));
    assert_eq!(a.verdict, b.verdict);
    let said = |x: &interloper_findings::Diagnosis| {
        x.findings
            .iter()
            .map(|f| (f.code, f.severity, f.summary.clone(), f.subject.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(said(&a), said(&b));
    // The fourth server's aborts, time-outs and cut bodies are found.
    assert_eq!(
        a.verdict.subject.as_deref(),
        Some("10.10.0.4:8443"),
        "{:?}",
        a.verdict
    );
    assert!(a.findings.len() >= 3, "{:?}", said(&a));
}
