//! Sampling: every asset requested repeatedly, across connection modes, within a budget.
//!
//! Requests are interleaved (asset × mode × address) so that a budget cut still leaves every
//! asset and every mode sampled about equally, and the contrasts the findings draw (one
//! address, one protocol, large vs small) compare like with like.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use interloper_findings::{AssetCheck, AssetCheckKind, AssetEvidence, samples_for};
use interloper_model::{ErrorKind, RequestRecord};
use interloper_probe::{ConnectionPolicy, HelloShape, HttpVersionPref, Probe, Target};
use tokio::sync::mpsc;

use crate::discover::{Discovered, worth_sampling};
use crate::{CheckError, CheckOptions, Samples, TargetObserver};

/// One way of connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleMode {
    /// HTTP version offered.
    pub http: HttpVersionPref,
    /// Fresh or reused connections.
    pub policy: ConnectionPolicy,
    /// Pinned address, when probing each address.
    pub addr: Option<SocketAddr>,
    /// The ClientHello shape.
    pub hello: HelloShape,
}

/// What the sampling step will request (the whole check's plan is [`crate::CheckPlan`]).
#[derive(Debug, Clone)]
pub struct SamplePlan {
    /// Assets to sample (URLs), in order.
    pub assets: Vec<url::Url>,
    /// Connection modes to rotate through.
    pub modes: Vec<SampleMode>,
    /// Requests per asset.
    pub per_asset: u64,
    /// One fresh-connection mode per ClientHello shape besides the classic one.
    pub shape_modes: Vec<SampleMode>,
    /// Requests per shape mode, spread over the assets and over the run.
    pub per_shape: u64,
}

/// What one index of the run requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// The i-th request of the asset × mode rotation.
    Main(u64),
    /// The k-th request of the hello-shape samples.
    Shape(u64),
}

impl SamplePlan {
    /// Requests of the asset × mode rotation.
    fn main_total(&self) -> u64 {
        self.per_asset * self.assets.len() as u64
    }

    /// Requests of the hello-shape samples.
    fn shape_total(&self) -> u64 {
        if self.assets.is_empty() {
            return 0;
        }
        let mut shapes: Vec<HelloShape> = self.shape_modes.iter().map(|m| m.hello).collect();
        shapes.sort();
        shapes.dedup();
        self.per_shape * shapes.len() as u64
    }

    /// Total requests planned.
    pub fn total(&self) -> u64 {
        self.main_total() + self.shape_total()
    }

    /// Index `i` of the run: the shape samples sit every `stride`-th index, so a budget cut
    /// leaves them sampled in proportion and a stalling shape never holds every worker at once.
    fn slot(&self, i: u64) -> Slot {
        let shapes = self.shape_total();
        if shapes == 0 {
            return Slot::Main(i);
        }
        let stride = (self.total() / shapes).max(1);
        let before = ((i + 1) / stride).min(shapes);
        if (i + 1).is_multiple_of(stride) && (i + 1) / stride <= shapes {
            Slot::Shape(before - 1)
        } else {
            Slot::Main(i - before)
        }
    }
}

/// Decide modes and sample sizes for a target.
pub async fn plan_samples(
    target: &Target,
    found: &Discovered,
    opts: &CheckOptions,
) -> Result<SamplePlan, CheckError> {
    let assets: Vec<url::Url> = found
        .assets
        .iter()
        .filter(|a| worth_sampling(found, a))
        .map(|a| a.url.clone())
        .collect();
    let https = target.url.scheme() == "https";
    let versions: Vec<HttpVersionPref> = match opts.probe.http {
        HttpVersionPref::Auto if https && opts.both_protocols => {
            vec![HttpVersionPref::Http2, HttpVersionPref::Http1]
        }
        other => vec![other],
    };
    let mut addrs: Vec<Option<SocketAddr>> = vec![None];
    if opts.each_address {
        let probe = Probe::new(opts.probe.clone())?;
        if let Ok(list) = probe.resolve(target).await
            && list.len() > 1
        {
            addrs = list.into_iter().map(Some).collect();
        }
    }
    let mut modes = Vec::new();
    for addr in &addrs {
        for http in &versions {
            for policy in [ConnectionPolicy::Fresh, ConnectionPolicy::Reuse] {
                modes.push(SampleMode {
                    http: *http,
                    policy,
                    addr: *addr,
                    hello: HelloShape::Classic,
                });
            }
        }
    }
    let n = assets.len().max(1) as u64;
    let per_asset = match opts.samples {
        Samples::PerAsset(k) => u64::from(k.max(1)),
        Samples::Auto => {
            // Per target: enough to see a 5 % problem at 95 % (59), doubled so each protocol
            // half sees it too, and at least two per asset and per mode.
            let wanted = (2 * samples_for(0.05, 0.95)).max(2 * n);
            wanted.div_ceil(n).max(modes.len() as u64).clamp(2, 240)
        }
    };
    // Fresh connections, each shape over the same HTTP versions as the rotation, so the
    // shape samples never tip the protocol contrast (IL208) one way.
    let mut shape_modes = Vec::new();
    if https {
        for http in &versions {
            for hello in opts.hello_shapes.extra() {
                shape_modes.push(SampleMode {
                    http: *http,
                    policy: ConnectionPolicy::Fresh,
                    addr: None,
                    hello,
                });
            }
        }
    }
    Ok(SamplePlan {
        assets,
        modes,
        per_asset,
        shape_modes,
        per_shape: u64::from(opts.hello_shapes.per_shape),
    })
}

