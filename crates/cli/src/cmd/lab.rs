//! `interloper lab [--scenario NAME]`: start the lab on 127.0.0.1 and keep it running, printing
//! the instances and the `interloper check` command that examines them, until Ctrl-C / SIGTERM
//! (or `--for DURATION`).

use std::io::Write as _;
use std::time::Duration;

use interloper_lab::Lab;

use crate::args::parse;
use crate::exit::Exit;

/// Arguments of `interloper lab`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario to start (see `interloper demo --list`).
    #[arg(long, default_value = "inspection", value_name = "NAME")]
    pub scenario: String,
    /// Start the lab described in this scenario file instead (format: docs/lab.md).
    #[arg(long, value_name = "FILE", conflicts_with = "scenario")]
    pub config: Option<std::path::PathBuf>,
    /// Stop after this long (e.g. 10m) instead of waiting for Ctrl-C.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse::positive_duration)]
    pub run_for: Option<Duration>,
    /// The lab's witnesses log what they refuse, as `interloper echo` does.
    #[command(flatten)]
    pub log: crate::logging::LogArgs,
}

/// Quotes an argument for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `interloper lab`: clean once stopped.
pub async fn run(args: Args) -> anyhow::Result<Exit> {
    crate::logging::install(&args.log);
    let scenario = super::demo::chosen(&args.scenario, args.config.as_deref())?;
    let lab = Lab::start(scenario.lab.clone()).await?;
    {
        let mut w = std::io::stdout().lock();
        writeln!(w, "lab ({}): {}", scenario.name, scenario.about)?;
        writeln!(w, "public roots: {}", lab.public_roots_pem_path().display())?;
        for (i, inst) in lab.instances().iter().enumerate() {
            match (&inst.middlebox, &inst.inspection_ca_pem_path) {
                (Some(mb), Some(ca)) => writeln!(
                    w,
                    "instance {}: {} (middlebox {mb} → origin {}; inspection CA {})",
                    i + 1,
                    inst.url(),
                    inst.origin,
                    ca.display()
                )?,
                _ => writeln!(
                    w,
                    "instance {}: {} (origin {})",
                    i + 1,
                    inst.url(),
                    inst.origin
                )?,
            }
            if let Some(second) = inst.second_addr {
                writeln!(w, "  second address: {second} (through a faulty relay)")?;
            }
            if let Some(witness) = inst.witness_url() {
                writeln!(w, "  witness: {witness}")?;
            }
        }
        let argv: Vec<String> = std::iter::once("check".to_string())
            .chain(lab.check_plan(40).to_check_args())
            .collect();
        let line: Vec<String> = argv.iter().map(|a| shell_word(a)).collect();
        writeln!(w, "check it with:\n  interloper {}", line.join(" "))?;
        writeln!(w, "Ctrl-C stops the lab.")?;
        w.flush()?;
    }
    let stop = crate::out::stop_signal();
    match args.run_for {
        Some(d) => {
            tokio::select! {
                () = stop => {}
                () = tokio::time::sleep(d) => {}
            }
        }
        None => stop.await,
    }
    lab.shutdown().await;
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_word("--cacert"), "--cacert");
        assert_eq!(shell_word("/tmp/a b.pem"), "'/tmp/a b.pem'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
