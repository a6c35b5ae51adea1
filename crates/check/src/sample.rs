//! Sampling: every asset requested repeatedly, across connection modes, within a budget.
//!
//! Requests are interleaved (asset × mode × address) so that a budget cut still leaves every
//! asset and every mode sampled about equally, and the contrasts the findings draw (one
//! address, one protocol, large vs small) compare like with like.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use interloper_findings::sequential::{SizeClass, Sprt, Tally, in_flight_stall_ms};
use interloper_findings::{
    AssetCheck, AssetCheckKind, AssetEvidence, TargetEvidence, ThresholdConfig, classify,
    samples_for,
};
use interloper_model::{ErrorKind, RequestRecord};
use interloper_probe::{ConnectionPolicy, HelloShape, HttpVersionPref, Probe, Target};
use tokio::sync::{mpsc, watch};

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

/// Every how many indices a ClientHello-shape sample comes, from the run's start: one in two,
/// so the 12 shape samples are started within the first 24 requests, before any question can
/// be decided (a stall rate of 10 % is decided after about 30 requests, a clean path after 84).
const SHAPE_STRIDE: u64 = 2;

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

    /// Index `i` of the run: the shape samples sit every [`SHAPE_STRIDE`]-th index from the
    /// start (every index when they are most of the plan), so they are all under way before
    /// the sequential test can decide: the rotation stops then, and a shape sample started
    /// only after it (a 2 s stall through a stalling box) would hold the whole run.
    fn slot(&self, i: u64) -> Slot {
        let shapes = self.shape_total();
        if shapes == 0 {
            return Slot::Main(i);
        }
        let stride = (self.total() / shapes).clamp(1, SHAPE_STRIDE);
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
    /// Sampled requests kept (the verification requests not included).
    pub made: u64,
    /// Rotation requests started as every question was decided, so no part of the decision:
    /// abandoned, and not counted.
    pub abandoned: u64,
    /// Every question was decided before the plan was done, so sampling stopped early.
    pub decided_early: bool,
}

/// The class of a request the sequential test counts apart: what the contrasts compare (size,
/// HTTP version, address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Class {
    size: SizeClass,
    http: u8,
    addr: Option<SocketAddr>,
}

/// Where the sequential test stands, as the workers follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Questions are open: the workers sample the classes wanted.
    Sampling,
    /// Every question is decided by the requests finished, but some in flight are still
    /// unknown (neither done nor past the stall threshold): no request starts until each is
    /// one or the other, since the slow ones are exactly those still in flight and a decision
    /// without them would lean towards clean. At most the stall threshold (750 ms or more).
    Holding,
    /// Every question is decided with every request started before the decision known: no
    /// more rotation requests (the hello-shape samples, always all made, still run).
    Decided,
}

/// How the collector steers the workers while the run goes.
#[derive(Debug)]
struct Steering {
    stage: watch::Sender<Stage>,
    /// The classes still wanted (`None`: every class).
    wanted: RwLock<Option<BTreeSet<Class>>>,
}

impl Default for Steering {
    fn default() -> Self {
        Steering {
            stage: watch::Sender::new(Stage::Sampling),
            wanted: RwLock::new(None),
        }
    }
}

impl Steering {
    fn wants(&self, class: &Class) -> bool {
        if self.decided() {
            return false;
        }
        let wanted = self.wanted.read().unwrap_or_else(|e| e.into_inner());
        wanted.as_ref().is_none_or(|w| w.contains(class))
    }

    fn decided(&self) -> bool {
        *self.stage.borrow() == Stage::Decided
    }

    /// Moves to `stage`; a decision is final.
    fn enter(&self, stage: Stage) {
        self.stage.send_if_modified(|now| {
            let moves = *now != stage && *now != Stage::Decided;
            if moves {
                *now = stage;
            }
            moves
        });
    }

    fn set_wanted(&self, wanted: BTreeSet<Class>) {
        *self.wanted.write().unwrap_or_else(|e| e.into_inner()) = Some(wanted);
        self.enter(Stage::Sampling);
    }
}

/// What a worker tells the collector.
enum Event {
    /// Request `id` started (for the in-flight stall rule); `shape` for a hello-shape sample.
    Started { id: u64, class: Class, shape: bool },
    /// Request `id` was abandoned once every question was decided.
    Abandoned { id: u64 },
    /// Request `id` ended with this record.
    Done {
        id: u64,
        asset: usize,
        class: Class,
        record: Box<RequestRecord>,
    },
}

