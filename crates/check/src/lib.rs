//! The check engine behind `interloper check`, callable as a library.
//!
//! A [`CheckPlan`] goes in (targets, trust, witnesses, sampling, budget, limits); a
//! [`CheckOutcome`] comes out (the evidence, each TLS path's analysis, and the report
//! document with its verdict and findings); progress is reported through a [`CheckObserver`].
//! The CLI, the demo and the lab build plans; nothing else runs the pipeline.
//!
//! ```no_run
//! use std::sync::Arc;
//! use interloper_check::{CheckPlan, Samples, run_check};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let mut plan = CheckPlan::new(vec!["https://app.example.test/".parse()?]);
//! plan.sampling.samples = Samples::PerAsset(20);
//! let outcome = run_check(&plan, Arc::new(())).await?;
//! println!("{}", outcome.report.verdict.summary);
//! for finding in &outcome.report.findings {
//!     println!("{} {}", finding.code, finding.title);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! For each target (a page URL; several URLs are instances of one app), concurrently:
//!
//! 1. **discover** — fetch the page, follow its stylesheets (bounded), find Django's
//!    `staticfiles.json`, and list every asset with its provenance ([`discover`]);
//! 2. **verify** — fetch each asset once keeping its bytes, and run the integrity checks
//!    (hashed names, SRI, lengths, types, caching);
//! 3. **sample** — request every asset repeatedly across connection modes (HTTP/2 and
//!    HTTP/1.1, fresh and reused connections, optionally each resolved address), every phase
//!    timed, until the sample size or the time budget is reached ([`sample`]).
//!
//! Meanwhile each witness is asked what it saw and sampled. Then the **TLS path** of each
//! target's first connection is analysed ([`tlspath`]: trust against public and local roots,
//! products, minted traits, pins, the witness; a target anchored only locally is judged again
//! against a sibling whose chain is public), [`interloper_findings::analyse`] turns the
//! evidence into findings and a verdict, and [`interloper_report::Report`] holds the result.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod discover;
mod early_tls;
mod engine;
mod observer;
mod plan;
mod sample;
pub mod tlspath;

pub use discover::{Discovered, discover};
pub use engine::{CheckOutcome, now_rfc3339, run_check};
pub use observer::{CheckObserver, DecisiveTls};
pub use plan::{
    CheckPlan, Discovery, HelloShapes, Limits, ManifestSource, PER_HELLO_SHAPE, Samples, Sampling,
    Trust,
};
pub use sample::{SampleMode, SamplePlan, Sampled, plan_samples, sample};

// Types that appear in a plan's fields or in the outcome, so that a caller builds a plan and
// reads its result through this crate alone (the lab and the exporter do).
pub use interloper_chain::{ChainReport, Pin};
pub use interloper_probe::{
    AddressBlock, DnsSettings, IpFamily, ProbeConfig, ProxySetting, ResolveOverride, lookup_host,
    parse_dns_server, validate_proxy_url,
};
pub use interloper_report::Report;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use interloper_findings::TargetEvidence;
use interloper_model::{HttpVersion, TlsInfo};
use interloper_probe::Target;

