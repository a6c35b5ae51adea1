//! An origin instance: HTTPS (HTTP/2 and HTTP/1.1) on 127.0.0.1 serving the site.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body, Frame};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::site::{Hostile, Site};

/// What one origin serves: the site, and the paths it answers with an error status or a
/// hostile answer instead.
#[derive(Debug)]
pub(crate) struct Served {
    pub site: Site,
    pub statuses: BTreeMap<String, u16>,
    pub hostile: BTreeMap<String, Hostile>,
}

/// A response body of any shape.
type AnyBody = BoxBody<Bytes, Infallible>;

fn full(bytes: Bytes) -> AnyBody {
    Full::new(bytes).boxed()
}

/// The longest an endless body keeps a connection busy, so a lab left running cannot be held
/// forever by one client (it then stops without ending the body properly).
const ENDLESS_FOR: std::time::Duration = std::time::Duration::from_secs(120);

/// A body that never ends: 64 KiB chunks as fast as the client reads them.
struct Endless {
    until: std::time::Instant,
    chunk: Bytes,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if std::time::Instant::now() >= self.until {
            return std::task::Poll::Ready(None);
        }
        std::task::Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))))
    }
}

fn hostile(h: &Hostile, content_type: &'static str) -> Response<AnyBody> {
    let mut r = match h {
        Hostile::Endless => Response::new(
            Endless {
                until: std::time::Instant::now() + ENDLESS_FOR,
                chunk: Bytes::from(vec![b'e'; 64 * 1024]),
            }
            .boxed(),
        ),
        Hostile::GzipBomb(body) => {
            let mut r = Response::new(full(body.clone()));
            r.headers_mut().insert(
                http::header::CONTENT_ENCODING,
                http::HeaderValue::from_static("gzip"),
            );
            r
        }
        Hostile::Redirect(location) => {
            let mut r = Response::new(full(Bytes::new()));
            *r.status_mut() = StatusCode::FOUND;
            if let Ok(v) = http::HeaderValue::from_str(location) {
                r.headers_mut().insert(http::header::LOCATION, v);
            }
            r
        }
    };
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r.headers_mut()
        .insert(NOSNIFF.0, http::HeaderValue::from_static(NOSNIFF.1));
    r
}

fn status_only(status: StatusCode) -> Response<AnyBody> {
    let text = format!(
        "{} {}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    );
    let mut r = Response::new(full(Bytes::from(text)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(NOSNIFF.0, http::HeaderValue::from_static(NOSNIFF.1));
    r
}

/// Every answer says `nosniff`, as hardened nginx configurations and Django's
/// SecurityMiddleware do, so a wrong Content-Type is one a browser refuses.
const NOSNIFF: (http::HeaderName, &str) = (http::header::X_CONTENT_TYPE_OPTIONS, "nosniff");

/// Answers one request from the site.
pub(crate) fn answer(served: &Served, req: &Request<hyper::body::Incoming>) -> Response<AnyBody> {
    let path = req.uri().path();
    if let Some(h) = served.hostile.get(path) {
        let content_type = served
            .site
            .files
            .get(path)
            .map_or("application/octet-stream", |f| f.content_type);
        return hostile(h, content_type);
    }
    if let Some(status) = served
        .statuses
        .get(path)
        .and_then(|s| StatusCode::from_u16(*s).ok())
    {
        return status_only(status);
    }
    let Some(file) = served.site.files.get(path) else {
        return status_only(StatusCode::NOT_FOUND);
    };
    let head = req.method() == http::Method::HEAD;
    let len = file.body.len();
    let mut r = Response::new(full(if head {
        Bytes::new()
    } else {
        file.body.clone()
    }));
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(file.content_type),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static(file.cache_control),
    );
    h.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    h.insert(NOSNIFF.0, http::HeaderValue::from_static(NOSNIFF.1));
    r
}

/// Binds 127.0.0.1:0 and serves `served` over TLS with `tls` until the task set is dropped.
pub(crate) async fn start(
    served: Arc<Served>,
    tls: Arc<rustls::ServerConfig>,
    tasks: &mut JoinSet<()>,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tasks.spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            // Reap finished connections so the set stays small.
            while conns.try_join_next().is_some() {}
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let served = served.clone();
            conns.spawn(async move {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(crate::HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req| {
                    let r = answer(&served, &req);
                    async move { Ok::<_, Infallible>(r) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}
