//! Traits of a leaf minted on the fly by an interception box: no embedded SCT, issued minutes
//! ago, a lifetime of days.

use time::{Duration, OffsetDateTime};

use super::signal::{Signal, SignalKind, SignalStrength};
use crate::facts::CertFacts;
use crate::trust::TrustStatus;

/// "Issued minutes or days ago": interception boxes mint on first use, so a leaf this young on a
/// site that is not new is a (weak) sign.
const FRESH: Duration = Duration::hours(72);
/// A lifetime this short is unusual outside minting boxes and ACME short-lived profiles.
const SHORT_LIFE: Duration = Duration::days(7);

/// What decides whether a leaf is expected to carry SCTs.
#[derive(Debug, Clone, Copy)]
pub(super) struct CtExpectation<'a> {
    /// The trust classification of the chain.
    pub trust: TrustStatus,
    /// The public set is Mozilla's (a replacement set, e.g. a test CA, logs nothing).
    pub public_roots_builtin: bool,
    /// The name we connected to.
    pub server_name: &'a str,
}

/// Whether the leaf carries embedded SCTs, and how much their absence weighs.
pub(super) fn sct_signal(
    leaf: &CertFacts,
    reference_leaf: Option<&CertFacts>,
    expectation: CtExpectation<'_>,
) -> Signal {
    if leaf.sct_count > 0 {
        return Signal::new(
            SignalKind::SctPresent,
            SignalStrength::Info,
            format!("the leaf carries {} embedded SCTs", leaf.sct_count),
            Some(0),
        );
    }
    let reference_scts = reference_leaf.map_or(0, |r| r.sct_count);
    let (strength, why) = missing_sct_weight(reference_scts, expectation);
    Signal::new(
        SignalKind::NoEmbeddedSct,
        strength,
        format!("the leaf carries no embedded SCT{why}"),
        Some(0),
    )
}

/// The weight of a missing SCT list and the end of the sentence that says why.
fn missing_sct_weight(
    reference_scts: u32,
    expectation: CtExpectation<'_>,
) -> (SignalStrength, String) {
    if reference_scts > 0 {
        return (
            SignalStrength::Strong,
            format!("; the reference leaf carries {reference_scts}"),
        );
    }
    let name = expectation.server_name;
    match expectation.trust {
        TrustStatus::AnchoredPublic if expectation.public_roots_builtin => (
            SignalStrength::Weak,
            " although the chain is publicly anchored (SCTs may also come in the handshake)"
                .to_owned(),
        ),
        // A test or replacement public set, or the user's own PKI: no CT expectation.
        TrustStatus::AnchoredPublic => (SignalStrength::Info, String::new()),
        TrustStatus::AnchoredPrivate => (
            SignalStrength::Info,
            " (normal under a private root you declared)".to_owned(),
        ),
        TrustStatus::AnchoredLocalOnly | TrustStatus::Untrusted if looks_internal(name) => (
            SignalStrength::Info,
            " (normal for an internal name)".to_owned(),
        ),
        TrustStatus::AnchoredLocalOnly | TrustStatus::Untrusted => (
            SignalStrength::Weak,
            format!(" although {name} looks like a public web name"),
        ),
    }
}

/// Names that belong to an internal network: a private PKI for them is normal, so a missing SCT
/// says nothing there.
pub(super) fn looks_internal(name: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    n.parse::<std::net::IpAddr>().is_ok()
        || !n.contains('.')
        || [
            ".local",
            ".internal",
            ".lan",
            ".corp",
            ".home.arpa",
            ".localhost",
            ".test",
            ".intranet",
            ".private",
        ]
        .iter()
        .any(|s| n.ends_with(s))
}

/// A leaf issued within [`FRESH`] of `now`. `validity` is (notBefore, notAfter).
pub(super) fn fresh_signal(
    validity: (OffsetDateTime, OffsetDateTime),
    now: OffsetDateTime,
) -> Option<Signal> {
    let age = now - validity.0;
    (age >= Duration::ZERO && age <= FRESH).then(|| {
        Signal::new(
            SignalKind::FreshlyIssued,
            SignalStrength::Weak,
            format!("the leaf was issued {} minutes ago", age.whole_minutes()),
            Some(0),
        )
    })
}