/// Assets with their samples and checks; whether the budget cut sampling short.
#[derive(Debug, Clone)]
pub struct Sampled {
    /// Evidence per asset (first record from verification, then the samples).
    pub assets: Vec<AssetEvidence>,
    /// The budget ran out before the plan was done.
    pub budget_exhausted: bool,
    /// Requests still running when the budget ran out: cut short, and not counted.
    pub cancelled: u64,
}

/// Run the plan: `opts.concurrency` workers, each holding one session per mode.
pub async fn sample(
    found: &Discovered,
    plan: &SamplePlan,
    opts: &CheckOptions,
    deadline: Instant,
    progress: &dyn TargetObserver,
) -> Result<Sampled, CheckError> {
    let probes = Arc::new(probes_for(plan, opts)?);
    let plan_shared = Arc::new(plan.clone());
    let next = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::channel::<(usize, RequestRecord)>(256);
    let workers = opts.concurrency.clamp(1, 64);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            tokio::spawn(run_worker(
                Arc::clone(&probes),
                Arc::clone(&plan_shared),
                Arc::clone(&next),
                deadline,
                tx.clone(),
            ))
        })
        .collect();
    drop(tx);

    let mut per_asset: Vec<Vec<RequestRecord>> = vec![Vec::new(); plan.assets.len()];
    let mut cancelled = 0;
    while let Some((idx, record)) = rx.recv().await {
        progress.step();
        // Our own deadline ended it: it says nothing about the path.
        if record
            .error
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Cancelled)
        {
            cancelled += 1;
            continue;
        }
        if let Some(v) = per_asset.get_mut(idx) {
            v.push(record);
        }
    }
    let mut budget_exhausted = false;
    for h in handles {
        budget_exhausted |= h.await.unwrap_or(false);
    }
    Ok(Sampled {
        assets: evidence(found, plan, per_asset),
        budget_exhausted: budget_exhausted || cancelled > 0,
        cancelled,
    })
}

/// One probe per HTTP version and ClientHello shape the plan's modes use (connection policy
/// and address are per session).
fn probes_for(
    plan: &SamplePlan,
    opts: &CheckOptions,
) -> Result<BTreeMap<(u8, HelloShape), Probe>, CheckError> {
    let mut probes = BTreeMap::new();
    for m in plan.modes.iter().chain(&plan.shape_modes) {
        let key = probe_key(m);
        if let std::collections::btree_map::Entry::Vacant(e) = probes.entry(key) {
            let mut cfg = opts.probe.clone();
            cfg.http = m.http;
            cfg.hello = m.hello;
            e.insert(Probe::new(cfg)?);
        }
    }
    Ok(probes)
}

impl SamplePlan {
    /// What index `i` of the run requests: (asset, mode, sequence number), modes numbered
    /// rotation first, then shape modes.
    fn request_at(&self, i: u64) -> (usize, usize, u64) {
        let n_assets = self.assets.len().max(1) as u64;
        let n_modes = self.modes.len().max(1) as u64;
        match self.slot(i) {
            Slot::Main(j) => {
                let asset_idx = (j % n_assets) as usize;
                // Rotate modes per full pass over the assets, offset per asset so adjacent
                // assets do not always share a mode.
                let mode_idx = (((j / n_assets) + asset_idx as u64) % n_modes) as usize;
                (asset_idx, mode_idx, j / n_assets + 1)
            }
            Slot::Shape(k) => {
                let n_shape_modes = self.shape_modes.len().max(1) as u64;
                // Offset per pass so a mode does not always meet the same asset.
                let asset_idx = ((k / n_shape_modes + k) % n_assets) as usize;
                let mode_idx = self.modes.len() + (k % n_shape_modes) as usize;
                // After every rotation request, so records sort after them.
                (asset_idx, mode_idx, self.per_asset + 1 + k)
            }
        }
    }

