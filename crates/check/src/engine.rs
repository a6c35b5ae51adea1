//! The whole check: every target discovered and sampled concurrently, the witnesses asked,
//! each TLS path analysed (twice when a sibling instance gives a public reference), and the
//! evidence turned into findings and one report.

use std::sync::Arc;
use std::time::Instant;

use interloper_chain::{ChainReport, Negotiated, Reference, TrustStatus};
use interloper_findings::{Analysis, TargetEvidence, ThresholdConfig, WitnessEvidence, analyse};
use interloper_report::{Report, ReportMeta};

use crate::early_tls::{EarlyTls, speaks_for};
use crate::observer::CheckObserver;
use crate::plan::{CheckPlan, ManifestSource};
use crate::tlspath::{
    JudgeSession as _, TlsPath, TlsPathOptions, WitnessView, ask_witness, sample_witness,
    tls_evidence, witness_verdict,
};
use crate::{CheckError, CheckOptions, TargetObserver, TargetRun, check_target};

/// The shortest whole-request limit a budget can impose.
const MIN_REQUEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What a check found: the evidence, the analysis, and the report document built from them.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The report: verdict, findings, per-target statistics, notes (what `--json` prints).
    pub report: Report,
    /// The evidence of every target, in the plan's order, as the findings read it.
    pub evidence: Vec<TargetEvidence>,
    /// The TLS path analysis of each target's first HTTPS connection (None for plain HTTP or
    /// when no connection was made), in the plan's order.
    pub chains: Vec<Option<ChainReport>>,
    /// Whether the time budget cut sampling short for any target.
    pub budget_exhausted: bool,
    /// Targets whose sampling stopped early, every question decided (sequential test).
    pub decided_early: usize,
}

impl CheckOutcome {
    /// The worst severity among the findings, if any.
    pub fn worst(&self) -> Option<interloper_findings::Severity> {
        interloper_findings::worst(&self.report.findings)
    }
}

/// One target's progress, forwarded to the check's observer with the target's index.
struct IndexedTarget {
    index: usize,
    observer: Arc<dyn CheckObserver>,
    early: Arc<EarlyTls>,
}

impl TargetObserver for IndexedTarget {
    fn stage(&self, target: &str, what: &str, steps: Option<u64>) {
        self.observer.stage(self.index, target, what, steps);
    }

    fn step(&self) {
        self.observer.step(self.index);
    }

    fn deciding(&self, state: &str) {
        self.observer.deciding(self.index, state);
    }

    fn handshake(&self, session: &interloper_model::TlsInfo) {
        self.early.handshake(self.index, session);
    }
}

