//! The TLS path: trust of the presented chain against public and local roots, interception
//! evidence, our own ClientHello's fingerprints, and the witness comparison.
//!
//! Shared by `interloper tls` and `interloper check`: loading root sets (the only I/O here,
//! reading files the user named and the OS store) and asking the witness what it saw.

use std::path::PathBuf;
use std::time::Duration;

use interloper_chain::{
    ChainInput, ChainReport, Negotiated, PathStatus, ProductDb, Reference, Roots, SignalKind,
    WitnessComparison, analyse, certs_from_pem, sha256_hex,
};
use interloper_findings::{Confidence, TlsEvidence, TlsItem, TlsItemKind, TlsStatus};
use interloper_model::TlsInfo;
use interloper_probe::{ConnectionPolicy, Probe, ProbeConfig, Target};
use interloper_wire::{ClientHello, Transport, ja3, ja4};
use serde::Serialize;

/// What the user told us about trust and expectations.
#[derive(Debug, Clone, Default)]
pub struct TlsPathOptions {
    /// `--public-roots FILE`: replaces Mozilla's list (tests need it: no public CA signs a
    /// loopback certificate).
    pub public_roots: Option<PathBuf>,
    /// `--cacert FILE`: extra anchors, counted as local.
    pub cacert: Vec<PathBuf>,
    /// Read the OS store (and SSL_CERT_FILE / SSL_CERT_DIR) as the local roots.
    pub use_os_roots: bool,
    /// `--expect-pin sha256//BASE64`.
    pub pins: Vec<String>,
    /// `--expect-cert FILE` (PEM or DER leaf).
    pub expect_cert: Option<PathBuf>,
    /// `--products FILE`: a products file replacing the built-in one.
    pub products: Option<PathBuf>,
}

/// The root sets, loaded once.
#[derive(Debug)]
pub struct RootSets {
    /// Public web roots.
    pub public: Roots,
    /// The machine's store.
    pub local: Roots,
    /// `--cacert` anchors.
    pub extra: Roots,
    /// Problems reading any of them (kept going).
    pub warnings: Vec<String>,
}

/// Errors the user must fix (a file they named is unusable).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsPathError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file holds no certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    /// A pin is malformed.
    #[error(
        "--expect-pin {pin}: {reason} (expected sha256//BASE64 of the SPKI, as curl's --pinnedpubkey)"
    )]
    Pin {
        /// As given.
        pin: String,
        /// Why.
        reason: String,
    },
    /// The products file is malformed.
    #[error("products file {path}: {reason}")]
    Products {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn read(path: &PathBuf) -> Result<Vec<u8>, TlsPathError> {
    std::fs::read(path).map_err(|source| TlsPathError::Read {
        path: path.clone(),
        source,
    })
}

fn pem_certs(path: &PathBuf) -> Result<Vec<Vec<u8>>, TlsPathError> {
    let bytes = read(path)?;
    let certs = certs_from_pem(&bytes).unwrap_or_default();
    if certs.is_empty() {
        // A lone DER certificate is fine too.
        if bytes.first() == Some(&0x30) {
            return Ok(vec![bytes]);
        }
        return Err(TlsPathError::NoCertificate(path.clone()));
    }
    Ok(certs)
}

/// Load the public, local and extra root sets the options name.
pub fn load_roots(opts: &TlsPathOptions) -> Result<RootSets, TlsPathError> {
    let mut warnings = Vec::new();
    let public = match &opts.public_roots {
        Some(p) => {
            let (r, errs) = Roots::from_der(pem_certs(p)?);
            warnings.extend(errs.iter().map(|e| format!("{}: {e}", p.display())));
            r
        }
        None => Roots::webpki(),
    };
    let local = if opts.use_os_roots {
        let loaded = rustls_native_certs::load_native_certs();
        for e in &loaded.errors {
            warnings.push(format!("local trust store: {e}"));
        }
        let (r, errs) = Roots::from_der(loaded.certs.iter().map(|c| c.as_ref().to_vec()));
        if !errs.is_empty() {
            warnings.push(format!(
                "local trust store: {} certificate(s) unusable as anchors",
                errs.len()
            ));
        }
        r
    } else {
        Roots::empty()
    };
    let mut extra_der = Vec::new();
    for p in &opts.cacert {
        extra_der.extend(pem_certs(p)?);
    }
    let (extra, errs) = Roots::from_der(extra_der);
    warnings.extend(errs.iter().map(|e| format!("--cacert: {e}")));
    Ok(RootSets {
        public,
        local,
        extra,
        warnings,
    })
}

/// Load the products database named by the options, or the built-in one.
pub fn load_products(opts: &TlsPathOptions) -> Result<ProductDb, TlsPathError> {
    match &opts.products {
        None => Ok(ProductDb::builtin()),
        Some(p) => {
            let text = String::from_utf8_lossy(&read(p)?).into_owned();
            ProductDb::from_toml_str(&text).map_err(|e| TlsPathError::Products {
                path: p.clone(),
                reason: e.to_string(),
            })
        }
    }
}

/// Fingerprints of the ClientHello we sent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HelloFingerprints {
    /// JA3 string.
    pub ja3: String,
    /// JA3 MD5.
    pub ja3_hash: String,
    /// JA4.
    pub ja4: String,
    /// JA4_r (raw, sorted).
    pub ja4_r: String,
    /// JA4_o (original order).
    pub ja4_o: String,
    /// JA4_ro.
    pub ja4_ro: String,
    /// The 32-byte client_random, hex: what the witness must have seen.
    pub client_random: String,
    /// SNI sent.
    pub sni: Option<String>,
    /// ALPN offered.
    pub alpn: Vec<String>,
}

