//! A sweep of response shapes (status, framing, encodings, body pacing, how the connection
//! ends) against the probe, each from a real server on loopback: every request ends within
//! its limits, never panics, and says what happened in a way that fits the shape.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use interloper_model::{ErrorKind, RequestRecord};
use interloper_probe::{Probe, ProbeConfig, ProxySetting, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PHASE_LIMIT: Duration = Duration::from_millis(800);
const REQUEST_LIMIT: Duration = Duration::from_millis(2500);
/// Scheduling slack on a loaded 2-core machine, on top of the request's own limit.
const MARGIN: Duration = Duration::from_millis(2500);
const SHAPES: u64 = 96;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    /// Content-Length equal to the body.
    Exact,
    /// Content-Length larger than the body sent.
    Overstated,
    /// Content-Length smaller than the body sent.
    Understated,
    /// Chunked, well formed.
    Chunked,
    /// Chunked with a bad chunk size line.
    BrokenChunked,
    /// No length: the body ends when the connection does.
    CloseDelimited,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Pacing {
    /// Everything at once.
    AtOnce,
    /// In pieces, a short pause between them (well inside the phase limit).
    Drip,
    /// Half the body, then silence longer than the phase limit.
    StallMidway,
    /// Bytes forever.
    Endless,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ending {
    Fin,
    Reset,
    Hang,
}

#[derive(Debug, Clone)]
struct Shape {
    status: &'static str,
    framing: Framing,
    encoding: Option<&'static str>,
    pacing: Pacing,
    ending: Ending,
    body_len: usize,
}

/// SplitMix64: the sweep is the same on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn shape(seed: u64) -> Shape {
    let mut r = Rng(seed);
    Shape {
        status: r.pick(&[
            "200 OK",
            "204 No Content",
            "404 Not Found",
            "500 Oops",
            "299 Odd",
        ]),
        framing: r.pick(&[
            Framing::Exact,
            Framing::Overstated,
            Framing::Understated,
            Framing::Chunked,
            Framing::BrokenChunked,
            Framing::CloseDelimited,
        ]),
        encoding: r.pick(&[None, None, Some("gzip"), Some("br"), Some("x-unknown")]),
        pacing: r.pick(&[
            Pacing::AtOnce,
            Pacing::AtOnce,
            Pacing::Drip,
            Pacing::StallMidway,
            Pacing::Endless,
        ]),
        ending: r.pick(&[Ending::Fin, Ending::Fin, Ending::Reset, Ending::Hang]),
        body_len: r.pick(&[0usize, 1, 700, 70_000]),
    }
}

fn head(s: &Shape) -> String {
    let mut h = format!("HTTP/1.1 {}\r\n", s.status);
    match s.framing {
        Framing::Exact => h.push_str(&format!("Content-Length: {}\r\n", s.body_len)),
        Framing::Overstated => h.push_str(&format!("Content-Length: {}\r\n", s.body_len + 500)),
        Framing::Understated => h.push_str(&format!(
            "Content-Length: {}\r\n",
            s.body_len.saturating_sub(1)
        )),
        Framing::Chunked | Framing::BrokenChunked => {
            h.push_str("Transfer-Encoding: chunked\r\n");
        }
        Framing::CloseDelimited => h.push_str("Connection: close\r\n"),
    }
    if let Some(e) = s.encoding {
        h.push_str(&format!("Content-Encoding: {e}\r\n"));
    }
    h.push_str("\r\n");
    h
}

fn frame(s: &Shape, piece: &[u8]) -> Vec<u8> {
    match s.framing {
        Framing::Chunked if !piece.is_empty() => {
            let mut v = format!("{:x}\r\n", piece.len()).into_bytes();
            v.extend_from_slice(piece);
            v.extend_from_slice(b"\r\n");
            v
        }
        Framing::BrokenChunked if !piece.is_empty() => {
            let mut v = b"zz\r\n".to_vec();
            v.extend_from_slice(piece);
            v
        }
        _ => piece.to_vec(),
    }
}

async fn serve(mut tcp: TcpStream, s: Shape) {
    let mut buf = [0u8; 4096];
    let _ = tcp.read(&mut buf).await;
    if tcp.write_all(head(&s).as_bytes()).await.is_err() {
        return;
    }
    let body = vec![b'b'; s.body_len];
    match s.pacing {
        Pacing::AtOnce => {
            let _ = tcp.write_all(&frame(&s, &body)).await;
        }
        Pacing::Drip => {
            for piece in body.chunks(body.len().div_ceil(4).max(1)) {
                if tcp.write_all(&frame(&s, piece)).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        }
        Pacing::StallMidway => {
            let _ = tcp.write_all(&frame(&s, &body[..body.len() / 2])).await;
            tokio::time::sleep(PHASE_LIMIT * 3).await;
        }
        Pacing::Endless => {
            let piece = frame(&s, &[b'e'; 16 * 1024]);
            let until = Instant::now() + REQUEST_LIMIT + MARGIN * 2;
            while Instant::now() < until && tcp.write_all(&piece).await.is_ok() {}
            return;
        }
    }
    if s.framing == Framing::Chunked {
        let _ = tcp.write_all(b"0\r\n\r\n").await;
    }
    match s.ending {
        Ending::Fin => {
            let _ = tcp.shutdown().await;
        }
        Ending::Reset => {
            let _ = tcp.set_zero_linger();
        }
        Ending::Hang => tokio::time::sleep(REQUEST_LIMIT + MARGIN).await,
    }
}

async fn server(s: Shape) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        if let Ok((tcp, _)) = listener.accept().await {
            serve(tcp, s).await;
        }
    });
    addr
}

