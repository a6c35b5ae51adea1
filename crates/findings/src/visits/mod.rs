//! The browser witness: a visit (a user's own browser opening the witness's visit page)
//! judged from the server side, and many visits summarised for the operator (IL7xx).
//!
//! Pure: the witness gathers [`WitnessSide`] and the page's downloads ([`PageDownload`], from
//! its report), [`judge_visit`] decides;
//! `interloper visits` reads the records back and [`analyse_visits`] summarises them.

mod hello;
mod judge;
mod read;
mod ua;

pub use hello::{HelloCodes, family as hello_family, is_grease, traits as hello_traits};
pub use judge::{
    DownloadFrom, Downloads, HelloSeen, Judgement, PageDownload, ProxySigns, STALL_MS, VisitRecord,
    WitnessSide, clean_text, judge_visit,
};
pub use read::{MAX_LINE, MAX_VISITS, VisitsError, VisitsOutcome, VisitsPlan, run_visits};
pub use ua::{Claimed, StackFamily, claimed_browser};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::detect::finding;
use crate::diagnosis::{Scope, Source, diagnose, title_and_summary};
use crate::{Code, Confidence, Diagnosis, Evidence, Finding, Severity, Verdict, VerdictStatus};

/// Counts for one group of visits (a hello stack, a client network).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitGroup {
    /// Visits.
    pub visits: u32,
    /// Of which intercepted.
    pub intercepted: u32,
    /// Downloads in them.
    pub downloads: u32,
    /// Of which stalled.
    pub stalled: u32,
}

/// Many visits summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitsAnalysis {
    /// Visits read.
    pub visits: u32,
    /// Of which intercepted.
    pub intercepted: u32,
    /// Visits whose User-Agent named no browser (not judged).
    pub not_judged: u32,
    /// Downloads in all visits.
    pub downloads: u32,
    /// Of which stalled.
    pub stalled: u32,
    /// Stalled test files the witness answered at once.
    pub stalled_on_path: u32,
    /// By the stack of the hellos received (a knowledge-file name, or the family).
    pub by_stack: BTreeMap<String, VisitGroup>,
    /// By client network (only visits whose network was kept).
    pub by_network: BTreeMap<String, VisitGroup>,
    /// By the browser claimed.
    pub by_browser: BTreeMap<String, VisitGroup>,
    /// Findings and verdict (flattened: the JSON keeps `findings` and `verdict` at the top).
    #[serde(flatten)]
    pub diagnosis: Diagnosis,
}

fn add(group: &mut VisitGroup, r: &VisitRecord) {
    group.visits += 1;
    group.intercepted += u32::from(r.judgement.intercepted);
    group.downloads += r.downloads.witness + r.downloads.site;
    group.stalled += r.downloads.stalled;
}

/// Summarises visit records (several files, several users).
pub fn analyse_visits(records: &[VisitRecord]) -> VisitsAnalysis {
    let mut a = VisitsAnalysis {
        visits: 0,
        intercepted: 0,
        not_judged: 0,
        downloads: 0,
        stalled: 0,
        stalled_on_path: 0,
        by_stack: BTreeMap::new(),
        by_network: BTreeMap::new(),
        by_browser: BTreeMap::new(),
        diagnosis: Diagnosis {
            findings: Vec::new(),
            verdict: Verdict {
                status: VerdictStatus::Clean,
                root_cause: None,
                subject: None,
                summary: String::new(),
                basis: String::new(),
            },
        },
    };
    for r in records {
        a.visits += 1;
        a.intercepted += u32::from(r.judgement.intercepted);
        a.not_judged += u32::from(r.judgement.hello_matches_user_agent.is_none());
        a.downloads += r.downloads.witness + r.downloads.site;
        a.stalled += r.downloads.stalled;
        a.stalled_on_path += r.downloads.stalled_on_path;
        for stack in stacks_of(r) {
            add(a.by_stack.entry(stack).or_default(), r);
        }
        if let Some(n) = &r.client_network {
            add(a.by_network.entry(n.clone()).or_default(), r);
        }
        let browser = r.claimed.family.map_or("no browser", |f| f.label());
        add(a.by_browser.entry(browser.to_string()).or_default(), r);
    }
    a.diagnosis = diagnosis(findings(records, &a), &a);
    a
}

/// The distinct stacks whose hellos a visit's requests arrived with.
fn stacks_of(r: &VisitRecord) -> Vec<String> {
    let mut s: Vec<String> = r
        .hellos
        .iter()
        .map(|h| {
            h.stack
                .clone()
                .unwrap_or_else(|| h.family.label().to_string())
        })
        .collect();
    s.sort();
    s.dedup();
    s
}

