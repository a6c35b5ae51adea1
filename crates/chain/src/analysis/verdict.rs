//! The verdict: the first rule of docs/tls-verdicts.md "Verdict" that applies decides, and
//! `rule` names it.

use serde::Serialize;

use super::signal::{Signal, SignalKind, SignalStrength};
use crate::products::{ProductKind, ProductMatch};
use crate::trust::{TrustResult, TrustStatus, UntrustedReason};

/// What the verdict says about the TLS path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathStatus {
    /// No interception seen.
    Clean,
    /// Interception established.
    Intercepted,
    /// Signs of interception, not proof.
    LikelyIntercepted,
    /// Anchored in a local-only root with nothing else: interception or an internal PKI.
    PrivatePkiUnknown,
    /// The chain is not trusted, with no sign of interception.
    Untrusted,
}

impl PathStatus {
    /// The name used in JSON and in the terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            PathStatus::Clean => "clean",
            PathStatus::Intercepted => "intercepted",
            PathStatus::LikelyIntercepted => "likely-intercepted",
            PathStatus::PrivatePkiUnknown => "private-pki-unknown",
            PathStatus::Untrusted => "untrusted",
        }
    }
}

/// Confidence in the status: three levels, not a number, because the rules are qualitative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathConfidence {
    /// Plausible; other explanations are about as likely.
    Low,
    /// Probable; another explanation exists but is less likely.
    Medium,
    /// Established by the evidence.
    High,
}

impl PathConfidence {
    /// The name used in JSON and in the terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            PathConfidence::Low => "low",
            PathConfidence::Medium => "medium",
            PathConfidence::High => "high",
        }
    }
}

/// The interception product the verdict names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedProduct {
    /// Product id in the data file.
    pub id: String,
    /// Product name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Kind.
    pub kind: ProductKind,
    /// Vendor documentation.
    pub doc: String,
}

impl From<&ProductMatch> for NamedProduct {
    fn from(m: &ProductMatch) -> Self {
        NamedProduct {
            id: m.id.clone(),
            name: m.product.clone(),
            vendor: m.vendor.clone(),
            kind: m.kind,
            doc: m.doc.clone(),
        }
    }
}

/// The verdict on the TLS path (JSON `verdict`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathVerdict {
    /// Status.
    pub status: PathStatus,
    /// Confidence.
    pub confidence: PathConfidence,
    /// The product, if one was named.
    pub product: Option<NamedProduct>,
    /// The rule that decided (see docs/tls-verdicts.md).
    pub rule: &'static str,
    /// One sentence for humans.
    pub summary: String,
}

impl PathVerdict {
    fn new(
        status: PathStatus,
        confidence: PathConfidence,
        rule: &'static str,
        summary: impl Into<String>,
    ) -> Self {
        PathVerdict {
            status,
            confidence,
            product: None,
            rule,
            summary: summary.into(),
        }
    }

    fn naming(mut self, product: Option<NamedProduct>) -> Self {
        self.product = product;
        self
    }
}

/// What the rules read from the signals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    witness_differs: bool,
    witness_matches: bool,
    pin_mismatch: bool,
    pin_match: bool,
    /// Strong (or proof) minted signals.
    strong_minted: usize,
    /// Weak minted signals.
    weak_minted: usize,
}