/// Run a whole check: discover, verify and sample every target, ask the witnesses, analyse
/// each TLS path, and build the report.
///
/// Errors are what the user must fix before any evidence exists (an unreadable `--cacert`, a
/// target that is not http(s)); everything that goes wrong on the network is evidence.
pub async fn run_check(
    plan: &CheckPlan,
    observer: Arc<dyn CheckObserver>,
) -> Result<CheckOutcome, CheckError> {
    let targets = plan
        .targets
        .iter()
        .map(|u| interloper_probe::Target::from_url(u.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let tls = Arc::new(crate::tlspath::load(&tls_options(plan))?);
    for w in tls.warnings() {
        observer.warning(w);
    }
    let early = Arc::new(EarlyTls::new(
        Arc::clone(&tls),
        Arc::clone(&observer),
        targets
            .iter()
            .map(|t| (host_of(t.url.as_str()), server_name(t.url.as_str())))
            .collect(),
        targets.len() == 1 && plan.witnesses.len() == 1,
    ));
    // One deadline for the whole check: discovery, verification, sampling and the witnesses.
    let deadline = Instant::now() + plan.budget;
    let probe_cfg = plan.probe_config();
    let opts = Arc::new(target_options(plan, &probe_cfg, deadline)?);

    let mut tasks = Vec::new();
    for (index, target) in targets.into_iter().enumerate() {
        let opts = Arc::clone(&opts);
        let observer = Arc::clone(&observer);
        let early = Arc::clone(&early);
        tasks.push(tokio::spawn(async move {
            let progress = IndexedTarget {
                index,
                observer: Arc::clone(&observer),
                early,
            };
            let run = check_target(target.url.as_str(), &opts, &progress).await;
            observer.target_done(index);
            run
        }));
    }
    // While the targets are sampled, ask and sample each witness (all at once: a witness
    // behind a stalling box must not hold the check after its targets are decided).
    let witness_tasks: Vec<_> = plan
        .witnesses
        .iter()
        .map(|url| {
            tokio::spawn(witness_view(
                url.to_string(),
                probe_cfg.clone(),
                (
                    plan.limits.witness_samples,
                    plan.sampling.concurrency.max(1),
                ),
                deadline,
                Arc::clone(&early),
            ))
        })
        .collect();
    let mut witnesses = Vec::new();
    for task in witness_tasks {
        witnesses.push(task.await.map_err(CheckError::Task)?);
    }
    let mut runs = Vec::new();
    for t in tasks {
        runs.push(t.await.map_err(CheckError::Task)??);
    }
    let decided_early = runs.iter().filter(|r| r.decided_early).count();

    let (evidence, chains, notes, budget_exhausted) = join_evidence(runs, &witnesses, &tls)?;
    let analysis = analyse(&evidence, &ThresholdConfig::default());
    let report = build_report(plan, analysis, evidence.clone(), notes);
    Ok(CheckOutcome {
        report,
        evidence,
        chains,
        budget_exhausted,
        decided_early,
    })
}

/// One witness asked what it saw and sampled `samples.0` times (`samples.1` at once), both
/// at the same time; its answer judged at once with the targets it speaks for. Its host and
/// view.
async fn witness_view(
    url: String,
    probe_cfg: interloper_probe::ProbeConfig,
    samples: (usize, usize),
    deadline: Instant,
    early: Arc<EarlyTls>,
) -> (Option<String>, WitnessView) {
    let host = host_of(&url);
    let ask = async {
        let view = ask_witness(&url, &probe_cfg, Some(deadline)).await;
        early.witness(host.as_deref(), &view);
        view
    };
    let sample = sample_witness(&url, &probe_cfg, samples.0, samples.1, Some(deadline));
    let (mut view, samples) = tokio::join!(ask, sample);
    // A witness that did not answer as one says nothing through its samples either.
    if view.error.is_none() {
        view.samples = samples;
    }
    (host, view)
}

/// The trust settings in the TLS path's terms.
fn tls_options(plan: &CheckPlan) -> TlsPathOptions {
    TlsPathOptions {
        public_roots: plan.trust.public_roots.clone(),
        cacert: plan.trust.cacert.clone(),
        private_roots: plan.trust.private_roots.clone(),
        use_os_roots: plan.trust.use_os_roots,
        pins: plan.trust.pins.clone(),
        expect_cert: None,
        products: plan.trust.products.clone(),
    }
}

/// The per-target options the discovery and sampling steps read.
fn target_options(
    plan: &CheckPlan,
    probe_cfg: &interloper_probe::ProbeConfig,
    deadline: Instant,
) -> Result<CheckOptions, CheckError> {
    let manifest = match &plan.discovery.manifest {
        Some(ManifestSource::File(path)) => Some(ManifestSource::Bytes(
            read_bounded(path, interloper_assets::django::MAX_MANIFEST_BYTES).map_err(
                |reason| CheckError::Manifest {
                    path: path.clone(),
                    reason,
                },
            )?,
        )),
        other => other.clone(),
    };
    let mut probe = probe_cfg.clone();
    // No single request may eat the whole budget: one that cannot finish in a third of it
    // ends on its own, with its own diagnosis (a body that never ends, a stall), and the
    // check still has time for the rest.
    probe.total_timeout = probe
        .total_timeout
        .min((plan.budget / 3).max(MIN_REQUEST_LIMIT));
    Ok(CheckOptions {
        probe,
        samples: plan.sampling.samples,
        early_stop: plan.sampling.early_stop,
        budget: plan.budget,
        deadline: Some(deadline),
        concurrency: plan.sampling.concurrency.max(1),
        all_static: plan.discovery.all_static,
        cross_origin: plan.discovery.cross_origin,
        each_address: plan.sampling.each_address,
        both_protocols: plan.sampling.both_protocols,
        hello_shapes: plan.sampling.hello_shapes,
        manifest,
        redirect_hosts: plan.discovery.redirect_hosts.clone(),
        keep_body: plan.limits.keep_body,
        max_assets: plan.limits.max_assets,
    })
}

/// Evidence per target (TLS and witness filled in), each target's chain report, the notes,
/// and whether any budget ran out.
type Joined = (
    Vec<TargetEvidence>,
    Vec<Option<ChainReport>>,
    Vec<String>,
    bool,
);

/// Matches witnesses to targets, analyses each TLS path, and fills in the evidence.
fn join_evidence(
    runs: Vec<TargetRun>,
    witnesses: &[(Option<String>, WitnessView)],
    tls: &TlsPath,
) -> Result<Joined, CheckError> {
    let single = runs.len() == 1 && witnesses.len() == 1;
    let target_hosts: Vec<Option<String>> =
        runs.iter().map(|r| host_of(&r.evidence.label)).collect();
    let mut notes: Vec<String> = witnesses
        .iter()
        .filter(|(host, _)| !single && (host.is_none() || !target_hosts.contains(host)))
        .map(|(_, view)| {
            format!(
                "witness {} is on no target's host, so it speaks for none (run it beside the \
                 server it vouches for, under the same name)",
                view.url
            )
        })
        .collect();

    // First pass: each chain on its own.
    let mut prepared = Vec::new();
    for run in runs {
        let host = host_of(&run.evidence.label);
        let name = server_name(&run.evidence.label);
        let witness = witnesses
            .iter()
            .find(|(witness_host, _)| speaks_for(single, host.as_deref(), witness_host.as_deref()))
            .map(|(_, view)| view);
        let report = run
            .tls
            .as_ref()
            .map(|session| tls.judge(session, &name, witness, None));
        prepared.push((run, name, witness, report));
    }

    // Second pass: instances of one app should present the same kind of chain. One anchored
    // only locally while a sibling's is public is judged against that sibling's chain, so an
    // issuer or key type that differs counts as the minted-certificate trait it is.
    let public_sibling = prepared.iter().find_map(|(run, _, _, report)| {
        let session = run.tls.as_ref()?;
        (report.as_ref()?.trust.status == TrustStatus::AnchoredPublic).then(|| Reference {
            chain: session.presented_chain.clone(),
            negotiated: Negotiated {
                tls_version: session.version.clone(),
                alpn: session.alpn.clone(),
            },
        })
    });

    let mut evidence = Vec::new();
    let mut chains = Vec::new();
    let mut budget_exhausted = false;
    for (run, name, witness, mut report) in prepared {
        budget_exhausted |= run.budget_exhausted;
        let mut ev = run.evidence;
        notes.extend(run.notes.iter().map(|n| format!("{}: {n}", ev.label)));
        if let (Some(session), Some(r), Some(reference)) = (&run.tls, &report, &public_sibling)
            && r.trust.status == TrustStatus::AnchoredLocalOnly
        {
            report = Some(tls.judge(session, &name, witness, Some(reference.clone())));
        }
        ev.tls = report.as_ref().map(tls_evidence);
        if let Some(w) = witness {
            ev.witness = witness_evidence(w, report.as_ref());
            if let Some(e) = &w.error {
                notes.push(format!("witness: {e}"));
            }
        }
        evidence.push(ev);
        chains.push(report);
    }
    Ok((evidence, chains, notes, budget_exhausted))
}

/// The witness's answer in the findings' terms; whether it proves interception is the chain
/// analysis' conclusion, carried over as it is.
fn witness_evidence(w: &WitnessView, chain: Option<&ChainReport>) -> Option<WitnessEvidence> {
    w.comparison()?;
    let (hello_matched, chain_matched) = chain.map_or((true, true), witness_verdict);
    Some(WitnessEvidence {
        url: w.url.clone(),
        client_random_matched: hello_matched,
        chain_matched,
        client_ja4: w.client.as_ref().map(|c| c.ja4.clone()),
        witness_ja4: w.ja4.clone(),
        witness_stack: w.upstream_stack.as_ref().map(|s| s.describe()),
        server_ms: w.server_ms,
        client_ms: w.client_ttfb_ms,
        samples: w
            .samples
            .iter()
            .map(|s| (s.client_ttfb_ms, s.server_ms))
            .collect(),
    })
}

fn build_report(
    plan: &CheckPlan,
    analysis: Analysis,
    evidence: Vec<TargetEvidence>,
    notes: Vec<String>,
) -> Report {
    let meta = ReportMeta::new(
        env!("CARGO_PKG_VERSION"),
        &now_rfc3339(),
        plan.command.clone(),
    );
    let mut report = Report::new(analysis, evidence, meta);
    report.notes = notes;
    report
}

/// The host of a URL, as written in it (IPv6 in brackets).
fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
}

/// The name a target's chain is judged for: its host without IPv6 brackets.
fn server_name(url: &str) -> String {
    host_of(url)
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// Now, as the `generated_at` of a report.
pub fn now_rfc3339() -> String {
    interloper_chain::time::OffsetDateTime::now_utc()
        .format(&interloper_chain::time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A file's first `limit + 1` bytes at most: enough to tell that it is over the limit
/// without reading all of it.
fn read_bounded(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}
