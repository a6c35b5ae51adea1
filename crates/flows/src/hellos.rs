//! The fast path behind `pcap --hellos-only`: every ClientHello of a capture with its SNI, JA3
//! and JA4, and nothing else.
//!
//! The [`Analyzer`](crate::Analyzer) keeps a whole timeline per connection; fingerprinting a
//! multi-gigabyte capture needs none of it. Here each direction of a connection is a few words
//! of state: a stream whose first bytes are not a TLS handshake record is marked done at once
//! (servers, plain HTTP), a client's stream is followed record by record only while it carries
//! ClientHellos (a second one follows a HelloRetryRequest), and a direction is forgotten at its
//! FIN or RST. Hellos are handed to the caller as soon as they are complete, so nothing grows
//! with the capture's length.

use std::collections::HashMap;
use std::net::SocketAddr;

use foldhash::fast::RandomState;
use interloper_wire::{ClientHello, HANDSHAKE_CLIENT_HELLO, Transport, ja3, ja4_only};

use crate::http::looks_like_request;
use crate::link::{Endpoint, Segment, is_decodable_linktype, sock, tcp_segment};
use crate::read::PacketSink;
use crate::table::capture_notes;
use crate::tls::{TlsEvent, TlsWalker};
use crate::{Limits, Stats};

use interloper_wire::{
    CONTENT_TYPE_ALERT as ALERT, CONTENT_TYPE_APPLICATION_DATA as APPLICATION_DATA,
    CONTENT_TYPE_HANDSHAKE as HANDSHAKE,
};
/// Out-of-order segments held per direction: a hello spans a few segments, and a bounded
/// count keeps the in-order search cheap against a capture of one-byte segments.
const MAX_PENDING_SEGMENTS: usize = 64;
/// Plain bytes passed over before a ClientHello record may still begin a TLS stream (an HTTP
/// CONNECT, a SOCKS greeting; as in the whole analysis, not other HTTP requests); a stream
/// with more is not followed further.
const PREAMBLE_MAX: usize = 16 * 1024;

/// One ClientHello found by the [`HelloScanner`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundHello {
    /// When its last byte was captured (µs since the Unix epoch).
    pub ts_us: u64,
    /// The sender of the hello.
    pub client: SocketAddr,
    /// Its receiver.
    pub server: SocketAddr,
    /// Server name indication.
    pub sni: Option<String>,
    /// JA3 string.
    pub ja3: String,
    /// JA3 MD5.
    pub ja3_hash: String,
    /// JA4.
    pub ja4: String,
    /// The parsed hello, for other fingerprint forms or fields (handed over, not copied).
    pub hello: ClientHello,
}

/// What a direction still needs.
#[derive(Debug)]
enum Phase {
    /// Before the first ClientHello record: plain bytes (a CONNECT request and its answer's
    /// wait, a SOCKS greeting) are passed over, up to [`PREAMBLE_MAX`] of them.
    Before {
        /// Bytes passed over so far.
        passed: usize,
    },
    /// It began with a handshake record: ClientHellos are read until anything else comes.
    Hellos(Box<Assembly>),
    /// Nothing more to find.
    Done,
}

#[derive(Debug)]
struct Assembly {
    walker: TlsWalker,
    /// Out-of-order segments by sequence number (a hello spans one to three segments).
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: usize,
    hellos: usize,
}

impl Assembly {
    fn new(limits: &Limits) -> Box<Assembly> {
        Box::new(Assembly {
            walker: TlsWalker::new(limits.max_handshake_bytes),
            pending: Vec::new(),
            pending_bytes: 0,
            hellos: 0,
        })
    }
}

#[derive(Debug)]
struct Stream {
    /// The SYN's sequence number, to tell a retransmitted SYN from port reuse.
    isn: Option<u32>,
    /// Next sequence number expected in order.
    next: Option<u32>,
    phase: Phase,
}

