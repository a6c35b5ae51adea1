//! Detectors that single out one group of requests — an address or IP family, large bodies,
//! an HTTP version — as the one that misbehaves while the others are fine.
//!
//! When such a group holds every stall (or every failure) of the target, it is the diagnosis:
//! IL201 (or IL202) would only repeat it less precisely, so [`fold_into_groups`] folds the
//! general finding's summary and severity into the group's.

use super::{add_worst_requests, finding, stalled_or_failed};
use crate::classify::Classified;
use crate::input::{AssetEvidence, Evidence, TargetEvidence};
use crate::stats::{binomial_cdf, rate_upper_bound};
use crate::thresholds::ThresholdConfig;
use crate::{Code, Confidence, Finding};
use interloper_model::units::fmt_bytes;
use interloper_model::{HelloShape, RequestRecord};
use std::collections::BTreeMap;

/// A finding about one group and the stalls and failures it accounts for.
pub(crate) struct GroupFinding {
    pub(crate) finding: Finding,
    pub(crate) stalls: usize,
    pub(crate) failures: usize,
    /// The chance the rest came out this clean had they fared as the group did.
    pub(crate) chance: f64,
    /// The group as the report names it ("address 127.0.0.2").
    pub(crate) group: String,
    /// Which of the classified rows belong to the group, row by row.
    pub(crate) members: Vec<bool>,
}

/// A detector of one group that misbehaves.
pub(crate) type GroupDetector =
    fn(&TargetEvidence, &Classified<'_>, &ThresholdConfig) -> Option<GroupFinding>;

/// Keeps the group findings that are not another's shadow, returning them and the notes the
/// indistinguishable ones became.
///
/// Two groups overlap when the sampling happened to send more of one group's requests into
/// the other (HTTP/2 requests that went to the bad address more often than HTTP/1.1 ones did):
/// the bad address then makes HTTP/2 look bad too. Of two findings, one is set aside when its
/// contrast no longer holds once the other's requests are left out while the other's still
/// holds without its own; the one kept says which group it explains. When neither holds
/// without the other, the evidence cannot tell them apart: the stronger stays (the smaller
/// chance of its contrast by luck; the earlier detector on a tie) and the other becomes an
/// info note naming it, so one overlap never makes two causes.
pub(crate) fn without_shadows(
    t: &TargetEvidence,
    c: &Classified<'_>,
    cfg: &ThresholdConfig,
    found: Vec<(GroupDetector, GroupFinding)>,
) -> (Vec<GroupFinding>, Vec<Finding>) {
    let holds_without = |i: usize, j: usize| {
        let (detect, _) = &found[i];
        detect(t, &c.without(&found[j].1.members), cfg).is_some()
    };
    let n = found.len();
    // For each finding: the one that explains it, or the one it cannot be told apart from.
    let mut explained_by: Vec<Option<usize>> = vec![None; n];
    let mut tied_with: Vec<Option<usize>> = vec![None; n];
    for i in 0..n {
        for j in (i + 1)..n {
            match (holds_without(i, j), holds_without(j, i)) {
                (true, false) => explained_by[j] = explained_by[j].or(Some(i)),
                (false, true) => explained_by[i] = explained_by[i].or(Some(j)),
                (false, false) => {
                    let weaker = if found[j].1.chance < found[i].1.chance {
                        i
                    } else {
                        j
                    };
                    let stronger = i + j - weaker;
                    tied_with[weaker] = tied_with[weaker].or(Some(stronger));
                }
                (true, true) => {}
            }
        }
    }
    let names: Vec<String> = found.iter().map(|(_, g)| g.group.clone()).collect();
    let mut kept = Vec::new();
    let mut notes = Vec::new();
    let mut explains: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, by) in explained_by.iter().enumerate() {
        if let Some(j) = by {
            explains[*j].push(i);
        }
    }
    for (i, (_, mut g)) in found.into_iter().enumerate() {
        if explained_by[i].is_some() {
            continue;
        }
        for &shadow in &explains[i] {
            g.finding.evidence.push(Evidence::Stat {
                label: "also explains".into(),
                value: format!(
                    "{}, which looked worse only for its requests in {}; without them it \
                     fares as the rest",
                    names[shadow], g.group
                ),
            });
        }
        match tied_with[i] {
            Some(j) => {
                let mut f = g.finding;
                f.severity = crate::Severity::Info;
                f.confidence = Confidence::Low;
                f.summary = format!(
                    "{}; the same requests as {} (the evidence cannot tell the two apart)",
                    f.summary, names[j]
                );
                notes.push(f);
            }
            None => kept.push(g),
        }
    }
    (kept, notes)
}

