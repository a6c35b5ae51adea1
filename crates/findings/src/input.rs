//! What the analysis reads. The check command fills these from the probe, the asset checks,
//! the chain analysis and the witness; keeping them neutral here means the diagnosis can be
//! tested from hand-built evidence and replayed from saved reports.

use crate::catalogue::Confidence;
use interloper_model::{HttpVersion, Phases, RequestRecord};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Everything gathered about one target (one instance of the app).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetEvidence {
    /// Label for reports (usually the page URL).
    pub label: String,
    /// Every asset probed, with its samples.
    pub assets: Vec<AssetEvidence>,
    /// TLS path analysis, when the target is HTTPS.
    pub tls: Option<TlsEvidence>,
    /// What the witness saw, when `--echo` was given.
    pub witness: Option<WitnessEvidence>,
    /// Identity of the static build this target serves (Django manifest hash, or a digest of
    /// the hashed names seen), to compare instances.
    pub static_version: Option<String>,
}

/// One asset and everything measured about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetEvidence {
    /// Absolute URL.
    pub url: String,
    /// Every timed request made for it.
    pub records: Vec<RequestRecord>,
    /// Integrity and header checks that failed (passing checks need not be listed).
    pub checks: Vec<AssetCheck>,
}

/// A failed asset check (from the assets crate's verdicts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetCheck {
    /// What failed.
    pub kind: AssetCheckKind,
    /// Expected value, when there is one.
    pub expected: Option<String>,
    /// What was seen.
    pub actual: Option<String>,
    /// One line for humans.
    pub detail: String,
}

/// Kinds of failed asset checks the findings map to codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetCheckKind {
    /// md5 of the content does not match the hash in the file name.
    HashedNameMismatch,
    /// Subresource Integrity mismatch.
    SriMismatch,
    /// Fewer bytes than Content-Length.
    LengthMismatch,
    /// Content-Encoding did not decode.
    EncodingBroken,
    /// Wrong Content-Type while `nosniff` is set (blocks CSS/JS).
    WrongTypeNosniff,
    /// Wrong Content-Type without `nosniff` (browsers may sniff).
    WrongType,
    /// 404.
    NotFound,
    /// 403.
    Forbidden,
    /// 5xx.
    ServerError,
    /// Hashed name without long-lived caching headers.
    ShortCache,
    /// A later response for a verified, immutable file carried different bytes than the
    /// verified one (intermittent rewriting on the path).
    ContentChanged,
    /// The body expands past the decoding limit at a ratio no real file has.
    DecompressionBomb,
    /// Still redirecting after the most hops followed.
    RedirectLoop,
    /// Redirected to a scheme that is not followed (`file:`, `ftp:`, …).
    RedirectNotFollowed,
    /// A document (the page or a stylesheet) could not be read for what it references: the
    /// files it loads are missing from the check (`detail` says why).
    NotExamined,
}

/// Status of the TLS path, as decided by the chain analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsStatus {
    /// Public chain, nothing odd.
    Clean,
    /// Interception shown (product named, or witness proof).
    Intercepted,
    /// Several signals of interception, no proof.
    LikelyIntercepted,
    /// An internal CA, and nothing else: could be a private PKI.
    PrivatePkiUnknown,
    /// Not trusted at all.
    Untrusted,
}

impl TlsStatus {
    /// The kebab-case name used in JSON and in reports: `clean`, `likely-intercepted`, …
    pub fn as_str(self) -> &'static str {
        match self {
            TlsStatus::Clean => "clean",
            TlsStatus::Intercepted => "intercepted",
            TlsStatus::LikelyIntercepted => "likely-intercepted",
            TlsStatus::PrivatePkiUnknown => "private-pki-unknown",
            TlsStatus::Untrusted => "untrusted",
        }
    }
}

impl std::fmt::Display for TlsStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TLS path analysis, reduced to what the findings need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsEvidence {
    /// Verdict of the chain analysis.
    pub status: TlsStatus,
    /// Its confidence.
    pub confidence: Confidence,
    /// Product named from the issuer, if any.
    pub product: Option<String>,
    /// Leaf subject as presented.
    pub leaf_subject: Option<String>,
    /// Leaf issuer as presented.
    pub leaf_issuer: Option<String>,
    /// Each signal, in the order the chain analysis ranked them.
    pub items: Vec<TlsItem>,
}

/// One TLS signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsItem {
    /// What kind of signal.
    pub kind: TlsItemKind,
    /// What was seen, in words.
    pub message: String,
}

