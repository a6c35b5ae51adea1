//! Detectors over the TLS path: the witness's proof of interception (IL101), the signals
//! of the chain analysis (IL102 … IL106), a chain this client refuses (IL112) and a chain the
//! server sent incomplete (IL113).

use super::{add_worst_requests, finding};
use crate::classify::{Classified, RequestOutcome};
use crate::input::{Evidence, TargetEvidence, TlsEvidence, TlsItem, TlsItemKind, TlsStatus};
use crate::{Code, Confidence, Finding, Severity};

/// IL101 — the witness saw a different ClientHello or served a different chain than the
/// client got: something terminates TLS on the path, proven.
pub(crate) fn witness_proof(t: &TargetEvidence) -> Option<Finding> {
    let w = t.witness.as_ref()?;
    let mut what = Vec::new();
    if !w.client_random_matched {
        what.push(
            "the witness received a different ClientHello (client_random) than the client sent",
        );
    }
    if !w.chain_matched {
        what.push("the client received a different certificate chain than the witness served");
    }
    if what.is_empty() {
        return None;
    }
    let product = t.tls.as_ref().and_then(|x| x.product.as_deref());
    let upstream = (!w.client_random_matched)
        .then_some(w.witness_stack.as_deref())
        .flatten();
    let summary = match (product, upstream) {
        (Some(p), _) => format!("TLS is terminated on the path by {p}: {}", what.join("; ")),
        // The issuer names nothing (an administrator-named CA): the hello the box sent upstream
        // is the only thing left that says what it is.
        (None, Some(s)) => format!(
            "TLS is terminated on the path by a box whose upstream hello is {s}'s: {}",
            what.join("; ")
        ),
        (None, None) => format!("TLS is terminated on the path: {}", what.join("; ")),
    };
    let mut f = finding(Code::IL101, Some(&t.label), summary);
    f.confidence = Confidence::High;
    for m in what {
        f.evidence.push(Evidence::Witness {
            message: m.to_string(),
        });
    }
    if let (Some(a), Some(b)) = (&w.client_ja4, &w.witness_ja4) {
        f.evidence.push(Evidence::Witness {
            message: format!("JA4 sent {a}, JA4 received {b}"),
        });
    }
    if !w.client_random_matched {
        let message = match (&w.witness_stack, &w.witness_ja4) {
            (Some(s), _) => format!(
                "the hello that reached the server is {s}'s, not this client's (its JA4 is in data/hello-stacks.toml)"
            ),
            (None, Some(b)) if w.client_ja4.as_deref() != Some(b.as_str()) => format!(
                "the hello that reached the server is not this client's, and its JA4 {b} names no TLS stack interloper knows"
            ),
            _ => String::new(),
        };
        if !message.is_empty() {
            f.evidence.push(Evidence::Witness { message });
        }
    }
    Some(f)
}

/// IL109 — one vantage point, no witness: stalls on the path (IL201 among `findings`) and a
/// chain anchored only in a local root that names no product. Either alone is common (a slow
/// network; a private PKI); together they are the founding story's signature, so the verdict
/// says inspection is the likely cause, at medium confidence, and names the step that proves
/// it.
pub(crate) fn likely_inspection(t: &TargetEvidence, findings: &[Finding]) -> Option<Finding> {
    if t.witness.is_some() {
        // A witness decides by itself: IL101, or a clean path to it.
        return None;
    }
    let tls = t.tls.as_ref()?;
    if tls.product.is_some()
        || !matches!(
            tls.status,
            TlsStatus::PrivatePkiUnknown | TlsStatus::LikelyIntercepted
        )
    {
        return None;
    }
    let anchor: Vec<&TlsItem> = tls
        .items
        .iter()
        .filter(|i| i.kind == TlsItemKind::LocalAnchorOnly)
        .collect();
    let stalls = findings.iter().find(|f| {
        f.code == Code::IL201
            && f.subject.as_deref() == Some(t.label.as_str())
            && f.severity >= Severity::Warning
    })?;
    if anchor.is_empty() {
        return None;
    }
    let minted: Vec<&TlsItem> = tls
        .items
        .iter()
        .filter(|i| i.kind == TlsItemKind::MintedTraits)
        .collect();
    let issuer = tls.leaf_issuer.as_deref().unwrap_or("an unknown issuer");
    let traits = if minted.is_empty() {
        String::new()
    } else {
        format!(", and the leaf has minted traits ({})", joined(&minted))
    };
    let summary = format!(
        "stalls on the path ({}) and a chain anchored only in a root installed on this machine ({issuer}){traits}: \
         together the signature of HTTPS inspection; from one vantage point this is likely, not proven",
        stalls.summary
    );
    let mut f = finding(Code::IL109, Some(&t.label), summary);
    f.confidence = Confidence::Medium;
    f.assets.clone_from(&stalls.assets);
    for i in anchor.iter().chain(&minted) {
        f.evidence.push(Evidence::Tls {
            message: i.message.clone(),
        });
    }
    f.evidence.push(Evidence::Tls {
        message: format!(
            "no witness beside the server: run `interloper echo --listen 0.0.0.0:8443 --self-signed {host}` on it and check again with --echo https://{host}:8443/ to prove or rule out interception",
            host = host_of(&t.label)
        ),
    });
    Some(f)
}

