//! `interloper probe URL…`: timed requests and a per-URL summary (terminal or JSON); the
//! terminal rendering is `interloper_report::render_probe_terminal`.

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use interloper_model::RequestRecord;
use interloper_probe::{ConnectionPolicy, HttpVersionPref, Probe, RunObserver, RunOptions, Target};

use crate::args::{ConnectArgs, Insecure, Roots, parse};
use crate::exit::Exit;
use crate::out::Style;

/// Arguments of `interloper probe`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// URLs to probe (http:// or https://).
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Requests per URL [default: 1, or unlimited with --duration].
    #[arg(short = 'n', long)]
    pub count: Option<u64>,
    /// Requests in flight per URL.
    #[arg(short = 'c', long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub concurrency: u64,
    /// Keep starting requests for this long per URL (e.g. 10s, 500ms, 2m).
    #[arg(long, value_name = "DURATION", value_parser = parse::positive_duration)]
    pub duration: Option<Duration>,
    /// A new connection (TCP + TLS) for every request [default].
    #[arg(long, conflicts_with = "reuse")]
    pub fresh_connections: bool,
    /// Reuse connections (keep-alive); the first request on each pays the set-up.
    #[arg(long)]
    pub reuse: bool,
    /// HTTP/1.1 only.
    #[arg(long, conflicts_with = "http2")]
    pub http1: bool,
    /// HTTP/2 only (ALPN h2; prior knowledge for http://).
    #[arg(long)]
    pub http2: bool,
    /// Probe every resolved address as its own target.
    #[arg(long)]
    pub each_address: bool,
    /// Abandon a body after this many bytes (e.g. 10M); bodies are never held in memory.
    #[arg(long, value_name = "BYTES", value_parser = parse::bytes)]
    pub max_body: Option<u64>,
    /// Print the report as JSON (schema interloper.probe/v1, see docs/probe-json.md).
    #[arg(long)]
    pub json: bool,
    /// With --json, per-request records kept per URL (the summary always covers all).
    #[arg(long, default_value_t = 10_000)]
    pub max_records: usize,
    #[command(flatten)]
    pub roots: Roots,
    #[command(flatten)]
    pub insecure: Insecure,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Turn arguments into a probe, targets and run options (an error here is an input error).
pub fn prepare(args: &Args) -> anyhow::Result<(Probe, Vec<Target>, RunOptions)> {
    let targets = args
        .urls
        .iter()
        .map(|u| Target::parse(u))
        .collect::<Result<Vec<_>, _>>()?;
    let mut cfg = args.connect.probe_config();
    args.roots.apply(&mut cfg)?;
    cfg.insecure_skip_verify = args.insecure.insecure_skip_verify;
    cfg.http = if args.http1 {
        HttpVersionPref::Http1
    } else if args.http2 {
        HttpVersionPref::Http2
    } else {
        HttpVersionPref::Auto
    };
    cfg.max_body = args.max_body;
    cfg.max_records_kept = if args.json { args.max_records } else { 0 };
    let probe = Probe::new(cfg)?;
    let mut opts = RunOptions::default();
    opts.count = args.count;
    opts.concurrency = usize::try_from(args.concurrency).unwrap_or(1);
    opts.duration = args.duration;
    opts.policy = if args.reuse {
        ConnectionPolicy::Reuse
    } else {
        ConnectionPolicy::Fresh
    };
    opts.each_address = args.each_address;
    Ok((probe, targets, opts))
}

/// `interloper probe`: clean when every request succeeded.
pub async fn run(args: Args, style: Style) -> anyhow::Result<Exit> {
    let (probe, targets, opts) = prepare(&args)?;
    execute(&probe, &targets, &opts, args.json, style).await
}

/// Run and print.
pub async fn execute(
    probe: &Probe,
    targets: &[Target],
    opts: &RunOptions,
    json: bool,
    style: Style,
) -> anyhow::Result<Exit> {
    let mut progress = Progress::new(style.progress);
    let report = probe.run(targets, opts, &mut progress).await;
    progress.finish();
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer(&mut w, &report).context("writing JSON")?;
        writeln!(w)?;
    } else {
        interloper_report::render_probe_terminal(&report, &mut w, style.terminal())?;
    }
    w.flush()?;
    Ok(Exit::problems_if(!report.all_ok()))
}

/// Progress on stderr, only on a terminal.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress {
            bar: enabled.then(ProgressBar::hidden),
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl RunObserver for Progress {
    fn target_started(&mut self, target: &Target, expected: Option<u64>) {
        if self.bar.is_none() {
            return;
        }
        if let Some(old) = self.bar.take() {
            old.finish_and_clear();
        }
        let bar = match expected {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{spinner} {msg} {bar:30} {pos}/{len} {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner(),
        };
        bar.set_message(target.url.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bar = Some(bar);
    }
    fn record(&mut self, _record: &RequestRecord) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
}