/// Run the plan: `opts.concurrency` workers, each holding one session per mode. With
/// `opts.early_stop`, the collector counts every outcome as it arrives ([`Tally`]) and stops
/// the rotation once every question is decided, steering the workers meanwhile to the classes
/// still wanted; the plan stays the upper bound.
pub async fn sample(
    found: &Discovered,
    plan: &SamplePlan,
    opts: &CheckOptions,
    deadline: Instant,
    progress: &dyn TargetObserver,
) -> Result<Sampled, CheckError> {
    let probes = Arc::new(probes_for(plan, opts)?);
    let cfg = ThresholdConfig::default();
    let sizes: Vec<SizeClass> = plan
        .assets
        .iter()
        .map(|u| {
            let first = found.first_records.get(u.as_str());
            SizeClass::of(
                first.map(|r| r.content_length.unwrap_or(r.bytes_received)),
                &cfg,
            )
        })
        .collect();
    let run = Arc::new(Run {
        plan: plan.clone(),
        sizes,
        steering: Steering::default(),
        next: AtomicU64::new(0),
        deadline,
        abandon: watch::Sender::new(BTreeSet::new()),
    });
    let (tx, rx) = mpsc::channel::<Event>(256);
    let workers = opts.concurrency.clamp(1, 64);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            tokio::spawn(run_worker(
                Arc::clone(&probes),
                Arc::clone(&run),
                tx.clone(),
            ))
        })
        .collect();
    drop(tx);

    let mut collector = Collector::new(found, plan, &run, opts.early_stop, cfg);
    collector.collect(rx, progress).await;
    let mut budget_exhausted = false;
    for h in handles {
        budget_exhausted |= h.await.unwrap_or(false);
    }
    let decided_early = run.steering.decided();
    let abandoned = collector.abandoned;
    let (per_asset, cancelled, made) = collector.finish();
    Ok(Sampled {
        assets: evidence(found, plan, per_asset),
        budget_exhausted: budget_exhausted || cancelled > 0,
        cancelled,
        made,
        abandoned,
        decided_early,
    })
}

/// What the workers share: the plan, each asset's size class, the steering, the next index.
struct Run {
    plan: SamplePlan,
    sizes: Vec<SizeClass>,
    steering: Steering,
    next: AtomicU64,
    deadline: Instant,
    /// The rotation requests the collector abandoned: started as every question was decided.
    abandon: watch::Sender<BTreeSet<u64>>,
}

impl Run {
    fn class(&self, asset: usize, mode: &SampleMode) -> Class {
        Class {
            size: self.sizes.get(asset).copied().unwrap_or(SizeClass::Small),
            http: probe_key(mode).0,
            addr: mode.addr,
        }
    }
}

/// How often requests in flight are looked at, and the judgement made at most.
const STEER_EVERY: Duration = Duration::from_millis(50);

/// The collector: records per asset as they arrive, requests in flight, and (with early stop)
/// the running judgement that steers the workers.
struct Collector<'a> {
    run: &'a Run,
    early_stop: bool,
    cfg: ThresholdConfig,
    test: Sprt,
    /// The target's evidence so far: per planned asset, its verification record (when there
    /// is one) and then its samples, as the findings classify them.
    live: TargetEvidence,
    /// Records before the samples, per asset (0 or 1).
    offsets: Vec<usize>,
    /// The class of each sample, per asset, in arrival order.
    classes: Vec<Vec<Class>>,
    /// Requests in flight.
    in_flight: BTreeMap<u64, InFlight>,
    cancelled: u64,
    abandoned: u64,
    made: u64,
    /// Rotation requests needed before any decision: each asset and each mode once.
    min_made: u64,
    changed: bool,
    last_judged: Option<Instant>,
    made_at_judgement: u64,
    last_said: String,
}

