//! The witness's three resources, plus the small responses shared with the passthrough API.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{Either, Full};
use tokio::sync::Semaphore;

use crate::ctx::ConnCtx;
use crate::limits::Guards;
use crate::payload::{PayloadBody, payload_sha256};
use crate::stats::bump;
use crate::visit::{Sighting, Visits};
use crate::witness::{EchoHello, EchoInfo, PATH_HELLO, PATH_INFO, PATH_PAYLOAD};
use interloper_model::witness::visit::{
    MAX_REPORT_BYTES, PATH_VISIT, PATH_VISIT_REPORT, VisitReport, is_visit_code,
};

/// Response body: a small in-memory document, or the generated payload.
pub(crate) type EchoBody = Either<Full<Bytes>, PayloadBody>;

/// Digests of recent (N, seed) pairs; repeated measurements of the same payload cost nothing.
const DIGEST_CACHE: usize = 256;

/// State shared by all requests of one witness.
pub(crate) struct HttpShared {
    pub guards: Arc<Guards>,
    pub visits: Visits,
    /// Whether `/metrics` is answered here (false when `metrics_listen` serves it elsewhere).
    pub metrics_here: bool,
    digests: Mutex<HashMap<(u64, u64), [u8; 32]>>,
    digest_slots: Semaphore,
}

impl HttpShared {
    pub(crate) fn new(guards: Arc<Guards>, visits: Visits, metrics_here: bool) -> Arc<Self> {
        let slots = guards.limits.max_concurrent_digests;
        Arc::new(Self {
            guards,
            visits,
            metrics_here,
            digests: Mutex::new(HashMap::new()),
            digest_slots: Semaphore::new(slots),
        })
    }

    async fn digest(&self, len: u64, seed: u64) -> Option<[u8; 32]> {
        if let Some(d) = self.cached(len, seed) {
            return Some(d);
        }
        // Hashing 64 MiB takes a noticeable slice of a core; bounding how many run at once
        // keeps a digest flood from starving the handshakes.
        let _slot = self.digest_slots.acquire().await.ok()?;
        if let Some(d) = self.cached(len, seed) {
            return Some(d);
        }
        let d = tokio::task::spawn_blocking(move || payload_sha256(len, seed))
            .await
            .ok()?;
        let mut cache = self.digests.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= DIGEST_CACHE {
            cache.clear();
        }
        cache.insert((len, seed), d);
        Some(d)
    }

    fn cached(&self, len: u64, seed: u64) -> Option<[u8; 32]> {
        let cache = self.digests.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(&(len, seed)).copied()
    }
}

/// Headers every response carries: nothing here may be cached or sniffed.
pub(crate) fn common_headers(resp: &mut Response<impl Sized>) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::SERVER, HeaderValue::from_static("interloper-echo"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// A small JSON response.
pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    common_headers(&mut resp);
    resp
}

/// The counters (no addresses): the witness's health for Prometheus.
pub(crate) fn metrics_answer(g: &Guards) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(
        g.stats.snapshot().openmetrics_text(),
    )));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::stats::METRICS_CONTENT_TYPE),
    );
    r
}

/// `{"error": MSG}` with `status`.
pub(crate) fn error(status: StatusCode, msg: &str) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(&serde_json::json!({ "error": msg })).unwrap_or_default();
    json(status, body)
}

/// The `info` document.
pub(crate) fn info(mode: &str) -> Response<Full<Bytes>> {
    let doc = EchoInfo {
        schema: interloper_model::schema::ECHO_INFO.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        mode: mode.into(),
        description: "interloper witness: reports the TLS ClientHello it received, to prove or rule out interception on the path".into(),
    };
    json(StatusCode::OK, serde_json::to_vec(&doc).unwrap_or_default())
}

fn left(r: Response<Full<Bytes>>) -> Response<EchoBody> {
    r.map(Either::Left)
}

