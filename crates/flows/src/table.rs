//! The connection table: packets in, per-connection timelines out.
//!
//! Each direction delivers its bytes in sequence order to a TLS or HTTP walker (out-of-order
//! segments wait in a bounded buffer; a hole that never fills is given up). Exchanges are cut
//! from the application bytes: a client burst opens one, the server's bytes answer it until the
//! client speaks again.

use std::collections::{BTreeMap, HashMap};

use interloper_wire::{
    CONTENT_TYPE_HANDSHAKE as HANDSHAKE, ClientHello, HANDSHAKE_CLIENT_HELLO,
    HANDSHAKE_SERVER_HELLO, ServerHello, Transport, cipher_name, ja3, ja3s, ja4_only, version_name,
};

use crate::http::{HttpEvent, HttpWalker, looks_like_request};
use crate::link::{Endpoint, Segment, is_decodable_linktype, sock, tcp_segment};
use crate::tls::{TlsEvent, TlsWalker, alert_name, certificates};
use crate::{
    Alert, Connection, DirectionStats, End, EndKind, Exchange, Flows, Gap, HelloSeen, Options,
    Payload, ServerHelloSeen, Side, Stats, TlsSeen, ms,
};

const HANDSHAKE_CERTIFICATE: u8 = 11;
/// A server that ends this soon after its last bytes, before the client ended, ended during
/// the response (µs).
const END_DURING_RESPONSE_US: u64 = 1_000_000;
/// Over TLS, an unanswered client burst smaller than this is protocol chatter (HTTP/2
/// SETTINGS ACK, WINDOW_UPDATE, PING, GOAWAY: 9–17 bytes plus 22 of record overhead), not a
/// request: a real request's headers do not fit.
const MIN_TLS_REQUEST: u64 = 48;

#[derive(Debug)]
enum Walker {
    Undecided,
    Tls(Box<TlsWalker>),
    Http(HttpWalker),
    Opaque,
}

#[derive(Debug)]
struct Dir {
    /// Next sequence number expected in order.
    next: Option<u32>,
    syn_isn: Option<u32>,
    /// Out-of-order segments by their offset ahead of `next`'s stream position.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    /// Stream position of `next`.
    delivered: u64,
    walker: Walker,
    stats: DirectionStats,
    last_ack: Option<(u32, u16)>,
    last_data_us: Option<u64>,
    fin_us: Option<u64>,
    rst_us: Option<u64>,
}

impl Default for Dir {
    fn default() -> Self {
        Dir {
            next: None,
            syn_isn: None,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            delivered: 0,
            walker: Walker::Undecided,
            stats: DirectionStats::default(),
            last_ack: None,
            last_data_us: None,
            fin_us: None,
            rst_us: None,
        }
    }
}

#[derive(Debug)]
struct Current {
    ex: Exchange,
    request_us: u64,
    first_response_us: Option<u64>,
    last_response_us: Option<u64>,
}

#[derive(Debug)]
struct Conn {
    index: usize,
    /// `ends[0]` sent the first packet seen.
    ends: [Endpoint; 2],
    /// Which of `ends` is the client, once known.
    client: Option<usize>,
    syn_from: Option<usize>,
    first_us: u64,
    last_us: u64,
    syn_us: Option<u64>,
    synack_us: Option<u64>,
    ack_us: Option<u64>,
    dirs: [Dir; 2],
    payload: Payload,
    tls: Option<TlsSeen>,
    ccs: [Option<u64>; 2],
    exchanges: Vec<Exchange>,
    exchanges_total: u64,
    current: Option<Current>,
    unsolicited: u64,
    end: Option<End>,
    notes: Vec<String>,
    closed: bool,
    /// A CONNECT request awaits its answer: a 2xx turns the connection into a TLS tunnel.
    connect_pending: bool,
}

/// Reads packets one at a time and keeps bounded state per connection.
#[derive(Debug)]
pub struct Analyzer {
    opts: Options,
    stats: Stats,
    conns: Vec<Conn>,
    by_pair: HashMap<(Endpoint, Endpoint), usize>,
    pending_total: usize,
    decoded_any: bool,
}

