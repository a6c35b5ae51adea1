//! The diagnosis of access logs: which backend, which signs, and where to look.

use serde::{Deserialize, Serialize};

use crate::analysis::{binomial_cdf, finding};
use crate::logs_input::{LogEvidence, LogGroup, LogSign};
use crate::{Code, Confidence, Evidence, Finding, Severity, Verdict, VerdictStatus};

/// Findings and verdict for a set of access logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogAnalysis {
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// The one-sentence answer.
    pub verdict: Verdict,
}

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

fn group_findings(ev: &LogEvidence, g: &LogGroup) -> Vec<Finding> {
    let mut out = Vec::new();
    let n = g.static_requests;
    let target = (ev.grouped_by == "backend").then_some(g.name.as_str());
    let through = target.map(|t| format!(" through {t}")).unwrap_or_default();

    let client_signs = [LogSign::ClientClosed, LogSign::ClientTimeout];
    let client: u64 = client_signs.iter().map(|s| g.count(*s)).sum();
    // A browser leaving a page ends a few requests anywhere; only a share worth noticing counts.
    if client >= 3 && rate(client, n) >= 0.005 {
        let mut f = finding(
            Code::IL501,
            target,
            format!(
                "{client} of {n} static requests{through} ({}) were ended on the client side: {}",
                pct(client, n),
                signs_in_words(g, &client_signs)
            ),
        );
        f.severity = graded(client, n, 0.02);
        f.confidence = confidence(client);
        add_examples(&mut f, g, &client_signs);
        out.push(f);
    }

    let partial = g.count(LogSign::Partial);
    if partial > 0 {
        let mut f = finding(
            Code::IL502,
            target,
            format!(
                "{partial} of {n} static responses{through} were logged with fewer bytes than the same file's usual size"
            ),
        );
        f.severity = graded(partial, n, 0.01);
        f.confidence = confidence(partial);
        add_examples(&mut f, g, &[LogSign::Partial]);
        out.push(f);
    }

    let slow_signs = [LogSign::SlowDelivery, LogSign::Slow];
    let slow: u64 = slow_signs.iter().map(|s| g.count(*s)).sum();
    if slow >= 3 && rate(slow, n) >= 0.01 {
        let delivery = g.count(LogSign::SlowDelivery);
        let place = if delivery * 2 > slow {
            format!(
                "; in {delivery} of them the backend answered quickly and the time went into delivering to the client: the delay is between the proxy and the client"
            )
        } else {
            String::new()
        };
        let mut f = finding(
            Code::IL503,
            target,
            format!(
                "{slow} of {n} static requests{through} ({}) took {} or more (p99 {}, max {}){place}",
                pct(slow, n),
                crate::analysis::fmt_ms(ev.slow_ms),
                crate::analysis::fmt_ms(g.duration.p99),
                crate::analysis::fmt_ms(g.duration.max),
            ),
        );
        f.severity = graded(slow, n, 0.05);
        f.confidence = confidence(slow);
        if let Some(u) = &g.upstream {
            f.evidence.push(Evidence::Stat {
                label: "backend time p50 / p99".into(),
                value: format!(
                    "{} / {}",
                    crate::analysis::fmt_ms(u.p50),
                    crate::analysis::fmt_ms(u.p99)
                ),
            });
        }
        add_examples(&mut f, g, &slow_signs);
        out.push(f);
    }

    let server_signs = [LogSign::ServerTimeout, LogSign::ServerFailed];
    let server: u64 = server_signs.iter().map(|s| g.count(*s)).sum();
    if server > 0 {
        let mut f = finding(
            Code::IL505,
            target,
            format!(
                "{server} of {n} static requests{through}: {}",
                signs_in_words(g, &server_signs)
            ),
        );
        f.severity = graded(server, n, 0.01);
        f.confidence = confidence(server);
        add_examples(&mut f, g, &server_signs);
        out.push(f);
    }
    out
}