impl Tally {
    /// Every kind is listed so a new one has to be placed. "Minted signals" (docs/tls-verdicts.md)
    /// are the minted-certificate traits and downgrades: the signs that lift a local-only anchor
    /// to likely-intercepted.
    fn of(signals: &[Signal]) -> Self {
        let mut tally = Tally::default();
        for signal in signals {
            match signal.kind {
                SignalKind::WitnessClientRandomDiffers | SignalKind::WitnessChainDiffers => {
                    tally.witness_differs = true;
                }
                SignalKind::WitnessMatches => tally.witness_matches = true,
                SignalKind::PinMismatch | SignalKind::ExpectedCertMismatch => {
                    tally.pin_mismatch = true;
                }
                SignalKind::PinMatch | SignalKind::ExpectedCertMatch => tally.pin_match = true,
                SignalKind::NoEmbeddedSct
                | SignalKind::FreshlyIssued
                | SignalKind::ShortLived
                | SignalKind::KeyTypeDiffers
                | SignalKind::LeafKeyIsIssuerKey
                | SignalKind::IssuerDiffers
                | SignalKind::AlpnDowngrade
                | SignalKind::TlsVersionDowngrade => match signal.strength {
                    SignalStrength::Strong | SignalStrength::Proof => tally.strong_minted += 1,
                    SignalStrength::Weak => tally.weak_minted += 1,
                    SignalStrength::Info => {}
                },
                // Read from the trust result and the product matches instead, or context.
                SignalKind::UnparsedCertificate
                | SignalKind::ChainTruncated
                | SignalKind::AnchoredPublic
                | SignalKind::AnchoredLocalOnly
                | SignalKind::AnchoredPrivate
                | SignalKind::Untrusted
                | SignalKind::KnownProduct
                | SignalKind::ProductNotNameable
                | SignalKind::SctPresent
                | SignalKind::MatchesReference
                | SignalKind::IncompleteChain => {}
            }
        }
        tally
    }
}

/// Applies the verdict rules in order.
pub(super) fn decide(
    trust: &TrustResult,
    products: &[ProductMatch],
    signals: &[Signal],
) -> PathVerdict {
    let tally = Tally::of(signals);
    witness_differs_rule(tally, products)
        .or_else(|| known_product_rule(trust.status, products))
        .or_else(|| pin_mismatch_rule(tally, trust.status))
        .or_else(|| untrusted_rule(tally, trust, signals))
        .or_else(|| witness_match_rule(tally))
        .or_else(|| pin_match_rule(tally))
        .unwrap_or_else(|| anchor_rule(tally, trust.status))
}

/// Rule 1: the witness saw another handshake.
fn witness_differs_rule(tally: Tally, products: &[ProductMatch]) -> Option<PathVerdict> {
    tally.witness_differs.then(|| {
        PathVerdict::new(
            PathStatus::Intercepted,
            PathConfidence::High,
            "witness-differs",
            "the witness saw a different handshake: the connection is intercepted",
        )
        .naming(products.first().map(NamedProduct::from))
    })
}

/// Rule 2: a known product's CA is in the chain.
fn known_product_rule(trust: TrustStatus, products: &[ProductMatch]) -> Option<PathVerdict> {
    let product = NamedProduct::from(products.first()?);
    let confidence = match trust {
        // A product's root installed here, declared private or not: its own doing.
        TrustStatus::AnchoredLocalOnly | TrustStatus::AnchoredPrivate => PathConfidence::High,
        TrustStatus::AnchoredPublic | TrustStatus::Untrusted => PathConfidence::Medium,
    };
    let summary = format!(
        "certificates are minted by {} ({})",
        product.name, product.vendor
    );
    Some(
        PathVerdict::new(
            PathStatus::Intercepted,
            confidence,
            "known-product",
            summary,
        )
        .naming(Some(product)),
    )
}

/// Rule 3: the expected key or certificate is not there.
fn pin_mismatch_rule(tally: Tally, trust: TrustStatus) -> Option<PathVerdict> {
    if !tally.pin_mismatch {
        return None;
    }
    Some(match trust {
        TrustStatus::AnchoredLocalOnly => PathVerdict::new(
            PathStatus::Intercepted,
            PathConfidence::Medium,
            "pin-mismatch-local",
            "the expected key is not in the chain and the chain ends in a local-only root: something on the path re-signs",
        ),
        // A root the user vouches for (public or declared private) signing another key: the
        // site's key changed, or that CA issued for it.
        TrustStatus::AnchoredPublic | TrustStatus::AnchoredPrivate => PathVerdict::new(
            PathStatus::Untrusted,
            PathConfidence::Medium,
            "pin-mismatch-public",
            "the chain is publicly valid but not the expected key: the site changed its key, or a public CA issued for it",
        ),
        TrustStatus::Untrusted => PathVerdict::new(
            PathStatus::Untrusted,
            PathConfidence::High,
            "pin-mismatch-untrusted",
            "the chain is not trusted and not the expected key",
        ),
    })
}

