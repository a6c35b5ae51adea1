//! Evidence gathering and the verdict. Each detector lives in its own module and returns the
//! signals it saw; [`analyse`] runs them in the documented order and `verdict::decide` applies
//! the rules of docs/tls-verdicts.md (the verdict's `rule` field names the one that decided).

mod downgrade;
pub(crate) mod incomplete;
mod input;
mod intake;
mod minted;
mod pins;
mod product;
mod reference;
mod signal;
mod trust;
mod verdict;
mod witness;

use serde::Serialize;

pub use input::{ChainInput, Negotiated, Reference, WitnessComparison};
pub use signal::{Signal, SignalKind, SignalStrength};
pub use verdict::{NamedProduct, PathConfidence, PathStatus, PathVerdict};

use crate::facts::CertFacts;
use crate::products::ProductMatch;
use crate::trust::{TrustResult, TrustStatus, evaluate};

/// The result of [`analyse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Facts of each presented certificate, leaf first.
    pub certificates: Vec<CertFacts>,
    /// Trust classification.
    pub trust: TrustResult,
    /// Products recognised in the chain.
    pub products: Vec<ProductMatch>,
    /// Signals, in the order the detectors ran (truncation/unparsed, trust, products, leaf
    /// traits, reference, pins, downgrade, witness). JSON `evidence`.
    pub evidence: Vec<Signal>,
    /// Verdict.
    pub verdict: PathVerdict,
}

/// Analyses a presented chain. Never panics on any input bytes; work is bounded by the chain cap
/// (16 intermediates) and the certificate size cap.
pub fn analyse(input: &ChainInput<'_>) -> ChainReport {
    let (presented, truncated) = intake::cap_chain(&input.presented);
    let certificates: Vec<CertFacts> = presented
        .iter()
        .enumerate()
        .map(|(i, der)| CertFacts::from_der(i, der))
        .collect();
    let mut signals: Vec<Signal> = truncated.into_iter().collect();
    signals.extend(intake::unparsed_signals(&certificates));

    let local = trust::local_roots(input.local_roots, &[input.extra_roots, input.private_roots]);
    let trust = evaluate(
        presented,
        &input.server_name,
        input.now,
        input.public_roots,
        &local,
    );
    signals.push(trust::trust_signal(
        &trust,
        &input.server_name,
        &certificates,
        input.public_roots,
    ));

    let products = input.products.match_chain(&certificates);
    // A chain that did not verify and names no product may only lack what the server left
    // out (IL113).
    if trust.status == crate::trust::TrustStatus::Untrusted && products.is_empty() {
        signals.extend(incomplete::incomplete_chain_signal(
            presented,
            &[input.public_roots, &*local],
        ));
    }
    signals.extend(product::product_signals(&products));
    signals.extend(product::not_nameable_signal(
        input.products,
        &products,
        trust.status,
    ));

    if let Some(leaf) = certificates.first().filter(|c| c.parsed && !c.is_ca) {
        signals.extend(leaf_signals(input, leaf, &trust));
        let ca_pins = certificates
            .iter()
            .skip(1)
            .filter(|c| c.is_ca)
            .filter_map(|c| c.spki_pin.as_deref())
            .chain(trust.anchor.as_ref().map(|a| a.spki_sha256.as_str()));
        let local_anchor = trust
            .anchor
            .as_ref()
            .filter(|_| trust.status == TrustStatus::AnchoredLocalOnly)
            .map(|a| a.spki_sha256.as_str());
        signals.extend(minted::issuer_key_signal(leaf, ca_pins, local_anchor));
    }

    signals.extend(pins::pin_signal(&input.pins, &certificates));
    signals.extend(pins::expected_cert_signal(
        input.expect_cert.as_deref(),
        presented.first().map(Vec::as_slice),
    ));
    if let Some(reference) = &input.reference {
        signals.extend(downgrade::downgrade_signals(
            &input.negotiated,
            &reference.negotiated,
        ));
    }
    if let Some(witness) = &input.witness {
        signals.extend(witness::witness_signals(witness));
    }

    let verdict = verdict::decide(&trust, &products, &signals);
    ChainReport {
        certificates,
        trust,
        products,
        evidence: signals,
        verdict,
    }
}

