//! `interloper tls` (`interloper.tls/v1`, docs/tls-json.md): the document — one URL's chain
//! as judged, what was negotiated, our hello's fingerprints, what a witness or passthrough
//! saw, each hello shape's fate — and its terminal rendering; and the reduction of a chain
//! judgement to the evidence the findings read (`check`, `pcap`; `chain::tls_evidence`, re-exported).
//!
//! The connecting (`interloper_check::tlspath::examine`) and the judging
//! (`interloper_chain::TlsPath`) happen elsewhere; this module only holds and shows results.

use std::io::{self, Write};
use std::net::SocketAddr;

use base64::Engine as _;
pub use interloper_chain::tls_evidence;
use interloper_chain::{
    CertFacts, Negotiated, PathStatus, PresentedSession, ProductMatch, Reference, TrustResult,
    WitnessComparison, WitnessSide,
};
use interloper_findings::Severity;
use interloper_model::{HelloShape, TlsInfo, schema};
use interloper_wire::stacks::{StackMatch, identify};
use interloper_wire::{ClientHello, Transport, ja3, ja4};
use serde::Serialize;

use crate::TerminalStyle;

/// What the path did with one hello shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeOutcome {
    /// The handshake completed in ordinary time.
    Accepted,
    /// The handshake took seconds, or never finished within the time limit.
    Stalled,
    /// The connection was reset or closed without a TLS answer.
    Reset,
    /// A TLS alert (or a TLS error) ended the handshake.
    Alert,
    /// The connection failed before the hello (DNS, TCP): says nothing about the shape.
    Failed,
}

impl ShapeOutcome {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ShapeOutcome::Accepted => "accepted",
            ShapeOutcome::Stalled => "stalled",
            ShapeOutcome::Reset => "reset",
            ShapeOutcome::Alert => "alert",
            ShapeOutcome::Failed => "failed",
        }
    }
}

/// One hello shape's connection.
#[derive(Debug, Clone, Serialize)]
pub struct HelloShapeResult {
    /// `classic`, `pq` or `large`.
    pub shape: HelloShape,
    /// What the path did with it.
    pub outcome: ShapeOutcome,
    /// The key-exchange group negotiated (`X25519MLKEM768` when the server does ML-KEM).
    pub group: Option<String>,
    /// Bytes of our ClientHello (the handshake message).
    pub hello_bytes: Option<usize>,
    /// Handshake time (ms).
    pub tls_ms: Option<f64>,
    /// The error, when the request failed.
    pub error: Option<String>,
}

/// Everything the TLS path step found for one URL (schema [`schema::TLS`],
/// docs/tls-json.md).
#[derive(Debug, Serialize)]
pub struct TlsExamination {
    /// Always [`schema::TLS`].
    pub schema: &'static str,
    /// The URL examined.
    pub url: String,
    /// Verdict: status, confidence, product, rule, summary.
    pub verdict: Option<interloper_chain::PathVerdict>,
    /// The chain as presented, with facts per certificate.
    pub chain: Vec<CertFacts>,
    /// The chain as presented, DER in base64, leaf first (what `--reference` reads back).
    pub chain_der: Vec<String>,
    /// Trust against public and local roots.
    pub trust: Option<TrustResult>,
    /// Products recognised.
    pub products: Vec<ProductMatch>,
    /// Every piece of evidence, in order.
    pub evidence: Vec<interloper_chain::Signal>,
    /// What the connection negotiated.
    pub negotiated: TlsNegotiated,
    /// Our own ClientHello's fingerprints.
    pub client_hello: Option<HelloFingerprints>,
    /// What the witness saw.
    pub witness: Option<WitnessView>,
    /// Whether our hello reached the passthrough.
    pub passthrough: Option<PassthroughView>,
    /// Why there is no verdict (the connection failed).
    pub error: Option<String>,
    /// What the path did with each ClientHello shape (classic first).
    pub hello_shapes: Vec<HelloShapeResult>,
}

