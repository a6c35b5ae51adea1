//! This run's negotiated parameters against the reference run's.

use super::input::Negotiated;
use super::signal::{Signal, SignalKind, SignalStrength};

/// ALPN and TLS version downgrades, in that order.
pub(super) fn downgrade_signals(observed: &Negotiated, reference: &Negotiated) -> Vec<Signal> {
    alpn_downgrade(observed, reference)
        .into_iter()
        .chain(version_downgrade(observed, reference))
        .collect()
}

/// A box that speaks only HTTP/1.1 to the client loses the reference's h2.
fn alpn_downgrade(observed: &Negotiated, reference: &Negotiated) -> Option<Signal> {
    let observed = observed.alpn.as_deref();
    (reference.alpn.as_deref() == Some("h2") && observed != Some("h2")).then(|| {
        Signal::new(
            SignalKind::AlpnDowngrade,
            SignalStrength::Strong,
            format!(
                "ALPN fell from h2 (reference) to {}",
                observed.unwrap_or("none")
            ),
            None,
        )
    })
}

/// Only versions both sides name in a form [`version_rank`] reads are compared.
fn version_downgrade(observed: &Negotiated, reference: &Negotiated) -> Option<Signal> {
    let observed = observed.tls_version.as_deref()?;
    let reference = reference.tls_version.as_deref()?;
    (version_rank(observed)? < version_rank(reference)?).then(|| {
        Signal::new(
            SignalKind::TlsVersionDowngrade,
            SignalStrength::Strong,
            format!("TLS version fell from {reference} (reference) to {observed}"),
            None,
        )
    })
}

/// Orders the spellings the probe and users write: "TLSv1.3", "TLS 1.3", "tls1_3", "1.3", "SSLv3".
fn version_rank(version: &str) -> Option<u8> {
    let v = version.to_ascii_lowercase().replace(['v', ' ', '_'], "");
    let v = v.trim_start_matches("tls").trim_start_matches("ssl");
    match v {
        "1.3" | "13" => Some(4),
        "1.2" | "12" => Some(3),
        "1.1" | "11" => Some(2),
        "1.0" | "10" | "1" => Some(1),
        "3.0" | "3" => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiated(tls_version: Option<&str>, alpn: Option<&str>) -> Negotiated {
        Negotiated {
            tls_version: tls_version.map(str::to_owned),
            alpn: alpn.map(str::to_owned),
        }
    }

    fn kinds(signals: &[Signal]) -> Vec<SignalKind> {
        signals.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn losing_h2_is_a_downgrade() {
        let reference = negotiated(None, Some("h2"));
        let s = downgrade_signals(&negotiated(None, Some("http/1.1")), &reference);
        assert_eq!(kinds(&s), [SignalKind::AlpnDowngrade]);
        assert_eq!(s[0].strength, SignalStrength::Strong);
        assert_eq!(s[0].message, "ALPN fell from h2 (reference) to http/1.1");
        let s = downgrade_signals(&negotiated(None, None), &reference);
        assert_eq!(s[0].message, "ALPN fell from h2 (reference) to none");
        assert_eq!(
            downgrade_signals(&negotiated(None, Some("h2")), &reference),
            []
        );
        // Without h2 in the reference there is nothing to lose.
        let http1 = negotiated(None, Some("http/1.1"));
        assert_eq!(downgrade_signals(&negotiated(None, None), &http1), []);
    }

    #[test]
    fn a_lower_tls_version_is_a_downgrade() {
        let s = downgrade_signals(
            &negotiated(Some("TLSv1.2"), None),
            &negotiated(Some("TLS 1.3"), None),
        );
        assert_eq!(kinds(&s), [SignalKind::TlsVersionDowngrade]);
        assert_eq!(
            s[0].message,
            "TLS version fell from TLS 1.3 (reference) to TLSv1.2"
        );
        for (observed, reference) in [
            ("1.3", "TLSv1.2"),
            ("TLSv1.3", "TLSv1.3"),
            ("QUIC", "TLSv1.3"),
            ("TLSv1.2", "unknown"),
        ] {
            let s = downgrade_signals(
                &negotiated(Some(observed), None),
                &negotiated(Some(reference), None),
            );
            assert_eq!(s, [], "{observed} vs {reference}");
        }
        assert_eq!(
            downgrade_signals(&negotiated(None, None), &negotiated(Some("1.3"), None)),
            []
        );
    }

    #[test]
    fn both_downgrades_are_reported_alpn_first() {
        let s = downgrade_signals(
            &negotiated(Some("TLSv1.2"), Some("http/1.1")),
            &negotiated(Some("TLSv1.3"), Some("h2")),
        );
        assert_eq!(
            kinds(&s),
            [SignalKind::AlpnDowngrade, SignalKind::TlsVersionDowngrade]
        );
    }

    #[test]
    fn version_spellings() {
        for (spelling, rank) in [
            ("TLSv1.3", 4),
            ("tls 1.3", 4),
            ("1.3", 4),
            ("TLS1_2", 3),
            ("TLSv1.1", 2),
            ("TLSv1", 1),
            ("SSLv3", 0),
        ] {
            assert_eq!(version_rank(spelling), Some(rank), "{spelling}");
        }
        assert_eq!(version_rank("h2"), None);
        assert_eq!(version_rank(""), None);
    }
}