/// Rule 4: not trusted; likely a box whose root this machine lacks when an unknown issuer signs
/// a leaf with a strong minted trait.
fn untrusted_rule(tally: Tally, trust: &TrustResult, signals: &[Signal]) -> Option<PathVerdict> {
    match trust.status {
        TrustStatus::Untrusted => {}
        TrustStatus::AnchoredPublic
        | TrustStatus::AnchoredLocalOnly
        | TrustStatus::AnchoredPrivate => return None,
    }
    if trust.reason == Some(UntrustedReason::UnknownIssuer) && tally.strong_minted > 0 {
        return Some(PathVerdict::new(
            PathStatus::LikelyIntercepted,
            PathConfidence::Medium,
            "untrusted-minted",
            "an unknown issuer signs a certificate that differs from the reference: likely an interception box whose root this machine lacks",
        ));
    }
    // The trust signal says who issued it and so where to look (an intercepting middlebox or
    // the server); the reason alone would say neither.
    // A chain the server sent incomplete says so first: the missing issuer is the cause.
    let why = signals
        .iter()
        .find(|s| s.kind == SignalKind::IncompleteChain)
        .or_else(|| signals.iter().find(|s| s.kind == SignalKind::Untrusted))
        .map(|s| s.message.clone())
        .unwrap_or_else(|| {
            trust
                .reason
                .map_or("unknown reason", UntrustedReason::describe)
                .to_string()
        });
    Some(PathVerdict::new(
        PathStatus::Untrusted,
        PathConfidence::High,
        "untrusted",
        format!("the chain is not trusted: {why}"),
    ))
}

/// Rule 5: the witness saw our exact handshake.
fn witness_match_rule(tally: Tally) -> Option<PathVerdict> {
    tally.witness_matches.then(|| {
        PathVerdict::new(
            PathStatus::Clean,
            PathConfidence::High,
            "witness-match",
            "the witness saw our exact handshake: nothing on the path to that port terminates TLS",
        )
    })
}

/// Rule 6: the expected key is there and nothing strong says otherwise.
fn pin_match_rule(tally: Tally) -> Option<PathVerdict> {
    (tally.pin_match && tally.strong_minted == 0).then(|| {
        PathVerdict::new(
            PathStatus::Clean,
            PathConfidence::High,
            "pin-match",
            "the chain carries the expected key",
        )
    })
}

/// Rules 7–9: the anchor and the minted signals decide.
fn anchor_rule(tally: Tally, trust: TrustStatus) -> PathVerdict {
    match trust {
        TrustStatus::AnchoredLocalOnly if tally.strong_minted > 0 || tally.weak_minted >= 2 => {
            PathVerdict::new(
                PathStatus::LikelyIntercepted,
                if tally.strong_minted > 0 {
                    PathConfidence::Medium
                } else {
                    PathConfidence::Low
                },
                "local-only-minted",
                "a local-only root signs a certificate with traits of one minted on the fly",
            )
        }
        TrustStatus::AnchoredLocalOnly => PathVerdict::new(
            PathStatus::PrivatePkiUnknown,
            PathConfidence::Medium,
            "local-only",
            "the path is trusted only by this machine: a root absent from the public roots signs the chain, with no other sign. That is your organisation's own PKI or TLS inspection; to tell, run the witness (`interloper echo`) beside the server or compare from a machine outside, and declare your own roots with --private-root",
        ),
        // The user's own PKI: what a public anchor is to everyone else. Minted traits lower the
        // confidence as they do under a public root (private CAs issue short-lived leaves).
        TrustStatus::AnchoredPrivate => PathVerdict::new(
            PathStatus::Clean,
            confidence_by_traits(tally),
            "private-root",
            "the chain is anchored in a private root you declared (--private-root)",
        ),
        // Untrusted chains were decided by rule 4; kept here so the match stays total.
        TrustStatus::AnchoredPublic | TrustStatus::Untrusted => PathVerdict::new(
            PathStatus::Clean,
            confidence_by_traits(tally),
            "public",
            "the chain is anchored in a public root",
        ),
    }
}

