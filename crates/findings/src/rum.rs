//! Real users' browsers as the vantage point (`interloper rum`): the static files of sampled
//! page views, timed by the browser's Resource Timing and named with the instance that served
//! them (`Server-Timing`), read as one [`TargetEvidence`] per instance. The check's detectors
//! run over them as they do over a HAR; beside them, rates rather than single requests — real
//! users always have a few slow requests — name the instance, the client networks and the
//! phase where the time goes (IL710 … IL713).
//!
//! The aggregates ([`RumAggregates`]) are counted once here from the analysis' own outcomes, so
//! the tables a user reads cannot drift from the findings.

use std::collections::BTreeMap;

use interloper_model::units::{fmt_duration_ms, median};
use interloper_model::{HttpVersion, Phase, RequestRecord};
use serde::{Deserialize, Serialize};

use crate::analysis::analyse_weighing;
use crate::classify::{RequestOutcome, TargetOutcomes, classify, phase_value};
use crate::detect::{add_worst_requests, finding};
use crate::diagnosis::Source;
use crate::input::{AssetEvidence, Evidence, TargetEvidence};
use crate::thresholds::ThresholdConfig;
use crate::{Analysis, Code, Confidence, Finding, Severity};

/// The label of requests whose response named no instance (no `Server-Timing` the page could
/// read).
pub const UNKNOWN_INSTANCE: &str = "(no instance named)";

/// What the beacons say about one instance's requests besides their records: the client
/// network each came from, aligned with the target's `assets[a].records[r]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RumEvidence {
    /// The label of the target it belongs to (the instance).
    pub label: String,
    /// Per asset, per record: the client network (`203.0.113.0/24`, `2001:db8::/48`), or
    /// empty when the beacon had none.
    pub networks: Vec<Vec<String>>,
    /// Per asset, per record: how long the file waited for a connection before its request
    /// went out (ms), where the beacon said.
    #[serde(default)]
    pub queued: Vec<Vec<Option<f64>>>,
}

/// Time per phase, summed over a group's stalled requests (ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseTimes {
    /// Name resolution.
    pub dns_ms: f64,
    /// TCP connect.
    pub connect_ms: f64,
    /// TLS handshake.
    pub tls_ms: f64,
    /// Request sent → first byte of the response.
    pub first_byte_ms: f64,
    /// First byte → last byte.
    pub download_ms: f64,
}

impl PhaseTimes {
    fn add(&mut self, r: &RequestRecord) {
        let v = |p| phase_value(r, p).filter(|v| v.is_finite() && *v > 0.0);
        self.dns_ms += v(Phase::Dns).unwrap_or(0.0);
        self.connect_ms += v(Phase::Connect).unwrap_or(0.0);
        self.tls_ms += v(Phase::Tls).unwrap_or(0.0);
        self.first_byte_ms += v(Phase::Ttfb).unwrap_or(0.0);
        self.download_ms += v(Phase::Body).unwrap_or(0.0);
    }

    fn total(&self) -> f64 {
        self.dns_ms + self.connect_ms + self.tls_ms + self.first_byte_ms + self.download_ms
    }

    /// The phase holding most of the time, with its share (0–1); None when no time was kept.
    pub fn dominant(&self) -> Option<(Phase, f64)> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        [
            (Phase::Dns, self.dns_ms),
            (Phase::Connect, self.connect_ms),
            (Phase::Tls, self.tls_ms),
            (Phase::Ttfb, self.first_byte_ms),
            (Phase::Body, self.download_ms),
        ]
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(p, ms)| (p, ms / total))
    }
}