/// Parse the ClientHello the probe recorded and fingerprint it.
pub fn fingerprints(tls: &TlsInfo) -> Option<HelloFingerprints> {
    let hello = ClientHello::parse(&tls.client_hello).ok()?;
    let j3 = ja3(&hello);
    let j4 = ja4(&hello, Transport::Tcp);
    Some(HelloFingerprints {
        ja3: j3.string,
        ja3_hash: j3.hash,
        ja4: j4.ja4,
        ja4_r: j4.ja4_r,
        ja4_o: j4.ja4_o,
        ja4_ro: j4.ja4_ro,
        client_random: hex::encode(hello.random),
        sni: hello.sni(),
        alpn: hello.alpn(),
    })
}

/// What the witness reported, reduced to what we compare.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WitnessView {
    /// The witness URL asked.
    pub url: String,
    /// client_random the witness received (hex).
    pub client_random: Option<String>,
    /// JA4 the witness computed.
    pub ja4: Option<String>,
    /// SHA-256 of each certificate it served, leaf first.
    pub served_chain_sha256: Vec<String>,
    /// Its own time from request received to response written (ms).
    pub server_ms: Option<f64>,
    /// Our time to first byte for that request (ms).
    pub client_ttfb_ms: Option<f64>,
    /// Our ClientHello on that connection.
    pub client: Option<HelloFingerprints>,
    /// SHA-256 of each certificate we received on that connection.
    pub received_chain_sha256: Vec<String>,
    /// Negotiated ALPN as the witness saw it.
    pub alpn: Option<String>,
    /// Negotiated TLS version as the witness saw it.
    pub tls_version: Option<String>,
    /// Error, when the witness could not be asked.
    pub error: Option<String>,
    /// Repeated requests to the witness: (our TTFB ms, its own time ms) each.
    pub samples: Vec<WitnessSample>,
    /// For a passthrough recorder: whether our hello arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passthrough_seen: Option<bool>,
}

/// One repeated request to the witness.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct WitnessSample {
    /// Our time to first byte (ms); None when the request failed.
    pub client_ttfb_ms: Option<f64>,
    /// The witness's own time (Server-Timing), ms.
    pub server_ms: Option<f64>,
    /// Whole request (ms).
    pub total_ms: Option<f64>,
}