fn config() -> ProbeConfig {
    let mut c = ProbeConfig::default();
    c.proxy = ProxySetting::None;
    c.use_os_roots = false;
    c.phase_timeout = PHASE_LIMIT;
    c.connect_timeout = PHASE_LIMIT;
    c.total_timeout = REQUEST_LIMIT;
    c.max_body = Some(8 * 1024 * 1024);
    c
}

/// What the record must say, given the shape.
fn check_fits(s: &Shape, r: &RequestRecord) -> Result<(), String> {
    let kind = r.error.as_ref().map(|e| e.kind);
    if let Some(e) = &r.error
        && (e.message.is_empty() || e.message.contains('\n') || e.message.contains("0ns"))
    {
        return Err(format!("unclear message {:?}", e.message));
    }
    if s.pacing == Pacing::Endless
        && s.status != "204 No Content"
        && r.status.is_some()
        && s.framing != Framing::BrokenChunked
        && kind.is_none()
    {
        // An endless body with a length a server overstated or understated can still end
        // (hyper stops at Content-Length); a close-delimited or chunked one cannot.
        if matches!(s.framing, Framing::CloseDelimited | Framing::Chunked) {
            return Err("an endless body came out as a success".into());
        }
    }
    if s.status == "204 No Content" && kind == Some(ErrorKind::Truncated) {
        return Err("a 204 has no body, so nothing in it can be truncated".into());
    }
    if kind == Some(ErrorKind::Cancelled) {
        return Err("no caller deadline was set, yet the request was cancelled".into());
    }
    if s.pacing == Pacing::StallMidway
        && s.body_len >= 700
        && s.status == "200 OK"
        && matches!(s.framing, Framing::Exact | Framing::Chunked)
        && kind.is_none()
    {
        return Err("a body that stopped halfway came out as a success".into());
    }
    if r.error.is_none() && r.content_length.is_some_and(|cl| r.bytes_received < cl) {
        return Err("fewer bytes than Content-Length, yet no error".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_shape_ends_in_time_and_is_described() {
    let probe = Probe::new(config()).expect("probe");
    let mut tasks = Vec::new();
    for seed in 0..SHAPES {
        let s = shape(seed);
        let addr = server(s.clone()).await;
        let probe = probe.clone();
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let target = Target::parse(&format!("http://{addr}/x")).expect("url");
            let r = probe.request(&target).await;
            (seed, s, r, started.elapsed())
        }));
    }
    let mut problems = Vec::new();
    for t in tasks {
        let (seed, s, r, took) = t.await.expect("no panic");
        if took > REQUEST_LIMIT + MARGIN {
            problems.push(format!("seed {seed} {s:?}: took {took:?}"));
        }
        if let Err(why) = check_fits(&s, &r) {
            problems.push(format!("seed {seed} {s:?}: {why} ({:?})", r.error));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