/// How one group (an instance, a client network, a file, a size class, a protocol) fared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RumGroup {
    /// What the group is (`app4`, `203.0.113.0/24`, a URL, `large`, `HTTP/2`).
    pub key: String,
    /// Requests timed.
    pub requests: u64,
    /// Requests stalled in some phase, or trickled.
    pub stalled: u64,
    /// Requests failed or cut short.
    pub failed: u64,
    /// Client networks seen in the group, and those with a stalled or failed request.
    pub networks: u64,
    /// Client networks with a stalled or failed request.
    pub networks_affected: u64,
    /// Time per phase over the stalled requests.
    pub stalled_time: PhaseTimes,
    /// Requests neither stalled nor failed that waited for a connection longer than the stall
    /// rule allows before going out: counted apart, because the connection they waited for
    /// was another request's, perhaps to another instance — not this file's own phases.
    #[serde(default)]
    pub waited: u64,
    /// The time those requests waited, summed (ms).
    #[serde(default)]
    pub waited_ms: f64,
}

impl RumGroup {
    /// Stalled or failed requests.
    pub fn bad(&self) -> u64 {
        self.stalled + self.failed
    }

    /// Stalled or failed requests over all of them (0 when empty).
    pub fn bad_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.bad() as f64 / self.requests as f64
        }
    }
}

/// Stall and failure rates by instance, client network, file, size class and protocol.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RumAggregates {
    /// By the instance named in `Server-Timing`.
    pub instances: Vec<RumGroup>,
    /// By client network (/24 for IPv4, /48 for IPv6).
    pub networks: Vec<RumGroup>,
    /// By file (URL).
    pub assets: Vec<RumGroup>,
    /// By size class: `small` (≤ the small-body threshold), `medium`, `large` (≥ the
    /// large-body threshold), `unknown`.
    pub sizes: Vec<RumGroup>,
    /// By protocol (`HTTP/2`, `HTTP/1.1`, `HTTP/3`, `unknown`).
    pub protocols: Vec<RumGroup>,
}

/// What `interloper rum` concludes: the analysis (findings, verdict, per-instance summaries)
/// and the aggregates.
#[derive(Debug, Clone, PartialEq)]
pub struct RumAnalysis {
    /// Findings, verdict and per-instance summaries.
    pub analysis: Analysis,
    /// The rates by group.
    pub aggregates: RumAggregates,
}

/// The check's analysis over `targets` (one per instance) with the rate detectors of real
/// users beside it, matched to `rum` by label. Read as a HAR is: what browsers recorded.
pub fn analyse_rum(
    targets: &[TargetEvidence],
    rum: &[RumEvidence],
    cfg: &ThresholdConfig,
) -> RumAnalysis {
    let outcomes: Vec<TargetOutcomes> = targets.iter().map(|t| classify(t, cfg)).collect();
    let aggregates = aggregate(targets, rum, &outcomes, cfg);
    let mut extra: Vec<Finding> = outlier_instances(targets, &outcomes, &aggregates);
    extra.extend(affected_networks(&aggregates));
    extra.extend(unnamed_instance(&aggregates));
    // Ranked and weighed with the check's own findings: the one verdict rule decides. Real
    // users always have a few slow requests (a busy laptop, a train's Wi-Fi): the check's
    // stall finding on an instance counts only past the same bar as the rates here.
    let stalls: BTreeMap<&str, (u64, u64)> = targets
        .iter()
        .zip(&outcomes)
        .map(|(t, o)| {
            let all = o.assets.iter().flatten();
            let stalled = all.clone().filter(|o| o.is_stall()).count() as u64;
            (t.label.as_str(), (stalled, all.count() as u64))
        })
        .collect();
    let analysis = analyse_weighing(Source::Har, targets, cfg, extra, |f| {
        if f.code != Code::IL201 || f.severity <= Severity::Info {
            return;
        }
        let (stalled, requests) = f
            .subject
            .as_deref()
            .and_then(|s| stalls.get(s))
            .copied()
            .unwrap_or_default();
        if stalled < MIN_BAD || (stalled as f64) < MIN_RATE * requests as f64 {
            f.severity = Severity::Info;
            f.summary.push_str(&format!(
                "; a note here: real users always have a few slow requests, and an instance \
                 counts from {MIN_BAD} stalls and {} of its files",
                percent(MIN_RATE)
            ));
        }
    });
    RumAnalysis {
        analysis,
        aggregates,
    }
}

