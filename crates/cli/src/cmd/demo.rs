//! `interloper demo`: starts the lab (origin instances with a Django-style static site, and an
//! intercepting middlebox with seeded faults, all on 127.0.0.1) and runs `check` against it,
//! printing the real report. The lab's public CA plays the public roots; the inspection CA plays
//! the enterprise root installed on the user's laptop.

use std::io::Write as _;

use clap::Parser as _;
use interloper_lab::{Lab, SCENARIOS, Scenario};

use crate::out::Style;

/// Arguments of `interloper demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario to run (see --list).
    #[arg(long, default_value = "inspection", value_name = "NAME")]
    pub scenario: String,
    /// Name the scenarios and what each shows.
    #[arg(long)]
    pub list: bool,
    /// Requests per asset.
    #[arg(short = 'n', long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub samples: u32,
    /// Print the report as JSON (schema interloper.report/v1).
    #[arg(long)]
    pub json: bool,
}

/// `check`'s own argument parser, so the demo runs exactly what `interloper check` runs.
#[derive(Debug, clap::Parser)]
#[command(name = "check")]
struct CheckCli {
    #[command(flatten)]
    args: super::check::Args,
}

/// `interloper demo`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<u8> {
    let stdout = std::io::stdout();
    if args.list {
        let mut w = stdout.lock();
        for (i, s) in SCENARIOS.iter().enumerate() {
            let default = if i == 0 { " (default)" } else { "" };
            writeln!(w, "{:<11} {}{default}", s.name, s.about)?;
        }
        return Ok(0);
    }
    let scenario = scenario(&args.scenario)?;
    let lab = Lab::start(scenario.config()).await?;

    let mut argv = check_argv(&lab, args.samples);
    if args.json {
        argv.push("--json".into());
    }
    let check = CheckCli::try_parse_from(&argv)
        .map_err(|e| anyhow::anyhow!("demo: building the check: {e}"))?
        .args;

    if !args.json {
        let mut w = stdout.lock();
        writeln!(
            w,
            "{}",
            style.dim(&format!(
                "demo ({}): {}\n  check {} requests per asset, lab public CA as the public roots, \
                 any inspection CA installed locally (as on a managed laptop)",
                scenario.name, scenario.about, args.samples
            ))
        )?;
        for (i, inst) in lab.instances().iter().enumerate() {
            writeln!(
                w,
                "{}",
                style.dim(&format!("  instance {}: {}", i + 1, inst.url()))
            )?;
        }
        writeln!(w)?;
    }
    let code = super::check::run(check, style).await;
    lab.shutdown().await;
    code
}

/// The `interloper check` arguments (program name first) that check the lab's instances as a
/// user on a managed laptop would: lab public CA as the public roots, inspection CAs installed
/// locally, no OS roots, no proxy, every name resolved to 127.0.0.1.
pub(crate) fn check_argv(lab: &Lab, samples: u32) -> Vec<String> {
    let mut argv: Vec<String> = [
        "check",
        "--no-os-roots",
        "--no-proxy",
        "--budget",
        "30s",
        "--timeout",
        "10s",
        "-c",
        "8",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    argv.push("--samples".into());
    argv.push(samples.to_string());
    argv.push("--public-roots".into());
    argv.push(lab.public_roots_pem_path().display().to_string());
    for inst in lab.instances() {
        argv.push("--resolve".into());
        argv.push(format!("localhost:{}:127.0.0.1", inst.addr.port()));
        // The inspection CA (or a private CA) is installed on the user's laptop, as
        // enterprises do.
        for ca in inst.local_roots() {
            argv.push("--cacert".into());
            argv.push(ca.display().to_string());
        }
    }
    for inst in lab.instances() {
        argv.push(inst.url());
    }
    argv
}

/// The scenario called `name`, or an error naming the others.
pub(crate) fn scenario(name: &str) -> anyhow::Result<Scenario> {
    Scenario::find(name).ok_or_else(|| {
        let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        anyhow::anyhow!(
            "--scenario {name}: no such scenario (try {})",
            names.join(", ")
        )
    })
}
