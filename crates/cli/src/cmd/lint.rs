//! `interloper lint`: reads the server's nginx configuration, STATIC_ROOT, permissions,
//! Django's settings and the mount table, and reports what would break static files. It
//! changes nothing. The reading and judging is `interloper_lint::run_lint`.

use std::path::PathBuf;

use anyhow::Context as _;

use interloper_lint::{DjangoSource, LintPlan, NginxSource};
use interloper_report::{LintInput, LintReport};

use crate::args::ReportArgs;
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper lint`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print the report as JSON (schema interloper.lint/v1, see docs/lint.md)")))]
pub struct Args {
    /// nginx configuration to read: a file (its includes are read too) or saved `nginx -T`
    /// output.
    #[arg(long, value_name = "FILE", conflicts_with = "nginx_t")]
    pub nginx_config: Option<PathBuf>,
    /// Run `nginx -T` and read every file it dumps (gives file:line for each directive).
    #[arg(long = "nginx-t")]
    pub nginx_t: bool,
    /// The nginx binary for --nginx-t (default /usr/sbin/nginx, then nginx on PATH).
    #[arg(long, value_name = "PATH", requires = "nginx_t")]
    pub nginx: Option<PathBuf>,
    /// STATIC_ROOT (default: Django's setting, with --manage or --settings).
    #[arg(long, value_name = "DIR")]
    pub static_root: Option<PathBuf>,
    /// The URL path of static files (default: Django's STATIC_URL, else /static/).
    #[arg(long, value_name = "PATH")]
    pub static_url: Option<String>,
    /// The project's manage.py: its settings are read by the project's Python (--python).
    #[arg(long, value_name = "FILE", conflicts_with = "settings")]
    pub manage: Option<PathBuf>,
    /// The project's Python (a venv's bin/python), for --manage or --settings.
    #[arg(long, value_name = "PATH", default_value = "python3")]
    pub python: PathBuf,
    /// Django settings module (e.g. mysite.settings), importable from --project-dir.
    #[arg(long, value_name = "MODULE")]
    pub settings: Option<String>,
    /// Where --settings is importable from (default: the current directory).
    #[arg(long, value_name = "DIR", requires = "settings")]
    pub project_dir: Option<PathBuf>,
    /// The user nginx's workers run as (default: the `user` directive, else nobody).
    #[arg(long, value_name = "NAME|UID")]
    pub user: Option<String>,
    /// A mount table to read instead of /proc/self/mountinfo (e.g. a container's).
    #[arg(long, value_name = "FILE")]
    pub mountinfo: Option<PathBuf>,
    /// Another instance's staticfiles.json, to compare builds: a file, or the URL the other
    /// instance serves it at (repeatable).
    #[arg(long, value_name = "FILE|URL")]
    pub compare_manifest: Vec<String>,
    /// A root your organisation runs (PEM; repeatable), as `check --private-root`: the chain
    /// in each `ssl_certificate` file may end at it besides the public roots. With it, a file
    /// whose chain does not reach it is IL621.
    #[arg(long = "private-root", value_name = "FILE")]
    pub private_roots: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Run `interloper lint`: problems when a finding is at or above `--fail-on`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    // Other instances' manifests named by URL are fetched first, over the network; the rest
    // (reading files, running Python) is blocking work.
    let mut fetched = Vec::new();
    for spec in args.compare_manifest.iter().filter(|s| is_url(s)) {
        fetched.push((spec.clone(), fetch_manifest(spec).await?));
    }
    tokio::task::spawn_blocking(move || run_blocking(args, fetched, style)).await?
}

fn is_url(spec: &str) -> bool {
    spec.starts_with("http://") || spec.starts_with("https://")
}

/// Longest a manifest fetch may take, and its largest body.
const MANIFEST_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
const MANIFEST_MAX_BYTES: usize = 64 * 1024 * 1024;

/// GETs another instance's `staticfiles.json` with the probe: no cookies or credentials are
/// sent, so an untrusted chain costs nothing but is said in the error when the fetch fails.
async fn fetch_manifest(url: &str) -> anyhow::Result<Vec<u8>> {
    let target = interloper_probe::Target::parse(url)
        .with_context(|| format!("--compare-manifest {url}"))?;
    let mut cfg = interloper_probe::ProbeConfig::default();
    cfg.phase_timeout = MANIFEST_FETCH_TIMEOUT;
    cfg.total_timeout = MANIFEST_FETCH_TIMEOUT;
    let probe =
        interloper_probe::Probe::new(cfg).with_context(|| format!("--compare-manifest {url}"))?;
    let mut session = probe.session(interloper_probe::ConnectionPolicy::Fresh);
    let (record, body) = session
        .request_keeping_body(&target, 0, MANIFEST_MAX_BYTES)
        .await;
    if let Some(e) = &record.error {
        anyhow::bail!("--compare-manifest {url}: {}", e.message);
    }
    match record.status {
        Some(200) => Ok(body),
        Some(status) => anyhow::bail!("--compare-manifest {url}: HTTP {status}"),
        None => anyhow::bail!("--compare-manifest {url}: no response"),
    }
}

fn plan(args: &Args) -> anyhow::Result<LintPlan> {
    let nginx = if args.nginx_t {
        Some(NginxSource::Dump {
            text: interloper_lint::nginx_dump(args.nginx.as_deref())?,
            label: "nginx -T".into(),
        })
    } else {
        args.nginx_config.clone().map(NginxSource::File)
    };
    let django = match (&args.manage, &args.settings) {
        (Some(manage), _) => Some(DjangoSource::Manage {
            manage: manage.clone(),
            python: args.python.clone(),
        }),
        (None, Some(settings)) => Some(DjangoSource::Settings {
            python: args.python.clone(),
            settings: settings.clone(),
            dir: args
                .project_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(".")),
        }),
        (None, None) => None,
    };
    if nginx.is_none() && django.is_none() && args.static_root.is_none() {
        anyhow::bail!(
            "nothing to read: give --nginx-config FILE or --nginx-t, --static-root DIR, or --manage manage.py"
        );
    }
    Ok(LintPlan {
        nginx,
        static_root: args.static_root.clone(),
        static_url: args.static_url.clone(),
        django,
        user: args.user.clone(),
        mountinfo: args.mountinfo.clone(),
        compare_manifests: args
            .compare_manifest
            .iter()
            .filter(|s| !is_url(s))
            .map(PathBuf::from)
            .collect(),
        declared_roots: args.private_roots.clone(),
        ..LintPlan::default()
    })
}

fn run_blocking(args: Args, fetched: Vec<(String, Vec<u8>)>, style: Style) -> anyhow::Result<Exit> {
    let mut plan = plan(&args)?;
    plan.compare_manifest_documents = fetched;
    let outcome = interloper_lint::run_lint(&plan)?;
    let worst = outcome.analysis.worst();
    let report = LintReport::new(
        outcome.analysis,
        outcome
            .inputs
            .into_iter()
            .map(|(name, value)| LintInput { name, value })
            .collect(),
        outcome.django.map(serde_json::to_value).transpose()?,
        crate::out::report_meta(),
    );
    crate::out::write_report(&report, &args.report, style)?;
    Ok(Exit::from_findings(worst, args.report.fail_on))
}
