//! What a check (or a HAR) says in its verdict: how much was sampled, and the sentence that
//! names the root cause — HTTPS inspection by a product, with the symptoms it explains; likely
//! inspection and how to prove it; or the catalogue title placed at or on the path to the
//! target. Which finding is the root cause, and the status, are the one rule of
//! [`crate::diagnosis`].

use crate::catalogue::Place;
use crate::diagnosis::{Diagnosis, Scope, Source, diagnose};
use crate::input::TargetEvidence;
use crate::stats::detection_bound;
use crate::{Finding, Severity, TargetSummary};

/// Orders the findings of a check (or a HAR, `source`) and decides its verdict.
pub(crate) fn diagnose_targets(
    source: Source,
    targets: &[TargetEvidence],
    findings: Vec<Finding>,
    s: &[TargetSummary],
) -> Diagnosis {
    let clean = if findings.is_empty() {
        "No problems found: every asset loaded completely, quickly and with the right content."
    } else {
        "No problems that affect users; see the notes below."
    };
    let says = |root: &Finding, all: &[Finding]| {
        let sentence = root_sentence(targets, all, root);
        match incompleteness_said(root, all) {
            tail if tail.is_empty() => sentence,
            tail if sentence.ends_with('.') => format!("{sentence}{tail}"),
            tail => format!("{sentence}.{tail}"),
        }
    };
    let scope = Scope {
        source,
        failed_targets: s
            .iter()
            .filter(|x| x.failed > 0)
            .map(|x| x.label.as_str())
            .collect(),
        clean: clean.to_string(),
        basis: sampling_basis(targets.len(), s),
        says: &says,
    };
    diagnose(findings, &scope)
}

/// The sentence naming the root cause.
fn root_sentence(targets: &[TargetEvidence], findings: &[Finding], root: &Finding) -> String {
    let on = place_words(root);
    if root.code.entry().is_incompleteness() {
        format!("The check is incomplete, not clean: {}.", root.summary)
    } else if root.code == crate::Code::IL109 {
        likely_inspection_summary(root, &on)
    } else if root.code == crate::Code::IL102 {
        machine_only_summary(root)
    } else if root.code.entry().is_interception() {
        let product = targets
            .iter()
            .find(|t| Some(&t.label) == root.subject.as_ref())
            .and_then(|t| t.tls.as_ref())
            .and_then(|t| t.product.as_deref());
        interception_summary(root, product, &on, &symptoms(findings, root))
    } else {
        format!("{}{on}: {}", root.title, root.summary)
    }
}

/// When a problem is the root cause and part of the check could not be made, the sentence
/// still says so (problems win the status and the exit code, never the silence).
fn incompleteness_said(root: &Finding, findings: &[Finding]) -> String {
    if root.code.entry().is_incompleteness() {
        return String::new();
    }
    findings
        .iter()
        .find(|f| f.code.entry().is_incompleteness())
        .map(|f| format!(" The check is also incomplete: {}.", f.summary))
        .unwrap_or_default()
}

/// How much was sampled and, when nothing stalled, how rare a stall could still be.
fn sampling_basis(targets: usize, s: &[TargetSummary]) -> String {
    let requests: u64 = s.iter().map(|x| x.requests).sum();
    let assets: usize = s.iter().map(|x| x.assets).sum();
    let stalled: u64 = s.iter().map(|x| x.stalled).sum();
    let browser_hellos: u64 = s.iter().map(|x| x.browser_hellos).sum();
    // The browser-shaped hellos are part of the count and of the budget: say how many.
    let shapes = if browser_hellos > 0 {
        format!(
            " ({browser_hellos} of them on connections opened with the browser-shaped post-quantum and multi-segment ClientHellos)"
        )
    } else {
        String::new()
    };
    if stalled == 0 && requests > 0 {
        format!(
            "{requests} requests to {assets} assets on {targets} target(s){shapes}; no stall seen: a problem hitting more than {:.1}% of requests would have shown up (95% confidence)",
            100.0 * detection_bound(requests, 0.95)
        )
    } else {
        format!("{requests} requests to {assets} assets on {targets} target(s){shapes}")
    }
}

/// ` at https://a/` for the server's doing, ` on the path to https://a/` for the rest.
fn place_words(root: &Finding) -> String {
    let Some(t) = root.subject.as_deref() else {
        return String::new();
    };
    match root.code.entry().place {
        Place::Server => format!(" at {t}"),
        Place::Path => format!(" on the path to {t}"),
    }
}

/// The symptom nouns of the other warning-or-worse findings about the root's target.
fn symptoms(findings: &[Finding], root: &Finding) -> Vec<&'static str> {
    findings
        .iter()
        .filter(|f| f.subject == root.subject && f.severity >= Severity::Warning)
        .filter(|f| f.code != root.code)
        .filter_map(|f| f.code.entry().symptom)
        .collect()
}