/// Kinds of TLS signals the findings map to codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsItemKind {
    /// Issuer or subject matches an interception product.
    ProductMatch,
    /// Anchored in a local root only.
    LocalAnchorOnly,
    /// Minted-certificate traits.
    MintedTraits,
    /// A pin did not match.
    PinMismatch,
    /// ALPN or TLS version lower than the reference.
    Downgrade,
    /// The chain did not verify at all.
    Untrusted,
    /// The server left out a certificate of its chain (IL113).
    IncompleteChain,
    /// Anything else worth showing.
    Other,
}

/// What the witness saw compared with what the client sent and got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WitnessEvidence {
    /// The witness URL.
    pub url: String,
    /// The client_random the witness received equals the one the client sent.
    pub client_random_matched: bool,
    /// The chain the witness served equals the chain the client received.
    pub chain_matched: bool,
    /// JA4 the client sent.
    pub client_ja4: Option<String>,
    /// JA4 the witness received.
    pub witness_ja4: Option<String>,
    /// What sent the hello the witness received, when it was not the client's and its JA4 is
    /// known ("mitmproxy 11 (Python, OpenSSL 3.4)"), with where that JA4 was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_stack: Option<String>,
    /// Milliseconds the witness took from request to response written.
    pub server_ms: Option<f64>,
    /// Milliseconds the client waited for the same response (TTFB).
    pub client_ms: Option<f64>,
    /// Repeated requests to the witness: (client TTFB, witness time) in ms; a failed request
    /// has no client time.
    #[serde(default)]
    pub samples: Vec<(Option<f64>, Option<f64>)>,
}

/// A piece of evidence behind a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// One request, with its timing.
    Request {
        /// URL requested.
        url: String,
        /// Sequence number within the asset's samples.
        seq: u64,
        /// Remote address.
        remote_addr: Option<SocketAddr>,
        /// HTTP version.
        http_version: Option<HttpVersion>,
        /// Status, if any.
        status: Option<u16>,
        /// The phase timings.
        phases: Phases,
        /// Error kind and message, if it failed.
        error: Option<String>,
        /// Bytes received vs announced.
        bytes_received: u64,
        /// Content-Length announced.
        content_length: Option<u64>,
    },
    /// A statistic over many requests.
    Stat {
        /// What was counted.
        label: String,
        /// The value, formatted.
        value: String,
    },
    /// A certificate or TLS observation.
    Tls {
        /// What was seen.
        message: String,
    },
    /// A failed asset check.
    Check {
        /// The asset.
        url: String,
        /// The check.
        check: AssetCheck,
    },
    /// What the witness reported.
    Witness {
        /// What was compared, in words.
        message: String,
    },
    /// A line of an access log.
    Log {
        /// `file:line`.
        location: String,
        /// The line, or its fields in words.
        text: String,
    },
}

impl Evidence {
    /// Evidence for one request record.
    pub fn request(r: &RequestRecord) -> Evidence {
        Evidence::Request {
            url: r.url.clone(),
            seq: r.seq,
            remote_addr: r.remote_addr,
            http_version: r.http_version,
            status: r.status,
            phases: r.phases.clone(),
            error: r
                .error
                .as_ref()
                .map(|e| format!("{} in {}: {}", e.kind.as_str(), e.phase.as_str(), e.message)),
            bytes_received: r.bytes_received,
            content_length: r.content_length,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use interloper_model::HttpVersion;

    #[test]
    fn tls_status_names_are_the_json_names() {
        for s in [
            TlsStatus::Clean,
            TlsStatus::Intercepted,
            TlsStatus::LikelyIntercepted,
            TlsStatus::PrivatePkiUnknown,
            TlsStatus::Untrusted,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            let back: TlsStatus = serde_json::from_value(s.as_str().into()).unwrap();
            assert_eq!(back, s);
        }
    }

    /// Request evidence writes the address and version as the record's JSON does.
    #[test]
    fn request_evidence_keeps_address_and_version_text() {
        let e = Evidence::Request {
            url: "https://a.test/x".into(),
            seq: 3,
            remote_addr: Some("[::1]:8443".parse().unwrap()),
            http_version: Some(HttpVersion::Http11),
            status: None,
            phases: Phases::default(),
            error: None,
            bytes_received: 0,
            content_length: None,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "request");
        assert_eq!(v["remote_addr"], "[::1]:8443");
        assert_eq!(v["http_version"], "HTTP/1.1");
        assert_eq!(serde_json::from_value::<Evidence>(v).unwrap(), e);
    }
}
