//! The one-command diagnosis behind `interloper check`.
//!
//! For each target (a page URL; several URLs are instances of one app):
//!
//! 1. **discover** — fetch the page, follow its stylesheets (bounded), find Django's
//!    `staticfiles.json`, and list every asset with its provenance ([`discover`]);
//! 2. **verify** — fetch each asset once keeping its bytes, and run the integrity checks
//!    (hashed names, SRI, lengths, types, caching);
//! 3. **sample** — request every asset repeatedly across connection modes (HTTP/2 and
//!    HTTP/1.1, fresh and reused connections, optionally each resolved address), every phase
//!    timed, until the sample size or the time budget is reached ([`sample`]);
//! 4. **TLS path** — the chain and the ClientHello of the first connection, for the caller's
//!    chain analysis.
//!
//! The result is a list of [`interloper_findings::TargetEvidence`], which
//! [`interloper_findings::analyse`] turns into findings. Nothing here decides what is wrong.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod discover;
mod sample;
pub mod tlspath;

pub use discover::{Discovered, discover};
pub use sample::{Plan, SampleMode, Sampled, plan_samples, sample};

use std::time::Duration;

use interloper_findings::TargetEvidence;
use interloper_model::TlsInfo;
use interloper_probe::{ProbeConfig, Target};

/// How much to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Samples {
    /// Enough to see a 5 % intermittent problem with 95 % confidence per target, and at least
    /// two per asset, within the budget.
    Auto,
    /// Exactly this many requests per asset (budget permitting).
    PerAsset(u32),
}

/// Everything `check` needs besides the URLs.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Connection settings shared with `probe` (trust, proxy, resolve, timeouts).
    pub probe: ProbeConfig,
    /// Sample size.
    pub samples: Samples,
    /// Time budget for sampling, per target.
    pub budget: Duration,
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
    /// Django manifest to use instead of discovering one (URL or file contents).
    pub manifest: Option<ManifestSource>,
    /// Bytes of a body kept for discovery and integrity checks.
    pub keep_body: usize,
    /// Most assets probed per target.
    pub max_assets: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            probe: ProbeConfig::default(),
            samples: Samples::Auto,
            budget: Duration::from_secs(60),
            concurrency: 4,
            all_static: false,
            cross_origin: false,
            each_address: false,
            both_protocols: true,
            manifest: None,
            keep_body: 16 * 1024 * 1024,
            max_assets: 500,
        }
    }
}

/// Where the Django manifest comes from when the user names it.
#[derive(Debug, Clone)]
pub enum ManifestSource {
    /// Fetch it from this URL.
    Url(url::Url),
    /// Its bytes (read from a file by the caller).
    Bytes(Vec<u8>),
}

/// Progress callbacks, for the terminal's progress bar. Called from the checking task.
pub trait Progress: Send + Sync {
    /// A new stage of work for a target, with the number of steps if known.
    fn stage(&self, _target: &str, _what: &str, _steps: Option<u64>) {}
    /// One step done.
    fn step(&self) {}
}

/// A progress sink that ignores everything.
impl Progress for () {}

/// What the check gathered for one target, beyond the evidence the findings read.
#[derive(Debug, Clone)]
pub struct TargetRun {
    /// Evidence for the findings (assets with samples and checks; TLS and witness are filled
    /// by the caller from [`TargetRun::tls`]).
    pub evidence: TargetEvidence,
    /// The TLS session of the first HTTPS connection: presented chain and our ClientHello.
    pub tls: Option<TlsInfo>,
    /// Negotiated HTTP versions seen, for the downgrade check.
    pub http_versions: Vec<String>,
    /// What discovery noted (limits hit, manifest problems, fetch failures).
    pub notes: Vec<String>,
    /// Whether the time budget cut sampling short.
    pub budget_exhausted: bool,
}

/// Errors that stop a target before any evidence exists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The URL is not something we can probe.
    #[error("{0}")]
    Probe(#[from] interloper_probe::ProbeError),
}

/// Run discovery, verification and sampling for one target.
pub async fn check_target(
    url: &str,
    opts: &CheckOptions,
    progress: &dyn Progress,
) -> Result<TargetRun, CheckError> {
    let target = Target::parse(url)?;
    progress.stage(url, "discovering assets", None);
    let found = discover(&target, opts, progress).await?;
    let plan = plan_samples(&target, &found, opts).await?;
    progress.stage(url, "sampling", Some(plan.total()));
    let sampled = sample(&found, &plan, opts, progress).await?;
    let http_versions = {
        let mut v: Vec<String> = sampled
            .assets
            .iter()
            .flat_map(|a| a.records.iter())
            .filter_map(|r| r.http_version.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
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
        notes: found.notes,
        budget_exhausted: sampled.budget_exhausted,
    })
}
