//! Detectors that compare the instances of one app: different static builds (IL304) and the
//! one instance that differs from its siblings (IL401).

use super::finding;
use crate::input::{Evidence, TargetEvidence};
use crate::{Code, Confidence, Finding, TargetSummary};
use interloper_model::units::fmt_duration_ms;
use std::collections::BTreeMap;

/// IL304 — the instances serve different builds of the static files.
pub(crate) fn different_builds(targets: &[TargetEvidence]) -> Option<Finding> {
    let versions: Vec<(&str, &str)> = targets
        .iter()
        .filter_map(|t| t.static_version.as_deref().map(|v| (t.label.as_str(), v)))
        .collect();
    let mut distinct: Vec<&str> = versions.iter().map(|(_, v)| *v).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if versions.len() < 2 || distinct.len() < 2 {
        return None;
    }
    let mut f = finding(
        Code::IL304,
        None,
        format!(
            "{} instances serve {} different static builds",
            versions.len(),
            distinct.len()
        ),
    );
    f.confidence = Confidence::High;
    for (label, v) in &versions {
        f.evidence.push(Evidence::Stat {
            label: (*label).to_string(),
            value: (*v).to_string(),
        });
    }
    Some(f)
}

/// IL401 — of several instances, one presents another certificate issuer or stalls and fails
/// far more than the others.
pub(crate) fn odd_instance(s: &[TargetSummary]) -> Option<Finding> {
    if s.len() < 2 {
        return None;
    }
    let mut reasons: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, why) in [odd_issuer(s), odd_failure_rate(s)].into_iter().flatten() {
        reasons.entry(i).or_default().push(why);
    }
    // The first instance in input order with a reason.
    let (i, why) = reasons.into_iter().next()?;
    let mut f = finding(
        Code::IL401,
        Some(&s[i].label),
        format!(
            "{} differs from its {} siblings: {}",
            s[i].label,
            s.len() - 1,
            why.join("; ")
        ),
    );
    f.confidence = if why.len() >= 2 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    for x in s {
        f.evidence.push(Evidence::Stat {
            label: x.label.clone(),
            value: format!(
                "{} requests, {} failed, {} stalled, p50 {}, issuer {}",
                x.requests,
                x.failed,
                x.stalled,
                fmt_duration_ms(x.total.p50),
                x.leaf_issuer.as_deref().unwrap_or("-")
            ),
        });
    }
    Some(f)
}

/// Exactly one of three or more instances presents another leaf issuer than the others, who
/// agree among themselves.
fn odd_issuer(s: &[TargetSummary]) -> Option<(usize, String)> {
    let issuers: Vec<Option<&str>> = s.iter().map(|x| x.leaf_issuer.as_deref()).collect();
    let i = odd_one(&issuers)?;
    Some((
        i,
        format!(
            "its certificate is issued by {} while the others' is issued by {}",
            issuers[i].unwrap_or("nobody (plain HTTP)"),
            issuers[(i + 1) % s.len()].unwrap_or("nobody")
        ),
    ))
}

/// The index of the one value that differs from all the others, which agree among themselves.
fn odd_one<T: PartialEq>(values: &[T]) -> Option<usize> {
    if values.len() < 3 {
        return None;
    }
    (0..values.len()).find(|&i| {
        let mut others = values
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, v)| v);
        let first = others.next();
        first.is_some_and(|first| others.all(|v| v == first) && values[i] != *first)
    })
}

/// The instance whose requests stall or fail most, when it is at least 2 % and four times
/// the worst of the others.
fn odd_failure_rate(s: &[TargetSummary]) -> Option<(usize, String)> {
    let bad = |x: &TargetSummary| {
        if x.requests == 0 {
            0.0
        } else {
            (x.failed + x.stalled) as f64 / x.requests as f64
        }
    };
    let (i, worst) = s
        .iter()
        .enumerate()
        .map(|(i, x)| (i, bad(x)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let others = s
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, x)| bad(x))
        .fold(0.0, f64::max);
    if worst < 0.02 || s[i].failed + s[i].stalled < 2 || others > worst / 4.0 {
        return None;
    }
    Some((
        i,
        format!(
            "{:.1}% of its requests stalled or failed, at most {:.1}% on the others",
            100.0 * worst,
            100.0 * others
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{clean_asset, target};
    use interloper_model::PhaseStats;

    fn summary(label: &str, issuer: &str, requests: u64, failed: u64) -> TargetSummary {
        TargetSummary {
            label: label.into(),
            assets: 1,
            requests,
            failed,
            stalled: 0,
            total: PhaseStats {
                p50: 12.0,
                ..Default::default()
            },
            leaf_issuer: Some(issuer.into()),
            tls_status: None,
            browser_hellos: 0,
        }
    }

    #[test]
    fn one_build_or_one_target_gives_nothing() {
        let mut a = target(vec![clean_asset("https://a.test/x.css", 1, 10)]);
        a.static_version = Some("v1".into());
        let b = a.clone();
        assert!(different_builds(&[a.clone(), b]).is_none());
        assert!(different_builds(&[a]).is_none());
        let same = vec![summary("a", "CN=P", 100, 0), summary("b", "CN=P", 100, 0)];
        assert!(odd_instance(&same).is_none());
        assert!(odd_instance(&same[..1]).is_none());
    }

    #[test]
    fn different_builds_are_il304() {
        let mut ts: Vec<TargetEvidence> = ["v1", "v2", "v1"]
            .iter()
            .map(|v| {
                let mut t = target(vec![]);
                t.static_version = Some((*v).into());
                t
            })
            .collect();
        ts[1].label = "https://b.test/".into();
        let f = different_builds(&ts).expect("IL304");
        assert_eq!(
            (f.code, f.severity),
            (Code::IL304, crate::Severity::Warning)
        );
        assert_eq!(f.summary, "3 instances serve 2 different static builds");
        assert_eq!(f.subject, None);
        assert_eq!(f.evidence.len(), 3);
    }

    #[test]
    fn the_instance_with_another_issuer_and_failures_is_il401() {
        let s = vec![
            summary("https://app1/", "CN=Public", 100, 0),
            summary("https://app2/", "CN=Public", 100, 1),
            summary("https://app3/", "CN=Corp Gateway", 100, 12),
        ];
        let f = odd_instance(&s).expect("IL401");
        assert_eq!(
            (f.code, f.severity),
            (Code::IL401, crate::Severity::Warning)
        );
        assert_eq!(f.subject.as_deref(), Some("https://app3/"));
        assert_eq!(
            f.summary,
            "https://app3/ differs from its 2 siblings: its certificate is issued by \
             CN=Corp Gateway while the others' is issued by CN=Public; 12.0% of its requests \
             stalled or failed, at most 1.0% on the others"
        );
        assert_eq!(f.confidence, Confidence::High);
        assert!(
            matches!(&f.evidence[0], Evidence::Stat { value, .. } if value.contains("p50 12 ms"))
        );
    }

    #[test]
    fn odd_one_needs_three_and_agreement() {
        assert_eq!(odd_one(&[1, 1, 2]), Some(2));
        assert_eq!(odd_one(&[1, 2]), None);
        assert_eq!(odd_one(&[1, 2, 3]), None);
        assert_eq!(odd_one(&[1, 1, 1]), None);
    }
}
