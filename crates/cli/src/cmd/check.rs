//! `interloper check URL…`: the one-command diagnosis.
//!
//! The pipeline lives in `interloper_check::run_check`; this file maps the flags to a
//! [`CheckPlan`], draws progress bars from the engine's [`CheckObserver`] calls, and writes the
//! outcome's report like every other command's (`out::write_report`) with an exit code.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use interloper_check::{
    CheckPlan, Discovery, HelloShapes, Limits, ManifestSource, Samples, Sampling, run_check,
};

use crate::args::{ConnectArgs, Insecure, ReportArgs, Trust, parse};
use crate::exit::Exit;
use crate::out::{Style, write_report};

mod progress;
pub use progress::ProgressMode;

/// Arguments of `interloper check`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.report/v1, see docs/report-json.md)")))]
pub struct Args {
    /// Page URLs; several URLs are instances of one app and are compared.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Requests per asset, or `auto` (enough to see a 5 % intermittent problem at 95 %).
    #[arg(long, default_value = "auto", value_parser = parse::samples)]
    pub samples: Samples,
    /// Time budget for the whole check: discovery, verification, sampling and the witnesses
    /// (e.g. 60s, 2m); requests still running then are cut short (docs/limits.md).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse::positive_duration)]
    pub budget: Duration,
    /// Requests in flight per target (kept low so the check does not load the server).
    #[arg(short = 'c', long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// An interloper witness (`interloper echo`) beside the server, e.g. https://host:8443;
    /// repeatable: each witness speaks for the targets on its host (or for the only target).
    #[arg(long, value_name = "URL")]
    pub echo: Vec<String>,
    /// Interception products file replacing the built-in one (TOML).
    #[arg(long, value_name = "FILE")]
    pub products: Option<PathBuf>,
    /// Django's staticfiles.json, as a URL or a file, instead of discovering it.
    #[arg(long, value_name = "URL|FILE")]
    pub manifest: Option<String>,
    /// Probe every manifest entry, not only what the page references.
    #[arg(long)]
    pub all_static: bool,
    /// Probe assets on other origins too.
    #[arg(long)]
    pub cross_origin: bool,
    /// Probe each resolved address of the host separately.
    #[arg(long)]
    pub each_address: bool,
    /// ClientHello shapes to compare (HTTPS): classic (X25519, always), pq (X25519MLKEM768,
    /// what browsers send) and large (the pq hello over several TCP segments); six fresh
    /// connections per extra shape and target.
    #[arg(long, value_name = "LIST", default_value = "classic,pq,large", value_parser = parse::hello_shapes)]
    pub hello_shapes: parse::HelloShapeList,
    /// Make every planned request instead of stopping once the evidence decides (a sequential
    /// test per target and asset class: docs/sampling.md); `--samples` is the upper bound
    /// either way.
    #[arg(long)]
    pub no_early_stop: bool,
    /// What stderr shows while the check runs: bars on a terminal (auto), one line per change
    /// of a target's state (lines), one JSON object per event (json), or nothing (none).
    #[arg(long, value_enum, value_name = "HOW", default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub trust: Trust,
    #[command(flatten)]
    pub insecure: Insecure,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl Args {
    /// The check these flags describe.
    pub fn plan(&self) -> anyhow::Result<CheckPlan> {
        let parse_url = |flag: &str, u: &str| {
            url::Url::parse(u).with_context(|| format!("{flag}{u}: not a URL"))
        };
        let targets = self
            .urls
            .iter()
            .map(|u| Ok(interloper_probe::Target::parse(u)?.url))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let witnesses = self
            .echo
            .iter()
            .map(|u| parse_url("--echo ", u))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let manifest = match &self.manifest {
            None => None,
            Some(m) if m.starts_with("http://") || m.starts_with("https://") => {
                Some(ManifestSource::Url(parse_url("--manifest ", m)?))
            }
            Some(m) => Some(ManifestSource::File(PathBuf::from(m))),
        };
        let mut plan = CheckPlan::new(targets);
        for f in &self.trust.roots.cacert {
            if !f.is_file() {
                anyhow::bail!("--cacert {}: no such file", f.display());
            }
        }
        self.trust.check_private_roots()?;
        plan.trust = interloper_check::Trust {
            public_roots: self.trust.public_roots.clone(),
            cacert: self.trust.roots.cacert.clone(),
            private_roots: self.trust.private_roots.clone(),
            use_os_roots: !self.trust.roots.no_os_roots,
            pins: self.trust.expect_pin.clone(),
            products: self.products.clone(),
            insecure_skip_verify: self.insecure.insecure_skip_verify,
        };
        plan.witnesses = witnesses;
        plan.sampling = Sampling {
            samples: self.samples,
            concurrency: usize::try_from(self.concurrency).unwrap_or(4),
            each_address: self.each_address,
            hello_shapes: HelloShapes::from_list(&self.hello_shapes.0),
            early_stop: !self.no_early_stop,
            ..Sampling::default()
        };
        plan.discovery = Discovery {
            all_static: self.all_static,
            cross_origin: self.cross_origin,
            manifest,
            // A person's check follows redirects wherever a browser would.
            redirect_hosts: None,
        };
        plan.budget = self.budget;
        plan.limits = Limits::default();
        plan.connection = self.connect.probe_config();
        plan.command = std::env::args().collect();
        Ok(plan)
    }
}

/// Run `interloper check`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    let plan = args.plan()?;
    run_plan(&plan, &args.report, args.progress, style).await
}