/// One request with what the groups are keyed by.
struct Row<'a> {
    instance: &'a str,
    network: &'a str,
    asset: &'a AssetEvidence,
    record: &'a RequestRecord,
    outcome: RequestOutcome,
    queued: Option<f64>,
}

fn rows<'a>(
    targets: &'a [TargetEvidence],
    rum: &'a [RumEvidence],
    outcomes: &'a [TargetOutcomes],
) -> Vec<Row<'a>> {
    let mut out = Vec::new();
    for (t, outcomes) in targets.iter().zip(outcomes) {
        let nets = rum.iter().find(|r| r.label == t.label);
        for (a_index, (asset, asset_outcomes)) in t.assets.iter().zip(&outcomes.assets).enumerate()
        {
            for (r_index, (record, outcome)) in asset.records.iter().zip(asset_outcomes).enumerate()
            {
                let network = nets
                    .and_then(|n| n.networks.get(a_index))
                    .and_then(|n| n.get(r_index))
                    .map_or("", String::as_str);
                let queued = nets
                    .and_then(|n| n.queued.get(a_index))
                    .and_then(|q| q.get(r_index).copied().flatten())
                    .filter(|q| q.is_finite() && *q >= 0.0);
                out.push(Row {
                    instance: &t.label,
                    network,
                    asset,
                    record,
                    outcome: *outcome,
                    queued,
                });
            }
        }
    }
    out
}

/// The size class of a response by its encoded body size.
fn size_class(r: &RequestRecord, cfg: &ThresholdConfig) -> &'static str {
    match r.content_length.unwrap_or(r.bytes_received) {
        0 => "unknown",
        n if n <= cfg.small_body => "small",
        n if n >= cfg.large_body => "large",
        _ => "medium",
    }
}

fn protocol(r: &RequestRecord) -> &'static str {
    match r.http_version {
        Some(HttpVersion::Http2) => "HTTP/2",
        Some(HttpVersion::Http3) => "HTTP/3",
        Some(HttpVersion::Http11) => "HTTP/1.1",
        Some(HttpVersion::Http10) => "HTTP/1.0",
        Some(HttpVersion::Http09) => "HTTP/0.9",
        None => "unknown",
    }
}

/// Counts every request once into each of its groups.
fn aggregate(
    targets: &[TargetEvidence],
    rum: &[RumEvidence],
    outcomes: &[TargetOutcomes],
    cfg: &ThresholdConfig,
) -> RumAggregates {
    let rows = rows(targets, rum, outcomes);
    // The stall rule over the waits, as a HAR's queueing is judged: real pages always wait a
    // little for a connection; a wait far beyond the usual one is the path's.
    let wait_threshold =
        cfg.stall_threshold(median(rows.iter().filter_map(|r| r.queued)).unwrap_or(0.0));
    type Groups<'a> = BTreeMap<String, (RumGroup, BTreeMap<&'a str, bool>)>;
    let mut tables: [Groups<'_>; 5] = Default::default();
    for row in &rows {
        let keys = [
            row.instance.to_string(),
            if row.network.is_empty() {
                "unknown".to_string()
            } else {
                row.network.to_string()
            },
            row.asset.url.clone(),
            size_class(row.record, cfg).to_string(),
            protocol(row.record).to_string(),
        ];
        let stalled = row.outcome.counts_as_stalled();
        let failed = row.outcome.counts_as_failed();
        let waited = row
            .queued
            .filter(|q| !stalled && !failed && *q > wait_threshold);
        for (table, key) in tables.iter_mut().zip(keys) {
            let (g, nets) = table.entry(key.clone()).or_insert_with(|| {
                let group = RumGroup {
                    key,
                    ..RumGroup::default()
                };
                (group, BTreeMap::new())
            });
            g.requests += 1;
            g.stalled += u64::from(stalled);
            g.failed += u64::from(failed);
            if stalled {
                g.stalled_time.add(row.record);
            }
            if let Some(q) = waited {
                g.waited += 1;
                g.waited_ms += q;
            }
            if !row.network.is_empty() {
                *nets.entry(row.network).or_default() |= stalled || failed;
            }
        }
    }
    let [instances, networks, assets, sizes, protocols] = tables.map(|table| {
        let mut groups: Vec<RumGroup> = table
            .into_values()
            .map(|(mut g, nets)| {
                g.networks = nets.len() as u64;
                g.networks_affected = nets.values().filter(|bad| **bad).count() as u64;
                g
            })
            .collect();
        groups.sort_by(|a, b| {
            b.bad_rate()
                .total_cmp(&a.bad_rate())
                .then(a.key.cmp(&b.key))
        });
        groups
    });
    RumAggregates {
        instances,
        networks,
        assets,
        sizes,
        protocols,
    }
}

