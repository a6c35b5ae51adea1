//! Detectors over the target's requests one by one: stalls, failures, truncated and trickled
//! bodies, and error statuses.

use super::{add_worst_requests, finding, kind_name, short_list};
use crate::classify::{Classified, RequestOutcome, phase_label, phase_value};
use crate::input::{Evidence, TargetEvidence, WitnessEvidence};
use crate::thresholds::ThresholdConfig;
use crate::{Code, Confidence, Finding, Severity};
use interloper_model::ErrorKind;
use interloper_model::units::{fmt_bytes, fmt_duration_ms, median};
use std::collections::BTreeMap;

/// IL201 — requests slow in one phase beyond the target's baseline, with the witness's view
/// of the same path when there is one.
pub(crate) fn stalls(
    t: &TargetEvidence,
    c: &Classified<'_>,
    cfg: &ThresholdConfig,
) -> Option<Finding> {
    let n = c.rows.len();
    let stalled: Vec<_> = c
        .rows
        .iter()
        .filter_map(|(a, r, o)| match o {
            RequestOutcome::Stalled(p) => Some((*a, *r, *p)),
            _ => None,
        })
        .collect();
    let (_, _, first_phase) = stalled.first()?;
    let mut by_phase: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (_, _, p) in &stalled {
        *by_phase.entry(phase_label(*p)).or_default() += 1;
    }
    let main_phase = by_phase
        .iter()
        .max_by_key(|(_, k)| **k)
        .map_or("unknown", |(p, _)| *p);
    let durations: Vec<f64> = stalled
        .iter()
        .filter_map(|(_, r, p)| phase_value(r, *p))
        .collect();
    let lo = durations.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = durations.iter().copied().fold(0.0, f64::max);
    let range = if fmt_duration_ms(lo) == fmt_duration_ms(hi) {
        fmt_duration_ms(hi)
    } else {
        format!("{}–{}", fmt_duration_ms(lo), fmt_duration_ms(hi))
    };
    let mut f = finding(
        Code::IL201,
        Some(&t.label),
        format!(
            "{} of {n} requests ({:.1}%) stalled, mostly {main_phase} ({range} against a median of {})",
            stalled.len(),
            100.0 * stalled.len() as f64 / n as f64,
            // The baseline of the first stall's phase (usually the main one).
            fmt_duration_ms(c.phase_median(*first_phase)),
        ),
    );
    f.confidence = match stalled.len() {
        1 => Confidence::Low,
        2 => Confidence::Medium,
        _ => Confidence::High,
    };
    if stalled.len() == 1 {
        f.severity = Severity::Warning;
    }
    for (phase, count) in &by_phase {
        f.evidence.push(Evidence::Stat {
            label: format!("stalls {phase}"),
            value: count.to_string(),
        });
    }
    if let Some(w) = &t.witness {
        if let Some(e) = witness_stalled_too(w, cfg) {
            f.evidence.push(e);
            f.confidence = Confidence::High;
        }
        f.evidence.extend(witness_waited(w, cfg));
    }
    add_worst_requests(
        &mut f,
        stalled.iter().map(|(a, r, p)| (*a, *r, phase_value(r, *p))),
    );
    Some(f)
}

/// The witness answers in about a millisecond: requests to it that were slow anyway were slow
/// on the path.
fn witness_stalled_too(w: &WitnessEvidence, cfg: &ThresholdConfig) -> Option<Evidence> {
    let slow: Vec<(f64, f64)> = w
        .samples
        .iter()
        .filter_map(|(c, s)| Some(((*c)?, s.unwrap_or(0.0))))
        .filter(|(c, s)| *c > cfg.stall_floor_ms && *c > 10.0 * s.max(1.0))
        .collect();
    if slow.is_empty() {
        return None;
    }
    let worst = slow.iter().map(|(c, _)| *c).fold(0.0, f64::max);
    let server = slow.iter().map(|(_, s)| *s).fold(0.0, f64::max);
    Some(Evidence::Witness {
        message: format!(
            "{} of {} requests to the witness stalled too (up to {}) while it answered each within {}: the delay is on the path, not on the server",
            slow.len(),
            w.samples.len(),
            fmt_duration_ms(worst),
            fmt_duration_ms(server.max(0.1))
        ),
    })
}

