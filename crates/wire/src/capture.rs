//! Capture files: pcap and pcapng in, per-TCP-connection ClientHellos and ServerHello out.
//!
//! Framing comes from `pcap-parser` (file formats) and `etherparse` (Ethernet, VLAN, Linux SLL,
//! IPv4, IPv6 with extension headers, TCP). Everything that is not TLS over TCP — UDP (QUIC,
//! DHCP, DNS), tunnels, IP fragments, undecodable or truncated packets — is counted and skipped.
//!
//! Each direction of each connection is reassembled in sequence order, bounded to the first
//! [`Limits::max_stream_bytes`] bytes (hellos come first, and a bound keeps memory flat on
//! hostile captures). The client→server bytes are then scanned for TLS handshake records
//! holding ClientHellos — not only at offset 0, so TLS after a SOCKS or CONNECT preamble is
//! found — and every hello in the stream is kept (a HelloRetryRequest yields a second one).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{LegacyPcapSlice, Linktype, PcapBlockOwned, PcapNGSlice};
use serde::{Deserialize, Serialize};

use crate::{ClientHello, HelloAssembler, ServerHello, WireError};

/// Bounds applied while reading a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Bytes kept per direction of a connection, from its first byte.
    pub max_stream_bytes: usize,
    /// Connections tracked; packets of further connections are skipped.
    pub max_connections: usize,
    /// Largest handshake message accepted.
    pub max_hello_len: usize,
    /// Payload bytes buffered over all connections; past it further segments are dropped
    /// (per-stream caps alone would allow connections × streams × cap).
    pub max_total_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_stream_bytes: 64 * 1024,
            max_connections: 100_000,
            max_hello_len: 64 * 1024,
            max_total_bytes: 256 * 1024 * 1024,
        }
    }
}

/// One TCP connection and the TLS hellos found in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TcpStream {
    /// Order of the connection's first packet in the capture (0-based).
    pub index: usize,
    /// Client address (the sender of the ClientHello, else of the SYN, else of the first packet).
    pub src: IpAddr,
    /// Server address.
    pub dst: IpAddr,
    /// Client port.
    pub src_port: u16,
    /// Server port.
    pub dst_port: u16,
    /// Every ClientHello in the client→server bytes, in stream order.
    pub client_hellos: Vec<ClientHello>,
    /// The first ServerHello (or HelloRetryRequest) in the server→client bytes.
    pub server_hello: Option<ServerHello>,
    /// Contiguous client→server bytes reassembled (capped by the limit).
    pub client_bytes: usize,
    /// Contiguous server→client bytes reassembled (capped by the limit).
    pub server_bytes: usize,
}

/// Counters describing what was read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureStats {
    /// Packet records in the file.
    pub packets: usize,
    /// Packets that carried TCP.
    pub tcp_packets: usize,
    /// Packets skipped: not IP/TCP, unsupported link type, fragments, undecodable headers.
    pub skipped_packets: usize,
    /// The file ended in the middle of a record or a block could not be parsed; the packets
    /// before it were used.
    pub truncated_file: bool,
    /// Segments dropped by the per-stream or connection bounds.
    pub dropped_segments: usize,
}

/// Everything extracted from one capture file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    /// TCP connections in order of first appearance.
    pub streams: Vec<TcpStream>,
    /// Counters.
    pub stats: CaptureStats,
}

/// Reads a pcap or pcapng file held in memory with the default [`Limits`].
pub fn read_capture(bytes: &[u8]) -> Result<Capture, WireError> {
    read_capture_with(bytes, &Limits::default())
}

/// Reads a pcap or pcapng file held in memory.
///
/// Fails only when the file header is not pcap/pcapng; damage later in the file ends reading
/// there (`stats.truncated_file`) and what came before is still returned.
pub fn read_capture_with(bytes: &[u8], limits: &Limits) -> Result<Capture, WireError> {
    let mut table = Table::new(*limits);
    const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
    if bytes.get(..4) == Some(&PCAPNG_MAGIC[..]) {
        let slice = PcapNGSlice::from_slice(bytes)
            .map_err(|e| WireError::NotACapture(format!("pcapng: {e:?}")))?;
        let mut linktypes: Vec<Linktype> = Vec::new();
        for block in slice {
            let Ok(block) = block else {
                table.stats.truncated_file = true;
                break;
            };
            match block {
                PcapBlockOwned::NG(Block::SectionHeader(_)) => linktypes.clear(),
                PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                    linktypes.push(idb.linktype)
                }
                PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                    let lt = usize::try_from(epb.if_id)
                        .ok()
                        .and_then(|i| linktypes.get(i).copied());
                    table.packet(lt, epb.packet_data());
                }
                PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                    table.packet(linktypes.first().copied(), spb.packet_data());
                }
                _ => {}
            }
        }
    } else {
        let slice = LegacyPcapSlice::from_slice(bytes)
            .map_err(|e| WireError::NotACapture(format!("pcap: {e:?}")))?;
        let linktype = slice.header.network;
        for block in slice {
            match block {
                Ok(PcapBlockOwned::Legacy(frame)) => {
                    let caplen = usize::try_from(frame.caplen).unwrap_or(usize::MAX);
                    let data = frame.data.get(..caplen).unwrap_or(frame.data);
                    table.packet(Some(linktype), data);
                }
                Ok(_) => {}
                Err(_) => {
                    table.stats.truncated_file = true;
                    break;
                }
            }
        }
    }
    Ok(table.finish())
}