/// At least this many stalled or failed requests before a group is named.
const MIN_BAD: u64 = 3;
/// A group is named when at least this share of its requests went wrong…
const MIN_RATE: f64 = 0.02;
/// …and at least this many times the rate of the rest.
const CONTRAST: f64 = 3.0;

/// Whether `g` stands out against `rest` (the other groups pooled).
fn stands_out(g: &RumGroup, rest_bad: u64, rest_requests: u64) -> bool {
    let rest_rate = if rest_requests == 0 {
        0.0
    } else {
        rest_bad as f64 / rest_requests as f64
    };
    g.bad() >= MIN_BAD && g.bad_rate() >= MIN_RATE && g.bad_rate() >= CONTRAST * rest_rate
}

/// `1.5 %`.
fn percent(rate: f64) -> String {
    format!("{:.1} %", 100.0 * rate)
}

/// The phase in a user's words, with where the time then goes.
fn phase_words(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "name resolution",
        Phase::Connect => "TCP connect",
        Phase::Tls => "TLS setup",
        Phase::Write | Phase::Ttfb => "waiting for the first byte",
        Phase::Body => "download",
    }
}

/// IL710 / IL711 — an instance whose files stall or fail in users' browsers far more often
/// than its siblings': on the path (connect, TLS, download) or at its server (first byte).
fn outlier_instances(
    targets: &[TargetEvidence],
    outcomes: &[TargetOutcomes],
    agg: &RumAggregates,
) -> Vec<Finding> {
    let named: Vec<&RumGroup> = agg
        .instances
        .iter()
        .filter(|g| g.key != UNKNOWN_INSTANCE)
        .collect();
    if named.len() < 2 {
        return Vec::new();
    }
    let (all_bad, all_requests) = named
        .iter()
        .fold((0, 0), |(b, n), g| (b + g.bad(), n + g.requests));
    let mut out = Vec::new();
    for g in &named {
        let (rest_bad, rest_requests) = (all_bad - g.bad(), all_requests - g.requests);
        if !stands_out(g, rest_bad, rest_requests) {
            continue;
        }
        let dominant = g.stalled_time.dominant();
        let code = match dominant {
            Some((Phase::Ttfb | Phase::Write, _)) => Code::IL711,
            _ => Code::IL710,
        };
        let what = match (g.stalled, g.failed) {
            (_, 0) => "stalled",
            (0, _) => "failed",
            _ => "stalled or failed",
        };
        let phase = dominant
            .map(|(p, share)| {
                format!(
                    ", {} of the stalled time in {}",
                    percent(share),
                    phase_words(p)
                )
            })
            .unwrap_or_default();
        let rest_rate = rest_bad as f64 / rest_requests.max(1) as f64;
        let mut f = finding(
            code,
            Some(&g.key),
            format!(
                "{}: {} of static files {what} ({} of {}){phase}, on {} of {} client networks; \
                 its siblings {}{}",
                g.key,
                percent(g.bad_rate()),
                g.bad(),
                g.requests,
                g.networks_affected,
                g.networks,
                percent(rest_rate),
                waits_words(&named),
            ),
        );
        f.confidence = if g.bad() >= 10 && g.bad_rate() >= 5.0 * rest_rate {
            Confidence::High
        } else {
            Confidence::Medium
        };
        f.evidence.push(Evidence::Stat {
            label: format!("{} stalled, failed, timed", g.key),
            value: format!("{}, {}, {}", g.stalled, g.failed, g.requests),
        });
        f.evidence.push(Evidence::Stat {
            label: "the other instances: stalled or failed, timed".into(),
            value: format!("{rest_bad}, {rest_requests}"),
        });
        if named.iter().any(|g| g.waited > 0) {
            let by: Vec<String> = named
                .iter()
                .filter(|g| g.waited > 0)
                .map(|g| format!("{} {}", g.key, g.waited))
                .collect();
            f.evidence.push(Evidence::Stat {
                label: "files that waited for a connection, by instance".into(),
                value: by.join(", "),
            });
        }
        let t = &g.stalled_time;
        f.evidence.push(Evidence::Stat {
            label: "stalled time: DNS, connect, TLS, first byte, download (ms)".into(),
            value: format!(
                "{:.0}, {:.0}, {:.0}, {:.0}, {:.0}",
                t.dns_ms, t.connect_ms, t.tls_ms, t.first_byte_ms, t.download_ms
            ),
        });
        if let Some((t, o)) = targets.iter().zip(outcomes).find(|(t, _)| t.label == g.key) {
            let worst = t
                .assets
                .iter()
                .zip(&o.assets)
                .flat_map(|(a, os)| a.records.iter().zip(os).map(move |(r, o)| (a, r, *o)))
                .filter(|(_, _, o)| o.counts_as_stalled() || o.counts_as_failed())
                .map(|(a, r, _)| (a, r, r.phases.total_ms));
            add_worst_requests(&mut f, worst);
        }
        out.push(f);
    }
    out
}

