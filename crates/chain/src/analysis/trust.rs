//! The trust classification as a signal, and the local root set it is evaluated against.

use std::borrow::Cow;

use super::signal::{Signal, SignalKind, SignalStrength};
use crate::facts::CertFacts;
use crate::trust::{Roots, TrustResult, TrustStatus, UntrustedReason};

/// The local set: the store plus `--cacert` and declared private (`--private-root`) anchors.
pub(super) fn local_roots<'a>(store: &'a Roots, added: &[Option<&Roots>]) -> Cow<'a, Roots> {
    let added: Vec<&Roots> = added
        .iter()
        .flatten()
        .filter(|r| !r.is_empty())
        .copied()
        .collect();
    if added.is_empty() {
        return Cow::Borrowed(store);
    }
    let mut merged = store.clone();
    for roots in added {
        merged.extend(roots);
    }
    Cow::Owned(merged)
}

/// Where the chain ends (or why it is not trusted). `certificates` are the presented ones,
/// leaf first: the leaf's names explain a name mismatch, and its issuer an unknown one;
/// `public` says whether that issuer is a public CA.
pub(super) fn trust_signal(
    trust: &TrustResult,
    server_name: &str,
    certificates: &[CertFacts],
    public: &Roots,
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
                "the chain ends in {}, a root only this machine trusts (absent from the public roots): your organisation's own PKI or TLS inspection",
                anchor_text(trust)
            ),
            None,
        ),
        TrustStatus::AnchoredPrivate => Signal::new(
            SignalKind::AnchoredPrivate,
            SignalStrength::Info,
            format!(
                "the chain ends in {}, a private root you declared (--private-root)",
                anchor_text(trust)
            ),
            None,
        ),
        TrustStatus::Untrusted => Signal::new(
            SignalKind::Untrusted,
            SignalStrength::Info,
            untrusted_message(trust, server_name, certificates, public),
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

fn untrusted_message(
    trust: &TrustResult,
    server_name: &str,
    certificates: &[CertFacts],
    public: &Roots,
) -> String {
    let leaf = certificates.first();
    match trust.reason {
        Some(UntrustedReason::NameMismatch) => format!(
            "the leaf does not cover {server_name} (its names: {}); the path itself ends in {}",
            leaf.map(|c| c.sans.join(", ")).unwrap_or_default(),
            anchor_text(trust)
        ),
        Some(UntrustedReason::UnknownIssuer) => unknown_issuer_message(certificates, public),
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

/// No path to any root: who issued the chain says where to look. A self-signed leaf is the
/// server's own; a chain whose top names a public root is the server's to fix; any other
/// issuer is a CA this machine does not know, which is what an intercepting middlebox's looks
/// like from a machine that lacks its root.
fn unknown_issuer_message(certificates: &[CertFacts], public: &Roots) -> String {
    let Some(leaf) = certificates.first() else {
        return "not trusted by the public or the local roots: unknown issuer".into();
    };
    // The whole name: an administrator-named inspection CA is told by its O and OU too.
    let issuer = leaf.issuer.clone().unwrap_or_else(|| leaf.issuer_label());
    if leaf.self_signed {
        return format!(
            "the leaf is self-signed ({issuer}): the server's own certificate, which neither the public roots nor this machine's store trust"
        );
    }
    let top_issuer = certificates.last().and_then(|c| c.issuer.as_deref());
    if top_issuer.is_some_and(|i| public.has_subject(i)) {
        return format!(
            "issued by {issuer} under a public root, yet no path verifies (unknown issuer): the server presents a wrong or incomplete chain"
        );
    }
    format!(
        "issued by {issuer}, which is neither a public CA nor the server's own (the leaf is not self-signed) and which this machine does not trust: most likely an intercepting middlebox whose CA is not installed here, or a server presenting a chain from a CA no client trusts"
    )
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
        let s = trust_signal(
            &anchored(TrustStatus::AnchoredPublic),
            "a.example",
            &[],
            &Roots::empty(),
        );
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
        let s = trust_signal(
            &anchored(TrustStatus::AnchoredLocalOnly),
            "a.example",
            &[],
            &Roots::empty(),
        );
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::AnchoredLocalOnly, SignalStrength::Weak)
        );
        assert_eq!(
            s.message,
            "the chain ends in CN=Root (sha256//AAAA), a root only this machine trusts (absent from the public roots): your organisation's own PKI or TLS inspection"
        );
    }

    #[test]
    fn a_declared_private_anchor_is_context() {
        let s = trust_signal(
            &anchored(TrustStatus::AnchoredPrivate),
            "a.example",
            &[],
            &Roots::empty(),
        );
        assert_eq!(
            (s.kind, s.strength),
            (SignalKind::AnchoredPrivate, SignalStrength::Info)
        );
        assert_eq!(
            s.message,
            "the chain ends in CN=Root (sha256//AAAA), a private root you declared (--private-root)"
        );
    }

    /// An unknown issuer is told apart by who issued: the server itself, a public CA, or a CA
    /// that is neither (what an intercepting box looks like to a machine without its root).
    #[test]
    fn an_unknown_issuer_says_where_to_look() {
        let untrusted = trust_result(TrustStatus::Untrusted, Some(UntrustedReason::UnknownIssuer));
        let corp = ca("Corp Gateway CA", Some("Example Corp"));
        let minted = CertFacts::from_der(0, &leaf("www.example.com", &corp, LeafOpts::default()));
        let s = trust_signal(
            &untrusted,
            "www.example.com",
            std::slice::from_ref(&minted),
            &Roots::empty(),
        );
        assert!(s.message.starts_with("issued by "), "{}", s.message);
        for words in [
            "CN=Corp Gateway CA",
            "O=Example Corp",
            "which is neither a public CA nor the server's own",
        ] {
            assert!(s.message.contains(words), "{words}: {}", s.message);
        }
        assert!(
            s.message.contains("intercepting middlebox"),
            "{}",
            s.message
        );
        // The same issuer named by a public root: the server's chain is wrong.
        let public = roots(&[&corp]);
        let s = trust_signal(&untrusted, "www.example.com", &[minted], &public);
        assert!(s.message.contains("under a public root"), "{}", s.message);
        assert!(!s.message.contains("intercepting"), "{}", s.message);
        // A self-signed leaf is the server's own.
        let own = CertFacts::from_der(0, &corp.der);
        let s = trust_signal(&untrusted, "www.example.com", &[own], &Roots::empty());
        assert!(
            s.message.starts_with("the leaf is self-signed ("),
            "{}",
            s.message
        );
        assert!(
            s.message.contains("the server's own certificate"),
            "{}",
            s.message
        );
    }

    #[test]
    fn a_name_mismatch_lists_the_leaf_names() {
        let root = ca("Root", None);
        let facts = CertFacts::from_der(0, &leaf("www.example.com", &root, LeafOpts::default()));
        let mut t = anchored(TrustStatus::Untrusted);
        t.reason = Some(UntrustedReason::NameMismatch);
        let s = trust_signal(&t, "other.example", &[facts], &Roots::empty());
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
        let s = trust_signal(&t, "a.example", &[], &Roots::empty());
        assert_eq!(
            s.message,
            "not trusted by the public or the local roots: expired (CertExpired)"
        );
        let t = trust_result(TrustStatus::Untrusted, None);
        assert_eq!(
            trust_signal(&t, "a.example", &[], &Roots::empty()).message,
            "not trusted"
        );
    }

    #[test]
    fn cacert_anchors_join_the_store() {
        let (store, extra) = (roots(&[&ca("Store", None)]), roots(&[&ca("Extra", None)]));
        assert_eq!(local_roots(&store, &[Some(&extra)]).len(), 2);
        assert_eq!(local_roots(&store, &[Some(&extra), Some(&extra)]).len(), 3);
        assert!(matches!(local_roots(&store, &[None]), Cow::Borrowed(_)));
        assert!(matches!(
            local_roots(&store, &[Some(&Roots::empty()), None]),
            Cow::Borrowed(_)
        ));
    }
}
