//! Reading a line-per-request log on every core: the file is cut into blocks at line ends,
//! each worker folds the blocks it takes into its own [`Gatherer`], and the folds are merged.
//!
//! Blocks are dealt to the workers in turn, so the result depends on the thread count, never
//! on timing. The caller's thread only reads (and, for a gzip file, decompresses: decoding and parsing
//! then run as a pipeline); blocks are recycled, so memory is a few blocks per worker whatever
//! the size of the file. Positions are `block << 32 | line in the block`: a worker counts the
//! lines of its blocks, and the line numbers are made once every block is counted.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::format::MAX_LINE;
use crate::gather::Gatherer;

/// Bytes per block: big enough that handing one over costs nothing next to parsing it.
const BLOCK: usize = 1 << 20;

/// A block of whole lines, and its index in the file.
struct Block {
    index: u32,
    data: Vec<u8>,
}

impl Gatherer {
    /// Read every line of `reader` into source `source`, parsing on `threads` workers (at
    /// least one). The evidence is the same as from [`Gatherer::line`] called on each line in
    /// order, except for the bounded tables (see [`Gatherer`]). A line longer than
    /// [`MAX_LINE`] is cut there, the rest of it skipped. Returns the bytes read.
    pub fn read_lines(
        &mut self,
        source: usize,
        reader: impl Read,
        threads: usize,
    ) -> io::Result<u64> {
        self.read_lines_in_blocks(source, reader, threads, BLOCK)
    }

    pub(crate) fn read_lines_in_blocks(
        &mut self,
        source: usize,
        mut reader: impl Read,
        threads: usize,
        block: usize,
    ) -> io::Result<u64> {
        let threads = threads.max(1);
        let block = block.max(MAX_LINE + 1);
        // Block i goes to worker i mod threads, so which lines each fold sees (and so what the
        // bounded tables keep) depends on the thread count only, never on timing. Emptied
        // blocks come back through `empty` to be filled again.
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(threads * 3 + 2);
        let template = self.fork();
        let (read, folds) = std::thread::scope(|scope| {
            let mut queues = Vec::with_capacity(threads);
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let (full_tx, full_rx) = sync_channel::<Block>(2);
                    queues.push(full_tx);
                    let empty_tx = empty_tx.clone();
                    let gatherer = template.fork();
                    scope.spawn(move || work(gatherer, source, &full_rx, &empty_tx))
                })
                .collect();
            drop(empty_tx);
            let read = split(&mut reader, block, &queues, &empty_rx);
            // Closing the queues lets the workers finish.
            drop(queues);
            let folds: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
            (read, folds)
        });
        let mut lines_per_block: Vec<u64> = Vec::new();
        for fold in folds {
            let (gatherer, counts) = match fold {
                Ok(f) => f,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            for (index, n) in counts {
                let i = index as usize;
                if lines_per_block.len() <= i {
                    lines_per_block.resize(i + 1, 0);
                }
                lines_per_block[i] = n;
            }
            self.merge(gatherer);
        }
        self.set_blocks(source, lines_per_block);
        read
    }
}

