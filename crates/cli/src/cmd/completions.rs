//! `interloper completions SHELL`: the shell completion script, generated from the same
//! definition that parses the command line, so it never lists a flag that does not exist.

use std::io::Write as _;

use clap_complete::Shell;

use crate::exit::Exit;

/// Arguments of `interloper completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Install, e.g.:
  bash: interloper completions bash > ~/.local/share/bash-completion/completions/interloper
  zsh:  interloper completions zsh > ~/.zfunc/_interloper   (with fpath+=~/.zfunc)
  fish: interloper completions fish > ~/.config/fish/completions/interloper.fish")]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Print the script for `args.shell` on stdout; `command` is the whole CLI definition.
pub fn run(args: &Args, mut command: clap::Command) -> anyhow::Result<Exit> {
    let name = command.get_name().to_string();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    clap_complete::generate(args.shell, &mut command, name, &mut out);
    out.flush()?;
    Ok(Exit::Clean)
}