/// A leaf that lives [`SHORT_LIFE`] or less. `validity` is (notBefore, notAfter).
pub(super) fn short_life_signal(validity: (OffsetDateTime, OffsetDateTime)) -> Option<Signal> {
    let life = validity.1 - validity.0;
    (life <= SHORT_LIFE).then(|| {
        Signal::new(
            SignalKind::ShortLived,
            SignalStrength::Weak,
            format!("the leaf lives {} hours", life.whole_hours()),
            Some(0),
        )
    })
}

/// A leaf whose public key is the key of a CA in its chain (presented, or the anchor). A CA
/// issuing for its own key pair is not how any PKI works; minting boxes do it for every leaf
/// (mitmproxy, Squid's ssl-bump: one key for the CA and all leaves, so no key is generated per
/// site).
///
/// Strong when that CA is `local_anchor`, the root only this machine trusts that the chain
/// ends in: a root installed on the machine certifying its own key for a site is the minting
/// box's habit, and an internal PKI (AD CS, step-ca, Vault, mkcert) never issues that way. Weak
/// otherwise (an intermediate or a public anchor): a hand-made test PKI can do the same.
pub(super) fn issuer_key_signal<'a>(
    leaf: &CertFacts,
    ca_pins: impl IntoIterator<Item = &'a str>,
    local_anchor: Option<&str>,
) -> Option<Signal> {
    let leaf_pin = leaf.spki_pin.as_deref()?;
    if local_anchor == Some(leaf_pin) {
        return Some(Signal::new(
            SignalKind::LeafKeyIsIssuerKey,
            SignalStrength::Strong,
            "the leaf carries the public key of its own root, a root only this machine trusts: \
             a root certifying its own key pair for a site is how minting boxes work \
             (mitmproxy, Squid ssl-bump), not how an internal PKI issues",
            Some(0),
        ));
    }
    ca_pins.into_iter().any(|p| p == leaf_pin).then(|| {
        Signal::new(
            SignalKind::LeafKeyIsIssuerKey,
            SignalStrength::Weak,
            "the leaf carries its CA's own public key (as mitmproxy's and Squid's minted leaves do)",
            Some(0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{LeafOpts, ca, leaf};

    fn leaf_with_scts(scts: usize) -> CertFacts {
        let root = ca("Root", None);
        let opts = LeafOpts {
            scts,
            ..LeafOpts::default()
        };
        CertFacts::from_der(0, &leaf("www.example.com", &root, opts))
    }

    #[test]
    fn a_leaf_with_its_cas_key_is_a_weak_minted_sign() {
        let leaf = leaf_with_scts(0);
        let own = leaf.spki_pin.clone().unwrap();
        let other = CertFacts::from_der(1, &ca("Other", None).der);
        let other_pin = other.spki_pin.as_deref().unwrap();
        let s = issuer_key_signal(&leaf, [other_pin, own.as_str()], None).expect("signal");
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::LeafKeyIsIssuerKey, SignalStrength::Weak)
        );
        // Another root is the local anchor: the CA whose key it is was not installed here.
        let s = issuer_key_signal(&leaf, [own.as_str()], Some(other_pin)).expect("signal");
        assert_eq!(s.strength, SignalStrength::Weak);
        assert!(issuer_key_signal(&leaf, [other_pin], None).is_none());
        assert!(issuer_key_signal(&leaf, [], None).is_none());
    }

    #[test]
    fn a_leaf_with_the_key_of_its_local_only_root_is_a_strong_minted_sign() {
        let leaf = leaf_with_scts(0);
        let own = leaf.spki_pin.clone().unwrap();
        let s = issuer_key_signal(&leaf, [own.as_str()], Some(own.as_str())).expect("signal");
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::LeafKeyIsIssuerKey, SignalStrength::Strong)
        );
        assert!(
            s.message.contains("root only this machine trusts"),
            "{}",
            s.message
        );
    }

    fn expect(trust: TrustStatus, builtin: bool, name: &str) -> CtExpectation<'_> {
        CtExpectation {
            trust,
            public_roots_builtin: builtin,
            server_name: name,
        }
    }

    #[test]
    fn embedded_scts_are_context() {
        let s = sct_signal(
            &leaf_with_scts(2),
            None,
            expect(TrustStatus::AnchoredLocalOnly, true, "www.example.com"),
        );
        assert_eq!(
            (s.kind, s.strength, s.certificate),
            (SignalKind::SctPresent, SignalStrength::Info, Some(0))
        );
        assert_eq!(s.message, "the leaf carries 2 embedded SCTs");
    }

    #[test]
    fn missing_scts_are_strong_when_the_reference_had_them() {
        let s = sct_signal(
            &leaf_with_scts(0),
            Some(&leaf_with_scts(3)),
            expect(TrustStatus::AnchoredPublic, false, "intranet.corp"),
        );
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::NoEmbeddedSct, SignalStrength::Strong)
        );
        assert_eq!(
            s.message,
            "the leaf carries no embedded SCT; the reference leaf carries 3"
        );
    }

    #[test]
    fn missing_scts_weigh_by_anchor_and_name() {
        use SignalStrength::{Info, Weak};
        use TrustStatus::{AnchoredLocalOnly, AnchoredPublic, Untrusted};
        let cases = [
            (AnchoredPublic, true, "www.example.com", Weak),
            (AnchoredPublic, false, "www.example.com", Info),
            (AnchoredLocalOnly, true, "intranet.acme.corp", Info),
            (Untrusted, true, "10.0.0.1", Info),
            (AnchoredLocalOnly, true, "www.example.com", Weak),
            (Untrusted, false, "www.example.com", Weak),
        ];
        for (trust, builtin, name, want) in cases {
            let (strength, _) = missing_sct_weight(0, expect(trust, builtin, name));
            assert_eq!(strength, want, "{trust:?} builtin={builtin} {name}");
        }
        let (_, why) = missing_sct_weight(0, expect(AnchoredLocalOnly, true, "www.example.com"));
        assert_eq!(
            why,
            " although www.example.com looks like a public web name"
        );
    }

    #[test]
    fn internal_names() {
        for internal in [
            "10.0.0.1",
            "::1",
            "intranet",
            "nas.local.",
            "git.ACME.corp",
            "router.home.arpa",
            "app.test",
        ] {
            assert!(looks_internal(internal), "{internal}");
        }
        for public in ["www.example.com", "corp.example.org", "local.example"] {
            assert!(!looks_internal(public), "{public}");
        }
    }

    #[test]
    fn freshness_counts_from_not_before() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1000);
        let issued = |ago: Duration| (now - ago, now + Duration::days(90));
        let s = fresh_signal(issued(Duration::minutes(5)), now).unwrap();
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::FreshlyIssued, SignalStrength::Weak)
        );
        assert_eq!(s.message, "the leaf was issued 5 minutes ago");
        assert!(fresh_signal(issued(Duration::hours(72)), now).is_some());
        assert_eq!(fresh_signal(issued(Duration::hours(73)), now), None);
        // Not yet valid: not "fresh".
        assert_eq!(fresh_signal(issued(-Duration::minutes(1)), now), None);
    }

    #[test]
    fn a_lifetime_of_a_week_or_less_is_short() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let s = short_life_signal((start, start + Duration::days(3))).unwrap();
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::ShortLived, SignalStrength::Weak)
        );
        assert_eq!(s.message, "the leaf lives 72 hours");
        assert!(short_life_signal((start, start + Duration::days(7))).is_some());
        assert_eq!(short_life_signal((start, start + Duration::days(90))), None);
    }
}
