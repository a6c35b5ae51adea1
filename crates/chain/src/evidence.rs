//! A chain judgement reduced to the evidence the findings read (`findings::TlsEvidence`): the
//! reader builds the findings-owned evidence, as `logs`, `har` and `flows` do, so `findings`
//! never reads chain types. Used by `check` (each target's path) and `pcap` (chains in the
//! clear).

use interloper_findings::{Confidence, TlsEvidence, TlsItem, TlsItemKind, TlsStatus};

use crate::{ChainReport, PathConfidence, PathStatus, SignalKind};

/// Reduce a chain report to the evidence the findings read.
pub fn tls_evidence(report: &ChainReport) -> TlsEvidence {
    let status = match report.verdict.status {
        PathStatus::Clean => TlsStatus::Clean,
        PathStatus::Intercepted => TlsStatus::Intercepted,
        PathStatus::LikelyIntercepted => TlsStatus::LikelyIntercepted,
        PathStatus::PrivatePkiUnknown => TlsStatus::PrivatePkiUnknown,
        PathStatus::Untrusted => TlsStatus::Untrusted,
    };
    let confidence = match report.verdict.confidence {
        PathConfidence::High => Confidence::High,
        PathConfidence::Medium => Confidence::Medium,
        PathConfidence::Low => Confidence::Low,
    };
    let items = report
        .evidence
        .iter()
        .filter_map(|e| {
            let kind = match e.kind {
                SignalKind::KnownProduct => TlsItemKind::ProductMatch,
                SignalKind::AnchoredLocalOnly => TlsItemKind::LocalAnchorOnly,
                SignalKind::NoEmbeddedSct
                | SignalKind::FreshlyIssued
                | SignalKind::ShortLived
                | SignalKind::KeyTypeDiffers
                | SignalKind::LeafKeyIsIssuerKey
                | SignalKind::IssuerDiffers => TlsItemKind::MintedTraits,
                SignalKind::PinMismatch | SignalKind::ExpectedCertMismatch => {
                    TlsItemKind::PinMismatch
                }
                SignalKind::AlpnDowngrade | SignalKind::TlsVersionDowngrade => {
                    TlsItemKind::Downgrade
                }
                SignalKind::Untrusted => TlsItemKind::Untrusted,
                SignalKind::IncompleteChain => TlsItemKind::IncompleteChain,
                SignalKind::ProductNotNameable => TlsItemKind::Other,
                // The witness's verdict travels in the witness evidence (see
                // `witness_verdict`); the rest are facts, not signals of interception.
                SignalKind::WitnessClientRandomDiffers
                | SignalKind::WitnessChainDiffers
                | SignalKind::WitnessMatches
                | SignalKind::UnparsedCertificate
                | SignalKind::ChainTruncated
                | SignalKind::AnchoredPublic
                | SignalKind::AnchoredPrivate
                | SignalKind::SctPresent
                | SignalKind::MatchesReference
                | SignalKind::PinMatch
                | SignalKind::ExpectedCertMatch => return None,
            };
            Some(TlsItem {
                kind,
                message: e.message.clone(),
            })
        })
        .collect();
    let leaf = report.certificates.first();
    TlsEvidence {
        status,
        confidence,
        product: report.verdict.product.as_ref().map(|p| p.name.clone()),
        leaf_subject: leaf.and_then(|c| c.subject.clone()),
        leaf_issuer: leaf.and_then(|c| c.issuer.clone()),
        items,
    }
}