/// Negotiated parameters.
#[derive(Debug, Default, Serialize)]
pub struct TlsNegotiated {
    /// TLS version.
    pub version: Option<String>,
    /// Cipher suite.
    pub cipher: Option<String>,
    /// ALPN.
    pub alpn: Option<String>,
    /// The address connected to.
    pub remote_addr: Option<SocketAddr>,
    /// Handshake time (ms).
    pub tls_ms: Option<f64>,
    /// Key-exchange group.
    pub group: Option<String>,
}

impl TlsExamination {
    /// How bad what was found is, on the findings' scale, for `--fail-on`: interception
    /// proven is critical; likely interception, an untrusted chain or a failed connection an
    /// error; a private PKI nobody can name or a hello shape the path refuses a warning; a
    /// clean path nothing. (`tls` before `--fail-on` exited 1 on anything but clean: the
    /// default `--fail-on warning` keeps that.)
    pub fn worst(&self) -> Option<Severity> {
        let path = match (&self.error, &self.verdict) {
            (Some(_), _) | (None, None) => Some(Severity::Error),
            (None, Some(v)) => match v.status {
                PathStatus::Clean => None,
                PathStatus::PrivatePkiUnknown => Some(Severity::Warning),
                PathStatus::Untrusted | PathStatus::LikelyIntercepted => Some(Severity::Error),
                PathStatus::Intercepted => Some(Severity::Critical),
            },
        };
        let shapes = self
            .hello_shapes
            .iter()
            .any(|s| s.outcome != ShapeOutcome::Accepted)
            .then_some(Severity::Warning);
        path.max(shapes)
    }