/// Serves one request on a witness connection.
pub(crate) async fn handle(
    req: Request<hyper::body::Incoming>,
    ctx: Arc<ConnCtx>,
    shared: Arc<HttpShared>,
) -> Result<Response<EchoBody>, Infallible> {
    let received = ctx.clock.stamp();
    let number = ctx.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let g = &shared.guards;
    bump(&g.stats.requests);
    let is_head = req.method() == Method::HEAD;
    if req.method() == Method::POST && req.uri().path() == PATH_VISIT_REPORT {
        return Ok(left(visit_report(req, &ctx, &shared).await));
    }
    if req.method() != Method::GET && !is_head {
        bump(&g.stats.bad_requests);
        g.log
            .refused(ctx.peer, "request", &format!("method {}", req.method()));
        let mut r = error(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(left(r));
    }
    let path = req.uri().path();
    let payload = if path == PATH_PAYLOAD {
        match parse_payload_query(req.uri().query(), g.limits.max_payload_bytes) {
            Ok(p) => Some(p),
            Err(msg) => {
                bump(&g.stats.bad_requests);
                g.log.refused(ctx.peer, "payload", &msg);
                return Ok(left(error(StatusCode::BAD_REQUEST, &msg)));
            }
        }
    } else {
        None
    };
    // Payload bytes are charged for HEAD too: the digest costs the same CPU either way.
    let charge = payload.map(|(n, _)| n).unwrap_or(0);
    if let Err(wait) = g.sources.charge(ctx.peer.ip(), charge) {
        bump(&g.stats.rate_limited);
        g.log.refused(
            ctx.peer,
            "request",
            &format!("per-source rate limit ({charge} payload bytes asked)"),
        );
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "rate limited");
        let secs = wait.ceil().clamp(1.0, 3600.0) as u64;
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(left(r));
    }
    let mut resp = if let Some((n, seed)) = payload {
        serve_payload(&shared, n, seed, is_head).await
    } else if path == PATH_HELLO {
        left(hello_doc(&ctx, &req, received, number))
    } else if path == PATH_INFO {
        left(info("echo"))
    } else if path == PATH_VISIT {
        left(visit_page(&req, &ctx, &shared))
    } else if path == crate::stats::PATH_METRICS && shared.metrics_here {
        left(metrics_answer(g))
    } else {
        left(error(StatusCode::NOT_FOUND, "not found"))
    };
    // The witness's own think time (request head parsed → response head ready, digest
    // included), so a client can tell server time from path time even without the JSON.
    let done = ctx.clock.stamp();
    let ms = done
        .since_accept_us
        .saturating_sub(received.since_accept_us) as f64
        / 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("witness;dur={ms:.3}")) {
        resp.headers_mut().insert("server-timing", v);
    }
    if let Some((_, seed)) = payload
        && let Some(code) = query_value(req.uri().query(), "visit")
        && is_visit_code(&code)
    {
        // A test file of a visit: its connection's hello and the witness's own time.
        shared
            .visits
            .see(&code, &sighting(&req, &ctx), Some((seed, ms)));
    }
    if is_head {
        // Keep the headers (Content-Length included), drop the body.
        let (parts, body) = resp.into_parts();
        let body = match body {
            Either::Left(b) => Either::Left(b),
            Either::Right(_) => Either::Left(Full::new(Bytes::new())),
        };
        resp = Response::from_parts(parts, body);
    }
    Ok(resp)
}

/// What a request of a visit brings: its connection's hello, its headers.
fn sighting<'a, B>(req: &'a Request<B>, ctx: &'a ConnCtx) -> Sighting<'a> {
    let h = req.headers();
    let text = |name: header::HeaderName| h.get(name).and_then(|v| v.to_str().ok());
    Sighting {
        hello: &ctx.hello,
        peer: ctx.peer.ip(),
        user_agent: text(header::USER_AGENT),
        via: text(header::VIA),
        forwarded_for: h.get("x-forwarded-for").and_then(|v| v.to_str().ok()),
        forwarded: h.contains_key(header::FORWARDED),
    }
}

/// One query parameter's value.
fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// `GET /.well-known/interloper/visit[?seconds=N]`: opens a visit and serves its page.
fn visit_page<B>(req: &Request<B>, ctx: &ConnCtx, shared: &HttpShared) -> Response<Full<Bytes>> {
    let settings = &shared.visits.settings;
    let seconds = query_value(req.uri().query(), "seconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(settings.duration.as_secs(), |s| s.clamp(3, 60));
    let code = shared.visits.open(&sighting(req, ctx));
    bump(&shared.guards.stats.visits_opened);
    let (page, csp) = shared.visits.page(&code, seconds);
    let mut resp = Response::new(Full::new(Bytes::from(page)));
    common_headers(&mut resp);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// How long a visit report may take to arrive.
const REPORT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// `POST /.well-known/interloper/visit/report?visit=CODE`: reads, validates and judges a
/// visit's report; answers what the page shows. Refusals are counted and logged, never stored.
async fn visit_report(
    req: Request<hyper::body::Incoming>,
    ctx: &ConnCtx,
    shared: &HttpShared,
) -> Response<Full<Bytes>> {
    use http_body_util::BodyExt as _;
    let g = &shared.guards;
    let refuse = |status: StatusCode, why: &str| {
        bump(&g.stats.visit_reports_refused);
        g.log.refused(ctx.peer, "visit report", why);
        error(status, why)
    };
    if let Err(_wait) = g.sources.charge(ctx.peer.ip(), 0) {
        bump(&g.stats.rate_limited);
        return refuse(StatusCode::TOO_MANY_REQUESTS, "rate limited");
    }
    let Some(code) = query_value(req.uri().query(), "visit").filter(|c| is_visit_code(c)) else {
        return refuse(StatusCode::BAD_REQUEST, "visit=CODE is required");
    };
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_REPORT_BYTES as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "report too large");
    }
    let sighting_owned = (ctx.hello.clone(), req.headers().clone());
    let limited = http_body_util::Limited::new(req.into_body(), MAX_REPORT_BYTES);
    let body = match tokio::time::timeout(REPORT_DEADLINE, limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "report too large or cut"),
        Err(_) => return refuse(StatusCode::REQUEST_TIMEOUT, "report not sent in time"),
    };
    let report: VisitReport = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("report is not a visit report: {}", clean(&e.to_string())),
            );
        }
    };
    if let Err(why) = report.validate(shared.visits.settings.site_urls.len()) {
        return refuse(StatusCode::BAD_REQUEST, &format!("report refused: {why}"));
    }
    if report.visit != code {
        return refuse(StatusCode::BAD_REQUEST, "report names another visit");
    }
    let (hello, headers) = &sighting_owned;
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    shared.visits.see(
        &code,
        &Sighting {
            hello,
            peer: ctx.peer.ip(),
            user_agent: text("user-agent"),
            via: text("via"),
            forwarded_for: text("x-forwarded-for"),
            forwarded: headers.contains_key("forwarded"),
        },
        None,
    );
    let Some(side) = shared.visits.take(&code) else {
        return refuse(StatusCode::NOT_FOUND, "unknown or expired visit");
    };
    let record = crate::visit::judge(&side, &report, shared.visits.settings.keep_details);
    shared.visits.append(&record);
    bump(&g.stats.visit_reports);
    let answer = crate::visit::answer(&record);
    json(
        StatusCode::OK,
        serde_json::to_vec(&answer).unwrap_or_default(),
    )
}