/// Cut `reader` into blocks of whole lines and queue them. Returns the bytes read.
fn split(
    reader: &mut impl Read,
    block: usize,
    queues: &[SyncSender<Block>],
    empty: &Receiver<Vec<u8>>,
) -> io::Result<u64> {
    let mut index: u32 = 0;
    let mut total = 0u64;
    let mut carry: Vec<u8> = Vec::new();
    // Inside a line longer than MAX_LINE: its rest is dropped up to the next newline.
    let mut skipping = false;
    let mut eof = false;
    while !eof {
        // A recycled buffer is already `block` long: zeroed once when made, then read into
        // in place (read_to_end would zero its spare room on every call, a memset per block).
        let mut buf = empty.try_recv().unwrap_or_default();
        buf.resize(block, 0);
        let mut filled = carry.len();
        buf[..filled].copy_from_slice(&carry);
        carry.clear();
        // Fill to the block size or the end of the file. A read as large as this bypasses the
        // BufReaders above the file: the kernel copies straight into the block.
        while filled < block {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    filled += n;
                    total += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    buf.drain(..=i);
                    skipping = false;
                }
                None => {
                    buf.clear();
                    continue;
                }
            }
        }
        if !eof {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => carry.extend_from_slice(&buf[i + 1..]),
                // What is left after a skipped line's end: read on.
                None if buf.len() < block => {
                    carry.extend_from_slice(&buf);
                    continue;
                }
                None => {
                    // One line fills the block: keep what a line may have, drop the rest.
                    carry.clear();
                    buf.truncate(MAX_LINE);
                    buf.push(b'\n');
                    skipping = true;
                }
            }
            let whole = buf.len() - carry.len();
            buf.truncate(whole);
        }
        if buf.is_empty() {
            continue;
        }
        let queue = &queues[index as usize % queues.len()];
        if queue.send(Block { index, data: buf }).is_err() {
            // Every worker is gone: one panicked, and joining it says so.
            break;
        }
        index = index.checked_add(1).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "more than 2^32 blocks of lines")
        })?;
    }
    Ok(total)
}

/// A worker: fold the blocks it takes, hand the buffers back. Returns its fold and the line
/// count of each block it read.
fn work(
    mut gatherer: Gatherer,
    source: usize,
    full: &Receiver<Block>,
    empty: &SyncSender<Vec<u8>>,
) -> (Gatherer, Vec<(u32, u64)>) {
    let mut counts = Vec::new();
    while let Ok(Block { index, data }) = full.recv() {
        let n = fold_block(&mut gatherer, source, index, &data);
        counts.push((index, n));
        let _ = empty.try_send(data);
    }
    (gatherer, counts)
}