    /// Whether the verdict is clean (no verdict — a failed connection — is not) and the path
    /// accepted every hello shape tried.
    pub fn is_clean(&self) -> bool {
        self.verdict
            .as_ref()
            .is_some_and(|v| v.status == interloper_chain::PathStatus::Clean)
            && self
                .hello_shapes
                .iter()
                .all(|s| s.outcome == ShapeOutcome::Accepted)
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
    /// When the hello that reached the witness is not ours: the TLS stack its JA4 identifies
    /// (data/hello-stacks.toml), i.e. what the box on the path is built on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_stack: Option<StackMatch>,
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
            passthrough_seen: Some(seen),
            ..WitnessView::unanswered(String::new())
        }
    }

    /// The view of a witness not asked yet: nothing seen, nothing compared.
    pub fn unanswered(url: String) -> WitnessView {
        WitnessView {
            url,
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
            upstream_stack: None,
        }
    }

    /// The stack that sent the hello the witness received, when that hello is not ours (a
    /// different client_random) and its JA4 is in the knowledge file.
    pub fn upstream_hello_stack(&self) -> Option<StackMatch> {
        let ours = self.client.as_ref()?;
        let theirs = self.client_random.as_ref()?;
        if theirs.eq_ignore_ascii_case(&ours.client_random) {
            return None;
        }
        identify(self.ja4.as_deref()?)
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

/// The reference a previous `interloper tls --json` gives (one object or an array): the entry
/// for `url`, or the first one.
pub fn reference_from_json(bytes: &[u8], url: &str) -> Result<Reference, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("not the JSON of `interloper tls --json` ({e})"))?;
    let entries: Vec<&serde_json::Value> = match &v {
        serde_json::Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let entry = entries
        .iter()
        .find(|e| e["url"].as_str() == Some(url))
        .or(entries.first())
        .filter(|e| e["schema"].as_str() == Some(schema::TLS))
        .ok_or_else(|| format!("no {} result in it", schema::TLS))?;
    let chain = entry["chain_der"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str())
                .filter_map(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(Reference {
        chain,
        negotiated: interloper_chain::Negotiated {
            tls_version: entry["negotiated"]["version"].as_str().map(str::to_string),
            alpn: entry["negotiated"]["alpn"].as_str().map(str::to_string),
        },
    })
}

/// The session a [`TlsInfo`] recorded, as the chain judgement reads it; `negotiated` is filled
/// from the same record.
pub fn presented_session<'a>(tls: &'a TlsInfo, negotiated: &'a Negotiated) -> PresentedSession<'a> {
    PresentedSession {
        chain: &tls.presented_chain,
        negotiated,
    }
}

/// ALPN and version a [`TlsInfo`] negotiated, in the chain judgement's terms.
pub fn negotiated_of(tls: &TlsInfo) -> Negotiated {
    Negotiated {
        alpn: tls.alpn.clone(),
        tls_version: tls.version.clone(),
    }
}

impl WitnessView {
    /// What the witness saw, in the chain judgement's terms.
    pub fn side(&self) -> WitnessSide {
        WitnessSide {
            comparison: self.comparison(),
            negotiated: Negotiated {
                alpn: self.alpn.clone(),
                tls_version: self.tls_version.clone(),
            },
        }
    }
}

/// Writes `interloper tls` results for a terminal, one block per URL.
pub fn render_tls_terminal(
    results: &[TlsExamination],
    w: &mut dyn Write,
    style: TerminalStyle,
) -> io::Result<()> {
    for r in results {
        examination(w, r, style)?;
    }
    Ok(())
}

/// One line per hello shape: what the path did with it, and the group negotiated.
fn render_shapes(w: &mut dyn Write, r: &TlsExamination, style: TerminalStyle) -> io::Result<()> {
    if r.hello_shapes.is_empty() {
        return Ok(());
    }
    writeln!(w, "  hello shapes")?;
    for s in &r.hello_shapes {
        let word = s.outcome.as_str();
        let badge = match s.outcome {
            ShapeOutcome::Accepted => style.green(word),
            ShapeOutcome::Failed => word.to_string(),
            _ => style.red(&word.to_ascii_uppercase()),
        };
        let mut line = format!("    {:<8} {badge}", s.shape.as_str());
        if let Some(g) = &s.group {
            line.push_str(&format!(" · group {g}"));
        }
        if let Some(n) = s.hello_bytes {
            line.push_str(&format!(" · hello {n} B"));
        }
        if let Some(ms) = s.tls_ms {
            line.push_str(&format!(
                " · handshake {}",
                interloper_model::units::fmt_duration_ms(ms)
            ));
        }
        if let Some(e) = s
            .error
            .as_ref()
            .filter(|_| s.outcome != ShapeOutcome::Accepted)
        {
            line.push_str(&format!(" · {e}"));
        }
        writeln!(w, "{line}")?;
    }
    let refused = r.hello_shapes.iter().any(|s| {
        !s.shape.is_classic() && !matches!(s.outcome, ShapeOutcome::Accepted | ShapeOutcome::Failed)
    });
    let classic_ok = r
        .hello_shapes
        .first()
        .is_some_and(|s| s.outcome == ShapeOutcome::Accepted);
    if refused && classic_ok {
        writeln!(
            w,
            "  {} the path refuses or holds the hello browsers send while the classic one \
             passes (docs/findings/IL107.md)",
            style.red("browser-shaped hello fails:")
        )?;
    }
    Ok(())
}

fn examination(w: &mut dyn Write, r: &TlsExamination, style: TerminalStyle) -> io::Result<()> {
    writeln!(w, "{}", style.bold(&r.url))?;
    if let Some(e) = &r.error {
        writeln!(w, "  {} {e}", style.red("connection failed:"))?;
        render_shapes(w, r, style)?;
        return Ok(());
    }
    if let Some(v) = &r.verdict {
        let status = v.status.as_str().to_ascii_uppercase();
        let badge = match v.status {
            PathStatus::Clean => style.green(&status),
            PathStatus::Intercepted
            | PathStatus::LikelyIntercepted
            | PathStatus::PrivatePkiUnknown
            | PathStatus::Untrusted => style.red(&status),
        };
        writeln!(
            w,
            "  verdict    {badge} ({} confidence)",
            v.confidence.as_str()
        )?;
        if let Some(p) = &v.product {
            writeln!(w, "  product    {} ({})", p.name, p.vendor)?;
        }
        writeln!(w, "  {}", v.summary)?;
    }
    let n = &r.negotiated;
    writeln!(
        w,
        "  session    {} · {} · ALPN {} · {}",
        n.version.as_deref().unwrap_or("?"),
        n.cipher.as_deref().unwrap_or("?"),
        n.alpn.as_deref().unwrap_or("none"),
        n.remote_addr
            .map_or_else(|| "?".to_string(), |a| a.to_string())
    )?;
    if let Some(t) = &r.trust {
        writeln!(
            w,
            "  trust      {}  (public roots: {}, local roots: {})",
            t.status.as_str(),
            if t.public.ok { "yes" } else { "no" },
            if t.local.ok { "yes" } else { "no" }
        )?;
    }
    chain(w, r)?;
    if !r.evidence.is_empty() {
        writeln!(w, "  evidence")?;
        for e in &r.evidence {
            writeln!(w, "    {:<16} {}", e.strength.as_str(), e.message)?;
        }
    }
    if r.evidence
        .iter()
        .any(|e| e.kind == interloper_chain::SignalKind::IncompleteChain)
    {
        writeln!(
            w,
            "  {} the server leaves an intermediate certificate out: browsers fetch it, curl, \
             Python, Java, Android and many middleboxes fail; serve the full chain \
             (docs/findings/IL113.md)",
            style.red("IL113 incomplete chain:")
        )?;
    }
    if let Some(h) = &r.client_hello {
        writeln!(w, "  our hello  JA4 {}  JA3 {}", h.ja4, h.ja3_hash)?;
    }
    render_shapes(w, r, style)?;
    witnesses(w, r, style)?;
    writeln!(w)?;
    Ok(())
}

/// What the passthrough and the witness saw of our connection.
fn witnesses(w: &mut dyn Write, r: &TlsExamination, style: TerminalStyle) -> io::Result<()> {
    if let Some(p) = &r.passthrough {
        match (&p.error, p.seen) {
            (Some(e), _) => writeln!(w, "  passthrough {}", style.red(e))?,
            (None, Some(true)) => writeln!(
                w,
                "  passthrough {}: our hello {} (JA4 {})",
                p.api,
                style.green("arrived"),
                p.ja4.join(", ")
            )?,
            _ => writeln!(
                w,
                "  passthrough {}: our hello {} — something else answered our TLS",
                p.api,
                style.red("NEVER ARRIVED")
            )?,
        }
    }
    if let Some(wv) = &r.witness {
        match &wv.error {
            Some(e) => writeln!(w, "  witness    {}", style.red(e))?,
            None => {
                let cmp = wv.comparison();
                writeln!(
                    w,
                    "  witness    {}: client_random {} · chain {} · JA4 received {}",
                    wv.url,
                    match cmp.and_then(|c| c.client_random_equal) {
                        Some(true) => style.green("same"),
                        Some(false) => style.red("DIFFERENT"),
                        None => "?".into(),
                    },
                    match cmp.and_then(|c| c.chain_equal) {
                        Some(true) => style.green("same"),
                        Some(false) => style.red("DIFFERENT"),
                        None => "?".into(),
                    },
                    wv.ja4.as_deref().unwrap_or("?")
                )?;
                if let Some(stack) = &wv.upstream_stack {
                    writeln!(
                        w,
                        "  upstream   the hello that reached the witness is {}'s, not ours",
                        stack.describe()
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Each certificate as presented: subject, issuer, validity, key, SCTs, pin.
fn chain(w: &mut dyn Write, r: &TlsExamination) -> io::Result<()> {
    writeln!(w, "  chain")?;
    for c in &r.chain {
        writeln!(
            w,
            "    [{}] {}",
            c.index,
            c.subject.as_deref().unwrap_or("(unparsed certificate)")
        )?;
        writeln!(w, "        issuer {}", c.issuer.as_deref().unwrap_or("?"))?;
        writeln!(
            w,
            "        valid {} → {} · key {} · SCTs {} · {}",
            c.not_before.as_deref().unwrap_or("?"),
            c.not_after.as_deref().unwrap_or("?"),
            c.key
                .as_ref()
                .map(|k| match (&k.curve, k.bits) {
                    (Some(curve), _) => format!("{} {curve}", k.algorithm),
                    (None, Some(b)) => format!("{} {b}", k.algorithm),
                    _ => k.algorithm.clone(),
                })
                .unwrap_or_else(|| "?".into()),
            c.sct_count,
            c.spki_pin.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use interloper_chain::PathConfidence;

    fn examination(status: Option<PathStatus>, shapes: &[ShapeOutcome]) -> TlsExamination {
        TlsExamination {
            schema: schema::TLS,
            url: "https://shop.example.test/".into(),
            verdict: status.map(|status| interloper_chain::PathVerdict {
                status,
                confidence: PathConfidence::High,
                product: None,
                rule: "test",
                summary: String::new(),
            }),
            chain: vec![],
            chain_der: vec![],
            trust: None,
            products: vec![],
            evidence: vec![],
            negotiated: TlsNegotiated::default(),
            client_hello: None,
            witness: None,
            passthrough: None,
            // A missing verdict is always a failed connection.
            error: status.is_none().then(|| "connection refused".into()),
            hello_shapes: shapes
                .iter()
                .map(|&outcome| HelloShapeResult {
                    shape: HelloShape::Classic,
                    outcome,
                    group: None,
                    hello_bytes: None,
                    tls_ms: None,
                    error: None,
                })
                .collect(),
        }
    }

    /// `--fail-on` reads this: every path status, and a failed connection, on the findings'
    /// scale. Only proven interception is critical, so `--fail-on critical` tolerates a path
    /// that is merely suspicious.
    #[test]
    fn worst_maps_every_verdict_to_its_severity() {
        let table = [
            (Some(PathStatus::Clean), None),
            (Some(PathStatus::PrivatePkiUnknown), Some(Severity::Warning)),
            (Some(PathStatus::Untrusted), Some(Severity::Error)),
            (Some(PathStatus::LikelyIntercepted), Some(Severity::Error)),
            (Some(PathStatus::Intercepted), Some(Severity::Critical)),
            (None, Some(Severity::Error)),
        ];
        for (status, severity) in table {
            let e = examination(status, &[ShapeOutcome::Accepted]);
            assert_eq!(e.worst(), severity, "{status:?}");
            assert_eq!(
                e.is_clean(),
                status == Some(PathStatus::Clean),
                "{status:?}"
            );
        }
    }

    /// A hello shape the path did not accept is a warning: it raises a clean path to warning
    /// and never lowers a worse verdict.
    #[test]
    fn refused_hello_shapes_are_a_warning_on_top_of_the_verdict() {
        for outcome in [
            ShapeOutcome::Stalled,
            ShapeOutcome::Reset,
            ShapeOutcome::Alert,
            ShapeOutcome::Failed,
        ] {
            let shapes = [ShapeOutcome::Accepted, outcome];
            let clean = examination(Some(PathStatus::Clean), &shapes);
            assert_eq!(clean.worst(), Some(Severity::Warning), "{outcome:?}");
            assert!(!clean.is_clean(), "{outcome:?}");
            let proven = examination(Some(PathStatus::Intercepted), &shapes);
            assert_eq!(proven.worst(), Some(Severity::Critical), "{outcome:?}");
        }
        assert_eq!(examination(Some(PathStatus::Clean), &[]).worst(), None);
    }
}