/// One target's settings, derived from a [`CheckPlan`]: what [`check_target`] reads.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Connection settings shared with `probe` (trust, proxy, resolve, timeouts).
    pub probe: ProbeConfig,
    /// Sample size.
    pub samples: Samples,
    /// Stop sampling once every question is decided (the sample size stays the upper bound).
    pub early_stop: bool,
    /// Time budget for the whole target (discovery, verification and sampling), counted from
    /// [`check_target`]'s start unless `deadline` is given.
    pub budget: Duration,
    /// When the target's check must be over (the engine gives every target the check's one
    /// deadline); requests still running then are cut short.
    pub deadline: Option<Instant>,
    /// Requests in flight per target.
    pub concurrency: usize,
    /// Probe every manifest entry, not only what the page references.
    pub all_static: bool,
    /// Probe assets on other origins too.
    pub cross_origin: bool,
    /// Pin each resolved address in turn.
    pub each_address: bool,
    /// Compare HTTP/2 with HTTP/1.1 (HTTPS only).
    pub both_protocols: bool,
    /// ClientHello shapes compared with the classic one (HTTPS only).
    pub hello_shapes: HelloShapes,
    /// Django manifest to use instead of discovering one (a URL or its bytes).
    pub manifest: Option<ManifestSource>,
    /// Hosts redirects may lead to (`None`: any).
    pub redirect_hosts: Option<Vec<String>>,
    /// Bytes of a body kept for discovery and integrity checks.
    pub keep_body: usize,
    /// Most assets probed per target.
    pub max_assets: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        let limits = Limits::default();
        let sampling = Sampling::default();
        CheckOptions {
            probe: ProbeConfig::default(),
            samples: sampling.samples,
            early_stop: sampling.early_stop,
            budget: Duration::from_secs(60),
            deadline: None,
            concurrency: sampling.concurrency,
            all_static: false,
            cross_origin: false,
            each_address: sampling.each_address,
            both_protocols: sampling.both_protocols,
            hello_shapes: sampling.hello_shapes,
            manifest: None,
            redirect_hosts: None,
            keep_body: limits.keep_body,
            max_assets: limits.max_assets,
        }
    }
}

/// The progress of one target's check ([`check_target`]: discovery, then sampling), for the
/// terminal's progress bar. Called from the checking task.
pub trait TargetObserver: Send + Sync {
    /// A new stage of work for a target, with the number of steps if known.
    fn stage(&self, _target: &str, _what: &str, _steps: Option<u64>) {}
    /// One step done.
    fn step(&self) {}
    /// What the sequential test says so far ("3 stalls in 41 — deciding").
    fn deciding(&self, _state: &str) {}
    /// The target's first TLS handshake is made (the page's connection): judged at once, so
    /// decisive TLS evidence is told before the timing evidence is in.
    fn handshake(&self, _session: &TlsInfo) {}
}

/// A progress sink that ignores everything.
impl TargetObserver for () {}

/// What the check gathered for one target, beyond the evidence the findings read.
#[derive(Debug, Clone)]
pub struct TargetRun {
    /// Evidence for the findings (assets with samples and checks; TLS and witness are filled
    /// by the caller from [`TargetRun::tls`]).
    pub evidence: TargetEvidence,
    /// The TLS session of the first HTTPS connection: presented chain and our ClientHello.
    pub tls: Option<TlsInfo>,
    /// Negotiated HTTP versions seen, for the downgrade check.
    pub http_versions: Vec<HttpVersion>,
    /// What discovery noted (limits hit, manifest problems, fetch failures).
    pub notes: Vec<String>,
    /// Whether the time budget cut sampling short.
    pub budget_exhausted: bool,
    /// Whether the sequential test decided every question before the plan was done.
    pub decided_early: bool,
}

/// Errors that stop a check before any evidence exists: what the user must fix.
///
/// Each message is printed once by `{:#}` (anyhow's chain): a variant either is its cause
/// (`transparent`) or says the cause's words itself and does not also hand it on as a
/// `source` (the callers that print `{e}` alone still get the reason).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A URL is not something we can probe.
    #[error(transparent)]
    Probe(#[from] interloper_probe::ProbeError),
    /// A trust file or pin the user named is unusable.
    #[error(transparent)]
    TlsPath(#[from] tlspath::TlsPathError),
    /// The manifest file the user named cannot be read.
    #[error("--manifest {}: {reason}", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: std::io::Error,
    },
    /// A checking task ended abnormally (panicked or was cancelled).
    #[error("a check task failed: {0}")]
    Task(tokio::task::JoinError),
}