/// `; another 175 files (of every instance) waited for a connection, 351.2 s in all`, or
/// nothing: files held back while connections — a slow instance's among them — were set up.
fn waits_words(named: &[&RumGroup]) -> String {
    let (n, ms) = named
        .iter()
        .fold((0, 0.0), |(n, ms), g| (n + g.waited, ms + g.waited_ms));
    if n == 0 {
        return String::new();
    }
    let on = named.iter().filter(|g| g.waited > 0).count();
    format!(
        "; another {n} file(s) of {on} instance(s) waited for a connection, {} in all",
        fmt_duration_ms(ms)
    )
}

/// Requests from a network needed before it is compared with the others.
const MIN_NETWORK_REQUESTS: u64 = 20;

/// IL712 — stalls or failures confined to some client networks while the others, with enough
/// requests to tell, are clean: the path from those networks.
fn affected_networks(agg: &RumAggregates) -> Option<Finding> {
    let known: Vec<&RumGroup> = agg
        .networks
        .iter()
        .filter(|g| g.key != "unknown" && g.requests >= MIN_NETWORK_REQUESTS)
        .collect();
    let (all_bad, all_requests) = known
        .iter()
        .fold((0, 0), |(b, n), g| (b + g.bad(), n + g.requests));
    let bad: Vec<&&RumGroup> = known
        .iter()
        .filter(|g| stands_out(g, all_bad - g.bad(), all_requests - g.requests))
        .collect();
    let clean = known.iter().filter(|g| g.bad_rate() < MIN_RATE).count();
    if bad.is_empty() || clean == 0 {
        return None;
    }
    let names: Vec<String> = bad
        .iter()
        .map(|g| format!("{} ({} of {})", g.key, percent(g.bad_rate()), g.requests))
        .collect();
    let mut f = finding(
        Code::IL712,
        Some(&bad[0].key),
        format!(
            "static files stall or fail from {} of {} client networks: {}; {clean} other \
             network(s) are clean",
            bad.len(),
            known.len(),
            names.join(", ")
        ),
    );
    for g in &bad {
        f.evidence.push(Evidence::Stat {
            label: format!("{} stalled, failed, timed", g.key),
            value: format!("{}, {}, {}", g.stalled, g.failed, g.requests),
        });
    }
    f.confidence = if bad.iter().all(|g| g.bad() >= 10) {
        Confidence::High
    } else {
        Confidence::Medium
    };
    Some(f)
}

