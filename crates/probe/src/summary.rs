//! Aggregation: turns a stream of records into a bounded summary. Touches no socket; fed over a
//! channel by the workers.

use std::net::SocketAddr;

use hdrhistogram::Histogram;
use interloper_model::{
    PhaseStats, PhaseSummary, ProbeTargetReport, ProbeTargetSummary, RequestRecord,
};

/// Histogram range: 1 µs to 1 hour, 3 significant digits.
const MAX_US: u64 = 3_600_000_000;

struct PhaseHist {
    h: Histogram<u64>,
}

impl PhaseHist {
    fn new() -> Self {
        PhaseHist {
            h: Histogram::new_with_bounds(1, MAX_US, 3).expect("constant histogram bounds"),
        }
    }
    fn add(&mut self, ms: Option<f64>) {
        if let Some(ms) = ms.filter(|m| m.is_finite()) {
            let us = (ms * 1000.0).round().clamp(1.0, MAX_US as f64) as u64;
            let _ = self.h.record(us);
        }
    }
    fn stats(&self) -> Option<PhaseStats> {
        if self.h.is_empty() {
            return None;
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Some(PhaseStats {
            count: self.h.len(),
            min: ms(self.h.min()),
            p50: ms(self.h.value_at_quantile(0.50)),
            p90: ms(self.h.value_at_quantile(0.90)),
            p99: ms(self.h.value_at_quantile(0.99)),
            max: ms(self.h.max()),
            mean: self.h.mean() / 1000.0,
        })
    }
}

/// Accumulates the records of one target. Memory is bounded by `slowest_kept` and
/// `max_records_kept`, whatever the number of requests.
pub struct Aggregator {
    url: String,
    address: Option<SocketAddr>,
    summary: ProbeTargetSummary,
    dns: PhaseHist,
    connect: PhaseHist,
    tls: PhaseHist,
    write: PhaseHist,
    ttfb: PhaseHist,
    body: PhaseHist,
    total: PhaseHist,
    first_start: Option<f64>,
    last_end: f64,
    slowest_kept: usize,
    records: Vec<RequestRecord>,
    max_records: usize,
    omitted: u64,
}

impl Aggregator {
    /// A new, empty aggregate for one target.
    pub fn new(
        url: String,
        address: Option<SocketAddr>,
        slowest_kept: usize,
        max_records: usize,
    ) -> Self {
        Aggregator {
            url,
            address,
            summary: ProbeTargetSummary::default(),
            dns: PhaseHist::new(),
            connect: PhaseHist::new(),
            tls: PhaseHist::new(),
            write: PhaseHist::new(),
            ttfb: PhaseHist::new(),
            body: PhaseHist::new(),
            total: PhaseHist::new(),
            first_start: None,
            last_end: 0.0,
            slowest_kept,
            records: Vec::new(),
            max_records,
            omitted: 0,
        }
    }

    /// Count one record (kept only if under the cap).
    pub fn add(&mut self, rec: RequestRecord) {
        let s = &mut self.summary;
        s.count += 1;
        match &rec.error {
            None => s.ok += 1,
            Some(e) => {
                s.failed += 1;
                *s.failures.entry(e.kind).or_default() += 1;
            }
        }
        if let Some(st) = rec.status {
            *s.statuses.entry(st).or_default() += 1;
        }
        if !rec.reused && rec.phases.connect_ms.is_some() && rec.remote_addr.is_some() {
            let connect_failed = rec
                .error
                .as_ref()
                .is_some_and(|e| e.phase == interloper_model::Phase::Connect);
            if !connect_failed {
                s.connections += 1;
            }
        }
        s.bytes_received = s.bytes_received.saturating_add(rec.bytes_received);
        let p = &rec.phases;
        self.dns.add(p.dns_ms);
        self.connect.add(p.connect_ms);
        self.tls.add(p.tls_ms);
        self.write.add(p.write_ms);
        self.ttfb.add(p.ttfb_ms);
        self.body.add(p.body_ms);
        self.total.add(p.total_ms);
        let start = rec.started_ms;
        let end = start + p.total_ms.unwrap_or(0.0);
        self.first_start = Some(self.first_start.map_or(start, |f| f.min(start)));
        self.last_end = self.last_end.max(end);

        let total = p.total_ms.unwrap_or(0.0);
        let slowest = &mut self.summary.slowest;
        let qualifies = slowest.len() < self.slowest_kept
            || slowest
                .last()
                .is_some_and(|l| l.phases.total_ms.unwrap_or(0.0) < total);
        if qualifies && self.slowest_kept > 0 {
            let pos = slowest
                .iter()
                .position(|r| r.phases.total_ms.unwrap_or(0.0) < total)
                .unwrap_or(slowest.len());
            let mut copy = rec.clone();
            // The summary copy stays small; full TLS evidence lives in the records.
            if let Some(t) = copy.tls.as_mut() {
                t.client_hello = Vec::new();
                t.presented_chain = Vec::new();
            }
            copy.headers = Vec::new();
            slowest.insert(pos, copy);
            slowest.truncate(self.slowest_kept);
        }
        self.keep(rec);
    }

    fn keep(&mut self, rec: RequestRecord) {
        if self.records.len() < self.max_records {
            self.records.push(rec);
        } else {
            self.omitted += 1;
        }
    }

    /// The finished report for this target.
    pub fn finish(mut self) -> ProbeTargetReport {
        let s = &mut self.summary;
        s.elapsed_ms = self
            .first_start
            .map_or(0.0, |f| (self.last_end - f).max(0.0));
        s.requests_per_sec = if s.elapsed_ms > 0.0 {
            s.count as f64 / (s.elapsed_ms / 1000.0)
        } else {
            0.0
        };
        s.phases = PhaseSummary {
            dns: self.dns.stats(),
            connect: self.connect.stats(),
            tls: self.tls.stats(),
            write: self.write.stats(),
            ttfb: self.ttfb.stats(),
            body: self.body.stats(),
            total: self.total.stats(),
        };
        ProbeTargetReport {
            url: self.url,
            address: self.address,
            summary: self.summary,
            records: self.records,
            records_omitted: self.omitted,
        }
    }
}
