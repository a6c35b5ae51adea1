//! What the witness (a server we run behind the same path) saw against what we sent and got.

use super::input::WitnessComparison;
use super::signal::{Signal, SignalKind, SignalStrength};

/// Each difference is proof of interception; with no difference and at least one comparison
/// made, the path to the witness is clean.
pub(super) fn witness_signals(witness: &WitnessComparison) -> Vec<Signal> {
    let mut signals = Vec::new();
    if witness.client_random_equal == Some(false) {
        signals.push(Signal::new(
            SignalKind::WitnessClientRandomDiffers,
            SignalStrength::Proof,
            "the witness received a different ClientHello random: something on the path terminated our TLS",
            None,
        ));
    }
    if witness.chain_equal == Some(false) {
        signals.push(Signal::new(
            SignalKind::WitnessChainDiffers,
            SignalStrength::Proof,
            "the witness served a different chain from the one we received",
            None,
        ));
    }
    let compared = witness.client_random_equal == Some(true) || witness.chain_equal == Some(true);
    if signals.is_empty() && compared {
        signals.push(Signal::new(
            SignalKind::WitnessMatches,
            SignalStrength::Info,
            "the witness saw our ClientHello and served our chain: the path to that port is clean",
            None,
        ));
    }
    signals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(client_random_equal: Option<bool>, chain_equal: Option<bool>) -> Vec<SignalKind> {
        witness_signals(&WitnessComparison {
            client_random_equal,
            chain_equal,
        })
        .iter()
        .map(|s| s.kind)
        .collect()
    }

    #[test]
    fn every_difference_is_proof() {
        use SignalKind::{WitnessChainDiffers, WitnessClientRandomDiffers};
        assert_eq!(kinds(Some(false), None), [WitnessClientRandomDiffers]);
        assert_eq!(kinds(Some(true), Some(false)), [WitnessChainDiffers]);
        assert_eq!(
            kinds(Some(false), Some(false)),
            [WitnessClientRandomDiffers, WitnessChainDiffers]
        );
        let s = witness_signals(&WitnessComparison {
            client_random_equal: Some(false),
            chain_equal: None,
        });
        assert_eq!(s[0].strength, SignalStrength::Proof);
    }

    #[test]
    fn one_equal_comparison_and_no_difference_is_a_match() {
        assert_eq!(kinds(Some(true), None), [SignalKind::WitnessMatches]);
        assert_eq!(kinds(None, Some(true)), [SignalKind::WitnessMatches]);
        assert_eq!(kinds(Some(true), Some(true)), [SignalKind::WitnessMatches]);
    }

    #[test]
    fn no_comparison_says_nothing() {
        assert_eq!(kinds(None, None), []);
    }
}