impl WitnessView {
    /// A passthrough's answer as a witness comparison: it saw our random or it did not; it
    /// serves no chain of its own.
    pub fn from_passthrough(seen: bool) -> WitnessView {
        WitnessView {
            url: String::new(),
            client_random: None,
            ja4: None,
            served_chain_sha256: Vec::new(),
            server_ms: None,
            client_ttfb_ms: None,
            client: None,
            received_chain_sha256: Vec::new(),
            alpn: None,
            tls_version: None,
            error: None,
            samples: Vec::new(),
            passthrough_seen: Some(seen),
        }
    }

    /// The comparison in the chain analysis' terms.
    pub fn comparison(&self) -> Option<WitnessComparison> {
        if let Some(seen) = self.passthrough_seen {
            return Some(WitnessComparison {
                client_random_equal: Some(seen),
                chain_equal: None,
            });
        }
        let ours = self.client.as_ref()?;
        let theirs = self.client_random.as_ref()?;
        let served_leaf = self.served_chain_sha256.first()?;
        let received_leaf = self.received_chain_sha256.first()?;
        Some(WitnessComparison {
            client_random_equal: Some(theirs.eq_ignore_ascii_case(&ours.client_random)),
            chain_equal: Some(served_leaf.eq_ignore_ascii_case(received_leaf)),
        })
    }
}