/// A trusted anchor's confidence: high with no minted trait, lower with each kind.
fn confidence_by_traits(tally: Tally) -> PathConfidence {
    if tally.strong_minted > 0 {
        PathConfidence::Low
    } else if tally.weak_minted > 0 {
        PathConfidence::Medium
    } else {
        PathConfidence::High
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::trust_result;
    use crate::products::MatchedField;
    use SignalKind as K;
    use SignalStrength as S;

    fn signal(kind: SignalKind, strength: SignalStrength) -> Signal {
        Signal::new(kind, strength, "", None)
    }

    fn product() -> ProductMatch {
        ProductMatch {
            id: "zscaler".into(),
            product: "Zscaler Internet Access".into(),
            vendor: "Zscaler".into(),
            kind: ProductKind::Proxy,
            doc: "https://help.zscaler.com".into(),
            certificate: 0,
            field: MatchedField::IssuerCn,
            value: "Zscaler Root CA".into(),
            pattern: "Zscaler*".into(),
            attributes: vec![],
            confirmed: true,
            source: "https://help.zscaler.com".into(),
        }
    }

    /// (status, confidence, rule) of the verdict.
    fn decided(
        status: TrustStatus,
        reason: Option<UntrustedReason>,
        products: &[ProductMatch],
        signals: &[Signal],
    ) -> (PathStatus, PathConfidence, &'static str) {
        let v = decide(&trust_result(status, reason), products, signals);
        (v.status, v.confidence, v.rule)
    }

    #[test]
    fn the_tally_counts_minted_signals_by_weight() {
        let t = Tally::of(&[
            signal(K::NoEmbeddedSct, S::Info),
            signal(K::FreshlyIssued, S::Weak),
            signal(K::ShortLived, S::Weak),
            signal(K::KeyTypeDiffers, S::Strong),
            signal(K::AlpnDowngrade, S::Proof),
            signal(K::AnchoredLocalOnly, S::Weak),
            signal(K::KnownProduct, S::Strong),
        ]);
        assert_eq!((t.strong_minted, t.weak_minted), (2, 2));
        assert!(!t.pin_match && !t.pin_mismatch && !t.witness_differs && !t.witness_matches);
        let t = Tally::of(&[
            signal(K::ExpectedCertMatch, S::Info),
            signal(K::PinMismatch, S::Strong),
            signal(K::WitnessChainDiffers, S::Proof),
            signal(K::WitnessMatches, S::Info),
        ]);
        assert!(t.pin_match && t.pin_mismatch && t.witness_differs && t.witness_matches);
    }

    #[test]
    fn a_witness_difference_decides_first_and_keeps_the_product() {
        let v = decide(
            &trust_result(TrustStatus::AnchoredPublic, None),
            &[product()],
            &[
                signal(K::WitnessClientRandomDiffers, S::Proof),
                signal(K::PinMatch, S::Info),
            ],
        );
        assert_eq!(
            (v.status, v.confidence, v.rule),
            (
                PathStatus::Intercepted,
                PathConfidence::High,
                "witness-differs"
            )
        );
        assert_eq!(v.product.unwrap().id, "zscaler");
    }

    #[test]
    fn a_known_product_is_named_with_confidence_by_anchor() {
        let v = decide(
            &trust_result(TrustStatus::AnchoredLocalOnly, None),
            &[product()],
            &[signal(K::PinMatch, S::Info)],
        );
        assert_eq!(
            (v.status, v.confidence, v.rule),
            (
                PathStatus::Intercepted,
                PathConfidence::High,
                "known-product"
            )
        );
        assert_eq!(
            v.summary,
            "certificates are minted by Zscaler Internet Access (Zscaler)"
        );
        assert_eq!(v.product.unwrap().name, "Zscaler Internet Access");
        for elsewhere in [TrustStatus::AnchoredPublic, TrustStatus::Untrusted] {
            let (_, confidence, _) = decided(elsewhere, None, &[product()], &[]);
            assert_eq!(confidence, PathConfidence::Medium);
        }
    }

    #[test]
    fn a_pin_mismatch_is_interception_only_under_a_local_anchor() {
        let mismatch = [signal(K::ExpectedCertMismatch, S::Strong)];
        assert_eq!(
            decided(TrustStatus::AnchoredLocalOnly, None, &[], &mismatch),
            (
                PathStatus::Intercepted,
                PathConfidence::Medium,
                "pin-mismatch-local"
            )
        );
        assert_eq!(
            decided(TrustStatus::AnchoredPublic, None, &[], &mismatch),
            (
                PathStatus::Untrusted,
                PathConfidence::Medium,
                "pin-mismatch-public"
            )
        );
        assert_eq!(
            decided(
                TrustStatus::Untrusted,
                Some(UntrustedReason::UnknownIssuer),
                &[],
                &mismatch
            ),
            (
                PathStatus::Untrusted,
                PathConfidence::High,
                "pin-mismatch-untrusted"
            )
        );
    }

    #[test]
    fn an_unknown_issuer_with_a_strong_minted_sign_is_likely_interception() {
        let strong = [signal(K::IssuerDiffers, S::Strong)];
        assert_eq!(
            decided(
                TrustStatus::Untrusted,
                Some(UntrustedReason::UnknownIssuer),
                &[],
                &strong
            ),
            (
                PathStatus::LikelyIntercepted,
                PathConfidence::Medium,
                "untrusted-minted"
            )
        );
        // Expired is not the missing root of a box.
        assert_eq!(
            decided(
                TrustStatus::Untrusted,
                Some(UntrustedReason::Expired),
                &[],
                &strong
            ),
            (PathStatus::Untrusted, PathConfidence::High, "untrusted")
        );
        let weak = [signal(K::IssuerDiffers, S::Weak)];
        let v = decide(
            &trust_result(TrustStatus::Untrusted, Some(UntrustedReason::UnknownIssuer)),
            &[],
            &weak,
        );
        assert_eq!(v.rule, "untrusted");
        assert_eq!(v.summary, "the chain is not trusted: unknown issuer");
        let v = decide(&trust_result(TrustStatus::Untrusted, None), &[], &[]);
        assert_eq!(v.summary, "the chain is not trusted: unknown reason");
        // The trust signal's words, which name the issuer and where to look, are the summary's.
        let named = [Signal::new(
            K::Untrusted,
            S::Info,
            "issued by CN=Corp, which is neither a public CA nor the server's own: most likely an intercepting middlebox",
            Some(0),
        )];
        let v = decide(
            &trust_result(TrustStatus::Untrusted, Some(UntrustedReason::UnknownIssuer)),
            &[],
            &named,
        );
        assert_eq!(
            v.summary,
            "the chain is not trusted: issued by CN=Corp, which is neither a public CA nor the server's own: most likely an intercepting middlebox"
        );
    }

    #[test]
    fn a_declared_private_root_is_clean_unless_a_product_or_pin_says_otherwise() {
        assert_eq!(
            decided(TrustStatus::AnchoredPrivate, None, &[], &[]),
            (PathStatus::Clean, PathConfidence::High, "private-root")
        );
        // Private CAs issue short-lived leaves: lower confidence, still clean.
        let weak = [
            signal(K::ShortLived, S::Weak),
            signal(K::FreshlyIssued, S::Weak),
        ];
        assert_eq!(
            decided(TrustStatus::AnchoredPrivate, None, &[], &weak),
            (PathStatus::Clean, PathConfidence::Medium, "private-root")
        );
        // Declaring a product's root does not make its minting anything but interception.
        assert_eq!(
            decided(TrustStatus::AnchoredPrivate, None, &[product()], &[]),
            (
                PathStatus::Intercepted,
                PathConfidence::High,
                "known-product"
            )
        );
        let mismatch = [signal(K::PinMismatch, S::Strong)];
        assert_eq!(
            decided(TrustStatus::AnchoredPrivate, None, &[], &mismatch),
            (
                PathStatus::Untrusted,
                PathConfidence::Medium,
                "pin-mismatch-public"
            )
        );
    }

    #[test]
    fn a_witness_match_is_clean_even_with_minted_signs() {
        let signals = [
            signal(K::WitnessMatches, S::Info),
            signal(K::ShortLived, S::Weak),
            signal(K::FreshlyIssued, S::Weak),
        ];
        assert_eq!(
            decided(TrustStatus::AnchoredLocalOnly, None, &[], &signals),
            (PathStatus::Clean, PathConfidence::High, "witness-match")
        );
    }

    #[test]
    fn a_pin_match_is_clean_unless_a_strong_sign_disagrees() {
        let pinned = [signal(K::PinMatch, S::Info), signal(K::ShortLived, S::Weak)];
        assert_eq!(
            decided(TrustStatus::AnchoredLocalOnly, None, &[], &pinned),
            (PathStatus::Clean, PathConfidence::High, "pin-match")
        );
        let disputed = [
            signal(K::PinMatch, S::Info),
            signal(K::AlpnDowngrade, S::Strong),
        ];
        assert_eq!(
            decided(TrustStatus::AnchoredLocalOnly, None, &[], &disputed).2,
            "local-only-minted"
        );
    }

    #[test]
    fn a_local_anchor_needs_one_strong_or_two_weak_minted_signs() {
        let local =
            |signals: &[Signal]| decided(TrustStatus::AnchoredLocalOnly, None, &[], signals);
        assert_eq!(
            local(&[signal(K::TlsVersionDowngrade, S::Strong)]),
            (
                PathStatus::LikelyIntercepted,
                PathConfidence::Medium,
                "local-only-minted"
            )
        );
        assert_eq!(
            local(&[
                signal(K::FreshlyIssued, S::Weak),
                signal(K::ShortLived, S::Weak)
            ]),
            (
                PathStatus::LikelyIntercepted,
                PathConfidence::Low,
                "local-only-minted"
            )
        );
        // The weak anchor signal itself is not a minted sign.
        assert_eq!(
            local(&[
                signal(K::AnchoredLocalOnly, S::Weak),
                signal(K::NoEmbeddedSct, S::Weak)
            ]),
            (
                PathStatus::PrivatePkiUnknown,
                PathConfidence::Medium,
                "local-only"
            )
        );
    }

    #[test]
    fn a_public_anchor_is_clean_with_confidence_lowered_by_minted_signs() {
        let public = |signals: &[Signal]| decided(TrustStatus::AnchoredPublic, None, &[], signals);
        assert_eq!(
            public(&[signal(K::SctPresent, S::Info)]),
            (PathStatus::Clean, PathConfidence::High, "public")
        );
        assert_eq!(
            public(&[signal(K::NoEmbeddedSct, S::Weak)]).1,
            PathConfidence::Medium
        );
        assert_eq!(
            public(&[signal(K::AlpnDowngrade, S::Strong)]).1,
            PathConfidence::Low
        );
    }
}

#[cfg(test)]
mod name_tests {
    use super::{PathConfidence, PathStatus};
    use crate::{SignalStrength, TrustStatus};

    fn json_name<T: serde::Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The terminal and the JSON say the same words.
    #[test]
    fn names_match_the_json() {
        for s in [
            PathStatus::Clean,
            PathStatus::Intercepted,
            PathStatus::LikelyIntercepted,
            PathStatus::PrivatePkiUnknown,
            PathStatus::Untrusted,
        ] {
            assert_eq!(s.as_str(), json_name(s));
        }
        for c in [
            PathConfidence::Low,
            PathConfidence::Medium,
            PathConfidence::High,
        ] {
            assert_eq!(c.as_str(), json_name(c));
        }
        for t in [
            TrustStatus::AnchoredPublic,
            TrustStatus::AnchoredLocalOnly,
            TrustStatus::Untrusted,
        ] {
            assert_eq!(t.as_str(), json_name(t));
        }
        for s in [
            SignalStrength::Info,
            SignalStrength::Weak,
            SignalStrength::Strong,
            SignalStrength::Proof,
        ] {
            assert_eq!(s.as_str(), json_name(s));
        }
    }
}
