//! Interception products recognised in the issuer names, and the products that cannot be.

use super::signal::{Signal, SignalKind, SignalStrength};
use crate::products::{ProductDb, ProductMatch};
use crate::trust::TrustStatus;

/// One strong signal per product match.
pub(super) fn product_signals(matches: &[ProductMatch]) -> Vec<Signal> {
    matches
        .iter()
        .map(|m| {
            Signal::new(
                SignalKind::KnownProduct,
                SignalStrength::Strong,
                format!(
                    "{} of certificate #{} matches {} by {} ({})",
                    m.describe(),
                    m.certificate,
                    m.product,
                    m.vendor,
                    provenance(m)
                ),
                Some(m.certificate),
            )
        })
        .collect()
}

/// The patterns, and whether the name was seen on a real certificate or is a guess.
fn provenance(m: &ProductMatch) -> String {
    let patterns: Vec<String> = m
        .attributes
        .iter()
        .map(|a| format!("{:?}", a.pattern))
        .collect();
    let plural = if patterns.len() == 1 { "" } else { "s" };
    let seen = if m.confirmed {
        "a name seen on real certificates"
    } else {
        "a guessed name, not yet seen on a real certificate"
    };
    format!("pattern{plural} {}; {seen}", patterns.join(", "))
}

/// A local-only anchor that names no product may still be one whose CA name the administrator
/// chose; say which products that could be.
pub(super) fn not_nameable_signal(
    db: &ProductDb,
    matches: &[ProductMatch],
    trust: TrustStatus,
) -> Option<Signal> {
    match trust {
        TrustStatus::AnchoredLocalOnly if matches.is_empty() => {}
        TrustStatus::AnchoredLocalOnly
        | TrustStatus::AnchoredPublic
        | TrustStatus::AnchoredPrivate
        | TrustStatus::Untrusted => {
            return None;
        }
    }
    let names: Vec<&str> = db.admin_named().map(|p| p.product.as_str()).collect();
    (!names.is_empty()).then(|| {
        Signal::new(
            SignalKind::ProductNotNameable,
            SignalStrength::Info,
            format!(
                "no known product in the issuer names; {} use a CA name the administrator chooses, so they cannot be named from the issuer",
                names.join(", ")
            ),
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::{MatchedAttribute, MatchedField, NameAttribute, ProductKind};

    fn fortinet_match() -> ProductMatch {
        ProductMatch {
            id: "fortinet".into(),
            product: "FortiGate".into(),
            vendor: "Fortinet".into(),
            kind: ProductKind::Firewall,
            doc: "https://docs.fortinet.com".into(),
            certificate: 1,
            field: MatchedField::SubjectCn,
            value: "FortiGate CA".into(),
            pattern: "FortiGate CA".into(),
            attributes: vec![MatchedAttribute {
                attribute: NameAttribute::Cn,
                value: "FortiGate CA".into(),
                pattern: "FortiGate CA".into(),
            }],
            confirmed: false,
            source: "https://docs.fortinet.com".into(),
        }
    }

    #[test]
    fn each_match_is_a_strong_signal_on_its_certificate() {
        let signals = product_signals(&[fortinet_match()]);
        assert_eq!(signals.len(), 1);
        let s = &signals[0];
        assert_eq!(
            (s.kind, s.strength, s.certificate),
            (SignalKind::KnownProduct, SignalStrength::Strong, Some(1))
        );
        assert_eq!(
            s.message,
            r#"CA subject CN "FortiGate CA" of certificate #1 matches FortiGate by Fortinet (pattern "FortiGate CA"; a guessed name, not yet seen on a real certificate)"#
        );
        assert!(product_signals(&[]).is_empty());
    }

    #[test]
    fn admin_named_products_are_listed_only_for_an_unnamed_local_anchor() {
        let db = ProductDb::builtin();
        let s = not_nameable_signal(&db, &[], TrustStatus::AnchoredLocalOnly).unwrap();
        assert_eq!(s.kind, SignalKind::ProductNotNameable);
        assert!(s.message.contains("Check Point"), "{}", s.message);
        assert_eq!(
            not_nameable_signal(&db, &[fortinet_match()], TrustStatus::AnchoredLocalOnly),
            None
        );
        for other in [TrustStatus::AnchoredPublic, TrustStatus::Untrusted] {
            assert_eq!(not_nameable_signal(&db, &[], other), None);
        }
    }

    #[test]
    fn a_file_without_admin_named_products_adds_nothing() {
        let db = ProductDb::from_toml_str(
            "[[product]]\nid='x'\nproduct='X'\nvendor='X'\nkind='proxy'\ndoc='x'\nissuer_cn=['X CA']\n",
        )
        .unwrap();
        assert_eq!(
            not_nameable_signal(&db, &[], TrustStatus::AnchoredLocalOnly),
            None
        );
    }
}
