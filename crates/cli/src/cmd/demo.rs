//! `interloper demo`: starts the lab (origin instances with a Django-style static site, and an
//! intercepting middlebox with seeded faults, all on 127.0.0.1) and runs `check` against it,
//! printing the real report. The lab's public CA plays the public roots; the inspection CA plays
//! the enterprise root installed on the user's laptop.

use std::io::Write as _;

use std::path::{Path, PathBuf};

use interloper_lab::{Lab, LabConfig, SCENARIOS, Scenario, ScenarioFile};

use crate::args::ReportArgs;
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper demo`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.report/v1)")))]
pub struct Args {
    /// Scenario to run (see --list).
    #[arg(long, default_value = "inspection", value_name = "NAME")]
    pub scenario: String,
    /// Run the lab described in this scenario file instead (format: docs/lab.md).
    #[arg(long, value_name = "FILE", conflicts_with = "scenario")]
    pub config: Option<PathBuf>,
    /// Name the scenarios and what each shows.
    #[arg(long)]
    pub list: bool,
    /// Requests per asset.
    #[arg(short = 'n', long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub samples: u32,
    /// Make every planned request instead of stopping once the evidence decides.
    #[arg(long)]
    pub no_early_stop: bool,
    /// What stderr shows while the check runs (auto, lines, json, none: as `check --progress`).
    #[arg(long, value_enum, value_name = "HOW", default_value_t = super::check::ProgressMode::Auto)]
    pub progress: super::check::ProgressMode,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `interloper demo`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    let stdout = std::io::stdout();
    if args.list {
        let mut w = stdout.lock();
        for (i, s) in SCENARIOS.iter().enumerate() {
            let default = if i == 0 { " (default)" } else { "" };
            writeln!(w, "{:<11} {}{default}", s.name, s.about())?;
        }
        return Ok(Exit::Clean);
    }
    let scenario = chosen(&args.scenario, args.config.as_deref())?;
    let lab = Lab::start(scenario.lab.clone()).await?;

    let mut plan = lab.check_plan(args.samples);
    plan.command = std::env::args().collect();
    plan.sampling.early_stop = !args.no_early_stop;
    if !args.report.json {
        let mut w = stdout.lock();
        writeln!(
            w,
            "{}",
            style.terminal().dim(&format!(
                "demo ({}): {}\n  check {} requests per asset, lab public CA as the public roots, \
                 any inspection CA installed locally (as on a managed laptop)",
                scenario.name, scenario.about, args.samples
            ))
        )?;
        for (i, inst) in lab.instances().iter().enumerate() {
            let witness = inst
                .witness_url()
                .map(|u| format!(" (witness {u})"))
                .unwrap_or_default();
            writeln!(
                w,
                "{}",
                style
                    .terminal()
                    .dim(&format!("  instance {}: {}{witness}", i + 1, inst.url()))
            )?;
        }
        writeln!(w)?;
    }
    let code = super::check::run_plan(&plan, &args.report, args.progress, style).await;
    lab.shutdown().await;
    if !args.report.json && code.is_ok() && origin_is_broken(&scenario.lab) {
        let mut w = stdout.lock();
        writeln!(
            w,
            "\n{}",
            style.terminal().dim(&format!(
                "On the server, this command would confirm the cause (docs/lint.md):\n  {LINT_COMMAND}"
            ))
        )?;
    }
    code
}

/// The `lint` command the demo suggests for server-side faults.
pub(crate) const LINT_COMMAND: &str =
    "interloper lint --nginx-t --manage /srv/app/manage.py --python /srv/app/.venv/bin/python";

/// Whether the lab's origins themselves misbehave the way `lint` can confirm on a server:
/// missing, forbidden or mistyped files, or instances with different builds.
fn origin_is_broken(lab: &LabConfig) -> bool {
    let o = || lab.instances.iter().map(|i| &i.origin);
    let versions: std::collections::BTreeSet<u32> = o().map(|o| o.site_version).collect();
    o().any(|o| !o.missing.is_empty() || !o.forbidden.is_empty() || !o.wrong_type.is_empty())
        || versions.len() > 1
}

/// A scenario to start: built in, or read from a file.
pub(crate) struct Chosen {
    /// Its name (the file's, for `--config`).
    pub name: String,
    /// What it shows.
    pub about: String,
    /// The lab.
    pub lab: LabConfig,
}

/// `--config FILE` if given, else the built-in scenario called `name`.
pub(crate) fn chosen(name: &str, config: Option<&Path>) -> anyhow::Result<Chosen> {
    if let Some(path) = config {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("--config {}: {e}", path.display()))?;
        let file = ScenarioFile::from_toml(&text)
            .map_err(|e| anyhow::anyhow!("--config {}: {e}", path.display()))?;
        return Ok(Chosen {
            name: path
                .file_stem()
                .map_or_else(|| "config".into(), |s| s.to_string_lossy().into_owned()),
            about: file.about,
            lab: file.lab,
        });
    }
    let scenario = Scenario::find(name).ok_or_else(|| {
        let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        anyhow::anyhow!(
            "--scenario {name}: no such scenario (try {})",
            names.join(", ")
        )
    })?;
    let file = scenario.file()?;
    Ok(Chosen {
        name: scenario.name.to_string(),
        about: file.about,
        lab: file.lab,
    })
}
