//! The diagnosis of access logs: which backend, which signs, and where to look.

use crate::detect::finding;
use crate::diagnosis::{Scope, Source, diagnose};
use crate::logs_input::{LogEvidence, LogGroup, LogSign};
use crate::stats::binomial_cdf;
use crate::{Code, Confidence, Diagnosis, Evidence, Finding, Severity};
use interloper_model::units::fmt_duration_ms;

/// A backend with fewer static requests than this is not compared with its siblings.
const MIN_GROUP: u64 = 10;

/// Evidence lines shown per finding.
const EXAMPLES: usize = 5;

fn rate(k: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 }
}

fn pct(k: u64, n: u64) -> String {
    format!("{:.1}%", 100.0 * rate(k, n))
}

/// The signs of a group in words: "12 ended by the client, 3 timed out waiting for the backend".
fn signs_in_words(g: &LogGroup, signs: &[LogSign]) -> String {
    signs
        .iter()
        .filter_map(|s| {
            let n = g.count(*s);
            (n > 0).then(|| format!("{n} {}", s.describe()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn add_examples(f: &mut Finding, g: &LogGroup, signs: &[LogSign]) {
    for x in g
        .examples
        .iter()
        .filter(|x| signs.contains(&x.sign))
        .take(EXAMPLES)
    {
        f.evidence.push(Evidence::Log {
            location: x.location.clone(),
            text: x.text.clone(),
        });
    }
}

/// Severity from how many and how often: `warn` at all, `error` from `error_rate` on.
fn graded(count: u64, n: u64, error_rate: f64) -> Severity {
    if count >= 3 && rate(count, n) >= error_rate {
        Severity::Error
    } else {
        Severity::Warning
    }
}

fn confidence(count: u64) -> Confidence {
    match count {
        0..=2 => Confidence::Low,
        3..=9 => Confidence::Medium,
        _ => Confidence::High,
    }
}

/// The IL501, IL502, IL503 and IL505 findings of one group (a backend, or the whole log).
fn group_findings(ev: &LogEvidence, g: &LogGroup) -> Vec<Finding> {
    [
        client_gave_up(ev, g),
        sent_partly(ev, g),
        slow(ev, g),
        backend_failed(ev, g),
        tries_failed(ev, g),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The group as a finding's target, when the log names backends.
fn group_target<'a>(ev: &LogEvidence, g: &'a LogGroup) -> Option<&'a str> {
    (ev.grouped_by == "backend").then_some(g.name.as_str())
}

/// ` through 10.0.0.4:8000`, or nothing for the whole log.
fn through(ev: &LogEvidence, g: &LogGroup) -> String {
    group_target(ev, g)
        .map(|t| format!(" through {t}"))
        .unwrap_or_default()
}

/// A finding of `code` about group `g` that counts `count` of its requests with `signs`.
fn group_finding(
    ev: &LogEvidence,
    g: &LogGroup,
    code: Code,
    summary: String,
    (count, error_rate): (u64, f64),
    signs: &[LogSign],
) -> Finding {
    let mut f = finding(code, group_target(ev, g), summary);
    f.severity = graded(count, g.static_requests, error_rate);
    f.confidence = confidence(count);
    add_examples(&mut f, g, signs);
    f
}

/// IL501 — requests ended on the client side (closed, or timed out waiting for it).
fn client_gave_up(ev: &LogEvidence, g: &LogGroup) -> Option<Finding> {
    let signs = [LogSign::ClientClosed, LogSign::ClientTimeout];
    let client: u64 = signs.iter().map(|s| g.count(*s)).sum();
    let n = g.static_requests;
    // A browser leaving a page ends a few requests anywhere; only a share worth noticing counts.
    if client < 3 || rate(client, n) < 0.005 {
        return None;
    }
    let summary = format!(
        "{client} of {n} static requests{} ({}) were ended on the client side: {}",
        through(ev, g),
        pct(client, n),
        signs_in_words(g, &signs)
    );
    Some(group_finding(
        ev,
        g,
        Code::IL501,
        summary,
        (client, 0.02),
        &signs,
    ))
}

/// IL502 — bodies logged shorter than the same file's usual size.
fn sent_partly(ev: &LogEvidence, g: &LogGroup) -> Option<Finding> {
    let partial = g.count(LogSign::Partial);
    if partial == 0 {
        return None;
    }
    let summary = format!(
        "{partial} of {} static responses{} were logged with fewer bytes than the same file's usual size",
        g.static_requests,
        through(ev, g)
    );
    let signs = [LogSign::Partial];
    Some(group_finding(
        ev,
        g,
        Code::IL502,
        summary,
        (partial, 0.01),
        &signs,
    ))
}

/// IL503 — slow static requests, and whether the time went into delivering to the client.
fn slow(ev: &LogEvidence, g: &LogGroup) -> Option<Finding> {
    let signs = [LogSign::SlowDelivery, LogSign::Slow];
    let slow: u64 = signs.iter().map(|s| g.count(*s)).sum();
    let n = g.static_requests;
    if slow < 3 || rate(slow, n) < 0.01 {
        return None;
    }
    let delivery = g.count(LogSign::SlowDelivery);
    let place = if delivery * 2 > slow {
        format!(
            "; in {delivery} of them the backend answered quickly and the time went into delivering to the client: the delay is between the proxy and the client"
        )
    } else {
        String::new()
    };
    let summary = format!(
        "{slow} of {n} static requests{} ({}) took {} or more (p99 {}, max {}){place}",
        through(ev, g),
        pct(slow, n),
        fmt_duration_ms(ev.slow_ms),
        fmt_duration_ms(g.duration.p99),
        fmt_duration_ms(g.duration.max),
    );
    let mut f = group_finding(ev, g, Code::IL503, summary, (slow, 0.05), &[]);
    if let Some(u) = &g.upstream {
        f.evidence.push(Evidence::Stat {
            label: "backend time p50 / p99".into(),
            value: format!("{} / {}", fmt_duration_ms(u.p50), fmt_duration_ms(u.p99)),
        });
    }
    add_examples(&mut f, g, &signs);
    Some(f)
}

/// IL505 — the proxy gave up on the backend, or the backend failed.
fn backend_failed(ev: &LogEvidence, g: &LogGroup) -> Option<Finding> {
    let signs = [LogSign::ServerTimeout, LogSign::ServerFailed];
    let server: u64 = signs.iter().map(|s| g.count(*s)).sum();
    if server == 0 {
        return None;
    }
    let summary = format!(
        "{server} of {} static requests{}: {}",
        g.static_requests,
        through(ev, g),
        signs_in_words(g, &signs)
    );
    Some(group_finding(
        ev,
        g,
        Code::IL505,
        summary,
        (server, 0.01),
        &signs,
    ))
}

/// IL506 — nginx gave up on tries to this backend and passed the requests to another server.
fn tries_failed(ev: &LogEvidence, g: &LogGroup) -> Option<Finding> {
    let (failed, tries) = (g.failed_tries, g.tries);
    // A backend restarting now and then fails a try or two; a share worth noticing counts.
    if failed < 3 || rate(failed, tries) < 0.01 {
        return None;
    }
    let summary = format!(
        "{failed} of {tries} upstream tries to {} ({}) failed and nginx passed the request to another server",
        g.name,
        pct(failed, tries)
    );
    let mut f = finding(Code::IL506, group_target(ev, g), summary);
    f.severity = graded(failed, tries, 0.2);
    f.confidence = confidence(failed);
    let times = |label: &str, s: &Option<interloper_model::PhaseStats>| {
        s.as_ref().map(|s| Evidence::Stat {
            label: format!("{label} per try"),
            value: format!(
                "p50 {}, p99 {}, max {}",
                fmt_duration_ms(s.p50),
                fmt_duration_ms(s.p99),
                fmt_duration_ms(s.max)
            ),
        })
    };
    f.evidence.extend(times("connect time", &g.connect));
    f.evidence.extend(times("header time", &g.header));
    Some(f)
}

/// IL504 — one backend worse than its siblings by more than chance: the others, at its rate,
/// would almost never (binomial tail < 1 %) have come out as clean as they did.
fn outlier(ev: &LogEvidence) -> Option<Finding> {
    if ev.grouped_by != "backend" {
        return None;
    }
    let groups: Vec<&LogGroup> = ev
        .groups
        .iter()
        .filter(|g| g.static_requests >= MIN_GROUP)
        .collect();
    if groups.len() < 2 {
        return None;
    }
    let worst = groups.iter().max_by(|a, b| {
        rate(a.bad_requests(), a.static_requests)
            .total_cmp(&rate(b.bad_requests(), b.static_requests))
    })?;
    let r = rate(worst.bad_requests(), worst.static_requests);
    let others: Vec<&&LogGroup> = groups.iter().filter(|g| g.name != worst.name).collect();
    let (on, ob) = others.iter().fold((0u64, 0u64), |acc, g| {
        (acc.0 + g.static_requests, acc.1 + g.bad_requests())
    });
    let others_worst = others
        .iter()
        .map(|g| rate(g.bad_requests(), g.static_requests))
        .fold(0.0, f64::max);
    let chance = binomial_cdf(ob as usize, on as usize, r);
    if worst.bad_requests() < 3 || chance >= 0.01 || others_worst > r / 4.0 {
        return None;
    }
    let mut f = finding(
        Code::IL504,
        Some(&worst.name),
        format!(
            "{}: {} of {} static requests went wrong ({}); at most {:.1}% through the {} other backend(s)",
            worst.name,
            worst.bad_requests(),
            worst.static_requests,
            signs_in_words(worst, &LogSign::ALL),
            100.0 * others_worst,
            others.len()
        ),
    );
    f.confidence = if chance < 0.001 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    for g in &groups {
        f.evidence.push(Evidence::Stat {
            label: format!("backend {}", g.name),
            value: format!(
                "{} of {} static requests went wrong; p50 {}, p99 {}",
                g.bad_requests(),
                g.static_requests,
                fmt_duration_ms(g.duration.p50),
                fmt_duration_ms(g.duration.p99)
            ),
        });
    }
    f.evidence.push(Evidence::Stat {
        label: "chance the others were this clean at the same rate".into(),
        value: format!("{chance:.1e}"),
    });
    add_examples(&mut f, worst, &LogSign::ALL);
    Some(f)
}

/// The signs each per-group code counts.
fn signs_of(code: Code) -> &'static [LogSign] {
    match code {
        Code::IL501 => &[LogSign::ClientClosed, LogSign::ClientTimeout],
        Code::IL502 => &[LogSign::Partial],
        Code::IL503 => &[LogSign::SlowDelivery, LogSign::Slow],
        Code::IL505 => &[LogSign::ServerTimeout, LogSign::ServerFailed],
        // Every other code is not a sign counted per backend.
        _ => &[],
    }
}

/// Findings of one code seen through several backends, when none of them stands out: one
/// finding for the sign across the backends that share it, so six alike backends give one
/// finding, not six, and no backend is blamed for what they all do.
fn shared_across_backends(
    ev: &LogEvidence,
    findings: Vec<Finding>,
    stands_out: Option<&str>,
) -> Vec<Finding> {
    if ev.grouped_by != "backend" || ev.groups.len() < 2 {
        return findings;
    }
    let mut out: Vec<Finding> = Vec::new();
    let mut by_code: Vec<(Code, Vec<Finding>)> = Vec::new();
    for f in findings {
        // The backend that stands out keeps its own findings: they name it. A finding that is
        // not a sign counted per request (failed upstream tries) is its backend's own.
        if (stands_out.is_some() && f.subject.as_deref() == stands_out)
            || signs_of(f.code).is_empty()
        {
            out.push(f);
            continue;
        }
        match by_code.iter_mut().find(|(c, _)| *c == f.code) {
            Some((_, list)) => list.push(f),
            None => by_code.push((f.code, vec![f])),
        }
    }
    for (code, list) in by_code {
        if list.len() < 2 {
            out.extend(list);
            continue;
        }
        out.push(merged(ev, code, list));
    }
    out
}

/// One finding for `code` across the backends in `list`.
fn merged(ev: &LogEvidence, code: Code, list: Vec<Finding>) -> Finding {
    let names: Vec<&str> = list.iter().filter_map(|f| f.subject.as_deref()).collect();
    let groups: Vec<&LogGroup> = ev
        .groups
        .iter()
        .filter(|g| names.contains(&g.name.as_str()))
        .collect();
    let signs = signs_of(code);
    let count: u64 = groups
        .iter()
        .map(|g| signs.iter().map(|s| g.count(*s)).sum::<u64>())
        .sum();
    let n: u64 = groups.iter().map(|g| g.static_requests).sum();
    let what = signs
        .iter()
        .filter_map(|s| {
            let k: u64 = groups.iter().map(|g| g.count(*s)).sum();
            (k > 0).then(|| format!("{k} {}", s.describe()))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut f = finding(
        code,
        None,
        format!(
            "{count} of {n} static requests ({}) through {} of {} backends alike, none standing out: {what}",
            pct(count, n),
            groups.len(),
            ev.groups.len(),
        ),
    );
    f.severity = list.iter().map(|x| x.severity).max().unwrap_or(f.severity);
    f.confidence = list
        .iter()
        .map(|x| x.confidence)
        .max()
        .unwrap_or(f.confidence);
    for x in &list {
        f.evidence.push(Evidence::Stat {
            label: format!("backend {}", x.subject.as_deref().unwrap_or("?")),
            value: x.summary.clone(),
        });
    }
    if let Some(g) = groups.first() {
        add_examples(&mut f, g, signs);
    }
    f
}

/// Turn gathered log evidence into findings and a verdict.
pub fn analyse_logs(ev: &LogEvidence) -> Diagnosis {
    let per_group: Vec<Finding> = ev
        .groups
        .iter()
        .flat_map(|g| group_findings(ev, g))
        .collect();
    let stands_out = outlier(ev);
    let mut findings = shared_across_backends(
        ev,
        per_group,
        stands_out.as_ref().and_then(|f| f.subject.as_deref()),
    );
    findings.extend(stands_out);
    let statics: u64 = ev.groups.iter().map(|g| g.static_requests).sum();
    let clean = if statics == 0 {
        "No requests for static files in these logs: check --static-prefix."
    } else {
        "No sign of trouble with static files in these logs."
    };
    let says = |root: &Finding, _: &[Finding]| root_sentence(ev, root);
    let scope = Scope {
        says: &says,
        ..Scope::plain(Source::Logs, clean, log_sampling(ev))
    };
    diagnose(findings, &scope)
}

/// How much the logs held: static and logged requests, files, backends, time span.
fn log_sampling(ev: &LogEvidence) -> String {
    let statics: u64 = ev.groups.iter().map(|g| g.static_requests).sum();
    let lines: u64 = ev.sources.iter().map(|s| s.parsed).sum();
    let span = match (
        ev.sources.iter().filter_map(|s| s.first_time).min(),
        ev.sources.iter().filter_map(|s| s.last_time).max(),
    ) {
        (Some(a), Some(b)) => format!(", over {}", fmt_duration_ms((b - a) as f64 * 1000.0)),
        _ => String::new(),
    };
    let backends = if ev.grouped_by == "backend" {
        format!(" through {} backend(s)", ev.groups.len())
    } else {
        String::new()
    };
    format!(
        "{statics} static requests of {lines} logged requests in {} file(s){backends}{span}",
        ev.sources.len()
    )
}

/// The root cause through a backend, or common to the backends.
fn root_sentence(ev: &LogEvidence, root: &Finding) -> String {
    match (root.code, &root.subject) {
        (_, None) if ev.grouped_by == "backend" && ev.groups.len() > 1 => format!(
            "{}, common to the backends rather than one of them — look at the application or a part of the path they share: {}",
            root.title, root.summary
        ),
        (Code::IL504, Some(t)) => format!(
            "Static files through {t} go wrong while its siblings serve them cleanly: compare the path to {t} (firewall rules, HTTPS inspection, routing) with theirs, then run `interloper check` against it directly."
        ),
        (_, Some(t)) => format!("{} through {t}: {}", root.title, root.summary),
        (_, None) => format!("{}: {}", root.title, root.summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VerdictStatus;
    use crate::logs_input::{LogExample, LogSource};
    use interloper_model::PhaseStats;

    fn group(name: &str, n: u64, signs: &[(LogSign, u64)]) -> LogGroup {
        LogGroup {
            name: name.into(),
            requests: n,
            static_requests: n,
            signs: signs.to_vec(),
            duration: PhaseStats {
                p50: 3.0,
                p99: 12_345.0,
                max: 61_000.0,
                ..Default::default()
            },
            examples: signs
                .iter()
                .map(|(s, _)| LogExample {
                    sign: *s,
                    location: "access.log:7".into(),
                    text: "GET /static/app.css".into(),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn backends(groups: Vec<LogGroup>) -> LogEvidence {
        LogEvidence {
            sources: vec![LogSource {
                name: "access.log".into(),
                parsed: 1000,
                first_time: Some(0),
                last_time: Some(600),
                ..Default::default()
            }],
            groups,
            grouped_by: "backend".into(),
            slow_ms: 1000.0,
            ..Default::default()
        }
    }

    #[test]
    fn a_backend_whose_tries_fail_is_named_even_when_its_requests_succeed_elsewhere() {
        let mut refused = group("10.0.0.9:80", 0, &[]);
        refused.tries = 40;
        refused.failed_tries = 40;
        refused.connect = Some(PhaseStats {
            p50: 3000.0,
            p99: 3000.0,
            max: 3000.0,
            ..Default::default()
        });
        let mut healthy = group("10.0.0.1:80", 400, &[]);
        healthy.tries = 400;
        let mut once = group("10.0.0.2:80", 400, &[]);
        (once.tries, once.failed_tries) = (400, 1);
        let a = analyse_logs(&backends(vec![refused, healthy, once]));
        let il506: Vec<&Finding> = a
            .findings
            .iter()
            .filter(|f| f.code == Code::IL506)
            .collect();
        assert_eq!(il506.len(), 1, "{:?}", a.findings);
        assert_eq!(il506[0].subject.as_deref(), Some("10.0.0.9:80"));
        assert_eq!(il506[0].severity, Severity::Error);
        assert!(il506[0].summary.contains("40 of 40 upstream tries"));
        assert_eq!(a.verdict.root_cause, Some(Code::IL506));
        assert_eq!(a.verdict.status, VerdictStatus::Degraded);
        assert_eq!(a.verdict.subject.as_deref(), Some("10.0.0.9:80"));
    }

    #[test]
    fn backends_alike_give_one_finding_per_sign_and_blame_none() {
        let alike: Vec<LogGroup> = (1..=6)
            .map(|i| {
                group(
                    &format!("10.0.0.{i}:8000"),
                    400,
                    &[(LogSign::ClientClosed, 12), (LogSign::ServerTimeout, 4)],
                )
            })
            .collect();
        let a = analyse_logs(&backends(alike));
        let codes: Vec<Code> = a.findings.iter().map(|f| f.code).collect();
        assert_eq!(
            codes.iter().filter(|c| **c == Code::IL501).count(),
            1,
            "{codes:?}"
        );
        assert_eq!(
            codes.iter().filter(|c| **c == Code::IL505).count(),
            1,
            "{codes:?}"
        );
        assert!(!codes.contains(&Code::IL504), "{codes:?}");
        let il501 = a
            .findings
            .iter()
            .find(|f| f.code == Code::IL501)
            .expect("IL501");
        assert_eq!(il501.subject, None);
        assert!(
            il501
                .summary
                .starts_with("72 of 2400 static requests (3.0%) through 6 of 6 backends alike"),
            "{}",
            il501.summary
        );
        assert_eq!(a.verdict.subject, None);
        assert!(
            a.verdict
                .summary
                .contains("common to the backends rather than one of them"),
            "{}",
            a.verdict.summary
        );
    }

    #[test]
    fn clean_groups_give_no_findings_and_a_clean_verdict() {
        let ev = backends(vec![group("b1", 500, &[]), group("b2", 500, &[])]);
        let g = &ev.groups[0];
        assert!(client_gave_up(&ev, g).is_none() && sent_partly(&ev, g).is_none());
        assert!(slow(&ev, g).is_none() && backend_failed(&ev, g).is_none());
        assert!(outlier(&ev).is_none());
        let a = analyse_logs(&ev);
        assert!(a.findings.is_empty());
        assert_eq!(a.verdict.status, VerdictStatus::Clean);
        assert_eq!(
            a.verdict.basis,
            "1000 static requests of 1000 logged requests in 1 file(s) through 2 backend(s), over 10.0 min"
        );
    }

    #[test]
    fn clients_leaving_are_il501_graded_by_share() {
        let ev = backends(vec![group(
            "b1",
            100,
            &[(LogSign::ClientClosed, 4), (LogSign::ClientTimeout, 1)],
        )]);
        let f = client_gave_up(&ev, &ev.groups[0]).expect("IL501");
        assert_eq!((f.code, f.severity), (Code::IL501, Severity::Error));
        assert_eq!(f.confidence, Confidence::Medium);
        assert_eq!(
            f.summary,
            "5 of 100 static requests through b1 (5.0%) were ended on the client side: \
             4 ended by the client, 1 timed out waiting for the client"
        );
        assert_eq!(f.evidence.len(), 2);
        // Two requests in a hundred: a browser leaving, not a finding.
        let few = backends(vec![group("b1", 100, &[(LogSign::ClientClosed, 2)])]);
        assert!(client_gave_up(&few, &few.groups[0]).is_none());
    }

    #[test]
    fn partial_bodies_are_il502() {
        let ev = backends(vec![group("b1", 1000, &[(LogSign::Partial, 2)])]);
        let f = sent_partly(&ev, &ev.groups[0]).expect("IL502");
        assert_eq!((f.code, f.severity), (Code::IL502, Severity::Warning));
        assert_eq!(
            f.summary,
            "2 of 1000 static responses through b1 were logged with fewer bytes than the same file's usual size"
        );
    }

    #[test]
    fn slow_delivery_is_il503_placed_between_proxy_and_client() {
        let mut ev = backends(vec![group(
            "b1",
            100,
            &[(LogSign::SlowDelivery, 3), (LogSign::Slow, 1)],
        )]);
        ev.grouped_by = "log".into();
        ev.groups[0].upstream = Some(PhaseStats {
            p50: 0.4,
            p99: 2.0,
            ..Default::default()
        });
        let f = slow(&ev, &ev.groups[0]).expect("IL503");
        assert_eq!((f.code, f.severity), (Code::IL503, Severity::Warning));
        assert_eq!(f.subject, None);
        assert_eq!(
            f.summary,
            "4 of 100 static requests (4.0%) took 1.0 s or more (p99 12.3 s, max 1.0 min); in 3 \
             of them the backend answered quickly and the time went into delivering to the \
             client: the delay is between the proxy and the client"
        );
        assert!(
            matches!(&f.evidence[0], Evidence::Stat { value, .. } if value == "0.4 ms / 2.0 ms")
        );
    }

    #[test]
    fn backend_timeouts_are_il505() {
        let ev = backends(vec![group("b1", 100, &[(LogSign::ServerTimeout, 3)])]);
        let f = backend_failed(&ev, &ev.groups[0]).expect("IL505");
        assert_eq!((f.code, f.severity), (Code::IL505, Severity::Error));
        assert_eq!(
            f.summary,
            "3 of 100 static requests through b1: 3 timed out waiting for the backend"
        );
        assert_eq!(f.confidence, Confidence::Medium);
    }

    #[test]
    fn one_bad_backend_among_clean_ones_is_il504_and_leads() {
        let ev = backends(vec![
            group("b1", 300, &[]),
            group("b2", 300, &[(LogSign::ServerTimeout, 30)]),
            group("b3", 300, &[(LogSign::ClientClosed, 1)]),
        ]);
        let f = outlier(&ev).expect("IL504");
        assert_eq!((f.code, f.severity), (Code::IL504, Severity::Error));
        assert_eq!(f.subject.as_deref(), Some("b2"));
        assert_eq!(
            f.summary,
            "b2: 30 of 300 static requests went wrong (30 timed out waiting for the backend); \
             at most 0.3% through the 2 other backend(s)"
        );
        assert_eq!(f.confidence, Confidence::High);
        let a = analyse_logs(&ev);
        assert_eq!(a.verdict.root_cause, Some(Code::IL504));
        assert_eq!(a.verdict.status, VerdictStatus::Failing);
        assert!(
            a.verdict
                .summary
                .starts_with("Static files through b2 go wrong")
        );
    }

    #[test]
    fn only_slow_requests_make_the_verdict_degraded() {
        let ev = backends(vec![group("b1", 100, &[(LogSign::Slow, 10)])]);
        let a = analyse_logs(&ev);
        assert_eq!(a.verdict.root_cause, Some(Code::IL503));
        assert_eq!(a.verdict.status, VerdictStatus::Degraded);
        assert!(
            a.verdict
                .summary
                .starts_with("Slow static responses (log) through b1: ")
        );
    }
}
