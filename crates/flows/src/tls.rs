//! Walks the TLS records of one direction as its bytes arrive in order: record headers are
//! followed through the whole stream (5 bytes of state), handshake records are assembled into
//! messages only while they are in the clear, alerts are reported, and the bytes of
//! application-data records after the handshake are counted for the exchanges.

use interloper_wire::{
    CONTENT_TYPE_ALERT as ALERT, CONTENT_TYPE_APPLICATION_DATA as APPLICATION_DATA,
    CONTENT_TYPE_CHANGE_CIPHER_SPEC as CHANGE_CIPHER_SPEC, CONTENT_TYPE_HANDSHAKE as HANDSHAKE,
    HandshakeMessages, RECORD_HEADER_LEN, RecordHeader, WireError,
};
/// TLS 1.3: leading small server records after the client's Finished are taken for
/// NewSessionTickets, not an answer (OpenSSL, rustls and Go servers send two): at most this
/// many …
const TICKET_RECORDS: u8 = 2;
/// … each at most this long.
const TICKET_RECORD_MAX: usize = 300;
/// A TLS 1.3 close_notify: 2 alert bytes, the inner content type and a 16-byte AEAD tag.
const TLS13_ALERT_RECORD_LEN: usize = 19;

/// Something the walker saw, handed to the connection.
#[derive(Debug)]
pub(crate) enum TlsEvent {
    /// A complete handshake message in the clear (header included), with the records and
    /// stream chunks that carried it when it was the direction's first.
    Handshake {
        msg: Vec<u8>,
        records: u32,
        chunks: u32,
    },
    /// An alert record: `(level, description)` when in the clear.
    Alert(Option<(u8, u8)>),
    /// A ChangeCipherSpec record.
    ChangeCipherSpec,
    /// TLS 1.3: the client's first encrypted record after the ServerHello (its Finished).
    ClientFinished,
    /// The stream stopped looking like TLS.
    Lost(&'static str),
    /// A handshake message over the size bound.
    Oversized(usize),
}

#[derive(Debug)]
pub(crate) struct TlsWalker {
    header: Vec<u8>,
    rec_type: u8,
    rec_len: usize,
    rec_left: usize,
    keep: bool,
    record: Vec<u8>,
    /// Handshake messages being cut from the records in the clear (bounded per message by
    /// the caller's `max_msg`, set when the walker is made).
    handshake: HandshakeMessages,
    /// This direction's handshake records are no longer in the clear.
    pub encrypted: bool,
    /// Application data counts for exchanges (the handshake is complete).
    pub app_open: bool,
    /// TLS 1.3 client: the first encrypted record is the Finished.
    pub await_finished: bool,
    /// TLS 1.3 was negotiated (for the close_notify heuristic).
    pub tls13: bool,
    /// TLS 1.3 server: small records still taken for session tickets.
    pub tickets_left: u8,
    /// This direction sent a ServerHello.
    saw_server_hello: bool,
    /// The other direction sent a ServerHello.
    pub peer_hello_seen: bool,
    broken: bool,
    first_done: bool,
    first_records: u32,
    first_chunks: u32,
    /// Type and length of the last complete record.
    pub last_record: Option<(u8, usize)>,
}

impl TlsWalker {
    /// A walker of one direction; handshake messages longer than `max_msg` bytes are
    /// reported ([`TlsEvent::Oversized`]) rather than kept.
    pub fn new(max_msg: usize) -> TlsWalker {
        TlsWalker {
            header: Vec::new(),
            rec_type: 0,
            rec_len: 0,
            rec_left: 0,
            keep: false,
            record: Vec::new(),
            handshake: HandshakeMessages::new(max_msg),
            encrypted: false,
            app_open: false,
            await_finished: false,
            tls13: false,
            tickets_left: 0,
            saw_server_hello: false,
            peer_hello_seen: false,
            broken: false,
            first_done: false,
            first_records: 0,
            first_chunks: 0,
            last_record: None,
        }
    }

