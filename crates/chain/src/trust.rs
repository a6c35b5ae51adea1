//! Path building and verification against separate root sets (rustls-webpki), and the
//! classification public / local-only / untrusted.

use std::time::Duration;

use rustls_pki_types::{
    CertificateDer, ServerName, SignatureVerificationAlgorithm, TrustAnchor, UnixTime,
};
use serde::Serialize;
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage};

use crate::facts::name_to_string;
use crate::pins::pin_of_spki;

/// Most intermediates handed to the path builder; webpki bounds its own work as well.
pub(crate) const MAX_CHAIN: usize = 16;

/// One trust anchor with what reports need to name it.
#[derive(Debug, Clone)]
struct Anchor {
    ta: TrustAnchor<'static>,
    facts: AnchorFacts,
    /// Declared by the user as their organisation's own root (`--private-root`).
    private: bool,
}

/// How a trust anchor is named in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorFacts {
    /// Subject distinguished name of the anchor.
    pub subject: String,
    /// `sha256//BASE64` of the anchor's SubjectPublicKeyInfo.
    pub spki_sha256: String,
}

/// A set of trust anchors.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    anchors: Vec<Anchor>,
    builtin: bool,
}

/// Why a caller-supplied anchor was skipped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RootError {
    /// The DER could not be used as a trust anchor.
    #[error("root #{index}: not usable as a trust anchor: {reason}")]
    BadAnchor {
        /// Position in the input.
        index: usize,
        /// webpki's reason.
        reason: String,
    },
}

impl Roots {
    /// No anchors.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Mozilla's root program, as shipped in webpki-roots.
    pub fn webpki() -> Self {
        let anchors = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|ta| Anchor::new(ta.clone()))
            .collect();
        Roots {
            anchors,
            builtin: true,
        }
    }

    /// Anchors from DER certificates (the caller read PEM files or the OS store). Certificates
    /// that cannot be anchors are skipped and returned as errors, so one bad file entry does not
    /// lose the rest of a store.
    pub fn from_der<I, B>(certs: I) -> (Self, Vec<RootError>)
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut roots = Roots::default();
        let mut errors = Vec::new();
        for (index, der) in certs.into_iter().enumerate() {
            let der = CertificateDer::from(der.as_ref());
            match webpki::anchor_from_trusted_cert(&der) {
                Ok(ta) => roots.anchors.push(Anchor::new(ta.to_owned())),
                Err(e) => errors.push(RootError::BadAnchor {
                    index,
                    reason: e.to_string(),
                }),
            }
        }
        (roots, errors)
    }

    /// Adds the anchors of `other` (used to fold `--cacert` and `--private-root` anchors into
    /// the local set).
    pub fn extend(&mut self, other: &Roots) {
        self.anchors.extend(other.anchors.iter().cloned());
    }

    /// The same anchors, declared the user's own private roots (`--private-root`): a chain that
    /// ends in one is the organisation's PKI, not an unknown local root.
    pub fn declared_private(mut self) -> Self {
        for anchor in &mut self.anchors {
            anchor.private = true;
        }
        self
    }

    /// True when an anchor named by `facts` was declared private.
    fn is_declared_private(&self, facts: &AnchorFacts) -> bool {
        self.anchors.iter().any(|a| a.private && &a.facts == facts)
    }

    /// True when an anchor of this set has this subject (as [`AnchorFacts::subject`] writes
    /// it): an issuer name that is a root of the set.
    pub fn has_subject(&self, subject: &str) -> bool {
        self.anchors.iter().any(|a| a.facts.subject == subject)
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// True when there are no anchors.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// True for the built-in Mozilla set (then public certificates are expected to carry SCTs).
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    fn contains(&self, ta: &TrustAnchor<'_>) -> bool {
        self.anchors.iter().any(|a| {
            a.ta.subject.as_ref() == ta.subject.as_ref()
                && a.ta.subject_public_key_info.as_ref() == ta.subject_public_key_info.as_ref()
        })
    }

    /// Whether an anchor's subject is `name` (a distinguished name, DER): where a chain that
    /// names this issuer may end (IL113's walk, `analysis::incomplete`).
    pub(crate) fn holds_subject(&self, name: &[u8]) -> bool {
        self.anchors
            .iter()
            .any(|a| der_sequence(a.ta.subject.as_ref()) == name)
    }

    fn find(&self, ta: &TrustAnchor<'_>) -> Option<&Anchor> {
        self.anchors.iter().find(|a| {
            a.ta.subject.as_ref() == ta.subject.as_ref()
                && a.ta.subject_public_key_info.as_ref() == ta.subject_public_key_info.as_ref()
        })
    }
}

