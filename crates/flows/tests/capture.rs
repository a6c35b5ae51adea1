//! Capture reading on synthetic pcap and pcapng files, through both paths of `interloper pcap`:
//! the analysis (`read_capture` → `Flows`) and the `--hellos-only` scanner (`HelloScanner`
//! fed by `read_into`). Every link type read, IPv4 and IPv6, pcapng interfaces and time
//! resolutions, a hello split, reordered and retransmitted, sequence numbers wrapping, port
//! reuse, TLS after a CONNECT or SOCKS preamble, a second hello after a HelloRetryRequest,
//! packets that are not TCP or do not decode, files cut short or not captures at all, bounds.

mod common;

use std::net::SocketAddr;

use common::{ACK, CHROME_JA4, CHROME_SNI, Conn, FIN, RAW_IP, SYN, SYN_ACK, chrome_record, record};
use etherparse::PacketBuilder;
use interloper_flows::{
    Flows, FlowsError, FoundHello, HelloScanner, Limits, Options, Stats, read_capture, read_into,
};

/// A HelloRetryRequest record: the special random, TLS_AES_128_GCM_SHA256, supported_versions
/// TLS 1.3.
fn hello_retry_record() -> Vec<u8> {
    const HRR_RANDOM: &str = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c";
    let mut body = vec![3, 3];
    body.extend(hex::decode(HRR_RANDOM).expect("hex"));
    body.extend([0, 0x13, 0x01, 0]);
    body.extend([0, 6, 0, 0x2b, 0, 2, 3, 4]);
    let mut msg = vec![2, 0, 0, body.len() as u8];
    msg.extend(body);
    record(22, &msg)
}

/// The link layers read, each with the pcap link type it is recorded under.
#[derive(Debug, Clone, Copy)]
enum Link {
    Ethernet,
    /// Ethernet with an 802.1Q tag.
    Vlan,
    /// BSD loopback, address family in host order.
    Null,
    /// BSD loopback, address family in network order.
    Loop,
    LinuxSll,
    LinuxSll2,
    /// LINKTYPE_RAW.
    Raw,
    /// LINKTYPE_IPV4 / LINKTYPE_IPV6, by the packet's family.
    RawFamily,
}

const LINKS: [Link; 8] = [
    Link::Ethernet,
    Link::Vlan,
    Link::Null,
    Link::Loop,
    Link::LinuxSll,
    Link::LinuxSll2,
    Link::Raw,
    Link::RawFamily,
];

impl Link {
    fn linktype(self, v6: bool) -> u32 {
        match self {
            Link::Ethernet | Link::Vlan => 1,
            Link::Null => 0,
            Link::Loop => 108,
            Link::LinuxSll => 113,
            Link::LinuxSll2 => 276,
            Link::Raw => 101,
            Link::RawFamily if v6 => 229,
            Link::RawFamily => 228,
        }
    }