/// Link-layer decoding to an etherparse slice, by link type: Ethernet (with VLAN tags), BSD
/// loopback (NULL/LOOP), raw IPv4/IPv6, Linux cooked SLL and SLL2. `None` for other link
/// types and for packets whose headers do not decode.
pub fn decode(linktype: Linktype, data: &[u8]) -> Option<SlicedPacket<'_>> {
    match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data).ok(),
        // BSD loopback: a 4-byte address family (host order for NULL, network order for LOOP);
        // the IP version nibble tells v4 from v6 just as well.
        Linktype::NULL | Linktype::LOOP => SlicedPacket::from_ip(data.get(4..)?).ok(),
        // 12 and 14 are raw IP on some BSDs (DLT_RAW before LINKTYPE_RAW was assigned).
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 | Linktype(12) | Linktype(14) => {
            SlicedPacket::from_ip(data).ok()
        }
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data).ok(),
        // SLL2: 20-byte header whose first two bytes are the EtherType.
        Linktype::LINUX_SLL2 => match data.get(..2) {
            Some([0x08, 0x00] | [0x86, 0xdd]) => SlicedPacket::from_ip(data.get(20..)?).ok(),
            _ => None,
        },
        _ => None,
    }
}

type Endpoint = (IpAddr, u16);

/// Reassembly state of one direction.
#[derive(Debug, Default)]
struct Direction {
    /// Sequence number of the first payload byte (SYN + 1, else the first segment seen).
    base: Option<u32>,
    syn_isn: Option<u32>,
    /// Payload keyed by offset from `base`, each already clipped to the stream bound.
    segments: BTreeMap<u32, Vec<u8>>,
    stored: usize,
}

#[derive(Debug)]
struct Connection {
    index: usize,
    /// `ends[0]` sent the first packet seen.
    ends: [Endpoint; 2],
    dirs: [Direction; 2],
    syn_from: Option<usize>,
}

struct Table {
    limits: Limits,
    stats: CaptureStats,
    conns: Vec<Connection>,
    /// Unordered endpoint pair → current connection for that pair.
    by_pair: HashMap<(Endpoint, Endpoint), usize>,
    /// Payload bytes buffered over all connections.
    stored: usize,
}

fn pair(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b { (a, b) } else { (b, a) }
}

impl Table {
    fn new(limits: Limits) -> Self {
        Table {
            limits,
            stats: CaptureStats::default(),
            conns: Vec::new(),
            by_pair: HashMap::new(),
            stored: 0,
        }
    }

    fn packet(&mut self, linktype: Option<Linktype>, data: &[u8]) {
        self.stats.packets += 1;
        if !self.tcp(linktype, data) {
            self.stats.skipped_packets += 1;
        }
    }