fn pair(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b { (a, b) } else { (b, a) }
}

impl Analyzer {
    /// An empty table.
    pub fn new(opts: Options) -> Analyzer {
        Analyzer {
            opts,
            stats: Stats::default(),
            conns: Vec::new(),
            by_pair: HashMap::new(),
            pending_total: 0,
            decoded_any: false,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub(crate) fn mark_truncated(&mut self) {
        self.stats.truncated_file = true;
    }

    pub(crate) fn decoded_any(&self) -> bool {
        self.decoded_any
    }

    /// One packet record: its time (µs since the epoch), link type (pcap `LINKTYPE_*`), the
    /// captured bytes and the length on the wire.
    pub fn packet(&mut self, ts_us: u64, linktype: u32, data: &[u8], wire_len: usize) {
        self.decoded_any |= is_decodable_linktype(linktype);
        if let Some(seg) = tcp_segment(&mut self.stats, ts_us, linktype, data, wire_len) {
            self.segment(&seg);
        }
    }

    fn segment(&mut self, s: &Segment<'_>) {
        let syn_only = s.syn && !s.has_ack;
        let key = pair(s.from, s.to);
        let mut id = self.by_pair.get(&key).copied();
        if let (Some(i), true) = (id, syn_only) {
            // A fresh SYN on a known pair is a new connection (port reuse), unless it
            // retransmits the SYN we have.
            if let Some(c) = self.conns.get(i) {
                let d = usize::from(c.ends[0] != s.from);
                if c.dirs.get(d).is_some_and(|dir| dir.syn_isn != Some(s.seq)) {
                    id = None;
                }
            }
        }
        let id = match id {
            Some(i) => i,
            None => {
                if self.conns.len() >= self.opts.limits.max_connections {
                    self.stats.untracked_connections += u64::from(syn_only);
                    return;
                }
                let i = self.conns.len();
                self.conns.push(Conn::new(i, s.from, s.to, s.ts));
                self.by_pair.insert(key, i);
                i
            }
        };
        let opts = self.opts;
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let d = usize::from(conn.ends[0] != s.from);
        // The pair stays mapped after the end: late ACKs belong here, and a new SYN with
        // another ISN starts a new connection above.
        conn.segment(d, s, &opts, &mut self.pending_total);
    }

    /// The flows, with every connection's last state.
    pub fn finish(self) -> Flows {
        let opts = self.opts;
        let notes = capture_notes(&self.stats, &opts.limits);
        let connections = self.conns.into_iter().map(|c| c.finish(&opts)).collect();
        Flows {
            connections,
            stats: self.stats,
            notes,
        }
    }
}

/// Notes about the capture as a whole: snap length, truncation, limits, link types skipped.
pub(crate) fn capture_notes(stats: &Stats, limits: &crate::Limits) -> Vec<String> {
    let mut notes = Vec::new();
    if stats.snaplen_truncated > 0 {
        notes.push(format!(
            "{} packet(s) were cut by the capture's snap length: their payload is missing (capture with `tcpdump -s 0`)",
            stats.snaplen_truncated
        ));
    }
    if stats.truncated_file {
        notes.push(
            "the file ends in the middle of a record (or a block is damaged): what came before it was read"
                .into(),
        );
    }
    if stats.untracked_connections > 0 {
        notes.push(format!(
            "{} connection(s) past the limit of {} were not followed",
            stats.untracked_connections, limits.max_connections
        ));
    }
    if !stats.unsupported_linktypes.is_empty() {
        notes.push(format!(
            "packets of link type(s) {:?} were skipped (not decoded)",
            stats.unsupported_linktypes
        ));
    }
    notes
}

/// Moves `dir` past `delivered` new in-order bytes (of a segment at `seq`), then takes out
/// the waiting segments that now line up, as the bytes they add.
#[inline]
fn advance(dir: &mut Dir, seq: u32, delivered: usize, pending: &mut usize) -> Vec<Vec<u8>> {
    dir.delivered += delivered as u64;
    dir.next = Some(dir.next.unwrap_or(seq).wrapping_add(delivered as u32));
    let mut out: Vec<Vec<u8>> = Vec::new();
    while let Some((&pos, _)) = dir.pending.first_key_value() {
        if pos > dir.delivered {
            break;
        }
        let Some((pos, bytes)) = dir.pending.pop_first() else {
            break;
        };
        dir.pending_bytes -= bytes.len().min(dir.pending_bytes);
        *pending -= bytes.len().min(*pending);
        let skip = usize::try_from(dir.delivered - pos).unwrap_or(usize::MAX);
        if let Some(tail) = bytes.get(skip..).filter(|t| !t.is_empty()) {
            dir.delivered += tail.len() as u64;
            dir.next = dir.next.map(|n| n.wrapping_add(tail.len() as u32));
            out.push(tail.to_vec());
        }
    }
    out
}

impl Conn {
    fn new(index: usize, from: Endpoint, to: Endpoint, ts: u64) -> Conn {
        Conn {
            index,
            ends: [from, to],
            client: None,
            syn_from: None,
            first_us: ts,
            last_us: ts,
            syn_us: None,
            synack_us: None,
            ack_us: None,
            dirs: [Dir::default(), Dir::default()],
            payload: Payload::None,
            tls: None,
            ccs: [None, None],
            exchanges: Vec::new(),
            exchanges_total: 0,
            current: None,
            unsolicited: 0,
            end: None,
            notes: Vec::new(),
            closed: false,
            connect_pending: false,
        }
    }

    fn note(&mut self, max: usize, text: String) {
        if self.notes.len() < max && !self.notes.contains(&text) {
            self.notes.push(text);
        }
    }

    fn side(&self, d: usize) -> Side {
        if self.client == Some(d) {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// Handles one segment from direction `d`; true when the connection is over and its
    /// pair may be reused.
    fn segment(&mut self, d: usize, s: &Segment<'_>, opts: &Options, pending: &mut usize) -> bool {
        self.last_us = s.ts;
        let o = 1 - d;
        if s.syn && !s.has_ack {
            self.syn_from = Some(d);
            self.client.get_or_insert(d);
            self.syn_us.get_or_insert(s.ts);
        } else if s.syn && self.syn_from == Some(o) {
            self.synack_us.get_or_insert(s.ts);
        } else if s.has_ack && self.synack_us.is_some() && self.syn_from == Some(d) {
            self.ack_us.get_or_insert(s.ts);
        }
        // Loss signs.
        if let Some(dir) = self.dirs.get_mut(d) {
            dir.stats.packets += 1;
            if s.has_ack && !s.rst && s.window == 0 {
                dir.stats.zero_windows += 1;
            }
            let pure_ack = s.has_ack && s.payload.is_empty() && !s.syn && !s.fin && !s.rst;
            if pure_ack && dir.last_ack == Some((s.ack, s.window)) {
                dir.stats.dup_acks += 1;
            }
            if s.has_ack {
                dir.last_ack = Some((s.ack, s.window));
            }
            if s.syn {
                dir.syn_isn = Some(s.seq);
                dir.next.get_or_insert(s.seq.wrapping_add(1));
            }
        }
        if !s.payload.is_empty() && !self.closed {
            let seq = if s.syn { s.seq.wrapping_add(1) } else { s.seq };
            self.data(d, s.ts, seq, s.payload, opts, pending);
        }
        if s.fin || s.rst {
            self.ended(d, s.ts, s.rst, opts, pending)
        } else {
            false
        }
    }

    /// Payload from `d`: in-order delivery, retransmission counting, exchange timing.
    fn data(
        &mut self,
        d: usize,
        ts: u64,
        seq: u32,
        payload: &[u8],
        opts: &Options,
        pending: &mut usize,
    ) {
        if self.client.is_none() {
            self.client = Some(self.guess_client(d, payload));
        }
        if self.payload == Payload::None {
            self.decide_payload(d, payload, opts);
        }
        let Some(first) = self.in_order_part(d, ts, seq, payload, opts, pending) else {
            return;
        };
        let Some(dir) = self.dirs.get_mut(d) else {
            return;
        };
        let out = advance(dir, seq, first.len(), pending);
        self.deliver(d, ts, first, opts);
        for c in out {
            self.deliver(d, ts, &c, opts);
        }
    }

    /// With no SYN seen: whoever sends a ClientHello or a request is the client, else the
    /// lower port is the server's.
    #[inline]
    fn guess_client(&self, d: usize, payload: &[u8]) -> usize {
        let looks_client = payload.starts_with(&[HANDSHAKE, 3]) || looks_like_request(payload);
        if looks_client {
            d
        } else {
            let lower = if self.ends[0].1 < self.ends[1].1 {
                0
            } else {
                1
            };
            1 - lower
        }
    }

    /// What the connection carries, judged from its first payload, and a walker for it in
    /// both directions.
    fn decide_payload(&mut self, d: usize, payload: &[u8], opts: &Options) {
        self.payload = if payload.starts_with(&[HANDSHAKE, 3]) {
            Payload::Tls
        } else if looks_like_request(payload) && self.client == Some(d) {
            Payload::Http
        } else {
            Payload::Other
        };
        let make = |p: Payload| match p {
            Payload::Tls => Walker::Tls(Box::new(TlsWalker::new(opts.limits.max_handshake_bytes))),
            Payload::Http => Walker::Http(HttpWalker::default()),
            _ => Walker::Opaque,
        };
        for dir in &mut self.dirs {
            dir.walker = make(self.payload);
        }
        if self.payload == Payload::Tls {
            self.tls = Some(TlsSeen::default());
        }
    }

    /// The new in-order bytes of this segment, borrowed (no copy on the common path); `None`
    /// when it brings none now (a retransmission, or a segment ahead that waits in `pending`).
    /// A hole that cannot wait any more is given up: the stream skips to this segment.
    #[inline]
    fn in_order_part<'p>(
        &mut self,
        d: usize,
        ts: u64,
        seq: u32,
        payload: &'p [u8],
        opts: &Options,
        pending: &mut usize,
    ) -> Option<&'p [u8]> {
        let limits = opts.limits;
        let dir = self.dirs.get_mut(d)?;
        let next = *dir.next.get_or_insert(seq);
        let delta = seq.wrapping_sub(next) as i32;
        let len = payload.len() as u64;
        if delta < 0 {
            let behind = u64::from(delta.unsigned_abs());
            dir.stats.retransmissions += 1;
            if behind >= len {
                return None;
            }
            // Part is new: deliver the tail.
            return Some(
                payload
                    .get(usize::try_from(behind).unwrap_or(usize::MAX)..)
                    .unwrap_or_default(),
            );
        }
        if delta == 0 {
            return Some(payload);
        }
        let ahead = u64::from(delta.unsigned_abs());
        let key = dir.delivered + ahead;
        if dir.pending.contains_key(&key) {
            dir.stats.retransmissions += 1;
            return None;
        }
        if dir.pending_bytes + payload.len() <= limits.max_pending_bytes
            && *pending + payload.len() <= limits.max_total_pending
        {
            dir.pending.insert(key, payload.to_vec());
            dir.pending_bytes += payload.len();
            *pending += payload.len();
            dir.last_data_us = Some(ts);
            return None;
        }
        // Give the hole up: skip to this segment; the walker cannot follow a gap.
        dir.walker = Walker::Opaque;
        *pending -= dir.pending_bytes.min(*pending);
        dir.pending.clear();
        dir.pending_bytes = 0;
        dir.next = Some(seq);
        dir.delivered = key;
        self.note(
            limits.max_items,
            "a hole in the stream never filled (capture loss?): TLS/HTTP parsing stopped there"
                .into(),
        );
        Some(payload)
    }

    /// In-order bytes of direction `d`.
    fn deliver(&mut self, d: usize, ts: u64, bytes: &[u8], opts: &Options) {
        let limits = opts.limits;
        let Some(dir) = self.dirs.get_mut(d) else {
            return;
        };
        dir.stats.bytes += bytes.len() as u64;
        dir.last_data_us = Some(ts);
        let is_client = self.client == Some(d);
        if self.payload == Payload::Other && is_client && bytes.starts_with(&[HANDSHAKE, 3]) {
            // TLS after a preamble (SOCKS): a client chunk that starts a handshake record.
            self.payload = Payload::Tls;
            self.tls = Some(TlsSeen::default());
            for dir in &mut self.dirs {
                dir.walker = Walker::Tls(Box::new(TlsWalker::new(limits.max_handshake_bytes)));
            }
        }
        let Some(dir) = self.dirs.get_mut(d) else {
            return;
        };
        let mut tls_events = Vec::new();
        let mut http_events = Vec::new();
        let app = match &mut dir.walker {
            Walker::Tls(w) => w.feed(bytes, &mut tls_events),
            Walker::Http(w) => {
                w.feed(bytes, !is_client, limits.max_head_bytes, &mut http_events);
                bytes.len() as u64
            }
            // TLS no longer followed: bytes after the handshake still time the exchanges.
            Walker::Opaque if self.payload == Payload::Tls => {
                if self.tls.as_ref().is_some_and(|t| t.handshake_ms.is_some()) {
                    bytes.len() as u64
                } else {
                    0
                }
            }
            Walker::Opaque | Walker::Undecided => bytes.len() as u64,
        };
        for e in tls_events {
            self.tls_event(d, ts, e, opts);
        }
        for e in &http_events {
            match e {
                HttpEvent::Request(line) if line.starts_with("CONNECT ") => {
                    self.connect_pending = true;
                }
                HttpEvent::Response { status, .. }
                    if self.connect_pending && (200..300).contains(status) =>
                {
                    // The tunnel is open: what follows is TLS (or opaque) end to end.
                    self.connect_pending = false;
                    self.payload = Payload::Tls;
                    self.tls = Some(TlsSeen::default());
                    for dir in &mut self.dirs {
                        dir.walker =
                            Walker::Tls(Box::new(TlsWalker::new(limits.max_handshake_bytes)));
                    }
                }
                _ => {}
            }
        }
        if app > 0 {
            self.app_bytes(is_client, ts, app, opts);
        }
        for e in http_events {
            self.http_event(e, opts);
        }
    }

    fn app_bytes(&mut self, from_client: bool, ts: u64, n: u64, opts: &Options) {
        if from_client {
            let answered = self
                .current
                .as_ref()
                .is_none_or(|c| c.ex.response_bytes > 0);
            if answered {
                self.close_exchange(opts);
                self.current = Some(Current {
                    ex: Exchange {
                        request_at_ms: ms(ts.saturating_sub(self.first_us)),
                        request_bytes: 0,
                        wait_ms: None,
                        response_ms: None,
                        response_bytes: 0,
                        gaps: Vec::new(),
                        request_line: None,
                        status: None,
                        content_length: None,
                        body_bytes: None,
                    },
                    request_us: ts,
                    first_response_us: None,
                    last_response_us: None,
                });
                self.exchanges_total += 1;
            }
            if let Some(c) = &mut self.current {
                c.ex.request_bytes += n;
            }
            return;
        }
        let first_us = self.first_us;
        let Some(c) = &mut self.current else {
            self.unsolicited += n;
            return;
        };
        match c.last_response_us {
            None => {
                c.first_response_us = Some(ts);
                c.ex.wait_ms = Some(ms(ts.saturating_sub(c.request_us)));
            }
            Some(last) => {
                let silence = ts.saturating_sub(last);
                if silence >= opts.gap_threshold_us && c.ex.gaps.len() < opts.limits.max_gaps {
                    c.ex.gaps.push(Gap {
                        after_bytes: c.ex.response_bytes,
                        at_ms: ms(last.saturating_sub(first_us)),
                        duration_ms: ms(silence),
                    });
                }
            }
        }
        c.last_response_us = Some(ts);
        c.ex.response_bytes += n;
        if let Some(first) = c.first_response_us {
            c.ex.response_ms = Some(ms(ts.saturating_sub(first)));
        }
    }

    fn close_exchange(&mut self, opts: &Options) {
        let Some(c) = self.current.take() else {
            return;
        };
        if self.is_chatter(&c) {
            self.exchanges_total = self.exchanges_total.saturating_sub(1);
            return;
        }
        let cap = opts.limits.max_exchanges;
        let notable = c.ex.longest_wait_ms() >= ms(opts.gap_threshold_us) || c.ex.truncated();
        if self.exchanges.len() < cap || (notable && self.exchanges.len() < 2 * cap) {
            self.exchanges.push(c.ex);
        }
    }

    /// An unanswered tiny TLS burst (see [`MIN_TLS_REQUEST`]).
    fn is_chatter(&self, c: &Current) -> bool {
        self.payload == Payload::Tls
            && c.first_response_us.is_none()
            && c.ex.request_bytes < MIN_TLS_REQUEST
    }

    fn http_event(&mut self, e: HttpEvent, opts: &Options) {
        match e {
            HttpEvent::Request(line) => {
                if let Some(c) = &mut self.current {
                    c.ex.request_line.get_or_insert(line);
                }
            }
            HttpEvent::Response {
                status,
                content_length,
            } => {
                if let Some(c) = &mut self.current
                    && c.ex.status.is_none()
                {
                    c.ex.status = Some(status);
                    c.ex.content_length = content_length;
                    c.ex.body_bytes = content_length.map(|_| 0);
                }
            }
            HttpEvent::Body(n) => {
                if let Some(c) = &mut self.current
                    && let Some(b) = &mut c.ex.body_bytes
                {
                    *b += n;
                }
            }
            HttpEvent::Lost(why) => self.note(
                opts.limits.max_items,
                format!("HTTP not followed past {why}"),
            ),
        }
    }

    fn tls_event(&mut self, d: usize, ts: u64, e: TlsEvent, opts: &Options) {
        let at_ms = ms(ts.saturating_sub(self.first_us));
        let max_items = opts.limits.max_items;
        let side = self.side(d);
        match e {
            TlsEvent::Handshake {
                msg,
                records,
                chunks,
            } => match msg.first().copied() {
                Some(HANDSHAKE_CLIENT_HELLO) => {
                    self.client_hello(d, at_ms, &msg, records, chunks, max_items);
                }
                Some(HANDSHAKE_SERVER_HELLO) => self.server_hello(d, at_ms, &msg, max_items),
                Some(HANDSHAKE_CERTIFICATE) if side == Side::Server => {
                    if let Some(t) = &mut self.tls
                        && t.certificates.is_empty()
                    {
                        t.certificates = certificates(&msg, 16);
                        t.certificate_count = t.certificates.len();
                    }
                }
                _ => {}
            },
            TlsEvent::Alert(clear) => self.alert(side, at_ms, clear, max_items),
            TlsEvent::ChangeCipherSpec => self.change_cipher_spec(d, ts),
            TlsEvent::ClientFinished => {
                if let Some(Walker::Tls(w)) = self.dirs.get_mut(1 - d).map(|x| &mut x.walker) {
                    w.expect_tickets();
                }
                self.handshake_done(ts);
            }
            TlsEvent::Lost(why) => self.note(max_items, format!("TLS not followed: {why}")),
            TlsEvent::Oversized(len) => self.note(
                max_items,
                format!("a {len}-byte handshake message, over the bound: not parsed"),
            ),
        }
    }

    /// A ClientHello from `d`: its sender is the client (unless a SYN said otherwise), and
    /// its fingerprints are kept.
    fn client_hello(
        &mut self,
        d: usize,
        at_ms: f64,
        msg: &[u8],
        records: u32,
        chunks: u32,
        max_items: usize,
    ) {
        let Ok(h) = ClientHello::parse(msg) else {
            self.note(max_items, "a ClientHello that does not parse".into());
            return;
        };
        if self.client != Some(d) && self.syn_from.is_none() {
            self.client = Some(d);
        }
        let j3 = ja3(&h);
        let ja4 = ja4_only(&h, Transport::Tcp);
        let seen = HelloSeen {
            at_ms,
            sni: h.sni(),
            alpn: h.alpn(),
            ja3: j3.string,
            ja3_hash: j3.hash,
            stack: interloper_wire::stacks::identify(&ja4).map(|m| m.describe()),
            ja4,
            size: msg.len(),
            records,
            segments: chunks,
        };
        if let Some(t) = &mut self.tls
            && t.client_hellos.len() < max_items
        {
            t.client_hellos.push(seen);
        }
    }

    /// A ServerHello from `d`: tells the walkers what is encrypted from here on, and is kept
    /// (the first one, or the one after a HelloRetryRequest).
    fn server_hello(&mut self, d: usize, at_ms: f64, msg: &[u8], max_items: usize) {
        let Ok(h) = ServerHello::parse(msg) else {
            self.note(max_items, "a ServerHello that does not parse".into());
            return;
        };
        let retry = h.is_hello_retry_request();
        let version = h.selected_version();
        let j3 = ja3s(&h);
        for dir in &mut self.dirs {
            if let Walker::Tls(w) = &mut dir.walker {
                w.peer_hello_seen = true;
                w.tls13 |= retry;
            }
        }
        if !retry && version == 0x0304 {
            // Everything after a TLS 1.3 ServerHello is encrypted; the client's
            // first encrypted record is its Finished.
            for (i, dir) in self.dirs.iter_mut().enumerate() {
                if let Walker::Tls(w) = &mut dir.walker {
                    w.encrypted = true;
                    w.tls13 = true;
                    w.await_finished = i != d;
                }
            }
        }
        if let Some(t) = &mut self.tls
            && (t.server_hello.is_none() || t.server_hello.as_ref().is_some_and(|s| s.retry))
        {
            t.server_hello = Some(ServerHelloSeen {
                at_ms,
                ja3s: j3.string,
                ja3s_hash: j3.hash,
                version: version_name(version)
                    .map_or_else(|| format!("0x{version:04x}"), str::to_string),
                cipher: cipher_name(h.cipher_suite)
                    .map_or_else(|| format!("0x{:04x}", h.cipher_suite), str::to_string),
                retry,
                alpn: h.alpn(),
            });
        }
    }

    /// An alert from `side`: level and name when in clear text, else "encrypted".
    fn alert(&mut self, side: Side, at_ms: f64, clear: Option<(u8, u8)>, max_items: usize) {
        let (text, description) = match clear {
            Some((level, desc)) => {
                let level = if level == 2 { "fatal" } else { "warning" };
                (format!("{level} {}", alert_name(desc)), Some(desc))
            }
            None => ("encrypted".to_string(), None),
        };
        if let Some(t) = &mut self.tls
            && t.alerts.len() < max_items
        {
            t.alerts.push(Alert {
                from: side,
                at_ms,
                text,
                description,
            });
        }
    }

    /// A ChangeCipherSpec from `d`: below TLS 1.3, the handshake is done once both sides
    /// have sent one.
    fn change_cipher_spec(&mut self, d: usize, ts: u64) {
        if let Some(c) = self.ccs.get_mut(d) {
            c.get_or_insert(ts);
        }
        let tls13 = self
            .tls
            .as_ref()
            .and_then(|t| t.server_hello.as_ref())
            .is_some_and(|s| s.version == "TLS 1.3");
        if !tls13 && self.ccs.iter().all(Option::is_some) {
            self.handshake_done(ts);
        }
    }

    fn handshake_done(&mut self, ts: u64) {
        for dir in &mut self.dirs {
            if let Walker::Tls(w) = &mut dir.walker {
                w.app_open = true;
            }
        }
        let start = self.first_us;
        if let Some(t) = &mut self.tls
            && t.handshake_ms.is_none()
        {
            let hello = t.client_hellos.first().map_or(0.0, |h| h.at_ms);
            t.handshake_ms = Some((ms(ts.saturating_sub(start)) - hello).max(0.0));
        }
    }

    /// A FIN or RST from `d`; true when the connection is over.
    fn ended(&mut self, d: usize, ts: u64, rst: bool, opts: &Options, pending: &mut usize) -> bool {
        let side = self.side(d);
        let o = 1 - d;
        let Some(dir) = self.dirs.get_mut(d) else {
            return false;
        };
        if rst {
            dir.rst_us.get_or_insert(ts);
        } else {
            dir.fin_us.get_or_insert(ts);
        }
        let last_data = dir.last_data_us;
        let (close_notify, mid_record) = match &dir.walker {
            Walker::Tls(w) => (Some(w.ended_with_alert()), w.mid_record()),
            _ => (None, false),
        };
        let other_ended = self
            .dirs
            .get(o)
            .is_some_and(|x| x.fin_us.is_some() || x.rst_us.is_some());
        match &mut self.end {
            Some(end) => {
                if rst && !end.reset_by.contains(&side) {
                    end.reset_by.push(side);
                }
            }
            None => {
                let waited = self
                    .current
                    .as_ref()
                    .filter(|c| c.first_response_us.is_none())
                    .map(|c| ms(ts.saturating_sub(c.request_us)));
                let (awaiting, during) = match &self.current {
                    Some(c) if self.is_chatter(c) => (false, false),
                    Some(c) if c.first_response_us.is_none() => (true, false),
                    Some(c) => {
                        let http_short =
                            c.ex.content_length
                                .zip(c.ex.body_bytes)
                                .is_some_and(|(want, got)| got < want);
                        let http_known = c.ex.content_length.is_some();
                        let soon = side == Side::Server
                            && !other_ended
                            && last_data
                                .is_some_and(|l| ts.saturating_sub(l) < END_DURING_RESPONSE_US)
                            && c.last_response_us
                                .is_some_and(|l| ts.saturating_sub(l) < END_DURING_RESPONSE_US);
                        (false, http_short || (!http_known && soon))
                    }
                    None => (false, false),
                };
                self.end = Some(End {
                    kind: if rst { EndKind::Rst } else { EndKind::Fin },
                    by: side,
                    at_ms: ms(ts.saturating_sub(self.first_us)),
                    reset_by: if rst { vec![side] } else { Vec::new() },
                    awaiting_response: awaiting,
                    waited_ms: waited.filter(|_| awaiting),
                    during_response: during,
                    close_notify,
                    mid_record,
                });
            }
        }
        let done = rst
            || self
                .dirs
                .iter()
                .all(|x| x.fin_us.is_some() || x.rst_us.is_some());
        if done {
            self.closed = true;
            self.close_exchange(opts);
            for dir in &mut self.dirs {
                *pending -= dir.pending_bytes.min(*pending);
                dir.pending = BTreeMap::new();
                dir.pending_bytes = 0;
                dir.walker = Walker::Opaque;
            }
        }
        done
    }

    fn finish(mut self, opts: &Options) -> Connection {
        self.close_exchange(opts);
        let c = self.client.or(self.syn_from).unwrap_or(0);
        let s = 1 - c;
        let endpoint = |i: usize| self.ends.get(i).copied().map(sock);
        let fallback = sock(self.ends[0]);
        let [d0, d1] = self.dirs;
        let (client_stats, server_stats) = if c == 0 {
            (d0.stats, d1.stats)
        } else {
            (d1.stats, d0.stats)
        };
        let duration = self.last_us.saturating_sub(self.first_us);
        Connection {
            index: self.index,
            client: endpoint(c).unwrap_or(fallback),
            server: endpoint(s).unwrap_or(fallback),
            start_us: self.first_us,
            duration_ms: ms(duration),
            syn_seen: self.syn_us.is_some(),
            syn_synack_ms: self
                .syn_us
                .zip(self.synack_us)
                .map(|(a, b)| ms(b.saturating_sub(a))),
            synack_ack_ms: self
                .synack_us
                .zip(self.ack_us)
                .map(|(a, b)| ms(b.saturating_sub(a))),
            payload: self.payload,
            tls: self.tls,
            exchanges: self.exchanges,
            exchanges_total: self.exchanges_total,
            unsolicited_bytes: self.unsolicited,
            end: self.end,
            client_stats,
            server_stats,
            notes: self.notes,
        }
    }
}
