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
        let mut buf = empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(block));
        buf.clear();
        buf.extend_from_slice(&carry);
        carry.clear();
        // Fill to the block size or the end of the file (read_to_end does not zero the
        // buffer first).
        let want = block.saturating_sub(buf.len());
        let got = (&mut *reader).take(want as u64).read_to_end(&mut buf)?;
        total += got as u64;
        eof = got < want;
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
    use crate::{Format, GatherOptions};

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
}