    /// TLS 1.3 server side: the next small records are probably session tickets.
    pub fn expect_tickets(&mut self) {
        self.tickets_left = TICKET_RECORDS;
    }

    /// The stream is between records.
    pub fn mid_record(&self) -> bool {
        !self.broken && (self.rec_left > 0 || !self.header.is_empty())
    }

    /// The last record looked like a close_notify.
    pub fn ended_with_alert(&self) -> bool {
        match self.last_record {
            Some((ALERT, _)) => true,
            Some((APPLICATION_DATA, len)) => self.tls13 && len == TLS13_ALERT_RECORD_LEN,
            _ => false,
        }
    }

    /// Feeds in-order stream bytes; returns the bytes of application data records.
    pub fn feed(&mut self, mut data: &[u8], events: &mut Vec<TlsEvent>) -> u64 {
        if self.broken {
            return 0;
        }
        if !self.first_done {
            self.first_chunks += 1;
        }
        let mut app = 0u64;
        while !data.is_empty() {
            if self.rec_left == 0 {
                let take = (RECORD_HEADER_LEN - self.header.len()).min(data.len());
                let (now, rest) = data.split_at(take);
                self.header.extend_from_slice(now);
                data = rest;
                if self.header.len() < RECORD_HEADER_LEN {
                    break;
                }
                let Ok(RecordHeader {
                    content_type: typ,
                    len,
                }) = RecordHeader::parse(&self.header)
                else {
                    self.broken = true;
                    self.header = Vec::new();
                    self.record = Vec::new();
                    self.handshake.clear();
                    events.push(TlsEvent::Lost(
                        "the stream stopped looking like TLS records",
                    ));
                    return app;
                };
                self.header.clear();
                self.rec_type = typ;
                self.rec_len = len;
                self.rec_left = len;
                self.keep = (typ == HANDSHAKE && !self.encrypted) || typ == ALERT;
                if self.keep {
                    self.record.reserve(len);
                }
                if typ == HANDSHAKE && !self.encrypted && !self.first_done {
                    self.first_records += 1;
                }
                if typ == APPLICATION_DATA && self.await_finished {
                    self.await_finished = false;
                    self.app_open = true;
                    events.push(TlsEvent::ClientFinished);
                    // The Finished itself is handshake, not a request.
                } else if typ == APPLICATION_DATA
                    && self.app_open
                    && self.tickets_left > 0
                    && len <= TICKET_RECORD_MAX
                {
                    self.tickets_left -= 1;
                } else if typ == APPLICATION_DATA
                    && self.app_open
                    && !(self.tls13 && len == TLS13_ALERT_RECORD_LEN)
                {
                    self.tickets_left = 0;
                    // (A TLS 1.3 alert — a close_notify — is not a request or a response.)
                    app += (RECORD_HEADER_LEN + len) as u64;
                }
            }
            let take = self.rec_left.min(data.len());
            let (now, rest) = data.split_at(take);
            if self.keep {
                self.record.extend_from_slice(now);
            }
            data = rest;
            self.rec_left -= take;
            if self.rec_left == 0 {
                self.record_done(events);
            }
        }
        app
    }

    fn record_done(&mut self, events: &mut Vec<TlsEvent>) {
        self.last_record = Some((self.rec_type, self.rec_len));
        let record = std::mem::take(&mut self.record);
        match self.rec_type {
            HANDSHAKE if self.keep => {
                self.handshake.push_owned(record);
                self.messages(events);
            }
            ALERT => {
                let clear = match (record.as_slice(), self.encrypted) {
                    (&[level, desc], false) => Some((level, desc)),
                    _ => None,
                };
                events.push(TlsEvent::Alert(clear));
            }
            CHANGE_CIPHER_SPEC => {
                // TLS 1.3 sends it only for middlebox compatibility: nothing changes.
                // A client's before any ServerHello was seen is TLS 1.3 compatibility too
                // (a capture of one direction only, a second hello after a retry).
                if !self.tls13 && (self.saw_server_hello || self.peer_hello_seen) {
                    self.encrypted = true;
                    self.handshake.clear();
                }
                events.push(TlsEvent::ChangeCipherSpec);
            }
            _ => {}
        }
    }

