//! Terminal concerns shared by commands: colour choice, progress bars, writing a report,
//! opening an input file, broken pipes. Styling itself is `interloper_report::TerminalStyle`.

use std::io::IsTerminal;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, NO_COLOR is unset and TERM is not `dumb`.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Whether we colour and whether stderr can carry a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub progress: bool,
}

fn env_allows_fancy() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

impl Style {
    pub fn new(choice: ColorChoice) -> Style {
        let fancy = env_allows_fancy();
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => fancy && std::io::stdout().is_terminal(),
        };
        let progress =
            std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        Style { color, progress }
    }

    /// How reports draw on this terminal: the one ANSI painter, `interloper_report`'s.
    pub fn terminal(&self) -> interloper_report::TerminalStyle {
        interloper_report::TerminalStyle {
            color: self.color,
            width: terminal_width(),
        }
    }
}

/// True when the error is stdout having gone away (`| head`): exit quietly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Resolves on Ctrl-C or (Unix) SIGTERM, as systemd sends.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Who made a report, when and how: this binary, now, with this command line.
pub fn report_meta() -> interloper_report::ReportMeta {
    interloper_report::ReportMeta::new(
        env!("CARGO_PKG_VERSION"),
        &interloper_check::now_rfc3339(),
        std::env::args().collect(),
    )
}

/// Writes a report as every diagnosing command does: the HTML page to `--html` when asked,
/// then JSON or the terminal rendering on stdout (naming the HTML file after the latter).
pub fn write_report(
    report: &impl interloper_report::Document,
    output: &crate::args::ReportArgs,
    style: Style,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let html = output.html.as_deref();
    if let Some(path) = html {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("--html {}", path.display()))?,
        );
        report.write_html(&mut f)?;
        f.flush()?;
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    if output.json {
        report.write_json(&mut w)?;
    } else {
        report.write_terminal(&mut w, style.terminal())?;
        if let Some(path) = html {
            writeln!(w, "HTML report: {}", path.display())?;
        }
    }
    w.flush()?;
    Ok(())
}

/// An input file named on the command line, `-` meaning stdin, with its length when known so a
/// progress bar can show how far the reading got. The error does not name the file: the
/// library reading the [`Input`](interloper_model::input::Input) does, as every command's did.
pub(crate) fn open_input(
    path: &std::path::Path,
) -> std::io::Result<(Box<dyn std::io::Read + Send>, Option<u64>)> {
    if path == std::path::Path::new("-") {
        return Ok((Box::new(std::io::stdin()), None));
    }
    let f = std::fs::File::open(path)?;
    let len = f.metadata().ok().map(|m| m.len());
    Ok((Box::new(f), len))
}

/// An input named on the command line, opened when the pipeline reaches it, with a progress bar
/// over its bytes (see [`byte_progress`]) that clears when the reading ends.
pub(crate) fn input(path: &std::path::Path, show_progress: bool) -> interloper_model::input::Input {
    let owned = path.to_path_buf();
    interloper_model::input::Input::new(path.display().to_string(), move || {
        let (reader, len) = open_input(&owned)?;
        Ok(Box::new(counting(reader, len, &owned, show_progress)))
    })
}

/// `reader` moving a bar named after `path` (hidden unless `visible`).
pub(crate) fn counting<R>(
    reader: R,
    len: Option<u64>,
    path: &std::path::Path,
    visible: bool,
) -> Counting<R> {
    Counting {
        inner: reader,
        bar: byte_progress(len, &path.display().to_string(), visible),
    }
}

/// The width reports wrap to: `COLUMNS` when set (at least 40), else 100.
pub(crate) fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

/// A bar over the bytes read from an input file, on stderr, when a person watches (a large log
/// or HAR takes a while); a spinner when the size is unknown (stdin, gzip).
pub(crate) fn byte_progress(len: Option<u64>, name: &str, visible: bool) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template("{bar:30} {bytes:>10}/{total_bytes:10} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.set_message(name.to_string());
    bar
}

/// A reader that moves a progress bar by the bytes it reads.
pub(crate) struct Counting<R> {
    pub(crate) inner: R,
    pub(crate) bar: indicatif::ProgressBar,
}

/// The bar goes when the reading ends (the library drops the reader), before any error is
/// printed, so that line stands alone.
impl<R> Drop for Counting<R> {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}