/// Ask the witness at `url` what it saw of one fresh connection of ours.
pub async fn ask_witness(url: &str, probe_cfg: &ProbeConfig) -> WitnessView {
    let mut view = WitnessView {
        url: url.to_string(),
        client_random: None,
        ja4: None,
        served_chain_sha256: Vec::new(),
        server_ms: None,
        client_ttfb_ms: None,
        client: None,
        received_chain_sha256: Vec::new(),
        alpn: None,
        tls_version: None,
        error: None,
        samples: Vec::new(),
        passthrough_seen: None,
    };
    let hello_url = match url::Url::parse(url).and_then(|u| u.join("/.well-known/interloper/hello"))
    {
        Ok(u) => u,
        Err(e) => {
            view.error = Some(format!("invalid witness URL: {e}"));
            return view;
        }
    };
    let mut cfg = probe_cfg.clone();
    // The witness's certificate is usually self-signed: what matters is the comparison, and we
    // send no credentials to it.
    cfg.insecure_skip_verify = true;
    cfg.headers.clear();
    cfg.phase_timeout = cfg.phase_timeout.min(Duration::from_secs(15));
    let probe = match Probe::new(cfg) {
        Ok(p) => p,
        Err(e) => {
            view.error = Some(e.to_string());
            return view;
        }
    };
    let Ok(target) = Target::from_url(hello_url) else {
        view.error = Some("invalid witness URL".into());
        return view;
    };
    let (rec, body) = probe
        .session(ConnectionPolicy::Fresh)
        .request_keeping_body(&target, 0, 256 * 1024)
        .await;
    view.client_ttfb_ms = rec.phases.ttfb_ms;
    if let Some(tls) = &rec.tls {
        view.client = fingerprints(tls);
        view.received_chain_sha256 = tls.presented_chain.iter().map(|c| sha256_hex(c)).collect();
    }
    if let Some(e) = &rec.error {
        view.error = Some(format!("witness request failed: {}", e.message));
        return view;
    }
    let json: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            view.error = Some(format!(
                "the witness answered {} but not with its JSON ({e}): is {url} an interloper echo?",
                rec.status.unwrap_or_default()
            ));
            return view;
        }
    };
    if json["schema"].as_str() != Some("interloper.echo/v1") {
        view.error = Some(format!("{url} did not answer with interloper.echo/v1"));
        return view;
    }
    view.client_random = json["client_hello"]["client_random"]
        .as_str()
        .map(str::to_string);
    view.ja4 = json["client_hello"]["ja4"]["ja4"]
        .as_str()
        .map(str::to_string);
    view.served_chain_sha256 = json["served_chain"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["sha256"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let ts = &json["timestamps"];
    if let (Some(a), Some(b)) = (
        ts["request_received"]["since_accept_us"].as_f64(),
        ts["response_written"]["since_accept_us"].as_f64(),
    ) {
        view.server_ms = Some((b - a).max(0.0) / 1000.0);
    }
    view.alpn = json["negotiated"]["alpn"].as_str().map(str::to_string);
    view.tls_version = json["negotiated"]["tls_version"]
        .as_str()
        .or(json["negotiated"]["version"].as_str())
        .map(str::to_string);
    view
}

/// Analyse the chain of one TLS session.
pub fn analyse_session(
    tls: &TlsInfo,
    server_name: &str,
    roots: &RootSets,
    products: &ProductDb,
    opts: &TlsPathOptions,
    witness: Option<&WitnessView>,
    reference: Option<Reference>,
) -> Result<ChainReport, TlsPathError> {
    let mut pins = Vec::new();
    for p in &opts.pins {
        pins.push(
            interloper_chain::Pin::parse(p).map_err(|e| TlsPathError::Pin {
                pin: p.clone(),
                reason: e.to_string(),
            })?,
        );
    }
    let expect_cert = match &opts.expect_cert {
        Some(p) => pem_certs(p)?.into_iter().next(),
        None => None,
    };
    let mut input = ChainInput::new(
        tls.presented_chain.clone(),
        server_name,
        interloper_chain::time::OffsetDateTime::now_utc(),
        &roots.public,
        &roots.local,
        products,
    );
    input.extra_roots = Some(&roots.extra);
    input.pins = pins;
    input.expect_cert = expect_cert;
    input.negotiated = Negotiated {
        alpn: tls.alpn.clone(),
        tls_version: tls.version.clone(),
    };
    input.reference = reference;
    if let Some(w) = witness {
        input.witness = w.comparison();
        // What the witness negotiated with whoever reached it is the reference for ours.
        if input.reference.is_none() && (w.alpn.is_some() || w.tls_version.is_some()) {
            input.reference = Some(Reference {
                chain: Vec::new(),
                negotiated: Negotiated {
                    alpn: w.alpn.clone(),
                    tls_version: w.tls_version.clone(),
                },
            });
        }
    }
    Ok(analyse(&input))
}

/// Reduce a chain report to the evidence the findings read.
pub fn to_findings_evidence(report: &ChainReport) -> TlsEvidence {
    let status = match report.verdict.status {
        PathStatus::Clean => TlsStatus::Clean,
        PathStatus::Intercepted => TlsStatus::Intercepted,
        PathStatus::LikelyIntercepted => TlsStatus::LikelyIntercepted,
        PathStatus::PrivatePkiUnknown => TlsStatus::PrivatePkiUnknown,
        _ => TlsStatus::Untrusted,
    };
    let confidence = match report.verdict.confidence {
        interloper_chain::PathConfidence::High => Confidence::High,
        interloper_chain::PathConfidence::Medium => Confidence::Medium,
        _ => Confidence::Low,
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
                | SignalKind::IssuerDiffers => TlsItemKind::MintedTraits,
                SignalKind::PinMismatch | SignalKind::ExpectedCertMismatch => {
                    TlsItemKind::PinMismatch
                }
                SignalKind::AlpnDowngrade | SignalKind::TlsVersionDowngrade => {
                    TlsItemKind::Downgrade
                }
                SignalKind::Untrusted => TlsItemKind::Untrusted,
                SignalKind::ProductNotNameable => TlsItemKind::Other,
                _ => return None,
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

/// Request the witness `count` times on fresh connections (`concurrency` at once) and record
/// our wait against its own time: a witness answers in a millisecond, so any stall seen here
/// happened on the path.
pub async fn sample_witness(
    view: &mut WitnessView,
    probe_cfg: &ProbeConfig,
    count: usize,
    concurrency: usize,
) {
    let Ok(url) = url::Url::parse(&view.url).and_then(|u| u.join("/.well-known/interloper/info"))
    else {
        return;
    };
    let mut cfg = probe_cfg.clone();
    cfg.insecure_skip_verify = true;
    cfg.headers.clear();
    let Ok(probe) = Probe::new(cfg) else { return };
    let Ok(target) = Target::from_url(url) else {
        return;
    };
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.clamp(1, 16) {
        let probe = probe.clone();
        let target = target.clone();
        let next = std::sync::Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                let rec = probe.request(&target).await;
                let server_ms = rec
                    .headers
                    .iter()
                    .find(|(k, _)| k == "server-timing")
                    .and_then(|(_, v)| server_timing_ms(v));
                out.push(WitnessSample {
                    client_ttfb_ms: rec.error.is_none().then_some(rec.phases.ttfb_ms).flatten(),
                    server_ms,
                    total_ms: rec.phases.total_ms,
                });
            }
            out
        }));
    }
    for t in tasks {
        if let Ok(v) = t.await {
            view.samples.extend(v);
        }
    }
}

