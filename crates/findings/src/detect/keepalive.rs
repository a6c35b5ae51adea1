//! IL216 — kept-alive connections closed under requests. The probe sends a request again on a
//! fresh connection when a reused one closed under it before any answer (as browsers do), so the
//! request itself counts by its retry's outcome; this detector reads the closes it recorded.
//! A few are chance (any idle timeout meets a request now and then); frequent ones that come
//! only after longer idle times than the reuses that were answered are a timeout shorter than
//! the client's reuse interval — a misconfiguration between hops.

use crate::detect::{add_worst_requests, finding};
use crate::input::{AssetEvidence, Evidence, TargetEvidence};
use crate::{Code, Confidence, Finding};
use interloper_model::units::{fmt_duration_ms as fmt_ms, percentile};
use interloper_model::{ClosedUnderRequest, RequestRecord};

/// Fewer closes than this are chance, whatever the share.
const MIN_CLOSES: usize = 3;
/// Closes must be at least this share of the requests sent over reused connections.
const MIN_SHARE: f64 = 0.05;

/// IL216: closes under requests, frequent, and following idle time.
pub(crate) fn closed_under_requests(t: &TargetEvidence) -> Option<Finding> {
    let records = || {
        t.assets
            .iter()
            .flat_map(|a| a.records.iter().map(move |r| (a, r)))
    };
    let closes: Vec<(&AssetEvidence, &RequestRecord, &ClosedUnderRequest)> = records()
        .filter_map(|(a, r)| r.retried_after_close.as_ref().map(|c| (a, r, c)))
        .collect();
    // Reuses that got an answer, with how long their connection had been idle.
    let mut answered_idle: Vec<f64> = records()
        .filter(|(_, r)| r.reused && r.status.is_some())
        .filter_map(|(_, r)| r.reuse_idle_ms)
        .collect();
    answered_idle.sort_by(f64::total_cmp);
    let reuses = closes.len() + records().filter(|(_, r)| r.reused).count();
    let share = closes.len() as f64 / reuses.max(1) as f64;
    if closes.len() < MIN_CLOSES || share < MIN_SHARE {
        return None;
    }
    let shortest_close = closes
        .iter()
        .map(|(_, _, c)| c.idle_ms)
        .fold(f64::INFINITY, f64::min);
    let longest_close = closes.iter().map(|(_, _, c)| c.idle_ms).fold(0.0, f64::max);
    // A timeout closes connections idle longer than it and spares the others: the answered
    // reuses sat idle for less time than the closed ones (allowing a tenth as noise). Closes
    // at any idle time are not a timeout (a box dropping connections: IL202 on fresh ones).
    let answered_p90 = percentile(&answered_idle, 0.9);
    if answered_p90.is_some_and(|p90| p90 > shortest_close) {
        return None;
    }
    let idle = if longest_close - shortest_close < 1.0 {
        fmt_ms(shortest_close)
    } else {
        format!("{}–{}", fmt_ms(shortest_close), fmt_ms(longest_close))
    };
    let (answered, timeout) = match answered_p90 {
        Some(p90) => (
            format!("while reuses idle up to {} were answered", fmt_ms(p90)),
            format!("between {} and {}", fmt_ms(p90), fmt_ms(shortest_close)),
        ),
        None => (
            "and no reuse was answered".to_string(),
            format!("under {}", fmt_ms(shortest_close)),
        ),
    };
    let mut f = finding(
        Code::IL216,
        Some(&t.label),
        format!(
            "{} of {reuses} requests over reused connections found them closed before any \
             answer, after {idle} idle, and were sent again on a new connection, {answered}: \
             the server side closes idle connections after {timeout}, sooner than the client \
             reuses them",
            closes.len(),
        ),
    );
    f.confidence = if closes.len() >= 2 * MIN_CLOSES && answered_p90.is_some() {
        Confidence::High
    } else {
        Confidence::Medium
    };
    f.evidence.push(Evidence::Stat {
        label: "reused connections closed under a request".into(),
        value: format!("{} of {reuses} ({:.0}%)", closes.len(), 100.0 * share),
    });
    f.evidence.push(Evidence::Stat {
        label: "idle before the close".into(),
        value: format!("{} to {}", fmt_ms(shortest_close), fmt_ms(longest_close)),
    });
    if let Some(p90) = answered_p90 {
        f.evidence.push(Evidence::Stat {
            label: "idle before reuses that were answered (90th percentile)".into(),
            value: fmt_ms(p90),
        });
    }
    add_worst_requests(
        &mut f,
        closes.iter().map(|(a, r, c)| (*a, *r, Some(c.idle_ms))),
    );
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;
    use crate::testing::{asset, target};
    use interloper_model::{ErrorKind, Phase, RequestError};

    const URL: &str = "https://a.test/static/app.js";

    /// Every other request reused after `answered_idle` ms; every `every`-th of those found its
    /// connection closed after `closed_idle` ms idle and was sent again on a fresh one.
    fn evidence(n: u64, every: u64, answered_idle: f64, closed_idle: f64) -> TargetEvidence {
        target(vec![asset(URL, n, 4_000, |i, mut r| {
            if i % 2 == 1 {
                if (i / 2) % every == 0 {
                    r.retried_after_close = Some(ClosedUnderRequest {
                        connection_id: i,
                        idle_ms: closed_idle,
                        attempt_ms: 0.4,
                        error: RequestError {
                            kind: ErrorKind::ResetBeforeHeaders,
                            phase: Phase::Ttfb,
                            message: "connection closed before message completed".into(),
                        },
                    });
                } else {
                    r.reused = true;
                    r.reuse_idle_ms = Some(answered_idle);
                }
            }
            r
        })])
    }

    #[test]
    fn frequent_closes_after_longer_idles_are_il216_naming_the_timeout() {
        // 40 requests, 20 reuses of which 7 closed after 1.2 s idle; answered ones idled 40 ms.
        let t = evidence(40, 3, 40.0, 1200.0);
        let f = closed_under_requests(&t).expect("IL216");
        assert_eq!((f.code, f.severity), (Code::IL216, Severity::Warning));
        assert_eq!(f.confidence, Confidence::High);
        assert!(f.summary.starts_with("7 of 20 requests"), "{}", f.summary);
        assert!(f.summary.contains("after 1.2 s idle"), "{}", f.summary);
        assert!(
            f.summary
                .contains("closes idle connections after between 40 ms and 1.2 s"),
            "{}",
            f.summary
        );
        assert_eq!(f.assets, vec![URL.to_string()]);
    }

    #[test]
    fn the_retried_requests_count_by_their_retry_not_as_failures() {
        let t = evidence(40, 3, 40.0, 1200.0);
        let a = crate::analyse(&[t], &crate::ThresholdConfig::default());
        let codes: Vec<Code> = a.diagnosis.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec![Code::IL216]);
        let outcomes = &a.outcomes[0].assets[0];
        assert!(outcomes.iter().all(|o| *o == crate::RequestOutcome::Fine));
    }

    #[test]
    fn a_close_now_and_then_is_chance() {
        // 2 closes in 100 requests: an idle timeout meeting a request by chance.
        assert!(closed_under_requests(&evidence(100, 40, 40.0, 1200.0)).is_none());
        // 3 closes among 100 reuses: frequent enough by count, not by share.
        assert!(closed_under_requests(&evidence(400, 70, 40.0, 1200.0)).is_none());
    }

    #[test]
    fn closes_at_any_idle_time_are_not_a_timeout() {
        // Answered reuses idled as long as the closed ones: connections dropped, not timed out.
        assert!(closed_under_requests(&evidence(40, 3, 1500.0, 1200.0)).is_none());
    }

    #[test]
    fn a_clean_target_gives_nothing() {
        assert!(closed_under_requests(&evidence(40, u64::MAX, 40.0, 1200.0)).is_none());
    }
}