/// IL109 as the root cause: inspection is likely, not proven; say so and name the proof.
fn likely_inspection_summary(root: &Finding, on: &str) -> String {
    format!(
        "HTTPS inspection is the likely cause of the stalls{on} ({} confidence: stalls on the path and a certificate chain anchored only in a root installed on this machine, seen from one vantage point). \
         To prove it, run `interloper echo` beside the server and check again with --echo URL, or check the same site from a network without inspection; until then a private PKI on a slow path cannot be ruled out.",
        root.confidence.as_str()
    )
}

/// IL102 as the root cause: the path is trusted only by this machine; say what that can be
/// and how to tell.
fn machine_only_summary(root: &Finding) -> String {
    let to = root
        .subject
        .as_deref()
        .map(|t| format!(" to {t}"))
        .unwrap_or_default();
    format!(
        "The path{to} is trusted only by this machine: {}. To tell which, run the witness (`interloper echo`) beside the server \
         and check again with --echo URL, or compare from a machine outside; if the root is your organisation's own, declare it with --private-root FILE.",
        root.summary
    )
}

fn interception_summary(
    root: &Finding,
    product: Option<&str>,
    on: &str,
    symptoms: &[&str],
) -> String {
    let by = product
        .map(|p| format!("HTTPS inspection by {p}"))
        .unwrap_or_else(|| "HTTPS inspection".to_string());
    let proven = if root.code == crate::Code::IL101 {
        " (proven by the witness)"
    } else {
        ""
    };
    let and_symptoms = if symptoms.is_empty() {
        String::new()
    } else {
        format!(", with {}", symptoms.join(", "))
    };
    // Inferred from the chain alone (a local root with minted traits): name the step that
    // proves it before anyone asks for a bypass.
    let prove = if root.code == crate::Code::IL105 {
        " (inferred from the certificate; to prove it, run `interloper echo` beside the server and check again with --echo URL)"
    } else {
        ""
    };
    format!(
        "{by}{on}{proven}{and_symptoms}{prove}: ask your network team to bypass inspection for this server."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;
    use crate::detect::finding;
    use crate::testing::LABEL;
    use crate::{Verdict, VerdictStatus};
    use interloper_model::PhaseStats;

    fn verdict(targets: &[TargetEvidence], findings: &[Finding], s: &[TargetSummary]) -> Verdict {
        diagnose_targets(Source::Check, targets, findings.to_vec(), s).verdict
    }

    fn summary(requests: u64, failed: u64, stalled: u64) -> TargetSummary {
        TargetSummary {
            label: LABEL.into(),
            assets: 2,
            requests,
            failed,
            stalled,
            total: PhaseStats::default(),
            leaf_issuer: None,
            tls_status: None,
            browser_hellos: 0,
        }
    }

    fn at(code: Code, summary: &str) -> Finding {
        finding(code, Some(LABEL), summary.into())
    }

    #[test]
    fn no_findings_is_clean_with_the_detection_bound() {
        let v = verdict(&[TargetEvidence::default()], &[], &[summary(80, 0, 0)]);
        assert_eq!(v.status, VerdictStatus::Clean);
        assert_eq!(v.root_cause, None);
        assert!(v.summary.starts_with("No problems found"));
        assert!(v.basis.contains("80 requests to 2 assets on 1 target(s)"));
        assert!(v.basis.contains("3.7%"), "{}", v.basis);
        let mut note = at(Code::IL305, "2 hashed files");
        note.severity = Severity::Info;
        let v = verdict(&[], &[note], &[summary(10, 0, 1)]);
        assert_eq!(v.status, VerdictStatus::Clean);
        assert_eq!(
            v.summary,
            "No problems that affect users; see the notes below."
        );
        assert!(!v.basis.contains("no stall seen"));
    }

    #[test]
    fn incompleteness_is_the_sentence_alone_and_said_after_a_problem() {
        let gap = "the page x could not be examined: it does not decode (corrupt)";
        let v = verdict(&[], &[at(Code::IL310, gap)], &[summary(2, 0, 0)]);
        assert_eq!(v.status, VerdictStatus::Incomplete);
        assert_eq!(
            v.summary,
            format!("The check is incomplete, not clean: {gap}.")
        );
        let v = verdict(
            &[],
            &[at(Code::IL310, gap), at(Code::IL301, "1 file(s): a.css")],
            &[summary(2, 0, 0)],
        );
        assert_eq!(v.root_cause, Some(Code::IL301));
        assert!(
            v.summary
                .ends_with(&format!("a.css. The check is also incomplete: {gap}.")),
            "{}",
            v.summary
        );
    }

    #[test]
    fn likely_inspection_says_likely_and_names_the_proof() {
        let findings = [
            at(Code::IL201, "6 stalled"),
            at(Code::IL109, "stalls and a local root"),
        ];
        let v = verdict(&[], &findings, &[summary(60, 0, 6)]);
        assert_eq!(v.root_cause, Some(Code::IL109));
        assert_eq!(v.status, VerdictStatus::Degraded);
        assert!(
            v.summary.starts_with(&format!(
                "HTTPS inspection is the likely cause of the stalls on the path to {LABEL} (medium confidence"
            )),
            "{}",
            v.summary
        );
        assert!(
            v.summary
                .contains("run `interloper echo` beside the server")
        );
        // Shown interception (a local root with minted traits: IL105 at warning) still wins.
        let findings = [
            at(Code::IL201, "6 stalled"),
            at(Code::IL109, "stalls and a local root"),
            at(Code::IL102, "local root"),
            at(Code::IL105, "minted"),
        ];
        let v = verdict(&[], &findings, &[summary(60, 0, 6)]);
        assert_eq!(v.root_cause, Some(Code::IL105));
        assert_eq!(v.status, VerdictStatus::Intercepted);
    }

    #[test]
    fn a_root_only_this_machine_trusts_is_unverified_and_says_how_to_tell() {
        let v = verdict(&[], &[at(Code::IL102, "the chain ends in CN=Corp")], &[]);
        assert_eq!(v.status, VerdictStatus::Unverified);
        assert_eq!(v.root_cause, Some(Code::IL102));
        assert!(
            v.summary.starts_with(&format!(
                "The path to {LABEL} is trusted only by this machine: the chain ends in CN=Corp."
            )),
            "{}",
            v.summary
        );
        for words in [
            "`interloper echo`",
            "from a machine outside",
            "--private-root FILE",
        ] {
            assert!(v.summary.contains(words), "{words}: {}", v.summary);
        }
        // What fails explains more than what is unverified.
        let v = verdict(
            &[],
            &[at(Code::IL102, "local root"), at(Code::IL202, "2 failed")],
            &[summary(60, 2, 0)],
        );
        assert_eq!(
            (v.status, v.root_cause),
            (VerdictStatus::Failing, Some(Code::IL202))
        );
    }

    #[test]
    fn the_lowest_rank_explains_the_rest() {
        let findings = [at(Code::IL201, "6 stalled"), at(Code::IL207, "large only")];
        let v = verdict(&[], &findings, &[summary(60, 0, 6)]);
        assert_eq!(v.root_cause, Some(Code::IL207));
        assert_eq!(v.status, VerdictStatus::Degraded);
        assert_eq!(
            v.summary,
            format!("Only large bodies stall or fail on the path to {LABEL}: large only")
        );
        // Once requests fail, slow is failing.
        let v = verdict(&[], &findings, &[summary(60, 2, 6)]);
        assert_eq!(v.status, VerdictStatus::Failing);
    }

    #[test]
    fn server_side_codes_are_placed_at_the_target() {
        let v = verdict(&[], &[at(Code::IL301, "1 asset(s) answered 404")], &[]);
        assert_eq!(v.status, VerdictStatus::Failing);
        assert_eq!(
            v.summary,
            format!("Asset not found (404) at {LABEL}: 1 asset(s) answered 404")
        );
        let v = verdict(&[], &[at(Code::IL106, "h2 → http/1.1")], &[]);
        assert_eq!(v.status, VerdictStatus::Notice);
    }

    #[test]
    fn interception_names_the_product_and_the_symptoms() {
        let mut t = TargetEvidence {
            label: LABEL.into(),
            ..Default::default()
        };
        t.tls = Some(crate::TlsEvidence {
            status: crate::TlsStatus::Intercepted,
            confidence: crate::Confidence::High,
            product: Some("FortiGate".into()),
            leaf_subject: None,
            leaf_issuer: None,
            items: vec![],
        });
        let findings = [
            at(Code::IL201, "stalls"),
            at(Code::IL101, "proof"),
            at(Code::IL203, "short"),
            at(Code::IL103, "product"),
            finding(Code::IL202, Some("https://other/"), "elsewhere".into()),
        ];
        let v = verdict(&[t], &findings, &[summary(60, 0, 6)]);
        assert_eq!(v.status, VerdictStatus::Intercepted);
        assert_eq!(v.root_cause, Some(Code::IL101));
        assert_eq!(
            v.summary,
            format!(
                "HTTPS inspection by FortiGate on the path to {LABEL} (proven by the witness), \
                 with truncated files, stalls: ask your network team to bypass inspection for \
                 this server."
            )
        );
    }
}