    fn messages(&mut self, events: &mut Vec<TlsEvent>) {
        loop {
            let msg = match self.handshake.next_message() {
                Ok(Some(msg)) => msg,
                Ok(None) => return,
                Err(e) => {
                    let len = match e {
                        WireError::MessageTooLong { len, .. } => len,
                        _ => 0,
                    };
                    events.push(TlsEvent::Oversized(len));
                    // Stop assembling; record walking goes on.
                    self.encrypted = true;
                    return;
                }
            };
            if msg.first() == Some(&interloper_wire::HANDSHAKE_SERVER_HELLO) {
                // Known at once, so a ChangeCipherSpec later in this same chunk is read right.
                if let Ok(sh) = interloper_wire::ServerHello::parse(&msg) {
                    self.saw_server_hello = true;
                    self.tls13 |= sh.is_hello_retry_request() || sh.selected_version() == 0x0304;
                }
            }
            let (records, chunks) = if self.first_done {
                (1, 1)
            } else {
                self.first_done = true;
                (self.first_records, self.first_chunks)
            };
            events.push(TlsEvent::Handshake {
                msg,
                records,
                chunks,
            });
        }
    }
}

/// The certificates of a TLS ≤ 1.2 Certificate message (header included), at most `max`.
pub(crate) fn certificates(msg: &[u8], max: usize) -> Vec<Vec<u8>> {
    let u24 = |b: &[u8]| -> Option<usize> {
        match b {
            &[a, b, c] => Some((usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c)),
            _ => None,
        }
    };
    let mut out = Vec::new();
    let Some(list_len) = msg.get(4..7).and_then(u24) else {
        return out;
    };
    let Some(mut list) = msg.get(7..7 + list_len) else {
        return out;
    };
    while out.len() < max {
        let Some(len) = list.get(..3).and_then(u24) else {
            break;
        };
        let Some(der) = list.get(3..3 + len) else {
            break;
        };
        out.push(der.to_vec());
        list = list.get(3 + len..).unwrap_or_default();
    }
    out
}

/// The RFC 8446 / 5246 name of an alert description.
pub(crate) fn alert_name(desc: u8) -> &'static str {
    match desc {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = vec![typ, 3, 3];
        r.extend_from_slice(&u16::try_from(payload.len()).unwrap_or(0).to_be_bytes());
        r.extend_from_slice(payload);
        r
    }

    #[test]
    fn a_message_split_over_records_and_chunks_is_assembled_once() {
        let msg = [1u8, 0, 0, 4, 9, 9, 9, 9];
        let mut stream = record(HANDSHAKE, &msg[..3]);
        stream.extend(record(HANDSHAKE, &msg[3..]));
        let mut w = TlsWalker::new(1000);
        let mut ev = Vec::new();
        for chunk in stream.chunks(4) {
            w.feed(chunk, &mut ev);
        }
        let hs: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                TlsEvent::Handshake {
                    msg,
                    records,
                    chunks,
                } => Some((msg.clone(), *records, *chunks)),
                _ => None,
            })
            .collect();
        assert_eq!(hs, vec![(msg.to_vec(), 2, 5)]);
        assert!(!w.mid_record());
    }

    #[test]
    fn application_data_counts_only_once_open_and_garbage_stops_the_walk() {
        let mut w = TlsWalker::new(100);
        let mut ev = Vec::new();
        assert_eq!(w.feed(&record(APPLICATION_DATA, &[0; 10]), &mut ev), 0);
        w.app_open = true;
        assert_eq!(w.feed(&record(APPLICATION_DATA, &[0; 10]), &mut ev), 15);
        w.feed(b"GET / HTTP/1.1\r\n", &mut ev);
        assert!(matches!(ev.last(), Some(TlsEvent::Lost(_))));
        assert_eq!(w.feed(&record(APPLICATION_DATA, &[0; 10]), &mut ev), 0);
    }
}