/// Reads packets and hands every complete ClientHello to `on_hello`, with state bounded by
/// [`Limits::max_connections`] (two directions each; directions with nothing left to read
/// make room), [`Limits::max_pending_bytes`] and
/// [`Limits::max_total_pending`] for out-of-order segments, [`Limits::max_handshake_bytes`] per
/// hello and [`Limits::max_items`] hellos per connection.
pub struct HelloScanner<F> {
    limits: Limits,
    streams: HashMap<(Endpoint, Endpoint), Stream, RandomState>,
    stats: Stats,
    pending_total: usize,
    decoded_any: bool,
    events: Vec<TlsEvent>,
    /// Packets read when the table may next be swept (see [`HelloScanner::room`]).
    sweep_after: u64,
    on_hello: F,
}

impl<F> std::fmt::Debug for HelloScanner<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelloScanner")
            .field("streams", &self.streams.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(FoundHello)> HelloScanner<F> {
    /// A scanner calling `on_hello` for each ClientHello, in the order they complete.
    pub fn new(limits: Limits, on_hello: F) -> HelloScanner<F> {
        HelloScanner {
            limits,
            streams: HashMap::default(),
            stats: Stats::default(),
            pending_total: 0,
            decoded_any: false,
            events: Vec::new(),
            sweep_after: 0,
            on_hello,
        }
    }

    /// Whether another direction may be tracked. A full table first drops the directions that
    /// hold nothing (done, or no ClientHello begun): forgetting them costs at most a second
    /// look at their next bytes, while a capture whose FINs and RSTs were not all captured
    /// would otherwise fill the table with finished connections and miss every later hello.
    /// Sweeps are spaced a table's worth of packets apart, so a table full of hellos in
    /// progress costs no more than one pass per that many packets.
    fn room(&mut self) -> bool {
        let cap = 2 * self.limits.max_connections;
        if self.streams.len() < cap {
            return true;
        }
        if self.stats.packets >= self.sweep_after {
            self.streams
                .retain(|_, st| matches!(st.phase, Phase::Hellos(_)));
            self.sweep_after = self.stats.packets + cap as u64;
        }
        self.streams.len() < cap
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Some packet was of a link type that is decoded.
    pub fn decoded_any(&self) -> bool {
        self.decoded_any
    }

    /// Counters and notes about the capture as a whole (snap length, truncation, limits).
    pub fn finish(self) -> (Stats, Vec<String>) {
        let notes = capture_notes(&self.stats, &self.limits);
        (self.stats, notes)
    }

    fn forget(&mut self, key: &(Endpoint, Endpoint)) {
        if let Some(Stream {
            phase: Phase::Hellos(a),
            ..
        }) = self.streams.remove(key)
        {
            self.pending_total -= a.pending_bytes.min(self.pending_total);
        }
    }

    fn segment(&mut self, s: &Segment<'_>) {
        let key = (s.from, s.to);
        if s.syn {
            match self.streams.get(&key) {
                Some(st) if st.isn == Some(s.seq) => {}
                known => {
                    // A new connection, or port reuse: start this direction over.
                    if known.is_some() {
                        self.forget(&key);
                    } else if !self.room() {
                        self.stats.untracked_connections += u64::from(!s.has_ack);
                        return;
                    }
                    self.streams.insert(
                        key,
                        Stream {
                            isn: Some(s.seq),
                            next: Some(s.seq.wrapping_add(1)),
                            phase: Phase::Before { passed: 0 },
                        },
                    );
                }
            }
        }
        if !s.payload.is_empty() {
            self.payload(key, s);
        }
        if s.fin || s.rst {
            self.forget(&key);
        }
    }

    fn payload(&mut self, key: (Endpoint, Endpoint), s: &Segment<'_>) {
        if !self.streams.contains_key(&key) {
            if !self.room() {
                return;
            }
            self.streams.insert(
                key,
                Stream {
                    isn: None,
                    next: None,
                    phase: Phase::Before { passed: 0 },
                },
            );
        }
        let Some(stream) = self.streams.get_mut(&key) else {
            return;
        };
        let seq = if s.syn { s.seq.wrapping_add(1) } else { s.seq };
        if !pass_preamble(stream, seq, s.payload, &self.limits) {
            return;
        }
        let next = *stream.next.get_or_insert(seq);
        let Phase::Hellos(a) = &mut stream.phase else {
            return;
        };
        let limits = self.limits;
        let data = match arrival(a, seq, next, s.payload, &limits, &mut self.pending_total) {
            Arrival::New(data) => data,
            Arrival::Held => return,
            Arrival::HoleLost => {
                stream.phase = Phase::Done;
                return;
            }
        };
        let (done, next) = feed_in_order(a, data, next, &mut self.pending_total, &mut self.events);
        stream.next = Some(next);
        hand_over_hellos(a, s, &mut self.events, &mut self.on_hello);
        if done || a.hellos >= limits.max_items {
            self.pending_total -= a.pending_bytes.min(self.pending_total);
            stream.phase = Phase::Done;
        }
    }
}

/// Before a direction's first ClientHello record: decides from this segment whether the
/// stream begins (or may have begun) its hellos, is plain bytes to pass over, or is not a
/// client's TLS at all. True when the segment is to be read as hello bytes.
#[inline]
fn pass_preamble(stream: &mut Stream, seq: u32, payload: &[u8], limits: &Limits) -> bool {
    let Phase::Before { passed } = &mut stream.phase else {
        return true;
    };
    let record = payload.starts_with(&[HANDSHAKE, 3]);
    let opens_hello = record && payload.get(5).is_none_or(|&t| t == HANDSHAKE_CLIENT_HELLO);
    // Bytes ahead of the first expected ones: the stream's start is missing (lost or
    // reordered); it gets the benefit of the doubt.
    let ahead = *passed == 0 && stream.next.is_some_and(|n| seq.wrapping_sub(n) as i32 > 0);
    if opens_hello {
        stream.next = Some(seq);
        stream.phase = Phase::Hellos(Assembly::new(limits));
        true
    } else if ahead {
        stream.phase = Phase::Hellos(Assembly::new(limits));
        true
    } else if record
        || *passed + payload.len() > PREAMBLE_MAX
        || (*passed == 0 && looks_like_request(payload) && !payload.starts_with(b"CONNECT "))
    {
        // A TLS stream that is not a client's (a server's begins with its
        // ServerHello), plain HTTP, or too much that is not TLS.
        stream.phase = Phase::Done;
        false
    } else {
        *passed += payload.len();
        stream.next = Some(seq.wrapping_add(payload.len() as u32));
        false
    }
}

/// What a segment of a direction reading hellos brings.
enum Arrival<'p> {
    /// These bytes are next in order.
    New(&'p [u8]),
    /// Nothing to read now: a retransmission, or a segment ahead kept until the hole fills.
    Held,
    /// A hole that does not fill within the bounds: the hello cannot be read.
    HoleLost,
}

/// Sorts a segment at `seq` against the next expected sequence number `next`: new bytes,
/// held (ahead of a hole, within the bounds), or a hole given up.
#[inline]
fn arrival<'p>(
    a: &mut Assembly,
    seq: u32,
    next: u32,
    payload: &'p [u8],
    limits: &Limits,
    pending_total: &mut usize,
) -> Arrival<'p> {
    let delta = seq.wrapping_sub(next) as i32;
    if delta < 0 {
        // Retransmitted, perhaps with new bytes at its end.
        let behind = delta.unsigned_abs() as usize;
        return match payload.get(behind..) {
            Some(tail) if !tail.is_empty() => Arrival::New(tail),
            _ => Arrival::Held,
        };
    }
    if delta == 0 {
        return Arrival::New(payload);
    }
    let fits = a.pending_bytes + payload.len() <= limits.max_pending_bytes
        && *pending_total + payload.len() <= limits.max_total_pending
        && a.pending.len() < MAX_PENDING_SEGMENTS;
    if fits && !a.pending.iter().any(|(q, _)| *q == seq) {
        a.pending.push((seq, payload.to_vec()));
        a.pending_bytes += payload.len();
        *pending_total += payload.len();
    } else if !fits {
        *pending_total -= a.pending_bytes.min(*pending_total);
        return Arrival::HoleLost;
    }
    Arrival::Held
}

