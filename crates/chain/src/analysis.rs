//! Evidence gathering and the verdict. Each rule is documented in docs/tls-verdicts.md; the
//! `rule` field of the verdict names the rule that decided it.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::facts::CertFacts;
use crate::pins::Pin;
use crate::products::{ProductDb, ProductKind, ProductMatch};
use crate::trust::{MAX_CHAIN, Roots, TrustResult, TrustStatus, UntrustedReason, evaluate};

/// "Issued minutes or days ago": interception boxes mint on first use, so a leaf this young on a
/// site that is not new is a (weak) sign.
const FRESH: Duration = Duration::hours(72);
/// A lifetime this short is unusual outside minting boxes and ACME short-lived profiles.
const SHORT_LIFE: Duration = Duration::days(7);

/// Negotiated parameters of a connection, as the probe records them (`TlsInfo.version`/`alpn`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Negotiated {
    /// "TLSv1.3", "TLSv1.2", "TLS 1.3", "1.3" …
    pub tls_version: Option<String>,
    /// "h2", "http/1.1", or None when no ALPN was agreed.
    pub alpn: Option<String>,
}

/// A reference run to compare against (a clean path, or what the witness saw).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reference {
    /// The chain of the reference run, leaf first, DER (may be empty).
    pub chain: Vec<Vec<u8>>,
    /// The parameters the reference run negotiated.
    pub negotiated: Negotiated,
}

/// What the witness (a server we control, behind the same path) says it saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WitnessComparison {
    /// The ClientHello random the witness received equals the one we sent.
    pub client_random_equal: Option<bool>,
    /// The chain we received equals the chain the witness served.
    pub chain_equal: Option<bool>,
}

/// Everything [`analyse`] needs.
#[derive(Debug, Clone)]
pub struct ChainInput<'a> {
    /// The presented chain, leaf first, DER.
    pub presented: Vec<Vec<u8>>,
    /// The name we connected to (DNS name or IP literal).
    pub server_name: String,
    /// The time to validate at.
    pub now: OffsetDateTime,
    /// Public web roots ([`Roots::webpki`], or the `--public-roots` replacement).
    pub public_roots: &'a Roots,
    /// The local store (OS store, SSL_CERT_FILE / SSL_CERT_DIR).
    pub local_roots: &'a Roots,
    /// Extra anchors (`--cacert`), treated as local.
    pub extra_roots: Option<&'a Roots>,
    /// `--expect-pin` values; any certificate of the chain matching any pin passes (as curl).
    pub pins: Vec<Pin>,
    /// `--expect-cert`: the leaf must equal this DER.
    pub expect_cert: Option<Vec<u8>>,
    /// A reference run.
    pub reference: Option<Reference>,
    /// What this run negotiated.
    pub negotiated: Negotiated,
    /// The witness comparison, when an echo server was used.
    pub witness: Option<WitnessComparison>,
    /// Known interception products.
    pub products: &'a ProductDb,
}

impl<'a> ChainInput<'a> {
    /// An input with no pins, reference, witness, extra roots or negotiated parameters.
    pub fn new(
        presented: Vec<Vec<u8>>,
        server_name: &str,
        now: OffsetDateTime,
        public_roots: &'a Roots,
        local_roots: &'a Roots,
        products: &'a ProductDb,
    ) -> Self {
        ChainInput {
            presented,
            server_name: server_name.to_owned(),
            now,
            public_roots,
            local_roots,
            extra_roots: None,
            pins: Vec::new(),
            expect_cert: None,
            reference: None,
            negotiated: Negotiated::default(),
            witness: None,
            products,
        }
    }
}

/// How much a piece of evidence weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    /// Context, not a signal.
    Info,
    /// Weak sign: also seen on legitimate servers.
    Weak,
    /// Strong sign of interception.
    Strong,
    /// Proves interception (witness).
    Proof,
}

