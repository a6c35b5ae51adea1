//! The leaf against a reference leaf: a clean run, or a sibling instance of the same app whose
//! chain is publicly anchored (interloper check passes that one in).

use super::input::Reference;
use super::signal::{Signal, SignalKind, SignalStrength};
use crate::facts::CertFacts;
use crate::trust::TrustStatus;

/// The facts of the reference leaf, when there is one that parses.
pub(super) fn reference_leaf(reference: Option<&Reference>) -> Option<CertFacts> {
    reference
        .and_then(|r| r.chain.first())
        .map(|der| CertFacts::from_der(0, der))
        .filter(|c| c.parsed)
}

/// Identical leaves say so; otherwise a different key type and a different issuer are each a
/// signal.
pub(super) fn reference_signals(
    leaf: &CertFacts,
    reference: &CertFacts,
    trust: TrustStatus,
) -> Vec<Signal> {
    if reference.sha256 == leaf.sha256 {
        return vec![Signal::new(
            SignalKind::MatchesReference,
            SignalStrength::Info,
            "the leaf is identical to the reference leaf",
            Some(0),
        )];
    }
    let strength = difference_weight(trust);
    key_type_signal(leaf, reference, strength)
        .into_iter()
        .chain(issuer_signal(leaf, reference, strength))
        .collect()
}

/// With a public anchor a different key type or issuer is common (dual ECDSA/RSA certificates,
/// CDNs with several CAs), so it only weighs there as weak.
fn difference_weight(trust: TrustStatus) -> SignalStrength {
    match trust {
        // The user vouches for a declared private root as everyone vouches for a public one.
        TrustStatus::AnchoredPublic | TrustStatus::AnchoredPrivate => SignalStrength::Weak,
        TrustStatus::AnchoredLocalOnly | TrustStatus::Untrusted => SignalStrength::Strong,
    }
}

fn key_type_signal(
    leaf: &CertFacts,
    reference: &CertFacts,
    strength: SignalStrength,
) -> Option<Signal> {
    let (ours, theirs) = (leaf.key.as_ref()?, reference.key.as_ref()?);
    (ours != theirs).then(|| {
        Signal::new(
            SignalKind::KeyTypeDiffers,
            strength,
            format!(
                "the leaf key is {}, the reference leaf key is {}",
                ours.describe(),
                theirs.describe()
            ),
            Some(0),
        )
    })
}

fn issuer_signal(
    leaf: &CertFacts,
    reference: &CertFacts,
    strength: SignalStrength,
) -> Option<Signal> {
    (leaf.issuer != reference.issuer).then(|| {
        Signal::new(
            SignalKind::IssuerDiffers,
            strength,
            format!(
                "the leaf is issued by {}, the reference leaf by {}",
                leaf.issuer.as_deref().unwrap_or("?"),
                reference.issuer.as_deref().unwrap_or("?")
            ),
            Some(0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{LeafOpts, ca, leaf};

    fn facts(der: &[u8]) -> CertFacts {
        CertFacts::from_der(0, der)
    }

    fn kinds_and_strengths(signals: &[Signal]) -> Vec<(SignalKind, SignalStrength)> {
        signals.iter().map(|s| (s.kind, s.strength)).collect()
    }

    #[test]
    fn only_a_parsed_reference_leaf_counts() {
        let der = leaf("www.example.com", &ca("Root", None), LeafOpts::default());
        let good = Reference {
            chain: vec![der.clone()],
            ..Reference::default()
        };
        assert_eq!(
            reference_leaf(Some(&good)).unwrap().sha256,
            facts(&der).sha256
        );
        let junk = Reference {
            chain: vec![b"junk".to_vec()],
            ..Reference::default()
        };
        assert_eq!(reference_leaf(Some(&junk)), None);
        assert_eq!(reference_leaf(Some(&Reference::default())), None);
        assert_eq!(reference_leaf(None), None);
    }

    #[test]
    fn an_identical_leaf_is_context_only() {
        let l = facts(&leaf(
            "www.example.com",
            &ca("Root", None),
            LeafOpts::default(),
        ));
        let signals = reference_signals(&l, &l, TrustStatus::AnchoredLocalOnly);
        assert_eq!(
            kinds_and_strengths(&signals),
            [(SignalKind::MatchesReference, SignalStrength::Info)]
        );
    }

    #[test]
    fn another_key_type_and_issuer_are_strong_unless_publicly_anchored() {
        let genuine = facts(&leaf(
            "www.example.com",
            &ca("Public Root", None),
            LeafOpts::default(),
        ));
        let minted = facts(&leaf(
            "www.example.com",
            &ca("Box Root", None),
            LeafOpts {
                ed25519: true,
                ..LeafOpts::default()
            },
        ));
        let local = reference_signals(&minted, &genuine, TrustStatus::AnchoredLocalOnly);
        assert_eq!(
            kinds_and_strengths(&local),
            [
                (SignalKind::KeyTypeDiffers, SignalStrength::Strong),
                (SignalKind::IssuerDiffers, SignalStrength::Strong)
            ]
        );
        assert_eq!(
            local[0].message,
            "the leaf key is Ed25519 256, the reference leaf key is EC P-256"
        );
        assert_eq!(
            local[1].message,
            "the leaf is issued by CN=Box Root, the reference leaf by CN=Public Root"
        );
        let public = reference_signals(&minted, &genuine, TrustStatus::AnchoredPublic);
        assert!(public.iter().all(|s| s.strength == SignalStrength::Weak));
    }

    #[test]
    fn a_reissued_leaf_with_the_same_key_type_and_issuer_adds_nothing() {
        let root = ca("Root", None);
        let a = facts(&leaf("www.example.com", &root, LeafOpts::default()));
        let b = facts(&leaf("www.example.com", &root, LeafOpts::default()));
        assert_eq!(reference_signals(&a, &b, TrustStatus::Untrusted), []);
    }
}