    /// Handles one packet; false when it was not usable TCP.
    fn tcp(&mut self, linktype: Option<Linktype>, data: &[u8]) -> bool {
        let Some(pkt) = linktype.and_then(|lt| decode(lt, data)) else {
            return false;
        };
        let (src, dst) = match &pkt.net {
            Some(NetSlice::Ipv4(ip)) if !ip.is_payload_fragmented() => (
                IpAddr::V4(ip.header().source_addr()),
                IpAddr::V4(ip.header().destination_addr()),
            ),
            Some(NetSlice::Ipv6(ip)) if !ip.is_payload_fragmented() => (
                IpAddr::V6(ip.header().source_addr()),
                IpAddr::V6(ip.header().destination_addr()),
            ),
            _ => return false,
        };
        let Some(TransportSlice::Tcp(tcp)) = &pkt.transport else {
            return false;
        };
        self.stats.tcp_packets += 1;
        let from = (src, tcp.source_port());
        let to = (dst, tcp.destination_port());
        let syn_only = tcp.syn() && !tcp.ack();
        let seq = tcp.sequence_number();

        let key = pair(from, to);
        let mut id = self.by_pair.get(&key).copied();
        if let (Some(i), true) = (id, syn_only) {
            // A fresh SYN on a known pair is a new connection (port reuse), unless it is a
            // retransmission of the SYN we already have.
            if let Some(c) = self.conns.get(i) {
                let d = usize::from(c.ends[0] != from);
                let dir = c.dirs.get(d);
                if dir.is_some_and(|dir| dir.syn_isn != Some(seq)) {
                    id = None;
                }
            }
        }
        let id = match id {
            Some(i) => i,
            None => {
                if self.conns.len() >= self.limits.max_connections {
                    self.stats.dropped_segments += 1;
                    return true;
                }
                let i = self.conns.len();
                self.conns.push(Connection {
                    index: i,
                    ends: [from, to],
                    dirs: [Direction::default(), Direction::default()],
                    syn_from: None,
                });
                self.by_pair.insert(key, i);
                i
            }
        };
        let max = self.limits.max_stream_bytes;
        let Some(conn) = self.conns.get_mut(id) else {
            return true;
        };
        let d = usize::from(conn.ends[0] != from);
        if syn_only {
            conn.syn_from = Some(d);
        }
        let Some(dir) = conn.dirs.get_mut(d) else {
            return true;
        };
        if tcp.syn() {
            dir.syn_isn = Some(seq);
            if dir.base.is_none() {
                dir.base = Some(seq.wrapping_add(1));
            }
        }
        let payload = tcp.payload();
        if payload.is_empty() {
            return true;
        }
        // Data on a SYN (TCP Fast Open) starts after the SYN's sequence number.
        let (seq, payload) = if tcp.syn() {
            (seq.wrapping_add(1), payload)
        } else {
            (seq, payload)
        };
        let base = *dir.base.get_or_insert(seq);
        let offset = seq.wrapping_sub(base);
        // Offsets "before" the base (wrapped) are retransmissions from before capture start.
        let Ok(start) = usize::try_from(offset) else {
            return true;
        };
        // Retransmissions may overlap, so a direction may hold up to 4× its cap before
        // further segments are refused; the global budget bounds the whole table.
        if offset >= 0x8000_0000
            || start >= max
            || dir.stored >= 4 * max
            || self.stored >= self.limits.max_total_bytes
        {
            self.stats.dropped_segments += 1;
            return true;
        }
        let keep = payload.len().min(max - start);
        let chunk = payload.get(..keep).unwrap_or_default();
        let slot = dir.segments.entry(offset).or_default();
        if chunk.len() > slot.len() {
            let grown = chunk.len() - slot.len();
            dir.stored += grown;
            self.stored += grown;
            *slot = chunk.to_vec();
        }
        true
    }

    fn finish(self) -> Capture {
        let limits = self.limits;
        let mut streams = Vec::with_capacity(self.conns.len());
        for conn in self.conns {
            let bytes = conn.dirs.map(|d| contiguous(&d.segments));
            let hellos = [
                scan(&bytes[0], limits.max_hello_len, client_hello),
                scan(&bytes[1], limits.max_hello_len, client_hello),
            ];
            // The client is whoever sent a ClientHello, else the SYN, else the first packet.
            let client = if !hellos[0].is_empty() {
                0
            } else if !hellos[1].is_empty() {
                1
            } else {
                conn.syn_from.unwrap_or(0)
            };
            let server = 1 - client;
            let [h0, h1] = hellos;
            let client_hellos = if client == 0 { h0 } else { h1 };
            let server_bytes = bytes.get(server).map(Vec::as_slice).unwrap_or_default();
            let server_hello = scan(server_bytes, limits.max_hello_len, server_hello)
                .into_iter()
                .next();
            let (Some(c), Some(s)) = (conn.ends.get(client), conn.ends.get(server)) else {
                continue;
            };
            streams.push(TcpStream {
                index: conn.index,
                src: c.0,
                dst: s.0,
                src_port: c.1,
                dst_port: s.1,
                client_hellos,
                server_hello,
                client_bytes: bytes.get(client).map_or(0, Vec::len),
                server_bytes: server_bytes.len(),
            });
        }
        Capture {
            streams,
            stats: self.stats,
        }
    }
}

/// The bytes from offset 0 up to the first gap, overlaps resolved in favour of the first copy.
fn contiguous(segments: &BTreeMap<u32, Vec<u8>>) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for (&offset, data) in segments {
        let Ok(start) = usize::try_from(offset) else {
            break;
        };
        if start > out.len() {
            break;
        }
        if let Some(new) = data.get(out.len() - start..) {
            out.extend_from_slice(new);
        }
    }
    out
}

fn client_hello(msg: &[u8]) -> Option<ClientHello> {
    ClientHello::parse(msg).ok()
}

fn server_hello(msg: &[u8]) -> Option<ServerHello> {
    ServerHello::parse(msg).ok()
}

/// Finds every handshake message that `parse` accepts, at TLS record boundaries anywhere in
/// the stream. A candidate must start like a handshake record (`16 03 xx`); after a hit the
/// scan resumes where its records ended.
fn scan<T>(stream: &[u8], max_len: usize, parse: fn(&[u8]) -> Option<T>) -> Vec<T> {
    let mut found = Vec::new();
    let mut pos = 0;
    while let Some(rest) = stream.get(pos..) {
        let Some(at) = rest.windows(2).position(|w| w == [22, 3]) else {
            break;
        };
        let start = pos + at;
        let mut asm = HelloAssembler::new(max_len);
        let hit = stream
            .get(start..)
            .and_then(|s| asm.push(s).ok().flatten())
            .and_then(|msg| parse(&msg));
        match hit {
            Some(v) => {
                found.push(v);
                pos = start + asm.consumed().max(1);
            }
            None => pos = start + 1,
        }
    }
    found
}