/// Run a plan and write its outcome: problems when a finding reaches `--fail-on`, else
/// incomplete (3) when the page or a stylesheet could not be examined.
pub async fn run_plan(
    plan: &CheckPlan,
    output: &ReportArgs,
    progress: ProgressMode,
    style: Style,
) -> anyhow::Result<Exit> {
    let observer = Arc::new(progress::Progress::new(
        &plan.targets,
        progress,
        style.progress,
    ));
    let outcome = run_check(plan, observer).await?;
    write_report(&outcome.report, output, style)?;
    Ok(Exit::from_diagnosed(
        &outcome.report.findings,
        output.fail_on,
    ))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct CheckCli {
        #[command(flatten)]
        args: super::Args,
    }

    fn plan_of(argv: &[String]) -> interloper_check::CheckPlan {
        let cli =
            CheckCli::try_parse_from(std::iter::once("check".to_string()).chain(argv.to_vec()))
                .expect("the arguments parse");
        cli.args.plan().expect("the arguments make a plan")
    }

    /// `interloper lab` prints, and the scenario suite runs, the command line a plan renders:
    /// parsed back by the real flags it must describe the same check.
    #[test]
    fn a_plan_survives_its_own_command_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "").expect("write");
        let ca = ca.display().to_string();
        let pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let given: Vec<String> = [
            "--no-os-roots",
            "--no-proxy",
            "--budget",
            "30s",
            "--timeout",
            "1500ms",
            "-c",
            "8",
            "--samples",
            "7",
            "--public-roots",
            &ca,
            "--each-address",
            "--insecure-skip-verify",
            "-4",
            "--max-time",
            "9s",
            "--products",
            &ca,
            "--all-static",
            "--manifest",
            "/srv/static/staticfiles.json",
            "--resolve",
            "app-1.localhost:443:127.0.0.1",
            "--resolve",
            "app-1.localhost:8443:[::1]",
            "--echo",
            "https://app-1.localhost:8443/",
            "--cacert",
            &ca,
            "--expect-pin",
            pin,
            "https://app-1.localhost/",
            "https://app-2.localhost:8443/",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        let plan = plan_of(&given);
        let rendered = plan.to_check_args();
        let mut sorted_given = given.clone();
        sorted_given.sort();
        let mut sorted_rendered = rendered.clone();
        sorted_rendered.sort();
        assert_eq!(
            sorted_rendered, sorted_given,
            "every flag rendered, nothing added"
        );
        assert_eq!(plan_of(&rendered).to_check_args(), rendered);
        assert_eq!(plan.connection.total_timeout.as_millis(), 9000);
    }
}