/// Feeds `data` (which starts at `next`) and then the held segments that now line up (those
/// wholly behind are retransmissions: dropped). Returns whether nothing more can follow, and
/// the next sequence number expected.
#[inline]
fn feed_in_order(
    a: &mut Assembly,
    data: &[u8],
    next: u32,
    pending_total: &mut usize,
    events: &mut Vec<TlsEvent>,
) -> (bool, u32) {
    let mut done = feed(a, data, events);
    let mut next = next.wrapping_add(data.len() as u32);
    while !done {
        let Some(i) = a
            .pending
            .iter()
            .position(|(q, _)| next.wrapping_sub(*q) as i32 >= 0)
        else {
            break;
        };
        let (q, bytes) = a.pending.swap_remove(i);
        a.pending_bytes -= bytes.len();
        *pending_total -= bytes.len().min(*pending_total);
        let skip = next.wrapping_sub(q) as usize;
        if let Some(tail) = bytes.get(skip..).filter(|t| !t.is_empty()) {
            done = feed(a, tail, events);
            next = next.wrapping_add(tail.len() as u32);
        }
    }
    (done, next)
}

/// Parses the complete ClientHellos among `events` (emptying it) and hands each to
/// `on_hello`, counting them on the direction.
#[inline]
fn hand_over_hellos<F: FnMut(FoundHello)>(
    a: &mut Assembly,
    s: &Segment<'_>,
    events: &mut Vec<TlsEvent>,
    on_hello: &mut F,
) {
    for e in events.drain(..) {
        if let TlsEvent::Handshake { msg, .. } = e {
            if msg.first() != Some(&HANDSHAKE_CLIENT_HELLO) {
                continue;
            }
            let Ok(h) = ClientHello::parse(&msg) else {
                continue;
            };
            a.hellos += 1;
            let j3 = ja3(&h);
            on_hello(FoundHello {
                ts_us: s.ts,
                client: sock(s.from),
                server: sock(s.to),
                sni: h.sni(),
                ja3: j3.string,
                ja3_hash: j3.hash,
                ja4: ja4_only(&h, Transport::Tcp),
                hello: h,
            });
        }
    }
}