fn findings(records: &[VisitRecord], a: &VisitsAnalysis) -> Vec<Finding> {
    let mut out = Vec::new();
    let intercepted: Vec<&VisitRecord> =
        records.iter().filter(|r| r.judgement.intercepted).collect();
    if !intercepted.is_empty() {
        let mut f = finding(
            Code::IL701,
            None,
            format!(
                "{} of {} visits reached the server with a TLS hello that is not their \
                 browser's",
                intercepted.len(),
                a.visits
            ),
        );
        f.confidence = intercepted
            .iter()
            .filter_map(|r| r.judgement.confidence)
            .max()
            .unwrap_or(Confidence::Medium);
        for r in intercepted.iter().take(5) {
            f.evidence.push(Evidence::Stat {
                label: format!("visit {}", r.visit),
                value: r.judgement.reasons.first().cloned().unwrap_or_default(),
            });
        }
        out.push(f);
    }
    if a.stalled > 0 && a.downloads > 0 {
        let ratio = f64::from(a.stalled) / f64::from(a.downloads);
        if ratio >= 0.02 || a.stalled >= 3 {
            let mut f = finding(
                Code::IL702,
                None,
                format!(
                    "{} of {} downloads in {} visits stalled over {} s ({} of the test files \
                     answered at once by the witness: on the path)",
                    a.stalled,
                    a.downloads,
                    a.visits,
                    STALL_MS / 1000.0,
                    a.stalled_on_path
                ),
            );
            f.confidence = if a.stalled_on_path > 0 {
                Confidence::High
            } else {
                Confidence::Medium
            };
            if a.stalled_on_path == 0 {
                f.severity = Severity::Warning;
            }
            for r in records.iter().filter(|r| r.downloads.stalled > 0).take(5) {
                f.evidence.push(Evidence::Stat {
                    label: format!("visit {}", r.visit),
                    value: format!(
                        "{} of {} stalled, slowest {:.0} ms",
                        r.downloads.stalled,
                        r.downloads.witness + r.downloads.site,
                        r.downloads.max_ms
                    ),
                });
            }
            out.push(f);
        }
    }
    let proxied: Vec<&VisitRecord> = records.iter().filter(|r| r.proxy.any()).collect();
    if !proxied.is_empty() {
        let mut f = finding(
            Code::IL703,
            None,
            format!(
                "{} of {} visits arrived through a proxy that added headers",
                proxied.len(),
                a.visits
            ),
        );
        f.confidence = Confidence::High;
        for r in proxied.iter().take(5) {
            f.evidence.push(Evidence::Stat {
                label: format!("visit {}", r.visit),
                value: format!(
                    "Via: {}; X-Forwarded-For hops: {}; Forwarded: {}",
                    r.proxy.via.as_deref().unwrap_or("-"),
                    r.proxy.forwarded_for_hops,
                    if r.proxy.forwarded { "yes" } else { "no" }
                ),
            });
        }
        out.push(f);
    }
    out
}

/// The findings ordered and the verdict decided by the one rule; the sentences carry the
/// visits' own counts.
fn diagnosis(findings: Vec<Finding>, a: &VisitsAnalysis) -> Diagnosis {
    let clean = if a.visits == 0 {
        "No visits recorded".to_string()
    } else {
        format!(
            "No interception seen in {} visits; {} of {} downloads stalled",
            a.visits - a.not_judged,
            a.stalled,
            a.downloads
        )
    };
    let says = |root: &Finding, all: &[Finding]| match root.code {
        Code::IL701 => format!(
            "HTTPS interception: {} of {} visitors' connections are decrypted and re-encrypted \
             on the way{}",
            a.intercepted,
            a.visits,
            if a.stalled > 0 {
                format!(", and {} of {} downloads stalled", a.stalled, a.downloads)
            } else {
                String::new()
            }
        ),
        Code::IL702 => format!(
            "Visitors' downloads stall: {} of {} over {} s",
            a.stalled,
            a.downloads,
            STALL_MS / 1000.0
        ),
        _ => title_and_summary(root, all),
    };
    let sampling = format!(
        "{} visits, {} downloads; {} visits named no browser and were not judged",
        a.visits, a.downloads, a.not_judged
    );
    let scope = Scope {
        says: &says,
        ..Scope::plain(Source::Visits, clean, sampling)
    };
    diagnose(findings, &scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(code: &str, intercepted: bool, stalled: u32, on_path: u32, via: bool) -> VisitRecord {
        VisitRecord {
            schema: interloper_model::schema::VISIT.into(),
            visit: code.into(),
            time_unix_ms: 0,
            client_network: Some("198.51.100.0/24".into()),
            user_agent: None,
            claimed: claimed_browser(
                "Mozilla/5.0 (X11) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36",
            ),
            hellos: Vec::new(),
            proxy: ProxySigns {
                via: via.then(|| "1.1 proxy".to_string()),
                forwarded_for_hops: 0,
                forwarded: false,
            },
            downloads: Downloads {
                witness: 60,
                stalled,
                stalled_on_path: on_path,
                ..Downloads::default()
            },
            judgement: Judgement {
                intercepted,
                confidence: intercepted.then_some(Confidence::High),
                hello_matches_user_agent: Some(!intercepted),
                reasons: vec!["why".into()],
            },
            headline: String::new(),
        }
    }

    #[test]
    fn visits_summarised_into_findings_and_a_verdict() {
        let clean = analyse_visits(&[record("AAAA2222", false, 0, 0, false)]);
        assert!(clean.diagnosis.findings.is_empty());
        assert_eq!(clean.diagnosis.verdict.status, VerdictStatus::Clean);

        let a = analyse_visits(&[
            record("AAAA2222", false, 0, 0, false),
            record("BBBB3333", true, 4, 4, true),
        ]);
        let codes: Vec<Code> = a.diagnosis.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, vec![Code::IL701, Code::IL702, Code::IL703]);
        assert_eq!(a.diagnosis.verdict.status, VerdictStatus::Intercepted);
        assert_eq!(a.diagnosis.verdict.root_cause, Some(Code::IL701));
        assert_eq!((a.visits, a.intercepted, a.stalled_on_path), (2, 1, 4));
        assert_eq!(a.by_network["198.51.100.0/24"].visits, 2);
        // Stalls the witness could not place stay a warning.
        let unplaced = analyse_visits(&[record("CCCC4444", false, 5, 0, false)]);
        assert_eq!(unplaced.diagnosis.findings[0].code, Code::IL702);
        assert_eq!(unplaced.diagnosis.findings[0].severity, Severity::Warning);
        assert_eq!(unplaced.diagnosis.verdict.status, VerdictStatus::Degraded);
    }
}
