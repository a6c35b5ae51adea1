//! Small hand-made evidence for the detectors' unit tests.

use crate::classify::{Classified, classify_target};
use crate::input::{AssetEvidence, TargetEvidence};
use crate::thresholds::ThresholdConfig;
use interloper_model::{
    BodySample, ErrorKind, HttpVersion, Phase, Phases, RequestError, RequestRecord,
};
use std::net::SocketAddr;

/// The label every test target carries.
pub(crate) const LABEL: &str = "https://a.test/";

/// A fast, complete HTTP/2 request over 127.0.0.1 (a few ms per phase).
pub(crate) fn rec(seq: u64, url: &str, ttfb: f64, body: f64, size: u64) -> RequestRecord {
    RequestRecord {
        remote_addr: Some(SocketAddr::from(([127, 0, 0, 1], 443))),
        connection_id: seq,
        http_version: Some(HttpVersion::Http2),
        status: Some(200),
        content_length: Some(size),
        bytes_received: size,
        phases: Phases {
            dns_ms: Some(0.2),
            connect_ms: Some(0.3),
            tls_ms: Some(2.0),
            write_ms: Some(0.05),
            ttfb_ms: Some(ttfb),
            first_byte_ms: Some(0.1),
            body_ms: Some(body),
            total_ms: Some(2.6 + ttfb + body),
        },
        ..RequestRecord::new(seq, url.to_string(), seq as f64 * 10.0)
    }
}

/// `n` requests for one asset of `size` bytes, each passed through `f` (index, record).
pub(crate) fn asset(
    url: &str,
    n: u64,
    size: u64,
    f: impl Fn(u64, RequestRecord) -> RequestRecord,
) -> AssetEvidence {
    AssetEvidence {
        url: url.to_string(),
        records: (0..n)
            .map(|i| f(i, rec(i, url, 3.0 + (i % 3) as f64, 1.0, size)))
            .collect(),
        checks: vec![],
    }
}

/// `n` clean requests for one asset.
pub(crate) fn clean_asset(url: &str, n: u64, size: u64) -> AssetEvidence {
    asset(url, n, size, |_, r| r)
}

/// A target labelled [`LABEL`].
pub(crate) fn target(assets: Vec<AssetEvidence>) -> TargetEvidence {
    TargetEvidence {
        label: LABEL.to_string(),
        assets,
        ..Default::default()
    }
}

/// A failure of `kind` in `phase`, with no response.
pub(crate) fn fail(mut r: RequestRecord, kind: ErrorKind, phase: Phase) -> RequestRecord {
    r.error = Some(RequestError {
        kind,
        phase,
        message: kind.as_str().to_string(),
    });
    r.status = None;
    r.bytes_received = 0;
    r
}

/// The body arrives steadily over `ms` in twenty chunks.
pub(crate) fn trickle(mut r: RequestRecord, ms: f64) -> RequestRecord {
    r.phases.body_ms = Some(ms);
    let size = r.bytes_received;
    r.body_curve = (1..=20u64)
        .map(|k| BodySample {
            at_ms: k as f64 * ms / 20.0,
            bytes: size * k / 20,
        })
        .collect();
    r
}

/// The target classified with the default thresholds.
pub(crate) fn classify(t: &TargetEvidence) -> Classified<'_> {
    classify_target(t, &ThresholdConfig::default())
}
