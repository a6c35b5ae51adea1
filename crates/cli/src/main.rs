//! The `interloper` binary: parses arguments, dispatches, sets the exit code.
//!
//! Exit codes (decided in `exit.rs`, for every command):
//!
//! - `0`: nothing wrong: no finding at or above `--fail-on` (`check`, `logs`, `har`, `rum`, `visits`,
//!   `lint`, `pcap`, `demo`; `tls`: by default every chain clean), every request succeeded
//!   (`probe`); or the command did what was asked
//!   (`pin`, `completions`, `man`, `--help`, `--version`, `demo --list`, a server stopped by
//!   Ctrl-C or SIGTERM).
//! - `1`: a problem found: a finding at or above `--fail-on`, a failed request, a chain that
//!   is not clean or could not be fetched.
//! - `2`: usage or input error, one line on stderr (clap's usage message for a bad flag or
//!   value): an unreadable or malformed file, a URL that is not http(s), a port that cannot be
//!   bound, a server whose chain `pin` cannot get.
//! - `3`: incomplete (`check`, `demo`): the command ran but could not examine what it was asked
//!   to (the page or a stylesheet did not decode, was over the size limit, redirected in a
//!   loop, was an error page or not HTML: IL310), and found no problem at or above
//!   `--fail-on` in the rest (a problem wins: `1`).
//!
//! A closed stdout (`| head`) ends the program quietly with `0`. A panic is a bug and keeps
//! Rust's status, 101.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

mod args;
mod cmd;
mod exit;
mod logging;
mod out;

use exit::Exit;

/// What `--version` prints (`-V`: the version alone): enough for a bug report to say exactly
/// what the user ran. The facts come from build.rs; "unknown" where it could not learn them.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nrevision: ",
    env!("INTERLOPER_BUILD_REVISION"),
    " (",
    env!("INTERLOPER_BUILD_REVISION_DATE"),
    ")\nbuilt: ",
    env!("INTERLOPER_BUILD_DATE"),
    ", profile ",
    env!("INTERLOPER_BUILD_PROFILE"),
    "\ntarget: ",
    env!("INTERLOPER_BUILD_TARGET"),
    "\ninterception products: ",
    env!("INTERLOPER_BUILD_PRODUCTS_ENTRIES"),
    ", updated ",
    env!("INTERLOPER_BUILD_PRODUCTS_DATE"),
    "\nhello stacks: ",
    env!("INTERLOPER_BUILD_STACKS_ENTRIES"),
    ", updated ",
    env!("INTERLOPER_BUILD_STACKS_DATE"),
);

/// Find out why a site's static files load slowly, partially or not at all, and whether
/// something on the path intercepts HTTPS.
#[derive(Debug, Parser)]
#[command(
    name = "interloper",
    version,
    long_version = LONG_VERSION,
    about,
    propagate_version = true
)]
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
    /// Run the Prometheus exporter: each scrape of /probe?target=URL&module=NAME runs one
    /// bounded check and answers its metrics (blackbox_exporter's multi-target pattern).
    Serve(cmd::serve::Args),
    /// Read access logs (nginx, Apache, HAProxy, Avi JSON): which static requests clients gave
    /// up on, timed out, came out short or slow, and which backend stands out.
    Logs(cmd::logs::Args),
    /// Summarise the browser witness's visits log (`echo --visits-log`): visitors intercepted,
    /// by hello stack, browser and network, stalls; or one visit by its code.
    Visits(cmd::visits::Args),
    /// Read HAR recordings (Chrome/Edge, Firefox, Safari, Playwright, Charles, Fiddler,
    /// mitmproxy): which requests stalled and in which phase, failed, never got a response or
    /// queued, and which server address or recording stands out.
    Har(cmd::har::Args),
    /// Read real users' beacons (interloper-django): which instance, client network, file and
    /// phase their browsers' static files stall or fail in.
    Rum(cmd::rum::Args),
    /// Read the server: nginx's configuration (`nginx -T`), STATIC_ROOT and its permissions,
    /// Django's settings and manifest, the mount table; report what breaks static files.
    Lint(cmd::lint::Args),
    /// Read packet captures (pcap/pcapng): per TCP connection where the seconds went, who
    /// ended it, who spoke TLS (JA3/JA4), with findings.
    Pcap(cmd::pcap::Args),
    /// Print the completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions(cmd::completions::Args),
    /// Print the manual page (roff), or write one page per command with --out DIR.
    Man(cmd::man::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are answers, not errors.
            let exit = if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Clean
            };
            let _ = e.print();
            return exit.into();
        }
    };
    finish(run(cli))
}

/// Runs the command; an `Err` is an input error (or a closed stdout).
fn run(cli: Cli) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let style = out::Style::new(cli.color);
    // The command runs on the runtime's workers, not on this thread: a future polled by
    // block_on wakes through a futex for every message it receives (the probe's aggregator
    // gets one per request), which cost a fifth of the throughput on plain HTTP.
    let command = runtime.spawn(async move {
        match cli.command {
            // `check` and `demo` still report a number (their pipeline is moving to
            // interloper-check); it means the same as `Exit`.
            Command::Check(args) => cmd::check::run(args, style).await,
            Command::Demo(args) => cmd::demo::run(args, style).await,
            Command::Probe(args) => cmd::probe::run(args, style).await,
            Command::Tls(args) => cmd::tls::run(args, style).await,
            Command::Pin(args) => cmd::pin::run(args).await,
            Command::Lab(args) => cmd::lab::run(args).await,
            Command::Echo(args) => cmd::echo::run(args, style).await,
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Logs(args) => cmd::logs::run(args, style).await,
            Command::Visits(args) => cmd::visits::run(args, style).await,
            Command::Har(args) => cmd::har::run(args, style).await,
            Command::Rum(args) => cmd::rum::run(args, style).await,
            Command::Lint(args) => cmd::lint::run(args, style).await,
            Command::Pcap(args) => cmd::pcap::run(args, style).await,
            // The generators get the definition from here, so no command imports the root.
            Command::Completions(args) => cmd::completions::run(&args, Cli::command()),
            Command::Man(args) => cmd::man::run(&args, Cli::command()),
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
    result
}

/// The exit status of a run: an error is reported in one line and is an input error, unless
/// it is stdout having gone away.
fn finish(result: anyhow::Result<Exit>) -> ExitCode {
    match result {
        Ok(exit) => exit.into(),
        Err(e) if out::is_broken_pipe(&e) => Exit::Clean.into(),
        // A server's last word is one of its log lines, in the format asked for.
        Err(e) if logging::installed() => {
            log::error!(target: "interloper", err:% = format!("{e:#}"); "stopped");
            Exit::Error.into()
        }
        Err(e) => {
            eprintln!("interloper: {e:#}");
            Exit::Error.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
