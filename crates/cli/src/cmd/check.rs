//! `interloper check URL…`: the one-command diagnosis.
//!
//! page → assets → every asset sampled (HTTP/2 and HTTP/1.1, fresh and reused connections) →
//! TLS path analysis (and the witness, with `--echo`) → findings → verdict → report.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use interloper_check::tlspath::{
    WitnessView, analyse_session, ask_witness, load_products, load_roots, sample_witness,
    to_findings_evidence,
};

/// Requests made to the witness during a check (fresh connections, two at a time).
const WITNESS_SAMPLES: usize = 30;
use interloper_check::{CheckOptions, ManifestSource, Progress, Samples, check_target};
use interloper_findings::{Severity, ThresholdConfig, WitnessEvidence, analyse};
use interloper_report::{
    Report, ReportMeta, TerminalStyle, render_html, render_json, render_terminal,
};

use crate::args::{ConnectArgs, Insecure, Trust, parse};
use crate::out::Style;

/// Arguments of `interloper check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Page URLs; several URLs are instances of one app and are compared.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Requests per asset, or `auto` (enough to see a 5 % intermittent problem at 95 %).
    #[arg(long, default_value = "auto", value_parser = parse::samples)]
    pub samples: Samples,
    /// Time budget for sampling each target (e.g. 60s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse::positive_duration)]
    pub budget: Duration,
    /// Requests in flight per target (kept low so the check does not load the server).
    #[arg(short = 'c', long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// An interloper witness (`interloper echo`) beside the server, e.g. https://host:8443;
    /// repeatable: each witness speaks for the targets on its host (or for the only target).
    #[arg(long, value_name = "URL")]
    pub echo: Vec<String>,
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
    /// Write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print the report as JSON (schema interloper.report/v1, see docs/report-json.md).
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when a finding is at or above this severity (info, warning, error, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "warning", value_parser = parse::severity)]
    pub fail_on: Severity,
    #[command(flatten)]
    pub trust: Trust,
    #[command(flatten)]
    pub insecure: Insecure,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Progress bars, one per target, on a terminal only.
struct Bars {
    bars: Vec<ProgressBar>,
}

struct TargetBar(ProgressBar);

impl Progress for TargetBar {
    fn stage(&self, target: &str, what: &str, steps: Option<u64>) {
        self.0.set_message(format!("{target}: {what}"));
        self.0.set_position(0);
        match steps {
            Some(n) => self.0.set_length(n),
            None => self.0.unset_length(),
        }
    }

    fn step(&self) {
        self.0.inc(1);
    }
}