/// The witness's own request: written fast, waited for long.
fn witness_waited(w: &WitnessEvidence, cfg: &ThresholdConfig) -> Option<Evidence> {
    let (server, client) = (w.server_ms?, w.client_ms?);
    (client > 10.0 * server.max(1.0) && client > cfg.stall_floor_ms).then(|| Evidence::Witness {
        message: format!(
            "the witness wrote its response in {} while the client waited {}: the delay is on the path, not on the server",
            fmt_duration_ms(server),
            fmt_duration_ms(client)
        ),
    })
}

/// IL202's remedy when the proxy itself refused every tunnel: the server and the network behind
/// the proxy were never reached, so their logs have nothing to say.
const PROXY_REMEDY: &str = "The HTTP proxy (--proxy, HTTPS_PROXY / https_proxy) refused or failed \
     every CONNECT, so the server was never reached. A 407 means it refused the proxy URL's user \
     and password: check them (percent-encoded in the URL, docs/cli.md); otherwise check the \
     proxy's address and its own log, or run with --no-proxy where the server is reachable \
     directly.";

/// IL202 — failed requests (resets, timeouts, refusals), by kind; truncation is IL203's.
pub(crate) fn failures(t: &TargetEvidence, c: &Classified<'_>) -> Option<Finding> {
    let failed: Vec<_> = c
        .rows
        .iter()
        .filter_map(|(a, r, o)| match o {
            RequestOutcome::Failed(k) => Some((*a, *r, *k)),
            _ => None,
        })
        .collect();
    if failed.is_empty() {
        return None;
    }
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, k) in &failed {
        *by_kind.entry(kind_name(*k)).or_default() += 1;
    }
    let kinds = by_kind
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut f = finding(
        Code::IL202,
        Some(&t.label),
        format!(
            "{} of {} requests failed: {kinds}",
            failed.len(),
            c.rows.len()
        ),
    );
    f.confidence = if failed.len() >= 2 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    if failed.iter().all(|(_, _, k)| *k == ErrorKind::Proxy) {
        f.remedy = PROXY_REMEDY.to_string();
    }
    add_worst_requests(
        &mut f,
        failed.iter().map(|(a, r, _)| (*a, *r, r.phases.total_ms)),
    );
    Some(f)
}

/// IL209 — bodies still arriving when the request's time ran out: they never end.
pub(crate) fn endless(t: &TargetEvidence, c: &Classified<'_>) -> Option<Finding> {
    let endless: Vec<_> = c
        .rows
        .iter()
        .filter(|(_, _, o)| *o == RequestOutcome::Endless)
        .collect();
    let (_, first, _) = endless.first()?;
    let example = first
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    let mut f = finding(
        Code::IL209,
        Some(&t.label),
        format!(
            "{} of {} responses never ended ({example})",
            endless.len(),
            c.rows.len()
        ),
    );
    f.confidence = Confidence::High;
    add_worst_requests(
        &mut f,
        endless.iter().map(|(a, r, _)| (*a, *r, r.phases.total_ms)),
    );
    Some(f)
}

/// IL203 — bodies that ended before their Content-Length.
pub(crate) fn truncation(t: &TargetEvidence, c: &Classified<'_>) -> Option<Finding> {
    let truncated: Vec<_> = c
        .rows
        .iter()
        .filter(|(_, _, o)| *o == RequestOutcome::Truncated)
        .collect();
    if truncated.is_empty() {
        return None;
    }
    let mut f = finding(
        Code::IL203,
        Some(&t.label),
        format!(
            "{} of {} responses ended before Content-Length was reached",
            truncated.len(),
            c.rows.len()
        ),
    );
    f.confidence = Confidence::High;
    add_worst_requests(
        &mut f,
        truncated
            .iter()
            .map(|(a, r, _)| (*a, *r, r.phases.total_ms)),
    );
    Some(f)
}