/// Feeds in-order bytes to a direction's walker; true when nothing more can follow: a
/// handshake message that is not a ClientHello, an alert, application data, bytes that are
/// not TLS, a message over the bound.
fn feed(a: &mut Assembly, data: &[u8], events: &mut Vec<TlsEvent>) -> bool {
    let before = events.len();
    a.walker.feed(data, events);
    let other = events
        .get(before..)
        .unwrap_or_default()
        .iter()
        .any(|e| match e {
            TlsEvent::Handshake { msg, .. } => msg.first() != Some(&HANDSHAKE_CLIENT_HELLO),
            TlsEvent::ChangeCipherSpec | TlsEvent::ClientFinished => false,
            TlsEvent::Alert(_) | TlsEvent::Lost(_) | TlsEvent::Oversized(_) => true,
        });
    other || matches!(a.walker.last_record, Some((ALERT | APPLICATION_DATA, _)))
}

impl<F: FnMut(FoundHello)> PacketSink for HelloScanner<F> {
    fn packet(&mut self, ts_us: u64, linktype: u32, data: &[u8], wire_len: usize) {
        self.decoded_any |= is_decodable_linktype(linktype);
        if let Some(seg) = tcp_segment(&mut self.stats, ts_us, linktype, data, wire_len) {
            self.segment(&seg);
        }
    }

    fn mark_truncated(&mut self) {
        self.stats.truncated_file = true;
    }

    fn stats(&self) -> &Stats {
        &self.stats
    }
}
