//! An input a diagnosing command reads — a file, standard input, a test's bytes — named for
//! messages and opened only when the pipeline reaches it.
//!
//! The pure crates' entry points (`logs::run_logs`, `har::run_har`, `flows::run_pcap`,
//! `findings::visits::run_visits`) read what the binary opens without opening anything
//! themselves; opening late keeps one progress bar on screen at a time and reads files in the
//! order given.

use std::fmt;
use std::io::{self, BufRead, Read};

/// A reader an [`Input`] opens to.
pub type InputReader = Box<dyn Read + Send>;

/// How an [`Input`] is opened.
type Opener = Box<dyn FnOnce() -> io::Result<InputReader> + Send>;

/// One input, its name as the user gave it and how to open it.
pub struct Input {
    name: String,
    open: Opener,
}

impl Input {
    /// An input opened by `open` when its turn comes (the binary: a file, stdin, gzip).
    pub fn new(
        name: impl Into<String>,
        open: impl FnOnce() -> io::Result<InputReader> + Send + 'static,
    ) -> Input {
        Input {
            name: name.into(),
            open: Box::new(open),
        }
    }

    /// An input already open, e.g. a test's bytes.
    pub fn from_reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> Input {
        Input::new(name, move || Ok(Box::new(reader) as InputReader))
    }

    /// The name messages and reports use.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens it (the caller takes [`Input::name`] first, for its messages).
    pub fn open(self) -> io::Result<InputReader> {
        (self.open)()
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_to_its_bytes_under_its_name() {
        let input = Input::from_reader("a.log", &b"line\n"[..]);
        assert_eq!(input.name(), "a.log");
        let mut s = String::new();
        input
            .open()
            .expect("opens")
            .read_to_string(&mut s)
            .expect("reads");
        assert_eq!(s, "line\n");
    }

    #[test]
    fn an_opening_error_is_returned_not_raised() {
        let input = Input::new("gone", || Err(io::Error::from(io::ErrorKind::NotFound)));
        assert_eq!(input.name(), "gone");
        assert_eq!(
            input.open().err().map(|e| e.kind()),
            Some(io::ErrorKind::NotFound)
        );
    }
}

/// What [`read_line_within`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// The end of the input: nothing was read.
    End,
    /// A whole line (its `\n` included, when it had one).
    Whole,
    /// A line over the bound: its first `max + 1` bytes are kept, the rest was skipped.
    Overlong,
}

/// Reads the next line of a line-oriented log (JSON lines) into `buf` (cleared first),
/// holding at most `max + 1` bytes of it whatever its length: a hostile line costs its
/// reading, never its memory.
pub fn read_line_within(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let n = Read::by_ref(reader)
        .take(max as u64 + 1)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(LineRead::End);
    }
    if buf.len() > max && !buf.ends_with(b"\n") {
        skip_line(reader)?;
        return Ok(LineRead::Overlong);
    }
    Ok(LineRead::Whole)
}

/// Skips the rest of an overlong line without holding it.
fn skip_line(reader: &mut impl BufRead) -> io::Result<()> {
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(());
        }
        if let Some(i) = available.iter().position(|&b| b == b'\n') {
            reader.consume(i + 1);
            return Ok(());
        }
        let n = available.len();
        reader.consume(n);
    }
}
