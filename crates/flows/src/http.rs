//! Follows plain HTTP/1.x messages in one direction: heads are parsed (httparse), bodies with
//! a Content-Length are skipped by count. A chunked or close-delimited body ends the following
//! (the timeline goes on without request lines).

#[derive(Debug)]
pub(crate) enum HttpEvent {
    Request(String),
    Response {
        status: u16,
        content_length: Option<u64>,
    },
    /// Body bytes of the current message.
    Body(u64),
    Lost(&'static str),
}

#[derive(Debug, Default)]
pub(crate) struct HttpWalker {
    head: Vec<u8>,
    body_left: u64,
    stopped: bool,
}

const MAX_HEADERS: usize = 64;

impl HttpWalker {
    pub fn feed(
        &mut self,
        data: &[u8],
        response: bool,
        max_head: usize,
        events: &mut Vec<HttpEvent>,
    ) {
        let mut pos = 0;
        while pos < data.len() && !self.stopped {
            let rest = data.get(pos..).unwrap_or_default();
            if self.body_left > 0 {
                let take = self.body_left.min(rest.len() as u64);
                self.body_left -= take;
                events.push(HttpEvent::Body(take));
                pos += usize::try_from(take).unwrap_or(rest.len());
                continue;
            }
            let before = self.head.len();
            let take = max_head.saturating_sub(before).min(rest.len());
            self.head
                .extend_from_slice(rest.get(..take).unwrap_or_default());
            match self.parse_head(response, events) {
                Some(used) => {
                    // The earlier bytes were an incomplete head, so the head ends in this chunk;
                    // what follows it is a body or the next message.
                    self.head.clear();
                    pos += used.saturating_sub(before).max(1);
                }
                None if self.head.len() >= max_head => {
                    self.stop(events, "an HTTP head longer than the bound");
                }
                None => pos += take.max(1),
            }
        }
    }

    fn stop(&mut self, events: &mut Vec<HttpEvent>, why: &'static str) {
        self.stopped = true;
        self.head = Vec::new();
        events.push(HttpEvent::Lost(why));
    }

    /// Parses a complete head; returns its length.
    fn parse_head(&mut self, response: bool, events: &mut Vec<HttpEvent>) -> Option<usize> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let parsed = if response {
            let mut r = httparse::Response::new(&mut headers);
            match r.parse(&self.head) {
                Ok(httparse::Status::Complete(n)) => {
                    let status = r.code.unwrap_or(0);
                    let (len, chunked) = framing(r.headers);
                    let no_body = status < 200 || status == 204 || status == 304;
                    let content_length = if no_body { Some(0) } else { len };
                    events.push(HttpEvent::Response {
                        status,
                        content_length,
                    });
                    Ok((n, content_length, chunked && !no_body))
                }
                Ok(httparse::Status::Partial) => return None,
                Err(_) => Err(()),
            }
        } else {
            let mut r = httparse::Request::new(&mut headers);
            match r.parse(&self.head) {
                Ok(httparse::Status::Complete(n)) => {
                    let line = format!(
                        "{} {} HTTP/1.{}",
                        r.method.unwrap_or("?"),
                        r.path.unwrap_or("?"),
                        r.version.unwrap_or(1)
                    );
                    let (len, chunked) = framing(r.headers);
                    events.push(HttpEvent::Request(
                        interloper_model::text::cut_chars(&line, 200).to_string(),
                    ));
                    Ok((n, len.or(Some(0)), chunked))
                }
                Ok(httparse::Status::Partial) => return None,
                Err(_) => Err(()),
            }
        };
        match parsed {
            Ok((n, _, true)) => {
                self.stop(events, "a chunked body (not followed)");
                Some(n)
            }
            Ok((n, Some(len), false)) => {
                self.body_left = len;
                Some(n)
            }
            Ok((n, None, false)) => {
                self.stop(events, "a body delimited by the close (not followed)");
                Some(n)
            }
            Err(()) => {
                self.stop(events, "bytes that are not HTTP/1.x");
                None
            }
        }
    }
}

/// Content-Length and whether the body is chunked.
fn framing(headers: &[httparse::Header<'_>]) -> (Option<u64>, bool) {
    let mut len = None;
    let mut chunked = false;
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            len = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = String::from_utf8_lossy(h.value)
                .to_ascii_lowercase()
                .contains("chunked");
        }
    }
    (len, chunked)
}

/// Whether a stream's first bytes look like an HTTP/1.x request.
pub(crate) fn looks_like_request(data: &[u8]) -> bool {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"HEAD ",
        b"POST ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"PATCH ",
        b"CONNECT ",
        b"TRACE ",
    ];
    METHODS.iter().any(|m| data.starts_with(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_and_counted_bodies_in_any_chunking() {
        let stream = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        for size in [1, 3, 7, stream.len()] {
            let mut w = HttpWalker::default();
            let mut ev = Vec::new();
            for c in stream.chunks(size) {
                w.feed(c, true, 1024, &mut ev);
            }
            let statuses: Vec<u16> = ev
                .iter()
                .filter_map(|e| match e {
                    HttpEvent::Response { status, .. } => Some(*status),
                    _ => None,
                })
                .collect();
            let body: u64 = ev
                .iter()
                .map(|e| match e {
                    HttpEvent::Body(n) => *n,
                    _ => 0,
                })
                .sum();
            assert_eq!((statuses, body), (vec![200, 404], 5), "chunks of {size}");
        }
    }

    #[test]
    fn garbage_and_huge_heads_stop_cleanly() {
        let mut w = HttpWalker::default();
        let mut ev = Vec::new();
        w.feed(b"\x00\x01 not http\r\n\r\n", true, 1024, &mut ev);
        assert!(matches!(ev.last(), Some(HttpEvent::Lost(_))));
        let mut w = HttpWalker::default();
        let mut ev = Vec::new();
        w.feed(&[b'a'; 5000], false, 1024, &mut ev);
        assert!(matches!(ev.last(), Some(HttpEvent::Lost(_))));
    }
}
