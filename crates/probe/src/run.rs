//! Many requests: workers per target send records over a channel to one aggregator
//! (the oha split: I/O in workers, arithmetic elsewhere).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use interloper_model::{ProbeReport, RequestRecord, RunSettings};
use tokio::sync::mpsc;

use crate::client::Probe;
use crate::config::{RunOptions, Target};
use crate::summary::Aggregator;

/// Receives the progress of a probe run ([`Probe::run`]) while it goes on. Called from the aggregating task only.
pub trait RunObserver: Send {
    /// A target starts; `expected` is its request count when known.
    fn target_started(&mut self, _target: &Target, _expected: Option<u64>) {}
    /// A request finished.
    fn record(&mut self, _record: &RequestRecord) {}
}

/// An observer that ignores everything.
impl RunObserver for () {}

/// Records in flight between workers and the aggregator.
const CHANNEL: usize = 1024;

impl Probe {
    /// Probe every target (one after the other), `opts.count` requests each with
    /// `opts.concurrency` in flight, and summarise.
    pub async fn run(
        &self,
        targets: &[Target],
        opts: &RunOptions,
        observer: &mut dyn RunObserver,
    ) -> ProbeReport {
        let started_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let count = match (opts.count, opts.duration) {
            (None, None) => Some(1),
            (c, _) => c,
        };
        let mut expanded = Vec::new();
        for t in targets {
            if opts.each_address && t.pinned.is_none() {
                match self.resolve(t).await {
                    Ok(addrs) => expanded.extend(addrs.into_iter().map(|a| Target {
                        url: t.url.clone(),
                        pinned: Some(a),
                    })),
                    // The DNS failure is then recorded by the requests themselves.
                    Err(_) => expanded.push(t.clone()),
                }
            } else {
                expanded.push(t.clone());
            }
        }
        let cfg = self.config();
        let mut reports = Vec::new();
        for t in &expanded {
            observer.target_started(t, count);
            let mut agg = Aggregator::new(
                t.url.to_string(),
                t.pinned,
                cfg.slowest_kept,
                cfg.max_records_kept,
            );
            let (tx, mut rx) = mpsc::channel::<RequestRecord>(CHANNEL);
            let next = Arc::new(AtomicU64::new(0));
            let stop_at = opts.duration.map(|d| Instant::now() + d);
            let workers = opts.concurrency.max(1);
            let workers = match count {
                Some(c) => workers.min(usize::try_from(c).unwrap_or(usize::MAX)).max(1),
                None => workers,
            };
            let mut handles = Vec::with_capacity(workers);
            for _ in 0..workers {
                let tx = tx.clone();
                let next = next.clone();
                let target = t.clone();
                let mut session = self.session(opts.policy);
                handles.push(tokio::spawn(async move {
                    loop {
                        if stop_at.is_some_and(|s| Instant::now() >= s) {
                            break;
                        }
                        let seq = next.fetch_add(1, Ordering::Relaxed);
                        if count.is_some_and(|c| seq >= c) {
                            break;
                        }
                        let rec = session.request(&target, seq).await;
                        if tx.send(rec).await.is_err() {
                            break;
                        }
                    }
                }));
            }
            drop(tx);
            while let Some(rec) = rx.recv().await {
                observer.record(&rec);
                agg.add(rec);
            }
            for h in handles {
                let _ = h.await;
            }
            reports.push(agg.finish());
        }
        ProbeReport {
            schema: interloper_model::schema::PROBE.to_string(),
            started_unix,
            settings: RunSettings {
                count,
                concurrency: opts.concurrency.max(1) as u64,
                duration_ms: opts.duration.map(|d| d.as_secs_f64() * 1000.0),
                connections: opts.policy,
                http: cfg.http,
                insecure_skip_verify: cfg.insecure_skip_verify,
                proxy: targets.first().and_then(|t| self.proxy_for(t)),
                dns_server: cfg.dns_server.map(|s| s.to_string()),
            },
            targets: reports,
        }
    }
}