/// IL107 — the hellos browsers send (post-quantum, several segments) fail or stall while the
/// classic hello does not.
pub(crate) fn hello_shape(
    t: &TargetEvidence,
    c: &Classified<'_>,
    cfg: &ThresholdConfig,
) -> Option<GroupFinding> {
    let mut tallies: BTreeMap<HelloShape, Tally> = BTreeMap::new();
    let mut shape_rows = Vec::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (a, r, o) in &c.rows {
        if !r.url.starts_with("https:") {
            continue;
        }
        let g = tallies.entry(r.hello_shape).or_default();
        g.requests += 1;
        if o.is_stall_or_failure() {
            g.bad += 1;
            g.stalls += usize::from(o.is_stall());
            g.failures += usize::from(o.is_failure());
            if !r.hello_shape.is_classic() {
                shape_rows.push((*a, *r, r.phases.total_ms));
                let what = match &r.error {
                    Some(e) => super::kind_name(e.kind),
                    None => "stalled".into(),
                };
                *kinds.entry(what).or_default() += 1;
            }
        }
    }
    let classic = tallies
        .get(&HelloShape::Classic)
        .copied()
        .unwrap_or_default();
    let shapes: Vec<(HelloShape, Tally)> = tallies
        .iter()
        .filter(|(s, _)| !s.is_classic())
        .map(|(s, g)| (*s, *g))
        .collect();
    let bad = shapes.iter().fold(Tally::default(), |acc, (_, g)| Tally {
        requests: acc.requests + g.requests,
        bad: acc.bad + g.bad,
        stalls: acc.stalls + g.stalls,
        failures: acc.failures + g.failures,
    });
    if bad.bad < 2 || bad.rate() < 1.0 / 3.0 || classic.requests < 2 * cfg.min_group {
        return None;
    }
    // As for the other contrasts: had the classic hellos gone wrong as often, they would
    // almost never have come out this clean, and they are clean by a wide margin.
    let same_rate_chance = binomial_cdf(classic.bad, classic.requests, bad.rate());
    if same_rate_chance >= 0.01 || classic.rate() > bad.rate() / 4.0 {
        return None;
    }
    // And the other way: the shapes' few samples must be too bad for the classic hello's
    // rate at its highest plausible value. On a path that resets 10 % of all connections,
    // 4 of 12 shape samples happen by chance (about 1 run in 40) and are not a contrast.
    let classic_at_most = rate_upper_bound(classic.bad, classic.requests);
    let shapes_by_chance = 1.0 - binomial_cdf(bad.bad - 1, bad.requests, classic_at_most);
    if shapes_by_chance >= 0.01 {
        return None;
    }
    let per_shape: Vec<String> = shapes
        .iter()
        .map(|(s, g)| format!("{}: {} of {} bad", s.describe(), g.bad, g.requests))
        .collect();
    let how: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let mut f = super::finding(
        Code::IL107,
        Some(&t.label),
        format!(
            "{} ({}); classic hello (X25519): {} of {} bad",
            per_shape.join("; "),
            how.join(", "),
            classic.bad,
            classic.requests
        ),
    );
    for (s, g) in std::iter::once((HelloShape::Classic, classic)).chain(shapes.iter().copied()) {
        f.evidence.push(Evidence::Stat {
            label: s.describe().to_string(),
            value: format!("{} stalled or failed of {}", g.bad, g.requests),
        });
    }
    let only_split = shapes
        .iter()
        .all(|(s, g)| (*s == HelloShape::Large) == (g.rate() >= 1.0 / 3.0));
    f.evidence.push(Evidence::Stat {
        label: "what trips it".into(),
        value: if only_split && shapes.len() > 1 {
            "the hello arriving in several TCP segments (the same post-quantum hello in one \
             segment goes through)"
                .into()
        } else {
            "the post-quantum key share or the hello's size".into()
        },
    });
    f.evidence.push(Evidence::Stat {
        label: "chance the classic hellos were this clean at the same rate".into(),
        value: format!("{same_rate_chance:.1e}"),
    });
    f.confidence = if bad.bad >= 3 && same_rate_chance < 0.001 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    add_worst_requests(&mut f, shape_rows.into_iter());
    Some(GroupFinding {
        finding: f,
        stalls: bad.stalls,
        failures: bad.failures,
        chance: same_rate_chance,
        group: "the browser-like ClientHellos".into(),
        members: c
            .rows
            .iter()
            .map(|(_, r, _)| r.url.starts_with("https:") && !r.hello_shape.is_classic())
            .collect(),
    })
}