/// The host of a target label (a URL), for the command the finding suggests.
fn host_of(label: &str) -> String {
    label
        .split_once("://")
        .map_or(label, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .map(|authority| {
            // Drop a port, keeping an IPv6 literal's brackets.
            match authority.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') => h,
                _ => authority,
            }
        })
        .filter(|h| !h.is_empty())
        .unwrap_or("SERVER")
        .to_string()
}

/// IL103 — the issuer names a known interception product.
pub(crate) fn product_match(t: &TargetEvidence) -> Option<Finding> {
    let (tls, items) = signals(t, TlsItemKind::ProductMatch)?;
    let summary = match &tls.product {
        Some(p) => format!(
            "the certificate was issued by {p} ({})",
            tls.leaf_issuer.as_deref().unwrap_or("issuer unknown")
        ),
        None => items[0].message.clone(),
    };
    let mut f = with_items(t, Code::IL103, summary, &items);
    f.confidence = Confidence::High;
    Some(f)
}

/// IL102 — the chain is anchored only in a root installed locally, absent from the public
/// roots and not declared private. From the inside that is what inspection looks like, so it
/// is never a note: alone it leaves the path unverified (the catalogue's verdict), and it says
/// how to tell inspection from the organisation's own PKI.
pub(crate) fn local_anchor(t: &TargetEvidence) -> Option<Finding> {
    let (tls, items) = signals(t, TlsItemKind::LocalAnchorOnly)?;
    let mut f = with_items(t, Code::IL102, joined(&items), &items);
    if suspicious(tls) {
        f.confidence = tls.confidence;
    } else {
        f.confidence = Confidence::Medium;
        f.summary = format!("{}; nothing else in the chain points either way", f.summary);
        f.evidence.push(Evidence::Tls {
            message: format!(
                "to tell: run `interloper echo --listen 0.0.0.0:8443 --self-signed {host}` beside the server and check again with --echo https://{host}:8443/, or check from a machine outside; if the root is your organisation's own, declare it with --private-root FILE",
                host = host_of(&t.label)
            ),
        });
    }
    Some(f)
}

