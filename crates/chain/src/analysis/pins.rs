//! What the user said to expect: `--expect-pin` keys and the `--expect-cert` leaf.

use super::signal::{Signal, SignalKind, SignalStrength};
use crate::facts::{CertFacts, sha256_hex};
use crate::pins::Pin;

/// Any certificate of the chain carrying any pinned key passes, as curl's `--pinnedpubkey`.
/// None when no pin was given.
pub(super) fn pin_signal(pins: &[Pin], certificates: &[CertFacts]) -> Option<Signal> {
    if pins.is_empty() {
        return None;
    }
    let pinned: Vec<String> = pins.iter().map(Pin::to_string).collect();
    let hit = certificates.iter().find(|c| {
        c.spki_pin
            .as_ref()
            .is_some_and(|p| pinned.iter().any(|pin| pin == p))
    });
    Some(match hit {
        Some(c) => Signal::new(
            SignalKind::PinMatch,
            SignalStrength::Info,
            format!("certificate #{} ({}) has a pinned key", c.index, c.label()),
            Some(c.index),
        ),
        None => Signal::new(
            SignalKind::PinMismatch,
            SignalStrength::Strong,
            format!(
                "no certificate of the chain has a pinned key (leaf key {})",
                certificates
                    .first()
                    .and_then(|l| l.spki_pin.as_deref())
                    .unwrap_or_default()
            ),
            None,
        ),
    })
}

/// The presented leaf (DER) against `--expect-cert`. None when none was given.
pub(super) fn expected_cert_signal(expected: Option<&[u8]>, leaf: Option<&[u8]>) -> Option<Signal> {
    let expected = expected?;
    Some(if leaf == Some(expected) {
        Signal::new(
            SignalKind::ExpectedCertMatch,
            SignalStrength::Info,
            "the leaf is the expected certificate",
            Some(0),
        )
    } else {
        Signal::new(
            SignalKind::ExpectedCertMismatch,
            SignalStrength::Strong,
            format!(
                "the leaf is not the expected certificate (sha256 {})",
                sha256_hex(expected)
            ),
            Some(0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{LeafOpts, ca, leaf};

    fn pin_of(c: &CertFacts) -> Pin {
        Pin::parse(c.spki_pin.as_deref().unwrap()).unwrap()
    }

    fn chain() -> Vec<CertFacts> {
        let root = ca("Root", None);
        let l = leaf("www.example.com", &root, LeafOpts::default());
        vec![
            CertFacts::from_der(0, &l),
            CertFacts::from_der(1, &root.der),
        ]
    }

    #[test]
    fn no_pins_no_signal() {
        assert_eq!(pin_signal(&[], &chain()), None);
    }

    #[test]
    fn any_pinned_certificate_of_the_chain_matches() {
        let certs = chain();
        let pins = [Pin::of_spki(b"other"), pin_of(&certs[1])];
        let s = pin_signal(&pins, &certs).unwrap();
        assert_eq!(
            (s.kind, s.strength, s.certificate),
            (SignalKind::PinMatch, SignalStrength::Info, Some(1))
        );
        assert_eq!(s.message, "certificate #1 (Root) has a pinned key");
    }

    #[test]
    fn a_mismatch_names_the_leaf_key() {
        let certs = chain();
        let s = pin_signal(&[Pin::of_spki(b"other")], &certs).unwrap();
        assert_eq!(
            (s.kind, s.strength, s.certificate),
            (SignalKind::PinMismatch, SignalStrength::Strong, None)
        );
        let leaf_pin = certs[0].spki_pin.as_deref().unwrap();
        assert_eq!(
            s.message,
            format!("no certificate of the chain has a pinned key (leaf key {leaf_pin})")
        );
        // An unparsed leaf has no key to name.
        let junk = [CertFacts::from_der(0, b"junk")];
        let s = pin_signal(&[Pin::of_spki(b"other")], &junk).unwrap();
        assert!(s.message.ends_with("(leaf key )"));
    }

    #[test]
    fn the_expected_certificate_is_compared_byte_for_byte() {
        assert_eq!(expected_cert_signal(None, Some(b"leaf")), None);
        let s = expected_cert_signal(Some(b"leaf"), Some(b"leaf")).unwrap();
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::ExpectedCertMatch, SignalStrength::Info)
        );
        let s = expected_cert_signal(Some(b"leaf"), Some(b"other")).unwrap();
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::ExpectedCertMismatch, SignalStrength::Strong)
        );
        assert_eq!(
            s.message,
            format!(
                "the leaf is not the expected certificate (sha256 {})",
                sha256_hex(b"leaf")
            )
        );
        let s = expected_cert_signal(Some(b"leaf"), None).unwrap();
        assert_eq!(s.kind, SignalKind::ExpectedCertMismatch);
    }
}