/// IL206 — one resolved address misbehaves, or else one IP family.
pub(crate) fn address(
    t: &TargetEvidence,
    c: &Classified<'_>,
    cfg: &ThresholdConfig,
) -> Option<GroupFinding> {
    // Keyed by the address as text: groups (and so the evidence) stay in the order the
    // report has always listed them.
    let by_address = |r: &RequestRecord| r.remote_addr.map(|a| a.ip().to_string());
    let by_family = |r: &RequestRecord| {
        r.remote_addr
            .map(|a| if a.is_ipv6() { "IPv6" } else { "IPv4" }.to_string())
    };
    // The hello-shape samples are not pinned to an address (they go where a browser would),
    // so they would weigh on the first address only.
    let pinned_shapes = |r: &RequestRecord| r.hello_shape.is_classic();
    contrast(
        Code::IL206,
        &t.label,
        c,
        cfg,
        by_address,
        pinned_shapes,
        "address",
    )
    .or_else(|| {
        contrast(
            Code::IL206,
            &t.label,
            c,
            cfg,
            by_family,
            pinned_shapes,
            "IP family",
        )
    })
}

/// IL208 — one HTTP version misbehaves.
pub(crate) fn protocol(
    t: &TargetEvidence,
    c: &Classified<'_>,
    cfg: &ThresholdConfig,
) -> Option<GroupFinding> {
    let by_version = |r: &RequestRecord| r.http_version.map(|v| v.as_str().to_string());
    contrast(
        Code::IL208,
        &t.label,
        c,
        cfg,
        by_version,
        |_| true,
        "HTTP version",
    )
}

/// IL207 — large responses stall or fail while small ones never do.
pub(crate) fn large_bodies(
    t: &TargetEvidence,
    c: &Classified<'_>,
    cfg: &ThresholdConfig,
) -> Option<GroupFinding> {
    let (mut large_n, mut small_n, mut small_bad) = (0usize, 0usize, 0usize);
    let (mut stalls, mut failures) = (0usize, 0usize);
    let mut large_rows = Vec::new();
    let sizes = row_sizes(c);
    for ((a, r, o), size) in c.rows.iter().zip(&sizes) {
        match *size {
            Some(s) if s >= cfg.large_body => {
                large_n += 1;
                if o.is_stall_or_failure() {
                    stalls += usize::from(o.is_stall());
                    failures += usize::from(o.is_failure());
                    large_rows.push((*a, *r, r.phases.total_ms));
                }
            }
            Some(s) if s <= cfg.small_body => {
                small_n += 1;
                small_bad += usize::from(o.is_stall_or_failure());
            }
            _ => {}
        }
    }
    let large_bad = large_rows.len();
    if large_bad < 2 || small_bad > 0 || small_n < 2 * cfg.min_group {
        return None;
    }
    let mut f = finding(
        Code::IL207,
        Some(&t.label),
        format!(
            "{large_bad} of {large_n} requests for responses ≥ {} {}; none of {small_n} for responses ≤ {}",
            fmt_bytes(cfg.large_body as f64),
            stalled_or_failed(stalls, failures),
            fmt_bytes(cfg.small_body as f64)
        ),
    );
    f.confidence = if large_bad >= 3 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    add_worst_requests(&mut f, large_rows.into_iter());
    Some(GroupFinding {
        finding: f,
        stalls,
        failures,
        chance: (1.0 - large_bad as f64 / large_n as f64).powi(small_n as i32),
        group: format!("responses ≥ {}", fmt_bytes(cfg.large_body as f64)),
        members: sizes
            .iter()
            .map(|s| s.is_some_and(|s| s >= cfg.large_body))
            .collect(),
    })
}

