//! Link-layer decoding: a packet record, by its pcap link type, to the TCP segment it carries.
//!
//! Framing comes from `etherparse` (Ethernet with VLAN tags, Linux SLL, IPv4, IPv6 with
//! extension headers, TCP). Everything that is not TCP — UDP (QUIC, DHCP, DNS), tunnels, IP
//! fragments, undecodable or truncated packets — is counted and skipped.

use std::net::{IpAddr, SocketAddr};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

use crate::Stats;

/// One end of a TCP connection: address and port.
pub(crate) type Endpoint = (IpAddr, u16);

pub(crate) fn sock(e: Endpoint) -> SocketAddr {
    SocketAddr::new(e.0, e.1)
}

// pcap `LINKTYPE_*` values read (https://www.tcpdump.org/linktypes.html).
const NULL: u32 = 0;
const ETHERNET: u32 = 1;
/// Raw IP on some BSDs (DLT_RAW before LINKTYPE_RAW was assigned).
const RAW_BSD_12: u32 = 12;
/// See [`RAW_BSD_12`].
const RAW_BSD_14: u32 = 14;
const RAW: u32 = 101;
const LOOP: u32 = 108;
const LINUX_SLL: u32 = 113;
const IPV4: u32 = 228;
const IPV6: u32 = 229;
const LINUX_SLL2: u32 = 276;

/// Link-layer decoding to an etherparse slice, by link type: Ethernet (with VLAN tags), BSD
/// loopback (NULL/LOOP), raw IPv4/IPv6, Linux cooked SLL and SLL2. `None` for other link
/// types and for packets whose headers do not decode.
fn decode(linktype: u32, data: &[u8]) -> Option<SlicedPacket<'_>> {
    match linktype {
        ETHERNET => SlicedPacket::from_ethernet(data).ok(),
        // BSD loopback: a 4-byte address family (host order for NULL, network order for LOOP);
        // the IP version nibble tells v4 from v6 just as well.
        NULL | LOOP => SlicedPacket::from_ip(data.get(4..)?).ok(),
        RAW | IPV4 | IPV6 | RAW_BSD_12 | RAW_BSD_14 => SlicedPacket::from_ip(data).ok(),
        LINUX_SLL => SlicedPacket::from_linux_sll(data).ok(),
        // SLL2: 20-byte header whose first two bytes are the EtherType.
        LINUX_SLL2 => match data.get(..2) {
            Some([0x08, 0x00] | [0x86, 0xdd]) => SlicedPacket::from_ip(data.get(20..)?).ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Counts one packet record in `stats` and decodes its TCP segment; `None` for anything else
/// (counted as skipped, unsupported link types remembered).
pub(crate) fn tcp_segment<'a>(
    stats: &mut Stats,
    ts_us: u64,
    linktype: u32,
    data: &'a [u8],
    wire_len: usize,
) -> Option<Segment<'a>> {
    stats.packets += 1;
    stats.first_us.get_or_insert(ts_us);
    stats.last_us = Some(ts_us);
    if data.len() < wire_len {
        stats.snaplen_truncated += 1;
    }
    let Some(pkt) = decode(linktype, data) else {
        if !is_decodable_linktype(linktype) && !stats.unsupported_linktypes.contains(&linktype) {
            stats.unsupported_linktypes.push(linktype);
        }
        stats.skipped_packets += 1;
        return None;
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
        _ => {
            stats.skipped_packets += 1;
            return None;
        }
    };
    let Some(TransportSlice::Tcp(tcp)) = &pkt.transport else {
        stats.skipped_packets += 1;
        return None;
    };
    stats.tcp_packets += 1;
    Some(Segment {
        ts: ts_us,
        from: (src, tcp.source_port()),
        to: (dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        window: tcp.window_size(),
        syn: tcp.syn(),
        has_ack: tcp.ack(),
        fin: tcp.fin(),
        rst: tcp.rst(),
        payload: tcp.payload(),
    })
}

/// A link type [`decode`] reads.
pub(crate) fn is_decodable_linktype(linktype: u32) -> bool {
    matches!(
        linktype,
        NULL | ETHERNET
            | RAW_BSD_12
            | RAW_BSD_14
            | RAW
            | LOOP
            | LINUX_SLL
            | IPV4
            | IPV6
            | LINUX_SLL2
    )
}

/// One decoded TCP segment.
pub(crate) struct Segment<'a> {
    pub(crate) ts: u64,
    pub(crate) from: Endpoint,
    pub(crate) to: Endpoint,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) window: u16,
    pub(crate) syn: bool,
    pub(crate) has_ack: bool,
    pub(crate) fin: bool,
    pub(crate) rst: bool,
    pub(crate) payload: &'a [u8],
}