/// What a piece of evidence is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// A presented certificate did not parse.
    UnparsedCertificate,
    /// More certificates than analysed were presented.
    ChainTruncated,
    /// The chain ends in a public root.
    AnchoredPublic,
    /// The chain ends in a root only the local store trusts.
    AnchoredLocalOnly,
    /// The chain is not trusted.
    Untrusted,
    /// An issuer or CA subject matches a known interception product.
    KnownProduct,
    /// Products that let the administrator name their CA cannot be named from the issuer.
    ProductNotNameable,
    /// The leaf carries embedded SCTs.
    SctPresent,
    /// The leaf carries no embedded SCT.
    NoEmbeddedSct,
    /// The leaf was issued very recently.
    FreshlyIssued,
    /// The leaf has a very short lifetime.
    ShortLived,
    /// The leaf key type differs from the reference.
    KeyTypeDiffers,
    /// The leaf issuer differs from the reference.
    IssuerDiffers,
    /// The leaf equals the reference leaf.
    MatchesReference,
    /// A pin matched.
    PinMatch,
    /// No certificate matched any pin.
    PinMismatch,
    /// The leaf equals `--expect-cert`.
    ExpectedCertMatch,
    /// The leaf differs from `--expect-cert`.
    ExpectedCertMismatch,
    /// ALPN fell from h2 (reference) to something else.
    AlpnDowngrade,
    /// The TLS version fell below the reference.
    TlsVersionDowngrade,
    /// The witness received a different ClientHello random.
    WitnessClientRandomDiffers,
    /// The witness served a different chain.
    WitnessChainDiffers,
    /// The witness saw exactly our hello and served exactly our chain.
    WitnessMatches,
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Machine-readable kind.
    pub kind: EvidenceKind,
    /// Weight.
    pub strength: Strength,
    /// Human message saying what was seen.
    pub message: String,
    /// Index of the certificate concerned (0 = leaf), if any.
    pub certificate: Option<usize>,
}

/// Verdict status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictStatus {
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

/// Confidence in the status: three levels, not a number, because the rules are qualitative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Plausible; other explanations are about as likely.
    Low,
    /// Probable; another explanation exists but is less likely.
    Medium,
    /// Established by the evidence.
    High,
}

/// The product named by the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictProduct {
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

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Status.
    pub status: VerdictStatus,
    /// Confidence.
    pub confidence: Confidence,
    /// The product, if one was named.
    pub product: Option<VerdictProduct>,
    /// The rule that decided (see docs/tls-verdicts.md).
    pub rule: &'static str,
    /// One sentence for humans.
    pub summary: String,
}

/// The result of [`analyse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Facts of each presented certificate, leaf first.
    pub certificates: Vec<CertFacts>,
    /// Trust classification.
    pub trust: TrustResult,
    /// Products recognised in the chain.
    pub products: Vec<ProductMatch>,
    /// Evidence, in the order the rules looked at it (trust, products, traits, pins, downgrade,
    /// witness).
    pub evidence: Vec<Evidence>,
    /// Verdict.
    pub verdict: Verdict,
}

fn ev(
    kind: EvidenceKind,
    strength: Strength,
    message: String,
    certificate: Option<usize>,
) -> Evidence {
    Evidence {
        kind,
        strength,
        message,
        certificate,
    }
}