    /// The frame carrying an IP packet.
    fn frame(self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ethertype: [u8; 2] = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
        let macs = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        let mut f = Vec::new();
        match self {
            Link::Ethernet => {
                f.extend(macs);
                f.extend(ethertype);
            }
            Link::Vlan => {
                f.extend(macs);
                f.extend([0x81, 0x00, 0x00, 0x2a]);
                f.extend(ethertype);
            }
            Link::Null => f.extend(if v6 { 30u32 } else { 2u32 }.to_le_bytes()),
            Link::Loop => f.extend(if v6 { 30u32 } else { 2u32 }.to_be_bytes()),
            Link::LinuxSll => {
                f.extend([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
                f.extend(ethertype);
            }
            Link::LinuxSll2 => {
                f.extend(ethertype);
                f.extend([0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            }
            Link::Raw | Link::RawFamily => {}
        }
        f.extend_from_slice(ip);
        f
    }
}

/// A pcap file (microsecond timestamps): packet `i` at second 1 700 000 000 + `i`.
fn pcap(linktype: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend([2, 0, 4, 0]);
    out.extend([0; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(linktype.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend((1_700_000_000 + i as u32).to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend(f);
    }
    out
}

/// An interface of a pcapng section: link type and `if_tsresol` (none: microseconds).
struct Iface {
    linktype: u16,
    tsresol: Option<u8>,
}

/// A pcapng block: type, body padded to 4 bytes, lengths around it.
fn block(typ: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let len = (12 + padded) as u32;
    let mut out = Vec::new();
    out.extend(typ.to_le_bytes());
    out.extend(len.to_le_bytes());
    out.extend(body);
    out.resize(8 + padded, 0);
    out.extend(len.to_le_bytes());
    out
}

/// A pcapng section: its header, its interfaces, then packets (interface, timestamp in the
/// interface's units, frame).
fn pcapng_section(ifaces: &[Iface], packets: &[(u32, u64, Vec<u8>)]) -> Vec<u8> {
    let mut shb = Vec::new();
    shb.extend(0x1a2b_3c4du32.to_le_bytes());
    shb.extend([1, 0, 0, 0]);
    shb.extend((-1i64).to_le_bytes());
    let mut out = block(0x0a0d_0d0a, &shb);
    for i in ifaces {
        let mut idb = Vec::new();
        idb.extend(i.linktype.to_le_bytes());
        idb.extend([0, 0]);
        idb.extend(0u32.to_le_bytes());
        if let Some(res) = i.tsresol {
            // if_tsresol, then opt_endofopt.
            idb.extend([9, 0, 1, 0, res, 0, 0, 0]);
            idb.extend([0, 0, 0, 0]);
        }
        out.extend(block(1, &idb));
    }
    for (iface, ts, f) in packets {
        let mut epb = Vec::new();
        epb.extend(iface.to_le_bytes());
        epb.extend(((ts >> 32) as u32).to_le_bytes());
        epb.extend((*ts as u32).to_le_bytes());
        epb.extend((f.len() as u32).to_le_bytes());
        epb.extend((f.len() as u32).to_le_bytes());
        epb.extend(f);
        out.extend(block(6, &epb));
    }
    out
}

/// A one-interface pcapng file with microsecond timestamps.
fn pcapng(linktype: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let iface = Iface {
        linktype: u16::try_from(linktype).expect("small link type"),
        tsresol: None,
    };
    let packets: Vec<_> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (0, 1_700_000_000_000_000 + i as u64, f.clone()))
        .collect();
    pcapng_section(&[iface], &packets)
}

fn analyse_with(bytes: &[u8], limits: Limits) -> Flows {
    let opts = Options {
        limits,
        ..Options::default()
    };
    read_capture(bytes, &opts).expect("a capture")
}

fn analyse(bytes: &[u8]) -> Flows {
    analyse_with(bytes, Limits::default())
}

/// What the `--hellos-only` scanner reports: the hellos, the counters and the notes.
fn scan_with(bytes: &[u8], limits: Limits) -> (Vec<FoundHello>, Stats, Vec<String>) {
    let mut found = Vec::new();
    let mut scanner = HelloScanner::new(limits, |h| found.push(h));
    read_into(bytes, &mut scanner).expect("a capture");
    let (stats, notes) = scanner.finish();
    (found, stats, notes)
}

fn scan(bytes: &[u8]) -> (Vec<FoundHello>, Stats, Vec<String>) {
    scan_with(bytes, Limits::default())
}

type Hello = (SocketAddr, SocketAddr, String);

/// The analysis's ClientHellos: client, server, JA4, in connection order.
fn analysed_hellos(flows: &Flows) -> Vec<Hello> {
    flows
        .connections
        .iter()
        .flat_map(|c| {
            let hellos = c.tls.iter().flat_map(|t| &t.client_hellos);
            hellos.map(move |h| (c.client, c.server, h.ja4.clone()))
        })
        .collect()
}

/// The Chrome hello on each of `conns`, in order.
fn chrome_on(conns: &[&Conn]) -> Vec<Hello> {
    let hello = |c: &&Conn| (c.client, c.server, CHROME_JA4.to_string());
    conns.iter().map(hello).collect()
}

fn scanned_hellos(found: &[FoundHello]) -> Vec<Hello> {
    found
        .iter()
        .map(|h| (h.client, h.server, h.ja4.clone()))
        .collect()
}

/// Both paths find exactly the split, reordered and retransmitted Chrome hello of
/// [`Conn::split_handshake`], and the analysis its ServerHello.
fn check_split_handshake(what: &str, bytes: &[u8], client: SocketAddr, server: SocketAddr) {
    let flows = analyse(bytes);
    let [c] = flows.connections.as_slice() else {
        panic!("{what}: one connection: {flows:?}");
    };
    assert_eq!((c.client, c.server), (client, server), "{what}");
    assert!(c.syn_seen, "{what}");
    assert!(c.client_stats.retransmissions >= 1, "{what}");
    let tls = c.tls.as_ref().expect("TLS");
    let [h] = tls.client_hellos.as_slice() else {
        panic!("{what}: one hello: {tls:?}");
    };
    assert_eq!(h.ja4, CHROME_JA4, "{what}");
    assert_eq!(h.sni.as_deref(), Some(CHROME_SNI), "{what}");
    assert_eq!(h.segments, 3, "{what}");
    let sh = tls.server_hello.as_ref().expect("ServerHello");
    assert_eq!(sh.ja3s, "771,49199,", "{what}");
    assert_eq!(sh.cipher, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "{what}");
    assert!(!sh.retry, "{what}");
    assert_eq!(flows.stats.skipped_packets, 0, "{what}");

    let (found, stats, notes) = scan(bytes);
    let want = (client, server, CHROME_JA4.to_string());
    assert_eq!(scanned_hellos(&found), vec![want], "{what}");
    assert_eq!(found[0].sni.as_deref(), Some(CHROME_SNI), "{what}");
    assert_eq!(found[0].ja3_hash, h.ja3_hash, "{what}");
    assert_eq!(stats.tcp_packets, 7, "{what}");
    assert!(notes.is_empty(), "{what}: {notes:?}");
}

#[test]
fn a_split_reordered_retransmitted_hello_on_every_link_type_ipv4_and_ipv6_pcap_and_pcapng() {
    for link in LINKS {
        for (client, server) in [
            ("10.0.0.2:50000", "192.0.2.10:443"),
            ("[2001:db8::2]:50000", "[2001:db8::10]:443"),
        ] {
            let mut conn = Conn::new(client, server);
            conn.split_handshake(1000);
            let frames: Vec<_> = conn.packets.iter().map(|p| link.frame(p)).collect();
            let lt = link.linktype(conn.client.is_ipv6());
            let (c, s) = (conn.client, conn.server);
            check_split_handshake(&format!("{link:?} {c} pcap"), &pcap(lt, &frames), c, s);
            check_split_handshake(&format!("{link:?} {c} pcapng"), &pcapng(lt, &frames), c, s);
        }
    }
}

#[test]
fn sequence_numbers_wrapping_past_zero() {
    let mut conn = Conn::new("10.0.0.2:50000", "192.0.2.10:443");
    conn.split_handshake(u32::MAX - 150);
    let bytes = pcap(RAW_IP, &conn.packets);
    check_split_handshake("wrapping", &bytes, conn.client, conn.server);
}

#[test]
fn port_reuse_gives_two_connections() {
    let mut conn = Conn::new("10.0.0.2:50000", "192.0.2.10:443");
    conn.split_handshake(1000)
        .send(true, 1001 + chrome_record().len() as u32, FIN, b"")
        .split_handshake(777_777);
    let bytes = pcap(RAW_IP, &conn.packets);
    let flows = analyse(&bytes);
    assert_eq!(flows.connections.len(), 2, "{flows:?}");
    let want = chrome_on(&[&conn, &conn]);
    assert_eq!(analysed_hellos(&flows), want);
    assert_eq!(scanned_hellos(&scan(&bytes).0), want);
}

#[test]
fn tls_after_a_connect_or_socks_preamble_and_a_second_hello_after_a_retry() {
    let hello = chrome_record();
    // An HTTP proxy tunnel: CONNECT, 200, the hello; the server asks for another key share
    // (HelloRetryRequest); the client's ChangeCipherSpec and second hello.
    let connect = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
    let ccs = record(20, &[1]);
    let after_connect = 1001 + connect.len() as u32;
    let after_hello = after_connect + hello.len() as u32;
    let mut tunnel = Conn::new("10.0.0.2:50001", "192.0.2.10:3128");
    tunnel
        .send(true, 1000, SYN, b"")
        .send(false, 9000, SYN_ACK, b"")
        .send(true, 1001, ACK, connect)
        .send(false, 9001, ACK, established)
        .send(true, after_connect, ACK, &hello)
        .send(
            false,
            9001 + established.len() as u32,
            ACK,
            &hello_retry_record(),
        )
        .send(true, after_hello, ACK, &ccs)
        .send(true, after_hello + ccs.len() as u32, ACK, &hello);
    // SOCKS5: greeting and choice, CONNECT to a domain and its answer, then TLS.
    let socks_connect = b"\x05\x01\x00\x03\x0bexample.com\x01\xbb";
    let socks_answer = b"\x05\x00\x00\x01\xc0\x00\x02\x0a\x01\xbb";
    let mut socks = Conn::new("10.0.0.2:50002", "192.0.2.10:1080");
    socks
        .send(true, 1000, SYN, b"")
        .send(false, 9000, SYN_ACK, b"")
        .send(true, 1001, ACK, b"\x05\x01\x00")
        .send(false, 9001, ACK, b"\x05\x00")
        .send(true, 1004, ACK, socks_connect)
        .send(false, 9003, ACK, socks_answer)
        .send(true, 1004 + socks_connect.len() as u32, ACK, &hello);
    let mut packets = tunnel.packets.clone();
    packets.extend(socks.packets.clone());
    let bytes = pcap(RAW_IP, &packets);

    let flows = analyse(&bytes);
    let [t, s] = flows.connections.as_slice() else {
        panic!("two connections: {flows:?}");
    };
    let tls = t.tls.as_ref().expect("TLS in the tunnel");
    assert_eq!(tls.client_hellos.len(), 2, "{tls:?}");
    assert!(
        tls.server_hello.as_ref().is_some_and(|h| h.retry),
        "{tls:?}"
    );
    assert_eq!(s.sni(), Some(CHROME_SNI));
    let want = chrome_on(&[&tunnel, &tunnel, &socks]);
    assert_eq!(analysed_hellos(&flows), want);
    assert_eq!(scanned_hellos(&scan(&bytes).0), want);
}

#[test]
fn packets_that_are_not_tcp_or_do_not_decode_are_skipped_and_a_cut_file_keeps_what_came_before() {
    let mut conn = Conn::new("10.0.0.2:50000", "192.0.2.10:443");
    conn.split_handshake(1000);
    let mut frames: Vec<_> = conn
        .packets
        .iter()
        .map(|p| Link::Ethernet.frame(p))
        .collect();
    // A UDP (QUIC-like) datagram, a runt frame, an empty frame.
    let mut udp = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 2], [192, 0, 2, 10], 64)
        .udp(50001, 443)
        .write(&mut udp, &[0xc0; 40])
        .expect("builds");
    frames.insert(0, Link::Ethernet.frame(&udp));
    frames.insert(1, vec![0xff; 7]);
    frames.insert(2, vec![]);
    let bytes = pcap(1, &frames);
    let flows = analyse(&bytes);
    assert_eq!(flows.connections.len(), 1);
    assert_eq!(flows.stats.packets, 10);
    assert_eq!(flows.stats.skipped_packets, 3);
    let (found, stats, _) = scan(&bytes);
    assert_eq!(found.len(), 1);
    assert_eq!((stats.packets, stats.skipped_packets), (10, 3));

    // Cut in the middle of the last record: what came before is read, and said so.
    let cut = bytes.get(..bytes.len() - 10).expect("long enough");
    let flows = analyse(cut);
    assert!(flows.stats.truncated_file);
    assert!(
        flows.notes.iter().any(|n| n.contains("middle of a record")),
        "{:?}",
        flows.notes
    );
    assert_eq!(analysed_hellos(&flows).len(), 1);
    let (found, stats, notes) = scan(cut);
    assert!(stats.truncated_file);
    assert!(notes.iter().any(|n| n.contains("middle of a record")));
    assert_eq!(found.len(), 1);
}

#[test]
fn what_is_not_a_capture_or_not_a_link_type_read_is_an_error() {
    for bytes in [&b"not a capture at all"[..], b"", b"\xd4\xc3"] {
        let err = read_capture(bytes, &Options::default()).expect_err("not a capture");
        assert!(matches!(err, FlowsError::NotACapture(_)), "{err}");
        let mut scanner = HelloScanner::new(Limits::default(), |_| {});
        let err = read_into(bytes, &mut scanner).expect_err("not a capture");
        assert!(matches!(err, FlowsError::NotACapture(_)), "{err}");
    }
    // LINKTYPE_USER0: every packet skipped, the file refused by name.
    let mut conn = Conn::new("10.0.0.2:50000", "192.0.2.10:443");
    conn.split_handshake(1000);
    let err = read_capture(pcap(147, &conn.packets).as_slice(), &Options::default())
        .expect_err("link type not read");
    assert_eq!(err, FlowsError::UnsupportedLinktype(147));
}

#[test]
fn pcapng_sections_interfaces_and_time_resolutions() {
    let mut eth = Conn::new("10.0.0.2:50000", "192.0.2.10:443");
    eth.split_handshake(1000);
    let mut sll2 = Conn::new("[2001:db8::2]:50001", "[2001:db8::10]:443");
    sll2.split_handshake(2000);
    let mut raw = Conn::new("10.0.0.3:50002", "192.0.2.10:443");
    raw.split_handshake(3000);
    // Section one: Ethernet in microseconds (the default) and SLL2 in nanoseconds (10^-9),
    // their packets interleaved; section two: its own interface 0, raw IP in milliseconds.
    let t0_us: u64 = 1_700_000_000_000_000;
    let mut first = Vec::new();
    for (i, (e, s)) in eth.packets.iter().zip(&sll2.packets).enumerate() {
        let i = i as u64;
        first.push((0, t0_us + i, Link::Ethernet.frame(e)));
        first.push((1, (t0_us + 500_000 + i) * 1000, Link::LinuxSll2.frame(s)));
    }
    let second: Vec<_> = raw
        .packets
        .iter()
        .enumerate()
        .map(|(i, p)| (0, t0_us / 1000 + 2000 + i as u64, Link::Raw.frame(p)))
        .collect();
    let mut bytes = pcapng_section(
        &[
            Iface {
                linktype: 1,
                tsresol: None,
            },
            Iface {
                linktype: 276,
                tsresol: Some(9),
            },
        ],
        &first,
    );
    bytes.extend(pcapng_section(
        &[Iface {
            linktype: 101,
            tsresol: Some(3),
        }],
        &second,
    ));

    let flows = analyse(&bytes);
    let starts: Vec<_> = flows
        .connections
        .iter()
        .map(|c| (c.client, c.start_us))
        .collect();
    assert_eq!(
        starts,
        vec![
            (eth.client, t0_us),
            (sll2.client, t0_us + 500_000),
            (raw.client, t0_us + 2_000_000),
        ]
    );
    assert_eq!(flows.stats.first_us, Some(t0_us));
    assert_eq!(flows.stats.last_us, Some(t0_us + 2_006_000));
    assert_eq!(flows.stats.skipped_packets, 0);
    let want = chrome_on(&[&eth, &sll2, &raw]);
    assert_eq!(analysed_hellos(&flows), want);
    let (found, _, _) = scan(&bytes);
    assert_eq!(scanned_hellos(&found), want);
    // The scanner's time is when each hello completed: packet 5, its third segment.
    let times: Vec<_> = found.iter().map(|h| h.ts_us).collect();
    assert_eq!(times, vec![t0_us + 5, t0_us + 500_005, t0_us + 2_005_000]);
}

#[test]
fn connection_hole_and_handshake_bounds_hold_in_both_paths() {
    // Twenty connections, each with a hello, against a bound of ten.
    let mut packets = Vec::new();
    for port in 1..=20u16 {
        let mut c = Conn::new(&format!("10.0.0.2:{port}"), "192.0.2.10:443");
        c.split_handshake(1000);
        packets.extend(c.packets);
    }
    let bytes = pcap(RAW_IP, &packets);
    let few = Limits {
        max_connections: 10,
        ..Limits::default()
    };
    let flows = analyse_with(&bytes, few);
    assert_eq!(flows.connections.len(), 10);
    assert_eq!(flows.stats.untracked_connections, 10);
    assert!(
        flows
            .notes
            .iter()
            .any(|n| n.contains("past the limit of 10")),
        "{:?}",
        flows.notes
    );
    assert_eq!(analysed_hellos(&flows).len(), 10);
    // The scanner bounds the directions that hold something (two per connection allowed);
    // those with nothing left to read make room, so it may follow more connections.
    let (found, _, notes) = scan_with(&bytes, few);
    assert!((10..=20).contains(&found.len()), "{}", found.len());
    if found.len() < 20 {
        assert!(notes.iter().any(|n| n.contains("past the limit of 10")));
    }

    // A hole that never fills, then 2.4 MB behind it: the bytes held stay under the bound,
    // the hole is given up (a note), and nothing behind it is taken for a hello.
    let big = vec![0x16u8; 60_000];
    let mut c = Conn::new("10.0.0.2:50000", "192.0.2.10:443");
    c.send(true, 1000, SYN, b"");
    for i in 0..40u32 {
        c.send(true, 1101 + i * 60_000, ACK, &big);
    }
    let bytes = pcap(RAW_IP, &c.packets);
    let flows = analyse(&bytes);
    assert!(
        flows.connections[0]
            .notes
            .iter()
            .any(|n| n.contains("hole in the stream never filled")),
        "{:?}",
        flows.connections[0].notes
    );
    assert!(analysed_hellos(&flows).is_empty());
    assert!(scan(&bytes).0.is_empty());

    // A hello larger than the handshake bound is not assembled.
    let mut c = Conn::new("10.0.0.2:50000", "192.0.2.10:443");
    c.split_handshake(1000);
    let bytes = pcap(RAW_IP, &c.packets);
    let tiny = Limits {
        max_handshake_bytes: 200,
        ..Limits::default()
    };
    let flows = analyse_with(&bytes, tiny);
    assert!(analysed_hellos(&flows).is_empty(), "{flows:?}");
    assert!(!flows.connections[0].notes.is_empty());
    assert!(scan_with(&bytes, tiny).0.is_empty());
}