/// An error message from a parser, safe to echo: printable ASCII, short.
fn clean(s: &str) -> String {
    interloper_findings::visits::clean_text(s, 160)
}

fn hello_doc(
    ctx: &ConnCtx,
    req: &Request<hyper::body::Incoming>,
    received: crate::witness::Stamp,
    number: u64,
) -> Response<Full<Bytes>> {
    let mut negotiated = ctx.negotiated.clone();
    negotiated.http_version = format!("{:?}", req.version());
    let mut timestamps = ctx.timestamps.clone();
    timestamps.request_received = received;
    timestamps.response_written = ctx.clock.stamp();
    let doc = EchoHello {
        schema: interloper_model::schema::ECHO_HELLO.into(),
        server_version: env!("CARGO_PKG_VERSION").into(),
        peer: ctx.peer.to_string(),
        local: ctx.local.to_string(),
        client_hello: ctx.hello.clone(),
        served_chain: ctx.chain.certs.clone(),
        negotiated,
        timestamps,
        request_number: number,
    };
    json(
        StatusCode::OK,
        serde_json::to_vec_pretty(&doc).unwrap_or_default(),
    )
}

async fn serve_payload(
    shared: &HttpShared,
    n: u64,
    seed: u64,
    is_head: bool,
) -> Response<EchoBody> {
    let Some(digest) = shared.digest(n, seed).await else {
        return left(error(StatusCode::SERVICE_UNAVAILABLE, "digest unavailable"));
    };
    if !is_head {
        shared
            .guards
            .stats
            .payload_bytes
            .fetch_add(n, Ordering::Relaxed);
    }
    let mut resp = Response::new(Either::Right(PayloadBody::new(n, seed)));
    common_headers(&mut resp);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    // RFC 9530: the digest of the selected representation, as a structured byte sequence.
    if let Ok(v) = HeaderValue::from_str(&format!("sha-256=:{}:", B64.encode(digest))) {
        h.insert("repr-digest", v);
    }
    if let Ok(v) = HeaderValue::from_str(&hex::encode(digest)) {
        h.insert("x-interloper-sha256", v);
    }
    h.insert("x-interloper-seed", HeaderValue::from(seed));
    resp
}

/// `bytes=N` (required, at most `cap`) and `seed=S` (default 0).
fn parse_payload_query(query: Option<&str>, cap: u64) -> Result<(u64, u64), String> {
    let mut bytes = None;
    let mut seed = 0u64;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "bytes" => {
                bytes = Some(
                    v.parse::<u64>()
                        .map_err(|_| format!("bytes={v:.40} is not a whole number"))?,
                )
            }
            "seed" => {
                seed = v
                    .parse::<u64>()
                    .map_err(|_| format!("seed={v:.40} is not a whole number"))?
            }
            _ => {}
        }
    }
    let n = bytes.ok_or_else(|| "bytes=N is required".to_string())?;
    if n > cap {
        return Err(format!("bytes={n} exceeds the cap of {cap}"));
    }
    Ok((n, seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_query() {
        assert_eq!(
            parse_payload_query(Some("bytes=10&seed=3"), 100),
            Ok((10, 3))
        );
        assert_eq!(parse_payload_query(Some("bytes=10"), 100), Ok((10, 0)));
        assert!(parse_payload_query(Some("bytes=101"), 100).is_err());
        assert!(parse_payload_query(Some("bytes=-1"), 100).is_err());
        assert!(parse_payload_query(Some("seed=1"), 100).is_err());
        assert!(parse_payload_query(None, 100).is_err());
        assert!(parse_payload_query(Some("bytes=99999999999999999999999"), 100).is_err());
    }
}