/// One backend worse than its siblings by more than chance: the others, at its rate, would
/// almost never (binomial tail < 1 %) have come out as clean as they did.
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
        rate(a.bad(), a.static_requests).total_cmp(&rate(b.bad(), b.static_requests))
    })?;
    let r = rate(worst.bad(), worst.static_requests);
    let others: Vec<&&LogGroup> = groups.iter().filter(|g| g.name != worst.name).collect();
    let (on, ob) = others.iter().fold((0u64, 0u64), |acc, g| {
        (acc.0 + g.static_requests, acc.1 + g.bad())
    });
    let others_worst = others
        .iter()
        .map(|g| rate(g.bad(), g.static_requests))
        .fold(0.0, f64::max);
    let chance = binomial_cdf(ob as usize, on as usize, r);
    if worst.bad() < 3 || chance >= 0.01 || others_worst > r / 4.0 {
        return None;
    }
    let mut f = finding(
        Code::IL504,
        Some(&worst.name),
        format!(
            "{}: {} of {} static requests went wrong ({}); at most {:.1}% through the {} other backend(s)",
            worst.name,
            worst.bad(),
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
                g.bad(),
                g.static_requests,
                crate::analysis::fmt_ms(g.duration.p50),
                crate::analysis::fmt_ms(g.duration.p99)
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

fn priority(code: Code) -> usize {
    [
        Code::IL504,
        Code::IL505,
        Code::IL501,
        Code::IL502,
        Code::IL503,
    ]
    .iter()
    .position(|c| *c == code)
    .unwrap_or(9)
}

/// Turn gathered log evidence into findings and a verdict.
pub fn analyse_logs(ev: &LogEvidence) -> LogAnalysis {
    let mut findings: Vec<Finding> = ev
        .groups
        .iter()
        .flat_map(|g| group_findings(ev, g))
        .collect();
    findings.extend(outlier(ev));
    findings.sort_by_key(|f| (std::cmp::Reverse(f.severity), priority(f.code)));
    let statics: u64 = ev.groups.iter().map(|g| g.static_requests).sum();
    let lines: u64 = ev.sources.iter().map(|s| s.parsed).sum();
    let span = match (
        ev.sources.iter().filter_map(|s| s.first_time).min(),
        ev.sources.iter().filter_map(|s| s.last_time).max(),
    ) {
        (Some(a), Some(b)) => format!(", over {}", span_words(b - a)),
        _ => String::new(),
    };
    let backends = if ev.grouped_by == "backend" {
        format!(" through {} backend(s)", ev.groups.len())
    } else {
        String::new()
    };
    let sampling = format!(
        "{statics} static requests of {lines} logged requests in {} file(s){backends}{span}",
        ev.sources.len()
    );
    let root = findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .min_by_key(|f| priority(f.code));
    let verdict = match root {
        None => Verdict {
            status: VerdictStatus::Clean,
            root_cause: None,
            target: None,
            summary: if statics == 0 {
                "No requests for static files in these logs: check --static-prefix.".into()
            } else {
                "No sign of trouble with static files in these logs.".into()
            },
            sampling,
        },
        Some(root) => {
            let status = if findings
                .iter()
                .any(|f| f.severity >= Severity::Warning && f.code != Code::IL503)
            {
                VerdictStatus::Failing
            } else {
                VerdictStatus::Degraded
            };
            let summary = match (root.code, &root.target) {
                (Code::IL504, Some(t)) => format!(
                    "Static files through {t} go wrong while its siblings serve them cleanly: compare the path to {t} (firewall rules, HTTPS inspection, routing) with theirs, then run `interloper check` against it directly."
                ),
                (_, Some(t)) => format!("{} through {t}: {}", root.title, root.summary),
                (_, None) => format!("{}: {}", root.title, root.summary),
            };
            Verdict {
                status,
                root_cause: Some(root.code),
                target: root.target.clone(),
                summary,
                sampling,
            }
        }
    };
    LogAnalysis { findings, verdict }
}

fn span_words(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
