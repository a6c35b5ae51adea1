//! `interloper tls`: one fresh connection to a URL, its chain judged by the TLS path step,
//! our own hello fingerprinted, and (when given) a witness or a passthrough asked.

use base64::Engine as _;
use interloper_chain::Reference;
use interloper_model::{ErrorKind, HelloShape, Phase, RequestRecord, schema};
use interloper_probe::{ConnectionPolicy, Probe, ProbeConfig, Target};

use super::witness::{ask_passthrough, ask_witness};
use super::{
    HelloShapeResult, JudgeSession as _, ShapeOutcome, TlsExamination, TlsNegotiated, TlsPath,
    WitnessView, fingerprints,
};

/// Bytes of a response body read at most: the chain is what matters here.
const BODY_LIMIT: u64 = 1 << 20;

/// What to examine, and who else to ask.
#[derive(Debug, Clone)]
pub struct TlsRequest {
    /// An https:// URL.
    pub url: url::Url,
    /// A witness (`interloper echo`) beside the server.
    pub witness: Option<url::Url>,
    /// The query API of an `interloper echo --passthrough` in front of the server.
    pub passthrough_api: Option<url::Url>,
    /// The chain and protocol seen from a clean path, for minted traits and downgrades.
    pub reference: Option<Reference>,
    /// ClientHello shapes tried, one fresh connection each (the classic one is the connection
    /// examined; empty: classic only, not reported).
    pub hello_shapes: Vec<HelloShape>,
}

/// A handshake this much slower than the classic one (and over 750 ms) is a stall, by the
/// same rule as a check's stalls (docs/findings/IL201.md).
fn stall_threshold_ms(classic_tls_ms: f64) -> f64 {
    (5.0 * classic_tls_ms + 250.0).max(750.0)
}

/// Judges one shape's request: `classic_tls_ms` is the classic handshake's time, if it
/// completed.
fn shape_result(shape: HelloShape, rec: &RequestRecord, classic_tls_ms: f64) -> HelloShapeResult {
    let tls = rec.tls.as_ref();
    let failed_early = rec
        .error
        .as_ref()
        .filter(|e| matches!(e.phase, Phase::Dns | Phase::Connect));
    let outcome = match (&rec.error, failed_early) {
        (_, Some(_)) => ShapeOutcome::Failed,
        (Some(e), None) if e.phase == Phase::Tls => match e.kind {
            ErrorKind::TlsTimeout | ErrorKind::Timeout | ErrorKind::Cancelled => {
                ShapeOutcome::Stalled
            }
            ErrorKind::ResetBeforeHeaders => ShapeOutcome::Reset,
            _ => ShapeOutcome::Alert,
        },
        _ if rec
            .phases
            .tls_ms
            .is_some_and(|ms| ms > stall_threshold_ms(classic_tls_ms)) =>
        {
            ShapeOutcome::Stalled
        }
        _ => ShapeOutcome::Accepted,
    };
    HelloShapeResult {
        shape,
        outcome,
        group: tls.and_then(|t| t.group.clone()),
        hello_bytes: tls.map(|t| t.client_hello.len()).filter(|n| *n > 0),
        tls_ms: rec.phases.tls_ms,
        error: rec
            .error
            .as_ref()
            .filter(|e| e.phase <= Phase::Tls)
            .map(|e| format!("{} ({})", e.message, e.kind.as_str())),
    }
}

/// One fresh connection per extra shape; the classic one is `classic`, already made.
async fn try_shapes(
    shapes: &[HelloShape],
    cfg: &ProbeConfig,
    target: &Target,
    classic: &RequestRecord,
) -> Result<Vec<HelloShapeResult>, crate::CheckError> {
    if shapes.is_empty() {
        return Ok(Vec::new());
    }
    let classic_ms = classic
        .phases
        .tls_ms
        .filter(|_| classic.error.as_ref().is_none_or(|e| e.phase > Phase::Tls))
        .unwrap_or(0.0);
    let mut out = vec![shape_result(HelloShape::Classic, classic, classic_ms)];
    for shape in shapes.iter().filter(|s| !s.is_classic()) {
        let mut shaped = cfg.clone();
        shaped.hello = *shape;
        let rec = Probe::new(shaped)?
            .session(ConnectionPolicy::Fresh)
            .request(target, 0)
            .await;
        out.push(shape_result(*shape, &rec, classic_ms));
    }
    Ok(out)
}