impl Anchor {
    fn new(ta: TrustAnchor<'static>) -> Self {
        // The anchor stores the Name and SPKI contents without their SEQUENCE header.
        let subject = name_to_string(&der_sequence(ta.subject.as_ref()))
            .unwrap_or_else(|| "(unreadable subject)".into());
        let spki = webpki::spki_for_anchor(&ta);
        let spki_sha256 = pin_of_spki(spki.as_ref());
        Anchor {
            ta,
            facts: AnchorFacts {
                subject,
                spki_sha256,
            },
            private: false,
        }
    }
}

fn der_sequence(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Why a chain is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UntrustedReason {
    /// The server sent no certificate.
    EmptyChain,
    /// The leaf (or a needed certificate) is not valid DER X.509.
    Malformed,
    /// No path to any anchor of the set.
    UnknownIssuer,
    /// A certificate on the path has expired.
    Expired,
    /// A certificate on the path is not yet valid (or the clock is wrong).
    NotYetValid,
    /// The leaf does not cover the server name.
    NameMismatch,
    /// A signature on the path does not verify.
    BadSignature,
    /// A signature or key algorithm is not supported.
    UnsupportedAlgorithm,
    /// Key usage / basic constraints / EKU forbid this use.
    InvalidUsage,
    /// The key is explicitly distrusted.
    Distrusted,
    /// Anything else webpki reports (see `detail`).
    Other,
}

impl UntrustedReason {
    /// Human phrase for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::EmptyChain => "no certificate presented",
            Self::Malformed => "malformed certificate",
            Self::UnknownIssuer => "unknown issuer",
            Self::Expired => "expired",
            Self::NotYetValid => "not yet valid",
            Self::NameMismatch => "name mismatch",
            Self::BadSignature => "bad signature",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::InvalidUsage => "not valid for server authentication",
            Self::Distrusted => "distrusted key",
            Self::Other => "other verification error",
        }
    }

    fn from_webpki(e: &webpki::Error) -> Self {
        use webpki::Error as E;
        match e {
            E::UnknownIssuer => Self::UnknownIssuer,
            E::CertExpired { .. } => Self::Expired,
            E::CertNotValidYet { .. } => Self::NotYetValid,
            E::CertNotValidForName(_) => Self::NameMismatch,
            E::InvalidSignatureForPublicKey => Self::BadSignature,
            E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => Self::UnsupportedAlgorithm,
            E::CaUsedAsEndEntity
            | E::EndEntityUsedAsCa
            | E::RequiredEkuNotFoundContext(_)
            | E::PathLenConstraintViolated
            | E::NameConstraintViolation => Self::InvalidUsage,
            E::CertDistrusted => Self::Distrusted,
            E::BadDer | E::BadDerTime | E::TrailingData(_) | E::UnsupportedCertVersion => {
                Self::Malformed
            }
            _ => Self::Other,
        }
    }
}

/// The outcome of path building against one root set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathCheck {
    /// Number of anchors in the set.
    pub anchors: usize,
    /// A path to an anchor of this set was found and verified (name not considered).
    pub ok: bool,
    /// The anchor the path ended in.
    pub anchor: Option<AnchorFacts>,
    /// Why not.
    pub error: Option<UntrustedReason>,
    /// webpki's error text.
    pub detail: Option<String>,
}

/// Overall classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustStatus {
    /// Anchored in a public web root (an anchor in both sets counts as public).
    AnchoredPublic,
    /// Anchored only in a local root: an enterprise root (interception or a private PKI).
    AnchoredLocalOnly,
    /// Anchored in a root the user declared their organisation's own (`--private-root`).
    AnchoredPrivate,
    /// Not trusted by either set, or not valid for the server name.
    Untrusted,
}

impl TrustStatus {
    /// The name used in JSON and in the terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustStatus::AnchoredPublic => "anchored-public",
            TrustStatus::AnchoredLocalOnly => "anchored-local-only",
            TrustStatus::AnchoredPrivate => "anchored-private",
            TrustStatus::Untrusted => "untrusted",
        }
    }
}

/// Trust evaluation of a presented chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustResult {
    /// Classification.
    pub status: TrustStatus,
    /// Why untrusted (None when anchored and valid for the name).
    pub reason: Option<UntrustedReason>,
    /// The anchor of the winning path (also set when only the name failed).
    pub anchor: Option<AnchorFacts>,
    /// Against the public set.
    pub public: PathCheck,
    /// Against the local set (OS store, SSL_CERT_FILE/DIR, --cacert, --private-root).
    pub local: PathCheck,
    /// Whether the leaf covers the server name (None when the leaf did not parse or the name is
    /// not a DNS name / IP address).
    pub name_ok: Option<bool>,
}