fn version_rank(v: &str) -> Option<u8> {
    let v = v.to_ascii_lowercase().replace(['v', ' ', '_'], "");
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

/// Names that belong to an internal network: a private PKI for them is normal, so a missing SCT
/// says nothing there.
fn looks_internal(name: &str) -> bool {
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

/// Analyses a presented chain. Never panics on any input bytes; work is bounded by the chain cap
/// (16 intermediates) and the certificate size cap.
pub fn analyse(input: &ChainInput<'_>) -> ChainReport {
    let mut evidence = Vec::new();
    let presented: Vec<Vec<u8>> = input
        .presented
        .iter()
        .take(MAX_CHAIN + 1)
        .cloned()
        .collect();
    if input.presented.len() > presented.len() {
        evidence.push(ev(
            EvidenceKind::ChainTruncated,
            Strength::Info,
            format!(
                "{} certificates presented; only the first {} analysed",
                input.presented.len(),
                presented.len()
            ),
            None,
        ));
    }
    let certificates: Vec<CertFacts> = presented
        .iter()
        .enumerate()
        .map(|(i, d)| CertFacts::from_der(i, d))
        .collect();
    for c in certificates.iter().filter(|c| !c.parsed) {
        evidence.push(ev(
            EvidenceKind::UnparsedCertificate,
            Strength::Info,
            format!(
                "certificate #{} ({} bytes) is unparsed: {}",
                c.index,
                c.der_len,
                c.parse_error.as_deref().unwrap_or("")
            ),
            Some(c.index),
        ));
    }

    // Trust: the local set is the store plus --cacert.
    let local_owned;
    let local = match input.extra_roots {
        Some(extra) if !extra.is_empty() => {
            let mut l = input.local_roots.clone();
            l.extend(extra);
            local_owned = l;
            &local_owned
        }
        _ => input.local_roots,
    };
    let trust = evaluate(
        &presented,
        &input.server_name,
        input.now,
        input.public_roots,
        local,
    );
    let anchor_text = |t: &TrustResult| {
        t.anchor
            .as_ref()
            .map(|a| format!("{} ({})", a.subject, a.spki_sha256))
            .unwrap_or_else(|| "?".into())
    };
    match (trust.status, trust.reason) {
        (TrustStatus::AnchoredPublic, _) => evidence.push(ev(
            EvidenceKind::AnchoredPublic,
            Strength::Info,
            format!("the chain ends in the public root {}", anchor_text(&trust)),
            None,
        )),
        (TrustStatus::AnchoredLocalOnly, _) => evidence.push(ev(
            EvidenceKind::AnchoredLocalOnly,
            Strength::Weak,
            format!(
                "the chain ends in {}, a root only this machine's store trusts (an enterprise root: interception or a private PKI)",
                anchor_text(&trust)
            ),
            None,
        )),
        (TrustStatus::Untrusted, reason) => {
            let detail = trust.public.detail.clone().or(trust.local.detail.clone()).unwrap_or_default();
            let msg = match reason {
                Some(UntrustedReason::NameMismatch) => format!(
                    "the leaf does not cover {} (its names: {}); the path itself ends in {}",
                    input.server_name,
                    certificates.first().map(|c| c.sans.join(", ")).unwrap_or_default(),
                    anchor_text(&trust)
                ),
                Some(r) => format!("not trusted by the public or the local roots: {} ({detail})", r.describe()),
                None => "not trusted".into(),
            };
            evidence.push(ev(EvidenceKind::Untrusted, Strength::Info, msg, Some(0)));
        }
    }

    // Products.
    let products = input.products.match_chain(&certificates);
    for m in &products {
        evidence.push(ev(
            EvidenceKind::KnownProduct,
            Strength::Strong,
            format!(
                "{} {:?} of certificate #{} matches {} by {} (pattern {:?})",
                m.field.label(),
                m.value,
                m.certificate,
                m.product,
                m.vendor,
                m.pattern
            ),
            Some(m.certificate),
        ));
    }
    if products.is_empty() && trust.status == TrustStatus::AnchoredLocalOnly {
        let names: Vec<&str> = input
            .products
            .admin_named()
            .map(|p| p.product.as_str())
            .collect();
        if !names.is_empty() {
            evidence.push(ev(
                EvidenceKind::ProductNotNameable,
                Strength::Info,
                format!(
                    "no known product in the issuer names; {} use a CA name the administrator chooses, so they cannot be named from the issuer",
                    names.join(", ")
                ),
                None,
            ));
        }
    }

    // Minted-certificate traits of the leaf.
    let leaf = certificates.first().filter(|c| c.parsed);
    let reference_leaf = input
        .reference
        .as_ref()
        .and_then(|r| r.chain.first())
        .map(|d| CertFacts::from_der(0, d))
        .filter(|c| c.parsed);
    if let Some(leaf) = leaf.filter(|l| !l.is_ca) {
        if leaf.sct_count > 0 {
            evidence.push(ev(
                EvidenceKind::SctPresent,
                Strength::Info,
                format!("the leaf carries {} embedded SCTs", leaf.sct_count),
                Some(0),
            ));
        } else {
            let reference_scts = reference_leaf.as_ref().map_or(0, |r| r.sct_count);
            let (strength, why) = if reference_scts > 0 {
                (
                    Strength::Strong,
                    format!("; the reference leaf carries {reference_scts}"),
                )
            } else {
                match trust.status {
                    TrustStatus::AnchoredPublic if input.public_roots.is_builtin() => (
                        Strength::Weak,
                        " although the chain is publicly anchored (SCTs may also come in the handshake)".to_owned(),
                    ),
                    // A test or replacement public set: no CT expectation.
                    TrustStatus::AnchoredPublic => (Strength::Info, String::new()),
                    _ if looks_internal(&input.server_name) => (Strength::Info, " (normal for an internal name)".to_owned()),
                    _ => (Strength::Weak, format!(" although {} looks like a public web name", input.server_name)),
                }
            };
            evidence.push(ev(
                EvidenceKind::NoEmbeddedSct,
                strength,
                format!("the leaf carries no embedded SCT{why}"),
                Some(0),
            ));
        }
        if let Some((nb, na)) = leaf.validity {
            let age = input.now - nb;
            if age >= Duration::ZERO && age <= FRESH {
                evidence.push(ev(
                    EvidenceKind::FreshlyIssued,
                    Strength::Weak,
                    format!("the leaf was issued {} minutes ago", age.whole_minutes()),
                    Some(0),
                ));
            }
            let life = na - nb;
            if life <= SHORT_LIFE {
                evidence.push(ev(
                    EvidenceKind::ShortLived,
                    Strength::Weak,
                    format!("the leaf lives {} hours", life.whole_hours()),
                    Some(0),
                ));
            }
        }
        if let Some(r) = &reference_leaf {
            if r.sha256 == leaf.sha256 {
                evidence.push(ev(
                    EvidenceKind::MatchesReference,
                    Strength::Info,
                    "the leaf is identical to the reference leaf".into(),
                    Some(0),
                ));
            } else {
                // With a public anchor a different key type or issuer is common (dual ECDSA/RSA
                // certificates, CDNs with several CAs), so it only weighs there as weak.
                let strength = if trust.status == TrustStatus::AnchoredPublic {
                    Strength::Weak
                } else {
                    Strength::Strong
                };
                if let (Some(a), Some(b)) = (&leaf.key, &r.key) {
                    if a != b {
                        evidence.push(ev(
                            EvidenceKind::KeyTypeDiffers,
                            strength,
                            format!(
                                "the leaf key is {}, the reference leaf key is {}",
                                a.describe(),
                                b.describe()
                            ),
                            Some(0),
                        ));
                    }
                }
                if leaf.issuer != r.issuer {
                    evidence.push(ev(
                        EvidenceKind::IssuerDiffers,
                        strength,
                        format!(
                            "the leaf is issued by {}, the reference leaf by {}",
                            leaf.issuer.as_deref().unwrap_or("?"),
                            r.issuer.as_deref().unwrap_or("?")
                        ),
                        Some(0),
                    ));
                }
            }
        }
    }

    // Pins.
    let mut pin_mismatch = false;
    let mut pin_match = false;
    if !input.pins.is_empty() {
        let hit = certificates.iter().find(|c| {
            c.spki_pin
                .as_ref()
                .is_some_and(|p| input.pins.iter().any(|pin| &pin.to_string() == p))
        });
        match hit {
            Some(c) => {
                pin_match = true;
                evidence.push(ev(
                    EvidenceKind::PinMatch,
                    Strength::Info,
                    format!("certificate #{} ({}) has a pinned key", c.index, c.label()),
                    Some(c.index),
                ));
            }
            None => {
                pin_mismatch = true;
                evidence.push(ev(
                    EvidenceKind::PinMismatch,
                    Strength::Strong,
                    format!(
                        "no certificate of the chain has a pinned key (leaf key {})",
                        leaf.and_then(|l| l.spki_pin.clone()).unwrap_or_default()
                    ),
                    None,
                ));
            }
        }
    }
    if let Some(expected) = &input.expect_cert {
        if presented.first() == Some(expected) {
            pin_match = true;
            evidence.push(ev(
                EvidenceKind::ExpectedCertMatch,
                Strength::Info,
                "the leaf is the expected certificate".into(),
                Some(0),
            ));
        } else {
            pin_mismatch = true;
            evidence.push(ev(
                EvidenceKind::ExpectedCertMismatch,
                Strength::Strong,
                format!(
                    "the leaf is not the expected certificate (sha256 {})",
                    sha256_expected(expected)
                ),
                Some(0),
            ));
        }
    }

    // Downgrade against the reference run.
    if let Some(r) = &input.reference {
        let (obs, refn) = (&input.negotiated, &r.negotiated);
        if refn.alpn.as_deref() == Some("h2") && obs.alpn.as_deref() != Some("h2") {
            evidence.push(ev(
                EvidenceKind::AlpnDowngrade,
                Strength::Strong,
                format!(
                    "ALPN fell from h2 (reference) to {}",
                    obs.alpn.as_deref().unwrap_or("none")
                ),
                None,
            ));
        }
        if let (Some(o), Some(rv)) = (obs.tls_version.as_deref(), refn.tls_version.as_deref()) {
            if let (Some(or), Some(rr)) = (version_rank(o), version_rank(rv)) {
                if or < rr {
                    evidence.push(ev(
                        EvidenceKind::TlsVersionDowngrade,
                        Strength::Strong,
                        format!("TLS version fell from {rv} (reference) to {o}"),
                        None,
                    ));
                }
            }
        }
    }

    // Witness.
    let mut witness_differs = false;
    let mut witness_matches = false;
    if let Some(w) = &input.witness {
        if w.client_random_equal == Some(false) {
            witness_differs = true;
            evidence.push(ev(
                EvidenceKind::WitnessClientRandomDiffers,
                Strength::Proof,
                "the witness received a different ClientHello random: something on the path terminated our TLS".into(),
                None,
            ));
        }
        if w.chain_equal == Some(false) {
            witness_differs = true;
            evidence.push(ev(
                EvidenceKind::WitnessChainDiffers,
                Strength::Proof,
                "the witness served a different chain from the one we received".into(),
                None,
            ));
        }
        if !witness_differs && (w.client_random_equal == Some(true) || w.chain_equal == Some(true))
        {
            witness_matches = true;
            evidence.push(ev(
                EvidenceKind::WitnessMatches,
                Strength::Info,
                "the witness saw our ClientHello and served our chain: the path to that port is clean".into(),
                None,
            ));
        }
    }

    let verdict = decide(&Facts {
        trust: &trust,
        products: &products,
        evidence: &evidence,
        pin_mismatch,
        pin_match,
        witness_differs,
        witness_matches,
    });
    ChainReport {
        certificates,
        trust,
        products,
        evidence,
        verdict,
    }
}

fn sha256_expected(der: &[u8]) -> String {
    crate::facts::sha256_hex(der)
}

struct Facts<'a> {
    trust: &'a TrustResult,
    products: &'a [ProductMatch],
    evidence: &'a [Evidence],
    pin_mismatch: bool,
    pin_match: bool,
    witness_differs: bool,
    witness_matches: bool,
}

/// Minted-certificate traits and downgrades, the signals that lift a local-only anchor to
/// likely-intercepted (products, pins and the witness are decided before).
fn is_minted_signal(k: EvidenceKind) -> bool {
    matches!(
        k,
        EvidenceKind::NoEmbeddedSct
            | EvidenceKind::FreshlyIssued
            | EvidenceKind::ShortLived
            | EvidenceKind::KeyTypeDiffers
            | EvidenceKind::IssuerDiffers
            | EvidenceKind::AlpnDowngrade
            | EvidenceKind::TlsVersionDowngrade
    )
}

fn decide(f: &Facts<'_>) -> Verdict {
    let status = f.trust.status;
    let product = f.products.first().map(|m| VerdictProduct {
        id: m.id.clone(),
        name: m.product.clone(),
        vendor: m.vendor.clone(),
        kind: m.kind,
        doc: m.doc.clone(),
    });
    let v = |status, confidence, rule, summary: String, product: Option<VerdictProduct>| Verdict {
        status,
        confidence,
        product,
        rule,
        summary,
    };
    let signals = || f.evidence.iter().filter(|e| is_minted_signal(e.kind));
    let strong = signals().filter(|e| e.strength >= Strength::Strong).count();
    let weak = signals().filter(|e| e.strength == Strength::Weak).count();

    if f.witness_differs {
        return v(
            VerdictStatus::Intercepted,
            Confidence::High,
            "witness-differs",
            "the witness saw a different handshake: the connection is intercepted".into(),
            product,
        );
    }
    if let Some(p) = product {
        let confidence = match status {
            TrustStatus::AnchoredLocalOnly => Confidence::High,
            _ => Confidence::Medium,
        };
        let summary = format!("certificates are minted by {} ({})", p.name, p.vendor);
        return v(
            VerdictStatus::Intercepted,
            confidence,
            "known-product",
            summary,
            Some(p),
        );
    }
    if f.pin_mismatch {
        return match status {
            TrustStatus::AnchoredLocalOnly => v(
                VerdictStatus::Intercepted,
                Confidence::Medium,
                "pin-mismatch-local",
                "the expected key is not in the chain and the chain ends in a local-only root: something on the path re-signs".into(),
                None,
            ),
            TrustStatus::AnchoredPublic => v(
                VerdictStatus::Untrusted,
                Confidence::Medium,
                "pin-mismatch-public",
                "the chain is publicly valid but not the expected key: the site changed its key, or a public CA issued for it".into(),
                None,
            ),
            _ => v(
                VerdictStatus::Untrusted,
                Confidence::High,
                "pin-mismatch-untrusted",
                "the chain is not trusted and not the expected key".into(),
                None,
            ),
        };
    }
    if status == TrustStatus::Untrusted {
        if f.trust.reason == Some(UntrustedReason::UnknownIssuer) && strong > 0 {
            return v(
                VerdictStatus::LikelyIntercepted,
                Confidence::Medium,
                "untrusted-minted",
                "an unknown issuer signs a certificate that differs from the reference: likely an interception box whose root this machine lacks".into(),
                None,
            );
        }
        let reason = f.trust.reason.map_or("unknown reason", |r| r.describe());
        return v(
            VerdictStatus::Untrusted,
            Confidence::High,
            "untrusted",
            format!("the chain is not trusted ({reason})"),
            None,
        );
    }
    if f.witness_matches {
        return v(
            VerdictStatus::Clean,
            Confidence::High,
            "witness-match",
            "the witness saw our exact handshake: nothing on the path to that port terminates TLS"
                .into(),
            None,
        );
    }
    if f.pin_match && strong == 0 {
        return v(
            VerdictStatus::Clean,
            Confidence::High,
            "pin-match",
            "the chain carries the expected key".into(),
            None,
        );
    }
    match status {
        TrustStatus::AnchoredLocalOnly if strong > 0 || weak >= 2 => v(
            VerdictStatus::LikelyIntercepted,
            if strong > 0 { Confidence::Medium } else { Confidence::Low },
            "local-only-minted",
            "a local-only root signs a certificate with traits of one minted on the fly".into(),
            None,
        ),
        TrustStatus::AnchoredLocalOnly => v(
            VerdictStatus::PrivatePkiUnknown,
            Confidence::Medium,
            "local-only",
            "a root only this machine trusts signs the chain, with no other sign: interception or an internal PKI, interloper cannot tell".into(),
            None,
        ),
        _ => {
            let confidence = if strong > 0 {
                Confidence::Low
            } else if weak > 0 {
                Confidence::Medium
            } else {
                Confidence::High
            };
            v(VerdictStatus::Clean, confidence, "public", "the chain is anchored in a public root".into(), None)
        }
    }
}
