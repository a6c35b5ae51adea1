//! The witness (`interloper echo`) and the passthrough recorder, asked what they saw of our
//! connections, and sampled to place a stall on the path or on the server.

use std::time::{Duration, Instant};

use interloper_model::{ErrorKind, schema};

use interloper_chain::sha256_hex;
use interloper_model::witness::{EchoHello, HellosAnswer, PATH_HELLO, PATH_HELLOS, PATH_INFO};
use interloper_probe::{ConnectionPolicy, Probe, ProbeConfig, Target};

use super::{PassthroughView, WitnessSample, WitnessView, fingerprints};

/// Ask the witness at `url` what it saw of one fresh connection of ours.
///
/// `deadline`, when given, bounds the request (a check's budget).
pub async fn ask_witness(
    url: &str,
    probe_cfg: &ProbeConfig,
    deadline: Option<Instant>,
) -> WitnessView {
    let mut view = WitnessView::unanswered(url.to_string());
    let hello_url = match url::Url::parse(url).and_then(|u| u.join(PATH_HELLO)) {
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
    let mut session = probe.session(ConnectionPolicy::Fresh);
    session.set_deadline(deadline);
    let (rec, body) = session.request_keeping_body(&target, 0, 256 * 1024).await;
    view.client_ttfb_ms = rec.phases.ttfb_ms;
    if let Some(tls) = &rec.tls {
        view.client = fingerprints(tls);
        view.received_chain_sha256 = tls.presented_chain.iter().map(|c| sha256_hex(c)).collect();
    }
    if let Some(e) = &rec.error {
        view.error = Some(format!("witness request failed: {}", e.message));
        return view;
    }
    let hello: EchoHello = match serde_json::from_slice(&body) {
        Ok(h) => h,
        Err(e) => {
            view.error = Some(format!(
                "the witness answered {} but not with its JSON ({e}): is {url} an interloper echo?",
                rec.status.unwrap_or_default()
            ));
            return view;
        }
    };
    if hello.schema != schema::ECHO_HELLO {
        view.error = Some(format!("{url} did not answer with {}", schema::ECHO_HELLO));
        return view;
    }
    view.server_ms = Some(hello.server_ms());
    view.served_chain_sha256 = hello.served_chain_sha256();
    view.client_random = Some(hello.client_hello.client_random);
    view.ja4 = Some(hello.client_hello.ja4.ja4);
    view.alpn = hello.negotiated.alpn;
    view.tls_version = Some(hello.negotiated.tls_version).filter(|v| !v.is_empty());
    view.upstream_stack = view.upstream_hello_stack();
    view
}

/// Request the witness at `witness_url` `count` times on fresh connections (`concurrency` at
/// once) and record our wait against its own time: a witness answers in a millisecond, so any
/// stall seen here happened on the path. Runs beside [`ask_witness`] (neither needs the
/// other's answer), so a stalled answer to one does not delay the other.
///
/// No request runs past `deadline`, when given; requests it cuts short are not kept.
pub async fn sample_witness(
    witness_url: &str,
    probe_cfg: &ProbeConfig,
    count: usize,
    concurrency: usize,
    deadline: Option<Instant>,
) -> Vec<WitnessSample> {
    let Ok(url) = url::Url::parse(witness_url).and_then(|u| u.join(PATH_INFO)) else {
        return Vec::new();
    };
    let mut cfg = probe_cfg.clone();
    cfg.insecure_skip_verify = true;
    cfg.headers.clear();
    let Ok(probe) = Probe::new(cfg) else {
        return Vec::new();
    };
    let Ok(target) = Target::from_url(url) else {
        return Vec::new();
    };
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.clamp(1, 16) {
        let probe = probe.clone();
        let target = target.clone();
        let next = std::sync::Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let mut session = probe.session(ConnectionPolicy::Fresh);
            session.set_deadline(deadline);
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let rec = session.request(&target, 0).await;
                if rec
                    .error
                    .as_ref()
                    .is_some_and(|e| e.kind == ErrorKind::Cancelled)
                {
                    break;
                }
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
    let mut samples = Vec::new();
    for t in tasks {
        if let Ok(v) = t.await {
            samples.extend(v);
        }
    }
    samples
}

/// `witness;dur=0.12` → 0.12.
fn server_timing_ms(v: &str) -> Option<f64> {
    v.split([';', ','])
        .find_map(|p| p.trim().strip_prefix("dur="))
        .and_then(|d| d.trim().parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d >= 0.0)
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
    let url = match url::Url::parse(api)
        .and_then(|u| u.join(&format!("{PATH_HELLOS}?client_random={client_random}")))
    {
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
        let answer = serde_json::from_slice::<HellosAnswer>(&body)
            .ok()
            .filter(|a| a.schema == schema::ECHO_HELLOS);
        let Some(answer) = answer else {
            view.error = Some(format!(
                "{api} answered {} without {}: is it a passthrough's --api?",
                rec.status.unwrap_or_default(),
                schema::ECHO_HELLOS
            ));
            return view;
        };
        let seen = answer.seen;
        view.ja4 = answer.ja4s();
        view.seen = Some(seen);
        if seen || attempt == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    view
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