/// IL205 — bodies that arrived steadily but slowly, with their median rate.
pub(crate) fn trickles(t: &TargetEvidence, c: &Classified<'_>) -> Option<Finding> {
    let trickled: Vec<_> = c
        .rows
        .iter()
        .filter(|(_, _, o)| *o == RequestOutcome::Trickled)
        .collect();
    if trickled.is_empty() {
        return None;
    }
    let rate = median(trickled.iter().filter_map(|(_, r, _)| {
        r.phases
            .body_ms
            .map(|ms| r.bytes_received as f64 / (ms / 1000.0))
    }))
    .unwrap_or(0.0);
    let mut f = finding(
        Code::IL205,
        Some(&t.label),
        format!(
            "{} of {} bodies trickled in at about {}/s",
            trickled.len(),
            c.rows.len(),
            fmt_bytes(rate)
        ),
    );
    f.confidence = if trickled.len() >= 2 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    add_worst_requests(
        &mut f,
        trickled.iter().map(|(a, r, _)| (*a, *r, r.phases.body_ms)),
    );
    Some(f)
}

/// IL301 — assets some request of which was answered 404.
pub(crate) fn not_found(t: &TargetEvidence) -> Option<Finding> {
    status(t, Code::IL301, |s| s == 404, "404")
}

/// IL302 — assets some request of which was answered 403.
pub(crate) fn forbidden(t: &TargetEvidence) -> Option<Finding> {
    status(t, Code::IL302, |s| s == 403, "403")
}

/// IL306 — assets some request of which was answered 5xx.
pub(crate) fn server_error(t: &TargetEvidence) -> Option<Finding> {
    status(t, Code::IL306, |s| s >= 500, "5xx")
}

