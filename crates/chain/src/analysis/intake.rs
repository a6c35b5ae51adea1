//! What was presented before any trust question: the chain cap and certificates that do not
//! parse.

use super::signal::{Signal, SignalKind, SignalStrength};
use crate::facts::CertFacts;
use crate::trust::MAX_CHAIN;

/// The part of `presented` that is analysed (leaf + [`MAX_CHAIN`]), and a signal when more was
/// presented, so the work stays bounded whatever a server sends.
pub(super) fn cap_chain(presented: &[Vec<u8>]) -> (&[Vec<u8>], Option<Signal>) {
    let kept = &presented[..presented.len().min(MAX_CHAIN + 1)];
    let truncated = (presented.len() > kept.len()).then(|| {
        Signal::new(
            SignalKind::ChainTruncated,
            SignalStrength::Info,
            format!(
                "{} certificates presented; only the first {} analysed",
                presented.len(),
                kept.len()
            ),
            None,
        )
    });
    (kept, truncated)
}

/// One signal per certificate that did not parse.
pub(super) fn unparsed_signals(certificates: &[CertFacts]) -> Vec<Signal> {
    certificates
        .iter()
        .filter(|c| !c.parsed)
        .map(|c| {
            Signal::new(
                SignalKind::UnparsedCertificate,
                SignalStrength::Info,
                format!(
                    "certificate #{} ({} bytes) is unparsed: {}",
                    c.index,
                    c.der_len,
                    c.parse_error.as_deref().unwrap_or("")
                ),
                Some(c.index),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_within_the_cap_is_kept_whole() {
        let chain = vec![vec![1u8]; MAX_CHAIN + 1];
        let (kept, signal) = cap_chain(&chain);
        assert_eq!(kept.len(), MAX_CHAIN + 1);
        assert_eq!(signal, None);
        assert_eq!(cap_chain(&[]).0.len(), 0);
    }

    #[test]
    fn a_longer_chain_is_cut_and_says_so() {
        let chain = vec![vec![1u8]; 40];
        let (kept, signal) = cap_chain(&chain);
        assert_eq!(kept.len(), 17);
        let signal = signal.unwrap();
        assert_eq!(signal.kind, SignalKind::ChainTruncated);
        assert_eq!(
            signal.message,
            "40 certificates presented; only the first 17 analysed"
        );
    }

    #[test]
    fn each_unparsed_certificate_is_named() {
        let certs = [
            CertFacts::from_der(0, b"junk"),
            CertFacts::from_der(1, &crate::test_support::ca("Root", None).der),
            CertFacts::from_der(2, b""),
        ];
        let signals = unparsed_signals(&certs);
        let indexes: Vec<_> = signals.iter().map(|s| s.certificate).collect();
        assert_eq!(indexes, [Some(0), Some(2)]);
        assert!(
            signals[0]
                .message
                .starts_with("certificate #0 (4 bytes) is unparsed: ")
        );
        assert!(
            signals
                .iter()
                .all(|s| s.kind == SignalKind::UnparsedCertificate)
        );
    }
}