fn unix(now: OffsetDateTime) -> UnixTime {
    // Before 1970 cannot be represented; clamp (everything will then be "not yet valid").
    UnixTime::since_unix_epoch(Duration::from_secs(
        u64::try_from(now.unix_timestamp()).unwrap_or(0),
    ))
}

/// The signature algorithms a chain may use: the ones webpki verified with ring before aws-lc-rs
/// became the binary's one crypto library, so no verdict moved with the library (aws-lc's own
/// list would add P-521 and SHA-512 ECDSA, which browsers' verifiers do not all accept).
static VERIFICATION_ALGS: &[&dyn SignatureVerificationAlgorithm] = {
    use webpki::aws_lc_rs as alg;
    &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::ED25519,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        alg::RSA_PKCS1_3072_8192_SHA384,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    ]
};

fn check(
    leaf: Option<&EndEntityCert<'_>>,
    inter: &[CertificateDer<'_>],
    roots: &Roots,
    now: UnixTime,
    presented: usize,
) -> PathCheck {
    let fail = |error, detail: String| PathCheck {
        anchors: roots.len(),
        ok: false,
        anchor: None,
        error: Some(error),
        detail: Some(detail),
    };
    let Some(leaf) = leaf else {
        return if presented == 0 {
            fail(
                UntrustedReason::EmptyChain,
                "no certificate presented".into(),
            )
        } else {
            fail(
                UntrustedReason::Malformed,
                "the leaf is not a usable certificate".into(),
            )
        };
    };
    let tas: Vec<TrustAnchor<'_>> = roots.anchors.iter().map(|a| a.ta.clone()).collect();
    match leaf.verify_for_usage(
        VERIFICATION_ALGS,
        &tas,
        inter,
        now,
        KeyUsage::server_auth(),
        None,
        None,
    ) {
        Ok(path) => PathCheck {
            anchors: roots.len(),
            ok: true,
            anchor: roots.find(path.anchor()).map(|a| a.facts.clone()),
            error: None,
            detail: None,
        },
        Err(e) => fail(UntrustedReason::from_webpki(&e), e.to_string()),
    }
}

/// Evaluates `presented` (leaf first, DER) separately against the public and the local set.
pub fn evaluate(
    presented: &[Vec<u8>],
    server_name: &str,
    now: OffsetDateTime,
    public: &Roots,
    local: &Roots,
) -> TrustResult {
    let now = unix(now);
    let certs: Vec<CertificateDer<'_>> = presented
        .iter()
        .take(MAX_CHAIN + 1)
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    let leaf = certs.first().and_then(|c| EndEntityCert::try_from(c).ok());
    let inter = certs.get(1..).unwrap_or(&[]);
    let public_check = check(leaf.as_ref(), inter, public, now, presented.len());
    let local_check = check(leaf.as_ref(), inter, local, now, presented.len());

    let name_ok = leaf.as_ref().and_then(|l| {
        let name = ServerName::try_from(server_name.trim_end_matches('.')).ok()?;
        Some(l.verify_is_valid_for_subject_name(&name).is_ok())
    });

    let (mut status, anchor) = if public_check.ok {
        (TrustStatus::AnchoredPublic, public_check.anchor.clone())
    } else if local_check.ok {
        // An anchor that is also in the public set counts as public.
        let also_public = local
            .anchors
            .iter()
            .filter(|a| Some(&a.facts) == local_check.anchor.as_ref())
            .any(|a| public.contains(&a.ta));
        let declared = local_check
            .anchor
            .as_ref()
            .is_some_and(|a| local.is_declared_private(a));
        let s = if also_public {
            TrustStatus::AnchoredPublic
        } else if declared {
            TrustStatus::AnchoredPrivate
        } else {
            TrustStatus::AnchoredLocalOnly
        };
        (s, local_check.anchor.clone())
    } else {
        (TrustStatus::Untrusted, None)
    };
    let mut reason = None;
    if status == TrustStatus::Untrusted {
        // Prefer the more specific failure: "expired" says more than "unknown issuer".
        reason = [&public_check, &local_check]
            .iter()
            .filter_map(|c| c.error)
            .find(|e| *e != UntrustedReason::UnknownIssuer)
            .or(public_check.error);
    } else if name_ok == Some(false) {
        status = TrustStatus::Untrusted;
        reason = Some(UntrustedReason::NameMismatch);
    }
    TrustResult {
        status,
        reason,
        anchor,
        public: public_check,
        local: local_check,
        name_ok,
    }
}