/// IL112 — this client does not trust the chain: the chain analysis found no path to any
/// root (its message names the issuer and whether it is a public CA or the server's own), or
/// requests were refused at the certificate. The refused requests are this finding's, never
/// a failure of the path (IL202).
pub(crate) fn untrusted_chain(t: &TargetEvidence, c: &Classified<'_>) -> Option<Finding> {
    // A chain the server sent incomplete is IL113's: its issuer is missing, not unknown, and
    // blaming a middlebox would send the user the wrong way.
    let items = || t.tls.iter().flat_map(|tls| &tls.items);
    if items().any(|i| i.kind == TlsItemKind::IncompleteChain) {
        return None;
    }
    let untrusted: Vec<&TlsItem> = items()
        .filter(|i| i.kind == TlsItemKind::Untrusted)
        .collect();
    let refused: Vec<_> = c
        .rows
        .iter()
        .filter(|(_, _, o)| *o == RequestOutcome::CertificateRefused)
        .collect();
    let why = match (untrusted.first(), refused.first()) {
        (Some(item), _) => item.message.clone(),
        // No chain analysis (the session was not recorded): the verifier's own words.
        (None, Some((_, r, _))) => r.error.as_ref().map_or_else(
            || "the certificate was refused".into(),
            |e| e.message.clone(),
        ),
        (None, None) => return None,
    };
    let product = t.tls.as_ref().and_then(|x| x.product.as_deref());
    let mut summary = match product {
        Some(p) => format!("{why}; its issuer names {p}"),
        None => why,
    };
    if !refused.is_empty() {
        summary.push_str(&format!(
            "; {} of {} requests stopped at the certificate (nothing was sent over it)",
            refused.len(),
            c.rows.len()
        ));
    }
    let mut f = with_items(t, Code::IL112, summary, &untrusted);
    // The chain is refused for certain; who issued it is read from names, unless a product
    // rule settles it.
    f.confidence = if product.is_some() {
        Confidence::High
    } else {
        Confidence::Medium
    };
    add_worst_requests(
        &mut f,
        refused.iter().map(|(a, r, _)| (*a, *r, r.phases.total_ms)),
    );
    Some(f)
}

/// IL104 — the key presented is not the pinned one.
pub(crate) fn pin_mismatch(t: &TargetEvidence) -> Option<Finding> {
    let (_, items) = signals(t, TlsItemKind::PinMismatch)?;
    let mut f = with_items(t, Code::IL104, joined(&items), &items);
    f.confidence = Confidence::High;
    Some(f)
}

/// IL113 — the server left a certificate out of its chain: what it sent stops short of a
/// root, at a certificate that names where its issuer can be downloaded. Browsers that fetch
/// it hide the fault; every other client fails.
pub(crate) fn incomplete_chain(t: &TargetEvidence) -> Option<Finding> {
    let (_, items) = signals(t, TlsItemKind::IncompleteChain)?;
    let summary = format!(
        "the server does not send the intermediate certificate its chain needs ({})",
        joined(&items).trim_start_matches("incomplete chain: ")
    );
    let mut f = with_items(t, Code::IL113, summary, &items);
    f.confidence = Confidence::High;
    Some(f)
}

/// IL105 — the leaf looks minted per connection.
pub(crate) fn minted_traits(t: &TargetEvidence) -> Option<Finding> {
    trait_only(t, TlsItemKind::MintedTraits, Code::IL105)
}

/// IL106 — less was negotiated than the server offers.
pub(crate) fn downgrade(t: &TargetEvidence) -> Option<Finding> {
    trait_only(t, TlsItemKind::Downgrade, Code::IL106)
}

/// IL105 and IL106: traits common on healthy servers too (a freshly issued certificate, a
/// different protocol). Nothing on a clean chain; notes unless the chain is suspicious.
fn trait_only(t: &TargetEvidence, kind: TlsItemKind, code: Code) -> Option<Finding> {
    let (tls, items) = signals(t, kind)?;
    if tls.status == TlsStatus::Clean {
        return None;
    }
    let mut f = with_items(t, code, joined(&items), &items);
    if suspicious(tls) {
        f.confidence = tls.confidence.min(Confidence::Medium);
    } else {
        f.severity = Severity::Info;
        f.confidence = Confidence::Low;
    }
    Some(f)
}

/// The chain analysis and its signals of `kind`, when there are any.
fn signals(t: &TargetEvidence, kind: TlsItemKind) -> Option<(&TlsEvidence, Vec<&TlsItem>)> {
    let tls = t.tls.as_ref()?;
    let items: Vec<&TlsItem> = tls.items.iter().filter(|i| i.kind == kind).collect();
    (!items.is_empty()).then_some((tls, items))
}

/// The chain analysis already decided interception is shown or likely.
fn suspicious(tls: &TlsEvidence) -> bool {
    matches!(
        tls.status,
        TlsStatus::Intercepted | TlsStatus::LikelyIntercepted
    )
}