/// Connect once to `request.url` and judge what it presents.
///
/// The chain is judged by the analysis, not by the handshake: the handshake completes whatever
/// is presented, and no header of `connection` is sent over it.
pub async fn examine(
    path: &TlsPath,
    connection: &ProbeConfig,
    request: &TlsRequest,
) -> Result<TlsExamination, crate::CheckError> {
    let mut cfg = connection.clone();
    cfg.insecure_skip_verify = true;
    cfg.headers.clear();
    cfg.max_body = Some(BODY_LIMIT);
    let probe = Probe::new(cfg.clone())?;
    let target = Target::from_url(request.url.clone())?;
    let rec = probe
        .session(ConnectionPolicy::Fresh)
        .request(&target, 0)
        .await;
    let mut result = TlsExamination {
        schema: schema::TLS,
        url: target.url.to_string(),
        verdict: None,
        chain: Vec::new(),
        chain_der: Vec::new(),
        trust: None,
        products: Vec::new(),
        evidence: Vec::new(),
        negotiated: TlsNegotiated {
            remote_addr: rec.remote_addr,
            tls_ms: rec.phases.tls_ms,
            ..TlsNegotiated::default()
        },
        client_hello: None,
        witness: None,
        passthrough: None,
        error: None,
        hello_shapes: Vec::new(),
    };
    // Before the early return below: a path that fails the classic hello may still take the
    // others, and the other way round.
    result.hello_shapes = try_shapes(&request.hello_shapes, &cfg, &target, &rec).await?;
    // A handshake that did not complete leaves a partial session (our hello, perhaps part of
    // a chain): nothing to judge, and saying "no certificate" would hide what happened.
    let handshake_failed = rec
        .error
        .as_ref()
        .filter(|e| matches!(e.phase, Phase::Dns | Phase::Connect | Phase::Tls));
    let tls = match (rec.tls.clone(), handshake_failed) {
        (Some(tls), None) => tls,
        (tls, failure) => {
            result.client_hello = tls.as_ref().and_then(fingerprints);
            result.error = Some(
                failure
                    .or(rec.error.as_ref())
                    .map(|e| format!("{} ({})", e.message, e.kind.as_str()))
                    .unwrap_or_else(|| "no TLS session".into()),
            );
            return Ok(result);
        }
    };
    result.chain_der = tls
        .presented_chain
        .iter()
        .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
        .collect();
    result.negotiated.version.clone_from(&tls.version);
    result.negotiated.cipher.clone_from(&tls.cipher);
    result.negotiated.alpn.clone_from(&tls.alpn);
    result.negotiated.group.clone_from(&tls.group);
    result.client_hello = fingerprints(&tls);
    if let Some(witness) = &request.witness {
        result.witness = Some(ask_witness(witness.as_str(), &cfg, None).await);
    }
    if let (Some(api), Some(hello)) = (&request.passthrough_api, &result.client_hello) {
        result.passthrough = Some(ask_passthrough(api.as_str(), &hello.client_random, &cfg).await);
    }
    // A passthrough is a witness that saw (or did not see) our hello: the same rule applies.
    let passthrough_witness = match (&result.witness, &result.passthrough) {
        (None, Some(p)) => p.seen.map(WitnessView::from_passthrough),
        _ => None,
    };
    let witness = result.witness.as_ref().or(passthrough_witness.as_ref());
    let host = target
        .url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let report = path.judge(&tls, &host, witness, request.reference.clone());
    result.verdict = Some(report.verdict);
    result.chain = report.certificates;
    result.trust = Some(report.trust);
    result.products = report.products;
    result.evidence = report.evidence;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use interloper_model::{RequestError, TlsInfo};

    fn rec(tls_ms: f64, error: Option<(ErrorKind, Phase)>) -> RequestRecord {
        let mut r = RequestRecord::new(0, "https://a.test/".into(), 0.0);
        r.phases.tls_ms = Some(tls_ms);
        r.tls = Some(TlsInfo {
            group: Some("X25519".into()),
            client_hello: vec![1; 1500],
            ..TlsInfo::default()
        });
        r.error = error.map(|(kind, phase)| RequestError {
            kind,
            phase,
            message: "m".into(),
        });
        r
    }

    #[test]
    fn each_shape_is_named_by_what_the_path_did() {
        let judge = |r: &RequestRecord| shape_result(HelloShape::Pq, r, 2.0).outcome;
        assert_eq!(judge(&rec(3.0, None)), ShapeOutcome::Accepted);
        assert_eq!(judge(&rec(3000.0, None)), ShapeOutcome::Stalled);
        let reset = rec(1.0, Some((ErrorKind::ResetBeforeHeaders, Phase::Tls)));
        assert_eq!(judge(&reset), ShapeOutcome::Reset);
        let alert = rec(1.0, Some((ErrorKind::TlsAlert, Phase::Tls)));
        assert_eq!(judge(&alert), ShapeOutcome::Alert);
        let timeout = rec(30_000.0, Some((ErrorKind::TlsTimeout, Phase::Tls)));
        assert_eq!(judge(&timeout), ShapeOutcome::Stalled);
        let refused = rec(0.0, Some((ErrorKind::Connect, Phase::Connect)));
        assert_eq!(judge(&refused), ShapeOutcome::Failed);
        // A later failure (a 404's body, say) is not the hello's.
        let later = rec(3.0, Some((ErrorKind::ResetMidBody, Phase::Body)));
        let r = shape_result(HelloShape::Pq, &later, 2.0);
        assert_eq!(r.outcome, ShapeOutcome::Accepted);
        assert_eq!(r.error, None);
        assert_eq!(r.hello_bytes, Some(1500));
        assert_eq!(r.group.as_deref(), Some("X25519"));
    }
}