/// Run discovery, verification and sampling for one target.
pub async fn check_target(
    url: &str,
    opts: &CheckOptions,
    progress: &dyn TargetObserver,
) -> Result<TargetRun, CheckError> {
    let target = Target::parse(url)?;
    let deadline = opts
        .deadline
        .unwrap_or_else(|| Instant::now() + opts.budget);
    progress.stage(url, "discovering assets", None);
    let found = discover(&target, opts, deadline, progress).await?;
    let plan = plan_samples(&target, &found, opts).await?;
    progress.stage(url, "sampling", Some(plan.total()));
    let sampled = sample(&found, &plan, opts, deadline, progress).await?;
    let http_versions = {
        let mut v: Vec<HttpVersion> = sampled
            .assets
            .iter()
            .flat_map(|a| a.records.iter())
            .filter_map(|r| r.http_version)
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let mut notes = found.notes.clone();
    if sampled.cancelled > 0 {
        notes.push(format!(
            "the budget ran out with {} request(s) in flight: they were cut short and are not \
             counted",
            sampled.cancelled
        ));
    } else if sampled.decided_early {
        let abandoned = match sampled.abandoned {
            0 => String::new(),
            n => format!(
                "; {n} request(s) started as it was decided were abandoned and are not counted"
            ),
        };
        notes.push(format!(
            "sampling stopped after {} of {} planned requests: every question was decided \
             (--no-early-stop makes them all){abandoned}",
            sampled.made,
            plan.total()
        ));
    } else if sampled.budget_exhausted {
        notes.push(format!(
            "the budget ran out before every planned request was made ({} of {})",
            plan_made(&sampled),
            plan.total()
        ));
    }
    let tls = found.tls.clone().or_else(|| {
        sampled
            .assets
            .iter()
            .flat_map(|a| a.records.iter())
            .find_map(|r| r.tls.clone())
    });
    Ok(TargetRun {
        evidence: TargetEvidence {
            label: url.to_string(),
            assets: sampled.assets,
            tls: None,
            witness: None,
            static_version: found.static_version.clone(),
        },
        tls,
        http_versions,
        notes,
        budget_exhausted: sampled.budget_exhausted,
        decided_early: sampled.decided_early,
    })
}

/// Sampled requests kept (the verification request of each asset is not one of them).
fn plan_made(sampled: &Sampled) -> usize {
    sampled
        .assets
        .iter()
        .map(|a| a.records.len().saturating_sub(1))
        .sum()
}

#[cfg(test)]
mod error_tests {
    use super::*;

    /// A trust file holding no certificate, as `interloper check --public-roots` reports it.
    #[test]
    fn a_wrapped_error_prints_its_message_once() {
        let path = PathBuf::from("/tmp/empty.pem");
        let e = CheckError::from(tlspath::TlsPathError::NoCertificate(path));
        assert_eq!(
            format!("{:#}", anyhow::Error::from(e)),
            "/tmp/empty.pem holds no PEM certificate"
        );
        let e = CheckError::from(tlspath::TlsPathError::Read {
            path: PathBuf::from("/nonexistent.pem"),
            reason: std::io::Error::other("no such file"),
        });
        assert_eq!(
            format!("{:#}", anyhow::Error::from(e)),
            "cannot read /nonexistent.pem: no such file"
        );
        let e = CheckError::Manifest {
            path: PathBuf::from("m.json"),
            reason: std::io::Error::other("denied"),
        };
        assert_eq!(
            format!("{:#}", anyhow::Error::from(e)),
            "--manifest m.json: denied"
        );
    }

    #[tokio::test]
    async fn a_failed_task_keeps_its_join_error_and_says_it_once() {
        let task = tokio::spawn(std::future::pending::<()>());
        task.abort();
        let Err(join) = task.await else {
            panic!("an aborted task cannot finish");
        };
        assert!(join.is_cancelled());
        let e = CheckError::Task(join);
        let text = format!("{:#}", anyhow::Error::from(e));
        assert!(text.starts_with("a check task failed: "), "{text}");
        assert_eq!(text.matches("cancelled").count(), 1, "{text}");
    }
}