    /// Mode `idx` as [`SamplePlan::request_at`] numbers them.
    fn mode(&self, idx: usize) -> Option<&SampleMode> {
        match idx.checked_sub(self.modes.len()) {
            None => self.modes.get(idx),
            Some(s) => self.shape_modes.get(s),
        }
    }
}

/// One worker: takes the next index of the run until the plan is done or the deadline passes,
/// holding one session per mode (so reuse means reuse within this worker's stream). True when
/// the deadline stopped it.
async fn run_worker(
    probes: Arc<BTreeMap<(u8, HelloShape), Probe>>,
    plan: Arc<SamplePlan>,
    next: Arc<AtomicU64>,
    deadline: Instant,
    tx: mpsc::Sender<(usize, RequestRecord)>,
) -> bool {
    let total = plan.total();
    let mut sessions: Vec<Option<interloper_probe::Session>> = (0..plan.modes.len()
        + plan.shape_modes.len())
        .map(|_| None)
        .collect();
    loop {
        if Instant::now() >= deadline {
            return true;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total || plan.assets.is_empty() {
            return false;
        }
        let (asset_idx, mode_idx, seq) = plan.request_at(i);
        let (Some(url), Some(mode)) = (plan.assets.get(asset_idx), plan.mode(mode_idx)) else {
            return false;
        };
        let (Some(probe), Some(slot)) = (probes.get(&probe_key(mode)), sessions.get_mut(mode_idx))
        else {
            return false;
        };
        let session = slot.get_or_insert_with(|| {
            let mut s = probe.session(mode.policy);
            // Requests in flight when the budget runs out end there.
            s.set_deadline(Some(deadline));
            s
        });
        let Ok(mut target) = Target::from_url(url.clone()) else {
            continue;
        };
        target.pinned = mode.addr;
        let record = session.request(&target, seq).await;
        if tx.send((asset_idx, record)).await.is_err() {
            return false;
        }
    }
}

/// Each asset's evidence, in discovery order: the page first when it is not an asset itself;
/// per asset the verification request, the failed attempts before it, then its samples in
/// order, and its checks (with any later response whose bytes changed).
fn evidence(
    found: &Discovered,
    plan: &SamplePlan,
    mut per_asset: Vec<Vec<RequestRecord>>,
) -> Vec<AssetEvidence> {
    let mut out = Vec::new();
    let failed_attempts = |key: &str| {
        found
            .failed_attempts
            .get(key)
            .into_iter()
            .flatten()
            .cloned()
    };
    if !found.assets.iter().any(|a| a.url == found.page) {
        let mut records = vec![found.page_record.clone()];
        records.extend(failed_attempts(found.page.as_str()));
        out.push(AssetEvidence {
            url: found.page.to_string(),
            records,
            checks: found
                .checks
                .get(found.page.as_str())
                .cloned()
                .unwrap_or_default(),
        });
    }
    let planned: BTreeMap<&str, usize> = plan
        .assets
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect();
    for asset in &found.assets {
        let key = asset.url.as_str();
        let mut records = Vec::new();
        if let Some(first) = found.first_records.get(key) {
            records.push(first.clone());
        }
        // After the kept response, which is the verified one the later bytes are compared to.
        records.extend(failed_attempts(key));
        if let Some(sampled) = planned.get(key).and_then(|i| per_asset.get_mut(*i)) {
            let mut sampled = std::mem::take(sampled);
            sampled.sort_by_key(|r| r.seq);
            records.extend(sampled);
        }
        let mut checks = found.checks.get(key).cloned().unwrap_or_default();
        if found.verified_content.contains(key) {
            checks.extend(content_changed(&records));
        }
        out.push(AssetEvidence {
            url: key.to_string(),
            records,
            checks,
        });
    }
    out
}

fn probe_key(m: &SampleMode) -> (u8, HelloShape) {
    let version = match m.http {
        HttpVersionPref::Http1 => 1,
        HttpVersionPref::Http2 => 2,
        HttpVersionPref::Auto => 0,
    };
    (version, m.hello)
}

/// For a file whose first response was verified (hashed name or SRI): the later complete
/// uncompressed responses whose bytes differ from it (the probe asks for no encoding). A path that rewrites
/// content now and then (a scanner injecting into some responses) shows here even when the
/// verified response was clean.
fn content_changed(records: &[RequestRecord]) -> Option<AssetCheck> {
    let (first, later) = records.split_first()?;
    let verified = first.body_sha256.as_deref()?;
    let encoding = |r: &RequestRecord| {
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    // Only identity bodies are compared byte for byte: the same content compressed by two
    // edges (or at two levels) differs on the wire and is still the same file.
    let identity = |r: &RequestRecord| encoding(r).is_none_or(|e| e == "identity");
    if !identity(first) {
        return None;
    }
    let comparable: Vec<&RequestRecord> = later
        .iter()
        .filter(|r| r.status == Some(200) && r.error.is_none())
        .filter(|r| identity(r))
        .collect();
    let differing: Vec<&str> = comparable
        .iter()
        .filter_map(|r| r.body_sha256.as_deref())
        .filter(|d| *d != verified)
        .collect();
    let example = differing.first()?;
    Some(AssetCheck {
        kind: AssetCheckKind::ContentChanged,
        expected: Some(format!("sha256 {verified}")),
        actual: Some(format!("sha256 {example}")),
        detail: format!(
            "{} of {} later responses carried different bytes than the verified one",
            differing.len(),
            comparable.len()
        ),
    })
}

#[cfg(test)]
mod tests {
    use interloper_model::RequestRecord;

    use super::{HelloShape, SampleMode, SamplePlan, Slot, content_changed};

    #[test]
    fn shape_samples_are_spread_over_the_run_and_all_planned() {
        let mode = |hello| SampleMode {
            http: interloper_probe::HttpVersionPref::Auto,
            policy: interloper_probe::ConnectionPolicy::Fresh,
            addr: None,
            hello,
        };
        let plan = SamplePlan {
            assets: (0..4)
                .map(|i| format!("https://a.test/s/{i}").parse().unwrap())
                .collect(),
            modes: vec![mode(HelloShape::Classic)],
            per_asset: 10,
            shape_modes: vec![
                mode(HelloShape::Pq),
                mode(HelloShape::Large),
                mode(HelloShape::Pq),
                mode(HelloShape::Large),
            ],
            per_shape: 6,
        };
        assert_eq!(plan.total(), 52);
        let slots: Vec<Slot> = (0..plan.total()).map(|i| plan.slot(i)).collect();
        let shapes: Vec<u64> = slots
            .iter()
            .filter_map(|s| match s {
                Slot::Shape(k) => Some(*k),
                Slot::Main(_) => None,
            })
            .collect();
        let main: Vec<u64> = slots
            .iter()
            .filter_map(|s| match s {
                Slot::Main(j) => Some(*j),
                Slot::Shape(_) => None,
            })
            .collect();
        assert_eq!(shapes, (0..12).collect::<Vec<_>>());
        assert_eq!(main, (0..40).collect::<Vec<_>>());
        // Not bunched: the first shape sample comes early, the last before the end.
        assert!(matches!(slots[3], Slot::Shape(0)), "{slots:?}");
        assert!(matches!(slots[47], Slot::Shape(11)), "{slots:?}");
        // No shapes: the rotation alone.
        let classic = SamplePlan {
            shape_modes: Vec::new(),
            ..plan
        };
        assert_eq!(classic.total(), 40);
        assert_eq!(classic.slot(7), Slot::Main(7));
    }

    fn rec(status: u16, digest: &str) -> RequestRecord {
        let mut r: RequestRecord = serde_json::from_value(serde_json::json!({
            "seq": 0, "url": "https://a/static/x.css", "started_ms": 0.0,
            "remote_addr": null, "connection_id": 0, "reused": false, "http_version": "HTTP/2",
            "status": status, "content_length": 10, "bytes_received": 10,
            "phases": {}, "tls": null, "headers": [], "body_curve": [], "error": null
        }))
        .unwrap();
        r.body_sha256 = Some(digest.to_string());
        r
    }

    #[test]
    fn later_responses_with_other_bytes_are_named() {
        let same = vec![rec(200, "aa"), rec(200, "aa"), rec(200, "aa")];
        assert!(content_changed(&same).is_none());
        let changed = vec![
            rec(200, "aa"),
            rec(200, "bb"),
            rec(200, "aa"),
            rec(404, "cc"),
        ];
        let c = content_changed(&changed).unwrap();
        assert_eq!(
            c.detail,
            "1 of 2 later responses carried different bytes than the verified one"
        );
        assert_eq!(c.actual.as_deref(), Some("sha256 bb"));
        // A compressed answer is not compared byte for byte.
        let mut gzip = rec(200, "dd");
        gzip.headers = vec![("content-encoding".into(), "gzip".into())];
        assert!(content_changed(&[rec(200, "aa"), gzip]).is_none());
    }
}
