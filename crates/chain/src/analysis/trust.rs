//! The trust classification as a signal, and the local root set it is evaluated against.

use std::borrow::Cow;

use super::signal::{Signal, SignalKind, SignalStrength};
use crate::facts::CertFacts;
use crate::trust::{Roots, TrustResult, TrustStatus, UntrustedReason};

/// The local set: the store plus `--cacert` anchors.
pub(super) fn local_roots<'a>(store: &'a Roots, extra: Option<&Roots>) -> Cow<'a, Roots> {
    match extra {
        Some(extra) if !extra.is_empty() => {
            let mut merged = store.clone();
            merged.extend(extra);
            Cow::Owned(merged)
        }
        Some(_) | None => Cow::Borrowed(store),
    }
}

/// Where the chain ends (or why it is not trusted). `leaf` is the first presented certificate,
/// whose names explain a name mismatch.
pub(super) fn trust_signal(
    trust: &TrustResult,
    server_name: &str,
    leaf: Option<&CertFacts>,
) -> Signal {
    match trust.status {
        TrustStatus::AnchoredPublic => Signal::new(
            SignalKind::AnchoredPublic,
            SignalStrength::Info,
            format!("the chain ends in the public root {}", anchor_text(trust)),
            None,
        ),
        TrustStatus::AnchoredLocalOnly => Signal::new(
            SignalKind::AnchoredLocalOnly,
            SignalStrength::Weak,
            format!(
                "the chain ends in {}, a root only this machine's store trusts (an enterprise root: interception or a private PKI)",
                anchor_text(trust)
            ),
            None,
        ),
        TrustStatus::Untrusted => Signal::new(
            SignalKind::Untrusted,
            SignalStrength::Info,
            untrusted_message(trust, server_name, leaf),
            Some(0),
        ),
    }
}

fn anchor_text(trust: &TrustResult) -> String {
    trust
        .anchor
        .as_ref()
        .map(|a| format!("{} ({})", a.subject, a.spki_sha256))
        .unwrap_or_else(|| "?".into())
}

fn untrusted_message(trust: &TrustResult, server_name: &str, leaf: Option<&CertFacts>) -> String {
    match trust.reason {
        Some(UntrustedReason::NameMismatch) => format!(
            "the leaf does not cover {server_name} (its names: {}); the path itself ends in {}",
            leaf.map(|c| c.sans.join(", ")).unwrap_or_default(),
            anchor_text(trust)
        ),
        Some(reason) => {
            let detail = trust
                .public
                .detail
                .clone()
                .or(trust.local.detail.clone())
                .unwrap_or_default();
            format!(
                "not trusted by the public or the local roots: {} ({detail})",
                reason.describe()
            )
        }
        None => "not trusted".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::trust_result;
    use crate::test_support::{LeafOpts, ca, leaf, roots};
    use crate::trust::AnchorFacts;

    fn anchored(status: TrustStatus) -> TrustResult {
        let mut t = trust_result(status, None);
        t.anchor = Some(AnchorFacts {
            subject: "CN=Root".into(),
            spki_sha256: "sha256//AAAA".into(),
        });
        t
    }

    #[test]
    fn a_public_anchor_is_context() {
        let s = trust_signal(&anchored(TrustStatus::AnchoredPublic), "a.example", None);
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::AnchoredPublic, SignalStrength::Info)
        );
        assert_eq!(
            s.message,
            "the chain ends in the public root CN=Root (sha256//AAAA)"
        );
    }

    #[test]
    fn a_local_only_anchor_is_weak() {
        let s = trust_signal(&anchored(TrustStatus::AnchoredLocalOnly), "a.example", None);
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::AnchoredLocalOnly, SignalStrength::Weak)
        );
        assert!(
            s.message
                .starts_with("the chain ends in CN=Root (sha256//AAAA), a root only")
        );
    }

    #[test]
    fn a_name_mismatch_lists_the_leaf_names() {
        let root = ca("Root", None);
        let facts = CertFacts::from_der(0, &leaf("www.example.com", &root, LeafOpts::default()));
        let mut t = anchored(TrustStatus::Untrusted);
        t.reason = Some(UntrustedReason::NameMismatch);
        let s = trust_signal(&t, "other.example", Some(&facts));
        assert_eq!((s.kind, s.certificate), (SignalKind::Untrusted, Some(0)));
        assert_eq!(
            s.message,
            "the leaf does not cover other.example (its names: DNS:www.example.com); the path itself ends in CN=Root (sha256//AAAA)"
        );
    }

    #[test]
    fn other_failures_carry_webpki_detail() {
        let mut t = trust_result(TrustStatus::Untrusted, Some(UntrustedReason::Expired));
        t.local.detail = Some("CertExpired".into());
        let s = trust_signal(&t, "a.example", None);
        assert_eq!(
            s.message,
            "not trusted by the public or the local roots: expired (CertExpired)"
        );
        let t = trust_result(TrustStatus::Untrusted, None);
        assert_eq!(trust_signal(&t, "a.example", None).message, "not trusted");
    }

    #[test]
    fn cacert_anchors_join_the_store() {
        let (store, extra) = (roots(&[&ca("Store", None)]), roots(&[&ca("Extra", None)]));
        assert_eq!(local_roots(&store, Some(&extra)).len(), 2);
        assert!(matches!(local_roots(&store, None), Cow::Borrowed(_)));
        assert!(matches!(
            local_roots(&store, Some(&Roots::empty())),
            Cow::Borrowed(_)
        ));
    }
}