impl<'a> Collector<'a> {
    fn new(
        found: &Discovered,
        plan: &SamplePlan,
        run: &'a Run,
        early_stop: bool,
        cfg: ThresholdConfig,
    ) -> Collector<'a> {
        let mut offsets = Vec::new();
        let assets = plan
            .assets
            .iter()
            .map(|u| {
                let records: Vec<RequestRecord> = found
                    .first_records
                    .get(u.as_str())
                    .cloned()
                    .into_iter()
                    .collect();
                offsets.push(records.len());
                AssetEvidence {
                    url: u.to_string(),
                    records,
                    checks: Vec::new(),
                }
            })
            .collect();
        Collector {
            run,
            early_stop,
            cfg,
            test: Sprt::default(),
            live: TargetEvidence {
                label: String::new(),
                assets,
                tls: None,
                witness: None,
                static_version: None,
            },
            offsets,
            classes: vec![Vec::new(); plan.assets.len()],
            in_flight: BTreeMap::new(),
            cancelled: 0,
            abandoned: 0,
            made: 0,
            min_made: plan.assets.len().max(plan.modes.len()) as u64,
            changed: false,
            last_judged: None,
            made_at_judgement: 0,
            last_said: String::new(),
        }
    }

    /// Receives every event until the workers are done, judging as it goes.
    async fn collect(&mut self, mut rx: mpsc::Receiver<Event>, progress: &dyn TargetObserver) {
        let mut tick = tokio::time::interval(STEER_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = rx.recv() => match event {
                    None => break,
                    Some(event) => self.receive(event, progress),
                },
                _ = tick.tick() => self.look_at_in_flight(),
            }
            // Judged every few records (a fast path finishes its plan within one tick) and
            // every tick, never on every record of a long run (each judgement reclassifies).
            let due = self.made.saturating_sub(self.made_at_judgement) >= (self.made / 16).max(4)
                || self.last_judged.is_none_or(|t| t.elapsed() >= STEER_EVERY);
            if self.early_stop && self.changed && due {
                self.judge(progress);
            }
        }
        if self.early_stop && self.changed {
            self.judge(progress);
        }
    }

    fn receive(&mut self, event: Event, progress: &dyn TargetObserver) {
        match event {
            Event::Started { id, class, shape } => {
                self.in_flight.insert(
                    id,
                    InFlight {
                        class,
                        started: Instant::now(),
                        stalled: false,
                    },
                );
                // Started as the decision was made, so no part of it: not needed.
                if !shape && self.run.steering.decided() {
                    self.run.abandon.send_modify(|abandoned| {
                        abandoned.insert(id);
                    });
                }
            }
            Event::Abandoned { id } => {
                self.in_flight.remove(&id);
                self.abandoned += 1;
                progress.step();
            }
            Event::Done {
                id,
                asset,
                class,
                record,
            } => {
                self.in_flight.remove(&id);
                progress.step();
                // Our own deadline ended it: it says nothing about the path.
                if record
                    .error
                    .as_ref()
                    .is_some_and(|e| e.kind == ErrorKind::Cancelled)
                {
                    self.cancelled += 1;
                    return;
                }
                if let (Some(a), Some(c)) =
                    (self.live.assets.get_mut(asset), self.classes.get_mut(asset))
                {
                    a.records.push(*record);
                    c.push(class);
                    self.made += 1;
                    self.changed = true;
                }
            }
        }
    }

    /// A request running past the stall threshold counts as stalled from then on.
    fn look_at_in_flight(&mut self) {
        if !self.early_stop || self.in_flight.is_empty() {
            return;
        }
        let totals = self
            .live
            .assets
            .iter()
            .zip(&self.offsets)
            .flat_map(|(a, off)| a.records.iter().skip(*off))
            .filter(|r| r.error.is_none())
            .filter_map(|r| r.phases.total_ms);
        let limit = in_flight_stall_ms(interloper_model::units::median(totals), &self.cfg);
        for request in self.in_flight.values_mut() {
            if !request.stalled && request.started.elapsed().as_secs_f64() * 1000.0 > limit {
                request.stalled = true;
                self.changed = true;
            }
        }
    }

    /// Counts every outcome so far and steers the workers.
    fn judge(&mut self, progress: &dyn TargetObserver) {
        self.changed = false;
        self.last_judged = Some(Instant::now());
        self.made_at_judgement = self.made;
        let outcomes = classify(&self.live, &self.cfg);
        let mut tally: Tally<Class> = Tally::default();
        for ((asset_outcomes, offset), classes) in
            outcomes.assets.iter().zip(&self.offsets).zip(&self.classes)
        {
            for (outcome, class) in asset_outcomes.iter().skip(*offset).zip(classes) {
                tally.add(*class, *outcome);
            }
        }
        for request in self.in_flight.values() {
            if request.stalled {
                tally.add_stalled_in_flight(request.class);
            } else {
                tally.expect(request.class);
            }
        }
        let judgement = tally.judge(&self.test);
        let said = judgement.describe();
        if said != self.last_said {
            progress.deciding(&said);
            self.last_said = said;
        }
        if self.made < self.min_made {
            return;
        }
        if !judgement.decided() {
            self.run.steering.set_wanted(judgement.wanted);
        } else if self.in_flight.values().any(|r| !r.stalled) {
            self.run.steering.enter(Stage::Holding);
        } else {
            // The stalls in flight are waited for: their end is recorded, within the budget.
            self.run.steering.enter(Stage::Decided);
        }
    }

    /// The samples per asset (verification records taken off), cancelled and kept counts.
    fn finish(self) -> (Vec<Vec<RequestRecord>>, u64, u64) {
        let per_asset = self
            .live
            .assets
            .into_iter()
            .zip(self.offsets)
            .map(|(a, off)| a.records.into_iter().skip(off).collect())
            .collect();
        (per_asset, self.cancelled, self.made)
    }
}