/// Each row's asset size, each asset's computed once: a browser's log (HAR, RUM) holds
/// thousands of requests per file, and once per request made IL207 quadratic in them.
fn row_sizes(c: &Classified<'_>) -> Vec<Option<u64>> {
    let mut by_asset: std::collections::HashMap<*const AssetEvidence, Option<u64>> =
        std::collections::HashMap::new();
    c.rows
        .iter()
        .map(|(a, _, _)| {
            *by_asset
                .entry(std::ptr::from_ref(*a))
                .or_insert_with(|| asset_size(a))
        })
        .collect()
}

/// The size of an asset: the largest length announced or received.
fn asset_size(a: &AssetEvidence) -> Option<u64> {
    a.records
        .iter()
        .filter_map(|r| {
            r.content_length
                .or(Some(r.bytes_received))
                .filter(|v| *v > 0)
        })
        .max()
}

/// Requests and bad requests of one group, and its stalls and failures among them.
#[derive(Default, Clone, Copy)]
struct Tally {
    requests: usize,
    bad: usize,
    stalls: usize,
    failures: usize,
}

impl Tally {
    fn rate(&self) -> f64 {
        self.bad as f64 / self.requests as f64
    }
}

/// Compare groups of requests (by address, family, protocol): one group bad, the others fine.
fn contrast(
    code: Code,
    label: &str,
    c: &Classified<'_>,
    cfg: &ThresholdConfig,
    key: impl Fn(&RequestRecord) -> Option<String>,
    keep: impl Fn(&RequestRecord) -> bool,
    what: &str,
) -> Option<GroupFinding> {
    let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
    for (_, r, o) in c.rows.iter().filter(|(_, r, _)| keep(r)) {
        let Some(k) = key(r) else { continue };
        let g = groups.entry(k).or_default();
        g.requests += 1;
        g.bad += usize::from(o.is_bad());
        g.stalls += usize::from(o.is_stall());
        g.failures += usize::from(o.is_failure());
    }
    if groups.len() < 2 || groups.values().any(|g| g.requests < cfg.min_group) {
        return None;
    }
    let (bad_key, bad) = groups
        .iter()
        .max_by(|a, b| a.1.rate().total_cmp(&b.1.rate()))?;
    let others = groups.iter().filter(|(k, _)| *k != bad_key).map(|(_, g)| g);
    let (others_n, others_bad) = others
        .clone()
        .fold((0, 0), |acc, g| (acc.0 + g.requests, acc.1 + g.bad));
    let others_worst = others.map(Tally::rate).fold(0.0, f64::max);
    // One group is worse when the others, had they suffered the same rate, would almost
    // never have come out as clean as they did (binomial tail < 1 %), and by a wide margin.
    let same_rate_chance = binomial_cdf(others_bad, others_n, bad.rate());
    if bad.bad < 3 || same_rate_chance >= 0.01 || others_worst > bad.rate() / 4.0 {
        return None;
    }
    let what_happened = if bad.stalls + bad.failures == bad.bad {
        stalled_or_failed(bad.stalls, bad.failures)
    } else {
        // Truncated or trickled bodies count as bad here too.
        "went wrong".into()
    };
    let mut f = finding(
        code,
        Some(label),
        format!(
            "{what} {bad_key}: {} of {} requests {what_happened}; at most {:.0}% elsewhere",
            bad.bad,
            bad.requests,
            100.0 * others_worst
        ),
    );
    for (k, g) in &groups {
        f.evidence.push(Evidence::Stat {
            label: format!("{what} {k}"),
            value: format!("{} bad of {}", g.bad, g.requests),
        });
    }
    f.evidence.push(Evidence::Stat {
        label: "chance the others were this clean at the same rate".into(),
        value: format!("{same_rate_chance:.1e}"),
    });
    f.confidence = if same_rate_chance < 0.001 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let members = c
        .rows
        .iter()
        .map(|(_, r, _)| keep(r) && key(r).as_ref() == Some(bad_key))
        .collect();
    Some(GroupFinding {
        finding: f,
        stalls: bad.stalls,
        failures: bad.failures,
        chance: same_rate_chance,
        group: format!("{what} {bad_key}"),
        members,
    })
}

