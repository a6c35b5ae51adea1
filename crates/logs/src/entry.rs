//! One request as an access log tells it.

use std::borrow::Cow;

/// How a logged request ended, as far as the log can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ending {
    /// The response was sent (whatever its status).
    Complete,
    /// The client closed the connection before the response was done (nginx 499, HAProxy
    /// `C…`, Avi `ADF_CLIENT_CONN_ABORTED` / `ADF_CLIENT_SENT_RESET`).
    ClientClosed,
    /// The proxy gave up waiting for the client (nginx 408, HAProxy `c…`, Avi client
    /// time-outs).
    ClientTimeout,
    /// The proxy gave up waiting for the backend (nginx 504, HAProxy `s…`, Avi server
    /// time-outs).
    ServerTimeout,
    /// The backend failed or reset (nginx 502, HAProxy `S…`, Avi server resets and read
    /// errors).
    ServerFailed,
}

impl Ending {
    /// The name used in JSON and evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Complete => "complete",
            Ending::ClientClosed => "client-closed",
            Ending::ClientTimeout => "client-timeout",
            Ending::ServerTimeout => "server-timeout",
            Ending::ServerFailed => "server-failed",
        }
    }
}

/// One request from an access log. Fields a format does not carry are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// Client address as logged.
    pub client: Option<Cow<'a, str>>,
    /// When, in seconds since the Unix epoch (UTC), when the line says.
    pub time: Option<i64>,
    /// Request method.
    pub method: Option<Cow<'a, str>>,
    /// Request path, query string removed.
    pub path: Cow<'a, str>,
    /// Status sent to the client (`None`: none was, e.g. HAProxy's `-1`).
    pub status: Option<u16>,
    /// Body bytes sent to the client.
    pub bytes: Option<u64>,
    /// Time from the request to the end of the response, in milliseconds.
    pub duration_ms: Option<f64>,
    /// The backend that answered: nginx `$upstream_addr`, HAProxy `backend/server`, Avi
    /// server name or address.
    pub upstream: Option<Cow<'a, str>>,
    /// Time the backend took to answer, in milliseconds, when logged.
    pub upstream_ms: Option<f64>,
    /// How it ended.
    pub ending: Ending,
    /// The log's own words for an abnormal ending (`cD--`, `499`, `ADF_CLIENT_CONN_ABORTED`).
    pub detail: Option<Cow<'a, str>>,
    /// The proxy saw heavy retransmissions or a stuck window on this connection (Avi).
    pub network_trouble: bool,
    /// Every upstream tried, as nginx's `$upstream_addr` lists them: `a:80, b:80` (the next
    /// server after a failure) and ` : ` (another upstream after an internal redirect); `-`
    /// for a try without an address.
    pub upstream_tries: Option<Cow<'a, str>>,
    /// `$upstream_status`, one per try, in the same list shape.
    pub upstream_statuses: Option<Cow<'a, str>>,
    /// `$upstream_connect_time`, seconds, one per try.
    pub upstream_connect: Option<Cow<'a, str>>,
    /// `$upstream_header_time`, seconds, one per try.
    pub upstream_header: Option<Cow<'a, str>>,
    /// `$upstream_response_time`, seconds, one per try.
    pub upstream_times: Option<Cow<'a, str>>,
    /// The client's TLS version (`$ssl_protocol`, HAProxy `%sslv`).
    pub tls_protocol: Option<Cow<'a, str>>,
    /// The client's TLS cipher suite (`$ssl_cipher`, HAProxy `%sslc`).
    pub tls_cipher: Option<Cow<'a, str>>,
}

impl<'a> Entry<'a> {
    pub(crate) fn new(path: Cow<'a, str>) -> Entry<'a> {
        Entry {
            client: None,
            time: None,
            method: None,
            path,
            status: None,
            bytes: None,
            duration_ms: None,
            upstream: None,
            upstream_ms: None,
            ending: Ending::Complete,
            detail: None,
            network_trouble: false,
            upstream_tries: None,
            upstream_statuses: None,
            upstream_connect: None,
            upstream_header: None,
            upstream_times: None,
            tls_protocol: None,
            tls_cipher: None,
        }
    }

    /// The same entry, owning its text.
    pub(crate) fn into_owned(self) -> Entry<'static> {
        fn own(c: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
            c.map(|c| Cow::Owned(c.into_owned()))
        }
        Entry {
            client: own(self.client),
            time: self.time,
            method: own(self.method),
            path: Cow::Owned(self.path.into_owned()),
            status: self.status,
            bytes: self.bytes,
            duration_ms: self.duration_ms,
            upstream: own(self.upstream),
            upstream_ms: self.upstream_ms,
            ending: self.ending,
            detail: own(self.detail),
            network_trouble: self.network_trouble,
            upstream_tries: own(self.upstream_tries),
            upstream_statuses: own(self.upstream_statuses),
            upstream_connect: own(self.upstream_connect),
            upstream_header: own(self.upstream_header),
            upstream_times: own(self.upstream_times),
            tls_protocol: own(self.tls_protocol),
            tls_cipher: own(self.tls_cipher),
        }
    }
}