/// A request in flight, as the collector follows it.
struct InFlight {
    class: Class,
    started: Instant,
    /// Past the stall threshold: counted as stalled from then on.
    stalled: bool,
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
/// holding one session per mode (so reuse means reuse within this worker's stream), and skips
/// the rotation requests of classes the steering no longer wants. True when the deadline
/// stopped it.
async fn run_worker(
    probes: Arc<BTreeMap<(u8, HelloShape), Probe>>,
    run: Arc<Run>,
    tx: mpsc::Sender<Event>,
) -> bool {
    let plan = &run.plan;
    let total = plan.total();
    let mut sessions: Vec<Option<interloper_probe::Session>> = (0..plan.modes.len()
        + plan.shape_modes.len())
        .map(|_| None)
        .collect();
    let mut abandon = run.abandon.subscribe();
    let mut stage = run.steering.stage.subscribe();
    loop {
        if Instant::now() >= run.deadline || !wait_while_held(&mut stage, run.deadline).await {
            return true;
        }
        let i = run.next.fetch_add(1, Ordering::Relaxed);
        if i >= total || plan.assets.is_empty() {
            return false;
        }
        let (asset_idx, mode_idx, seq) = plan.request_at(i);
        let (Some(url), Some(mode)) = (plan.assets.get(asset_idx), plan.mode(mode_idx)) else {
            return false;
        };
        let class = run.class(asset_idx, mode);
        let shape_sample = mode_idx >= plan.modes.len();
        if !shape_sample && !run.steering.wants(&class) {
            continue;
        }
        let (Some(probe), Some(slot)) = (probes.get(&probe_key(mode)), sessions.get_mut(mode_idx))
        else {
            return false;
        };
        let session = slot.get_or_insert_with(|| {
            let mut s = probe.session(mode.policy);
            // Requests in flight when the budget runs out end there.
            s.set_deadline(Some(run.deadline));
            s
        });
        let Ok(mut target) = Target::from_url(url.clone()) else {
            continue;
        };
        target.pinned = mode.addr;
        let started = Event::Started {
            id: i,
            class,
            shape: shape_sample,
        };
        if tx.send(started).await.is_err() {
            return false;
        }
        let record = tokio::select! {
            record = session.request(&target, seq) => Some(record),
            () = abandoned(&mut abandon, i), if !shape_sample => None,
        };
        let Some(record) = record else {
            // Its connection may be in the middle of a response: never reused.
            *slot = None;
            if tx.send(Event::Abandoned { id: i }).await.is_err() {
                return false;
            }
            continue;
        };
        let done = Event::Done {
            id: i,
            asset: asset_idx,
            class,
            record: Box::new(record),
        };
        if tx.send(done).await.is_err() {
            return false;
        }
    }
}

/// Waits while the collector holds the run ([`Stage::Holding`]); false when the deadline
/// passes meanwhile.
async fn wait_while_held(stage: &mut watch::Receiver<Stage>, deadline: Instant) -> bool {
    loop {
        if *stage.borrow_and_update() != Stage::Holding {
            return true;
        }
        tokio::select! {
            changed = stage.changed() => if changed.is_err() {
                return true;
            },
            () = tokio::time::sleep_until(deadline.into()) => return false,
        }
    }
}

/// Resolves once the collector has abandoned request `id` (never if it cannot any more).
async fn abandoned(abandon: &mut watch::Receiver<BTreeSet<u64>>, id: u64) {
    loop {
        if abandon.borrow_and_update().contains(&id) {
            return;
        }
        if abandon.changed().await.is_err() {
            std::future::pending::<()>().await;
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
    fn shape_samples_come_first_one_in_two_and_are_all_planned() {
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
        // From the start, one in two, so all are under way before any decision: the first
        // at index 1, the last at 23, the rotation alone after.
        assert!(matches!(slots[0], Slot::Main(0)), "{slots:?}");
        assert!(matches!(slots[1], Slot::Shape(0)), "{slots:?}");
        assert!(matches!(slots[23], Slot::Shape(11)), "{slots:?}");
        assert!(
            slots[24..].iter().all(|s| matches!(s, Slot::Main(_))),
            "{slots:?}"
        );
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