/// `witness;dur=0.12` → 0.12.
fn server_timing_ms(v: &str) -> Option<f64> {
    v.split([';', ','])
        .find_map(|p| p.trim().strip_prefix("dur="))
        .and_then(|d| d.trim().parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d >= 0.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_timing_parses() {
        assert_eq!(super::server_timing_ms("witness;dur=0.25"), Some(0.25));
        assert_eq!(super::server_timing_ms("witness"), None);
        assert_eq!(super::server_timing_ms("witness;dur=-1"), None);
    }
}

/// What a passthrough recorder (`interloper echo --passthrough`) says of our hello.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PassthroughView {
    /// The API URL asked.
    pub api: String,
    /// The client_random we sent (hex).
    pub client_random: String,
    /// Whether a hello with that random reached the passthrough; None when it could not be asked.
    pub seen: Option<bool>,
    /// JA4 of the hellos it recorded with that random.
    pub ja4: Vec<String>,
    /// Why it could not be asked.
    pub error: Option<String>,
}

/// Ask a passthrough's API whether a hello with `client_random` arrived. A hello that did not
/// arrive was answered by something else on the way: proof of interception for that port.
pub async fn ask_passthrough(
    api: &str,
    client_random: &str,
    probe_cfg: &ProbeConfig,
) -> PassthroughView {
    let mut view = PassthroughView {
        api: api.to_string(),
        client_random: client_random.to_string(),
        seen: None,
        ja4: Vec::new(),
        error: None,
    };
    let url = match url::Url::parse(api).and_then(|u| {
        u.join(&format!(
            "/.well-known/interloper/hellos?client_random={client_random}"
        ))
    }) {
        Ok(u) => u,
        Err(e) => {
            view.error = Some(format!("invalid --echo-api URL: {e}"));
            return view;
        }
    };
    let mut cfg = probe_cfg.clone();
    cfg.headers.clear();
    cfg.insecure_skip_verify = true;
    let Ok(probe) = Probe::new(cfg) else {
        view.error = Some("cannot build a client".into());
        return view;
    };
    let Ok(target) = Target::from_url(url) else {
        view.error = Some("invalid --echo-api URL".into());
        return view;
    };
    // The recorder may see the hello a moment after our handshake finished; ask a few times.
    for attempt in 0..5 {
        let (rec, body) = probe
            .session(ConnectionPolicy::Fresh)
            .request_keeping_body(&target, 0, 1 << 20)
            .await;
        if let Some(e) = rec.error {
            view.error = Some(format!("passthrough API: {}", e.message));
            return view;
        }
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if json["schema"].as_str() != Some("interloper.echo.hellos/v1") {
            view.error = Some(format!(
                "{api} answered {} without interloper.echo.hellos/v1: is it a passthrough's --api?",
                rec.status.unwrap_or_default()
            ));
            return view;
        }
        let seen = json["seen"].as_bool().unwrap_or(false);
        view.ja4 = json["hellos"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h["client_hello"]["ja4"]["ja4"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        view.seen = Some(seen);
        if seen || attempt == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    view
}
