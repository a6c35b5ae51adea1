//! The `interloper` binary: parses arguments, dispatches, sets the exit code.
//!
//! Exit codes: 0 all requests succeeded, 1 some failed, 2 usage or input error. A closed
//! stdout (`| head`) ends the program quietly.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod out;

/// Find out why a site's static files load slowly, partially or not at all, and whether
/// something on the path intercepts HTTPS.
#[derive(Debug, Parser)]
#[command(name = "interloper", version, about, propagate_version = true)]
struct Cli {
    /// Colour in terminal output.
    #[arg(long, value_enum, default_value_t = out::ColorChoice::Auto, global = true)]
    color: out::ColorChoice,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process; boxing the big variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Diagnose a page: discover its assets, sample them, verify their bytes, analyse the TLS
    /// path, and report findings with evidence and a remedy.
    Check(cmd::check::Args),
    /// Time requests phase by phase (DNS, connect, TLS, headers, body) and summarise.
    Probe(cmd::probe::Args),
    /// Show the certificate chain as this client sees it, its trust, interception evidence,
    /// and our own JA3/JA4; with --echo, prove interception with a witness.
    Tls(cmd::tls::Args),
    /// Print the SPKI pins (sha256//BASE64) of a PEM file or of a server's chain.
    Pin(cmd::pin::Args),
    /// Start the lab (origins, an intercepting middlebox with seeded faults) on loopback and
    /// run `check` against it (try this first; --list names the scenarios).
    Demo(cmd::demo::Args),
    /// Start the lab on loopback and keep it running (origins, an intercepting middlebox with
    /// seeded faults), printing the `check` command that examines it.
    Lab(cmd::lab::Args),
    /// Run the witness: a TLS server (or passthrough) that reports the ClientHello it received.
    Echo(cmd::echo::Args),
    /// Read access logs (nginx, Apache, HAProxy, Avi JSON): which static requests clients gave
    /// up on, timed out, came out short or slow, and which backend stands out.
    Logs(cmd::logs::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("interloper: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let style = out::Style::new(cli.color);
    // The command runs on the runtime's workers, not on this thread: a future polled by
    // block_on wakes through a futex for every message it receives (the probe's aggregator
    // gets one per request), which cost a fifth of the throughput on plain HTTP.
    let command = runtime.spawn(async move {
        match cli.command {
            Command::Check(args) => cmd::check::run(args, style).await,
            Command::Probe(args) => cmd::probe::run(args, style).await,
            Command::Tls(args) => cmd::tls::run(args, style).await,
            Command::Pin(args) => cmd::pin::run(args).await,
            Command::Demo(args) => cmd::demo::run(args, style).await,
            Command::Lab(args) => cmd::lab::run(args).await,
            Command::Echo(args) => cmd::echo::run(args, style).await,
            Command::Logs(args) => cmd::logs::run(args, style).await,
        }
    });
    let result = match runtime.block_on(command) {
        Ok(result) => result,
        // A bug stays a panic, with its usual exit status.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(anyhow::anyhow!("the command was cancelled: {e}")),
    };
    // Connections and servers still open must not keep the process alive.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if out::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("interloper: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