/// Fold every line of `data` (whole lines; the last may lack its newline); returns how many.
fn fold_block(gatherer: &mut Gatherer, source: usize, index: u32, data: &[u8]) -> u64 {
    // One check for the whole block: logs are ASCII or UTF-8, and a line is then a slice.
    let whole = std::str::from_utf8(data).ok();
    let base = u64::from(index) << 32;
    let mut n = 0u64;
    let mut start = 0;
    let mut each = |start: usize, end: usize, n: u64| match whole {
        Some(text) => {
            let line = text.get(start..end).unwrap_or_default();
            gatherer.line_at(
                source,
                base | n,
                interloper_model::text::cut_bytes(line, MAX_LINE),
            );
        }
        None => {
            let line = &data[start..end.min(start + MAX_LINE)];
            gatherer.line_at(source, base | n, &String::from_utf8_lossy(line));
        }
    };
    for end in memchr::memchr_iter(b'\n', data) {
        n += 1;
        each(start, end, n);
        start = end + 1;
    }
    if start < data.len() {
        n += 1;
        each(start, data.len(), n);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, GatherOptions, parse_line};
    use interloper_findings::LogSign;

    /// A log mixing what the folds must agree on: several backends, every sign, bodies cut
    /// short, lines that do not parse, blank lines, a line longer than MAX_LINE, bytes that
    /// are not UTF-8, and no newline at the end.
    fn mixed_log() -> Vec<u8> {
        let mut log = Vec::new();
        for i in 0..12_000u64 {
            let backend = format!("10.0.0.{}:80", i % 5 + 1);
            let (status, bytes, secs) = match (i % 5, i % 37) {
                (4, 0) => (499, 0, 12.0),
                (4, 1) => (504, 160, 60.0),
                (4, 2) | (4, 6) | (4, 9) | (4, 11) => (200, 100 + i, 3.0),
                (_, 3) => (200, 48_213, 2.5),
                (_, 5) => (502, 0, 0.01),
                _ => (200, 48_213, 0.01),
            };
            let path = ["/static/app.js", "/static/x.css", "/", "/media/a.png"][(i % 4) as usize];
            let minute = i / 60;
            log.extend_from_slice(
                format!(
                    "192.0.2.{} - - [24/Nov/2026:{:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" {status} {bytes} \"-\" \"UA\" rt={secs:.3} urt=\"0.001\" ua=\"{backend}\"\n",
                    i % 250,
                    (minute / 60) % 24,
                    minute % 60,
                    i % 60
                )
                .as_bytes(),
            );
            match i % 1000 {
                10 => log.extend_from_slice(b"garbage that is no log line\n"),
                20 => log.extend_from_slice(b"\n   \n"),
                30 => log.extend_from_slice(b"192.0.2.1 - - [24/Nov/2026:00:00:00 +0000] \"GET /static/\xff\xfe.js HTTP/1.1\" 499 0 \"-\" \"UA\" rt=9.000\n"),
                _ => {}
            }
            if i == 7000 {
                log.extend_from_slice(&vec![b'x'; MAX_LINE * 2]);
                log.push(b'\n');
            }
        }
        log.extend_from_slice(b"192.0.2.9 - - [24/Nov/2026:23:59:59 +0000] \"GET /static/end.js HTTP/1.1\" 499 0 \"-\" \"UA\" rt=7.0");
        log
    }

    fn options() -> GatherOptions {
        GatherOptions {
            examples_per_sign: 2,
            ..GatherOptions::default()
        }
    }

    #[test]
    fn parallel_blocks_give_the_same_evidence_as_one_pass() {
        let log = mixed_log();
        let mut one = Gatherer::new(options());
        let src = one.begin_source("mixed.log", Format::Combined);
        for (i, line) in log.split(|b| *b == b'\n').enumerate() {
            if i > 0 || !line.is_empty() {
                one.line(src, i as u64 + 1, &String::from_utf8_lossy(line));
            }
        }
        let expected = one.finish();
        assert!(
            expected.groups.len() >= 5 && expected.sources[0].unparsed > 0,
            "{expected:?}"
        );
        for (threads, block) in [(1, BLOCK), (2, MAX_LINE + 1), (3, 100_000), (7, 70_001)] {
            let mut many = Gatherer::new(options());
            let src = many.begin_source("mixed.log", Format::Combined);
            let read = many
                .read_lines_in_blocks(src, &log[..], threads, block)
                .expect("reads");
            assert_eq!(read, log.len() as u64);
            assert_eq!(
                many.finish(),
                expected,
                "{threads} threads, blocks of {block}"
            );
        }
    }

    /// A log of `n` lines in one of the benchmark's shapes (`trailing`: combined plus bare
    /// `$request_time $upstream_response_time $upstream_addr`; `haproxy`: httplog behind a
    /// syslog prefix; `apache`: vhost_combined plus `%D`; `json`: Avi records with an escaped
    /// quote and fields skipped), with every sign on one backend.
    fn shaped_log(shape: &str, n: u64) -> Vec<u8> {
        let mut log = Vec::new();
        for i in 0..n {
            let backend = i % 4 + 1;
            let bad = backend == 4 && i % 7 == 0;
            let (status, bytes, secs) = match (bad, i % 3) {
                (true, 0) => (499, 0, 12.5),
                (true, 1) => (504, 160, 60.0),
                (true, _) => (200, 100 + i % 900, 4.0),
                _ => (200, 18_211, 0.004 + (i % 13) as f64 / 1000.0),
            };
            let path =
                ["/static/app.js", "/static/x.css", "/", "/api/items?page=2"][(i / 5 % 4) as usize];
            // Several lines a second, as in a real log: the time cache is exercised.
            let t = i / 3;
            let (h, m, sec) = ((t / 3600) % 24, (t / 60) % 60, t % 60);
            let line = match shape {
                "apache" => format!(
                    "www.example.com:443 192.0.2.{} - - [24/Nov/2026:{h:02}:{m:02}:{sec:02} +0100] \"GET {path} HTTP/1.1\" {status} {bytes} \"-\" \"Mozilla/5.0 (X11)\" {}\n",
                    i % 250,
                    (secs * 1e6) as u64
                ),
                "json" => {
                    let word = match status {
                        499 => "\"ADF_CLIENT_CONN_ABORTED\"",
                        504 => "\"ADF_SERVER_CONN_TIMEDOUT\"",
                        _ => "",
                    };
                    format!(
                        "{{\"report_timestamp\":\"2026-11-24T{h:02}:{m:02}:{sec:02}.{:03}Z\",\"client_ip\":\"192.0.2.{}\",\"method\":\"GET\",\"uri_path\":\"{path}\",\"user_agent\":\"Mozilla/5.0 (X11; \\\"q\\\")\",\"response_code\":{},\"response_length\":{bytes},\"total_time\":{},\"server_response_time_last_byte\":{},\"server_name\":\"10.0.0.{backend}\",\"server_dest_port\":8000,\"headers\":{{\"a\":[1,2]}},\"significant_log\":[{word}]}}\n",
                        i % 1000,
                        i % 250,
                        if status == 499 { 200 } else { status },
                        (secs * 1000.0) as u64,
                        (secs * 900.0) as u64
                    )
                }
                "trailing" => format!(
                    "192.0.2.{} - - [24/Nov/2026:{h:02}:{m:02}:{sec:02} +0100] \"GET {path} HTTP/1.1\" {status} {bytes} \"-\" \"Mozilla/5.0 (X11)\" {secs:.3} {:.3} 10.0.0.{backend}:8000\n",
                    i % 250,
                    secs * 0.9
                ),
                _ => {
                    let state = match status {
                        499 => "CD--",
                        504 => "sH--",
                        _ => "----",
                    };
                    format!(
                        "<134>Nov 24 {h:02}:{m:02}:{sec:02} lb haproxy[712]: 192.0.2.{}:4{:04} [24/Nov/2026:{h:02}:{m:02}:{sec:02}.{:03}] www~ app/web{backend} 0/0/1/{}/{} {status} {bytes} - - {state} 1/1/0/0/0 0/0 \"GET {path} HTTP/1.1\"\n",
                        i % 250,
                        i % 10_000,
                        i % 1000,
                        (secs * 900.0) as u64,
                        (secs * 1000.0) as u64
                    )
                }
            };
            log.extend_from_slice(line.as_bytes());
        }
        log
    }

    /// One sequential pass over `log`, line by line.
    fn one_pass(
        log: &[u8],
        format: Format,
        options: GatherOptions,
    ) -> interloper_findings::LogEvidence {
        let mut one = Gatherer::new(options);
        let src = one.begin_source("shaped.log", format);
        // The last newline ends the last line; nothing follows it.
        let log = log.strip_suffix(b"\n").unwrap_or(log);
        for (i, line) in log.split(|b| *b == b'\n').enumerate() {
            one.line(src, i as u64 + 1, &String::from_utf8_lossy(line));
        }
        one.finish()
    }

    #[test]
    fn parallel_equals_sequential_for_every_shape_and_window() {
        // 24/Nov/2026 00:00:00 UTC; the trailing log is written at +0100, HAProxy in UTC.
        let day = 1_795_478_400;
        let windows = [
            (None, None),
            (Some(day + 1200), None),
            (Some(day + 600), Some(day + 2400)),
            (None, Some(day + 3600 * 23 + 1000)),
        ];
        for (shape, format) in [
            ("trailing", Format::Combined),
            ("haproxy", Format::Haproxy),
            ("apache", Format::Combined),
            ("json", Format::Json),
        ] {
            let log = shaped_log(shape, 30_000);
            for (since, until) in windows {
                let opts = GatherOptions {
                    since,
                    until,
                    ..options()
                };
                let expected = one_pass(&log, format, opts.clone());
                let source = &expected.sources[0];
                assert_eq!(source.unparsed, 0, "{shape}: {source:?}");
                // Apache logs no backend: one group, the log.
                let backends = if shape == "apache" { 1 } else { 4 };
                assert!(
                    expected.groups.len() >= backends,
                    "{shape}: {:?}",
                    expected.groups.len()
                );
                // Backend 4 shows its aborts and time-outs whatever the window.
                let bad = expected
                    .groups
                    .iter()
                    .find(|g| g.name.contains('4') || g.name == "all");
                assert!(
                    bad.is_some_and(|g| g.signs.len() >= 2),
                    "{shape}: {source:?}"
                );
                assert_eq!(
                    source.parsed + source.outside_window,
                    source.lines,
                    "{shape}"
                );
                if since.is_some() {
                    assert!(source.outside_window > 0, "{shape} {since:?}: {source:?}");
                    assert!(source.first_time >= since, "{shape}: {source:?}");
                }
                if let Some(until) = until {
                    assert!(source.last_time < Some(until), "{shape}: {source:?}");
                }
                for (threads, block) in [(1, BLOCK), (2, MAX_LINE + 1), (3, 100_000)] {
                    let mut many = Gatherer::new(opts.clone());
                    let src = many.begin_source("shaped.log", format);
                    many.read_lines_in_blocks(src, &log[..], threads, block)
                        .expect("reads");
                    assert_eq!(
                        many.finish(),
                        expected,
                        "{shape} {since:?}..{until:?}: {threads} threads, blocks of {block}"
                    );
                }
            }
        }
    }

    /// The lines a fast path could get wrong: CRLF line ends, quotes (escaped) and spaces
    /// inside the request, and a last line cut short with no newline. Read in blocks on
    /// several workers, they give what one pass gives, and CRLF gives what LF gives.
    #[test]
    fn odd_lines_read_the_same_in_blocks_as_in_one_pass() {
        let mut lf = shaped_log("trailing", 6_000);
        for i in 0..600u64 {
            lf.extend_from_slice(
                format!(
                    "192.0.2.7 - - [24/Nov/2026:03:00:{:02} +0100] \"GET /static/a\\\"b{i}.js?x=\\\"y\\\" HTTP/1.1\" 499 0 \"-\" \"UA \\\"quoted\\\"\" 9.000 - 10.0.0.4:8000\n",
                    i % 60
                )
                .as_bytes(),
            );
            lf.extend_from_slice(b"192.0.2.8 - - [24/Nov/2026:03:01:00 +0100] \"GET /static/with space.css HTTP/1.1\" 200 18211 \"-\" \"UA\" 0.004 0.003 10.0.0.1:8000\n");
        }
        let cut_short = b"192.0.2.9 - - [24/Nov/2026:03:02:00 +0100] \"GET /static/end.js HTT";
        lf.extend_from_slice(cut_short);
        let crlf: Vec<u8> = lf
            .split(|b| *b == b'\n')
            .collect::<Vec<_>>()
            .join(&b"\r\n"[..]);

        let parsed = parse_line(
            Format::Combined,
            "192.0.2.7 - - [24/Nov/2026:03:00:00 +0100] \"GET /static/a\\\"b.js HTTP/1.1\" 499 0 \"-\" \"UA\" 9.000 - 10.0.0.4:8000\r",
        )
        .expect("parses");
        assert_eq!(parsed.path, "/static/a\\\"b.js");
        assert_eq!(parsed.upstream.as_deref(), Some("10.0.0.4:8000"));
        assert_eq!(parsed.duration_ms, Some(9000.0));

        let expected = one_pass(&lf, Format::Combined, options());
        let source = &expected.sources[0];
        // Every line but the one cut short parses, and that one is named.
        assert_eq!(source.unparsed, 1, "{source:?}");
        assert_eq!(source.lines, 6_000 + 1_200 + 1);
        assert_eq!(
            source.first_unparsed.as_deref(),
            Some("line 7201: no status"),
            "{source:?}"
        );
        let aborted = expected
            .groups
            .iter()
            .find(|g| g.name == "10.0.0.4:8000")
            .and_then(|g| g.signs.iter().find(|(s, _)| *s == LogSign::ClientClosed))
            .map(|(_, n)| *n);
        assert!(aborted.is_some_and(|n| n >= 600), "{aborted:?}");
        for log in [&lf, &crlf] {
            for (threads, block) in [(1, BLOCK), (2, MAX_LINE + 1), (3, 70_001)] {
                let mut many = Gatherer::new(options());
                let src = many.begin_source("shaped.log", Format::Combined);
                many.read_lines_in_blocks(src, &log[..], threads, block)
                    .expect("reads");
                assert_eq!(
                    many.finish(),
                    expected,
                    "{threads} threads, blocks of {block}"
                );
            }
        }
    }
}