fn joined(items: &[&TlsItem]) -> String {
    items
        .iter()
        .map(|i| i.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A finding with each signal as evidence.
fn with_items(t: &TargetEvidence, code: Code, summary: String, items: &[&TlsItem]) -> Finding {
    let mut f = finding(code, Some(&t.label), summary);
    for i in items {
        f.evidence.push(Evidence::Tls {
            message: i.message.clone(),
        });
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::WitnessEvidence;
    use crate::testing::{clean_asset, target};

    fn with_tls(status: TlsStatus, product: Option<&str>, kinds: &[TlsItemKind]) -> TargetEvidence {
        let mut t = target(vec![clean_asset("https://a.test/s/a.css", 3, 100)]);
        t.tls = Some(TlsEvidence {
            status,
            confidence: Confidence::High,
            product: product.map(str::to_string),
            leaf_subject: Some("CN=a.test".into()),
            leaf_issuer: Some("CN=FortiGate CA".into()),
            items: kinds
                .iter()
                .map(|k| TlsItem {
                    kind: *k,
                    message: format!("{k:?} seen"),
                })
                .collect(),
        });
        t
    }

    fn witness(random: bool, chain: bool) -> WitnessEvidence {
        WitnessEvidence {
            url: "https://w.test/".into(),
            client_random_matched: random,
            chain_matched: chain,
            client_ja4: Some("t13d_sent".into()),
            witness_ja4: Some("t13d_got".into()),
            witness_stack: None,
            server_ms: None,
            client_ms: None,
            samples: vec![],
        }
    }

    #[test]
    fn a_clean_chain_and_a_matching_witness_give_nothing() {
        let mut t = with_tls(TlsStatus::Clean, None, &[]);
        t.witness = Some(witness(true, true));
        for detect in [
            witness_proof,
            product_match,
            local_anchor,
            pin_mismatch,
            minted_traits,
            downgrade,
        ] {
            assert!(detect(&t).is_none());
        }
        let plain = target(vec![]);
        assert!(local_anchor(&plain).is_none() && witness_proof(&plain).is_none());
    }

    #[test]
    fn a_witness_mismatch_is_proof_naming_the_product() {
        let mut t = with_tls(TlsStatus::Intercepted, Some("FortiGate"), &[]);
        t.witness = Some(witness(false, true));
        let f = witness_proof(&t).expect("IL101");
        assert_eq!((f.code, f.severity), (Code::IL101, Severity::Critical));
        assert_eq!(f.confidence, Confidence::High);
        assert_eq!(
            f.summary,
            "TLS is terminated on the path by FortiGate: the witness received a different \
             ClientHello (client_random) than the client sent"
        );
        assert_eq!(
            f.evidence.len(),
            3,
            "the mismatch, the JA4s, the unknown stack"
        );
    }

    #[test]
    fn an_unnamed_box_is_named_by_the_hello_it_sent_upstream() {
        let mut t = with_tls(TlsStatus::Intercepted, None, &[]);
        let mut w = witness(false, false);
        w.witness_stack = Some("mitmproxy 11 (Python, OpenSSL 3.4)".into());
        t.witness = Some(w);
        let f = witness_proof(&t).expect("IL101");
        assert!(
            f.summary
                .starts_with("TLS is terminated on the path by a box whose upstream hello is mitmproxy 11 (Python, OpenSSL 3.4)'s:"),
            "{}",
            f.summary
        );
        let said = |e: &Evidence| matches!(e, Evidence::Witness { message } if message.starts_with("the hello that reached the server is mitmproxy 11"));
        assert!(f.evidence.iter().any(said), "{:?}", f.evidence);
        // The same hello with our own random says nothing about a stack.
        let mut t = with_tls(TlsStatus::Intercepted, None, &[]);
        let mut w = witness(true, false);
        w.witness_stack = Some("mitmproxy".into());
        t.witness = Some(w);
        assert!(
            !witness_proof(&t)
                .unwrap()
                .summary
                .contains("upstream hello")
        );
    }

    fn stalled() -> Finding {
        let mut f = finding(
            Code::IL201,
            Some(crate::testing::LABEL),
            "7 of 94 stalled".into(),
        );
        f.assets.push("https://a.test/s/a.css".into());
        f
    }

    #[test]
    fn stalls_and_a_local_root_from_one_vantage_point_are_likely_inspection() {
        let mut t = with_tls(
            TlsStatus::PrivatePkiUnknown,
            None,
            &[TlsItemKind::LocalAnchorOnly, TlsItemKind::MintedTraits],
        );
        t.label = crate::testing::LABEL.into();
        let f = likely_inspection(&t, &[stalled()]).expect("IL109");
        assert_eq!((f.code, f.confidence), (Code::IL109, Confidence::Medium));
        assert!(f.summary.contains("7 of 94 stalled"), "{}", f.summary);
        assert!(f.summary.contains("MintedTraits seen"), "{}", f.summary);
        assert_eq!(f.assets, ["https://a.test/s/a.css"]);
        let proof = |e: &Evidence| matches!(e, Evidence::Tls { message } if message.contains("interloper echo --listen"));
        assert!(f.evidence.iter().any(proof), "{:?}", f.evidence);
    }

    #[test]
    fn likely_inspection_needs_both_halves_and_no_witness_or_product() {
        let local = &[TlsItemKind::LocalAnchorOnly];
        let mut t = with_tls(TlsStatus::PrivatePkiUnknown, None, local);
        t.label = crate::testing::LABEL.into();
        // A private PKI with nothing stalling.
        assert!(likely_inspection(&t, &[]).is_none());
        // Stalls under a public chain.
        let mut public = with_tls(TlsStatus::Clean, None, &[]);
        public.label = t.label.clone();
        assert!(likely_inspection(&public, &[stalled()]).is_none());
        // A product is named: IL103 says more.
        let mut named = with_tls(TlsStatus::Intercepted, Some("FortiGate"), local);
        named.label = t.label.clone();
        assert!(likely_inspection(&named, &[stalled()]).is_none());
        // A witness answered: it decides.
        let mut witnessed = t.clone();
        witnessed.witness = Some(witness(true, true));
        assert!(likely_inspection(&witnessed, &[stalled()]).is_none());
        // Stalls of another target.
        let mut other = stalled();
        other.subject = Some("https://elsewhere/".into());
        assert!(likely_inspection(&t, &[other]).is_none());
    }

    #[test]
    fn host_of_a_label() {
        assert_eq!(host_of("https://app.example:8443/x"), "app.example");
        assert_eq!(host_of("https://[::1]:8443/"), "[::1]");
        assert_eq!(host_of("https://a.test/"), "a.test");
        assert_eq!(host_of(""), "SERVER");
    }

    #[test]
    fn a_product_issuer_is_il103_with_the_issuer() {
        let t = with_tls(
            TlsStatus::Intercepted,
            Some("FortiGate (Fortinet)"),
            &[TlsItemKind::ProductMatch],
        );
        let f = product_match(&t).expect("IL103");
        assert_eq!((f.code, f.severity), (Code::IL103, Severity::Critical));
        assert_eq!(
            f.summary,
            "the certificate was issued by FortiGate (Fortinet) (CN=FortiGate CA)"
        );
        let unnamed = with_tls(TlsStatus::Intercepted, None, &[TlsItemKind::ProductMatch]);
        assert_eq!(
            product_match(&unnamed).unwrap().summary,
            "ProductMatch seen"
        );
    }

    #[test]
    fn a_local_root_alone_is_a_warning_that_says_how_to_tell() {
        let t = with_tls(
            TlsStatus::PrivatePkiUnknown,
            None,
            &[TlsItemKind::LocalAnchorOnly],
        );
        let f = local_anchor(&t).expect("IL102");
        assert_eq!((f.code, f.severity), (Code::IL102, Severity::Warning));
        assert_eq!(f.confidence, Confidence::Medium);
        assert_eq!(
            f.summary,
            "LocalAnchorOnly seen; nothing else in the chain points either way"
        );
        let tell = |e: &Evidence| matches!(e, Evidence::Tls { message } if message.contains("interloper echo --listen") && message.contains("--private-root"));
        assert!(f.evidence.iter().any(tell), "{:?}", f.evidence);
        let t = with_tls(
            TlsStatus::Intercepted,
            None,
            &[TlsItemKind::LocalAnchorOnly],
        );
        let f = local_anchor(&t).expect("IL102");
        assert_eq!(
            (f.severity, f.confidence),
            (Severity::Warning, Confidence::High)
        );
        assert_eq!(f.summary, "LocalAnchorOnly seen");
        // A declared private root is no local-only anchor: nothing to say.
        assert!(local_anchor(&with_tls(TlsStatus::Clean, None, &[])).is_none());
    }

    fn refused(r: interloper_model::RequestRecord) -> interloper_model::RequestRecord {
        crate::testing::fail(
            r,
            interloper_model::ErrorKind::TlsCertificate,
            interloper_model::Phase::Tls,
        )
    }

    #[test]
    fn an_untrusted_chain_is_il112_with_its_refused_requests() {
        let mut t = with_tls(TlsStatus::Untrusted, None, &[TlsItemKind::Untrusted]);
        t.assets = vec![crate::testing::asset("https://a.test/", 2, 100, |_, r| {
            refused(r)
        })];
        let c = crate::classify::classify_target(&t, &crate::ThresholdConfig::default());
        let f = untrusted_chain(&t, &c).expect("IL112");
        assert_eq!(
            (f.code, f.severity, f.confidence),
            (Code::IL112, Severity::Error, Confidence::Medium)
        );
        assert_eq!(
            f.summary,
            "Untrusted seen; 2 of 2 requests stopped at the certificate (nothing was sent over it)"
        );
        assert_eq!(f.assets, ["https://a.test/"]);
        // The refused requests are not failures of the path.
        assert!(crate::detect::requests::failures(&t, &c).is_none());
        // A named product raises the confidence and is said.
        let mut named = t.clone();
        named.tls = with_tls(
            TlsStatus::Intercepted,
            Some("FortiGate"),
            &[TlsItemKind::Untrusted],
        )
        .tls;
        let f = untrusted_chain(&named, &c).expect("IL112");
        assert_eq!(f.confidence, Confidence::High);
        assert!(
            f.summary
                .starts_with("Untrusted seen; its issuer names FortiGate;"),
            "{}",
            f.summary
        );
        // Refused requests with no chain analysis still say what the verifier said.
        let mut bare = t.clone();
        bare.tls = None;
        let f = untrusted_chain(&bare, &c).expect("IL112");
        assert!(
            f.summary.starts_with("tls_certificate; 2 of 2"),
            "{}",
            f.summary
        );
        // A trusted chain and no refusal: nothing.
        let clean = with_tls(TlsStatus::Clean, None, &[]);
        let c = crate::classify::classify_target(&clean, &crate::ThresholdConfig::default());
        assert!(untrusted_chain(&clean, &c).is_none());
    }

    #[test]
    fn a_pin_mismatch_is_critical() {
        let t = with_tls(TlsStatus::Untrusted, None, &[TlsItemKind::PinMismatch]);
        let f = pin_mismatch(&t).expect("IL104");
        assert_eq!((f.code, f.severity), (Code::IL104, Severity::Critical));
        assert_eq!(f.confidence, Confidence::High);
        assert_eq!(f.summary, "PinMismatch seen");
    }

    #[test]
    fn traits_are_warnings_only_on_a_suspicious_chain() {
        for (detect, kind, code) in [
            (
                minted_traits as fn(&TargetEvidence) -> Option<Finding>,
                TlsItemKind::MintedTraits,
                Code::IL105,
            ),
            (downgrade, TlsItemKind::Downgrade, Code::IL106),
        ] {
            assert!(detect(&with_tls(TlsStatus::Clean, None, &[kind])).is_none());
            let f = detect(&with_tls(TlsStatus::LikelyIntercepted, None, &[kind, kind]))
                .expect("finding");
            assert_eq!((f.code, f.severity), (code, Severity::Warning));
            assert_eq!(f.confidence, Confidence::Medium);
            assert_eq!(f.summary, format!("{kind:?} seen; {kind:?} seen"));
            let f = detect(&with_tls(TlsStatus::Untrusted, None, &[kind])).expect("note");
            assert_eq!(
                (f.severity, f.confidence),
                (Severity::Info, Confidence::Low)
            );
        }
    }
}
