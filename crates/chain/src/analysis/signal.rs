//! Signals: what one detector saw, with how much it weighs. `ChainReport.evidence` lists them
//! (JSON `evidence`, docs/tls-verdicts.md "Evidence").

use serde::Serialize;

/// How much a signal weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalStrength {
    /// Context, not a signal.
    Info,
    /// Weak sign: also seen on legitimate servers.
    Weak,
    /// Strong sign of interception.
    Strong,
    /// Proves interception (witness).
    Proof,
}

impl SignalStrength {
    /// The name used in JSON and in the terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalStrength::Info => "info",
            SignalStrength::Weak => "weak",
            SignalStrength::Strong => "strong",
            SignalStrength::Proof => "proof",
        }
    }
}

/// What a signal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalKind {
    /// A presented certificate did not parse.
    UnparsedCertificate,
    /// More certificates than analysed were presented.
    ChainTruncated,
    /// The chain ends in a public root.
    AnchoredPublic,
    /// The chain ends in a root only the local store trusts.
    AnchoredLocalOnly,
    /// The chain ends in a root the user declared their organisation's own.
    AnchoredPrivate,
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
    /// The leaf's public key is its CA's own (mitmproxy signs every minted leaf that way).
    LeafKeyIsIssuerKey,
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
    /// The server left out a certificate of its chain (IL113): the one it sent stops short of
    /// a root and names where its issuer can be downloaded.
    IncompleteChain,
}

/// One thing a detector saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    /// Machine-readable kind.
    pub kind: SignalKind,
    /// Weight.
    pub strength: SignalStrength,
    /// Human message saying what was seen.
    pub message: String,
    /// Index of the certificate concerned (0 = leaf), if any.
    pub certificate: Option<usize>,
}

impl Signal {
    pub(crate) fn new(
        kind: SignalKind,
        strength: SignalStrength,
        message: impl Into<String>,
        certificate: Option<usize>,
    ) -> Self {
        Signal {
            kind,
            strength,
            message: message.into(),
            certificate,
        }
    }
}