/// Minted-certificate traits of a parsed, non-CA leaf, then the comparison with the reference
/// leaf.
fn leaf_signals(input: &ChainInput<'_>, leaf: &CertFacts, trust: &TrustResult) -> Vec<Signal> {
    let reference_leaf = reference::reference_leaf(input.reference.as_ref());
    let expectation = minted::CtExpectation {
        trust: trust.status,
        public_roots_builtin: input.public_roots.is_builtin(),
        server_name: &input.server_name,
    };
    let mut signals = vec![minted::sct_signal(
        leaf,
        reference_leaf.as_ref(),
        expectation,
    )];
    if let Some(validity) = leaf.validity {
        signals.extend(minted::fresh_signal(validity, input.now));
        signals.extend(minted::short_life_signal(validity));
    }
    if let Some(reference_leaf) = &reference_leaf {
        signals.extend(reference::reference_signals(
            leaf,
            reference_leaf,
            trust.status,
        ));
    }
    signals
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::trust::{PathCheck, TrustResult, TrustStatus, UntrustedReason};

    /// A trust result with the given classification and nothing else: enough for the detectors
    /// and rules that only read the status and reason.
    pub(crate) fn trust_result(
        status: TrustStatus,
        reason: Option<UntrustedReason>,
    ) -> TrustResult {
        let check = PathCheck {
            anchors: 0,
            ok: false,
            anchor: None,
            error: None,
            detail: None,
        };
        TrustResult {
            status,
            reason,
            anchor: None,
            public: check.clone(),
            local: check,
            name_ok: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::ProductDb;
    use crate::test_support::{LeafOpts, ca, leaf, now, roots};
    use crate::trust::Roots;

    fn kinds(report: &ChainReport) -> Vec<SignalKind> {
        report.evidence.iter().map(|s| s.kind).collect()
    }

    /// The detectors' signals come out in the documented order.
    #[test]
    fn signals_follow_the_detector_order() {
        let (public, corp) = (ca("Public Root", None), ca("Corp Root", None));
        let genuine = leaf("www.example.com", &public, LeafOpts::default());
        let minted = leaf(
            "www.example.com",
            &corp,
            LeafOpts {
                scts: 0,
                age: time::Duration::minutes(5),
                life: time::Duration::days(2),
                ed25519: true,
            },
        );
        let (public_roots, local_roots, db) =
            (roots(&[&public]), roots(&[&corp]), ProductDb::builtin());
        let mut input = ChainInput::new(
            vec![minted, b"junk".to_vec()],
            "www.example.com",
            now(),
            &public_roots,
            &local_roots,
            &db,
        );
        input.expect_cert = Some(genuine.clone());
        input.reference = Some(Reference {
            chain: vec![genuine],
            negotiated: Negotiated {
                tls_version: Some("TLSv1.3".into()),
                alpn: Some("h2".into()),
            },
        });
        input.witness = Some(WitnessComparison {
            client_random_equal: Some(true),
            chain_equal: None,
        });
        let report = analyse(&input);
        assert_eq!(
            kinds(&report),
            [
                SignalKind::UnparsedCertificate,
                SignalKind::AnchoredLocalOnly,
                SignalKind::ProductNotNameable,
                SignalKind::NoEmbeddedSct,
                SignalKind::FreshlyIssued,
                SignalKind::ShortLived,
                SignalKind::KeyTypeDiffers,
                SignalKind::IssuerDiffers,
                SignalKind::ExpectedCertMismatch,
                SignalKind::AlpnDowngrade,
                SignalKind::WitnessMatches,
            ]
        );
        assert_eq!(report.verdict.rule, "pin-mismatch-local");
    }

    #[test]
    fn a_ca_as_leaf_gets_no_leaf_traits() {
        let root = ca("Root", None);
        let (public_roots, db) = (Roots::webpki(), ProductDb::builtin());
        let input = ChainInput::new(
            vec![root.der.clone()],
            "www.example.com",
            now(),
            &public_roots,
            &public_roots,
            &db,
        );
        assert_eq!(kinds(&analyse(&input)), [SignalKind::Untrusted]);
    }
}