/// IL713 — files whose response named no instance: the `Server-Timing` header is missing (or
/// the page may not read it: `Timing-Allow-Origin`), so they cannot be tied to an instance.
fn unnamed_instance(agg: &RumAggregates) -> Option<Finding> {
    let unknown = agg.instances.iter().find(|g| g.key == UNKNOWN_INSTANCE)?;
    let all: u64 = agg.instances.iter().map(|g| g.requests).sum();
    let mut f = finding(
        Code::IL713,
        None,
        format!(
            "{} of {all} static files timed by browsers named no instance (no readable \
             Server-Timing)",
            unknown.requests
        ),
    );
    f.confidence = Confidence::High;
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use interloper_model::Phases;

    fn record(seq: u64, url: &str, tls_ms: f64) -> RequestRecord {
        let mut r = RequestRecord::new(seq, url.to_string(), seq as f64);
        r.http_version = Some(HttpVersion::Http2);
        r.status = Some(200);
        r.bytes_received = 2000;
        r.content_length = Some(2000);
        r.phases = Phases {
            dns_ms: Some(0.0),
            connect_ms: Some(1.0),
            tls_ms: Some(tls_ms),
            write_ms: None,
            ttfb_ms: Some(3.0),
            first_byte_ms: None,
            body_ms: Some(1.0),
            total_ms: Some(tls_ms + 5.0),
        };
        r
    }

    /// `n` requests on `label` from `nets` networks, every `every`-th stalled 2 s in TLS.
    fn instance(
        label: &str,
        n: u64,
        every: Option<u64>,
        nets: u64,
    ) -> (TargetEvidence, RumEvidence) {
        let url = "https://app.test/static/app.css";
        let records: Vec<RequestRecord> = (0..n)
            .map(|i| {
                let stalled = every.is_some_and(|e| i % e == 0);
                record(i, url, if stalled { 2000.0 } else { 4.0 })
            })
            .collect();
        let networks = (0..n)
            .map(|i| format!("198.51.{}.0/24", i % nets))
            .collect();
        (
            TargetEvidence {
                label: label.into(),
                assets: vec![AssetEvidence {
                    url: url.into(),
                    records,
                    checks: Vec::new(),
                }],
                ..TargetEvidence::default()
            },
            RumEvidence {
                label: label.into(),
                networks: vec![networks],
                queued: vec![vec![Some(1.0); n as usize]],
            },
        )
    }

    fn run(instances: Vec<(TargetEvidence, RumEvidence)>) -> RumAnalysis {
        let (targets, rum): (Vec<_>, Vec<_>) = instances.into_iter().unzip();
        analyse_rum(&targets, &rum, &ThresholdConfig::default())
    }

    /// The first finding with one of `codes`.
    fn found<'a>(out: &'a RumAnalysis, codes: &[Code]) -> &'a Finding {
        out.analysis
            .diagnosis
            .findings
            .iter()
            .find(|f| codes.contains(&f.code))
            .unwrap_or_else(|| panic!("no {codes:?} in {:#?}", out.analysis.diagnosis))
    }

    #[test]
    fn the_instance_stalling_in_tls_is_named_with_its_phase_and_networks() {
        let out = run(vec![
            instance("app1", 100, None, 5),
            instance("app2", 100, None, 5),
            instance("app3", 100, None, 5),
            instance("app4", 100, Some(7), 5),
        ]);
        let d = &out.analysis.diagnosis;
        assert_eq!(d.verdict.root_cause, Some(Code::IL710), "{d:#?}");
        assert_eq!(d.verdict.subject.as_deref(), Some("app4"));
        let f = found(&out, &[Code::IL710]);
        assert!(
            f.summary
                .contains("app4: 15.0 % of static files stalled (15 of 100)"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("in TLS setup"), "{}", f.summary);
        assert!(
            f.summary.contains("on 5 of 5 client networks"),
            "{}",
            f.summary
        );
        assert_eq!(out.aggregates.instances[0].key, "app4");
        assert!(!d.findings.iter().any(|f| f.code == Code::IL712));
    }

    /// Files whose own phases were quick but that waited 2 s for a connection (held for a
    /// handshake in progress, maybe another instance's) are counted apart on the instance that
    /// served them, never as its stalls, and IL710 on the slow instance mentions them.
    #[test]
    fn files_that_waited_for_a_connection_are_counted_apart() {
        let mut instances = vec![
            instance("app1", 100, None, 2),
            instance("app2", 100, None, 2),
            instance("app3", 100, None, 2),
            instance("app4", 100, Some(7), 2),
        ];
        for (_, rum) in instances.iter_mut().take(3) {
            for q in rum.queued[0].iter_mut().step_by(10) {
                *q = Some(2000.0);
            }
        }
        let out = run(instances);
        let app1 = out
            .aggregates
            .instances
            .iter()
            .find(|g| g.key == "app1")
            .expect("app1");
        assert_eq!((app1.stalled, app1.waited), (0, 10), "{app1:?}");
        assert_eq!(app1.waited_ms, 20_000.0);
        let d = &out.analysis.diagnosis;
        assert_eq!(d.verdict.subject.as_deref(), Some("app4"), "{d:#?}");
        let f = found(&out, &[Code::IL710]);
        assert!(
            f.summary.contains(
                "another 30 file(s) of 3 instance(s) waited for a connection, 1.0 min in all"
            ),
            "{}",
            f.summary
        );
        assert!(!d.findings.iter().any(|f| f.code == Code::IL712));
    }

    /// One slow handshake in a hundred files (a user's busy laptop) is a note; three in a
    /// hundred are the check's warning again.
    #[test]
    fn a_lone_stall_is_a_note_for_real_users() {
        let lone = run(vec![
            instance("app1", 100, Some(1000), 2),
            instance("app2", 100, None, 2),
        ]);
        let f = found(&lone, &[Code::IL201]);
        assert_eq!(f.severity, Severity::Info, "{f:#?}");
        assert!(f.summary.contains("a few slow requests"), "{}", f.summary);
        assert_eq!(lone.analysis.diagnosis.worst(), Some(Severity::Info));

        let three = run(vec![
            instance("app1", 100, Some(34), 2),
            instance("app2", 100, None, 2),
        ]);
        let f = found(&three, &[Code::IL201, Code::IL710]);
        assert!(f.severity >= Severity::Warning, "{f:#?}");
    }

    #[test]
    fn clean_instances_say_nothing_at_warning_or_above() {
        let out = run(vec![
            instance("app1", 100, None, 3),
            instance("app2", 100, None, 3),
        ]);
        assert!(
            out.analysis.diagnosis.worst().is_none(),
            "{:#?}",
            out.analysis
        );
        assert_eq!(out.aggregates.networks.len(), 3);
    }

    #[test]
    fn one_bad_network_is_named() {
        let (mut t, mut rum) = instance("app1", 100, None, 4);
        // Every request from the fourth network stalls.
        for (i, r) in t.assets[0].records.iter_mut().enumerate() {
            if i % 4 == 3 {
                r.phases.tls_ms = Some(2000.0);
            }
        }
        rum.networks[0] = (0..100).map(|i| format!("198.51.{}.0/24", i % 4)).collect();
        let out = run(vec![(t, rum)]);
        let f = found(&out, &[Code::IL712]);
        assert_eq!(f.subject.as_deref(), Some("198.51.3.0/24"));
    }

    #[test]
    fn files_without_an_instance_are_a_note() {
        let out = run(vec![instance(UNKNOWN_INSTANCE, 10, None, 1)]);
        let f = &out.analysis.diagnosis.findings;
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].code, Code::IL713);
    }
}