impl Bars {
    fn new(n: usize, visible: bool) -> Bars {
        let multi = MultiProgress::with_draw_target(if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let style = ProgressStyle::with_template("{spinner} {bar:30} {pos:>5}/{len:5} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bars = (0..n)
            .map(|_| multi.add(ProgressBar::new(0).with_style(style.clone())))
            .collect();
        Bars { bars }
    }
}

/// Run `interloper check`.
pub async fn run(args: Args, style: Style) -> anyhow::Result<u8> {
    let tls_opts = args.trust.tls_path_options();
    for u in &args.urls {
        interloper_probe::Target::parse(u)?;
    }
    let roots = load_roots(&tls_opts)?;
    for w in &roots.warnings {
        eprintln!("interloper: warning: {w}");
    }
    let products = load_products(&tls_opts)?;
    let mut probe_cfg = args.connect.probe_config();
    args.trust.apply(&mut probe_cfg)?;
    probe_cfg.insecure_skip_verify = args.insecure.insecure_skip_verify;
    let manifest = match &args.manifest {
        None => None,
        Some(m) if m.starts_with("http://") || m.starts_with("https://") => Some(
            ManifestSource::Url(url::Url::parse(m).with_context(|| format!("--manifest {m}"))?),
        ),
        Some(m) => Some(ManifestSource::Bytes(
            std::fs::read(m).with_context(|| format!("--manifest {m}"))?,
        )),
    };
    let opts = CheckOptions {
        probe: probe_cfg.clone(),
        samples: args.samples,
        budget: args.budget,
        concurrency: usize::try_from(args.concurrency).unwrap_or(4),
        all_static: args.all_static,
        cross_origin: args.cross_origin,
        each_address: args.each_address,
        manifest,
        ..CheckOptions::default()
    };

    let bars = Bars::new(args.urls.len(), style.progress);
    let opts = Arc::new(opts);
    let mut tasks = Vec::new();
    for (i, url) in args.urls.iter().enumerate() {
        let opts = Arc::clone(&opts);
        let url = url.clone();
        let bar = TargetBar(
            bars.bars
                .get(i)
                .cloned()
                .unwrap_or_else(ProgressBar::hidden),
        );
        tasks.push(tokio::spawn(async move {
            let r = check_target(&url, &opts, &bar).await;
            bar.0.finish_and_clear();
            r
        }));
    }
    let mut witnesses: Vec<(Option<String>, WitnessView)> = Vec::new();
    for e in &args.echo {
        let mut view = ask_witness(e, &probe_cfg).await;
        if view.error.is_none() {
            // While the targets are sampled, sample the witness too: same path, a server
            // that answers at once.
            sample_witness(&mut view, &probe_cfg, WITNESS_SAMPLES, 2).await;
        }
        let host = url::Url::parse(e)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        witnesses.push((host, view));
    }
    let mut runs = Vec::new();
    for t in tasks {
        runs.push(t.await.context("a check task failed")??);
    }

    let single = runs.len() == 1 && witnesses.len() == 1;
    let target_hosts: Vec<Option<String>> = runs
        .iter()
        .map(|r| {
            url::Url::parse(&r.evidence.label)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
        })
        .collect();
    let mut unmatched_witnesses = Vec::new();
    for (witness_host, view) in &witnesses {
        if !single && (witness_host.is_none() || !target_hosts.contains(witness_host)) {
            unmatched_witnesses.push(format!(
                "witness {} is on no target's host, so it speaks for none (run it beside the \
                 server it vouches for, under the same name)",
                view.url
            ));
        }
    }
    // First pass: each chain on its own.
    let mut prepared = Vec::new();
    for run in runs {
        let host = url::Url::parse(&run.evidence.label)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        let name = host
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        // The witness speaks for the target it stands beside (same host), or for the only one.
        let w = witnesses
            .iter()
            .find(|(witness_host, _)| single || (host.is_some() && host == *witness_host))
            .map(|(_, view)| view);
        let report = match &run.tls {
            Some(tls) => Some(analyse_session(
                tls, &name, &roots, &products, &tls_opts, w, None,
            )?),
            None => None,
        };
        prepared.push((run, name, w, report));
    }
    // Second pass: instances of one app should present the same kind of chain. One anchored
    // only locally while a sibling's is public is judged against that sibling's chain, so an
    // issuer or key type that differs counts as the minted-certificate trait it is.
    let public_sibling: Option<(Vec<Vec<u8>>, interloper_chain::Negotiated)> =
        prepared.iter().find_map(|(run, _, _, report)| {
            let report = report.as_ref()?;
            let tls = run.tls.as_ref()?;
            (report.trust.status == interloper_chain::TrustStatus::AnchoredPublic).then(|| {
                (
                    tls.presented_chain.clone(),
                    interloper_chain::Negotiated {
                        tls_version: tls.version.clone(),
                        alpn: tls.alpn.clone(),
                    },
                )
            })
        });
    let mut evidence = Vec::new();
    let mut notes = unmatched_witnesses;
    for (run, name, w, mut report) in prepared {
        let mut ev = run.evidence;
        for n in &run.notes {
            notes.push(format!("{}: {n}", ev.label));
        }
        if let (Some(tls), Some(r), Some((chain, negotiated))) =
            (&run.tls, &report, &public_sibling)
            && r.trust.status == interloper_chain::TrustStatus::AnchoredLocalOnly
        {
            let reference = interloper_chain::Reference {
                chain: chain.clone(),
                negotiated: negotiated.clone(),
            };
            report = Some(analyse_session(
                tls,
                &name,
                &roots,
                &products,
                &tls_opts,
                w,
                Some(reference),
            )?);
        }
        if let Some(r) = &report {
            ev.tls = Some(to_findings_evidence(r));
        }
        if let Some(w) = w {
            ev.witness = witness_evidence(w);
            if let Some(e) = &w.error {
                notes.push(format!("witness: {e}"));
            }
        }
        evidence.push(ev);
    }
    let analysis = analyse(&evidence, &ThresholdConfig::default());
    let worst = analysis.worst();
    let now = now_rfc3339();
    let mut report = Report::new(
        analysis,
        evidence,
        ReportMeta::new(env!("CARGO_PKG_VERSION"), &now, std::env::args().collect()),
    );
    report.notes = notes;

    if let Some(path) = &args.html {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("--html {}", path.display()))?,
        );
        render_html(&report, &mut f)?;
        f.flush()?;
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    if args.json {
        render_json(&report, &mut w)?;
    } else {
        render_terminal(
            &report,
            &mut w,
            TerminalStyle {
                color: style.color,
                width: terminal_width(),
            },
        )?;
        for n in &report.notes {
            writeln!(w, "{}", style.dim(&format!("note: {n}")))?;
        }
        if let Some(path) = &args.html {
            writeln!(w, "HTML report: {}", path.display())?;
        }
    }
    w.flush()?;
    Ok(match worst {
        Some(s) if s >= args.fail_on => 1,
        _ => 0,
    })
}

fn witness_evidence(w: &WitnessView) -> Option<WitnessEvidence> {
    let cmp = w.comparison()?;
    Some(WitnessEvidence {
        url: w.url.clone(),
        client_random_matched: cmp.client_random_equal.unwrap_or(true),
        chain_matched: cmp.chain_equal.unwrap_or(true),
        client_ja4: w.client.as_ref().map(|c| c.ja4.clone()),
        witness_ja4: w.ja4.clone(),
        server_ms: w.server_ms,
        client_ms: w.client_ttfb_ms,
        samples: w
            .samples
            .iter()
            .map(|s| (s.client_ttfb_ms, s.server_ms))
            .collect(),
    })
}

/// Now, as the `generated_at` of a report.
pub(crate) fn now_rfc3339() -> String {
    interloper_chain::time::OffsetDateTime::now_utc()
        .format(&interloper_chain::time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}