/// One finding for every asset answered with a matching status, with its first such request.
fn status(t: &TargetEvidence, code: Code, matches: fn(u16) -> bool, what: &str) -> Option<Finding> {
    let mut f = finding(code, Some(&t.label), String::new());
    for a in &t.assets {
        if let Some(r) = a.records.iter().find(|r| r.status.is_some_and(matches)) {
            f.assets.push(a.url.clone());
            f.evidence.push(Evidence::request(r));
        }
    }
    if f.assets.is_empty() {
        return None;
    }
    f.summary = format!(
        "{} asset(s) answered {what}: {}",
        f.assets.len(),
        short_list(&f.assets)
    );
    f.confidence = Confidence::High;
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{LABEL, asset, classify, clean_asset, fail, target, trickle};
    use interloper_model::Phase;

    fn clean() -> TargetEvidence {
        target(vec![
            clean_asset("https://a.test/s/app.css", 30, 2000),
            clean_asset("https://a.test/s/app.js", 30, 90_000),
        ])
    }

    #[test]
    fn clean_requests_give_nothing() {
        let t = clean();
        let c = classify(&t);
        let cfg = ThresholdConfig::default();
        assert!(stalls(&t, &c, &cfg).is_none());
        assert!(failures(&t, &c).is_none());
        assert!(truncation(&t, &c).is_none());
        assert!(trickles(&t, &c).is_none());
        assert!(endless(&t, &c).is_none());
        assert!(not_found(&t).is_none() && forbidden(&t).is_none());
        assert!(server_error(&t).is_none());
    }

    #[test]
    fn an_endless_body_is_its_own_finding_not_a_failure() {
        let t = target(vec![asset(
            "https://a.test/s/app.js",
            10,
            90_000,
            |i, r| {
                if i % 5 == 1 {
                    let mut r = fail(r, ErrorKind::BodyEndless, Phase::Body);
                    if let Some(e) = r.error.as_mut() {
                        e.message = "body still arriving when the request's time ran out".into();
                    }
                    r
                } else {
                    r
                }
            },
        )]);
        let c = classify(&t);
        let f = endless(&t, &c).expect("IL209");
        assert_eq!((f.code, f.severity), (Code::IL209, Severity::Error));
        assert!(
            f.summary.starts_with("2 of 10 responses never ended"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("still arriving"), "{}", f.summary);
        assert!(failures(&t, &c).is_none(), "not counted as failed requests");
        assert!(stalls(&t, &c, &ThresholdConfig::default()).is_none());
    }

    #[test]
    fn header_stalls_name_their_phase_size_and_baseline() {
        let t = target(vec![asset(
            "https://a.test/s/app.css",
            40,
            2000,
            |i, mut r| {
                if i % 10 == 3 {
                    r.phases.ttfb_ms = Some(2000.0 + i as f64);
                }
                r
            },
        )]);
        let c = classify(&t);
        let f = stalls(&t, &c, &ThresholdConfig::default()).expect("IL201");
        assert_eq!((f.code, f.severity), (Code::IL201, Severity::Error));
        assert_eq!(f.confidence, Confidence::High);
        assert_eq!(f.subject.as_deref(), Some(LABEL));
        assert_eq!(
            f.summary,
            "4 of 40 requests (10.0%) stalled, mostly waiting for response headers \
             (2.0 s against a median of 4.0 ms)"
        );
        assert_eq!(f.assets, vec!["https://a.test/s/app.css".to_string()]);
        // One stat for the phase and the four stalled requests, worst first.
        assert_eq!(f.evidence.len(), 5);
        assert!(matches!(&f.evidence[1], Evidence::Request { seq: 33, .. }));
    }

    #[test]
    fn one_stall_is_a_low_confidence_warning() {
        let t = target(vec![asset(
            "https://a.test/s/x.css",
            20,
            1000,
            |i, mut r| {
                if i == 5 {
                    r.phases.tls_ms = Some(12_345.0);
                }
                r
            },
        )]);
        let f = stalls(&t, &classify(&t), &ThresholdConfig::default()).expect("IL201");
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.confidence, Confidence::Low);
        assert!(
            f.summary
                .contains("mostly TLS handshake (12.3 s against a median of 2.0 ms)"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn a_witness_that_stalled_too_places_the_delay_on_the_path() {
        let mut t = target(vec![asset(
            "https://a.test/s/x.css",
            20,
            1000,
            |i, mut r| {
                if i == 5 {
                    r.phases.ttfb_ms = Some(2000.0);
                }
                r
            },
        )]);
        t.witness = Some(WitnessEvidence {
            url: "https://w.test/".into(),
            client_random_matched: true,
            chain_matched: true,
            client_ja4: None,
            witness_ja4: None,
            witness_stack: None,
            server_ms: Some(0.4),
            client_ms: Some(1900.0),
            samples: vec![
                (Some(2.0), Some(0.1)),
                (Some(2003.0), Some(0.2)),
                (None, None),
            ],
        });
        let f = stalls(&t, &classify(&t), &ThresholdConfig::default()).expect("IL201");
        assert_eq!(f.confidence, Confidence::High);
        let messages: Vec<&str> = f
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Witness { message } => Some(message.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("1 of 3 requests to the witness stalled too (up to 2.0 s) while it answered each within 0.2 ms"));
        assert!(
            messages[1].starts_with(
                "the witness wrote its response in 0.4 ms while the client waited 1.9 s"
            )
        );
    }

    #[test]
    fn a_proxy_refusing_every_tunnel_is_remedied_at_the_proxy() {
        let t = target(vec![asset("https://a.test/s/x.js", 3, 1000, |_, r| {
            fail(r, ErrorKind::Proxy, Phase::Connect)
        })]);
        let f = failures(&t, &classify(&t)).expect("IL202");
        assert_eq!(f.summary, "3 of 3 requests failed: 3 proxy");
        assert!(f.remedy.contains("A 407 means"), "{}", f.remedy);
        // One proxy failure among others: the usual remedy.
        let t = target(vec![asset(
            "https://a.test/s/x.js",
            3,
            1000,
            |i, r| match i {
                0 => fail(r, ErrorKind::Proxy, Phase::Connect),
                1 => fail(r, ErrorKind::ResetBeforeHeaders, Phase::Ttfb),
                _ => r,
            },
        )]);
        let f = failures(&t, &classify(&t)).expect("IL202");
        assert!(!f.remedy.contains("proxy"), "{}", f.remedy);
    }

    #[test]
    fn failures_are_counted_by_kind() {
        let t = target(vec![asset(
            "https://a.test/s/x.js",
            20,
            1000,
            |i, r| match i {
                2 | 9 => fail(r, ErrorKind::ResetBeforeHeaders, Phase::Ttfb),
                7 => fail(r, ErrorKind::HeadersTimeout, Phase::Ttfb),
                _ => r,
            },
        )]);
        let f = failures(&t, &classify(&t)).expect("IL202");
        assert_eq!((f.code, f.severity), (Code::IL202, Severity::Error));
        assert_eq!(
            f.summary,
            "3 of 20 requests failed: 1 headers timeout, 2 reset before headers"
        );
        assert_eq!(f.confidence, Confidence::High);
        assert_eq!(f.evidence.len(), 3);
    }

    #[test]
    fn short_bodies_are_truncation_not_failures() {
        let t = target(vec![asset(
            "https://a.test/s/x.js",
            10,
            50_000,
            |i, mut r| {
                if i < 2 {
                    r.bytes_received = 20_000;
                }
                r
            },
        )]);
        let c = classify(&t);
        let f = truncation(&t, &c).expect("IL203");
        assert_eq!((f.code, f.severity), (Code::IL203, Severity::Error));
        assert_eq!(
            f.summary,
            "2 of 10 responses ended before Content-Length was reached"
        );
        assert!(failures(&t, &c).is_none());
    }

    #[test]
    fn trickles_report_their_median_rate() {
        let t = target(vec![asset(
            "https://a.test/s/img.png",
            10,
            40_960,
            |i, r| {
                if i < 3 { trickle(r, 4000.0) } else { r }
            },
        )]);
        let c = classify(&t);
        let f = trickles(&t, &c).expect("IL205");
        assert_eq!((f.code, f.severity), (Code::IL205, Severity::Warning));
        assert_eq!(f.summary, "3 of 10 bodies trickled in at about 10 KiB/s");
        assert_eq!(f.confidence, Confidence::High);
        assert!(stalls(&t, &c, &ThresholdConfig::default()).is_none());
    }

    #[test]
    fn error_statuses_list_their_assets() {
        let t = target(vec![
            asset("https://a.test/s/gone.css", 3, 100, |_, mut r| {
                r.status = Some(404);
                r
            }),
            asset("https://a.test/s/locked.js", 3, 100, |i, mut r| {
                r.status = Some(if i == 1 { 403 } else { 200 });
                r
            }),
            asset("https://a.test/s/boom.js", 3, 100, |_, mut r| {
                r.status = Some(502);
                r
            }),
        ]);
        let f = not_found(&t).expect("IL301");
        assert_eq!((f.code, f.severity), (Code::IL301, Severity::Error));
        assert_eq!(f.summary, "1 asset(s) answered 404: gone.css");
        assert_eq!(f.evidence.len(), 1);
        let f = forbidden(&t).expect("IL302");
        assert_eq!(f.summary, "1 asset(s) answered 403: locked.js");
        let f = server_error(&t).expect("IL306");
        assert_eq!(f.summary, "1 asset(s) answered 5xx: boom.js");
    }
}
