//! `interloper man`: the manual pages in roff, generated from the same definition that parses
//! the command line.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::exit::Exit;

/// Arguments of `interloper man`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Read it with `interloper man | man -l -`; install the pages with \
                        `interloper man --out /usr/local/share/man/man1`."
)]
pub struct Args {
    /// Write one page per command into DIR, created if need be (interloper.1,
    /// interloper-check.1, …), instead of printing interloper(1) on stdout; prints the paths
    /// written.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Print interloper(1), or write every page; `command` is the whole CLI definition.
pub fn run(args: &Args, command: clap::Command) -> anyhow::Result<Exit> {
    // Built, so each subcommand knows its full name (interloper-check) and the version.
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match &args.out {
        None => stdout.write_all(&page(command)?)?,
        Some(dir) => {
            for path in write_pages(command, dir)? {
                writeln!(stdout, "{}", path.display())?;
            }
        }
    }
    stdout.flush()?;
    Ok(Exit::Clean)
}

/// The page of `command` and of each visible subcommand, in `dir`; the paths written.
fn write_pages(command: clap::Command, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("--out {}", dir.display()))?;
    let path = dir.join(clap_mangen::Man::new(command.clone()).get_filename());
    std::fs::write(&path, page(command.clone())?)
        .with_context(|| format!("--out {}", dir.display()))?;
    let mut written = vec![path];
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        written.extend(write_pages(sub.clone(), dir)?);
    }
    Ok(written)
}

/// One page, its `.TH` line first as man(7) asks (the renderer puts its apostrophe string
/// definition before it; it only has to come before the text that uses it).
fn page(command: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(command).render(&mut roff)?;
    Ok(title_first(roff))
}

fn title_first(roff: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&roff);
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    match lines.iter().position(|l| l.starts_with(".TH ")) {
        Some(i) if i > 0 && !lines[i].contains("\\*(Aq") => {
            let title = lines.remove(i);
            lines.insert(0, title);
            lines.concat().into_bytes()
        }
        _ => roff,
    }
}

#[cfg(test)]
mod tests {
    use super::title_first;

    #[test]
    fn the_title_moves_first_and_nothing_else_changes() {
        let roff = b".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH x 1\n.SH NAME\n".to_vec();
        assert_eq!(
            title_first(roff),
            b".TH x 1\n.ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.SH NAME\n"
        );
        let already = b".TH x 1\n.SH NAME\n".to_vec();
        assert_eq!(title_first(already.clone()), already);
    }
}