/// Folds IL201 (`stalls`, with `stalled` stalled requests) and IL202 (`failures`, with
/// `failed` failed requests) into the first group finding that holds all of them; returns
/// those that still stand on their own. The group keeps the worse severity and appends the
/// general summary ("…; overall 6 of 60 requests stalled …").
pub(crate) fn fold_into_groups(
    stalls: Option<Finding>,
    stalled: usize,
    failures: Option<Finding>,
    failed: usize,
    groups: &mut [GroupFinding],
) -> (Option<Finding>, Option<Finding>) {
    let mut folded_any = false;
    let mut fold = |general: Option<Finding>, held: &dyn Fn(&GroupFinding) -> usize, total| {
        let general = general?;
        let Some(g) = groups.iter_mut().find(|g| held(g) == total) else {
            return Some(general);
        };
        let f = &mut g.finding;
        f.severity = f.severity.max(general.severity);
        let joint = if folded_any { ";" } else { "; overall" };
        f.summary = format!("{}{joint} {}", f.summary, general.summary);
        folded_any = true;
        None
    };
    let stalls = fold(stalls, &|g| g.stalls, stalled);
    let failures = fold(failures, &|g| g.failures, failed);
    (stalls, failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;
    use crate::detect::requests;
    use crate::testing::{LABEL, asset, classify, clean_asset, fail, target};
    use interloper_model::{ErrorKind, HttpVersion, Phase};

    fn cfg() -> ThresholdConfig {
        ThresholdConfig::default()
    }

    /// Forty classic requests for a stylesheet, then six of each extra shape, passed through `f`.
    fn with_shapes(f: impl Fn(HelloShape, RequestRecord) -> RequestRecord) -> TargetEvidence {
        target(vec![asset(
            "https://a.test/s/s.css",
            52,
            1000,
            |i, mut r| {
                r.hello_shape = match i {
                    0..40 => HelloShape::Classic,
                    40..46 => HelloShape::Pq,
                    _ => HelloShape::Large,
                };
                let shape = r.hello_shape;
                f(shape, r)
            },
        )])
    }

    #[test]
    fn post_quantum_hellos_reset_are_il107_and_hold_the_failures() {
        let t = with_shapes(|shape, r| match shape {
            HelloShape::Classic => r,
            _ => fail(r, ErrorKind::ResetBeforeHeaders, Phase::Tls),
        });
        let c = classify(&t);
        let g = hello_shape(&t, &c, &cfg()).expect("IL107");
        assert_eq!(g.finding.code, Code::IL107);
        assert_eq!(g.finding.confidence, Confidence::High);
        assert_eq!((g.failures, g.stalls), (12, 0));
        assert_eq!(
            g.finding.summary,
            "post-quantum hello (X25519MLKEM768): 6 of 6 bad; post-quantum hello split over \
             several TCP segments: 6 of 6 bad (12 reset before headers); classic hello \
             (X25519): 0 of 40 bad"
        );
        // The general failure finding folds into it, and no other contrast claims them.
        let failures = requests::failures(&t, &c);
        assert!(failures.is_some());
        let mut groups = vec![g];
        let (_, left) = fold_into_groups(None, 0, failures, 12, &mut groups);
        assert!(left.is_none());
        assert!(protocol(&t, &c, &cfg()).is_none());
        assert!(address(&t, &c, &cfg()).is_none());
    }

    #[test]
    fn only_the_split_hello_stalling_names_segmentation() {
        let t = with_shapes(|shape, mut r| {
            if shape == HelloShape::Large {
                r.phases.tls_ms = Some(2500.0);
            }
            r
        });
        let g = hello_shape(&t, &classify(&t), &cfg()).expect("IL107");
        assert_eq!((g.failures, g.stalls), (0, 6));
        assert!(
            g.finding.evidence.iter().any(|e| matches!(e,
                Evidence::Stat { value, .. } if value.contains("several TCP segments"))),
            "{:?}",
            g.finding.evidence
        );
    }

    #[test]
    fn shapes_that_fare_like_the_classic_hello_give_nothing() {
        // Clean everywhere.
        let t = with_shapes(|_, r| r);
        assert!(hello_shape(&t, &classify(&t), &cfg()).is_none());
        // The whole path stalls now and then: every shape alike.
        let t = target(vec![asset(
            "https://a.test/s/s.css",
            52,
            1000,
            |i, mut r| {
                r.hello_shape = if i % 4 == 0 {
                    HelloShape::Pq
                } else {
                    HelloShape::Classic
                };
                if i % 5 == 0 {
                    r.phases.ttfb_ms = Some(2000.0);
                }
                r
            },
        )]);
        assert!(hello_shape(&t, &classify(&t), &cfg()).is_none());
        // One unlucky post-quantum request is not a pattern.
        let t = with_shapes(|shape, mut r| {
            if shape == HelloShape::Pq && r.seq == 40 {
                r = fail(r, ErrorKind::ResetBeforeHeaders, Phase::Tls);
            }
            r
        });
        assert!(hello_shape(&t, &classify(&t), &cfg()).is_none());
    }

    #[test]
    fn clean_groups_give_nothing() {
        let t = target(vec![
            asset("https://a.test/s/s.css", 40, 1000, |i, mut r| {
                if i % 2 == 1 {
                    r.remote_addr = Some("[::1]:443".parse().unwrap());
                    r.http_version = Some(HttpVersion::Http11);
                }
                r
            }),
            clean_asset("https://a.test/s/big.js", 20, 1_000_000),
        ]);
        let c = classify(&t);
        assert!(address(&t, &c, &cfg()).is_none());
        assert!(protocol(&t, &c, &cfg()).is_none());
        assert!(large_bodies(&t, &c, &cfg()).is_none());
    }

    #[test]
    fn failures_on_one_address_are_il206_naming_it() {
        let t = target(vec![asset(
            "https://a.test/s/s.css",
            30,
            1000,
            |i, mut r| {
                if i % 2 == 1 {
                    r.remote_addr = Some("127.0.0.2:443".parse().unwrap());
                    if i % 4 == 1 {
                        return fail(r, ErrorKind::ConnectTimeout, Phase::Connect);
                    }
                }
                r
            },
        )]);
        let g = address(&t, &classify(&t), &cfg()).expect("IL206");
        let f = &g.finding;
        assert_eq!((f.code, f.severity), (Code::IL206, Severity::Error));
        assert_eq!(f.subject.as_deref(), Some(LABEL));
        assert_eq!(
            f.summary,
            "address 127.0.0.2: 8 of 15 requests failed; at most 0% elsewhere"
        );
        assert_eq!((g.stalls, g.failures), (0, 8));
        assert_eq!(f.confidence, Confidence::High);
    }

    #[test]
    fn one_family_is_named_when_no_single_address_stands_out() {
        // Two IPv6 addresses share the failures, so neither alone clears the bar's margin
        // over the other; together they do.
        let t = target(vec![asset(
            "https://a.test/s/s.css",
            60,
            1000,
            |i, mut r| {
                match i % 4 {
                    1 => r.remote_addr = Some("[::1]:443".parse().unwrap()),
                    3 => r.remote_addr = Some("[::2]:443".parse().unwrap()),
                    2 => r.remote_addr = Some("127.0.0.2:443".parse().unwrap()),
                    _ => {}
                }
                if i % 2 == 1 && i % 3 == 0 {
                    return fail(r, ErrorKind::Refused, Phase::Connect);
                }
                r
            },
        )]);
        let g = address(&t, &classify(&t), &cfg()).expect("IL206");
        assert!(
            g.finding
                .summary
                .starts_with("IP family IPv6: 10 of 30 requests failed"),
            "{}",
            g.finding.summary
        );
    }

    #[test]
    fn stalls_on_one_protocol_are_il208() {
        let t = target(vec![asset(
            "https://a.test/s/s.css",
            60,
            1000,
            |i, mut r| {
                if i % 2 == 1 {
                    r.http_version = Some(HttpVersion::Http11);
                } else if i % 10 == 0 {
                    r.phases.ttfb_ms = Some(2000.0);
                }
                r
            },
        )]);
        let g = protocol(&t, &classify(&t), &cfg()).expect("IL208");
        assert_eq!(
            (g.finding.code, g.finding.severity),
            (Code::IL208, Severity::Warning)
        );
        assert_eq!(
            g.finding.summary,
            "HTTP version HTTP/2: 6 of 30 requests stalled; at most 0% elsewhere"
        );
        assert_eq!((g.stalls, g.failures), (6, 0));
    }

    /// Every group detector, as the analysis runs them.
    fn all_groups(t: &TargetEvidence, c: &Classified<'_>) -> (Vec<GroupFinding>, Vec<Finding>) {
        let detectors: [GroupDetector; 4] = [hello_shape, address, large_bodies, protocol];
        let found = detectors
            .into_iter()
            .filter_map(|d| d(t, c, &cfg()).map(|g| (d, g)))
            .collect();
        without_shadows(t, c, &cfg(), found)
    }

    /// 64 requests: even ones to 127.0.0.1, odd ones to 127.0.0.2; every other pair over
    /// HTTP/1.1. `bad` decides which requests stall in the handshake; those that `reset`
    /// picks are reset before any response (so with no HTTP version).
    fn two_addresses_two_versions(
        bad: impl Fn(u64, bool, bool) -> bool,
        reset: impl Fn(u64, bool, bool) -> bool,
    ) -> TargetEvidence {
        target(vec![asset(
            "https://a.test/s/s.css",
            64,
            1000,
            |i, mut r| {
                let second = i % 2 == 1;
                let http1 = (i / 2) % 2 == 1;
                if second {
                    r.remote_addr = Some("127.0.0.2:443".parse().unwrap());
                }
                if http1 {
                    r.http_version = Some(HttpVersion::Http11);
                }
                if reset(i, second, http1) {
                    r.http_version = None;
                    return fail(r, ErrorKind::ResetBeforeHeaders, Phase::Tls);
                }
                if bad(i, second, http1) {
                    r.phases.tls_ms = Some(2000.0);
                }
                r
            },
        )])
    }

    #[test]
    fn a_protocol_that_looks_bad_only_through_the_bad_address_is_not_named() {
        // What a CI run met: the second address stalls and resets handshakes; the sampling
        // happened to send its stalled requests over HTTP/2 and, by chance, none over
        // HTTP/1.1. The resets never got an HTTP version.
        let t = two_addresses_two_versions(
            |i, second, http1| second && !http1 && i % 3 != 0,
            |i, second, _| second && i % 5 == 0,
        );
        let c = classify(&t);
        assert!(protocol(&t, &c, &cfg()).is_some(), "the raw contrast fires");
        let (groups, notes) = all_groups(&t, &c);
        assert!(notes.is_empty());
        let codes: Vec<Code> = groups.iter().map(|g| g.finding.code).collect();
        assert_eq!(codes, vec![Code::IL206]);
        assert!(
            groups[0].finding.evidence.iter().any(|e| matches!(e,
                Evidence::Stat { label, value } if label == "also explains"
                    && value.starts_with("HTTP version HTTP/2"))),
            "{:?}",
            groups[0].finding.evidence
        );
    }

    #[test]
    fn an_address_that_looks_bad_only_through_a_bad_protocol_is_not_named() {
        // The other way round: HTTP/2 stalls on every address, and the second address took
        // most of the HTTP/2 requests, so it looks bad too.
        let t = target(vec![asset(
            "https://a.test/s/s.css",
            80,
            1000,
            |i, mut r| {
                let second = i >= 40;
                let http2 = if second { i < 72 } else { i < 8 };
                if second {
                    r.remote_addr = Some("127.0.0.2:443".parse().unwrap());
                }
                if !http2 {
                    r.http_version = Some(HttpVersion::Http11);
                } else if i % 2 == 0 {
                    r.phases.tls_ms = Some(2000.0);
                }
                r
            },
        )]);
        let c = classify(&t);
        assert!(address(&t, &c, &cfg()).is_some(), "the raw contrast fires");
        let (groups, notes) = all_groups(&t, &c);
        assert!(notes.is_empty());
        let codes: Vec<Code> = groups.iter().map(|g| g.finding.code).collect();
        assert_eq!(codes, vec![Code::IL208]);
    }

    #[test]
    fn a_group_that_cannot_be_told_apart_from_another_is_a_note_beside_it() {
        // Every HTTP/2 request went to the second address: the evidence cannot say which.
        let t = target(vec![asset(
            "https://a.test/s/s.css",
            60,
            1000,
            |i, mut r| {
                if i % 2 == 1 {
                    r.remote_addr = Some("127.0.0.2:443".parse().unwrap());
                    if i % 4 == 1 {
                        r.phases.tls_ms = Some(2000.0);
                    }
                } else {
                    r.http_version = Some(HttpVersion::Http11);
                }
                r
            },
        )]);
        let c = classify(&t);
        let (groups, notes) = all_groups(&t, &c);
        let codes: Vec<Code> = groups.iter().map(|g| g.finding.code).collect();
        assert_eq!(codes, vec![Code::IL206]);
        assert_eq!(notes.len(), 1);
        assert_eq!(
            (notes[0].code, notes[0].severity),
            (Code::IL208, crate::Severity::Info)
        );
        assert!(
            notes[0].summary.ends_with(
                "the same requests as address 127.0.0.2 (the evidence cannot tell the two apart)"
            ),
            "{}",
            notes[0].summary
        );
    }

    #[test]
    fn stalls_only_on_large_bodies_are_il207_with_the_size_bounds() {
        let t = target(vec![
            asset("https://a.test/s/big.js", 20, 1_000_000, |i, mut r| {
                if i % 5 == 0 {
                    r.phases.body_ms = Some(3000.0);
                } else if i == 7 {
                    return fail(r, ErrorKind::BodyTimeout, Phase::Body);
                }
                r
            }),
            clean_asset("https://a.test/s/s.css", 20, 1000),
        ]);
        let g = large_bodies(&t, &classify(&t), &cfg()).expect("IL207");
        assert_eq!(
            (g.finding.code, g.finding.severity),
            (Code::IL207, Severity::Error)
        );
        assert_eq!(
            g.finding.summary,
            "5 of 20 requests for responses ≥ 64 KiB stalled or failed (4 stalled, 1 failed); \
             none of 20 for responses ≤ 16 KiB"
        );
        assert_eq!((g.stalls, g.failures), (4, 1));
        assert_eq!(g.finding.confidence, Confidence::High);
    }

    #[test]
    fn a_group_holding_every_stall_absorbs_il201() {
        let t = target(vec![asset(
            "https://a.test/s/s.css",
            60,
            1000,
            |i, mut r| {
                if i % 2 == 1 {
                    r.http_version = Some(HttpVersion::Http11);
                } else if i % 10 == 0 {
                    r.phases.ttfb_ms = Some(2000.0);
                }
                r
            },
        )]);
        let c = classify(&t);
        let general = requests::stalls(&t, &c, &cfg()).expect("IL201");
        let general_summary = general.summary.clone();
        let mut groups: Vec<GroupFinding> = protocol(&t, &c, &cfg()).into_iter().collect();
        let (stalls, failures) = fold_into_groups(Some(general), 6, None, 0, &mut groups);
        assert!(stalls.is_none() && failures.is_none());
        let f = &groups[0].finding;
        assert_eq!(f.severity, Severity::Error, "IL201's severity is kept");
        assert!(
            f.summary.ends_with(&format!("; overall {general_summary}")),
            "{}",
            f.summary
        );
    }

    #[test]
    fn a_group_holding_only_some_failures_leaves_il202_standing() {
        let t = target(vec![clean_asset("https://a.test/s/s.css", 10, 1000)]);
        let c = classify(&t);
        let general = crate::detect::finding(Code::IL202, Some(LABEL), "2 of 10".into());
        let mut groups = vec![GroupFinding {
            finding: crate::detect::finding(Code::IL206, Some(LABEL), "address x".into()),
            stalls: 0,
            failures: 1,
            chance: 0.0,
            group: "address x".into(),
            members: vec![false; 10],
        }];
        let (_, failures) = fold_into_groups(None, 0, Some(general), 2, &mut groups);
        assert_eq!(failures.map(|f| f.code), Some(Code::IL202));
        assert_eq!(groups[0].finding.summary, "address x");
        assert!(c.rows.len() == 10);
    }
}
